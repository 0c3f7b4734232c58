/*
 * cmd_export: `muster export SLUG supporters|clicks [--out FILE]`: RFC 4180
 * CSV (UTF-8, CRLF), every cell through escape_csv, so a cell starting with
 * = + - @ TAB or CR cannot run as a spreadsheet formula. Shown on a terminal,
 * the cells' control characters are neutralised too; a file or a pipe gets
 * the CSV byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/escape.h"
#include "exchange/csv_io.h"
#include "store/store.h"
#include "core/banned.h"

/* The CSV itself comes from exchange/csv_io.c, shared with the dashboard. */
static int write_file(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) != len;
}

/* On a terminal, a person reads it: control, C1 and bidi characters in the
 * cells become visible escapes (escape_terminal_lines keeps the line breaks).
 * csv_export hands whole rows, so no character is split between calls. A
 * file or a pipe gets the exact CSV. */
static int write_terminal(void *ctx, const char *data, size_t len)
{
    struct buf shown = BUF_INIT;
    int rc = escape_terminal_lines(&shown, data, len) != 0 ||
             fwrite(shown.data, 1, shown.len, (FILE *)ctx) != shown.len;
    buf_release(&shown);
    return rc;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
    const char *usage = "usage: muster export SLUG supporters|clicks [--out FILE]";
    if (argc != 3 && argc != 5)
        return cli_fail(EXIT_USAGE, "%s", usage);
    const char *slug = argv[1], *what = argv[2], *path = NULL;
    if (argc == 5) {
        if (strcmp(argv[3], "--out") != 0)
            return cli_fail(EXIT_USAGE, "%s", usage);
        path = argv[4];
    }
    int supporters = strcmp(what, "supporters") == 0;
    if (!supporters && strcmp(what, "clicks") != 0)
        return cli_fail(EXIT_USAGE, "export: '%s' is not supporters or clicks", what);
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, slug, &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", slug);
    int64_t id = row.id;
    campaign_row_release(&row);
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f)
        return cli_fail(EXIT_RUNTIME, "export: cannot write %s: %s", path, strerror(errno));
    long rows = 0;
    rc = csv_export(cli->store, id, supporters ? CSV_EXPORT_SUPPORTERS : CSV_EXPORT_CLICKS,
                    !path && isatty(STDOUT_FILENO) ? write_terminal : write_file, f, &rows);
    int closed = path ? fclose(f) : fflush(f);
    if (rc != 0 || closed != 0)
        return cli_fail(EXIT_RUNTIME, "export: failed after %ld rows", rows);
    if (path)
        fprintf(stderr, "exported %ld %s to %s\n", rows, what, cli_text(path));
    return EXIT_OK;
}
