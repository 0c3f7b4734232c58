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
#include <strings.h>
#include <time.h>

#include "cli/commands.h"
#include "core/csv.h"
#include "core/tz.h"
#include "mail/message.h"
#include "store/store.h"
#include "core/banned.h"

#define IMPORT_MAX (64 * 1024 * 1024)

static int column(const struct csv_reader *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcasecmp(r->fields[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *field(const struct csv_reader *r, int col)
{
    return col >= 0 && (size_t)col < r->count ? r->fields[col] : "";
}

static int consent_given(const char *v)
{
    return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
           strcasecmp(v, "y") == 0;
}

static int parse_utc(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (*end && strcmp(end, "Z") != 0))
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
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
    struct csv_reader r;
    csv_init(&r, buf_cstr(&data), data.len);
    char err[256];
    int result = EXIT_OK;
    long imported = 0, refused = 0, duplicates = 0;
    if (csv_next(&r, err, sizeof err) != 1) {
        result = cli_fail(EXIT_USAGE, "%s: no header row", argv[2]);
        goto out;
    }
    int c_email = column(&r, "email"), c_consent = column(&r, "consent"),
        c_name = column(&r, "name"), c_tz = column(&r, "timezone"),
        c_at = column(&r, "consented_at");
    if (c_email < 0 || c_consent < 0) {
        result = cli_fail(EXIT_USAGE, "%s:1: the header needs an 'email' and a 'consent' column",
                          argv[2]);
        goto out;
    }
    if (store_begin(cli->store) != 0) {
        result = cli_fail(EXIT_RUNTIME, "import: the store is busy");
        goto out;
    }
    int64_t now = tz_now();
    for (;;) {
        int got_row = csv_next(&r, err, sizeof err);
        if (got_row == 0)
            break;
        if (got_row < 0) {
            store_rollback(cli->store);
            result = cli_fail(EXIT_USAGE, "%s:%s; nothing was imported", argv[2], err);
            goto out;
        }
        if (r.count == 1 && r.fields[0][0] == '\0')
            continue; /* blank line */
        const char *email = field(&r, c_email), *tz = field(&r, c_tz);
        int64_t consent_at = now;
        const char *why = NULL;
        if (!consent_given(field(&r, c_consent)))
            why = "no consent (the consent column must say yes)";
        else if (!mail_address_valid(email))
            why = "not a valid email address";
        else if (*tz && !tz_valid(tz))
            why = "unknown time zone";
        else if (*field(&r, c_at) && parse_utc(field(&r, c_at), &consent_at) != 0)
            why = "consented_at is not YYYY-MM-DDTHH:MM:SSZ";
        else if (strlen(field(&r, c_name)) > 400)
            why = "name too long";
        if (why) {
            fprintf(stderr, "%s:%d: refused: %s\n", argv[2], r.record_line, why);
            refused++;
            continue;
        }
        rc = store_import_supporter(cli->store, campaign_id, email, field(&r, c_name),
                                    *tz ? tz : "UTC", "imported: consent recorded in the import file",
                                    consent_at, now);
        if (rc == STORE_CONFLICT) {
            fprintf(stderr, "%s:%d: skipped: this address already pledged\n", argv[2],
                    r.record_line);
            duplicates++;
        } else if (rc != 0) {
            store_rollback(cli->store);
            result = cli_fail(EXIT_RUNTIME, "import: the store failed; nothing was imported");
            goto out;
        } else {
            imported++;
        }
    }
    if (store_commit(cli->store) != 0) {
        result = cli_fail(EXIT_RUNTIME, "import: the store failed; nothing was imported");
        goto out;
    }
    printf("imported %ld supporters, refused %ld, skipped %ld already present\n", imported,
           refused, duplicates);
    if (refused)
        result = EXIT_USAGE;
out:
    csv_release(&r);
    buf_release(&data);
    return result;
}
