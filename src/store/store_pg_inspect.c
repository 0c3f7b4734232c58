/*
 * store_pg_inspect: the PostgreSQL answers to store_inspect.h, one function
 * per question, for tests and operators. PostgreSQL keeps no write-ahead
 * log a client could empty, so the checkpoint question does not apply. The
 * two fault injections write; everything else only reads.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg_private.h"
#include "store/store_inspect.h"
#include "core/banned.h"

int pg_inspect_counts(struct store *base, struct store_inspect_counts *out)
{
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM "
                          "supporters), (SELECT count(*) FROM outbox), (SELECT count(*) FROM "
                          "clicks), (SELECT count(*) FROM webhook_events)",
                          NULL, "inspect counts");
    if (!r)
        return -1;
    struct store_inspect_counts c = {
        .campaigns = pg_i64(r, 0, 0),
        .supporters = pg_i64(r, 0, 1),
        .outbox = pg_i64(r, 0, 2),
        .clicks = pg_i64(r, 0, 3),
        .webhook_events = pg_i64(r, 0, 4),
    };
    PQclear(r);
    *out = c;
    return 0;
}

int pg_inspect_supporter_id(struct store *base, const char *email, int64_t *id)
{
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    struct pg_params p = {0};
    pg_param_text(&p, norm);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT id FROM supporters WHERE email_norm = $1::text AND "
                          "erased_at = 0 ORDER BY id LIMIT 1",
                          &p, "inspect supporter");
    free(norm);
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *id = pg_i64(r, 0, 0);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_inspect_outbox(struct store *base, enum mail_kind kind, const char *email,
                      store_inspect_outbox_fn row, void *ctx)
{
    char *norm = NULL;
    if (email && !(norm = pg_lowercase_dup(email)))
        return -1;
    struct pg_params p = {0};
    pg_param_i64(&p, kind);
    pg_param_text(&p, norm);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT o.id, o.kind, o.campaign_id, o.supporter_id, o.state, o.owner, "
                          "o.lease_until, o.attempts, o.next_at, o.created_at, o.sent_at, "
                          "o.last_reply FROM outbox o WHERE ($1::int = 0 OR o.kind = $1::int) "
                          "AND ($2::text IS NULL OR o.supporter_id IN (SELECT id FROM supporters "
                          "WHERE email_norm = $2::text)) ORDER BY o.id",
                          &p, "inspect outbox");
    free(norm);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_inspect_outbox_row o = {
            .id = pg_i64(r, i, 0),
            .kind = (enum mail_kind)pg_i64(r, i, 1),
            .campaign_id = pg_i64(r, i, 2),
            .supporter_id = pg_i64(r, i, 3),
            .state = pg_text(r, i, 4),
            .owner = pg_text(r, i, 5),
            .lease_until = pg_i64(r, i, 6),
            .attempts = (int)pg_i64(r, i, 7),
            .next_at = pg_i64(r, i, 8),
            .created_at = pg_i64(r, i, 9),
            .sent_at = pg_i64(r, i, 10),
            .last_reply = pg_text(r, i, 11),
        };
        if (row(ctx, &o) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

int pg_inspect_webhook_events(struct store *base, store_inspect_webhook_fn row, void *ctx)
{
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT id, campaign_id, event, state, attempts, next_at, owner, "
                          "lease_until, last_status, last_error, created_at, done_at FROM "
                          "webhook_events ORDER BY id",
                          NULL, "inspect webhook events");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_inspect_webhook_row w = {
            .id = pg_i64(r, i, 0),
            .campaign_id = pg_i64(r, i, 1),
            .event = pg_text(r, i, 2),
            .state = pg_text(r, i, 3),
            .attempts = (int)pg_i64(r, i, 4),
            .next_at = pg_i64(r, i, 5),
            .owner = pg_text(r, i, 6),
            .lease_until = pg_i64(r, i, 7),
            .last_status = (int)pg_i64(r, i, 8),
            .last_error = pg_text(r, i, 9),
            .created_at = pg_i64(r, i, 10),
            .done_at = pg_i64(r, i, 11),
        };
        if (row(ctx, &w) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

int pg_inspect_checkpoint(struct store *base, struct store_inspect_checkpoint *out)
{
    (void)base;
    memset(out, 0, sizeof *out); /* applies = 0: no log of ours to empty */
    return 0;
}

int pg_inspect_set_email(struct store *base, const char *email, const char *new_email,
                         int64_t *changed)
{
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    struct pg_params p = {0};
    pg_param_text(&p, norm);
    pg_param_text(&p, new_email);
    int rc = pg_run(pg_of(base),
                    "UPDATE supporters SET email = $2::text WHERE email_norm = $1::text AND "
                    "erased_at = 0",
                    &p, "inspect set email", changed);
    free(norm);
    return rc;
}

int pg_inspect_set_leases(struct store *base, int64_t lease_until, int64_t *changed)
{
    struct pg_params p = {0};
    pg_param_i64(&p, lease_until);
    return pg_run(pg_of(base),
                  "UPDATE outbox SET lease_until = $1::bigint WHERE state = 'pending' AND "
                  "owner IS NOT NULL",
                  &p, "inspect set leases", changed);
}

int pg_inspect_integrity(struct store *base, struct store_inspect_integrity *out,
                         struct buf *problems)
{
    (void)base;
    (void)problems;
    memset(out, 0, sizeof *out); /* applies = 0: PostgreSQL checks its own pages */
    return 0;
}

int pg_log_trim(struct store *base, int64_t above_bytes, int wait_ms, struct store_log_trim *out)
{
    (void)base;
    (void)above_bytes;
    (void)wait_ms;
    memset(out, 0, sizeof *out); /* applies = 0: the server keeps and recycles its own WAL */
    return 0;
}
