/*
 * log_keeper: keeps the store's write-ahead log under a bound while `serve`
 * writes. SQLite's own checkpoints (PASSIVE, after a commit that left 1000
 * pages in the log) copy the log into the database but never wait, and the
 * log starts over from its beginning only when a writer happens to begin
 * while every frame is copied and no reader holds an older snapshot; under
 * steady writes from several connections that moment rarely comes, so the
 * file grows by every commit (by gigabytes in a minute of pledges) and a
 * killed process leaves it behind. The keeper is a thread with its own
 * handle: every LOG_KEEPER_TICK_MS it looks at the log's size and, once it
 * passes half the bound, empties it (store_log_trim: new writers wait, for
 * milliseconds, while it finishes). A backend without such a log needs no
 * keeper: the thread then ends at once.
 */
#ifndef MUSTER_STORE_LOG_KEEPER_H
#define MUSTER_STORE_LOG_KEEPER_H

#include <stddef.h>
#include <stdint.h>

#define LOG_KEEPER_TICK_MS 10
/* How long one trim may wait for the writer of the moment and for readers
 * of older snapshots; new writers wait behind it meanwhile. Short first: a
 * thread may hold a snapshot while it waits to write on another handle (the
 * one-click path takes a place under a cap that way), and would wait for
 * the trim that waits for it. Once the log is past half the bound by a
 * quarter of the rest (5/8 of it), the long wait: readers are then let
 * finish whatever it costs. */
#define LOG_KEEPER_SHORT_WAIT_MS 50
#define LOG_KEEPER_WAIT_MS 1000

struct log_keeper;

/* Opens its own handle on db_path and starts the thread; limit_bytes is the
 * bound the log must stay under. NULL with a reason in err when the handle
 * or the thread could not be made. */
struct log_keeper *log_keeper_start(const char *db_path, int64_t limit_bytes, char *err,
                                    size_t err_len);
/* Stops the thread, closes its handle and frees k (NULL: nothing). */
void log_keeper_stop(struct log_keeper *k);

#endif
