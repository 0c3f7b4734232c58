/*
 * loginlimit: failure counters with a doubling wait, in an open-addressing
 * table under one mutex (see loginlimit.h). Logins are rare; one lock is fine.
 * It never sees a password or an address, only the keys it is given.
 */
#include "http/loginlimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/banned.h"

#define LOGINLIMIT_KEYS 32768
#define LOGINLIMIT_PROBES 16

struct slot {
    char key[TOKEN_HASH_HEX + 1]; /* "" when free */
    int failures;
    int64_t last_failure;
};

struct loginlimit {
    int free_failures, first_delay, max_delay, forget_seconds;
    pthread_mutex_t lock;
    struct slot *slots;
};

int64_t loginlimit_delay(int failures, int free_failures, int first_delay, int max_delay)
{
    if (failures < free_failures)
        return 0;
    int64_t delay = first_delay;
    for (int past = failures - free_failures; past > 0 && delay < max_delay; past--)
        delay *= 2;
    return delay < max_delay ? delay : max_delay;
}

struct loginlimit *loginlimit_new(int free_failures, int first_delay, int max_delay,
                                  int forget_seconds)
{
    struct loginlimit *ll = calloc(1, sizeof *ll);
    if (!ll)
        return NULL;
    ll->slots = calloc(LOGINLIMIT_KEYS, sizeof *ll->slots);
    if (!ll->slots) {
        free(ll);
        return NULL;
    }
    ll->free_failures = free_failures;
    ll->first_delay = first_delay;
    ll->max_delay = max_delay;
    ll->forget_seconds = forget_seconds;
    pthread_mutex_init(&ll->lock, NULL);
    return ll;
}

void loginlimit_free(struct loginlimit *ll)
{
    if (!ll)
        return;
    pthread_mutex_destroy(&ll->lock);
    free(ll->slots);
    free(ll);
}

static uint32_t key_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int forgotten(const struct loginlimit *ll, const struct slot *s, int64_t now)
{
    return !s->key[0] || now - s->last_failure >= ll->forget_seconds;
}

/* key's slot, or NULL; under the lock. */
static struct slot *find(struct loginlimit *ll, const char *key)
{
    uint32_t h = key_hash(key);
    for (int probe = 0; probe < LOGINLIMIT_PROBES; probe++) {
        struct slot *s = &ll->slots[(h + (uint32_t)probe) % LOGINLIMIT_KEYS];
        if (s->key[0] && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

int loginlimit_allowed(struct loginlimit *ll, const char *key, int64_t now)
{
    pthread_mutex_lock(&ll->lock);
    const struct slot *s = find(ll, key);
    int allowed = !s || forgotten(ll, s, now) ||
                  now >= s->last_failure + loginlimit_delay(s->failures, ll->free_failures,
                                                            ll->first_delay, ll->max_delay);
    pthread_mutex_unlock(&ll->lock);
    return allowed;
}

int loginlimit_failed(struct loginlimit *ll, const char *key, int64_t now)
{
    if (!key[0] || strlen(key) > TOKEN_HASH_HEX)
        return -1;
    pthread_mutex_lock(&ll->lock);
    struct slot *s = find(ll, key);
    if (s && forgotten(ll, s, now))
        s->failures = 0;
    if (!s) {
        /* A free or forgotten slot, else the one with the fewest failures. */
        uint32_t h = key_hash(key);
        for (int probe = 0; probe < LOGINLIMIT_PROBES; probe++) {
            struct slot *c = &ll->slots[(h + (uint32_t)probe) % LOGINLIMIT_KEYS];
            if (forgotten(ll, c, now)) {
                s = c;
                break;
            }
            if (!s || c->failures < s->failures)
                s = c;
        }
        memcpy(s->key, key, strlen(key) + 1);
        s->failures = 0;
    }
    if (s->failures < 1000000)
        s->failures++;
    s->last_failure = now;
    pthread_mutex_unlock(&ll->lock);
    return 0;
}

void loginlimit_clear(struct loginlimit *ll, const char *key)
{
    pthread_mutex_lock(&ll->lock);
    struct slot *s = find(ll, key);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&ll->lock);
}
