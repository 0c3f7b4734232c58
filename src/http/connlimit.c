/*
 * connlimit: a chained hash table of open-connection counts per client
 * address under one mutex (see connlimit.h). It is touched twice per
 * connection (open and close), never per request, so one lock is enough.
 */
#include "http/connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

#define CONNLIMIT_BUCKETS 4096
#define CONNLIMIT_EXEMPT_MAX 32

struct addr_key {
    unsigned char bytes[16]; /* IPv4: 4 bytes; IPv6: its /64, 8 bytes */
    unsigned char len;
};

struct connlimit_entry {
    struct connlimit_entry *next;
    struct addr_key key;
    int count;
};

struct connlimit {
    int max_per_address;
    pthread_mutex_t lock;
    struct connlimit_entry *buckets[CONNLIMIT_BUCKETS];
    struct addr_key exempt[CONNLIMIT_EXEMPT_MAX]; /* full addresses, not /64s */
    int exempt_count;
};

/* The counted key of sa (IPv6: its /64); 0 on success, -1 for another family. */
static int key_of(const struct sockaddr *sa, struct addr_key *key, int whole)
{
    memset(key, 0, sizeof *key);
    if (sa->sa_family == AF_INET) {
        memcpy(key->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        key->len = 4;
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        key->len = whole ? 16 : 8;
        memcpy(key->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, key->len);
        return 0;
    }
    return -1;
}

static unsigned bucket_of(const struct addr_key *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (unsigned i = 0; i < key->len; i++)
        h = (h ^ key->bytes[i]) * 16777619u;
    return h % CONNLIMIT_BUCKETS;
}

static int key_equal(const struct addr_key *a, const struct addr_key *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static void parse_exempt(struct connlimit *cl, const char *list)
{
    for (const char *p = list; p && *p && cl->exempt_count < CONNLIMIT_EXEMPT_MAX;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char text[64];
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len < sizeof text) {
            memcpy(text, p, len);
            text[len] = '\0';
            struct addr_key *k = &cl->exempt[cl->exempt_count];
            memset(k, 0, sizeof *k);
            if (inet_pton(AF_INET, text, k->bytes) == 1) {
                k->len = 4;
                cl->exempt_count++;
            } else if (inet_pton(AF_INET6, text, k->bytes) == 1) {
                k->len = 16;
                cl->exempt_count++;
            }
        }
        p = end ? end + 1 : NULL;
    }
}

struct connlimit *connlimit_new(int max_per_address, const char *exempt)
{
    struct connlimit *cl = calloc(1, sizeof *cl);
    if (!cl)
        return NULL;
    cl->max_per_address = max_per_address;
    pthread_mutex_init(&cl->lock, NULL);
    parse_exempt(cl, exempt);
    return cl;
}

void connlimit_free(struct connlimit *cl)
{
    if (!cl)
        return;
    for (unsigned b = 0; b < CONNLIMIT_BUCKETS; b++) {
        struct connlimit_entry *e = cl->buckets[b];
        while (e) {
            struct connlimit_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

/* 1 when sa is not limited at all (no limit, an exempt proxy, not IP). */
static int unlimited(const struct connlimit *cl, const struct sockaddr *sa)
{
    struct addr_key whole;
    if (cl->max_per_address <= 0 || key_of(sa, &whole, 1) != 0)
        return 1;
    for (int i = 0; i < cl->exempt_count; i++)
        if (key_equal(&cl->exempt[i], &whole))
            return 1;
    return 0;
}

/* The entry for key, under the lock; NULL when it has none. */
static struct connlimit_entry *find(struct connlimit *cl, const struct addr_key *key)
{
    for (struct connlimit_entry *e = cl->buckets[bucket_of(key)]; e; e = e->next)
        if (key_equal(&e->key, key))
            return e;
    return NULL;
}

int connlimit_full(struct connlimit *cl, const struct sockaddr *sa)
{
    struct addr_key key;
    if (unlimited(cl, sa) || key_of(sa, &key, 0) != 0)
        return 0;
    pthread_mutex_lock(&cl->lock);
    const struct connlimit_entry *e = find(cl, &key);
    int full = e && e->count >= cl->max_per_address;
    pthread_mutex_unlock(&cl->lock);
    return full;
}

int connlimit_enter(struct connlimit *cl, const struct sockaddr *sa, struct connlimit_entry **entry)
{
    struct addr_key key;
    *entry = NULL;
    if (unlimited(cl, sa) || key_of(sa, &key, 0) != 0)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&cl->lock);
    struct connlimit_entry *e = find(cl, &key);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (e) {
            e->key = key;
            unsigned b = bucket_of(&key);
            e->next = cl->buckets[b];
            cl->buckets[b] = e;
        }
    }
    if (!e || e->count >= cl->max_per_address) {
        rc = -1;
    } else {
        e->count++;
        *entry = e;
    }
    pthread_mutex_unlock(&cl->lock);
    return rc;
}

void connlimit_leave(struct connlimit *cl, struct connlimit_entry *entry)
{
    if (!entry)
        return;
    pthread_mutex_lock(&cl->lock);
    if (--entry->count == 0) {
        struct connlimit_entry **link = &cl->buckets[bucket_of(&entry->key)];
        while (*link && *link != entry)
            link = &(*link)->next;
        if (*link)
            *link = entry->next;
        free(entry);
    }
    pthread_mutex_unlock(&cl->lock);
}

void connlimit_format(const struct sockaddr *sa, char *out, unsigned long n)
{
    const void *addr = NULL;
    if (sa && sa->sa_family == AF_INET)
        addr = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!addr || !inet_ntop(sa->sa_family, addr, out, (socklen_t)n))
        snprintf(out, n, "unknown");
}
