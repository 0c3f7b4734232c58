/*
 * store_pg_webhooks: the webhook_events queries (store_webhooks.h) on
 * PostgreSQL. Claims follow the mail outbox's: one statement that locks the
 * due rows it picks (FOR UPDATE SKIP LOCKED) and sets the lease; each outcome
 * is one UPDATE of one row.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_private.h"
#include "store/store.h"
#include "store/store_webhooks.h"
#include "core/banned.h"

int pg_webhook_insert(struct store *base, int64_t campaign_id, enum webhook_event event,
                      const char *payload, int64_t at)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_text(&p, webhook_event_name(event));
    pg_param_text(&p, payload);
    pg_param_i64(&p, at);
    return pg_run(pg_of(base),
                  "INSERT INTO webhook_events (campaign_id, event, payload, next_at, created_at) "
                  "VALUES ($1::bigint, $2::text, $3::text, $4::bigint, $4::bigint)",
                  &p, "webhook enqueue", NULL);
}

int pg_webhook_claim(struct store *base, const char *owner, int64_t now, int lease_seconds,
                     struct webhook_delivery *items, size_t max, size_t *n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_text(&p, owner);
    pg_param_i64(&p, now + lease_seconds);
    pg_param_i64(&p, (int64_t)max);
    PGresult *r = pg_exec(
        st,
        "WITH picked AS (SELECT id FROM webhook_events WHERE state = 'pending' AND next_at <= "
        "$1::bigint AND lease_until <= $1::bigint ORDER BY next_at, id LIMIT $4::bigint FOR "
        "UPDATE SKIP LOCKED), claimed AS (UPDATE webhook_events w SET owner = $2::text, "
        "lease_until = $3::bigint, attempts = w.attempts + 1 FROM picked WHERE w.id = picked.id "
        "RETURNING w.id, w.campaign_id, w.event, w.payload, w.attempts, w.next_at) "
        "SELECT id, campaign_id, event, payload, attempts FROM claimed ORDER BY next_at, id",
        &p, "webhook claim");
    if (!r)
        return -1;
    size_t count = 0;
    for (int i = 0; i < PQntuples(r) && count < max; i++) {
        struct webhook_delivery *d = &items[count];
        memset(d, 0, sizeof *d);
        d->id = pg_i64(r, i, 0);
        d->campaign_id = pg_i64(r, i, 1);
        const char *event = pg_text(r, i, 2);
        d->event = event && strcmp(event, webhook_event_name(WEBHOOK_ACTION_CLICKED)) == 0
                       ? WEBHOOK_ACTION_CLICKED
                       : WEBHOOK_PLEDGE_CONFIRMED;
        d->payload = pg_strdup(r, i, 3);
        d->payload_len = d->payload ? strlen(d->payload) : 0;
        d->attempts = (int)pg_i64(r, i, 4);
        count++;
        if (!d->payload) {
            PQclear(r);
            for (size_t k = 0; k < count; k++)
                webhook_delivery_release(&items[k]);
            return -1;
        }
    }
    PQclear(r);
    *n = count;
    return 0;
}

static int finish(struct pg_store *st, const char *sql, int64_t id, int64_t at, int status,
                  const char *error)
{
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_i64(&p, at);
    pg_param_i64(&p, status);
    pg_param_text(&p, error);
    return pg_run(st, sql, &p, "webhook outcome", NULL);
}

int pg_webhook_sent(struct store *base, int64_t id, int status, int64_t now)
{
    return finish(pg_of(base),
                  "UPDATE webhook_events SET state = 'sent', done_at = $2::bigint, last_status = "
                  "$3::bigint, last_error = $4::text, owner = NULL, lease_until = 0 WHERE "
                  "id = $1::bigint",
                  id, now, status, NULL);
}

int pg_webhook_retry(struct store *base, int64_t id, int64_t next_at, int status, const char *error)
{
    return finish(pg_of(base),
                  "UPDATE webhook_events SET next_at = $2::bigint, last_status = $3::bigint, "
                  "last_error = $4::text, owner = NULL, lease_until = 0 WHERE id = $1::bigint "
                  "AND state = 'pending'",
                  id, next_at, status, error);
}

int pg_webhook_failed(struct store *base, int64_t id, int64_t now, int status, const char *error)
{
    return finish(pg_of(base),
                  "UPDATE webhook_events SET state = 'failed', done_at = $2::bigint, "
                  "last_status = $3::bigint, last_error = $4::text, owner = NULL, lease_until = 0 "
                  "WHERE id = $1::bigint AND state = 'pending'",
                  id, now, status, error);
}

int pg_webhook_release(struct store *base, int64_t id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    return pg_run(pg_of(base),
                  "UPDATE webhook_events SET owner = NULL, lease_until = 0, attempts = "
                  "greatest(attempts - 1, 0) WHERE id = $1::bigint AND state = 'pending'",
                  &p, "webhook release", NULL);
}
