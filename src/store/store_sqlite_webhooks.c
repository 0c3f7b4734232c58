/*
 * store_sqlite_webhooks: the webhook_events queries (store_webhooks.h).
 * An event arrives with its payload built (service/webhook_events.c); claims,
 * leases and outcomes follow the mail outbox: a claim is one BEGIN IMMEDIATE
 * transaction, and each outcome is committed on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_private.h"
#include "store/store.h"
#include "store/store_webhooks.h"
#include "core/banned.h"

int sqlite_webhook_insert(struct store *base, int64_t campaign_id, enum webhook_event event,
                          const char *payload, int64_t at)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO webhook_events (campaign_id, event, payload, "
                                   "next_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sql_bind_text(s, 2, webhook_event_name(event));
    sql_bind_text(s, 3, payload);
    sqlite3_bind_int64(s, 4, at);
    return sql_step_done(st, s, "webhook enqueue");
}

int sqlite_webhook_claim(struct store *base, const char *owner, int64_t now, int lease_seconds,
                         struct webhook_delivery *items, size_t max, size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    size_t count = 0;
    if (sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, campaign_id, event, payload, attempts FROM "
                                   "webhook_events WHERE state = 'pending' AND next_at <= ?1 "
                                   "AND lease_until <= ?1 ORDER BY next_at, id LIMIT ?2");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    while (count < max && sqlite3_step(s) == SQLITE_ROW) {
        struct webhook_delivery *d = &items[count];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(s, 0);
        d->campaign_id = sqlite3_column_int64(s, 1);
        const char *event = (const char *)sqlite3_column_text(s, 2);
        d->event = event && strcmp(event, webhook_event_name(WEBHOOK_ACTION_CLICKED)) == 0
                       ? WEBHOOK_ACTION_CLICKED
                       : WEBHOOK_PLEDGE_CONFIRMED;
        d->payload = sql_col_strdup(s, 3);
        d->payload_len = d->payload ? strlen(d->payload) : 0;
        d->attempts = sqlite3_column_int(s, 4) + 1;
        count++;
        if (!d->payload) {
            sqlite3_reset(s);
            goto fail;
        }
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < count; i++) {
        s = sql_stmt(st, "UPDATE webhook_events SET owner = ?2, lease_until = ?3, "
                         "attempts = attempts + 1 WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, items[i].id);
        sql_bind_text(s, 2, owner);
        sqlite3_bind_int64(s, 3, now + lease_seconds);
        if (sql_step_done(st, s, "webhook claim") != 0)
            goto fail;
    }
    if (sql_commit(st) != 0)
        goto fail;
    *n = count;
    return 0;
fail:
    sql_rollback(st);
    for (size_t i = 0; i < count; i++)
        webhook_delivery_release(&items[i]);
    return -1;
}

static int finish(struct sqlite_store *st, const char *sql, int64_t id, int64_t at, int status,
                  const char *error)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_int(s, 3, status);
    sql_bind_text(s, 4, error);
    return sql_step_done(st, s, "webhook outcome");
}

int sqlite_webhook_sent(struct store *base, int64_t id, int status, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    return finish(st,
                  "UPDATE webhook_events SET state = 'sent', done_at = ?2, last_status = ?3, "
                  "last_error = ?4, owner = NULL, lease_until = 0 WHERE id = ?1",
                  id, now, status, NULL);
}

int sqlite_webhook_retry(struct store *base, int64_t id, int64_t next_at, int status,
                         const char *error)
{
    struct sqlite_store *st = sqlite_of(base);
    return finish(st,
                  "UPDATE webhook_events SET next_at = ?2, last_status = ?3, last_error = ?4, "
                  "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                  id, next_at, status, error);
}

int sqlite_webhook_failed(struct store *base, int64_t id, int64_t now, int status,
                          const char *error)
{
    struct sqlite_store *st = sqlite_of(base);
    return finish(st,
                  "UPDATE webhook_events SET state = 'failed', done_at = ?2, last_status = ?3, "
                  "last_error = ?4, owner = NULL, lease_until = 0 WHERE id = ?1 AND "
                  "state = 'pending'",
                  id, now, status, error);
}

int sqlite_webhook_release(struct store *base, int64_t id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE webhook_events SET owner = NULL, lease_until = 0, "
                                   "attempts = max(attempts - 1, 0) WHERE id = ?1 AND "
                                   "state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return sql_step_done(st, s, "webhook release");
}
