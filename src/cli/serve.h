/*
 * serve: the long-running part of `muster serve`, shared with `muster demo`.
 */
#ifndef MUSTER_CLI_SERVE_H
#define MUSTER_CLI_SERVE_H

struct cli;

/* Serves until SIGTERM/SIGINT; returns the exit code. */
int serve_run(struct cli *cli);

#endif
