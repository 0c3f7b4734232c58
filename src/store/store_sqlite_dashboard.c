/*
 * store_sqlite_dashboard: the dashboard's read-only queries on SQLite (see
 * store_dashboard.h). Buckets are computed in SQL ((time - start) / bucket,
 * clamped to the series), so a series costs one indexed pass over the
 * campaign's rows however long it is.
 *
 * These statements are prepared per call instead of going through the
 * handle's statement cache (sql_stmt): the cache has a fixed number of slots
 * that the supporter's hot paths need, and a dashboard poll every two seconds
 * does not need the few microseconds a cached statement saves.
 */
#include "store/store_dashboard.h"

#include <stdio.h>
#include <string.h>

#include "store/sqlite_private.h"
#include "store/store.h"
#include "core/banned.h"

static sqlite3_stmt *prepare(struct sqlite_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        sql_error(st, "dashboard prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* Steps to the end; -1 (logged) unless it ended with SQLITE_DONE. */
static int finish(struct sqlite_store *st, sqlite3_stmt *s, int rc, const char *what)
{
    int ok = rc == SQLITE_DONE;
    if (!ok)
        sql_error(st, what);
    sqlite3_finalize(s);
    return ok ? 0 : -1;
}

static size_t clamp_bucket(int64_t b, size_t n)
{
    if (b < 0)
        return 0;
    if ((uint64_t)b >= n)
        return n - 1;
    return (size_t)b;
}

int sqlite_dashboard_bounds(struct store *base, int64_t campaign_id, int64_t *first_pledge,
                            int64_t *first_activity, int64_t *last_activity)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = prepare(
        st, "SELECT (SELECT min(created_at) FROM supporters WHERE campaign_id = ?1), "
            "(SELECT min(at) FROM clicks WHERE campaign_id = ?1), "
            "(SELECT min(sent_at) FROM outbox WHERE campaign_id = ?1 AND kind = " SQL_MAIL_REMINDER
            " AND "
            "state = 'sent'), "
            "(SELECT max(at) FROM clicks WHERE campaign_id = ?1), "
            "(SELECT max(sent_at) FROM outbox WHERE campaign_id = ?1 AND kind = " SQL_MAIL_REMINDER
            " AND "
            "state = 'sent')");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        return finish(st, s, rc, "dashboard bounds");
    int64_t pledge = sqlite3_column_int64(s, 0);
    int64_t click = sqlite3_column_int64(s, 1);
    int64_t sent = sqlite3_column_int64(s, 2);
    int64_t last_click = sqlite3_column_int64(s, 3);
    int64_t last_sent = sqlite3_column_int64(s, 4);
    sqlite3_finalize(s);
    int64_t activity = click;
    if (sent && (!activity || sent < activity))
        activity = sent;
    *first_pledge = pledge;
    *first_activity = activity;
    *last_activity = last_click > last_sent ? last_click : last_sent;
    return 0;
}

/* Runs sql (?1 campaign, ?2 start, ?3 bucket) whose rows are (bucket, count)
 * and adds the counts into out[n]. */
static int bucket_counts(struct sqlite_store *st, const char *sql, const char *what,
                         int64_t campaign_id, int64_t start, int64_t bucket, size_t n, int64_t *out)
{
    if (n == 0 || bucket <= 0)
        return 0;
    sqlite3_stmt *s = prepare(st, sql);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, start);
    sqlite3_bind_int64(s, 3, bucket);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        out[clamp_bucket(sqlite3_column_int64(s, 0), n)] += sqlite3_column_int64(s, 1);
    return finish(st, s, rc, what);
}

int sqlite_dashboard_pledges(struct store *base, int64_t campaign_id, int64_t start, int64_t bucket,
                             size_t n, int64_t *pledged, int64_t *confirmed)
{
    struct sqlite_store *st = sqlite_of(base);
    /* Integer division truncates toward zero in SQLite; times before start
     * would land in bucket 0 anyway, so that needs no care. */
    if (bucket_counts(st,
                      "SELECT (created_at - ?2) / ?3, count(*) FROM supporters WHERE "
                      "campaign_id = ?1 GROUP BY 1",
                      "dashboard pledges", campaign_id, start, bucket, n, pledged) != 0)
        return -1;
    return bucket_counts(st,
                         "SELECT (confirmed_at - ?2) / ?3, count(*) FROM supporters WHERE "
                         "campaign_id = ?1 AND status = 'confirmed' AND confirmed_at > 0 "
                         "GROUP BY 1",
                         "dashboard confirmations", campaign_id, start, bucket, n, confirmed);
}

int sqlite_dashboard_reminders(struct store *base, int64_t campaign_id, int64_t *sent,
                               int64_t *failed, int64_t *pending)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = prepare(st, "SELECT state, count(*) FROM outbox WHERE campaign_id = ?1 AND "
                                  "kind = " SQL_MAIL_REMINDER " GROUP BY state");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    int64_t n[3] = {0, 0, 0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        int64_t count = sqlite3_column_int64(s, 1);
        if (state && strcmp(state, "sent") == 0)
            n[0] = count;
        else if (state && strcmp(state, "failed") == 0)
            n[1] = count;
        else if (state && strcmp(state, "pending") == 0)
            n[2] = count;
    }
    if (finish(st, s, rc, "dashboard reminders") != 0)
        return -1;
    *sent = n[0];
    *failed = n[1];
    *pending = n[2];
    return 0;
}

int sqlite_dashboard_reminders_sent(struct store *base, int64_t campaign_id, int64_t start,
                                    int64_t bucket, size_t n, int64_t *sent)
{
    struct sqlite_store *st = sqlite_of(base);
    return bucket_counts(st,
                         "SELECT (sent_at - ?2) / ?3, count(*) FROM outbox WHERE "
                         "campaign_id = ?1 AND kind = " SQL_MAIL_REMINDER
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

int sqlite_dashboard_clicks(struct store *base, int64_t campaign_id, int64_t start, int64_t bucket,
                            size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    struct sqlite_store *st = sqlite_of(base);
    if (n == 0 || bucket <= 0 || ntargets == 0)
        return 0;
    sqlite3_stmt *s = prepare(st, "SELECT target_id, (at - ?2) / ?3, count(*) FROM clicks WHERE "
                                  "campaign_id = ?1 GROUP BY 1, 2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, start);
    sqlite3_bind_int64(s, 3, bucket);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int t = target_index(target_ids, ntargets, sqlite3_column_int64(s, 0));
        if (t >= 0)
            counts[(size_t)t * n + clamp_bucket(sqlite3_column_int64(s, 1), n)] +=
                sqlite3_column_int64(s, 2);
    }
    return finish(st, s, rc, "dashboard clicks");
}

int sqlite_dashboard_reports_since(struct store *base, int64_t campaign_id, int64_t since,
                                   const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = prepare(st, "SELECT r.target_id, count(*) FROM target_reports r JOIN "
                                  "targets t ON t.id = r.target_id WHERE t.campaign_id = ?1 AND "
                                  "r.at >= ?2 GROUP BY 1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, since);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int t = target_index(target_ids, ntargets, sqlite3_column_int64(s, 0));
        if (t >= 0)
            counts[t] += sqlite3_column_int64(s, 1);
    }
    return finish(st, s, rc, "dashboard reports");
}

static void copy_text(sqlite3_stmt *s, int col, char *out, size_t n)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(out, n, "%s", v ? (const char *)v : "");
}

int sqlite_dashboard_events(struct store *base, int64_t campaign_id, struct dashboard_event *rows,
                            size_t max, size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = prepare(
        st, "SELECT e.at, t.key, e.action = 'open', e.reason, coalesce(o.email, e.actor) FROM "
            "target_events e JOIN targets t ON t.id = e.target_id LEFT JOIN organizers o ON "
            "e.actor = 'organizer:' || o.id WHERE t.campaign_id = ?1 ORDER BY e.id DESC "
            "LIMIT ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    size_t got = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && got < max) {
        struct dashboard_event *e = &rows[got++];
        e->at = sqlite3_column_int64(s, 0);
        copy_text(s, 1, e->target, sizeof e->target);
        e->open = sqlite3_column_int(s, 2);
        copy_text(s, 3, e->reason, sizeof e->reason);
        copy_text(s, 4, e->actor, sizeof e->actor);
    }
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE; /* stopped at max */
    if (finish(st, s, rc, "dashboard events") != 0)
        return -1;
    *n = got;
    return 0;
}
