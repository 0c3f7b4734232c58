/*
 * workpool: worker threads around a ring of waiting jobs under one mutex
 * (see workpool.h). The ring is allocated once at start, so submitting never
 * allocates; workers sleep on a condition variable while the ring is empty.
 */
#include "core/workpool.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/banned.h"

struct workpool_job {
    workpool_run_fn run;
    workpool_done_fn done;
    void *arg;
};

struct workpool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    struct workpool_job *ring;
    int queue_max;
    int head;    /* the oldest waiting job */
    int waiting; /* jobs in the ring */
    int stopping;
    int stopped; /* the threads were joined */
    int nice;    /* added to each worker's nice value */
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct workpool *p = arg;
    /* Linux keeps a nice value per thread: this one only. */
    if (p->nice) {
        errno = 0;
        int now = getpriority(PRIO_PROCESS, (id_t)gettid());
        if ((now == -1 && errno) || setpriority(PRIO_PROCESS, (id_t)gettid(), now + p->nice) != 0)
            log_warn("workpool.nice", "error=\"%s\"", strerror(errno));
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->waiting && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stopping)
            break; /* workpool_stop cancels what still waits */
        struct workpool_job job = p->ring[p->head];
        p->head = (p->head + 1) % p->queue_max;
        p->waiting--;
        pthread_mutex_unlock(&p->lock);
        job.run(job.arg);
        job.done(job.arg, WORKPOOL_RAN);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct workpool *workpool_start(int threads, int queue_max, int nice, char *err, size_t err_len)
{
    if (threads < 1 || threads > 256 || queue_max < 1 || queue_max > 65536) {
        snprintf(err, err_len,
                 "work pool: %d threads and a queue of %d (expected 1..256, 1..65536)", threads,
                 queue_max);
        return NULL;
    }
    struct workpool *p = calloc(1, sizeof *p);
    if (p) {
        p->ring = calloc((size_t)queue_max, sizeof *p->ring);
        p->threads = calloc((size_t)threads, sizeof *p->threads);
    }
    if (!p || !p->ring || !p->threads) {
        if (p) {
            free(p->ring);
            free(p->threads);
        }
        free(p);
        snprintf(err, err_len, "work pool: out of memory");
        return NULL;
    }
    p->queue_max = queue_max;
    p->nice = nice < 0 ? 0 : nice > 19 ? 19 : nice;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            snprintf(err, err_len, "work pool: cannot start thread %d of %d", i + 1, threads);
            workpool_free(p); /* joins the p->nthreads started */
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int workpool_submit(struct workpool *p, workpool_run_fn run, workpool_done_fn done, void *arg)
{
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    if (p->stopping) {
        rc = -1;
    } else if (p->waiting == p->queue_max) {
        rc = WORKPOOL_FULL;
    } else {
        p->ring[(p->head + p->waiting) % p->queue_max] = (struct workpool_job){run, done, arg};
        p->waiting++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void workpool_stop(struct workpool *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopped) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Alone now: no worker runs, and submits fail. */
    while (p->waiting) {
        struct workpool_job job = p->ring[p->head];
        p->head = (p->head + 1) % p->queue_max;
        p->waiting--;
        job.done(job.arg, WORKPOOL_CANCELLED);
    }
    pthread_mutex_lock(&p->lock);
    p->stopped = 1;
    pthread_mutex_unlock(&p->lock);
}

void workpool_free(struct workpool *p)
{
    if (!p)
        return;
    workpool_stop(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    free(p->ring);
    free(p->threads);
    free(p);
}
