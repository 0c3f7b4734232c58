/*
 * test_loginlimit: the failed-login backoff of src/http/loginlimit.c: the
 * schedule (free failures, then a doubling wait with a cap), that a key waits
 * exactly that long after its last failure, that keys are independent, that a
 * cleared or long-quiet key starts over, that a key longer than a hash is
 * refused rather than cut, and that attempts in flight at once (begin, then
 * end) get no further than the same attempts one after another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/loginlimit.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void test_the_schedule_is_free_then_doubles_up_to_the_cap(void **state)
{
    (void)state;
    for (int n = 0; n < 5; n++)
        assert_int_equal(loginlimit_delay(n, 5, 15, 900), 0);
    assert_int_equal(loginlimit_delay(5, 5, 15, 900), 15);
    assert_int_equal(loginlimit_delay(6, 5, 15, 900), 30);
    assert_int_equal(loginlimit_delay(7, 5, 15, 900), 60);
    assert_int_equal(loginlimit_delay(10, 5, 15, 900), 480);
    assert_int_equal(loginlimit_delay(11, 5, 15, 900), 900);
    assert_int_equal(loginlimit_delay(1000000, 5, 15, 900), 900);
}

static void test_a_key_waits_after_its_free_failures(void **state)
{
    (void)state;
    struct loginlimit *ll = loginlimit_new(5, 15, 900, 3600);
    assert_non_null(ll);
    for (int i = 0; i < 5; i++) {
        assert_true(loginlimit_allowed(ll, KEY_A, 1000));
        assert_int_equal(loginlimit_failed(ll, KEY_A, 1000), 0);
    }
    assert_false(loginlimit_allowed(ll, KEY_A, 1000));
    assert_false(loginlimit_allowed(ll, KEY_A, 1014));
    assert_true(loginlimit_allowed(ll, KEY_B, 1000));
    assert_true(loginlimit_allowed(ll, KEY_A, 1015));
    assert_int_equal(loginlimit_failed(ll, KEY_A, 1015), 0);
    assert_false(loginlimit_allowed(ll, KEY_A, 1044));
    assert_true(loginlimit_allowed(ll, KEY_A, 1045));
    loginlimit_free(ll);
}

static void test_a_cleared_or_quiet_key_starts_over(void **state)
{
    (void)state;
    struct loginlimit *ll = loginlimit_new(2, 15, 900, 3600);
    assert_non_null(ll);
    assert_int_equal(loginlimit_failed(ll, KEY_A, 10), 0);
    assert_int_equal(loginlimit_failed(ll, KEY_A, 10), 0);
    assert_false(loginlimit_allowed(ll, KEY_A, 10));
    loginlimit_clear(ll, KEY_A);
    assert_true(loginlimit_allowed(ll, KEY_A, 10));

    assert_int_equal(loginlimit_failed(ll, KEY_B, 10), 0);
    assert_int_equal(loginlimit_failed(ll, KEY_B, 10), 0);
    assert_int_equal(loginlimit_failed(ll, KEY_B, 3610), 0); /* an hour later: the first */
    assert_true(loginlimit_allowed(ll, KEY_B, 3610));
    loginlimit_free(ll);
}

static void test_a_key_longer_than_a_hash_is_refused(void **state)
{
    (void)state;
    struct loginlimit *ll = loginlimit_new(1, 15, 900, 3600);
    assert_non_null(ll);
    assert_int_equal(loginlimit_failed(ll, KEY_A "x", 10), -1);
    assert_int_equal(loginlimit_failed(ll, "", 10), -1);
    assert_true(loginlimit_allowed(ll, KEY_A, 10));
    loginlimit_free(ll);
}

static void test_attempts_in_flight_count_as_failures(void **state)
{
    (void)state;
    struct loginlimit *ll = loginlimit_new(5, 15, 900, 3600);
    assert_non_null(ll);
    /* Ten attempts at once: the five free ones begin, the others wait. */
    int begun = 0;
    for (int i = 0; i < 10; i++)
        begun += loginlimit_begin(ll, KEY_A, 1000) == 1;
    assert_int_equal(begun, 5);
    assert_false(loginlimit_allowed(ll, KEY_A, 1000));
    assert_true(loginlimit_allowed(ll, KEY_B, 1000));
    /* They fail: the key waits as after five failures one by one. */
    for (int i = 0; i < 5; i++)
        loginlimit_end(ll, KEY_A, 1000, 1);
    assert_false(loginlimit_begin(ll, KEY_A, 1014));
    assert_int_equal(loginlimit_begin(ll, KEY_A, 1015), 1);
    /* Past the free ones, one attempt at a time, even when its wait is over. */
    assert_int_equal(loginlimit_begin(ll, KEY_A, 1016), 0);
    loginlimit_end(ll, KEY_A, 1016, 1);
    assert_false(loginlimit_allowed(ll, KEY_A, 1045));
    assert_true(loginlimit_allowed(ll, KEY_A, 1046));
    loginlimit_free(ll);
}

static void test_an_attempt_ended_without_failing_is_not_counted(void **state)
{
    (void)state;
    struct loginlimit *ll = loginlimit_new(2, 15, 900, 3600);
    assert_non_null(ll);
    for (int round = 0; round < 10; round++) {
        assert_int_equal(loginlimit_begin(ll, KEY_A, 10), 1);
        assert_int_equal(loginlimit_begin(ll, KEY_A, 10), 1);
        assert_int_equal(loginlimit_begin(ll, KEY_A, 10), 0);
        loginlimit_end(ll, KEY_A, 10, 0);
        loginlimit_end(ll, KEY_A, 10, 0);
    }
    assert_true(loginlimit_allowed(ll, KEY_A, 10));
    /* An attempt in flight keeps its key's slot, however old its failures. */
    assert_int_equal(loginlimit_failed(ll, KEY_B, 10), 0);
    assert_int_equal(loginlimit_begin(ll, KEY_B, 20), 1);
    assert_int_equal(loginlimit_begin(ll, KEY_B, 5000), 1); /* the failure is forgotten */
    assert_int_equal(loginlimit_begin(ll, KEY_B, 5000), 0);
    loginlimit_end(ll, KEY_B, 5000, 1);
    loginlimit_end(ll, KEY_B, 5000, 1);
    assert_false(loginlimit_allowed(ll, KEY_B, 5000));
    assert_int_equal(loginlimit_begin(ll, KEY_A "x", 10), -1);
    loginlimit_free(ll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_schedule_is_free_then_doubles_up_to_the_cap),
        cmocka_unit_test(test_a_key_waits_after_its_free_failures),
        cmocka_unit_test(test_a_cleared_or_quiet_key_starts_over),
        cmocka_unit_test(test_a_key_longer_than_a_hash_is_refused),
        cmocka_unit_test(test_attempts_in_flight_count_as_failures),
        cmocka_unit_test(test_an_attempt_ended_without_failing_is_not_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
