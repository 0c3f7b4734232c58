/*
 * cmd_import: `muster import SLUG FILE.csv [--strict]`: supporters with an
 * explicit consent column. The header row names the columns: `email` and
 * `consent` are required; `name`, `timezone`, `consented_at` (ISO 8601 UTC)
 * optional. A row is imported only when consent is yes/true/1; every other
 * row is refused and reported on stderr with its line and why. The others
 * are imported and the exit code is 0; with --strict one refused row imports
 * nothing (exit 2). Imported supporters count as confirmed (their consent was
 * collected elsewhere and is recorded as such). All rows go in one
 * transaction: a store failure imports nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/tz.h"
#include "exchange/csv_io.h"
#include "store/store.h"
#include "core/banned.h"

#define IMPORT_MAX (64 * 1024 * 1024)

/* The rows are read and checked by exchange/csv_io.c, shared with the
 * dashboard's import form; this prints what it reports. */
static void note_row(void *ctx, int line, int refused, const char *why)
{
    fprintf(stderr, "%s:%d: %s: %s\n", cli_text(ctx), line, refused ? "refused" : "skipped",
            cli_text(why));
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
    const char *args[2] = {NULL, NULL};
    int nargs = 0, strict = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0)
            strict = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, "import: unknown option '%s'", argv[i]);
        else if (nargs < 2)
            args[nargs++] = argv[i];
        else
            nargs = 3;
    }
    if (nargs != 2)
        return cli_fail(EXIT_USAGE, "usage: muster import SLUG FILE.csv [--strict]");
    const char *slug = args[0], *path = args[1];
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, slug, &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", slug);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", slug);
    int64_t campaign_id = row.id;
    campaign_row_release(&row);

    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_fail(EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
    struct buf data;
    buf_init(&data, IMPORT_MAX);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&data, chunk, got) != 0)
            break;
    fclose(f);
    if (buf_failed(&data)) {
        buf_release(&data);
        return cli_fail(EXIT_USAGE, "%s: larger than %d bytes", path, IMPORT_MAX);
    }
    struct csv_import_result res;
    int result = EXIT_OK;
    switch (csv_import(cli->store, campaign_id, buf_cstr(&data), data.len, tz_now(), strict,
                       note_row, (void *)path, &res)) {
    case CSV_IMPORT_OK:
        /* Refused rows were reported on stderr, each with its line; the
         * others are in, so this is a success. */
        printf("imported %ld supporters, refused %ld, skipped %ld already present\n", res.imported,
               res.refused, res.duplicates);
        break;
    case CSV_IMPORT_REFUSED:
        result = cli_fail(EXIT_USAGE, "%s: %ld row%s refused (--strict); nothing was imported",
                          path, res.refused, res.refused == 1 ? "" : "s");
        break;
    case CSV_IMPORT_NO_HEADER:
        result = cli_fail(EXIT_USAGE, "%s: no header row", path);
        break;
    case CSV_IMPORT_BAD_HEADER:
        result =
            cli_fail(EXIT_USAGE, "%s:1: the header needs an 'email' and a 'consent' column", path);
        break;
    case CSV_IMPORT_BAD_CSV:
        result = cli_fail(EXIT_USAGE, "%s:%s; nothing was imported", path, res.error);
        break;
    case CSV_IMPORT_BUSY:
        result = cli_fail(EXIT_RUNTIME, "import: the store is busy");
        break;
    default:
        result = cli_fail(EXIT_RUNTIME, "import: the store failed; nothing was imported");
        break;
    }
    buf_release(&data);
    return result;
}
