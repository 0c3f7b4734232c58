/*
 * store_inspect: read-mostly questions about what the store holds, for tests
 * and operators, that the product itself never needs to ask (store.h covers
 * those): how many rows of each kind there are, the outbox and webhook rows
 * with their states and stored replies, a supporter found by address, and the
 * write-ahead log. Each backend answers them; one function per question, so a
 * new backend adds one small function each. The end-to-end tests ask them
 * through tests/tools/store_inspect.c instead of opening the database.
 *
 * The fault injections at the end are for tests only: they put the store in
 * states the product never makes itself. Return values as in store.h.
 */
#ifndef MUSTER_STORE_STORE_INSPECT_H
#define MUSTER_STORE_STORE_INSPECT_H

#include <stdint.h>

#include "store/store.h"

/* Rows of each kind, over every campaign (erased supporters count). */
struct store_inspect_counts {
    int64_t campaigns;
    int64_t supporters;
    int64_t outbox;
    int64_t clicks;
    int64_t webhook_events;
};
int store_inspect_counts(struct store *st, struct store_inspect_counts *out);

/* The id of the supporter who pledged with this address (matched
 * case-insensitively), the first in any campaign; STORE_NOT_FOUND when there
 * is none or the person was erased. store_supporter_by_id has the rest. */
int store_inspect_supporter_id(struct store *st, const char *email, int64_t *id);

/* One outbox row. The strings are valid only during the callback; owner and
 * last_reply are NULL when unset. */
struct store_inspect_outbox_row {
    int64_t id;
    enum mail_kind kind;
    int64_t campaign_id;
    int64_t supporter_id;
    const char *state; /* pending | sent | failed | cancelled */
    const char *owner;
    int64_t lease_until;
    int attempts;
    int64_t next_at;
    int64_t created_at;
    int64_t sent_at;
    const char *last_reply;
};
typedef int (*store_inspect_outbox_fn)(void *ctx, const struct store_inspect_outbox_row *row);
/* Calls row for every outbox row in the order they were queued; kind 0: any
 * kind; email NULL: any supporter, else the supporter with that address
 * (matched case-insensitively, as a pledge matches it). A non-zero return
 * from row stops the walk. */
int store_inspect_outbox(struct store *st, enum mail_kind kind, const char *email,
                         store_inspect_outbox_fn row, void *ctx);

/* One webhook_events row (store_webhooks.h); strings as above, owner and
 * last_error NULL when unset. */
struct store_inspect_webhook_row {
    int64_t id;
    int64_t campaign_id;
    const char *event;
    const char *state; /* pending | sent | failed */
    int attempts;
    int64_t next_at;
    const char *owner;
    int64_t lease_until;
    int last_status;
    const char *last_error;
    int64_t created_at;
    int64_t done_at;
};
typedef int (*store_inspect_webhook_fn)(void *ctx, const struct store_inspect_webhook_row *row);
/* Calls row for every webhook event in the order they were queued. */
int store_inspect_webhook_events(struct store *st, store_inspect_webhook_fn row, void *ctx);

/* Moves everything in the write-ahead log into the database and empties the
 * log, as far as no reader's snapshot prevents it. applies is 0 for a
 * backend without such a log (the rest is then 0); busy is 1 when a reader
 * kept the log from being emptied; log_bytes is the log's size afterwards. */
struct store_inspect_checkpoint {
    int applies;
    int busy;
    int64_t log_frames;
    int64_t moved_frames;
    int64_t log_bytes;
};
int store_inspect_checkpoint(struct store *st, struct store_inspect_checkpoint *out);

/* The database's own check of its structure (SQLite's PRAGMA
 * integrity_check): applies is 0 for a backend without one; ok is 1 when it
 * found nothing, else problems gets its findings, one per line. */
struct store_inspect_integrity {
    int applies;
    int ok;
};
int store_inspect_integrity(struct store *st, struct store_inspect_integrity *out,
                            struct buf *problems);

/* ---- fault injection, for tests only ---- */

/* Stores new_email as the address of every supporter whose address matches
 * email (case-insensitively), leaving the lowercased copy the pledges match
 * on: what an older version or a hand edit might have left. *changed gets the
 * number of supporters changed. */
int store_inspect_set_email(struct store *st, const char *email, const char *new_email,
                            int64_t *changed);

/* Sets the lease of every claimed, pending outbox row to lease_until (the
 * owner stays), as if the clock had moved; *changed gets the number of rows. */
int store_inspect_set_leases(struct store *st, int64_t lease_until, int64_t *changed);

#endif
