/*
 * app: the state `muster serve` shares between its threads: configuration,
 * the signal that wakes the mail sender, the pledge rate limiter, metrics
 * counters, and each thread's store handle and campaign cache.
 */
#ifndef MUSTER_HTTP_APP_H
#define MUSTER_HTTP_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/metrics.h"
#include "store/store.h"

struct campaign;


struct app {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t sender_wake;
    int sender_poke;
    atomic_int stopping;
    struct ratelimit *pledge_limiter;
    struct ratelimit *login_limiter; /* failed-login budget per IP and account */
    struct app_metrics metrics;
    struct assigner *assigner; /* the one-click path (campaign/assigner.h) */
    struct group_commit *committer; /* durable writes answered after their fsync */
};

int app_init(struct app *app, const struct config *cfg);
void app_release(struct app *app);
/* Wakes the mail sender (a pledge or confirmation queued mail). */
void app_wake_sender(struct app *app);

/* This thread's store handle, opened on first use; NULL on failure (logged). */
struct store *app_thread_store(struct app *app);
/* Closes this thread's store handle (call before a thread exits). */
void app_thread_store_close(void);

/* Campaigns come from campaign/cache.h (campaign_cache_get). */
#include "campaign/cache.h"

#endif
