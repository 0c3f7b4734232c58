/*
 * cmd_bounce: `muster bounce [--dry-run] [--require-token]` reads one bounce
 * or complaint on stdin (Postfix's pipe transport, a .forward); `muster
 * bounce --maildir DIR` reads every message of a Maildir's new/ and cur/ and
 * moves each to DIR/.Processed or DIR/.Unattributed (docs/DELIVERABILITY.md,
 * "Bounces"). The report is read by mail/bounce.c, attributed by
 * service/bounces.c and recorded on the suppression list.
 *
 * Exit status, on stdin: 0 processed (even when nothing was suppressed);
 * 2 not a bounce, or a bounce it cannot attribute (a line on stderr says
 * which; the message is not kept by muster: see the docs); 75 (EX_TEMPFAIL)
 * when the store failed or stdin could not be read, so that Postfix keeps
 * the message and tries again. With --maildir: 0, or 1 when the store failed
 * (the message stays where it was, for the next run).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/tz.h"
#include "mail/bounce.h"
#include "service/bounces.h"
#include "store/store.h"

#include "core/banned.h"

#define BOUNCE_INPUT_MAX (20 * 1024 * 1024) /* twice Postfix's default message_size_limit */
#define EX_TEMPFAIL_CODE 75                 /* sysexits.h EX_TEMPFAIL */

static const char bounce_usage[] =
    "usage: muster bounce [--dry-run] [--require-token] [--maildir DIR]";

enum outcome { OUTCOME_PROCESSED, OUTCOME_NOT_BOUNCE, OUTCOME_UNATTRIBUTED, OUTCOME_STORE_FAILED };

struct bounce_opts {
    int dry_run;
    int require_token;
};

/* Reads one report, records what it says, prints one line per address on
 * stdout and a line on stderr when it is not processed. where names it. */
static enum outcome bounce_one(struct cli *cli, const struct bounce_opts *o, const char *where,
                               const char *data, size_t len)
{
    struct bounce_report rep;
    char err[256];
    if (bounce_parse(data, len, cli->cfg.bounce_address, &rep, err, sizeof err) != 0) {
        fprintf(stderr, "muster: bounce: %s: not a bounce: %s\n", cli_text(where), err);
        return OUTCOME_NOT_BOUNCE;
    }
    if (rep.n == 0) {
        if (rep.format == BOUNCE_FORMAT_DSN && rep.recipients_reported > 0) {
            fprintf(stderr,
                    "muster: bounce: %s: a delivery status report that names no failed or delayed "
                    "recipient: nothing to do\n",
                    cli_text(where));
            return OUTCOME_PROCESSED;
        }
        if (rep.format == BOUNCE_FORMAT_ARF) {
            fprintf(stderr,
                    "muster: bounce: %s: unattributed: a complaint that names no recipient and "
                    "carries no valid return path; kept for a person\n",
                    cli_text(where));
            return OUTCOME_UNATTRIBUTED;
        }
        if (rep.looks_like_bounce || rep.has_return_path) {
            fprintf(stderr,
                    "muster: bounce: %s: unattributed: it looks like a bounce but names no failed "
                    "recipient muster can read; kept for a person\n",
                    cli_text(where));
            return OUTCOME_UNATTRIBUTED;
        }
        fprintf(stderr,
                "muster: bounce: %s: not a bounce: no delivery status, feedback report or failed "
                "recipient, and not from a mailer daemon\n",
                cli_text(where));
        return OUTCOME_NOT_BOUNCE;
    }
    if (o->require_token && !rep.has_return_path) {
        fprintf(stderr,
                "muster: bounce: %s: unattributed: no valid return-path token (--require-token); "
                "kept for a person\n",
                cli_text(where));
        return OUTCOME_UNATTRIBUTED;
    }
    struct bounce_attribution attr[BOUNCE_FINDINGS_MAX];
    size_t n = 0;
    if (bounces_attribute(cli->store, rep.found, rep.n,
                          rep.has_return_path ? rep.return_path_supporter_id : 0, attr, &n) != 0) {
        fprintf(stderr, "muster: bounce: %s: the store failed\n", cli_text(where));
        return OUTCOME_STORE_FAILED;
    }
    if (n == 0) {
        fprintf(
            stderr,
            "muster: bounce: %s: its return path names a supporter erased since: nothing to do\n",
            cli_text(where));
        return OUTCOME_PROCESSED;
    }
    int64_t now = tz_now();
    for (size_t i = 0; i < n; i++) {
        const char *result;
        if (o->dry_run) {
            result = attr[i].kind == BOUNCE_TEMPORARY ? "would-count" : "would-suppress";
        } else {
            int suppressed = 0;
            int rc = bounces_record(cli->store, &attr[i], now, &suppressed);
            if (rc < 0) {
                fprintf(stderr, "muster: bounce: %s: the store failed\n", cli_text(where));
                return OUTCOME_STORE_FAILED;
            }
            result = rc == 1 ? "not-an-address" : suppressed ? "suppressed" : "counted";
        }
        printf("%s %s %s campaign=%lld by=%s reason: %s\n", bounce_kind_name(attr[i].kind),
               cli_text(attr[i].address), result, (long long)attr[i].campaign_id,
               attr[i].via_return_path ? "return-path" : "report", cli_text(attr[i].reason));
    }
    fflush(stdout);
    return OUTCOME_PROCESSED;
}

static int read_all(int fd, struct buf *b)
{
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        if (b->len + (size_t)r > BOUNCE_INPUT_MAX)
            return -2;
        buf_append(b, chunk, (size_t)r);
        if (buf_failed(b))
            return -1;
    }
}

/* mkdir DIR/.NAME and its tmp, new, cur (0700); 0 or -1. */
static int maildir_folder(const char *dir, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/.%s", dir, name);
    const char *subs[] = {"", "/tmp", "/new", "/cur"};
    for (size_t i = 0; i < 4; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", path, subs[i]);
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int bounce_maildir(struct cli *cli, const struct bounce_opts *o, const char *dir)
{
    char processed[4096], kept[4096];
    if (!o->dry_run && (maildir_folder(dir, "Processed", processed, sizeof processed) != 0 ||
                        maildir_folder(dir, "Unattributed", kept, sizeof kept) != 0))
        return cli_fail(EXIT_RUNTIME,
                        "bounce: cannot make the folders .Processed and "
                        ".Unattributed in %s: %s",
                        dir, strerror(errno));
    long counts[4] = {0, 0, 0, 0};
    const char *subs[] = {"new", "cur"};
    for (size_t s = 0; s < 2; s++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[s]);
        DIR *d = opendir(sub);
        if (!d)
            return cli_fail(EXIT_USAGE, "bounce: %s is not a Maildir (cannot open %s: %s)", dir,
                            sub, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            int fd = open(path, O_RDONLY | O_NOFOLLOW);
            if (fd < 0)
                continue; /* moved by another reader meanwhile */
            struct buf b;
            buf_init(&b, 0);
            int rr = read_all(fd, &b);
            close(fd);
            enum outcome oc;
            if (rr == -1) {
                buf_release(&b);
                closedir(d);
                return cli_fail(EXIT_RUNTIME, "bounce: cannot read %s", path);
            }
            if (rr == -2) {
                fprintf(stderr, "muster: bounce: %s: not a bounce: larger than %d bytes\n",
                        cli_text(path), BOUNCE_INPUT_MAX);
                oc = OUTCOME_NOT_BOUNCE;
            } else {
                oc = bounce_one(cli, o, path, b.data ? b.data : "", b.len);
            }
            buf_release(&b);
            if (oc == OUTCOME_STORE_FAILED) {
                closedir(d);
                return EXIT_RUNTIME;
            }
            counts[oc]++;
            if (o->dry_run)
                continue;
            char dest[8192];
            const char *info = (s == 0 && !strstr(e->d_name, ":2,")) ? ":2," : "";
            snprintf(dest, sizeof dest, "%s/cur/%s%s", oc == OUTCOME_PROCESSED ? processed : kept,
                     e->d_name, info);
            if (rename(path, dest) != 0) {
                closedir(d);
                return cli_fail(EXIT_RUNTIME, "bounce: cannot move %s to %s: %s", path, dest,
                                strerror(errno));
            }
        }
        closedir(d);
    }
    fprintf(stderr, "muster: bounce: %s: %ld processed, %ld unattributed, %ld not bounces%s\n",
            cli_text(dir), counts[OUTCOME_PROCESSED], counts[OUTCOME_UNATTRIBUTED],
            counts[OUTCOME_NOT_BOUNCE], o->dry_run ? " (dry run: nothing moved or recorded)" : "");
    return EXIT_OK;
}

int cmd_bounce(struct cli *cli, int argc, char **argv)
{
    struct bounce_opts o = {0, 0};
    const char *maildir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            o.dry_run = 1;
        else if (strcmp(argv[i], "--require-token") == 0)
            o.require_token = 1;
        else if (strcmp(argv[i], "--maildir") == 0 && i + 1 < argc)
            maildir = argv[++i];
        else
            return cli_fail(EXIT_USAGE, "%s", bounce_usage);
    }
    if (o.require_token && !cli->cfg.bounce_address)
        return cli_fail(EXIT_USAGE, "bounce: --require-token needs MUSTER_BOUNCE_ADDRESS");
    if (maildir)
        return bounce_maildir(cli, &o, maildir);
    struct buf b;
    buf_init(&b, 0);
    int rr = read_all(STDIN_FILENO, &b);
    if (rr == -1) {
        buf_release(&b);
        return cli_fail(EX_TEMPFAIL_CODE, "bounce: cannot read the message on stdin");
    }
    if (rr == -2) {
        buf_release(&b);
        return cli_fail(EXIT_USAGE, "bounce: stdin: not a bounce: larger than %d bytes",
                        BOUNCE_INPUT_MAX);
    }
    enum outcome oc = bounce_one(cli, &o, "stdin", b.data ? b.data : "", b.len);
    buf_release(&b);
    switch (oc) {
    case OUTCOME_PROCESSED:
        return EXIT_OK;
    case OUTCOME_STORE_FAILED:
        return EX_TEMPFAIL_CODE;
    case OUTCOME_NOT_BOUNCE:
    case OUTCOME_UNATTRIBUTED:
        break;
    }
    return EXIT_USAGE;
}
