/*
 * test_i18n: language tags (validation, canonical case, direction), the
 * lookup of muster's words in catalogs with its fallbacks (the whole tag,
 * then the language, then English, word by word, never an empty string),
 * the catalogs compiled from po/, and dates written per language.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/i18n.h"
#include "core/tz.h"

static void valid_tags_are_accepted(void **state)
{
    static const char *const good[] = {"en",      "ar",         "fil",   "es-MX", "es-419",
                                       "sr-Latn", "zh-Hant-TW", "AR-eg", "pt-BR", "az-Arab"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!i18n_tag_valid(good[i]))
            fail_msg("%s should be valid", good[i]);
}

static void invalid_tags_are_refused(void **state)
{
    static const char *const bad[] = {
        "",      "e",       "engl",       "en_US", "en-",         "-en",          "en-USA",
        "en-1",  "en-12",   "en-US-Latn", "e1",    "ar--EG",      "en-Latn-Cyrl", "es-MX-x",
        "en US", "en\"><x", "ar-EG\n",    "ä",     "zh-Hant-TW-x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (i18n_tag_valid(bad[i]))
            fail_msg("\"%s\" should be refused", bad[i]);
    assert_false(i18n_tag_valid(NULL));
    char out[I18N_TAG_MAX + 1] = "kept";
    assert_int_equal(i18n_tag_canonical("en-USA", out), -1);
    assert_string_equal(out, "kept");
}

static void canonical_case_is_lower_title_upper(void **state)
{
    char out[I18N_TAG_MAX + 1];
    assert_int_equal(i18n_tag_canonical("AR-eg", out), 0);
    assert_string_equal(out, "ar-EG");
    assert_int_equal(i18n_tag_canonical("sr-LATN", out), 0);
    assert_string_equal(out, "sr-Latn");
    assert_int_equal(i18n_tag_canonical("ZH-hant-tw", out), 0);
    assert_string_equal(out, "zh-Hant-TW");
    assert_int_equal(i18n_tag_canonical("es-419", out), 0);
    assert_string_equal(out, "es-419");
}

static void direction_follows_the_language_or_its_script(void **state)
{
    static const char *const rtl[] = {"ar",    "ar-EG", "he", "he-IL", "fa",      "fa-IR",   "ur",
                                      "ur-PK", "yi",    "ps", "ckb",   "az-Arab", "pa-Arab", "AR"};
    static const char *const ltr[] = {"en", "es",      "fr",    "de", "ar-Latn", "tr",
                                      "ru", "zh-Hant", "en-US", "x",  ""};
    for (size_t i = 0; i < sizeof rtl / sizeof rtl[0]; i++) {
        if (!i18n_is_rtl(rtl[i]))
            fail_msg("%s should be rtl", rtl[i]);
        assert_string_equal(i18n_dir(rtl[i]), "rtl");
    }
    for (size_t i = 0; i < sizeof ltr / sizeof ltr[0]; i++) {
        if (i18n_is_rtl(ltr[i]))
            fail_msg("%s should be ltr", ltr[i]);
        assert_string_equal(i18n_dir(ltr[i]), "ltr");
    }
}

/* Two small catalogs: Portuguese and Brazilian Portuguese. */
static struct i18n_message pt_messages[] = {
    {"Pledge", "Comprometer-me"}, {"Name", "Nome"}, {"Email", ""}, /* untranslated: stays English */
};
static struct i18n_message pt_br_messages[] = {
    {"Pledge", "Me comprometer"},
};
static struct i18n_catalog catalogs[] = {
    {"pt", pt_messages, 3},
    {"pt-BR", pt_br_messages, 1},
};

static int setup_catalogs(void **state)
{
    for (size_t i = 0; i < 2; i++)
        i18n_catalog_sort(&catalogs[i]);
    return 0;
}

static void lookup_prefers_the_whole_tag_then_the_language(void **state)
{
    assert_string_equal(i18n_lookup(catalogs, 2, "pt-BR", "Pledge"), "Me comprometer");
    assert_string_equal(i18n_lookup(catalogs, 2, "pt-br", "Pledge"), "Me comprometer");
    /* pt-BR has no "Name": the language's catalog answers */
    assert_string_equal(i18n_lookup(catalogs, 2, "pt-BR", "Name"), "Nome");
    assert_string_equal(i18n_lookup(catalogs, 2, "pt-PT", "Pledge"), "Comprometer-me");
    assert_string_equal(i18n_lookup(catalogs, 2, "pt", "Name"), "Nome");
}

static void a_missing_word_falls_back_to_english_word_by_word(void **state)
{
    const char *missing = "Not in any catalog";
    assert_ptr_equal(i18n_lookup(catalogs, 2, "pt", missing), missing);
    assert_ptr_equal(i18n_lookup(catalogs, 2, "pt-BR", missing), missing);
    /* an empty translation is no translation */
    assert_string_equal(i18n_lookup(catalogs, 2, "pt", "Email"), "Email");
    /* a language without a catalog, and tags that are not tags */
    assert_string_equal(i18n_lookup(catalogs, 2, "sw", "Pledge"), "Pledge");
    assert_string_equal(i18n_lookup(catalogs, 2, "p", "Pledge"), "Pledge");
    assert_string_equal(i18n_lookup(catalogs, 2, NULL, "Pledge"), "Pledge");
    assert_string_equal(i18n_lookup(catalogs, 0, "pt", "Pledge"), "Pledge");
    assert_string_equal(i18n_lookup(catalogs, 2, "pt", ""), "");
}

static void the_shipped_catalogs_translate_muster_s_words(void **state)
{
    assert_string_equal(i18n("es", "Pledge"), "Comprometerme");
    assert_string_equal(i18n("es-MX", "Pledge"), "Comprometerme");
    assert_string_equal(i18n("fr", "Unsubscribe"), "Se désabonner");
    assert_string_equal(i18n("de", "Confirm my pledge"), "Meine Zusage bestätigen");
    assert_string_equal(i18n("ar", "Unsubscribe"), "إلغاء الاشتراك");
    assert_string_equal(i18n("ar-EG", "Your action"), "تحرّكك");
    assert_string_equal(i18n("en", "Pledge"), "Pledge");
    assert_string_equal(i18n("sw", "Pledge"), "Pledge");
    assert_true(i18n_language_shipped("en"));
    assert_true(i18n_language_shipped("ar-SA"));
    assert_true(i18n_language_shipped("es"));
    assert_false(i18n_language_shipped("sw"));
    /* Every shipped catalog is complete (scripts/i18n.sh check) and none has
     * an empty translation. */
    assert_true(i18n_builtin_catalog_count >= 4);
    size_t count = i18n_builtin_catalogs[0].count;
    assert_true(count > 100);
    for (size_t i = 0; i < i18n_builtin_catalog_count; i++) {
        assert_int_equal(i18n_builtin_catalogs[i].count, count);
        for (size_t j = 0; j < i18n_builtin_catalogs[i].count; j++)
            assert_true(i18n_builtin_catalogs[i].messages[j].text[0] != '\0');
    }
}

/* 2026-12-05 09:00 UTC: 10:00 in Berlin (CET). */
#define MOMENT 1796461200

static void moments_are_written_in_the_language(void **state)
{
    char out[160], en[160];
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "en", out, sizeof out), 0);
    assert_int_equal(tz_format(MOMENT, "Europe/Berlin", en, sizeof en), 0);
    assert_string_equal(out, en);
    assert_string_equal(out, "Saturday, December 5, 2026, 10:00 CET");
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "es", out, sizeof out), 0);
    assert_string_equal(out, "sábado, 5 de diciembre de 2026, 10:00 CET");
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "fr-CA", out, sizeof out), 0);
    assert_string_equal(out, "samedi 5 décembre 2026 à 10:00 CET");
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "de", out, sizeof out), 0);
    assert_string_equal(out, "Samstag, 5. Dezember 2026 um 10:00 CET");
    assert_int_equal(i18n_format_moment(MOMENT, "Asia/Riyadh", "ar", out, sizeof out), 0);
    assert_string_equal(out, "السبت، 5 ديسمبر 2026، الساعة 12:00 +03");
    /* a language without names here: numbers only */
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "pt-BR", out, sizeof out), 0);
    assert_string_equal(out, "2026-12-05 10:00 CET");
    /* a bad zone, a buffer too small */
    assert_int_equal(i18n_format_moment(MOMENT, "Mars/Olympus", "es", out, sizeof out), -1);
    assert_int_equal(i18n_format_moment(MOMENT, "Europe/Berlin", "es", out, 12), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_tags_are_accepted),
        cmocka_unit_test(invalid_tags_are_refused),
        cmocka_unit_test(canonical_case_is_lower_title_upper),
        cmocka_unit_test(direction_follows_the_language_or_its_script),
        cmocka_unit_test_setup(lookup_prefers_the_whole_tag_then_the_language, setup_catalogs),
        cmocka_unit_test_setup(a_missing_word_falls_back_to_english_word_by_word, setup_catalogs),
        cmocka_unit_test(the_shipped_catalogs_translate_muster_s_words),
        cmocka_unit_test(moments_are_written_in_the_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
