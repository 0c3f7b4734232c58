/*
 * cache: the campaign for a slug or id, parsed once per revision and cached
 * per thread. The pointer is valid until the next call on the same thread.
 * row receives the stored row (caller releases it with campaign_row_release).
 * Returns 0, STORE_NOT_FOUND, or -1.
 */
#ifndef MUSTER_SERVICE_CACHE_H
#define MUSTER_SERVICE_CACHE_H

#include <stdint.h>

#include "store/store.h"

struct campaign;

int campaign_cache_get(struct store *st, const char *slug, struct campaign_row *row,
                       const struct campaign **out);
int campaign_cache_get_by_id(struct store *st, int64_t id, struct campaign_row *row,
                             const struct campaign **out);

/* Frees this thread's cached campaigns (other threads free theirs when they
 * exit). */
void campaign_cache_release(void);

#endif
