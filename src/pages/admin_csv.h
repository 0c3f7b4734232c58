/*
 * admin_csv: a campaign's data out and in as CSV, the one implementation
 * behind both `muster export` / `muster import` (src/cli) and the
 * dashboard's download links and import form (admin_data.c).
 *
 * Export: RFC 4180 (UTF-8, CRLF), a header row, every cell through
 * escape_csv, so a cell starting with = + - @ TAB or CR is prefixed with '
 * and cannot run as a spreadsheet formula.
 *
 * Import: the header row names the columns; `email` and `consent` are
 * required, `name`, `timezone`, `consented_at` (ISO 8601 UTC) optional. A row
 * is imported only when consent is yes/true/1/y; every other row is refused
 * and reported with its line. Imported supporters count as confirmed (their
 * consent was collected elsewhere and is recorded as such). All rows go in
 * one transaction: a CSV syntax error or a store failure imports nothing.
 */
#ifndef MUSTER_PAGES_ADMIN_CSV_H
#define MUSTER_PAGES_ADMIN_CSV_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum admin_csv_kind { ADMIN_CSV_SUPPORTERS, ADMIN_CSV_CLICKS };

/* Receives the CSV a record (one line, CRLF included) at a time; a non-zero
 * return stops the export. */
typedef int (*admin_csv_write_fn)(void *ctx, const char *data, size_t len);

/* Writes the header and every row. *rows gets the data rows written (also on
 * failure). Returns 0, or -1 when the store or the writer failed. */
int admin_csv_export(struct store *st, int64_t campaign_id, enum admin_csv_kind kind,
                     admin_csv_write_fn write, void *ctx, long *rows);

enum admin_csv_import_status {
    ADMIN_CSV_IMPORTED = 0, /* committed (some rows may have been refused) */
    ADMIN_CSV_NO_HEADER,    /* the input is empty */
    ADMIN_CSV_BAD_HEADER,   /* no email or no consent column (line 1) */
    ADMIN_CSV_BAD_CSV,      /* a syntax error; message in error; nothing imported */
    ADMIN_CSV_BUSY,         /* the transaction could not start; nothing imported */
    ADMIN_CSV_STORE_FAILED, /* nothing imported */
};

struct admin_csv_import_result {
    long imported;
    long refused;    /* no consent, bad address, bad zone, ... */
    long duplicates; /* the address had already pledged: skipped */
    char error[256]; /* for ADMIN_CSV_BAD_CSV: "line N: what" */
};

/* Told about each row not imported: refused (1) with the reason, or skipped
 * as a duplicate (0). line is the row's first line in the input. */
typedef void (*admin_csv_note_fn)(void *ctx, int line, int refused, const char *why);

/* Imports data[len] into the campaign. Returns an admin_csv_import_status;
 * *out is filled in every case. */
int admin_csv_import(struct store *st, int64_t campaign_id, const char *data, size_t len,
                     int64_t now, admin_csv_note_fn note, void *ctx,
                     struct admin_csv_import_result *out);

#endif
