/*
 * test_webhook: what a webhook receiver relies on (docs/WEBHOOKS.md): the
 * signature over "<timestamp>.<body>" (known vectors, computed independently
 * with Python's hmac), the opaque supporter id, the exact JSON of each
 * payload, which events a campaign's webhook wants, and the backoff bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/token.h"
#include "webhooks/webhook.h"

#include "core/banned.h"

/* ---- HMAC and signature ---- */

static void hmac_matches_the_wikipedia_vector(void **state)
{
    (void)state;
    char out[WEBHOOK_HMAC_HEX + 1];
    const char *msg = "The quick brown fox jumps over the lazy dog";
    webhook_hmac_hex("key", 3, msg, strlen(msg), out);
    assert_string_equal(out, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

static void hmac_matches_rfc4231_case_6_a_key_longer_than_a_block(void **state)
{
    (void)state;
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    char out[WEBHOOK_HMAC_HEX + 1];
    webhook_hmac_hex(key, sizeof key, msg, strlen(msg), out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void signature_is_hmac_of_timestamp_dot_body(void **state)
{
    (void)state;
    /* python3: hmac.new(b"whsec_test_0123456789",
     *   b'1796482800.{"event":"pledge.confirmed"}', hashlib.sha256).hexdigest() */
    const char *body = "{\"event\":\"pledge.confirmed\"}";
    char sig[WEBHOOK_SIGNATURE_LEN + 1];
    webhook_signature("whsec_test_0123456789", 1796482800, body, strlen(body), sig);
    assert_string_equal(sig,
                        "sha256=a77119c0326cc4675d0703a6c3eb1f3155e6e298c44782182d4b944020e3d633");
}

static void signature_changes_with_the_timestamp_the_body_and_the_secret(void **state)
{
    (void)state;
    const char *body = "{\"event\":\"pledge.confirmed\"}";
    char a[WEBHOOK_SIGNATURE_LEN + 1], b[WEBHOOK_SIGNATURE_LEN + 1];
    webhook_signature("whsec_test_0123456789", 1796482800, body, strlen(body), a);
    webhook_signature("whsec_test_0123456789", 1796482801, body, strlen(body), b);
    assert_string_not_equal(a, b);
    webhook_signature("whsec_test_0123456789", 1796482800, body, strlen(body) - 1, b);
    assert_string_not_equal(a, b);
    webhook_signature("whsec_test_0123456780", 1796482800, body, strlen(body), b);
    assert_string_not_equal(a, b);
}

/* ---- supporter id ---- */

static void supporter_id_is_an_hmac_under_the_server_secret(void **state)
{
    (void)state;
    unsigned char secret[TOKEN_SECRET_LEN];
    memset(secret, 7, sizeof secret);
    assert_int_equal(token_init(secret), 0);
    char id[WEBHOOK_SUPPORTER_ID_LEN + 1];
    webhook_supporter_id(3, 42, id);
    /* python3: hmac.new(bytes(32*[7]), b"webhook.supporter:3:42",
     *   hashlib.sha256).hexdigest()[:32] */
    assert_string_equal(id, "aa3e933203ec97ccbc32b55a4186f683");
}

static void supporter_id_is_stable_and_differs_per_supporter_and_campaign(void **state)
{
    (void)state;
    unsigned char secret[TOKEN_SECRET_LEN];
    memset(secret, 9, sizeof secret);
    assert_int_equal(token_init(secret), 0);
    char a[WEBHOOK_SUPPORTER_ID_LEN + 1], b[WEBHOOK_SUPPORTER_ID_LEN + 1];
    webhook_supporter_id(1, 2, a);
    webhook_supporter_id(1, 2, b);
    assert_string_equal(a, b);
    webhook_supporter_id(1, 3, b);
    assert_string_not_equal(a, b);
    webhook_supporter_id(2, 2, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), WEBHOOK_SUPPORTER_ID_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), WEBHOOK_SUPPORTER_ID_LEN);
}

static void event_ids_are_random_hex(void **state)
{
    (void)state;
    char a[WEBHOOK_EVENT_ID_LEN + 1], b[WEBHOOK_EVENT_ID_LEN + 1];
    webhook_event_id(a);
    webhook_event_id(b);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a, "0123456789abcdef"), WEBHOOK_EVENT_ID_LEN);
    assert_int_equal(strlen(a), WEBHOOK_EVENT_ID_LEN);
}

/* ---- payloads ---- */

static void assert_payload(const struct webhook_payload *p, const char *want)
{
    struct buf out = BUF_INIT;
    assert_int_equal(webhook_payload_build(p, &out), 0);
    assert_string_equal(buf_cstr(&out), want);
    buf_release(&out);
}

static void pledge_confirmed_payload_has_no_target(void **state)
{
    (void)state;
    struct webhook_payload p = {
        WEBHOOK_PLEDGE_CONFIRMED,           "e1",     "docs-day", 1796482800,
        "aa3e933203ec97ccbc32b55a4186f683", "ignored"};
    assert_payload(&p, "{\"id\":\"e1\",\"event\":\"pledge.confirmed\",\"campaign\":\"docs-day\","
                       "\"occurred_at\":\"2026-12-05T15:00:00Z\","
                       "\"supporter\":{\"id\":\"aa3e933203ec97ccbc32b55a4186f683\"}}");
}

static void action_clicked_payload_names_the_target(void **state)
{
    (void)state;
    struct webhook_payload p = {WEBHOOK_ACTION_CLICKED, "e2", "docs-day", 1796482800, "s1",
                                "handbook-github"};
    assert_payload(&p, "{\"id\":\"e2\",\"event\":\"action.clicked\",\"campaign\":\"docs-day\","
                       "\"occurred_at\":\"2026-12-05T15:00:00Z\",\"supporter\":{\"id\":\"s1\"},"
                       "\"target\":\"handbook-github\"}");
}

static void action_clicked_without_a_target_says_null(void **state)
{
    (void)state;
    struct webhook_payload p = {WEBHOOK_ACTION_CLICKED, "e3", "c", 0, "s1", NULL};
    assert_payload(&p, "{\"id\":\"e3\",\"event\":\"action.clicked\",\"campaign\":\"c\","
                       "\"occurred_at\":\"1970-01-01T00:00:00Z\",\"supporter\":{\"id\":\"s1\"},"
                       "\"target\":null}");
}

static void payload_escapes_what_it_quotes(void **state)
{
    (void)state;
    struct webhook_payload p = {WEBHOOK_ACTION_CLICKED, "e4", "c", 0, "s1", "a\"b\\c\n"};
    assert_payload(&p, "{\"id\":\"e4\",\"event\":\"action.clicked\",\"campaign\":\"c\","
                       "\"occurred_at\":\"1970-01-01T00:00:00Z\",\"supporter\":{\"id\":\"s1\"},"
                       "\"target\":\"a\\\"b\\\\c\\n\"}");
}

static void payload_refuses_missing_fields_and_a_full_buffer(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    struct webhook_payload p = {WEBHOOK_PLEDGE_CONFIRMED, "e", NULL, 0, "s", NULL};
    assert_int_equal(webhook_payload_build(&p, &out), -1);
    struct webhook_payload ok = {WEBHOOK_PLEDGE_CONFIRMED, "e", "c", 0, "s", NULL};
    struct buf small;
    buf_init(&small, 16);
    assert_int_equal(webhook_payload_build(&ok, &small), -1);
    buf_release(&small);
    buf_release(&out);
}

/* ---- which events ---- */

static void webhook_wants_only_its_events(void **state)
{
    (void)state;
    char url[] = "https://hooks.example.org/x", secret[] = "0123456789abcdef";
    struct webhook_spec both = {url, secret, WEBHOOK_ALL_EVENTS};
    struct webhook_spec clicks = {url, secret, WEBHOOK_ACTION_CLICKED};
    struct webhook_spec none = {NULL, NULL, WEBHOOK_ALL_EVENTS};
    assert_true(webhook_wanted(&both, WEBHOOK_PLEDGE_CONFIRMED));
    assert_true(webhook_wanted(&both, WEBHOOK_ACTION_CLICKED));
    assert_false(webhook_wanted(&clicks, WEBHOOK_PLEDGE_CONFIRMED));
    assert_true(webhook_wanted(&clicks, WEBHOOK_ACTION_CLICKED));
    assert_false(webhook_wanted(&none, WEBHOOK_ACTION_CLICKED));
    assert_false(webhook_wanted(NULL, WEBHOOK_ACTION_CLICKED));
    assert_string_equal(webhook_event_name(WEBHOOK_PLEDGE_CONFIRMED), "pledge.confirmed");
    assert_string_equal(webhook_event_name(WEBHOOK_ACTION_CLICKED), "action.clicked");
}

/* ---- backoff ---- */

static void backoff_doubles_with_jitter_and_stops_at_ten_minutes(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        for (int attempt = 1; attempt <= WEBHOOK_MAX_ATTEMPTS + 2; attempt++) {
            int64_t base = WEBHOOK_BACKOFF_START_MS;
            for (int i = 1; i < attempt; i++)
                base = base * 2 > WEBHOOK_BACKOFF_CAP_MS ? WEBHOOK_BACKOFF_CAP_MS : base * 2;
            int64_t ms = webhook_backoff_ms(attempt, WEBHOOK_BACKOFF_START_MS);
            if (ms < base - base / 2 || ms > base)
                fail_msg("attempt %d: %lld ms outside [%lld, %lld]", attempt, (long long)ms,
                         (long long)(base - base / 2), (long long)base);
        }
    }
    assert_true(webhook_backoff_ms(1, WEBHOOK_BACKOFF_START_MS) <= 5000);
    assert_true(webhook_backoff_ms(1000, WEBHOOK_BACKOFF_START_MS) <= WEBHOOK_BACKOFF_CAP_MS);
    assert_true(webhook_backoff_ms(0, 100) <= 100);
    assert_true(webhook_backoff_ms(3, 100) <= 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmac_matches_the_wikipedia_vector),
        cmocka_unit_test(hmac_matches_rfc4231_case_6_a_key_longer_than_a_block),
        cmocka_unit_test(signature_is_hmac_of_timestamp_dot_body),
        cmocka_unit_test(signature_changes_with_the_timestamp_the_body_and_the_secret),
        cmocka_unit_test(supporter_id_is_an_hmac_under_the_server_secret),
        cmocka_unit_test(supporter_id_is_stable_and_differs_per_supporter_and_campaign),
        cmocka_unit_test(event_ids_are_random_hex),
        cmocka_unit_test(pledge_confirmed_payload_has_no_target),
        cmocka_unit_test(action_clicked_payload_names_the_target),
        cmocka_unit_test(action_clicked_without_a_target_says_null),
        cmocka_unit_test(payload_escapes_what_it_quotes),
        cmocka_unit_test(payload_refuses_missing_fields_and_a_full_buffer),
        cmocka_unit_test(webhook_wants_only_its_events),
        cmocka_unit_test(backoff_doubles_with_jitter_and_stops_at_ten_minutes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
