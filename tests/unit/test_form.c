/*
 * test_form: urlencoded form bodies (src/http/form.c): decoding of names and
 * values (+ as space, %XX, UTF-8), empty and repeated fields, and refusal of
 * malformed escapes, NUL bytes, invalid UTF-8 and too many fields, with an
 * error that names the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "http/form.h"

static void parse_ok(struct form *f, const char *body)
{
    char err[160];
    assert_int_equal(form_parse(f, body, strlen(body), err, sizeof err), 0);
}

static void test_fields_are_decoded(void **state)
{
    (void)state;
    struct form f;
    parse_ok(&f, "email=ann%40example.org&name=Ann+%C3%96&statement=a%26b%3Dc%0D%0Ad&consent=yes");
    assert_int_equal(f.count, 4);
    assert_string_equal(form_get(&f, "email"), "ann@example.org");
    assert_string_equal(form_get(&f, "name"), "Ann \xc3\x96");
    assert_string_equal(form_get(&f, "statement"), "a&b=c\r\nd");
    assert_string_equal(form_get(&f, "consent"), "yes");
    assert_null(form_get(&f, "missing"));
    form_release(&f);
}

static void test_empty_values_names_and_separators(void **state)
{
    (void)state;
    struct form f;
    parse_ok(&f, "a=&&b&c=1&&");
    assert_int_equal(f.count, 3);
    assert_string_equal(form_get(&f, "a"), "");
    assert_string_equal(form_get(&f, "b"), "");
    assert_string_equal(form_get(&f, "c"), "1");
    form_release(&f);
    parse_ok(&f, "");
    assert_int_equal(f.count, 0);
    form_release(&f);
}

static void test_first_of_repeated_fields_wins(void **state)
{
    (void)state;
    struct form f;
    parse_ok(&f, "x=1&x=2");
    assert_string_equal(form_get(&f, "x"), "1");
    form_release(&f);
}

static void test_malformed_bodies_are_refused_naming_the_field(void **state)
{
    (void)state;
    static const char *bad[] = {
        "a=%zz", "a=%4", "a=%", "a=b&c=%00", "a=%C3%28", "%ff=1", "a=%ED%A0%80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct form f;
        char err[160] = "";
        assert_int_equal(form_parse(&f, bad[i], strlen(bad[i]), err, sizeof err), -1);
        assert_non_null(strstr(err, "form field"));
        assert_int_equal(f.count, 0);
    }
}

static void test_embedded_nul_in_the_body_is_refused(void **state)
{
    (void)state;
    static const char body[] = "a=b\0c";
    struct form f;
    char err[160];
    assert_int_equal(form_parse(&f, body, sizeof body - 1, err, sizeof err), -1);
}

static void test_too_many_fields_are_refused(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i <= FORM_MAX_FIELDS; i++)
        buf_printf(&b, "f%d=v&", i);
    struct form f;
    char err[160];
    assert_int_equal(form_parse(&f, b.data, b.len, err, sizeof err), -1);
    assert_non_null(strstr(err, "too many"));
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_are_decoded),
        cmocka_unit_test(test_empty_values_names_and_separators),
        cmocka_unit_test(test_first_of_repeated_fields_wins),
        cmocka_unit_test(test_malformed_bodies_are_refused_naming_the_field),
        cmocka_unit_test(test_embedded_nul_in_the_body_is_refused),
        cmocka_unit_test(test_too_many_fields_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
