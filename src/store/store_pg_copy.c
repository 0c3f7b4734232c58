/*
 * store_pg_copy: the PostgreSQL side of store_copy.h. Statements are built
 * from store_copy.c's list of tables and columns (names written in the
 * source, never input) and run unprepared, each once per call; values are
 * parameters as text (the columns' types convert them; a blob's hex goes
 * through decode). Rows stream out in libpq's single-row mode, so a table
 * of a million rows is never held in memory; they go in as multi-row
 * INSERTs of up to WRITE_ROWS rows, in the caller's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/pg_private.h"
#include "core/banned.h"

/* Rows per INSERT: 25 columns at most, so at most 6,400 parameters of the
 * protocol's 65,535. */
#define WRITE_ROWS 256

int pg_copy_schema(struct store *base, int (*fn)(void *ctx, const char *table, const char *column),
                   void *ctx)
{
    struct pg_store *st = pg_of(base);
    if (pg_flush(st) != 0) /* what was held goes first */
        return -1;
    PGresult *r = PQexec(st->conn, "SELECT c.relname, a.attname FROM pg_class c "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "JOIN pg_attribute a ON a.attrelid = c.oid "
                                   "WHERE n.nspname = current_schema() "
                                   "AND c.relkind IN ('r', 'p') AND a.attnum > 0 "
                                   "AND NOT a.attisdropped AND c.relname <> 'muster_schema' "
                                   "ORDER BY c.relname, a.attnum");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_log_result_error(st, r, "copy schema");
        PQclear(r);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *table = PQgetvalue(r, i, 0);
        if (i == 0 || strcmp(table, PQgetvalue(r, i - 1, 0)) != 0)
            rc = fn(ctx, table, NULL);
        if (rc == 0)
            rc = fn(ctx, table, PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return rc;
}

int pg_copy_read(struct store *base, const struct store_copy_table *t, store_row_fn row, void *ctx)
{
    struct pg_store *st = pg_of(base);
    if (pg_flush(st) != 0) /* what was held goes first */
        return -1;
    struct buf sql = BUF_INIT;
    buf_printf(&sql, "SELECT ");
    for (size_t i = 0; i < t->ncolumns; i++)
        buf_printf(&sql,
                   t->columns[i].type == STORE_COPY_BLOB ? "%sencode(\"%s\", 'hex')" : "%s\"%s\"",
                   i ? ", " : "", t->columns[i].name);
    buf_printf(&sql, " FROM \"%s\" ORDER BY %s", t->name, t->order_by);
    const char **values = calloc(t->ncolumns, sizeof *values);
    if (buf_failed(&sql) || !values) {
        log_error("store.error", "op=copy_read table=%s error=\"out of memory\"", t->name);
        buf_release(&sql);
        free(values);
        return -1;
    }
    int rc = -1;
    if (!PQsendQueryParams(st->conn, buf_cstr(&sql), 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsetSingleRowMode(st->conn)) {
        pg_log_result_error(st, NULL, "copy read");
        /* Whatever was sent is drained below. */
    } else {
        rc = 0;
    }
    PGresult *r;
    int stop = 0;
    while ((r = PQgetResult(st->conn)) != NULL) {
        ExecStatusType status = PQresultStatus(r);
        if (status == PGRES_SINGLE_TUPLE && rc == 0 && !stop) {
            for (size_t i = 0; i < t->ncolumns; i++)
                values[i] = pg_text(r, 0, (int)i);
            stop = row(ctx, values, (int)t->ncolumns);
        } else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK) {
            pg_log_result_error(st, r, "copy read");
            rc = -1;
        }
        PQclear(r);
    }
    free(values);
    buf_release(&sql);
    if (rc == 0 && stop)
        return stop;
    return rc;
}

/* One INSERT of rows [from, from + n) of values. */
static int write_rows(struct pg_store *st, const struct store_copy_table *t,
                      const char *const *values, size_t from, size_t n)
{
    struct buf sql = BUF_INIT;
    buf_printf(&sql, "INSERT INTO \"%s\" (", t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->columns[i].name);
    buf_printf(&sql, ") VALUES ");
    size_t param = 1;
    for (size_t r = 0; r < n; r++) {
        buf_printf(&sql, r ? ", (" : "(");
        for (size_t c = 0; c < t->ncolumns; c++, param++)
            buf_printf(&sql,
                       t->columns[c].type == STORE_COPY_BLOB ? "%sdecode($%zu::text, 'hex')"
                                                             : "%s$%zu",
                       c ? ", " : "", param);
        buf_printf(&sql, ")");
    }
    if (buf_failed(&sql)) {
        log_error("store.error", "op=copy_write table=%s error=\"out of memory\"", t->name);
        buf_release(&sql);
        return -1;
    }
    PGresult *r = PQexecParams(st->conn, buf_cstr(&sql), (int)(n * t->ncolumns), NULL,
                               values + from * t->ncolumns, NULL, NULL, 0);
    buf_release(&sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_log_result_error(st, r, "copy write");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int pg_copy_write(struct store *base, const struct store_copy_table *t, const char *const *values,
                  size_t n)
{
    struct pg_store *st = pg_of(base);
    if (pg_flush(st) != 0) /* what was held goes first */
        return -1;
    for (size_t from = 0; from < n; from += WRITE_ROWS) {
        size_t rows = n - from < WRITE_ROWS ? n - from : WRITE_ROWS;
        if (write_rows(st, t, values, from, rows) != 0)
            return -1;
    }
    return 0;
}

int pg_copy_finish(struct store *base, const struct store_copy_table *t)
{
    if (!t->serial_id)
        return 0;
    struct pg_store *st = pg_of(base);
    if (pg_flush(st) != 0) /* what was held goes first */
        return -1;
    /* The next id is one past the largest copied (1 for an empty table). */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
             "COALESCE((SELECT max(id) FROM \"%s\"), 0) + 1, false)",
             t->name, t->name);
    PGresult *r = PQexec(st->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_log_result_error(st, r, "copy finish");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int pg_copy_count(struct store *base, const struct store_copy_table *t, int64_t *count)
{
    struct pg_store *st = pg_of(base);
    if (pg_flush(st) != 0) /* what was held goes first */
        return -1;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
    PGresult *r = PQexec(st->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_log_result_error(st, r, "copy count");
        PQclear(r);
        return -1;
    }
    *count = pg_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_copy_other_user(struct store *base, int64_t *pid)
{
    /* Many servers share a PostgreSQL database by design: nothing to see. */
    (void)base;
    *pid = 0;
    return 0;
}
