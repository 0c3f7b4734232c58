/*
 * store_sqlite_inspect: the SQLite answers to store_inspect.h, one function
 * per question. Tests and operators ask these; nothing on a supporter's or a
 * sender's path calls them. The two fault injections write; everything else
 * only reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "store/sqlite_private.h"
#include "store/store_inspect.h"
#include "core/banned.h"

int sqlite_inspect_counts(struct store *base, struct store_inspect_counts *out)
{
    struct sqlite_store *st = sqlite_of(base);
    /* One statement: one snapshot for every count. */
    sqlite3_stmt *s = sql_stmt(st, "SELECT (SELECT count(*) FROM campaigns), "
                                   "(SELECT count(*) FROM supporters), "
                                   "(SELECT count(*) FROM outbox), "
                                   "(SELECT count(*) FROM clicks), "
                                   "(SELECT count(*) FROM webhook_events)");
    if (!s)
        return -1;
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return sql_error(st, "inspect counts");
    }
    struct store_inspect_counts c = {
        .campaigns = sqlite3_column_int64(s, 0),
        .supporters = sqlite3_column_int64(s, 1),
        .outbox = sqlite3_column_int64(s, 2),
        .clicks = sqlite3_column_int64(s, 3),
        .webhook_events = sqlite3_column_int64(s, 4),
    };
    sqlite3_reset(s);
    *out = c;
    return 0;
}

int sqlite_inspect_supporter_id(struct store *base, const char *email, int64_t *id)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "SELECT id FROM supporters WHERE email_norm = ?1 AND "
                                   "erased_at = 0 ORDER BY id LIMIT 1");
    if (!s) {
        free(norm);
        return -1;
    }
    sql_bind_text(s, 1, norm);
    int rc = sqlite3_step(s);
    int result = rc == SQLITE_ROW    ? 0
                 : rc == SQLITE_DONE ? STORE_NOT_FOUND
                                     : sql_error(st, "inspect supporter");
    if (result == 0)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    free(norm);
    return result;
}

int sqlite_inspect_outbox(struct store *base, enum mail_kind kind, const char *email,
                          store_inspect_outbox_fn row, void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = NULL;
    if (email && !(norm = sql_lowercase_dup(email)))
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "SELECT o.id, o.kind, o.campaign_id, o.supporter_id, o.state, "
                                   "o.owner, o.lease_until, o.attempts, o.next_at, o.created_at, "
                                   "o.sent_at, o.last_reply FROM outbox o WHERE (?1 = 0 OR "
                                   "o.kind = ?1) AND (?2 IS NULL OR o.supporter_id IN (SELECT "
                                   "id FROM supporters WHERE email_norm = ?2)) ORDER BY o.id");
    if (!s) {
        free(norm);
        return -1;
    }
    sqlite3_bind_int(s, 1, (int)kind);
    sql_bind_text(s, 2, norm);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_inspect_outbox_row r = {
            .id = sqlite3_column_int64(s, 0),
            .kind = (enum mail_kind)sqlite3_column_int(s, 1),
            .campaign_id = sqlite3_column_int64(s, 2),
            .supporter_id = sqlite3_column_int64(s, 3),
            .state = (const char *)sqlite3_column_text(s, 4),
            .owner = (const char *)sqlite3_column_text(s, 5),
            .lease_until = sqlite3_column_int64(s, 6),
            .attempts = sqlite3_column_int(s, 7),
            .next_at = sqlite3_column_int64(s, 8),
            .created_at = sqlite3_column_int64(s, 9),
            .sent_at = sqlite3_column_int64(s, 10),
            .last_reply = (const char *)sqlite3_column_text(s, 11),
        };
        if (row(ctx, &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int result = rc == SQLITE_DONE ? 0 : sql_error(st, "inspect outbox");
    sqlite3_reset(s);
    free(norm);
    return result;
}

int sqlite_inspect_webhook_events(struct store *base, store_inspect_webhook_fn row, void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, campaign_id, event, state, attempts, next_at, "
                                   "owner, lease_until, last_status, last_error, created_at, "
                                   "done_at FROM webhook_events ORDER BY id");
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_inspect_webhook_row r = {
            .id = sqlite3_column_int64(s, 0),
            .campaign_id = sqlite3_column_int64(s, 1),
            .event = (const char *)sqlite3_column_text(s, 2),
            .state = (const char *)sqlite3_column_text(s, 3),
            .attempts = sqlite3_column_int(s, 4),
            .next_at = sqlite3_column_int64(s, 5),
            .owner = (const char *)sqlite3_column_text(s, 6),
            .lease_until = sqlite3_column_int64(s, 7),
            .last_status = sqlite3_column_int(s, 8),
            .last_error = (const char *)sqlite3_column_text(s, 9),
            .created_at = sqlite3_column_int64(s, 10),
            .done_at = sqlite3_column_int64(s, 11),
        };
        if (row(ctx, &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    int result = rc == SQLITE_DONE ? 0 : sql_error(st, "inspect webhook events");
    sqlite3_reset(s);
    return result;
}

int sqlite_inspect_checkpoint(struct store *base, struct store_inspect_checkpoint *out)
{
    struct sqlite_store *st = sqlite_of(base);
    int log_frames = -1, moved = -1;
    int rc =
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &moved);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return sql_error(st, "inspect checkpoint");
    struct store_inspect_checkpoint c = {0};
    if (log_frames < 0) { /* not in WAL mode */
        *out = c;
        return 0;
    }
    c.applies = 1;
    c.busy = rc == SQLITE_BUSY;
    c.log_frames = log_frames;
    c.moved_frames = moved;
    c.log_bytes = sqlite_log_bytes(st, "inspect_checkpoint");
    if (c.log_bytes < 0)
        return -1;
    *out = c;
    return 0;
}

int sqlite_inspect_integrity(struct store *base, struct store_inspect_integrity *out,
                             struct buf *problems)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
        return sql_error(st, "inspect integrity");
    struct store_inspect_integrity r = {.applies = 1, .ok = 1};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(s, 0);
        if (line && strcmp(line, "ok") == 0)
            continue;
        r.ok = 0;
        buf_puts(problems, line ? line : "(no text)");
        buf_putc(problems, '\n');
    }
    if (rc != SQLITE_DONE) {
        sql_error(st, "inspect integrity");
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    if (buf_failed(problems)) {
        log_error("store.error", "op=inspect_integrity error=\"out of memory\"");
        return -1;
    }
    *out = r;
    return 0;
}

int sqlite_inspect_set_email(struct store *base, const char *email, const char *new_email,
                             int64_t *changed)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "UPDATE supporters SET email = ?2 WHERE email_norm = ?1 AND "
                                   "erased_at = 0");
    if (!s) {
        free(norm);
        return -1;
    }
    sql_bind_text(s, 1, norm);
    sql_bind_text(s, 2, new_email);
    int rc = sql_step_done(st, s, "inspect set email");
    free(norm);
    if (rc != 0)
        return -1;
    *changed = sqlite3_changes(st->db);
    return 0;
}

int sqlite_inspect_set_leases(struct store *base, int64_t lease_until, int64_t *changed)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET lease_until = ?1 WHERE state = 'pending' "
                                   "AND owner IS NOT NULL");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, lease_until);
    if (sql_step_done(st, s, "inspect set leases") != 0)
        return -1;
    *changed = sqlite3_changes(st->db);
    return 0;
}
