/*
 * conformance_backends: the backends test_store_conformance runs every case
 * against, one row each: the name store_backend_name reports, the
 * capabilities store_supports must report, and how to make and remove a
 * fresh throw-away database (its location is what store_open is given).
 * Adding a backend to the suite is one row here (and its make/remove pair).
 * Header-only: each unit test is built from its own .c file.
 */
#ifndef MUSTER_TESTS_UNIT_CONFORMANCE_BACKENDS_H
#define MUSTER_TESTS_UNIT_CONFORMANCE_BACKENDS_H

#include <stdio.h>

#include "store/store.h"
#include "tmp_db.h"

struct conformance_db {
    char location[160]; /* given to store_open */
    struct tmp_db tmp;  /* sqlite: the directory and the file */
};

struct conformance_backend {
    const char *name;  /* what store_backend_name says */
    unsigned supports; /* the enum store_capability bits store_supports must say */
    /* A fresh, empty database: 0 when made, db->location then names it. */
    int (*make)(struct conformance_db *db);
    /* Removes it, after every handle on it is closed. */
    void (*remove)(struct conformance_db *db);
};

/* SQLite: muster.db in a fresh directory under /tmp, as sqlite:PATH; its
 * removal takes the -wal and -shm files too. */
static inline int conformance_sqlite_make(struct conformance_db *db)
{
    if (tmp_db_make(&db->tmp, "conformance") != 0)
        return -1;
    snprintf(db->location, sizeof db->location, "sqlite:%s", db->tmp.path);
    return 0;
}

static inline void conformance_sqlite_remove(struct conformance_db *db)
{
    tmp_db_remove(&db->tmp);
}

static const struct conformance_backend conformance_backends[] = {
    {"sqlite",
     STORE_SUPPORTS_SHARED_SNAPSHOT | STORE_SUPPORTS_DATA_VERSION | STORE_SUPPORTS_LOCAL_ONLY,
     conformance_sqlite_make, conformance_sqlite_remove},
};

#endif
