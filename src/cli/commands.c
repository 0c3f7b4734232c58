/*
 * commands: the command table and the dispatcher (after git.c). Each entry
 * names a handler in its own cmd_*.c file and says whether it needs the
 * store; cli_main handles the global flags (--db, --listen), loads the
 * configuration, opens the store and the server secret, and dispatches.
 */
#include "cli/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/cache.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/token.h"
#include "store/store.h"
#include "core/banned.h"

/* CMD_TEMPFAIL: a store that cannot be opened exits 75 (EX_TEMPFAIL), not 1,
 * so that a mail server piping a message to the command keeps it and retries. */
enum { CMD_STORE = 1, CMD_TEMPFAIL = 2 };

struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    unsigned flags;
    const char *usage;
};

static const struct command commands[] = {
    {"init", cmd_init, CMD_STORE, "init                      create or upgrade the database"},
    {"serve", cmd_serve, CMD_STORE, "serve                     HTTP server, scheduler and sender"},
    {"demo", cmd_demo, CMD_STORE, "demo                      init + demo campaign + serve"},
    {"campaign", cmd_campaign, CMD_STORE,
     "campaign apply FILE [--dry-run] | list | show SLUG\n"
     "                          | grant SLUG EMAIL owner|editor|viewer | revoke SLUG EMAIL"},
    {"target", cmd_target, CMD_STORE, "target close|open SLUG TARGET [--reason TEXT]"},
    {"launch", cmd_launch, CMD_STORE,
     "launch SLUG [--dry-run]   send the owed reminders now (also a missed launch)\n"
     "                          | SLUG --test ADDRESS   the reminder as a test, counting nothing\n"
     "                          | SLUG --pause [--reason TEXT] | SLUG --resume   for every sender"},
    {"stats", cmd_stats, CMD_STORE, "stats SLUG [--json]"},
    {"export", cmd_export, CMD_STORE, "export SLUG supporters|clicks [--out FILE]"},
    {"import", cmd_import, CMD_STORE, "import SLUG FILE.csv [--strict]"},
    {"supporter", cmd_supporter, CMD_STORE, "supporter erase EMAIL"},
    {"suppression", cmd_suppression, CMD_STORE,
     "suppression list [--json] | add EMAIL [--reason TEXT] | remove EMAIL\n"
     "                          the addresses that get no mail (docs/DELIVERABILITY.md)"},
    {"organizer", cmd_organizer, CMD_STORE,
     "organizer add EMAIL [--role admin|organizer] (default admin)\n"
     "                          | role EMAIL admin|organizer | token EMAIL [--days N] (default "
     "90)\n"
     "                          | tokens EMAIL | revoke-token EMAIL ID"},
    /* Opens its source and target itself: a missing source is not made. */
    {"migrate", cmd_migrate, 0,
     "migrate --to LOCATION     copy every row of MUSTER_DB into an empty database\n"
     "                          (postgresql://..., libpq key=value); docs/DEPLOYMENT.md"},
    {"bounce", cmd_bounce, CMD_STORE | CMD_TEMPFAIL,
     "bounce [--dry-run] [--require-token] [--maildir DIR]\n"
     "                          read bounces and complaints (stdin, or a Maildir's messages)"},
    {"routes", cmd_routes, 0, "routes                    print the HTTP route table"},
    {"dkim-record", cmd_dkim_record, 0,
     "dkim-record               print the DNS TXT record of MUSTER_DKIM_KEY"},
};

/* The ring of cli_text's results: each lives until CLI_TEXT_RING more calls. */
#define CLI_TEXT_RING 8
static struct buf cli_text_ring[CLI_TEXT_RING];
static size_t cli_text_next;

const char *cli_text(const char *s)
{
    struct buf *b = &cli_text_ring[cli_text_next];
    cli_text_next = (cli_text_next + 1) % CLI_TEXT_RING;
    if (b->limit == 0)
        buf_init(b, BUF_DEFAULT_LIMIT);
    buf_reset(b);
    if (escape_terminal(b, s) != 0)
        return "(too long to show)";
    return buf_cstr(b);
}

void cli_text_release(void)
{
    for (size_t i = 0; i < CLI_TEXT_RING; i++)
        buf_release(&cli_text_ring[i]);
}

int cli_fail(int code, const char *fmt, ...)
{
    /* The message may carry what someone typed or stored (a slug, a relay's
     * reply): neutralised as a whole. */
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "muster: %s\n", cli_text(message));
    return code;
}

static void usage(FILE *out)
{
    fputs("usage: muster [--db PATH] [--listen HOST:PORT] COMMAND [ARGS]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s\n", commands[i].usage);
    /* Every variable src/ reads (scripts/docs.sh checks); README.md says more. */
    fputs("\nenvironment (README.md, \"Configuration\"):\n"
          "  MUSTER_DB                 database: a path or sqlite:PATH (./muster.db), or\n"
          "                            postgresql://... or libpq key=value (PostgreSQL)\n"
          "  MUSTER_LISTEN             where serve listens (127.0.0.1:8080)\n"
          "  MUSTER_BASE_URL           the public URL every mailed link starts with\n"
          "  MUSTER_SMTP               smtp://host:port or smtps://user:pass@host (unset: Maildir)\n"
          "  MUSTER_MAILDIR            the Maildir without MUSTER_SMTP (./mail)\n"
          "  MUSTER_FROM               the sender address (muster@localhost)\n"
          "  MUSTER_BOUNCE_ADDRESS     local@domain: each message's envelope sender is\n"
          "                            local+TOKEN@domain, read back by `muster bounce` (unset:\n"
          "                            MUSTER_FROM)\n"
          "  MUSTER_PLEDGE_LIMIT       pledges per client IP per hour, 0: no limit (60)\n"
          "  MUSTER_TRUSTED_PROXIES    addresses whose X-Forwarded-For is believed (none)\n"
          "  MUSTER_MAX_CONNECTIONS_PER_IP  connections one address may hold, 0: no limit (128)\n"
          "  MUSTER_HEADER_TIMEOUT     seconds to send a whole request head (10)\n"
          "  MUSTER_BODY_TIMEOUT       seconds for a body, plus 1 per 4 KiB of it (10)\n"
          "  MUSTER_SEND_CONCURRENCY   SMTP connections per sender (20)\n"
          "  MUSTER_SEND_RATE          messages per second to the relay, 0: no limit (0)\n"
          "  MUSTER_SMTP_CLIENT        auto or curl (auto)\n"
          "  MUSTER_DOMAIN_LIMITS      file of per-domain pacing rules (built-in defaults)\n"
          "  MUSTER_DKIM_KEY           PEM private key (RSA or Ed25519): sign every mail (unset)\n"
          "  MUSTER_DKIM_SELECTOR      the selector of its DNS record, e.g. muster2026\n"
          "  MUSTER_DKIM_DOMAIN        the signing domain d=, e.g. the From domain\n"
          "  MUSTER_LEASE_SECONDS      how long a sender's claim on a mail lasts; a dead\n"
          "                            server's mail is taken over after it (120)\n"
          "  MUSTER_HTTP_THREADS       HTTP worker threads of serve (the number of cores)\n"
          "  MUSTER_HASH_THREADS       threads that check login passwords (the number of cores)\n"
          "  MUSTER_WAL_LIMIT_MB       bound of SQLite's write-ahead log while serving (64)\n"
          "  MUSTER_HASH_QUEUE         logins that may wait for one; more get 503 (64)\n"
          "  MUSTER_HOOK_SECRET        the secret of /hooks/bounces/postmark,\n"
          "                            16 characters or more (unset: it answers 404)\n"
          "  MUSTER_SENDGRID_KEY       SendGrid's webhook verification key, base64 as SendGrid\n"
          "                            shows it (unset: /hooks/bounces/sendgrid answers 404)\n"
          "  MUSTER_SES_CERT           PEM certificate signing the SNS topic's messages\n"
          "                            (unset: /hooks/bounces/ses answers 404)\n"
          "  MUSTER_SES_TOPIC_ARN      the one SNS topic accepted (unset: any)\n"
          "  MUSTER_WEBHOOK_ALLOW_PRIVATE  1: webhooks may go to private addresses (0)\n"
          "  MUSTER_WEBHOOK_BACKOFF_MS first webhook retry delay in ms, for tests (5000)\n"
          "  MUSTER_DEMO_FILE          the campaign `muster demo` applies\n"
          "                            (examples/docs-day.json)\n",
          out);
}

int cli_main(int argc, char **argv)
{
    int i = 1;
    /* Global flags come before the command and win over the environment. */
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        const char *env = strcmp(argv[i], "--db") == 0       ? "MUSTER_DB"
                          : strcmp(argv[i], "--listen") == 0 ? "MUSTER_LISTEN"
                                                             : NULL;
        if (!env)
            return cli_fail(EXIT_USAGE, "unknown option '%s' (try --help)", argv[i]);
        if (i + 1 >= argc)
            return cli_fail(EXIT_USAGE, "%s needs a value", argv[i]);
        setenv(env, argv[i + 1], 1);
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    const struct command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(commands[k].name, argv[i]) == 0)
            cmd = &commands[k];
    if (!cmd)
        return cli_fail(EXIT_USAGE, "unknown command '%s' (try --help)", argv[i]);

    struct cli cli;
    memset(&cli, 0, sizeof cli);
    char err[512];
    if (config_load(&cli.cfg, err, sizeof err) != 0) {
        config_release(&cli.cfg); /* what was allocated before the invalid value */
        return cli_fail(EXIT_USAGE, "%s", err);
    }
    if (cmd->flags & CMD_STORE) {
        if (store_location_check(cli.cfg.db, err, sizeof err) != 0) {
            config_release(&cli.cfg);
            return cli_fail(EXIT_USAGE, "%s", err);
        }
        int store_failure = (cmd->flags & CMD_TEMPFAIL) ? 75 : EXIT_RUNTIME;
        if (store_open(cli.cfg.db, &cli.store, err, sizeof err) != 0) {
            config_release(&cli.cfg);
            return cli_fail(store_failure, "%s", err);
        }
        unsigned char secret[TOKEN_SECRET_LEN];
        if (store_secret(cli.store, secret) != 0 || token_init(secret) != 0) {
            store_close(cli.store);
            char shown[512];
            store_location_redact(cli.cfg.db, shown, sizeof shown);
            int code = cli_fail(store_failure, "cannot read the server secret from %s", shown);
            config_release(&cli.cfg);
            return code;
        }
    }
    int rc = cmd->run(&cli, argc - i, argv + i);
    campaign_cache_release();
    store_close(cli.store);
    config_release(&cli.cfg);
    return rc;
}
