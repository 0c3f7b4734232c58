/*
 * store_sqlite_suppression: the suppression list's queries
 * (store_suppression.h) on SQLite: insert-if-absent under the unique key
 * with the campaign's count in the same transaction, the temporary failures
 * as one upsert, the walk newest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/sqlite_private.h"
#include "store/store.h"
#include "store/store_suppression.h"
#include "core/banned.h"

int sqlite_suppression_add(struct store *base, const struct suppression_entry *e, int *added)
{
    struct sqlite_store *st = sqlite_of(base);
    const char *kind = suppression_kind_name(e->kind);
    if (!kind) {
        log_error("store.error", "op=suppression_add error=\"unknown kind %d\"", (int)e->kind);
        return -1;
    }
    int own_tx = !st->in_tx;
    if (own_tx && sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO suppressions (address_key, address, kind, "
                                   "created_at, reason, campaign_id) VALUES (?1, ?2, ?3, ?4, "
                                   "?5, ?6) ON CONFLICT (address_key) DO NOTHING");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, e->key);
    sql_bind_text(s, 2, e->address);
    sql_bind_text(s, 3, kind);
    sqlite3_bind_int64(s, 4, e->created_at);
    sql_bind_text(s, 5, e->reason ? e->reason : "");
    sqlite3_bind_int64(s, 6, e->campaign_id);
    if (sql_step_done(st, s, "suppression add") != 0)
        goto fail;
    int inserted = sqlite3_changes(st->db) == 1;
    if (inserted && e->campaign_id > 0 &&
        (e->kind == SUPPRESSION_BOUNCE || e->kind == SUPPRESSION_COMPLAINT)) {
        s = sql_stmt(st, "INSERT INTO suppression_campaign_counts (campaign_id, bounces, "
                         "complaints) VALUES (?1, ?2, ?3) ON CONFLICT (campaign_id) DO UPDATE "
                         "SET bounces = bounces + ?2, complaints = complaints + ?3");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, e->campaign_id);
        sqlite3_bind_int(s, 2, e->kind == SUPPRESSION_BOUNCE);
        sqlite3_bind_int(s, 3, e->kind == SUPPRESSION_COMPLAINT);
        if (sql_step_done(st, s, "suppression count") != 0)
            goto fail;
    }
    if (own_tx && sql_commit(st) != 0)
        return -1;
    if (added)
        *added = inserted;
    return 0;
fail:
    if (own_tx)
        sql_rollback(st);
    return -1;
}

static void read_entry(sqlite3_stmt *s, struct suppression_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(s, 0);
    const char *key = (const char *)sqlite3_column_text(s, 1);
    if (key)
        snprintf(e->key, sizeof e->key, "%s", key);
    e->address = sql_col_strdup(s, 2);
    enum suppression_kind kind = SUPPRESSION_MANUAL;
    suppression_kind_parse((const char *)sqlite3_column_text(s, 3), &kind);
    e->kind = kind;
    e->created_at = sqlite3_column_int64(s, 4);
    e->reason = sql_col_strdup(s, 5);
    e->campaign_id = sqlite3_column_int64(s, 6);
}

#define ENTRY_COLUMNS "id, address_key, address, kind, created_at, reason, campaign_id"

int sqlite_suppression_get(struct store *base, const char *key, struct suppression_entry *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT " ENTRY_COLUMNS " FROM suppressions WHERE address_key = ?1");
    if (!s)
        return -1;
    sql_bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return STORE_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return sql_error(st, "suppression get");
    }
    struct suppression_entry e;
    read_entry(s, &e);
    sqlite3_reset(s);
    if (!e.reason) {
        suppression_entry_release(&e);
        log_error("store.error", "op=suppression_get error=\"out of memory\"");
        return -1;
    }
    *out = e;
    return 0;
}

int sqlite_suppression_exists(struct store *base, const char *key, int *found)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT 1 FROM suppressions WHERE address_key = ?1");
    if (!s)
        return -1;
    sql_bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_error(st, "suppression exists");
    *found = rc == SQLITE_ROW;
    return 0;
}

int sqlite_suppression_remove(struct store *base, const char *key, int *removed)
{
    struct sqlite_store *st = sqlite_of(base);
    int own_tx = !st->in_tx;
    if (own_tx && sql_begin(st) != 0)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "DELETE FROM suppressions WHERE address_key = ?1");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, key);
    if (sql_step_done(st, s, "suppression remove") != 0)
        goto fail;
    int deleted = sqlite3_changes(st->db) > 0;
    s = sql_stmt(st, "DELETE FROM suppression_temporary WHERE address_key = ?1");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, key);
    if (sql_step_done(st, s, "suppression remove temporary") != 0)
        goto fail;
    if (own_tx && sql_commit(st) != 0)
        return -1;
    if (removed)
        *removed = deleted;
    return 0;
fail:
    if (own_tx)
        sql_rollback(st);
    return -1;
}

int sqlite_suppression_forget_address(struct store *base, const char *key, int *changed)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE suppressions SET address = NULL WHERE address_key = "
                                   "?1 AND address IS NOT NULL");
    if (!s)
        return -1;
    sql_bind_text(s, 1, key);
    if (sql_step_done(st, s, "suppression forget") != 0)
        return -1;
    if (changed)
        *changed = sqlite3_changes(st->db) > 0;
    return 0;
}

int sqlite_suppression_each(struct store *base, store_suppression_fn row, void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT " ENTRY_COLUMNS
                                   " FROM suppressions ORDER BY created_at DESC, id DESC");
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct suppression_entry e;
        read_entry(s, &e);
        if (!e.reason) {
            suppression_entry_release(&e);
            sqlite3_reset(s);
            log_error("store.error", "op=suppression_each error=\"out of memory\"");
            return -1;
        }
        int stop = row(ctx, &e);
        suppression_entry_release(&e);
        if (stop) {
            sqlite3_reset(s);
            return 0;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : sql_error(st, "suppression each");
}

int sqlite_suppression_count(struct store *base, int64_t *count)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT count(*) FROM suppressions");
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return sql_error(st, "suppression count");
    *count = n;
    return 0;
}

int sqlite_suppression_temporary(struct store *base, const char *key, int64_t now,
                                 int64_t window_start, int64_t *failures)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(
        st, "INSERT INTO suppression_temporary (address_key, failures, window_start, last_at) "
            "VALUES (?1, 1, ?2, ?2) ON CONFLICT (address_key) DO UPDATE SET "
            "failures = CASE WHEN window_start >= ?3 THEN failures + 1 ELSE 1 END, "
            "window_start = CASE WHEN window_start >= ?3 THEN window_start ELSE ?2 END, "
            "last_at = ?2 RETURNING failures");
    if (!s)
        return -1;
    sql_bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, window_start);
    int rc = sqlite3_step(s);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(s); /* finishes the statement: its write is done */
    if (rc != SQLITE_DONE) {
        sql_error(st, "suppression temporary");
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    *failures = n;
    return 0;
}

int sqlite_suppression_campaign_counts(struct store *base, int64_t campaign_id, int64_t *bounces,
                                       int64_t *complaints)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT bounces, complaints FROM suppression_campaign_counts "
                                   "WHERE campaign_id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int rc = sqlite3_step(s);
    int64_t b = 0, c = 0;
    if (rc == SQLITE_ROW) {
        b = sqlite3_column_int64(s, 0);
        c = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_error(st, "suppression counts");
    *bounces = b;
    *complaints = c;
    return 0;
}

int sqlite_outbox_suppressed(struct store *base, int64_t item_id, int64_t now, const char *reason)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE outbox SET state = 'suppressed', sent_at = ?2, "
                                   "last_reply = ?3, owner = NULL, lease_until = 0 WHERE id = ?1 "
                                   "AND state = 'pending'");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, item_id);
    sqlite3_bind_int64(s, 2, now);
    sql_bind_text(s, 3, reason);
    return sql_step_done(st, s, "outbox suppressed");
}

int sqlite_suppression_campaign_mail(struct store *base, int64_t campaign_id, int64_t *sent,
                                     int64_t *suppressed)
{
    struct sqlite_store *st = sqlite_of(base);
    int64_t n_sent = sql_scalar(st,
                                "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND state = "
                                "'sent'",
                                campaign_id);
    int64_t n_suppressed = sql_scalar(st,
                                      "SELECT count(*) FROM outbox WHERE campaign_id = ?1 AND "
                                      "state = 'suppressed'",
                                      campaign_id);
    if (n_sent < 0 || n_suppressed < 0)
        return sql_error(st, "suppression campaign mail");
    if (sent)
        *sent = n_sent;
    if (suppressed)
        *suppressed = n_suppressed;
    return 0;
}
