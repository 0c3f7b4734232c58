/*
 * metrics: the counters `muster serve` exports at /metrics (Prometheus text
 * format). Plain atomics, written by request threads and the sender, read by
 * the /metrics handler; no locks, no allocation.
 */
#ifndef MUSTER_CORE_METRICS_H
#define MUSTER_CORE_METRICS_H

#include <stdatomic.h>

struct app_metrics {
    atomic_llong requests;
    atomic_llong requests_by_class[6]; /* 1xx..5xx */
    atomic_llong latency_us_total;
    atomic_llong latency_buckets[8]; /* <=1ms 5 10 50 100 500 1000 +Inf */
    atomic_llong pledges;
    atomic_llong confirmations;
    atomic_llong clicks;
    atomic_llong reviews; /* ?review=1: the action page, no click */
    atomic_llong mails_sent;
    atomic_llong mails_failed;
    atomic_llong mails_retried;
    atomic_llong work_queue_full; /* 503s: the work pool's queue was full */
};

#endif
