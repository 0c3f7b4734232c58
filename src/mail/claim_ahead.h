/*
 * claim_ahead: a sender's next claim, made on a database connection of its
 * own while the sender streams the batch it holds. On a database server a
 * claim of 512 rows is milliseconds of the server's time; made ahead, the
 * relay's connections do not wait for it between batches. The claim is
 * store_outbox_claim's, unchanged: only its moment is earlier. Its lease
 * counts from that moment (claim_ahead_take says when it was decided), so a
 * group that starts late is renewed before it goes, as any late group is.
 *
 * Owns its connection and one thread. Not for SQLite (a second writer would
 * wait for the first's lock, and the claim runs the dead-lease check first).
 */
#ifndef MUSTER_MAIL_CLAIM_AHEAD_H
#define MUSTER_MAIL_CLAIM_AHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct claim_ahead;

/* Opens a connection to db (non-durable commits, as the sender's) and starts
 * the thread. NULL with err on failure. */
struct claim_ahead *claim_ahead_open(const char *db, char *err, size_t err_len);

/* Starts, in the background, the claim of up to max (at most
 * CLAIM_AHEAD_MAX) items due at now for owner, as store_outbox_claim. 0, or
 * -1 when a claim is already requested and not taken. */
#define CLAIM_AHEAD_MAX 512
int claim_ahead_request(struct claim_ahead *c, const char *owner, int64_t campaign_id,
                        int64_t now, int lease_seconds, size_t max);

/* Waits for the requested claim. 1 with its items (room for max; *n of
 * them), the moment its claim was decided (*decided_ms, before its
 * statement) and its now (*now): when one was requested for campaign_id.
 * 0 when none was (a claim for another campaign is handed back first), -1
 * when the claim failed (logged; nothing was claimed). */
int claim_ahead_take(struct claim_ahead *c, int64_t campaign_id, struct outbox_item *items,
                     size_t max, size_t *n, int64_t *decided_ms, int64_t *now);

/* Hands back the items of a claim requested and never taken (as unsent,
 * for the next claim: store_outbox_defer), stops the thread, closes. */
void claim_ahead_close(struct claim_ahead *c);

#endif
