/*
 * workpool: a few threads that run functions away from the caller's thread,
 * behind a bounded queue. It owns its threads and the queue, never the jobs'
 * arguments. A job is a function to run on a worker and one to call when it
 * is over: right after it ran (on the worker), or when the pool stopped
 * before it started (on the thread that stops the pool). A caller that
 * submits while the queue is full gets WORKPOOL_FULL at once, never waits.
 * `muster serve` checks passwords on one (http/server.c, http_defer): an
 * Argon2id verify takes about 100 ms, which an HTTP event loop must not spend.
 */
#ifndef MUSTER_CORE_WORKPOOL_H
#define MUSTER_CORE_WORKPOOL_H

#include <stddef.h>

struct workpool;

/* How a job ended, for its done function. */
enum workpool_outcome {
    WORKPOOL_RAN = 0,       /* run(arg) returned */
    WORKPOOL_CANCELLED = 1, /* the pool stopped first: run was not called */
};

/* workpool_submit's answer when queue_max jobs already wait. */
#define WORKPOOL_FULL 1

typedef void (*workpool_run_fn)(void *arg);
/* Called exactly once per accepted job. Runs on a worker after run, or on the
 * thread in workpool_stop for a job that never started. */
typedef void (*workpool_done_fn)(void *arg, enum workpool_outcome outcome);

/* threads (1..256) run jobs; at most queue_max (1..65536) jobs wait for one.
 * nice (0..19) is added to the threads' nice value, so that when the CPU is
 * short they yield it to the process's other threads (0: they do not).
 * NULL with a message in err on failure. */
struct workpool *workpool_start(int threads, int queue_max, int nice, char *err, size_t err_len);
/* Queues a job: 0, WORKPOOL_FULL when queue_max jobs wait, -1 once the pool
 * is stopping. done is called only after 0. Never blocks on a running job. */
int workpool_submit(struct workpool *p, workpool_run_fn run, workpool_done_fn done, void *arg);
/* The jobs running finish (their done called); the jobs still waiting are
 * cancelled (done with WORKPOOL_CANCELLED, on this thread); the threads are
 * joined. Later submits return -1. Idempotent. */
void workpool_stop(struct workpool *p);
/* Stops the pool if needed and frees it. NULL is fine. */
void workpool_free(struct workpool *p);

#endif
