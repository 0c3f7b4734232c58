/*
 * cmd_init: `muster init` creates or upgrades the database (cli_main already
 * opened and migrated it) and prints where it is, without a password.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "store/store.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster init");
    char shown[512];
    store_location_redact(cli->cfg.db, shown, sizeof shown); /* never a password */
    printf("database %s ready (schema version %d)\n", shown, store_schema_version(cli->store));
    return EXIT_OK;
}
