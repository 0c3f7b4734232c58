/*
 * log_keeper: the thread that keeps the write-ahead log under its bound
 * (see log_keeper.h).
 */
#include "store/log_keeper.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "store/store.h"
#include "core/banned.h"

/* At most one warning of each kind per this many ms, however often the
 * condition is seen. */
#define WARN_EVERY_MS 1000

struct log_keeper {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    struct store *store;
    int64_t limit_bytes;
    pthread_t thread;
};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps one tick or until stopped; 1 when stopping. */
static int keeper_sleep(struct log_keeper *k)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += LOG_KEEPER_TICK_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->lock);
    while (!k->stopping) {
        int rc = pthread_cond_timedwait(&k->wake, &k->lock, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    int stopping = k->stopping;
    pthread_mutex_unlock(&k->lock);
    return stopping;
}

static void *keeper_main(void *arg)
{
    struct log_keeper *k = arg;
    int64_t trigger = k->limit_bytes / 2;
    int64_t urgent = trigger + trigger / 4; /* the long wait from here */
    int64_t warned_busy_ms = 0, warned_over_ms = 0, warned_error_ms = 0;
    long long trims = 0;
    while (!keeper_sleep(k)) {
        struct store_log_trim r;
        int64_t now = monotonic_ms();
        int rc = store_log_trim(k->store, trigger, LOG_KEEPER_SHORT_WAIT_MS, &r);
        if (rc == 0 && r.busy && r.bytes_after >= urgent)
            rc = store_log_trim(k->store, trigger, LOG_KEEPER_WAIT_MS, &r);
        if (rc != 0) {
            /* Logged by the store; a full disk is the likely cause. Try
             * again at the next tick, and say so once a second. */
            if (now - warned_error_ms >= WARN_EVERY_MS) {
                log_warn("store.log_trim_failed", "limit_bytes=%lld", (long long)k->limit_bytes);
                warned_error_ms = now;
            }
            continue;
        }
        if (!r.applies) {
            log_info("store.log_keeper", "what=\"no write-ahead log: nothing to keep\"");
            break;
        }
        if (r.bytes_before > k->limit_bytes && now - warned_over_ms >= WARN_EVERY_MS) {
            log_warn("store.log_over_limit", "bytes=%lld limit_bytes=%lld",
                     (long long)r.bytes_before, (long long)k->limit_bytes);
            warned_over_ms = now;
        }
        if (r.busy && r.bytes_after >= urgent && now - warned_busy_ms >= WARN_EVERY_MS) {
            log_warn("store.log_busy",
                     "bytes=%lld limit_bytes=%lld error=\"a writer or a reader held the log "
                     "longer than %d ms\"",
                     (long long)r.bytes_after, (long long)k->limit_bytes, LOG_KEEPER_WAIT_MS);
            warned_busy_ms = now;
        }
        if (r.trimmed)
            trims++;
    }
    log_info("store.log_keeper_stopped", "trims=%lld", trims);
    return NULL;
}

struct log_keeper *log_keeper_start(const char *db_path, int64_t limit_bytes, char *err,
                                    size_t err_len)
{
    struct log_keeper *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    k->limit_bytes = limit_bytes;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (store_open(db_path, &k->store, err, err_len) != 0)
        goto fail;
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        snprintf(err, err_len, "cannot start the write-ahead log keeper");
        store_close(k->store);
        goto fail;
    }
    return k;
fail:
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
    return NULL;
}

void log_keeper_stop(struct log_keeper *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = 1;
    pthread_cond_broadcast(&k->wake);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    store_close(k->store);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
}
