/*
 * cmd_launch: `muster launch SLUG [--dry-run]`, the manual launch. It moves
 * the launch moment to now (once), queues one reminder per confirmed,
 * subscribed supporter, and sends in the foreground until nothing is owed but
 * deferred retries. Claims in the store keep it from sending what a running
 * `muster serve` sends, and let it resume what a killed launch left; its
 * progress is the campaign's, read from the store, whoever sends. A missed
 * launch (its window ended unlaunched) is sent by it: running it is the
 * organizer saying so. A paused launch is not: it says so and exits 1.
 * `--pause [--reason TEXT]` and `--resume` pause and resume the launch for
 * every sender on the database; `--test ADDRESS` sends the reminder as a test
 * to ADDRESS, counting nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/cache.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/escape.h"
#include "service/launches.h"
#include "core/log.h"
#include "core/tz.h"
#include "mail/outbox.h"
#include "store/store.h"
#include "core/banned.h"

#define PAUSE_AFTER_FAILURES 50
#define LAUNCH_USAGE                                                                               \
    "usage: muster launch SLUG [--dry-run] | SLUG --test ADDRESS | SLUG --pause [--reason TEXT] "  \
    "| SLUG --resume"

/* Who pauses from the command line: the login name, as the stats show it. */
static void cli_actor(char *out, size_t n)
{
    const char *user = getenv("USER");
    if (!user || !*user || launches_text_problem(user, 64))
        user = "?";
    snprintf(out, n, "command line (%s)", user);
}

static void say_paused(const char *slug, const struct campaign_pause *p)
{
    char when[21];
    tz_iso_utc(p->paused_at, when);
    fprintf(stderr, "muster: the launch of %s is paused (since %s", cli_text(slug), when);
    if (p->by[0])
        fprintf(stderr, ", by %s", cli_text(p->by));
    if (p->reason[0])
        fprintf(stderr, ": %s", cli_text(p->reason));
    fprintf(stderr, "); nothing sent. `muster launch %s --resume` resumes it\n", cli_text(slug));
}

static int launch_pause(struct cli *cli, const char *slug, int64_t campaign_id, int paused,
                        const char *reason)
{
    char by[128];
    cli_actor(by, sizeof by);
    const char *problem =
        launches_text_problem(reason, sizeof((struct campaign_pause *)0)->reason - 1);
    if (problem)
        return cli_fail(EXIT_USAGE, "--reason: %s", problem);
    int changed = 0;
    if (launches_set_pause(cli->store, campaign_id, paused, by, reason, tz_now(), &changed) != 0)
        return cli_fail(EXIT_RUNTIME, "could not %s the launch of '%s'",
                        paused ? "pause" : "resume", slug);
    if (paused)
        printf(changed ? "launch %s paused: no sender takes its reminders until --resume\n"
                       : "launch %s was paused already\n",
               cli_text(slug));
    else
        printf(changed ? "launch %s resumed: the reminders it owes go out now (a running "
                         "`muster serve` sends them, or `muster launch %s`)\n"
                       : "launch %s was not paused\n",
               cli_text(slug), cli_text(slug));
    return EXIT_OK;
}

static int launch_test(struct cli *cli, const char *slug, int64_t campaign_id, const char *address)
{
    char err[512];
    struct sender *sender = sender_open(&cli->cfg, cli->store, err, sizeof err);
    if (!sender)
        return cli_fail(EXIT_USAGE, "%s", err);
    int rc = sender_send_test(sender, campaign_id, address, tz_now(), err, sizeof err);
    sender_close(sender);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "test of %s not sent: %s", slug, err);
    printf("launch %s: a test reminder went to %s (counted nowhere)\n", cli_text(slug),
           cli_text(address));
    return EXIT_OK;
}

/* The campaign's progress, whoever sends: done is sent + failed, of total. */
static void progress(int tty, const struct launch_state *ls, double rate, int final,
                     const struct sender_counts *c)
{
    int64_t done = ls->sent + ls->failed, total = ls->sent + ls->failed + ls->pending;
    if (tty) {
        int width = 30, filled = total ? (int)(width * done / total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        double eta = rate > 0 ? (double)(total - done) / rate : 0;
        printf("\r[%s] %lld/%lld  %.0f/s  ETA %.0fs  failed %lld  deferred %lld ", bar,
               (long long)done, (long long)total, rate, eta, (long long)ls->failed,
               (long long)c->deferred);
        if (final)
            putchar('\n');
    } else {
        printf("launch: %lld/%lld sent or settled, %.0f/s, failed %lld, deferred %lld\n",
               (long long)done, (long long)total, rate, (long long)ls->failed,
               (long long)c->deferred);
    }
    fflush(stdout);
}

int cmd_launch(struct cli *cli, int argc, char **argv)
{
    const char *slug = NULL, *test_to = NULL, *reason = NULL;
    int dry_run = 0, pause = 0, resume = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = 1;
        else if (strcmp(argv[i], "--pause") == 0)
            pause = 1;
        else if (strcmp(argv[i], "--resume") == 0)
            resume = 1;
        else if (strcmp(argv[i], "--test") == 0 && i + 1 < argc && !test_to)
            test_to = argv[++i];
        else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc && !reason)
            reason = argv[++i];
        else if (!slug && argv[i][0] != '-')
            slug = argv[i];
        else
            return cli_fail(EXIT_USAGE, LAUNCH_USAGE);
    }
    /* One action at a time; --reason only with --pause. */
    if (!slug || dry_run + pause + resume + (test_to != NULL) > 1 || (reason && !pause))
        return cli_fail(EXIT_USAGE, LAUNCH_USAGE);
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, slug, &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", slug);
    int64_t campaign_id = row.id;
    struct launch_state ls;
    rc = launches_state(cli->store, &row, tz_now(), &ls);
    campaign_row_release(&row);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read the launch of '%s'", slug);
    if (pause || resume)
        return launch_pause(cli, slug, campaign_id, pause, reason ? reason : "");
    if (test_to)
        return launch_test(cli, slug, campaign_id, test_to);

    int64_t owed = 0, pending = 0, ready = 0;
    if (dry_run) {
        if (launches_owed(cli->store, campaign_id, &owed) != 0 ||
            store_outbox_pending(cli->store, campaign_id, MAIL_REMINDER, tz_now(), &pending,
                                 &ready) != 0)
            return cli_fail(EXIT_RUNTIME, "could not count the owed reminders");
        printf("%lld reminders would be sent (%lld new, %lld already queued); nothing changed%s\n",
               (long long)(owed + pending), (long long)owed, (long long)pending,
               ls.pause.paused_at ? " (the launch is paused)" : "");
        return EXIT_OK;
    }
    if (ls.pause.paused_at) {
        say_paused(slug, &ls.pause);
        return EXIT_RUNTIME;
    }
    if (ls.phase == LAUNCH_MISSED)
        printf("launch %s: its window ended and nothing launched it; sending now, as you "
               "asked\n",
               cli_text(slug));
    char err[512];
    struct sender *sender = sender_open(&cli->cfg, cli->store, err, sizeof err);
    if (!sender)
        return cli_fail(EXIT_USAGE, "%s", err);
    int64_t queued = 0;
    if (launches_launch(cli->store, campaign_id, 1, tz_now(), &queued) != 0) {
        sender_close(sender);
        return cli_fail(EXIT_RUNTIME, "could not queue the reminders");
    }
    if (store_campaign_get_by_id(cli->store, campaign_id, &row) != 0 ||
        (rc = launches_state(cli->store, &row, tz_now(), &ls), campaign_row_release(&row),
         rc != 0)) {
        sender_close(sender);
        return cli_fail(EXIT_RUNTIME, "could not count the reminders");
    }
    int tty = isatty(STDOUT_FILENO);
    printf("launch %s: %lld reminders to send (%lld newly queued, %lld sent before)\n",
           cli_text(slug), (long long)ls.pending, (long long)queued, (long long)ls.sent);
    struct sender_counts counts;
    memset(&counts, 0, sizeof counts);
    int64_t start_ms = tz_now_ms(), last_report = start_ms, sent_at_start = ls.sent;
    int result = EXIT_OK;
    for (;;) {
        size_t claimed = 0;
        int64_t now = tz_now();
        if (sender_run_batch(sender, campaign_id, 512, now, &counts, &claimed) != 0) {
            result = cli_fail(EXIT_RUNTIME, "the store failed while sending; run launch again "
                                            "to resume");
            break;
        }
        /* Each report counts the campaign's rows: twice a second at most. */
        int due_report = tz_now_ms() - last_report > (tty ? 500 : 2000);
        if (due_report || !claimed) {
            /* The campaign's numbers, whoever sends them (a serve too). */
            if (store_campaign_get_by_id(cli->store, campaign_id, &row) != 0 ||
                (rc = launches_state(cli->store, &row, tz_now(), &ls), campaign_row_release(&row),
                 rc != 0)) {
                result = cli_fail(EXIT_RUNTIME, "could not count the reminders");
                break;
            }
        }
        if (due_report) {
            double secs = (double)(tz_now_ms() - start_ms) / 1000.0;
            progress(tty, &ls, secs > 0 ? (double)(ls.sent - sent_at_start) / secs : 0, 0, &counts);
            last_report = tz_now_ms();
        }
        if (counts.consecutive_failures >= PAUSE_AFTER_FAILURES) {
            /* Like the server's log, this names no address the relay echoed. */
            struct buf reply = BUF_INIT;
            if (redact_addresses(&reply, counts.last_reply) != 0)
                buf_reset(&reply);
            fprintf(stderr,
                    "\nmuster: launch paused: %d temporary failures in a row; the relay said: "
                    "%s\nmuster: waiting 30 s before trying again (Ctrl-C stops; launch again "
                    "resumes)\n",
                    counts.consecutive_failures, cli_text(buf_cstr(&reply)));
            buf_release(&reply);
            sleep(30);
            counts.consecutive_failures = 0;
        }
        if (claimed)
            continue;
        /* Paused by an organizer meanwhile (here or on another server):
         * stop; what is owed stays owed. */
        if (ls.pause.paused_at) {
            if (tty)
                putchar('\n');
            say_paused(slug, &ls.pause);
            result = EXIT_RUNTIME;
            break;
        }
        /* Done when nothing is left but deferred retries; otherwise another
         * sender (a serve, or a launch that died) holds claims: wait. Mail
         * this command held back for its domain's pacing is not a retry: it
         * waits for it (docs/DELIVERABILITY.md). */
        if (ls.ready == 0 && (ls.pending == 0 || counts.paced_until < tz_now()))
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double secs = (double)(tz_now_ms() - start_ms) / 1000.0;
    progress(tty, &ls, secs > 0 ? (double)(ls.sent - sent_at_start) / secs : 0, 1, &counts);
    printf("launch %s: %lld of %lld reminders sent, failed %lld, waiting %lld (by this command: "
           "sent %lld, failed %lld, deferred for retry %lld, cancelled %lld, suppressed %lld, "
           "paced %lld) in %.1fs\n",
           cli_text(slug), (long long)ls.sent, (long long)(ls.sent + ls.failed + ls.pending),
           (long long)ls.failed, (long long)ls.pending, (long long)counts.sent,
           (long long)counts.failed, (long long)counts.deferred, (long long)counts.cancelled,
           (long long)counts.suppressed, (long long)counts.paced, secs);
    if (ls.pending > 0 && result == EXIT_OK)
        printf("launch %s: %lld reminders wait for a retry; `muster serve` sends them, or run "
               "launch again\n",
               cli_text(slug), (long long)ls.pending);
    sender_close(sender);
    return result;
}
