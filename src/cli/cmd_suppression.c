/*
 * cmd_suppression: `muster suppression list [--json] | add EMAIL [--reason
 * TEXT] | remove EMAIL`: shows and edits the suppression list
 * (docs/DELIVERABILITY.md). Everything printed that muster did not write
 * itself (addresses, reasons, slugs) goes through cli_text, or through
 * jansson's escaping with --json.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/tz.h"
#include "mail/message.h"
#include "service/suppression.h"
#include "store/store.h"
#include "store/store_suppression.h"
#include "core/banned.h"

#define USAGE "usage: muster suppression list [--json] | add EMAIL [--reason TEXT] | remove EMAIL"

struct list_ctx {
    json_t *rows; /* --json: the array, else NULL */
    int failed;
    struct suppression_slugs slugs;
};

static void iso_utc(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "%lld", (long long)t);
}

static int list_row(void *vctx, const struct suppression_entry *e)
{
    struct list_ctx *ctx = vctx;
    char at[32];
    iso_utc(e->created_at, at);
    const char *slug = suppression_campaign_slug(&ctx->slugs, e->campaign_id);
    const char *kind = suppression_kind_name(e->kind);
    if (ctx->rows) {
        json_t *o = json_pack("{s:s?, s:s, s:s, s:I, s:s, s:s}", "address", e->address, "kind",
                              kind ? kind : "?", "at", at, "at_unix", (json_int_t)e->created_at,
                              "campaign", slug, "reason", e->reason ? e->reason : "");
        if (!o || json_array_append_new(ctx->rows, o) != 0) {
            ctx->failed = 1;
            return 1;
        }
        return 0;
    }
    printf("%s  %-9s  %-20s  %s  %s\n", at, kind ? kind : "?", cli_text(slug),
           e->address ? cli_text(e->address) : "(erased)", cli_text(e->reason ? e->reason : ""));
    return 0;
}

static void print_json(json_t *doc)
{
    /* As `stats --json`: on a terminal every character beyond ASCII is a \u
     * escape, and so is DEL. */
    int tty = isatty(STDOUT_FILENO);
    size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    if (tty)
        flags |= JSON_ENSURE_ASCII;
    char *text = json_dumps(doc, flags);
    for (const char *p = text; p && *p; p++) {
        if (tty && *p == 0x7f)
            fputs("\\u007f", stdout);
        else
            putchar(*p);
    }
    if (text)
        putchar('\n');
    free(text);
}

static int list(struct cli *cli, int json)
{
    struct list_ctx ctx = {.slugs = {.st = cli->store}};
    if (json) {
        ctx.rows = json_array();
        if (!ctx.rows)
            return cli_fail(EXIT_RUNTIME, "suppression list: out of memory");
    } else {
        int64_t n = 0;
        if (store_suppression_count(cli->store, &n) != 0)
            return cli_fail(EXIT_RUNTIME, "suppression list: the store failed");
        printf("%lld suppressed address%s (time UTC, kind, campaign, address, reason)\n",
               (long long)n, n == 1 ? "" : "es");
    }
    int rc = store_suppression_each(cli->store, list_row, &ctx);
    if (rc != 0 || ctx.failed || ctx.slugs.failed) {
        json_decref(ctx.rows);
        return cli_fail(EXIT_RUNTIME, "suppression list: the store failed");
    }
    if (json) {
        print_json(ctx.rows);
        json_decref(ctx.rows);
    }
    return EXIT_OK;
}

int cmd_suppression(struct cli *cli, int argc, char **argv)
{
    if (argc < 2)
        return cli_fail(EXIT_USAGE, USAGE);
    const char *verb = argv[1];
    if (strcmp(verb, "list") == 0) {
        int json = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--json") == 0)
                json = 1;
            else
                return cli_fail(EXIT_USAGE, "suppression list: unknown argument '%s'", argv[i]);
        }
        return list(cli, json);
    }
    if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
        return cli_fail(EXIT_USAGE, "%s", USAGE);
    const char *email = NULL, *reason = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(verb, "add") == 0 && strcmp(argv[i], "--reason") == 0) {
            if (i + 1 >= argc)
                return cli_fail(EXIT_USAGE, "suppression add: --reason needs a value");
            reason = argv[++i];
        } else if (!email && argv[i][0] != '-') {
            email = argv[i];
        } else {
            return cli_fail(EXIT_USAGE, "suppression %s: unknown argument '%s'", verb, argv[i]);
        }
    }
    if (!email)
        return cli_fail(EXIT_USAGE, "%s", USAGE);
    char norm[SUPPRESSION_ADDRESS_MAX + 1];
    if (suppression_normalize(email, norm) != 0 || !mail_address_valid(norm))
        return cli_fail(EXIT_USAGE, "suppression %s: '%s' is not a valid email address", verb,
                        email);
    if (strcmp(verb, "add") == 0) {
        if (reason && strlen(reason) > SUPPRESSION_REASON_MAX)
            return cli_fail(EXIT_USAGE,
                            "suppression add: the reason is %zu bytes; at most %d are kept",
                            strlen(reason), SUPPRESSION_REASON_MAX);
        int added = 0;
        if (suppression_add_manual(cli->store, norm, reason, tz_now(), &added) != 0)
            return cli_fail(EXIT_RUNTIME, "suppression add: the store failed; nothing was added");
        printf(added ? "suppressed %s\n" : "%s was already suppressed (its entry is unchanged)\n",
               cli_text(norm));
        return EXIT_OK;
    }
    int removed = 0;
    if (suppression_remove(cli->store, norm, &removed) != 0)
        return cli_fail(EXIT_RUNTIME, "suppression remove: the store failed; nothing was removed");
    if (!removed)
        return cli_fail(EXIT_USAGE, "suppression remove: %s is not on the suppression list", norm);
    printf("%s is no longer suppressed\n", cli_text(norm));
    return EXIT_OK;
}
