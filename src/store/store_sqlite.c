/*
 * store_sqlite: the SQLite backend (store_backend.h), one file per database,
 * its table at the end of this file. WAL mode with
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/token.h"
#include "store/sqlite_private.h"
#include "core/banned.h"

static void sqlite_close(struct store *base);
static int sqlite_schema_version(struct store *base);
static int sqlite_read_begin(struct store *base);
static void sqlite_read_end(struct store *base);

/* ---------- basics ---------- */

int sql_error(struct sqlite_store *st, const char *what)
{
    log_error("store.error", "op=%s error=\"%s\"", what, sqlite3_errmsg(st->db));
    return -1;
}

sqlite3_stmt *sql_stmt(struct sqlite_store *st, const char *sql)
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

int sql_exec(struct sqlite_store *st, const char *sql)
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
static int tx_begin(struct sqlite_store *st, const char *sql, const char *what)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    if (sqlite3_step(s) != SQLITE_DONE) {
        sql_error(st, what);
        sqlite3_reset(s);
        return -1;
    }
    st->in_tx = 1;
    return 0;
}

/* While a handle of this process empties the write-ahead log
 * (sqlite_log_trim), the process's writers wait here instead of competing
 * with it for SQLite's write lock: a writer that commits and begins again at
 * once would otherwise win that lock nearly every time, and the log would
 * grow while the trim waits. The trim is bounded by its own wait. */
static pthread_mutex_t trim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t trim_done = PTHREAD_COND_INITIALIZER;
static int trim_running;

static void trim_gate(void)
{
    pthread_mutex_lock(&trim_lock);
    while (trim_running)
        pthread_cond_wait(&trim_done, &trim_lock);
    pthread_mutex_unlock(&trim_lock);
}

static void trim_mark(int running)
{
    pthread_mutex_lock(&trim_lock);
    trim_running = running;
    if (!running)
        pthread_cond_broadcast(&trim_done);
    pthread_mutex_unlock(&trim_lock);
}

int sql_begin(struct sqlite_store *st)
{
    trim_gate();
    return tx_begin(st, "BEGIN IMMEDIATE", "begin");
}

int sql_commit(struct sqlite_store *st)
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

void sql_rollback(struct sqlite_store *st)
{
    if (!st->in_tx)
        return;
    sqlite3_stmt *s = sql_stmt(st, "ROLLBACK");
    if (s)
        sqlite3_step(s);
    st->in_tx = 0;
}

/* Runs a statement that returns no rows. */
int sql_step_done(struct sqlite_store *st, sqlite3_stmt *s, const char *what)
{
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sql_error(st, what);
        sqlite3_reset(s); /* a failed statement must not hold its transaction open */
        return -1;
    }
    if (rc == SQLITE_ROW)
        sqlite3_reset(s);
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

static int migrate(struct sqlite_store *st, char *err, size_t err_len)
{
    int count;
    const char *const *steps = sqlite_migrations(&count);
    int version = sqlite_schema_version(&st->base);
    if (version > count) {
        snprintf(err, err_len, "database schema version %d is newer than this muster (%d)", version,
                 count);
        return -1;
    }
    for (int v = version; v < count; v++) {
        if (sql_exec(st, "BEGIN IMMEDIATE") != 0)
            goto fail;
        /* Another process may have migrated while we waited for the lock. */
        if (sqlite_schema_version(&st->base) > v) {
            sql_exec(st, "COMMIT");
            continue;
        }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((steps[v] && sql_exec(st, steps[v]) != 0) || sql_exec(st, pragma) != 0) {
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
    struct sqlite_store *st = ctx;
    int64_t now = monotonic_us();
    if (count == 0)
        st->busy_since_us = now;
    int64_t waited = now - st->busy_since_us;
    if (waited >= st->busy_limit_us)
        return 0;
    struct timespec pause = {0, waited < BUSY_FAST_US ? 50000L : 2000000L};
    nanosleep(&pause, NULL);
    return 1;
}

/* Whether the file holds any table, index, view or trigger: *count. */
static int count_schema_objects(struct sqlite_store *st, int64_t *count)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL) !=
            SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return -1;
    }
    *count = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

static int open_file(const char *path, int require_empty, struct store **out, char *err,
                     size_t err_len)
{
    pthread_once(&sqlite_config_once, sqlite_config);
    struct sqlite_store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    st->base.be = &store_backend_sqlite;
    pthread_mutex_init(&st->snapshot_lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        sqlite3_close(st->db);
        pthread_mutex_destroy(&st->snapshot_lock);
        free(st);
        return -1;
    }
    st->busy_limit_us = BUSY_LIMIT_US;
    sqlite3_busy_handler(st->db, busy_wait, st);
    if (require_empty) {
        int64_t objects = 0;
        if (count_schema_objects(st, &objects) != 0) {
            snprintf(err, err_len, "cannot read database %s: %s", path, sqlite3_errmsg(st->db));
            sqlite_close(&st->base);
            return -1;
        }
        /* The schema of this very version with no row (a copy that failed
         * left it, all or nothing) is empty enough: opening it migrates
         * nothing, and the caller counts its rows. Anything else is not. */
        int count = 0;
        sqlite_migrations(&count);
        if (objects > 0 && sqlite_schema_version(&st->base) == count)
            objects = 0;
        if (objects > 0) {
            snprintf(err, err_len, "database %s is not empty: it holds %lld tables and indexes",
                     path, (long long)objects);
            sqlite_close(&st->base);
            return STORE_CONFLICT;
        }
    }
    if (sql_exec(st, "PRAGMA journal_mode=WAL") != 0 ||
        sql_exec(st, "PRAGMA synchronous=FULL") != 0 ||
        sql_exec(st, "PRAGMA foreign_keys=ON") != 0) {
        snprintf(err, err_len, "cannot use database %s: %s", path, sqlite3_errmsg(st->db));
        sqlite_close(&st->base);
        return -1;
    }
    if (migrate(st, err, err_len) != 0) {
        sqlite_close(&st->base);
        return -1;
    }
    *out = &st->base;
    return 0;
}

static int sqlite_open(const char *path, struct store **out, char *err, size_t err_len)
{
    return open_file(path, 0, out, err, err_len);
}

static int sqlite_open_empty(const char *path, struct store **out, char *err, size_t err_len)
{
    return open_file(path, 1, out, err, err_len);
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    if (!st)
        return;
    for (int i = 0; i < STMT_CACHE && st->cache[i].sql; i++)
        sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db); /* also ends an open snapshot */
    pthread_mutex_destroy(&st->snapshot_lock);
    free(st);
}

static int sqlite_schema_version(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int sqlite_ping(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT 1");
    int ok = s && sqlite3_step(s) == SQLITE_ROW;
    if (s)
        sqlite3_reset(s);
    return ok ? 0 : -1;
}

static int64_t sqlite_data_version(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "PRAGMA data_version");
    if (!s)
        return -1;
    int64_t version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    /* An unfinished statement would keep a read transaction open: the
     * handle would see nothing newer and could not write. */
    sqlite3_reset(s);
    return version;
}

static int sqlite_secret(struct store *base, unsigned char secret[32])
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_campaign_insert(struct store *base, const struct campaign *c, int64_t now,
                                  int64_t *id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "INSERT OR IGNORE INTO campaigns (slug, spec_json, launch_utc, "
                                   "window_minutes, created_at, updated_at, language) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)");
    if (!s)
        return -1;
    sql_bind_text(s, 1, c->slug);
    sql_bind_text(s, 2, c->canonical_json);
    sqlite3_bind_int64(s, 3, c->launch_utc);
    sqlite3_bind_int(s, 4, c->window_minutes);
    sqlite3_bind_int64(s, 5, now);
    sql_bind_text(s, 6, c->language ? c->language : I18N_DEFAULT_LANGUAGE);
    if (sql_step_done(st, s, "campaign insert") != 0)
        return -1;
    if (sqlite3_changes(st->db) != 1)
        return STORE_CONFLICT;
    *id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

static int sqlite_campaign_update(struct store *base, int64_t id, const struct campaign *c,
                                  int64_t launch_utc, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE campaigns SET spec_json = ?2, launch_utc = ?3, "
                                   "window_minutes = ?4, updated_at = ?5, language = ?6, "
                                   "revision = revision + 1 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sql_bind_text(s, 2, c->canonical_json);
    sqlite3_bind_int64(s, 3, launch_utc);
    sqlite3_bind_int(s, 4, c->window_minutes);
    sqlite3_bind_int64(s, 5, now);
    sql_bind_text(s, 6, c->language ? c->language : I18N_DEFAULT_LANGUAGE);
    if (sql_step_done(st, s, "campaign update") != 0)
        return -1;
    return sqlite3_changes(st->db) == 1 ? 0 : STORE_NOT_FOUND;
}

static int sqlite_targets_replace(struct store *base, int64_t campaign_id,
                                  const struct target_spec *targets, size_t n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE targets SET removed = 1 WHERE campaign_id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    if (sql_step_done(st, s, "targets mark") != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct target_spec *t = &targets[i];
        s = sql_stmt(st, "INSERT INTO targets (campaign_id, key, position, kind, cap) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (campaign_id, key) DO UPDATE SET "
                         "position = excluded.position, kind = excluded.kind, cap = excluded.cap, "
                         "removed = 0");
        if (!s)
            return -1;
        sqlite3_bind_int64(s, 1, campaign_id);
        sql_bind_text(s, 2, t->id);
        sqlite3_bind_int64(s, 3, (int64_t)i);
        sql_bind_text(s, 4, target_kind_name(t->kind));
        sqlite3_bind_int64(s, 5, t->cap);
        if (sql_step_done(st, s, "target upsert") != 0)
            return -1;
    }
    return 0;
}

/* The stored tag (column col), checked again on the way out: a hand-edited
 * row gives English, never a broken attribute. */
static void campaign_row_language(sqlite3_stmt *s, int col, struct campaign_row *out)
{
    const char *tag = (const char *)sqlite3_column_text(s, col);
    if (!tag || i18n_tag_canonical(tag, out->language) != 0)
        memcpy(out->language, I18N_DEFAULT_LANGUAGE, sizeof I18N_DEFAULT_LANGUAGE);
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
    campaign_row_language(s, 7, out);
    out->calendar_sequence = sqlite3_column_int64(s, 8);
    out->mail_steps_done = sqlite3_column_int64(s, 9);
    if (!out->slug || !out->spec_json) {
        campaign_row_release(out);
        return -1;
    }
    return 0;
}

#define CAMPAIGN_COLUMNS                                                                           \
    "id, slug, spec_json, launch_utc, launched_at, window_minutes, revision, language, "           \
    "calendar_sequence, mail_steps_done"

static int sqlite_campaign_get(struct store *base, const char *slug, struct campaign_row *out)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_campaign_peek(struct store *base, const char *slug, int64_t id,
                                struct campaign_row *out)
{
    struct sqlite_store *st = sqlite_of(base);
    /* Two statements, not "id = ?1 OR slug = ?2": SQLite runs an OR of two
     * indexes as two lookups and a merge, on every click. */
#define PEEK_COLUMNS                                                                               \
    "SELECT id, slug, NULL, launch_utc, launched_at, window_minutes, revision, language, "         \
    "calendar_sequence, mail_steps_done "
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
        campaign_row_language(s, 7, out);
        out->calendar_sequence = sqlite3_column_int64(s, 8);
        out->mail_steps_done = sqlite3_column_int64(s, 9);
        result = out->slug ? 0 : -1;
    } else if (rc != SQLITE_DONE) {
        result = sql_error(st, "campaign peek");
    }
    sqlite3_reset(s);
    return result;
}

static int sqlite_campaign_get_by_id(struct store *base, int64_t id, struct campaign_row *out)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_campaign_slugs(struct store *base, struct buf *out)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_targets(struct store *base, int64_t campaign_id, struct target_list *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(
        st, "SELECT t.id, t.key, t.open, t.removed, t.cap, t.assigned, t.clicks, t.rerouted, "
            "t.reason, (SELECT count(*) FROM target_reports r WHERE r.target_id = t.id), "
            "t.places FROM targets t WHERE t.campaign_id = ?1 ORDER BY t.removed, t.position");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    struct target_list list = {NULL, 0};
    size_t room = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (list.count == room) {
            size_t grown = room ? room * 2 : 16;
            struct target_row *rows = realloc(list.rows, grown * sizeof *rows);
            if (!rows) {
                sqlite3_reset(s);
                target_list_release(&list);
                return -1;
            }
            list.rows = rows;
            room = grown;
        }
        struct target_row *r = &list.rows[list.count++];
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
        r->places = sqlite3_column_int64(s, 10);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        target_list_release(&list);
        return sql_error(st, "targets");
    }
    *out = list;
    return 0;
}

static int sqlite_target_set_state(struct store *base, int64_t target_id, int open,
                                   const char *reason, const char *actor, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_target_find(struct store *base, int64_t campaign_id, const char *key, int64_t *id,
                              int *open)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_target_key(struct store *base, int64_t target_id, char key[65])
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT key FROM targets WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        snprintf(key, 65, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    return rc == SQLITE_ROW ? 0 : sql_error(st, "target key");
}

static int sqlite_target_report_add(struct store *base, int64_t target_id, int64_t supporter_id,
                                    int64_t now, int *added)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "INSERT INTO target_reports (target_id, supporter_id, at) "
                     "SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM target_reports "
                     "WHERE target_id = ?1 AND supporter_id = ?2)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    sqlite3_bind_int64(s, 2, supporter_id);
    sqlite3_bind_int64(s, 3, now);
    if (sql_step_done(st, s, "report") != 0)
        return -1;
    *added = sqlite3_changes(st->db) == 1;
    return 0;
}

static int sqlite_target_reports_since(struct store *base, int64_t target_id, int64_t since,
                                       int64_t *count)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT count(*) FROM target_reports WHERE target_id = ?1 AND at > ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    sqlite3_bind_int64(s, 2, since);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : sql_error(st, "reports");
}

static int sqlite_place_take(struct store *base, int64_t target_id, int64_t supporter_id,
                             int64_t previous_target, int *taken)
{
    struct sqlite_store *st = sqlite_of(base);
    int own_tx = !st->in_tx;
    if (own_tx && sql_begin(st) != 0)
        return -1;
    int result = -1, got = 0;
    sqlite3_stmt *s = sql_stmt(st, "SELECT coalesce(assigned_target, 0) FROM supporters "
                                   "WHERE id = ?1 AND erased_at = 0");
    if (!s)
        goto out;
    sqlite3_bind_int64(s, 1, supporter_id);
    int rc = sqlite3_step(s);
    int64_t assigned = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        sql_error(st, "place supporter");
        goto out;
    }
    if (assigned == target_id) {
        got = 1; /* another server (or an earlier click) took it */
        result = 0;
        goto out;
    }
    s = sql_stmt(st, "UPDATE targets SET places = places + 1 WHERE id = ?1 AND "
                     "(cap < 0 OR places < cap)");
    if (!s)
        goto out;
    sqlite3_bind_int64(s, 1, target_id);
    if (sql_step_done(st, s, "place take") != 0)
        goto out;
    if (sqlite3_changes(st->db) != 1) {
        result = 0; /* full: nothing changed */
        goto out;
    }
    s = sql_stmt(st, "UPDATE supporters SET assigned_target = ?2 WHERE id = ?1");
    if (!s)
        goto out;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, target_id);
    if (sql_step_done(st, s, "place assign") != 0)
        goto out;
    if (previous_target) {
        s = sql_stmt(st, "UPDATE targets SET places = max(places - 1, 0) WHERE id = ?1");
        if (!s)
            goto out;
        sqlite3_bind_int64(s, 1, previous_target);
        if (sql_step_done(st, s, "place release") != 0)
            goto out;
    }
    got = 1;
    result = 0;
out:
    if (own_tx) {
        if (result == 0 && got) {
            if (sql_commit(st) != 0)
                return -1;
        } else {
            sql_rollback(st);
        }
    }
    if (result == 0)
        *taken = got;
    return result;
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

static int sqlite_pledge_find(struct store *base, int64_t campaign_id, const char *email,
                              struct pledge_state *out)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, status = 'confirmed', confirm_mail_day, confirm_mails "
                     "FROM supporters WHERE campaign_id = ?1 AND email_norm = ?2");
    if (!s) {
        free(norm);
        return -1;
    }
    sqlite3_bind_int64(s, 1, campaign_id);
    sql_bind_text(s, 2, norm);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->confirmed = sqlite3_column_int(s, 1);
        out->confirm_mail_day = sqlite3_column_int64(s, 2);
        out->confirm_mails = sqlite3_column_int64(s, 3);
    }
    sqlite3_reset(s);
    free(norm);
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    return rc == SQLITE_ROW ? 0 : sql_error(st, "pledge find");
}

static int sqlite_pledge_insert(struct store *base, int64_t campaign_id,
                                const struct pledge_input *in, int64_t now, int64_t *id)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(in->email);
    if (!norm)
        return -1;
    int result = -1;
    /* A new random key can collide with another's (the UNIQUE index): try
     * again with another; the address's own row is a conflict. */
    for (int attempt = 0; attempt < 4; attempt++) {
        sqlite3_stmt *s = sql_stmt(
            st, "INSERT OR IGNORE INTO supporters (campaign_id, token_key, email, email_norm, "
                "name, statement, timezone, chosen_target, created_at, consent_at, consent_text, "
                "consent_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)");
        if (!s)
            goto out;
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
            goto out;
        if (sqlite3_changes(st->db) == 1) {
            *id = sqlite3_last_insert_rowid(st->db);
            result = 0;
            goto out;
        }
        s = sql_stmt(st, "SELECT 1 FROM supporters WHERE campaign_id = ?1 AND email_norm = ?2");
        if (!s)
            goto out;
        sqlite3_bind_int64(s, 1, campaign_id);
        sql_bind_text(s, 2, norm);
        int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc == SQLITE_ROW) {
            result = STORE_CONFLICT;
            goto out;
        }
        if (rc != SQLITE_DONE) {
            sql_error(st, "pledge insert");
            goto out;
        }
    }
    log_error("store.error", "op=pledge_insert error=\"no free token key in 4 tries\"");
out:
    free(norm);
    return result;
}

static int sqlite_pledge_hold_change(struct store *base, int64_t supporter_id,
                                     const struct pledge_input *in)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE supporters SET pending_json = json_object('name', ?2, 'statement', "
                     "?3, 'timezone', ?4, 'target', ?5), change_epoch = change_epoch + 1 "
                     "WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sql_bind_text(s, 2, in->name ? in->name : "");
    sql_bind_text(s, 3, in->statement ? in->statement : "");
    sql_bind_text(s, 4, in->timezone);
    sql_bind_text(s, 5, in->target);
    return sql_step_done(st, s, "pledge change");
}

static int sqlite_pledge_apply_change(struct store *base, int64_t supporter_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET name = json_extract(pending_json, "
                                   "'$.name'), statement = json_extract(pending_json, "
                                   "'$.statement'), timezone = json_extract(pending_json, "
                                   "'$.timezone'), chosen_target = json_extract(pending_json, "
                                   "'$.target'), pending_json = NULL WHERE id = ?1 AND "
                                   "pending_json IS NOT NULL");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    return sql_step_done(st, s, "confirm change");
}

static int sqlite_pledge_load_change(struct store *base, struct supporter *sup)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT json_extract(pending_json, '$.name'), "
                                   "json_extract(pending_json, '$.statement'), "
                                   "json_extract(pending_json, '$.timezone'), "
                                   "json_extract(pending_json, '$.target') FROM supporters "
                                   "WHERE id = ?1 AND pending_json IS NOT NULL");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, sup->id);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "held change");
    }
    char *name = sql_col_strdup(s, 0), *statement = sql_col_strdup(s, 1),
         *timezone = sql_col_strdup(s, 2), *target = sql_col_strdup(s, 3);
    int has_target = sqlite3_column_type(s, 3) != SQLITE_NULL;
    sqlite3_reset(s);
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

static int sqlite_pledge_count_mail(struct store *base, int64_t supporter_id, int64_t day,
                                    int64_t mails)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(
        st, "UPDATE supporters SET confirm_mail_day = ?2, confirm_mails = ?3 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, day);
    sqlite3_bind_int64(s, 3, mails);
    return sql_step_done(st, s, "pledge mails");
}

static int sqlite_pledge_mark_confirmed(struct store *base, int64_t supporter_id, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE supporters SET status = 'confirmed', confirmed_at = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, now);
    return sql_step_done(st, s, "confirm");
}

static int sqlite_pledge_unsubscribe(struct store *base, int64_t supporter_id, int64_t now,
                                     int *changed)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET unsubscribed_at = ?2 "
                                   "WHERE id = ?1 AND unsubscribed_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, now);
    if (sql_step_done(st, s, "unsubscribe") != 0)
        return -1;
    *changed = sqlite3_changes(st->db) == 1;
    return 0;
}

static int sqlite_pledge_resubscribe(struct store *base, int64_t supporter_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET unsubscribed_at = 0 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    return sql_step_done(st, s, "resubscribe");
}

static int sqlite_savepoint(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    return sql_exec(st, "SAVEPOINT job");
}

static int sqlite_savepoint_end(struct store *base, int keep)
{
    struct sqlite_store *st = sqlite_of(base);
    if (keep)
        return sql_exec(st, "RELEASE job");
    return sql_exec(st, "ROLLBACK TO job") == 0 && sql_exec(st, "RELEASE job") == 0 ? 0 : -1;
}

#define SUPPORTER_COLUMNS                                                                          \
    "id, campaign_id, token_key, epoch, email, name, statement, timezone, chosen_target, "         \
    "instance, status, confirmed_at, unsubscribed_at, assigned_target, pending_json IS NOT NULL, " \
    "change_epoch"

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
    out->change_epoch = (uint32_t)sqlite3_column_int64(s, 15);
    if (!out->email || !out->name || !out->statement || !out->timezone) {
        supporter_release(out);
        return -1;
    }
    return 0;
}

static int supporter_get(struct sqlite_store *st, sqlite3_stmt *s, struct supporter *out)
{
    int rc = sqlite3_step(s);
    int result = rc == SQLITE_ROW    ? supporter_fill(s, out)
                 : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                     : sql_error(st, "supporter get");
    sqlite3_reset(s);
    return result;
}

static int sqlite_supporter_by_key(struct store *base, int64_t token_key, struct supporter *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT " SUPPORTER_COLUMNS " FROM supporters "
                                   "WHERE token_key = ?1 AND erased_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, token_key);
    return supporter_get(st, s, out);
}

static int sqlite_supporter_by_id(struct store *base, int64_t id, struct supporter *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT " SUPPORTER_COLUMNS " FROM supporters "
                                   "WHERE id = ?1 AND erased_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return supporter_get(st, s, out);
}

static int sqlite_set_instance(struct store *base, int64_t supporter_id, const char *instance)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET instance = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sql_bind_text(s, 2, instance);
    return sql_step_done(st, s, "instance");
}

/* The relay's replies stored with the mails of an address, with every
 * address in them replaced by "[address]" (relays echo the recipient:
 * "250 2.1.5 <ann@example.org> ok"). Run before the address is erased. */
static int erase_addresses_from_replies(struct sqlite_store *st, const char *norm)
{
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, last_reply FROM outbox WHERE supporter_id IN "
                                   "(SELECT id FROM supporters WHERE email_norm = ?1) AND "
                                   "instr(last_reply, '@') > 0");
    if (!s)
        return -1;
    sql_bind_text(s, 1, norm);
    size_t n = 0, cap = 0;
    int64_t *ids = NULL;
    char **replies = NULL;
    int rc, failed = 0;
    while (!failed && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t more = cap ? cap * 2 : 8;
            int64_t *i2 = realloc(ids, more * sizeof *ids);
            if (i2)
                ids = i2;
            char **r2 = i2 ? realloc(replies, more * sizeof *replies) : NULL;
            if (r2)
                replies = r2;
            if (!i2 || !r2) {
                failed = 1;
                break;
            }
            cap = more;
        }
        struct buf scrubbed = BUF_INIT;
        if (redact_addresses(&scrubbed, (const char *)sqlite3_column_text(s, 1)) != 0 ||
            !(replies[n] = strdup(buf_cstr(&scrubbed)))) {
            buf_release(&scrubbed);
            failed = 1;
            break;
        }
        buf_release(&scrubbed);
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    if (!failed && rc != SQLITE_DONE) {
        sql_error(st, "erase replies");
        failed = 1;
    }
    sqlite3_reset(s);
    for (size_t i = 0; !failed && i < n; i++) {
        sqlite3_stmt *u = sql_stmt(st, "UPDATE outbox SET last_reply = ?2 WHERE id = ?1");
        if (!u) {
            failed = 1;
            break;
        }
        sqlite3_bind_int64(u, 1, ids[i]);
        sql_bind_text(u, 2, replies[i]);
        failed = sql_step_done(st, u, "erase reply") != 0;
    }
    for (size_t i = 0; i < n; i++)
        free(replies[i]);
    free(replies);
    free(ids);
    return failed ? -1 : 0;
}

/* Undoes what the erase savepoint saw (a failure is logged by sql_exec; the
 * caller's transaction, if any, is rolled back by the caller). */
static void erase_undo(struct sqlite_store *st)
{
    if (sql_exec(st, "ROLLBACK TO erase") == 0)
        (void)sql_exec(st, "RELEASE erase");
}

static int sqlite_pledges_erase(struct store *base, const char *email, int64_t now, int *count)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    /* One savepoint: the replies and the rows are erased together, inside the
     * caller's transaction or on their own. */
    if (sql_exec(st, "SAVEPOINT erase") != 0) {
        free(norm);
        return -1;
    }
    if (erase_addresses_from_replies(st, norm) != 0) {
        free(norm);
        erase_undo(st);
        return -1;
    }
    /* The row stays for the anonymous counts; its links die with the new key. */
    sqlite3_stmt *s = sql_stmt(
        st, "UPDATE supporters SET email = NULL, email_norm = NULL, name = '', statement = '', "
            "timezone = 'UTC', chosen_target = NULL, instance = NULL, consent_ip = NULL, "
            "pending_json = NULL, erased_at = ?2, epoch = epoch + 1, "
            "token_key = -abs(random() % 9223372036854775807) - 1 WHERE email_norm = ?1");
    int rc = -1;
    if (s) {
        sql_bind_text(s, 1, norm);
        sqlite3_bind_int64(s, 2, now);
        rc = sql_step_done(st, s, "erase");
    }
    free(norm);
    int changes = sqlite3_changes(st->db);
    if (rc != 0) {
        erase_undo(st);
        return -1;
    }
    if (sql_exec(st, "RELEASE erase") != 0)
        return -1;
    *count = changes;
    return 0;
}

static int sqlite_outbox_cancel_email(struct store *base, const char *email)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND "
                     "supporter_id IN (SELECT id FROM supporters WHERE email_norm = ?1)");
    int rc = -1;
    if (s) {
        sql_bind_text(s, 1, norm);
        rc = sql_step_done(st, s, "cancel by email");
    }
    free(norm);
    return rc;
}

static int sqlite_outbox_cancel_supporter(struct store *base, int64_t supporter_id,
                                          enum mail_kind kind)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET state = 'cancelled' WHERE supporter_id = ?1 "
                                   "AND (?2 = 0 OR kind = ?2) AND state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int(s, 2, (int)kind);
    return sql_step_done(st, s, "cancel supporter");
}

/* ---------- one click ---------- */

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

static int sqlite_clicks_insert(struct store *base, const struct click_record *clicks, size_t n)
{
    struct sqlite_store *st = sqlite_of(base);
    /* The click rows, CLICK_ROWS to a statement while that many are left. */
    for (size_t i = 0; i < n;) {
        size_t rows = n - i >= CLICK_ROWS ? CLICK_ROWS : 1;
        sqlite3_stmt *s = sql_stmt(st, rows == CLICK_ROWS ? CLICKS_INSERT CLICK_ROWS_VALUES
                                                          : CLICKS_INSERT CLICK_ROW_VALUES);
        if (!s)
            return -1;
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
            return -1;
    }
    return 0;
}

static int sqlite_supporter_assign(struct store *base, int64_t supporter_id, int64_t target_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET assigned_target = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, supporter_id);
    sqlite3_bind_int64(s, 2, target_id);
    return sql_step_done(st, s, "assign supporter");
}

static int sqlite_target_counters_add(struct store *base, int64_t target_id, int64_t assigned,
                                      int64_t clicks, int64_t rerouted)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE targets SET assigned = max(assigned + ?2, 0), "
                                   "clicks = clicks + ?3, rerouted = rerouted + ?4 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, target_id);
    sqlite3_bind_int64(s, 2, assigned);
    sqlite3_bind_int64(s, 3, clicks);
    sqlite3_bind_int64(s, 4, rerouted);
    return sql_step_done(st, s, "target counters");
}

static int sqlite_set_durable(struct store *base, int full)
{
    struct sqlite_store *st = sqlite_of(base);
    return sql_exec(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

/* ---------- launch and outbox ---------- */

static int sqlite_campaign_mark_launched(struct store *base, int64_t id, int move_to_now,
                                         int64_t now, int *marked)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE campaigns SET launched_at = ?2, launch_utc = CASE WHEN ?3 "
                     "THEN ?2 ELSE launch_utc END WHERE id = ?1 AND launched_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int(s, 3, move_to_now);
    if (sql_step_done(st, s, "launch") != 0)
        return -1;
    *marked = sqlite3_changes(st->db) == 1;
    return 0;
}

static int sqlite_outbox_add(struct store *base, enum mail_kind kind, int64_t campaign_id,
                             int64_t supporter_id, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
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

static int sqlite_outbox_add_confirmed(struct store *base, int64_t campaign_id, enum mail_kind kind,
                                       int64_t now, int64_t *queued)
{
    struct sqlite_store *st = sqlite_of(base);
    /* INSERT OR IGNORE skips those who have one only under a unique index. */
    if (!mail_kind_once_only(kind)) {
        log_error("store.error", "op=outbox_add_confirmed error=\"kind %d is not once-only\"",
                  (int)kind);
        return -1;
    }
    sqlite3_stmt *s = sql_stmt(st, "INSERT OR IGNORE INTO outbox (kind, campaign_id, supporter_id, "
                                   "next_at, created_at) SELECT ?3, campaign_id, id, ?2, ?2 FROM "
                                   "supporters WHERE campaign_id = ?1 AND status = 'confirmed' AND "
                                   "unsubscribed_at = 0 AND erased_at = 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int(s, 3, (int)kind);
    if (sql_step_done(st, s, "launch queue") != 0)
        return -1;
    *queued = sqlite3_changes(st->db);
    return 0;
}

static int sqlite_outbox_add_variant(struct store *base, int64_t campaign_id, enum mail_kind kind,
                                     int64_t variant, int without_click, int64_t now,
                                     int64_t *queued)
{
    struct sqlite_store *st = sqlite_of(base);
    if (!mail_kind_per_variant(kind)) {
        log_error("store.error", "op=outbox_add_variant error=\"kind %d is not per-variant\"",
                  (int)kind);
        return -1;
    }
    sqlite3_stmt *s = sql_stmt(
        st, "INSERT OR IGNORE INTO outbox (kind, campaign_id, supporter_id, variant, next_at, "
            "created_at) SELECT ?3, campaign_id, id, ?4, ?2, ?2 FROM supporters s WHERE "
            "campaign_id = ?1 AND status = 'confirmed' AND unsubscribed_at = 0 AND erased_at = 0 "
            "AND (?5 = 0 OR id NOT IN (SELECT supporter_id FROM clicks WHERE campaign_id = ?1 "
            "AND supporter_id IS NOT NULL))");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int(s, 3, (int)kind);
    sqlite3_bind_int64(s, 4, variant);
    sqlite3_bind_int(s, 5, without_click ? 1 : 0);
    if (sql_step_done(st, s, "queue per variant") != 0)
        return -1;
    *queued = sqlite3_changes(st->db);
    return 0;
}

static int sqlite_campaign_moved(struct store *base, int64_t id, int64_t *sequence)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE campaigns SET calendar_sequence = calendar_sequence + "
                                   "1, mail_steps_done = 0 WHERE id = ?1 RETURNING "
                                   "calendar_sequence");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int result = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *sequence = sqlite3_column_int64(s, 0);
        result = 0;
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE)
        result = sql_error(st, "campaign moved");
    sqlite3_reset(s);
    return result;
}

static int sqlite_campaign_steps_done(struct store *base, int64_t id, int64_t done_at)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE campaigns SET mail_steps_done = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, done_at);
    if (sql_step_done(st, s, "campaign steps") != 0)
        return -1;
    return sqlite3_changes(st->db) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Steps the bound statement s: the first column of each row (ids), at most
 * max of them; resets s. */
static int sqlite_ids(struct sqlite_store *st, sqlite3_stmt *s, const char *what, int64_t *ids,
                      size_t max, size_t *n)
{
    size_t count = 0;
    int rc = SQLITE_DONE;
    while (count < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[count++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (count < max && rc != SQLITE_DONE)
        return sql_error(st, what);
    *n = count;
    return 0;
}

static int sqlite_campaigns_ahead(struct store *base, int64_t now, int64_t horizon, int64_t *ids,
                                  size_t max, size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT id FROM campaigns WHERE launch_utc - ?2 <= ?1 AND "
                                   "launch_utc + window_minutes * 60 > ?1 ORDER BY id LIMIT ?3");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, horizon);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    return sqlite_ids(st, s, "campaigns ahead", ids, max, n);
}

static int sqlite_outbox_owed(struct store *base, int64_t campaign_id, enum mail_kind kind,
                              int64_t *owed)
{
    struct sqlite_store *st = sqlite_of(base);
    if (!mail_kind_once_only(kind)) {
        log_error("store.error", "op=outbox_owed error=\"kind %d is not once-only\"", (int)kind);
        return -1;
    }
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT count(*) FROM supporters s WHERE s.campaign_id = ?1 AND "
                     "s.status = 'confirmed' AND s.unsubscribed_at = 0 AND s.erased_at = 0 AND "
                     "NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = ?1 AND "
                     "o.supporter_id = s.id AND o.kind = ?2)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int(s, 2, (int)kind);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *owed = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : sql_error(st, "owed");
}

static int sqlite_campaigns_due(struct store *base, int64_t now, int64_t *ids, size_t max,
                                size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id FROM campaigns WHERE launched_at = 0 AND launch_utc <= ?1 "
                     "AND launch_utc + window_minutes * 60 > ?1 ORDER BY id");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    return sqlite_ids(st, s, "campaigns due", ids, max, n);
}

static int sqlite_campaigns_missed(struct store *base, int64_t now, int64_t *ids, size_t max,
                                   size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT id FROM campaigns WHERE launched_at = 0 AND "
                                   "launch_utc + window_minutes * 60 <= ?1 ORDER BY id LIMIT ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    return sqlite_ids(st, s, "campaigns missed", ids, max, n);
}

static int sqlite_campaign_pause_get(struct store *base, int64_t campaign_id,
                                     struct campaign_pause *out);

static int sqlite_campaign_set_pause(struct store *base, int64_t campaign_id, int paused,
                                     const char *by, const char *reason, int64_t now, int *changed)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = paused ? sql_stmt(st, "UPDATE campaigns SET paused_at = ?2, paused_by = ?3, "
                                            "paused_reason = ?4 WHERE id = ?1 AND paused_at = 0")
                             : sql_stmt(st, "UPDATE campaigns SET paused_at = 0, paused_by = '', "
                                            "paused_reason = '' WHERE id = ?1 AND paused_at <> 0");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    if (paused) {
        sqlite3_bind_int64(s, 2, now > 0 ? now : 1);
        sql_bind_text(s, 3, by);
        sql_bind_text(s, 4, reason);
    }
    if (sql_step_done(st, s, "pause") != 0)
        return -1;
    int did = sqlite3_changes(st->db) == 1;
    if (!did) {
        struct campaign_pause ignored;
        int rc = sqlite_campaign_pause_get(base, campaign_id, &ignored);
        if (rc != 0)
            return rc;
    }
    *changed = did;
    return 0;
}

static int sqlite_campaign_pause_get(struct store *base, int64_t campaign_id,
                                     struct campaign_pause *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT paused_at, paused_by, paused_reason FROM campaigns WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->paused_at = sqlite3_column_int64(s, 0);
        snprintf(out->by, sizeof out->by, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(out->reason, sizeof out->reason, "%s", (const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "pause read");
}

static int sqlite_outbox_lease_owners(struct store *base, int64_t now, char (*owners)[300],
                                      size_t max, size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    /* "+state": read the claimed rows through outbox_claimed, not every
     * pending row through outbox_due */
    sqlite3_stmt *s = sql_stmt(st, "SELECT DISTINCT owner FROM outbox WHERE owner IS NOT NULL "
                                   "AND +state = 'pending' AND lease_until > ?1 LIMIT ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    size_t count = 0;
    int rc;
    while (count < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        snprintf(owners[count++], 300, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    *n = count;
    return 0;
}

static int sqlite_outbox_lease_drop(struct store *base, const char *owner)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "UPDATE outbox SET lease_until = 0 WHERE owner = ?1 AND state = 'pending'");
    if (!s)
        return -1;
    sql_bind_text(s, 1, owner);
    return sql_step_done(st, s, "takeover");
}

static int sqlite_outbox_claim(struct store *base, const char *owner, int64_t campaign_id,
                               int64_t now, int lease_seconds, struct outbox_item *items,
                               size_t max, size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    if (sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, kind, supporter_id, campaign_id, attempts, variant FROM outbox "
                     "WHERE state = 'pending' AND next_at <= ?1 AND lease_until <= ?1 "
                     "AND (?2 = 0 OR campaign_id = ?2) AND " OUTBOX_NOT_PAUSED
                     " ORDER BY next_at, id LIMIT ?3");
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
        items[count].variant = sqlite3_column_int64(s, 5);
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

static int outbox_finish(struct sqlite_store *st, const char *sql, int64_t item_id, int64_t at,
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

static int sqlite_outbox_renew_one(struct store *base, int64_t item_id, const char *owner,
                                   int64_t lease_until, int *ours)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET lease_until = ?3 WHERE id = ?1 AND "
                                   "owner = ?2 AND state = 'pending' AND " OUTBOX_NOT_PAUSED);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sql_bind_text(s, 2, owner);
    sqlite3_bind_int64(s, 3, lease_until);
    if (sql_step_done(st, s, "renew") != 0)
        return -1;
    *ours = sqlite3_changes(st->db) == 1;
    if (*ours)
        return 0;
    /* Not renewed: another's now, or its campaign paused since the claim;
     * then it goes back, as if never claimed, for the claim after resume. */
    s = sql_stmt(st, "UPDATE outbox SET owner = NULL, lease_until = 0, attempts = max(attempts "
                     "- 1, 0) WHERE id = ?1 AND owner = ?2 AND state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sql_bind_text(s, 2, owner);
    return sql_step_done(st, s, "hand back");
}

/* Statements are function calls here: the lists go one item at a time. */
static int sqlite_outbox_renew(struct store *base, const int64_t *ids, size_t n, const char *owner,
                               int64_t lease_until, int *ours)
{
    for (size_t i = 0; i < n; i++)
        if (sqlite_outbox_renew_one(base, ids[i], owner, lease_until, &ours[i]) != 0)
            return -1;
    return 0;
}

static int sqlite_outbox_sent(struct store *base, const int64_t *ids, size_t n, const char *owner,
                              int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    (void)owner; /* a message that left is sent, whoever holds the lease now */
    for (size_t i = 0; i < n; i++)
        if (outbox_finish(st,
                          "UPDATE outbox SET state = 'sent', sent_at = ?2, last_reply = ?3, "
                          "owner = NULL, lease_until = 0 WHERE id = ?1",
                          ids[i], now, NULL) != 0)
            return -1;
    return 0;
}

static int sqlite_outbox_retry(struct store *base, int64_t item_id, const char *owner,
                               int64_t next_at, const char *reply)
{
    struct sqlite_store *st = sqlite_of(base);
    (void)owner;
    return outbox_finish(st,
                         "UPDATE outbox SET next_at = ?2, last_reply = ?3, owner = NULL, "
                         "lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, next_at, reply);
}

static int sqlite_outbox_defer(struct store *base, int64_t item_id, const char *owner,
                               int64_t next_at, const char *reply)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET next_at = ?3, last_reply = ?4, owner = NULL, "
                                   "lease_until = 0, attempts = max(attempts - 1, 0) WHERE id = ?1 "
                                   "AND owner = ?2 AND state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sql_bind_text(s, 2, owner);
    sqlite3_bind_int64(s, 3, next_at);
    sql_bind_text(s, 4, reply);
    return sql_step_done(st, s, "defer");
}

static int sqlite_outbox_failed(struct store *base, int64_t item_id, const char *owner, int64_t now,
                                const char *reply)
{
    struct sqlite_store *st = sqlite_of(base);
    (void)owner;
    return outbox_finish(st,
                         "UPDATE outbox SET state = 'failed', sent_at = ?2, last_reply = ?3, "
                         "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, now, reply);
}

static int sqlite_outbox_pending(struct store *base, int64_t campaign_id, enum mail_kind kind,
                                 int64_t now, int64_t *pending, int64_t *ready)
{
    struct sqlite_store *st = sqlite_of(base);
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

int64_t sql_scalar(struct sqlite_store *st, const char *sql, int64_t campaign_id)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return v;
}

static int sqlite_campaign_count_confirmed(struct store *base, int64_t campaign_id, int64_t delta)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE campaigns SET confirmed_count = confirmed_count + ?2 "
                                   "WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, delta);
    return sql_step_done(st, s, "confirmed count");
}

static int sqlite_confirmed_count(struct store *base, int64_t campaign_id, int64_t *count)
{
    struct sqlite_store *st = sqlite_of(base);
    int64_t v = sql_scalar(st, "SELECT confirmed_count FROM campaigns WHERE id = ?1", campaign_id);
    if (v < 0)
        return -1;
    *count = v;
    return 0;
}

static int sqlite_stats(struct store *base, int64_t campaign_id, struct campaign_stats *out)
{
    struct sqlite_store *st = sqlite_of(base);
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
    r.reminders_sent = sql_scalar(
        st,
        "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND kind = " SQL_MAIL_REMINDER " "
        "AND state = 'sent'",
        campaign_id);
    r.reminders_failed = sql_scalar(
        st,
        "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND kind = " SQL_MAIL_REMINDER " "
        "AND state = 'failed'",
        campaign_id);
    r.reminders_pending = sql_scalar(st,
                                     "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND "
                                     "kind = " SQL_MAIL_REMINDER " AND state = 'pending'",
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

static int sqlite_read_begin(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    /* Deferred: the snapshot is taken by the first read. */
    return tx_begin(st, "BEGIN", "read begin");
}

static void sqlite_read_end(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    /* Ending a read transaction cannot lose anything; ROLLBACK also works
     * after a failed read. */
    sql_rollback(st);
}

/* Snapshot ids are unique across handles, so a cache keyed by one cannot
 * confuse two handles. */
static _Atomic uint64_t snapshot_ids;

/* Ends the open snapshot; the caller holds snapshot_lock. */
static void snapshot_close(struct sqlite_store *st)
{
    if (!st->snapshot_open)
        return;
    sqlite_read_end(&st->base);
    st->snapshot_open = 0;
}

static int sqlite_snapshot_enter(struct store *base, int64_t max_age_us)
{
    struct sqlite_store *st = sqlite_of(base);
    pthread_mutex_lock(&st->snapshot_lock);
    int64_t now = monotonic_us();
    if (st->snapshot_open && now - st->snapshot_began_us < max_age_us)
        return 0;
    snapshot_close(st);
    /* BEGIN is deferred: the snapshot is taken by the first read, after
     * snapshot_began_us, so it is never older than the age measured here. */
    if (sqlite_read_begin(&st->base) != 0) {
        pthread_mutex_unlock(&st->snapshot_lock);
        return -1;
    }
    st->snapshot_open = 1;
    st->snapshot_began_us = now;
    st->snapshot_id = atomic_fetch_add(&snapshot_ids, 1) + 1;
    return 1;
}

static uint64_t sqlite_snapshot_id(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    return st->snapshot_open ? st->snapshot_id : 0;
}

static void sqlite_snapshot_leave(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    pthread_mutex_unlock(&st->snapshot_lock);
}

static void sqlite_snapshot_end(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    /* The owning thread asks; the lock is only ever held briefly. */
    pthread_mutex_lock(&st->snapshot_lock);
    snapshot_close(st);
    pthread_mutex_unlock(&st->snapshot_lock);
}

static int sqlite_snapshot_expire(struct store *base, int64_t max_age_us)
{
    struct sqlite_store *st = sqlite_of(base);
    if (pthread_mutex_trylock(&st->snapshot_lock) != 0)
        return 1; /* in use: its owner is working */
    if (st->snapshot_open && monotonic_us() - st->snapshot_began_us >= max_age_us)
        snapshot_close(st);
    int open = st->snapshot_open;
    pthread_mutex_unlock(&st->snapshot_lock);
    return open;
}

/* ---------- the write-ahead log ---------- */

int64_t sqlite_log_bytes(struct sqlite_store *st, const char *op)
{
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(st->db, "main"));
    struct stat sb;
    if (wal && stat(wal, &sb) == 0)
        return (int64_t)sb.st_size;
    if (wal && errno == ENOENT) /* no file: an empty log */
        return 0;
    log_error("store.error", "op=%s error=\"cannot stat the log: %s\"", op,
              wal ? strerror(errno) : "no name");
    return -1;
}

/* A TRUNCATE checkpoint: SQLite takes the write lock (waiting for the writer
 * of the moment, new writers wait behind it), copies every frame into the
 * database, waits until no reader is left on an older snapshot (readers that
 * begin meanwhile read the database and never block it), syncs, and
 * truncates the log to zero bytes. The waits go through busy_wait, limited
 * here to wait_ms. Without the write lock in time it only copies what it can
 * and answers SQLITE_BUSY: the log was not emptied. Meanwhile the writers of
 * this process wait at trim_gate; another process's writers compete. */
static int sqlite_log_trim(struct store *base, int64_t above_bytes, int wait_ms,
                           struct store_log_trim *out)
{
    struct sqlite_store *st = sqlite_of(base);
    if (st->in_tx) {
        log_error("store.error", "op=log_trim error=\"inside a transaction\"");
        return -1;
    }
    struct store_log_trim r = {.applies = 1};
    r.bytes_before = sqlite_log_bytes(st, "log_trim");
    if (r.bytes_before < 0)
        return -1;
    r.bytes_after = r.bytes_before;
    if (r.bytes_before <= above_bytes) {
        *out = r;
        return 0;
    }
    int log_frames = -1, moved = -1;
    st->busy_limit_us = (int64_t)(wait_ms > 0 ? wait_ms : 0) * 1000;
    trim_mark(1);
    int rc =
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &moved);
    trim_mark(0);
    st->busy_limit_us = BUSY_LIMIT_US;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return sql_error(st, "log_trim");
    r.busy = rc == SQLITE_BUSY;
    r.trimmed = !r.busy;
    r.bytes_after = sqlite_log_bytes(st, "log_trim");
    if (r.bytes_after < 0)
        return -1;
    *out = r;
    return 0;
}

static int sqlite_begin(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    return sql_begin(st);
}

static int sqlite_commit(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    return sql_commit(st);
}

static void sqlite_rollback(struct store *base)
{
    struct sqlite_store *st = sqlite_of(base);
    sql_rollback(st);
}

static int sqlite_outbox_cancel(struct store *base, int64_t item_id)
{
    struct sqlite_store *st = sqlite_of(base);
    return outbox_finish(st,
                         "UPDATE outbox SET state = 'cancelled', sent_at = ?2, last_reply = ?3, "
                         "owner = NULL, lease_until = 0 WHERE id = ?1 AND state = 'pending'",
                         item_id, 0, "not owed any more");
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .supports =
        STORE_SUPPORTS_SHARED_SNAPSHOT | STORE_SUPPORTS_DATA_VERSION | STORE_SUPPORTS_LOCAL_ONLY,
    .open = sqlite_open,
    .open_empty = sqlite_open_empty,
    .copy_schema = sqlite_copy_schema,
    .copy_read = sqlite_copy_read,
    .copy_write = sqlite_copy_write,
    .copy_finish = sqlite_copy_finish,
    .copy_count = sqlite_copy_count,
    .copy_other_user = sqlite_copy_other_user,
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .ping = sqlite_ping,
    .secret = sqlite_secret,
    .data_version = sqlite_data_version,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .savepoint = sqlite_savepoint,
    .savepoint_end = sqlite_savepoint_end,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .set_durable = sqlite_set_durable,
    .snapshot_enter = sqlite_snapshot_enter,
    .snapshot_leave = sqlite_snapshot_leave,
    .snapshot_end = sqlite_snapshot_end,
    .snapshot_expire = sqlite_snapshot_expire,
    .snapshot_id = sqlite_snapshot_id,
    .log_trim = sqlite_log_trim,
    .campaign_get = sqlite_campaign_get,
    .campaign_peek = sqlite_campaign_peek,
    .campaign_get_by_id = sqlite_campaign_get_by_id,
    .campaign_slugs = sqlite_campaign_slugs,
    .campaign_insert = sqlite_campaign_insert,
    .campaign_update = sqlite_campaign_update,
    .campaign_mark_launched = sqlite_campaign_mark_launched,
    .campaigns_due = sqlite_campaigns_due,
    .campaign_moved = sqlite_campaign_moved,
    .campaign_steps_done = sqlite_campaign_steps_done,
    .campaigns_ahead = sqlite_campaigns_ahead,
    .campaigns_missed = sqlite_campaigns_missed,
    .campaign_set_pause = sqlite_campaign_set_pause,
    .campaign_pause_get = sqlite_campaign_pause_get,
    .confirmed_count = sqlite_confirmed_count,
    .campaign_count_confirmed = sqlite_campaign_count_confirmed,
    .targets = sqlite_targets,
    .targets_replace = sqlite_targets_replace,
    .target_find = sqlite_target_find,
    .target_key = sqlite_target_key,
    .target_set_state = sqlite_target_set_state,
    .target_report_add = sqlite_target_report_add,
    .target_reports_since = sqlite_target_reports_since,
    .place_take = sqlite_place_take,
    .supporter_by_key = sqlite_supporter_by_key,
    .supporter_by_id = sqlite_supporter_by_id,
    .pledge_find = sqlite_pledge_find,
    .pledge_insert = sqlite_pledge_insert,
    .pledge_import = sqlite_pledge_import,
    .pledge_hold_change = sqlite_pledge_hold_change,
    .pledge_apply_change = sqlite_pledge_apply_change,
    .pledge_load_change = sqlite_pledge_load_change,
    .pledge_count_mail = sqlite_pledge_count_mail,
    .pledge_mark_confirmed = sqlite_pledge_mark_confirmed,
    .pledge_unsubscribe = sqlite_pledge_unsubscribe,
    .pledge_resubscribe = sqlite_pledge_resubscribe,
    .set_instance = sqlite_set_instance,
    .pledges_erase = sqlite_pledges_erase,
    .clicks_insert = sqlite_clicks_insert,
    .supporter_assign = sqlite_supporter_assign,
    .target_counters_add = sqlite_target_counters_add,
    .outbox_add = sqlite_outbox_add,
    .outbox_add_confirmed = sqlite_outbox_add_confirmed,
    .outbox_owed = sqlite_outbox_owed,
    .outbox_add_variant = sqlite_outbox_add_variant,
    .outbox_claim = sqlite_outbox_claim,
    .outbox_lease_owners = sqlite_outbox_lease_owners,
    .outbox_lease_drop = sqlite_outbox_lease_drop,
    .outbox_renew = sqlite_outbox_renew,
    .outbox_sent = sqlite_outbox_sent,
    .outbox_retry = sqlite_outbox_retry,
    .outbox_defer = sqlite_outbox_defer,
    .outbox_failed = sqlite_outbox_failed,
    .outbox_cancel = sqlite_outbox_cancel,
    .outbox_cancel_supporter = sqlite_outbox_cancel_supporter,
    .outbox_cancel_email = sqlite_outbox_cancel_email,
    .outbox_pending = sqlite_outbox_pending,
    .stats = sqlite_stats,
    .export_supporters = sqlite_export_supporters,
    .export_clicks = sqlite_export_clicks,
    .organizer_set_password = sqlite_organizer_set_password,
    .organizer_get = sqlite_organizer_get,
    .session_create = sqlite_session_create,
    .session_delete = sqlite_session_delete,
    .session_organizer = sqlite_session_organizer,
    .organizer_set_role = sqlite_organizer_set_role,
    .organizer_role = sqlite_organizer_role,
    .grant_set = sqlite_grant_set,
    .grant_delete = sqlite_grant_delete,
    .grant_role = sqlite_grant_role,
    .grants_of_campaign = sqlite_grants_of_campaign,
    .api_token_create = sqlite_api_token_create,
    .api_token_find = sqlite_api_token_find,
    .api_token_touch = sqlite_api_token_touch,
    .api_tokens_of = sqlite_api_tokens_of,
    .api_token_revoke = sqlite_api_token_revoke,
    .webhook_insert = sqlite_webhook_insert,
    .webhook_claim = sqlite_webhook_claim,
    .webhook_sent = sqlite_webhook_sent,
    .webhook_retry = sqlite_webhook_retry,
    .webhook_failed = sqlite_webhook_failed,
    .webhook_release = sqlite_webhook_release,
    .suppression_add = sqlite_suppression_add,
    .suppression_get = sqlite_suppression_get,
    .suppression_exists = sqlite_suppression_exists,
    .suppression_remove = sqlite_suppression_remove,
    .suppression_forget_address = sqlite_suppression_forget_address,
    .suppression_each = sqlite_suppression_each,
    .suppression_count = sqlite_suppression_count,
    .suppression_temporary = sqlite_suppression_temporary,
    .suppression_campaign_counts = sqlite_suppression_campaign_counts,
    .outbox_suppressed = sqlite_outbox_suppressed,
    .suppression_campaign_mail = sqlite_suppression_campaign_mail,
    .dashboard_bounds = sqlite_dashboard_bounds,
    .dashboard_pledges = sqlite_dashboard_pledges,
    .dashboard_reminders = sqlite_dashboard_reminders,
    .dashboard_reminders_sent = sqlite_dashboard_reminders_sent,
    .dashboard_clicks = sqlite_dashboard_clicks,
    .dashboard_reports_since = sqlite_dashboard_reports_since,
    .dashboard_events = sqlite_dashboard_events,
    .inspect_counts = sqlite_inspect_counts,
    .inspect_supporter_id = sqlite_inspect_supporter_id,
    .inspect_outbox = sqlite_inspect_outbox,
    .inspect_webhook_events = sqlite_inspect_webhook_events,
    .inspect_checkpoint = sqlite_inspect_checkpoint,
    .inspect_integrity = sqlite_inspect_integrity,
    .inspect_set_email = sqlite_inspect_set_email,
    .inspect_set_leases = sqlite_inspect_set_leases,
};
