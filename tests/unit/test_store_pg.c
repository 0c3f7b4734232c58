/*
 * test_store_pg: what only the PostgreSQL backend has to get right, beyond
 * the conformance suite: migrations under their advisory lock when several
 * processes open a new database at once, the refusal of a schema newer than
 * the binary, and a connection the server dropped (terminated here with
 * pg_terminate_backend, as a restart or a failover would), and the sender's
 * claim made ahead on a connection of its own (mail/claim_ahead.c, used on a
 * database server only). Each case runs on
 * a fresh schema of the cluster MUSTER_TEST_PG names (conformance_backends.h);
 * without it the cases say so on a line of their own and run nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "campaign/campaign.h"
#include "conformance_backends.h"
#include "core/buf.h"
#include "core/token.h"
#include "mail/claim_ahead.h"
#include "store/store.h"

#include "core/banned.h"

#define T0 INT64_C(1767225600)

struct pg_fx {
    struct conformance_db db;
    char location[640]; /* db.location with this case's application_name */
};

static int setup(void **state)
{
    struct pg_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(conformance_pg_make(&f->db), 0);
    /* The name lets the case find its own connections to terminate them. */
    snprintf(f->location, sizeof f->location, "%s application_name=%s", f->db.location, f->db.name);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct pg_fx *f = *state;
    conformance_pg_remove(&f->db);
    free(f);
    return 0;
}

static struct store *open_store(const char *location)
{
    struct store *st = NULL;
    char err[512] = "";
    if (store_open(location, &st, err, sizeof err) != 0)
        fail_msg("store_open: %s", err);
    return st;
}

/* Terminates every connection of this case (by its application_name); the
 * number terminated. */
static int terminate_connections(struct pg_fx *f)
{
    PGconn *conn = PQconnectdb(getenv("MUSTER_TEST_PG"));
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    const char *params[1] = {f->db.name};
    PGresult *r = PQexecParams(conn,
                               "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = $1",
                               1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(conn);
    return n;
}

/* The newest schema version, as the SQLite backend numbers it: PostgreSQL's
 * steps carry the same numbers. */
static int sqlite_schema_version_now(void)
{
    struct conformance_db db;
    assert_int_equal(conformance_sqlite_make(&db), 0);
    struct store *st = open_store(db.location);
    int v = store_schema_version(st);
    store_close(st);
    conformance_sqlite_remove(&db);
    assert_true(v > 0);
    return v;
}

static int64_t add_campaign(struct store *st, const char *slug)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"slug\": \"%s\", \"title\": \"T\", \"launch\": {\"at\": "
             "\"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, \"message\": {\"title\": \"M\"}, "
             "\"targets\": [{\"id\": \"only\", \"kind\": \"bluesky\"}]}",
             slug);
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(text, strlen(text), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    int64_t id = 0;
    int rc = store_campaign_insert(st, c, T0, &id);
    campaign_free(c);
    assert_int_equal(rc, 0);
    return id;
}

/* ---------- a dropped connection ---------- */

static void a_handle_whose_connection_was_dropped_works_again_outside_a_transaction(void **state)
{
    struct pg_fx *f = *state;
    struct store *st = open_store(f->location);
    int64_t cid = add_campaign(st, "before");
    assert_true(terminate_connections(f) >= 1);
    /* The next call finds the connection gone, opens it again and is answered. */
    struct campaign_row row = {0};
    assert_int_equal(store_campaign_get_by_id(st, cid, &row), 0);
    assert_string_equal(row.slug, "before");
    campaign_row_release(&row);
    add_campaign(st, "after");
    store_close(st);
}

static void a_transaction_cut_by_a_dropped_connection_fails_and_the_next_one_commits(void **state)
{
    struct pg_fx *f = *state;
    struct store *st = open_store(f->location);
    assert_int_equal(store_begin(st), 0);
    add_campaign(st, "lost");
    assert_true(terminate_connections(f) >= 1);
    /* Its work is gone: the transaction must fail, not reconnect silently. */
    struct campaign_row row = {0};
    assert_int_equal(store_campaign_get(st, "lost", &row), -1);
    assert_int_equal(store_commit(st), -1);
    assert_int_equal(store_begin(st), 0);
    add_campaign(st, "kept");
    assert_int_equal(store_commit(st), 0);
    assert_int_equal(store_campaign_get(st, "lost", &row), STORE_NOT_FOUND);
    assert_int_equal(store_campaign_get(st, "kept", &row), 0);
    campaign_row_release(&row);
    store_close(st);
}

/* ---------- the sender's transactions beside the rules' ---------- */

struct rows_writer {
    struct store *st;
    int64_t item_id;
    int rc;
    volatile int done;
};

static void *write_rows(void *arg)
{
    struct rows_writer *w = arg;
    w->rc = store_begin_rows(w->st);
    if (w->rc == 0)
        w->rc = store_outbox_sent(w->st, w->item_id, "A", T0 + 1);
    if (w->rc == 0)
        w->rc = store_commit(w->st);
    w->done = 1;
    return NULL;
}

/* A rule's transaction holds the write lock (through its commit's flush): the
 * sender's outcomes do not wait for it. */
static void a_rows_transaction_does_not_wait_for_the_write_lock(void **state)
{
    struct pg_fx *f = *state;
    struct store *rule = open_store(f->location);
    struct store *sender = open_store(f->location);
    int64_t cid = add_campaign(rule, "rows");
    struct pledge_input in = {"a@example.org", "A", "", "UTC", NULL, "I agree", "192.0.2.1"};
    int64_t supporter = 0;
    assert_int_equal(store_pledge_insert(rule, cid, &in, T0, &supporter), 0);
    assert_int_equal(store_outbox_add(rule, MAIL_CONFIRM, cid, supporter, T0), 0);
    struct outbox_item item;
    size_t n = 0;
    assert_int_equal(store_outbox_claim(sender, "A", 0, T0, 60, &item, 1, &n), 0);
    assert_int_equal(n, 1);

    assert_int_equal(store_begin(rule), 0); /* takes the write lock */
    struct rows_writer w = {sender, item.id, -1, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_rows, &w), 0);
    for (int i = 0; i < 1000 && !w.done; i++) {
        struct timespec ms10 = {0, 10000000L};
        nanosleep(&ms10, NULL);
    }
    int done_while_locked = w.done;
    assert_int_equal(store_commit(rule), 0); /* lets a waiting writer go */
    pthread_join(t, NULL);
    assert_true(done_while_locked);
    assert_int_equal(w.rc, 0);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(rule, cid, MAIL_CONFIRM, T0 + 2, &pending, &ready), 0);
    assert_int_equal(pending, 0);
    store_close(sender);
    store_close(rule);
}

/* ---------- migrations ---------- */

#define OPENERS 8

struct opener {
    const char *location;
    pthread_barrier_t *go;
    int version;
    char err[512];
};

static void *open_at_once(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(o->go);
    struct store *st = NULL;
    if (store_open(o->location, &st, o->err, sizeof o->err) == 0) {
        o->version = store_schema_version(st);
        store_close(st);
    } else {
        o->version = -1;
    }
    return NULL;
}

static void eight_handles_opening_a_new_database_at_once_migrate_it_once(void **state)
{
    struct pg_fx *f = *state;
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, OPENERS), 0);
    struct opener o[OPENERS];
    pthread_t threads[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        memset(&o[i], 0, sizeof o[i]);
        o[i].location = f->location;
        o[i].go = &go;
        assert_int_equal(pthread_create(&threads[i], NULL, open_at_once, &o[i]), 0);
    }
    for (int i = 0; i < OPENERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&go);
    int newest = sqlite_schema_version_now();
    for (int i = 0; i < OPENERS; i++)
        if (o[i].version != newest)
            fail_msg("opener %d: version %d: %s", i, o[i].version, o[i].err);
}

static void a_database_whose_schema_is_newer_than_the_binary_is_refused(void **state)
{
    struct pg_fx *f = *state;
    struct store *st = open_store(f->location);
    store_close(st);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE %s.muster_schema SET version = 99", f->db.name);
    assert_int_equal(conformance_pg_admin(sql), 0);
    st = NULL;
    char err[512] = "";
    assert_int_not_equal(store_open(f->location, &st, err, sizeof err), 0);
    assert_null(st);
    char want[96];
    snprintf(want, sizeof want, "schema version 99 is newer than this muster (%d)",
             sqlite_schema_version_now());
    if (!strstr(err, want))
        fail_msg("%s", err);
}

/* ---------- the claim made ahead ---------- */

static void a_claim_made_ahead_is_taken_whole_and_one_never_taken_is_handed_back(void **state)
{
    struct pg_fx *f = *state;
    struct store *st = open_store(f->location);
    int64_t cid = add_campaign(st, "ahead");
    for (int64_t sid = 1; sid <= 5; sid++)
        assert_int_equal(store_outbox_add(st, MAIL_REMINDER, cid, sid, T0), 0);
    char err[512] = "";
    struct claim_ahead *c = claim_ahead_open(f->location, err, sizeof err);
    if (!c)
        fail_msg("claim_ahead_open: %s", err);
    struct outbox_item items[CLAIM_AHEAD_MAX];
    size_t n = 0;
    int64_t decided_ms = 0, now = 0;
    /* Nothing requested: nothing to take. */
    assert_int_equal(claim_ahead_take(c, cid, items, 8, &n, &decided_ms, &now), 0);
    assert_int_equal(claim_ahead_request(c, "a", cid, T0 + 10, 120, 3), 0);
    assert_int_equal(claim_ahead_request(c, "a", cid, T0 + 10, 120, 3), -1); /* one at a time */
    assert_int_equal(claim_ahead_take(c, cid, items, 8, &n, &decided_ms, &now), 1);
    assert_int_equal(n, 3);
    assert_int_equal(now, T0 + 10);
    assert_true(decided_ms > 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].campaign_id, cid);
        assert_int_equal(items[i].attempts, 1);
    }
    /* A claim for another campaign than the one taken goes back at once. */
    assert_int_equal(claim_ahead_request(c, "a", cid, T0 + 10, 120, 1), 0);
    assert_int_equal(claim_ahead_take(c, cid + 1, items, 8, &n, &decided_ms, &now), 0);
    /* A claim never taken goes back when the sender closes. */
    assert_int_equal(claim_ahead_request(c, "a", cid, T0 + 10, 120, 3), 0);
    claim_ahead_close(c);
    /* Another sender finds the two rows not taken, unleased, their attempt
     * not counted; the three taken stay leased to "a". */
    assert_int_equal(store_outbox_claim(st, "b", cid, T0 + 11, 120, items, 8, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(items[i].attempts, 1);
    store_close(st);
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    unsigned char secret[TOKEN_SECRET_LEN] = {1};
    if (token_init(secret) != 0)
        return 1;
    const char *why = conformance_pg_unavailable();
    if (why) {
        printf("\n!! SKIPPED: store postgres: %s\n\n", why);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        CASE(a_handle_whose_connection_was_dropped_works_again_outside_a_transaction),
        CASE(a_transaction_cut_by_a_dropped_connection_fails_and_the_next_one_commits),
        CASE(a_rows_transaction_does_not_wait_for_the_write_lock),
        CASE(eight_handles_opening_a_new_database_at_once_migrate_it_once),
        CASE(a_database_whose_schema_is_newer_than_the_binary_is_refused),
        CASE(a_claim_made_ahead_is_taken_whole_and_one_never_taken_is_handed_back),
    };
    return cmocka_run_group_tests_name("store postgres", tests, NULL, NULL);
}
