/*
 * store_pg_dashboard: the dashboard's read-only queries on PostgreSQL (see
 * store_dashboard.h), store_sqlite_dashboard.c's twins. Buckets are computed
 * in SQL ((time - start) / bucket, integer division truncating toward zero
 * as SQLite's does) and clamped to the series here.
 */
#include "store/store_dashboard.h"

#include <stdio.h>
#include <string.h>

#include "store/pg_private.h"
#include "store/store.h"
#include "core/banned.h"

static size_t clamp_bucket(int64_t b, size_t n)
{
    if (b < 0)
        return 0;
    if ((uint64_t)b >= n)
        return n - 1;
    return (size_t)b;
}

int pg_dashboard_bounds(struct store *base, int64_t campaign_id, int64_t *first_pledge,
                        int64_t *first_activity, int64_t *last_activity)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r =
        pg_exec(pg_of(base),
                "SELECT (SELECT min(created_at) FROM supporters WHERE campaign_id = $1::bigint), "
                "(SELECT min(at) FROM clicks WHERE campaign_id = $1::bigint), "
                "(SELECT min(sent_at) FROM outbox WHERE campaign_id = $1::bigint AND kind "
                "= " PG_MAIL_REMINDER " AND state = 'sent'), "
                "(SELECT max(at) FROM clicks WHERE campaign_id = $1::bigint), "
                "(SELECT max(sent_at) FROM outbox WHERE campaign_id = $1::bigint AND kind "
                "= " PG_MAIL_REMINDER " AND state = 'sent')",
                &p, "dashboard bounds");
    if (!r)
        return -1;
    int64_t pledge = pg_i64(r, 0, 0);
    int64_t click = pg_i64(r, 0, 1);
    int64_t sent = pg_i64(r, 0, 2);
    int64_t last_click = pg_i64(r, 0, 3);
    int64_t last_sent = pg_i64(r, 0, 4);
    PQclear(r);
    int64_t activity = click;
    if (sent && (!activity || sent < activity))
        activity = sent;
    *first_pledge = pledge;
    *first_activity = activity;
    *last_activity = last_click > last_sent ? last_click : last_sent;
    return 0;
}

/* Runs sql ($1 campaign, $2 start, $3 bucket) whose rows are (bucket,
 * count) and adds the counts into out[n]. */
static int bucket_counts(struct pg_store *st, const char *sql, const char *what,
                         int64_t campaign_id, int64_t start, int64_t bucket, size_t n, int64_t *out)
{
    if (n == 0 || bucket <= 0)
        return 0;
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, start);
    pg_param_i64(&p, bucket);
    PGresult *r = pg_exec(st, sql, &p, what);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        out[clamp_bucket(pg_i64(r, i, 0), n)] += pg_i64(r, i, 1);
    PQclear(r);
    return 0;
}

int pg_dashboard_pledges(struct store *base, int64_t campaign_id, int64_t start, int64_t bucket,
                         size_t n, int64_t *pledged, int64_t *confirmed)
{
    struct pg_store *st = pg_of(base);
    if (bucket_counts(st,
                      "SELECT (created_at - $2::bigint) / $3::bigint, count(*) FROM supporters "
                      "WHERE campaign_id = $1::bigint GROUP BY 1",
                      "dashboard pledges", campaign_id, start, bucket, n, pledged) != 0)
        return -1;
    return bucket_counts(st,
                         "SELECT (confirmed_at - $2::bigint) / $3::bigint, count(*) FROM "
                         "supporters WHERE campaign_id = $1::bigint AND status = 'confirmed' AND "
                         "confirmed_at > 0 GROUP BY 1",
                         "dashboard confirmations", campaign_id, start, bucket, n, confirmed);
}

int pg_dashboard_reminders(struct store *base, int64_t campaign_id, int64_t *sent, int64_t *failed,
                           int64_t *pending)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE "
                          "state = 'failed'), count(*) FILTER (WHERE state = 'pending') FROM "
                          "outbox WHERE campaign_id = $1::bigint AND kind = " PG_MAIL_REMINDER,
                          &p, "dashboard reminders");
    if (!r)
        return -1;
    *sent = pg_i64(r, 0, 0);
    *failed = pg_i64(r, 0, 1);
    *pending = pg_i64(r, 0, 2);
    PQclear(r);
    return 0;
}

int pg_dashboard_reminders_sent(struct store *base, int64_t campaign_id, int64_t start,
                                int64_t bucket, size_t n, int64_t *sent)
{
    return bucket_counts(pg_of(base),
                         "SELECT (sent_at - $2::bigint) / $3::bigint, count(*) FROM outbox WHERE "
                         "campaign_id = $1::bigint AND kind = " PG_MAIL_REMINDER
                         " AND state = 'sent' GROUP BY 1",
                         "dashboard reminders", campaign_id, start, bucket, n, sent);
}

static int target_index(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return (int)i;
    return -1;
}

int pg_dashboard_clicks(struct store *base, int64_t campaign_id, int64_t start, int64_t bucket,
                        size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    if (n == 0 || bucket <= 0 || ntargets == 0)
        return 0;
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, start);
    pg_param_i64(&p, bucket);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT target_id, (at - $2::bigint) / $3::bigint, count(*) FROM clicks "
                          "WHERE campaign_id = $1::bigint GROUP BY 1, 2",
                          &p, "dashboard clicks");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 0))
            continue;
        int t = target_index(target_ids, ntargets, pg_i64(r, i, 0));
        if (t >= 0)
            counts[(size_t)t * n + clamp_bucket(pg_i64(r, i, 1), n)] += pg_i64(r, i, 2);
    }
    PQclear(r);
    return 0;
}

int pg_dashboard_reports_since(struct store *base, int64_t campaign_id, int64_t since,
                               const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, since);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT r.target_id, count(*) FROM target_reports r JOIN targets t ON "
                          "t.id = r.target_id WHERE t.campaign_id = $1::bigint AND r.at >= "
                          "$2::bigint GROUP BY 1",
                          &p, "dashboard reports");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        int t = target_index(target_ids, ntargets, pg_i64(r, i, 0));
        if (t >= 0)
            counts[t] += pg_i64(r, i, 1);
    }
    PQclear(r);
    return 0;
}

static void copy_text(const PGresult *r, int row, int col, char *out, size_t n)
{
    const char *v = pg_text(r, row, col);
    snprintf(out, n, "%s", v ? v : "");
}

int pg_dashboard_events(struct store *base, int64_t campaign_id, struct dashboard_event *rows,
                        size_t max, size_t *n)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, (int64_t)max);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT e.at, t.key, (e.action = 'open')::int, e.reason, "
                          "coalesce(o.email, e.actor) FROM target_events e JOIN targets t ON "
                          "t.id = e.target_id LEFT JOIN organizers o ON e.actor = 'organizer:' || "
                          "o.id WHERE t.campaign_id = $1::bigint ORDER BY e.id DESC "
                          "LIMIT $2::bigint",
                          &p, "dashboard events");
    if (!r)
        return -1;
    size_t got = 0;
    for (int i = 0; i < PQntuples(r) && got < max; i++) {
        struct dashboard_event *e = &rows[got++];
        e->at = pg_i64(r, i, 0);
        copy_text(r, i, 1, e->target, sizeof e->target);
        e->open = (int)pg_i64(r, i, 2);
        copy_text(r, i, 3, e->reason, sizeof e->reason);
        copy_text(r, i, 4, e->actor, sizeof e->actor);
    }
    PQclear(r);
    *n = got;
    return 0;
}
