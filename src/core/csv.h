/*
 * csv: a reader for RFC 4180 CSV (UTF-8, quoted fields with "" escapes and
 * embedded line breaks, CRLF or LF records), one record at a time, with
 * bounds on field count and record size. Fuzzed by fuzz/fuzz_csv.c.
 */
#ifndef MUSTER_CORE_CSV_H
#define MUSTER_CORE_CSV_H

#include <stddef.h>

#include "core/buf.h"

#define CSV_MAX_FIELDS 64
#define CSV_MAX_RECORD (64 * 1024)

struct csv_reader {
    const char *data;
    size_t len;
    size_t pos;
    int line;        /* the next line to read (1-based) */
    int record_line; /* the line where the current record starts */
    struct buf storage;
    const char *fields[CSV_MAX_FIELDS];
    size_t count;
};

void csv_init(struct csv_reader *r, const char *data, size_t len);
/* Reads the next record into r->fields/r->count. Returns 1 for a record, 0 at
 * the end, -1 on an error (message in err, naming the line). */
int csv_next(struct csv_reader *r, char *err, size_t err_len);
void csv_release(struct csv_reader *r);

#endif
