/*
 * fuzz_csv: the RFC 4180 reader (src/core/csv.c) on arbitrary bytes.
 * Invariants: it terminates, records have 1..CSV_MAX_FIELDS fields of valid
 * UTF-8, line numbers only grow, and an error message names a line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_reader r;
    char err[160];
    csv_init(&r, (const char *)data, size);
    int last_line = 0, rc, records = 0;
    while ((rc = csv_next(&r, err, sizeof err)) == 1) {
        if (r.count < 1 || r.count > CSV_MAX_FIELDS || r.record_line < last_line)
            abort();
        for (size_t i = 0; i < r.count; i++)
            if (!utf8_valid(r.fields[i], strlen(r.fields[i])))
                abort();
        last_line = r.record_line;
        if (++records > (int)size + 1)
            abort(); /* every record consumes at least one byte */
    }
    if (rc == -1 && strstr(err, "line ") == NULL)
        abort();
    csv_release(&r);
    return 0;
}
