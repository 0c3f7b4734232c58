/*
 * store_pg_rows: the PostgreSQL queries of store.h's rows: campaigns,
 * targets and places, supporters and pledges, clicks, the outbox and the
 * stats. Each does what its SQLite twin does (store_sqlite.c), checked by
 * the same conformance cases. The atomic operations: insert-if-absent is ON
 * CONFLICT DO NOTHING under the same unique indexes; launch once is a
 * conditional UPDATE; a claim is one UPDATE of rows picked FOR UPDATE SKIP
 * LOCKED, so two senders never wait for each other or claim a row twice; a
 * place is a conditional UPDATE of targets.places in a write transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/token.h"
#include "core/i18n.h"
#include "store/pg_private.h"
#include "store/store.h"
#include "core/banned.h"

/* A statement that changes rows outside any transaction of the caller's,
 * run in a write transaction of its own (under the write lock): statements
 * that lock many rows take their turn like every other writer, so two of
 * them never wait for each other's rows. */
static int run_locked(struct pg_store *st, const char *sql, const struct pg_params *p,
                      const char *what, int64_t *changed)
{
    if (st->tx != PG_TX_NONE)
        return pg_run(st, sql, p, what, changed);
    if (pg_begin(st) != 0)
        return -1;
    int64_t n = 0;
    if (pg_run(st, sql, p, what, &n) != 0) {
        pg_rollback(st);
        return -1;
    }
    if (pg_commit(st) != 0)
        return -1;
    if (changed)
        *changed = n;
    return 0;
}

/* ---------- campaigns ---------- */

int pg_campaign_insert(struct store *base, const struct campaign *c, int64_t now, int64_t *id)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_text(&p, c->slug);
    pg_param_text(&p, c->canonical_json);
    pg_param_i64(&p, c->launch_utc);
    pg_param_i64(&p, c->window_minutes);
    pg_param_i64(&p, now);
    pg_param_text(&p, c->language ? c->language : I18N_DEFAULT_LANGUAGE);
    PGresult *r = pg_exec(st,
                          "INSERT INTO campaigns (slug, spec_json, launch_utc, window_minutes, "
                          "created_at, updated_at, language) VALUES ($1::text, $2::text, "
                          "$3::bigint, $4::bigint, $5::bigint, $5::bigint, $6::text) "
                          "ON CONFLICT DO NOTHING RETURNING id",
                          &p, "campaign insert");
    if (!r)
        return -1;
    int rc = STORE_CONFLICT;
    if (PQntuples(r) == 1) {
        *id = pg_i64(r, 0, 0);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_campaign_update(struct store *base, int64_t id, const struct campaign *c, int64_t launch_utc,
                       int64_t now)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_text(&p, c->canonical_json);
    pg_param_i64(&p, launch_utc);
    pg_param_i64(&p, c->window_minutes);
    pg_param_i64(&p, now);
    pg_param_text(&p, c->language ? c->language : I18N_DEFAULT_LANGUAGE);
    int64_t changed = 0;
    if (pg_run(st,
               "UPDATE campaigns SET spec_json = $2::text, launch_utc = $3::bigint, "
               "window_minutes = $4::bigint, updated_at = $5::bigint, language = $6::text, "
               "revision = revision + 1 WHERE id = $1::bigint",
               &p, "campaign update", &changed) != 0)
        return -1;
    return changed == 1 ? 0 : STORE_NOT_FOUND;
}

#define CAMPAIGN_COLUMNS                                                                           \
    "id, slug, spec_json, launch_utc, launched_at, window_minutes, revision, language, "           \
    "calendar_sequence, mail_steps_done"

static int campaign_row_fill(const PGresult *r, struct campaign_row *out)
{
    memset(out, 0, sizeof *out);
    out->id = pg_i64(r, 0, 0);
    out->slug = pg_strdup(r, 0, 1);
    out->spec_json = pg_strdup(r, 0, 2);
    out->launch_utc = pg_i64(r, 0, 3);
    out->launched_at = pg_i64(r, 0, 4);
    out->window_minutes = (int)pg_i64(r, 0, 5);
    out->revision = pg_i64(r, 0, 6);
    /* the stored tag, checked again on the way out: a hand-edited row gives
     * English, never a broken attribute */
    const char *tag = PQgetisnull(r, 0, 7) ? NULL : PQgetvalue(r, 0, 7);
    if (!tag || i18n_tag_canonical(tag, out->language) != 0)
        memcpy(out->language, I18N_DEFAULT_LANGUAGE, sizeof I18N_DEFAULT_LANGUAGE);
    out->calendar_sequence = pg_i64(r, 0, 8);
    out->mail_steps_done = pg_i64(r, 0, 9);
    return 0;
}

static int campaign_one(struct pg_store *st, PGresult *r, int with_file, struct campaign_row *out)
{
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    struct campaign_row row;
    campaign_row_fill(r, &row);
    PQclear(r);
    if (!row.slug || (with_file && !row.spec_json)) {
        campaign_row_release(&row);
        return -1;
    }
    (void)st;
    *out = row;
    return 0;
}

int pg_campaign_get(struct store *base, const char *slug, struct campaign_row *out)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_text(&p, slug);
    return campaign_one(st,
                        pg_exec(st,
                                "SELECT " CAMPAIGN_COLUMNS " FROM campaigns WHERE slug = $1::text",
                                &p, "campaign get"),
                        1, out);
}

int pg_campaign_peek(struct store *base, const char *slug, int64_t id, struct campaign_row *out)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
#define PEEK_COLUMNS                                                                               \
    "SELECT id, slug, NULL, launch_utc, launched_at, window_minutes, revision, language, "         \
    "calendar_sequence, mail_steps_done "
    PGresult *r;
    if (slug) {
        pg_param_text(&p, slug);
        r = pg_exec(st, PEEK_COLUMNS "FROM campaigns WHERE slug = $1::text", &p, "campaign peek");
    } else {
        pg_param_i64(&p, id);
        r = pg_exec(st, PEEK_COLUMNS "FROM campaigns WHERE id = $1::bigint", &p, "campaign peek");
    }
#undef PEEK_COLUMNS
    return campaign_one(st, r, 0, out);
}

int pg_campaign_get_by_id(struct store *base, int64_t id, struct campaign_row *out)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    return campaign_one(st,
                        pg_exec(st,
                                "SELECT " CAMPAIGN_COLUMNS " FROM campaigns WHERE id = $1::bigint",
                                &p, "campaign get"),
                        1, out);
}

int pg_campaign_slugs(struct store *base, struct buf *out)
{
    struct pg_store *st = pg_of(base);
    /* COLLATE "C": bytewise, as SQLite orders text. */
    PGresult *r = pg_exec(st, "SELECT slug FROM campaigns ORDER BY slug COLLATE \"C\"", NULL,
                          "campaign list");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        buf_printf(out, "%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
    return buf_failed(out) ? -1 : 0;
}

int pg_campaign_mark_launched(struct store *base, int64_t id, int move_to_now, int64_t now,
                              int *marked)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_i64(&p, now);
    pg_param_i64(&p, move_to_now ? 1 : 0);
    int64_t changed = 0;
    if (pg_run(st,
               "UPDATE campaigns SET launched_at = $2::bigint, launch_utc = CASE WHEN "
               "$3::int <> 0 THEN $2::bigint ELSE launch_utc END WHERE id = $1::bigint AND "
               "launched_at = 0",
               &p, "launch", &changed) != 0)
        return -1;
    *marked = changed == 1;
    return 0;
}

/* ids as an array literal, "{1,2,3}", for "id = ANY($1::bigint[])". */
static int id_array(struct buf *out, const int64_t *ids, size_t n, int (*keep)(size_t, void *),
                    void *ctx)
{
    buf_putc(out, '{');
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (keep && !keep(i, ctx))
            continue;
        buf_printf(out, "%s%" PRId64, first ? "" : ",", ids[i]);
        first = 0;
    }
    buf_putc(out, '}');
    return buf_failed(out) ? -1 : 0;
}

static int not_ours(size_t i, void *ours)
{
    return !((int *)ours)[i];
}

/* The first column of each row of sql (ids), at most max of them. */
static int pg_ids(struct pg_store *st, const char *sql, struct pg_params *p, const char *what,
                  int64_t *ids, size_t max, size_t *n)
{
    PGresult *r = pg_exec(st, sql, p, what);
    if (!r)
        return -1;
    size_t count = 0;
    for (int i = 0; i < PQntuples(r) && count < max; i++)
        ids[count++] = pg_i64(r, i, 0);
    PQclear(r);
    *n = count;
    return 0;
}

int pg_campaigns_due(struct store *base, int64_t now, int64_t *ids, size_t max, size_t *n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_i64(&p, (int64_t)max);
    return pg_ids(st,
                  "SELECT id FROM campaigns WHERE launched_at = 0 AND launch_utc <= "
                  "$1::bigint AND launch_utc + window_minutes * 60 > $1::bigint "
                  "ORDER BY id LIMIT $2::bigint",
                  &p, "campaigns due", ids, max, n);
}

int pg_campaign_moved(struct store *base, int64_t id, int64_t *sequence)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    PGresult *r = pg_exec(st,
                          "UPDATE campaigns SET calendar_sequence = calendar_sequence + 1, "
                          "mail_steps_done = 0 WHERE id = $1::bigint RETURNING calendar_sequence",
                          &p, "campaign moved");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *sequence = pg_i64(r, 0, 0);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_campaign_steps_done(struct store *base, int64_t id, int64_t done_at)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    pg_param_i64(&p, done_at);
    int64_t changed = 0;
    if (pg_run(st, "UPDATE campaigns SET mail_steps_done = $2::bigint WHERE id = $1::bigint", &p,
               "campaign steps", &changed) != 0)
        return -1;
    return changed == 1 ? 0 : STORE_NOT_FOUND;
}

int pg_campaigns_ahead(struct store *base, int64_t now, int64_t horizon, int64_t *ids, size_t max,
                       size_t *n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_i64(&p, horizon);
    pg_param_i64(&p, (int64_t)max);
    return pg_ids(st,
                  "SELECT id FROM campaigns WHERE launch_utc - $2::bigint <= $1::bigint "
                  "AND launch_utc + window_minutes * 60 > $1::bigint ORDER BY id "
                  "LIMIT $3::bigint",
                  &p, "campaigns ahead", ids, max, n);
}

int pg_campaigns_missed(struct store *base, int64_t now, int64_t *ids, size_t max, size_t *n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_i64(&p, (int64_t)max);
    return pg_ids(st,
                  "SELECT id FROM campaigns WHERE launched_at = 0 AND launch_utc + "
                  "window_minutes * 60 <= $1::bigint ORDER BY id LIMIT $2::bigint",
                  &p, "campaigns missed", ids, max, n);
}

int pg_campaign_pause_get(struct store *base, int64_t campaign_id, struct campaign_pause *out)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(st,
                          "SELECT paused_at, paused_by, paused_reason FROM campaigns WHERE id = "
                          "$1::bigint",
                          &p, "pause read");
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    out->paused_at = pg_i64(r, 0, 0);
    snprintf(out->by, sizeof out->by, "%s", pg_text(r, 0, 1));
    snprintf(out->reason, sizeof out->reason, "%s", pg_text(r, 0, 2));
    PQclear(r);
    return 0;
}

int pg_campaign_set_pause(struct store *base, int64_t campaign_id, int paused, const char *by,
                          const char *reason, int64_t now, int *changed)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    int64_t n = 0;
    int rc;
    if (paused) {
        pg_param_i64(&p, now > 0 ? now : 1);
        pg_param_text(&p, by);
        pg_param_text(&p, reason);
        rc = pg_run(st,
                    "UPDATE campaigns SET paused_at = $2::bigint, paused_by = $3::text, "
                    "paused_reason = $4::text WHERE id = $1::bigint AND paused_at = 0",
                    &p, "pause", &n);
    } else {
        rc = pg_run(st,
                    "UPDATE campaigns SET paused_at = 0, paused_by = '', paused_reason = '' "
                    "WHERE id = $1::bigint AND paused_at <> 0",
                    &p, "resume", &n);
    }
    if (rc != 0)
        return -1;
    if (n != 1) {
        struct campaign_pause ignored;
        rc = pg_campaign_pause_get(base, campaign_id, &ignored);
        if (rc != 0)
            return rc;
    }
    *changed = n == 1;
    return 0;
}

int pg_confirmed_count(struct store *base, int64_t campaign_id, int64_t *count)
{
    int64_t v =
        pg_scalar(pg_of(base), "SELECT confirmed_count FROM campaigns WHERE id = $1::bigint",
                  campaign_id, "confirmed count");
    if (v < 0)
        return -1;
    *count = v;
    return 0;
}

int pg_campaign_count_confirmed(struct store *base, int64_t campaign_id, int64_t delta)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, delta);
    return pg_run(pg_of(base),
                  "UPDATE campaigns SET confirmed_count = confirmed_count + $2::bigint "
                  "WHERE id = $1::bigint",
                  &p, "confirmed count", NULL);
}

/* ---------- targets ---------- */

int pg_targets_replace(struct store *base, int64_t campaign_id, const struct target_spec *targets,
                       size_t n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    if (pg_run(st, "UPDATE targets SET removed = 1 WHERE campaign_id = $1::bigint", &p,
               "targets mark", NULL) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct target_spec *t = &targets[i];
        struct pg_params q = {0};
        pg_param_i64(&q, campaign_id);
        pg_param_text(&q, t->id);
        pg_param_i64(&q, (int64_t)i);
        pg_param_text(&q, target_kind_name(t->kind));
        pg_param_i64(&q, t->cap);
        if (pg_run(st,
                   "INSERT INTO targets (campaign_id, key, position, kind, cap) VALUES "
                   "($1::bigint, $2::text, $3::bigint, $4::text, $5::bigint) ON CONFLICT "
                   "(campaign_id, key) DO UPDATE SET position = excluded.position, "
                   "kind = excluded.kind, cap = excluded.cap, removed = 0",
                   &q, "target upsert", NULL) != 0)
            return -1;
    }
    return 0;
}

int pg_targets(struct store *base, int64_t campaign_id, struct target_list *out)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(st,
                          "SELECT t.id, t.key, t.open, t.removed, t.cap, t.assigned, t.clicks, "
                          "t.rerouted, t.reason, (SELECT count(*) FROM target_reports r WHERE "
                          "r.target_id = t.id), t.places FROM targets t WHERE t.campaign_id = "
                          "$1::bigint ORDER BY t.removed, t.position",
                          &p, "targets");
    if (!r)
        return -1;
    int rows = PQntuples(r);
    struct target_list list = {NULL, 0};
    if (rows > 0) {
        list.rows = calloc((size_t)rows, sizeof *list.rows);
        if (!list.rows) {
            PQclear(r);
            return -1;
        }
    }
    for (int i = 0; i < rows; i++) {
        struct target_row *t = &list.rows[list.count++];
        t->id = pg_i64(r, i, 0);
        snprintf(t->key, sizeof t->key, "%s", PQgetvalue(r, i, 1));
        t->open = (int)pg_i64(r, i, 2);
        t->removed = (int)pg_i64(r, i, 3);
        t->cap = (long)pg_i64(r, i, 4);
        t->assigned = pg_i64(r, i, 5);
        t->clicks = pg_i64(r, i, 6);
        t->rerouted = pg_i64(r, i, 7);
        snprintf(t->reason, sizeof t->reason, "%s", PQgetvalue(r, i, 8));
        t->reports = pg_i64(r, i, 9);
        t->places = pg_i64(r, i, 10);
    }
    PQclear(r);
    *out = list;
    return 0;
}

int pg_target_set_state(struct store *base, int64_t target_id, int open, const char *reason,
                        const char *actor, int64_t now)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, target_id);
    pg_param_i64(&p, open);
    pg_param_text(&p, reason);
    if (pg_run(st, "UPDATE targets SET open = $2::bigint, reason = $3::text WHERE id = $1::bigint",
               &p, "target state", NULL) != 0)
        return -1;
    /* A new revision tells running servers to reload the targets' states. */
    struct pg_params q = {0};
    pg_param_i64(&q, target_id);
    if (pg_run(st,
               "UPDATE campaigns SET revision = revision + 1 WHERE id = (SELECT campaign_id FROM "
               "targets WHERE id = $1::bigint)",
               &q, "target revision", NULL) != 0)
        return -1;
    struct pg_params e = {0};
    pg_param_i64(&e, target_id);
    pg_param_i64(&e, now);
    pg_param_text(&e, open ? "open" : "close");
    pg_param_text(&e, reason);
    pg_param_text(&e, actor);
    return pg_run(st,
                  "INSERT INTO target_events (target_id, at, action, reason, actor) VALUES "
                  "($1::bigint, $2::bigint, $3::text, $4::text, $5::text)",
                  &e, "target event", NULL);
}

int pg_target_find(struct store *base, int64_t campaign_id, const char *key, int64_t *id, int *open)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_text(&p, key);
    PGresult *r = pg_exec(st,
                          "SELECT id, open FROM targets WHERE campaign_id = $1::bigint AND "
                          "key = $2::text AND removed = 0",
                          &p, "target lookup");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *id = pg_i64(r, 0, 0);
        *open = (int)pg_i64(r, 0, 1);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_target_key(struct store *base, int64_t target_id, char key[65])
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, target_id);
    PGresult *r = pg_exec(st, "SELECT key FROM targets WHERE id = $1::bigint", &p, "target key");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        snprintf(key, 65, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_target_report_add(struct store *base, int64_t target_id, int64_t supporter_id, int64_t now,
                         int *added)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, target_id);
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, now);
    int64_t changed = 0;
    /* No unique index decides here (as in SQLite's schema): the write lock
     * does, so two reports of one supporter cannot both see none. */
    if (run_locked(st,
                   "INSERT INTO target_reports (target_id, supporter_id, at) SELECT $1::bigint, "
                   "$2::bigint, $3::bigint WHERE NOT EXISTS (SELECT 1 FROM target_reports WHERE "
                   "target_id = $1::bigint AND supporter_id = $2::bigint)",
                   &p, "report", &changed) != 0)
        return -1;
    *added = changed == 1;
    return 0;
}

int pg_target_reports_since(struct store *base, int64_t target_id, int64_t since, int64_t *count)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, target_id);
    pg_param_i64(&p, since);
    PGresult *r = pg_exec(st,
                          "SELECT count(*) FROM target_reports WHERE target_id = $1::bigint AND "
                          "at > $2::bigint",
                          &p, "reports");
    if (!r)
        return -1;
    *count = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_place_take(struct store *base, int64_t target_id, int64_t supporter_id,
                  int64_t previous_target, int *taken)
{
    struct pg_store *st = pg_of(base);
    int own_tx = st->tx == PG_TX_NONE;
    if (own_tx && pg_begin(st) != 0)
        return -1;
    int result = -1, got = 0;
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    PGresult *r = pg_exec(st,
                          "SELECT assigned_target FROM supporters WHERE id = $1::bigint AND "
                          "erased_at = 0 FOR UPDATE",
                          &p, "place supporter");
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        PQclear(r);
        result = STORE_NOT_FOUND;
        goto out;
    }
    int64_t assigned = pg_i64(r, 0, 0);
    PQclear(r);
    if (assigned == target_id) {
        got = 1; /* another server (or an earlier click) took it */
        result = 0;
        goto out;
    }
    struct pg_params t = {0};
    pg_param_i64(&t, target_id);
    int64_t changed = 0;
    if (pg_run(st,
               "UPDATE targets SET places = places + 1 WHERE id = $1::bigint AND "
               "(cap < 0 OR places < cap)",
               &t, "place take", &changed) != 0)
        goto out;
    if (changed != 1) {
        result = 0; /* full: nothing changed */
        goto out;
    }
    struct pg_params a = {0};
    pg_param_i64(&a, supporter_id);
    pg_param_i64(&a, target_id);
    if (pg_run(st, "UPDATE supporters SET assigned_target = $2::bigint WHERE id = $1::bigint", &a,
               "place assign", NULL) != 0)
        goto out;
    if (previous_target) {
        struct pg_params q = {0};
        pg_param_i64(&q, previous_target);
        if (pg_run(st, "UPDATE targets SET places = greatest(places - 1, 0) WHERE id = $1::bigint",
                   &q, "place release", NULL) != 0)
            goto out;
    }
    got = 1;
    result = 0;
out:
    if (own_tx) {
        if (result == 0 && got) {
            if (pg_commit(st) != 0)
                return -1;
        } else {
            pg_rollback(st);
        }
    }
    if (result == 0)
        *taken = got;
    return result;
}

/* ---------- supporters and pledges ---------- */

int pg_pledge_find(struct store *base, int64_t campaign_id, const char *email,
                   struct pledge_state *out)
{
    struct pg_store *st = pg_of(base);
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_text(&p, norm);
    PGresult *r = pg_exec(st,
                          "SELECT id, (status = 'confirmed')::int, confirm_mail_day, "
                          "confirm_mails FROM supporters WHERE campaign_id = $1::bigint AND "
                          "email_norm = $2::text",
                          &p, "pledge find");
    free(norm);
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        out->id = pg_i64(r, 0, 0);
        out->confirmed = (int)pg_i64(r, 0, 1);
        out->confirm_mail_day = pg_i64(r, 0, 2);
        out->confirm_mails = pg_i64(r, 0, 3);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* 1 when the address has a pledge in the campaign, 0 when not, -1 on error. */
static int pledge_exists(struct pg_store *st, int64_t campaign_id, const char *norm)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_text(&p, norm);
    PGresult *r = pg_exec(st,
                          "SELECT 1 FROM supporters WHERE campaign_id = $1::bigint AND "
                          "email_norm = $2::text",
                          &p, "pledge insert");
    if (!r)
        return -1;
    int found = PQntuples(r) > 0;
    PQclear(r);
    return found;
}

#define PG_PLEDGE_INSERT                                                                           \
    "INSERT INTO supporters (campaign_id, token_key, email, email_norm, name, statement, "         \
    "timezone, chosen_target, created_at, consent_at, consent_text, consent_ip, "                  \
    "confirm_mail_day, confirm_mails) VALUES ($1::bigint, $2::bigint, $3::text, $4::text, "        \
    "$5::text, $6::text, $7::text, $8::text, $9::bigint, $9::bigint, $10::text, $11::text, "       \
    "$12::bigint, $13::bigint) ON CONFLICT DO NOTHING RETURNING id"

/* The confirmation mail of the pledge inserted by PG_PLEDGE_INSERT as s. */
#define PG_PLEDGE_MAIL                                                                             \
    "o AS (INSERT INTO outbox (kind, campaign_id, supporter_id, next_at, created_at) SELECT "      \
    "$14::int, $1::bigint, id, $9::bigint, $9::bigint FROM s ON CONFLICT DO NOTHING)"

/* The insert of store_pledge_insert (mailed 0) or store_pledge_insert_mailed
 * (mailed 1: with the confirmation mail and its count, in one statement, so
 * a new pledge's insert is its only round trip). A new random key can
 * collide with another's (the UNIQUE index): the insert then does nothing,
 * as it does for the address's own row, and the address says which it was.
 * Guessing (store_set_guessing), the mailed insert is held with the next
 * statement, and divides by zero when it inserted nothing. */
static int pledge_insert(struct pg_store *st, int64_t campaign_id, const struct pledge_input *in,
                         int64_t now, int64_t day, int mailed, int64_t *id)
{
    char *norm = pg_lowercase_dup(in->email);
    if (!norm)
        return -1;
    int result = -1;
    for (int attempt = 0; attempt < 4; attempt++) {
        struct pg_params p = {0};
        pg_param_i64(&p, campaign_id);
        pg_param_i64(&p, token_new_key());
        pg_param_text(&p, in->email);
        pg_param_text(&p, norm);
        pg_param_text(&p, in->name ? in->name : "");
        pg_param_text(&p, in->statement ? in->statement : "");
        pg_param_text(&p, in->timezone);
        pg_param_text(&p, in->target);
        pg_param_i64(&p, now);
        pg_param_text(&p, in->consent_text);
        pg_param_text(&p, in->client_ip);
        pg_param_i64(&p, mailed ? day : 0);
        pg_param_i64(&p, mailed ? 1 : 0);
        PGresult *r;
        if (mailed)
            pg_param_i64(&p, MAIL_CONFIRM);
        if (mailed && st->base.guessing && st->tx == PG_TX_WRITE) {
            result = pg_hold_guess(st,
                                   "WITH s AS (" PG_PLEDGE_INSERT "), " PG_PLEDGE_MAIL
                                   " SELECT 1 / count(*) FROM s",
                                   &p, "pledge insert (guessed new)");
            if (result == 0)
                *id = 0;
            goto out;
        }
        if (mailed) {
            r = pg_exec(st, "WITH s AS (" PG_PLEDGE_INSERT "), " PG_PLEDGE_MAIL " SELECT id FROM s",
                        &p, "pledge insert");
        } else {
            r = pg_exec(st, PG_PLEDGE_INSERT, &p, "pledge insert");
        }
        if (!r)
            goto out;
        if (PQntuples(r) == 1) {
            *id = pg_i64(r, 0, 0);
            PQclear(r);
            result = 0;
            goto out;
        }
        PQclear(r);
        int exists = pledge_exists(st, campaign_id, norm);
        if (exists < 0)
            goto out;
        if (exists) {
            result = STORE_CONFLICT;
            goto out;
        }
    }
    log_error("store.error", "op=pledge_insert error=\"no free token key in 4 tries\"");
out:
    free(norm);
    return result;
}

int pg_pledge_insert(struct store *base, int64_t campaign_id, const struct pledge_input *in,
                     int64_t now, int64_t *id)
{
    return pledge_insert(pg_of(base), campaign_id, in, now, 0, 0, id);
}

int pg_pledge_insert_mailed(struct store *base, int64_t campaign_id, const struct pledge_input *in,
                            int64_t now, int64_t day, int64_t *id)
{
    return pledge_insert(pg_of(base), campaign_id, in, now, day, 1, id);
}

int pg_pledge_hold_change(struct store *base, int64_t supporter_id, const struct pledge_input *in)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_text(&p, in->name ? in->name : "");
    pg_param_text(&p, in->statement ? in->statement : "");
    pg_param_text(&p, in->timezone);
    pg_param_text(&p, in->target);
    return pg_run(pg_of(base),
                  "UPDATE supporters SET pending_json = json_build_object('name', $2::text, "
                  "'statement', $3::text, 'timezone', $4::text, 'target', $5::text)::text, "
                  "change_epoch = change_epoch + 1 WHERE id = $1::bigint",
                  &p, "pledge change", NULL);
}

int pg_pledge_apply_change(struct store *base, int64_t supporter_id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    return pg_run(pg_of(base),
                  "UPDATE supporters SET name = pending_json::json->>'name', statement = "
                  "pending_json::json->>'statement', timezone = pending_json::json->>'timezone', "
                  "chosen_target = pending_json::json->>'target', pending_json = NULL "
                  "WHERE id = $1::bigint AND pending_json IS NOT NULL",
                  &p, "confirm change", NULL);
}

int pg_pledge_load_change(struct store *base, struct supporter *sup)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, sup->id);
    PGresult *r = pg_exec(st,
                          "SELECT pending_json::json->>'name', pending_json::json->>'statement', "
                          "pending_json::json->>'timezone', pending_json::json->>'target' FROM "
                          "supporters WHERE id = $1::bigint AND pending_json IS NOT NULL",
                          &p, "held change");
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    char *name = pg_strdup(r, 0, 0), *statement = pg_strdup(r, 0, 1),
         *timezone = pg_strdup(r, 0, 2), *target = pg_strdup(r, 0, 3);
    int has_target = !PQgetisnull(r, 0, 3);
    PQclear(r);
    if (!name || !statement || !timezone || (has_target && !target)) {
        free(name);
        free(statement);
        free(timezone);
        free(target);
        return -1;
    }
    free(sup->change_name);
    free(sup->change_statement);
    free(sup->change_timezone);
    free(sup->change_target);
    sup->change_name = name;
    sup->change_statement = statement;
    sup->change_timezone = timezone;
    sup->change_target = target;
    return 0;
}

int pg_pledge_count_mail(struct store *base, int64_t supporter_id, int64_t day, int64_t mails)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, day);
    pg_param_i64(&p, mails);
    return pg_run(pg_of(base),
                  "UPDATE supporters SET confirm_mail_day = $2::bigint, confirm_mails = "
                  "$3::bigint WHERE id = $1::bigint",
                  &p, "pledge mails", NULL);
}

int pg_pledge_mark_confirmed(struct store *base, int64_t supporter_id, int64_t now)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, now);
    return pg_run(pg_of(base),
                  "UPDATE supporters SET status = 'confirmed', confirmed_at = $2::bigint "
                  "WHERE id = $1::bigint",
                  &p, "confirm", NULL);
}

int pg_pledge_unsubscribe(struct store *base, int64_t supporter_id, int64_t now, int *changed)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, now);
    int64_t n = 0;
    if (pg_run(pg_of(base),
               "UPDATE supporters SET unsubscribed_at = $2::bigint WHERE id = $1::bigint AND "
               "unsubscribed_at = 0",
               &p, "unsubscribe", &n) != 0)
        return -1;
    *changed = n == 1;
    return 0;
}

int pg_pledge_resubscribe(struct store *base, int64_t supporter_id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    return pg_run(pg_of(base), "UPDATE supporters SET unsubscribed_at = 0 WHERE id = $1::bigint",
                  &p, "resubscribe", NULL);
}

#define SUPPORTER_COLUMNS                                                                          \
    "id, campaign_id, token_key, epoch, email, name, statement, timezone, chosen_target, "         \
    "instance, (status = 'confirmed')::int, confirmed_at, unsubscribed_at, assigned_target, "      \
    "(pending_json IS NOT NULL)::int, change_epoch"

/* Row k of r (SUPPORTER_COLUMNS) into *out: 0, or -1 out of memory. */
static int supporter_from_row(const PGresult *r, int k, struct supporter *out)
{
    struct supporter s;
    memset(&s, 0, sizeof s);
    s.id = pg_i64(r, k, 0);
    s.campaign_id = pg_i64(r, k, 1);
    s.token_key = pg_i64(r, k, 2);
    s.epoch = (uint32_t)pg_i64(r, k, 3);
    s.email = pg_strdup(r, k, 4);
    s.name = pg_strdup(r, k, 5);
    s.statement = pg_strdup(r, k, 6);
    s.timezone = pg_strdup(r, k, 7);
    s.chosen_target = pg_strdup(r, k, 8);
    s.instance = pg_strdup(r, k, 9);
    s.confirmed = (int)pg_i64(r, k, 10);
    s.confirmed_at = pg_i64(r, k, 11);
    s.unsubscribed_at = pg_i64(r, k, 12);
    s.assigned_target = pg_i64(r, k, 13);
    s.has_pending_change = (int)pg_i64(r, k, 14);
    s.change_epoch = (uint32_t)pg_i64(r, k, 15);
    if (!s.email || !s.name || !s.statement || !s.timezone) {
        supporter_release(&s);
        return -1;
    }
    *out = s;
    return 0;
}

static int supporter_get(PGresult *r, struct supporter *out)
{
    if (!r)
        return -1;
    int rc = PQntuples(r) == 0 ? STORE_NOT_FOUND : supporter_from_row(r, 0, out);
    PQclear(r);
    return rc;
}

int pg_supporter_by_key(struct store *base, int64_t token_key, struct supporter *out)
{
    struct pg_params p = {0};
    pg_param_i64(&p, token_key);
    return supporter_get(pg_exec(pg_of(base),
                                 "SELECT " SUPPORTER_COLUMNS " FROM supporters WHERE "
                                 "token_key = $1::bigint AND erased_at = 0",
                                 &p, "supporter get"),
                         out);
}

int pg_supporter_by_id(struct store *base, int64_t id, struct supporter *out)
{
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    return supporter_get(pg_exec(pg_of(base),
                                 "SELECT " SUPPORTER_COLUMNS " FROM supporters WHERE "
                                 "id = $1::bigint AND erased_at = 0",
                                 &p, "supporter get"),
                         out);
}

/* The supporters whose column (id or token_key, at column_index among
 * SUPPORTER_COLUMNS) is one of values, each in the slot of its value. */
static int supporters_where_any(struct store *base, const char *sql, int column_index,
                                const int64_t *values, size_t n, struct supporter *out, int *found)
{
    struct buf list = BUF_INIT;
    if (id_array(&list, values, n, NULL, NULL) != 0) {
        buf_release(&list);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_text(&p, buf_cstr(&list));
    PGresult *r = pg_exec(pg_of(base), sql, &p, "supporters get");
    buf_release(&list);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        found[i] = 0;
    int rows = PQntuples(r), rc = 0;
    for (int k = 0; k < rows && rc == 0; k++) {
        int64_t value = pg_i64(r, k, column_index);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (values[i] != value || found[i])
                continue;
            rc = supporter_from_row(r, k, &out[i]);
            found[i] = rc == 0;
        }
    }
    PQclear(r);
    if (rc != 0)
        for (size_t i = 0; i < n; i++)
            if (found[i]) {
                supporter_release(&out[i]);
                found[i] = 0;
            }
    return rc;
}

int pg_supporters_by_ids(struct store *base, const int64_t *ids, size_t n, struct supporter *out,
                         int *found)
{
    return supporters_where_any(base,
                                "SELECT " SUPPORTER_COLUMNS " FROM supporters WHERE "
                                "id = ANY($1::bigint[]) AND erased_at = 0",
                                0, ids, n, out, found);
}

int pg_supporters_by_keys(struct store *base, const int64_t *token_keys, size_t n,
                          struct supporter *out, int *found)
{
    return supporters_where_any(base,
                                "SELECT " SUPPORTER_COLUMNS " FROM supporters WHERE "
                                "token_key = ANY($1::bigint[]) AND erased_at = 0",
                                2, token_keys, n, out, found);
}

int pg_set_instance(struct store *base, int64_t supporter_id, const char *instance)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_text(&p, instance);
    return pg_run(pg_of(base), "UPDATE supporters SET instance = $2::text WHERE id = $1::bigint",
                  &p, "instance", NULL);
}

/* The relay's replies stored with the mails of an address, with every
 * address in them replaced by "[address]" (relays echo the recipient:
 * "250 2.1.5 <ann@example.org> ok"). Run before the address is erased. */
static int erase_addresses_from_replies(struct pg_store *st, const char *norm)
{
    struct pg_params p = {0};
    pg_param_text(&p, norm);
    PGresult *r = pg_exec(st,
                          "SELECT id, last_reply FROM outbox WHERE supporter_id IN (SELECT id "
                          "FROM supporters WHERE email_norm = $1::text) AND "
                          "strpos(last_reply, '@') > 0 ORDER BY id",
                          &p, "erase replies");
    if (!r)
        return -1;
    int failed = 0;
    for (int i = 0; !failed && i < PQntuples(r); i++) {
        struct buf scrubbed = BUF_INIT;
        if (redact_addresses(&scrubbed, PQgetvalue(r, i, 1)) != 0) {
            buf_release(&scrubbed);
            failed = 1;
            break;
        }
        struct pg_params u = {0};
        pg_param_i64(&u, pg_i64(r, i, 0));
        pg_param_text(&u, buf_cstr(&scrubbed));
        failed = pg_run(st, "UPDATE outbox SET last_reply = $2::text WHERE id = $1::bigint", &u,
                        "erase reply", NULL) != 0;
        buf_release(&scrubbed);
    }
    PQclear(r);
    return failed ? -1 : 0;
}

int pg_pledges_erase(struct store *base, const char *email, int64_t now, int *count)
{
    struct pg_store *st = pg_of(base);
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    /* All of it or nothing: its own write transaction, or a savepoint in the
     * caller's. */
    int own_tx = st->tx == PG_TX_NONE;
    if (own_tx ? pg_begin(st) != 0 : pg_simple(st, "SAVEPOINT erase", "erase") != 0) {
        free(norm);
        return -1;
    }
    int64_t n = 0;
    int rc = erase_addresses_from_replies(st, norm);
    if (rc == 0) {
        struct pg_params p = {0};
        pg_param_text(&p, norm);
        pg_param_i64(&p, now);
        /* The row stays for the anonymous counts; its links die with the new
         * key (negative: token_new_key never makes one). */
        rc = pg_run(st,
                    "UPDATE supporters SET email = NULL, email_norm = NULL, name = '', "
                    "statement = '', timezone = 'UTC', chosen_target = NULL, instance = NULL, "
                    "consent_ip = NULL, pending_json = NULL, erased_at = $2::bigint, "
                    "epoch = epoch + 1, token_key = -1 - floor(random() * "
                    "4611686018427387903)::bigint WHERE email_norm = $1::text",
                    &p, "erase", &n);
    }
    free(norm);
    if (own_tx) {
        if (rc != 0) {
            pg_rollback(st);
            return -1;
        }
        if (pg_commit(st) != 0)
            return -1;
    } else {
        if (rc != 0) {
            pg_simple(st, "ROLLBACK TO erase; RELEASE erase", "erase undo");
            return -1;
        }
        if (pg_simple(st, "RELEASE erase", "erase") != 0)
            return -1;
    }
    *count = (int)n;
    return 0;
}

/* ---------- clicks ---------- */

/* Appends v (0: NULL) to an array literal. */
static void array_add(struct buf *b, int first, int64_t v, int zero_is_null)
{
    if (!first)
        buf_printf(b, ",");
    if (zero_is_null && v == 0)
        buf_printf(b, "NULL");
    else
        buf_printf(b, "%" PRId64, v);
}

int pg_clicks_insert(struct store *base, const struct click_record *clicks, size_t n)
{
    struct pg_store *st = pg_of(base);
    if (n == 0)
        return 0;
    /* One statement for the batch: five arrays, unnested into rows. */
    struct buf cols[5] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    for (int c = 0; c < 5; c++)
        buf_printf(&cols[c], "{");
    for (size_t i = 0; i < n; i++) {
        const struct click_record *k = &clicks[i];
        array_add(&cols[0], i == 0, k->campaign_id, 0);
        array_add(&cols[1], i == 0, k->supporter_id, 0);
        array_add(&cols[2], i == 0, k->target_id, 1);
        array_add(&cols[3], i == 0, k->at, 0);
        array_add(&cols[4], i == 0, k->rerouted, 0);
    }
    int failed = 0;
    struct pg_params p = {0};
    for (int c = 0; c < 5; c++) {
        buf_printf(&cols[c], "}");
        failed |= buf_failed(&cols[c]);
        pg_param_text(&p, buf_cstr(&cols[c]));
    }
    int rc = failed ? -1
                    : pg_run(st,
                             "INSERT INTO clicks (campaign_id, supporter_id, target_id, at, "
                             "rerouted) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                             "$3::bigint[], $4::bigint[], $5::bigint[])",
                             &p, "click", NULL);
    for (int c = 0; c < 5; c++)
        buf_release(&cols[c]);
    return rc;
}

int pg_supporter_assign(struct store *base, int64_t supporter_id, int64_t target_id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, target_id);
    return pg_run(pg_of(base),
                  "UPDATE supporters SET assigned_target = $2::bigint WHERE id = $1::bigint", &p,
                  "assign supporter", NULL);
}

int pg_target_counters_add(struct store *base, int64_t target_id, int64_t assigned, int64_t clicks,
                           int64_t rerouted)
{
    struct pg_params p = {0};
    pg_param_i64(&p, target_id);
    pg_param_i64(&p, assigned);
    pg_param_i64(&p, clicks);
    pg_param_i64(&p, rerouted);
    return pg_run(pg_of(base),
                  "UPDATE targets SET assigned = greatest(assigned + $2::bigint, 0), clicks = "
                  "clicks + $3::bigint, rerouted = rerouted + $4::bigint WHERE id = $1::bigint",
                  &p, "target counters", NULL);
}

/* ---------- outbox ---------- */

int pg_outbox_add(struct store *base, enum mail_kind kind, int64_t campaign_id,
                  int64_t supporter_id, int64_t now)
{
    struct pg_params p = {0};
    pg_param_i64(&p, kind);
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, now);
    return pg_run(pg_of(base),
                  "INSERT INTO outbox (kind, campaign_id, supporter_id, next_at, created_at) "
                  "VALUES ($1::int, $2::bigint, $3::bigint, $4::bigint, $4::bigint) "
                  "ON CONFLICT DO NOTHING",
                  &p, "outbox add", NULL);
}

int pg_outbox_add_confirmed(struct store *base, int64_t campaign_id, enum mail_kind kind,
                            int64_t now, int64_t *queued)
{
    struct pg_store *st = pg_of(base);
    if (!mail_kind_once_only(kind)) {
        log_error("store.error", "op=outbox_add_confirmed error=\"kind %d is not once-only\"",
                  (int)kind);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, now);
    pg_param_i64(&p, kind);
    return run_locked(st,
                      "INSERT INTO outbox (kind, campaign_id, supporter_id, next_at, created_at) "
                      "SELECT $3::int, campaign_id, id, $2::bigint, $2::bigint FROM supporters "
                      "WHERE campaign_id = $1::bigint AND status = 'confirmed' AND "
                      "unsubscribed_at = 0 AND erased_at = 0 ORDER BY id ON CONFLICT DO NOTHING",
                      &p, "launch queue", queued);
}

int pg_outbox_add_variant(struct store *base, int64_t campaign_id, enum mail_kind kind,
                          int64_t variant, int without_click, int64_t now, int64_t *queued)
{
    struct pg_store *st = pg_of(base);
    if (!mail_kind_per_variant(kind)) {
        log_error("store.error", "op=outbox_add_variant error=\"kind %d is not per-variant\"",
                  (int)kind);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, now);
    pg_param_i64(&p, kind);
    pg_param_i64(&p, variant);
    pg_param_i64(&p, without_click ? 1 : 0);
    return run_locked(
        st,
        "INSERT INTO outbox (kind, campaign_id, supporter_id, variant, next_at, created_at) "
        "SELECT $3::int, campaign_id, id, $4::bigint, $2::bigint, $2::bigint FROM supporters "
        "WHERE campaign_id = $1::bigint AND status = 'confirmed' AND unsubscribed_at = 0 AND "
        "erased_at = 0 AND ($5::int = 0 OR id NOT IN (SELECT supporter_id FROM clicks WHERE "
        "campaign_id = $1::bigint AND supporter_id IS NOT NULL)) ORDER BY id ON CONFLICT DO "
        "NOTHING",
        &p, "queue per variant", queued);
}

int pg_outbox_owed(struct store *base, int64_t campaign_id, enum mail_kind kind, int64_t *owed)
{
    struct pg_store *st = pg_of(base);
    if (!mail_kind_once_only(kind)) {
        log_error("store.error", "op=outbox_owed error=\"kind %d is not once-only\"", (int)kind);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, kind);
    PGresult *r = pg_exec(st,
                          "SELECT count(*) FROM supporters s WHERE s.campaign_id = $1::bigint AND "
                          "s.status = 'confirmed' AND s.unsubscribed_at = 0 AND s.erased_at = 0 "
                          "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = "
                          "$1::bigint AND o.supporter_id = s.id AND o.kind = $2::int)",
                          &p, "owed");
    if (!r)
        return -1;
    *owed = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_outbox_claim(struct store *base, const char *owner, int64_t campaign_id, int64_t now,
                    int lease_seconds, struct outbox_item *items, size_t max, size_t *n)
{
    struct pg_store *st = pg_of(base);
    if (st->tx != PG_TX_NONE) {
        log_error("store.error", "op=claim error=\"a transaction is already open\"");
        return -1;
    }
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_text(&p, owner);
    pg_param_i64(&p, now + lease_seconds);
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, (int64_t)max);
    /* One statement: the rows picked are locked, rows another claim holds
     * are skipped instead of waited for, and the lease is set at once. The
     * rows are read in order from outbox_due (every campaign) or
     * outbox_due_by_campaign, up to the batch: a statement each, so that
     * each plan has its index whatever the parameters. */
#define PG_CLAIM(campaign_filter)                                                                  \
    "WITH picked AS (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= $1::bigint "     \
    "AND lease_until <= $1::bigint AND " campaign_filter " AND " PG_OUTBOX_NOT_PAUSED              \
    " ORDER BY next_at, id LIMIT $5::bigint FOR UPDATE SKIP LOCKED), "                             \
    "claimed AS (UPDATE outbox o SET owner = $2::text, lease_until = $3::bigint, "                 \
    "attempts = o.attempts + 1 FROM picked WHERE o.id = picked.id RETURNING o.id, o.kind, "        \
    "o.supporter_id, o.campaign_id, o.attempts, o.next_at, o.variant) "                            \
    "SELECT id, kind, supporter_id, campaign_id, attempts, variant FROM claimed "                  \
    "ORDER BY next_at, id"
    PGresult *r = pg_exec(st,
                          campaign_id ? PG_CLAIM("campaign_id = $4::bigint")
                                      : PG_CLAIM("$4::bigint = 0"),
                          &p, "claim");
#undef PG_CLAIM
    if (!r)
        return -1;
    size_t count = 0;
    for (int i = 0; i < PQntuples(r) && count < max; i++) {
        items[count].id = pg_i64(r, i, 0);
        items[count].kind = (enum mail_kind)pg_i64(r, i, 1);
        items[count].supporter_id = pg_i64(r, i, 2);
        items[count].campaign_id = pg_i64(r, i, 3);
        items[count].attempts = (int)pg_i64(r, i, 4);
        items[count].variant = pg_i64(r, i, 5);
        count++;
    }
    PQclear(r);
    *n = count;
    return 0;
}

int pg_outbox_lease_owners(struct store *base, int64_t now, char (*owners)[300], size_t max,
                           size_t *n)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_i64(&p, now);
    pg_param_i64(&p, (int64_t)max);
    PGresult *r = pg_exec(st,
                          "SELECT DISTINCT owner FROM outbox WHERE owner IS NOT NULL AND "
                          "state = 'pending' AND lease_until > $1::bigint LIMIT $2::bigint",
                          &p, "lease owners");
    if (!r)
        return -1;
    size_t count = 0;
    for (int i = 0; i < PQntuples(r) && count < max; i++)
        snprintf(owners[count++], 300, "%s", PQgetvalue(r, i, 0));
    PQclear(r);
    *n = count;
    return 0;
}

int pg_outbox_lease_drop(struct store *base, const char *owner)
{
    struct pg_params p = {0};
    pg_param_text(&p, owner);
    return run_locked(pg_of(base),
                      "UPDATE outbox SET lease_until = 0 WHERE owner = $1::text AND "
                      "state = 'pending'",
                      &p, "takeover", NULL);
}

/* One statement for the n renewals, and one more only when some are lost. */
int pg_outbox_renew(struct store *base, const int64_t *ids, size_t n, const char *owner,
                    int64_t lease_until, int *ours)
{
    struct pg_store *st = pg_of(base);
    struct buf list = BUF_INIT;
    if (id_array(&list, ids, n, NULL, NULL) != 0) {
        buf_release(&list);
        return -1;
    }
    struct pg_params p = {0};
    pg_param_text(&p, buf_cstr(&list));
    pg_param_text(&p, owner);
    pg_param_i64(&p, lease_until);
    PGresult *r = pg_exec(
        st,
        "UPDATE outbox SET lease_until = $3::bigint WHERE id = "
        "ANY($1::bigint[]) AND owner = $2::text AND state = 'pending' AND " PG_OUTBOX_NOT_PAUSED
        " RETURNING id",
        &p, "renew");
    if (!r) {
        buf_release(&list);
        return -1;
    }
    size_t renewed = (size_t)PQntuples(r);
    for (size_t i = 0; i < n; i++)
        ours[i] = 0;
    for (size_t k = 0; k < renewed; k++) {
        int64_t id = pg_i64(r, (int)k, 0);
        for (size_t i = 0; i < n; i++)
            if (ids[i] == id)
                ours[i] = 1;
    }
    PQclear(r);
    int rc = 0;
    if (renewed < n) {
        /* Not renewed: another's now, or its campaign paused since the
         * claim; then it goes back, as if never claimed, for the claim
         * after resume. */
        buf_reset(&list);
        struct pg_params back = {0};
        if (id_array(&list, ids, n, not_ours, ours) != 0) {
            rc = -1;
        } else {
            pg_param_text(&back, buf_cstr(&list));
            pg_param_text(&back, owner);
            rc = pg_run(st,
                        "UPDATE outbox SET owner = NULL, lease_until = 0, attempts = "
                        "greatest(attempts - 1, 0) WHERE id = ANY($1::bigint[]) AND owner = "
                        "$2::text AND state = 'pending'",
                        &back, "hand back", NULL);
        }
    }
    buf_release(&list);
    return rc;
}

static int outbox_finish(struct pg_store *st, const char *sql, int64_t item_id, int64_t at,
                         const char *reply)
{
    struct pg_params p = {0};
    pg_param_i64(&p, item_id);
    pg_param_i64(&p, at);
    pg_param_text(&p, reply);
    return pg_run(st, sql, &p, "outbox finish", NULL);
}

int pg_outbox_sent(struct store *base, const int64_t *ids, size_t n, const char *owner, int64_t now)
{
    (void)owner; /* a message that left is sent, whoever holds the lease now */
    struct buf list = BUF_INIT;
    int rc = id_array(&list, ids, n, NULL, NULL);
    if (rc == 0) {
        struct pg_params p = {0};
        pg_param_text(&p, buf_cstr(&list));
        pg_param_i64(&p, now);
        rc = pg_run(pg_of(base),
                    "UPDATE outbox SET state = 'sent', sent_at = $2::bigint, last_reply = NULL, "
                    "owner = NULL, lease_until = 0 WHERE id = ANY($1::bigint[])",
                    &p, "sent", NULL);
    }
    buf_release(&list);
    return rc;
}

int pg_outbox_retry(struct store *base, int64_t item_id, const char *owner, int64_t next_at,
                    const char *reply)
{
    (void)owner;
    return outbox_finish(pg_of(base),
                         "UPDATE outbox SET next_at = $2::bigint, last_reply = $3::text, "
                         "owner = NULL, lease_until = 0 WHERE id = $1::bigint AND "
                         "state = 'pending'",
                         item_id, next_at, reply);
}

int pg_outbox_defer(struct store *base, int64_t item_id, const char *owner, int64_t next_at,
                    const char *reply)
{
    struct pg_params p = {0};
    pg_param_i64(&p, item_id);
    pg_param_text(&p, owner);
    pg_param_i64(&p, next_at);
    pg_param_text(&p, reply);
    return pg_run(pg_of(base),
                  "UPDATE outbox SET next_at = $3::bigint, last_reply = $4::text, owner = NULL, "
                  "lease_until = 0, attempts = greatest(attempts - 1, 0) WHERE id = $1::bigint "
                  "AND owner = $2::text AND state = 'pending'",
                  &p, "defer", NULL);
}

int pg_outbox_failed(struct store *base, int64_t item_id, const char *owner, int64_t now,
                     const char *reply)
{
    (void)owner;
    return outbox_finish(pg_of(base),
                         "UPDATE outbox SET state = 'failed', sent_at = $2::bigint, last_reply = "
                         "$3::text, owner = NULL, lease_until = 0 WHERE id = $1::bigint AND "
                         "state = 'pending'",
                         item_id, now, reply);
}

int pg_outbox_cancel(struct store *base, int64_t item_id)
{
    return outbox_finish(pg_of(base),
                         "UPDATE outbox SET state = 'cancelled', sent_at = $2::bigint, "
                         "last_reply = $3::text, owner = NULL, lease_until = 0 WHERE "
                         "id = $1::bigint AND state = 'pending'",
                         item_id, 0, "not owed any more");
}

int pg_outbox_cancel_supporter(struct store *base, int64_t supporter_id, enum mail_kind kind)
{
    struct pg_params p = {0};
    pg_param_i64(&p, supporter_id);
    pg_param_i64(&p, kind);
    return run_locked(pg_of(base),
                      "UPDATE outbox SET state = 'cancelled' WHERE supporter_id = $1::bigint AND "
                      "($2::int = 0 OR kind = $2::int) AND state = 'pending'",
                      &p, "cancel supporter", NULL);
}

int pg_outbox_cancel_email(struct store *base, const char *email)
{
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    struct pg_params p = {0};
    pg_param_text(&p, norm);
    int rc = run_locked(pg_of(base),
                        "UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND "
                        "supporter_id IN (SELECT id FROM supporters WHERE email_norm = $1::text)",
                        &p, "cancel by email", NULL);
    free(norm);
    return rc;
}

int pg_outbox_pending(struct store *base, int64_t campaign_id, enum mail_kind kind, int64_t now,
                      int64_t *pending, int64_t *ready)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, kind);
    pg_param_i64(&p, now);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT count(*), count(*) FILTER (WHERE next_at <= $3::bigint) FROM "
                          "outbox WHERE state = 'pending' AND ($1::bigint = 0 OR campaign_id = "
                          "$1::bigint) AND ($2::int = 0 OR kind = $2::int)",
                          &p, "pending");
    if (!r)
        return -1;
    *pending = pg_i64(r, 0, 0);
    *ready = pg_i64(r, 0, 1);
    PQclear(r);
    return 0;
}

/* ---------- stats ---------- */

int pg_stats(struct store *base, int64_t campaign_id, struct campaign_stats *out)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    /* One statement: one snapshot and one round trip for every number. */
    PGresult *r = pg_exec(
        pg_of(base),
        "SELECT (SELECT count(*) FROM supporters WHERE campaign_id = $1::bigint), "
        "(SELECT count(*) FROM supporters WHERE campaign_id = $1::bigint AND "
        "status = 'confirmed'), "
        "(SELECT count(*) FROM supporters WHERE campaign_id = $1::bigint AND "
        "unsubscribed_at > 0), "
        "(SELECT count(*) FROM outbox WHERE campaign_id = $1::bigint AND kind = " PG_MAIL_REMINDER
        " AND state = 'sent'), "
        "(SELECT count(*) FROM outbox WHERE campaign_id = $1::bigint AND kind = " PG_MAIL_REMINDER
        " AND state = 'failed'), "
        "(SELECT count(*) FROM outbox WHERE campaign_id = $1::bigint AND kind = " PG_MAIL_REMINDER
        " AND state = 'pending'), "
        "(SELECT count(*) FROM clicks WHERE campaign_id = $1::bigint), "
        "(SELECT count(DISTINCT supporter_id) FROM clicks WHERE campaign_id = $1::bigint), "
        "(SELECT coalesce(sum(rerouted), 0) FROM targets WHERE campaign_id = $1::bigint)",
        &p, "stats");
    if (!r)
        return -1;
    struct campaign_stats s = {
        .pledges = pg_i64(r, 0, 0),
        .confirmed = pg_i64(r, 0, 1),
        .unsubscribed = pg_i64(r, 0, 2),
        .reminders_sent = pg_i64(r, 0, 3),
        .reminders_failed = pg_i64(r, 0, 4),
        .reminders_pending = pg_i64(r, 0, 5),
        .clicks = pg_i64(r, 0, 6),
        .supporters_clicked = pg_i64(r, 0, 7),
        .reroutes = pg_i64(r, 0, 8),
    };
    PQclear(r);
    *out = s;
    return 0;
}
