/*
 * store_sqlite_data: data out and in: the supporters and clicks exports
 * (walked row by row, never loaded whole) and the imported pledge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/tz.h"
#include "store/sqlite_private.h"
#include "store/store.h"
#include "core/banned.h"

static int export_rows(struct sqlite_store *st, const char *sql, int64_t campaign_id, int columns,
                       const int *time_columns, store_row_fn row, void *ctx)
{
    sqlite3_stmt *s = sql_stmt(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *values[16];
        char times[16][21];
        for (int i = 0; i < columns && i < 16; i++) {
            if (time_columns[i]) {
                int64_t t = sqlite3_column_int64(s, i);
                if (t)
                    tz_iso_utc(t, times[i]);
                else
                    times[i][0] = '\0';
                values[i] = times[i];
            } else {
                const unsigned char *v = sqlite3_column_text(s, i);
                values[i] = v ? (const char *)v : "";
            }
        }
        stop = row(ctx, values, columns);
    }
    sqlite3_reset(s);
    return 0;
}

int sqlite_export_supporters(struct store *base, int64_t campaign_id, store_row_fn row, void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    static const int times[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
    return export_rows(st,
                       "SELECT s.email, s.name, s.statement, s.timezone, CASE WHEN s.erased_at "
                       "THEN 'erased' ELSE s.status END, s.created_at, s.confirmed_at, "
                       "s.unsubscribed_at, s.consent_at, s.consent_text, s.source, t.key FROM "
                       "supporters s LEFT JOIN targets t ON t.id = s.assigned_target WHERE "
                       "s.campaign_id = ?1 ORDER BY s.id",
                       campaign_id, 12, times, row, ctx);
}

int sqlite_export_clicks(struct store *base, int64_t campaign_id, store_row_fn row, void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    static const int times[4] = {1, 0, 0, 0};
    return export_rows(st,
                       "SELECT k.at, coalesce(t.key, ''), CASE WHEN k.rerouted THEN 'yes' ELSE "
                       "'no' END, s.email FROM clicks k LEFT JOIN targets t ON t.id = k.target_id "
                       "LEFT JOIN supporters s ON s.id = k.supporter_id WHERE k.campaign_id = ?1 "
                       "ORDER BY k.id",
                       campaign_id, 4, times, row, ctx);
}

int sqlite_pledge_import(struct store *base, int64_t campaign_id, const char *email,
                           const char *name, const char *timezone, const char *consent_text,
                           int64_t consent_at, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    char *norm = sql_lowercase_dup(email);
    if (!norm)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "INSERT OR IGNORE INTO supporters (campaign_id, token_key, email, "
                               "email_norm, name, timezone, status, created_at, consent_at, "
                               "consent_text, source, confirmed_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                               "?6, 'confirmed', ?7, ?8, ?9, 'import', ?7)");
    if (!s) {
        free(norm);
        return -1;
    }
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, token_new_key());
    sql_bind_text(s, 3, email);
    sql_bind_text(s, 4, norm);
    sql_bind_text(s, 5, name ? name : "");
    sql_bind_text(s, 6, timezone);
    sqlite3_bind_int64(s, 7, now);
    sqlite3_bind_int64(s, 8, consent_at);
    sql_bind_text(s, 9, consent_text);
    int rc = sql_step_done(st, s, "import");
    free(norm);
    if (rc != 0)
        return -1;
    return sqlite3_changes(st->db) == 1 ? 0 : STORE_CONFLICT;
}

