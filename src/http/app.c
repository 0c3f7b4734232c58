/*
 * app: shared server state, per-thread store handles and campaign caches
 * (see app.h).
 */
#include "http/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/campaign.h"
#include "core/log.h"
#include "http/ratelimit.h"
#include "core/banned.h"

static const struct config *store_config;
static struct app *registry_app; /* the one app of `muster serve` */
static __thread struct store *thread_store;
static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;

/* ---- the thread stores and their shared read snapshots ---- */

static int register_store(struct app *app, struct store *st)
{
    pthread_mutex_lock(&app->snapshots_lock);
    if (app->thread_store_count == app->thread_store_cap) {
        size_t cap = app->thread_store_cap ? app->thread_store_cap * 2 : 8;
        struct store **grown = realloc(app->thread_stores, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&app->snapshots_lock);
            return -1;
        }
        app->thread_stores = grown;
        app->thread_store_cap = cap;
    }
    app->thread_stores[app->thread_store_count++] = st;
    pthread_mutex_unlock(&app->snapshots_lock);
    return 0;
}

/* After this the reaper no longer touches st. */
static void unregister_store(struct app *app, struct store *st)
{
    pthread_mutex_lock(&app->snapshots_lock);
    for (size_t i = 0; i < app->thread_store_count; i++) {
        if (app->thread_stores[i] == st) {
            app->thread_stores[i] = app->thread_stores[--app->thread_store_count];
            break;
        }
    }
    pthread_mutex_unlock(&app->snapshots_lock);
}

/* Sleeps while no snapshot is open; otherwise, every max age, ends the ones
 * that are old and idle (a busy one is ended by its own next click). */
static void *snapshot_reaper(void *arg)
{
    struct app *app = arg;
    pthread_mutex_lock(&app->snapshots_lock);
    while (!app->reaper_stopping) {
        if (!app->snapshots_open) {
            pthread_cond_wait(&app->snapshots_wake, &app->snapshots_lock);
            continue;
        }
        pthread_mutex_unlock(&app->snapshots_lock);
        struct timespec pause = {0, APP_SNAPSHOT_MAX_AGE_US * 1000L};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&app->snapshots_lock);
        int open = 0;
        for (size_t i = 0; i < app->thread_store_count; i++)
            open |= store_snapshot_expire(app->thread_stores[i], APP_SNAPSHOT_MAX_AGE_US);
        app->snapshots_open = open;
    }
    pthread_mutex_unlock(&app->snapshots_lock);
    return NULL;
}

int app_snapshot_enter(struct app *app, struct store *st)
{
    int rc = store_snapshot_enter(st, APP_SNAPSHOT_MAX_AGE_US);
    if (rc == 1) {
        pthread_mutex_lock(&app->snapshots_lock);
        if (!app->snapshots_open) {
            app->snapshots_open = 1;
            pthread_cond_signal(&app->snapshots_wake);
        }
        pthread_mutex_unlock(&app->snapshots_lock);
    }
    return rc < 0 ? -1 : 0;
}

void app_snapshot_leave(struct store *st)
{
    store_snapshot_leave(st);
}

/* Closes a thread's store when the thread (e.g. an MHD worker) exits. */
static void store_key_destroy(void *st)
{
    if (registry_app)
        unregister_store(registry_app, st);
    store_close(st);
}

static void store_key_create(void)
{
    pthread_key_create(&store_key, store_key_destroy);
}

int app_init(struct app *app, const struct config *cfg)
{
    memset(app, 0, sizeof *app);
    app->cfg = cfg;
    store_config = cfg;
    pthread_mutex_init(&app->lock, NULL);
    pthread_cond_init(&app->sender_wake, NULL);
    pthread_mutex_init(&app->snapshots_lock, NULL);
    pthread_cond_init(&app->snapshots_wake, NULL);
    app->pledge_limiter = ratelimit_new(cfg->pledge_limit, 3600);
    app->login_limiter = ratelimit_new(20, 900);
    if (!app->pledge_limiter || !app->login_limiter)
        return -1;
    if (pthread_create(&app->reaper, NULL, snapshot_reaper, app) != 0)
        return -1;
    registry_app = app;
    return 0;
}

void app_release(struct app *app)
{
    if (registry_app == app) {
        pthread_mutex_lock(&app->snapshots_lock);
        app->reaper_stopping = 1;
        pthread_cond_signal(&app->snapshots_wake);
        pthread_mutex_unlock(&app->snapshots_lock);
        pthread_join(app->reaper, NULL);
        registry_app = NULL;
    }
    free(app->thread_stores);
    pthread_mutex_destroy(&app->snapshots_lock);
    pthread_cond_destroy(&app->snapshots_wake);
    ratelimit_free(app->pledge_limiter);
    ratelimit_free(app->login_limiter);
    pthread_mutex_destroy(&app->lock);
    pthread_cond_destroy(&app->sender_wake);
}

void app_wake_sender(struct app *app)
{
    pthread_mutex_lock(&app->lock);
    app->sender_poke = 1;
    pthread_cond_broadcast(&app->sender_wake);
    pthread_mutex_unlock(&app->lock);
}

struct store *app_thread_store(struct app *app)
{
    if (thread_store)
        return thread_store;
    char err[256];
    if (store_open(store_config->db, &thread_store, err, sizeof err) != 0) {
        log_error("store.open", "error=\"%s\"", err);
        thread_store = NULL;
        return NULL;
    }
    if (register_store(app, thread_store) != 0) {
        log_error("store.open", "error=\"out of memory\"");
        store_close(thread_store);
        thread_store = NULL;
        return NULL;
    }
    pthread_once(&store_key_once, store_key_create);
    pthread_setspecific(store_key, thread_store);
    return thread_store;
}

void app_thread_store_close(void)
{
    if (thread_store) {
        pthread_setspecific(store_key, NULL);
        store_key_destroy(thread_store);
    }
    thread_store = NULL;
}
