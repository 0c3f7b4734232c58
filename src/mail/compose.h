/*
 * compose: the three emails muster sends (confirmation, "you're in" with the
 * calendar file, reminder with the one-click link) and the calendar file
 * itself, for one supporter. Every link is absolute from MUSTER_BASE_URL.
 * It owns the table of mail kinds: what differs per enum mail_kind (name,
 * composer, unsubscribe footer) is one row of it, and a kind without a row
 * is never composed.
 */
#ifndef MUSTER_MAIL_COMPOSE_H
#define MUSTER_MAIL_COMPOSE_H

#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

struct campaign;
struct config;

/* The calendar file (RFC 5545) for the supporter's campaign. */
int compose_ics(const struct campaign *c, const struct campaign_row *row, const struct supporter *s,
                const struct config *cfg, int64_t now, struct buf *out);

/* A mail being composed (compose.c). */
struct mail_draft;

/* What differs between the kinds of mail: one row per enum mail_kind
 * (store/store.h) in compose.c's table, which does not compile without one. */
struct mail_kind_ops {
    const char *name; /* "confirm", "welcome", "reminder": in logs and Message-IDs */
    /* Appends the kind's subject, text, HTML and main link to the draft and sets
     * its attachment and List-Unsubscribe. Returns 0 or -1. */
    int (*compose)(struct mail_draft *d);
    int unsubscribe_footer;     /* ends with the unsubscribe link (also logged) */
    int cancel_if_unsubscribed; /* not owed any more once the supporter unsubscribed */
    int shows_held_change;      /* composed with the supporter's held change, when there is
                                   one (store_pledge_load_change, by the sender) */
    int words; /* 1 + the enum campaign_mail whose organizer's words (the campaign file's
                  "mails") it uses; 0: muster's words only */
};

/* The kind's row, or NULL for a value that is no kind of mail (an outbox row
 * of kind 0 or 9: damaged, or written by a newer muster). */
const struct mail_kind_ops *mail_kind_lookup(enum mail_kind kind);

/* The whole RFC 5322 message of the given kind into out; the links it holds,
 * one per line, into links (for the maildir log). Returns 0, or -1 (also for
 * an unknown kind, with nothing appended). */
int compose_mail(enum mail_kind kind, const struct campaign *c, const struct campaign_row *row,
                 const struct supporter *s, const struct config *cfg, int64_t now, struct buf *out,
                 struct buf *links);

/* The same for a mail of a per-variant kind (store/store.h,
 * mail_kind_per_variant): its Message-ID names the variant too, so each
 * earlier reminder and each notice of a moved moment has its own. */
int compose_mail_variant(enum mail_kind kind, int64_t variant, const struct campaign *c,
                         const struct campaign_row *row, const struct supporter *s,
                         const struct config *cfg, int64_t now, struct buf *out, struct buf *links);
int compose_message_id_variant(enum mail_kind kind, int64_t variant, int64_t campaign_id,
                               int64_t supporter_id, const struct config *cfg, char out[160]);
/* A test of the reminder (`muster launch SLUG --test ADDRESS`): the
 * reminder as a supporter of the campaign gets it (template, language,
 * headers), to address, with "[TEST] " before its subject, a first line that
 * says it is a test, a Message-ID of its own (each test is a new message), and
 * links to /t/ (TOKEN_TEST, the campaign's id as key) that open the action
 * and count nothing. Returns 0, or -1 (address invalid, out of memory). */
int compose_test_reminder(const struct campaign *c, const struct campaign_row *row,
                          const struct config *cfg, const char *address, int64_t now,
                          struct buf *out, struct buf *links);

/* "<kind>.<campaign>.<supporter>.<mac>@<domain>" without brackets: stable per
 * supporter, campaign and kind, so a repeat carries the same Message-ID.
 * Returns 0, or -1 for an unknown kind (out untouched). */
int compose_message_id(enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                       const struct config *cfg, char out[160]);

/* The campaign and supporter of a Message-ID this server made (with or
 * without its angle brackets, as a provider's event echoes it): 0 and the
 * ids when its MAC is ours, -1 for any other (a test send's, another
 * server's, a relay's own, anything malformed). */
int compose_message_id_parse(const char *message_id, const struct config *cfg,
                             int64_t *campaign_id, int64_t *supporter_id);

/* The calendar event's UID (RFC 5545 3.8.4.7), "launch-<mac>@<domain>": a
 * 128-bit HMAC under the server's secret of the campaign and supporter ids,
 * so it is the same in the mail and at every download, and no other muster
 * server issues it. */
void compose_calendar_uid(int64_t campaign_id, int64_t supporter_id, const struct config *cfg,
                          char out[200]);

#endif
