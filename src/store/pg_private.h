/*
 * pg_private: what the PostgreSQL backend's files share: its handle (struct
 * pg_store, which embeds struct store first, one libpq connection each) and
 * the helpers every query goes through: statements prepared once per
 * connection (PQprepare, keyed by the address of their SQL text, always a
 * string literal), parameters passed as text and never spliced into SQL,
 * write transactions under one advisory lock, errors logged one way (the
 * server's primary message and SQLSTATE, never its DETAIL, which can quote
 * a row's values). Each store_pg_*.c file adds the queries of one concern;
 * the backend's table is in store_pg.c.
 */
#ifndef MUSTER_STORE_PG_PRIVATE_H
#define MUSTER_STORE_PG_PRIVATE_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>

#include "store/store_backend.h"

#define PG_STMT_CACHE 192
#define PG_MAX_PARAMS 16

/* Kinds as SQL literals (the partial unique indexes name a kind). */
#define PG_MAIL_WELCOME "2"
#define PG_MAIL_REMINDER "3"
/* An outbox row a claim may take: not of a paused campaign, unless it is an
 * answer to the person's own pledge (confirm, welcome). */
#define PG_OUTBOX_NOT_PAUSED                                                                       \
    "(outbox.kind IN (1, " PG_MAIL_WELCOME ") OR NOT EXISTS (SELECT 1 FROM campaigns pc WHERE "    \
    "pc.id = outbox.campaign_id AND pc.paused_at <> 0))"
_Static_assert(MAIL_WELCOME == 2 && MAIL_REMINDER == 3, "PG_MAIL_* match enum mail_kind");

/* The advisory lock every write transaction takes (pg_begin): writers of
 * every server on the database take turns, as SQLite's BEGIN IMMEDIATE
 * makes them, so a rule's reads and writes never interleave with another's. */
#define PG_WRITE_LOCK "7236466965877604721"
/* The advisory lock migrations run under (session-level, while migrating). */
#define PG_MIGRATE_LOCK "7236466965877604722"

enum pg_tx { PG_TX_NONE, PG_TX_WRITE, PG_TX_READ };

struct pg_stmt_slot {
    const char *sql;
    char name[8];
};

/* A statement nobody waits for (pg_run without a count, inside a write
 * transaction; the transaction's BEGIN, lock, SAVEPOINT and RELEASE): held
 * until a statement whose answer is wanted, and sent before it in one
 * pipeline (libpq's pipeline mode), so they cost no round trip of their own.
 * Its error, if any, is reported then, and fails that statement too. */
struct pg_queued {
    const char *sql;  /* a string literal */
    const char *what; /* for the log */
    int control;      /* BEGIN, the lock, SAVEPOINT, RELEASE: not prepared */
    uint64_t job;     /* the savepoint it was held under (pg_store.job_seq) */
    int guess;        /* pg_hold_guess's: its division by zero is a wrong guess */
    int n;
    char *values[PG_MAX_PARAMS]; /* owned copies (NULL: SQL NULL) */
};

struct pg_store {
    struct store base; /* first: a struct store * is a struct pg_store * */
    PGconn *conn;
    struct pg_stmt_slot cache[PG_STMT_CACHE];
    int prepared;
    enum pg_tx tx;
    /* PG_TX_READ: its BEGIN was sent. It goes with the first statement
     * (which takes the snapshot anyway): a read transaction whose reads all
     * came from memory costs no round trip. */
    int read_begun;
    int durable; /* store_set_durable's choice, applied again after a reconnect */
    /* The held statements (struct pg_queued), oldest first. */
    struct pg_queued *queue;
    size_t queued, queue_cap;
    /* PG_TX_WRITE: its BEGIN has reached the server (it is held like the
     * rest: a write transaction whose first statement is a write costs no
     * round trip before it). */
    int write_begun;
    /* The held SAVEPOINT's index in queue, -1 when none is held. */
    long savepoint_at;
    /* The savepoints of this write transaction so far (the current one's
     * number), and whether a held statement of an earlier one failed: then
     * no savepoint can undo it alone and the transaction is lost. */
    uint64_t job_seq;
    int tx_lost;
    /* The shared read snapshot (store_snapshot_enter), as in SQLite's. */
    pthread_mutex_t snapshot_lock;
    int snapshot_open;
    int64_t snapshot_began_us;
    uint64_t snapshot_id;
};

static inline struct pg_store *pg_of(struct store *st)
{
    return (struct pg_store *)st;
}

/* Text parameters: numbers formatted here, strings borrowed (NULL: SQL NULL). */
struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    char numbers[PG_MAX_PARAMS][24];
};
void pg_param_i64(struct pg_params *p, int64_t v);
void pg_param_text(struct pg_params *p, const char *v);

/* Runs sql (a string literal: prepared once per connection) with p (NULL:
 * none). The result of a statement that succeeded (caller PQclear()s), NULL
 * on error (logged as op=what). */
PGresult *pg_exec(struct pg_store *st, const char *sql, const struct pg_params *p,
                  const char *what);
/* The same for a statement whose rows are not needed; *changed (may be NULL)
 * gets the number of rows it inserted, updated or deleted. -1 on error.
 * Inside a write transaction with changed NULL the statement is held (struct
 * pg_queued): 0 at once, and an error fails the next statement waited for,
 * the savepoint's end or the commit. */
int pg_run(struct pg_store *st, const char *sql, const struct pg_params *p, const char *what,
           int64_t *changed);
/* Holds sql, a write whose rows are not waited for because they are guessed
 * (store_set_guessing): in a write transaction only. sql divides by zero when
 * the guess is wrong (SQLSTATE 22012, logged as store.guess_missed, not as an
 * error), which fails the transaction. -1 when it cannot be held. */
int pg_hold_guess(struct pg_store *st, const char *sql, const struct pg_params *p,
                  const char *what);
/* Logs the error of r (NULL: the connection's) for op what, as pg_exec does. */
void pg_log_result_error(struct pg_store *st, const PGresult *r, const char *what);
/* Sends the held statements (struct pg_queued) and waits for their answers:
 * before any statement that does not go through pg_exec, pg_run or
 * pg_simple (COPY, PQexecParams). -1 when one failed (logged). */
int pg_flush(struct pg_store *st);
/* A statement without parameters through the simple protocol (BEGIN, SET,
 * a migration step of several statements). -1 on error (logged). */
int pg_simple(struct pg_store *st, const char *sql, const char *what);
/* Cells: 0 / NULL for SQL NULL; pg_strdup's copy is the caller's. */
int64_t pg_i64(const PGresult *r, int row, int col);
char *pg_strdup(const PGresult *r, int row, int col);
/* The cell, or NULL for SQL NULL; valid until PQclear. */
const char *pg_text(const PGresult *r, int row, int col);
/* The first column of the first row of sql with $1 = id; -1 on error. */
int64_t pg_scalar(struct pg_store *st, const char *sql, int64_t id, const char *what);
/* A write transaction under PG_WRITE_LOCK; COMMIT (-1 when the server rolled
 * back instead); ROLLBACK when one is open. */
int pg_begin(struct pg_store *st);
int pg_commit(struct pg_store *st);
void pg_rollback(struct pg_store *st);
/* A malloc'd ASCII-lowercased copy (emails are matched case-insensitively). */
char *pg_lowercase_dup(const char *s);
/* The migration steps, numbered as SQLite's; *count gets their number. */
const char *const *pg_migrations(int *count);

/* The backend's entries defined outside store_pg.c. */
int pg_campaign_get(struct store *st, const char *slug, struct campaign_row *out);
int pg_campaign_peek(struct store *st, const char *slug, int64_t id, struct campaign_row *out);
int pg_campaign_get_by_id(struct store *st, int64_t id, struct campaign_row *out);
int pg_campaign_slugs(struct store *st, struct buf *out);
int pg_campaign_insert(struct store *st, const struct campaign *c, int64_t now, int64_t *id);
int pg_campaign_update(struct store *st, int64_t id, const struct campaign *c, int64_t launch_utc,
                       int64_t now);
int pg_campaign_mark_launched(struct store *st, int64_t id, int move_to_now, int64_t now,
                              int *marked);
int pg_campaigns_due(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
int pg_campaign_moved(struct store *st, int64_t id, int64_t *sequence);
int pg_campaign_steps_done(struct store *st, int64_t id, int64_t done_at);
int pg_campaigns_ahead(struct store *st, int64_t now, int64_t horizon, int64_t *ids, size_t max,
                       size_t *n);
int pg_outbox_add_variant(struct store *st, int64_t campaign_id, enum mail_kind kind,
                          int64_t variant, int without_click, int64_t now, int64_t *queued);
int pg_campaigns_missed(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
int pg_campaign_set_pause(struct store *st, int64_t campaign_id, int paused, const char *by,
                          const char *reason, int64_t now, int *changed);
int pg_campaign_pause_get(struct store *st, int64_t campaign_id, struct campaign_pause *out);
int pg_confirmed_count(struct store *st, int64_t campaign_id, int64_t *count);
int pg_campaign_count_confirmed(struct store *st, int64_t campaign_id, int64_t delta);
int pg_targets(struct store *st, int64_t campaign_id, struct target_list *out);
int pg_targets_replace(struct store *st, int64_t campaign_id, const struct target_spec *targets,
                       size_t n);
int pg_target_find(struct store *st, int64_t campaign_id, const char *key, int64_t *id, int *open);
int pg_target_key(struct store *st, int64_t target_id, char key[65]);
int pg_target_set_state(struct store *st, int64_t target_id, int open, const char *reason,
                        const char *actor, int64_t now);
int pg_target_report_add(struct store *st, int64_t target_id, int64_t supporter_id, int64_t now,
                         int *added);
int pg_target_reports_since(struct store *st, int64_t target_id, int64_t since, int64_t *count);
int pg_place_take(struct store *st, int64_t target_id, int64_t supporter_id,
                  int64_t previous_target, int *taken);
int pg_supporter_by_key(struct store *st, int64_t token_key, struct supporter *out);
int pg_supporter_by_id(struct store *st, int64_t id, struct supporter *out);
int pg_supporters_by_ids(struct store *st, const int64_t *ids, size_t n, struct supporter *out,
                         int *found);
int pg_supporters_by_keys(struct store *st, const int64_t *token_keys, size_t n,
                          struct supporter *out, int *found);
int pg_pledge_find(struct store *st, int64_t campaign_id, const char *email,
                   struct pledge_state *out);
int pg_pledge_insert(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                     int64_t now, int64_t *id);
int pg_pledge_insert_mailed(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                            int64_t now, int64_t day, int64_t *id);
int pg_pledge_hold_change(struct store *st, int64_t supporter_id, const struct pledge_input *in);
int pg_pledge_apply_change(struct store *st, int64_t supporter_id);
int pg_pledge_load_change(struct store *st, struct supporter *s);
int pg_pledge_count_mail(struct store *st, int64_t supporter_id, int64_t day, int64_t mails);
int pg_pledge_mark_confirmed(struct store *st, int64_t supporter_id, int64_t now);
int pg_pledge_unsubscribe(struct store *st, int64_t supporter_id, int64_t now, int *changed);
int pg_pledge_resubscribe(struct store *st, int64_t supporter_id);
int pg_set_instance(struct store *st, int64_t supporter_id, const char *instance);
int pg_pledges_erase(struct store *st, const char *email, int64_t now, int *count);
int pg_clicks_insert(struct store *st, const struct click_record *clicks, size_t n);
int pg_supporter_assign(struct store *st, int64_t supporter_id, int64_t target_id);
int pg_target_counters_add(struct store *st, int64_t target_id, int64_t assigned, int64_t clicks,
                           int64_t rerouted);
int pg_outbox_add(struct store *st, enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                  int64_t now);
int pg_outbox_add_confirmed(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t now,
                            int64_t *queued);
int pg_outbox_owed(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t *owed);
int pg_outbox_claim(struct store *st, const char *owner, int64_t campaign_id, int64_t now,
                    int lease_seconds, struct outbox_item *items, size_t max, size_t *n);
int pg_outbox_lease_owners(struct store *st, int64_t now, char (*owners)[300], size_t max,
                           size_t *n);
int pg_outbox_lease_drop(struct store *st, const char *owner);
int pg_outbox_renew(struct store *st, const int64_t *ids, size_t n, const char *owner,
                    int64_t lease_until, int *ours);
int pg_outbox_sent(struct store *st, const int64_t *ids, size_t n, const char *owner, int64_t now);
int pg_outbox_defer(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                    const char *reply);
int pg_outbox_retry(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                    const char *reply);
int pg_outbox_failed(struct store *st, int64_t item_id, const char *owner, int64_t now,
                     const char *reply);
int pg_outbox_cancel(struct store *st, int64_t item_id);
int pg_outbox_cancel_supporter(struct store *st, int64_t supporter_id, enum mail_kind kind);
int pg_outbox_cancel_email(struct store *st, const char *email);
int pg_outbox_pending(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t now,
                      int64_t *pending, int64_t *ready);
int pg_stats(struct store *st, int64_t campaign_id, struct campaign_stats *out);

int pg_export_supporters(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int pg_export_clicks(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int pg_pledge_import(struct store *st, int64_t campaign_id, const char *email, const char *name,
                     const char *timezone, const char *consent_text, int64_t consent_at,
                     int64_t now);
int pg_organizer_set_password(struct store *st, const char *email, const char *password_hash,
                              int64_t now, int *created);
int pg_organizer_get(struct store *st, const char *email, int64_t *id, char **password_hash);
int pg_session_create(struct store *st, int64_t organizer_id, const char *token_hash, int64_t now,
                      int64_t expires_at);
int pg_session_delete(struct store *st, const char *token_hash);
int pg_session_organizer(struct store *st, const char *token_hash, int64_t now,
                         int64_t *organizer_id);
int pg_api_token_create(struct store *st, int64_t organizer_id, const char *token_hash, int64_t now,
                        int64_t expires_at, int64_t *id);
int pg_api_token_find(struct store *st, const char *token_hash, int64_t now,
                      struct api_token_row *out);
int pg_api_token_touch(struct store *st, int64_t token_id, int64_t now);
int pg_api_tokens_of(struct store *st, int64_t organizer_id, struct api_token_row **rows,
                     size_t *n);
int pg_api_token_revoke(struct store *st, int64_t organizer_id, int64_t token_id);
int pg_organizer_set_role(struct store *st, int64_t organizer_id, enum organizer_role role);
int pg_organizer_role(struct store *st, int64_t organizer_id, enum organizer_role *role);
int pg_grant_set(struct store *st, int64_t campaign_id, int64_t organizer_id,
                 enum campaign_role role, int64_t now);
int pg_grant_delete(struct store *st, int64_t campaign_id, int64_t organizer_id);
int pg_grant_role(struct store *st, int64_t organizer_id, int64_t campaign_id,
                  enum campaign_role *role);
int pg_grants_of_campaign(struct store *st, int64_t campaign_id, struct grant_row **rows,
                          size_t *n);
int pg_inspect_integrity(struct store *st, struct store_inspect_integrity *out,
                         struct buf *problems);
int pg_log_trim(struct store *st, int64_t above_bytes, int wait_ms, struct store_log_trim *out);
int pg_webhook_insert(struct store *st, int64_t campaign_id, enum webhook_event event,
                      const char *payload, int64_t at);
int pg_webhook_claim(struct store *st, const char *owner, int64_t now, int lease_seconds,
                     struct webhook_delivery *items, size_t max, size_t *n);
int pg_webhook_sent(struct store *st, int64_t id, int status, int64_t now);
int pg_webhook_retry(struct store *st, int64_t id, int64_t next_at, int status, const char *error);
int pg_webhook_failed(struct store *st, int64_t id, int64_t now, int status, const char *error);
int pg_webhook_release(struct store *st, int64_t id);
int pg_suppression_add(struct store *st, const struct suppression_entry *e, int *added);
int pg_suppression_get(struct store *st, const char *key, struct suppression_entry *out);
int pg_suppression_exists(struct store *st, const char *key, int *found);
int pg_suppression_exists_many(struct store *st, const char *const *keys, size_t n, int *found);
int pg_suppression_remove(struct store *st, const char *key, int *removed);
int pg_suppression_forget_address(struct store *st, const char *key, int *changed);
int pg_suppression_each(struct store *st, store_suppression_fn row, void *ctx);
int pg_suppression_count(struct store *st, int64_t *count);
int pg_suppression_temporary(struct store *st, const char *key, int64_t now, int64_t window_start,
                             int64_t *failures);
int pg_suppression_campaign_counts(struct store *st, int64_t campaign_id, int64_t *bounces,
                                   int64_t *complaints);
int pg_outbox_suppressed(struct store *st, int64_t item_id, int64_t now, const char *reason);
int pg_suppression_campaign_mail(struct store *st, int64_t campaign_id, int64_t *sent,
                                 int64_t *suppressed);
int pg_dashboard_bounds(struct store *st, int64_t campaign_id, int64_t *first_pledge,
                        int64_t *first_activity, int64_t *last_activity);
int pg_dashboard_pledges(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                         size_t n, int64_t *pledged, int64_t *confirmed);
int pg_dashboard_reminders(struct store *st, int64_t campaign_id, int64_t *sent, int64_t *failed,
                           int64_t *pending);
int pg_dashboard_reminders_sent(struct store *st, int64_t campaign_id, int64_t start,
                                int64_t bucket, size_t n, int64_t *sent);
int pg_dashboard_clicks(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                        size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts);
int pg_dashboard_reports_since(struct store *st, int64_t campaign_id, int64_t since,
                               const int64_t *target_ids, size_t ntargets, int64_t *counts);
int pg_dashboard_events(struct store *st, int64_t campaign_id, struct dashboard_event *rows,
                        size_t max, size_t *n);
int pg_inspect_counts(struct store *st, struct store_inspect_counts *out);
int pg_inspect_supporter_id(struct store *st, const char *email, int64_t *id);
int pg_inspect_outbox(struct store *st, enum mail_kind kind, const char *email,
                      store_inspect_outbox_fn row, void *ctx);
int pg_inspect_webhook_events(struct store *st, store_inspect_webhook_fn row, void *ctx);
int pg_inspect_checkpoint(struct store *st, struct store_inspect_checkpoint *out);
int pg_inspect_set_email(struct store *st, const char *email, const char *new_email,
                         int64_t *changed);
int pg_inspect_set_leases(struct store *st, int64_t lease_until, int64_t *changed);
/* store_copy.h (store_pg_copy.c) */
int pg_copy_schema(struct store *st, int (*fn)(void *ctx, const char *table, const char *column),
                   void *ctx);
int pg_copy_read(struct store *st, const struct store_copy_table *t, store_row_fn row, void *ctx);
int pg_copy_write(struct store *st, const struct store_copy_table *t, const char *const *values,
                  size_t n);
int pg_copy_finish(struct store *st, const struct store_copy_table *t);
int pg_copy_count(struct store *st, const struct store_copy_table *t, int64_t *count);
int pg_copy_other_user(struct store *st, int64_t *pid);

#endif
