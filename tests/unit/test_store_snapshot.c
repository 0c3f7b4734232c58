/*
 * test_store_snapshot: the shared read snapshot of the one-click path
 * (store_snapshot_enter in store.h) on a real SQLite file with two handles:
 * a reused snapshot does not see a commit made after it began, a new one
 * does; it is renewed once older than its max age; expire ends only an old
 * snapshot nobody holds and never waits for a held one; end lets the handle
 * write again.
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
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "tmp_db.h"

#include "core/banned.h"

#define LONG_AGE_US (60LL * 1000 * 1000)

struct fixture {
    struct tmp_db db;
    struct store *reader;
    struct store *writer;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmp_db_make(&f->db, "snapshot"), 0);
    char err[256];
    assert_int_equal(store_open(f->db.path, &f->writer, err, sizeof err), 0);
    assert_int_equal(store_open(f->db.path, &f->reader, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->reader);
    store_close(f->writer);
    tmp_db_remove(&f->db);
    free(f);
    return 0;
}

/* 1 when the organizer exists as `st` sees the database. */
static int sees_organizer(struct store *st, const char *email)
{
    int64_t id = 0;
    char *hash = NULL;
    int rc = store_organizer_get(st, email, &id, &hash);
    free(hash);
    assert_true(rc == 0 || rc == STORE_NOT_FOUND);
    return rc == 0;
}

static void add_organizer(struct store *st, const char *email)
{
    int created = 0;
    assert_int_equal(store_organizer_set_password(st, email, "hash", 1, &created), 0);
    assert_int_equal(created, 1);
}

static void a_reused_snapshot_keeps_its_view_and_a_new_one_sees_the_commit(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->reader, "a@example.org"));
    store_snapshot_leave(f->reader);

    add_organizer(f->writer, "a@example.org");

    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 0);
    assert_false(sees_organizer(f->reader, "a@example.org"));
    store_snapshot_leave(f->reader);

    store_snapshot_end(f->reader);
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_true(sees_organizer(f->reader, "a@example.org"));
    store_snapshot_leave(f->reader);
    store_snapshot_end(f->reader);
}

static void a_snapshot_older_than_its_max_age_is_renewed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_snapshot_enter(f->reader, 1000), 1);
    assert_false(sees_organizer(f->reader, "b@example.org"));
    store_snapshot_leave(f->reader);
    add_organizer(f->writer, "b@example.org");
    struct timespec pause = {0, 3 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(store_snapshot_enter(f->reader, 1000), 1);
    assert_true(sees_organizer(f->reader, "b@example.org"));
    store_snapshot_leave(f->reader);
    store_snapshot_end(f->reader);
}

static void expire_ends_only_an_old_snapshot(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_snapshot_expire(f->reader, LONG_AGE_US), 0); /* none open */
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->reader, "c@example.org")); /* the snapshot is taken */
    store_snapshot_leave(f->reader);
    assert_int_equal(store_snapshot_expire(f->reader, LONG_AGE_US), 1); /* young: kept */
    add_organizer(f->writer, "c@example.org");
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 0);
    assert_false(sees_organizer(f->reader, "c@example.org"));
    store_snapshot_leave(f->reader);
    assert_int_equal(store_snapshot_expire(f->reader, 0), 0); /* old: ended */
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_true(sees_organizer(f->reader, "c@example.org"));
    store_snapshot_leave(f->reader);
    store_snapshot_end(f->reader);
}

struct expire_call {
    struct store *st;
    int result;
};

static void *expire_from_another_thread(void *arg)
{
    struct expire_call *call = arg;
    call->result = store_snapshot_expire(call->st, 0);
    return NULL;
}

static void expire_never_waits_for_a_held_snapshot(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->reader, "d@example.org")); /* the snapshot is taken */
    /* Held (no leave yet): the other thread must return at once, leaving it. */
    struct expire_call call = {f->reader, -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, expire_from_another_thread, &call), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(call.result, 1);
    add_organizer(f->writer, "d@example.org");
    assert_false(sees_organizer(f->reader, "d@example.org"));
    store_snapshot_leave(f->reader);
    store_snapshot_end(f->reader);
}

static void after_end_the_handle_writes_again(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_snapshot_enter(f->reader, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->reader, "e@example.org"));
    store_snapshot_leave(f->reader);
    store_snapshot_end(f->reader);
    add_organizer(f->reader, "e@example.org");
    assert_true(sees_organizer(f->writer, "e@example.org"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_reused_snapshot_keeps_its_view_and_a_new_one_sees_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(a_snapshot_older_than_its_max_age_is_renewed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expire_ends_only_an_old_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(expire_never_waits_for_a_held_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(after_end_the_handle_writes_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
