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
    int pending; /* attempts begun and not ended (loginlimit_begin) */
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

/* A slot another key may take: empty, or nothing in flight and its last
 * failure forgotten. */
static int forgotten(const struct loginlimit *ll, const struct slot *s, int64_t now)
{
    return !s->key[0] || (s->pending == 0 && now - s->last_failure >= ll->forget_seconds);
}

/* The failures of s that still count at now. */
static int recent_failures(const struct loginlimit *ll, const struct slot *s, int64_t now)
{
    return now - s->last_failure >= ll->forget_seconds ? 0 : s->failures;
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

/* key's slot, made when missing: a free or forgotten slot, else the one with
 * the fewest failures among those with no attempt in flight (else the fewest
 * failures); under the lock. key is at most TOKEN_HASH_HEX characters. */
static struct slot *claim(struct loginlimit *ll, const char *key, int64_t now)
{
    struct slot *s = find(ll, key);
    if (s) {
        s->failures = recent_failures(ll, s, now);
        return s;
    }
    uint32_t h = key_hash(key);
    for (int probe = 0; probe < LOGINLIMIT_PROBES; probe++) {
        struct slot *c = &ll->slots[(h + (uint32_t)probe) % LOGINLIMIT_KEYS];
        if (forgotten(ll, c, now)) {
            s = c;
            break;
        }
        if (!s || (c->pending == 0) > (s->pending == 0) ||
            ((c->pending == 0) == (s->pending == 0) && c->failures < s->failures))
            s = c;
    }
    memset(s, 0, sizeof *s);
    memcpy(s->key, key, strlen(key) + 1);
    return s;
}

/* Whether s's key may try at now (NULL: never failed); under the lock. With
 * attempts in flight, each counts as a failure and no wait has begun: more
 * start only while they would all be free. So attempts sent at once get no
 * further than the same attempts sent one after another. */
static int may_try(const struct loginlimit *ll, const struct slot *s, int64_t now)
{
    if (!s)
        return 1;
    int failures = recent_failures(ll, s, now);
    if (s->pending > 0)
        return loginlimit_delay(failures + s->pending, ll->free_failures, ll->first_delay,
                                ll->max_delay) == 0;
    return failures == 0 ||
           now >= s->last_failure +
                      loginlimit_delay(failures, ll->free_failures, ll->first_delay, ll->max_delay);
}

int loginlimit_allowed(struct loginlimit *ll, const char *key, int64_t now)
{
    pthread_mutex_lock(&ll->lock);
    int allowed = may_try(ll, find(ll, key), now);
    pthread_mutex_unlock(&ll->lock);
    return allowed;
}

/* Counts one failure on s; under the lock. */
static void count_failure(struct slot *s, int64_t now)
{
    if (s->failures < 1000000)
        s->failures++;
    s->last_failure = now;
}

int loginlimit_failed(struct loginlimit *ll, const char *key, int64_t now)
{
    if (!key[0] || strlen(key) > TOKEN_HASH_HEX)
        return -1;
    pthread_mutex_lock(&ll->lock);
    count_failure(claim(ll, key, now), now);
    pthread_mutex_unlock(&ll->lock);
    return 0;
}

int loginlimit_begin(struct loginlimit *ll, const char *key, int64_t now)
{
    if (!key[0] || strlen(key) > TOKEN_HASH_HEX)
        return -1;
    pthread_mutex_lock(&ll->lock);
    int allowed = may_try(ll, find(ll, key), now);
    if (allowed) {
        struct slot *s = claim(ll, key, now);
        if (s->pending < 1000000)
            s->pending++;
    }
    pthread_mutex_unlock(&ll->lock);
    return allowed;
}

void loginlimit_end(struct loginlimit *ll, const char *key, int64_t now, int failed)
{
    if (!key[0] || strlen(key) > TOKEN_HASH_HEX)
        return;
    pthread_mutex_lock(&ll->lock);
    struct slot *s = find(ll, key); /* NULL when another key evicted it */
    if (s && s->pending > 0)
        s->pending--;
    if (failed)
        count_failure(claim(ll, key, now), now);
    pthread_mutex_unlock(&ll->lock);
}

void loginlimit_clear(struct loginlimit *ll, const char *key)
{
    pthread_mutex_lock(&ll->lock);
    struct slot *s = find(ll, key);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&ll->lock);
}
