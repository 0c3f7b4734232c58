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

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "tmp_db.h"

struct conformance_db {
    char location[512]; /* given to store_open */
    struct tmp_db tmp;  /* sqlite: the directory and the file */
    char name[64];      /* postgres: the schema made for the case */
};

struct conformance_backend {
    const char *name;  /* what store_backend_name says */
    unsigned supports; /* the enum store_capability bits store_supports must say */
    /* A fresh, empty database: 0 when made, db->location then names it. */
    int (*make)(struct conformance_db *db);
    /* Removes it, after every handle on it is closed. */
    void (*remove)(struct conformance_db *db);
    /* NULL when the backend can be tested here, else why not (the suite
     * then says so loudly and runs none of its cases). */
    const char *(*unavailable)(void);
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

static inline const char *conformance_always_available(void)
{
    return NULL;
}

/* PostgreSQL: a fresh schema per case, on the cluster that MUSTER_TEST_PG
 * names in libpq's key=value form (scripts/pg-cluster.sh prints one;
 * tests/run.sh starts it): the case's location is that string with its
 * search_path set to the schema, so store_open migrates an empty schema, and
 * the schema is dropped afterwards. (A schema takes milliseconds to make; a
 * database took a second per case on the 2-core machine.) */
static inline const char *conformance_pg_unavailable(void)
{
    const char *admin = getenv("MUSTER_TEST_PG");
    if (!admin || !*admin)
        return "MUSTER_TEST_PG is not set (tests/run.sh starts a cluster with "
               "scripts/pg-cluster.sh and sets it)";
    return NULL;
}

/* Runs one statement on the cluster's admin database; 0 when it worked. */
static inline int conformance_pg_admin(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("MUSTER_TEST_PG"));
    int ok = 0;
    if (PQstatus(conn) == CONNECTION_OK) {
        PQclear(PQexec(conn, "SET client_min_messages = warning")); /* no NOTICE lines */
        PGresult *r = PQexec(conn, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "conformance: %s: %s", sql, PQerrorMessage(conn));
        PQclear(r);
    } else {
        fprintf(stderr, "conformance: MUSTER_TEST_PG: %s", PQerrorMessage(conn));
    }
    PQfinish(conn);
    return ok ? 0 : -1;
}

static inline int conformance_pg_make(struct conformance_db *db)
{
    static _Atomic unsigned made;
    snprintf(db->name, sizeof db->name, "muster_conformance_%d_%u", (int)getpid(),
             atomic_fetch_add(&made, 1));
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", db->name);
    if (conformance_pg_admin(sql) != 0)
        return -1;
    snprintf(db->location, sizeof db->location, "%s options='-csearch_path=%s'",
             getenv("MUSTER_TEST_PG"), db->name);
    return 0;
}

static inline void conformance_pg_remove(struct conformance_db *db)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", db->name);
    conformance_pg_admin(sql);
}

static const struct conformance_backend conformance_backends[] = {
    {"sqlite",
     STORE_SUPPORTS_SHARED_SNAPSHOT | STORE_SUPPORTS_DATA_VERSION | STORE_SUPPORTS_LOCAL_ONLY,
     conformance_sqlite_make, conformance_sqlite_remove, conformance_always_available},
    {"postgres", STORE_SUPPORTS_SHARED_SNAPSHOT, conformance_pg_make, conformance_pg_remove,
     conformance_pg_unavailable},
};

#endif
