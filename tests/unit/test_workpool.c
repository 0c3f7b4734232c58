/*
 * test_workpool: the work pool of src/core/workpool.c with real threads: every
 * job runs once, off the submitting thread, and its done follows its run; the
 * jobs run on as many threads at once as the pool has; a full queue is
 * refused at once (WORKPOOL_FULL); stopping lets the running jobs finish, cancels the waiting ones
 * (done with WORKPOOL_CANCELLED, on the stopping thread) and refuses later submits.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/workpool.h"

/* A gate the test opens: jobs that wait at it block their worker. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int open;
    int arrived; /* jobs waiting at the gate or past it */
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void gate_reset(void)
{
    pthread_mutex_lock(&gate.lock);
    gate.open = 0;
    gate.arrived = 0;
    pthread_mutex_unlock(&gate.lock);
}

static void gate_open(void)
{
    pthread_mutex_lock(&gate.lock);
    gate.open = 1;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
}

/* Waits until n jobs reached the gate (at most 10 s); returns how many did. */
static int gate_wait_arrived(int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&gate.lock);
    while (gate.arrived < n && pthread_cond_timedwait(&gate.changed, &gate.lock, &until) == 0)
        ;
    int arrived = gate.arrived;
    pthread_mutex_unlock(&gate.lock);
    return arrived;
}

struct job {
    pthread_t submitter;
    int wait_at_gate;
    atomic_int runs;
    atomic_int dones;
    int ran_elsewhere;   /* run was not on the submitting thread */
    int run_before_done; /* done saw run's effect */
    enum workpool_outcome outcome;
    pthread_t done_thread;
};

static void job_run(void *arg)
{
    struct job *j = arg;
    j->ran_elsewhere = !pthread_equal(pthread_self(), j->submitter);
    if (j->wait_at_gate) {
        pthread_mutex_lock(&gate.lock);
        gate.arrived++;
        pthread_cond_broadcast(&gate.changed);
        while (!gate.open)
            pthread_cond_wait(&gate.changed, &gate.lock);
        pthread_mutex_unlock(&gate.lock);
    }
    atomic_fetch_add(&j->runs, 1);
}

static void job_done(void *arg, enum workpool_outcome outcome)
{
    struct job *j = arg;
    j->run_before_done = atomic_load(&j->runs) == 1;
    j->outcome = outcome;
    j->done_thread = pthread_self();
    atomic_fetch_add(&j->dones, 1);
}

static void job_init(struct job *j, int wait_at_gate)
{
    memset(j, 0, sizeof *j);
    j->submitter = pthread_self();
    j->wait_at_gate = wait_at_gate;
}

static void test_every_job_runs_once_off_the_caller_then_its_done(void **state)
{
    (void)state;
    char err[128];
    struct workpool *p = workpool_start(3, 512, 0, err, sizeof err);
    assert_non_null(p);
    static struct job jobs[500];
    for (int i = 0; i < 500; i++) {
        job_init(&jobs[i], 0);
        assert_int_equal(workpool_submit(p, job_run, job_done, &jobs[i]), 0);
    }
    /* Every job runs (within 10 s) before the pool stops. */
    for (int polls = 0; polls < 10000; polls++) {
        int done = 0;
        for (int i = 0; i < 500; i++)
            done += atomic_load(&jobs[i].dones);
        if (done == 500)
            break;
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    workpool_stop(p);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(atomic_load(&jobs[i].dones), 1);
        assert_int_equal(jobs[i].outcome, WORKPOOL_RAN);
        assert_int_equal(atomic_load(&jobs[i].runs), 1);
        assert_true(jobs[i].ran_elsewhere);
        assert_true(jobs[i].run_before_done);
    }
    workpool_free(p);
}

static void test_jobs_run_on_every_thread_at_once(void **state)
{
    (void)state;
    gate_reset();
    char err[128];
    struct workpool *p = workpool_start(4, 8, 0, err, sizeof err);
    assert_non_null(p);
    struct job jobs[4];
    for (int i = 0; i < 4; i++) {
        job_init(&jobs[i], 1);
        assert_int_equal(workpool_submit(p, job_run, job_done, &jobs[i]), 0);
    }
    /* All four wait at the gate at the same time: four threads hold one each. */
    assert_int_equal(gate_wait_arrived(4), 4);
    gate_open();
    workpool_stop(p);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].outcome, WORKPOOL_RAN);
        assert_int_equal(atomic_load(&jobs[i].runs), 1);
    }
    workpool_free(p);
}

static void *stop_main(void *p)
{
    workpool_stop(p);
    return NULL;
}

static void test_a_full_queue_refuses_at_once_and_stop_cancels_the_waiting(void **state)
{
    (void)state;
    gate_reset();
    char err[128];
    struct workpool *p = workpool_start(1, 2, 0, err, sizeof err);
    assert_non_null(p);
    struct job held, waiting[2], refused, later;
    job_init(&held, 1);
    assert_int_equal(workpool_submit(p, job_run, job_done, &held), 0);
    assert_int_equal(gate_wait_arrived(1), 1); /* the only thread is busy */
    for (int i = 0; i < 2; i++) {
        job_init(&waiting[i], 0);
        assert_int_equal(workpool_submit(p, job_run, job_done, &waiting[i]), 0);
    }
    job_init(&refused, 0);
    assert_int_equal(workpool_submit(p, job_run, job_done, &refused), WORKPOOL_FULL);
    assert_int_equal(workpool_submit(p, job_run, job_done, &refused), WORKPOOL_FULL);

    /* Stopping while the thread is held: the held job finishes once the gate
     * opens; the two waiting are cancelled on the stopping thread, never run. */
    pthread_t stopper;
    assert_int_equal(pthread_create(&stopper, NULL, stop_main, p), 0);
    int polls = 0;
    while (workpool_submit(p, job_run, job_done, &refused) != -1 && polls++ < 10000) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    assert_true(polls < 10000); /* stopping: submits refused */
    gate_open();
    assert_int_equal(pthread_join(stopper, NULL), 0);
    assert_int_equal(held.outcome, WORKPOOL_RAN);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(atomic_load(&waiting[i].dones), 1);
        assert_int_equal(atomic_load(&waiting[i].runs), 0);
        assert_int_equal(waiting[i].outcome, WORKPOOL_CANCELLED);
        assert_true(pthread_equal(waiting[i].done_thread, stopper));
    }
    assert_int_equal(atomic_load(&refused.dones), 0);
    job_init(&later, 0);
    assert_int_equal(workpool_submit(p, job_run, job_done, &later), -1);
    workpool_stop(p); /* idempotent */
    workpool_free(p);
}

struct nice_job {
    int nice;
};

static void nice_run(void *arg)
{
    struct nice_job *j = arg;
    errno = 0;
    j->nice = getpriority(PRIO_PROCESS, (id_t)gettid());
}

static void nice_done(void *arg, enum workpool_outcome outcome)
{
    (void)arg;
    (void)outcome;
}

static void test_the_workers_yield_the_cpu_by_their_nice_value(void **state)
{
    (void)state;
    errno = 0;
    int mine = getpriority(PRIO_PROCESS, (id_t)gettid());
    assert_int_equal(errno, 0);
    char err[128];
    struct workpool *p = workpool_start(1, 1, 5, err, sizeof err);
    assert_non_null(p);
    struct nice_job j = {-100};
    assert_int_equal(workpool_submit(p, nice_run, nice_done, &j), 0);
    for (int polls = 0; j.nice == -100 && polls < 10000; polls++) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    workpool_free(p);
    assert_int_equal(j.nice, mine + 5 > 19 ? 19 : mine + 5);
    /* The calling thread keeps its own. */
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), mine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_job_runs_once_off_the_caller_then_its_done),
        cmocka_unit_test(test_jobs_run_on_every_thread_at_once),
        cmocka_unit_test(test_a_full_queue_refuses_at_once_and_stop_cancels_the_waiting),
        cmocka_unit_test(test_the_workers_yield_the_cpu_by_their_nice_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
