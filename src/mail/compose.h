/*
 * compose: the three emails muster sends (confirmation, "you're in" with the
 * calendar file, reminder with the one-click link) and the calendar file
 * itself, for one supporter. Every link is absolute from MUSTER_BASE_URL.
 */
#ifndef MUSTER_MAIL_COMPOSE_H
#define MUSTER_MAIL_COMPOSE_H

#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

struct campaign;
struct config;

/* The calendar file (RFC 5545) for the supporter's campaign. */
int compose_ics(const struct campaign *c, const struct campaign_row *row,
                const struct supporter *s, const struct config *cfg, int64_t now,
                struct buf *out);

/* The whole RFC 5322 message of the given kind into out; the links it holds,
 * one per line, into links (for the maildir log). Returns 0 or -1. */
int compose_mail(enum mail_kind kind, const struct campaign *c, const struct campaign_row *row,
                 const struct supporter *s, const struct config *cfg, int64_t now,
                 struct buf *out, struct buf *links);

/* "<kind>.<campaign>.<supporter>.<mac>@<domain>" without brackets: stable per
 * supporter, campaign and kind, so a repeat carries the same Message-ID. */
void compose_message_id(enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                        const struct config *cfg, char out[160]);

#endif
