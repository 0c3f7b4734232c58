/*
 * app: the state `muster serve` shares between its threads: configuration,
 * the signal that wakes the mail sender, the pledge rate limiter, the
 * failed-login limits and the dummy password hash of unknown organizers, metrics
 * counters, each thread's store handle and campaign cache, and the HTTP
 * threads' shared read snapshots.
 */
#ifndef MUSTER_HTTP_APP_H
#define MUSTER_HTTP_APP_H

#include <pthread.h>
#include <sodium.h>
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
    struct loginlimit *login_by_source;  /* failed logins per client address */
    struct loginlimit *login_by_account; /* per client address and account */
    /* Verified instead of an unknown organizer's hash, so that an unknown
     * address costs the same Argon2id work as a known one (pages/login.c). */
    char login_dummy_hash[crypto_pwhash_STRBYTES];
    struct app_metrics metrics;
    struct assigner *assigner;      /* the one-click path (service/assigner.h) */
    struct group_commit *committer; /* durable writes answered after their fsync */
};

/* How old a shared read snapshot may be when a click uses it (see
 * store_snapshot_enter): a change committed by another process (an erase, a
 * closed target, an applied campaign) reaches every click within this. On a
 * local database (SQLite) 1 ms: an open read transaction holds back the
 * WAL's checkpoint. On a database server (PostgreSQL) 50 ms: beginning and
 * ending one are two round trips to the server, which at 1 ms cost as much
 * as the clicks' own reads (docs/PERFORMANCE.md). */
#define APP_SNAPSHOT_MAX_AGE_US 1000
#define APP_SNAPSHOT_MAX_AGE_SERVER_US 50000

int app_init(struct app *app, const struct config *cfg);
void app_release(struct app *app);
/* Wakes the mail sender (a pledge or confirmation queued mail). */
void app_wake_sender(struct app *app);

/* This thread's store handle, opened on first use; NULL on failure (logged). */
struct store *app_thread_store(void);
/* Closes this thread's store handle (call before a thread exits). */
void app_thread_store_close(void);

/* The one-click path's read snapshot on this thread's store (st): reused by
 * the clicks of the next APP_SNAPSHOT_MAX_AGE_US (_SERVER_US), then ended by the next
 * click or by the thread's event loop (app_thread_snapshot_check). 0 or -1;
 * leave after every 0. Every other request ends it first (server.c, before
 * its handler runs). */
int app_snapshot_enter(struct store *st);
void app_snapshot_leave(struct store *st);
/* For an HTTP thread's event loop, between two rounds: ends this thread's
 * snapshot once it is APP_SNAPSHOT_MAX_AGE_US (_SERVER_US) old, or at once when idle is
 * set (the thread is about to wait for events). So a snapshot is never kept
 * by a thread that is not using it, without a thread that wakes every
 * millisecond to look (the reaper that did cost 1,000 wakeups a second). */
void app_thread_snapshot_check(int idle);

/* Campaigns come from service/cache.h (campaign_cache_get). */
#include "service/cache.h"

#endif
