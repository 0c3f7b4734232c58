/*
 * launches: launching a campaign and taking over dead senders' leases
 * (launches.h), and the mails scheduled around the moment: the earlier
 * reminders and the follow-up (mail steps, below).
 */
#include "service/launches.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "core/log.h"
#include "core/process.h"
#include "service/cache.h"
#include "store/store.h"
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
