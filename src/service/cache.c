/*
 * cache: parsed campaigns, per thread, keyed by (id, revision). Every lookup
 * reads the campaign's row (one indexed query), so a change made by another
 * process (`muster campaign apply`) is seen at once; the JSON is parsed again
 * only when the revision moved. Lookups in one shared read snapshot (the
 * clicks or pledges of one moment) read the row once: they would all read
 * the same row.
 */
#include "service/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/log.h"
#include "core/banned.h"

#define CACHE_SLOTS 8

struct cache_slot {
    int64_t id;
    int64_t revision;
    struct campaign *campaign;
};

static __thread struct cache_slot cache[CACHE_SLOTS];
static __thread unsigned cache_next;
/* The last row peeked in a shared read snapshot (store_snapshot_id): the
 * requests served in one snapshot read the same row, so they copy it. */
static __thread struct {
    uint64_t snapshot;       /* unique across handles */
    struct campaign_row row; /* slug owned here; spec_json always NULL */
} peeked;

static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

void campaign_cache_release(void)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        campaign_free(cache[i].campaign);
        cache[i].campaign = NULL;
    }
    free(peeked.row.slug);
    memset(&peeked, 0, sizeof peeked);
}

/* Runs when a thread that used the cache exits (the value is only a marker). */
static void cache_key_destroy(void *marker)
{
    (void)marker;
    campaign_cache_release();
}

static void cache_key_create(void)
{
    pthread_key_create(&cache_key, cache_key_destroy);
}

/* This thread holds something to release when it exits. */
static void cache_key_set(void)
{
    pthread_once(&cache_key_once, cache_key_create);
    pthread_setspecific(cache_key, cache);
}

static struct campaign *lookup(const struct campaign_row *row)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].campaign && cache[i].id == row->id && cache[i].revision == row->revision)
            return cache[i].campaign;
    return NULL;
}

static int parse_into_cache(struct campaign_row *row, const struct campaign **out)
{
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    int rc = campaign_parse(row->spec_json, strlen(row->spec_json), row->slug, &c, &errors);
    if (rc != 0) {
        log_error("campaign.stored_invalid", "slug=%s errors=\"%s\"", row->slug, buf_cstr(&errors));
        buf_release(&errors);
        return -1;
    }
    buf_release(&errors);
    struct cache_slot *slot = NULL;
    for (int i = 0; i < CACHE_SLOTS && !slot; i++)
        if (cache[i].campaign && cache[i].id == row->id)
            slot = &cache[i];
    if (!slot)
        slot = &cache[cache_next++ % CACHE_SLOTS];
    cache_key_set();
    campaign_free(slot->campaign);
    slot->id = row->id;
    slot->revision = row->revision;
    slot->campaign = c;
    *out = c;
    return 0;
}

static int peek(struct store *st, const char *slug, int64_t id, struct campaign_row *row)
{
    uint64_t snapshot = store_snapshot_id(st);
    if (snapshot && peeked.snapshot == snapshot &&
        (slug ? strcmp(peeked.row.slug, slug) == 0 : peeked.row.id == id)) {
        *row = peeked.row;
        row->slug = strdup(peeked.row.slug);
        return row->slug ? 0 : -1;
    }
    int rc = store_campaign_peek(st, slug, id, row);
    if (rc != 0 || !snapshot)
        return rc;
    char *slug_copy = strdup(row->slug);
    if (slug_copy) { /* without it, the next click peeks again */
        cache_key_set();
        free(peeked.row.slug);
        peeked.snapshot = snapshot;
        peeked.row = *row;
        peeked.row.slug = slug_copy;
    }
    return 0;
}

/* Peeks at the row (no campaign file); reads and parses the file only when
 * this thread has not parsed this revision yet. */
static int get(struct store *st, const char *slug, int64_t id, struct campaign_row *row,
               const struct campaign **out)
{
    int rc = peek(st, slug, id, row);
    if (rc != 0)
        return rc;
    struct campaign *hit = lookup(row);
    if (hit) {
        *out = hit;
        return 0;
    }
    int64_t found = row->id;
    campaign_row_release(row);
    rc = store_campaign_get_by_id(st, found, row);
    if (rc != 0)
        return rc;
    if (parse_into_cache(row, out) != 0) {
        campaign_row_release(row);
        return -1;
    }
    return 0;
}

int campaign_cache_get(struct store *st, const char *slug, struct campaign_row *row,
                       const struct campaign **out)
{
    if (!campaign_slug_valid(slug))
        return STORE_NOT_FOUND;
    return get(st, slug, 0, row, out);
}

int campaign_cache_get_by_id(struct store *st, int64_t id, struct campaign_row *row,
                             const struct campaign **out)
{
    return get(st, NULL, id, row, out);
}
