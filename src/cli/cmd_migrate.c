/*
 * cmd_migrate: `muster migrate --to LOCATION`: every row of the database
 * MUSTER_DB names (SQLite, usually) into an empty one (PostgreSQL, usually),
 * the server secret included, so every link and token mailed before the
 * move still works after it. The decisions are here; the store only streams
 * and inserts rows (store_copy.h):
 *   - the source must exist, no other process may have it open (a serve
 *     still writing would lose what it writes after the copy), and this
 *     muster must know every table and column it holds;
 *   - the target must be empty (store_open_empty: nothing touched else),
 *     and is checked empty again inside the copy's transaction;
 *   - the copy is ONE transaction on the target, read from one snapshot of
 *     the source: all or nothing;
 *   - afterwards every table's rows are counted and summed (an order-free
 *     checksum of every value) on both sides and printed; a difference is
 *     a failure (exit 1).
 * Exit 0 done, 1 a failure (nothing copied unless it says so), 2 bad usage,
 * no source, or a target that is not empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "store/store.h"
#include "store/store_copy.h"
#include "core/banned.h"

#define USAGE "usage: muster migrate --to postgresql://...|KEY=VALUE...|PATH"
#define BATCH_ROWS 256

/* An order-free checksum of a table's rows: the sum of each row's FNV-1a
 * over its values (length-prefixed, NULL distinct from ""). */
static uint64_t row_hash(const char *const *values, int count)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (int i = 0; i < count; i++) {
        const char *v = values[i];
        char prefix[24];
        int n = v ? snprintf(prefix, sizeof prefix, "%zu:", strlen(v))
                  : snprintf(prefix, sizeof prefix, "N;");
        for (int k = 0; k < n; k++)
            h = (h ^ (unsigned char)prefix[k]) * UINT64_C(1099511628211);
        for (const char *p = v; p && *p; p++)
            h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    }
    return h;
}

struct table_sum {
    int64_t rows;
    uint64_t sum;
};

static int sum_row(void *arg, const char *const *values, int count)
{
    struct table_sum *s = arg;
    s->rows++;
    s->sum += row_hash(values, count);
    return 0;
}

/* Rows read from the source, written to the target BATCH_ROWS at a time. */
struct copier {
    struct store *to;
    const struct store_copy_table *t;
    char **cells; /* BATCH_ROWS * ncolumns, owned */
    size_t rows;
    struct table_sum read;
    int failed;
};

static void batch_clear(struct copier *c)
{
    for (size_t i = 0; i < c->rows * c->t->ncolumns; i++) {
        free(c->cells[i]);
        c->cells[i] = NULL;
    }
    c->rows = 0;
}

static int batch_flush(struct copier *c)
{
    if (c->rows == 0)
        return 0;
    int rc = store_copy_write(c->to, c->t, (const char *const *)c->cells, c->rows);
    batch_clear(c);
    return rc;
}

static int copy_row(void *arg, const char *const *values, int count)
{
    struct copier *c = arg;
    sum_row(&c->read, values, count);
    char **row = c->cells + c->rows * c->t->ncolumns;
    for (int i = 0; i < count; i++) {
        row[i] = values[i] ? strdup(values[i]) : NULL;
        if (values[i] && !row[i]) {
            c->rows++; /* so batch_clear frees what this row got */
            c->failed = 1;
            return 1;
        }
    }
    c->rows++;
    if (c->rows == BATCH_ROWS && batch_flush(c) != 0) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

/* The file a SQLite location names, or NULL for another backend. */
static const char *sqlite_path(const char *location)
{
    const char *backend = store_location_backend(location);
    if (!backend || strcmp(backend, "sqlite") != 0)
        return NULL;
    if (strncmp(location, "sqlite:", 7) == 0) {
        location += 7;
        if (strncmp(location, "//", 2) == 0)
            location += 2;
    }
    return location;
}

/* What the database holds that this muster cannot copy: in the source a
 * failure (they would be left behind), in the target a sign that it is not
 * empty. */
static int check_known(struct store *st, const char *shown, int is_target)
{
    struct buf unknown = BUF_INIT;
    int rc = store_copy_check(st, &unknown);
    /* One a line there; one line here. */
    while (unknown.len > 0 && unknown.data[unknown.len - 1] == '\n')
        unknown.data[--unknown.len] = '\0';
    for (size_t i = 0; i < unknown.len; i++)
        if (unknown.data[i] == '\n')
            unknown.data[i] = ' ';
    if (rc == 0 && unknown.len > 0 && is_target)
        rc = cli_fail(EXIT_USAGE, "%s is not empty: it holds %s; nothing copied", shown,
                      buf_cstr(&unknown));
    else if (rc == 0 && unknown.len > 0)
        rc = cli_fail(EXIT_RUNTIME,
                      "%s holds tables or columns this muster does not know how to copy "
                      "(a newer muster made them?): %s; nothing copied",
                      shown, buf_cstr(&unknown));
    else if (rc != 0)
        rc = cli_fail(EXIT_RUNTIME, "cannot read the tables of %s (see the log)", shown);
    buf_release(&unknown);
    return rc;
}

/* The copy itself, in one transaction on to: 0, or an exit code. */
static int copy_all(struct store *from, struct store *to, const char *to_shown,
                    struct table_sum *read)
{
    size_t ntables;
    const struct store_copy_table *tables = store_copy_tables(&ntables);
    if (store_begin(to) != 0)
        return cli_fail(EXIT_RUNTIME, "cannot begin a transaction on %s (see the log)", to_shown);
    /* Another migrate may have filled it since it was opened. */
    for (size_t i = 0; i < ntables; i++) {
        int64_t n = 0;
        if (store_copy_count(to, &tables[i], &n) != 0) {
            store_rollback(to);
            return cli_fail(EXIT_RUNTIME, "cannot count %s on %s (see the log)", tables[i].name,
                            to_shown);
        }
        if (n > 0) {
            store_rollback(to);
            return cli_fail(EXIT_USAGE, "%s is not empty: table %s holds %lld rows; nothing copied",
                            to_shown, tables[i].name, (long long)n);
        }
    }
    for (size_t i = 0; i < ntables; i++) {
        const struct store_copy_table *t = &tables[i];
        struct copier c = {.to = to, .t = t};
        c.cells = calloc(BATCH_ROWS * t->ncolumns, sizeof *c.cells);
        int rc = c.cells ? store_copy_read(from, t, copy_row, &c) : -1;
        if (rc == 0 && batch_flush(&c) != 0)
            rc = -1;
        if (c.cells)
            batch_clear(&c);
        free(c.cells);
        if (rc == 0 && store_copy_finish(to, t) != 0)
            rc = -1;
        if (rc != 0 || c.failed) {
            store_rollback(to);
            return cli_fail(EXIT_RUNTIME,
                            "copying table %s failed (see the log); nothing copied: %s is as "
                            "it was, with the schema",
                            t->name, to_shown);
        }
        read[i] = c.read;
    }
    if (store_commit(to) != 0)
        return cli_fail(EXIT_RUNTIME, "the commit on %s failed (see the log); nothing copied",
                        to_shown);
    return 0;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
    const char *to_location = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc && !to_location)
            to_location = argv[++i];
        else if (strncmp(argv[i], "--to=", 5) == 0 && !to_location)
            to_location = argv[i] + 5;
        else
            return cli_fail(EXIT_USAGE, USAGE);
    }
    if (!to_location || !*to_location)
        return cli_fail(EXIT_USAGE, USAGE);
    const char *from_location = cli->cfg.db;
    char err[512];
    if (store_location_check(from_location, err, sizeof err) != 0 ||
        store_location_check(to_location, err, sizeof err) != 0)
        return cli_fail(EXIT_USAGE, "%s", err);
    char from_shown[256], to_shown[256];
    store_location_redact(from_location, from_shown, sizeof from_shown);
    store_location_redact(to_location, to_shown, sizeof to_shown);
    if (strcmp(from_location, to_location) == 0)
        return cli_fail(EXIT_USAGE, "--to names the database MUSTER_DB names (%s)", from_shown);
    /* A source that does not exist would be made, empty, by opening it. */
    const char *path = sqlite_path(from_location);
    struct stat sb;
    if (path && stat(path, &sb) != 0)
        return cli_fail(EXIT_USAGE, "no database at %s (MUSTER_DB or --db names the source)",
                        from_shown);

    struct store *from = NULL, *to = NULL;
    if (store_open(from_location, &from, err, sizeof err) != 0)
        return cli_fail(EXIT_RUNTIME, "%s", err);
    int64_t other = 0;
    if (store_copy_other_user(from, &other) != 0) {
        store_close(from);
        return cli_fail(EXIT_RUNTIME, "cannot tell whether %s is in use (see the log)", from_shown);
    }
    if (other > 0) {
        store_close(from);
        return cli_fail(EXIT_RUNTIME,
                        "process %lld has %s open (a muster serve?): stop it first, or what it "
                        "writes after the copy is lost; nothing copied",
                        (long long)other, from_shown);
    }
    int rc = check_known(from, from_shown, 0);
    if (rc != 0) {
        store_close(from);
        return rc;
    }
    int opened = store_open_empty(to_location, &to, err, sizeof err);
    if (opened != 0) {
        store_close(from);
        return cli_fail(opened == STORE_CONFLICT ? EXIT_USAGE : EXIT_RUNTIME, "%s%s", err,
                        opened == STORE_CONFLICT ? "; nothing copied (the target must be empty)"
                                                 : "");
    }
    rc = check_known(to, to_shown, 1);

    size_t ntables;
    const struct store_copy_table *tables = store_copy_tables(&ntables);
    struct table_sum *read = calloc(ntables, sizeof *read);
    struct table_sum *source = calloc(ntables, sizeof *source);
    struct table_sum *target = calloc(ntables, sizeof *target);
    if (rc == 0 && (!read || !source || !target))
        rc = cli_fail(EXIT_RUNTIME, "out of memory");
    /* One snapshot of the source for the copy and its check. */
    if (rc == 0 && store_read_begin(from) != 0)
        rc = cli_fail(EXIT_RUNTIME, "cannot read %s (see the log)", from_shown);
    int reading = rc == 0;
    struct timespec began, ended;
    clock_gettime(CLOCK_MONOTONIC, &began);
    if (rc == 0)
        rc = copy_all(from, to, to_shown, read);
    clock_gettime(CLOCK_MONOTONIC, &ended);

    /* The check: every table counted and summed again, on both sides. */
    int64_t total = 0;
    int differs = 0;
    if (rc == 0) {
        printf("%-16s %10s %10s  %s\n", "table", "source", "target", "check");
        for (size_t i = 0; i < ntables && rc == 0; i++) {
            int64_t from_count = 0, to_count = 0;
            if (store_copy_read(from, &tables[i], sum_row, &source[i]) != 0 ||
                store_copy_read(to, &tables[i], sum_row, &target[i]) != 0 ||
                store_copy_count(from, &tables[i], &from_count) != 0 ||
                store_copy_count(to, &tables[i], &to_count) != 0) {
                rc = cli_fail(EXIT_RUNTIME, "cannot check table %s (see the log)", tables[i].name);
                break;
            }
            int ok = from_count == to_count && source[i].rows == from_count &&
                     target[i].rows == to_count && read[i].rows == from_count &&
                     source[i].sum == target[i].sum && read[i].sum == source[i].sum;
            differs |= !ok;
            total += to_count;
            printf("%-16s %10lld %10lld  %s\n", tables[i].name, (long long)from_count,
                   (long long)to_count, ok ? "ok" : "DIFFERS");
        }
    }
    if (reading)
        store_read_end(from);
    if (rc == 0 && differs)
        rc = cli_fail(EXIT_RUNTIME,
                      "the copy on %s differs from the source (the rows marked DIFFERS): do "
                      "not use it; empty it and run migrate again",
                      to_shown);
    if (rc == 0) {
        double seconds =
            (double)(ended.tv_sec - began.tv_sec) + (double)(ended.tv_nsec - began.tv_nsec) / 1e9;
        printf("migrated %lld rows in %zu tables from %s to %s in %.2f s\n", (long long)total,
               ntables, cli_text(from_shown), cli_text(to_shown), seconds);
    }
    free(read);
    free(source);
    free(target);
    store_close(to);
    store_close(from);
    return rc;
}
