/*
 * csv: RFC 4180 reader (see csv.h). Fields are stored NUL-separated in one
 * buffer per record; r->fields point into it.
 */
#include "core/csv.h"

#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/banned.h"

void csv_init(struct csv_reader *r, const char *data, size_t len)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->line = 1;
    buf_init(&r->storage, CSV_MAX_RECORD + CSV_MAX_FIELDS);
    /* Skip a UTF-8 byte order mark. */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

int csv_next(struct csv_reader *r, char *err, size_t err_len)
{
    buf_reset(&r->storage);
    r->count = 0;
    if (r->pos >= r->len)
        return 0;
    int start_line = r->line;
    r->record_line = start_line;
    size_t offsets[CSV_MAX_FIELDS];
    size_t nfields = 0;
    offsets[nfields++] = 0;
    int quoted = 0, after_quote = 0, field_start = 1;
    while (r->pos < r->len) {
        char c = r->data[r->pos++];
        if (c == '\0') {
            snprintf(err, err_len, "line %d: NUL byte in the file", r->line);
            return -1;
        }
        if (quoted) {
            if (c == '"') {
                if (r->pos < r->len && r->data[r->pos] == '"') {
                    buf_putc(&r->storage, '"');
                    r->pos++;
                } else {
                    quoted = 0;
                    after_quote = 1;
                }
            } else {
                if (c == '\n')
                    r->line++;
                buf_putc(&r->storage, c);
            }
            continue;
        }
        if (c == '"' && field_start) {
            quoted = 1;
            field_start = 0;
            continue;
        }
        if (c == ',') {
            if (nfields >= CSV_MAX_FIELDS) {
                snprintf(err, err_len, "line %d: more than %d fields", start_line,
                         CSV_MAX_FIELDS);
                return -1;
            }
            buf_putc(&r->storage, '\0');
            offsets[nfields++] = r->storage.len;
            field_start = 1;
            after_quote = 0;
            continue;
        }
        if (c == '\r' && r->pos < r->len && r->data[r->pos] == '\n')
            continue;
        if (c == '\n') {
            r->line++;
            break;
        }
        if (after_quote || c == '"') {
            snprintf(err, err_len, "line %d: a quote must open or close a whole field",
                     start_line);
            return -1;
        }
        field_start = 0;
        buf_putc(&r->storage, c);
    }
    if (quoted) {
        snprintf(err, err_len, "line %d: a quoted field is not closed", start_line);
        return -1;
    }
    buf_putc(&r->storage, '\0');
    if (buf_failed(&r->storage)) {
        snprintf(err, err_len, "line %d: record longer than %d bytes", start_line,
                 CSV_MAX_RECORD);
        return -1;
    }
    for (size_t i = 0; i < nfields; i++) {
        const char *f = r->storage.data + offsets[i];
        if (!utf8_valid(f, strlen(f))) {
            snprintf(err, err_len, "line %d, field %zu: not valid UTF-8", start_line, i + 1);
            return -1;
        }
        r->fields[i] = f;
    }
    r->count = nfields;
    return 1;
}

void csv_release(struct csv_reader *r)
{
    buf_release(&r->storage);
}
