/*
 * store_copy: the one list of every table and column muster keeps (the
 * newest schema of store_sqlite_migrations.c and store_pg_migrations.c),
 * parents before children, and the backend-neutral side of store_copy.h:
 * each function forwards to the backend's table. A migration that adds a
 * table or a column adds it here too; store_copy_check finds the ones
 * forgotten (`muster migrate` refuses to copy then, and the conformance
 * suite fails).
 */
#include "store/store_copy.h"

#include <stdio.h>
#include <string.h>

#include "store/store_backend.h"
#include "core/banned.h"

#define I STORE_COPY_INT
#define T STORE_COPY_TEXT
#define B STORE_COPY_BLOB
#define COLUMNS(a) a, sizeof a / sizeof a[0]

static const struct store_copy_column meta_columns[] = {{"key", T}, {"value", B}};

static const struct store_copy_column campaign_columns[] = {{"id", I},
                                                            {"slug", T},
                                                            {"spec_json", T},
                                                            {"launch_utc", I},
                                                            {"launched_at", I},
                                                            {"window_minutes", I},
                                                            {"revision", I},
                                                            {"created_at", I},
                                                            {"updated_at", I},
                                                            {"confirmed_count", I},
                                                            {"language", T},
                                                            {"calendar_sequence", I},
                                                            {"mail_steps_done", I},
                                                            {"paused_at", I},
                                                            {"paused_by", T},
                                                            {"paused_reason", T}};

static const struct store_copy_column target_columns[] = {
    {"id", I},       {"campaign_id", I}, {"key", T},     {"position", I}, {"kind", T},
    {"cap", I},      {"open", I},        {"removed", I}, {"assigned", I}, {"clicks", I},
    {"rerouted", I}, {"reason", T},      {"places", I}};

static const struct store_copy_column target_event_columns[] = {
    {"id", I}, {"target_id", I}, {"at", I}, {"action", T}, {"reason", T}, {"actor", T}};

static const struct store_copy_column target_report_columns[] = {
    {"id", I}, {"target_id", I}, {"supporter_id", I}, {"at", I}};

static const struct store_copy_column supporter_columns[] = {{"id", I},
                                                             {"campaign_id", I},
                                                             {"token_key", I},
                                                             {"epoch", I},
                                                             {"email", T},
                                                             {"email_norm", T},
                                                             {"name", T},
                                                             {"statement", T},
                                                             {"timezone", T},
                                                             {"chosen_target", T},
                                                             {"instance", T},
                                                             {"status", T},
                                                             {"created_at", I},
                                                             {"consent_at", I},
                                                             {"consent_text", T},
                                                             {"consent_ip", T},
                                                             {"source", T},
                                                             {"confirmed_at", I},
                                                             {"unsubscribed_at", I},
                                                             {"erased_at", I},
                                                             {"assigned_target", I},
                                                             {"pending_json", T},
                                                             {"confirm_mail_day", I},
                                                             {"confirm_mails", I},
                                                             {"change_epoch", I}};

static const struct store_copy_column outbox_columns[] = {
    {"id", I},      {"kind", I},        {"campaign_id", I}, {"supporter_id", I}, {"state", T},
    {"owner", T},   {"lease_until", I}, {"attempts", I},    {"next_at", I},      {"created_at", I},
    {"sent_at", I}, {"last_reply", T},  {"variant", I}};

static const struct store_copy_column click_columns[] = {{"id", I},           {"campaign_id", I},
                                                         {"supporter_id", I}, {"target_id", I},
                                                         {"at", I},           {"rerouted", I}};

static const struct store_copy_column organizer_columns[] = {
    {"id", I},         {"email", T}, {"password_hash", T}, {"password_changed_at", I},
    {"created_at", I}, {"role", T}};

static const struct store_copy_column session_columns[] = {
    {"token_hash", T}, {"organizer_id", I}, {"created_at", I}, {"expires_at", I}};

static const struct store_copy_column api_token_columns[] = {
    {"id", I},         {"token_hash", T}, {"organizer_id", I},
    {"created_at", I}, {"expires_at", I}, {"last_used_at", I}};

static const struct store_copy_column webhook_event_columns[] = {
    {"id", I},         {"campaign_id", I}, {"event", T},  {"payload", T},     {"state", T},
    {"attempts", I},   {"next_at", I},     {"owner", T},  {"lease_until", I}, {"last_status", I},
    {"last_error", T}, {"created_at", I},  {"done_at", I}};

static const struct store_copy_column grant_columns[] = {
    {"campaign_id", I}, {"organizer_id", I}, {"role", T}, {"granted_at", I}};

static const struct store_copy_column suppression_columns[] = {
    {"id", I},         {"address_key", T}, {"address", T},    {"kind", T},
    {"created_at", I}, {"reason", T},      {"campaign_id", I}};

static const struct store_copy_column suppression_temporary_columns[] = {
    {"address_key", T}, {"failures", I}, {"window_start", I}, {"last_at", I}};

static const struct store_copy_column suppression_count_columns[] = {
    {"campaign_id", I}, {"bounces", I}, {"complaints", I}};

static const struct store_copy_table tables[] = {
    {"meta", "key", 0, COLUMNS(meta_columns)},
    {"campaigns", "id", 1, COLUMNS(campaign_columns)},
    {"targets", "id", 1, COLUMNS(target_columns)},
    {"target_events", "id", 1, COLUMNS(target_event_columns)},
    {"supporters", "id", 1, COLUMNS(supporter_columns)},
    {"target_reports", "id", 1, COLUMNS(target_report_columns)},
    {"outbox", "id", 1, COLUMNS(outbox_columns)},
    {"clicks", "id", 1, COLUMNS(click_columns)},
    {"organizers", "id", 1, COLUMNS(organizer_columns)},
    {"sessions", "token_hash", 0, COLUMNS(session_columns)},
    {"api_tokens", "id", 1, COLUMNS(api_token_columns)},
    {"webhook_events", "id", 1, COLUMNS(webhook_event_columns)},
    {"campaign_grants", "campaign_id, organizer_id", 0, COLUMNS(grant_columns)},
    {"suppressions", "id", 1, COLUMNS(suppression_columns)},
    {"suppression_temporary", "address_key", 0, COLUMNS(suppression_temporary_columns)},
    {"suppression_campaign_counts", "campaign_id", 0, COLUMNS(suppression_count_columns)},
};

#undef I
#undef T
#undef B

const struct store_copy_table *store_copy_tables(size_t *n)
{
    *n = sizeof tables / sizeof tables[0];
    return tables;
}

struct check_ctx {
    struct buf *unknown;
    int failed;
};

static int known_column(const char *table, const char *column)
{
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (strcmp(tables[i].name, table) != 0)
            continue;
        if (!column)
            return 1;
        for (size_t c = 0; c < tables[i].ncolumns; c++)
            if (strcmp(tables[i].columns[c].name, column) == 0)
                return 1;
        return 0;
    }
    return 0;
}

static int check_one(void *arg, const char *table, const char *column)
{
    struct check_ctx *ctx = arg;
    /* (table, NULL) comes once per table, then (table, column) per column. */
    if (!column) {
        if (!known_column(table, NULL))
            buf_printf(ctx->unknown, "%s\n", table);
    } else if (known_column(table, NULL) && !known_column(table, column)) {
        buf_printf(ctx->unknown, "%s.%s\n", table, column);
    }
    if (buf_failed(ctx->unknown))
        ctx->failed = 1;
    return 0;
}

int store_copy_check(struct store *st, struct buf *unknown)
{
    struct check_ctx ctx = {unknown, 0};
    if (st->be->copy_schema(st, check_one, &ctx) != 0 || ctx.failed)
        return -1;
    return 0;
}

int store_copy_read(struct store *st, const struct store_copy_table *t, store_row_fn row, void *ctx)
{
    return st->be->copy_read(st, t, row, ctx);
}

int store_copy_write(struct store *st, const struct store_copy_table *t, const char *const *values,
                     size_t n)
{
    return st->be->copy_write(st, t, values, n);
}

int store_copy_finish(struct store *st, const struct store_copy_table *t)
{
    return st->be->copy_finish(st, t);
}

int store_copy_count(struct store *st, const struct store_copy_table *t, int64_t *count)
{
    return st->be->copy_count(st, t, count);
}

int store_copy_other_user(struct store *st, int64_t *pid)
{
    return st->be->copy_other_user(st, pid);
}
