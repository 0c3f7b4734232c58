/*
 * assigner: the one-click path's state in `muster serve`. Assignments are
 * decided in memory, under one lock per campaign, so a click to a target
 * without a cap costs no write transaction; each click is queued and a
 * writer thread commits the queue in batches (group commit,
 * synchronous=NORMAL). What a crash can lose: the clicks answered in the last
 * moments before it (the queue not yet written: at most the 20 ms the writer
 * lets a small group gather, plus the batch being written); a supporter
 * whose assignment was lost is assigned again at the next click.
 *
 * Under a cap the database is the authority: a new assignment to a capped
 * target first takes its place there (store_place_take, one short write
 * transaction on the assigner's own handle), so caps hold across processes;
 * a target found full is marked so and the pick is made again. A place taken
 * is never lost to a crash: the assignment is committed with it.
 *
 * A change made by another process (target closed, campaign applied) bumps
 * the campaign's revision; the next click sees it and reloads the targets'
 * states, keeping the counts it holds for targets without a cap (they
 * include clicks not yet written) and reading the places of capped ones.
 */
#ifndef MUSTER_SERVICE_ASSIGNER_H
#define MUSTER_SERVICE_ASSIGNER_H

#include <stddef.h>
#include <stdint.h>

struct campaign;
struct campaign_row;
struct store;
struct supporter;

struct assigner;

struct click_outcome {
    int64_t target_id; /* 0: nobody assigned (all mode, or no open target with room) */
    char target_key[65];
    int rerouted;
};

/* Starts the writer thread on its own connection to db_path. */
struct assigner *assigner_start(const char *db_path, char *err, size_t err_len);
/* Writes what is queued, stops the writer, frees everything. */
void assigner_stop(struct assigner *a);

/* What a decision leaves behind. */
enum assigner_mode {
    ASSIGNER_PEEK,   /* HEAD: decide as a click would, change and record nothing */
    ASSIGNER_CLICK,  /* a followed link: the assignment and the click are kept */
    ASSIGNER_REVIEW, /* ?review=1: a new assignment is kept, no click is counted */
};

/* Decides the supporter's target for a click (st: the calling thread's store,
 * used to load target states) and does what mode says. Returns 0, or -1 when
 * the targets could not be loaded. */
int assigner_click(struct assigner *a, struct store *st, const struct campaign *c,
                   const struct campaign_row *row, const struct supporter *s,
                   enum assigner_mode mode, int64_t now, struct click_outcome *out);

/* The supporter reported that the target with key `reported` did not accept
 * their action: when it is the one they are assigned, they move at once to
 * the next open target (the fallback order after it, then any open target),
 * as if it had closed for them; the move is kept without counting a click.
 * out says where they are now (target_id 0: nowhere open). Returns 0 or -1. */
int assigner_move_reporter(struct assigner *a, struct store *st, const struct campaign *c,
                           const struct campaign_row *row, const struct supporter *s,
                           const char *reported, int64_t now, struct click_outcome *out);

/* The target this process assigned the supporter to (including clicks not
 * yet written), or 0 when it assigned them none: then the store's
 * supporters.assigned_target is the answer. */
int64_t assigner_assigned(struct assigner *a, int64_t campaign_id, int64_t supporter_id);

#endif
