/*
 * cmd_campaign: `muster campaign apply FILE [--dry-run]`, `campaign list`,
 * `campaign show SLUG` (with the organizers' roles on it), `campaign grant
 * SLUG EMAIL owner|editor|viewer` and `campaign revoke SLUG EMAIL`. apply
 * validates the whole file first and changes nothing when it is invalid
 * (every error on stderr, exit code 2). The command line is the server
 * operator's: it may grant on any campaign.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/access.h"
#include "service/cache.h"
#include "campaign/campaign.h"
#include "cli/commands.h"
#include "service/campaigns.h"
#include "core/buf.h"
#include "core/tz.h"
#include "mail/message.h"
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

/* Warnings about a valid launch moment, on stderr (docs/CAMPAIGN.md, "The
 * launch moment"): a wall time that occurs twice (the first is used), and a
 * moment that has passed (applied anyway: a campaign may be recorded after
 * its day), unless the campaign already launched and keeps its moment. */
static void warn_about_the_moment(struct cli *cli, const char *path, const struct campaign *c)
{
    char first[128], second[128], iso[21];
    if (c->launch_utc_later != c->launch_utc) {
        if (tz_format(c->launch_utc, c->timezone, first, sizeof first) != 0)
            tz_iso_utc(c->launch_utc, first);
        if (tz_format(c->launch_utc_later, c->timezone, second, sizeof second) != 0)
            tz_iso_utc(c->launch_utc_later, second);
        tz_iso_utc(c->launch_utc, iso);
        fprintf(stderr,
                "muster: warning: %s: $.launch.at: \"%s\" occurs twice in %s (the clocks go "
                "back); using the first, %s (%s), not the second, %s\n",
                path, c->launch_at, c->timezone, first, iso, second);
    }
    int64_t now = tz_now();
    if (c->launch_utc >= now)
        return;
    struct campaign_row row;
    int launched = 0;
    if (store_campaign_get(cli->store, c->slug, &row) == 0) {
        launched = row.launched_at != 0;
        campaign_row_release(&row);
    }
    if (launched)
        return;
    tz_iso_utc(c->launch_utc, iso);
    fprintf(stderr,
            "muster: warning: %s: $.launch.at: the moment has passed (%s); the campaign is "
            "applied anyway, and its links say that the moment has passed\n",
            path, iso);
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
    int rc = cli_campaign_apply_text(cli, path, buf_cstr(&text), text.len, dry_run);
    buf_release(&text);
    return rc;
}

int cli_campaign_apply_text(struct cli *cli, const char *path, const char *text, size_t len,
                            int dry_run)
{
    char err[512];
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(text, len, path, &c, &errors) != 0) {
        fputs(buf_cstr(&errors), stderr);
        if (errors.len && errors.data[errors.len - 1] != '\n')
            fputc('\n', stderr);
        buf_release(&errors);
        return EXIT_USAGE;
    }
    buf_release(&errors);
    warn_about_the_moment(cli, path, c);
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
    struct grant_row *grants = NULL;
    size_t ngrants = 0;
    rc = store_grants_of_campaign(cli->store, row.id, &grants, &ngrants);
    campaign_row_release(&row);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read the roles on campaign '%s'", slug);
    printf("roles:%s\n", ngrants ? "" : "       none (administrators only)");
    for (size_t i = 0; i < ngrants; i++) {
        char since[21];
        tz_iso_utc(grants[i].granted_at, since);
        printf("  %-32s %-7s since %s\n", cli_text(grants[i].email),
               access_role_name(grants[i].role), since);
    }
    free(grants);
    return EXIT_OK;
}

/* The campaign's and the organizer's ids, or the exit code of the failure. */
static int grant_subjects(struct cli *cli, const char *what, const char *slug, const char *email,
                          int64_t *campaign_id, int64_t *organizer_id)
{
    if (!mail_address_valid(email))
        return cli_fail(EXIT_USAGE, "campaign %s: '%s' is not a valid email address", what, email);
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, slug, &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "campaign %s: no campaign '%s'", what, slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "campaign %s: could not read campaign '%s'", what, slug);
    *campaign_id = row.id;
    campaign_row_release(&row);
    char *hash = NULL;
    rc = store_organizer_get(cli->store, email, organizer_id, &hash);
    free(hash);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE,
                        "campaign %s: no organizer %s (add one with `muster organizer add`)", what,
                        email);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "campaign %s: could not read the organizer", what);
    return EXIT_OK;
}

static int campaign_grant(struct cli *cli, const char *slug, const char *email, const char *word)
{
    enum campaign_role role;
    if (access_role_parse(word, &role) != 0)
        return cli_fail(EXIT_USAGE,
                        "campaign grant: the role must be owner, editor or viewer, not "
                        "'%s'",
                        word);
    int64_t campaign_id, organizer_id;
    int code = grant_subjects(cli, "grant", slug, email, &campaign_id, &organizer_id);
    if (code != EXIT_OK)
        return code;
    if (store_grant_set(cli->store, campaign_id, organizer_id, role, tz_now()) != 0)
        return cli_fail(EXIT_RUNTIME, "campaign grant: could not store the role");
    printf("%s is now %s of %s\n", cli_text(email), access_role_name(role), cli_text(slug));
    return EXIT_OK;
}

static int campaign_revoke(struct cli *cli, const char *slug, const char *email)
{
    int64_t campaign_id, organizer_id;
    int code = grant_subjects(cli, "revoke", slug, email, &campaign_id, &organizer_id);
    if (code != EXIT_OK)
        return code;
    int rc = store_grant_delete(cli->store, campaign_id, organizer_id);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "campaign revoke: %s has no role on %s", email, slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "campaign revoke: could not remove the role");
    printf("%s has no role on %s any more\n", cli_text(email), cli_text(slug));
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
    if (argc == 5 && strcmp(argv[1], "grant") == 0)
        return campaign_grant(cli, argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "revoke") == 0)
        return campaign_revoke(cli, argv[2], argv[3]);
    return cli_fail(EXIT_USAGE, "usage: muster campaign apply FILE [--dry-run] | list | show SLUG "
                                "| grant SLUG EMAIL owner|editor|viewer | revoke SLUG EMAIL");
}
