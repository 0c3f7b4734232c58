/*
 * webhook_events: which webhook events a campaign wants and what their
 * payloads say (docs/WEBHOOKS.md), decided once for every backend. An event
 * is queued inside the write transaction that records what happened (a
 * confirmation, a click), so it exists exactly when that did.
 */
#ifndef MUSTER_SERVICE_WEBHOOK_EVENTS_H
#define MUSTER_SERVICE_WEBHOOK_EVENTS_H

#include <stdint.h>

#include "campaign/campaign.h"

struct store;

/* What a campaign's stored file says about one event, read inside an open
 * write transaction. It stays true until that transaction ends (the caller
 * holds the write, and does not change the campaign itself), so a batch of
 * clicks reads it once per campaign instead of once per click. */
struct webhook_want {
    int64_t campaign_id;
    enum webhook_event event;
    char *slug; /* owned (webhook_want_release); NULL: the event is not wanted */
};
int webhook_events_want(struct store *st, int64_t campaign_id, enum webhook_event event,
                        struct webhook_want *out);
void webhook_want_release(struct webhook_want *w);

/* Queues the event when wanted (else does nothing): the payload names the
 * campaign, the time `at`, the supporter by an opaque id and, for clicks,
 * the target (target_id 0: none). Returns 0, or -1 (the caller rolls back). */
int webhook_events_queue_wanted(struct store *st, const struct webhook_want *w,
                                int64_t supporter_id, int64_t target_id, int64_t at);
/* webhook_events_want and webhook_events_queue_wanted in one. */
int webhook_events_queue(struct store *st, int64_t campaign_id, enum webhook_event event,
                         int64_t supporter_id, int64_t target_id, int64_t at);

#endif
