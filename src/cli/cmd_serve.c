/*
 * cmd_serve: `muster serve`: the HTTP server, the launch scheduler and the
 * mail sender in one process. The sender thread launches campaigns whose
 * moment has come (and says, at error level, which windows ended unlaunched:
 * those are not sent late), then sends whatever the outbox owes but the
 * mail of paused launches (the claim skips them), waking at once when
 * a request queues mail. SIGTERM or SIGINT stops it cleanly: no new
 * connections, in-flight requests and the current batch finish, then exit 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "app/routes.h"
#include "service/assigner.h"
#include "cli/commands.h"
#include "cli/serve.h"
#include "service/launches.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/server.h"
#include "mail/outbox.h"
#include "store/group_commit.h"
#include "store/log_keeper.h"
#include "store/store.h"
#include "webhooks/webhook.h"
#include "core/banned.h"

struct sender_thread {
    struct app *app;
    struct sender *sender;
    struct store *store;
};

static void *sender_main(void *arg)
{
    struct sender_thread *t = arg;
    struct app *app = t->app;
    struct sender_counts counts;
    memset(&counts, 0, sizeof counts);
    while (!atomic_load(&app->stopping)) {
        size_t launched, missed;
        if (launches_run_due(t->store, tz_now(), &launched) != 0)
            log_error("launch.scheduler_failed", "will retry");
        /* A window that ended unlaunched (no server ran) is said, at error
         * level, never sent late: `muster launch SLUG` sends it. */
        if (launches_report_missed(t->store, tz_now(), &missed) != 0)
            log_error("launch.scheduler_failed", "what=missed will retry");
        size_t claimed = 0;
        do {
            if (sender_run_batch(t->sender, 0, 512, tz_now(), &counts, &claimed) != 0) {
                log_error("sender.store_failed", "will retry");
                break;
            }
            if (counts.consecutive_failures >= 50) {
                char q[300];
                log_error("sender.paused", "consecutive_failures=%d reply=%s pause_s=30",
                          counts.consecutive_failures, log_quote(counts.last_reply, q, sizeof q));
                counts.consecutive_failures = 0;
                /* Pause 30 s, but stop at once on SIGTERM. */
                for (int i = 0; i < 300 && !atomic_load(&app->stopping); i++) {
                    struct timespec tick = {0, 100 * 1000 * 1000};
                    nanosleep(&tick, NULL);
                }
            }
        } while (claimed && !atomic_load(&app->stopping));
        pthread_mutex_lock(&app->lock);
        if (!app->sender_poke && !atomic_load(&app->stopping)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&app->sender_wake, &app->lock, &until);
        }
        app->sender_poke = 0;
        pthread_mutex_unlock(&app->lock);
    }
    return NULL;
}

/* One HTTP thread per core (MUSTER_HTTP_THREADS overrides): handlers never
 * wait on a disk write (clicks are batched, pledges are group-committed
 * while their connection is suspended), so more threads only add switches. */
static int serve_threads(void)
{
    const char *v = getenv("MUSTER_HTTP_THREADS");
    long n = v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* The threads that check passwords (Argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE:
 * about 100 ms of one core and 64 MiB each): one per core, so logins cannot
 * take more than the machine's cores nor more than 64 MiB per core, and
 * never an HTTP thread. MUSTER_HASH_THREADS overrides (1..64). */
static int serve_hash_threads(void)
{
    const char *v = getenv("MUSTER_HASH_THREADS");
    long n = v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* Logins that may wait for a hash thread; more are answered 503 with
 * Retry-After at once. 64 wait at most 64 checks' time divided by the
 * threads (3 s on 2 cores). MUSTER_HASH_QUEUE overrides (1..4096). */
static int serve_hash_queue(void)
{
    const char *v = getenv("MUSTER_HASH_QUEUE");
    long n = v ? strtol(v, NULL, 10) : 64;
    return n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
}

int serve_run(struct cli *cli)
{
    /* SIGTERM and SIGINT are taken by sigwait in this thread only: blocked
     * before any thread starts, so every thread inherits the mask (a thread
     * that did not block them would die of them, and take the process). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct app app;
    if (app_init(&app, &cli->cfg) != 0)
        return cli_fail(EXIT_RUNTIME, "out of memory");
    char err[512];
    /* First and last: the write-ahead log stays under its bound while
     * anything here writes. */
    struct log_keeper *keeper =
        log_keeper_start(cli->cfg.db, (int64_t)cli->cfg.wal_limit_mb << 20, err, sizeof err);
    if (!keeper) {
        app_release(&app);
        return cli_fail(EXIT_RUNTIME, "%s", err);
    }
    struct sender_thread st = {&app, NULL, NULL};
    if (store_open(cli->cfg.db, &st.store, err, sizeof err) != 0) {
        log_keeper_stop(keeper);
        app_release(&app);
        return cli_fail(EXIT_RUNTIME, "%s", err);
    }
    st.sender = sender_open(&cli->cfg, st.store, err, sizeof err);
    if (!st.sender) {
        store_close(st.store);
        log_keeper_stop(keeper);
        app_release(&app);
        return cli_fail(EXIT_USAGE, "%s", err);
    }
    sender_set_metrics(st.sender, &app.metrics);
    app.assigner = assigner_start(cli->cfg.db, err, sizeof err);
    app.committer = app.assigner ? group_commit_start(cli->cfg.db, err, sizeof err) : NULL;
    if (!app.assigner || !app.committer) {
        assigner_stop(app.assigner);
        sender_close(st.sender);
        store_close(st.store);
        log_keeper_stop(keeper);
        app_release(&app);
        return cli_fail(EXIT_RUNTIME, "%s", err);
    }

    struct http_server_size size = {serve_threads(), serve_hash_threads(), serve_hash_queue()};
    struct http_server *srv = http_server_start(&app, &app_http, &size, err, sizeof err);
    if (!srv) {
        group_commit_stop(app.committer);
        group_commit_free(app.committer);
        assigner_stop(app.assigner);
        sender_close(st.sender);
        store_close(st.store);
        log_keeper_stop(keeper);
        app_release(&app);
        return cli_fail(EXIT_RUNTIME, "%s", err);
    }
    pthread_t sender_tid;
    if (pthread_create(&sender_tid, NULL, sender_main, &st) != 0) {
        http_server_stop(srv);
        group_commit_stop(app.committer);
        group_commit_free(app.committer);
        assigner_stop(app.assigner);
        sender_close(st.sender);
        store_close(st.store);
        log_keeper_stop(keeper);
        app_release(&app);
        return cli_fail(EXIT_RUNTIME, "cannot start the sender thread");
    }
    /* Webhooks (docs/WEBHOOKS.md): without this thread, events wait in the store. */
    struct webhook_sender *webhooks = webhook_sender_start(&cli->cfg, err, sizeof err);
    if (!webhooks)
        log_error("webhook.sender_not_started", "error=\"%s\"", err);
    log_info("serve.started", "listen=%s base_url=%s mail=%s", cli->cfg.listen, cli->cfg.base_url,
             cli->cfg.smtp ? "smtp" : "maildir");
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("serve.stopping", "signal=%d", sig);
    atomic_store(&app.stopping, 1);
    /* No new connections; the pledges waiting for their commit are committed
     * and answered; then in-flight requests finish and the server stops. */
    http_server_quiesce(srv);
    group_commit_stop(app.committer);
    http_server_stop(srv);
    group_commit_free(app.committer);
    assigner_stop(app.assigner); /* writes the clicks still queued */
    app_wake_sender(&app);
    pthread_join(sender_tid, NULL);
    webhook_sender_stop(webhooks);
    sender_close(st.sender);
    store_close(st.store);
    log_keeper_stop(keeper); /* the last handle: nothing writes any more */
    app_release(&app);
    log_info("serve.stopped", "%s", "");
    return EXIT_OK;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster serve (configure with MUSTER_* variables, "
                                    "--db and --listen)");
    return serve_run(cli);
}
