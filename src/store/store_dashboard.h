/*
 * store_dashboard: the read-only queries behind the organizer's dashboard
 * (pages/admin*.c): activity over time in fixed buckets, recent reports per
 * target, and the history of closes and opens. Nothing here writes, and
 * nothing here is on a supporter's path; the launch-day view polls these
 * every two seconds per open browser tab.
 *
 * A series covers n buckets of `bucket` seconds from `start`: bucket i holds
 * the events with start + i*bucket <= time < start + (i+1)*bucket. Events
 * before start count in bucket 0 and events after the last bucket in bucket
 * n-1, so a series always adds up to the total. Counts are added to the
 * arrays the caller zeroed. Same return convention as store.h.
 */
#ifndef MUSTER_STORE_STORE_DASHBOARD_H
#define MUSTER_STORE_STORE_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* The time of the first pledge, and of the first and the last launch
 * activity (a reminder sent or a click); 0 when there is none. */
int store_dashboard_bounds(struct store *st, int64_t campaign_id, int64_t *first_pledge,
                           int64_t *first_activity, int64_t *last_activity);

/* Pledges by the time they were made, confirmations by the time they were
 * confirmed (per bucket, not cumulative). */
int store_dashboard_pledges(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                            size_t n, int64_t *pledged, int64_t *confirmed);

/* Reminders by state: sent, failed, and pending (queued or deferred). */
int store_dashboard_reminders(struct store *st, int64_t campaign_id, int64_t *sent, int64_t *failed,
                              int64_t *pending);

/* Reminders sent, by the time the relay accepted them. */
int store_dashboard_reminders_sent(struct store *st, int64_t campaign_id, int64_t start,
                                   int64_t bucket, size_t n, int64_t *sent);

/* Clicks per target: counts[t * n + i] for target_ids[t] (store target ids,
 * as in struct target_row). Clicks on other targets are ignored. */
int store_dashboard_clicks(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                           size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts);

/* Reports made at or after `since`, per target (counts[t] for target_ids[t]). */
int store_dashboard_reports_since(struct store *st, int64_t campaign_id, int64_t since,
                                  const int64_t *target_ids, size_t ntargets, int64_t *counts);

/* One close or open of a target, newest first. `actor` is the organizer's
 * email for a dashboard change, else as recorded ("cli", "reports"). */
struct dashboard_event {
    int64_t at;
    char target[65];
    int open;
    char reason[256];
    char actor[160];
};
int store_dashboard_events(struct store *st, int64_t campaign_id, struct dashboard_event *rows,
                           size_t max, size_t *n);

#endif
