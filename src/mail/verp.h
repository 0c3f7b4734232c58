/*
 * verp: each message's own return path (variable envelope return path).
 * With MUSTER_BOUNCE_ADDRESS=local@domain a message's envelope sender is
 *   local+OUTBOX-SUPPORTER-MAC@domain
 * OUTBOX and SUPPORTER the decimal ids of the outbox row and its supporter,
 * MAC the first 20 hex digits (80 bits) of HMAC-SHA256 under the server
 * secret of "verp:OUTBOX-SUPPORTER". Digits, '-' and lower-case hex only: an
 * MTA that lower-cases (or upper-cases) local parts changes nothing. A bounce
 * sent back to it names its message without guessing, and nobody without the
 * secret can make one that names another supporter.
 */
#ifndef MUSTER_MAIL_VERP_H
#define MUSTER_MAIL_VERP_H

#include <stddef.h>
#include <stdint.h>

#define VERP_ADDRESS_MAX 320 /* a 32-character local part, 2 ids, the MAC, a 253-byte domain */

/* Writes the return path of (outbox_id, supporter_id) for base (validated by
 * config) into out. 0, or -1 when it does not fit. token_init must have run. */
int verp_address(const char *base, int64_t outbox_id, int64_t supporter_id, char *out, size_t n);

/* Looks through text for a return path of base (case-insensitively) whose MAC
 * is valid; the first one found fills *outbox_id and *supporter_id and
 * returns 1. 0 when none (a forged or damaged token counts as none). */
int verp_find(const char *base, const char *text, size_t len, int64_t *outbox_id,
              int64_t *supporter_id);

#endif
