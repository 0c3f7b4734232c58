/*
 * test_csv: the RFC 4180 reader (src/core/csv.c): plain and quoted fields,
 * "" escapes, line breaks inside quotes, CRLF and LF records, a byte order
 * mark, and clear errors with line numbers for stray quotes, unclosed quotes,
 * NUL bytes, invalid UTF-8 and too many fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"

static void test_reads_plain_and_quoted_fields(void **state)
{
    (void)state;
    static const char data[] = "\xEF\xBB\xBF"
                               "email,name,consent\r\n"
                               "a@example.org,\"Doe, Ann\",yes\r\n"
                               "b@example.org,\"say \"\"hi\"\"\nthere\",no\n"
                               "c@example.org,,\n";
    struct csv_reader r;
    char err[160];
    csv_init(&r, data, sizeof data - 1);
    assert_int_equal(csv_next(&r, err, sizeof err), 1);
    assert_int_equal(r.count, 3);
    assert_string_equal(r.fields[0], "email");
    assert_int_equal(csv_next(&r, err, sizeof err), 1);
    assert_int_equal(r.record_line, 2);
    assert_string_equal(r.fields[1], "Doe, Ann");
    assert_int_equal(csv_next(&r, err, sizeof err), 1);
    assert_int_equal(r.record_line, 3);
    assert_string_equal(r.fields[1], "say \"hi\"\nthere");
    assert_string_equal(r.fields[2], "no");
    assert_int_equal(csv_next(&r, err, sizeof err), 1);
    assert_int_equal(r.record_line, 5); /* the quoted line break counted */
    assert_int_equal(r.count, 3);
    assert_string_equal(r.fields[1], "");
    assert_string_equal(r.fields[2], "");
    assert_int_equal(csv_next(&r, err, sizeof err), 0);
    csv_release(&r);
}

static void test_last_record_without_newline(void **state)
{
    (void)state;
    static const char data[] = "a,b";
    struct csv_reader r;
    char err[160];
    csv_init(&r, data, sizeof data - 1);
    assert_int_equal(csv_next(&r, err, sizeof err), 1);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.fields[1], "b");
    assert_int_equal(csv_next(&r, err, sizeof err), 0);
    csv_release(&r);
}

static void expect_error(const char *data, size_t len, const char *needle)
{
    struct csv_reader r;
    char err[160] = "";
    csv_init(&r, data, len);
    int rc;
    while ((rc = csv_next(&r, err, sizeof err)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, needle));
    csv_release(&r);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("a,b\nc,d\"e\n", 10, "line 2: a quote");
    expect_error("a,\"b\n", 5, "line 1: a quoted field is not closed");
    expect_error("a,\"b\"x\n", 7, "line 1: a quote");
    expect_error("a,b\0c\n", 6, "line 1: NUL");
    expect_error("ok\n\xff\xfe\n", 6, "line 2, field 1: not valid UTF-8");
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char data[CSV_MAX_FIELDS * 2 + 8];
    size_t n = 0;
    for (int i = 0; i <= CSV_MAX_FIELDS; i++)
        data[n++] = ',';
    data[n++] = '\n';
    expect_error(data, n, "more than");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_plain_and_quoted_fields),
        cmocka_unit_test(test_last_record_without_newline),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_too_many_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
