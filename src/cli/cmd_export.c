/*
 * cmd_export: `muster export SLUG supporters|clicks [--out FILE]`: RFC 4180
 * CSV (UTF-8, CRLF), every cell through escape_csv, so a cell starting with
 * = + - @ TAB or CR cannot run as a spreadsheet formula.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/escape.h"
#include "store/store.h"
#include "core/banned.h"

struct csv_out {
    FILE *f;
    struct buf line;
    long rows;
    int failed;
};

static int write_row(void *vctx, const char *const *values, int count)
{
    struct csv_out *out = vctx;
    buf_reset(&out->line);
    for (int i = 0; i < count; i++) {
        if (i)
            buf_putc(&out->line, ',');
        escape_csv(&out->line, values[i]);
    }
    buf_puts(&out->line, "\r\n");
    if (buf_failed(&out->line) || fwrite(out->line.data, 1, out->line.len, out->f) != out->line.len) {
        out->failed = 1;
        return 1;
    }
    out->rows++;
    return 0;
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
    struct csv_out out = {path ? fopen(path, "wb") : stdout, BUF_INIT, 0, 0};
    if (!out.f)
        return cli_fail(EXIT_RUNTIME, "export: cannot write %s: %s", path, strerror(errno));
    static const char *const supporter_header[] = {
        "email",      "name",         "statement",       "timezone",
        "status",     "pledged_at",   "confirmed_at",    "unsubscribed_at",
        "consent_at", "consent_text", "source",          "target"};
    static const char *const click_header[] = {"at", "target", "rerouted", "email"};
    write_row(&out, supporters ? supporter_header : click_header, supporters ? 12 : 4);
    out.rows = 0;
    rc = supporters ? store_export_supporters(cli->store, id, write_row, &out)
                    : store_export_clicks(cli->store, id, write_row, &out);
    int closed = path ? fclose(out.f) : fflush(out.f);
    buf_release(&out.line);
    if (rc != 0 || out.failed || closed != 0)
        return cli_fail(EXIT_RUNTIME, "export: failed after %ld rows", out.rows);
    if (path)
        fprintf(stderr, "exported %ld %s to %s\n", out.rows, what, path);
    return EXIT_OK;
}
