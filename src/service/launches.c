/*
 * launches: launching a campaign and taking over dead senders' leases
 * (launches.h).
 */
#include "service/launches.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/process.h"
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
    return 0;
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
