/*
 * clicks: what a batch of followed one-click links records, for every
 * backend, in one write transaction: the click rows, the supporters' new
 * assignments, the targets' counters (summed per batch) and the
 * action.clicked webhook events of the campaigns that want them.
 */
#ifndef MUSTER_SERVICE_CLICKS_H
#define MUSTER_SERVICE_CLICKS_H

#include <stddef.h>

#include "store/store.h"

int clicks_record(struct store *st, const struct click_record *clicks, size_t n);

#endif
