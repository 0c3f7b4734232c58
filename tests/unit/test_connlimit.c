/*
 * test_connlimit: the open-connection counts per client address of
 * src/http/connlimit.c: an address is refused at its limit and admitted again
 * when one of its connections closes, addresses are independent, IPv6
 * addresses count per /64, the exempt proxies and a limit of 0 are never
 * limited, and an entry is freed with its last connection (the sanitized
 * build's leak check sees it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "http/connlimit.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
    }
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void test_an_address_is_refused_at_its_limit_and_admitted_after_a_close(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(3, "");
    assert_non_null(cl);
    struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.2");
    struct connlimit_entry *held[3], *extra = NULL, *other = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(connlimit_full(cl, SA(a)), 0);
        assert_int_equal(connlimit_enter(cl, SA(a), &held[i]), 0);
        assert_non_null(held[i]);
    }
    assert_int_equal(connlimit_full(cl, SA(a)), 1);
    assert_int_equal(connlimit_enter(cl, SA(a), &extra), -1);
    assert_null(extra);
    assert_int_equal(connlimit_full(cl, SA(b)), 0); /* another address is not affected */
    assert_int_equal(connlimit_enter(cl, SA(b), &other), 0);
    connlimit_leave(cl, held[0]);
    assert_int_equal(connlimit_full(cl, SA(a)), 0);
    assert_int_equal(connlimit_enter(cl, SA(a), &held[0]), 0);
    for (int i = 0; i < 3; i++)
        connlimit_leave(cl, held[i]);
    connlimit_leave(cl, other);
    assert_int_equal(connlimit_full(cl, SA(a)), 0);
    connlimit_free(cl);
}

static void test_ipv6_addresses_count_per_64(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(2, "");
    assert_non_null(cl);
    struct sockaddr_storage a1 = addr("2001:db8:1:2::1"), a2 = addr("2001:db8:1:2:ffff::9");
    struct sockaddr_storage other = addr("2001:db8:1:3::1");
    struct connlimit_entry *e1, *e2, *e3 = NULL;
    assert_int_equal(connlimit_enter(cl, SA(a1), &e1), 0);
    assert_int_equal(connlimit_enter(cl, SA(a2), &e2), 0);
    assert_int_equal(connlimit_full(cl, SA(a1)), 1);
    assert_int_equal(connlimit_enter(cl, SA(a2), &e3), -1);
    assert_int_equal(connlimit_full(cl, SA(other)), 0);
    connlimit_leave(cl, e1);
    connlimit_leave(cl, e2);
    connlimit_free(cl);
}

static void test_exempt_proxies_and_no_limit_are_never_refused(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(1, " 192.0.2.7 , ::1");
    assert_non_null(cl);
    struct sockaddr_storage proxy = addr("192.0.2.7"), proxy6 = addr("::1");
    struct sockaddr_storage client = addr("192.0.2.8");
    for (int i = 0; i < 5; i++) {
        struct connlimit_entry *e = (struct connlimit_entry *)1;
        assert_int_equal(connlimit_enter(cl, SA(proxy), &e), 0);
        assert_null(e); /* not counted: nothing to leave */
        assert_int_equal(connlimit_enter(cl, SA(proxy6), &e), 0);
        assert_null(e);
    }
    struct connlimit_entry *c = NULL, *c2 = NULL;
    assert_int_equal(connlimit_enter(cl, SA(client), &c), 0);
    assert_int_equal(connlimit_enter(cl, SA(client), &c2), -1);
    connlimit_leave(cl, c);
    connlimit_leave(cl, NULL); /* an uncounted connection closing */
    connlimit_free(cl);

    struct connlimit *none = connlimit_new(0, "");
    assert_non_null(none);
    for (int i = 0; i < 5; i++) {
        struct connlimit_entry *e;
        assert_int_equal(connlimit_full(none, SA(client)), 0);
        assert_int_equal(connlimit_enter(none, SA(client), &e), 0);
        assert_null(e);
    }
    connlimit_free(none);
}

static void test_addresses_are_formatted(void **state)
{
    (void)state;
    char out[64];
    struct sockaddr_storage a = addr("192.0.2.1"), b = addr("2001:db8::5");
    connlimit_format(SA(a), out, sizeof out);
    assert_string_equal(out, "192.0.2.1");
    connlimit_format(SA(b), out, sizeof out);
    assert_string_equal(out, "2001:db8::5");
    connlimit_format(NULL, out, sizeof out);
    assert_string_equal(out, "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_address_is_refused_at_its_limit_and_admitted_after_a_close),
        cmocka_unit_test(test_ipv6_addresses_count_per_64),
        cmocka_unit_test(test_exempt_proxies_and_no_limit_are_never_refused),
        cmocka_unit_test(test_addresses_are_formatted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
