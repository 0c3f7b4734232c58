/*
 * suppression: the rules of the suppression list (docs/DELIVERABILITY.md,
 * "Bounces, complaints and the suppression list"), once for every backend.
 * What a bounce, a complaint or a provider's event says about an address
 * (suppression_report), whether an address may get mail
 * (suppression_check), and an organizer's own additions and removals.
 *
 * An address is compared lower-cased whole (ASCII), as supporters' addresses
 * are: "Ann@Example.org" and "ann@example.org" are one entry. The store keeps
 * it with a keyed hash of it (HMAC-SHA256 under the server secret), by which
 * it is found; erasing a person (`muster supporter erase`) forgets the
 * address but keeps the hash, so an erased address stays suppressed without
 * being kept. token_init must have run (the key is the server secret's).
 */
#ifndef MUSTER_SERVICE_SUPPRESSION_H
#define MUSTER_SERVICE_SUPPRESSION_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_suppression.h"

struct store;

/* Temporary failures suppress once SUPPRESSION_TEMPORARY_LIMIT of them fall
 * within SUPPRESSION_TEMPORARY_DAYS (counted from the first of the window). */
#define SUPPRESSION_TEMPORARY_LIMIT 3
#define SUPPRESSION_TEMPORARY_DAYS 7
/* A stored reason is cut to this many bytes (at a character boundary). */
#define SUPPRESSION_REASON_MAX 500
/* The longest address taken (RFC 5321's path limit less its brackets). */
#define SUPPRESSION_ADDRESS_MAX 254

/* What a report says about an address. */
enum suppression_report_kind {
    SUPPRESSION_REPORT_PERMANENT, /* a permanent failure (5.x.x, hard bounce) */
    SUPPRESSION_REPORT_TEMPORARY, /* a temporary failure (4.x.x): counted */
    SUPPRESSION_REPORT_COMPLAINT, /* an ARF / feedback-loop complaint */
};

/* Records one report about ADDRESS (compared lower-cased whole: above). A
 * permanent failure or a complaint suppresses at once; a temporary failure
 * is counted and suppresses after SUPPRESSION_TEMPORARY_LIMIT within
 * SUPPRESSION_TEMPORARY_DAYS. CAMPAIGN_ID is 0 when unknown; REASON is the
 * report's own words (status code + diagnostic; may be NULL), stored with
 * control characters as spaces and cut to SUPPRESSION_REASON_MAX, never
 * rendered unescaped. A report about an address already on the list changes
 * nothing there (the first entry stays, and is counted once in the
 * campaign's rates). A complaint that adds an entry for a campaign may
 * pause its launch (SUPPRESSION_PAUSE_MIN_MAILS, below); the guard's own
 * store failure is logged at error level and does not undo the entry.
 * *SUPPRESSED (may be NULL) says whether the address is
 * suppressed after it. Returns 0, or -1 on a store error (logged) or when
 * ADDRESS is not an address (logged; nothing stored). */
int suppression_report(struct store *st, const char *address, enum suppression_report_kind kind,
                       const char *reason, int64_t campaign_id, int64_t now, int *suppressed);
/* 1 when ADDRESS is suppressed, 0 when not (an invalid address is not on
 * the list), -1 on a store error. */
int suppression_check(struct store *st, const char *address);
/* suppression_check for n addresses at once (NULL: an erased one, never
 * suppressed): suppressed[i] is 1 or 0. 0, or -1 on a store error. */
int suppression_check_many(struct store *st, const char *const *addresses, size_t n,
                           int *suppressed);

/* ADDRESS as it is compared: surrounding spaces and one pair of angle
 * brackets dropped, ASCII lower-cased. 0, or -1 when it is not an address
 * (empty, over SUPPRESSION_ADDRESS_MAX, no '@' with text on both sides, a
 * space or a control character in it). */
int suppression_normalize(const char *address, char out[SUPPRESSION_ADDRESS_MAX + 1]);
/* The key an entry is found by: hex HMAC-SHA256 of the normalized address
 * under the server secret. 0, or -1 when ADDRESS is not an address. */
int suppression_key(const char *address, char key[SUPPRESSION_KEY_HEX + 1]);

/* An organizer's addition (kind manual). *added (may be NULL) is 0 when the
 * address was already on the list (its entry unchanged). 0; -1 on a store
 * error or an invalid address (logged). */
int suppression_add_manual(struct store *st, const char *address, const char *reason, int64_t now,
                           int *added);
/* Takes the address off the list (with its count of temporary failures).
 * *removed (may be NULL) is 0 when it was not on it. */
int suppression_remove(struct store *st, const char *address, int *removed);
/* Erasure: the entry of ADDRESS, if any, forgets the address and keeps its
 * key (the address stays suppressed). Call inside the erase's transaction. */
int suppression_forget_address(struct store *st, const char *address);

/* The complaint rate the big providers hold senders under (0.3 %, Gmail's
 * and Yahoo's bulk-sender rules since 2024), as a fraction. */
#define SUPPRESSION_COMPLAINT_LIMIT 0.003
/* The complaint guard (suppression_report): a complaint that adds an entry
 * for a campaign whose complaint rate is then over SUPPRESSION_COMPLAINT_LIMIT
 * pauses its launch (launches_pause, by "muster", saying why), once the
 * campaign has sent at least this many mails: below it one complaint would
 * be over the line. A launch already paused is left as it is; after an
 * organizer resumes it, only a later complaint that adds an entry (a new
 * address) and is still over the line pauses it again. */
#define SUPPRESSION_PAUSE_MIN_MAILS 1000

/* A campaign's delivery numbers (docs/DELIVERABILITY.md): its mails of
 * every kind sent, those not sent because the recipient was suppressed, the
 * bounce and complaint entries added for it (a report about an address
 * already listed is not counted again; a removal lowers nothing), and the
 * rates over the mails sent (0 while none was sent). */
struct suppression_rates {
    int64_t mails_sent;
    int64_t mails_suppressed;
    int64_t bounces;
    int64_t complaints;
    double bounce_rate;        /* bounces / mails_sent */
    double complaint_rate;     /* complaints / mails_sent */
    int complaints_over_limit; /* complaint_rate > SUPPRESSION_COMPLAINT_LIMIT */
};
int suppression_rates(struct store *st, int64_t campaign_id, struct suppression_rates *out);
/* The campaign's complaint rate (a fraction) and whether it crossed
 * SUPPRESSION_COMPLAINT_LIMIT: what an automatic pause asks. 0, or -1 on a
 * store error. */
int suppression_complaint_rate(struct store *st, int64_t campaign_id, double *rate,
                               int *over_limit);

/* The slugs of the campaigns a walk of the list names (cli and dashboard
 * listings), read as they come: one read per change of campaign. */
struct suppression_slugs {
    struct store *st;
    int64_t cached_id;
    char cached_slug[128];
    int failed; /* a read failed: that entry's slug was given as "?" */
};

/* The slug of campaign id: "" for 0, "(removed)" for one that is gone, "?"
 * (and s->failed set) when the store failed. Valid until the next call. */
const char *suppression_campaign_slug(struct suppression_slugs *s, int64_t id);

#endif
