/*
 * store_sqlite_copy: the SQLite side of store_copy.h. Rows stream out and in
 * through statements built from store_copy.c's list of tables and columns
 * (names written in the source, never input); values travel as text
 * (integers in decimal, blobs in lowercase hex) and are bound by the
 * column's type. The other user of the file is seen in /proc/locks: every
 * SQLite connection in WAL mode holds a shared lock on byte 128 of the
 * -shm file while it has the database open.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/sqlite_private.h"
#include "core/banned.h"

int sqlite_copy_schema(struct store *base,
                       int (*fn)(void *ctx, const char *table, const char *column), void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *tables = NULL, *columns = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &tables, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", -1,
                           &columns, NULL) != SQLITE_OK) {
        sql_error(st, "copy schema");
        goto done;
    }
    int step;
    while ((step = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(tables, 0);
        if (fn(ctx, table, NULL) != 0)
            goto done;
        sqlite3_reset(columns);
        sqlite3_bind_text(columns, 1, table, -1, SQLITE_TRANSIENT);
        int cstep;
        while ((cstep = sqlite3_step(columns)) == SQLITE_ROW)
            if (fn(ctx, table, (const char *)sqlite3_column_text(columns, 0)) != 0)
                goto done;
        if (cstep != SQLITE_DONE) {
            sql_error(st, "copy schema");
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        sql_error(st, "copy schema");
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(tables);
    sqlite3_finalize(columns);
    return rc;
}

/* "SELECT a, lower(hex(b)), ... FROM t ORDER BY k" for t. */
static int select_sql(const struct store_copy_table *t, struct buf *sql)
{
    buf_printf(sql, "SELECT ");
    for (size_t i = 0; i < t->ncolumns; i++)
        buf_printf(sql, t->columns[i].type == STORE_COPY_BLOB ? "%slower(hex(\"%s\"))" : "%s\"%s\"",
                   i ? ", " : "", t->columns[i].name);
    buf_printf(sql, " FROM \"%s\" ORDER BY %s", t->name, t->order_by);
    return buf_failed(sql) ? -1 : 0;
}

int sqlite_copy_read(struct store *base, const struct store_copy_table *t, store_row_fn row,
                     void *ctx)
{
    struct sqlite_store *st = sqlite_of(base);
    struct buf sql = BUF_INIT;
    const char **values = calloc(t->ncolumns, sizeof *values);
    sqlite3_stmt *s = NULL;
    int rc = -1;
    if (!values || select_sql(t, &sql) != 0) {
        log_error("store.error", "op=copy_read table=%s error=\"out of memory\"", t->name);
        goto done;
    }
    if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
        sql_error(st, "copy read");
        goto done;
    }
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        for (size_t i = 0; i < t->ncolumns; i++)
            values[i] = sqlite3_column_type(s, (int)i) == SQLITE_NULL
                            ? NULL
                            : (const char *)sqlite3_column_text(s, (int)i);
        int stop = row(ctx, values, (int)t->ncolumns);
        if (stop) {
            rc = stop;
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        sql_error(st, "copy read");
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(s);
    free(values);
    buf_release(&sql);
    return rc;
}

/* Decodes lowercase or uppercase hex into a malloc'd blob; NULL when it is
 * not hex (or out of memory). */
static unsigned char *hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    unsigned char *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16u;
            if (d == 16) {
                free(out);
                return NULL;
            }
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return out;
}

/* Binds value (text) to parameter idx as the column's type; -1 when it is
 * not of that type (logged). */
static int bind_value(sqlite3_stmt *s, int idx, const struct store_copy_table *t, size_t col,
                      const char *value)
{
    if (!value)
        return sqlite3_bind_null(s, idx) == SQLITE_OK ? 0 : -1;
    switch (t->columns[col].type) {
    case STORE_COPY_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            log_error("store.error", "op=copy_write table=%s column=%s error=\"not an integer\"",
                      t->name, t->columns[col].name);
            return -1;
        }
        return sqlite3_bind_int64(s, idx, v) == SQLITE_OK ? 0 : -1;
    }
    case STORE_COPY_BLOB: {
        size_t len = 0;
        unsigned char *blob = hex_decode(value, &len);
        if (!blob) {
            log_error("store.error", "op=copy_write table=%s column=%s error=\"not hex\"", t->name,
                      t->columns[col].name);
            return -1;
        }
        return sqlite3_bind_blob(s, idx, blob, (int)len, free) == SQLITE_OK ? 0 : -1;
    }
    case STORE_COPY_TEXT:
        return sqlite3_bind_text(s, idx, value, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
    }
    return -1;
}

int sqlite_copy_write(struct store *base, const struct store_copy_table *t,
                      const char *const *values, size_t n)
{
    struct sqlite_store *st = sqlite_of(base);
    struct buf sql = BUF_INIT;
    buf_printf(&sql, "INSERT INTO \"%s\" (", t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        buf_printf(&sql, "%s\"%s\"", i ? ", " : "", t->columns[i].name);
    buf_printf(&sql, ") VALUES (");
    for (size_t i = 0; i < t->ncolumns; i++)
        buf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
    buf_printf(&sql, ")");
    sqlite3_stmt *s = NULL;
    int rc = -1;
    if (buf_failed(&sql)) {
        log_error("store.error", "op=copy_write table=%s error=\"out of memory\"", t->name);
        goto done;
    }
    if (sqlite3_prepare_v2(st->db, buf_cstr(&sql), -1, &s, NULL) != SQLITE_OK) {
        sql_error(st, "copy write");
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        for (size_t c = 0; c < t->ncolumns; c++)
            if (bind_value(s, (int)c + 1, t, c, values[r * t->ncolumns + c]) != 0)
                goto done;
        if (sqlite3_step(s) != SQLITE_DONE) {
            sql_error(st, "copy write");
            goto done;
        }
    }
    rc = 0;
done:
    sqlite3_finalize(s);
    buf_release(&sql);
    return rc;
}

int sqlite_copy_finish(struct store *base, const struct store_copy_table *t)
{
    /* A rowid (and AUTOINCREMENT's sqlite_sequence) follows the largest id
     * inserted by itself. */
    (void)base;
    (void)t;
    return 0;
}

int sqlite_copy_count(struct store *base, const struct store_copy_table *t, int64_t *count)
{
    struct sqlite_store *st = sqlite_of(base);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        sql_error(st, "copy count");
        sqlite3_finalize(s);
        return -1;
    }
    *count = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

/* The shared-memory file's byte 128 (SQLite's "dead man switch" lock: every
 * connection in WAL mode holds it shared while the database is open). */
#define SHM_OPEN_LOCK_BYTE 128

int sqlite_copy_other_user(struct store *base, int64_t *pid)
{
    struct sqlite_store *st = sqlite_of(base);
    *pid = 0;
    const char *path = sqlite3_db_filename(st->db, "main");
    if (!path || !*path)
        return 0;
    char shm[4200];
    if (snprintf(shm, sizeof shm, "%s-shm", path) >= (int)sizeof shm)
        return 0;
    struct stat sb;
    if (stat(shm, &sb) != 0)
        return 0; /* no WAL index: nobody has it open in WAL mode */
    FILE *locks = fopen("/proc/locks", "r");
    if (!locks)
        return 0; /* not Linux: not seen */
    char line[256];
    long self = (long)getpid();
    while (fgets(line, sizeof line, locks)) {
        /* "1: POSIX  ADVISORY  READ 1234 08:01:5678 128 128" */
        char kind[16], mode[16], type[16];
        long holder;
        unsigned maj, min;
        unsigned long long ino;
        char start[24], end[24];
        if (sscanf(line, "%*[^:]: %15s %15s %15s %ld %x:%x:%llu %23s %23s", kind, mode, type,
                   &holder, &maj, &min, &ino, start, end) != 9)
            continue;
        if (strcmp(kind, "POSIX") != 0 || holder == self || holder <= 0)
            continue;
        if (ino != (unsigned long long)sb.st_ino || maj != major(sb.st_dev) ||
            min != minor(sb.st_dev))
            continue;
        long long from = strtoll(start, NULL, 10);
        long long to = strcmp(end, "EOF") == 0 ? INT64_MAX : strtoll(end, NULL, 10);
        if (from <= SHM_OPEN_LOCK_BYTE && SHM_OPEN_LOCK_BYTE <= to) {
            *pid = holder;
            break;
        }
    }
    fclose(locks);
    return 0;
}
