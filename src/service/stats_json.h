/*
 * stats_json: a campaign's numbers as one JSON document, the same for
 * `muster stats --json`, the API and the dashboard's live updates.
 */
#ifndef MUSTER_SERVICE_STATS_JSON_H
#define MUSTER_SERVICE_STATS_JSON_H

#include <jansson.h>

struct store;

/* Returns 0 and a new reference in *out, STORE_NOT_FOUND, or -1. */
int stats_json(struct store *st, const char *slug, json_t **out);

#endif
