/*
 * store_webhooks: the webhook_events table (docs/WEBHOOKS.md). An event is
 * queued inside the transaction that records what happened (a confirmation,
 * a click), so it exists exactly when that did; the sender of `muster serve`
 * claims due events with a lease, like the mail outbox, and records each
 * outcome in its own commit. Return values as in store.h.
 */
#ifndef MUSTER_STORE_STORE_WEBHOOKS_H
#define MUSTER_STORE_STORE_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/campaign.h"

struct store;

/* Call inside an open write transaction. Queues `event` when the campaign's
 * stored file has a webhook for it (else does nothing): the payload names the
 * campaign, the time `at`, the supporter by an opaque id and, for clicks, the
 * target (target_id 0: none). Returns 0, or -1 (the caller rolls back). */
int store_webhook_enqueue(struct store *st, int64_t campaign_id, enum webhook_event event,
                          int64_t supporter_id, int64_t target_id, int64_t at);

/* What a campaign's stored file says about one event, read inside an open
 * write transaction. It stays true until that transaction ends: the caller
 * holds the write lock, so no other connection can change the campaign, and
 * the caller does not change it itself. store_record_clicks reads it once per
 * campaign per batch instead of once per click. */
struct webhook_want {
    int64_t campaign_id;
    enum webhook_event event;
    char *slug; /* owned (webhook_want_release); NULL: the event is not wanted */
};
int store_webhook_want(struct store *st, int64_t campaign_id, enum webhook_event event,
                       struct webhook_want *out);
void webhook_want_release(struct webhook_want *w);
/* store_webhook_enqueue with the campaign's answer already read (in the same
 * transaction): does nothing when the event is not wanted. */
int store_webhook_enqueue_wanted(struct store *st, const struct webhook_want *w,
                                 int64_t supporter_id, int64_t target_id, int64_t at);

struct webhook_delivery {
    int64_t id;
    int64_t campaign_id;
    enum webhook_event event;
    char *payload; /* the JSON body, caller frees (webhook_delivery_release) */
    size_t payload_len;
    int attempts; /* including the one just claimed */
};
void webhook_delivery_release(struct webhook_delivery *d);

/* Claims up to max due pending events for owner until now + lease_seconds
 * (an expired lease is taken over). *n gets the number claimed. */
int store_webhook_claim(struct store *st, const char *owner, int64_t now, int lease_seconds,
                        struct webhook_delivery *items, size_t max, size_t *n);
/* Outcomes: delivered (2xx); try again at next_at; given up or refused. */
int store_webhook_sent(struct store *st, int64_t id, int status, int64_t now);
int store_webhook_retry(struct store *st, int64_t id, int64_t next_at, int status,
                        const char *error);
int store_webhook_failed(struct store *st, int64_t id, int64_t now, int status, const char *error);
/* Gives a claim back without counting the attempt (the sender is stopping). */
int store_webhook_release(struct store *st, int64_t id);

#endif
