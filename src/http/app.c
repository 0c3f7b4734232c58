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
#include "http/loginlimit.h"
#include "http/ratelimit.h"
#include "core/banned.h"

static const struct config *store_config;
static __thread struct store *thread_store;
static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;

/* ---- the thread stores and their shared read snapshots ---- */

static int64_t snapshot_max_age_us(struct store *st)
{
    return store_supports(st, STORE_SUPPORTS_LOCAL_ONLY) ? APP_SNAPSHOT_MAX_AGE_US
                                                         : APP_SNAPSHOT_MAX_AGE_SERVER_US;
}

int app_snapshot_enter(struct store *st)
{
    return store_snapshot_enter(st, snapshot_max_age_us(st)) < 0 ? -1 : 0;
}

void app_snapshot_leave(struct store *st)
{
    store_snapshot_leave(st);
}

void app_thread_snapshot_check(int idle)
{
    if (!thread_store)
        return;
    if (idle)
        store_snapshot_end(thread_store);
    else
        store_snapshot_expire(thread_store, snapshot_max_age_us(thread_store));
}

/* Closes a thread's store when the thread (e.g. an MHD worker) exits. */
static void store_key_destroy(void *st)
{
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
    app->pledge_limiter = ratelimit_new(cfg->pledge_limit, 3600);
    /* Per address and account: 5 failures free, then 15 s, 30 s, ... at most
     * 15 minutes; per address over all accounts: 20 free, the same waits.
     * Forgotten after an hour without a failure. */
    app->login_by_account = loginlimit_new(5, 15, 900, 3600);
    app->login_by_source = loginlimit_new(20, 15, 900, 3600);
    if (!app->pledge_limiter || !app->login_by_account || !app->login_by_source)
        return -1;
    /* The parameters cli/cmd_organizer.c hashes real passwords with. */
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    int rc =
        crypto_pwhash_str(app->login_dummy_hash, (const char *)secret, sizeof secret,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(secret, sizeof secret);
    if (rc != 0) {
        log_error("app.init", "%s", "out of memory while hashing the dummy password");
        return -1;
    }
    return 0;
}

void app_release(struct app *app)
{
    ratelimit_free(app->pledge_limiter);
    loginlimit_free(app->login_by_account);
    loginlimit_free(app->login_by_source);
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

struct store *app_thread_store(void)
{
    if (thread_store)
        return thread_store;
    char err[256];
    if (store_open(store_config->db, &thread_store, err, sizeof err) != 0) {
        log_error("store.open", "error=\"%s\"", err);
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
