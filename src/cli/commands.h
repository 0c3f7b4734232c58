/*
 * commands: the command table, one entry per subcommand, each implemented in
 * its own cmd_*.c file (after git's builtin/). cli_main parses the global
 * flags, loads the configuration, opens the store for commands that need it,
 * and dispatches.
 */
#ifndef MUSTER_CLI_COMMANDS_H
#define MUSTER_CLI_COMMANDS_H

#include <stddef.h>

#include "core/config.h"

struct store;

/* Exit codes (README.md): 0 success, 1 runtime failure, 2 bad usage or input. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cli {
    struct config cfg;
    struct store *store; /* opened for commands with CMD_STORE, else NULL */
};

int cli_main(int argc, char **argv);

/* Each handler gets argv with argv[0] = the command name. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_campaign(struct cli *cli, int argc, char **argv);
int cmd_target(struct cli *cli, int argc, char **argv);
int cmd_launch(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_supporter(struct cli *cli, int argc, char **argv);
int cmd_suppression(struct cli *cli, int argc, char **argv);
int cmd_organizer(struct cli *cli, int argc, char **argv);
int cmd_routes(struct cli *cli, int argc, char **argv);
int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_dkim_record(struct cli *cli, int argc, char **argv);
int cmd_bounce(struct cli *cli, int argc, char **argv);

/* Stored or typed text made safe to print for a person (escape_terminal:
 * control, C1 and bidi characters and invalid UTF-8 become visible escapes).
 * Every value the CLI prints that it did not write itself goes through it.
 * The result lives until 8 more calls. */
const char *cli_text(const char *s);
/* Frees what cli_text keeps (at exit). */
void cli_text_release(void);

/* `campaign apply` of a file's text (path names it in messages): the errors,
 * the warnings and the result as for a file. Returns an exit code. */
int cli_campaign_apply_text(struct cli *cli, const char *path, const char *text, size_t len,
                            int dry_run);

/* Prints "muster: " + message to stderr, the message through cli_text;
 * returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
