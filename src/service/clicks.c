/*
 * clicks: the click writer's batch (clicks.h). A rerouted supporter's new
 * assignment moves one "assigned" from the closed target to the new one. A
 * record marked assignment_only (a review, a report) keeps the assignment and
 * counts no click.
 */
#include "service/clicks.h"

#include <string.h>

#include "service/webhook_events.h"
#include "core/banned.h"

struct target_delta {
    int64_t id;
    int64_t assigned, clicks, rerouted;
};

static struct target_delta *delta_for(struct target_delta *d, size_t *n, size_t max, int64_t id)
{
    for (size_t i = 0; i < *n; i++)
        if (d[i].id == id)
            return &d[i];
    if (*n >= max)
        return NULL;
    memset(&d[*n], 0, sizeof d[*n]);
    d[*n].id = id;
    return &d[(*n)++];
}

static int flush_deltas(struct store *st, const struct target_delta *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (store_target_counters_add(st, d[i].id, d[i].assigned, d[i].clicks, d[i].rerouted) != 0)
            return -1;
    return 0;
}

/* The campaign's webhook answer for clicks, read once per campaign per batch
 * (struct webhook_want holds for the whole write transaction). A batch
 * touching more campaigns than there are slots reads the rest per click. */
enum { WANT_SLOTS = 8 };

static int click_webhook(struct store *st, struct webhook_want *wants, size_t *nwants,
                         const struct click_record *k)
{
    for (size_t i = 0; i < *nwants; i++)
        if (wants[i].campaign_id == k->campaign_id)
            return webhook_events_queue_wanted(st, &wants[i], k->supporter_id, k->target_id, k->at);
    if (*nwants == WANT_SLOTS)
        return webhook_events_queue(st, k->campaign_id, WEBHOOK_ACTION_CLICKED, k->supporter_id,
                                    k->target_id, k->at);
    if (webhook_events_want(st, k->campaign_id, WEBHOOK_ACTION_CLICKED, &wants[*nwants]) != 0)
        return -1;
    (*nwants)++;
    return webhook_events_queue_wanted(st, &wants[*nwants - 1], k->supporter_id, k->target_id,
                                       k->at);
}

int clicks_record(struct store *st, const struct click_record *clicks, size_t n)
{
    enum { MAX_DELTAS = 64 };
    struct target_delta deltas[MAX_DELTAS];
    size_t ndeltas = 0;
    struct webhook_want wants[WANT_SLOTS];
    size_t nwants = 0;
    int result = -1;
    if (store_begin(st) != 0)
        return -1;
    /* The click rows, in runs between the assignment-only records (a review
     * or a report moved the supporter: no click row, no event, no count). */
    for (size_t i = 0; i < n;) {
        size_t run = 0;
        while (i + run < n && !clicks[i + run].assignment_only)
            run++;
        if (run && store_clicks_insert(st, clicks + i, run) != 0)
            goto fail;
        i += run ? run : 1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct click_record *k = &clicks[i];
        /* The campaign's webhook, when it has one (docs/WEBHOOKS.md). */
        if (!k->assignment_only && click_webhook(st, wants, &nwants, k) != 0)
            goto fail;
        if (k->assigned && k->target_id &&
            store_supporter_assign(st, k->supporter_id, k->target_id) != 0)
            goto fail;
        /* Per-target counters are summed over the batch: one UPDATE each. */
        if (ndeltas + 2 > MAX_DELTAS) {
            if (flush_deltas(st, deltas, ndeltas) != 0)
                goto fail;
            ndeltas = 0;
        }
        if (k->target_id) {
            struct target_delta *d = delta_for(deltas, &ndeltas, MAX_DELTAS, k->target_id);
            d->clicks += !k->assignment_only;
            d->assigned += k->assigned;
        }
        if (k->rerouted && k->previous_target && k->assigned) {
            struct target_delta *d = delta_for(deltas, &ndeltas, MAX_DELTAS, k->previous_target);
            d->assigned--;
            d->rerouted++;
        }
    }
    if (flush_deltas(st, deltas, ndeltas) != 0)
        goto fail;
    result = store_commit(st);
    goto out;
fail:
    store_rollback(st);
out:
    for (size_t i = 0; i < nwants; i++)
        webhook_want_release(&wants[i]);
    return result;
}
