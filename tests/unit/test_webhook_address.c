/*
 * test_webhook_address: where a webhook may connect (SSRF), as a table of
 * IPv4 and IPv6 addresses: public ones pass, loopback, private, link-local,
 * unique-local, unspecified, multicast and reserved ones are refused, also
 * when wrapped in an IPv4-mapped, NAT64 or 6to4 address. Then webhook_route
 * on literal hosts (no DNS needed): refused, allowed with
 * MUSTER_WEBHOOK_ALLOW_PRIVATE, and the CURLOPT_RESOLVE pin it produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "webhooks/webhook.h"

#include "core/banned.h"

struct row {
    const char *address;
    const char *refusal; /* NULL: allowed; else a word the reason must contain */
};

static const struct row table[] = {
    /* IPv4: public */
    {"93.184.216.34", NULL},
    {"8.8.8.8", NULL},
    {"1.1.1.1", NULL},
    {"172.15.255.255", NULL}, /* just below 172.16/12 */
    {"172.32.0.0", NULL},     /* just above */
    {"192.167.255.255", NULL},
    {"192.169.0.0", NULL},
    {"100.63.255.255", NULL},
    {"100.128.0.0", NULL},
    {"169.253.255.255", NULL},
    {"223.255.255.255", NULL},
    {"11.0.0.1", NULL},
    {"126.255.255.255", NULL},
    {"128.0.0.1", NULL},
    /* IPv4: refused */
    {"127.0.0.1", "loopback"},
    {"127.255.255.254", "loopback"},
    {"10.0.0.1", "private"},
    {"10.255.255.255", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"192.168.0.1", "private"},
    {"192.168.255.255", "private"},
    {"169.254.169.254", "link-local"}, /* cloud metadata */
    {"169.254.0.1", "link-local"},
    {"0.0.0.0", "unspecified"},
    {"0.1.2.3", "unspecified"},
    {"100.64.0.1", "shared"},
    {"100.127.255.255", "shared"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"240.0.0.1", "reserved"},
    {"255.255.255.255", "broadcast"},
    {"192.0.0.8", "IETF"},
    {"192.0.2.1", "documentation"},
    {"198.51.100.7", "documentation"},
    {"203.0.113.9", "documentation"},
    {"198.18.0.1", "benchmarking"},
    {"198.19.255.255", "benchmarking"},
    /* IPv6: public */
    {"2606:4700:4700::1111", NULL},
    {"2001:4860:4860::8888", NULL},
    {"2a00:1450:4001:82a::200e", NULL},
    {"::ffff:8.8.8.8", NULL},   /* IPv4-mapped public */
    {"64:ff9b::808:808", NULL}, /* NAT64 of 8.8.8.8 */
    {"2002:808:808::1", NULL},  /* 6to4 of 8.8.8.8 */
    {"fbff:ffff::1", NULL},     /* just below fc00::/7 */
    {"fe00::1", NULL},          /* between fc00::/7 and fe80::/10 */
    /* IPv6: refused */
    {"::1", "loopback"},
    {"::", "unspecified"},
    {"fe80::1", "link-local"},
    {"febf:ffff::1", "link-local"},
    {"fec0::1", "site-local"},
    {"fc00::1", "unique-local"},
    {"fd12:3456:789a::1", "unique-local"},
    {"ff02::1", "multicast"},
    {"ff05::1:3", "multicast"},
    {"2001:db8::1", "documentation"},
    {"100::1", "discard"},
    {"2001:0:4136:e378::1", "Teredo"},
    {"64:ff9b:1::a00:1", "NAT64"},
    /* IPv4 inside IPv6 */
    {"::ffff:127.0.0.1", "loopback"},
    {"::ffff:10.1.2.3", "private"},
    {"::ffff:169.254.169.254", "link-local"},
    {"::ffff:192.168.1.1", "private"},
    {"::ffff:0.0.0.0", "unspecified"},
    {"::ffff:224.0.0.1", "multicast"},
    {"64:ff9b::7f00:1", "loopback"}, /* NAT64 of 127.0.0.1 */
    {"64:ff9b::a00:1", "private"},   /* NAT64 of 10.0.0.1 */
    {"2002:7f00:1::1", "loopback"},  /* 6to4 of 127.0.0.1 */
    {"2002:c0a8:101::1", "private"}, /* 6to4 of 192.168.1.1 */
    {"::127.0.0.1", "IPv4-compatible"},
    {"::10.0.0.1", "IPv4-compatible"},
    {"::8.8.8.8", "IPv4-compatible"},
};

static void classify(const char *text, const char **why)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
    } else {
        fail_msg("the test table has a bad address: %s", text);
    }
    *why = webhook_address_refusal((const struct sockaddr *)&ss);
}

static void addresses_are_judged_as_the_table_says(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *why;
        classify(table[i].address, &why);
        if (!table[i].refusal && why) {
            print_error("%s: refused (%s), should be allowed\n", table[i].address, why);
            bad++;
        } else if (table[i].refusal && !why) {
            print_error("%s: allowed, should be refused (%s)\n", table[i].address,
                        table[i].refusal);
            bad++;
        } else if (table[i].refusal && !strstr(why, table[i].refusal)) {
            print_error("%s: refused as \"%s\", expected \"%s\"\n", table[i].address, why,
                        table[i].refusal);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void other_families_are_refused(void **state)
{
    (void)state;
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    assert_non_null(webhook_address_refusal(&sa));
}

static void route_refuses_a_loopback_literal(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    assert_int_equal(webhook_route("http://127.0.0.1:9/hook", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_non_null(strstr(err, "refused"));
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_non_null(strstr(err, "loopback"));
    assert_non_null(strstr(err, "MUSTER_WEBHOOK_ALLOW_PRIVATE"));
    assert_int_equal(
        webhook_route("https://169.254.169.254/latest/meta-data", 0, &r, err, sizeof err),
        WEBHOOK_ROUTE_REFUSED);
    assert_non_null(strstr(err, "link-local"));
    assert_int_equal(webhook_route("http://[::1]:8080/", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_int_equal(webhook_route("http://[::ffff:127.0.0.1]/", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
}

static void route_allows_private_when_told_and_pins_the_address(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    assert_int_equal(webhook_route("http://127.0.0.1:8080/hook?x=1", 1, &r, err, sizeof err),
                     WEBHOOK_ROUTE_OK);
    assert_string_equal(r.host, "127.0.0.1");
    assert_int_equal(r.port, 8080);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.addresses[0], "127.0.0.1");
    assert_string_equal(r.resolve, ""); /* a literal: pinned by the socket check */
    assert_int_equal(webhook_route("http://[::1]/", 1, &r, err, sizeof err), WEBHOOK_ROUTE_OK);
    assert_string_equal(r.host, "::1");
    assert_int_equal(r.port, 80);
    assert_string_equal(r.addresses[0], "::1");
}

static void route_pins_a_name_to_its_checked_addresses(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    /* "localhost" comes from /etc/hosts, no DNS needed; it is loopback only. */
    assert_int_equal(webhook_route("http://localhost:8080/h", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_non_null(strstr(err, "refused: localhost resolves to"));
    assert_int_equal(webhook_route("http://localhost:8080/h", 1, &r, err, sizeof err),
                     WEBHOOK_ROUTE_OK);
    assert_true(r.count >= 1);
    assert_int_equal(strncmp(r.resolve, "localhost:8080:", 15), 0);
    for (int i = 0; i < r.count; i++) {
        assert_non_null(strstr(r.resolve, r.addresses[i]));
        if (strchr(r.addresses[i], ':')) {
            char bracketed[70];
            snprintf(bracketed, sizeof bracketed, "[%s]", r.addresses[i]);
            assert_non_null(strstr(r.resolve, bracketed));
        }
    }
}

static void route_allows_a_public_literal_and_takes_default_ports(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    assert_int_equal(webhook_route("https://93.184.216.34/x", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_OK);
    assert_int_equal(r.port, 443);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.addresses[0], "93.184.216.34");
}

static void route_refuses_other_schemes_and_bad_urls(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    assert_int_equal(webhook_route("ftp://93.184.216.34/x", 1, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_int_equal(webhook_route("file:///etc/passwd", 1, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_int_equal(webhook_route("gopher://93.184.216.34/", 1, &r, err, sizeof err),
                     WEBHOOK_ROUTE_REFUSED);
    assert_int_equal(webhook_route("not a url", 1, &r, err, sizeof err), WEBHOOK_ROUTE_REFUSED);
}

static void route_retries_a_name_that_does_not_resolve(void **state)
{
    (void)state;
    struct webhook_route r;
    char err[400];
    /* .invalid never resolves (RFC 6761). */
    assert_int_equal(webhook_route("https://muster-test.invalid/x", 0, &r, err, sizeof err),
                     WEBHOOK_ROUTE_RETRY);
    assert_non_null(strstr(err, "muster-test.invalid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_are_judged_as_the_table_says),
        cmocka_unit_test(other_families_are_refused),
        cmocka_unit_test(route_refuses_a_loopback_literal),
        cmocka_unit_test(route_allows_private_when_told_and_pins_the_address),
        cmocka_unit_test(route_pins_a_name_to_its_checked_addresses),
        cmocka_unit_test(route_allows_a_public_literal_and_takes_default_ports),
        cmocka_unit_test(route_refuses_other_schemes_and_bad_urls),
        cmocka_unit_test(route_retries_a_name_that_does_not_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
