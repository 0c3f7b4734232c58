/*
 * sqlite_private: what the SQLite store's files share: the handle itself and
 * the small helpers every query uses (statement cache, transactions, binding).
 * Each store_sqlite_*.c file adds the queries of one concern; all of them go
 * through these helpers, so errors are logged one way and statements are
 * prepared once per handle.
 */
#ifndef MUSTER_STORE_SQLITE_PRIVATE_H
#define MUSTER_STORE_SQLITE_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#define STMT_CACHE 96

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct store {
    sqlite3 *db;
    struct stmt_slot cache[STMT_CACHE];
    int in_tx;
    int64_t busy_since_us; /* when the current wait for a lock began (busy_wait) */
    /* The shared read snapshot (store_snapshot_enter): the lock is held by
     * whoever uses it, the owning thread or the expiring one. */
    pthread_mutex_t snapshot_lock;
    int snapshot_open;
    int64_t snapshot_began_us;
    uint64_t snapshot_id; /* the open snapshot's, unique in the process */
};

/* Logs the connection's last error for op `what`; returns -1. */
int sql_error(struct store *st, const char *what);
/* The cached prepared statement for sql (a string literal: cached by
 * address), reset and with its bindings cleared; NULL on error (logged). */
sqlite3_stmt *sql_stmt(struct store *st, const char *sql);
int sql_exec(struct store *st, const char *sql);
/* BEGIN IMMEDIATE / COMMIT (rolls back on failure) / ROLLBACK (no-op when no
 * transaction is open). */
int sql_begin(struct store *st);
int sql_commit(struct store *st);
void sql_rollback(struct store *st);
/* Steps a statement that returns no rows (or ignores them); -1 on error. */
int sql_step_done(struct store *st, sqlite3_stmt *s, const char *what);
/* strdup of a text column, NULL for NULL. */
char *sql_col_strdup(sqlite3_stmt *s, int col);
/* Binds v as text, or NULL when v is NULL. */
void sql_bind_text(sqlite3_stmt *s, int idx, const char *v);
/* The first column of the first row of sql with ?1 = id; -1 on error. */
int64_t sql_scalar(struct store *st, const char *sql, int64_t id);
/* A malloc'd ASCII-lowercased copy (emails are matched case-insensitively). */
char *sql_lowercase_dup(const char *s);
/* Adds one to the campaign's confirmed counter (inside a transaction). */
int sql_count_confirmed(struct store *st, int64_t campaign_id);

#endif
