/*
 * ratelimit: a fixed-window counter per key (a client IP), in memory, shared by
 * the server's threads. Bounded: at most RATELIMIT_KEYS keys are tracked;
 * when full, the oldest window is evicted.
 */
#ifndef MUSTER_HTTP_RATELIMIT_H
#define MUSTER_HTTP_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* limit events per window_seconds; limit 0 means no limit. */
struct ratelimit *ratelimit_new(int limit, int window_seconds);
void ratelimit_free(struct ratelimit *rl);
/* Counts one event; returns 1 when allowed, 0 when over the limit. */
int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now);

#endif
