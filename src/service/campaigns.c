/*
 * campaigns: applying a campaign and changing its targets' states
 * (campaigns.h). The stored file is the canonical JSON of the parsed one, so
 * "unchanged" is a string comparison and "the message changed" compares the
 * parsed title and body of both. A moment moved before the launch bumps the
 * campaign's calendar SEQUENCE and queues one notice per confirmed supporter,
 * in the same transaction as the new moment.
 */
#include "service/campaigns.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"
#include "core/banned.h"

/* 1 when c's message differs from the one in the stored file old_json. */
static int message_changed(const char *old_json, const struct campaign *c)
{
    struct campaign *old = NULL;
    struct buf errors = BUF_INIT;
    int changed = 0;
    if (campaign_parse(old_json, strlen(old_json), "stored", &old, &errors) == 0) {
        changed = strcmp(old->message_title, c->message_title) != 0 ||
                  strcmp(old->message_body, c->message_body) != 0;
        campaign_free(old);
    }
    buf_release(&errors);
    return changed;
}

int campaigns_apply(struct store *st, const struct campaign *c, int64_t now,
                    enum apply_result *result, char *err, size_t err_len)
{
    if (store_begin(st) != 0)
        return -1;
    struct campaign_row old;
    int64_t id = 0;
    enum apply_result done;
    int rc = store_campaign_get(st, c->slug, &old);
    if (rc < 0)
        goto fail;
    if (rc == STORE_NOT_FOUND) {
        if (store_campaign_insert(st, c, now, &id) != 0)
            goto fail;
        done = APPLY_CREATED;
    } else {
        id = old.id;
        if (strcmp(old.spec_json, c->canonical_json) == 0) {
            campaign_row_release(&old);
            store_rollback(st);
            *result = APPLY_UNCHANGED;
            return 0;
        }
        if (old.launched_at && message_changed(old.spec_json, c)) {
            campaign_row_release(&old);
            store_rollback(st);
            snprintf(err, err_len,
                     "campaign '%s' has launched: its message is frozen (targets and texts around "
                     "it can still change)",
                     c->slug);
            return STORE_CONFLICT;
        }
        /* A launched campaign keeps the moment it launched at. */
        int64_t launch_utc = old.launched_at ? old.launch_utc : c->launch_utc;
        int moved = launch_utc != old.launch_utc;
        campaign_row_release(&old);
        if (store_campaign_update(st, id, c, launch_utc, now) != 0)
            goto fail;
        if (moved) {
            /* Once per move: the notice's variant is the new SEQUENCE. */
            int64_t sequence, queued;
            if (store_campaign_moved(st, id, &sequence) != 0 ||
                store_outbox_add_variant(st, id, MAIL_MOVED, sequence, 0, now, &queued) != 0)
                goto fail;
            log_info("campaign.moved", "campaign_id=%lld sequence=%lld notices=%lld", (long long)id,
                     (long long)sequence, (long long)queued);
        }
        done = APPLY_UPDATED;
    }
    if (store_targets_replace(st, id, c->targets, c->target_count) != 0)
        goto fail;
    if (store_commit(st) != 0)
        return -1;
    *result = done;
    return 0;
fail:
    store_rollback(st);
    return -1;
}

int campaigns_target_set_open(struct store *st, int64_t campaign_id, const char *target_key,
                              int open, const char *reason, const char *actor, int64_t now,
                              int *changed)
{
    if (store_begin(st) != 0)
        return -1;
    int64_t id;
    int is_open;
    int rc = store_target_find(st, campaign_id, target_key, &id, &is_open);
    if (rc != 0) {
        store_rollback(st);
        return rc;
    }
    if (is_open == open) {
        store_rollback(st);
        *changed = 0;
        return 0;
    }
    if (store_target_set_state(st, id, open, reason ? reason : "", actor, now) != 0) {
        store_rollback(st);
        return -1;
    }
    if (store_commit(st) != 0)
        return -1;
    *changed = 1;
    return 0;
}

int campaigns_target_report(struct store *st, int64_t campaign_id, int64_t supporter_id,
                            int64_t assigned_target, const char *target_key, int threshold,
                            int window_seconds, int64_t now, int *closed_now)
{
    if (store_begin(st) != 0)
        return -1;
    int64_t id;
    int is_open, added;
    int rc = store_target_find(st, campaign_id, target_key, &id, &is_open);
    if (rc != 0) {
        store_rollback(st);
        return rc;
    }
    /* Only the supporters the target was given to can say it refused them. */
    if (assigned_target != REPORT_ANY_TARGET && assigned_target != id) {
        store_rollback(st);
        return REPORT_NOT_ASSIGNED;
    }
    /* One report per supporter and target counts. */
    if (store_target_report_add(st, id, supporter_id, now, &added) != 0)
        goto fail;
    int closed = 0;
    if (threshold > 0 && is_open) {
        int64_t recent;
        if (store_target_reports_since(st, id, now - window_seconds, &recent) != 0)
            goto fail;
        if (recent >= threshold) {
            char reason[128];
            snprintf(reason, sizeof reason,
                     "closed automatically: %lld supporters reported it did not accept the action",
                     (long long)recent);
            if (store_target_set_state(st, id, 0, reason, "reports", now) != 0)
                goto fail;
            closed = 1;
        }
    }
    if (store_commit(st) != 0)
        return -1;
    *closed_now = closed;
    return 0;
fail:
    store_rollback(st);
    return -1;
}
