/*
 * store_pg: the PostgreSQL backend (store_backend.h) through libpq, its table
 * at the end of this file. One connection per handle (a handle belongs to one
 * thread at a time, and every thread of `serve` opens its own, as with
 * SQLite). Statements are prepared once per connection and take their
 * parameters as text; nothing typed by anyone is ever spliced into SQL.
 *
 * Write transactions (store_begin, and the operations that open their own)
 * take one transaction-level advisory lock first, so the writers of every
 * process on the database take turns as SQLite's BEGIN IMMEDIATE makes them
 * (a rule's reads and writes never interleave with another's); claims of due
 * rows do without it (FOR UPDATE SKIP LOCKED in one statement), and so do
 * store_begin_rows transactions (the sender's outcomes and renewals: each
 * statement updates the rows it names, under their row locks). Read
 * transactions are REPEATABLE READ: one snapshot, taken by the first read.
 * store_set_durable chooses synchronous_commit: on (the commit is flushed
 * to the server's disk before it returns) or off (a killed muster loses
 * nothing; a crash of the database server can lose the last moments).
 *
 * The schema is migrated at open under a session advisory lock, so several
 * processes starting at once are safe; its version is the row of
 * muster_schema, numbered as SQLite's user_version.
 */
#include "store/store.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/token.h"
#include "store/pg_private.h"
#include "core/banned.h"

static void pg_close(struct store *base);
static int pg_schema_version(struct store *base);
static int reconnect(struct pg_store *st);
static int pg_simple_once(struct pg_store *st, const char *sql, const char *what);
static PGresult *pipeline(struct pg_store *st, const char *sql, const struct pg_params *p,
                          const char *what);

/* ---------- basics ---------- */

void pg_param_i64(struct pg_params *p, int64_t v)
{
    if (p->n >= PG_MAX_PARAMS)
        return; /* pg_exec refuses a full list: see there */
    snprintf(p->numbers[p->n], sizeof p->numbers[0], "%" PRId64, v);
    p->values[p->n] = p->numbers[p->n];
    p->n++;
}

void pg_param_text(struct pg_params *p, const char *v)
{
    if (p->n >= PG_MAX_PARAMS)
        return;
    p->values[p->n++] = v;
}

/* Logs the error of r (or of the connection when r is NULL) for op what. */
static void log_pg_error(struct pg_store *st, const PGresult *r, const char *what)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char text[512];
    if (!msg) {
        /* The connection's message: strip its trailing newline. */
        snprintf(text, sizeof text, "%s", PQerrorMessage(st->conn));
        size_t len = strlen(text);
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        msg = text;
    }
    char quoted[600];
    log_error("store.error", "op=%s sqlstate=%s error=%s", what, state ? state : "-",
              log_quote(msg, quoted, sizeof quoted));
}

void pg_log_result_error(struct pg_store *st, const PGresult *r, const char *what)
{
    log_pg_error(st, r, what);
}

/* The prepared statement's name for sql, preparing it on first use; NULL on
 * error (logged). */
static const char *statement(struct pg_store *st, const char *sql, const char *what)
{
    for (int i = 0; i < st->prepared; i++)
        if (st->cache[i].sql == sql)
            return st->cache[i].name;
    if (st->prepared == PG_STMT_CACHE) {
        log_error("store.error", "op=%s error=\"statement cache full\"", what);
        return NULL;
    }
    struct pg_stmt_slot *slot = &st->cache[st->prepared];
    snprintf(slot->name, sizeof slot->name, "m%d", st->prepared);
    PGresult *r = PQprepare(st->conn, slot->name, sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_pg_error(st, r, what);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    slot->sql = sql;
    st->prepared++;
    return slot->name;
}

/* A connection the server dropped (a restart, a failover, an idle timeout)
 * is opened again, once, when no transaction was open on it: nothing is
 * lost then, and the statement is tried again. Inside a transaction the
 * error stands: the transaction's work is gone and its caller must know. */
static int reconnect(struct pg_store *st)
{
    int open_on_server = (st->tx == PG_TX_WRITE && st->write_begun) ||
                         (st->tx == PG_TX_READ && st->read_begun);
    if (PQstatus(st->conn) != CONNECTION_BAD || open_on_server)
        return -1;
    PQreset(st->conn);
    if (PQstatus(st->conn) != CONNECTION_OK)
        return -1;
    st->prepared = 0; /* prepared statements died with the session */
    const char *settings = st->durable ? "SET synchronous_commit = on; SET TIME ZONE 'UTC'; "
                                         "SET client_min_messages = warning"
                                       : "SET synchronous_commit = off; SET TIME ZONE 'UTC'; "
                                         "SET client_min_messages = warning";
    if (pg_simple_once(st, settings, "reconnect") != 0)
        return -1;
    log_warn("store.reconnected", "backend=postgres");
    return 0;
}

/* ---------- held statements (struct pg_queued) ---------- */

/* More than this many held statements are sent before another is held: a
 * pipeline's answers must fit the socket's buffers while it is sent. */
#define PG_QUEUE_MAX 128

static void queue_drop(struct pg_store *st, size_t from)
{
    for (size_t i = from; i < st->queued; i++)
        for (int k = 0; k < st->queue[i].n; k++)
            free(st->queue[i].values[k]);
    if (from < st->queued)
        st->queued = from;
    if (st->savepoint_at >= (long)st->queued)
        st->savepoint_at = -1;
}

static int hold(struct pg_store *st, const char *sql, const struct pg_params *p, const char *what,
                int control)
{
    if (p && p->n >= PG_MAX_PARAMS) {
        log_error("store.error", "op=%s error=\"too many parameters\"", what);
        return -1;
    }
    if (st->queued >= PG_QUEUE_MAX && pg_flush(st) != 0)
        return -1;
    if (st->queued == st->queue_cap) {
        size_t cap = st->queue_cap ? st->queue_cap * 2 : 16;
        struct pg_queued *grown = realloc(st->queue, cap * sizeof *grown);
        if (!grown) {
            log_error("store.error", "op=%s error=\"out of memory\"", what);
            return -1;
        }
        st->queue = grown;
        st->queue_cap = cap;
    }
    struct pg_queued *q = &st->queue[st->queued];
    memset(q, 0, sizeof *q);
    q->sql = sql;
    q->what = what;
    q->control = control;
    q->job = st->job_seq;
    for (int i = 0; p && i < p->n; i++, q->n++) {
        if (p->values[i] && !(q->values[i] = strdup(p->values[i]))) {
            for (int k = 0; k < q->n; k++)
                free(q->values[k]);
            log_error("store.error", "op=%s error=\"out of memory\"", what);
            return -1;
        }
    }
    st->queued++;
    return 0;
}

int pg_hold_guess(struct pg_store *st, const char *sql, const struct pg_params *p, const char *what)
{
    if (st->tx != PG_TX_WRITE || hold(st, sql, p, what, 0) != 0)
        return -1;
    st->queue[st->queued - 1].guess = 1;
    return 0;
}

/* 1 when r is the division by zero of a wrong guess (pg_hold_guess). */
static int guess_missed(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, "22012") == 0;
}

/* The answer of the next statement of a pipeline (its first result, NULL
 * when none came: the connection broke), read up to the NULL that ends it. */
static PGresult *next_answer(PGconn *conn)
{
    PGresult *first = PQgetResult(conn);
    if (!first || PQresultStatus(first) == PGRES_PIPELINE_SYNC)
        return first; /* no NULL follows a sync */
    PGresult *more;
    for (int extra = 0; extra < 4 && (more = PQgetResult(conn)) != NULL; extra++)
        PQclear(more);
    return first;
}

/* Sends the held statements and then sql with p (NULL sql: none) in one
 * pipeline, and reads every answer. The result of sql (or of the last held
 * statement when sql is NULL) when all succeeded, else NULL (each error
 * logged by its own statement's name). The held statements are gone either
 * way. */
static PGresult *pipeline_once(struct pg_store *st, const char *sql, const struct pg_params *p,
                               const char *what, long *failed_at)
{
    *failed_at = -1;
    const char *names[PG_QUEUE_MAX + 1];
    size_t n = st->queued;
    /* Names first: a statement not yet prepared is prepared now, outside the
     * pipeline (PQprepare waits for its answer). */
    for (size_t i = 0; i < n; i++) {
        struct pg_queued *q = &st->queue[i];
        names[i] = q->control ? NULL : statement(st, q->sql, q->what);
        if (!q->control && !names[i])
            return NULL;
    }
    const char *final = NULL;
    if (sql && !(final = statement(st, sql, what)))
        return NULL;
    if (PQenterPipelineMode(st->conn) != 1) {
        log_pg_error(st, NULL, what);
        return NULL;
    }
    int sent = 1;
    for (size_t i = 0; sent && i < n; i++) {
        struct pg_queued *q = &st->queue[i];
        const char *const *values = (const char *const *)q->values;
        sent = q->control ? PQsendQueryParams(st->conn, q->sql, 0, NULL, NULL, NULL, NULL, 0)
                          : PQsendQueryPrepared(st->conn, names[i], q->n, values, NULL, NULL, 0);
    }
    if (sent && final)
        sent = PQsendQueryPrepared(st->conn, final, p ? p->n : 0, p ? p->values : NULL, NULL,
                                   NULL, 0);
    size_t expected = n + (final ? 1 : 0);
    if (sent)
        sent = PQpipelineSync(st->conn);
    PGresult *answer = NULL;
    int ok = sent;
    if (!sent)
        log_pg_error(st, NULL, what);
    /* Every statement that was sent answers, then the sync does. */
    for (size_t i = 0; sent && i < expected; i++) {
        const char *name = i < n ? st->queue[i].what : what;
        PGresult *r = next_answer(st->conn);
        ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (status == PGRES_PIPELINE_SYNC) { /* the connection broke off */
            PQclear(r);
            ok = 0;
            break;
        }
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            if (status != PGRES_PIPELINE_ABORTED) { /* else after another's error */
                if (i < n && st->queue[i].guess && guess_missed(r))
                    log_info("store.guess_missed",
                             "op=%s reason=\"the row was there: the guess fails the transaction\"",
                             name);
                else
                    log_pg_error(st, r, name);
                if (ok && r)
                    *failed_at = (long)i;
            }
            ok = 0;
        }
        if (i + 1 == expected && ok)
            answer = r;
        else
            PQclear(r);
        if (!r)
            break;
    }
    for (int tries = 0; sent && tries < 4; tries++) {
        PGresult *r = next_answer(st->conn);
        int sync = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync || !r)
            break;
    }
    if (PQexitPipelineMode(st->conn) != 1) {
        log_pg_error(st, NULL, what);
        ok = 0;
    }
    if (!ok) {
        PQclear(answer);
        answer = NULL;
    }
    return answer;
}

/* pipeline_once, and once more on a connection that had dropped before the
 * transaction reached the server (then nothing of it was lost). */
static PGresult *pipeline(struct pg_store *st, const char *sql, const struct pg_params *p,
                          const char *what)
{
    int fresh = st->tx == PG_TX_WRITE && !st->write_begun;
    long failed_at;
    PGresult *r = pipeline_once(st, sql, p, what, &failed_at);
    if (!r && fresh && PQstatus(st->conn) == CONNECTION_BAD && reconnect(st) == 0)
        r = pipeline_once(st, sql, p, what, &failed_at);
    if (!r && st->tx == PG_TX_WRITE) {
        /* Only a statement of the current savepoint's job, after it, can be
         * undone alone (ROLLBACK TO); anything else loses the transaction. */
        size_t n = st->queued;
        int own = failed_at >= 0 && st->job_seq > 0 &&
                  ((size_t)failed_at == n ||
                   (!st->queue[failed_at].control && st->queue[failed_at].job == st->job_seq));
        if (!own)
            st->tx_lost = 1;
    }
    queue_drop(st, 0);
    if (st->tx == PG_TX_WRITE)
        st->write_begun = 1;
    return r;
}

int pg_flush(struct pg_store *st)
{
    if (!st->queued)
        return 0;
    PGresult *r = pipeline(st, NULL, NULL, "held statements");
    PQclear(r);
    return r ? 0 : -1;
}

PGresult *pg_exec(struct pg_store *st, const char *sql, const struct pg_params *p, const char *what)
{
    if (p && p->n >= PG_MAX_PARAMS) {
        log_error("store.error", "op=%s error=\"too many parameters\"", what);
        return NULL;
    }
    if (st->queued)
        return pipeline(st, sql, p, what);
    if (st->tx == PG_TX_READ && !st->read_begun) {
        if (pg_simple(st, "BEGIN ISOLATION LEVEL REPEATABLE READ", "read begin") != 0)
            return NULL;
        st->read_begun = 1;
    }
    for (int attempt = 0;; attempt++) {
        const char *name = statement(st, sql, what);
        if (!name) {
            if (attempt == 0 && reconnect(st) == 0)
                continue;
            return NULL;
        }
        PGresult *r =
            PQexecPrepared(st->conn, name, p ? p->n : 0, p ? p->values : NULL, NULL, NULL, 0);
        ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
            return r;
        log_pg_error(st, r, what);
        PQclear(r);
        if (attempt == 0 && reconnect(st) == 0)
            continue;
        return NULL;
    }
}

int pg_run(struct pg_store *st, const char *sql, const struct pg_params *p, const char *what,
           int64_t *changed)
{
    if (st->tx == PG_TX_WRITE && !changed)
        return hold(st, sql, p, what, 0);
    PGresult *r = pg_exec(st, sql, p, what);
    if (!r)
        return -1;
    if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_simple(struct pg_store *st, const char *sql, const char *what)
{
    /* The held statements go first (in their order); a failed one fails
     * this one too, which still runs (a ROLLBACK TO must). */
    int flushed = pg_flush(st);
    if (pg_simple_once(st, sql, what) == 0)
        return flushed;
    if (flushed != 0)
        return -1;
    /* BEGIN on a dropped connection: open it again and begin there. */
    if (reconnect(st) == 0)
        return pg_simple_once(st, sql, what);
    return -1;
}

static int pg_simple_once(struct pg_store *st, const char *sql, const char *what)
{
    PGresult *r = PQexec(st->conn, sql);
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        log_pg_error(st, r, what);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

char *pg_strdup(const PGresult *r, int row, int col)
{
    const char *v = pg_text(r, row, col);
    return v ? strdup(v) : NULL;
}

int64_t pg_scalar(struct pg_store *st, const char *sql, int64_t id, const char *what)
{
    struct pg_params p = {0};
    pg_param_i64(&p, id);
    PGresult *r = pg_exec(st, sql, &p, what);
    if (!r)
        return -1;
    int64_t v = PQntuples(r) == 1 ? pg_i64(r, 0, 0) : -1;
    PQclear(r);
    return v;
}

char *pg_lowercase_dup(const char *s)
{
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return d;
}

/* ---------- transactions ---------- */

/* A write transaction's BEGIN (and lock) are held, as its writes are: they
 * go with its first statement that is waited for, or with its COMMIT. */
static int begin_held(struct pg_store *st, int locked)
{
    if (st->tx != PG_TX_NONE) {
        log_error("store.error", "op=begin error=\"a transaction is already open\"");
        return -1;
    }
    if (pg_flush(st) != 0 || hold(st, "BEGIN", NULL, "begin", 1) != 0 ||
        (locked &&
         hold(st, "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")", NULL, "begin", 1) != 0)) {
        queue_drop(st, 0);
        return -1;
    }
    st->tx = PG_TX_WRITE;
    st->write_begun = 0;
    st->job_seq = 0;
    st->tx_lost = 0;
    return 0;
}

int pg_begin(struct pg_store *st)
{
    return begin_held(st, 1);
}

/* store_begin_rows: a write transaction without the write lock. Its
 * statements each update the rows they name (by id) and are atomic on their
 * own; the rules that read before they write keep taking the lock. */
static int pgb_begin_rows(struct store *base)
{
    return begin_held(pg_of(base), 0);
}

/* 1 when nothing but transaction control is held and nothing was sent: the
 * transaction never reached the server. */
static int never_sent(const struct pg_store *st)
{
    if (st->write_begun)
        return 0;
    for (size_t i = 0; i < st->queued; i++)
        if (!st->queue[i].control)
            return 0;
    return 1;
}

int pg_commit(struct pg_store *st)
{
    if (st->tx_lost) {
        log_error("store.error", "op=commit error=\"a statement had failed: rolled back\"");
        pg_rollback(st);
        return -1;
    }
    if (never_sent(st)) {
        queue_drop(st, 0);
        st->tx = PG_TX_NONE;
        return 0;
    }
    int piped = st->queued > 0; /* a failure was logged by its statement */
    PGresult *r = piped ? pipeline(st, "COMMIT", NULL, "commit") : PQexec(st->conn, "COMMIT");
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    /* A transaction that failed earlier "commits" as ROLLBACK: not a commit. */
    if (ok && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        log_error("store.error", "op=commit error=\"the transaction had failed: rolled back\"");
        ok = 0;
    } else if (!ok && (r || !piped)) {
        log_pg_error(st, r, "commit");
    }
    PQclear(r);
    if (!ok && PQtransactionStatus(st->conn) != PQTRANS_IDLE)
        pg_simple_once(st, "ROLLBACK", "rollback");
    st->tx = PG_TX_NONE;
    return ok ? 0 : -1;
}

void pg_rollback(struct pg_store *st)
{
    if (st->tx == PG_TX_NONE)
        return;
    int sent = !never_sent(st) || st->tx != PG_TX_WRITE;
    queue_drop(st, 0);
    if (sent)
        pg_simple_once(st, "ROLLBACK", "rollback");
    st->tx = PG_TX_NONE;
}

static int pgb_begin(struct store *base)
{
    return pg_begin(pg_of(base));
}

static int pgb_commit(struct store *base)
{
    struct pg_store *st = pg_of(base);
    if (st->tx != PG_TX_WRITE) {
        log_error("store.error", "op=commit error=\"no write transaction is open\"");
        return -1;
    }
    return pg_commit(st);
}

static void pgb_rollback(struct store *base)
{
    pg_rollback(pg_of(base));
}

/* A job's SAVEPOINT is held with its writes, and so is its RELEASE: they go
 * with the next job's first statement waited for, or the COMMIT. A job that
 * sent nothing costs nothing. STORE_SAVEPOINT_CHECK sends them at the job's
 * end instead, so that a job whose writes fail is undone alone. */
static int pgb_savepoint(struct store *base)
{
    struct pg_store *st = pg_of(base);
    if (st->tx != PG_TX_WRITE)
        return pg_simple(st, "SAVEPOINT job", "savepoint");
    st->job_seq++;
    if (hold(st, "SAVEPOINT job", NULL, "savepoint", 1) != 0)
        return -1;
    st->savepoint_at = (long)st->queued - 1;
    return 0;
}

static int pgb_savepoint_end(struct store *base, int keep)
{
    struct pg_store *st = pg_of(base);
    if (st->tx_lost)
        return -1;
    if (st->savepoint_at >= 0 && (!keep || st->savepoint_at == (long)st->queued - 1)) {
        /* The savepoint never reached the server: neither did what the job
         * held after it, which goes, or nothing came after it. */
        queue_drop(st, (size_t)st->savepoint_at);
        return 0;
    }
    if (!keep) {
        queue_drop(st, 0); /* all held after the savepoint, which was sent */
        return pg_simple_once(st, "ROLLBACK TO job; RELEASE job", "savepoint rollback");
    }
    if (hold(st, "RELEASE job", NULL, "savepoint release", 1) != 0)
        return -1;
    if (keep != STORE_SAVEPOINT_CHECK || pg_flush(st) == 0)
        return 0;
    /* A held write of this job failed: undo the job alone. */
    if (!st->tx_lost && PQstatus(st->conn) == CONNECTION_OK &&
        pg_simple_once(st, "ROLLBACK TO job; RELEASE job", "savepoint rollback") == 0)
        return STORE_UNDONE;
    return -1;
}

static int pgb_read_begin(struct store *base)
{
    struct pg_store *st = pg_of(base);
    if (st->tx != PG_TX_NONE) {
        log_error("store.error", "op=read_begin error=\"a transaction is already open\"");
        return -1;
    }
    /* The snapshot is taken by the first statement, not by BEGIN: BEGIN
     * waits for it (pg_exec), and is never sent when none comes. */
    st->tx = PG_TX_READ;
    st->read_begun = 0;
    return 0;
}

static void pgb_read_end(struct store *base)
{
    struct pg_store *st = pg_of(base);
    if (st->tx != PG_TX_READ)
        return;
    if (st->read_begun)
        pg_simple(st, "ROLLBACK", "read end");
    st->tx = PG_TX_NONE;
    st->read_begun = 0;
}

static int pgb_set_durable(struct store *base, int full)
{
    struct pg_store *st = pg_of(base);
    if (pg_simple(st, full ? "SET synchronous_commit = on" : "SET synchronous_commit = off",
                  "durable") != 0)
        return -1;
    st->durable = full;
    return 0;
}

/* ---------- the shared read snapshot (as SQLite's) ---------- */

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static _Atomic uint64_t snapshot_ids;

static void snapshot_close(struct pg_store *st)
{
    if (!st->snapshot_open)
        return;
    pgb_read_end(&st->base);
    st->snapshot_open = 0;
}

static int pgb_snapshot_enter(struct store *base, int64_t max_age_us)
{
    struct pg_store *st = pg_of(base);
    pthread_mutex_lock(&st->snapshot_lock);
    int64_t now = monotonic_us();
    if (st->snapshot_open && now - st->snapshot_began_us < max_age_us)
        return 0;
    snapshot_close(st);
    if (pgb_read_begin(&st->base) != 0) {
        pthread_mutex_unlock(&st->snapshot_lock);
        return -1;
    }
    st->snapshot_open = 1;
    st->snapshot_began_us = now;
    st->snapshot_id = atomic_fetch_add(&snapshot_ids, 1) + 1;
    return 1;
}

static uint64_t pgb_snapshot_id(struct store *base)
{
    struct pg_store *st = pg_of(base);
    return st->snapshot_open ? st->snapshot_id : 0;
}

static void pgb_snapshot_leave(struct store *base)
{
    pthread_mutex_unlock(&pg_of(base)->snapshot_lock);
}

static void pgb_snapshot_end(struct store *base)
{
    struct pg_store *st = pg_of(base);
    pthread_mutex_lock(&st->snapshot_lock);
    snapshot_close(st);
    pthread_mutex_unlock(&st->snapshot_lock);
}

static int pgb_snapshot_expire(struct store *base, int64_t max_age_us)
{
    struct pg_store *st = pg_of(base);
    if (pthread_mutex_trylock(&st->snapshot_lock) != 0)
        return 1;
    if (st->snapshot_open && monotonic_us() - st->snapshot_began_us >= max_age_us)
        snapshot_close(st);
    int open = st->snapshot_open;
    pthread_mutex_unlock(&st->snapshot_lock);
    return open;
}

/* ---------- open, migrate ---------- */

/* Replaces every occurrence of secret in text (in place) with "***". */
static void scrub(char *text, size_t size, const char *secret)
{
    if (!secret || !*secret)
        return;
    size_t slen = strlen(secret);
    char *hit;
    while ((hit = strstr(text, secret)) != NULL) {
        size_t tail = strlen(hit + slen);
        if (slen >= 3) {
            memcpy(hit, "***", 3);
            memmove(hit + 3, hit + slen, tail + 1);
        } else if (hit + 3 + tail < text + size) {
            memmove(hit + 3, hit + slen, tail + 1);
            memcpy(hit, "***", 3);
        } else {
            memset(hit, '*', slen);
        }
    }
}

/* The password location gives libpq, when it names one (caller frees). */
static char *location_password(const char *location)
{
    char *parse_err = NULL;
    PQconninfoOption *opts = PQconninfoParse(location, &parse_err);
    PQfreemem(parse_err);
    if (!opts)
        return NULL;
    char *password = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
            password = strdup(o->val);
    PQconninfoFree(opts);
    return password;
}

/* err = what, the location (without its password) and libpq's message
 * (with every occurrence of the password replaced). */
static void open_error(const char *location, const char *what, const char *libpq_msg, char *err,
                       size_t err_len)
{
    char shown[256];
    store_location_redact(location, shown, sizeof shown);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", libpq_msg ? libpq_msg : "");
    size_t len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    char *password = location_password(location);
    int parsed = password != NULL;
    scrub(msg, sizeof msg, password);
    free(password);
    if (strcmp(shown, location) != 0 && !parsed && msg[0]) {
        /* A password libpq could not parse out: keep none of its words. */
        snprintf(msg, sizeof msg, "the connection string does not parse");
    }
    snprintf(err, err_len, "%s PostgreSQL database %s: %s", what, shown, msg);
}

static int read_version(struct pg_store *st, int *version)
{
    PGresult *r = PQexec(st->conn, "SELECT version FROM muster_schema");
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK) {
        *version = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : 0;
        PQclear(r);
        return 0;
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "42P01") == 0) { /* undefined_table: a new database */
        PQclear(r);
        *version = 0;
        return 0;
    }
    log_pg_error(st, r, "schema version");
    PQclear(r);
    return -1;
}

static int migrate_locked(struct pg_store *st, int count, const char *const *steps, char *err,
                          size_t err_len)
{
    if (pg_simple(st,
                  "CREATE TABLE IF NOT EXISTS muster_schema (version INTEGER NOT NULL); "
                  "INSERT INTO muster_schema (version) SELECT 0 WHERE NOT EXISTS "
                  "(SELECT 1 FROM muster_schema)",
                  "schema table") != 0) {
        snprintf(err, err_len, "cannot create the schema version table (see the log)");
        return -1;
    }
    int version;
    if (read_version(st, &version) != 0) {
        snprintf(err, err_len, "cannot read the schema version (see the log)");
        return -1;
    }
    if (version > count) {
        snprintf(err, err_len, "database schema version %d is newer than this muster (%d)", version,
                 count);
        return -1;
    }
    for (int v = version; v < count; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "UPDATE muster_schema SET version = %d", v + 1);
        if (pg_simple(st, "BEGIN", "migrate") != 0)
            goto fail;
        if ((steps[v] && pg_simple(st, steps[v], "migrate step") != 0) ||
            pg_simple(st, bump, "migrate") != 0) {
            pg_simple(st, "ROLLBACK", "migrate");
            goto fail;
        }
        if (pg_simple(st, "COMMIT", "migrate") != 0)
            goto fail;
        continue;
    fail:
        snprintf(err, err_len, "migrating the database to schema version %d failed (see the log)",
                 v + 1);
        return -1;
    }
    return 0;
}

static int migrate(struct pg_store *st, char *err, size_t err_len)
{
    int count;
    const char *const *steps = pg_migrations(&count);
    int version;
    if (read_version(st, &version) != 0) {
        snprintf(err, err_len, "cannot read the schema version (see the log)");
        return -1;
    }
    if (version == count)
        return 0;
    if (version > count) {
        snprintf(err, err_len, "database schema version %d is newer than this muster (%d)", version,
                 count);
        return -1;
    }
    /* Several processes may start at once: one migrates, the others wait
     * here and then find the work done. */
    if (pg_simple(st, "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")", "migrate lock") != 0) {
        snprintf(err, err_len, "cannot take the migration lock (see the log)");
        return -1;
    }
    int rc = migrate_locked(st, count, steps, err, err_len);
    if (pg_simple(st, "SELECT pg_advisory_unlock(" PG_MIGRATE_LOCK ")", "migrate unlock") != 0 &&
        rc == 0) {
        snprintf(err, err_len, "cannot release the migration lock (see the log)");
        rc = -1;
    }
    return rc;
}

/* The server's warnings go to the log as one line each (libpq would print
 * them on stderr as they come); its notices are not asked for. */
static void log_notice(void *arg, const PGresult *r)
{
    (void)arg;
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    char quoted[600];
    log_warn("store.notice", "backend=postgres message=%s",
             log_quote(msg ? msg : "?", quoted, sizeof quoted));
}

/* Whether the schema muster would use (the first of the search_path) holds
 * any table, view or sequence of its own (an extension's are not counted):
 * *count, and the name of the first in first (empty when none). */
static int count_relations(struct pg_store *st, int64_t *count, char *first, size_t first_len)
{
    PGresult *r = PQexec(st->conn, "SELECT count(*) OVER (), c.relname FROM pg_class c "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE n.nspname = current_schema() "
                                   "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                                   "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = "
                                   "'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') "
                                   "ORDER BY c.relname LIMIT 1");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_pg_error(st, r, "open empty");
        PQclear(r);
        return -1;
    }
    *count = PQntuples(r) ? pg_i64(r, 0, 0) : 0;
    snprintf(first, first_len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 1) : "");
    PQclear(r);
    return 0;
}

static int open_conn(const char *location, int require_empty, struct store **out, char *err,
                     size_t err_len)
{
    struct pg_store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    st->base.be = &store_backend_pg;
    st->durable = 1;
    st->savepoint_at = -1;
    pthread_mutex_init(&st->snapshot_lock, NULL);
    /* The location may be a URL or key=value pairs: expand_dbname reads
     * either; the name shown in pg_stat_activity is muster unless it says. */
    const char *const keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *const values[] = {location, "muster", "UTF8", NULL};
    st->conn = PQconnectdbParams(keys, values, 1);
    if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
        open_error(location, "cannot open", st->conn ? PQerrorMessage(st->conn) : "out of memory",
                   err, err_len);
        pg_close(&st->base);
        return -1;
    }
    /* Every time is stored as Unix seconds; this keeps the server's own
     * clock and zone out of it. synchronous_commit: on until told. */
    PQsetNoticeReceiver(st->conn, log_notice, NULL);
    if (pg_simple(st,
                  "SET synchronous_commit = on; SET TIME ZONE 'UTC'; "
                  "SET client_min_messages = warning",
                  "open") != 0) {
        open_error(location, "cannot use", PQerrorMessage(st->conn), err, err_len);
        pg_close(&st->base);
        return -1;
    }
    if (require_empty) {
        int64_t relations = 0;
        char first[128];
        if (count_relations(st, &relations, first, sizeof first) != 0) {
            open_error(location, "cannot read", PQerrorMessage(st->conn), err, err_len);
            pg_close(&st->base);
            return -1;
        }
        /* The schema of this very version with no row (a copy that failed
         * left it, all or nothing) is empty enough: opening it migrates
         * nothing, and the caller counts its rows. Anything else is not. */
        int version = -1, count = 0;
        pg_migrations(&count);
        if (relations > 0 && read_version(st, &version) == 0 && version == count)
            relations = 0;
        if (relations > 0) {
            char shown[256];
            store_location_redact(location, shown, sizeof shown);
            snprintf(err, err_len,
                     "PostgreSQL database %s is not empty: it holds %lld tables, views or "
                     "sequences (the first: %s)",
                     shown, (long long)relations, first);
            pg_close(&st->base);
            return STORE_CONFLICT;
        }
    }
    if (migrate(st, err, err_len) != 0) {
        pg_close(&st->base);
        return -1;
    }
    *out = &st->base;
    return 0;
}

static int pg_open(const char *location, struct store **out, char *err, size_t err_len)
{
    return open_conn(location, 0, out, err, err_len);
}

static int pg_open_empty(const char *location, struct store **out, char *err, size_t err_len)
{
    return open_conn(location, 1, out, err, err_len);
}

static void pg_close(struct store *base)
{
    struct pg_store *st = pg_of(base);
    if (!st)
        return;
    PQfinish(st->conn); /* also ends an open transaction or snapshot */
    queue_drop(st, 0);
    free(st->queue);
    pthread_mutex_destroy(&st->snapshot_lock);
    free(st);
}

static int pg_schema_version(struct store *base)
{
    int v;
    return read_version(pg_of(base), &v) == 0 ? v : -1;
}

static int pgb_ping(struct store *base)
{
    PGresult *r = pg_exec(pg_of(base), "SELECT 1", NULL, "ping");
    PQclear(r);
    return r ? 0 : -1;
}

/* No cheap counter of other connections' commits is offered (no capability
 * bit): the service layer peeks a campaign's revision instead. */
static int64_t pgb_data_version(struct store *base)
{
    (void)base;
    return -1;
}

static int read_secret(struct pg_store *st, unsigned char secret[32], int *found)
{
    PGresult *r =
        pg_exec(st, "SELECT encode(value, 'hex') FROM meta WHERE key = 'secret'", NULL, "secret");
    if (!r)
        return -1;
    *found = 0;
    if (PQntuples(r) == 1) {
        const char *hex = PQgetvalue(r, 0, 0);
        if (strlen(hex) == 64) {
            for (int i = 0; i < 32; i++) {
                unsigned v;
                if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
                    PQclear(r);
                    log_error("store.error", "op=secret error=\"the stored secret is not hex\"");
                    return -1;
                }
                secret[i] = (unsigned char)v;
            }
            *found = 1;
        }
    }
    PQclear(r);
    return 0;
}

static int pgb_secret(struct store *base, unsigned char secret[32])
{
    struct pg_store *st = pg_of(base);
    int found = 0;
    if (read_secret(st, secret, &found) != 0)
        return -1;
    if (found)
        return 0;
    unsigned char fresh[32];
    token_new_secret(fresh);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    struct pg_params p = {0};
    pg_param_text(&p, hex);
    /* Insert-if-absent: another process may win the race; read back what
     * is stored. */
    if (pg_run(st,
               "INSERT INTO meta (key, value) VALUES ('secret', decode($1::text, 'hex')) "
               "ON CONFLICT (key) DO NOTHING",
               &p, "secret", NULL) != 0)
        return -1;
    if (read_secret(st, secret, &found) != 0)
        return -1;
    if (!found) {
        log_error("store.error", "op=secret error=\"no secret after inserting one\"");
        return -1;
    }
    return 0;
}

const struct store_backend store_backend_pg = {
    .name = "postgres",
    .supports = STORE_SUPPORTS_SHARED_SNAPSHOT | STORE_SUPPORTS_BATCHED_READS,
    .open = pg_open,
    .open_empty = pg_open_empty,
    .copy_schema = pg_copy_schema,
    .copy_read = pg_copy_read,
    .copy_write = pg_copy_write,
    .copy_finish = pg_copy_finish,
    .copy_count = pg_copy_count,
    .copy_other_user = pg_copy_other_user,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .ping = pgb_ping,
    .secret = pgb_secret,
    .data_version = pgb_data_version,
    .begin = pgb_begin,
    .begin_rows = pgb_begin_rows,
    .commit = pgb_commit,
    .rollback = pgb_rollback,
    .savepoint = pgb_savepoint,
    .savepoint_end = pgb_savepoint_end,
    .read_begin = pgb_read_begin,
    .read_end = pgb_read_end,
    .set_durable = pgb_set_durable,
    .snapshot_enter = pgb_snapshot_enter,
    .snapshot_leave = pgb_snapshot_leave,
    .snapshot_end = pgb_snapshot_end,
    .snapshot_expire = pgb_snapshot_expire,
    .snapshot_id = pgb_snapshot_id,
    .campaign_get = pg_campaign_get,
    .campaign_peek = pg_campaign_peek,
    .campaign_get_by_id = pg_campaign_get_by_id,
    .campaign_slugs = pg_campaign_slugs,
    .campaign_insert = pg_campaign_insert,
    .campaign_update = pg_campaign_update,
    .campaign_mark_launched = pg_campaign_mark_launched,
    .campaigns_due = pg_campaigns_due,
    .campaign_moved = pg_campaign_moved,
    .campaign_steps_done = pg_campaign_steps_done,
    .campaigns_ahead = pg_campaigns_ahead,
    .campaigns_missed = pg_campaigns_missed,
    .campaign_set_pause = pg_campaign_set_pause,
    .campaign_pause_get = pg_campaign_pause_get,
    .confirmed_count = pg_confirmed_count,
    .campaign_count_confirmed = pg_campaign_count_confirmed,
    .targets = pg_targets,
    .targets_replace = pg_targets_replace,
    .target_find = pg_target_find,
    .target_key = pg_target_key,
    .target_set_state = pg_target_set_state,
    .target_report_add = pg_target_report_add,
    .target_reports_since = pg_target_reports_since,
    .place_take = pg_place_take,
    .supporter_by_key = pg_supporter_by_key,
    .supporter_by_id = pg_supporter_by_id,
    .supporters_by_ids = pg_supporters_by_ids,
    .supporters_by_keys = pg_supporters_by_keys,
    .pledge_insert_mailed = pg_pledge_insert_mailed,
    .pledge_find = pg_pledge_find,
    .pledge_insert = pg_pledge_insert,
    .pledge_import = pg_pledge_import,
    .pledge_hold_change = pg_pledge_hold_change,
    .pledge_apply_change = pg_pledge_apply_change,
    .pledge_load_change = pg_pledge_load_change,
    .pledge_count_mail = pg_pledge_count_mail,
    .pledge_mark_confirmed = pg_pledge_mark_confirmed,
    .pledge_unsubscribe = pg_pledge_unsubscribe,
    .pledge_resubscribe = pg_pledge_resubscribe,
    .set_instance = pg_set_instance,
    .pledges_erase = pg_pledges_erase,
    .clicks_insert = pg_clicks_insert,
    .supporter_assign = pg_supporter_assign,
    .target_counters_add = pg_target_counters_add,
    .outbox_add = pg_outbox_add,
    .outbox_add_confirmed = pg_outbox_add_confirmed,
    .outbox_owed = pg_outbox_owed,
    .outbox_add_variant = pg_outbox_add_variant,
    .outbox_claim = pg_outbox_claim,
    .outbox_lease_owners = pg_outbox_lease_owners,
    .outbox_lease_drop = pg_outbox_lease_drop,
    .outbox_renew = pg_outbox_renew,
    .outbox_sent = pg_outbox_sent,
    .outbox_retry = pg_outbox_retry,
    .outbox_defer = pg_outbox_defer,
    .outbox_failed = pg_outbox_failed,
    .outbox_cancel = pg_outbox_cancel,
    .outbox_cancel_supporter = pg_outbox_cancel_supporter,
    .outbox_cancel_email = pg_outbox_cancel_email,
    .outbox_pending = pg_outbox_pending,
    .stats = pg_stats,
    .export_supporters = pg_export_supporters,
    .export_clicks = pg_export_clicks,
    .organizer_set_password = pg_organizer_set_password,
    .organizer_get = pg_organizer_get,
    .session_create = pg_session_create,
    .session_delete = pg_session_delete,
    .session_organizer = pg_session_organizer,
    .api_token_create = pg_api_token_create,
    .api_token_find = pg_api_token_find,
    .api_token_touch = pg_api_token_touch,
    .api_tokens_of = pg_api_tokens_of,
    .api_token_revoke = pg_api_token_revoke,
    .organizer_set_role = pg_organizer_set_role,
    .organizer_role = pg_organizer_role,
    .grant_set = pg_grant_set,
    .grant_delete = pg_grant_delete,
    .grant_role = pg_grant_role,
    .grants_of_campaign = pg_grants_of_campaign,
    .log_trim = pg_log_trim,
    .webhook_insert = pg_webhook_insert,
    .webhook_claim = pg_webhook_claim,
    .webhook_sent = pg_webhook_sent,
    .webhook_retry = pg_webhook_retry,
    .webhook_failed = pg_webhook_failed,
    .webhook_release = pg_webhook_release,
    .suppression_add = pg_suppression_add,
    .suppression_get = pg_suppression_get,
    .suppression_exists = pg_suppression_exists,
    .suppression_exists_many = pg_suppression_exists_many,
    .suppression_remove = pg_suppression_remove,
    .suppression_forget_address = pg_suppression_forget_address,
    .suppression_each = pg_suppression_each,
    .suppression_count = pg_suppression_count,
    .suppression_temporary = pg_suppression_temporary,
    .suppression_campaign_counts = pg_suppression_campaign_counts,
    .outbox_suppressed = pg_outbox_suppressed,
    .suppression_campaign_mail = pg_suppression_campaign_mail,
    .dashboard_bounds = pg_dashboard_bounds,
    .dashboard_pledges = pg_dashboard_pledges,
    .dashboard_reminders = pg_dashboard_reminders,
    .dashboard_reminders_sent = pg_dashboard_reminders_sent,
    .dashboard_clicks = pg_dashboard_clicks,
    .dashboard_reports_since = pg_dashboard_reports_since,
    .dashboard_events = pg_dashboard_events,
    .inspect_counts = pg_inspect_counts,
    .inspect_supporter_id = pg_inspect_supporter_id,
    .inspect_outbox = pg_inspect_outbox,
    .inspect_webhook_events = pg_inspect_webhook_events,
    .inspect_checkpoint = pg_inspect_checkpoint,
    .inspect_set_email = pg_inspect_set_email,
    .inspect_set_leases = pg_inspect_set_leases,
    .inspect_integrity = pg_inspect_integrity,
};
