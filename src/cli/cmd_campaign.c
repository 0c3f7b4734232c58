/*
 * cmd_campaign: `muster campaign apply FILE [--dry-run]`, `campaign list`,
 * `campaign show SLUG`. apply validates the whole file first and changes
 * nothing when it is invalid (every error on stderr, exit code 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/cache.h"
#include "campaign/campaign.h"
#include "cli/commands.h"
#include "service/campaigns.h"
#include "core/buf.h"
#include "core/tz.h"
#include "store/store.h"
#include "core/banned.h"

#define CAMPAIGN_FILE_MAX (1024 * 1024)

/* Reads a whole file into out (capped). Returns 0, or -1 with err set. */
static int read_file(const char *path, struct buf *out, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(out, chunk, got) != 0) {
            snprintf(err, n, "%s: larger than %d bytes", path, CAMPAIGN_FILE_MAX);
            fclose(f);
            return -1;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, n, "%s: cannot read", path);
        return -1;
    }
    return 0;
}

static int campaign_apply(struct cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    int dry_run = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, "campaign apply: unknown option '%s'", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return cli_fail(EXIT_USAGE, "usage: muster campaign apply FILE [--dry-run]");
    }
    if (!path)
        return cli_fail(EXIT_USAGE, "usage: muster campaign apply FILE [--dry-run]");
    struct buf text;
    buf_init(&text, CAMPAIGN_FILE_MAX);
    char err[512];
    if (read_file(path, &text, err, sizeof err) != 0) {
        buf_release(&text);
        return cli_fail(EXIT_USAGE, "%s", err);
    }
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(buf_cstr(&text), text.len, path, &c, &errors) != 0) {
        fputs(buf_cstr(&errors), stderr);
        if (errors.len && errors.data[errors.len - 1] != '\n')
            fputc('\n', stderr);
        buf_release(&errors);
        buf_release(&text);
        return EXIT_USAGE;
    }
    buf_release(&errors);
    buf_release(&text);
    int rc = EXIT_OK;
    if (dry_run) {
        printf("%s: valid campaign '%s' with %zu target%s (nothing changed)\n", cli_text(path),
               cli_text(c->slug), c->target_count, c->target_count == 1 ? "" : "s");
    } else {
        enum apply_result result;
        int st = campaigns_apply(cli->store, c, tz_now(), &result, err, sizeof err);
        if (st == STORE_CONFLICT) {
            rc = cli_fail(EXIT_USAGE, "%s: %s", path, err);
        } else if (st != 0) {
            rc = cli_fail(EXIT_RUNTIME, "%s: could not store the campaign", path);
        } else {
            printf("%s campaign '%s' (%zu target%s)\n",
                   result == APPLY_CREATED   ? "created"
                   : result == APPLY_UPDATED ? "updated"
                                             : "unchanged",
                   cli_text(c->slug), c->target_count, c->target_count == 1 ? "" : "s");
        }
    }
    campaign_free(c);
    return rc;
}

static int campaign_list(struct cli *cli)
{
    struct buf slugs = BUF_INIT;
    if (store_campaign_slugs(cli->store, &slugs) != 0) {
        buf_release(&slugs);
        return cli_fail(EXIT_RUNTIME, "could not list campaigns");
    }
    if (!slugs.data) { /* no campaigns yet */
        buf_release(&slugs);
        return EXIT_OK;
    }
    char *save = NULL;
    for (char *slug = strtok_r(slugs.data, "\n", &save); slug; slug = strtok_r(NULL, "\n", &save)) {
        struct campaign_row row;
        const struct campaign *c;
        if (campaign_cache_get(cli->store, slug, &row, &c) != 0)
            continue;
        char when[40];
        tz_iso_utc(row.launch_utc, when);
        printf("%s\t%s\t%s\t%s\n", cli_text(row.slug), when,
               row.launched_at ? "launched" : "waiting", cli_text(c->title));
        campaign_row_release(&row);
    }
    buf_release(&slugs);
    return EXIT_OK;
}

static int campaign_show(struct cli *cli, const char *slug)
{
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(cli->store, slug, &row, &c);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", slug);
    char local[128], utc[21];
    if (tz_format(row.launch_utc, c->timezone, local, sizeof local) != 0)
        snprintf(local, sizeof local, "?");
    tz_iso_utc(row.launch_utc, utc);
    printf("slug:        %s\ntitle:       %s\nlaunch:      %s (%s) = %s\nwindow:      %d min\n"
           "state:       %s\nassignment:  %s\npage:        %s/c/%s\n",
           cli_text(row.slug), cli_text(c->title), cli_text(local), cli_text(c->timezone), utc,
           row.window_minutes, row.launched_at ? "launched" : "waiting for the moment",
           assignment_mode_name(c->assignment), cli_text(cli->cfg.base_url), cli_text(row.slug));
    struct target_list list;
    if (store_targets(cli->store, row.id, &list) == 0) {
        const struct target_row *targets = list.rows;
        size_t n = list.count;
        printf("targets:\n");
        for (size_t i = 0; i < n; i++) {
            const struct target_spec *t = campaign_target(c, targets[i].key);
            printf("  %-16s %-13s %-7s assigned %lld%s clicks %lld%s%s\n", cli_text(targets[i].key),
                   t ? target_kind_name(t->kind) : "-",
                   targets[i].removed ? "removed"
                   : targets[i].open  ? "open"
                                      : "closed",
                   (long long)targets[i].assigned, targets[i].cap >= 0 ? " (capped)" : "",
                   (long long)targets[i].clicks, targets[i].reason[0] ? " - " : "",
                   cli_text(targets[i].reason));
        }
        target_list_release(&list);
    }
    campaign_row_release(&row);
    return EXIT_OK;
}

int cmd_campaign(struct cli *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "apply") == 0)
        return campaign_apply(cli, argc, argv);
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return campaign_list(cli);
    if (argc == 3 && strcmp(argv[1], "show") == 0)
        return campaign_show(cli, argv[2]);
    return cli_fail(EXIT_USAGE, "usage: muster campaign apply FILE [--dry-run] | list | show SLUG");
}
