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

/* Queues one delivery (call inside the write transaction that records
 * what happened, so the event exists exactly when that did). Whether the
 * campaign wants the event and what the payload says are decided above the
 * store (service/webhook_events.c). */
int store_webhook_insert(struct store *st, int64_t campaign_id, enum webhook_event event,
                         const char *payload, int64_t at);

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
