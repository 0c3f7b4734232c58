/*
 * test_pacing: the per-domain limits of src/mail/pacing.c: the rules file
 * (good lines, comments, and each kind of bad line with the file:line error),
 * the built-in defaults and how a file's rule replaces them, the shared
 * limit of a comma group, `*`, routes from relay=, the token bucket, the
 * connection limit, and the backoff on a 421/450/451 about a recipient
 * (halving, doubling stops with their cap, one step for the messages already
 * out, recovery), not on other codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/pacing.h"

static struct pacing *parse(const char *text)
{
    char err[256] = "";
    struct pacing *p = pacing_parse(text, text ? strlen(text) : 0, "limits.conf", err, sizeof err);
    if (!p)
        fail_msg("refused: %s", err);
    return p;
}

/* The error for text, which must be refused. */
static const char *refused(const char *text)
{
    static char err[256];
    err[0] = '\0';
    struct pacing *p = pacing_parse(text, strlen(text), "limits.conf", err, sizeof err);
    if (p) {
        pacing_free(p);
        fail_msg("accepted: %s", text);
    }
    return err;
}

static void test_bad_lines_are_refused_with_file_line_and_reason(void **state)
{
    (void)state;
    assert_string_equal(refused("# ok\nexample.org rate=abc\n"),
                        "limits.conf:2: rate: expected messages per second from 0 (no limit) to "
                        "1000000, got 'abc'");
    assert_string_equal(refused("example.org connections=0\n"),
                        "limits.conf:1: connections: expected a whole number from 1 to 1000, got "
                        "'0'");
    assert_string_equal(refused("\n\nexample.org speed=3\n"),
                        "limits.conf:3: unknown setting 'speed' (expected connections, rate or "
                        "relay)");
    assert_string_equal(refused("exa mple.org\n"),
                        "limits.conf:1: expected connections=N, rate=R or relay=smtp://host:port, "
                        "got 'mple.org'");
    assert_string_equal(refused("ex_ample.org rate=1\n"),
                        "limits.conf:1: 'ex_ample.org' is not a domain");
    assert_string_equal(refused("a.test rate=1\nb.test,A.TEST rate=2\n"),
                        "limits.conf:2: a.test already has a rule (line 1)");
    assert_string_equal(refused("* rate=1\n*\n"),
                        "limits.conf:2: a second '*' rule (the first is on line 1)");
    assert_string_equal(refused("a.test,* rate=1\n"),
                        "limits.conf:1: '*' stands alone, not in a list of domains");
    assert_string_equal(refused("a.test relay=smtps://relay.example:465\n"),
                        "limits.conf:1: relay: expected a plain smtp://host:port URL (no login, "
                        "no TLS), got 'smtps://relay.example:465'");
    assert_string_equal(refused("a.test relay=smtp://user:pw@relay.example:25\n"),
                        "limits.conf:1: relay: expected a plain smtp://host:port URL (no login, "
                        "no TLS), got 'smtp://user:pw@relay.example:25'");
    assert_string_equal(refused("a.test rate=-1\n"),
                        "limits.conf:1: rate: expected messages per second from 0 (no limit) to "
                        "1000000, got '-1'");
    assert_string_equal(refused("a.test rate=1 rate=2\n"), "limits.conf:1: rate given twice");
    assert_string_equal(refused(",\n"),
                        "limits.conf:1: a rule begins with its domains (comma-separated) or '*'");
}

static void test_a_good_file_with_comments_blank_lines_and_decimals(void **state)
{
    (void)state;
    struct pacing *p = parse("# the bench domains\n"
                             "\n"
                             "   a.test   connections=3 rate=2.5   # slow\r\n"
                             "b.test,C.Test rate=0\n"
                             "\t* connections=7\n");
    struct pacing_domain *a = pacing_lookup(p, "A.TEST");
    assert_non_null(a);
    assert_string_equal(pacing_domain_name(a), "a.test");
    assert_true(pacing_domain_rate(a) == 2.5);
    assert_int_equal(pacing_route_count(p), 1);
    assert_true(pacing_domain_rate(pacing_lookup(p, "b.test")) == 0);
    pacing_free(p);
}

static void test_builtin_defaults_and_a_files_rule_replacing_one_domain(void **state)
{
    (void)state;
    struct pacing *d = parse(NULL);
    struct pacing_domain *gmail = pacing_lookup(d, "gmail.com");
    assert_true(pacing_domain_rate(gmail) > 0);
    assert_ptr_equal(pacing_lookup(d, "googlemail.com"), gmail); /* one group, one limit */
    assert_true(pacing_domain_rate(pacing_lookup(d, "hotmail.com")) > 0);
    assert_true(pacing_domain_rate(pacing_lookup(d, "example.org")) == 0); /* `*`: none */
    pacing_free(d);

    struct pacing *p = parse("gmail.com rate=3\n* rate=9\n");
    gmail = pacing_lookup(p, "gmail.com");
    assert_true(pacing_domain_rate(gmail) == 3);
    struct pacing_domain *googlemail = pacing_lookup(p, "googlemail.com");
    assert_ptr_not_equal(googlemail, gmail); /* the default group less gmail.com */
    assert_string_equal(pacing_domain_name(googlemail), "googlemail.com");
    assert_true(pacing_domain_rate(googlemail) > 0 && pacing_domain_rate(googlemail) != 3);
    assert_true(pacing_domain_rate(pacing_lookup(p, "example.org")) == 9); /* the file's `*` */
    pacing_free(p);
}

static void test_a_comma_group_shares_one_limit_and_star_is_per_domain(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test,b.test connections=2 rate=0\n* connections=1\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test"), *b = pacing_lookup_address(p, "x@B.test");
    assert_ptr_equal(a, b);
    pacing_start(a, 1000);
    assert_int_equal(pacing_wait_ms(b, 1000, 0), 0);
    pacing_start(b, 1000);
    assert_int_equal(pacing_wait_ms(a, 1000, 0), PACING_FULL); /* two in flight over the group */
    pacing_done(a, 1000, 1001, 1, 0);
    assert_int_equal(pacing_wait_ms(b, 1001, 0), 0);
    /* `*`: each other domain on its own */
    struct pacing_domain *x = pacing_lookup(p, "x.test"), *y = pacing_lookup(p, "y.test");
    assert_ptr_not_equal(x, y);
    assert_ptr_equal(pacing_lookup(p, "X.TEST"), x);
    assert_string_equal(pacing_domain_name(x), "x.test");
    pacing_start(x, 1000);
    assert_int_equal(pacing_wait_ms(x, 1000, 0), PACING_FULL);
    assert_int_equal(pacing_wait_ms(y, 1000, 0), 0);
    /* exact match only */
    assert_ptr_not_equal(pacing_lookup(p, "sub.a.test"), a);
    pacing_free(p);
}

static void test_relays_are_routes(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test relay=smtp://127.0.0.1:2601 connections=4\n"
                             "b.test relay=smtp://127.0.0.1:2602\n"
                             "c.test relay=smtp://127.0.0.1:2601 connections=6\n");
    assert_int_equal(pacing_route_count(p), 3);
    assert_null(pacing_route_relay(p, 0));
    assert_string_equal(pacing_route_relay(p, 1), "smtp://127.0.0.1:2601");
    assert_string_equal(pacing_route_relay(p, 2), "smtp://127.0.0.1:2602");
    assert_int_equal(pacing_route_connections(p, 1), 6);
    assert_int_equal(pacing_route_connections(p, 2), 0);
    assert_int_equal(pacing_domain_route(pacing_lookup(p, "a.test")), 1);
    assert_int_equal(pacing_domain_route(pacing_lookup(p, "c.test")), 1);
    assert_int_equal(pacing_domain_route(pacing_lookup(p, "b.test")), 2);
    assert_int_equal(pacing_domain_route(pacing_lookup(p, "d.test")), 0);
    pacing_free(p);
}

static void test_the_bucket_holds_a_second_and_refills_at_the_rate(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test rate=4\nb.test rate=0.5\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test");
    int64_t t = 1000000;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pacing_wait_ms(a, t, 0), 0);
        pacing_start(a, t);
        pacing_done(a, t, t, 1, 0);
    }
    assert_int_equal(pacing_wait_ms(a, t, 0), 250);
    assert_int_equal(pacing_wait_ms(a, t, 3), 1000); /* three queued ahead of it */
    assert_int_equal(pacing_wait_ms(a, t + 250, 0), 0);
    /* idle for long: still one second's worth, no more */
    assert_int_equal(pacing_wait_ms(a, t + 60000, 3), 0);
    assert_int_equal(pacing_wait_ms(a, t + 60000, 4), 250);
    /* below 1/s: a burst of 1 */
    struct pacing_domain *b = pacing_lookup(p, "b.test");
    assert_int_equal(pacing_wait_ms(b, t, 0), 0);
    pacing_start(b, t);
    assert_int_equal(pacing_wait_ms(b, t, 0), 2000);
    pacing_free(p);
}

static void test_backoff_halves_the_rate_and_doubles_its_stop_up_to_the_cap(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test rate=100\nb.test rate=100\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test"), *b = pacing_lookup(p, "b.test");
    int64_t t = 1000000;
    pacing_start(a, t);
    pacing_done(a, t, t + 10, 0, 421);
    assert_true(pacing_domain_rate(a) == 50);
    assert_int_equal(pacing_domain_level(a), 1);
    assert_int_equal(pacing_domain_paused_until(a), t + 10 + 1000);
    assert_true(pacing_wait_ms(a, t + 20, 0) >= 990);
    /* the other domain keeps its speed */
    assert_int_equal(pacing_wait_ms(b, t + 20, 0), 0);
    assert_true(pacing_domain_rate(b) == 100);
    int64_t now = t + 10;
    for (int step = 2; step <= 12; step++) {
        now += 5000;
        pacing_start(a, now);
        pacing_done(a, now, now + 1, 0, step % 2 ? 450 : 451);
        int64_t expect_s = step >= 10 ? 300 : (int64_t)1 << (step - 1);
        assert_int_equal(pacing_domain_paused_until(a), now + 1 + expect_s * 1000);
    }
    assert_true(pacing_domain_rate(a) == 1); /* floor 1/s */
    pacing_free(p);
}

static void test_replies_that_are_not_throttling_do_not_back_off(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test rate=100\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test");
    /* 0: no reply about the recipient (connection refused, a timeout, a 421 to
     * MAIL FROM: about our sender or the relay); other 4xx codes */
    const int codes[] = {0, 452, 400, 454, 499, 4210};
    for (int i = 0; i < (int)(sizeof codes / sizeof codes[0]); i++) {
        pacing_start(a, 1000 + i);
        pacing_done(a, 1000 + i, 1000 + i, 0, codes[i]);
    }
    assert_int_equal(pacing_domain_level(a), 0);
    assert_true(pacing_domain_rate(a) == 100);
    assert_int_equal(pacing_domain_in_flight(a), 0);
    pacing_free(p);
}

static void test_messages_already_out_count_in_the_same_step(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test rate=0\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test");
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        pacing_start(a, t);
    pacing_done(a, t, t + 5, 0, 421);
    /* no rate limit and none observed yet: from 50/s, halved */
    assert_true(pacing_domain_rate(a) == PACING_UNLIMITED_START_RATE / 2);
    /* the two others on the closed connection: the same step */
    pacing_done(a, t, t + 6, 0, 421);
    pacing_done(a, t, t + 6, 0, 421);
    assert_int_equal(pacing_domain_level(a), 1);
    assert_int_equal(pacing_domain_in_flight(a), 0);
    pacing_free(p);
}

static void test_successes_after_the_stop_recover_rate_and_level(void **state)
{
    (void)state;
    struct pacing *p = parse("a.test rate=100\n");
    struct pacing_domain *a = pacing_lookup(p, "a.test");
    int64_t t = 1000000;
    pacing_start(a, t);
    pacing_done(a, t, t, 0, 421);
    pacing_start(a, t + 1);
    pacing_done(a, t + 1, t + 2, 0, 421);
    assert_int_equal(pacing_domain_level(a), 2);
    assert_true(pacing_domain_rate(a) == 25);
    /* a success during the stop (sent before it) changes nothing */
    pacing_done(a, t - 1, t + 3, 1, 0);
    assert_int_equal(pacing_domain_level(a), 2);
    int64_t after = pacing_domain_paused_until(a);
    assert_int_equal(pacing_wait_ms(a, after - 1, 0), 1 + 40); /* the stop, then a token at 25/s */
    double last = pacing_domain_rate(a);
    for (int i = 0; i < 40; i++) {
        pacing_start(a, after + i);
        pacing_done(a, after + i, after + i, 1, 0);
        assert_true(pacing_domain_rate(a) >= last);
        last = pacing_domain_rate(a);
    }
    assert_int_equal(pacing_domain_level(a), 0);
    assert_true(pacing_domain_rate(a) == 100); /* back to the configured rate */
    pacing_free(p);
}

static void test_a_file_is_read_and_a_missing_one_named(void **state)
{
    (void)state;
    char path[] = "/tmp/muster-pacing-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("a.test rate=7\nb.test rate=x\n", f);
    fclose(f);
    char err[256] = "";
    assert_null(pacing_load(path, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want,
             "%s:2: rate: expected messages per second from 0 (no limit) to 1000000, got 'x'",
             path);
    assert_string_equal(err, want);
    remove(path);
    assert_null(pacing_load(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
    struct pacing *d = pacing_load(NULL, err, sizeof err);
    assert_non_null(d);
    pacing_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_lines_are_refused_with_file_line_and_reason),
        cmocka_unit_test(test_a_good_file_with_comments_blank_lines_and_decimals),
        cmocka_unit_test(test_builtin_defaults_and_a_files_rule_replacing_one_domain),
        cmocka_unit_test(test_a_comma_group_shares_one_limit_and_star_is_per_domain),
        cmocka_unit_test(test_relays_are_routes),
        cmocka_unit_test(test_the_bucket_holds_a_second_and_refills_at_the_rate),
        cmocka_unit_test(test_backoff_halves_the_rate_and_doubles_its_stop_up_to_the_cap),
        cmocka_unit_test(test_replies_that_are_not_throttling_do_not_back_off),
        cmocka_unit_test(test_messages_already_out_count_in_the_same_step),
        cmocka_unit_test(test_successes_after_the_stop_recover_rate_and_level),
        cmocka_unit_test(test_a_file_is_read_and_a_missing_one_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
