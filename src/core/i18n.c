/*
 * i18n: language tags, text direction, the lookup of muster's own words in
 * the compiled catalogs, and dates written per language (see i18n.h).
 */
#include "core/i18n.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/tz.h"
#include "core/banned.h"

static int all_alpha(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)s[i]))
            return 0;
    return 1;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Splits tag into its subtags: the language, then script and region when
 * present. Returns 0, or -1 when the tag is not one muster accepts. */
static int tag_split(const char *tag, size_t *lang_len, const char **script, const char **region,
                     size_t *region_len)
{
    if (!tag)
        return -1;
    size_t len = strlen(tag);
    if (len > I18N_TAG_MAX)
        return -1;
    *script = NULL;
    *region = NULL;
    *region_len = 0;
    const char *p = tag;
    size_t n = strcspn(p, "-");
    if (n < 2 || n > 3 || !all_alpha(p, n))
        return -1;
    *lang_len = n;
    p += n;
    int part = 0; /* 0: script or region may follow; 1: region only; 2: nothing */
    while (*p) {
        p++; /* the '-' */
        n = strcspn(p, "-");
        if (part == 0 && n == 4 && all_alpha(p, n)) {
            *script = p;
            part = 1;
        } else if (part <= 1 && ((n == 2 && all_alpha(p, n)) || (n == 3 && all_digits(p, n)))) {
            *region = p;
            *region_len = n;
            part = 2;
        } else {
            return -1;
        }
        p += n;
    }
    return 0;
}

int i18n_tag_valid(const char *tag)
{
    size_t lang_len, region_len;
    const char *script, *region;
    return tag_split(tag, &lang_len, &script, &region, &region_len) == 0;
}

int i18n_tag_canonical(const char *tag, char out[I18N_TAG_MAX + 1])
{
    size_t lang_len, region_len;
    const char *script, *region;
    if (tag_split(tag, &lang_len, &script, &region, &region_len) != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < lang_len; i++)
        out[o++] = (char)tolower((unsigned char)tag[i]);
    if (script) {
        out[o++] = '-';
        out[o++] = (char)toupper((unsigned char)script[0]);
        for (size_t i = 1; i < 4; i++)
            out[o++] = (char)tolower((unsigned char)script[i]);
    }
    if (region) {
        out[o++] = '-';
        for (size_t i = 0; i < region_len; i++)
            out[o++] = (char)toupper((unsigned char)region[i]);
    }
    out[o] = '\0';
    return 0;
}

int i18n_is_rtl(const char *tag)
{
    static const char *const rtl_scripts[] = {"arab", "hebr", "thaa", "syrc", "nkoo",
                                              "adlm", "rohg", "mand", "samr"};
    static const char *const rtl_languages[] = {"ar", "he", "iw", "fa", "ur",  "yi", "ji",
                                                "ps", "dv", "sd", "ug", "ckb", "syr"};
    size_t lang_len, region_len;
    const char *script, *region;
    if (tag_split(tag, &lang_len, &script, &region, &region_len) != 0)
        return 0;
    if (script) {
        for (size_t i = 0; i < sizeof rtl_scripts / sizeof rtl_scripts[0]; i++)
            if (strncasecmp(script, rtl_scripts[i], 4) == 0)
                return 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof rtl_languages / sizeof rtl_languages[0]; i++)
        if (strlen(rtl_languages[i]) == lang_len &&
            strncasecmp(tag, rtl_languages[i], lang_len) == 0)
            return 1;
    return 0;
}

const char *i18n_dir(const char *tag)
{
    return i18n_is_rtl(tag) ? "rtl" : "ltr";
}

/* ---- catalogs ---- */

static int message_cmp(const void *a, const void *b)
{
    return strcmp(((const struct i18n_message *)a)->id, ((const struct i18n_message *)b)->id);
}

void i18n_catalog_sort(struct i18n_catalog *catalog)
{
    if (catalog->count > 1)
        qsort(catalog->messages, catalog->count, sizeof catalog->messages[0], message_cmp);
}

static const struct i18n_catalog *catalog_for(const struct i18n_catalog *catalogs, size_t count,
                                              const char *tag, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(catalogs[i].language) == len && strncasecmp(catalogs[i].language, tag, len) == 0)
            return &catalogs[i];
    return NULL;
}

static const char *catalog_find(const struct i18n_catalog *c, const char *msgid)
{
    if (!c)
        return NULL;
    struct i18n_message key = {msgid, NULL};
    const struct i18n_message *m =
        bsearch(&key, c->messages, c->count, sizeof c->messages[0], message_cmp);
    return m && m->text && m->text[0] ? m->text : NULL;
}

const char *i18n_lookup(const struct i18n_catalog *catalogs, size_t count, const char *tag,
                        const char *msgid)
{
    if (!msgid || !msgid[0] || !tag)
        return msgid;
    size_t lang_len, region_len;
    const char *script, *region;
    if (tag_split(tag, &lang_len, &script, &region, &region_len) != 0)
        return msgid;
    const char *text = NULL;
    size_t whole = strlen(tag);
    if (whole != lang_len)
        text = catalog_find(catalog_for(catalogs, count, tag, whole), msgid);
    if (!text)
        text = catalog_find(catalog_for(catalogs, count, tag, lang_len), msgid);
    return text ? text : msgid;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_sort(void)
{
    for (size_t i = 0; i < i18n_builtin_catalog_count; i++)
        i18n_catalog_sort(&i18n_builtin_catalogs[i]);
}

const char *i18n(const char *tag, const char *msgid)
{
    pthread_once(&builtin_once, builtin_sort);
    return i18n_lookup(i18n_builtin_catalogs, i18n_builtin_catalog_count, tag, msgid);
}

int i18n_language_shipped(const char *tag)
{
    size_t lang_len, region_len;
    const char *script, *region;
    if (tag_split(tag, &lang_len, &script, &region, &region_len) != 0)
        return 0;
    if (lang_len == 2 && strncasecmp(tag, "en", 2) == 0)
        return 1;
    return catalog_for(i18n_builtin_catalogs, i18n_builtin_catalog_count, tag, strlen(tag)) ||
           catalog_for(i18n_builtin_catalogs, i18n_builtin_catalog_count, tag, lang_len);
}

/* ---- dates ---- */

/* The names and the order of a date in one language. The pattern's letters:
 * W weekday, D day of the month, M month, Y year, T hours:minutes (24 h), Z
 * the zone's abbreviation; everything else is copied. */
struct date_words {
    const char *language;
    const char *weekdays[7]; /* Sunday first, as struct tm */
    const char *months[12];
    const char *pattern;
};

static const struct date_words date_words[] = {
    {"es",
     {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
     {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
      "octubre", "noviembre", "diciembre"},
     "W, D de M de Y, T Z"},
    {"fr",
     {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
     {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
      "octobre", "novembre", "décembre"},
     "W D M Y à T Z"},
    {"de",
     {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
     {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
      "November", "Dezember"},
     "W, D. M Y um T Z"},
    {"ar",
     {"الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"},
     {"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
      "نوفمبر", "ديسمبر"},
     "W، D M Y، الساعة T Z"},
};

int i18n_format_moment(int64_t t, const char *tz, const char *tag, char *out, size_t n)
{
    size_t lang_len = 0, region_len;
    const char *script, *region;
    if (!tag)
        tag = I18N_DEFAULT_LANGUAGE;
    if (tag_split(tag, &lang_len, &script, &region, &region_len) != 0) {
        tag = I18N_DEFAULT_LANGUAGE;
        lang_len = 2;
    }
    if (lang_len == 2 && strncasecmp(tag, "en", 2) == 0)
        return tz_format(t, tz, out, n);
    struct tm tm;
    char zone[16];
    if (tz_local_parts(t, tz, &tm, zone) != 0)
        return -1;
    const struct date_words *w = NULL;
    for (size_t i = 0; i < sizeof date_words / sizeof date_words[0]; i++)
        if (strlen(date_words[i].language) == lang_len &&
            strncasecmp(tag, date_words[i].language, lang_len) == 0)
            w = &date_words[i];
    const char *pattern = w ? w->pattern : "Y-O-D T Z";
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        char piece[64];
        int len;
        switch (*p) {
        case 'W':
            len = snprintf(piece, sizeof piece, "%s", w ? w->weekdays[tm.tm_wday] : "");
            break;
        case 'M':
            len = snprintf(piece, sizeof piece, "%s", w ? w->months[tm.tm_mon] : "");
            break;
        case 'O':
            len = snprintf(piece, sizeof piece, "%02d", tm.tm_mon + 1);
            break;
        case 'D':
            len = snprintf(piece, sizeof piece, w ? "%d" : "%02d", tm.tm_mday);
            break;
        case 'Y':
            len = snprintf(piece, sizeof piece, "%d", tm.tm_year + 1900);
            break;
        case 'T':
            len = snprintf(piece, sizeof piece, "%02d:%02d", tm.tm_hour, tm.tm_min);
            break;
        case 'Z':
            len = snprintf(piece, sizeof piece, "%s", zone);
            break;
        default:
            piece[0] = *p;
            len = 1;
        }
        if (len < 0 || (size_t)len >= sizeof piece || o + (size_t)len >= n)
            return -1;
        memcpy(out + o, piece, (size_t)len);
        o += (size_t)len;
    }
    /* No zone abbreviation: no trailing space. */
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return 0;
}
