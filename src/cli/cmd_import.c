/*
 * cmd_import: `muster import SLUG FILE.csv`: supporters with an explicit
 * consent column. The header row names the columns: `email` and `consent`
 * are required; `name`, `timezone`, `consented_at` (ISO 8601 UTC) optional.
 * A row is imported only when consent is yes/true/1; every other row is
 * refused and reported with its line. Imported supporters count as confirmed
 * (their consent was collected elsewhere and is recorded as such). All rows
 * go in one transaction: a store failure imports nothing.
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
    if (argc != 3)
        return cli_fail(EXIT_USAGE, "usage: muster import SLUG FILE.csv");
    struct campaign_row row;
    int rc = store_campaign_get(cli->store, argv[1], &row);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "no campaign '%s'", argv[1]);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "could not read campaign '%s'", argv[1]);
    int64_t campaign_id = row.id;
    campaign_row_release(&row);

    FILE *f = fopen(argv[2], "rb");
    if (!f)
        return cli_fail(EXIT_USAGE, "%s: cannot open: %s", argv[2], strerror(errno));
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
        return cli_fail(EXIT_USAGE, "%s: larger than %d bytes", argv[2], IMPORT_MAX);
    }
    struct csv_import_result res;
    int result = EXIT_OK;
    switch (csv_import(cli->store, campaign_id, buf_cstr(&data), data.len, tz_now(), note_row,
                       argv[2], &res)) {
    case CSV_IMPORT_OK:
        printf("imported %ld supporters, refused %ld, skipped %ld already present\n", res.imported,
               res.refused, res.duplicates);
        if (res.refused)
            result = EXIT_USAGE;
        break;
    case CSV_IMPORT_NO_HEADER:
        result = cli_fail(EXIT_USAGE, "%s: no header row", argv[2]);
        break;
    case CSV_IMPORT_BAD_HEADER:
        result = cli_fail(EXIT_USAGE, "%s:1: the header needs an 'email' and a 'consent' column",
                          argv[2]);
        break;
    case CSV_IMPORT_BAD_CSV:
        result = cli_fail(EXIT_USAGE, "%s:%s; nothing was imported", argv[2], res.error);
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
