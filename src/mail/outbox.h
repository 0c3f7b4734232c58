/*
 * outbox: the sender. It claims due mail from the store's outbox (a lease per
 * item, so two senders never send the same message and a dead sender's
 * claims are taken over), builds each message, hands a batch to the
 * transport, and commits each outcome the moment the relay answers: the only
 * window for a repeat is between the relay's 250 and that commit, and a
 * repeat carries the same Message-ID. Used by `muster serve` (a thread) and
 * `muster launch` (in the foreground).
 */
#ifndef MUSTER_MAIL_OUTBOX_H
#define MUSTER_MAIL_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct app_metrics;

struct sender_counts {
    int64_t sent;
    int64_t failed;   /* permanent failures */
    int64_t deferred; /* temporary failures, retried later */
    int64_t cancelled;
    int64_t suppressed;       /* not sent: the recipient is on the suppression list */
    /* held back by the pacing of the recipient's domain (MUSTER_DOMAIN_LIMITS)
     * and put back for a later claim, no attempt counted; paced_until: the
     * latest time (s) one was put back to */
    int64_t paced;
    int64_t paced_until;
    int consecutive_failures; /* temp failures in a row (relay trouble) */
    char last_reply[256];
};

struct sender;

/* Returns NULL with a message in err when the transport cannot be set up. */
struct sender *sender_open(const struct config *cfg, struct store *st, char *err, size_t n);
void sender_close(struct sender *s);
/* Counters are added to metrics as well, when set (serve). */
void sender_set_metrics(struct sender *s, struct app_metrics *metrics);

/* Claims up to max due items (of campaign_id, or any when 0), sends them and
 * records the outcomes. *claimed gets the number claimed (0: nothing due).
 * Returns 0, or -1 on a store error. */
int sender_run_batch(struct sender *s, int64_t campaign_id, size_t max, int64_t now,
                     struct sender_counts *counts, size_t *claimed);

/* Sends the campaign's reminder as a test to address now, through the
 * transport and not the outbox (compose_test_reminder): nothing is queued,
 * claimed or counted. Returns 0 when the relay took it; else -1 with the
 * reason (an invalid address, the relay's reply) in err. */
int sender_send_test(struct sender *s, int64_t campaign_id, const char *address, int64_t now,
                     char *err, size_t n);

/* Seconds to wait before retry number `attempt` (1-based): 2, 4, 8, ... capped
 * at 300, with up to +50 % jitter. */
int64_t sender_backoff_seconds(int attempt);

#endif
