/*
 * cmd_target: `muster target close|open SLUG TARGET [--reason TEXT]`. The
 * change is recorded with its time and reason and seen by a running server
 * at its next request.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "service/campaigns.h"
#include "core/tz.h"
#include "store/store.h"
#include "core/banned.h"

int cmd_target(struct cli *cli, int argc, char **argv)
{
    const char *usage = "usage: muster target close|open SLUG TARGET [--reason TEXT]";
    if (argc < 4 || (strcmp(argv[1], "close") != 0 && strcmp(argv[1], "open") != 0))
        return cli_fail(EXIT_USAGE, "%s", usage);
    const char *reason = "";
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else
            return cli_fail(EXIT_USAGE, "%s", usage);
    }
    if (strlen(reason) > 250)
        return cli_fail(EXIT_USAGE, "--reason: at most 250 characters");
    for (const char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20)
            return cli_fail(EXIT_USAGE, "--reason: no control characters or line breaks");
    int open = strcmp(argv[1], "open") == 0;
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, argv[2], &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", argv[2]);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", argv[2]);
    int changed = 0;
    rc = campaigns_target_set_open(cli->store, row.id, argv[3], open, reason, "cli", tz_now(),
                                   &changed);
    campaign_row_release(&row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "campaign '%s' has no target '%s'", argv[2], argv[3]);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not change target '%s'", argv[3]);
    printf("target '%s' of '%s' %s%s\n", cli_text(argv[3]), cli_text(argv[2]),
           changed ? "" : "was already ", open ? "open" : "closed");
    return EXIT_OK;
}
