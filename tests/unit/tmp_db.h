/*
 * tmp_db: a throwaway database file for the store's unit tests: muster.db in
 * a fresh directory under /tmp, and its removal with SQLite's -wal and -shm
 * files. Header-only: each unit test is built from its own .c file.
 */
#ifndef MUSTER_TESTS_UNIT_TMP_DB_H
#define MUSTER_TESTS_UNIT_TMP_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct tmp_db {
    char dir[64];
    char path[96];
};

/* 0 when the directory was made; db->path then names muster.db in it. */
static inline int tmp_db_make(struct tmp_db *db, const char *name)
{
    snprintf(db->dir, sizeof db->dir, "/tmp/muster-%s-XXXXXX", name);
    if (!mkdtemp(db->dir))
        return -1;
    snprintf(db->path, sizeof db->path, "%s/muster.db", db->dir);
    return 0;
}

/* After every handle on it is closed. */
static inline void tmp_db_remove(const struct tmp_db *db)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[128];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db->path, suffixes[i]);
        unlink(path);
    }
    rmdir(db->dir);
}

#endif
