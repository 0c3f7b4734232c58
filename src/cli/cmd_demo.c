/*
 * cmd_demo: `muster demo`: the database (cli_main made it), the bundled demo
 * campaign (examples/docs-day.json, or MUSTER_DEMO_FILE), then serve, after
 * printing the URLs to open and where the mail goes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/serve.h"
#include "core/banned.h"

int cmd_demo(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster demo");
    const char *file = getenv("MUSTER_DEMO_FILE");
    if (!file || !*file)
        file = "examples/docs-day.json";
    char *apply_argv[] = {"campaign", "apply", (char *)file, NULL};
    int rc = cmd_campaign(cli, 3, apply_argv);
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
