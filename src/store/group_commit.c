/*
 * group_commit: the writer thread and its queue (see group_commit.h).
 */
#include "store/group_commit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "store/store.h"
#include "core/banned.h"

#define GROUP_MAX 512

struct job {
    group_job_fn run;
    group_done_fn done;
    void *arg;
    int rc;
    struct job *next;
};

struct group_commit {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct job *head, *tail;
    int stopping;
    struct store *store;
    pthread_t writer;
};

/* Runs every job in one transaction. First without savepoints, every job's
 * writes sent with the next job's (store.h: a backend may hold them): the
 * cheapest, and right unless a job fails. If one does, or the transaction
 * is lost, the group runs once more, each job under its own savepoint with
 * its writes checked at its end (STORE_SAVEPOINT_CHECK): then a failing job
 * is undone alone and the others commit. 0 when the transaction committed. */
static int run_jobs(struct group_commit *g, struct job *jobs, int checked)
{
    /* The fast pass may guess that inserts are new (a wrong guess fails the
     * group, which the checked pass then runs without guessing). */
    store_set_guessing(g->store, !checked);
    int committed = store_begin(g->store) == 0;
    for (struct job *j = jobs; committed && j; j = j->next) {
        if (!checked) {
            j->rc = j->run(g->store, j->arg);
            if (j->rc != 0)
                committed = 0;
            continue;
        }
        if (store_savepoint(g->store) != 0) {
            j->rc = -1;
            continue;
        }
        j->rc = j->run(g->store, j->arg);
        int ended = store_savepoint_end(g->store, j->rc == 0 ? STORE_SAVEPOINT_CHECK : 0);
        if (ended == STORE_UNDONE)
            j->rc = -1;
        else if (ended != 0)
            committed = 0;
    }
    if (committed)
        committed = store_commit(g->store) == 0;
    else
        store_rollback(g->store);
    return committed ? 0 : -1;
}

static void run_group(struct group_commit *g, struct job *jobs)
{
    /* The jobs touch nothing but the store, so running them again is safe. */
    int committed = run_jobs(g, jobs, 0) == 0;
    if (!committed) {
        log_info("group_commit.retry",
                 "reason=\"a job or the group's transaction failed, or a guess was wrong\"");
        committed = run_jobs(g, jobs, 1) == 0;
    }
    for (struct job *j = jobs; j;) {
        struct job *next = j->next;
        j->done(j->arg, committed ? j->rc : -1);
        free(j);
        j = next;
    }
}

static void *writer_main(void *arg)
{
    struct group_commit *g = arg;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        while (!g->head && !g->stopping)
            pthread_cond_wait(&g->ready, &g->lock);
        if (!g->head) {
            pthread_mutex_unlock(&g->lock);
            break;
        }
        /* Take up to GROUP_MAX jobs in arrival order. */
        struct job *first = g->head, *last = first;
        for (int n = 1; n < GROUP_MAX && last->next; n++)
            last = last->next;
        g->head = last->next;
        if (!g->head)
            g->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&g->lock);
        run_group(g, first);
    }
    return NULL;
}

struct group_commit *group_commit_start(const char *db_path, char *err, size_t err_len)
{
    struct group_commit *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->ready, NULL);
    if (store_open(db_path, &g->store, err, err_len) != 0) {
        free(g);
        return NULL;
    }
    if (store_set_durable(g->store, 1) != 0 ||
        pthread_create(&g->writer, NULL, writer_main, g) != 0) {
        snprintf(err, err_len, "cannot start the group-commit writer");
        store_close(g->store);
        free(g);
        return NULL;
    }
    return g;
}

int group_commit_submit(struct group_commit *g, group_job_fn run, group_done_fn done, void *arg)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->run = run;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&g->lock);
    if (g->stopping) {
        pthread_mutex_unlock(&g->lock);
        free(j);
        return -1;
    }
    if (g->tail)
        g->tail->next = j;
    else
        g->head = j;
    g->tail = j;
    pthread_cond_signal(&g->ready);
    pthread_mutex_unlock(&g->lock);
    return 0;
}

void group_commit_stop(struct group_commit *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_broadcast(&g->ready);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->writer, NULL);
    store_close(g->store);
    g->store = NULL;
}

void group_commit_free(struct group_commit *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->ready);
    free(g);
}
