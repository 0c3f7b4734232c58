/*
 * claim_ahead: the next claim, on a thread and a connection of its own (see
 * claim_ahead.h).
 */
#include "mail/claim_ahead.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/tz.h"
#include "core/banned.h"

enum ahead_state {
    AHEAD_IDLE,      /* nothing requested */
    AHEAD_REQUESTED, /* the thread is to claim, or claiming */
    AHEAD_DONE,      /* claimed (or failed): for claim_ahead_take */
};

struct claim_ahead {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    enum ahead_state state;
    int stopping;
    /* the request */
    char owner[320];
    int64_t campaign_id, now;
    int lease_seconds;
    size_t max;
    /* the answer */
    int failed;
    int64_t decided_ms;
    size_t n;
    struct outbox_item items[CLAIM_AHEAD_MAX];
};

static void *ahead_main(void *arg)
{
    struct claim_ahead *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->state != AHEAD_REQUESTED && !c->stopping)
            pthread_cond_wait(&c->changed, &c->lock);
        if (c->state != AHEAD_REQUESTED)
            break;
        pthread_mutex_unlock(&c->lock);
        /* The request's fields are not written while it is requested. */
        int64_t decided_ms = tz_now_ms();
        size_t n = 0;
        int rc = store_outbox_claim(c->st, c->owner, c->campaign_id, c->now, c->lease_seconds,
                                    c->items, c->max, &n);
        pthread_mutex_lock(&c->lock);
        c->failed = rc != 0;
        c->n = rc == 0 ? n : 0;
        c->decided_ms = decided_ms;
        c->state = AHEAD_DONE;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct claim_ahead *claim_ahead_open(const char *db, char *err, size_t err_len)
{
    struct claim_ahead *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (store_open(db, &c->st, err, err_len) != 0) {
        free(c);
        return NULL;
    }
    if (store_set_durable(c->st, 0) != 0) {
        snprintf(err, err_len, "cannot configure the claiming connection");
        store_close(c->st);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    if (pthread_create(&c->thread, NULL, ahead_main, c) != 0) {
        snprintf(err, err_len, "cannot start the claiming thread");
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->changed);
        store_close(c->st);
        free(c);
        return NULL;
    }
    return c;
}

int claim_ahead_request(struct claim_ahead *c, const char *owner, int64_t campaign_id,
                        int64_t now, int lease_seconds, size_t max)
{
    pthread_mutex_lock(&c->lock);
    if (c->state != AHEAD_IDLE) {
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    snprintf(c->owner, sizeof c->owner, "%s", owner);
    c->campaign_id = campaign_id;
    c->now = now;
    c->lease_seconds = lease_seconds;
    c->max = max < CLAIM_AHEAD_MAX ? max : CLAIM_AHEAD_MAX;
    c->state = AHEAD_REQUESTED;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* Waits for the claim requested, if any; with c->lock held. */
static void wait_done(struct claim_ahead *c)
{
    while (c->state == AHEAD_REQUESTED)
        pthread_cond_wait(&c->changed, &c->lock);
}

/* Puts the items of the claim done back, unsent, for the next claim; with
 * c->lock held and the claim done. */
static void hand_back(struct claim_ahead *c)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++)
        kept += store_outbox_defer(c->st, c->items[i].id, c->owner, c->now, NULL) != 0;
    if (kept) /* one line, not one per row, when the connection is gone */
        log_warn("outbox.claim_ahead", "items=%zu error=\"not handed back: their leases run out\"",
                 kept);
    c->n = 0;
    c->state = AHEAD_IDLE;
}

int claim_ahead_take(struct claim_ahead *c, int64_t campaign_id, struct outbox_item *items,
                     size_t max, size_t *n, int64_t *decided_ms, int64_t *now)
{
    pthread_mutex_lock(&c->lock);
    wait_done(c);
    if (c->state == AHEAD_IDLE) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    if (c->failed) {
        c->state = AHEAD_IDLE;
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    if (c->campaign_id != campaign_id || c->n > max) {
        hand_back(c);
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    memcpy(items, c->items, c->n * sizeof *items);
    *n = c->n;
    *decided_ms = c->decided_ms;
    *now = c->now;
    c->n = 0;
    c->state = AHEAD_IDLE;
    pthread_mutex_unlock(&c->lock);
    return 1;
}

void claim_ahead_close(struct claim_ahead *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    wait_done(c);
    if (c->state == AHEAD_DONE && !c->failed)
        hand_back(c);
    c->stopping = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->changed);
    store_close(c->st);
    free(c);
}
