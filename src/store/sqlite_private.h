/*
 * sqlite_private: what the SQLite backend's files share: its handle (struct
 * sqlite_store, which embeds struct store first) and the small helpers every
 * query uses (statement cache, transactions, binding). Each store_sqlite_*.c
 * file adds the queries of one concern; all of them go through these
 * helpers, so errors are logged one way and statements are prepared once per
 * handle. The backend's table is in store_sqlite.c.
 */
#ifndef MUSTER_STORE_SQLITE_PRIVATE_H
#define MUSTER_STORE_SQLITE_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store/store_backend.h"

#define STMT_CACHE 96

/* Kinds as SQL literals, for the statements whose partial indexes name a
 * kind (SQLite uses a partial index only for a literal that matches it). */
#define SQL_MAIL_WELCOME "2"
#define SQL_MAIL_REMINDER "3"
_Static_assert(MAIL_WELCOME == 2 && MAIL_REMINDER == 3, "SQL_MAIL_* match enum mail_kind");
/* An outbox row a claim may take: not of a paused campaign, unless it is an
 * answer to the person's own pledge (confirm, welcome). */
#define OUTBOX_NOT_PAUSED                                                                          \
    "(outbox.kind IN (1, " SQL_MAIL_WELCOME ") OR NOT EXISTS (SELECT 1 FROM campaigns pc WHERE "   \
    "pc.id = outbox.campaign_id AND pc.paused_at <> 0))"
_Static_assert(MAIL_CONFIRM == 1, "OUTBOX_NOT_PAUSED matches enum mail_kind");

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    sqlite3 *db;
    struct stmt_slot cache[STMT_CACHE];
    int in_tx;
    int64_t busy_since_us; /* when the current wait for a lock began (busy_wait) */
    int64_t busy_limit_us; /* how long busy_wait waits in all */
    /* The shared read snapshot (store_snapshot_enter): the lock is held by
     * whoever uses it, the owning thread or the expiring one. */
    pthread_mutex_t snapshot_lock;
    int snapshot_open;
    int64_t snapshot_began_us;
    uint64_t snapshot_id; /* the open snapshot's, unique in the process */
};

static inline struct sqlite_store *sqlite_of(struct store *st)
{
    return (struct sqlite_store *)st;
}

/* Logs the connection's last error for op `what`; returns -1. */
int sql_error(struct sqlite_store *st, const char *what);
/* The cached prepared statement for sql (a string literal: cached by
 * address), reset and with its bindings cleared; NULL on error (logged). */
sqlite3_stmt *sql_stmt(struct sqlite_store *st, const char *sql);
int sql_exec(struct sqlite_store *st, const char *sql);
/* BEGIN IMMEDIATE / COMMIT (rolls back on failure) / ROLLBACK (no-op when no
 * transaction is open). */
int sql_begin(struct sqlite_store *st);
int sql_commit(struct sqlite_store *st);
void sql_rollback(struct sqlite_store *st);
/* Steps a statement that returns no rows (or ignores them); -1 on error. */
int sql_step_done(struct sqlite_store *st, sqlite3_stmt *s, const char *what);
/* strdup of a text column, NULL for NULL. */
char *sql_col_strdup(sqlite3_stmt *s, int col);
/* Binds v as text, or NULL when v is NULL. */
void sql_bind_text(sqlite3_stmt *s, int idx, const char *v);
/* The first column of the first row of sql with ?1 = id; -1 on error. */
int64_t sql_scalar(struct sqlite_store *st, const char *sql, int64_t id);
/* A malloc'd ASCII-lowercased copy (emails are matched case-insensitively). */
char *sql_lowercase_dup(const char *s);
/* The migration steps; *count gets their number (= the newest version). */
const char *const *sqlite_migrations(int *count);

/* The backend's entries defined outside store_sqlite.c. */
int sqlite_export_supporters(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int sqlite_export_clicks(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int sqlite_pledge_import(struct store *st, int64_t campaign_id, const char *email, const char *name,
                         const char *timezone, const char *consent_text, int64_t consent_at,
                         int64_t now);
int sqlite_organizer_set_password(struct store *st, const char *email, const char *password_hash,
                                  int64_t now, int *created);
int sqlite_organizer_get(struct store *st, const char *email, int64_t *id, char **password_hash);
int sqlite_session_create(struct store *st, int64_t organizer_id, const char *token_hash,
                          int64_t now, int64_t expires_at);
int sqlite_session_delete(struct store *st, const char *token_hash);
int sqlite_session_organizer(struct store *st, const char *token_hash, int64_t now,
                             int64_t *organizer_id);
int sqlite_organizer_set_role(struct store *st, int64_t organizer_id, enum organizer_role role);
int sqlite_organizer_role(struct store *st, int64_t organizer_id, enum organizer_role *role);
int sqlite_grant_set(struct store *st, int64_t campaign_id, int64_t organizer_id,
                     enum campaign_role role, int64_t now);
int sqlite_grant_delete(struct store *st, int64_t campaign_id, int64_t organizer_id);
int sqlite_grant_role(struct store *st, int64_t organizer_id, int64_t campaign_id,
                      enum campaign_role *role);
int sqlite_grants_of_campaign(struct store *st, int64_t campaign_id, struct grant_row **rows,
                              size_t *n);
int sqlite_api_token_create(struct store *st, int64_t organizer_id, const char *token_hash,
                            int64_t now, int64_t expires_at, int64_t *id);
int sqlite_api_token_find(struct store *st, const char *token_hash, int64_t now,
                          struct api_token_row *out);
int sqlite_api_token_touch(struct store *st, int64_t token_id, int64_t now);
int sqlite_api_tokens_of(struct store *st, int64_t organizer_id, struct api_token_row **rows,
                         size_t *n);
int sqlite_api_token_revoke(struct store *st, int64_t organizer_id, int64_t token_id);
int sqlite_webhook_insert(struct store *st, int64_t campaign_id, enum webhook_event event,
                          const char *payload, int64_t at);
int sqlite_webhook_claim(struct store *st, const char *owner, int64_t now, int lease_seconds,
                         struct webhook_delivery *items, size_t max, size_t *n);
int sqlite_webhook_sent(struct store *st, int64_t id, int status, int64_t now);
int sqlite_webhook_retry(struct store *st, int64_t id, int64_t next_at, int status,
                         const char *error);
int sqlite_webhook_failed(struct store *st, int64_t id, int64_t now, int status, const char *error);
int sqlite_webhook_release(struct store *st, int64_t id);
int sqlite_suppression_add(struct store *st, const struct suppression_entry *e, int *added);
int sqlite_suppression_get(struct store *st, const char *key, struct suppression_entry *out);
int sqlite_suppression_exists(struct store *st, const char *key, int *found);
int sqlite_suppression_remove(struct store *st, const char *key, int *removed);
int sqlite_suppression_forget_address(struct store *st, const char *key, int *changed);
int sqlite_suppression_each(struct store *st, store_suppression_fn row, void *ctx);
int sqlite_suppression_count(struct store *st, int64_t *count);
int sqlite_suppression_temporary(struct store *st, const char *key, int64_t now,
                                 int64_t window_start, int64_t *failures);
int sqlite_suppression_campaign_counts(struct store *st, int64_t campaign_id, int64_t *bounces,
                                       int64_t *complaints);
int sqlite_outbox_suppressed(struct store *st, int64_t item_id, int64_t now, const char *reason);
int sqlite_suppression_campaign_mail(struct store *st, int64_t campaign_id, int64_t *sent,
                                     int64_t *suppressed);
int sqlite_dashboard_bounds(struct store *st, int64_t campaign_id, int64_t *first_pledge,
                            int64_t *first_activity, int64_t *last_activity);
int sqlite_dashboard_pledges(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                             size_t n, int64_t *pledged, int64_t *confirmed);
int sqlite_dashboard_reminders(struct store *st, int64_t campaign_id, int64_t *sent,
                               int64_t *failed, int64_t *pending);
int sqlite_dashboard_reminders_sent(struct store *st, int64_t campaign_id, int64_t start,
                                    int64_t bucket, size_t n, int64_t *sent);
int sqlite_dashboard_clicks(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                            size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts);
int sqlite_dashboard_reports_since(struct store *st, int64_t campaign_id, int64_t since,
                                   const int64_t *target_ids, size_t ntargets, int64_t *counts);
int sqlite_dashboard_events(struct store *st, int64_t campaign_id, struct dashboard_event *rows,
                            size_t max, size_t *n);

int sqlite_inspect_counts(struct store *st, struct store_inspect_counts *out);
int sqlite_inspect_supporter_id(struct store *st, const char *email, int64_t *id);
int sqlite_inspect_outbox(struct store *st, enum mail_kind kind, const char *email,
                          store_inspect_outbox_fn row, void *ctx);
int sqlite_inspect_webhook_events(struct store *st, store_inspect_webhook_fn row, void *ctx);
int sqlite_inspect_checkpoint(struct store *st, struct store_inspect_checkpoint *out);
int sqlite_inspect_integrity(struct store *st, struct store_inspect_integrity *out,
                             struct buf *problems);
/* The size of the handle's write-ahead log file in bytes (0 when there is
 * none); -1 when it cannot be known (logged, op names the caller). */
int64_t sqlite_log_bytes(struct sqlite_store *st, const char *op);
int sqlite_inspect_set_email(struct store *st, const char *email, const char *new_email,
                             int64_t *changed);
int sqlite_inspect_set_leases(struct store *st, int64_t lease_until, int64_t *changed);
/* store_copy.h (store_sqlite_copy.c) */
int sqlite_copy_schema(struct store *st,
                       int (*fn)(void *ctx, const char *table, const char *column), void *ctx);
int sqlite_copy_read(struct store *st, const struct store_copy_table *t, store_row_fn row,
                     void *ctx);
int sqlite_copy_write(struct store *st, const struct store_copy_table *t, const char *const *values,
                      size_t n);
int sqlite_copy_finish(struct store *st, const struct store_copy_table *t);
int sqlite_copy_count(struct store *st, const struct store_copy_table *t, int64_t *count);
int sqlite_copy_other_user(struct store *st, int64_t *pid);

#endif
