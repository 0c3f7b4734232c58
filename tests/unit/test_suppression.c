/*
 * test_suppression: the suppression list's rules (service/suppression.c) on
 * a real SQLite store (the store's own behaviour, on every backend, is in
 * test_store_conformance.c): how an address is compared and keyed, which
 * report suppresses at once, when temporary failures add up, what erasure
 * keeps, what an organizer's addition and removal do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/token.h"
#include "service/suppression.h"
#include "store/store.h"
#include "store/store_suppression.h"
#include "tmp_db.h"

#include "core/banned.h"

#define T0 INT64_C(1767225600)
#define DAY INT64_C(86400)

struct fx {
    struct tmp_db db;
    struct store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmp_db_make(&f->db, "suppression"), 0);
    char err[256] = "";
    if (store_open(f->db.path, &f->st, err, sizeof err) != 0)
        fail_msg("store_open: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    tmp_db_remove(&f->db);
    free(f);
    return 0;
}

static void normalize_lowercases_the_whole_address_and_drops_brackets_and_spaces(void **state)
{
    (void)state;
    char out[SUPPRESSION_ADDRESS_MAX + 1];
    assert_int_equal(suppression_normalize("  <Ann.Lee@Example.ORG> ", out), 0);
    assert_string_equal(out, "ann.lee@example.org");
    assert_int_equal(suppression_normalize("\"a@b\"@example.org", out), 0);
    assert_string_equal(out, "\"a@b\"@example.org");
}

static void normalize_refuses_what_is_not_an_address(void **state)
{
    (void)state;
    char out[SUPPRESSION_ADDRESS_MAX + 1];
    static const char *const bad[] = {
        "",
        "   ",
        "ann",
        "@example.org",
        "ann@",
        "ann @example.org",
        "ann@exa\r\nmple.org",
        "<>",
        "a<b@example.org",
        "ann@example.org\x7f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (suppression_normalize(bad[i], out) == 0)
            fail_msg("took %s", bad[i]);
    assert_int_equal(suppression_normalize(NULL, out), -1);
    char longest[SUPPRESSION_ADDRESS_MAX + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    longest[10] = '@';
    assert_int_equal(suppression_normalize(longest, out), -1); /* 255 characters */
    longest[SUPPRESSION_ADDRESS_MAX] = '\0';
    assert_int_equal(suppression_normalize(longest, out), 0); /* 254 */
}

static void key_is_the_same_for_every_spelling_and_differs_between_addresses(void **state)
{
    (void)state;
    char a[SUPPRESSION_KEY_HEX + 1], b[SUPPRESSION_KEY_HEX + 1], c[SUPPRESSION_KEY_HEX + 1];
    assert_int_equal(suppression_key("Ann@Example.org", a), 0);
    assert_int_equal(suppression_key("<ann@example.org>", b), 0);
    assert_int_equal(suppression_key("bob@example.org", c), 0);
    assert_int_equal(strlen(a), SUPPRESSION_KEY_HEX);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_null(strstr(a, "ann"));
    assert_int_equal(suppression_key("not an address", a), -1);
}

static void a_permanent_failure_suppresses_at_once_with_its_reason_and_campaign(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 0);
    int suppressed = -1;
    assert_int_equal(suppression_report(f->st, "Ann@Example.org", SUPPRESSION_REPORT_PERMANENT,
                                        "550 5.1.1 <ann@example.org>: no such user\r\n", 7, T0,
                                        &suppressed),
                     0);
    assert_int_equal(suppressed, 1);
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 1);
    assert_int_equal(suppression_check(f->st, "ANN@EXAMPLE.ORG"), 1);
    assert_int_equal(suppression_check(f->st, "bob@example.org"), 0);
    char key[SUPPRESSION_KEY_HEX + 1];
    assert_int_equal(suppression_key("ann@example.org", key), 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, key, &e), 0);
    assert_int_equal(e.kind, SUPPRESSION_BOUNCE);
    assert_string_equal(e.address, "ann@example.org");
    assert_string_equal(e.reason, "550 5.1.1 <ann@example.org>: no such user");
    assert_int_equal(e.campaign_id, 7);
    assert_int_equal(e.created_at, T0);
    suppression_entry_release(&e);
    int64_t b = -1, c = -1;
    assert_int_equal(store_suppression_campaign_counts(f->st, 7, &b, &c), 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 0);
}

static void a_complaint_suppresses_at_once_and_counts_as_a_complaint(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_COMPLAINT,
                                        "abuse", 3, T0, NULL),
                     0);
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 1);
    /* a second report of the same address is not counted again */
    assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_COMPLAINT,
                                        "abuse", 3, T0 + 1, NULL),
                     0);
    int64_t b = -1, c = -1;
    assert_int_equal(store_suppression_campaign_counts(f->st, 3, &b, &c), 0);
    assert_int_equal(b, 0);
    assert_int_equal(c, 1);
}

static void temporary_failures_suppress_at_the_limit_within_the_window(void **state)
{
    struct fx *f = *state;
    int suppressed = -1;
    for (int i = 1; i < SUPPRESSION_TEMPORARY_LIMIT; i++) {
        assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_TEMPORARY,
                                            "452 mailbox full", 0, T0 + i * DAY, &suppressed),
                         0);
        assert_int_equal(suppressed, 0);
        assert_int_equal(suppression_check(f->st, "ann@example.org"), 0);
    }
    assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_TEMPORARY,
                                        "452 mailbox full", 0,
                                        T0 + (SUPPRESSION_TEMPORARY_DAYS - 1) * DAY, &suppressed),
                     0);
    assert_int_equal(suppressed, 1);
    char key[SUPPRESSION_KEY_HEX + 1];
    assert_int_equal(suppression_key("ann@example.org", key), 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, key, &e), 0);
    assert_int_equal(e.kind, SUPPRESSION_TEMPORARY);
    suppression_entry_release(&e);
}

static void temporary_failures_spread_wider_than_the_window_never_suppress(void **state)
{
    struct fx *f = *state;
    int suppressed = -1;
    for (int i = 0; i < 3 * SUPPRESSION_TEMPORARY_LIMIT; i++) {
        assert_int_equal(
            suppression_report(
                f->st, "ann@example.org", SUPPRESSION_REPORT_TEMPORARY, "421 try later", 0,
                T0 + i * (SUPPRESSION_TEMPORARY_DAYS * DAY / (SUPPRESSION_TEMPORARY_LIMIT - 1) + 1),
                &suppressed),
            0);
        assert_int_equal(suppressed, 0);
    }
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 0);
}

static void a_report_without_an_address_stores_nothing_and_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppression_report(f->st, "no address here", SUPPRESSION_REPORT_PERMANENT,
                                        "550", 0, T0, NULL),
                     -1);
    int64_t n = -1;
    assert_int_equal(store_suppression_count(f->st, &n), 0);
    assert_int_equal(n, 0);
}

static void a_long_reason_is_cut_at_a_character_boundary(void **state)
{
    struct fx *f = *state;
    char reason[2 * SUPPRESSION_REASON_MAX];
    size_t n = 0;
    reason[n++] = 'x';
    while (n + 2 < sizeof reason) {
        reason[n++] = '\xc3'; /* é */
        reason[n++] = '\xa9';
    }
    reason[n] = '\0';
    assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_PERMANENT,
                                        reason, 0, T0, NULL),
                     0);
    char key[SUPPRESSION_KEY_HEX + 1];
    assert_int_equal(suppression_key("ann@example.org", key), 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, key, &e), 0);
    size_t len = strlen(e.reason);
    assert_int_equal(len, SUPPRESSION_REASON_MAX - 1); /* 'x' and whole two-byte characters */
    suppression_entry_release(&e);
    /* cut right after a whole character: that character stays */
    assert_int_equal(suppression_report(f->st, "bob@example.org", SUPPRESSION_REPORT_PERMANENT,
                                        reason + 1, 0, T0, NULL),
                     0);
    assert_int_equal(suppression_key("bob@example.org", key), 0);
    assert_int_equal(store_suppression_get(f->st, key, &e), 0);
    assert_int_equal(strlen(e.reason), SUPPRESSION_REASON_MAX);
    suppression_entry_release(&e);
}

static void an_erased_address_stays_suppressed_without_being_kept(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppression_report(f->st, "ann@example.org", SUPPRESSION_REPORT_PERMANENT,
                                        "550", 0, T0, NULL),
                     0);
    assert_int_equal(suppression_forget_address(f->st, "Ann@example.org"), 0);
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 1);
    char key[SUPPRESSION_KEY_HEX + 1];
    assert_int_equal(suppression_key("ann@example.org", key), 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, key, &e), 0);
    assert_null(e.address);
    suppression_entry_release(&e);
}

static void manual_add_and_remove(void **state)
{
    struct fx *f = *state;
    int added = -1, removed = -1;
    assert_int_equal(suppression_add_manual(f->st, "Ann@example.org", "asked by phone", T0, &added),
                     0);
    assert_int_equal(added, 1);
    assert_int_equal(suppression_add_manual(f->st, "ann@example.org", "again", T0, &added), 0);
    assert_int_equal(added, 0);
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 1);
    assert_int_equal(suppression_remove(f->st, "ANN@example.org", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(suppression_check(f->st, "ann@example.org"), 0);
    assert_int_equal(suppression_remove(f->st, "ann@example.org", &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(suppression_add_manual(f->st, "nobody", NULL, T0, &added), -1);
}

int main(void)
{
    unsigned char secret[TOKEN_SECRET_LEN] = {7};
    if (token_init(secret) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_lowercases_the_whole_address_and_drops_brackets_and_spaces),
        cmocka_unit_test(normalize_refuses_what_is_not_an_address),
        cmocka_unit_test(key_is_the_same_for_every_spelling_and_differs_between_addresses),
        cmocka_unit_test_setup_teardown(
            a_permanent_failure_suppresses_at_once_with_its_reason_and_campaign, setup, teardown),
        cmocka_unit_test_setup_teardown(a_complaint_suppresses_at_once_and_counts_as_a_complaint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(temporary_failures_suppress_at_the_limit_within_the_window,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            temporary_failures_spread_wider_than_the_window_never_suppress, setup, teardown),
        cmocka_unit_test_setup_teardown(a_report_without_an_address_stores_nothing_and_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_long_reason_is_cut_at_a_character_boundary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_erased_address_stays_suppressed_without_being_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(manual_add_and_remove, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
