/*
 * test_webhook_campaign: the optional "webhook" field of a campaign file
 * (docs/WEBHOOKS.md): defaults, the events list, and the exact wording of
 * each error in the documented "FILE: $.webhook.url: message" format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/campaign.h"

#include "core/banned.h"

#define BASE                                                                                       \
    "{\"slug\": \"docs-day\", \"title\": \"T\", "                                                  \
    "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "                       \
    "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"core\", \"kind\": \"bluesky\"}]"

#define SECRET "\"0123456789abcdef\""

static struct campaign *parse_ok(const char *webhook)
{
    char json[4096];
    snprintf(json, sizeof json, BASE ", \"webhook\": %s}", webhook);
    struct buf errors = BUF_INIT;
    struct campaign *c = NULL;
    if (campaign_parse(json, strlen(json), "f.json", &c, &errors) != 0)
        fail_msg("expected a valid campaign, got:\n%s", buf_cstr(&errors));
    buf_release(&errors);
    return c;
}

static void assert_errors(const char *webhook, const char *want)
{
    char json[4096];
    snprintf(json, sizeof json, BASE ", \"webhook\": %s}", webhook);
    struct buf errors = BUF_INIT;
    struct campaign *c = NULL;
    assert_int_equal(campaign_parse(json, strlen(json), "f.json", &c, &errors), -1);
    assert_null(c);
    assert_string_equal(buf_cstr(&errors), want);
    buf_release(&errors);
}

static void a_campaign_without_a_webhook_has_none(void **state)
{
    (void)state;
    const char *json = BASE "}";
    struct buf errors = BUF_INIT;
    struct campaign *c = NULL;
    assert_int_equal(campaign_parse(json, strlen(json), "f.json", &c, &errors), 0);
    assert_null(c->webhook.url);
    assert_null(c->webhook.secret);
    campaign_free(c);
    buf_release(&errors);
}

static void events_default_to_both(void **state)
{
    (void)state;
    struct campaign *c =
        parse_ok("{\"url\": \"https://hooks.example.org/muster\", \"secret\": " SECRET "}");
    assert_string_equal(c->webhook.url, "https://hooks.example.org/muster");
    assert_string_equal(c->webhook.secret, "0123456789abcdef");
    assert_int_equal(c->webhook.events, WEBHOOK_PLEDGE_CONFIRMED | WEBHOOK_ACTION_CLICKED);
    campaign_free(c);
}

static void events_can_be_narrowed(void **state)
{
    (void)state;
    struct campaign *c = parse_ok("{\"url\": \"http://localhost:9000/h?x=1\", \"secret\": " SECRET
                                  ", \"events\": [\"action.clicked\"]}");
    assert_int_equal(c->webhook.events, WEBHOOK_ACTION_CLICKED);
    campaign_free(c);
    c = parse_ok("{\"url\": \"https://127.0.0.1:8443/\", \"secret\": " SECRET
                 ", \"events\": [\"pledge.confirmed\", \"action.clicked\"]}");
    assert_int_equal(c->webhook.events, WEBHOOK_ALL_EVENTS);
    campaign_free(c);
}

static void url_must_be_http_or_https(void **state)
{
    (void)state;
    assert_errors("{\"url\": \"ftp://hooks.example.org/\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: expected an https:// (or http://) URL\n");
    assert_errors("{\"url\": \"file:///etc/passwd\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: expected an https:// (or http://) URL\n");
}

static void url_needs_a_host_and_no_spaces_or_fragment(void **state)
{
    (void)state;
    assert_errors("{\"url\": \"https://user:pw@hooks.example.org/\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: expected a host name after https://\n");
    assert_errors("{\"url\": \"https:///x\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: expected a host name after https://\n");
    assert_errors("{\"url\": \"https://hooks.example.org/a b\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: must not contain spaces or control characters\n");
    assert_errors("{\"url\": \"https://hooks.example.org/#x\", \"secret\": " SECRET "}",
                  "f.json: $.webhook.url: must not contain a fragment (#)\n");
}

static void url_and_secret_are_required(void **state)
{
    (void)state;
    assert_errors("{}", "f.json: $.webhook.url: missing required field\n"
                        "f.json: $.webhook.secret: missing required field\n");
    assert_errors("\"https://hooks.example.org/\"",
                  "f.json: $.webhook: expected an object, got a string\n");
}

static void secret_must_be_long_enough(void **state)
{
    (void)state;
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": \"short\"}",
                  "f.json: $.webhook.secret: too short: 5 characters, at least 16 (use a long "
                  "random string)\n");
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": 1234567890123456}",
                  "f.json: $.webhook.secret: expected a string, got an integer\n");
}

static void events_must_be_known_and_not_repeated(void **state)
{
    (void)state;
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": " SECRET
                  ", \"events\": [\"pledge.created\"]}",
                  "f.json: $.webhook.events[0]: unknown event; expected one of: "
                  "pledge.confirmed, action.clicked\n");
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": " SECRET
                  ", \"events\": []}",
                  "f.json: $.webhook.events: needs at least 1 entry\n");
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": " SECRET
                  ", \"events\": [\"action.clicked\", \"action.clicked\"]}",
                  "f.json: $.webhook.events[1]: duplicate event \"action.clicked\"\n");
}

static void unknown_webhook_fields_are_reported(void **state)
{
    (void)state;
    assert_errors("{\"url\": \"https://hooks.example.org/\", \"secret\": " SECRET
                  ", \"retries\": 3}",
                  "f.json: $.webhook.retries: unknown field; expected one of: url, secret, "
                  "events\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_campaign_without_a_webhook_has_none),
        cmocka_unit_test(events_default_to_both),
        cmocka_unit_test(events_can_be_narrowed),
        cmocka_unit_test(url_must_be_http_or_https),
        cmocka_unit_test(url_needs_a_host_and_no_spaces_or_fragment),
        cmocka_unit_test(url_and_secret_are_required),
        cmocka_unit_test(secret_must_be_long_enough),
        cmocka_unit_test(events_must_be_known_and_not_repeated),
        cmocka_unit_test(unknown_webhook_fields_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
