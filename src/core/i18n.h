/*
 * i18n: the language of a campaign and muster's own words in it. A campaign
 * names its language with a BCP 47 tag (a language subtag, optionally a script
 * and a region: "ar", "es-MX", "sr-Latn"); pages and mails are written in it,
 * with the direction it is written in (rtl for Arabic, Hebrew, Persian, Urdu
 * and the other right-to-left languages or scripts).
 *
 * Translations come from the gettext catalogs in po/, compiled into the binary
 * at build time (scripts/po2c.sh, docs/TRANSLATING.md). i18n() is per call,
 * not per process: glibc's gettext follows the process-wide locale
 * (setlocale), which a server answering many campaigns at once cannot switch
 * per request, and it needs generated system locales. A word missing from a
 * catalog stays English, message by message; i18n() never returns an empty
 * string for a non-empty one. What organizers and supporters write is never
 * passed through it.
 */
#ifndef MUSTER_CORE_I18N_H
#define MUSTER_CORE_I18N_H

#include <stddef.h>
#include <stdint.h>

/* The longest tag accepted: "abc-Abcd-AB" is 11; a 3-digit region makes 12. */
#define I18N_TAG_MAX 12
#define I18N_DEFAULT_LANGUAGE "en"

/* One translated string: the English source (msgid) and its translation. */
struct i18n_message {
    const char *id;
    const char *text;
};
/* The translations into one language, sorted by id (strcmp) before lookup. */
struct i18n_catalog {
    const char *language; /* a tag, "es" or "pt-BR" */
    struct i18n_message *messages;
    size_t count;
};

/* The catalogs compiled from po/ (build/gen/i18n_catalogs.c). */
extern struct i18n_catalog i18n_builtin_catalogs[];
extern const size_t i18n_builtin_catalog_count;

/* msgid in language tag: the catalog of the whole tag ("es-MX"), else of its
 * language subtag ("es"), else msgid itself (English, the source). Never NULL
 * for a non-NULL msgid. The result lives as long as the program. The keyword
 * for xgettext is i18n:2 (tests/i18n/check.sh). */
const char *i18n(const char *tag, const char *msgid) __attribute__((format_arg(2)));
/* Marks a string for extraction where it is translated later by i18n(). */
#define N_(s) (s)
/* The same lookup in given catalogs (each sorted with i18n_catalog_sort). */
const char *i18n_lookup(const struct i18n_catalog *catalogs, size_t count, const char *tag,
                        const char *msgid) __attribute__((format_arg(4)));
/* Sorts a catalog's messages by id, as the lookup needs. */
void i18n_catalog_sort(struct i18n_catalog *catalog);
/* 1 when a catalog (for the whole tag or its language subtag) is compiled in,
 * or the language is English. */
int i18n_language_shipped(const char *tag);

/* 1 when tag is a language subtag of 2 or 3 letters, optionally followed by a
 * script subtag (4 letters) and a region subtag (2 letters or 3 digits), each
 * after a '-' (any letter case). */
int i18n_tag_valid(const char *tag);
/* The tag in its usual case ("ar", "sr-Latn", "es-MX") into out. Returns 0,
 * or -1 when the tag is not valid. */
int i18n_tag_canonical(const char *tag, char out[I18N_TAG_MAX + 1]);
/* 1 when the language is written right to left: the script subtag decides
 * when there is one (Arab, Hebr, Thaa, Syrc, Nkoo, Adlm, Rohg), otherwise the
 * language (ar, he, fa, ur, yi, ps, ckb, dv, sd, ug, ...). */
int i18n_is_rtl(const char *tag);
/* "rtl" or "ltr", for the dir attribute. */
const char *i18n_dir(const char *tag);

/* The moment t as wall time in tz, written for the language: "Saturday,
 * December 5, 2026, 10:00 CET" in English (as tz_format), "sábado, 5 de
 * diciembre de 2026, 10:00 CET", "samedi 5 décembre 2026 à 10:00 CET",
 * "Samstag, 5. Dezember 2026 um 10:00 CET", "السبت، 5 ديسمبر 2026، الساعة
 * 10:00 CET"; a language without its names here gets "2026-12-05 10:00 CET".
 * Returns 0, or -1 when tz is invalid or out is too small. */
int i18n_format_moment(int64_t t, const char *tz, const char *tag, char *out, size_t n);

#endif
