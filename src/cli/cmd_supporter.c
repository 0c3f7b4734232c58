/*
 * cmd_supporter: `muster supporter erase EMAIL`: removes the person's data
 * from every campaign (email, name, statement, time zone, IP, choices), cancels
 * their unsent mail and revokes their links; the anonymous counts stay.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "service/pledges.h"
#include "core/tz.h"
#include "mail/message.h"
#include "store/store.h"
#include "core/banned.h"

int cmd_supporter(struct cli *cli, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "erase") != 0)
        return cli_fail(EXIT_USAGE, "usage: muster supporter erase EMAIL");
    if (!mail_address_valid(argv[2]))
        return cli_fail(EXIT_USAGE, "supporter erase: '%s' is not a valid email address", argv[2]);
    int count = 0;
    if (pledges_erase(cli->store, argv[2], tz_now(), &count) != 0)
        return cli_fail(EXIT_RUNTIME, "supporter erase: the store failed; nothing was erased");
    printf("erased %d pledge%s of that address (anonymous counts kept)\n", count,
           count == 1 ? "" : "s");
    return EXIT_OK;
}
