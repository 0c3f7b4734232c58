/*
 * tz: time-zone conversions under one mutex (see tz.h).
 */
#include "core/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/banned.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Names found valid, so a zone is read from disk once per process (a launch
 * or a pledge spike asks for the same few zones again and again). Only
 * positive answers are kept; a full table just stops caching. */
#define VALID_SLOTS 1024
static char valid_names[VALID_SLOTS][65];

static size_t name_hash(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

/* Under tz_lock. Returns 1 when name is in the table; otherwise 0 and, when
 * free_slot is not NULL, the slot where it would go (or -1 when full). */
static int valid_lookup(const char *name, long *free_slot)
{
    size_t h = name_hash(name);
    for (size_t i = 0; i < VALID_SLOTS; i++) {
        char *slot = valid_names[(h + i) % VALID_SLOTS];
        if (!slot[0]) {
            if (free_slot)
                *free_slot = (long)((h + i) % VALID_SLOTS);
            return 0;
        }
        if (strcmp(slot, name) == 0)
            return 1;
    }
    if (free_slot)
        *free_slot = -1;
    return 0;
}

static int tz_file_valid(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, "TZif", 4) == 0;
}

int tz_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 64 || name[0] == '/' || name[0] == '.' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return 0;
    }
    pthread_mutex_lock(&tz_lock);
    int known = valid_lookup(name, NULL);
    pthread_mutex_unlock(&tz_lock);
    if (known)
        return 1;
    if (!tz_file_valid(name))
        return 0;
    pthread_mutex_lock(&tz_lock);
    long slot = -1;
    if (!valid_lookup(name, &slot) && slot >= 0)
        memcpy(valid_names[slot], name, len + 1);
    pthread_mutex_unlock(&tz_lock);
    return 1;
}

/* The last few tz_format results: a launch formats one moment in a handful
 * of zones for every message, and setting TZ makes glibc read the zone file
 * again whenever it changes. Under tz_lock. */
#define FORMAT_SLOTS 64
static struct {
    int64_t t;
    char tz[65];
    char text[96];
} formatted[FORMAT_SLOTS];

static int parse_fixed_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

static int resolve(const char *iso, const char *tz, int64_t *plain, int64_t *out, int64_t *later,
                   enum tz_local_kind *kind);

int tz_local_to_utc(const char *iso, const char *tz, int64_t *out)
{
    int64_t plain, first, later;
    enum tz_local_kind kind;
    if (resolve(iso, tz, &plain, &first, &later, &kind) != 0)
        return -1;
    *out = kind == TZ_LOCAL_NEVER ? plain : first;
    return 0;
}

int tz_local_resolve(const char *iso, const char *tz, int64_t *out, int64_t *later,
                     enum tz_local_kind *kind)
{
    int64_t plain;
    return resolve(iso, tz, &plain, out, later, kind);
}

/* 1 when t, seen in the zone set in TZ, shows the wall time of want. */
static int shows(time_t t, const struct tm *want)
{
    struct tm got;
    if (!localtime_r(&t, &got))
        return 0;
    return got.tm_year == want->tm_year && got.tm_mon == want->tm_mon &&
           got.tm_mday == want->tm_mday && got.tm_hour == want->tm_hour &&
           got.tm_min == want->tm_min && got.tm_sec == want->tm_sec;
}

/* plain: what mktime makes of the wall time (inside a gap, a moment the
 * clocks never showed). */
static int resolve(const char *iso, const char *tz, int64_t *plain, int64_t *out, int64_t *later,
                   enum tz_local_kind *kind)
{
    int y, mo, d, h, mi, s = 0;
    size_t len = strlen(iso);
    if ((len != 16 && len != 19) || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T' ||
        iso[13] != ':' || parse_fixed_digits(iso, 4, &y) || parse_fixed_digits(iso + 5, 2, &mo) ||
        parse_fixed_digits(iso + 8, 2, &d) || parse_fixed_digits(iso + 11, 2, &h) ||
        parse_fixed_digits(iso + 14, 2, &mi))
        return -1;
    if (len == 19 && (iso[16] != ':' || parse_fixed_digits(iso + 17, 2, &s)))
        return -1;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return -1;
    if (!tz_valid(tz))
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    /* The wall time read as standard time and as daylight time: each reading
     * that shows the same wall time again is a moment it occurs at. None: a
     * gap; two different ones: the overlap. */
    struct tm as_default = tm, as_standard = tm, as_daylight = tm;
    as_standard.tm_isdst = 0;
    as_daylight.tm_isdst = 1;
    pthread_mutex_lock(&tz_lock);
    setenv("TZ", tz, 1);
    tzset();
    time_t t = mktime(&as_default);
    time_t standard = mktime(&as_standard), daylight = mktime(&as_daylight);
    int standard_ok = standard != (time_t)-1 && shows(standard, &tm);
    int daylight_ok = daylight != (time_t)-1 && shows(daylight, &tm);
    long gap_from = 0, gap_to = 0;
    if (!standard_ok && !daylight_ok && standard != (time_t)-1 && daylight != (time_t)-1) {
        /* The jump lies between the two readings: find its instant. */
        time_t lo = standard < daylight ? standard : daylight;
        time_t hi = standard < daylight ? daylight : standard;
        struct tm at_lo, at_mid, at_hi;
        localtime_r(&lo, &at_lo);
        localtime_r(&hi, &at_hi);
        while (hi - lo > 1) {
            time_t mid = lo + (hi - lo) / 2;
            localtime_r(&mid, &at_mid);
            if (at_mid.tm_gmtoff == at_lo.tm_gmtoff)
                lo = mid;
            else
                hi = mid;
        }
        gap_from = (long)hi + at_lo.tm_gmtoff;
        localtime_r(&hi, &at_hi);
        gap_to = (long)hi + at_hi.tm_gmtoff;
    }
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1)
        return -1;
    *plain = (int64_t)t;
    if (standard_ok && daylight_ok && standard != daylight) {
        *kind = TZ_LOCAL_TWICE;
        *out = (int64_t)(standard < daylight ? standard : daylight);
        *later = (int64_t)(standard < daylight ? daylight : standard);
    } else if (standard_ok || daylight_ok) {
        *kind = TZ_LOCAL_ONCE;
        *out = *later = (int64_t)(standard_ok ? standard : daylight);
    } else {
        *kind = TZ_LOCAL_NEVER;
        *out = gap_from ? (int64_t)gap_from : (int64_t)t;
        *later = gap_to ? (int64_t)gap_to : (int64_t)t;
    }
    return 0;
}

int tz_local_iso(int64_t t, const char *tz, char out[20])
{
    if (!tz_valid(tz))
        return -1;
    time_t tt = (time_t)t;
    struct tm tm;
    pthread_mutex_lock(&tz_lock);
    setenv("TZ", tz, 1);
    tzset();
    struct tm *ok = localtime_r(&tt, &tm);
    pthread_mutex_unlock(&tz_lock);
    if (!ok || strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        return -1;
    return 0;
}

int tz_format(int64_t t, const char *tz, char *out, size_t n)
{
    if (!tz_valid(tz))
        return -1;
    time_t tt = (time_t)t;
    struct tm tm;
    size_t slot = (name_hash(tz) ^ (size_t)t) % FORMAT_SLOTS;
    pthread_mutex_lock(&tz_lock);
    if (formatted[slot].t == t && strcmp(formatted[slot].tz, tz) == 0 &&
        strlen(formatted[slot].text) < n) {
        memcpy(out, formatted[slot].text, strlen(formatted[slot].text) + 1);
        pthread_mutex_unlock(&tz_lock);
        return 0;
    }
    setenv("TZ", tz, 1);
    tzset();
    localtime_r(&tt, &tm);
    size_t got = strftime(out, n, "%A, %B %-d, %Y, %H:%M %Z", &tm);
    if (got && got < sizeof formatted[slot].text) {
        formatted[slot].t = t;
        memcpy(formatted[slot].tz, tz, strlen(tz) + 1); /* tz_valid: at most 64 */
        memcpy(formatted[slot].text, out, got + 1);
    }
    pthread_mutex_unlock(&tz_lock);
    return got ? 0 : -1;
}

void tz_iso_utc(int64_t t, char out[21])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tz_rfc5322(int64_t t, char out[40])
{
    static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t tz_now(void)
{
    return (int64_t)time(NULL);
}

int64_t tz_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
