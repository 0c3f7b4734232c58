/*
 * loginlimit: failed-login backoff, in memory, shared by the server's threads.
 * It counts failures per key (login.c keys it on the source address, and on
 * the source address with the account) and refuses a key for a while once it
 * has failed often: the first few failures cost nothing, each one after them
 * doubles the wait, up to a cap (loginlimit_delay). A success is never
 * counted; it may clear its key. An attempt whose answer takes a while (the
 * password hash runs on a worker: loginlimit_begin, then loginlimit_end)
 * counts as a failure while it is in flight, so attempts sent all at once get
 * no further than the same attempts sent one after another. Bounded: a fixed table of
 * LOGINLIMIT_KEYS keys; when a key's neighbourhood is full, the entry with the fewest failures is
 * evicted. Keys are at most TOKEN_HASH_HEX characters (hash longer ones first); a longer key is
 * refused by loginlimit_failed.
 */
#ifndef MUSTER_HTTP_LOGINLIMIT_H
#define MUSTER_HTTP_LOGINLIMIT_H

#include <stdint.h>

struct loginlimit;

/* free_failures failures cost nothing; the next ones make the key wait
 * first_delay seconds, then twice that, and so on, at most max_delay.
 * A key's failures are forgotten forget_seconds after its last one. */
struct loginlimit *loginlimit_new(int free_failures, int first_delay, int max_delay,
                                  int forget_seconds);
void loginlimit_free(struct loginlimit *ll);
/* 1 when key may try at now, 0 while it must wait. */
int loginlimit_allowed(struct loginlimit *ll, const char *key, int64_t now);
/* Counts one failure of key at now. 0, or -1 when key is too long. */
int loginlimit_failed(struct loginlimit *ll, const char *key, int64_t now);
/* Begins an attempt of key at now: 1 when key may try (the attempt then
 * counts as in flight until loginlimit_end), 0 while it must wait, -1 when key
 * is too long (nothing counted for either). While attempts are in flight, a
 * new one may begin only when the key's failures and the attempts in flight
 * are all free ones (fewer than free_failures). */
int loginlimit_begin(struct loginlimit *ll, const char *key, int64_t now);
/* Ends an attempt that loginlimit_begin let through; failed counts it as a
 * failure at now (as loginlimit_failed). Call it once per begin that gave 1. */
void loginlimit_end(struct loginlimit *ll, const char *key, int64_t now, int failed);
/* Forgets key's failures (its owner just proved the password). */
void loginlimit_clear(struct loginlimit *ll, const char *key);

/* The schedule, pure: how many seconds a key waits after its failures-th
 * failure: 0 while failures < free_failures, then first_delay doubled once per
 * failure past that, capped at max_delay. */
int64_t loginlimit_delay(int failures, int free_failures, int first_delay, int max_delay);

#endif
