/*
 * csv_io: a campaign's data out and in as CSV, the one implementation
 * behind both `muster export` / `muster import` (src/cli) and the
 * dashboard's download links and import form (pages/admin_data.c). It reads
 * and writes through the store and never writes a file or a response itself:
 * the caller's writer does, so it knows nothing of HTTP or of the terminal.
 *
 * Export: RFC 4180 (UTF-8, CRLF), a header row, every cell through
 * escape_csv, so a cell starting with = + - @ TAB or CR is prefixed with '
 * and cannot run as a spreadsheet formula.
 *
 * Import: the header row names the columns; `email` and `consent` are
 * required, `name`, `timezone`, `consented_at` (ISO 8601 UTC) optional. A row
 * is imported only when consent is yes/true/1/y; every other row is refused
 * and reported with its line; the others are imported, or, when strict,
 * nothing is. Imported supporters count as confirmed (their consent was
 * collected elsewhere and is recorded as such). All rows go in one
 * transaction: a CSV syntax error or a store failure imports nothing.
 */
#ifndef MUSTER_EXCHANGE_CSV_IO_H
#define MUSTER_EXCHANGE_CSV_IO_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum csv_export_kind { CSV_EXPORT_SUPPORTERS, CSV_EXPORT_CLICKS };

/* Receives the CSV a record (one line, CRLF included) at a time; a non-zero
 * return stops the export. */
typedef int (*csv_export_write_fn)(void *ctx, const char *data, size_t len);

/* Writes the header and every row. *rows gets the data rows written (also on
 * failure). Returns 0, or -1 when the store or the writer failed. */
int csv_export(struct store *st, int64_t campaign_id, enum csv_export_kind kind,
               csv_export_write_fn write, void *ctx, long *rows);

enum csv_import_status {
    CSV_IMPORT_OK = 0,       /* committed (some rows may have been refused) */
    CSV_IMPORT_NO_HEADER,    /* the input is empty */
    CSV_IMPORT_BAD_HEADER,   /* no email or no consent column (line 1) */
    CSV_IMPORT_BAD_CSV,      /* a syntax error; message in error; nothing imported */
    CSV_IMPORT_BUSY,         /* the transaction could not start; nothing imported */
    CSV_IMPORT_STORE_FAILED, /* nothing imported */
    CSV_IMPORT_REFUSED,      /* strict: some rows were refused, so nothing was imported */
};

struct csv_import_result {
    long imported;
    long refused;    /* no consent, bad address, bad zone, ... */
    long duplicates; /* the address had already pledged: skipped */
    char error[256]; /* for CSV_IMPORT_BAD_CSV: "line N: what" */
};

/* Told about each row not imported: refused (1) with the reason, or skipped
 * as a duplicate (0). line is the row's first line in the input. */
typedef void (*csv_import_note_fn)(void *ctx, int line, int refused, const char *why);

/* Imports data[len] into the campaign. Returns a csv_import_status;
 * *out is filled in every case. strict: one refused row imports nothing
 * (CSV_IMPORT_REFUSED, every refusal still noted); otherwise the other rows
 * are imported. */
int csv_import(struct store *st, int64_t campaign_id, const char *data, size_t len, int64_t now,
               int strict, csv_import_note_fn note, void *ctx, struct csv_import_result *out);

#endif
