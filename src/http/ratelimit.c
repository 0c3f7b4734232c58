/*
 * ratelimit: fixed-window counters in an open-addressing table under one
 * mutex (see ratelimit.h). Pledges are rare enough that one lock is fine.
 */
#include "http/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

#define RATELIMIT_KEYS 65536

struct slot {
    char key[64];
    int64_t window;
    int count;
};

struct ratelimit {
    int limit;
    int window_seconds;
    pthread_mutex_t lock;
    struct slot *slots;
};

struct ratelimit *ratelimit_new(int limit, int window_seconds)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->slots = calloc(RATELIMIT_KEYS, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    rl->limit = limit;
    rl->window_seconds = window_seconds > 0 ? window_seconds : 3600;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t now)
{
    if (rl->limit <= 0)
        return 1;
    int64_t window = now / rl->window_seconds;
    uint32_t h = hash(key);
    int allowed = 1;
    pthread_mutex_lock(&rl->lock);
    struct slot *victim = NULL;
    for (int probe = 0; probe < 16; probe++) {
        struct slot *s = &rl->slots[(h + (uint32_t)probe) % RATELIMIT_KEYS];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (s->window != window) {
                s->window = window;
                s->count = 0;
            }
            allowed = s->count < rl->limit;
            if (allowed)
                s->count++;
            pthread_mutex_unlock(&rl->lock);
            return allowed;
        }
        if (!s->key[0] || s->window != window) {
            if (!victim)
                victim = s;
        }
    }
    if (!victim) /* 16 live keys collide: reuse the first slot */
        victim = &rl->slots[h % RATELIMIT_KEYS];
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->window = window;
    victim->count = 1;
    pthread_mutex_unlock(&rl->lock);
    return allowed;
}
