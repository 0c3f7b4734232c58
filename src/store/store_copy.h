/*
 * store_copy: every row muster keeps, out of one database and into another,
 * whatever the two backends (`muster migrate`, src/cli/cmd_migrate.c). The
 * store owns the one list of tables and columns (store_copy.c), in an order
 * where a row's parents come before it; a backend streams a table's rows in
 * a neutral form (each value as text, NULL for SQL NULL: integers in
 * decimal, blobs in lowercase hex) and inserts such rows, and never learns
 * where they come from. What to copy, in which transaction and what to check
 * afterwards is the caller's decision.
 */
#ifndef MUSTER_STORE_STORE_COPY_H
#define MUSTER_STORE_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

enum store_copy_type { STORE_COPY_INT, STORE_COPY_TEXT, STORE_COPY_BLOB };

struct store_copy_column {
    const char *name;
    enum store_copy_type type;
};

struct store_copy_table {
    const char *name;
    const char *order_by; /* the primary key's columns: rows stream in this order */
    int serial_id;        /* its "id" is generated: the next id follows the largest copied */
    const struct store_copy_column *columns;
    size_t ncolumns;
};

/* The tables of the newest schema, parents first; *n gets their number. */
const struct store_copy_table *store_copy_tables(size_t *n);

/* Appends to unknown (one "table" or "table.column" a line) what the
 * database holds that the list does not: a table or a column that a copy
 * would leave behind. 0 with unknown untouched when the list covers it all. */
int store_copy_check(struct store *st, struct buf *unknown);

/* Calls row(ctx, values, t->ncolumns) for each row of t in order_by order
 * (values[i] NULL for SQL NULL), inside the caller's read transaction when
 * there is one. A non-zero return from row stops the walk and is returned. */
int store_copy_read(struct store *st, const struct store_copy_table *t, store_row_fn row,
                    void *ctx);

/* Inserts n rows of t (values: n * t->ncolumns, row after row, as
 * store_copy_read gives them) inside the caller's transaction. */
int store_copy_write(struct store *st, const struct store_copy_table *t, const char *const *values,
                     size_t n);

/* After the rows of t were written: the ids the database generates next
 * follow the largest id copied (PostgreSQL's sequences; SQLite needs
 * nothing). Inside the caller's transaction. */
int store_copy_finish(struct store *st, const struct store_copy_table *t);

/* The rows of t. */
int store_copy_count(struct store *st, const struct store_copy_table *t, int64_t *count);

/* The id of another process that has this database open now (SQLite: a
 * `muster serve` still writing to the file), 0 when none is seen; a backend
 * where many servers share the database by design answers 0. */
int store_copy_other_user(struct store *st, int64_t *pid);

#endif
