/*
 * launches: the rules of the launch moment, for every backend: a campaign
 * launches once, and launching queues one reminder for every confirmed,
 * subscribed supporter who has none (so running it twice queues nothing
 * twice); the outbox leases of a sender that died on this host are taken
 * over at once instead of when they run out.
 */
#ifndef MUSTER_SERVICE_LAUNCHES_H
#define MUSTER_SERVICE_LAUNCHES_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Moves the launch moment to now when move_to_now and it has not launched,
 * marks the campaign launched and queues the reminders owed, in one
 * transaction. *queued gets the number added. */
int launches_launch(struct store *st, int64_t campaign_id, int move_to_now, int64_t now,
                    int64_t *queued);
/* Launches every campaign whose moment has come (the scheduler of `muster
 * serve`); *launched gets how many. */
int launches_run_due(struct store *st, int64_t now, size_t *launched);
/* Queues the mail steps that are due (called by launches_run_due): the
 * earlier reminders of the campaign file's "reminders" before the moment,
 * and after the launch the follow-up of "follow_up_after_minutes" to the
 * supporters who have not followed their link; each step once per campaign
 * (store_campaign_steps_done) and each mail once per supporter. */
int launches_queue_mail_steps(struct store *st, int64_t now);
/* Reminders a launch would queue now. */
int launches_owed(struct store *st, int64_t campaign_id, int64_t *owed);
/* Ends the leases of outbox owners that are dead processes on this host
 * (owner "host:pid:start", start the process start time, so a recycled pid
 * is not mistaken for the owner). Leases of other hosts run out by
 * themselves. Only for backends that are local (STORE_SUPPORTS_LOCAL_ONLY). */
int launches_reclaim_dead_leases(struct store *st, int64_t now);

#endif
