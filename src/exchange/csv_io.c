/*
 * csv_io: CSV export and import of a campaign's supporters and clicks,
 * shared by the command line and the dashboard (see csv_io.h). It never
 * writes a file or a response itself: the caller's writer does.
 */
#include "exchange/csv_io.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "service/pledges.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/escape.h"
#include "core/tz.h"
#include "mail/message.h"
#include "store/store.h"
#include "core/banned.h"

/* ---- export ---- */

struct export_ctx {
    csv_export_write_fn write;
    void *ctx;
    struct buf line;
    long rows;
    int failed;
};

static int export_row(void *vctx, const char *const *values, int count)
{
    struct export_ctx *x = vctx;
    buf_reset(&x->line);
    for (int i = 0; i < count; i++) {
        if (i)
            buf_putc(&x->line, ',');
        escape_csv(&x->line, values[i]);
    }
    buf_puts(&x->line, "\r\n");
    if (buf_failed(&x->line) || x->write(x->ctx, x->line.data, x->line.len) != 0) {
        x->failed = 1;
        return 1;
    }
    x->rows++;
    return 0;
}

int csv_export(struct store *st, int64_t campaign_id, enum csv_export_kind kind,
               csv_export_write_fn write, void *ctx, long *rows)
{
    static const char *const supporter_header[] = {
        "email",      "name",         "statement",    "timezone",
        "status",     "pledged_at",   "confirmed_at", "unsubscribed_at",
        "consent_at", "consent_text", "source",       "target"};
    static const char *const click_header[] = {"at", "target", "rerouted", "email"};
    struct export_ctx x = {write, ctx, BUF_INIT, 0, 0};
    int supporters = kind == CSV_EXPORT_SUPPORTERS;
    export_row(&x, supporters ? supporter_header : click_header, supporters ? 12 : 4);
    x.rows = 0;
    int rc = -1;
    if (!x.failed)
        rc = supporters ? store_export_supporters(st, campaign_id, export_row, &x)
                        : store_export_clicks(st, campaign_id, export_row, &x);
    buf_release(&x.line);
    *rows = x.rows;
    return rc != 0 || x.failed ? -1 : 0;
}

/* ---- import ---- */

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

/* Why the current row cannot be imported, or NULL. */
static const char *row_problem(const struct csv_reader *r, int c_email, int c_consent, int c_name,
                               int c_tz, int c_at, int64_t *consent_at)
{
    const char *email = field(r, c_email), *tz = field(r, c_tz);
    if (!consent_given(field(r, c_consent)))
        return "no consent (the consent column must say yes)";
    if (!mail_address_valid(email))
        return "not a valid email address";
    if (*tz && !tz_valid(tz))
        return "unknown time zone";
    if (*field(r, c_at) && parse_utc(field(r, c_at), consent_at) != 0)
        return "consented_at is not YYYY-MM-DDTHH:MM:SSZ";
    if (strlen(field(r, c_name)) > 400)
        return "name too long";
    /* A name goes into the To: header of every mail: one line, as on the form. */
    for (const unsigned char *p = (const unsigned char *)field(r, c_name); *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "the name has a line break or a control character";
    return NULL;
}

int csv_import(struct store *st, int64_t campaign_id, const char *data, size_t len, int64_t now,
               int strict, csv_import_note_fn note, void *ctx, struct csv_import_result *out)
{
    memset(out, 0, sizeof *out);
    struct csv_reader r;
    csv_init(&r, data, len);
    int status = CSV_IMPORT_OK;
    char err[256];
    int got = csv_next(&r, err, sizeof err);
    if (got < 0) {
        snprintf(out->error, sizeof out->error, "%s", err);
        status = CSV_IMPORT_BAD_CSV;
        goto out;
    }
    if (got == 0) {
        status = CSV_IMPORT_NO_HEADER;
        goto out;
    }
    int c_email = column(&r, "email"), c_consent = column(&r, "consent"),
        c_name = column(&r, "name"), c_tz = column(&r, "timezone"),
        c_at = column(&r, "consented_at");
    if (c_email < 0 || c_consent < 0) {
        status = CSV_IMPORT_BAD_HEADER;
        goto out;
    }
    if (store_begin(st) != 0) {
        status = CSV_IMPORT_BUSY;
        goto out;
    }
    for (;;) {
        got = csv_next(&r, err, sizeof err);
        if (got == 0)
            break;
        if (got < 0) {
            store_rollback(st);
            snprintf(out->error, sizeof out->error, "%s", err);
            out->imported = 0;
            status = CSV_IMPORT_BAD_CSV;
            goto out;
        }
        if (r.count == 1 && r.fields[0][0] == '\0')
            continue; /* blank line */
        int64_t consent_at = now;
        const char *why = row_problem(&r, c_email, c_consent, c_name, c_tz, c_at, &consent_at);
        if (why) {
            out->refused++;
            if (note)
                note(ctx, r.record_line, 1, why);
            continue;
        }
        const char *tz = field(&r, c_tz);
        int rc = pledges_import_in_tx(
            st, campaign_id, field(&r, c_email), field(&r, c_name), *tz ? tz : "UTC",
            "imported: consent recorded in the import file", consent_at, now);
        if (rc == STORE_CONFLICT) {
            out->duplicates++;
            if (note)
                note(ctx, r.record_line, 0, "this address already pledged");
        } else if (rc != 0) {
            store_rollback(st);
            out->imported = 0;
            status = CSV_IMPORT_STORE_FAILED;
            goto out;
        } else {
            out->imported++;
        }
    }
    if (strict && out->refused) {
        store_rollback(st);
        out->imported = 0;
        status = CSV_IMPORT_REFUSED;
        goto out;
    }
    if (pledges_import_count(st, campaign_id, out->imported) != 0) {
        store_rollback(st);
        out->imported = 0;
        status = CSV_IMPORT_STORE_FAILED;
        goto out;
    }
    if (store_commit(st) != 0) {
        out->imported = 0;
        status = CSV_IMPORT_STORE_FAILED;
    }
out:
    csv_release(&r);
    return status;
}
