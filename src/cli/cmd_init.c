/*
 * cmd_init: `muster init` creates or upgrades the database (cli_main already
 * opened and migrated it) and prints where it is.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "store/store.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster init");
    printf("database %s ready (schema version %d)\n", cli->cfg.db,
           store_schema_version(cli->store));
    return EXIT_OK;
}
