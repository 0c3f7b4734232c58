/*
 * launches: the rules of the launch moment, for every backend: a campaign
 * launches once, and launching queues one reminder for every confirmed,
 * subscribed supporter who has none (so running it twice queues nothing
 * twice); the outbox leases of a sender that died on this host are taken
 * over at once instead of when they run out. An organizer may pause a launch
 * (every sender on the database stops claiming its mail) and resume it; a
 * launch whose window ended before anything launched it is "missed": said
 * at error level, shown in the stats, and sent only by a manual launch. Its
 * progress is read from the store, whoever sends.
 */
#ifndef MUSTER_SERVICE_LAUNCHES_H
#define MUSTER_SERVICE_LAUNCHES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

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

/* Pauses the launch of the campaign: no sender, in any process, claims its
 * mail (but confirmations and welcomes) until launches_resume. by and
 * reason may be "" (they are shown in the stats); *changed (may be NULL)
 * is 0 when it was paused already. 0, STORE_NOT_FOUND, or -1 (also for a
 * by or reason that launches_text_problem refuses). */
int launches_set_pause(struct store *st, int64_t campaign_id, int paused, const char *by,
                       const char *reason, int64_t now, int *changed);
/* launches_set_pause by muster itself (the complaint-rate guard), now. */
int launches_pause(struct store *st, int64_t campaign_id, const char *reason);
int launches_resume(struct store *st, int64_t campaign_id, const char *by);
/* NULL when text may be stored as who paused or why (at most max bytes of
 * UTF-8 without control characters), else what is wrong with it. */
const char *launches_text_problem(const char *text, size_t max);

/* Where a campaign's launch stands at now. */
enum launch_phase {
    LAUNCH_SCHEDULED, /* its moment has not come */
    LAUNCH_DUE,       /* moment come, window open, not launched yet: the scheduler's */
    LAUNCH_MISSED,    /* the window ended and nothing launched it */
    LAUNCH_SENDING,   /* launched, reminders still owed */
    LAUNCH_SENT,      /* launched, none owed */
};
struct launch_state {
    enum launch_phase phase;
    struct campaign_pause pause;   /* pause.paused_at 0: not paused */
    int64_t sent, failed, pending; /* the campaign's reminders, by whoever sent them */
    int64_t ready;                 /* pending and not waiting for a retry */
};
/* "scheduled", "due", "missed", "sending", "sent". */
const char *launches_phase_name(enum launch_phase phase);
/* The phase of row's launch at now, given how many reminders are pending. */
enum launch_phase launches_phase(const struct campaign_row *row, int64_t now, int64_t pending);
/* The campaign's launch state, read from the store. */
int launches_state(struct store *st, const struct campaign_row *row, int64_t now,
                   struct launch_state *out);

/* The scheduler's look for missed launches: each campaign whose window
 * ended without a launch is logged at error level once per process (a
 * server that starts logs every one it finds). *missed gets how many there
 * are. */
int launches_report_missed(struct store *st, int64_t now, size_t *missed);

#endif
