/*
 * store_sqlite_webhooks: the webhook_events queries (store_webhooks.h).
 * Queuing reads the campaign's stored file inside the caller's transaction,
 * so whether an event is owed follows the campaign as applied at that
 * moment, and needs nothing from the callers but ids; a caller queuing many
 * events in one transaction reads it once (store_webhook_want). Claims, leases and
 * outcomes follow the mail outbox: a claim is one BEGIN IMMEDIATE
 * transaction, and each outcome is committed on its own.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_private.h"
#include "store/store.h"
#include "store/store_webhooks.h"
#include "webhooks/webhook.h"
#include "core/banned.h"

int store_webhook_want(struct store *st, int64_t campaign_id, enum webhook_event event,
                       struct webhook_want *out)
{
    /* The instr() test keeps campaigns without a webhook from paying for
     * JSON parsing: in the canonical (compact) file, "webhook": can only be
     * the key, since quotes inside strings are escaped. */
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT c.slug, instr(c.spec_json, '\"webhook\":') > 0 AND "
                     "json_type(c.spec_json, '$.webhook.url') = 'text' AND "
                     "(json_type(c.spec_json, '$.webhook.events') IS NULL OR EXISTS (SELECT 1 FROM "
                     "json_each(c.spec_json, '$.webhook.events') WHERE value = ?2)) "
                     "FROM campaigns c WHERE c.id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sql_bind_text(s, 2, webhook_event_name(event));
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return sql_error(st, "webhook campaign");
        /* No such campaign: nothing is owed. */
        out->campaign_id = campaign_id;
        out->event = event;
        out->slug = NULL;
        return 0;
    }
    int wanted = sqlite3_column_int(s, 1);
    char *slug = wanted ? sql_col_strdup(s, 0) : NULL;
    sqlite3_reset(s);
    if (wanted && !slug)
        return -1;
    out->campaign_id = campaign_id;
    out->event = event;
    out->slug = slug;
    return 0;
}

void webhook_want_release(struct webhook_want *w)
{
    free(w->slug);
    w->slug = NULL;
}

int store_webhook_enqueue_wanted(struct store *st, const struct webhook_want *w,
                                 int64_t supporter_id, int64_t target_id, int64_t at)
{
    if (!w->slug)
        return 0;
    int result = -1;
    char *target = NULL;
    struct buf payload = BUF_INIT;
    sqlite3_stmt *s;
    if (target_id) {
        s = sql_stmt(st, "SELECT key FROM targets WHERE id = ?1");
        if (!s)
            return -1;
        sqlite3_bind_int64(s, 1, target_id);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            target = sql_col_strdup(s, 0);
        sqlite3_reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return sql_error(st, "webhook target");
        if (rc == SQLITE_ROW && !target)
            return -1;
    }
    char event_id[WEBHOOK_EVENT_ID_LEN + 1], supporter[WEBHOOK_SUPPORTER_ID_LEN + 1];
    webhook_event_id(event_id);
    webhook_supporter_id(w->campaign_id, supporter_id, supporter);
    struct webhook_payload p = {w->event, event_id, w->slug, at, supporter, target};
    if (webhook_payload_build(&p, &payload) != 0)
        goto out;
    s = sql_stmt(st, "INSERT INTO webhook_events (campaign_id, event, payload, next_at, "
                     "created_at) VALUES (?1, ?2, ?3, ?4, ?4)");
    if (!s)
        goto out;
    sqlite3_bind_int64(s, 1, w->campaign_id);
    sql_bind_text(s, 2, webhook_event_name(w->event));
    sql_bind_text(s, 3, buf_cstr(&payload));
    sqlite3_bind_int64(s, 4, at);
    result = sql_step_done(st, s, "webhook enqueue");
out:
    buf_release(&payload);
    free(target);
    return result;
}

int store_webhook_enqueue(struct store *st, int64_t campaign_id, enum webhook_event event,
                          int64_t supporter_id, int64_t target_id, int64_t at)
{
    struct webhook_want w;
    if (store_webhook_want(st, campaign_id, event, &w) != 0)
        return -1;
    int rc = store_webhook_enqueue_wanted(st, &w, supporter_id, target_id, at);
    webhook_want_release(&w);
    return rc;
}

void webhook_delivery_release(struct webhook_delivery *d)
{
    free(d->payload);
    d->payload = NULL;
}

int store_webhook_claim(struct store *st, const char *owner, int64_t now, int lease_seconds,
                        struct webhook_delivery *items, size_t max, size_t *n)
{
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

static int finish(struct store *st, const char *sql, int64_t id, int64_t at, int status,
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

int store_webhook_sent(struct store *st, int64_t id, int status, int64_t now)
{
    return finish(st,
                  "UPDATE webhook_events SET state = 'sent', done_at = ?2, last_status = ?3, "
                  "last_error = ?4, owner = NULL, lease_until = 0 WHERE id = ?1",
                  id, now, status, NULL);
}

int store_webhook_retry(struct store *st, int64_t id, int64_t next_at, int status,
                        const char *error)
{
    return finish(st,
                  "UPDATE webhook_events SET next_at = ?2, last_status = ?3, last_error = ?4, "
                  "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                  id, next_at, status, error);
}

int store_webhook_failed(struct store *st, int64_t id, int64_t now, int status, const char *error)
{
    return finish(st,
                  "UPDATE webhook_events SET state = 'failed', done_at = ?2, last_status = ?3, "
                  "last_error = ?4, owner = NULL, lease_until = 0 WHERE id = ?1 AND "
                  "state = 'pending'",
                  id, now, status, error);
}

int store_webhook_release(struct store *st, int64_t id)
{
    sqlite3_stmt *s = sql_stmt(st, "UPDATE webhook_events SET owner = NULL, lease_until = 0, "
                                   "attempts = max(attempts - 1, 0) WHERE id = ?1 AND "
                                   "state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return sql_step_done(st, s, "webhook release");
}
