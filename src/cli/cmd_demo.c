/*
 * cmd_demo: `muster demo`: the database (cli_main made it), the bundled demo
 * campaign (examples/docs-day.json, or MUSTER_DEMO_FILE), then serve, after
 * printing the URLs to open and where the mail goes. The file's launch moment
 * is a fixed date; the demo's is two days from now, on the hour, in the
 * campaign's time zone, so a first visit finds a campaign still to come (the
 * file on disk is not changed).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/serve.h"
#include "core/tz.h"
#include "core/banned.h"

#define DEMO_LEAD_SECONDS (2 * 24 * 3600)

/* The demo's moment as a wall time in tz: now + two days, up to the next
 * whole hour of that zone (a wall time that does not exist is moved on by an
 * hour). Returns 0, or -1 when the zone is unknown. */
static int demo_launch_at(int64_t now, const char *tz, char out[20])
{
    int64_t t = now + DEMO_LEAD_SECONDS + 3599;
    for (int tries = 0; tries < 3; tries++, t += 3600) {
        char wall[20];
        if (tz_local_iso(t, tz, wall) != 0)
            return -1;
        memcpy(wall + 13, ":00:00", 7); /* "YYYY-MM-DDTHH" + ":00:00" */
        int64_t first, later;
        enum tz_local_kind kind;
        if (tz_local_resolve(wall, tz, &first, &later, &kind) == 0 && kind != TZ_LOCAL_NEVER) {
            memcpy(out, wall, 20);
            return 0;
        }
    }
    return -1;
}

/* The file's text with launch.at replaced by the demo's moment; caller frees.
 * NULL (with a message printed) when the file cannot be read or is no JSON
 * object with launch.timezone: then the file is applied as it is, and apply
 * reports what is wrong with it. */
static char *with_demo_moment(const char *file)
{
    json_error_t jerr;
    json_t *root = json_load_file(file, 0, &jerr);
    if (!root)
        return NULL;
    char *text = NULL;
    json_t *launch = json_object_get(root, "launch");
    const char *tz = json_string_value(json_object_get(launch, "timezone"));
    char at[20];
    if (json_is_object(launch) && tz && demo_launch_at(tz_now(), tz, at) == 0 &&
        json_object_set_new(launch, "at", json_string(at)) == 0)
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster demo");
    const char *file = getenv("MUSTER_DEMO_FILE");
    if (!file || !*file)
        file = "examples/docs-day.json";
    int rc;
    char *text = with_demo_moment(file);
    if (text) {
        rc = cli_campaign_apply_text(cli, file, text, strlen(text), 0);
        free(text);
    } else {
        char *apply_argv[] = {"campaign", "apply", (char *)file, NULL};
        rc = cmd_campaign(cli, 3, apply_argv);
    }
    if (rc != EXIT_OK)
        return rc;
    printf("\nmuster demo is ready.\n\n"
           "  Pledge page:   %s/c/docs-day\n"
           "  Mail:          %s\n"
           "  Launch now:    build/muster launch docs-day   (in another terminal)\n"
           "  Stats:         build/muster stats docs-day\n\n"
           "Pledge in the browser, then open the newest file in %s/new/ (or the link\n"
           "logged below) to confirm. Stop with Ctrl-C.\n\n",
           cli->cfg.base_url, cli->cfg.smtp ? cli->cfg.smtp : cli->cfg.maildir, cli->cfg.maildir);
    fflush(stdout);
    return serve_run(cli);
}
