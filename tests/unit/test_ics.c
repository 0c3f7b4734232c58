/*
 * test_ics: what ics_build promises (ics.h, RFC 5545): the calendar's fixed
 * lines, CRLF, folding at 75 octets without splitting UTF-8, TEXT escaping,
 * UTC times with Z, and that no value can start a property of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/escape.h"
#include "mail/ics.h"

#include "core/banned.h"

static struct ics_event sample(void)
{
    struct ics_event e = {
        .uid = "launch.7.42@muster.example.org",
        .dtstamp = 1796137200, /* 2026-12-01T15:00:00Z */
        .start = 1796482800,   /* 2026-12-05T15:00:00Z */
        .duration_minutes = 90,
        .summary = "Docs Day",
        .description = "Your one-click link arrives by email.",
        .url = "https://muster.example.org/c/docs-day",
        .organizer_name = "Docs Collective",
        .organizer_email = "team@example.org",
    };
    return e;
}

static char *build_ok(const struct ics_event *e)
{
    struct buf out = BUF_INIT;
    assert_int_equal(ics_build(e, &out), 0);
    return buf_detach(&out);
}

/* CRLF only; physical lines at most 75 octets, each valid UTF-8 on its own
 * (so no sequence was split), continuation lines start with one space. */
static void assert_physical_lines(const char *ics)
{
    size_t len = strlen(ics);
    assert_true(len >= 2 && strcmp(ics + len - 2, "\r\n") == 0);
    for (size_t i = 0; i < len;) {
        const char *nl = strstr(ics + i, "\r\n");
        assert_non_null(nl);
        size_t n = (size_t)(nl - (ics + i));
        assert_true(n <= 75);
        assert_true(n > 0);
        assert_null(memchr(ics + i, '\n', n));
        assert_null(memchr(ics + i, '\r', n));
        assert_true(utf8_valid(ics + i, n));
        if (ics[i] == ' ')
            assert_true(n > 1 && ics[i + 1] != ' ');
        i += n + 2;
    }
}

/* The unfolded content line starting with prefix (e.g. "SUMMARY:"), or
 * NULL; caller frees. */
static char *content_line(const char *ics, const char *prefix)
{
    struct buf b = BUF_INIT;
    for (const char *p = ics; *p;) {
        const char *nl = strstr(p, "\r\n");
        assert_non_null(nl);
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            buf_append(&b, p, (size_t)(nl - p));
            while (nl[2] == ' ') {
                const char *next = strstr(nl + 2, "\r\n");
                buf_append(&b, nl + 3, (size_t)(next - (nl + 3)));
                nl = next;
            }
            return buf_detach(&b);
        }
        p = nl + 2;
    }
    buf_release(&b);
    return NULL;
}

static void calendar_has_the_fixed_lines_in_order(void **state)
{
    struct ics_event e = sample();
    char *ics = build_ok(&e);
    assert_string_equal(ics, "BEGIN:VCALENDAR\r\n"
                             "VERSION:2.0\r\n"
                             "PRODID:-//muster//muster//EN\r\n"
                             "CALSCALE:GREGORIAN\r\n"
                             "METHOD:PUBLISH\r\n"
                             "BEGIN:VEVENT\r\n"
                             "UID:launch.7.42@muster.example.org\r\n"
                             "SEQUENCE:0\r\n"
                             "DTSTAMP:20261201T150000Z\r\n"
                             "DTSTART:20261205T150000Z\r\n"
                             "DTEND:20261205T163000Z\r\n"
                             "SUMMARY:Docs Day\r\n"
                             "DESCRIPTION:Your one-click link arrives by email.\r\n"
                             "URL:https://muster.example.org/c/docs-day\r\n"
                             "ORGANIZER;CN=\"Docs Collective\":mailto:team@example.org\r\n"
                             "END:VEVENT\r\n"
                             "END:VCALENDAR\r\n");
    free(ics);
}

/* A moved moment: the same UID with a higher SEQUENCE moves the event in a
 * calendar instead of adding one (RFC 5545 3.8.7.4). */
static void sequence_is_written_as_given(void **state)
{
    struct ics_event e = sample();
    e.sequence = 3;
    char *ics = build_ok(&e);
    char *line = content_line(ics, "SEQUENCE:");
    assert_non_null(line);
    assert_string_equal(line, "SEQUENCE:3");
    free(line);
    free(ics);
}

static void optional_fields_are_left_out(void **state)
{
    struct ics_event e = sample();
    e.description = NULL;
    e.url = NULL;
    e.organizer_name = NULL;
    e.organizer_email = NULL;
    e.duration_minutes = 0;
    char *ics = build_ok(&e);
    assert_null(strstr(ics, "DESCRIPTION"));
    assert_null(strstr(ics, "URL:"));
    assert_null(strstr(ics, "ORGANIZER"));
    assert_null(strstr(ics, "DTEND"));
    assert_non_null(strstr(ics, "\r\nUID:launch.7.42@muster.example.org\r\n"));
    assert_non_null(strstr(ics, "\r\nDTSTAMP:20261201T150000Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTSTART:20261205T150000Z\r\n"));
    free(ics);

    e.organizer_email = "team@example.org";
    ics = build_ok(&e);
    assert_non_null(strstr(ics, "\r\nORGANIZER:mailto:team@example.org\r\n"));
    free(ics);
}

static void text_is_escaped(void **state)
{
    struct ics_event e = sample();
    e.summary = "a,b;c\\d\ne\r\nf\rg\x01h\ti";
    e.description = "BEGIN:VEVENT\nEND:VCALENDAR";
    char *ics = build_ok(&e);
    char *summary = content_line(ics, "SUMMARY:");
    assert_string_equal(summary, "SUMMARY:a\\,b\\;c\\\\d\\ne\\nf\\ng"
                                 "h\ti");
    char *description = content_line(ics, "DESCRIPTION:");
    assert_string_equal(description, "DESCRIPTION:BEGIN:VEVENT\\nEND:VCALENDAR");
    assert_physical_lines(ics);
    free(summary);
    free(description);
    free(ics);
}

static void organizer_name_is_a_safe_quoted_param(void **state)
{
    struct ics_event e = sample();
    e.organizer_name = "The \"Docs\"; Collective,\r\nX-EVIL:1";
    char *ics = build_ok(&e);
    char *org = content_line(ics, "ORGANIZER");
    assert_string_equal(org,
                        "ORGANIZER;CN=\"The Docs; Collective,X-EVIL:1\":mailto:team@example.org");
    assert_null(strstr(ics, "\r\nX-EVIL"));
    free(org);
    free(ics);
}

static void long_multibyte_summary_folds_on_character_boundaries(void **state)
{
    struct buf s = BUF_INIT;
    for (int i = 0; i < 100; i++)
        buf_puts(&s, i % 4 == 0 ? "é" : i % 4 == 1 ? "日" : i % 4 == 2 ? "🎉" : "a");
    for (size_t shift = 0; shift < 4; shift++) {
        /* shift the sequences against the fold points */
        struct buf summary = BUF_INIT;
        for (size_t k = 0; k < shift; k++)
            buf_putc(&summary, 'x');
        buf_puts(&summary, s.data);
        struct ics_event e = sample();
        e.summary = summary.data;
        char *ics = build_ok(&e);
        assert_physical_lines(ics);
        char *line = content_line(ics, "SUMMARY:");
        assert_string_equal(line + strlen("SUMMARY:"), summary.data);
        free(line);
        free(ics);
        buf_release(&summary);
    }
    buf_release(&s);
}

static void escapes_are_not_split_by_folding(void **state)
{
    struct buf s = BUF_INIT;
    for (int i = 0; i < 60; i++)
        buf_puts(&s, "a,");
    for (size_t shift = 0; shift < 2; shift++) {
        struct ics_event e = sample();
        struct buf summary = BUF_INIT;
        if (shift)
            buf_putc(&summary, 'x');
        buf_puts(&summary, s.data);
        e.summary = summary.data;
        char *ics = build_ok(&e);
        assert_physical_lines(ics);
        for (const char *p = ics; (p = strstr(p, "\r\n ")) != NULL; p++)
            assert_true(p[-1] != '\\' || p[-2] == '\\');
        free(ics);
        buf_release(&summary);
    }
    buf_release(&s);
}

static void times_are_utc_with_z(void **state)
{
    struct ics_event e = sample();
    e.start = 0;
    e.dtstamp = 86399;
    e.duration_minutes = 1;
    char *ics = build_ok(&e);
    assert_non_null(strstr(ics, "\r\nDTSTART:19700101T000000Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTEND:19700101T000100Z\r\n"));
    assert_non_null(strstr(ics, "\r\nDTSTAMP:19700101T235959Z\r\n"));
    assert_null(strstr(ics, "TZID"));
    free(ics);
}

static void bad_input_is_refused(void **state)
{
    struct buf out = BUF_INIT;
    struct ics_event e = sample();
    e.summary = "\xc3\x28";
    assert_int_equal(ics_build(&e, &out), -1);
    e = sample();
    e.uid = "";
    assert_int_equal(ics_build(&e, &out), -1);
    e = sample();
    e.uid = NULL;
    assert_int_equal(ics_build(&e, &out), -1);
    e = sample();
    e.url = "https://example.org/\r\nX-EVIL:1";
    assert_int_equal(ics_build(&e, &out), -1);
    e = sample();
    e.organizer_email = "team@example.org\r\nX-EVIL:1";
    assert_int_equal(ics_build(&e, &out), -1);
    e = sample();
    e.duration_minutes = -5;
    assert_int_equal(ics_build(&e, &out), -1);
    assert_int_equal(ics_build(NULL, &out), -1);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calendar_has_the_fixed_lines_in_order),
        cmocka_unit_test(sequence_is_written_as_given),
        cmocka_unit_test(optional_fields_are_left_out),
        cmocka_unit_test(text_is_escaped),
        cmocka_unit_test(organizer_name_is_a_safe_quoted_param),
        cmocka_unit_test(long_multibyte_summary_folds_on_character_boundaries),
        cmocka_unit_test(escapes_are_not_split_by_folding),
        cmocka_unit_test(times_are_utc_with_z),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
