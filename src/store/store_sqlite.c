/*
 * store_sqlite: the store on SQLite (see store.h). WAL mode with
 * synchronous=FULL, so a commit that returned is on disk; read-then-write
 * transactions start with BEGIN IMMEDIATE so two writers never interleave
 * their reads and writes; a busy timeout makes concurrent commands wait for
 * each other instead of failing. Prepared statements are cached per handle,
 * keyed by the address of their SQL text (always a string literal).
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "core/log.h"
#include "core/process.h"
#include "core/token.h"
#include "core/tz.h"
#include "store/store_private.h"
#include "store/sqlite_private.h"
#include "store/store_webhooks.h"
#include "core/banned.h"

/* ---------- basics ---------- */

int sql_error(struct store *st, const char *what)
{
    log_error("store.error", "op=%s error=\"%s\"", what, sqlite3_errmsg(st->db));
    return -1;
}

sqlite3_stmt *sql_stmt(struct store *st, const char *sql)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
        if (!st->cache[i].sql) {
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
                SQLITE_OK) {
                sql_error(st, "prepare");
                return NULL;
            }
            st->cache[i].sql = sql;
            st->cache[i].stmt = s;
            return s;
        }
    }
    log_error("store.error", "op=prepare error=\"statement cache full\"");
    return NULL;
}

int sql_exec(struct store *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store.error", "op=exec error=\"%s\"", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* sql is a BEGIN statement; what names it in the log. */
static int tx_begin(struct store *st, const char *sql, const char *what)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s || sqlite3_step(s) != SQLITE_DONE)
        return sql_error(st, what);
    st->in_tx = 1;
    return 0;
}

int sql_begin(struct store *st)
{
    return tx_begin(st, "BEGIN IMMEDIATE", "begin");
}

int sql_commit(struct store *st)
{
    sqlite3_stmt *s = sql_stmt(st, "COMMIT");
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (rc != SQLITE_DONE) {
        sql_error(st, "commit");
        sqlite3_stmt *r = sql_stmt(st, "ROLLBACK");
        if (r)
            sqlite3_step(r);
        st->in_tx = 0;
        return -1;
    }
    st->in_tx = 0;
    return 0;
}

void sql_rollback(struct store *st)
{
    if (!st->in_tx)
        return;
    sqlite3_stmt *s = sql_stmt(st, "ROLLBACK");
    if (s)
        sqlite3_step(s);
    st->in_tx = 0;
}

/* Runs a statement that returns no rows. */
int sql_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sql_error(st, what);
    return 0;
}

char *sql_col_strdup(sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    return v ? strdup((const char *)v) : NULL;
}

void sql_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, idx);
}

/* ---------- open, migrate ---------- */

static int migrate(struct store *st, char *err, size_t err_len)
{
    int count;
    const char *const *steps = store_migrations(&count);
    int version = store_schema_version(st);
    if (version > count) {
        snprintf(err, err_len, "database schema version %d is newer than this muster (%d)", version,
                 count);
        return -1;
    }
    for (int v = version; v < count; v++) {
        if (sql_exec(st, "BEGIN IMMEDIATE") != 0)
            goto fail;
        /* Another process may have migrated while we waited for the lock. */
        if (store_schema_version(st) > v) {
            sql_exec(st, "COMMIT");
            continue;
        }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (sql_exec(st, steps[v]) != 0 || sql_exec(st, pragma) != 0) {
            sql_exec(st, "ROLLBACK");
            goto fail;
        }
        if (sql_exec(st, "COMMIT") != 0)
            goto fail;
    }
    return 0;
fail:
    snprintf(err, err_len, "migrating the database failed: %s", sqlite3_errmsg(st->db));
    return -1;
}

/* Before SQLite's first use in the process: no global memory statistics.
 * muster reads none of them, and keeping them takes one process-wide mutex
 * per SQLite allocation, which the HTTP threads and the click writer of
 * `muster serve` fight over. Fails (harmlessly) if SQLite was already
 * initialized. */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void sqlite_config(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        log_warn("store.config", "what=memstatus error=\"SQLite was already initialized\"");
}

/* SQLite's own busy handler sleeps 1, 2, 5 ... up to 100 ms between tries,
 * which turns a write lock held for a millisecond by another thread (the
 * pledge group commit, the click writer and the sender of `serve` take
 * turns) into waits of tens or hundreds of ms. This one tries again every
 * 50 us for the first 20 ms, then every 2 ms, for 10 s in all. */
#define BUSY_LIMIT_US 10000000
#define BUSY_FAST_US 20000

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int busy_wait(void *ctx, int count)
{
    struct store *st = ctx;
    int64_t now = monotonic_us();
    if (count == 0)
        st->busy_since_us = now;
    int64_t waited = now - st->busy_since_us;
    if (waited >= BUSY_LIMIT_US)
        return 0;
    struct timespec pause = {0, waited < BUSY_FAST_US ? 50000L : 2000000L};
    nanosleep(&pause, NULL);
    return 1;
}

int store_open(const char *path, struct store **out, char *err, size_t err_len)
{
    pthread_once(&sqlite_config_once, sqlite_config);
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pthread_mutex_init(&st->snapshot_lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        sqlite3_close(st->db);
        free(st);
        return -1;
    }
    sqlite3_busy_handler(st->db, busy_wait, st);
    if (sql_exec(st, "PRAGMA journal_mode=WAL") != 0 ||
        sql_exec(st, "PRAGMA synchronous=FULL") != 0 ||
        sql_exec(st, "PRAGMA foreign_keys=ON") != 0) {
        snprintf(err, err_len, "cannot use database %s: %s", path, sqlite3_errmsg(st->db));
        store_close(st);
        return -1;
    }
    if (migrate(st, err, err_len) != 0) {
        store_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_CACHE && st->cache[i].sql; i++)
        sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db); /* also ends an open snapshot */
    pthread_mutex_destroy(&st->snapshot_lock);
    free(st);
}

int store_schema_version(struct store *st)
{
    sqlite3_stmt *s = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

int store_ping(struct store *st)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT 1");
    int ok = s && sqlite3_step(s) == SQLITE_ROW;
    if (s)
        sqlite3_reset(s);
    return ok ? 0 : -1;
}

int64_t store_data_version(struct store *st)
{
    sqlite3_stmt *s = sql_stmt(st, "PRAGMA data_version");
    if (!s || sqlite3_step(s) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int64(s, 0);
}

int store_secret(struct store *st, unsigned char secret[32])
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT value FROM meta WHERE key = 'secret'");
    if (!s)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
        memcpy(secret, sqlite3_column_blob(s, 0), 32);
        sqlite3_reset(s);
        return 0;
    }
    sqlite3_reset(s);
    unsigned char fresh[32];
    token_new_secret(fresh);
    if (sql_begin(st) != 0)
        return -1;
    s = sql_stmt(st, "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?1)");
    if (!s)
        goto fail;
    sqlite3_bind_blob(s, 1, fresh, 32, SQLITE_TRANSIENT);
    if (sql_step_done(st, s, "secret") != 0)
        goto fail;
    if (sql_commit(st) != 0)
        return -1;
    /* Another process may have won the race: read back what is stored. */
    s = sql_stmt(st, "SELECT value FROM meta WHERE key = 'secret'");
    if (!s || sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 0) != 32)
        return sql_error(st, "secret");
    memcpy(secret, sqlite3_column_blob(s, 0), 32);
    sqlite3_reset(s);
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

/* ---------- campaigns ---------- */

void campaign_row_release(struct campaign_row *r)
{
    free(r->slug);
    free(r->spec_json);
    r->slug = r->spec_json = NULL;
}

static int message_frozen_change(const char *old_json, const struct campaign *c)
{
    struct campaign *old = NULL;
    struct buf errors = BUF_INIT;
    int changed = 0;
    if (campaign_parse(old_json, strlen(old_json), "stored", &old, &errors) == 0) {
        changed = strcmp(old->message_title, c->message_title) != 0 ||
                  strcmp(old->message_body, c->message_body) != 0;
        campaign_free(old);
    }
    buf_release(&errors);
    return changed;
}

int store_campaign_apply(struct store *st, const struct campaign *c, int64_t now,
                         enum apply_result *result, char *err, size_t err_len)
{
    if (sql_begin(st) != 0)
        return -1;
    int64_t id = 0, launched_at = 0;
    char *old_json = NULL;
    int existed = 0;
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, spec_json, launched_at FROM campaigns WHERE slug = ?1");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, c->slug);
    if (sqlite3_step(s) == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        old_json = sql_col_strdup(s, 1);
        launched_at = sqlite3_column_int64(s, 2);
        existed = 1;
    }
    sqlite3_reset(s);
    if (id && old_json && strcmp(old_json, c->canonical_json) == 0) {
        free(old_json);
        sql_rollback(st);
        *result = APPLY_UNCHANGED;
        return 0;
    }
    if (id && launched_at && old_json && message_frozen_change(old_json, c)) {
        free(old_json);
        sql_rollback(st);
        snprintf(err, err_len,
                 "campaign '%s' has launched: its message is frozen (targets and texts around "
                 "it can still change)",
                 c->slug);
        return STORE_CONFLICT;
    }
    free(old_json);
    if (!id) {
        s = sql_stmt(st, "INSERT INTO campaigns (slug, spec_json, launch_utc, window_minutes, "
                         "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
        if (!s)
            goto fail;
        sql_bind_text(s, 1, c->slug);
        sql_bind_text(s, 2, c->canonical_json);
        sqlite3_bind_int64(s, 3, c->launch_utc);
        sqlite3_bind_int(s, 4, c->window_minutes);
        sqlite3_bind_int64(s, 5, now);
        if (sql_step_done(st, s, "campaign insert") != 0)
            goto fail;
        id = sqlite3_last_insert_rowid(st->db);
    } else {
        /* A launched campaign keeps the moment it launched at. */
        s = sql_stmt(st,
                     "UPDATE campaigns SET spec_json = ?2, window_minutes = ?4, updated_at = ?5, "
                     "revision = revision + 1, "
                     "launch_utc = CASE WHEN launched_at = 0 THEN ?3 ELSE launch_utc END "
                     "WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, c->canonical_json);
        sqlite3_bind_int64(s, 3, c->launch_utc);
        sqlite3_bind_int(s, 4, c->window_minutes);
        sqlite3_bind_int64(s, 5, now);
        if (sql_step_done(st, s, "campaign update") != 0)
            goto fail;
    }
    s = sql_stmt(st, "UPDATE targets SET removed = 1 WHERE campaign_id = ?1");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, id);
    if (sql_step_done(st, s, "targets mark") != 0)
        goto fail;
    for (size_t i = 0; i < c->target_count; i++) {
        const struct target_spec *t = &c->targets[i];
        s = sql_stmt(st, "INSERT INTO targets (campaign_id, key, position, kind, cap) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (campaign_id, key) DO UPDATE SET "
                         "position = excluded.position, kind = excluded.kind, cap = excluded.cap, "
                         "removed = 0");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, t->id);
        sqlite3_bind_int(s, 3, (int)i);
        sql_bind_text(s, 4, target_kind_name(t->kind));
        sqlite3_bind_int64(s, 5, t->cap);
        if (sql_step_done(st, s, "target upsert") != 0)
            goto fail;
    }
    if (sql_commit(st) != 0)
        return -1;
    *result = existed ? APPLY_UPDATED : APPLY_CREATED;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

static int campaign_row_fill(sqlite3_stmt *s, struct campaign_row *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->slug = sql_col_strdup(s, 1);
    out->spec_json = sql_col_strdup(s, 2);
    out->launch_utc = sqlite3_column_int64(s, 3);
    out->launched_at = sqlite3_column_int64(s, 4);
    out->window_minutes = sqlite3_column_int(s, 5);
    out->revision = sqlite3_column_int64(s, 6);
    if (!out->slug || !out->spec_json) {
        campaign_row_release(out);
        return -1;
    }
    return 0;
}

#define CAMPAIGN_COLUMNS "id, slug, spec_json, launch_utc, launched_at, window_minutes, revision"

int store_campaign_get(struct store *st, const char *slug, struct campaign_row *out)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT " CAMPAIGN_COLUMNS " FROM campaigns WHERE slug = ?1");
    if (!s)
        return -1;
    sql_bind_text(s, 1, slug);
    int rc = sqlite3_step(s);
    int result = rc == SQLITE_ROW    ? campaign_row_fill(s, out)
                 : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                     : sql_error(st, "campaign get");
    sqlite3_reset(s);
    return result;
}

int store_campaign_peek(struct store *st, const char *slug, int64_t id, struct campaign_row *out)
{
    /* Two statements, not "id = ?1 OR slug = ?2": SQLite runs an OR of two
     * indexes as two lookups and a merge, on every click. */
#define PEEK_COLUMNS "SELECT id, slug, NULL, launch_utc, launched_at, window_minutes, revision "
    sqlite3_stmt *s = slug ? sql_stmt(st, PEEK_COLUMNS "FROM campaigns WHERE slug = ?1")
                           : sql_stmt(st, PEEK_COLUMNS "FROM campaigns WHERE id = ?1");
#undef PEEK_COLUMNS
    if (!s)
        return -1;
    if (slug)
        sql_bind_text(s, 1, slug);
    else
        sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int result = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(s, 0);
        out->slug = sql_col_strdup(s, 1);
        out->launch_utc = sqlite3_column_int64(s, 3);
        out->launched_at = sqlite3_column_int64(s, 4);
        out->window_minutes = sqlite3_column_int(s, 5);
        out->revision = sqlite3_column_int64(s, 6);
        result = out->slug ? 0 : -1;
    } else if (rc != SQLITE_DONE) {
        result = sql_error(st, "campaign peek");
    }
    sqlite3_reset(s);
    return result;
}

int store_campaign_get_by_id(struct store *st, int64_t id, struct campaign_row *out)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT " CAMPAIGN_COLUMNS " FROM campaigns WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int result = rc == SQLITE_ROW    ? campaign_row_fill(s, out)
                 : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                     : sql_error(st, "campaign get");
    sqlite3_reset(s);
    return result;
}

int store_campaign_slugs(struct store *st, struct buf *out)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT slug FROM campaigns ORDER BY slug");
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        buf_printf(out, "%s\n", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sql_error(st, "campaign list");
    return buf_failed(out) ? -1 : 0;
}

/* ---------- targets ---------- */

int store_targets(struct store *st, int64_t campaign_id, struct target_row *rows, size_t max,
                  size_t *n)
{
    sqlite3_stmt *s = sql_stmt(
        st, "SELECT t.id, t.key, t.open, t.removed, t.cap, t.assigned, t.clicks, t.rerouted, "
            "t.reason, (SELECT count(*) FROM target_reports r WHERE r.target_id = t.id) "
            "FROM targets t WHERE t.campaign_id = ?1 ORDER BY t.removed, t.position");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && count < max) {
        struct target_row *r = &rows[count++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        snprintf(r->key, sizeof r->key, "%s", (const char *)sqlite3_column_text(s, 1));
        r->open = sqlite3_column_int(s, 2);
        r->removed = sqlite3_column_int(s, 3);
        r->cap = (long)sqlite3_column_int64(s, 4);
        r->assigned = sqlite3_column_int64(s, 5);
        r->clicks = sqlite3_column_int64(s, 6);
        r->rerouted = sqlite3_column_int64(s, 7);
        snprintf(r->reason, sizeof r->reason, "%s", (const char *)sqlite3_column_text(s, 8));
        r->reports = sqlite3_column_int64(s, 9);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sql_error(st, "targets");
    *n = count;
    return 0;
}

static int target_set_open_locked(struct store *st, int64_t target_id, int open, const char *reason,
                                  const char *actor, int64_t now)
{
    sqlite3_stmt *s = sql_stmt(st, "UPDATE targets SET open = ?2, reason = ?3 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    sqlite3_bind_int(s, 2, open);
    sql_bind_text(s, 3, reason);
    if (sql_step_done(st, s, "target state") != 0)
        return -1;
    /* A new revision tells running servers to reload the targets' states. */
    s = sql_stmt(st, "UPDATE campaigns SET revision = revision + 1 WHERE id = "
                     "(SELECT campaign_id FROM targets WHERE id = ?1)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    if (sql_step_done(st, s, "target revision") != 0)
        return -1;
    s = sql_stmt(st, "INSERT INTO target_events (target_id, at, action, reason, actor) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    sqlite3_bind_int64(s, 2, now);
    sql_bind_text(s, 3, open ? "open" : "close");
    sql_bind_text(s, 4, reason);
    sql_bind_text(s, 5, actor);
    return sql_step_done(st, s, "target event");
}

static int target_lookup(struct store *st, int64_t campaign_id, const char *key, int64_t *id,
                         int *open)
{
    sqlite3_stmt *s = sql_stmt(
        st, "SELECT id, open FROM targets WHERE campaign_id = ?1 AND key = ?2 AND removed = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sql_bind_text(s, 2, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *open = sqlite3_column_int(s, 1);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    return rc == SQLITE_ROW ? 0 : sql_error(st, "target lookup");
}

int store_target_set_open(struct store *st, int64_t campaign_id, const char *target_key, int open,
                          const char *reason, const char *actor, int64_t now, int *changed)
{
    if (sql_begin(st) != 0)
        return -1;
    int64_t id;
    int is_open;
    int rc = target_lookup(st, campaign_id, target_key, &id, &is_open);
    if (rc != 0) {
        sql_rollback(st);
        return rc;
    }
    if (is_open == open) {
        sql_rollback(st);
        *changed = 0;
        return 0;
    }
    if (target_set_open_locked(st, id, open, reason ? reason : "", actor, now) != 0) {
        sql_rollback(st);
        return -1;
    }
    if (sql_commit(st) != 0)
        return -1;
    *changed = 1;
    return 0;
}

int store_target_report(struct store *st, int64_t campaign_id, int64_t supporter_id,
                        const char *target_key, int threshold, int window_seconds, int64_t now,
                        int *closed_now)
{
    if (sql_begin(st) != 0)
        return -1;
    int64_t id;
    int is_open;
    int rc = target_lookup(st, campaign_id, target_key, &id, &is_open);
    if (rc != 0) {
        sql_rollback(st);
        return rc;
    }
    /* One report per supporter and target counts. */
    sqlite3_stmt *s =
        sql_stmt(st, "INSERT INTO target_reports (target_id, supporter_id, at) "
                     "SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM target_reports "
                     "WHERE target_id = ?1 AND supporter_id = ?2)");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, supporter_id);
    sqlite3_bind_int64(s, 3, now);
    if (sql_step_done(st, s, "report") != 0)
        goto fail;
    int closed = 0;
    if (threshold > 0 && is_open) {
        s = sql_stmt(st, "SELECT count(*) FROM target_reports WHERE target_id = ?1 AND at > ?2");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, now - window_seconds);
        int64_t recent = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        if (recent >= threshold) {
            char reason[128];
            snprintf(reason, sizeof reason,
                     "closed automatically: %lld supporters reported it did not accept the action",
                     (long long)recent);
            if (target_set_open_locked(st, id, 0, reason, "reports", now) != 0)
                goto fail;
            closed = 1;
        }
    }
    if (sql_commit(st) != 0)
        return -1;
    *closed_now = closed;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

/* ---------- supporters ---------- */

static int outbox_add(struct store *st, enum mail_kind kind, int64_t campaign_id,
                      int64_t supporter_id, int64_t now)
{
    sqlite3_stmt *s = sql_stmt(st, "INSERT OR IGNORE INTO outbox (kind, campaign_id, supporter_id, "
                                   "next_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)");
    if (!s)
        return -1;
    sqlite3_bind_int(s, 1, kind);
    sqlite3_bind_int64(s, 2, campaign_id);
    sqlite3_bind_int64(s, 3, supporter_id);
    sqlite3_bind_int64(s, 4, now);
    return sql_step_done(st, s, "outbox add");
}

char *sql_lowercase_dup(const char *s)
{
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return d;
}

int store_pledge_in_tx(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                       int mail_limit, int64_t now, enum pledge_outcome *outcome)
{
    char *norm = sql_lowercase_dup(in->email);
    if (!norm)
        return -1;
    int64_t day = now / 86400;
    int64_t id = 0, mail_day = 0, mails = 0;
    const char *status = NULL;
    char status_buf[16] = "";
    enum pledge_outcome result;
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, status, confirm_mail_day, confirm_mails FROM supporters "
                     "WHERE campaign_id = ?1 AND email_norm = ?2");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, campaign_id);
    sql_bind_text(s, 2, norm);
    if (sqlite3_step(s) == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        snprintf(status_buf, sizeof status_buf, "%s", (const char *)sqlite3_column_text(s, 1));
        status = status_buf;
        mail_day = sqlite3_column_int64(s, 2);
        mails = sqlite3_column_int64(s, 3);
    }
    sqlite3_reset(s);

    if (!id) {
        for (int attempt = 0; attempt < 4 && !id; attempt++) {
            s = sql_stmt(st, "INSERT OR IGNORE INTO supporters (campaign_id, token_key, email, "
                             "email_norm, name, statement, timezone, chosen_target, created_at, "
                             "consent_at, consent_text, consent_ip) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)");
            if (!s)
                goto fail;
            sqlite3_bind_int64(s, 1, campaign_id);
            sqlite3_bind_int64(s, 2, token_new_key());
            sql_bind_text(s, 3, in->email);
            sql_bind_text(s, 4, norm);
            sql_bind_text(s, 5, in->name ? in->name : "");
            sql_bind_text(s, 6, in->statement ? in->statement : "");
            sql_bind_text(s, 7, in->timezone);
            sql_bind_text(s, 8, in->target);
            sqlite3_bind_int64(s, 9, now);
            sql_bind_text(s, 10, in->consent_text);
            sql_bind_text(s, 11, in->client_ip);
            if (sql_step_done(st, s, "pledge insert") != 0)
                goto fail;
            if (sqlite3_changes(st->db) == 1)
                id = sqlite3_last_insert_rowid(st->db);
        }
        if (!id)
            goto fail;
        result = PLEDGE_NEW;
    } else if (strcmp(status, "confirmed") != 0) {
        s = sql_stmt(st, "UPDATE supporters SET name = ?2, statement = ?3, timezone = ?4, "
                         "chosen_target = ?5, consent_at = ?6, consent_text = ?7, consent_ip = ?8 "
                         "WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, in->name ? in->name : "");
        sql_bind_text(s, 3, in->statement ? in->statement : "");
        sql_bind_text(s, 4, in->timezone);
        sql_bind_text(s, 5, in->target);
        sqlite3_bind_int64(s, 6, now);
        sql_bind_text(s, 7, in->consent_text);
        sql_bind_text(s, 8, in->client_ip);
        if (sql_step_done(st, s, "pledge update") != 0)
            goto fail;
        result = PLEDGE_UPDATED_PENDING;
    } else {
        /* A confirmed pledge changes only when the inbox confirms again. */
        s = sql_stmt(st,
                     "UPDATE supporters SET pending_json = json_object('name', ?2, 'statement', "
                     "?3, 'timezone', ?4, 'target', ?5) WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, in->name ? in->name : "");
        sql_bind_text(s, 3, in->statement ? in->statement : "");
        sql_bind_text(s, 4, in->timezone);
        sql_bind_text(s, 5, in->target);
        if (sql_step_done(st, s, "pledge change") != 0)
            goto fail;
        result = PLEDGE_CHANGE_PENDING;
    }
    if (mail_day != day)
        mails = 0;
    if (mail_limit > 0 && mails >= mail_limit) {
        result = PLEDGE_MAIL_SUPPRESSED;
    } else {
        if (outbox_add(st, MAIL_CONFIRM, campaign_id, id, now) != 0)
            goto fail;
        s = sql_stmt(
            st, "UPDATE supporters SET confirm_mail_day = ?2, confirm_mails = ?3 WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, day);
        sqlite3_bind_int64(s, 3, mails + 1);
        if (sql_step_done(st, s, "pledge mails") != 0)
            goto fail;
    }
    free(norm);
    *outcome = result;
    return 0;
fail:
    free(norm);
    return -1;
}

int store_pledge(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                 int mail_limit, int64_t now, enum pledge_outcome *outcome)
{
    if (sql_begin(st) != 0)
        return -1;
    if (store_pledge_in_tx(st, campaign_id, in, mail_limit, now, outcome) != 0) {
        sql_rollback(st);
        return -1;
    }
    return sql_commit(st);
}

int store_savepoint(struct store *st)
{
    return sql_exec(st, "SAVEPOINT job");
}

int store_savepoint_end(struct store *st, int keep)
{
    if (keep)
        return sql_exec(st, "RELEASE job");
    return sql_exec(st, "ROLLBACK TO job") == 0 && sql_exec(st, "RELEASE job") == 0 ? 0 : -1;
}

void supporter_release(struct supporter *s)
{
    free(s->email);
    free(s->name);
    free(s->statement);
    free(s->timezone);
    free(s->chosen_target);
    free(s->instance);
    memset(s, 0, sizeof *s);
}

#define SUPPORTER_COLUMNS                                                                          \
    "id, campaign_id, token_key, epoch, email, name, statement, timezone, chosen_target, "         \
    "instance, status, confirmed_at, unsubscribed_at, assigned_target, pending_json IS NOT NULL"

static int supporter_fill(sqlite3_stmt *s, struct supporter *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(s, 0);
    out->campaign_id = sqlite3_column_int64(s, 1);
    out->token_key = sqlite3_column_int64(s, 2);
    out->epoch = (uint32_t)sqlite3_column_int64(s, 3);
    out->email = sql_col_strdup(s, 4);
    out->name = sql_col_strdup(s, 5);
    out->statement = sql_col_strdup(s, 6);
    out->timezone = sql_col_strdup(s, 7);
    out->chosen_target = sql_col_strdup(s, 8);
    out->instance = sql_col_strdup(s, 9);
    out->confirmed = strcmp((const char *)sqlite3_column_text(s, 10), "confirmed") == 0;
    out->confirmed_at = sqlite3_column_int64(s, 11);
    out->unsubscribed_at = sqlite3_column_int64(s, 12);
    out->assigned_target = sqlite3_column_int64(s, 13);
    out->has_pending_change = sqlite3_column_int(s, 14);
    if (!out->email || !out->name || !out->statement || !out->timezone) {
        supporter_release(out);
        return -1;
    }
    return 0;
}

static int supporter_get(struct store *st, sqlite3_stmt *s, struct supporter *out)
{
    int rc = sqlite3_step(s);
    int result = rc == SQLITE_ROW    ? supporter_fill(s, out)
                 : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                     : sql_error(st, "supporter get");
    sqlite3_reset(s);
    return result;
}

int store_supporter_by_key(struct store *st, int64_t token_key, struct supporter *out)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT " SUPPORTER_COLUMNS " FROM supporters "
                                   "WHERE token_key = ?1 AND erased_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, token_key);
    return supporter_get(st, s, out);
}

int store_supporter_by_id(struct store *st, int64_t id, struct supporter *out)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT " SUPPORTER_COLUMNS " FROM supporters "
                                   "WHERE id = ?1 AND erased_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return supporter_get(st, s, out);
}

int store_confirm(struct store *st, int64_t supporter_id, int64_t now,
                  enum confirm_outcome *outcome)
{
    if (sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "SELECT s.status, s.pending_json IS NOT NULL, s.campaign_id, "
                                   "s.unsubscribed_at, c.launched_at, c.launch_utc + "
                                   "c.window_minutes * 60 FROM supporters s JOIN campaigns c ON "
                                   "c.id = s.campaign_id WHERE s.id = ?1 AND s.erased_at = 0");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, supporter_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        sql_rollback(st);
        return STORE_NOT_FOUND;
    }
    int was_confirmed = strcmp((const char *)sqlite3_column_text(s, 0), "confirmed") == 0;
    int has_change = sqlite3_column_int(s, 1);
    int64_t campaign_id = sqlite3_column_int64(s, 2);
    int64_t unsubscribed = sqlite3_column_int64(s, 3);
    int64_t launched_at = sqlite3_column_int64(s, 4);
    int64_t window_end = sqlite3_column_int64(s, 5);
    sqlite3_reset(s);
    enum confirm_outcome result = CONFIRM_ALREADY;
    if (has_change) {
        s = sql_stmt(st, "UPDATE supporters SET name = json_extract(pending_json, '$.name'), "
                         "statement = json_extract(pending_json, '$.statement'), "
                         "timezone = json_extract(pending_json, '$.timezone'), "
                         "chosen_target = json_extract(pending_json, '$.target'), "
                         "pending_json = NULL, unsubscribed_at = 0 WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, supporter_id);
        if (sql_step_done(st, s, "confirm change") != 0)
            goto fail;
        result = CONFIRM_CHANGE_APPLIED;
    }
    if (!was_confirmed) {
        s = sql_stmt(st,
                     "UPDATE supporters SET status = 'confirmed', confirmed_at = ?2 WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, supporter_id);
        sqlite3_bind_int64(s, 2, now);
        if (sql_step_done(st, s, "confirm") != 0 ||
            outbox_add(st, MAIL_WELCOME, campaign_id, supporter_id, now) != 0 ||
            sql_count_confirmed(st, campaign_id) != 0)
            goto fail;
        /* Confirmed during the launch window: the reminder goes at once. */
        if (launched_at && now < window_end && !unsubscribed &&
            outbox_add(st, MAIL_REMINDER, campaign_id, supporter_id, now) != 0)
            goto fail;
        /* The campaign's webhook, when it has one (docs/WEBHOOKS.md). */
        if (store_webhook_enqueue(st, campaign_id, WEBHOOK_PLEDGE_CONFIRMED, supporter_id, 0,
                                  now) != 0)
            goto fail;
        result = CONFIRM_NEW;
    }
    if (sql_commit(st) != 0)
        return -1;
    *outcome = result;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

int store_unsubscribe(struct store *st, int64_t supporter_id, int64_t now)
{
    if (sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET unsubscribed_at = ?2 "
                                   "WHERE id = ?1 AND unsubscribed_at = 0");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, now);
    if (sql_step_done(st, s, "unsubscribe") != 0)
        goto fail;
    s = sql_stmt(st, "UPDATE outbox SET state = 'cancelled' WHERE supporter_id = ?1 AND kind = 3 "
                     "AND state = 'pending'");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, supporter_id);
    if (sql_step_done(st, s, "unsubscribe outbox") != 0)
        goto fail;
    return sql_commit(st);
fail:
    sql_rollback(st);
    return -1;
}

int store_set_instance(struct store *st, int64_t supporter_id, const char *instance)
{
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET instance = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sql_bind_text(s, 2, instance);
    return sql_step_done(st, s, "instance");
}

int store_supporter_erase(struct store *st, const char *email, int64_t now, int *count)
{
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    if (sql_begin(st) != 0) {
        free(norm);
        return -1;
    }
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND "
                     "supporter_id IN (SELECT id FROM supporters WHERE email_norm = ?1)");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, norm);
    if (sql_step_done(st, s, "erase outbox") != 0)
        goto fail;
    /* The row stays for the anonymous counts; its links die with the new key. */
    s = sql_stmt(
        st, "UPDATE supporters SET email = NULL, email_norm = NULL, name = '', statement = '', "
            "timezone = 'UTC', chosen_target = NULL, instance = NULL, consent_ip = NULL, "
            "pending_json = NULL, erased_at = ?2, epoch = epoch + 1, "
            "token_key = -abs(random() % 9223372036854775807) - 1 WHERE email_norm = ?1");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, norm);
    sqlite3_bind_int64(s, 2, now);
    if (sql_step_done(st, s, "erase") != 0)
        goto fail;
    int n = sqlite3_changes(st->db);
    if (sql_commit(st) != 0) {
        free(norm);
        return -1;
    }
    free(norm);
    *count = n;
    return 0;
fail:
    sql_rollback(st);
    free(norm);
    return -1;
}

/* ---------- one click ---------- */

struct target_delta {
    int64_t id;
    int64_t assigned, clicks, rerouted;
};

static struct target_delta *delta_for(struct target_delta *d, size_t *n, size_t max, int64_t id)
{
    for (size_t i = 0; i < *n; i++)
        if (d[i].id == id)
            return &d[i];
    if (*n >= max)
        return NULL;
    memset(&d[*n], 0, sizeof d[*n]);
    d[*n].id = id;
    return &d[(*n)++];
}

static int flush_deltas(struct store *st, const struct target_delta *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = sql_stmt(st, "UPDATE targets SET assigned = max(assigned + ?2, 0), "
                                       "clicks = clicks + ?3, rerouted = rerouted + ?4 "
                                       "WHERE id = ?1");
        if (!s)
            return -1;
        sqlite3_bind_int64(s, 1, d[i].id);
        sqlite3_bind_int64(s, 2, d[i].assigned);
        sqlite3_bind_int64(s, 3, d[i].clicks);
        sqlite3_bind_int64(s, 4, d[i].rerouted);
        if (sql_step_done(st, s, "target counters") != 0)
            return -1;
    }
    return 0;
}

/* The campaign's webhook answer for clicks, read once per campaign per batch
 * (see struct webhook_want: it holds for the whole write transaction). A batch
 * touching more campaigns than there are slots reads the rest per click. */
enum { WANT_SLOTS = 8 };

static int click_webhook(struct store *st, struct webhook_want *wants, size_t *nwants,
                         const struct click_record *k)
{
    for (size_t i = 0; i < *nwants; i++)
        if (wants[i].campaign_id == k->campaign_id)
            return store_webhook_enqueue_wanted(st, &wants[i], k->supporter_id, k->target_id,
                                                k->at);
    if (*nwants == WANT_SLOTS)
        return store_webhook_enqueue(st, k->campaign_id, WEBHOOK_ACTION_CLICKED, k->supporter_id,
                                     k->target_id, k->at);
    if (store_webhook_want(st, k->campaign_id, WEBHOOK_ACTION_CLICKED, &wants[*nwants]) != 0)
        return -1;
    (*nwants)++;
    return store_webhook_enqueue_wanted(st, &wants[*nwants - 1], k->supporter_id, k->target_id,
                                        k->at);
}

/* A batch's click rows go in 32 to an INSERT: binding 160 values and
 * stepping once took the writer 0.55 us of CPU per click instead of 1.0-1.2
 * with a statement per row (docs/PERFORMANCE.md). */
enum { CLICK_ROWS = 32 };
#define CLICKS_INSERT                                                                              \
    "INSERT INTO clicks (campaign_id, supporter_id, target_id, at, rerouted) VALUES "
#define CLICK_ROW_VALUES "(?, ?, ?, ?, ?)"
#define CLICK_ROWS_VALUES4                                                                         \
    CLICK_ROW_VALUES "," CLICK_ROW_VALUES "," CLICK_ROW_VALUES "," CLICK_ROW_VALUES
#define CLICK_ROWS_VALUES16                                                                        \
    CLICK_ROWS_VALUES4 "," CLICK_ROWS_VALUES4 "," CLICK_ROWS_VALUES4 "," CLICK_ROWS_VALUES4
#define CLICK_ROWS_VALUES CLICK_ROWS_VALUES16 "," CLICK_ROWS_VALUES16

int store_record_clicks(struct store *st, const struct click_record *clicks, size_t n)
{
    enum { MAX_DELTAS = 64 };
    struct target_delta deltas[MAX_DELTAS];
    size_t ndeltas = 0;
    struct webhook_want wants[WANT_SLOTS];
    size_t nwants = 0;
    int result = -1;
    if (sql_begin(st) != 0)
        return -1;
    /* The click rows, CLICK_ROWS to a statement while that many are left. */
    for (size_t i = 0; i < n;) {
        size_t rows = n - i >= CLICK_ROWS ? CLICK_ROWS : 1;
        sqlite3_stmt *s = sql_stmt(st, rows == CLICK_ROWS ? CLICKS_INSERT CLICK_ROWS_VALUES
                                                          : CLICKS_INSERT CLICK_ROW_VALUES);
        if (!s)
            goto fail;
        for (size_t j = 0; j < rows; j++, i++) {
            const struct click_record *k = &clicks[i];
            int first = (int)(5 * j);
            sqlite3_bind_int64(s, first + 1, k->campaign_id);
            sqlite3_bind_int64(s, first + 2, k->supporter_id);
            if (k->target_id)
                sqlite3_bind_int64(s, first + 3, k->target_id);
            else
                sqlite3_bind_null(s, first + 3);
            sqlite3_bind_int64(s, first + 4, k->at);
            sqlite3_bind_int(s, first + 5, k->rerouted);
        }
        if (sql_step_done(st, s, "click") != 0)
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const struct click_record *k = &clicks[i];
        sqlite3_stmt *s;
        /* The campaign's webhook, when it has one (docs/WEBHOOKS.md). */
        if (click_webhook(st, wants, &nwants, k) != 0)
            goto fail;
        if (k->assigned && k->target_id) {
            s = sql_stmt(st, "UPDATE supporters SET assigned_target = ?2 WHERE id = ?1");
            if (!s)
                goto fail;
            sqlite3_bind_int64(s, 1, k->supporter_id);
            sqlite3_bind_int64(s, 2, k->target_id);
            if (sql_step_done(st, s, "assign supporter") != 0)
                goto fail;
        }
        /* Per-target counters are summed over the batch: one UPDATE each. */
        if (ndeltas + 2 > MAX_DELTAS) {
            if (flush_deltas(st, deltas, ndeltas) != 0)
                goto fail;
            ndeltas = 0;
        }
        if (k->target_id) {
            struct target_delta *d = delta_for(deltas, &ndeltas, MAX_DELTAS, k->target_id);
            d->clicks++;
            d->assigned += k->assigned;
        }
        if (k->rerouted && k->previous_target && k->assigned) {
            struct target_delta *d = delta_for(deltas, &ndeltas, MAX_DELTAS, k->previous_target);
            d->assigned--;
            d->rerouted++;
        }
    }
    if (flush_deltas(st, deltas, ndeltas) != 0)
        goto fail;
    result = sql_commit(st);
    goto out;
fail:
    sql_rollback(st);
out:
    for (size_t i = 0; i < nwants; i++)
        webhook_want_release(&wants[i]);
    return result;
}

int store_set_durable(struct store *st, int full)
{
    return sql_exec(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

/* ---------- launch and outbox ---------- */

int store_launch(struct store *st, int64_t campaign_id, int move_to_now, int64_t now,
                 int64_t *queued)
{
    if (sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE campaigns SET launched_at = ?2, launch_utc = CASE WHEN ?3 "
                     "THEN ?2 ELSE launch_utc END WHERE id = ?1 AND launched_at = 0");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int(s, 3, move_to_now);
    if (sql_step_done(st, s, "launch") != 0)
        goto fail;
    s = sql_stmt(st, "INSERT OR IGNORE INTO outbox (kind, campaign_id, supporter_id, next_at, "
                     "created_at) SELECT 3, campaign_id, id, ?2, ?2 FROM supporters WHERE "
                     "campaign_id = ?1 AND status = 'confirmed' AND unsubscribed_at = 0 AND "
                     "erased_at = 0");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, now);
    if (sql_step_done(st, s, "launch queue") != 0)
        goto fail;
    int64_t added = sqlite3_changes(st->db);
    if (sql_commit(st) != 0)
        return -1;
    *queued = added;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

int store_due_launches(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n)
{
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id FROM campaigns WHERE launched_at = 0 AND launch_utc <= ?1 "
                     "AND launch_utc + window_minutes * 60 > ?1 ORDER BY id");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    size_t count = 0;
    while (count < max && sqlite3_step(s) == SQLITE_ROW)
        ids[count++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    *n = count;
    return 0;
}

/* owner is "host:pid:start" (start: the process start time in clock ticks
 * since boot, so a recycled pid is not mistaken for the old owner). */
static int owner_is_dead(const char *owner)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        return 0;
    host[sizeof host - 1] = '\0';
    size_t hl = strlen(host);
    if (strncmp(owner, host, hl) != 0 || owner[hl] != ':')
        return 0; /* another machine: wait for its lease to expire */
    long pid = 0;
    unsigned long long start = 0;
    if (sscanf(owner + hl + 1, "%ld:%llu", &pid, &start) != 2 || pid <= 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 1;
    unsigned long long their_start = 0;
    int rc = process_start_ticks(pid, &their_start);
    if (rc == -1)
        return 1;
    if (rc != 0)
        return 0;
    return their_start != start;
}

static int reclaim_dead_owners(struct store *st, int64_t now)
{
    char owners[16][300];
    int n = 0;
    /* "+state": read the claimed rows through outbox_claimed, not every
     * pending row through outbox_due */
    sqlite3_stmt *s = sql_stmt(st, "SELECT DISTINCT owner FROM outbox WHERE owner IS NOT NULL "
                                   "AND +state = 'pending' AND lease_until > ?1 LIMIT 16");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while (n < 16 && sqlite3_step(s) == SQLITE_ROW)
        snprintf(owners[n++], sizeof owners[0], "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    for (int i = 0; i < n; i++) {
        if (!owner_is_dead(owners[i]))
            continue;
        log_warn("outbox.takeover", "owner=%s", owners[i]);
        s = sql_stmt(st,
                     "UPDATE outbox SET lease_until = 0 WHERE owner = ?1 AND state = 'pending'");
        if (!s)
            return -1;
        sql_bind_text(s, 1, owners[i]);
        if (sql_step_done(st, s, "takeover") != 0)
            return -1;
    }
    return 0;
}

int store_outbox_claim(struct store *st, const char *owner, int64_t campaign_id, int64_t now,
                       int lease_seconds, struct outbox_item *items, size_t max, size_t *n)
{
    if (sql_begin(st) != 0)
        return -1;
    if (reclaim_dead_owners(st, now) != 0)
        goto fail;
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, kind, supporter_id, campaign_id, attempts FROM outbox "
                     "WHERE state = 'pending' AND next_at <= ?1 AND lease_until <= ?1 "
                     "AND (?2 = 0 OR campaign_id = ?2) ORDER BY next_at, id LIMIT ?3");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, campaign_id);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    size_t count = 0;
    while (count < max && sqlite3_step(s) == SQLITE_ROW) {
        items[count].id = sqlite3_column_int64(s, 0);
        items[count].kind = (enum mail_kind)sqlite3_column_int(s, 1);
        items[count].supporter_id = sqlite3_column_int64(s, 2);
        items[count].campaign_id = sqlite3_column_int64(s, 3);
        items[count].attempts = sqlite3_column_int(s, 4) + 1;
        count++;
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < count; i++) {
        s = sql_stmt(st, "UPDATE outbox SET owner = ?2, lease_until = ?3, attempts = attempts + 1 "
                         "WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, items[i].id);
        sql_bind_text(s, 2, owner);
        sqlite3_bind_int64(s, 3, now + lease_seconds);
        if (sql_step_done(st, s, "claim") != 0)
            goto fail;
    }
    if (sql_commit(st) != 0)
        return -1;
    *n = count;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

static int outbox_finish(struct store *st, const char *sql, int64_t item_id, int64_t at,
                         const char *reply)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sqlite3_bind_int64(s, 2, at);
    sql_bind_text(s, 3, reply);
    return sql_step_done(st, s, "outbox finish");
}

int store_outbox_renew(struct store *st, int64_t item_id, const char *owner, int64_t lease_until,
                       int *ours)
{
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET lease_until = ?3 WHERE id = ?1 AND "
                                   "owner = ?2 AND state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sql_bind_text(s, 2, owner);
    sqlite3_bind_int64(s, 3, lease_until);
    if (sql_step_done(st, s, "renew") != 0)
        return -1;
    *ours = sqlite3_changes(st->db) == 1;
    return 0;
}

int store_outbox_sent(struct store *st, int64_t item_id, const char *owner, int64_t now)
{
    (void)owner; /* a message that left is sent, whoever holds the lease now */
    return outbox_finish(st,
                         "UPDATE outbox SET state = 'sent', sent_at = ?2, last_reply = ?3, "
                         "owner = NULL, lease_until = 0 WHERE id = ?1",
                         item_id, now, NULL);
}

int store_outbox_retry(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply)
{
    (void)owner;
    return outbox_finish(st,
                         "UPDATE outbox SET next_at = ?2, last_reply = ?3, owner = NULL, "
                         "lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, next_at, reply);
}

int store_outbox_failed(struct store *st, int64_t item_id, const char *owner, int64_t now,
                        const char *reply)
{
    (void)owner;
    return outbox_finish(st,
                         "UPDATE outbox SET state = 'failed', sent_at = ?2, last_reply = ?3, "
                         "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, now, reply);
}

int store_outbox_pending(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t now,
                         int64_t *pending, int64_t *ready)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT count(*), coalesce(sum(next_at <= ?3), 0) FROM outbox "
                                   "WHERE state = 'pending' AND (?1 = 0 OR campaign_id = ?1) AND "
                                   "(?2 = 0 OR kind = ?2)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int(s, 2, kind);
    sqlite3_bind_int64(s, 3, now);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return sql_error(st, "pending");
    }
    *pending = sqlite3_column_int64(s, 0);
    *ready = sqlite3_column_int64(s, 1);
    sqlite3_reset(s);
    return 0;
}

/* ---------- stats ---------- */

int64_t sql_scalar(struct store *st, const char *sql, int64_t campaign_id)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return v;
}

int sql_count_confirmed(struct store *st, int64_t campaign_id)
{
    sqlite3_stmt *s = sql_stmt(st, "UPDATE campaigns SET confirmed_count = confirmed_count + 1 "
                                   "WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    return sql_step_done(st, s, "confirmed count");
}

int store_confirmed_count(struct store *st, int64_t campaign_id, int64_t *count)
{
    int64_t v = sql_scalar(st, "SELECT confirmed_count FROM campaigns WHERE id = ?1", campaign_id);
    if (v < 0)
        return -1;
    *count = v;
    return 0;
}

int store_stats(struct store *st, int64_t campaign_id, struct campaign_stats *out)
{
    struct campaign_stats r;
    r.pledges =
        sql_scalar(st, "SELECT count(*) FROM supporters WHERE campaign_id = ?1", campaign_id);
    r.confirmed = sql_scalar(st,
                             "SELECT count(*) FROM supporters WHERE campaign_id = ?1 AND "
                             "status = 'confirmed'",
                             campaign_id);
    r.unsubscribed = sql_scalar(st,
                                "SELECT count(*) FROM supporters WHERE campaign_id = ?1 AND "
                                "unsubscribed_at > 0",
                                campaign_id);
    r.reminders_sent = sql_scalar(st,
                                  "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND kind = 3 "
                                  "AND state = 'sent'",
                                  campaign_id);
    r.reminders_failed =
        sql_scalar(st,
                   "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND kind = 3 "
                   "AND state = 'failed'",
                   campaign_id);
    r.reminders_pending = sql_scalar(st,
                                     "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND "
                                     "kind = 3 AND state = 'pending'",
                                     campaign_id);
    r.clicks = sql_scalar(st, "SELECT count(*) FROM clicks WHERE campaign_id = ?1", campaign_id);
    r.supporters_clicked = sql_scalar(
        st, "SELECT count(DISTINCT supporter_id) FROM clicks WHERE campaign_id = ?1", campaign_id);
    r.reroutes = sql_scalar(
        st, "SELECT coalesce(sum(rerouted), 0) FROM targets WHERE campaign_id = ?1", campaign_id);
    if (r.pledges < 0 || r.confirmed < 0 || r.unsubscribed < 0 || r.reminders_sent < 0 ||
        r.reminders_failed < 0 || r.reminders_pending < 0 || r.clicks < 0 ||
        r.supporters_clicked < 0 || r.reroutes < 0)
        return -1;
    *out = r;
    return 0;
}

int store_read_begin(struct store *st)
{
    /* Deferred: the snapshot is taken by the first read. */
    return tx_begin(st, "BEGIN", "read begin");
}

void store_read_end(struct store *st)
{
    /* Ending a read transaction cannot lose anything; ROLLBACK also works
     * after a failed read. */
    sql_rollback(st);
}

/* Snapshot ids are unique across handles, so a cache keyed by one cannot
 * confuse two handles. */
static _Atomic uint64_t snapshot_ids;

/* Ends the open snapshot; the caller holds snapshot_lock. */
static void snapshot_close(struct store *st)
{
    if (!st->snapshot_open)
        return;
    store_read_end(st);
    st->snapshot_open = 0;
}

int store_snapshot_enter(struct store *st, int64_t max_age_us)
{
    pthread_mutex_lock(&st->snapshot_lock);
    int64_t now = monotonic_us();
    if (st->snapshot_open && now - st->snapshot_began_us < max_age_us)
        return 0;
    snapshot_close(st);
    /* BEGIN is deferred: the snapshot is taken by the first read, after
     * snapshot_began_us, so it is never older than the age measured here. */
    if (store_read_begin(st) != 0) {
        pthread_mutex_unlock(&st->snapshot_lock);
        return -1;
    }
    st->snapshot_open = 1;
    st->snapshot_began_us = now;
    st->snapshot_id = atomic_fetch_add(&snapshot_ids, 1) + 1;
    return 1;
}

uint64_t store_snapshot_id(struct store *st)
{
    return st->snapshot_open ? st->snapshot_id : 0;
}

void store_snapshot_leave(struct store *st)
{
    pthread_mutex_unlock(&st->snapshot_lock);
}

void store_snapshot_end(struct store *st)
{
    /* The owning thread asks; the lock is only ever held briefly. */
    pthread_mutex_lock(&st->snapshot_lock);
    snapshot_close(st);
    pthread_mutex_unlock(&st->snapshot_lock);
}

int store_snapshot_expire(struct store *st, int64_t max_age_us)
{
    if (pthread_mutex_trylock(&st->snapshot_lock) != 0)
        return 1; /* in use: its owner is working */
    if (st->snapshot_open && monotonic_us() - st->snapshot_began_us >= max_age_us)
        snapshot_close(st);
    int open = st->snapshot_open;
    pthread_mutex_unlock(&st->snapshot_lock);
    return open;
}

int store_begin(struct store *st)
{
    return sql_begin(st);
}

int store_commit(struct store *st)
{
    return sql_commit(st);
}

void store_rollback(struct store *st)
{
    sql_rollback(st);
}

int store_outbox_cancel(struct store *st, int64_t item_id)
{
    return outbox_finish(st,
                         "UPDATE outbox SET state = 'cancelled', sent_at = ?2, last_reply = ?3, "
                         "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, 0, "not owed any more");
}

int store_launch_owed(struct store *st, int64_t campaign_id, int64_t *owed)
{
    int64_t v =
        sql_scalar(st,
                   "SELECT count(*) FROM supporters s WHERE s.campaign_id = ?1 AND "
                   "s.status = 'confirmed' AND s.unsubscribed_at = 0 AND s.erased_at = 0 AND "
                   "NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = ?1 AND "
                   "o.supporter_id = s.id AND o.kind = 3)",
                   campaign_id);
    if (v < 0)
        return -1;
    *owed = v;
    return 0;
}
