/*
 * store_pg_suppression: the suppression list's queries
 * (store_suppression.h) on PostgreSQL: insert-if-absent is INSERT ... ON
 * CONFLICT DO NOTHING under the unique key, with the campaign's count in the
 * same transaction; the temporary failures are one INSERT ... ON CONFLICT DO
 * UPDATE ... RETURNING, atomic whoever else reports at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/pg_private.h"
#include "store/store.h"
#include "store/store_suppression.h"
#include "core/banned.h"

int pg_suppression_add(struct store *base, const struct suppression_entry *e, int *added)
{
    struct pg_store *st = pg_of(base);
    const char *kind = suppression_kind_name(e->kind);
    if (!kind) {
        log_error("store.error", "op=suppression_add error=\"unknown kind %d\"", (int)e->kind);
        return -1;
    }
    int own_tx = st->tx == PG_TX_NONE;
    if (own_tx && pg_begin(st) != 0)
        return -1;
    struct pg_params p = {0};
    pg_param_text(&p, e->key);
    pg_param_text(&p, e->address);
    pg_param_text(&p, kind);
    pg_param_i64(&p, e->created_at);
    pg_param_text(&p, e->reason ? e->reason : "");
    pg_param_i64(&p, e->campaign_id);
    int64_t inserted = 0;
    if (pg_run(st,
               "INSERT INTO suppressions (address_key, address, kind, created_at, reason, "
               "campaign_id) VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::text, "
               "$6::bigint) ON CONFLICT (address_key) DO NOTHING",
               &p, "suppression add", &inserted) != 0)
        goto fail;
    if (inserted == 1 && e->campaign_id > 0 &&
        (e->kind == SUPPRESSION_BOUNCE || e->kind == SUPPRESSION_COMPLAINT)) {
        struct pg_params c = {0};
        pg_param_i64(&c, e->campaign_id);
        pg_param_i64(&c, e->kind == SUPPRESSION_BOUNCE);
        pg_param_i64(&c, e->kind == SUPPRESSION_COMPLAINT);
        if (pg_run(st,
                   "INSERT INTO suppression_campaign_counts AS k (campaign_id, bounces, "
                   "complaints) VALUES ($1::bigint, $2::bigint, $3::bigint) ON CONFLICT "
                   "(campaign_id) DO UPDATE SET bounces = k.bounces + $2::bigint, complaints = "
                   "k.complaints + $3::bigint",
                   &c, "suppression count", NULL) != 0)
            goto fail;
    }
    if (own_tx && pg_commit(st) != 0)
        return -1;
    if (added)
        *added = inserted == 1;
    return 0;
fail:
    if (own_tx)
        pg_rollback(st);
    return -1;
}

#define ENTRY_COLUMNS "id, address_key, address, kind, created_at, reason, campaign_id"

/* Row i of r into e; -1 when out of memory (e released). */
static int read_entry(const PGresult *r, int i, struct suppression_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = pg_i64(r, i, 0);
    const char *key = pg_text(r, i, 1);
    if (key)
        snprintf(e->key, sizeof e->key, "%s", key);
    if (pg_text(r, i, 2)) {
        e->address = pg_strdup(r, i, 2);
        if (!e->address)
            return -1;
    }
    enum suppression_kind kind = SUPPRESSION_MANUAL;
    suppression_kind_parse(pg_text(r, i, 3), &kind);
    e->kind = kind;
    e->created_at = pg_i64(r, i, 4);
    e->reason = pg_strdup(r, i, 5);
    e->campaign_id = pg_i64(r, i, 6);
    if (!e->reason) {
        suppression_entry_release(e);
        return -1;
    }
    return 0;
}

int pg_suppression_get(struct store *base, const char *key, struct suppression_entry *out)
{
    struct pg_params p = {0};
    pg_param_text(&p, key);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT " ENTRY_COLUMNS " FROM suppressions WHERE address_key = "
                          "$1::text",
                          &p, "suppression get");
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    struct suppression_entry e;
    int rc = read_entry(r, 0, &e);
    PQclear(r);
    if (rc != 0) {
        log_error("store.error", "op=suppression_get error=\"out of memory\"");
        return -1;
    }
    *out = e;
    return 0;
}

int pg_suppression_exists(struct store *base, const char *key, int *found)
{
    struct pg_params p = {0};
    pg_param_text(&p, key);
    PGresult *r = pg_exec(pg_of(base), "SELECT 1 FROM suppressions WHERE address_key = $1::text",
                          &p, "suppression exists");
    if (!r)
        return -1;
    *found = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

/* The keys are hex digests (suppression_key): an array literal of them
 * needs no quoting, and anything else is refused rather than spliced. */
int pg_suppression_exists_many(struct store *base, const char *const *keys, size_t n, int *found)
{
    struct buf list = BUF_INIT;
    buf_putc(&list, '{');
    for (size_t i = 0; i < n; i++) {
        if (!keys[i][0] || strspn(keys[i], "0123456789abcdef") != strlen(keys[i])) {
            buf_release(&list);
            log_error("store.suppression", "error=\"a key that is not a hex digest\"");
            return -1;
        }
        buf_printf(&list, "%s%s", i ? "," : "", keys[i]);
    }
    buf_putc(&list, '}');
    if (buf_failed(&list)) {
        buf_release(&list);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_text(&p, buf_cstr(&list));
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT address_key FROM suppressions WHERE address_key = "
                          "ANY($1::text[])",
                          &p, "suppression exists");
    buf_release(&list);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        found[i] = 0;
    for (int k = 0; k < PQntuples(r); k++) {
        const char *key = pg_text(r, k, 0);
        for (size_t i = 0; key && i < n; i++)
            if (strcmp(keys[i], key) == 0)
                found[i] = 1;
    }
    PQclear(r);
    return 0;
}

int pg_suppression_remove(struct store *base, const char *key, int *removed)
{
    struct pg_store *st = pg_of(base);
    int own_tx = st->tx == PG_TX_NONE;
    if (own_tx && pg_begin(st) != 0)
        return -1;
    struct pg_params p = {0};
    pg_param_text(&p, key);
    int64_t deleted = 0;
    if (pg_run(st, "DELETE FROM suppressions WHERE address_key = $1::text", &p,
               "suppression remove", &deleted) != 0 ||
        pg_run(st, "DELETE FROM suppression_temporary WHERE address_key = $1::text", &p,
               "suppression remove temporary", NULL) != 0) {
        if (own_tx)
            pg_rollback(st);
        return -1;
    }
    if (own_tx && pg_commit(st) != 0)
        return -1;
    if (removed)
        *removed = deleted > 0;
    return 0;
}

int pg_suppression_forget_address(struct store *base, const char *key, int *changed)
{
    struct pg_params p = {0};
    pg_param_text(&p, key);
    int64_t n = 0;
    if (pg_run(pg_of(base),
               "UPDATE suppressions SET address = NULL WHERE address_key = $1::text AND address "
               "IS NOT NULL",
               &p, "suppression forget", &n) != 0)
        return -1;
    if (changed)
        *changed = n > 0;
    return 0;
}

int pg_suppression_each(struct store *base, store_suppression_fn row, void *ctx)
{
    PGresult *r = pg_exec(
        pg_of(base), "SELECT " ENTRY_COLUMNS " FROM suppressions ORDER BY created_at DESC, id DESC",
        NULL, "suppression each");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct suppression_entry e;
        if (read_entry(r, i, &e) != 0) {
            PQclear(r);
            log_error("store.error", "op=suppression_each error=\"out of memory\"");
            return -1;
        }
        int stop = row(ctx, &e);
        suppression_entry_release(&e);
        if (stop)
            break;
    }
    PQclear(r);
    return 0;
}

int pg_suppression_count(struct store *base, int64_t *count)
{
    PGresult *r =
        pg_exec(pg_of(base), "SELECT count(*) FROM suppressions", NULL, "suppression count");
    if (!r)
        return -1;
    *count = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_suppression_temporary(struct store *base, const char *key, int64_t now, int64_t window_start,
                             int64_t *failures)
{
    struct pg_params p = {0};
    pg_param_text(&p, key);
    pg_param_i64(&p, now);
    pg_param_i64(&p, window_start);
    PGresult *r = pg_exec(
        pg_of(base),
        "INSERT INTO suppression_temporary AS t (address_key, failures, window_start, last_at) "
        "VALUES ($1::text, 1, $2::bigint, $2::bigint) ON CONFLICT (address_key) DO UPDATE SET "
        "failures = CASE WHEN t.window_start >= $3::bigint THEN t.failures + 1 ELSE 1 END, "
        "window_start = CASE WHEN t.window_start >= $3::bigint THEN t.window_start ELSE "
        "$2::bigint END, last_at = $2::bigint RETURNING failures",
        &p, "suppression temporary");
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        log_error("store.error", "op=suppression_temporary error=\"no row returned\"");
        return -1;
    }
    *failures = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_suppression_campaign_counts(struct store *base, int64_t campaign_id, int64_t *bounces,
                                   int64_t *complaints)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT bounces, complaints FROM suppression_campaign_counts WHERE "
                          "campaign_id = $1::bigint",
                          &p, "suppression counts");
    if (!r)
        return -1;
    int64_t b = 0, c = 0;
    if (PQntuples(r) > 0) {
        b = pg_i64(r, 0, 0);
        c = pg_i64(r, 0, 1);
    }
    PQclear(r);
    *bounces = b;
    *complaints = c;
    return 0;
}

int pg_outbox_suppressed(struct store *base, int64_t item_id, int64_t now, const char *reason)
{
    struct pg_params p = {0};
    pg_param_i64(&p, item_id);
    pg_param_i64(&p, now);
    pg_param_text(&p, reason);
    return pg_run(pg_of(base),
                  "UPDATE outbox SET state = 'suppressed', sent_at = $2::bigint, last_reply = "
                  "$3::text, owner = NULL, lease_until = 0 WHERE id = $1::bigint AND state = "
                  "'pending'",
                  &p, "outbox suppressed", NULL);
}

int pg_suppression_campaign_mail(struct store *base, int64_t campaign_id, int64_t *sent,
                                 int64_t *suppressed)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE "
                          "state = 'suppressed') FROM outbox WHERE campaign_id = $1::bigint AND "
                          "state IN ('sent', 'suppressed')",
                          &p, "suppression campaign mail");
    if (!r)
        return -1;
    if (sent)
        *sent = pg_i64(r, 0, 0);
    if (suppressed)
        *suppressed = pg_i64(r, 0, 1);
    PQclear(r);
    return 0;
}
