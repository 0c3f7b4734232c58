/*
 * app: the state `muster serve` shares between its threads: configuration,
 * the signal that wakes the mail sender, the pledge rate limiter, metrics
 * counters, each thread's store handle and campaign cache, and the reaper
 * thread that ends the HTTP threads' idle read snapshots.
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
    struct assigner *assigner;      /* the one-click path (campaign/assigner.h) */
    struct group_commit *committer; /* durable writes answered after their fsync */

    /* The HTTP threads' store handles, and the thread that ends their shared
     * read snapshots once they are APP_SNAPSHOT_MAX_AGE_US old and idle. */
    pthread_mutex_t snapshots_lock;
    pthread_cond_t snapshots_wake;
    struct store **thread_stores;
    size_t thread_store_count, thread_store_cap;
    int snapshots_open; /* one may be open: the reaper is watching */
    int reaper_stopping;
    pthread_t reaper;
};

/* How old a shared read snapshot may be when a click uses it (see
 * store_snapshot_enter): a change committed by another process (an erase, a
 * closed target, an applied campaign) reaches every click within this. */
#define APP_SNAPSHOT_MAX_AGE_US 1000

int app_init(struct app *app, const struct config *cfg);
void app_release(struct app *app);
/* Wakes the mail sender (a pledge or confirmation queued mail). */
void app_wake_sender(struct app *app);

/* This thread's store handle, opened on first use; NULL on failure (logged). */
struct store *app_thread_store(struct app *app);
/* Closes this thread's store handle (call before a thread exits). */
void app_thread_store_close(void);

/* The one-click path's read snapshot on this thread's store (st): reused by
 * the clicks of the next APP_SNAPSHOT_MAX_AGE_US, then ended by the next
 * click or, when none comes, by the reaper. 0 or -1; leave after every 0.
 * Every other request ends it first (server.c, before its handler runs). */
int app_snapshot_enter(struct app *app, struct store *st);
void app_snapshot_leave(struct store *st);

/* Campaigns come from campaign/cache.h (campaign_cache_get). */
#include "campaign/cache.h"

#endif
