/*
 * launches: launching a campaign, pausing and resuming it, missed launches,
 * its shared progress, and taking over dead senders' leases (launches.h);
 * and the mails scheduled around the moment: the earlier reminders and the
 * follow-up (mail steps, below).
 */
#include "service/launches.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/process.h"
#include "core/tz.h"
#include "service/cache.h"
#include "store/store.h"
#include "store/store_dashboard.h"
#include "core/banned.h"

int launches_launch(struct store *st, int64_t campaign_id, int move_to_now, int64_t now,
                    int64_t *queued)
{
    if (store_begin(st) != 0)
        return -1;
    int marked;
    int64_t added;
    /* Queued even when it had launched already: a supporter confirmed since
     * (or a reminder lost to a crash before it was queued) is still owed. */
    if (store_campaign_mark_launched(st, campaign_id, move_to_now, now, &marked) != 0 ||
        store_outbox_add_confirmed(st, campaign_id, MAIL_REMINDER, now, &added) != 0) {
        store_rollback(st);
        return -1;
    }
    if (store_commit(st) != 0)
        return -1;
    *queued = added;
    return 0;
}

int launches_run_due(struct store *st, int64_t now, size_t *launched)
{
    int64_t ids[32];
    size_t n, done = 0;
    if (store_campaigns_due(st, now, ids, 32, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t queued;
        if (launches_launch(st, ids[i], 0, now, &queued) != 0) {
            log_error("launch.failed", "campaign_id=%lld", (long long)ids[i]);
            continue; /* the next round tries again */
        }
        log_info("launch.started", "campaign_id=%lld reminders=%lld", (long long)ids[i],
                 (long long)queued);
        done++;
    }
    *launched = done;
    if (launches_queue_mail_steps(st, now) != 0)
        log_error("launch.mail_steps_failed", "will retry");
    return 0;
}

/* ---- mail steps: the earlier reminders and the follow-up ---- */

/* The next step of one campaign that is due and not queued yet. Of the
 * earlier reminders only the latest one due counts (a moment applied or moved
 * close sends "in an hour", not also "tomorrow"), and only before the
 * moment; the follow-up comes after the launch. Returns 1 with the step, 0
 * when none is due. */
static int next_mail_step(const struct campaign *c, const struct campaign_row *row, int64_t now,
                          enum mail_kind *kind, int64_t *variant, int64_t *at)
{
    int found = 0;
    if (!row->launched_at && now < row->launch_utc) {
        for (size_t i = 0; i < c->reminder_count; i++) {
            int64_t due = row->launch_utc - c->reminders[i];
            if (due <= now && due > row->mail_steps_done) {
                *kind = MAIL_EARLY_REMINDER;
                *variant = c->reminders[i];
                *at = due; /* furthest first: the last one found is the latest */
                found = 1;
            }
        }
    }
    if (!found && row->launched_at && c->follow_up_after_minutes > 0) {
        int64_t due = row->launch_utc + (int64_t)c->follow_up_after_minutes * 60;
        if (due <= now && due > row->mail_steps_done) {
            *kind = MAIL_FOLLOW_UP;
            *variant = 0;
            *at = due;
            found = 1;
        }
    }
    return found;
}

int launches_queue_mail_steps(struct store *st, int64_t now)
{
    int64_t ids[64];
    size_t n;
    if (store_campaigns_ahead(st, now, CAMPAIGN_MAX_REMINDER_SECONDS, ids, 64, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct campaign_row row;
        const struct campaign *c;
        if (campaign_cache_get_by_id(st, ids[i], &row, &c) != 0) {
            rc = -1;
            continue;
        }
        enum mail_kind kind;
        int64_t variant, at, queued = 0;
        if (next_mail_step(c, &row, now, &kind, &variant, &at)) {
            /* The step is marked done in the transaction that queues it: a
             * crash leaves both or neither, and the unique index on
             * (campaign, supporter, kind, variant) keeps a repeat out. */
            if (store_begin(st) != 0) {
                rc = -1;
            } else if (store_outbox_add_variant(st, row.id, kind, variant, kind == MAIL_FOLLOW_UP,
                                                now, &queued) != 0 ||
                       store_campaign_steps_done(st, row.id, at) != 0) {
                store_rollback(st);
                rc = -1;
            } else if (store_commit(st) != 0) {
                rc = -1;
            } else {
                log_info("launch.mail_step", "campaign_id=%lld kind=%d variant=%lld queued=%lld",
                         (long long)row.id, (int)kind, (long long)variant, (long long)queued);
            }
        }
        campaign_row_release(&row);
    }
    return rc;
}

int launches_owed(struct store *st, int64_t campaign_id, int64_t *owed)
{
    return store_outbox_owed(st, campaign_id, MAIL_REMINDER, owed);
}

static int owner_is_dead(const char *owner)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        return 0;
    host[sizeof host - 1] = '\0';
    size_t hl = strlen(host);
    if (strncmp(owner, host, hl) != 0 || owner[hl] != ':')
        return 0; /* another machine: wait for its lease to expire */
    long pid = 0;
    unsigned long long start = 0;
    if (sscanf(owner + hl + 1, "%ld:%llu", &pid, &start) != 2 || pid <= 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 1;
    unsigned long long their_start = 0;
    int rc = process_start_ticks(pid, &their_start);
    if (rc == -1)
        return 1;
    if (rc != 0)
        return 0;
    return their_start != start;
}

int launches_reclaim_dead_leases(struct store *st, int64_t now)
{
    char owners[16][300];
    size_t n;
    if (store_outbox_lease_owners(st, now, owners, 16, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!owner_is_dead(owners[i]))
            continue;
        log_warn("outbox.takeover", "owner=%s", owners[i]);
        if (store_outbox_lease_drop(st, owners[i]) != 0)
            return -1;
    }
    return 0;
}

const char *launches_text_problem(const char *text, size_t max)
{
    size_t len = strlen(text);
    if (len > max)
        return "too long";
    if (!utf8_valid(text, len))
        return "not valid UTF-8";
    if (utf8_find_control(text, 0) >= 0)
        return "holds a control character";
    return NULL;
}

int launches_set_pause(struct store *st, int64_t campaign_id, int paused, const char *by,
                       const char *reason, int64_t now, int *changed)
{
    struct campaign_pause fits;
    const char *problem = launches_text_problem(by, sizeof fits.by - 1);
    if (!problem)
        problem = launches_text_problem(reason, sizeof fits.reason - 1);
    if (problem) {
        log_error("launch.pause_refused", "campaign_id=%lld error=\"who or why %s\"",
                  (long long)campaign_id, problem);
        return -1;
    }
    int did = 0;
    int rc = store_campaign_set_pause(st, campaign_id, paused, paused ? by : "",
                                      paused ? reason : "", now, &did);
    if (rc != 0)
        return rc;
    if (did) {
        char qb[400], qr[400];
        if (paused)
            log_warn("launch.paused", "campaign_id=%lld by=%s reason=%s", (long long)campaign_id,
                     log_quote(by, qb, sizeof qb), log_quote(reason, qr, sizeof qr));
        else
            log_info("launch.resumed", "campaign_id=%lld by=%s", (long long)campaign_id,
                     log_quote(by, qb, sizeof qb));
    }
    if (changed)
        *changed = did;
    return 0;
}

int launches_pause(struct store *st, int64_t campaign_id, const char *reason)
{
    return launches_set_pause(st, campaign_id, 1, "muster", reason, tz_now(), NULL);
}

int launches_resume(struct store *st, int64_t campaign_id, const char *by)
{
    return launches_set_pause(st, campaign_id, 0, by, "", tz_now(), NULL);
}

const char *launches_phase_name(enum launch_phase phase)
{
    switch (phase) {
    case LAUNCH_SCHEDULED:
        return "scheduled";
    case LAUNCH_DUE:
        return "due";
    case LAUNCH_MISSED:
        return "missed";
    case LAUNCH_SENDING:
        return "sending";
    case LAUNCH_SENT:
        return "sent";
    }
    return "unknown";
}

int launches_state(struct store *st, const struct campaign_row *row, int64_t now,
                   struct launch_state *out)
{
    struct launch_state s;
    memset(&s, 0, sizeof s);
    int rc = store_campaign_pause_get(st, row->id, &s.pause);
    if (rc == 0)
        rc = store_dashboard_reminders(st, row->id, &s.sent, &s.failed, &s.pending);
    int64_t pending;
    if (rc == 0)
        rc = store_outbox_pending(st, row->id, MAIL_REMINDER, now, &pending, &s.ready);
    if (rc != 0)
        return rc;
    s.phase = launches_phase(row, now, s.pending);
    *out = s;
    return 0;
}

enum launch_phase launches_phase(const struct campaign_row *row, int64_t now, int64_t pending)
{
    int64_t window_end = row->launch_utc + (int64_t)row->window_minutes * 60;
    if (row->launched_at)
        return pending > 0 ? LAUNCH_SENDING : LAUNCH_SENT;
    if (now < row->launch_utc)
        return LAUNCH_SCHEDULED;
    if (now < window_end)
        return LAUNCH_DUE;
    return LAUNCH_MISSED;
}

/* The campaigns this process has said were missed (a server says each once;
 * more than fit are said again at each look, which is still not silent). */
#define MISSED_SAID_MAX 64
static pthread_mutex_t missed_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t missed_said[MISSED_SAID_MAX];
static size_t missed_said_count;

static int missed_first_time(int64_t id)
{
    pthread_mutex_lock(&missed_lock);
    int first = 1;
    for (size_t i = 0; i < missed_said_count && first; i++)
        first = missed_said[i] != id;
    if (first && missed_said_count < MISSED_SAID_MAX)
        missed_said[missed_said_count++] = id;
    pthread_mutex_unlock(&missed_lock);
    return first;
}

int launches_report_missed(struct store *st, int64_t now, size_t *missed)
{
    int64_t ids[MISSED_SAID_MAX];
    size_t n;
    if (store_campaigns_missed(st, now, ids, MISSED_SAID_MAX, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!missed_first_time(ids[i]))
            continue;
        struct campaign_row row;
        if (store_campaign_get_by_id(st, ids[i], &row) != 0) {
            log_error("launch.missed",
                      "campaign_id=%lld action=\"nothing sent; `muster launch` "
                      "sends it now\"",
                      (long long)ids[i]);
            continue;
        }
        char when[21], quoted[200];
        tz_iso_utc(row.launch_utc + (int64_t)row.window_minutes * 60, when);
        log_error("launch.missed",
                  "campaign_id=%lld slug=%s window_ended=%s action=\"nothing sent; `muster "
                  "launch %s` sends it now\"",
                  (long long)row.id, log_quote(row.slug, quoted, sizeof quoted), when, row.slug);
        campaign_row_release(&row);
    }
    *missed = n;
    return 0;
}
