/*
 * store_pg_data: data out and in on PostgreSQL: the supporters and clicks
 * exports and the imported pledge (store_sqlite_data.c's twins). An export
 * is read in pages of rows through a cursor-free keyset walk (id > last), so
 * a million supporters are never held in memory at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/tz.h"
#include "store/pg_private.h"
#include "store/store.h"
#include "core/banned.h"

#define EXPORT_PAGE 1000

/* sql: $1 campaign, $2 the last id walked, $3 the page size; its last
 * column is the row's id (not handed to row). */
static int export_rows(struct pg_store *st, const char *sql, int64_t campaign_id, int columns,
                       const int *time_columns, store_row_fn row, void *ctx)
{
    int64_t last = 0;
    for (;;) {
        struct pg_params p = {0};
        pg_param_i64(&p, campaign_id);
        pg_param_i64(&p, last);
        pg_param_i64(&p, EXPORT_PAGE);
        PGresult *r = pg_exec(st, sql, &p, "export");
        if (!r)
            return -1;
        int rows = PQntuples(r);
        for (int i = 0; i < rows; i++) {
            const char *values[16];
            char times[16][21];
            for (int c = 0; c < columns && c < 16; c++) {
                if (time_columns[c]) {
                    int64_t t = pg_i64(r, i, c);
                    if (t)
                        tz_iso_utc(t, times[c]);
                    else
                        times[c][0] = '\0';
                    values[c] = times[c];
                } else {
                    const char *v = pg_text(r, i, c);
                    values[c] = v ? v : "";
                }
            }
            last = pg_i64(r, i, columns);
            if (row(ctx, values, columns) != 0) {
                PQclear(r);
                return 0;
            }
        }
        PQclear(r);
        if (rows < EXPORT_PAGE)
            return 0;
    }
}

int pg_export_supporters(struct store *base, int64_t campaign_id, store_row_fn row, void *ctx)
{
    static const int times[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
    return export_rows(pg_of(base),
                       "SELECT s.email, s.name, s.statement, s.timezone, CASE WHEN s.erased_at "
                       "<> 0 THEN 'erased' ELSE s.status END, s.created_at, s.confirmed_at, "
                       "s.unsubscribed_at, s.consent_at, s.consent_text, s.source, t.key, s.id "
                       "FROM supporters s LEFT JOIN targets t ON t.id = s.assigned_target WHERE "
                       "s.campaign_id = $1::bigint AND s.id > $2::bigint ORDER BY s.id "
                       "LIMIT $3::bigint",
                       campaign_id, 12, times, row, ctx);
}

int pg_export_clicks(struct store *base, int64_t campaign_id, store_row_fn row, void *ctx)
{
    static const int times[4] = {1, 0, 0, 0};
    return export_rows(pg_of(base),
                       "SELECT k.at, coalesce(t.key, ''), CASE WHEN k.rerouted <> 0 THEN 'yes' "
                       "ELSE 'no' END, s.email, k.id FROM clicks k LEFT JOIN targets t ON t.id = "
                       "k.target_id LEFT JOIN supporters s ON s.id = k.supporter_id WHERE "
                       "k.campaign_id = $1::bigint AND k.id > $2::bigint ORDER BY k.id "
                       "LIMIT $3::bigint",
                       campaign_id, 4, times, row, ctx);
}

int pg_pledge_import(struct store *base, int64_t campaign_id, const char *email, const char *name,
                     const char *timezone, const char *consent_text, int64_t consent_at,
                     int64_t now)
{
    struct pg_store *st = pg_of(base);
    char *norm = pg_lowercase_dup(email);
    if (!norm)
        return -1;
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, token_new_key());
    pg_param_text(&p, email);
    pg_param_text(&p, norm);
    pg_param_text(&p, name ? name : "");
    pg_param_text(&p, timezone);
    pg_param_i64(&p, now);
    pg_param_i64(&p, consent_at);
    pg_param_text(&p, consent_text);
    int64_t changed = 0;
    int rc = pg_run(st,
                    "INSERT INTO supporters (campaign_id, token_key, email, email_norm, name, "
                    "timezone, status, created_at, consent_at, consent_text, source, "
                    "confirmed_at) VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::text, "
                    "$6::text, 'confirmed', $7::bigint, $8::bigint, $9::text, 'import', "
                    "$7::bigint) ON CONFLICT DO NOTHING",
                    &p, "import", &changed);
    free(norm);
    if (rc != 0)
        return -1;
    return changed == 1 ? 0 : STORE_CONFLICT;
}
