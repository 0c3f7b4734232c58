/*
 * test_campaign: the campaign file format (src/campaign/campaign.c) as
 * docs/CAMPAIGN.md states it: required fields, defaults, the fields of each target
 * kind, the exact wording and format of every error, that every error is
 * listed, launch times across DST, and the canonical JSON used to tell whether
 * a re-applied file changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "campaign/campaign.h"

/* Top-level fields of a minimal valid campaign, without targets. */
#define BASE                                                                                       \
    "\"slug\": \"docs-day\", \"title\": \"Ask for offline documentation\", "                       \
    "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"America/New_York\"}, "          \
    "\"message\": {\"title\": \"Please ship offline docs\", \"body\": \"We ask.\\n-- {{name}}\"}"

#define MINIMAL "{" BASE ", \"targets\": [{\"id\": \"core\", \"kind\": \"bluesky\"}]}"

static const char *const full_example =
    "{\n"
    "  \"slug\": \"docs-day\",\n"
    "  \"title\": \"Ask for offline documentation\",\n"
    "  \"description\": \"Plain text.\\n\\nSecond paragraph.\",\n"
    "  \"organizer\": {\"name\": \"Docs Collective\", \"email\": \"team@example.org\"},\n"
    "  \"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"America/New_York\", "
    "\"window_minutes\": 90},\n"
    "  \"message\": {\"title\": \"Please ship offline docs\", \"body\": \"We ask "
    "...\\n\\n{{#statement}}{{statement}}\\n{{/statement}}-- {{name}}\"},\n"
    "  \"statement\": {\"enabled\": true, \"max_chars\": 500, \"prompt\": \"Why?\"},\n"
    "  \"assignment\": \"choose\",\n"
    "  \"targets\": [\n"
    "    {\"id\": \"core\", \"kind\": \"github_issue\", \"repo\": \"example/core\", \"labels\": "
    "[\"docs\", \"help wanted\"], \"template\": \"request.md\", \"cap\": 500, \"label\": \"Core "
    "repo\"},\n"
    "    {\"id\": \"lab\", \"kind\": \"gitlab_issue\", \"project_url\": "
    "\"https://gitlab.example.org/docs/handbook/\"},\n"
    "    {\"id\": \"office\", \"kind\": \"email\", \"to\": [\"maintainers@example.org\"], \"cc\": "
    "[\"a@example.org\"], \"bcc\": [\"b@example.org\", \"c@example.org\"]},\n"
    "    {\"id\": \"phone\", \"kind\": \"call\", \"number\": \"+4930123456\", \"script\": \"Hello, "
    "I am {{name}}.\"},\n"
    "    {\"id\": \"toot\", \"kind\": \"mastodon\", \"instance\": \"mastodon.social\"},\n"
    "    {\"id\": \"sky\", \"kind\": \"bluesky\"},\n"
    "    {\"id\": \"tweet\", \"kind\": \"x\"},\n"
    "    {\"id\": \"form\", \"kind\": \"web\", \"url\": "
    "\"https://example.org/feedback?who={{name}}&why={{ statement }}\"}\n"
    "  ],\n"
    "  \"fallback\": [\"office\", \"core\"],\n"
    "  \"close_after_reports\": 5,\n"
    "  \"closed_message\": \"Every target has closed. Thank you for showing up.\"\n"
    "}\n";

static struct campaign *parse_ok(const char *json)
{
    struct buf errors = BUF_INIT;
    struct campaign *c = NULL;
    int rc = campaign_parse(json, strlen(json), "docs-day.json", &c, &errors);
    if (rc != 0)
        fail_msg("expected a valid campaign, got:\n%s", buf_cstr(&errors));
    assert_non_null(c);
    assert_int_equal(errors.len, 0);
    buf_release(&errors);
    return c;
}

/* Parses json expecting failure; returns the error text (caller frees). */
static char *parse_errors(const char *json)
{
    struct buf errors = BUF_INIT;
    struct campaign *sentinel = (struct campaign *)&errors; /* must stay untouched */
    struct campaign *c = sentinel;
    assert_int_equal(campaign_parse(json, strlen(json), "f.json", &c, &errors), -1);
    assert_ptr_equal(c, sentinel);
    assert_true(errors.len > 0);
    assert_int_equal(errors.data[errors.len - 1], '\n');
    return buf_detach(&errors);
}

/* Asserts that the errors of json are exactly want (all lines, in order). */
static void assert_errors(const char *json, const char *want)
{
    char *got = parse_errors(json);
    assert_string_equal(got, want);
    free(got);
}

/* Asserts json fails with, among its errors, the whole line want. */
static void assert_error_line(const char *json, const char *want)
{
    char *got = parse_errors(json);
    size_t n = strlen(want);
    for (const char *p = got; *p;) {
        const char *nl = strchr(p, '\n');
        if ((size_t)(nl - p) == n && memcmp(p, want, n) == 0) {
            free(got);
            return;
        }
        p = nl + 1;
    }
    fail_msg("line \"%s\" not among the errors:\n%s", want, got);
}

/* A campaign with the base fields and the given targets array body. */
static char *with_targets(const char *targets)
{
    size_t n = strlen(BASE) + strlen(targets) + 32;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "{%s, \"targets\": [%s]}", BASE, targets);
    return s;
}

static void assert_target_error(const char *targets, const char *want)
{
    char *json = with_targets(targets);
    assert_errors(json, want);
    free(json);
}

static const struct target_spec *parse_target_ok(const char *target, struct campaign **c)
{
    char *json = with_targets(target);
    *c = parse_ok(json);
    free(json);
    assert_int_equal((*c)->target_count, 1);
    return &(*c)->targets[0];
}

/* A campaign with the base fields and one extra top-level "key": value. */
static char *with_field(const char *field)
{
    size_t n = strlen(BASE) + strlen(field) + 128;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "{%s, \"targets\": [{\"id\": \"core\", \"kind\": \"bluesky\"}], %s}", BASE,
             field);
    return s;
}

static void assert_field_error(const char *field, const char *want)
{
    char *json = with_field(field);
    assert_errors(json, want);
    free(json);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

/* ---- valid files and defaults ------------------------------------------ */

static void minimal_file_parses(void **state)
{
    struct campaign *c = parse_ok(MINIMAL);
    assert_string_equal(c->slug, "docs-day");
    assert_string_equal(c->title, "Ask for offline documentation");
    assert_string_equal(c->launch_at, "2026-12-05T10:00:00");
    assert_string_equal(c->timezone, "America/New_York");
    assert_string_equal(c->message_title, "Please ship offline docs");
    assert_string_equal(c->message_body, "We ask.\n-- {{name}}");
    assert_int_equal(c->target_count, 1);
    assert_string_equal(c->targets[0].id, "core");
    assert_int_equal(c->targets[0].kind, TARGET_BLUESKY);
    campaign_free(c);
}

static void defaults_are_filled_in(void **state)
{
    struct campaign *c = parse_ok(MINIMAL);
    assert_string_equal(c->description, "");
    assert_null(c->organizer_name);
    assert_null(c->organizer_email);
    assert_int_equal(c->window_minutes, 120);
    assert_int_equal(c->statement_enabled, 0);
    assert_int_equal(c->statement_max_chars, 1000);
    assert_string_equal(c->statement_prompt, "Why this matters to you");
    assert_int_equal(c->assignment, ASSIGN_BALANCED);
    assert_int_equal(c->close_after_reports, 0);
    assert_string_equal(c->closed_message,
                        "Every target has closed for now. Thank you for showing up.");
    assert_null(c->targets[0].label);
    assert_int_equal(c->targets[0].cap, -1);
    campaign_free(c);
}

static void default_fallback_is_every_target_in_file_order(void **state)
{
    char *json = with_targets("{\"id\": \"b\", \"kind\": \"x\"}, {\"id\": \"a\", \"kind\": "
                              "\"bluesky\"}, {\"id\": \"c\", \"kind\": \"mastodon\"}");
    struct campaign *c = parse_ok(json);
    free(json);
    assert_int_equal(c->fallback.count, 3);
    assert_string_equal(c->fallback.items[0], "b");
    assert_string_equal(c->fallback.items[1], "a");
    assert_string_equal(c->fallback.items[2], "c");
    campaign_free(c);
}

static void message_with_only_a_body_has_an_empty_title(void **state)
{
    struct campaign *c = parse_ok("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": "
                                  "{\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                                  "\"x\"}]}");
    assert_string_equal(c->message_title, "");
    assert_string_equal(c->message_body, "B");
    campaign_free(c);
}

static void message_with_only_a_title_has_an_empty_body(void **state)
{
    struct campaign *c = parse_ok("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": "
                                  "{\"title\": \"T\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                                  "\"x\"}]}");
    assert_string_equal(c->message_title, "T");
    assert_string_equal(c->message_body, "");
    campaign_free(c);
}

static void full_example_parses_every_field(void **state)
{
    struct campaign *c = parse_ok(full_example);
    assert_string_equal(c->description, "Plain text.\n\nSecond paragraph.");
    assert_string_equal(c->organizer_name, "Docs Collective");
    assert_string_equal(c->organizer_email, "team@example.org");
    assert_int_equal(c->window_minutes, 90);
    assert_int_equal(c->statement_enabled, 1);
    assert_int_equal(c->statement_max_chars, 500);
    assert_string_equal(c->statement_prompt, "Why?");
    assert_int_equal(c->assignment, ASSIGN_CHOOSE);
    assert_int_equal(c->close_after_reports, 5);
    assert_string_equal(c->closed_message, "Every target has closed. Thank you for showing up.");
    assert_int_equal(c->target_count, 8);

    const struct target_spec *t = campaign_target(c, "core");
    assert_non_null(t);
    assert_int_equal(t->kind, TARGET_GITHUB_ISSUE);
    assert_string_equal(t->repo, "example/core");
    assert_int_equal(t->labels.count, 2);
    assert_string_equal(t->labels.items[1], "help wanted");
    assert_string_equal(t->issue_template, "request.md");
    assert_int_equal(t->cap, 500);
    assert_string_equal(t->label, "Core repo");

    t = campaign_target(c, "lab");
    assert_int_equal(t->kind, TARGET_GITLAB_ISSUE);
    assert_string_equal(t->project_url, "https://gitlab.example.org/docs/handbook");

    t = campaign_target(c, "office");
    assert_int_equal(t->kind, TARGET_EMAIL);
    assert_int_equal(t->to.count, 1);
    assert_string_equal(t->to.items[0], "maintainers@example.org");
    assert_int_equal(t->cc.count, 1);
    assert_int_equal(t->bcc.count, 2);
    assert_string_equal(t->bcc.items[1], "c@example.org");

    t = campaign_target(c, "phone");
    assert_int_equal(t->kind, TARGET_CALL);
    assert_string_equal(t->number, "+4930123456");
    assert_string_equal(t->script, "Hello, I am {{name}}.");

    t = campaign_target(c, "toot");
    assert_int_equal(t->kind, TARGET_MASTODON);
    assert_string_equal(t->instance, "mastodon.social");
    assert_int_equal(campaign_target(c, "sky")->kind, TARGET_BLUESKY);
    assert_int_equal(campaign_target(c, "tweet")->kind, TARGET_X);

    t = campaign_target(c, "form");
    assert_int_equal(t->kind, TARGET_WEB);
    assert_string_equal(t->url, "https://example.org/feedback?who={{name}}&why={{ statement }}");

    assert_int_equal(c->fallback.count, 2);
    assert_string_equal(c->fallback.items[0], "office");
    assert_string_equal(c->fallback.items[1], "core");
    campaign_free(c);
}

static void example_file_in_the_repository_parses(void **state)
{
    FILE *f = fopen("examples/docs-day.json", "rb");
    if (!f)
        skip(); /* run from the repository root to include this check */
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    struct campaign *c = parse_ok(text);
    assert_int_equal(c->target_count, 3);
    assert_int_equal(c->statement_enabled, 1);
    assert_true(c->launch_utc == utc(2026, 12, 5, 15, 0));
    campaign_free(c);
}

/* ---- launch time ----------------------------------------------------------- */

static void launch_in_winter_uses_standard_time(void **state)
{
    struct campaign *c = parse_ok(MINIMAL); /* 2026-12-05T10:00:00 America/New_York (EST) */
    assert_true(c->launch_utc == utc(2026, 12, 5, 15, 0));
    campaign_free(c);
}

static void launch_in_summer_uses_daylight_time(void **state)
{
    struct campaign *c = parse_ok(
        "{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": \"2026-07-04T10:00:00\", "
        "\"timezone\": \"America/New_York\"}, \"message\": {\"body\": \"B\"}, \"targets\": "
        "[{\"id\": \"x\", \"kind\": \"x\"}]}");
    assert_true(c->launch_utc == utc(2026, 7, 4, 14, 0));
    campaign_free(c);
}

static void launch_without_seconds_is_accepted(void **state)
{
    struct campaign *c =
        parse_ok("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": \"2026-03-01T09:30\", "
                 "\"timezone\": \"Europe/Berlin\"}, \"message\": {\"body\": \"B\"}, \"targets\": "
                 "[{\"id\": \"x\", \"kind\": \"x\"}]}");
    assert_string_equal(c->launch_at, "2026-03-01T09:30");
    assert_true(c->launch_utc == utc(2026, 3, 1, 8, 30));
    campaign_free(c);
}

static void launch_at_with_an_offset_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00:00Z\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.launch.at: expected a local date and time \"YYYY-MM-DDTHH:MM[:SS]\" "
                  "without an offset (the zone is launch.timezone), e.g. "
                  "\"2026-12-05T10:00:00\"\n");
}

static void launch_at_on_an_impossible_date_is_rejected(void **state)
{
    assert_error_line("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                      "\"2026-02-30T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                      "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                      "f.json: $.launch.at: expected a local date and time "
                      "\"YYYY-MM-DDTHH:MM[:SS]\" without an offset (the zone is "
                      "launch.timezone), e.g. \"2026-12-05T10:00:00\"");
}

static void unknown_time_zone_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"Mars/Olympus\"}, \"message\": "
                  "{\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.launch.timezone: unknown time zone \"Mars/Olympus\"; expected an "
                  "IANA name like \"Europe/Berlin\"\n");
}

static void bad_time_zone_and_bad_time_are_both_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": \"tomorrow\", "
                  "\"timezone\": \"../etc/passwd\"}, \"message\": {\"body\": \"B\"}, "
                  "\"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.launch.timezone: unknown time zone \"../etc/passwd\"; expected an "
                  "IANA name like \"Europe/Berlin\"\n"
                  "f.json: $.launch.at: expected a local date and time "
                  "\"YYYY-MM-DDTHH:MM[:SS]\" without an offset (the zone is launch.timezone), "
                  "e.g. \"2026-12-05T10:00:00\"\n");
}

static void window_minutes_out_of_range_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\", \"window_minutes\": 0}, "
                  "\"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                  "\"x\"}]}",
                  "f.json: $.launch.window_minutes: must be between 1 and 10080, got 0\n");
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\", \"window_minutes\": 10081}, "
                  "\"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                  "\"x\"}]}",
                  "f.json: $.launch.window_minutes: must be between 1 and 10080, got 10081\n");
}

/* ---- required fields ---------------------------------------------------- */

static void missing_slug_is_reported(void **state)
{
    assert_errors("{\"title\": \"T\", \"launch\": {\"at\": \"2026-12-05T10:00\", \"timezone\": "
                  "\"UTC\"}, \"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", "
                  "\"kind\": \"x\"}]}",
                  "f.json: $.slug: missing required field\n");
}

static void missing_title_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"launch\": {\"at\": \"2026-12-05T10:00\", \"timezone\": "
                  "\"UTC\"}, \"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", "
                  "\"kind\": \"x\"}]}",
                  "f.json: $.title: missing required field\n");
}

static void missing_launch_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"message\": {\"body\": \"B\"}, "
                  "\"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.launch: missing required field\n");
}

static void missing_launch_at_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"timezone\": \"UTC\"}, "
                  "\"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                  "\"x\"}]}",
                  "f.json: $.launch.at: missing required field\n");
}

static void missing_launch_timezone_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\"}, \"message\": {\"body\": \"B\"}, \"targets\": "
                  "[{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.launch.timezone: missing required field\n");
}

static void missing_message_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"targets\": [{\"id\": \"x\", "
                  "\"kind\": \"x\"}]}",
                  "f.json: $.message: missing required field\n");
}

static void message_without_title_or_body_is_reported(void **state)
{
    const char *want = "f.json: $.message: needs a non-empty title or body (or both)\n";
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {}, \"targets\": "
                  "[{\"id\": \"x\", \"kind\": \"x\"}]}",
                  want);
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"title\": \"\", "
                  "\"body\": \"\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  want);
}

static void missing_targets_is_reported(void **state)
{
    assert_errors("{" BASE "}", "f.json: $.targets: missing required field (at least one "
                                "target)\n");
}

static void empty_targets_is_reported(void **state)
{
    assert_errors("{" BASE ", \"targets\": []}",
                  "f.json: $.targets: at least one target is required\n");
}

static void empty_object_lists_every_required_field(void **state)
{
    assert_errors("{}", "f.json: $.slug: missing required field\n"
                        "f.json: $.title: missing required field\n"
                        "f.json: $.launch: missing required field\n"
                        "f.json: $.message: missing required field\n"
                        "f.json: $.targets: missing required field (at least one target)\n");
}

/* ---- JSON syntax ---------------------------------------------------------- */

static void syntax_error_has_line_and_column(void **state)
{
    assert_errors("{\n  \"slug\": \"s\",\n  \"title\": x\n}",
                  "f.json:3:12: invalid token near 'x'\n");
}

static void syntax_error_column_counts_characters(void **state)
{
    assert_errors("{\"title\": \"Über\", x}", "f.json:1:19: string or '}' expected near 'x'\n");
}

static void empty_file_is_a_syntax_error(void **state)
{
    assert_errors("", "f.json:1:1: '[' or '{' expected near end of file\n");
}

static void truncated_file_is_a_syntax_error(void **state)
{
    assert_errors("{\"slug\": \"s\",\n", "f.json:2:1: string or '}' expected near end of file\n");
}

static void duplicate_key_is_a_syntax_error(void **state)
{
    assert_errors("{\"slug\": \"a\", \"slug\": \"b\"}",
                  "f.json:1:20: duplicate object key near '\"slug\"'\n");
}

static void nul_in_a_string_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"a\\u0000b\"}",
                  "f.json:1:19: \\u0000 is not allowed without JSON_ALLOW_NUL near "
                  "'\"a\\u0000b\"'\n");
}

static void invalid_utf8_is_rejected(void **state)
{
    char *got = parse_errors("{\"slug\": \"\xff\"}");
    assert_non_null(strstr(got, "f.json:1:"));
    assert_non_null(strstr(got, "unable to decode byte 0xff"));
    for (const char *p = got; *p; p++)
        assert_true((unsigned char)*p < 0x80); /* the raw byte is not echoed */
    free(got);
}

static void top_level_array_is_rejected(void **state)
{
    assert_errors("[1, 2]", "f.json: $: expected an object (the campaign), got an array\n");
}

/* ---- types and unknown fields ---------------------------------------------- */

static void unknown_top_level_field_is_reported(void **state)
{
    assert_field_error("\"colour\": \"red\"",
                       "f.json: $.colour: unknown field; expected one of: slug, title, "
                       "description, organizer, launch, message, statement, assignment, targets, "
                       "fallback, close_after_reports, closed_message, webhook, embed, language, "
                       "mails, reminders, follow_up_after_minutes\n");
}

static void unknown_nested_field_is_reported(void **state)
{
    assert_field_error("\"statement\": {\"enabled\": true, \"maxchars\": 10}",
                       "f.json: $.statement.maxchars: unknown field; expected one of: enabled, "
                       "max_chars, prompt\n");
}

static void odd_keys_are_quoted_in_the_path(void **state)
{
    assert_field_error(
        "\"a b\\n\\\"c\": 1",
        "f.json: $[\"a b\\u000a\\\"c\"]: unknown field; expected one of: slug, "
        "title, description, organizer, launch, message, statement, assignment, "
        "targets, fallback, close_after_reports, closed_message, webhook, embed, language, "
        "mails, reminders, follow_up_after_minutes\n");
}

static void string_of_the_wrong_type_is_reported(void **state)
{
    assert_field_error("\"description\": 42",
                       "f.json: $.description: expected a string, got an integer\n");
}

static void integer_of_the_wrong_type_is_reported(void **state)
{
    assert_field_error("\"close_after_reports\": 2.5",
                       "f.json: $.close_after_reports: expected an integer, got a number with a "
                       "fraction\n");
    assert_field_error("\"close_after_reports\": \"5\"",
                       "f.json: $.close_after_reports: expected an integer, got a string\n");
}

static void boolean_of_the_wrong_type_is_reported(void **state)
{
    assert_field_error("\"statement\": {\"enabled\": \"yes\"}",
                       "f.json: $.statement.enabled: expected true or false, got a string\n");
}

static void object_of_the_wrong_type_is_reported(void **state)
{
    assert_field_error("\"organizer\": \"Docs Collective\"",
                       "f.json: $.organizer: expected an object, got a string\n");
}

static void array_of_the_wrong_type_is_reported(void **state)
{
    assert_errors("{" BASE ", \"targets\": {\"id\": \"x\"}}",
                  "f.json: $.targets: expected an array of targets, got an object\n");
}

static void null_is_not_an_absent_field(void **state)
{
    assert_field_error("\"description\": null",
                       "f.json: $.description: expected a string, got null\n");
}

/* ---- top-level values -------------------------------------------------------- */

static void slug_with_uppercase_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"Docs-Day\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.slug: must be 1 to 64 lowercase letters, digits and '-', not "
                  "starting or ending with '-'\n");
}

static void slug_that_is_empty_or_too_long_is_rejected(void **state)
{
    assert_error_line("{\"slug\": \"\", \"title\": \"T\", \"launch\": {\"at\": "
                      "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                      "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                      "f.json: $.slug: must be 1 to 64 lowercase letters, digits and '-', not "
                      "starting or ending with '-'");
    assert_error_line("{\"slug\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaa\", \"title\": \"T\", \"launch\": {\"at\": \"2026-12-05T10:00\", "
                      "\"timezone\": \"UTC\"}, \"message\": {\"body\": \"B\"}, \"targets\": "
                      "[{\"id\": \"x\", \"kind\": \"x\"}]}",
                      "f.json: $.slug: too long: 65 characters, at most 64");
}

static void slug_rules(void **state)
{
    assert_true(campaign_slug_valid("docs-day"));
    assert_true(campaign_slug_valid("a"));
    assert_true(campaign_slug_valid("2026"));
    assert_false(campaign_slug_valid(""));
    assert_false(campaign_slug_valid(NULL));
    assert_false(campaign_slug_valid("-docs"));
    assert_false(campaign_slug_valid("docs-"));
    assert_false(campaign_slug_valid("docs_day"));
    assert_false(campaign_slug_valid("docs day"));
    assert_false(campaign_slug_valid("Docs"));
    assert_false(campaign_slug_valid("dócs"));
    char long_slug[66];
    memset(long_slug, 'a', 65);
    long_slug[65] = '\0';
    assert_false(campaign_slug_valid(long_slug));
    long_slug[64] = '\0';
    assert_true(campaign_slug_valid(long_slug));
}

static void empty_title_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.title: must not be empty\n");
}

static void title_with_a_line_break_is_rejected(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"a\\nb\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.title: must be a single line (no line breaks)\n");
}

static void control_characters_in_text_are_rejected(void **state)
{
    /* ESC [ 2 J in the title (a terminal's "clear screen"), C1 CSI in the body */
    assert_errors("{\"slug\": \"s\", \"title\": \"Day\\u001b[2J\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"B\\u009b2J\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.title: must not contain control characters (one at character 4)\n"
                  "f.json: $.message.body: must not contain control characters (one at "
                  "character 2)\n");
}

/* A field "key": "<n times ch>" (ch one character, maybe multi-byte). */
static char *long_string_field(const char *key, const char *ch, size_t n)
{
    size_t cl = strlen(ch);
    size_t size = strlen(key) + n * cl + 16;
    char *s = malloc(size);
    assert_non_null(s);
    size_t o = (size_t)snprintf(s, size, "\"%s\": \"", key);
    for (size_t i = 0; i < n; i++, o += cl)
        memcpy(s + o, ch, cl);
    memcpy(s + o, "\"", 2);
    return s;
}

static void title_longer_than_200_characters_is_rejected(void **state)
{
    /* 201 two-byte characters: the limit counts characters, not bytes. */
    char *title = long_string_field("title", "é", 201);
    size_t n = strlen(title) + 256;
    char *json = malloc(n);
    snprintf(json, n,
             "{\"slug\": \"s\", %s, \"launch\": {\"at\": \"2026-12-05T10:00\", \"timezone\": "
             "\"UTC\"}, \"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
             "\"x\"}]}",
             title);
    assert_errors(json, "f.json: $.title: too long: 201 characters, at most 200\n");
    title[strlen(title) - 3] = '"'; /* 200 characters */
    title[strlen(title) - 2] = '\0';
    snprintf(json, n,
             "{\"slug\": \"s\", %s, \"launch\": {\"at\": \"2026-12-05T10:00\", \"timezone\": "
             "\"UTC\"}, \"message\": {\"body\": \"B\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
             "\"x\"}]}",
             title);
    campaign_free(parse_ok(json));
    free(json);
    free(title);
}

static void description_longer_than_20000_characters_is_rejected(void **state)
{
    char *field = long_string_field("description", "a", 20001);
    char *json = with_field(field);
    assert_errors(json, "f.json: $.description: too long: 20001 characters, at most 20000\n");
    free(json);
    free(field);
}

static void closed_message_longer_than_2000_characters_is_rejected(void **state)
{
    char *field = long_string_field("closed_message", "a", 2001);
    char *json = with_field(field);
    assert_errors(json, "f.json: $.closed_message: too long: 2001 characters, at most 2000\n");
    free(json);
    free(field);
}

static void message_parts_have_length_limits(void **state)
{
    char *body = long_string_field("body", "a", 20001);
    size_t n = strlen(body) + 512;
    char *json = malloc(n);
    snprintf(json, n,
             "{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": \"2026-12-05T10:00\", "
             "\"timezone\": \"UTC\"}, \"message\": {\"title\": \"T\", %s}, \"targets\": "
             "[{\"id\": \"x\", \"kind\": \"x\"}]}",
             body);
    assert_errors(json, "f.json: $.message.body: too long: 20001 characters, at most 20000\n");
    free(body);
    char *title = long_string_field("title", "a", 501);
    snprintf(json, n,
             "{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": \"2026-12-05T10:00\", "
             "\"timezone\": \"UTC\"}, \"message\": {%s, \"body\": \"B\"}, \"targets\": "
             "[{\"id\": \"x\", \"kind\": \"x\"}]}",
             title);
    assert_errors(json, "f.json: $.message.title: too long: 501 characters, at most 500\n");
    free(title);
    free(json);
}

static void description_and_organizer_are_optional_and_read(void **state)
{
    char *json = with_field("\"description\": \"Hello\", \"organizer\": {\"name\": \"Docs\"}");
    struct campaign *c = parse_ok(json);
    free(json);
    assert_string_equal(c->description, "Hello");
    assert_string_equal(c->organizer_name, "Docs");
    assert_null(c->organizer_email);
    campaign_free(c);
}

static void organizer_email_is_validated(void **state)
{
    assert_field_error("\"organizer\": {\"email\": \"Team <team@example.org>\"}",
                       "f.json: $.organizer.email: not an email address (expected one address "
                       "like \"name@example.org\", without a display name)\n");
}

static void organizer_unknown_field_is_reported(void **state)
{
    assert_field_error("\"organizer\": {\"phone\": \"1\"}",
                       "f.json: $.organizer.phone: unknown field; expected one of: name, email\n");
}

static void statement_settings_are_read(void **state)
{
    char *json = with_field("\"statement\": {\"enabled\": true, \"max_chars\": 10000, \"prompt\": "
                            "\"Tell us\"}");
    struct campaign *c = parse_ok(json);
    free(json);
    assert_int_equal(c->statement_enabled, 1);
    assert_int_equal(c->statement_max_chars, 10000);
    assert_string_equal(c->statement_prompt, "Tell us");
    campaign_free(c);
}

static void statement_max_chars_out_of_range_is_rejected(void **state)
{
    assert_field_error("\"statement\": {\"max_chars\": 10001}",
                       "f.json: $.statement.max_chars: must be between 1 and 10000, got 10001\n");
    assert_field_error("\"statement\": {\"max_chars\": 0}",
                       "f.json: $.statement.max_chars: must be between 1 and 10000, got 0\n");
}

static void assignment_modes_are_read(void **state)
{
    char *json = with_field("\"assignment\": \"all\"");
    struct campaign *c = parse_ok(json);
    free(json);
    assert_int_equal(c->assignment, ASSIGN_ALL);
    campaign_free(c);
    json = with_field("\"assignment\": \"balanced\"");
    c = parse_ok(json);
    free(json);
    assert_int_equal(c->assignment, ASSIGN_BALANCED);
    campaign_free(c);
}

static void unknown_assignment_is_rejected(void **state)
{
    assert_field_error("\"assignment\": \"random\"",
                       "f.json: $.assignment: unknown assignment \"random\"; expected one of: "
                       "balanced, choose, all\n");
}

static void close_after_reports_out_of_range_is_rejected(void **state)
{
    assert_field_error("\"close_after_reports\": -1",
                       "f.json: $.close_after_reports: must be between 0 and 100000, got -1\n");
    assert_field_error("\"close_after_reports\": 100001",
                       "f.json: $.close_after_reports: must be between 0 and 100000, got "
                       "100001\n");
}

static void empty_closed_message_is_rejected(void **state)
{
    assert_field_error("\"closed_message\": \"\"", "f.json: $.closed_message: must not be empty\n");
}

/* ---- templates -------------------------------------------------------------- */

static void template_error_in_the_body_has_its_line_and_column(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"body\": "
                  "\"Hello,\\n\\nwe ask – {{nme}}\"}, \"targets\": [{\"id\": \"x\", \"kind\": "
                  "\"x\"}]}",
                  "f.json: $.message.body:3:10: unknown placeholder {{nme}}; known: name, "
                  "statement, campaign.title, target.id\n");
}

static void template_error_in_the_title_is_reported(void **state)
{
    assert_errors("{\"slug\": \"s\", \"title\": \"T\", \"launch\": {\"at\": "
                  "\"2026-12-05T10:00\", \"timezone\": \"UTC\"}, \"message\": {\"title\": "
                  "\"{{#statement}}x\"}, \"targets\": [{\"id\": \"x\", \"kind\": \"x\"}]}",
                  "f.json: $.message.title:1:1: unclosed section {{#statement}}; close it with "
                  "{{/statement}}\n");
}

/* ---- targets: common fields ---------------------------------------------------- */

static void target_must_be_an_object(void **state)
{
    assert_target_error("\"core\"", "f.json: $.targets[0]: expected an object, got a string\n");
}

static void target_without_id_is_reported(void **state)
{
    assert_target_error("{\"kind\": \"x\"}", "f.json: $.targets[0].id: missing required field\n");
}

static void target_id_with_bad_characters_is_reported(void **state)
{
    assert_target_error("{\"id\": \"Core Team\", \"kind\": \"x\"}",
                        "f.json: $.targets[0].id: must be 1 to 64 characters of a-z, 0-9, '_' "
                        "and '-'\n");
}

static void duplicate_target_id_is_reported(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"x\"}, {\"id\": \"b\", \"kind\": \"x\"}, "
                        "{\"id\": \"a\", \"kind\": \"bluesky\"}",
                        "f.json: $.targets[2].id: duplicate target id \"a\" (also used by "
                        "$.targets[0])\n");
}

static void target_without_kind_is_reported(void **state)
{
    assert_target_error("{\"id\": \"a\"}", "f.json: $.targets[0].kind: missing required field\n");
}

static void unknown_kind_is_reported(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"fax\", \"number\": \"1\"}",
                        "f.json: $.targets[0].kind: unknown kind \"fax\"; expected one of: "
                        "github_issue, gitlab_issue, email, call, mastodon, bluesky, x, web\n");
}

/* campaign/target_kinds.h is the one list: every kind has a name that leads
 * back to it, and nothing else has one. */
static void every_kind_name_leads_back_to_its_kind(void **state)
{
    struct buf joined = BUF_INIT;
    for (int k = 0; k < TARGET_KIND_COUNT; k++) {
        const char *name = target_kind_name((enum target_kind)k);
        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        enum target_kind back = (enum target_kind)((k + 1) % TARGET_KIND_COUNT); /* not k */
        if (target_kind_from_name(name, &back) != 0)
            fail_msg("kind %d: its name \"%s\" is not found", k, name);
        assert_int_equal(back, k);
        buf_printf(&joined, "%s%s", k ? ", " : "", name);
    }
    assert_string_equal(target_kind_names_joined(), buf_cstr(&joined));
    buf_release(&joined);
    assert_string_equal(target_kind_name((enum target_kind)TARGET_KIND_COUNT), "unknown");
    assert_string_equal(target_kind_name((enum target_kind)(-1)), "unknown");
    enum target_kind untouched = TARGET_CALL;
    assert_int_equal(target_kind_from_name("fax", &untouched), -1);
    assert_int_equal(target_kind_from_name("GitHub_issue", &untouched), -1);
    assert_int_equal(target_kind_from_name("", &untouched), -1);
    assert_int_equal(target_kind_from_name(NULL, &untouched), -1);
    assert_int_equal(untouched, TARGET_CALL);
}

/* campaign.c's kind_syntax has a row for every kind (the dashboard shows its
 * example): each example is a valid target of its own kind. */
static void every_kind_example_parses_as_that_kind(void **state)
{
    for (int k = 0; k < TARGET_KIND_COUNT; k++) {
        const char *example = target_kind_example((enum target_kind)k);
        if (!example)
            fail_msg("kind %s has no row in kind_syntax", target_kind_name((enum target_kind)k));
        struct campaign *c = NULL;
        const struct target_spec *t = parse_target_ok(example, &c);
        assert_int_equal(t->kind, k);
        campaign_free(c);
    }
    assert_null(target_kind_example((enum target_kind)TARGET_KIND_COUNT));
}

static void field_of_another_kind_is_unknown(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"email\", \"to\": [\"a@example.org\"], "
                        "\"repo\": \"example/core\"}",
                        "f.json: $.targets[0].repo: unknown field for kind email; expected one "
                        "of: id, kind, label, cap, to, cc, bcc\n");
}

static void bluesky_and_x_take_no_fields(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"bluesky\", \"handle\": \"me\"}",
                        "f.json: $.targets[0].handle: unknown field for kind bluesky; expected "
                        "one of: id, kind, label, cap\n");
    assert_target_error("{\"id\": \"a\", \"kind\": \"x\", \"url\": \"https://x.com\"}",
                        "f.json: $.targets[0].url: unknown field for kind x; expected one of: id, "
                        "kind, label, cap\n");
}

static void label_and_cap_are_read(void **state)
{
    struct campaign *c;
    const struct target_spec *t =
        parse_target_ok("{\"id\": \"a\", \"kind\": \"x\", \"label\": \"Our X\", \"cap\": 7}", &c);
    assert_string_equal(t->label, "Our X");
    assert_int_equal(t->cap, 7);
    campaign_free(c);
}

static void cap_must_be_a_positive_integer(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"x\", \"cap\": 0}",
                        "f.json: $.targets[0].cap: must be between 1 and 1000000000, got 0\n");
    assert_target_error("{\"id\": \"a\", \"kind\": \"x\", \"cap\": 1.5}",
                        "f.json: $.targets[0].cap: expected an integer, got a number with a "
                        "fraction\n");
}

static void too_many_targets_are_rejected(void **state)
{
    size_t n = 1001 * 32 + 16;
    char *targets = malloc(n);
    size_t o = 0;
    for (int i = 0; i < 1001; i++)
        o += (size_t)snprintf(targets + o, n - o, "%s{\"id\": \"t%d\", \"kind\": \"x\"}",
                              i ? "," : "", i);
    assert_target_error(targets, "f.json: $.targets: too many targets: 1001, at most 1000\n");
    free(targets);
}

/* ---- targets: github_issue ------------------------------------------------------ */

static void github_issue_needs_a_repo(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\"}",
                        "f.json: $.targets[0].repo: missing required field\n");
}

static void github_repo_must_be_owner_slash_name(void **state)
{
    const char *want = "f.json: $.targets[0].repo: expected \"owner/name\" of a GitHub repository "
                       "(letters, digits, '.', '_', '-'; owner up to 39 characters, name up to "
                       "100)\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"core\"}", want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"a/b/c\"}", want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": "
                        "\"https://github.com/a/b\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"/b\"}", want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": "
                        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"a/..\"}", want);
}

static void github_repo_with_dots_and_underscores_is_accepted(void **state)
{
    struct campaign *c;
    const struct target_spec *t = parse_target_ok(
        "{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"example-docs/hand_book.js\"}", &c);
    assert_string_equal(t->repo, "example-docs/hand_book.js");
    assert_int_equal(t->labels.count, 0);
    assert_null(t->issue_template);
    campaign_free(c);
}

static void github_labels_must_be_plain_strings(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"o/n\", "
                        "\"labels\": [\"docs\", \"a,b\", \"\", 3]}",
                        "f.json: $.targets[0].labels[1]: must not contain a comma (GitHub "
                        "separates labels with commas)\n"
                        "f.json: $.targets[0].labels[2]: must not be empty\n"
                        "f.json: $.targets[0].labels[3]: expected a string, got an integer\n");
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"o/n\", "
                        "\"labels\": \"docs\"}",
                        "f.json: $.targets[0].labels: expected an array of strings, got a "
                        "string\n");
}

static void github_template_must_be_a_file_name(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"o/n\", "
                        "\"template\": \"../x.md\"}",
                        "f.json: $.targets[0].template: expected the file name of an issue "
                        "template in .github/ISSUE_TEMPLATE (letters, digits, '.', '_', '-')\n");
}

/* ---- targets: gitlab_issue -------------------------------------------------------- */

static void gitlab_issue_needs_a_project_url(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\"}",
                        "f.json: $.targets[0].project_url: missing required field\n");
}

static void gitlab_project_url_must_be_http(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"gitlab.com/group/project\"}",
                        "f.json: $.targets[0].project_url: expected an https:// (or http://) URL "
                        "of a GitLab project\n");
}

static void gitlab_project_url_needs_a_path(void **state)
{
    const char *want = "f.json: $.targets[0].project_url: needs the project's path, e.g. "
                       "\"https://gitlab.com/group/project\"\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https://gitlab.com\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https://gitlab.com///\"}",
                        want);
}

static void gitlab_project_url_without_query_fragment_or_spaces(void **state)
{
    const char *want = "f.json: $.targets[0].project_url: must be the project's address without "
                       "spaces, query (?) or fragment (#), e.g. "
                       "\"https://gitlab.com/group/project\"\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https://gitlab.com/g/p?x=1\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https://gitlab.com/g/p#readme\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https://gitlab.com/g/my project\"}",
                        want);
}

static void gitlab_project_url_needs_a_host(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"https:///g/p\"}",
                        "f.json: $.targets[0].project_url: expected a host name after https://\n");
}

static void gitlab_project_url_loses_its_trailing_slash(void **state)
{
    struct campaign *c;
    const struct target_spec *t =
        parse_target_ok("{\"id\": \"a\", \"kind\": \"gitlab_issue\", \"project_url\": "
                        "\"http://gitlab.example.org:8080/docs/handbook/\"}",
                        &c);
    assert_string_equal(t->project_url, "http://gitlab.example.org:8080/docs/handbook");
    campaign_free(c);
}

/* ---- targets: email ------------------------------------------------------------------ */

static void email_needs_recipients(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"email\"}",
                        "f.json: $.targets[0].to: missing required field\n");
    assert_target_error("{\"id\": \"a\", \"kind\": \"email\", \"to\": []}",
                        "f.json: $.targets[0].to: needs at least 1 entry\n");
}

static void email_addresses_are_validated(void **state)
{
    assert_target_error(
        "{\"id\": \"a\", \"kind\": \"email\", \"to\": [\"ok@example.org\", \"no at sign\"], "
        "\"cc\": [\"a@b@c\"], \"bcc\": [\"x@example.org\\r\\nBcc: y@example.org\"]}",
        "f.json: $.targets[0].to[1]: not an email address (expected one address like "
        "\"name@example.org\", without a display name)\n"
        "f.json: $.targets[0].cc[0]: not an email address (expected one address like "
        "\"name@example.org\", without a display name)\n"
        "f.json: $.targets[0].bcc[0]: not an email address (expected one address like "
        "\"name@example.org\", without a display name)\n");
}

static void email_address_lists_reject_separators(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"email\", \"to\": [\"a@example.org, "
                        "b@example.org\"]}",
                        "f.json: $.targets[0].to[0]: not an email address (expected one address "
                        "like \"name@example.org\", without a display name)\n");
    assert_target_error("{\"id\": \"a\", \"kind\": \"email\", \"to\": "
                        "[\"a@example.org;b@example.org\"]}",
                        "f.json: $.targets[0].to[0]: not an email address (expected one address "
                        "like \"name@example.org\", without a display name)\n");
}

static void email_cc_and_bcc_are_optional(void **state)
{
    struct campaign *c;
    const struct target_spec *t = parse_target_ok(
        "{\"id\": \"a\", \"kind\": \"email\", \"to\": [\"a@example.org\", \"b@example.org\"]}", &c);
    assert_int_equal(t->to.count, 2);
    assert_int_equal(t->cc.count, 0);
    assert_int_equal(t->bcc.count, 0);
    campaign_free(c);
}

/* ---- targets: call --------------------------------------------------------------------- */

static void call_needs_number_and_script(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\"}",
                        "f.json: $.targets[0].number: missing required field\n"
                        "f.json: $.targets[0].script: missing required field\n");
}

static void call_number_must_be_e164(void **state)
{
    const char *want = "f.json: $.targets[0].number: expected an E.164 number: '+' and 8 to 15 "
                       "digits, the first not 0, no spaces (e.g. \"+4930123456\")\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\", \"number\": \"030 123456\", "
                        "\"script\": \"Hi\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\", \"number\": \"+1234567\", "
                        "\"script\": \"Hi\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\", \"number\": \"+1234567890123456\", "
                        "\"script\": \"Hi\"}",
                        want);
    /* no country code starts with 0: the action page's tel: link would refuse it */
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\", \"number\": \"+0301234567\", "
                        "\"script\": \"Hi\"}",
                        want);
}

static void call_script_is_a_template(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"call\", \"number\": \"+12125551234\", "
                        "\"script\": \"Hello,\\nI am {{ nam }}.\"}",
                        "f.json: $.targets[0].script:2:6: unknown placeholder {{nam}}; known: "
                        "name, statement, campaign.title, target.id\n");
}

static void call_target_is_read(void **state)
{
    struct campaign *c;
    const struct target_spec *t = parse_target_ok(
        "{\"id\": \"a\", \"kind\": \"call\", \"number\": \"+12125551234\", \"script\": \"Hi\"}",
        &c);
    assert_string_equal(t->number, "+12125551234");
    assert_string_equal(t->script, "Hi");
    campaign_free(c);
}

/* ---- targets: mastodon ------------------------------------------------------------------ */

static void mastodon_instance_is_optional(void **state)
{
    struct campaign *c;
    const struct target_spec *t = parse_target_ok("{\"id\": \"a\", \"kind\": \"mastodon\"}", &c);
    assert_null(t->instance);
    campaign_free(c);
}

static void mastodon_instance_must_not_be_a_url(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": "
                        "\"https://mastodon.social\"}",
                        "f.json: $.targets[0].instance: expected a host name like "
                        "\"mastodon.social\", not a URL: leave out the scheme (https://) and any "
                        "path\n");
}

static void mastodon_instance_must_be_a_host_name(void **state)
{
    const char *want = "f.json: $.targets[0].instance: expected a host name like "
                       "\"mastodon.social\" (letters, digits, '-' and '.')\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": \"localhost\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": "
                        "\"mastodon.social/about\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": \"a..b\"}", want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": \"-a.b\"}", want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"mastodon\", \"instance\": \"me@a.b\"}", want);
}

/* ---- targets: web ----------------------------------------------------------------------- */

static void web_needs_a_url(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\"}",
                        "f.json: $.targets[0].url: missing required field\n");
}

static void web_url_must_be_http(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"javascript:alert({{name}})\"}",
                        "f.json: $.targets[0].url: expected an https:// (or http://) URL\n");
}

static void web_url_placeholders_stay_out_of_the_host(void **state)
{
    const char *want = "f.json: $.targets[0].url: placeholders are not allowed in the scheme or "
                       "host of the URL\n";
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"https://{{name}}.example.org/\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"{{name}}://example.org/\"}",
                        want);
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"https://example.org{{statement}}\"}",
                        want);
}

static void web_url_template_error_has_its_column(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"https://example.org/?q={{name}}&r={{ title }}\"}",
                        "f.json: $.targets[0].url:1:35: unknown placeholder {{title}}; known: "
                        "name, statement, campaign.title, target.id\n");
}

static void web_url_has_no_spaces_outside_placeholders(void **state)
{
    assert_target_error("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"https://example.org/a b?q={{ name }}\"}",
                        "f.json: $.targets[0].url: must not contain spaces or control characters "
                        "outside {{placeholders}}\n");
}

static void web_url_with_placeholders_is_accepted(void **state)
{
    struct campaign *c;
    const struct target_spec *t =
        parse_target_ok("{\"id\": \"a\", \"kind\": \"web\", \"url\": "
                        "\"https://example.org/s/{{target.id}}?who={{ name }}#{{statement}}\"}",
                        &c);
    assert_string_equal(t->url, "https://example.org/s/{{target.id}}?who={{ name }}#{{statement}}");
    campaign_free(c);
}

/* ---- fallback ------------------------------------------------------------------------------ */

static void fallback_must_name_known_targets(void **state)
{
    char *json = with_field("\"fallback\": [\"core\", \"ghost\"]");
    assert_errors(json, "f.json: $.fallback[1]: unknown target id \"ghost\"; fallback lists ids "
                        "from $.targets\n");
    free(json);
}

static void fallback_must_not_repeat_a_target(void **state)
{
    char *json = with_field("\"fallback\": [\"core\", \"core\"]");
    assert_errors(json, "f.json: $.fallback[1]: duplicate target id \"core\" (also at "
                        "$.fallback[0])\n");
    free(json);
}

static void fallback_must_be_an_array_of_strings(void **state)
{
    char *json = with_field("\"fallback\": [1]");
    assert_errors(json, "f.json: $.fallback[0]: expected a string, got an integer\n");
    free(json);
    json = with_field("\"fallback\": \"core\"");
    assert_errors(json, "f.json: $.fallback: expected an array of strings, got a string\n");
    free(json);
}

static void empty_fallback_is_kept_empty(void **state)
{
    char *json = with_field("\"fallback\": []");
    struct campaign *c = parse_ok(json);
    free(json);
    assert_int_equal(c->fallback.count, 0);
    campaign_free(c);
}

/* ---- the whole picture ---------------------------------------------------------------------- */

static void every_error_is_listed(void **state)
{
    assert_errors(
        "{\"slug\": \"Bad Slug\", \"title\": 5, \"extra\": 1,\n"
        " \"launch\": {\"at\": \"2026-12-05T10:00\", \"timezone\": \"Nowhere/City\"},\n"
        " \"message\": {\"body\": \"{{who}}\"},\n"
        " \"targets\": [{\"id\": \"a\", \"kind\": \"github_issue\", \"repo\": \"nope\"},\n"
        "             {\"id\": \"a\", \"kind\": \"email\", \"to\": [\"x\"]}],\n"
        " \"fallback\": [\"zzz\"]}",
        "f.json: $.extra: unknown field; expected one of: slug, title, description, organizer, "
        "launch, message, statement, assignment, targets, fallback, close_after_reports, "
        "closed_message, webhook, embed, language, mails, reminders, follow_up_after_minutes\n"
        "f.json: $.slug: must be 1 to 64 lowercase letters, digits and '-', not starting or "
        "ending with '-'\n"
        "f.json: $.title: expected a string, got an integer\n"
        "f.json: $.launch.timezone: unknown time zone \"Nowhere/City\"; expected an IANA name "
        "like \"Europe/Berlin\"\n"
        "f.json: $.message.body:1:1: unknown placeholder {{who}}; known: name, statement, "
        "campaign.title, target.id\n"
        "f.json: $.targets[0].repo: expected \"owner/name\" of a GitHub repository (letters, "
        "digits, '.', '_', '-'; owner up to 39 characters, name up to 100)\n"
        "f.json: $.targets[1].id: duplicate target id \"a\" (also used by $.targets[0])\n"
        "f.json: $.targets[1].to[0]: not an email address (expected one address like "
        "\"name@example.org\", without a display name)\n"
        "f.json: $.fallback[0]: unknown target id \"zzz\"; fallback lists ids from $.targets\n");
}

static void error_lines_start_with_the_file_name(void **state)
{
    struct buf errors = BUF_INIT;
    struct campaign *c = NULL;
    const char *json = "{}";
    assert_int_equal(campaign_parse(json, 2, "campaigns/docs day.json", &c, &errors), -1);
    assert_null(c);
    assert_int_equal(strncmp(buf_cstr(&errors), "campaigns/docs day.json: $.slug: ", 33), 0);
    buf_release(&errors);
}

static void errors_are_appended_to_what_is_there(void **state)
{
    struct buf errors = BUF_INIT;
    buf_puts(&errors, "earlier\n");
    struct campaign *c = NULL;
    assert_int_equal(campaign_parse("[", 1, "f.json", &c, &errors), -1);
    assert_int_equal(strncmp(buf_cstr(&errors), "earlier\nf.json:1:1: ", 20), 0);
    buf_release(&errors);
}

static void errors_buffer_is_optional(void **state)
{
    struct campaign *c = NULL;
    assert_int_equal(campaign_parse("{}", 2, "f.json", &c, NULL), -1);
    assert_null(c);
    assert_int_equal(campaign_parse(MINIMAL, strlen(MINIMAL), "f.json", &c, NULL), 0);
    campaign_free(c);
}

static void text_need_not_be_nul_terminated(void **state)
{
    size_t n = strlen(MINIMAL);
    char *copy = malloc(n);
    memcpy(copy, MINIMAL, n);
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    assert_int_equal(campaign_parse(copy, n, "f.json", &c, &errors), 0);
    campaign_free(c);
    buf_release(&errors);
    free(copy);
}

static void canonical_json_ignores_key_order_and_spacing(void **state)
{
    struct campaign *a = parse_ok(MINIMAL);
    struct campaign *b = parse_ok(
        "{\n  \"targets\": [{\"kind\": \"bluesky\", \"id\": \"core\"}],\n"
        "  \"message\": {\"body\": \"We ask.\\n-- {{name}}\", \"title\": \"Please ship offline "
        "docs\"},\n"
        "  \"launch\": {\"timezone\": \"America/New_York\", \"at\": \"2026-12-05T10:00:00\"},\n"
        "  \"title\": \"Ask for offline documentation\", \"slug\": \"docs-day\"\n}\n");
    assert_string_equal(a->canonical_json, b->canonical_json);
    assert_null(strchr(a->canonical_json, '\n'));
    assert_int_equal(strncmp(a->canonical_json, "{\"launch\":{\"at\":", 16), 0);
    campaign_free(a);
    campaign_free(b);
}

static void canonical_json_differs_when_content_differs(void **state)
{
    struct campaign *a = parse_ok(MINIMAL);
    char *json = with_field("\"close_after_reports\": 3");
    struct campaign *b = parse_ok(json);
    free(json);
    assert_string_not_equal(a->canonical_json, b->canonical_json);
    campaign_free(a);
    campaign_free(b);
}

/* ---- mails, earlier reminders, follow-up -------------------------------- */

static void reminder_offsets_parse_in_minutes_hours_and_days(void **state)
{
    static const struct {
        const char *text;
        int64_t seconds;
    } ok[] = {
        {"-1m", 60},    {"-90m", 5400},         {"-1h", 3600},  {"-24h", 86400},
        {"-1d", 86400}, {"-60d", 60LL * 86400}, {"-007m", 420},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t seconds = -1;
        const char *problem = NULL;
        assert_int_equal(campaign_reminder_offset_parse(ok[i].text, &seconds, &problem), 0);
        assert_int_equal(seconds, ok[i].seconds);
        assert_null(problem);
    }
}

static void reminder_offsets_that_are_not_before_the_moment_are_refused(void **state)
{
    static const struct {
        const char *text, *problem_starts;
    } bad[] = {
        {"1h", "must be before the moment: write it with a minus sign"},
        {"+1h", "must be before the moment: write it with a minus sign"},
        {"-0m", "must be before the moment, not at it"},
        {"-0d", "must be before the moment, not at it"},
        {"-61d", "too far before the moment"},
        {"-1441h", "too far before the moment"},
        {"-99999999999m", "too far before the moment"},
        {"-1w", "expected a negative duration"},
        {"-1", "expected a negative duration"},
        {"-h", "expected a negative duration"},
        {"-1hh", "expected a negative duration"},
        {"-1H", "expected a negative duration"},
        {"- 1h", "expected a negative duration"},
        {"-1.5h", "expected a negative duration"},
        {"", "expected a negative duration"},
        {"-", "expected a negative duration"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t seconds = 12345;
        const char *problem = NULL;
        assert_int_equal(campaign_reminder_offset_parse(bad[i].text, &seconds, &problem), -1);
        assert_int_equal(seconds, 12345);
        assert_non_null(problem);
        if (strncmp(problem, bad[i].problem_starts, strlen(bad[i].problem_starts)) != 0)
            fail_msg("\"%s\": got \"%s\"", bad[i].text, problem);
    }
}

static void reminders_are_kept_furthest_first(void **state)
{
    char *json = with_field("\"reminders\": [\"-1h\", \"-2d\", \"-30m\", \"-1d\"]");
    struct campaign *c = parse_ok(json);
    assert_int_equal(c->reminder_count, 4);
    assert_int_equal(c->reminders[0], 2 * 86400);
    assert_int_equal(c->reminders[1], 86400);
    assert_int_equal(c->reminders[2], 3600);
    assert_int_equal(c->reminders[3], 1800);
    campaign_free(c);
    free(json);
}

static void duplicate_and_too_many_reminders_are_refused(void **state)
{
    assert_field_error("\"reminders\": [\"-1d\", \"-24h\"]",
                       "f.json: $.reminders[1]: duplicate reminder \"-24h\" (the same moment as "
                       "another entry)\n");
    assert_field_error("\"reminders\": [\"-1m\", \"-2m\", \"-3m\", \"-4m\", \"-5m\", \"-6m\"]",
                       "f.json: $.reminders: too many entries: 6, at most 5\n");
    assert_field_error("\"reminders\": [\"in an hour\"]",
                       "f.json: $.reminders[0]: \"in an hour\": expected a negative duration in "
                       "minutes, hours or days, such as \"-30m\", \"-1h\" or \"-1d\"\n");
}

static void follow_up_must_be_inside_the_window(void **state)
{
    char *json = with_field("\"follow_up_after_minutes\": 119");
    struct campaign *c = parse_ok(json);
    assert_int_equal(c->follow_up_after_minutes, 119);
    campaign_free(c);
    free(json);
    assert_field_error("\"follow_up_after_minutes\": 120",
                       "f.json: $.follow_up_after_minutes: must be inside the window: less than "
                       "launch.window_minutes (120), got 120\n");
    assert_field_error("\"follow_up_after_minutes\": 0",
                       "f.json: $.follow_up_after_minutes: must be between 1 and 100000, got 0\n");
}

static void mails_are_compiled_and_their_template_errors_located(void **state)
{
    char *json = with_field("\"mails\": {\"reminder\": {\"subject\": \"Now, {{name}}\", "
                            "\"body\": \"Hi\\n{{#name}}{{name}}{{/name}}\"}, "
                            "\"confirm\": {\"body\": \"Please\"}}");
    struct campaign *c = parse_ok(json);
    assert_string_equal(c->mails[CAMPAIGN_MAIL_REMINDER].subject, "Now, {{name}}");
    assert_non_null(c->mails[CAMPAIGN_MAIL_REMINDER].subject_template);
    assert_non_null(c->mails[CAMPAIGN_MAIL_REMINDER].body_template);
    assert_null(c->mails[CAMPAIGN_MAIL_CONFIRM].subject);
    assert_null(c->mails[CAMPAIGN_MAIL_CONFIRM].subject_template);
    assert_non_null(c->mails[CAMPAIGN_MAIL_CONFIRM].body_template);
    assert_null(c->mails[CAMPAIGN_MAIL_WELCOME].body);
    campaign_free(c);
    free(json);
    assert_field_error("\"mails\": {\"welcome\": {\"body\": \"ok\\nthen {{nope}}\"}}",
                       "f.json: $.mails.welcome.body:2:6: unknown placeholder {{nope}}; known: "
                       "name, statement, campaign.title, target.id\n");
    assert_field_error("\"mails\": {\"reminder\": {\"subject\": \"a\\nb\"}}",
                       "f.json: $.mails.reminder.subject: must be a single line (no line "
                       "breaks)\n");
    assert_field_error("\"mails\": {\"reminder\": {}}",
                       "f.json: $.mails.reminder: needs a subject or a body (or both); leave the "
                       "mail out for muster's words\n");
}

static void lookup_and_names(void **state)
{
    struct campaign *c = parse_ok(full_example);
    assert_ptr_equal(campaign_target(c, "lab"), &c->targets[1]);
    assert_null(campaign_target(c, "nope"));
    assert_null(campaign_target(c, NULL));
    assert_null(campaign_target(NULL, "lab"));
    campaign_free(c);
    campaign_free(NULL);

    assert_string_equal(target_kind_name(TARGET_GITHUB_ISSUE), "github_issue");
    assert_string_equal(target_kind_name(TARGET_GITLAB_ISSUE), "gitlab_issue");
    assert_string_equal(target_kind_name(TARGET_EMAIL), "email");
    assert_string_equal(target_kind_name(TARGET_CALL), "call");
    assert_string_equal(target_kind_name(TARGET_MASTODON), "mastodon");
    assert_string_equal(target_kind_name(TARGET_BLUESKY), "bluesky");
    assert_string_equal(target_kind_name(TARGET_X), "x");
    assert_string_equal(target_kind_name(TARGET_WEB), "web");
    assert_string_equal(assignment_mode_name(ASSIGN_BALANCED), "balanced");
    assert_string_equal(assignment_mode_name(ASSIGN_CHOOSE), "choose");
    assert_string_equal(assignment_mode_name(ASSIGN_ALL), "all");
}

static void hostile_input_never_crashes(void **state)
{
    /* Mutations of a valid file: every prefix, and bytes flipped one at a time. */
    size_t n = strlen(full_example);
    char *text = malloc(n + 1);
    memcpy(text, full_example, n + 1);
    for (size_t len = 0; len < n; len += 7) {
        struct campaign *c = NULL;
        struct buf errors = BUF_INIT;
        assert_int_equal(campaign_parse(text, len, "f.json", &c, &errors), -1);
        assert_null(c);
        buf_release(&errors);
    }
    static const char flips[] = {'"', '{', '}', '[', ']', ',', ':', '\\', 'x', '\xff', '1'};
    for (size_t i = 0; i < n; i += 3) {
        char saved = text[i];
        text[i] = flips[i % sizeof flips];
        struct campaign *c = NULL;
        struct buf errors = BUF_INIT;
        if (campaign_parse(text, n, "f.json", &c, &errors) == 0)
            campaign_free(c);
        else
            assert_true(errors.len > 0);
        buf_release(&errors);
        text[i] = saved;
    }
    free(text);
}

static void deep_nesting_is_a_syntax_error(void **state)
{
    size_t n = 100000;
    char *text = malloc(n);
    memset(text, '[', n);
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    assert_int_equal(campaign_parse(text, n, "f.json", &c, &errors), -1);
    assert_non_null(strstr(buf_cstr(&errors), "f.json:1:"));
    buf_release(&errors);
    free(text);
}

/* ---- language ---- */

static void language_defaults_to_english(void **state)
{
    struct campaign *c = parse_ok(MINIMAL);
    assert_string_equal(c->language, "en");
    assert_string_equal(c->statement_prompt, "Why this matters to you");
    campaign_free(c);
}

static void language_tag_is_kept_in_its_usual_case(void **state)
{
    static const char *const cases[][2] = {
        {"\"language\": \"ar\"", "ar"},           {"\"language\": \"ES-mx\"", "es-MX"},
        {"\"language\": \"sr-latn\"", "sr-Latn"}, {"\"language\": \"zh-Hant-TW\"", "zh-Hant-TW"},
        {"\"language\": \"es-419\"", "es-419"},   {"\"language\": \"fil\"", "fil"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = with_field(cases[i][0]);
        struct campaign *c = parse_ok(json);
        assert_string_equal(c->language, cases[i][1]);
        campaign_free(c);
        free(json);
    }
}

static void invalid_language_tags_are_rejected(void **state)
{
    static const char *const bad[] = {"e",      "engl",    "en_US",      "en-", "-en",
                                      "en-USA", "en-1",    "en-US-Latn", "e1",  "en-Latn-Cyrl",
                                      "ar--EG", "es-MX-x", "en US",      "ä"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char field[64], want[512];
        snprintf(field, sizeof field, "\"language\": \"%s\"", bad[i]);
        snprintf(want, sizeof want,
                 "f.json: $.language: \"%s\" is not a language tag; expected a language of 2 "
                 "or 3 letters, optionally with a script and a region, like \"en\", \"ar\", "
                 "\"es-MX\" or \"sr-Latn\"\n",
                 bad[i]);
        assert_field_error(field, want);
    }
}

static void default_words_follow_the_language(void **state)
{
    char *json = with_field("\"language\": \"es\", \"statement\": {\"enabled\": true}");
    struct campaign *c = parse_ok(json);
    assert_string_equal(c->statement_prompt, "Por qué te importa");
    assert_string_equal(c->closed_message,
                        "Todos los objetivos están cerrados por ahora. Gracias por estar aquí.");
    campaign_free(c);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_file_parses),
        cmocka_unit_test(language_defaults_to_english),
        cmocka_unit_test(language_tag_is_kept_in_its_usual_case),
        cmocka_unit_test(invalid_language_tags_are_rejected),
        cmocka_unit_test(default_words_follow_the_language),
        cmocka_unit_test(defaults_are_filled_in),
        cmocka_unit_test(default_fallback_is_every_target_in_file_order),
        cmocka_unit_test(message_with_only_a_body_has_an_empty_title),
        cmocka_unit_test(message_with_only_a_title_has_an_empty_body),
        cmocka_unit_test(full_example_parses_every_field),
        cmocka_unit_test(example_file_in_the_repository_parses),
        cmocka_unit_test(launch_in_winter_uses_standard_time),
        cmocka_unit_test(launch_in_summer_uses_daylight_time),
        cmocka_unit_test(launch_without_seconds_is_accepted),
        cmocka_unit_test(launch_at_with_an_offset_is_rejected),
        cmocka_unit_test(launch_at_on_an_impossible_date_is_rejected),
        cmocka_unit_test(unknown_time_zone_is_rejected),
        cmocka_unit_test(bad_time_zone_and_bad_time_are_both_reported),
        cmocka_unit_test(window_minutes_out_of_range_is_rejected),
        cmocka_unit_test(missing_slug_is_reported),
        cmocka_unit_test(missing_title_is_reported),
        cmocka_unit_test(missing_launch_is_reported),
        cmocka_unit_test(missing_launch_at_is_reported),
        cmocka_unit_test(missing_launch_timezone_is_reported),
        cmocka_unit_test(missing_message_is_reported),
        cmocka_unit_test(message_without_title_or_body_is_reported),
        cmocka_unit_test(missing_targets_is_reported),
        cmocka_unit_test(empty_targets_is_reported),
        cmocka_unit_test(empty_object_lists_every_required_field),
        cmocka_unit_test(syntax_error_has_line_and_column),
        cmocka_unit_test(syntax_error_column_counts_characters),
        cmocka_unit_test(empty_file_is_a_syntax_error),
        cmocka_unit_test(truncated_file_is_a_syntax_error),
        cmocka_unit_test(duplicate_key_is_a_syntax_error),
        cmocka_unit_test(nul_in_a_string_is_rejected),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(top_level_array_is_rejected),
        cmocka_unit_test(unknown_top_level_field_is_reported),
        cmocka_unit_test(unknown_nested_field_is_reported),
        cmocka_unit_test(odd_keys_are_quoted_in_the_path),
        cmocka_unit_test(string_of_the_wrong_type_is_reported),
        cmocka_unit_test(integer_of_the_wrong_type_is_reported),
        cmocka_unit_test(boolean_of_the_wrong_type_is_reported),
        cmocka_unit_test(object_of_the_wrong_type_is_reported),
        cmocka_unit_test(array_of_the_wrong_type_is_reported),
        cmocka_unit_test(null_is_not_an_absent_field),
        cmocka_unit_test(slug_with_uppercase_is_rejected),
        cmocka_unit_test(slug_that_is_empty_or_too_long_is_rejected),
        cmocka_unit_test(slug_rules),
        cmocka_unit_test(empty_title_is_rejected),
        cmocka_unit_test(title_with_a_line_break_is_rejected),
        cmocka_unit_test(control_characters_in_text_are_rejected),
        cmocka_unit_test(title_longer_than_200_characters_is_rejected),
        cmocka_unit_test(description_longer_than_20000_characters_is_rejected),
        cmocka_unit_test(closed_message_longer_than_2000_characters_is_rejected),
        cmocka_unit_test(message_parts_have_length_limits),
        cmocka_unit_test(description_and_organizer_are_optional_and_read),
        cmocka_unit_test(organizer_email_is_validated),
        cmocka_unit_test(organizer_unknown_field_is_reported),
        cmocka_unit_test(statement_settings_are_read),
        cmocka_unit_test(statement_max_chars_out_of_range_is_rejected),
        cmocka_unit_test(assignment_modes_are_read),
        cmocka_unit_test(unknown_assignment_is_rejected),
        cmocka_unit_test(close_after_reports_out_of_range_is_rejected),
        cmocka_unit_test(empty_closed_message_is_rejected),
        cmocka_unit_test(template_error_in_the_body_has_its_line_and_column),
        cmocka_unit_test(template_error_in_the_title_is_reported),
        cmocka_unit_test(target_must_be_an_object),
        cmocka_unit_test(target_without_id_is_reported),
        cmocka_unit_test(target_id_with_bad_characters_is_reported),
        cmocka_unit_test(duplicate_target_id_is_reported),
        cmocka_unit_test(target_without_kind_is_reported),
        cmocka_unit_test(unknown_kind_is_reported),
        cmocka_unit_test(every_kind_name_leads_back_to_its_kind),
        cmocka_unit_test(every_kind_example_parses_as_that_kind),
        cmocka_unit_test(field_of_another_kind_is_unknown),
        cmocka_unit_test(bluesky_and_x_take_no_fields),
        cmocka_unit_test(label_and_cap_are_read),
        cmocka_unit_test(cap_must_be_a_positive_integer),
        cmocka_unit_test(too_many_targets_are_rejected),
        cmocka_unit_test(github_issue_needs_a_repo),
        cmocka_unit_test(github_repo_must_be_owner_slash_name),
        cmocka_unit_test(github_repo_with_dots_and_underscores_is_accepted),
        cmocka_unit_test(github_labels_must_be_plain_strings),
        cmocka_unit_test(github_template_must_be_a_file_name),
        cmocka_unit_test(gitlab_issue_needs_a_project_url),
        cmocka_unit_test(gitlab_project_url_must_be_http),
        cmocka_unit_test(gitlab_project_url_needs_a_path),
        cmocka_unit_test(gitlab_project_url_without_query_fragment_or_spaces),
        cmocka_unit_test(gitlab_project_url_needs_a_host),
        cmocka_unit_test(gitlab_project_url_loses_its_trailing_slash),
        cmocka_unit_test(email_needs_recipients),
        cmocka_unit_test(email_addresses_are_validated),
        cmocka_unit_test(email_address_lists_reject_separators),
        cmocka_unit_test(email_cc_and_bcc_are_optional),
        cmocka_unit_test(call_needs_number_and_script),
        cmocka_unit_test(call_number_must_be_e164),
        cmocka_unit_test(call_script_is_a_template),
        cmocka_unit_test(call_target_is_read),
        cmocka_unit_test(mastodon_instance_is_optional),
        cmocka_unit_test(mastodon_instance_must_not_be_a_url),
        cmocka_unit_test(mastodon_instance_must_be_a_host_name),
        cmocka_unit_test(web_needs_a_url),
        cmocka_unit_test(web_url_must_be_http),
        cmocka_unit_test(web_url_placeholders_stay_out_of_the_host),
        cmocka_unit_test(web_url_template_error_has_its_column),
        cmocka_unit_test(web_url_has_no_spaces_outside_placeholders),
        cmocka_unit_test(web_url_with_placeholders_is_accepted),
        cmocka_unit_test(fallback_must_name_known_targets),
        cmocka_unit_test(fallback_must_not_repeat_a_target),
        cmocka_unit_test(fallback_must_be_an_array_of_strings),
        cmocka_unit_test(empty_fallback_is_kept_empty),
        cmocka_unit_test(every_error_is_listed),
        cmocka_unit_test(error_lines_start_with_the_file_name),
        cmocka_unit_test(errors_are_appended_to_what_is_there),
        cmocka_unit_test(errors_buffer_is_optional),
        cmocka_unit_test(text_need_not_be_nul_terminated),
        cmocka_unit_test(canonical_json_ignores_key_order_and_spacing),
        cmocka_unit_test(canonical_json_differs_when_content_differs),
        cmocka_unit_test(lookup_and_names),
        cmocka_unit_test(reminder_offsets_parse_in_minutes_hours_and_days),
        cmocka_unit_test(reminder_offsets_that_are_not_before_the_moment_are_refused),
        cmocka_unit_test(reminders_are_kept_furthest_first),
        cmocka_unit_test(duplicate_and_too_many_reminders_are_refused),
        cmocka_unit_test(follow_up_must_be_inside_the_window),
        cmocka_unit_test(mails_are_compiled_and_their_template_errors_located),
        cmocka_unit_test(hostile_input_never_crashes),
        cmocka_unit_test(deep_nesting_is_a_syntax_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
