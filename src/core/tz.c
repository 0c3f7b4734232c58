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

int tz_local_to_utc(const char *iso, const char *tz, int64_t *out)
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
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || s > 59)
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
    pthread_mutex_lock(&tz_lock);
    setenv("TZ", tz, 1);
    tzset();
    time_t t = mktime(&tm);
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

int tz_format(int64_t t, const char *tz, char *out, size_t n)
{
    if (!tz_valid(tz))
        return -1;
    time_t tt = (time_t)t;
    struct tm tm;
    pthread_mutex_lock(&tz_lock);
    setenv("TZ", tz, 1);
    tzset();
    localtime_r(&tt, &tm);
    size_t got = strftime(out, n, "%A, %B %-d, %Y, %H:%M %Z", &tm);
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
