/*
 * main: argv -> the command table (src/cli/commands.c). Nothing else.
 */
#include "cli/commands.h"

int main(int argc, char **argv)
{
    int rc = cli_main(argc, argv);
    cli_text_release();
    return rc;
}
