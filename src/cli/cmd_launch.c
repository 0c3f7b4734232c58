/*
 * cmd_launch: `muster launch SLUG [--dry-run]`, the manual launch. It moves
 * the launch moment to now (once), queues one reminder per confirmed,
 * subscribed supporter, and sends in the foreground until nothing is owed but
 * deferred retries. Claims in the store keep it from sending what a running
 * `muster serve` sends, and let it resume what a killed launch left.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/cache.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/escape.h"
#include "service/launches.h"
#include "core/tz.h"
#include "mail/outbox.h"
#include "store/store.h"
#include "core/banned.h"

#define PAUSE_AFTER_FAILURES 50

static void progress(int tty, int64_t done, int64_t total, double rate, int final,
                     const struct sender_counts *c)
{
    if (tty) {
        int width = 30, filled = total ? (int)(width * done / total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        double eta = rate > 0 ? (double)(total - done) / rate : 0;
        printf("\r[%s] %lld/%lld  %.0f/s  ETA %.0fs  failed %lld  deferred %lld ", bar,
               (long long)done, (long long)total, rate, eta, (long long)c->failed,
               (long long)c->deferred);
        if (final)
            putchar('\n');
    } else {
        printf("launch: %lld/%lld sent or settled, %.0f/s, failed %lld, deferred %lld\n",
               (long long)done, (long long)total, rate, (long long)c->failed,
               (long long)c->deferred);
    }
    fflush(stdout);
}

int cmd_launch(struct cli *cli, int argc, char **argv)
{
    const char *slug = NULL;
    int dry_run = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = 1;
        else if (!slug && argv[i][0] != '-')
            slug = argv[i];
        else
            return cli_fail(EXIT_USAGE, "usage: muster launch SLUG [--dry-run]");
    }
    if (!slug)
        return cli_fail(EXIT_USAGE, "usage: muster launch SLUG [--dry-run]");
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, slug, &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", slug);
    int64_t campaign_id = row.id;
    campaign_row_release(&row);

    int64_t owed = 0, pending = 0, ready = 0;
    if (dry_run) {
        if (launches_owed(cli->store, campaign_id, &owed) != 0 ||
            store_outbox_pending(cli->store, campaign_id, MAIL_REMINDER, tz_now(), &pending,
                                 &ready) != 0)
            return cli_fail(EXIT_RUNTIME, "could not count the owed reminders");
        printf("%lld reminders would be sent (%lld new, %lld already queued); nothing changed\n",
               (long long)(owed + pending), (long long)owed, (long long)pending);
        return EXIT_OK;
    }
    char err[256];
    struct sender *sender = sender_open(&cli->cfg, cli->store, err, sizeof err);
    if (!sender)
        return cli_fail(EXIT_USAGE, "%s", err);
    int64_t queued = 0;
    if (launches_launch(cli->store, campaign_id, 1, tz_now(), &queued) != 0) {
        sender_close(sender);
        return cli_fail(EXIT_RUNTIME, "could not queue the reminders");
    }
    if (store_outbox_pending(cli->store, campaign_id, MAIL_REMINDER, tz_now(), &pending, &ready) !=
        0) {
        sender_close(sender);
        return cli_fail(EXIT_RUNTIME, "could not count the reminders");
    }
    int64_t total = pending;
    int tty = isatty(STDOUT_FILENO);
    printf("launch %s: %lld reminders to send (%lld newly queued)\n", cli_text(slug),
           (long long)total, (long long)queued);
    struct sender_counts counts;
    memset(&counts, 0, sizeof counts);
    int64_t start_ms = tz_now_ms(), last_report = start_ms;
    int result = EXIT_OK;
    for (;;) {
        size_t claimed = 0;
        int64_t now = tz_now();
        if (sender_run_batch(sender, campaign_id, 256, now, &counts, &claimed) != 0) {
            result = cli_fail(EXIT_RUNTIME, "the store failed while sending; run launch again "
                                            "to resume");
            break;
        }
        int64_t done = counts.sent + counts.failed + counts.cancelled + counts.suppressed;
        double secs = (double)(tz_now_ms() - start_ms) / 1000.0;
        if (tz_now_ms() - last_report > (tty ? 200 : 2000)) {
            progress(tty, done, total, secs > 0 ? (double)counts.sent / secs : 0, 0, &counts);
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
        if (store_outbox_pending(cli->store, campaign_id, MAIL_REMINDER, tz_now(), &pending,
                                 &ready) != 0) {
            result = cli_fail(EXIT_RUNTIME, "could not count the reminders");
            break;
        }
        /* Done when nothing is left but deferred retries; otherwise another
         * sender (a serve, or a launch that died) holds claims: wait. */
        if (ready == 0)
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double secs = (double)(tz_now_ms() - start_ms) / 1000.0;
    progress(tty, counts.sent + counts.failed + counts.cancelled + counts.suppressed, total,
             secs > 0 ? (double)counts.sent / secs : 0, 1, &counts);
    printf("launch %s: sent %lld, failed %lld, deferred for retry %lld, cancelled %lld, "
           "suppressed %lld in %.1fs\n",
           cli_text(slug), (long long)counts.sent, (long long)counts.failed,
           (long long)counts.deferred, (long long)counts.cancelled, (long long)counts.suppressed,
           secs);
    if (pending > 0 && result == EXIT_OK)
        printf("launch %s: %lld reminders wait for a retry; `muster serve` sends them, or run "
               "launch again\n",
               cli_text(slug), (long long)pending);
    sender_close(sender);
    return result;
}
