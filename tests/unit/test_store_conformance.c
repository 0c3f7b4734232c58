/*
 * test_store_conformance: what every store backend must do, through the
 * public API only (store.h, store_webhooks.h, store_dashboard.h,
 * store_suppression.h). Each case
 * is written once and runs against every row of conformance_backends.h on a
 * fresh throw-away database that holds one campaign, "docs-day", with the
 * targets first (cap 2), second and third. One case, one behaviour, named
 * after it; every operation of the three headers is checked by reading its
 * effect back through another one. The last cases race threads, each with
 * its own handle on the same database: outbox claims and capped places.
 * A first group holds whatever the backend: which locations store_open and
 * store_location_check take, and the campaign file's limit of targets.
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

#include "campaign/campaign.h"
#include "conformance_backends.h"
#include "core/buf.h"
#include "core/token.h"
#include "core/tz.h"
#include "service/campaigns.h"
#include "store/group_commit.h"
#include "store/store.h"
#include "store/store_copy.h"
#include "store/store_dashboard.h"
#include "store/store_inspect.h"
#include "store/store_suppression.h"
#include "store/store_webhooks.h"
#include "tmp_db.h"

#include "core/banned.h"

/* 2026-01-01T00:00:00Z: pledges, confirmations and other daily life. The
 * fixture campaign launches later, on 2026-12-05 at 10:00 UTC (f->launch). */
#define T0 INT64_C(1767225600)
#define WINDOW_SECONDS (120 * 60) /* the default launch window */
#define LONG_AGE_US (60LL * 1000 * 1000)

#define CAMPAIGN_FMT                                                                               \
    "{\"slug\": \"%s\", \"title\": \"T\", "                                                        \
    "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "                       \
    "\"message\": {\"title\": \"%s\"}, \"targets\": [%s]}"
#define TARGET(id) "{\"id\": \"" id "\", \"kind\": \"bluesky\"}"
#define CAPPED_TARGET(id, cap) "{\"id\": \"" id "\", \"kind\": \"bluesky\", \"cap\": " #cap "}"
#define FIXTURE_TARGETS CAPPED_TARGET("first", 2) ", " TARGET("second") ", " TARGET("third")

struct fx {
    const struct conformance_backend *be;
    struct conformance_db db;
    struct store *st;
    struct campaign *c; /* docs-day as parsed */
    int64_t cid;
    int64_t launch;
    int64_t t[3];            /* first, second, third */
    struct store *others[4]; /* more handles on the database, closed at teardown */
    size_t n_others;
};

/* ---------- helpers ---------- */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct campaign *parse_json(const char *text, size_t len)
{
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(text, len, "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    return c;
}

static struct campaign *parse_campaign(const char *slug, const char *title, const char *targets)
{
    struct buf text = BUF_INIT;
    buf_printf(&text, CAMPAIGN_FMT, slug, title, targets);
    assert_false(buf_failed(&text));
    struct campaign *c = parse_json(text.data, text.len);
    buf_release(&text);
    return c;
}

/* Inserts c and its targets in one transaction; the new campaign's id. */
static int64_t insert_campaign(struct store *st, const struct campaign *c)
{
    int64_t id = 0;
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(store_campaign_insert(st, c, T0, &id), 0);
    assert_int_equal(store_targets_replace(st, id, c->targets, c->target_count), 0);
    assert_int_equal(store_commit(st), 0);
    assert_true(id > 0);
    return id;
}

/* A second campaign with one target, "only", launching with docs-day. */
static int64_t add_campaign(struct fx *f, const char *slug)
{
    struct campaign *c = parse_campaign(slug, "M", TARGET("only"));
    int64_t id = insert_campaign(f->st, c);
    campaign_free(c);
    return id;
}

/* A campaign with one target on st; its id. */
static int64_t add_campaign_on(struct store *st, const char *slug)
{
    struct campaign *c = parse_campaign(slug, "M", TARGET("only"));
    int64_t id = insert_campaign(st, c);
    campaign_free(c);
    return id;
}

/* Another handle on the fixture's database (closed by teardown). */
static struct store *open_other(struct fx *f)
{
    struct store *st = NULL;
    char err[256] = "";
    assert_true(f->n_others < sizeof f->others / sizeof f->others[0]);
    if (store_open(f->db.location, &st, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", f->db.location, err);
    f->others[f->n_others++] = st;
    return st;
}

/* A pending pledge made at `now` from the form; its supporter id. */
static int64_t pledge(struct store *st, int64_t cid, const char *email, int64_t now)
{
    struct pledge_input in = {email, "Name",    "Because",  "Europe/Berlin",
                              NULL,  "I agree", "192.0.2.1"};
    int64_t id = 0;
    assert_int_equal(store_pledge_insert(st, cid, &in, now, &id), 0);
    assert_true(id > 0);
    return id;
}

/* An imported (confirmed) pledge at `now`, consent 100 s before; its id. */
static int64_t import(struct store *st, int64_t cid, const char *email, int64_t now)
{
    assert_int_equal(store_pledge_import(st, cid, email, "Imported", "UTC", "yes", now - 100, now),
                     0);
    struct pledge_state ps;
    assert_int_equal(store_pledge_find(st, cid, email, &ps), 0);
    return ps.id;
}

static int has_pledge(struct store *st, int64_t cid, const char *email)
{
    struct pledge_state ps;
    int rc = store_pledge_find(st, cid, email, &ps);
    assert_true(rc == 0 || rc == STORE_NOT_FOUND);
    return rc == 0;
}

static struct supporter supporter_of(struct store *st, int64_t id)
{
    struct supporter s;
    assert_int_equal(store_supporter_by_id(st, id, &s), 0);
    return s;
}

static int64_t assigned_of(struct store *st, int64_t id)
{
    struct supporter s = supporter_of(st, id);
    int64_t t = s.assigned_target;
    supporter_release(&s);
    return t;
}

static struct target_row target_of(struct store *st, int64_t cid, int64_t target_id)
{
    struct target_list l;
    struct target_row r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_targets(st, cid, &l), 0);
    int found = 0;
    for (size_t i = 0; i < l.count; i++)
        if (l.rows[i].id == target_id) {
            r = l.rows[i];
            found = 1;
        }
    target_list_release(&l);
    if (!found)
        fail_msg("no target %lld", (long long)target_id);
    return r;
}

static int64_t revision_of(struct store *st, int64_t cid)
{
    struct campaign_row r = {0};
    assert_int_equal(store_campaign_peek(st, NULL, cid, &r), 0);
    int64_t rev = r.revision;
    campaign_row_release(&r);
    return rev;
}

static struct campaign_row campaign_of(struct store *st, int64_t cid)
{
    struct campaign_row r = {0};
    assert_int_equal(store_campaign_get_by_id(st, cid, &r), 0);
    return r;
}

static int take(struct store *st, int64_t target, int64_t supporter, int64_t previous)
{
    int taken = -1;
    assert_int_equal(store_place_take(st, target, supporter, previous, &taken), 0);
    assert_true(taken == 0 || taken == 1);
    return taken;
}

static size_t claim(struct store *st, const char *owner, int64_t cid, int64_t now, int lease,
                    struct outbox_item *items, size_t max)
{
    size_t n = 999;
    assert_int_equal(store_outbox_claim(st, owner, cid, now, lease, items, max, &n), 0);
    assert_true(n <= max);
    return n;
}

static int64_t pending_of(struct store *st, int64_t cid, enum mail_kind kind, int64_t now,
                          int64_t *ready)
{
    int64_t pending = -1, r = -1;
    assert_int_equal(store_outbox_pending(st, cid, kind, now, &pending, &r), 0);
    if (ready)
        *ready = r;
    return pending;
}

static struct campaign_stats stats_of(struct store *st, int64_t cid)
{
    struct campaign_stats s;
    assert_int_equal(store_stats(st, cid, &s), 0);
    return s;
}

static int64_t add_organizer(struct store *st, const char *email, const char *hash)
{
    int created = -1;
    assert_int_equal(store_organizer_set_password(st, email, hash, T0, &created), 0);
    int64_t id = 0;
    char *stored = NULL;
    assert_int_equal(store_organizer_get(st, email, &id, &stored), 0);
    free(stored);
    return id;
}

static int sees_organizer(struct store *st, const char *email)
{
    int64_t id = 0;
    char *hash = NULL;
    int rc = store_organizer_get(st, email, &id, &hash);
    free(hash);
    assert_true(rc == 0 || rc == STORE_NOT_FOUND);
    return rc == 0;
}

static size_t webhook_claim(struct store *st, const char *owner, int64_t now, int lease,
                            struct webhook_delivery *items, size_t max)
{
    size_t n = 999;
    assert_int_equal(store_webhook_claim(st, owner, now, lease, items, max, &n), 0);
    assert_true(n <= max);
    return n;
}

static void webhook_release_all(struct webhook_delivery *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        webhook_delivery_release(&items[i]);
}

static void iso(int64_t t, char out[21])
{
    tz_iso_utc(t, out);
}

/* Rows handed to a store_row_fn, up to 8 of 12 cells each. */
struct rows {
    int count;
    int columns;
    int stop_after; /* returns non-zero at this row (0: never) */
    char cell[8][12][96];
};

static int collect_row(void *ctx, const char *const *values, int count)
{
    struct rows *r = ctx;
    r->columns = count;
    if (r->count < 8)
        for (int i = 0; i < count && i < 12; i++)
            snprintf(r->cell[r->count][i], sizeof r->cell[0][0], "%s", values[i]);
    r->count++;
    return r->stop_after && r->count >= r->stop_after;
}

/* ---------- fixture ---------- */

static int setup(void **state)
{
    const struct conformance_backend *be = *state;
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->be = be;
    assert_int_equal(be->make(&f->db), 0);
    char err[256] = "";
    if (store_open(f->db.location, &f->st, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", f->db.location, err);
    f->c = parse_campaign("docs-day", "M", FIXTURE_TARGETS);
    f->cid = insert_campaign(f->st, f->c);
    f->launch = f->c->launch_utc;
    struct target_list l;
    assert_int_equal(store_targets(f->st, f->cid, &l), 0);
    assert_int_equal(l.count, 3);
    for (int i = 0; i < 3; i++)
        f->t[i] = l.rows[i].id;
    target_list_release(&l);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < f->n_others; i++)
        store_close(f->others[i]);
    store_close(f->st);
    campaign_free(f->c);
    f->be->remove(&f->db);
    free(f);
    return 0;
}

/* ======================= store_open (any backend) ======================= */

/* Nothing listens on 127.0.0.1 port 1: the open fails at once, and the
 * message names the database without its password. */
static void store_open_of_an_unreachable_postgres_says_so_without_the_password(void **state)
{
    (void)state;
    static const char *const locations[] = {
        "postgresql://muster:hunter2secret@127.0.0.1:1/muster",
        "postgres://muster@127.0.0.1:1/muster?password=hunter2secret&connect_timeout=2",
        "host=127.0.0.1 port=1 dbname=muster password=hunter2secret connect_timeout=2",
        "host=127.0.0.1 port=1 password = 'hunter2secret' dbname=muster"};
    for (size_t i = 0; i < sizeof locations / sizeof locations[0]; i++) {
        struct store *st = NULL;
        char err[512] = "";
        assert_int_not_equal(store_open(locations[i], &st, err, sizeof err), 0);
        assert_null(st);
        if (!strstr(err, "PostgreSQL") || strstr(err, "hunter2"))
            fail_msg("%s: %s", locations[i], err);
        assert_non_null(strstr(err, "***"));
    }
}

static void store_location_redact_hides_every_form_of_password(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"postgresql://u:pw@h:5/db", "postgresql://u:***@h:5/db"},
        {"postgres://u:p%40w@h/db?sslmode=require", "postgres://u:***@h/db?sslmode=require"},
        {"postgres://u@h/db?a=1&password=pw&b=2", "postgres://u@h/db?a=1&password=***&b=2"},
        {"postgresql://h/db", "postgresql://h/db"},
        {"host=/tmp/x password=pw dbname=d", "host=/tmp/x password=*** dbname=d"},
        {"host=/tmp/x password = 'p w\\'x' dbname=d", "host=/tmp/x password = *** dbname=d"},
        {"dbname=d", "dbname=d"},
        {"./muster.db", "./muster.db"},
        {"sqlite:/var/lib/muster.db", "sqlite:/var/lib/muster.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        store_location_redact(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
}

static void store_location_backend_names_the_backend_of_each_form(void **state)
{
    (void)state;
    assert_string_equal(store_location_backend("./muster.db"), "sqlite");
    assert_string_equal(store_location_backend("sqlite:/tmp/x.db"), "sqlite");
    assert_string_equal(store_location_backend("/var/lib/muster/muster.db"), "sqlite");
    assert_string_equal(store_location_backend("postgres://h/db"), "postgres");
    assert_string_equal(store_location_backend("postgresql://u:p@h:5432/db"), "postgres");
    assert_string_equal(store_location_backend("host=/run/postgresql dbname=muster"), "postgres");
    assert_string_equal(store_location_backend(" dbname = muster"), "postgres");
    assert_null(store_location_backend("mysql://h/db"));
    assert_null(store_location_backend(""));
}

static void store_location_check_takes_postgres_forms_and_connects_to_nothing(void **state)
{
    (void)state;
    /* Port 1 of a documentation address: a check that connected would fail. */
    static const char *const locations[] = {"postgresql://u:pw@192.0.2.1:1/muster",
                                            "postgres://192.0.2.1:1/muster",
                                            "host=192.0.2.1 port=1 dbname=muster"};
    for (size_t i = 0; i < sizeof locations / sizeof locations[0]; i++) {
        char err[256] = "";
        if (store_location_check(locations[i], err, sizeof err) != 0)
            fail_msg("%s: %s", locations[i], err);
    }
}

static void store_open_refuses_an_unknown_scheme_naming_it(void **state)
{
    (void)state;
    struct store *st = NULL;
    char err[256] = "";
    assert_int_not_equal(store_open("foo://x", &st, err, sizeof err), 0);
    assert_null(st);
    assert_non_null(strstr(err, "foo://"));
    assert_non_null(strstr(err, "unknown scheme"));
}

static void store_open_refuses_an_empty_location_or_sqlite_without_a_path(void **state)
{
    (void)state;
    static const char *const locations[] = {"", "sqlite:"};
    for (size_t i = 0; i < 2; i++) {
        struct store *st = NULL;
        char err[256] = "";
        assert_int_not_equal(store_open(locations[i], &st, err, sizeof err), 0);
        assert_null(st);
        assert_true(err[0] != '\0');
    }
}

static void store_open_accepts_sqlite_colon_path_as_that_file(void **state)
{
    (void)state;
    struct tmp_db db;
    assert_int_equal(tmp_db_make(&db, "open"), 0);
    char location[160];
    snprintf(location, sizeof location, "sqlite:%s", db.path);
    struct store *prefixed = NULL, *plain = NULL;
    char err[256] = "";
    if (store_open(location, &prefixed, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", location, err);
    assert_string_equal(store_backend_name(prefixed), "sqlite");
    assert_int_equal(access(db.path, F_OK), 0);
    add_organizer(prefixed, "o@example.org", "h");
    if (store_open(db.path, &plain, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", db.path, err);
    assert_true(sees_organizer(plain, "o@example.org"));
    store_close(plain);
    store_close(prefixed);
    tmp_db_remove(&db);
}

static void store_location_check_refuses_what_store_open_refuses_with_the_same_message(void **state)
{
    (void)state;
    static const char *const locations[] = {"", "foo://x", "sqlite:", "mysql://u@h/db"};
    for (size_t i = 0; i < sizeof locations / sizeof locations[0]; i++) {
        char checked[256] = "", opened[256] = "";
        struct store *st = NULL;
        assert_int_equal(store_location_check(locations[i], checked, sizeof checked), -1);
        assert_int_not_equal(store_open(locations[i], &st, opened, sizeof opened), 0);
        assert_true(checked[0] != '\0');
        assert_string_equal(checked, opened);
    }
}

static void store_location_check_takes_a_sqlite_location_and_opens_nothing(void **state)
{
    (void)state;
    struct tmp_db db;
    assert_int_equal(tmp_db_make(&db, "check"), 0);
    char location[160];
    snprintf(location, sizeof location, "sqlite:%s", db.path);
    char err[256] = "";
    assert_int_equal(store_location_check(location, err, sizeof err), 0);
    assert_int_equal(store_location_check(db.path, err, sizeof err), 0);
    assert_int_not_equal(access(db.path, F_OK), 0); /* nothing was created */
    tmp_db_remove(&db);
}

static void campaign_parse_refuses_1001_targets_naming_the_limit(void **state)
{
    (void)state;
    struct buf targets = BUF_INIT;
    for (int i = 0; i < CAMPAIGN_MAX_TARGETS + 1; i++)
        buf_printf(&targets, "%s{\"id\": \"t%04d\", \"kind\": \"bluesky\"}", i ? ", " : "", i);
    struct buf text = BUF_INIT;
    buf_printf(&text, CAMPAIGN_FMT, "too-many", "M", buf_cstr(&targets));
    assert_false(buf_failed(&text));
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    assert_int_not_equal(campaign_parse(text.data, text.len, "c.json", &c, &errors), 0);
    assert_null(c);
    assert_non_null(strstr(buf_cstr(&errors), "too many targets"));
    char limit[16];
    snprintf(limit, sizeof limit, "%d", CAMPAIGN_MAX_TARGETS);
    assert_non_null(strstr(buf_cstr(&errors), limit));
    buf_release(&errors);
    buf_release(&text);
    buf_release(&targets);
}

/* ======================= handle and backend ======================= */

static void backend_name_is_the_name_in_the_backend_table(void **state)
{
    struct fx *f = *state;
    assert_string_equal(store_backend_name(f->st), f->be->name);
}

static void supports_exactly_the_capabilities_in_the_backend_table(void **state)
{
    struct fx *f = *state;
    static const enum store_capability caps[] = {
        STORE_SUPPORTS_SHARED_SNAPSHOT, STORE_SUPPORTS_DATA_VERSION, STORE_SUPPORTS_LOCAL_ONLY};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        assert_int_equal(store_supports(f->st, caps[i]) != 0, (f->be->supports & caps[i]) != 0);
    assert_false(store_supports(f->st, (enum store_capability)(1u << 20)));
}

static void schema_version_is_positive_and_stays_when_reopened(void **state)
{
    struct fx *f = *state;
    int v = store_schema_version(f->st);
    assert_true(v > 0);
    struct store *other = open_other(f);
    assert_int_equal(store_schema_version(other), v);
}

static void ping_answers_0(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_ping(f->st), 0);
}

static void secret_is_made_once_and_every_handle_reads_the_same(void **state)
{
    struct fx *f = *state;
    unsigned char a[32], b[32], c[32], zero[32] = {0};
    struct store *other = open_other(f);
    assert_int_equal(store_secret(other, a), 0);
    assert_int_equal(store_secret(f->st, b), 0);
    assert_int_equal(store_secret(other, c), 0);
    assert_memory_equal(a, b, 32);
    assert_memory_equal(a, c, 32);
    assert_memory_not_equal(a, zero, 32);
}

static void data_version_moves_when_another_handle_commits(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    int64_t before = store_data_version(f->st);
    if (!store_supports(f->st, STORE_SUPPORTS_DATA_VERSION)) {
        assert_int_equal(before, -1);
        return;
    }
    assert_true(before >= 0);
    add_organizer(other, "a@example.org", "h");
    int64_t after = store_data_version(f->st);
    assert_true(after >= 0);
    assert_int_not_equal(after, before);
}

/* Asking for the data version must not hold the handle to what it saw: its
 * next reads see later commits of other handles, and its next write works. */
static void a_handle_that_asked_its_data_version_sees_and_writes_after_another_commit(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    (void)store_data_version(f->st);
    add_organizer(other, "a@example.org", "h");
    assert_true(sees_organizer(f->st, "a@example.org"));
    int created = -1;
    assert_int_equal(store_organizer_set_password(f->st, "b@example.org", "h", T0, &created), 0);
    assert_true(sees_organizer(other, "b@example.org"));
}

/* ======================= transactions ======================= */

static void commit_makes_a_transactions_writes_visible_to_other_handles(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    assert_int_equal(store_begin(f->st), 0);
    pledge(f->st, f->cid, "a@example.org", T0);
    assert_false(has_pledge(other, f->cid, "a@example.org"));
    assert_int_equal(store_commit(f->st), 0);
    assert_true(has_pledge(other, f->cid, "a@example.org"));
}

static void rollback_undoes_every_write_of_the_transaction(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_campaign_count_confirmed(f->st, f->cid, 5), 0);
    store_rollback(f->st);
    assert_false(has_pledge(f->st, f->cid, "a@example.org"));
    int64_t count = -1;
    assert_int_equal(store_confirmed_count(f->st, f->cid, &count), 0);
    assert_int_equal(count, 0);
}

static void savepoint_end_without_keep_undoes_only_the_savepoint(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    pledge(f->st, f->cid, "before@example.org", T0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "undone@example.org", T0);
    assert_int_equal(store_savepoint_end(f->st, 0), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "kept@example.org", T0);
    assert_int_equal(store_savepoint_end(f->st, 1), 0);
    assert_int_equal(store_commit(f->st), 0);
    struct store *other = open_other(f);
    assert_true(has_pledge(other, f->cid, "before@example.org"));
    assert_false(has_pledge(other, f->cid, "undone@example.org"));
    assert_true(has_pledge(other, f->cid, "kept@example.org"));
}

/* A write the database refuses (the event of a target that does not exist:
 * its foreign key): a backend may refuse it at once, or hold it and refuse it
 * with a later statement. */
#define NO_TARGET 987654321

static int refused_write(struct store *st)
{
    return store_target_set_state(st, NO_TARGET, 0, "gone", "test", T0);
}

static void a_checked_savepoint_undoes_only_the_job_whose_write_failed(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "first@example.org", T0);
    assert_int_equal(store_savepoint_end(f->st, STORE_SAVEPOINT_CHECK), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "failed@example.org", T0);
    int rc = refused_write(f->st);
    /* Refused now: the job undoes itself; held: the check at its end finds it. */
    int ended = store_savepoint_end(f->st, rc == 0 ? STORE_SAVEPOINT_CHECK : 0);
    assert_int_equal(ended, rc == 0 ? STORE_UNDONE : 0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "third@example.org", T0);
    assert_int_equal(store_savepoint_end(f->st, 1), 0);
    assert_int_equal(store_commit(f->st), 0);
    struct store *other = open_other(f);
    assert_true(has_pledge(other, f->cid, "first@example.org"));
    assert_false(has_pledge(other, f->cid, "failed@example.org"));
    assert_true(has_pledge(other, f->cid, "third@example.org"));
}

static void a_held_write_that_fails_fails_the_commit_and_the_handle_goes_on(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    pledge(f->st, f->cid, "before@example.org", T0);
    int rc = refused_write(f->st);
    if (rc == 0) {
        /* Held: the next job's statement or the commit reports it, and
         * nothing of the transaction lands. */
        if (store_savepoint_end(f->st, 1) == 0) {
            assert_int_equal(store_savepoint(f->st), 0);
            int64_t id = 0;
            struct pledge_input in = {"after@example.org", "", "", "UTC", NULL, "yes", "192.0.2.9"};
            int later = store_pledge_insert(f->st, f->cid, &in, T0, &id);
            assert_int_not_equal(later, 0);
            assert_int_not_equal(store_savepoint_end(f->st, 0), 0);
        }
        store_rollback(f->st);
    } else {
        assert_int_equal(store_savepoint_end(f->st, 0), 0);
        store_rollback(f->st);
    }
    struct store *other = open_other(f);
    assert_false(has_pledge(other, f->cid, "before@example.org"));
    assert_false(has_pledge(other, f->cid, "after@example.org"));
    /* The handle works on. */
    assert_int_equal(store_begin(f->st), 0);
    pledge(f->st, f->cid, "next@example.org", T0);
    assert_int_equal(store_commit(f->st), 0);
    assert_true(has_pledge(other, f->cid, "next@example.org"));
}

static void a_commit_with_a_held_write_that_fails_commits_nothing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    int64_t before = pledge(f->st, f->cid, "before@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, before, T0), 0);
    if (refused_write(f->st) == 0)
        assert_int_not_equal(store_commit(f->st), 0);
    else
        store_rollback(f->st);
    struct store *other = open_other(f);
    assert_false(has_pledge(other, f->cid, "before@example.org"));
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(other, 0, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 0);
}

/* group_commit: a job that waits for the test (so that the next jobs queue
 * up and form one group), pledges, and queues its mail; when bad, with a
 * write the database refuses (refused_write) between the two. */
struct group_job {
    pthread_mutex_t *lock;
    pthread_cond_t *changed;
    int *open; /* the first job waits until the test sets it */
    int64_t cid;
    const char *email;
    int bad, rc, done;
    int mailed; /* as pledges.c: insert with the mail, a conflict is a re-pledge */
};

static int group_job_run(struct store *st, void *arg)
{
    struct group_job *j = arg;
    pthread_mutex_lock(j->lock);
    while (j->open && !*j->open)
        pthread_cond_wait(j->changed, j->lock);
    pthread_mutex_unlock(j->lock);
    struct pledge_input in = {j->email, "", "", "UTC", NULL, "yes", "192.0.2.7"};
    int64_t id = 0;
    if (j->mailed) {
        int rc = store_pledge_insert_mailed(st, j->cid, &in, T0, T0 / 86400, &id);
        return rc == STORE_CONFLICT ? 0 : rc;
    }
    if (store_pledge_insert(st, j->cid, &in, T0, &id) != 0)
        return -1;
    if (j->bad && refused_write(st) != 0)
        return -1;
    return store_outbox_add(st, MAIL_CONFIRM, j->cid, id, T0);
}

static void group_job_done(void *arg, int rc)
{
    struct group_job *j = arg;
    pthread_mutex_lock(j->lock);
    j->rc = rc;
    j->done = 1;
    pthread_cond_broadcast(j->changed);
    pthread_mutex_unlock(j->lock);
}

static const char *const group_emails[5] = {"g0@example.org", "g1@example.org", "g2@example.org",
                                            "g3@example.org", "g4@example.org"};

/* Runs five jobs, one per address of group_emails, as one group (the first
 * holds the others back until all are queued); job i is bad when i == bad,
 * and inserts with its mail when mailed. Their rc in rc[]. */
static void run_group_of_five(struct fx *f, int bad, int mailed, int rc[5])
{
    char err[256] = "";
    struct group_commit *g = group_commit_start(f->db.location, err, sizeof err);
    if (!g)
        fail_msg("group_commit_start: %s", err);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
    int open = 0;
    struct group_job jobs[5];
    for (int i = 0; i < 5; i++) {
        jobs[i] = (struct group_job){.lock = &lock,
                                     .changed = &changed,
                                     .open = i == 0 ? &open : NULL,
                                     .cid = f->cid,
                                     .email = group_emails[i],
                                     .bad = i == bad,
                                     .rc = -9,
                                     .mailed = mailed};
        assert_int_equal(group_commit_submit(g, group_job_run, group_job_done, &jobs[i]), 0);
    }
    pthread_mutex_lock(&lock);
    open = 1;
    pthread_cond_broadcast(&changed);
    for (int i = 0; i < 5; i++)
        while (!jobs[i].done)
            pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    group_commit_stop(g);
    group_commit_free(g);
    for (int i = 0; i < 5; i++)
        rc[i] = jobs[i].rc;
}

static void a_group_with_a_failing_job_commits_every_other_job(void **state)
{
    struct fx *f = *state;
    int rc[5];
    run_group_of_five(f, 2, 0, rc);
    for (int i = 0; i < 5; i++) {
        if (i == 2)
            assert_int_not_equal(rc[i], 0);
        else
            assert_int_equal(rc[i], 0);
        assert_true(has_pledge(f->st, f->cid, group_emails[i]) == (i != 2));
    }
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 4);
}

/* The fast pass guesses that pledges are new (store_set_guessing); a
 * re-pledge in the group proves one guess wrong, and the group runs again. */
static void a_group_with_a_repledge_gives_every_job_its_own_outcome(void **state)
{
    struct fx *f = *state;
    int64_t first = pledge(f->st, f->cid, group_emails[2], T0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, first, T0), 0);
    assert_int_equal(store_commit(f->st), 0);
    int rc[5];
    run_group_of_five(f, -1, 1, rc);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rc[i], 0);
        assert_true(has_pledge(f->st, f->cid, group_emails[i]));
    }
    assert_int_equal(stats_of(f->st, f->cid).pledges, 5);
    /* four new pledges' mails and the first pledge's: none for the re-pledge */
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 5);
}

/* Guessing, a new pledge commits as if answered at once. */
static void a_guessed_pledge_insert_commits_the_pledge_and_its_mail(void **state)
{
    struct fx *f = *state;
    struct pledge_input in = {"new@example.org", "", "", "UTC", NULL, "yes", "192.0.2.3"};
    int64_t id = -7, day = T0 / 86400;
    store_set_guessing(f->st, 1);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_pledge_insert_mailed(f->st, f->cid, &in, T0, day, &id), 0);
    assert_int_equal(store_commit(f->st), 0);
    store_set_guessing(f->st, 0);
    assert_true(id >= 0); /* 0 when guessed */
    struct pledge_state ps;
    assert_int_equal(store_pledge_find(f->st, f->cid, "new@example.org", &ps), 0);
    assert_int_equal(ps.confirm_mails, 1);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 1);
}

/* Guessing, an address pledged before is either answered at once (SQLite:
 * a conflict) or a wrong guess that fails the commit; either way nothing of
 * the transaction is kept, and the handle goes on. */
static void a_wrong_guess_fails_the_transaction_and_keeps_nothing(void **state)
{
    struct fx *f = *state;
    pledge(f->st, f->cid, "before@example.org", T0);
    struct pledge_input fresh = {"fresh@example.org", "", "", "UTC", NULL, "yes", "192.0.2.3"};
    struct pledge_input again = {"Before@example.org", "", "", "UTC", NULL, "yes", "192.0.2.4"};
    int64_t id = 0, day = T0 / 86400;
    store_set_guessing(f->st, 1);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_pledge_insert_mailed(f->st, f->cid, &fresh, T0, day, &id), 0);
    int rc = store_pledge_insert_mailed(f->st, f->cid, &again, T0, day, &id);
    if (rc == STORE_CONFLICT) {
        store_rollback(f->st);
    } else {
        assert_int_equal(rc, 0);
        assert_int_not_equal(store_commit(f->st), 0);
    }
    store_set_guessing(f->st, 0);
    struct store *other = open_other(f);
    assert_false(has_pledge(other, f->cid, "fresh@example.org"));
    assert_int_equal(stats_of(other, f->cid).pledges, 1);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(other, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 0);
    /* the handle goes on: the next transaction commits */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_pledge_insert_mailed(f->st, f->cid, &fresh, T0, day, &id), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_true(has_pledge(other, f->cid, "fresh@example.org"));
}

static void a_read_transaction_sees_one_snapshot_until_read_end(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    assert_int_equal(store_read_begin(f->st), 0);
    assert_false(has_pledge(f->st, f->cid, "a@example.org"));
    pledge(other, f->cid, "a@example.org", T0);
    assert_false(has_pledge(f->st, f->cid, "a@example.org"));
    store_read_end(f->st);
    assert_true(has_pledge(f->st, f->cid, "a@example.org"));
}

static void set_durable_takes_both_modes_and_commits_still_land(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    assert_int_equal(store_set_durable(f->st, 0), 0);
    pledge(f->st, f->cid, "a@example.org", T0);
    assert_true(has_pledge(other, f->cid, "a@example.org"));
    assert_int_equal(store_set_durable(f->st, 1), 0);
    pledge(f->st, f->cid, "b@example.org", T0);
    assert_true(has_pledge(other, f->cid, "b@example.org"));
}

/* ======================= shared read snapshot ======================= */

static void snapshot_enter_begins_one_then_reuses_it_with_the_same_id(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    uint64_t id = store_snapshot_id(f->st);
    assert_true(id != 0);
    store_snapshot_leave(f->st);
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 0);
    assert_true(store_snapshot_id(f->st) == id);
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
}

static void snapshot_after_end_is_a_new_one_with_a_new_id(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    uint64_t first = store_snapshot_id(f->st);
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
    assert_true(store_snapshot_id(f->st) == 0);
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    uint64_t second = store_snapshot_id(f->st);
    assert_true(second != 0 && second != first);
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
}

static void a_reused_snapshot_does_not_see_a_later_commit_and_a_new_one_does(void **state)
{
    struct fx *f = *state;
    int shared = store_supports(f->st, STORE_SUPPORTS_SHARED_SNAPSHOT);
    struct store *other = open_other(f);
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->st, "a@example.org"));
    store_snapshot_leave(f->st);
    add_organizer(other, "a@example.org", "h");
    assert_true(store_snapshot_enter(f->st, LONG_AGE_US) >= 0);
    /* Without a shared snapshot every request reads afresh. */
    assert_int_equal(sees_organizer(f->st, "a@example.org"), !shared);
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    assert_true(sees_organizer(f->st, "a@example.org"));
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
}

static void snapshot_expire_ends_an_old_snapshot_and_keeps_a_young_one(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_snapshot_expire(f->st, LONG_AGE_US), 0); /* none open */
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    assert_false(sees_organizer(f->st, "a@example.org"));
    store_snapshot_leave(f->st);
    if (store_supports(f->st, STORE_SUPPORTS_SHARED_SNAPSHOT))
        assert_int_equal(store_snapshot_expire(f->st, LONG_AGE_US), 1); /* young: kept */
    assert_int_equal(store_snapshot_expire(f->st, 0), 0);               /* old: ended */
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
}

static void after_snapshot_end_the_handle_writes_again(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_snapshot_enter(f->st, LONG_AGE_US), 1);
    assert_false(has_pledge(f->st, f->cid, "a@example.org"));
    store_snapshot_leave(f->st);
    store_snapshot_end(f->st);
    pledge(f->st, f->cid, "a@example.org", T0);
    struct store *other = open_other(f);
    assert_true(has_pledge(other, f->cid, "a@example.org"));
}

/* ======================= campaigns ======================= */

static void campaign_get_returns_the_inserted_campaign(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = {0};
    assert_int_equal(store_campaign_get(f->st, "docs-day", &r), 0);
    assert_int_equal(r.id, f->cid);
    assert_string_equal(r.slug, "docs-day");
    assert_string_equal(r.spec_json, f->c->canonical_json);
    assert_int_equal(r.launch_utc, f->c->launch_utc);
    assert_int_equal(r.launched_at, 0);
    assert_int_equal(r.window_minutes, 120);
    assert_true(r.revision >= 1);
    campaign_row_release(&r);
}

static void campaign_get_of_an_unknown_slug_is_not_found_and_sets_nothing(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = {0};
    r.id = -7;
    assert_int_equal(store_campaign_get(f->st, "nope", &r), STORE_NOT_FOUND);
    assert_int_equal(r.id, -7);
    assert_null(r.slug);
}

static void campaign_peek_by_slug_or_id_returns_the_row_without_its_file(void **state)
{
    struct fx *f = *state;
    struct campaign_row full = campaign_of(f->st, f->cid);
    struct campaign_row by_slug = {0}, by_id = {0};
    assert_int_equal(store_campaign_peek(f->st, "docs-day", 0, &by_slug), 0);
    assert_int_equal(store_campaign_peek(f->st, NULL, f->cid, &by_id), 0);
    struct campaign_row *peeks[] = {&by_slug, &by_id};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(peeks[i]->id, f->cid);
        assert_string_equal(peeks[i]->slug, "docs-day");
        assert_null(peeks[i]->spec_json);
        assert_int_equal(peeks[i]->launch_utc, full.launch_utc);
        assert_int_equal(peeks[i]->launched_at, full.launched_at);
        assert_int_equal(peeks[i]->window_minutes, full.window_minutes);
        assert_int_equal(peeks[i]->revision, full.revision);
        campaign_row_release(peeks[i]);
    }
    campaign_row_release(&full);
}

static void campaign_peek_of_an_unknown_campaign_is_not_found(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = {0};
    assert_int_equal(store_campaign_peek(f->st, "nope", 0, &r), STORE_NOT_FOUND);
    assert_int_equal(store_campaign_peek(f->st, NULL, f->cid + 1000, &r), STORE_NOT_FOUND);
    assert_null(r.slug);
}

static void campaign_get_by_id_returns_the_campaign_or_not_found(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_string_equal(r.slug, "docs-day");
    assert_string_equal(r.spec_json, f->c->canonical_json);
    campaign_row_release(&r);
    struct campaign_row none = {0};
    assert_int_equal(store_campaign_get_by_id(f->st, f->cid + 1000, &none), STORE_NOT_FOUND);
    assert_null(none.slug);
}

static void campaign_slugs_appends_one_line_per_campaign(void **state)
{
    struct fx *f = *state;
    add_campaign(f, "alpha");
    struct buf out = BUF_INIT;
    buf_puts(&out, "kept\n");
    assert_int_equal(store_campaign_slugs(f->st, &out), 0);
    const char *s = buf_cstr(&out);
    assert_true(strcmp(s, "kept\nalpha\ndocs-day\n") == 0 ||
                strcmp(s, "kept\ndocs-day\nalpha\n") == 0);
    buf_release(&out);
}

static void campaign_insert_of_an_existing_slug_is_a_conflict_and_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct campaign_row before = campaign_of(f->st, f->cid);
    struct campaign *other = parse_campaign("docs-day", "Another message", TARGET("x"));
    int64_t id = -7;
    assert_int_equal(store_campaign_insert(f->st, other, T0 + 10, &id), STORE_CONFLICT);
    assert_int_equal(store_campaign_insert(f->st, f->c, T0 + 10, &id), STORE_CONFLICT);
    assert_int_equal(id, -7);
    struct campaign_row after = campaign_of(f->st, f->cid);
    assert_string_equal(after.spec_json, before.spec_json);
    assert_int_equal(after.revision, before.revision);
    campaign_free(other);
    campaign_row_release(&before);
    campaign_row_release(&after);
}

static void campaign_update_replaces_file_moment_and_window_and_bumps_the_revision(void **state)
{
    struct fx *f = *state;
    int64_t rev = revision_of(f->st, f->cid);
    struct campaign *c2 = parse_campaign("docs-day", "New message", FIXTURE_TARGETS);
    c2->window_minutes = 30;
    assert_int_equal(store_campaign_update(f->st, f->cid, c2, f->launch + 3600, T0 + 5), 0);
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_string_equal(r.spec_json, c2->canonical_json);
    assert_string_not_equal(r.spec_json, f->c->canonical_json);
    assert_int_equal(r.launch_utc, f->launch + 3600);
    assert_int_equal(r.window_minutes, 30);
    assert_int_equal(r.revision, rev + 1);
    campaign_row_release(&r);
    campaign_free(c2);
}

static void campaign_language_is_kept_and_replaced_by_an_update(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_string_equal(r.language, "en"); /* the file names none */
    campaign_row_release(&r);
    struct campaign *ar = parse_campaign("arabic", "M", TARGET("only"));
    free(ar->language);
    ar->language = strdup("ar-EG");
    assert_non_null(ar->language);
    int64_t id = insert_campaign(f->st, ar);
    r = campaign_of(f->st, id);
    assert_string_equal(r.language, "ar-EG");
    campaign_row_release(&r);
    struct campaign_row peeked = {0};
    assert_int_equal(store_campaign_peek(f->st, "arabic", 0, &peeked), 0);
    assert_string_equal(peeked.language, "ar-EG");
    campaign_row_release(&peeked);
    assert_int_equal(store_campaign_peek(f->st, NULL, id, &peeked), 0);
    assert_string_equal(peeked.language, "ar-EG");
    campaign_row_release(&peeked);
    free(ar->language);
    ar->language = strdup("es");
    assert_non_null(ar->language);
    assert_int_equal(store_campaign_update(f->st, id, ar, ar->launch_utc, T0 + 5), 0);
    assert_int_equal(store_campaign_get(f->st, "arabic", &r), 0);
    assert_string_equal(r.language, "es");
    campaign_row_release(&r);
    campaign_free(ar);
}

static void campaign_update_of_an_unknown_campaign_is_not_found(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_campaign_update(f->st, f->cid + 1000, f->c, f->launch, T0),
                     STORE_NOT_FOUND);
}

static void campaign_mark_launched_marks_only_once(void **state)
{
    struct fx *f = *state;
    int marked = -1;
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 0, f->launch + 5, &marked), 0);
    assert_int_equal(marked, 1);
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_int_equal(r.launched_at, f->launch + 5);
    assert_int_equal(r.launch_utc, f->launch);
    campaign_row_release(&r);
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 0, f->launch + 9, &marked), 0);
    assert_int_equal(marked, 0);
    r = campaign_of(f->st, f->cid);
    assert_int_equal(r.launched_at, f->launch + 5);
    campaign_row_release(&r);
}

static void campaign_mark_launched_with_move_to_now_moves_the_moment_once(void **state)
{
    struct fx *f = *state;
    int marked = -1;
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 1, T0 + 50, &marked), 0);
    assert_int_equal(marked, 1);
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_int_equal(r.launch_utc, T0 + 50);
    assert_int_equal(r.launched_at, T0 + 50);
    campaign_row_release(&r);
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 1, T0 + 90, &marked), 0);
    assert_int_equal(marked, 0);
    r = campaign_of(f->st, f->cid);
    assert_int_equal(r.launch_utc, T0 + 50);
    assert_int_equal(r.launched_at, T0 + 50);
    campaign_row_release(&r);
}

static size_t due_at(struct store *st, int64_t now, int64_t *ids, size_t max)
{
    size_t n = 999;
    assert_int_equal(store_campaigns_due(st, now, ids, max, &n), 0);
    assert_true(n <= max);
    return n;
}

static void campaigns_due_lists_unlaunched_campaigns_within_their_launch_window(void **state)
{
    struct fx *f = *state;
    int64_t ids[4];
    assert_int_equal(due_at(f->st, f->launch - 1, ids, 4), 0);
    assert_int_equal(due_at(f->st, f->launch, ids, 4), 1);
    assert_int_equal(ids[0], f->cid);
    assert_int_equal(due_at(f->st, f->launch + WINDOW_SECONDS - 1, ids, 4), 1);
    assert_int_equal(ids[0], f->cid);
    assert_int_equal(due_at(f->st, f->launch + WINDOW_SECONDS, ids, 4), 0);
    int marked;
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 0, f->launch, &marked), 0);
    assert_int_equal(due_at(f->st, f->launch + 1, ids, 4), 0);
}

static void campaigns_due_gives_at_most_max(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t ids[4] = {0};
    assert_int_equal(due_at(f->st, f->launch, ids, 1), 1);
    assert_true(ids[0] == f->cid || ids[0] == other);
    assert_int_equal(due_at(f->st, f->launch, ids, 4), 2);
    assert_true((ids[0] == f->cid && ids[1] == other) || (ids[0] == other && ids[1] == f->cid));
}

static void campaigns_missed_lists_unlaunched_campaigns_whose_window_ended(void **state)
{
    struct fx *f = *state;
    int64_t ids[4];
    size_t n = 999;
    int64_t end = f->launch + WINDOW_SECONDS;
    assert_int_equal(store_campaigns_missed(f->st, end - 1, ids, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_campaigns_missed(f->st, end, ids, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], f->cid);
    int64_t other = add_campaign(f, "other-day");
    assert_int_equal(store_campaigns_missed(f->st, end, ids, 1, &n), 0);
    assert_int_equal(n, 1);
    int marked;
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 0, f->launch, &marked), 0);
    assert_int_equal(store_campaigns_missed(f->st, end, ids, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], other);
}

static void campaign_pause_is_set_once_read_back_and_cleared_by_resume(void **state)
{
    struct fx *f = *state;
    struct campaign_pause p;
    assert_int_equal(store_campaign_pause_get(f->st, f->cid, &p), 0);
    assert_int_equal(p.paused_at, 0);
    int changed = -1;
    assert_int_equal(
        store_campaign_set_pause(f->st, f->cid, 1, "organizer:1", "why not", T0 + 5, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 1, "other", "again", T0 + 9, &changed),
                     0);
    assert_int_equal(changed, 0); /* the first pause stays */
    assert_int_equal(store_campaign_pause_get(f->st, f->cid, &p), 0);
    assert_int_equal(p.paused_at, T0 + 5);
    assert_string_equal(p.by, "organizer:1");
    assert_string_equal(p.reason, "why not");
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 0, "", "", T0 + 10, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 0, "", "", T0 + 11, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(store_campaign_pause_get(f->st, f->cid, &p), 0);
    assert_int_equal(p.paused_at, 0);
    assert_string_equal(p.by, "");
    assert_string_equal(p.reason, "");
    assert_int_equal(store_campaign_pause_get(f->st, f->cid + 1000, &p), STORE_NOT_FOUND);
    assert_int_equal(store_campaign_set_pause(f->st, f->cid + 1000, 1, "", "", T0, &changed),
                     STORE_NOT_FOUND);
}

static void outbox_claim_skips_the_launch_mail_of_a_paused_campaign_until_resumed(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, other, "b@example.org", T0);
    int64_t c = pledge(f->st, f->cid, "c@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, a, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, other, b, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, c, T0), 0);
    int changed;
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 1, "", "", T0, &changed), 0);
    struct outbox_item items[4];
    /* the other campaign's reminder and this one's confirmation, not its reminder */
    assert_int_equal(claim(f->st, "A", 0, T0 + 1, 60, items, 4), 2);
    for (size_t i = 0; i < 2; i++)
        assert_true(items[i].supporter_id == b || items[i].supporter_id == c);
    assert_int_equal(claim(f->st, "A", f->cid, T0 + 100, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, c); /* its lease ran out: claimed again */
    assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", T0 + 100), 0);
    assert_int_equal(claim(f->st, "A", f->cid, T0 + 200, 60, items, 4), 0);
    int64_t ready;
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0 + 200, &ready), 1);
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 0, "", "", T0, &changed), 0);
    assert_int_equal(claim(f->st, "A", f->cid, T0 + 200, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, a);
    assert_int_equal(items[0].attempts, 1);
}

static void outbox_renew_hands_back_an_item_whose_campaign_was_paused(void **state)
{
    struct fx *f = *state;
    int64_t s = import(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s, T0), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 900, items, 4), 1);
    int64_t id = items[0].id;
    int changed, ours = -1;
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 1, "", "", T0 + 1, &changed), 0);
    assert_int_equal(store_outbox_renew(f->st, id, "A", T0 + 901, &ours), 0);
    assert_int_equal(ours, 0);
    assert_int_equal(store_campaign_set_pause(f->st, f->cid, 0, "", "", T0 + 2, &changed), 0);
    /* back at once (not after its 900 s lease), its attempt not counted */
    assert_int_equal(claim(f->st, "B", 0, T0 + 3, 60, items, 4), 1);
    assert_int_equal(items[0].id, id);
    assert_int_equal(items[0].attempts, 1);
}

static void confirmed_count_adds_every_delta(void **state)
{
    struct fx *f = *state;
    int64_t count = -1;
    assert_int_equal(store_confirmed_count(f->st, f->cid, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_campaign_count_confirmed(f->st, f->cid, 3), 0);
    assert_int_equal(store_campaign_count_confirmed(f->st, f->cid, -1), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_confirmed_count(f->st, f->cid, &count), 0);
    assert_int_equal(count, 2);
}

/* ======================= targets ======================= */

static void targets_lists_every_target_in_file_order_with_fresh_counters(void **state)
{
    struct fx *f = *state;
    struct target_list l;
    assert_int_equal(store_targets(f->st, f->cid, &l), 0);
    assert_int_equal(l.count, 3);
    static const char *const keys[] = {"first", "second", "third"};
    static const long caps[] = {2, -1, -1};
    for (size_t i = 0; i < 3; i++) {
        struct target_row *r = &l.rows[i];
        assert_string_equal(r->key, keys[i]);
        assert_int_equal(r->cap, caps[i]);
        assert_int_equal(r->open, 1);
        assert_int_equal(r->removed, 0);
        assert_int_equal(r->assigned, 0);
        assert_int_equal(r->places, 0);
        assert_int_equal(r->clicks, 0);
        assert_int_equal(r->reports, 0);
        assert_int_equal(r->rerouted, 0);
        assert_string_equal(r->reason, "");
    }
    assert_true(l.rows[0].id != l.rows[1].id && l.rows[1].id != l.rows[2].id);
    target_list_release(&l);
}

static void replace_targets(struct fx *f, const char *targets)
{
    struct campaign *c = parse_campaign("docs-day", "M", targets);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_targets_replace(f->st, f->cid, c->targets, c->target_count), 0);
    assert_int_equal(store_commit(f->st), 0);
    campaign_free(c);
}

static void targets_replace_marks_dropped_targets_removed_and_lists_them_last(void **state)
{
    struct fx *f = *state;
    replace_targets(f, TARGET("third") ", " CAPPED_TARGET("first", 5) ", " TARGET("fourth"));
    struct target_list l;
    assert_int_equal(store_targets(f->st, f->cid, &l), 0);
    assert_int_equal(l.count, 4);
    assert_string_equal(l.rows[0].key, "third");
    assert_int_equal(l.rows[0].id, f->t[2]);
    assert_string_equal(l.rows[1].key, "first");
    assert_int_equal(l.rows[1].id, f->t[0]);
    assert_int_equal(l.rows[1].cap, 5);
    assert_string_equal(l.rows[2].key, "fourth");
    assert_string_equal(l.rows[3].key, "second");
    assert_int_equal(l.rows[3].id, f->t[1]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(l.rows[i].removed, 0);
    assert_int_equal(l.rows[3].removed, 1);
    target_list_release(&l);
}

static void targets_replace_revives_a_removed_target_with_its_id_and_counters(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_target_counters_add(f->st, f->t[1], 1, 4, 0), 0);
    replace_targets(f, CAPPED_TARGET("first", 2));
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).removed, 1);
    replace_targets(f, FIXTURE_TARGETS);
    struct target_list l;
    assert_int_equal(store_targets(f->st, f->cid, &l), 0);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.rows[1].key, "second");
    assert_int_equal(l.rows[1].id, f->t[1]);
    assert_int_equal(l.rows[1].removed, 0);
    assert_int_equal(l.rows[1].clicks, 4);
    target_list_release(&l);
}

static void target_find_gives_the_id_and_whether_it_is_open(void **state)
{
    struct fx *f = *state;
    int64_t id = 0;
    int open = -1;
    assert_int_equal(store_target_find(f->st, f->cid, "second", &id, &open), 0);
    assert_int_equal(id, f->t[1]);
    assert_int_equal(open, 1);
    assert_int_equal(store_target_set_state(f->st, f->t[1], 0, "closed", "cli", T0), 0);
    assert_int_equal(store_target_find(f->st, f->cid, "second", &id, &open), 0);
    assert_int_equal(open, 0);
}

static void target_find_of_an_unknown_or_removed_key_is_not_found(void **state)
{
    struct fx *f = *state;
    int64_t id = -7;
    int open = -7;
    assert_int_equal(store_target_find(f->st, f->cid, "nope", &id, &open), STORE_NOT_FOUND);
    int64_t other = add_campaign(f, "other-day");
    assert_int_equal(store_target_find(f->st, other, "first", &id, &open), STORE_NOT_FOUND);
    replace_targets(f, TARGET("third"));
    assert_int_equal(store_target_find(f->st, f->cid, "first", &id, &open), STORE_NOT_FOUND);
    assert_int_equal(id, -7);
    assert_int_equal(open, -7);
}

static void target_key_gives_the_key_of_an_id_or_not_found(void **state)
{
    struct fx *f = *state;
    char key[65] = "";
    assert_int_equal(store_target_key(f->st, f->t[2], key), 0);
    assert_string_equal(key, "third");
    assert_int_equal(store_target_key(f->st, f->t[2] + 1000, key), STORE_NOT_FOUND);
}

static void target_set_state_closes_and_opens_with_a_reason_and_bumps_the_revision(void **state)
{
    struct fx *f = *state;
    int64_t rev = revision_of(f->st, f->cid);
    assert_int_equal(store_target_set_state(f->st, f->t[0], 0, "inbox full", "cli", T0), 0);
    struct target_row r = target_of(f->st, f->cid, f->t[0]);
    assert_int_equal(r.open, 0);
    assert_string_equal(r.reason, "inbox full");
    assert_int_equal(revision_of(f->st, f->cid), rev + 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).open, 1);
    assert_int_equal(store_target_set_state(f->st, f->t[0], 1, "", "cli", T0 + 1), 0);
    r = target_of(f->st, f->cid, f->t[0]);
    assert_int_equal(r.open, 1);
    assert_string_equal(r.reason, "");
    assert_int_equal(revision_of(f->st, f->cid), rev + 2);
}

static void target_report_add_counts_once_per_supporter_and_target(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    int added = -1;
    assert_int_equal(store_target_report_add(f->st, f->t[0], a, T0 + 1, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(store_target_report_add(f->st, f->t[0], a, T0 + 2, &added), 0);
    assert_int_equal(added, 0);
    assert_int_equal(store_target_report_add(f->st, f->t[0], b, T0 + 3, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(store_target_report_add(f->st, f->t[1], a, T0 + 4, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).reports, 2);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).reports, 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[2]).reports, 0);
}

static void target_reports_since_counts_the_reports_made_after_since(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    int added;
    assert_int_equal(store_target_report_add(f->st, f->t[0], a, T0 + 100, &added), 0);
    assert_int_equal(store_target_report_add(f->st, f->t[0], b, T0 + 200, &added), 0);
    int64_t count = -1;
    assert_int_equal(store_target_reports_since(f->st, f->t[0], T0 + 99, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(store_target_reports_since(f->st, f->t[0], T0 + 100, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(store_target_reports_since(f->st, f->t[0], T0 + 200, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_target_reports_since(f->st, f->t[1], 0, &count), 0);
    assert_int_equal(count, 0);
}

/* ---- places under a cap (store_place_take) ---- */

static void place_take_assigns_the_supporter_and_takes_a_place(void **state)
{
    struct fx *f = *state;
    int64_t s = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(take(f->st, f->t[0], s, 0), 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 1);
    assert_int_equal(assigned_of(f->st, s), f->t[0]);
}

static void place_take_on_a_full_target_takes_nothing(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    int64_t c = pledge(f->st, f->cid, "c@example.org", T0);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(take(f->st, f->t[0], b, 0), 1);
    assert_int_equal(take(f->st, f->t[0], c, 0), 0);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 2);
    assert_int_equal(assigned_of(f->st, c), 0);
}

static void place_take_for_an_assigned_supporter_takes_no_second_place(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 1);
    assert_int_equal(take(f->st, f->t[0], b, 0), 1);
    /* full now, and still taken for one already assigned to it */
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 2);
    assert_int_equal(assigned_of(f->st, a), f->t[0]);
}

static void place_take_releases_the_previous_targets_place(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(take(f->st, f->t[1], a, f->t[0]), 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 0);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).places, 1);
    assert_int_equal(assigned_of(f->st, a), f->t[1]);
}

static void place_take_on_a_full_target_keeps_the_previous_place(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    int64_t c = pledge(f->st, f->cid, "c@example.org", T0);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    assert_int_equal(take(f->st, f->t[0], b, 0), 1);
    assert_int_equal(take(f->st, f->t[1], c, 0), 1);
    assert_int_equal(take(f->st, f->t[0], c, f->t[1]), 0);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).places, 1);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 2);
    assert_int_equal(assigned_of(f->st, c), f->t[1]);
}

static void place_take_without_a_cap_always_takes(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.org", i);
        int64_t s = pledge(f->st, f->cid, email, T0);
        assert_int_equal(take(f->st, f->t[1], s, 0), 1);
    }
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).places, 5);
}

static void place_take_for_an_unknown_supporter_is_not_found(void **state)
{
    struct fx *f = *state;
    int taken = -7;
    assert_int_equal(store_place_take(f->st, f->t[1], 424242, 0, &taken), STORE_NOT_FOUND);
    assert_int_equal(taken, -7);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).places, 0);
}

static void place_take_for_an_erased_supporter_is_not_found(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int count = 0;
    assert_int_equal(store_pledges_erase(f->st, "a@example.org", T0 + 1, &count), 0);
    int taken = -7;
    assert_int_equal(store_place_take(f->st, f->t[1], a, 0, &taken), STORE_NOT_FOUND);
    assert_int_equal(target_of(f->st, f->cid, f->t[1]).places, 0);
}

static void place_take_in_the_callers_transaction_is_undone_by_its_rollback(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(take(f->st, f->t[0], a, 0), 1);
    store_rollback(f->st);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).places, 0);
    assert_int_equal(assigned_of(f->st, a), 0);
}

/* ======================= supporters and pledges ======================= */

static void pledge_insert_stores_a_pending_pledge_as_given(void **state)
{
    struct fx *f = *state;
    struct pledge_input in = {"Ann@Example.org", "Ann",     "Because",  "Europe/Berlin",
                              "second",          "I agree", "192.0.2.1"};
    int64_t id = 0;
    assert_int_equal(store_pledge_insert(f->st, f->cid, &in, T0, &id), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.id, id);
    assert_int_equal(s.campaign_id, f->cid);
    assert_true(s.token_key != 0);
    assert_string_equal(s.email, "Ann@Example.org");
    assert_string_equal(s.name, "Ann");
    assert_string_equal(s.statement, "Because");
    assert_string_equal(s.timezone, "Europe/Berlin");
    assert_string_equal(s.chosen_target, "second");
    assert_null(s.instance);
    assert_int_equal(s.confirmed, 0);
    assert_int_equal(s.confirmed_at, 0);
    assert_int_equal(s.unsubscribed_at, 0);
    assert_int_equal(s.assigned_target, 0);
    assert_int_equal(s.has_pending_change, 0);
    supporter_release(&s);
}

static void pledge_insert_mailed_queues_the_confirmation_and_counts_it(void **state)
{
    struct fx *f = *state;
    struct pledge_input in = {"Ann@Example.org", "Ann", "", "UTC", NULL, "I agree", "192.0.2.1"};
    int64_t id = 0, day = T0 / 86400;
    assert_int_equal(store_pledge_insert_mailed(f->st, f->cid, &in, T0, day, &id), 0);
    struct pledge_state ps;
    assert_int_equal(store_pledge_find(f->st, f->cid, "ann@example.org", &ps), 0);
    assert_int_equal(ps.id, id);
    assert_int_equal(ps.confirmed, 0);
    assert_int_equal(ps.confirm_mail_day, day);
    assert_int_equal(ps.confirm_mails, 1);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 1);
    /* The same address again: a conflict, and no second mail. */
    struct pledge_input again = {"ann@EXAMPLE.org", "", "", "UTC", NULL, "yes", "192.0.2.2"};
    int64_t other = -7;
    assert_int_equal(store_pledge_insert_mailed(f->st, f->cid, &again, T0 + 1, day, &other),
                     STORE_CONFLICT);
    assert_int_equal(other, -7);
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0, &pending, &ready), 0);
    assert_int_equal(pending, 1);
}

static void pledge_insert_of_the_same_address_in_another_case_is_a_conflict(void **state)
{
    struct fx *f = *state;
    pledge(f->st, f->cid, "Ann@Example.org", T0);
    struct pledge_input in = {"ann@EXAMPLE.ORG", "", "", "UTC", NULL, "yes", "192.0.2.2"};
    int64_t id = -7;
    assert_int_equal(store_pledge_insert(f->st, f->cid, &in, T0 + 1, &id), STORE_CONFLICT);
    assert_int_equal(id, -7);
    assert_int_equal(stats_of(f->st, f->cid).pledges, 1);
}

static void the_same_address_pledges_once_in_each_campaign(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, other, "A@example.org", T0);
    assert_int_not_equal(a, b);
    assert_int_equal(stats_of(f->st, f->cid).pledges, 1);
    assert_int_equal(stats_of(f->st, other).pledges, 1);
}

static void supporter_by_key_finds_the_supporter_of_a_token_key(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    struct supporter s = supporter_of(f->st, id);
    struct supporter by_key;
    assert_int_equal(store_supporter_by_key(f->st, s.token_key, &by_key), 0);
    assert_int_equal(by_key.id, id);
    assert_string_equal(by_key.email, "a@example.org");
    supporter_release(&by_key);
    assert_int_equal(store_supporter_by_key(f->st, s.token_key ^ 1, &by_key), STORE_NOT_FOUND);
    supporter_release(&s);
}

static void supporter_by_id_of_an_unknown_id_is_not_found(void **state)
{
    struct fx *f = *state;
    struct supporter s;
    memset(&s, 0, sizeof s);
    assert_int_equal(store_supporter_by_id(f->st, 424242, &s), STORE_NOT_FOUND);
    assert_null(s.email);
}

static void pledge_find_matches_the_address_case_insensitively(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "Ann@Example.org", T0);
    struct pledge_state ps = {0};
    assert_int_equal(store_pledge_find(f->st, f->cid, "ANN@example.ORG", &ps), 0);
    assert_int_equal(ps.id, id);
    assert_int_equal(ps.confirmed, 0);
    assert_int_equal(ps.confirm_mail_day, 0);
    assert_int_equal(ps.confirm_mails, 0);
}

static void pledge_find_of_an_address_without_a_pledge_here_is_not_found(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    pledge(f->st, other, "a@example.org", T0);
    struct pledge_state ps = {0};
    ps.id = -7;
    assert_int_equal(store_pledge_find(f->st, f->cid, "a@example.org", &ps), STORE_NOT_FOUND);
    assert_int_equal(store_pledge_find(f->st, f->cid, "b@example.org", &ps), STORE_NOT_FOUND);
    assert_int_equal(ps.id, -7);
}

static void pledge_count_mail_is_read_back_by_pledge_find(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_pledge_count_mail(f->st, id, 20454, 3), 0);
    struct pledge_state ps = {0};
    assert_int_equal(store_pledge_find(f->st, f->cid, "a@example.org", &ps), 0);
    assert_int_equal(ps.confirm_mail_day, 20454);
    assert_int_equal(ps.confirm_mails, 3);
}

static void pledge_mark_confirmed_confirms_at_now(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_pledge_mark_confirmed(f->st, id, T0 + 60), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.confirmed, 1);
    assert_int_equal(s.confirmed_at, T0 + 60);
    supporter_release(&s);
    struct pledge_state ps = {0};
    assert_int_equal(store_pledge_find(f->st, f->cid, "a@example.org", &ps), 0);
    assert_int_equal(ps.confirmed, 1);
}

static void pledge_import_stores_a_confirmed_pledge_from_import(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_pledge_import(f->st, f->cid, "i@example.org", "Imp", "Europe/Paris",
                                         "consented on paper", T0 - 500, T0),
                     0);
    struct pledge_state ps = {0};
    assert_int_equal(store_pledge_find(f->st, f->cid, "i@example.org", &ps), 0);
    assert_int_equal(ps.confirmed, 1);
    struct supporter s = supporter_of(f->st, ps.id);
    assert_int_equal(s.confirmed, 1);
    assert_int_equal(s.confirmed_at, T0);
    assert_string_equal(s.name, "Imp");
    assert_string_equal(s.timezone, "Europe/Paris");
    supporter_release(&s);
    struct rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_supporters(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 1);
    char consent_at[21];
    iso(T0 - 500, consent_at);
    assert_string_equal(r.cell[0][8], consent_at);
    assert_string_equal(r.cell[0][9], "consented on paper");
    assert_string_equal(r.cell[0][10], "import");
}

static void pledge_import_of_an_address_that_pledged_is_a_conflict(void **state)
{
    struct fx *f = *state;
    pledge(f->st, f->cid, "Ann@Example.org", T0);
    assert_int_equal(
        store_pledge_import(f->st, f->cid, "ann@example.org", "", "UTC", "yes", T0, T0 + 1),
        STORE_CONFLICT);
    assert_int_equal(
        store_pledge_import(f->st, f->cid, "b@example.org", "", "UTC", "yes", T0, T0 + 1), 0);
    assert_int_equal(
        store_pledge_import(f->st, f->cid, "B@EXAMPLE.org", "", "UTC", "yes", T0, T0 + 2),
        STORE_CONFLICT);
    assert_int_equal(stats_of(f->st, f->cid).pledges, 2);
    assert_int_equal(stats_of(f->st, f->cid).confirmed, 1);
}

static void pledge_hold_change_numbers_each_change_and_load_change_reads_the_newest(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.change_epoch, 0);
    assert_int_equal(store_pledge_load_change(f->st, &s), STORE_NOT_FOUND);
    assert_null(s.change_name);
    supporter_release(&s);
    struct pledge_input first = {"a@example.org", "One",      "first why", "Asia/Tokyo", NULL,
                                 "yes",           "192.0.2.9"};
    struct pledge_input second = {"a@example.org", "Two", "",         "Europe/Paris",
                                  "first",         "yes", "192.0.2.9"};
    assert_int_equal(store_pledge_hold_change(f->st, id, &first), 0);
    assert_int_equal(store_pledge_hold_change(f->st, id, &second), 0);
    s = supporter_of(f->st, id);
    assert_int_equal(s.change_epoch, 2);
    assert_string_equal(s.name, "Name"); /* the pledge itself is unchanged */
    assert_int_equal(store_pledge_load_change(f->st, &s), 0);
    assert_string_equal(s.change_name, "Two");
    assert_string_equal(s.change_statement, "");
    assert_string_equal(s.change_timezone, "Europe/Paris");
    assert_string_equal(s.change_target, "first");
    supporter_release(&s);
    assert_int_equal(store_pledge_apply_change(f->st, id), 0);
    s = supporter_of(f->st, id);
    assert_int_equal(store_pledge_load_change(f->st, &s), STORE_NOT_FOUND);
    assert_int_equal(s.change_epoch, 2);
    supporter_release(&s);
}

static void pledge_hold_change_keeps_the_details_until_apply_change(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    struct pledge_input in = {"a@example.org", "Held", "Held why", "Asia/Tokyo",
                              "first",         "yes",  "192.0.2.9"};
    assert_int_equal(store_pledge_hold_change(f->st, id, &in), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.has_pending_change, 1);
    assert_string_equal(s.name, "Name");
    assert_string_equal(s.timezone, "Europe/Berlin");
    assert_null(s.chosen_target);
    supporter_release(&s);
    assert_int_equal(store_pledge_apply_change(f->st, id), 0);
    s = supporter_of(f->st, id);
    assert_int_equal(s.has_pending_change, 0);
    assert_string_equal(s.name, "Held");
    assert_string_equal(s.statement, "Held why");
    assert_string_equal(s.timezone, "Asia/Tokyo");
    assert_string_equal(s.chosen_target, "first");
    supporter_release(&s);
}

static void pledge_apply_change_without_a_held_change_changes_nothing(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_pledge_apply_change(f->st, id), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_string_equal(s.name, "Name");
    assert_string_equal(s.statement, "Because");
    assert_string_equal(s.timezone, "Europe/Berlin");
    assert_int_equal(s.has_pending_change, 0);
    supporter_release(&s);
}

static void pledge_unsubscribe_sets_the_time_only_once(void **state)
{
    struct fx *f = *state;
    int64_t id = import(f->st, f->cid, "a@example.org", T0);
    int changed = -1;
    assert_int_equal(store_pledge_unsubscribe(f->st, id, T0 + 10, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(store_pledge_unsubscribe(f->st, id, T0 + 20, &changed), 0);
    assert_int_equal(changed, 0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.unsubscribed_at, T0 + 10);
    supporter_release(&s);
}

static void pledge_resubscribe_clears_the_unsubscribe(void **state)
{
    struct fx *f = *state;
    int64_t id = import(f->st, f->cid, "a@example.org", T0);
    int changed;
    assert_int_equal(store_pledge_unsubscribe(f->st, id, T0 + 10, &changed), 0);
    assert_int_equal(store_pledge_resubscribe(f->st, id), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_int_equal(s.unsubscribed_at, 0);
    supporter_release(&s);
    assert_int_equal(store_pledge_unsubscribe(f->st, id, T0 + 30, &changed), 0);
    assert_int_equal(changed, 1);
}

static void set_instance_is_read_back(void **state)
{
    struct fx *f = *state;
    int64_t id = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_set_instance(f->st, id, "mastodon.social"), 0);
    struct supporter s = supporter_of(f->st, id);
    assert_string_equal(s.instance, "mastodon.social");
    supporter_release(&s);
}

static void pledges_erase_removes_every_pledge_of_the_address_and_keeps_the_counts(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a = pledge(f->st, f->cid, "Ann@Example.org", T0);
    int64_t b = import(f->st, other, "ann@example.org", T0);
    pledge(f->st, f->cid, "keep@example.org", T0);
    struct supporter before = supporter_of(f->st, a);
    int count = -1;
    assert_int_equal(store_pledges_erase(f->st, "ANN@example.org", T0 + 5, &count), 0);
    assert_int_equal(count, 2);
    struct supporter s;
    assert_int_equal(store_supporter_by_id(f->st, a, &s), STORE_NOT_FOUND);
    assert_int_equal(store_supporter_by_id(f->st, b, &s), STORE_NOT_FOUND);
    assert_int_equal(store_supporter_by_key(f->st, before.token_key, &s), STORE_NOT_FOUND);
    supporter_release(&before);
    assert_false(has_pledge(f->st, f->cid, "ann@example.org"));
    assert_false(has_pledge(f->st, other, "ann@example.org"));
    assert_true(has_pledge(f->st, f->cid, "keep@example.org"));
    assert_int_equal(stats_of(f->st, f->cid).pledges, 2);
    assert_int_equal(stats_of(f->st, other).pledges, 1);
    struct rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_supporters(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.cell[0][0], "");
    assert_string_equal(r.cell[0][1], "");
    assert_string_equal(r.cell[0][2], "");
    assert_string_equal(r.cell[0][4], "erased");
    assert_string_equal(r.cell[1][0], "keep@example.org");
    assert_int_equal(store_pledges_erase(f->st, "ann@example.org", T0 + 6, &count), 0);
    assert_int_equal(count, 0);
}

static void an_erased_address_may_pledge_again(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int count;
    assert_int_equal(store_pledges_erase(f->st, "a@example.org", T0 + 5, &count), 0);
    int64_t again = pledge(f->st, f->cid, "a@example.org", T0 + 10);
    assert_int_not_equal(again, a);
    assert_true(has_pledge(f->st, f->cid, "a@example.org"));
}

/* ======================= clicks ======================= */

static void clicks_insert_writes_rows_that_the_clicks_export_gives_back(void **state)
{
    struct fx *f = *state;
    int64_t p = pledge(f->st, f->cid, "p@example.org", T0);
    int64_t i = import(f->st, f->cid, "i@example.org", T0);
    struct click_record k[3];
    memset(k, 0, sizeof k);
    k[0] = (struct click_record){f->cid, p, f->t[0], 0, f->launch + 10, 1, 0, 0};
    k[1] = (struct click_record){f->cid, i, 0, 0, f->launch + 20, 0, 0, 0};
    k[2] = (struct click_record){f->cid, i, f->t[1], f->t[0], f->launch + 30, 1, 1, 0};
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, k, 3), 0);
    assert_int_equal(store_commit(f->st), 0);
    struct rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_clicks(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.columns, 4);
    static const char *const want[3][3] = {{"first", "no", "p@example.org"},
                                           {"", "no", "i@example.org"},
                                           {"second", "yes", "i@example.org"}};
    for (int row = 0; row < 3; row++) {
        char at[21];
        iso(f->launch + 10 * (row + 1), at);
        assert_string_equal(r.cell[row][0], at);
        for (int col = 0; col < 3; col++)
            assert_string_equal(r.cell[row][col + 1], want[row][col]);
    }
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.clicks, 3);
    assert_int_equal(s.supporters_clicked, 2);
}

static void supporter_assign_sets_the_assigned_target(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_supporter_assign(f->st, a, f->t[2]), 0);
    assert_int_equal(assigned_of(f->st, a), f->t[2]);
    struct rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_supporters(f->st, f->cid, collect_row, &r), 0);
    assert_string_equal(r.cell[0][11], "third");
}

static void target_counters_add_adds_and_assigned_never_goes_below_0(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_target_counters_add(f->st, f->t[1], 2, 3, 1), 0);
    struct target_row r = target_of(f->st, f->cid, f->t[1]);
    assert_int_equal(r.assigned, 2);
    assert_int_equal(r.clicks, 3);
    assert_int_equal(r.rerouted, 1);
    assert_int_equal(store_target_counters_add(f->st, f->t[1], -5, 1, 0), 0);
    r = target_of(f->st, f->cid, f->t[1]);
    assert_int_equal(r.assigned, 0);
    assert_int_equal(r.clicks, 4);
    assert_int_equal(target_of(f->st, f->cid, f->t[0]).clicks, 0);
    assert_int_equal(stats_of(f->st, f->cid).reroutes, 1);
}

/* ======================= outbox ======================= */

static void outbox_add_queues_a_mail_that_is_claimed_with_its_details(void **state)
{
    struct fx *f = *state;
    int64_t s = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0), 0);
    int64_t ready = -1;
    assert_int_equal(pending_of(f->st, f->cid, MAIL_CONFIRM, T0, &ready), 1);
    assert_int_equal(ready, 1);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    assert_true(items[0].id > 0);
    assert_int_equal(items[0].kind, MAIL_CONFIRM);
    assert_int_equal(items[0].supporter_id, s);
    assert_int_equal(items[0].campaign_id, f->cid);
    assert_int_equal(items[0].attempts, 1);
}

static void outbox_add_queues_a_welcome_only_once(void **state)
{
    struct fx *f = *state;
    int64_t s = import(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_WELCOME, f->cid, s, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_WELCOME, f->cid, s, T0 + 1), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_WELCOME, T0 + 1, NULL), 1);
}

static void outbox_add_queues_a_reminder_only_once(void **state)
{
    struct fx *f = *state;
    int64_t s = import(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s, T0 + 1), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0 + 1, NULL), 1);
}

static void outbox_add_queues_no_welcome_once_one_was_sent(void **state)
{
    struct fx *f = *state;
    int64_t s = import(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_WELCOME, f->cid, s, T0), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", T0 + 1), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_WELCOME, f->cid, s, T0 + 2), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_WELCOME, T0 + 2, NULL), 0);
    assert_int_equal(claim(f->st, "A", 0, T0 + 1000, 60, items, 4), 0);
}

static void outbox_add_queues_every_confirmation_mail(void **state)
{
    struct fx *f = *state;
    int64_t s = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0 + 1), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_CONFIRM, T0 + 1, NULL), 2);
}

/* Supporters a, b, c confirmed; p pending; u unsubscribed; e erased; r
 * already has a reminder; x confirmed in another campaign. */
struct owed_fixture {
    int64_t a, b, c, p, u, e, r, x, other;
};

static struct owed_fixture owed_fixture(struct fx *f)
{
    struct owed_fixture o;
    o.other = add_campaign(f, "other-day");
    o.a = import(f->st, f->cid, "a@example.org", T0);
    o.b = import(f->st, f->cid, "b@example.org", T0);
    o.c = import(f->st, f->cid, "c@example.org", T0);
    o.p = pledge(f->st, f->cid, "p@example.org", T0);
    o.u = import(f->st, f->cid, "u@example.org", T0);
    o.e = import(f->st, f->cid, "e@example.org", T0);
    o.r = import(f->st, f->cid, "r@example.org", T0);
    o.x = import(f->st, o.other, "x@example.org", T0);
    int changed, count;
    assert_int_equal(store_pledge_unsubscribe(f->st, o.u, T0 + 1, &changed), 0);
    assert_int_equal(store_pledges_erase(f->st, "e@example.org", T0 + 1, &count), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, o.r, T0 + 1), 0);
    return o;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ---- mails around the moment: moves, steps, per-variant kinds ---- */

static void campaign_moved_raises_the_sequence_and_starts_the_steps_again(void **state)
{
    struct fx *f = *state;
    struct campaign_row r = campaign_of(f->st, f->cid);
    assert_int_equal(r.calendar_sequence, 0);
    assert_int_equal(r.mail_steps_done, 0);
    campaign_row_release(&r);
    assert_int_equal(store_campaign_steps_done(f->st, f->cid, f->launch - 60), 0);
    r = campaign_of(f->st, f->cid);
    assert_int_equal(r.mail_steps_done, f->launch - 60);
    campaign_row_release(&r);
    int64_t seq = -1;
    assert_int_equal(store_campaign_moved(f->st, f->cid, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(store_campaign_moved(f->st, f->cid, &seq), 0);
    assert_int_equal(seq, 2);
    r = campaign_of(f->st, f->cid);
    assert_int_equal(r.calendar_sequence, 2);
    assert_int_equal(r.mail_steps_done, 0);
    campaign_row_release(&r);
    /* the peek (the one-click path's read) carries both too */
    assert_int_equal(store_campaign_steps_done(f->st, f->cid, 77), 0);
    struct campaign_row peeked;
    assert_int_equal(store_campaign_peek(f->st, NULL, f->cid, &peeked), 0);
    assert_int_equal(peeked.calendar_sequence, 2);
    assert_int_equal(peeked.mail_steps_done, 77);
    campaign_row_release(&peeked);
    seq = -1;
    assert_int_equal(store_campaign_moved(f->st, f->cid + 1000, &seq), STORE_NOT_FOUND);
    assert_int_equal(seq, -1);
    assert_int_equal(store_campaign_steps_done(f->st, f->cid + 1000, 5), STORE_NOT_FOUND);
}

static void campaigns_ahead_lists_campaigns_within_the_horizon_until_their_window_ends(void **state)
{
    struct fx *f = *state;
    int64_t ids[4];
    size_t n = 99;
    assert_int_equal(store_campaigns_ahead(f->st, f->launch - 3601, 3600, ids, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_campaigns_ahead(f->st, f->launch - 3600, 3600, ids, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], f->cid);
    /* launched or not: the follow-up comes after the launch */
    int marked;
    assert_int_equal(store_campaign_mark_launched(f->st, f->cid, 0, f->launch, &marked), 0);
    assert_int_equal(store_campaigns_ahead(f->st, f->launch + WINDOW_SECONDS - 1, 3600, ids, 4, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(store_campaigns_ahead(f->st, f->launch + WINDOW_SECONDS, 3600, ids, 4, &n), 0);
    assert_int_equal(n, 0);
    add_campaign(f, "other-day");
    assert_int_equal(store_campaigns_ahead(f->st, f->launch, 3600, ids, 1, &n), 0);
    assert_int_equal(n, 1);
}

static void outbox_add_variant_queues_once_per_supporter_kind_and_variant(void **state)
{
    struct fx *f = *state;
    struct owed_fixture o = owed_fixture(f);
    int64_t queued = -1;
    assert_true(mail_kind_per_variant(MAIL_EARLY_REMINDER));
    assert_int_equal(
        store_outbox_add_variant(f->st, f->cid, MAIL_EARLY_REMINDER, 3600, 0, T0 + 2, &queued), 0);
    /* a, b, c and r (r has a reminder, not an earlier one); not the pending
     * p, the unsubscribed u, the erased e, nor x of another campaign */
    assert_int_equal(queued, 4);
    assert_int_equal(
        store_outbox_add_variant(f->st, f->cid, MAIL_EARLY_REMINDER, 3600, 0, T0 + 3, &queued), 0);
    assert_int_equal(queued, 0);
    assert_int_equal(
        store_outbox_add_variant(f->st, f->cid, MAIL_EARLY_REMINDER, 60, 0, T0 + 3, &queued), 0);
    assert_int_equal(queued, 4);
    assert_int_equal(store_outbox_add_variant(f->st, f->cid, MAIL_MOVED, 1, 0, T0 + 3, &queued), 0);
    assert_int_equal(queued, 4);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_EARLY_REMINDER, T0 + 3, NULL), 8);
    assert_int_equal(pending_of(f->st, o.other, 0, T0 + 3, NULL), 0);
    struct outbox_item items[16];
    size_t n = claim(f->st, "A", f->cid, T0 + 3, 60, items, 16);
    assert_int_equal(n, 13); /* 8 earlier reminders, 4 notices, r's reminder */
    int with_3600 = 0, with_60 = 0, notices = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind == MAIL_EARLY_REMINDER && items[i].variant == 3600)
            with_3600++;
        else if (items[i].kind == MAIL_EARLY_REMINDER && items[i].variant == 60)
            with_60++;
        else if (items[i].kind == MAIL_MOVED && items[i].variant == 1)
            notices++;
        else
            assert_true(items[i].kind == MAIL_REMINDER && items[i].variant == 0);
    }
    assert_int_equal(with_3600, 4);
    assert_int_equal(with_60, 4);
    assert_int_equal(notices, 4);
    (void)o;
}

static void outbox_add_variant_without_click_skips_who_followed_a_link(void **state)
{
    struct fx *f = *state;
    struct owed_fixture o = owed_fixture(f);
    struct click_record k = {f->cid, o.a, f->t[0], 0, f->launch + 10, 1, 0, 0};
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, &k, 1), 0);
    assert_int_equal(store_commit(f->st), 0);
    int64_t queued = -1;
    assert_int_equal(store_outbox_add_variant(f->st, f->cid, MAIL_FOLLOW_UP, 0, 1, T0 + 2, &queued),
                     0);
    assert_int_equal(queued, 3); /* b, c, r */
    struct outbox_item items[8];
    size_t n = claim(f->st, "A", f->cid, T0 + 2, 60, items, 8);
    for (size_t i = 0; i < n; i++)
        if (items[i].kind == MAIL_FOLLOW_UP)
            assert_true(items[i].supporter_id != o.a);
    assert_int_equal(store_outbox_add_variant(f->st, f->cid, MAIL_FOLLOW_UP, 0, 1, T0 + 3, &queued),
                     0);
    assert_int_equal(queued, 0);
}

static void outbox_add_variant_refuses_a_kind_without_variants(void **state)
{
    struct fx *f = *state;
    import(f->st, f->cid, "a@example.org", T0);
    int64_t queued = -1;
    assert_false(mail_kind_per_variant(MAIL_REMINDER));
    assert_int_equal(store_outbox_add_variant(f->st, f->cid, MAIL_REMINDER, 1, 0, T0, &queued), -1);
    assert_int_equal(queued, -1);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0 + 1, NULL), 0);
}

static void
outbox_add_confirmed_queues_for_confirmed_subscribed_supporters_without_one(void **state)
{
    struct fx *f = *state;
    struct owed_fixture o = owed_fixture(f);
    int64_t queued = -1;
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, T0 + 2, &queued), 0);
    assert_int_equal(queued, 3);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0 + 2, NULL), 4);
    assert_int_equal(pending_of(f->st, o.other, 0, T0 + 2, NULL), 0);
    struct outbox_item items[8];
    size_t n = claim(f->st, "A", f->cid, T0 + 2, 60, items, 8);
    assert_int_equal(n, 4);
    int64_t got[4], want[4] = {o.a, o.b, o.c, o.r};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(items[i].kind, MAIL_REMINDER);
        got[i] = items[i].supporter_id;
    }
    qsort(got, 4, sizeof got[0], cmp_i64);
    qsort(want, 4, sizeof want[0], cmp_i64);
    assert_memory_equal(got, want, sizeof got);
}

static void outbox_add_confirmed_a_second_time_queues_nothing(void **state)
{
    struct fx *f = *state;
    owed_fixture(f);
    int64_t queued = -1;
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, T0 + 2, &queued), 0);
    assert_int_equal(queued, 3);
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, T0 + 3, &queued), 0);
    assert_int_equal(queued, 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0 + 3, NULL), 4);
}

/* "that has none of that kind yet" holds for every kind, not only the
 * once-only ones, and agrees with store_outbox_owed. */
static void outbox_add_confirmed_refuses_a_kind_that_is_not_once_only(void **state)
{
    struct fx *f = *state;
    import(f->st, f->cid, "a@example.org", T0);
    import(f->st, f->cid, "b@example.org", T0);
    int64_t queued = -1, owed = -1;
    assert_false(mail_kind_once_only(MAIL_CONFIRM));
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_CONFIRM, T0, &queued), -1);
    assert_int_equal(queued, -1);
    assert_int_equal(store_outbox_owed(f->st, f->cid, MAIL_CONFIRM, &owed), -1);
    assert_int_equal(owed, -1);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_CONFIRM, T0 + 1, NULL), 0);
}

static void outbox_owed_counts_what_add_confirmed_would_queue(void **state)
{
    struct fx *f = *state;
    struct owed_fixture o = owed_fixture(f);
    int64_t owed = -1, queued = -1;
    assert_int_equal(store_outbox_owed(f->st, f->cid, MAIL_REMINDER, &owed), 0);
    assert_int_equal(owed, 3);
    assert_int_equal(store_outbox_owed(f->st, f->cid, MAIL_WELCOME, &owed), 0);
    assert_int_equal(owed, 4); /* a, b, c, r */
    assert_int_equal(store_outbox_owed(f->st, o.other, MAIL_REMINDER, &owed), 0);
    assert_int_equal(owed, 1);
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, T0 + 2, &queued), 0);
    assert_int_equal(store_outbox_owed(f->st, f->cid, MAIL_REMINDER, &owed), 0);
    assert_int_equal(owed, 0);
}

static void outbox_claim_skips_mail_not_yet_due(void **state)
{
    struct fx *f = *state;
    int64_t s = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0 + 100), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0 + 99, 60, items, 4), 0);
    assert_int_equal(claim(f->st, "A", 0, T0 + 100, 60, items, 4), 1);
}

static void outbox_claim_skips_items_leased_by_another_until_the_lease_ends(void **state)
{
    struct fx *f = *state;
    int64_t s = pledge(f->st, f->cid, "a@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    int64_t id = items[0].id;
    assert_int_equal(claim(f->st, "B", 0, T0 + 59, 60, items, 4), 0);
    assert_int_equal(claim(f->st, "B", 0, T0 + 60, 60, items, 4), 1);
    assert_int_equal(items[0].id, id);
    assert_int_equal(items[0].attempts, 2);
}

static void outbox_claim_of_one_campaign_leaves_the_others(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, other, "b@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, a, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, other, b, T0), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", other, T0, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, b);
    assert_int_equal(claim(f->st, "A", other, T0, 60, items, 4), 0);
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, a);
}

static void outbox_claim_takes_at_most_max_items(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.org", i);
        int64_t s = pledge(f->st, f->cid, email, T0);
        assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, T0 + i), 0);
    }
    struct outbox_item items[8];
    int64_t ids[5];
    size_t got = 0;
    assert_int_equal(claim(f->st, "A", 0, T0 + 10, 60, items, 2), 2);
    for (size_t i = 0; i < 2; i++)
        ids[got++] = items[i].id;
    assert_int_equal(claim(f->st, "A", 0, T0 + 10, 60, items, 8), 3);
    for (size_t i = 0; i < 3; i++)
        ids[got++] = items[i].id;
    assert_int_equal(claim(f->st, "A", 0, T0 + 10, 60, items, 8), 0);
    qsort(ids, 5, sizeof ids[0], cmp_i64);
    for (int i = 1; i < 5; i++)
        assert_true(ids[i] != ids[i - 1]);
}

static int has_owner(char (*owners)[300], size_t n, const char *owner)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(owners[i], owner) == 0)
            return 1;
    return 0;
}

static size_t lease_owners(struct store *st, int64_t now, char (*owners)[300], size_t max)
{
    size_t n = 999;
    assert_int_equal(store_outbox_lease_owners(st, now, owners, max, &n), 0);
    assert_true(n <= max);
    return n;
}

static void queue_confirmations(struct fx *f, int count, int64_t now)
{
    for (int i = 0; i < count; i++) {
        char email[32];
        snprintf(email, sizeof email, "q%d@example.org", i);
        int64_t s = pledge(f->st, f->cid, email, now);
        assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, s, now), 0);
    }
}

static void outbox_lease_owners_lists_the_owners_of_unexpired_leases(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 3, T0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "host:1:1", 0, T0, 60, items, 2), 2);
    assert_int_equal(claim(f->st, "host:2:2", 0, T0, 120, items, 1), 1);
    char owners[4][300];
    size_t n = lease_owners(f->st, T0, owners, 4);
    assert_int_equal(n, 2);
    assert_true(has_owner(owners, n, "host:1:1"));
    assert_true(has_owner(owners, n, "host:2:2"));
    n = lease_owners(f->st, T0 + 60, owners, 4);
    assert_int_equal(n, 1);
    assert_string_equal(owners[0], "host:2:2");
    assert_int_equal(lease_owners(f->st, T0 + 120, owners, 4), 0);
    assert_int_equal(lease_owners(f->st, T0, owners, 1), 1);
}

static void outbox_lease_drop_ends_every_lease_of_one_owner(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 3, T0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "dead", 0, T0, 900, items, 2), 2);
    assert_int_equal(claim(f->st, "alive", 0, T0, 900, items, 1), 1);
    assert_int_equal(store_outbox_lease_drop(f->st, "dead"), 0);
    char owners[4][300];
    size_t n = lease_owners(f->st, T0, owners, 4);
    assert_int_equal(n, 1);
    assert_string_equal(owners[0], "alive");
    assert_int_equal(claim(f->st, "new", 0, T0 + 1, 900, items, 4), 2);
    assert_int_equal(items[0].attempts, 2);
    assert_int_equal(items[1].attempts, 2);
}

static void outbox_renew_extends_only_the_owners_lease(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 1, T0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    int64_t id = items[0].id;
    int ours = -1;
    assert_int_equal(store_outbox_renew(f->st, id, "B", T0 + 600, &ours), 0);
    assert_int_equal(ours, 0);
    assert_int_equal(store_outbox_renew(f->st, id, "A", T0 + 300, &ours), 0);
    assert_int_equal(ours, 1);
    assert_int_equal(claim(f->st, "B", 0, T0 + 299, 60, items, 4), 0);
    assert_int_equal(claim(f->st, "B", 0, T0 + 300, 60, items, 4), 1);
    assert_int_equal(store_outbox_renew(f->st, id, "A", T0 + 900, &ours), 0);
    assert_int_equal(ours, 0); /* B holds it now */
}

static void outbox_renew_of_a_settled_item_is_not_ours(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 1, T0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", T0 + 1), 0);
    int ours = -1;
    assert_int_equal(store_outbox_renew(f->st, items[0].id, "A", T0 + 300, &ours), 0);
    assert_int_equal(ours, 0);
}

/* The sender's transaction: its writes commit, or roll back, as store_begin's. */
static void outbox_outcomes_in_a_rows_transaction_commit_and_roll_back(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 2, T0);
    struct outbox_item a[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, a, 2), 2);
    assert_int_equal(store_begin_rows(f->st), 0);
    assert_int_equal(store_outbox_sent(f->st, a[0].id, "A", T0 + 1), 0);
    store_rollback(f->st);
    assert_int_equal(store_begin_rows(f->st), 0);
    assert_int_equal(store_outbox_sent(f->st, a[1].id, "A", T0 + 1), 0);
    assert_int_equal(store_commit(f->st), 0);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0 + 2, &pending, &ready),
                     0);
    assert_int_equal(pending, 1); /* the rolled-back one */
    assert_int_equal(claim(f->st, "B", 0, T0 + 60, 60, a, 4), 1);
}

/* The list forms: each item of the list gets what the one-item call would. */
static void outbox_renew_and_sent_of_a_list_answer_per_item(void **state)
{
    struct fx *f = *state;
    queue_confirmations(f, 4, T0);
    struct outbox_item a[4], b[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, a, 3), 3);
    assert_int_equal(claim(f->st, "B", 0, T0, 60, b, 4), 1);
    assert_int_equal(store_outbox_sent(f->st, a[2].id, "A", T0 + 1), 0);
    int64_t ids[4] = {a[0].id, b[0].id, a[1].id, a[2].id};
    int ours[4] = {-1, -1, -1, -1};
    assert_int_equal(store_outbox_renew_many(f->st, ids, 4, "A", T0 + 300, ours), 0);
    assert_int_equal(ours[0], 1);
    assert_int_equal(ours[1], 0); /* B's */
    assert_int_equal(ours[2], 1);
    assert_int_equal(ours[3], 0); /* sent already */
    int64_t sent[2] = {a[0].id, a[1].id};
    assert_int_equal(store_outbox_sent_many(f->st, sent, 2, "A", T0 + 2), 0);
    int64_t pending = -1, ready = -1;
    assert_int_equal(store_outbox_pending(f->st, f->cid, MAIL_CONFIRM, T0 + 2, &pending, &ready),
                     0);
    assert_int_equal(pending, 1); /* only B's is left */
    /* B's lease was not touched by A's list: it runs out at T0 + 60. */
    assert_int_equal(claim(f->st, "C", 0, T0 + 59, 60, a, 4), 0);
    assert_int_equal(claim(f->st, "C", 0, T0 + 60, 60, a, 4), 1);
    assert_int_equal(a[0].id, b[0].id);
    assert_int_equal(store_outbox_sent_many(f->st, ids, 0, "A", T0 + 3), 0); /* nothing */
}

/* One reminder queued for a new confirmed supporter and claimed by "A". */
static int64_t claimed_reminder(struct fx *f, const char *email)
{
    int64_t s = import(f->st, f->cid, email, T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s, f->launch), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, f->launch, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, s);
    return items[0].id;
}

/* The replies of every outbox row, in order, joined by "|". */
static int collect_reply(void *ctx, const struct store_inspect_outbox_row *row)
{
    struct buf *b = ctx;
    buf_printf(b, "%s|", row->last_reply ? row->last_reply : "-");
    return 0;
}

static void pledges_erase_removes_the_address_from_stored_relay_replies(void **state)
{
    struct fx *f = *state;
    int64_t gone = claimed_reminder(f, "Ann@Example.org");
    int64_t kept = claimed_reminder(f, "keep@example.org");
    assert_int_equal(store_outbox_failed(f->st, gone, "A", f->launch + 1,
                                         "550 5.1.1 <ANN@example.org>: no such user; "
                                         "alias ann.x+y@relay.example.net"),
                     0);
    assert_int_equal(store_outbox_failed(f->st, kept, "A", f->launch + 1,
                                         "550 5.1.1 <keep@example.org>: no such user"),
                     0);
    int count = -1;
    assert_int_equal(store_pledges_erase(f->st, "ann@example.org", f->launch + 2, &count), 0);
    assert_int_equal(count, 1);
    struct buf replies = BUF_INIT;
    assert_int_equal(store_inspect_outbox(f->st, 0, NULL, collect_reply, &replies), 0);
    assert_string_equal(buf_cstr(&replies), "550 5.1.1 <[address]>: no such user; alias [address]|"
                                            "550 5.1.1 <keep@example.org>: no such user|");
    buf_release(&replies);
    /* the failed mail still counts */
    assert_int_equal(stats_of(f->st, f->cid).reminders_failed, 2);
}

static void outbox_sent_settles_the_item(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    assert_int_equal(store_outbox_sent(f->st, id, "A", f->launch + 1), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, f->launch + 1, NULL), 0);
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.reminders_sent, 1);
    assert_int_equal(s.reminders_pending, 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 1000, 60, items, 4), 0);
}

static void outbox_retry_defers_the_item_to_next_at(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    assert_int_equal(store_outbox_retry(f->st, id, "A", f->launch + 600, "451 later"), 0);
    int64_t ready = -1;
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, f->launch + 599, &ready), 1);
    assert_int_equal(ready, 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 599, 60, items, 4), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, f->launch + 600, &ready), 1);
    assert_int_equal(ready, 1);
    assert_int_equal(claim(f->st, "B", 0, f->launch + 600, 60, items, 4), 1);
    assert_int_equal(items[0].id, id);
    assert_int_equal(items[0].attempts, 2);
}

static void outbox_defer_puts_the_item_back_without_counting_the_attempt(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    /* another owner's defer changes nothing */
    assert_int_equal(store_outbox_defer(f->st, id, "B", f->launch + 5, "paced"), 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 1, 60, items, 4), 0);
    assert_int_equal(store_outbox_defer(f->st, id, "A", f->launch + 5, "paced: a.test"), 0);
    /* owner and lease cleared: not before next_at, then at once */
    assert_int_equal(claim(f->st, "B", 0, f->launch + 4, 60, items, 4), 0);
    assert_int_equal(claim(f->st, "B", 0, f->launch + 5, 60, items, 4), 1);
    assert_int_equal(items[0].id, id);
    assert_int_equal(items[0].attempts, 1); /* the deferred claim did not count */
    /* only a pending item: a sent one stays sent */
    assert_int_equal(store_outbox_sent(f->st, id, "B", f->launch + 6), 0);
    assert_int_equal(store_outbox_defer(f->st, id, "B", f->launch + 7, "paced"), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, f->launch + 100, NULL), 0);
    assert_int_equal(stats_of(f->st, f->cid).reminders_sent, 1);
}

static void outbox_failed_gives_the_item_up(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    assert_int_equal(store_outbox_failed(f->st, id, "A", f->launch + 1, "550 no such user"), 0);
    assert_int_equal(pending_of(f->st, f->cid, 0, f->launch + 1, NULL), 0);
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.reminders_failed, 1);
    assert_int_equal(s.reminders_sent, 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 1000, 60, items, 4), 0);
}

static void outbox_cancel_makes_the_item_no_longer_owed(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    assert_int_equal(store_outbox_cancel(f->st, id), 0);
    assert_int_equal(pending_of(f->st, f->cid, 0, f->launch, NULL), 0);
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.reminders_pending, 0);
    assert_int_equal(s.reminders_sent, 0);
    assert_int_equal(s.reminders_failed, 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 1000, 60, items, 4), 0);
}

static void outbox_cancel_of_a_sent_item_leaves_it_sent(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    assert_int_equal(store_outbox_sent(f->st, id, "A", f->launch + 1), 0);
    assert_int_equal(store_outbox_cancel(f->st, id), 0);
    assert_int_equal(stats_of(f->st, f->cid).reminders_sent, 1);
}

static void outbox_suppressed_settles_the_item_as_suppressed_and_it_is_counted(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_reminder(f, "a@example.org");
    int64_t sent_id = claimed_reminder(f, "b@example.org");
    assert_int_equal(store_outbox_sent(f->st, sent_id, "A", f->launch + 1), 0);
    assert_int_equal(store_outbox_suppressed(f->st, id, f->launch + 2, "suppressed: listed"), 0);
    assert_int_equal(pending_of(f->st, f->cid, 0, f->launch, NULL), 0);
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.reminders_pending, 0);
    assert_int_equal(s.reminders_sent, 1);
    assert_int_equal(s.reminders_failed, 0);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "B", 0, f->launch + 1000, 60, items, 4), 0);
    int64_t sent = -1, suppressed = -1;
    assert_int_equal(store_suppression_campaign_mail(f->st, f->cid, &sent, &suppressed), 0);
    assert_int_equal(sent, 1);
    assert_int_equal(suppressed, 1);
    /* a settled item stays as it is */
    assert_int_equal(store_outbox_suppressed(f->st, sent_id, f->launch + 3, "x"), 0);
    assert_int_equal(store_suppression_campaign_mail(f->st, f->cid, &sent, &suppressed), 0);
    assert_int_equal(sent, 1);
    assert_int_equal(suppressed, 1);
}

static void suppression_campaign_mail_counts_every_kind_of_one_campaign(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other");
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, other, "b@example.org", T0);
    for (enum mail_kind k = MAIL_CONFIRM; k <= MAIL_REMINDER; k++) {
        assert_int_equal(store_outbox_add(f->st, k, f->cid, a, T0), 0);
        assert_int_equal(store_outbox_add(f->st, k, other, b, T0), 0);
    }
    struct outbox_item items[8];
    size_t n = claim(f->st, "A", 0, f->launch + 1, 60, items, 8);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_outbox_sent(f->st, items[i].id, "A", f->launch + 2), 0);
    int64_t sent = -1, suppressed = -1;
    assert_int_equal(store_suppression_campaign_mail(f->st, f->cid, &sent, &suppressed), 0);
    assert_int_equal(sent, 3);
    assert_int_equal(suppressed, 0);
    assert_int_equal(store_suppression_campaign_mail(f->st, other + 100, &sent, NULL), 0);
    assert_int_equal(sent, 0);
}

static void outbox_cancel_supporter_cancels_one_kind_or_every_kind(void **state)
{
    struct fx *f = *state;
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, f->cid, "b@example.org", T0);
    for (enum mail_kind k = MAIL_CONFIRM; k <= MAIL_REMINDER; k++) {
        assert_int_equal(store_outbox_add(f->st, k, f->cid, a, T0), 0);
        assert_int_equal(store_outbox_add(f->st, k, f->cid, b, T0), 0);
    }
    assert_int_equal(store_outbox_cancel_supporter(f->st, a, MAIL_REMINDER), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0, NULL), 1);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_WELCOME, T0, NULL), 2);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_CONFIRM, T0, NULL), 2);
    assert_int_equal(store_outbox_cancel_supporter(f->st, a, 0), 0);
    assert_int_equal(pending_of(f->st, f->cid, 0, T0, NULL), 3);
    struct outbox_item items[8];
    size_t n = claim(f->st, "A", 0, T0, 60, items, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(items[i].supporter_id, b);
}

static void outbox_cancel_email_cancels_the_mail_of_every_pledge_of_the_address(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a1 = pledge(f->st, f->cid, "Ann@Example.org", T0);
    int64_t a2 = pledge(f->st, other, "ann@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, a1, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, other, a2, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, b, T0), 0);
    assert_int_equal(store_outbox_cancel_email(f->st, "ANN@example.ORG"), 0);
    assert_int_equal(pending_of(f->st, 0, 0, T0, NULL), 1);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, T0, 60, items, 4), 1);
    assert_int_equal(items[0].supporter_id, b);
}

static void outbox_pending_counts_by_campaign_and_kind_and_what_is_ready(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, other, "b@example.org", T0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, f->cid, a, T0), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, a, T0 + 100), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_CONFIRM, other, b, T0), 0);
    int64_t ready = -1;
    assert_int_equal(pending_of(f->st, 0, 0, T0, &ready), 3);
    assert_int_equal(ready, 2);
    assert_int_equal(pending_of(f->st, f->cid, 0, T0, &ready), 2);
    assert_int_equal(ready, 1);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, T0, &ready), 1);
    assert_int_equal(ready, 0);
    assert_int_equal(pending_of(f->st, other, MAIL_CONFIRM, T0, &ready), 1);
    assert_int_equal(ready, 1);
    assert_int_equal(pending_of(f->st, other, MAIL_WELCOME, T0, &ready), 0);
    assert_int_equal(ready, 0);
    /* a claimed item is still pending and ready */
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", other, T0, 60, items, 4), 1);
    assert_int_equal(pending_of(f->st, other, 0, T0, &ready), 1);
    assert_int_equal(ready, 1);
}

/* ======================= stats and exports ======================= */

static void stats_count_pledges_confirmations_unsubscribes_reminders_and_clicks(void **state)
{
    struct fx *f = *state;
    int64_t p = pledge(f->st, f->cid, "p@example.org", T0);
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, f->cid, "b@example.org", T0);
    int64_t u = import(f->st, f->cid, "u@example.org", T0);
    int changed;
    assert_int_equal(store_pledge_unsubscribe(f->st, u, T0 + 1, &changed), 0);
    int64_t queued;
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, f->launch, &queued),
                     0);
    assert_int_equal(queued, 2);
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "A", 0, f->launch, 60, items, 4), 2);
    for (int i = 0; i < 2; i++) {
        if (items[i].supporter_id == a)
            assert_int_equal(store_outbox_sent(f->st, items[i].id, "A", f->launch + 1), 0);
        else
            assert_int_equal(store_outbox_failed(f->st, items[i].id, "A", f->launch + 1, "550"), 0);
    }
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, p, f->launch), 0);
    struct click_record k[3];
    memset(k, 0, sizeof k);
    k[0] = (struct click_record){f->cid, a, f->t[0], 0, f->launch + 10, 1, 0, 0};
    k[1] = (struct click_record){f->cid, a, f->t[0], 0, f->launch + 20, 0, 0, 0};
    k[2] = (struct click_record){f->cid, b, f->t[1], 0, f->launch + 30, 1, 0, 0};
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, k, 3), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_target_counters_add(f->st, f->t[0], 0, 0, 2), 0);
    assert_int_equal(store_target_counters_add(f->st, f->t[2], 0, 0, 1), 0);
    struct campaign_stats s = stats_of(f->st, f->cid);
    assert_int_equal(s.pledges, 4);
    assert_int_equal(s.confirmed, 3);
    assert_int_equal(s.unsubscribed, 1);
    assert_int_equal(s.reminders_sent, 1);
    assert_int_equal(s.reminders_failed, 1);
    assert_int_equal(s.reminders_pending, 1);
    assert_int_equal(s.clicks, 3);
    assert_int_equal(s.supporters_clicked, 2);
    assert_int_equal(s.reroutes, 3);
    int64_t other = add_campaign(f, "other-day");
    struct campaign_stats none = stats_of(f->st, other);
    assert_int_equal(none.pledges + none.confirmed + none.unsubscribed + none.reminders_sent +
                         none.reminders_failed + none.reminders_pending + none.clicks +
                         none.supporters_clicked + none.reroutes,
                     0);
}

static void export_supporters_gives_twelve_columns_per_supporter_in_pledge_order(void **state)
{
    struct fx *f = *state;
    pledge(f->st, f->cid, "p@example.org", T0);
    int64_t i = import(f->st, f->cid, "i@example.org", T0 + 10);
    int changed;
    assert_int_equal(store_pledge_unsubscribe(f->st, i, T0 + 20, &changed), 0);
    assert_int_equal(store_supporter_assign(f->st, i, f->t[0]), 0);
    struct rows r;
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_supporters(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.columns, 12);
    char t0[21], t10[21], t20[21], consent[21];
    iso(T0, t0);
    iso(T0 + 10, t10);
    iso(T0 + 20, t20);
    iso(T0 + 10 - 100, consent);
    const char *const want[2][12] = {{"p@example.org", "Name", "Because", "Europe/Berlin",
                                      "pending", t0, "", "", t0, "I agree", "form", ""},
                                     {"i@example.org", "Imported", "", "UTC", "confirmed", t10, t10,
                                      t20, consent, "yes", "import", "first"}};
    for (int row = 0; row < 2; row++)
        for (int col = 0; col < 12; col++)
            assert_string_equal(r.cell[row][col], want[row][col]);
}

static void exports_stop_when_the_row_callback_returns_non_zero(void **state)
{
    struct fx *f = *state;
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.org", i);
        ids[i] = pledge(f->st, f->cid, email, T0);
    }
    struct click_record k[3];
    memset(k, 0, sizeof k);
    for (int i = 0; i < 3; i++)
        k[i] = (struct click_record){f->cid, ids[i], f->t[1], 0, f->launch + i, 1, 0, 0};
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, k, 3), 0);
    assert_int_equal(store_commit(f->st), 0);
    struct rows r;
    memset(&r, 0, sizeof r);
    r.stop_after = 1;
    assert_int_equal(store_export_supporters(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 1);
    memset(&r, 0, sizeof r);
    r.stop_after = 2;
    assert_int_equal(store_export_clicks(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 2);
    memset(&r, 0, sizeof r);
    assert_int_equal(store_export_clicks(f->st, f->cid, collect_row, &r), 0);
    assert_int_equal(r.count, 3);
}

/* ======================= organizers ======================= */

static void organizer_set_password_creates_then_replaces(void **state)
{
    struct fx *f = *state;
    int created = -1;
    assert_int_equal(store_organizer_set_password(f->st, "o@example.org", "h1", T0, &created), 0);
    assert_int_equal(created, 1);
    int64_t id = 0;
    char *hash = NULL;
    assert_int_equal(store_organizer_get(f->st, "o@example.org", &id, &hash), 0);
    assert_true(id > 0);
    assert_string_equal(hash, "h1");
    free(hash);
    assert_int_equal(store_organizer_set_password(f->st, "o@example.org", "h2", T0 + 1, &created),
                     0);
    assert_int_equal(created, 0);
    int64_t again = 0;
    assert_int_equal(store_organizer_get(f->st, "o@example.org", &again, &hash), 0);
    assert_int_equal(again, id);
    assert_string_equal(hash, "h2");
    free(hash);
}

static void organizer_get_of_an_unknown_email_is_not_found(void **state)
{
    struct fx *f = *state;
    add_organizer(f->st, "o@example.org", "h");
    int64_t id = -7;
    char *hash = NULL;
    assert_int_equal(store_organizer_get(f->st, "x@example.org", &id, &hash), STORE_NOT_FOUND);
    assert_int_equal(id, -7);
    assert_null(hash);
}

static void session_organizer_finds_the_organizer_until_the_session_expires(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    assert_int_equal(store_session_create(f->st, id, "session-hash", T0, T0 + 3600), 0);
    int64_t found = -7;
    assert_int_equal(store_session_organizer(f->st, "session-hash", T0 + 3599, &found), 0);
    assert_int_equal(found, id);
    found = -7;
    assert_int_equal(store_session_organizer(f->st, "session-hash", T0 + 3600, &found),
                     STORE_NOT_FOUND);
    assert_int_equal(found, -7);
    assert_int_equal(store_session_organizer(f->st, "other-hash", T0, &found), STORE_NOT_FOUND);
}

static void session_delete_ends_the_session(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    assert_int_equal(store_session_create(f->st, id, "s1", T0, T0 + 3600), 0);
    assert_int_equal(store_session_create(f->st, id, "s2", T0, T0 + 3600), 0);
    assert_int_equal(store_session_delete(f->st, "s1"), 0);
    int64_t found;
    assert_int_equal(store_session_organizer(f->st, "s1", T0, &found), STORE_NOT_FOUND);
    assert_int_equal(store_session_organizer(f->st, "s2", T0, &found), 0);
}

static void a_new_password_ends_the_organizers_sessions(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    int64_t other = add_organizer(f->st, "p@example.org", "h");
    assert_int_equal(store_session_create(f->st, id, "s1", T0, T0 + 3600), 0);
    assert_int_equal(store_session_create(f->st, other, "s2", T0, T0 + 3600), 0);
    int created;
    assert_int_equal(store_organizer_set_password(f->st, "o@example.org", "new", T0 + 1, &created),
                     0);
    int64_t found;
    assert_int_equal(store_session_organizer(f->st, "s1", T0 + 2, &found), STORE_NOT_FOUND);
    assert_int_equal(store_session_organizer(f->st, "s2", T0 + 2, &found), 0);
    assert_int_equal(found, other);
}

static void api_token_find_finds_the_token_until_it_expires(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    int64_t tid = -7;
    assert_int_equal(store_api_token_create(f->st, id, "token-hash", T0, T0 + 3600, &tid), 0);
    assert_true(tid > 0);
    struct api_token_row row;
    memset(&row, 0, sizeof row);
    assert_int_equal(store_api_token_find(f->st, "token-hash", T0 + 3599, &row), 0);
    assert_int_equal(row.id, tid);
    assert_int_equal(row.organizer_id, id);
    assert_int_equal(row.created_at, T0);
    assert_int_equal(row.expires_at, T0 + 3600);
    assert_int_equal(row.last_used_at, 0);
    row.id = -7;
    assert_int_equal(store_api_token_find(f->st, "token-hash", T0 + 3600, &row), STORE_NOT_FOUND);
    assert_int_equal(store_api_token_find(f->st, "other-hash", T0, &row), STORE_NOT_FOUND);
    assert_int_equal(row.id, -7);
}

static void api_tokens_are_listed_touched_and_revoked_per_organizer(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    int64_t other = add_organizer(f->st, "p@example.org", "h");
    int64_t t1, t2, t3;
    assert_int_equal(store_api_token_create(f->st, id, "t1", T0, T0 + 10, &t1), 0);
    assert_int_equal(store_api_token_create(f->st, id, "t2", T0 + 1, T0 + 100, &t2), 0);
    assert_int_equal(store_api_token_create(f->st, other, "t3", T0, T0 + 100, &t3), 0);
    assert_true(t1 != t2 && t2 != t3 && t1 != t3);
    assert_int_equal(store_api_token_touch(f->st, t2, T0 + 5), 0);
    struct api_token_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_api_tokens_of(f->st, id, &rows, &n), 0);
    assert_int_equal(n, 2); /* the expired one too, the other organizer's not */
    assert_int_equal(rows[0].id, t1);
    assert_int_equal(rows[0].expires_at, T0 + 10);
    assert_int_equal(rows[0].last_used_at, 0);
    assert_int_equal(rows[1].id, t2);
    assert_int_equal(rows[1].created_at, T0 + 1);
    assert_int_equal(rows[1].last_used_at, T0 + 5);
    free(rows);
    /* Another organizer's token is not theirs to revoke. */
    assert_int_equal(store_api_token_revoke(f->st, id, t3), STORE_NOT_FOUND);
    assert_int_equal(store_api_token_revoke(f->st, id, t2), 0);
    assert_int_equal(store_api_token_revoke(f->st, id, t2), STORE_NOT_FOUND);
    struct api_token_row row;
    assert_int_equal(store_api_token_find(f->st, "t2", T0 + 6, &row), STORE_NOT_FOUND);
    assert_int_equal(store_api_token_find(f->st, "t3", T0 + 6, &row), 0);
    /* A revoked token's id is never given again. */
    int64_t t4;
    assert_int_equal(store_api_token_create(f->st, id, "t4", T0 + 7, T0 + 100, &t4), 0);
    assert_true(t4 > t3 && t4 > t2);
    rows = NULL;
    assert_int_equal(store_api_tokens_of(f->st, other + 1000, &rows, &n), 0);
    assert_int_equal(n, 0);
    free(rows);
}

static void a_new_password_deletes_the_organizers_api_tokens(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    int64_t other = add_organizer(f->st, "p@example.org", "h");
    int64_t t1, t2;
    assert_int_equal(store_api_token_create(f->st, id, "t1", T0, T0 + 3600, &t1), 0);
    assert_int_equal(store_api_token_create(f->st, other, "t2", T0, T0 + 3600, &t2), 0);
    int created;
    assert_int_equal(store_organizer_set_password(f->st, "o@example.org", "new", T0 + 1, &created),
                     0);
    struct api_token_row row;
    assert_int_equal(store_api_token_find(f->st, "t1", T0 + 2, &row), STORE_NOT_FOUND);
    assert_int_equal(store_api_token_find(f->st, "t2", T0 + 2, &row), 0);
}

static void a_new_organizer_is_plain_until_given_a_role(void **state)
{
    struct fx *f = *state;
    int64_t id = add_organizer(f->st, "o@example.org", "h");
    enum organizer_role role = ORGANIZER_ADMIN;
    assert_int_equal(store_organizer_role(f->st, id, &role), 0);
    assert_int_equal(role, ORGANIZER_PLAIN);
    assert_int_equal(store_organizer_set_role(f->st, id, ORGANIZER_ADMIN), 0);
    assert_int_equal(store_organizer_role(f->st, id, &role), 0);
    assert_int_equal(role, ORGANIZER_ADMIN);
    /* A new password keeps the role. */
    int created;
    assert_int_equal(store_organizer_set_password(f->st, "o@example.org", "new", T0 + 1, &created),
                     0);
    assert_int_equal(store_organizer_role(f->st, id, &role), 0);
    assert_int_equal(role, ORGANIZER_ADMIN);
    assert_int_equal(store_organizer_set_role(f->st, id, ORGANIZER_PLAIN), 0);
    assert_int_equal(store_organizer_role(f->st, id, &role), 0);
    assert_int_equal(role, ORGANIZER_PLAIN);
    assert_int_equal(store_organizer_set_role(f->st, id + 1000, ORGANIZER_ADMIN), STORE_NOT_FOUND);
    assert_int_equal(store_organizer_role(f->st, id + 1000, &role), STORE_NOT_FOUND);
}

static void grants_are_set_replaced_listed_and_deleted_per_campaign(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other-day");
    int64_t ann = add_organizer(f->st, "ann@example.org", "h");
    int64_t bob = add_organizer(f->st, "bob@example.org", "h");
    enum campaign_role role = CAMPAIGN_ROLE_OWNER;
    assert_int_equal(store_grant_role(f->st, ann, f->cid, &role), STORE_NOT_FOUND);
    assert_int_equal(role, CAMPAIGN_ROLE_OWNER);
    assert_int_equal(store_grant_set(f->st, f->cid, ann, CAMPAIGN_ROLE_VIEWER, T0), 0);
    assert_int_equal(store_grant_set(f->st, f->cid, bob, CAMPAIGN_ROLE_OWNER, T0 + 1), 0);
    assert_int_equal(store_grant_set(f->st, other, ann, CAMPAIGN_ROLE_EDITOR, T0 + 2), 0);
    assert_int_equal(store_grant_role(f->st, ann, f->cid, &role), 0);
    assert_int_equal(role, CAMPAIGN_ROLE_VIEWER);
    assert_int_equal(store_grant_role(f->st, ann, other, &role), 0);
    assert_int_equal(role, CAMPAIGN_ROLE_EDITOR);
    assert_int_equal(store_grant_role(f->st, bob, other, &role), STORE_NOT_FOUND);
    /* Setting again replaces the role. */
    assert_int_equal(store_grant_set(f->st, f->cid, ann, CAMPAIGN_ROLE_EDITOR, T0 + 3), 0);
    assert_int_equal(store_grant_role(f->st, ann, f->cid, &role), 0);
    assert_int_equal(role, CAMPAIGN_ROLE_EDITOR);
    struct grant_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_grants_of_campaign(f->st, f->cid, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].email, "ann@example.org");
    assert_int_equal(rows[0].role, CAMPAIGN_ROLE_EDITOR);
    assert_int_equal(rows[0].granted_at, T0 + 3);
    assert_string_equal(rows[1].email, "bob@example.org");
    assert_int_equal(rows[1].role, CAMPAIGN_ROLE_OWNER);
    free(rows);
    assert_int_equal(store_grant_delete(f->st, f->cid, ann), 0);
    assert_int_equal(store_grant_delete(f->st, f->cid, ann), STORE_NOT_FOUND);
    assert_int_equal(store_grant_role(f->st, ann, f->cid, &role), STORE_NOT_FOUND);
    assert_int_equal(store_grant_role(f->st, ann, other, &role),
                     0); /* the other campaign's stays */
    rows = NULL;
    assert_int_equal(store_grants_of_campaign(f->st, other + 1000, &rows, &n), 0);
    assert_int_equal(n, 0);
    free(rows);
}

/* ======================= webhooks ======================= */

/* ======================= suppression list ======================= */

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define KEY_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define KEY_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define KEY_E "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define KEY_F "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static int suppress(struct store *st, const char *key, const char *address,
                    enum suppression_kind kind, int64_t at, const char *reason, int64_t campaign_id)
{
    struct suppression_entry e = {0};
    snprintf(e.key, sizeof e.key, "%s", key);
    e.address = (char *)address;
    e.kind = kind;
    e.created_at = at;
    e.reason = (char *)reason;
    e.campaign_id = campaign_id;
    int added = -1;
    assert_int_equal(store_suppression_add(st, &e, &added), 0);
    return added;
}

static void suppression_add_stores_the_entry_that_get_reads_back(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppress(f->st, KEY_A, "ann@example.org", SUPPRESSION_COMPLAINT, T0 + 5,
                              "abuse report: spam", f->cid),
                     1);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, KEY_A, &e), 0);
    assert_true(e.id > 0);
    assert_string_equal(e.key, KEY_A);
    assert_string_equal(e.address, "ann@example.org");
    assert_int_equal(e.kind, SUPPRESSION_COMPLAINT);
    assert_int_equal(e.created_at, T0 + 5);
    assert_string_equal(e.reason, "abuse report: spam");
    assert_int_equal(e.campaign_id, f->cid);
    suppression_entry_release(&e);
    int found = -1;
    assert_int_equal(store_suppression_exists(f->st, KEY_A, &found), 0);
    assert_int_equal(found, 1);
    assert_int_equal(store_suppression_exists(f->st, KEY_B, &found), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_suppression_get(f->st, KEY_B, &e), STORE_NOT_FOUND);
}

static void suppression_exists_many_answers_each_key(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppress(f->st, KEY_B, "bob@example.org", SUPPRESSION_BOUNCE, T0, "550", 0),
                     1);
    const char *keys[3] = {KEY_A, KEY_B, KEY_A};
    int found[3] = {-1, -1, -1};
    assert_int_equal(store_suppression_exists_many(f->st, keys, 3, found), 0);
    assert_int_equal(found[0], 0);
    assert_int_equal(found[1], 1);
    assert_int_equal(found[2], 0);
    assert_int_equal(store_suppression_exists_many(f->st, keys, 0, found), 0);
}

/* In any order, with ids that are not (any more) supporters'. */
static void supporters_by_ids_reads_each_and_says_which_are_gone(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, f->cid, "b@example.org", T0);
    int64_t gone = pledge(f->st, f->cid, "gone@example.org", T0);
    int count = 0;
    assert_int_equal(store_pledges_erase(f->st, "gone@example.org", T0 + 1, &count), 0);
    int64_t ids[4] = {b, gone, a, 999999};
    struct supporter out[4];
    int found[4] = {-1, -1, -1, -1};
    assert_int_equal(store_supporters_by_ids(f->st, ids, 4, out, found), 0);
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 0);
    assert_int_equal(found[2], 1);
    assert_int_equal(found[3], 0);
    assert_int_equal(out[0].id, b);
    assert_string_equal(out[0].email, "b@example.org");
    assert_int_equal(out[0].confirmed, 1);
    assert_int_equal(out[2].id, a);
    assert_string_equal(out[2].email, "a@example.org");
    assert_string_equal(out[2].statement, "Because");
    assert_int_equal(out[2].confirmed, 0);
    /* the same fields as the one-id read */
    struct supporter one;
    assert_int_equal(store_supporter_by_id(f->st, a, &one), 0);
    assert_int_equal(one.token_key, out[2].token_key);
    assert_string_equal(one.timezone, out[2].timezone);
    supporter_release(&one);
    supporter_release(&out[0]);
    supporter_release(&out[2]);
}

/* The same by token key (the one-click links of one moment), a key given
 * twice filled twice. */
static void supporters_by_keys_reads_each_and_says_which_are_gone(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = import(f->st, f->cid, "b@example.org", T0);
    int64_t gone = pledge(f->st, f->cid, "gone@example.org", T0);
    int64_t keys[3];
    const int64_t ids[3] = {a, b, gone};
    for (int i = 0; i < 3; i++) {
        struct supporter s;
        assert_int_equal(store_supporter_by_id(f->st, ids[i], &s), 0);
        keys[i] = s.token_key;
        supporter_release(&s);
    }
    int count = 0;
    assert_int_equal(store_pledges_erase(f->st, "gone@example.org", T0 + 1, &count), 0);
    int64_t asked[5] = {keys[1], keys[2], keys[0], keys[0] + 1, keys[1]};
    struct supporter out[5];
    int found[5] = {-1, -1, -1, -1, -1};
    assert_int_equal(store_supporters_by_keys(f->st, asked, 5, out, found), 0);
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 0);
    assert_int_equal(found[2], 1);
    assert_int_equal(found[3], keys[0] + 1 == keys[1]);
    assert_int_equal(found[4], 1);
    assert_int_equal(out[0].id, b);
    assert_string_equal(out[0].email, "b@example.org");
    assert_int_equal(out[0].confirmed, 1);
    assert_int_equal(out[2].id, a);
    assert_int_equal(out[2].token_key, keys[0]);
    assert_string_equal(out[2].statement, "Because");
    assert_int_equal(out[2].confirmed, 0);
    assert_int_equal(out[4].id, b);
    for (int i = 0; i < 5; i++)
        if (found[i] == 1)
            supporter_release(&out[i]);
    assert_int_equal(store_supporters_by_keys(f->st, asked, 0, out, found), 0);
}

static void suppression_add_of_a_listed_key_keeps_the_first_entry(void **state)
{
    struct fx *f = *state;
    assert_int_equal(suppress(f->st, KEY_A, "ann@example.org", SUPPRESSION_BOUNCE, T0,
                              "550 5.1.1 no such user", f->cid),
                     1);
    assert_int_equal(
        suppress(f->st, KEY_A, "ann@example.org", SUPPRESSION_COMPLAINT, T0 + 9, "later", 0), 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, KEY_A, &e), 0);
    assert_int_equal(e.kind, SUPPRESSION_BOUNCE);
    assert_int_equal(e.created_at, T0);
    assert_string_equal(e.reason, "550 5.1.1 no such user");
    suppression_entry_release(&e);
    int64_t n = -1;
    assert_int_equal(store_suppression_count(f->st, &n), 0);
    assert_int_equal(n, 1);
}

static void suppression_campaign_counts_count_added_bounces_and_complaints_only(void **state)
{
    struct fx *f = *state;
    int64_t other = add_campaign(f, "other");
    int64_t b = -1, c = -1;
    assert_int_equal(store_suppression_campaign_counts(f->st, f->cid, &b, &c), 0);
    assert_int_equal(b, 0);
    assert_int_equal(c, 0);
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_BOUNCE, T0, "", f->cid);
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_COMPLAINT, T0, "", f->cid); /* listed */
    suppress(f->st, KEY_B, "b@example.org", SUPPRESSION_COMPLAINT, T0, "", f->cid);
    suppress(f->st, KEY_C, "c@example.org", SUPPRESSION_TEMPORARY, T0, "", f->cid);
    suppress(f->st, KEY_D, "d@example.org", SUPPRESSION_MANUAL, T0, "", f->cid);
    suppress(f->st, KEY_E, "e@example.org", SUPPRESSION_COMPLAINT, T0, "", other);
    suppress(f->st, KEY_F, "f@example.org", SUPPRESSION_BOUNCE, T0, "", 0);
    assert_int_equal(store_suppression_campaign_counts(f->st, f->cid, &b, &c), 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 1);
    assert_int_equal(store_suppression_campaign_counts(f->st, other, &b, &c), 0);
    assert_int_equal(b, 0);
    assert_int_equal(c, 1);
    /* a removal lowers nothing */
    int removed = -1;
    assert_int_equal(store_suppression_remove(f->st, KEY_B, &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(store_suppression_campaign_counts(f->st, f->cid, &b, &c), 0);
    assert_int_equal(c, 1);
}

static void suppression_add_in_the_callers_transaction_is_undone_by_its_rollback(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_BOUNCE, T0, "", f->cid),
                     1);
    store_rollback(f->st);
    int found = -1;
    assert_int_equal(store_suppression_exists(f->st, KEY_A, &found), 0);
    assert_int_equal(found, 0);
    int64_t b = -1, c = -1;
    assert_int_equal(store_suppression_campaign_counts(f->st, f->cid, &b, &c), 0);
    assert_int_equal(b, 0);
}

static void suppression_remove_takes_the_entry_off_and_says_whether_there_was_one(void **state)
{
    struct fx *f = *state;
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_MANUAL, T0, "asked", 0);
    int removed = -1;
    assert_int_equal(store_suppression_remove(f->st, KEY_A, &removed), 0);
    assert_int_equal(removed, 1);
    int found = -1;
    assert_int_equal(store_suppression_exists(f->st, KEY_A, &found), 0);
    assert_int_equal(found, 0);
    assert_int_equal(store_suppression_remove(f->st, KEY_A, &removed), 0);
    assert_int_equal(removed, 0);
    /* it may be added again, as new */
    assert_int_equal(suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_BOUNCE, T0 + 1, "", 0), 1);
}

static void suppression_forget_address_keeps_the_entry_without_its_address(void **state)
{
    struct fx *f = *state;
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_BOUNCE, T0, "550", f->cid);
    int changed = -1;
    assert_int_equal(store_suppression_forget_address(f->st, KEY_A, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(store_suppression_forget_address(f->st, KEY_A, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(store_suppression_forget_address(f->st, KEY_B, &changed), 0);
    assert_int_equal(changed, 0);
    struct suppression_entry e;
    assert_int_equal(store_suppression_get(f->st, KEY_A, &e), 0);
    assert_null(e.address);
    assert_int_equal(e.kind, SUPPRESSION_BOUNCE);
    assert_string_equal(e.reason, "550");
    suppression_entry_release(&e);
    int found = -1;
    assert_int_equal(store_suppression_exists(f->st, KEY_A, &found), 0);
    assert_int_equal(found, 1);
}

struct walk {
    char keys[4][SUPPRESSION_KEY_HEX + 1];
    int null_address[4];
    size_t n;
    size_t stop_after;
};

static int walk_row(void *ctx, const struct suppression_entry *e)
{
    struct walk *w = ctx;
    if (w->n < 4) {
        snprintf(w->keys[w->n], sizeof w->keys[w->n], "%s", e->key);
        w->null_address[w->n] = e->address == NULL;
    }
    w->n++;
    return w->stop_after && w->n >= w->stop_after;
}

static void suppression_each_walks_every_entry_newest_first_and_stops_when_asked(void **state)
{
    struct fx *f = *state;
    suppress(f->st, KEY_B, "b@example.org", SUPPRESSION_BOUNCE, T0 + 1, "", 0);
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_MANUAL, T0 + 2, "", 0);
    suppress(f->st, KEY_C, NULL, SUPPRESSION_COMPLAINT, T0, "", 0);
    struct walk w = {0};
    assert_int_equal(store_suppression_each(f->st, walk_row, &w), 0);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.keys[0], KEY_A);
    assert_string_equal(w.keys[1], KEY_B);
    assert_string_equal(w.keys[2], KEY_C);
    assert_int_equal(w.null_address[2], 1);
    assert_int_equal(w.null_address[0], 0);
    struct walk two = {.stop_after = 2};
    assert_int_equal(store_suppression_each(f->st, walk_row, &two), 0);
    assert_int_equal(two.n, 2);
    int64_t n = -1;
    assert_int_equal(store_suppression_count(f->st, &n), 0);
    assert_int_equal(n, 3);
}

static void suppression_temporary_counts_within_the_window_and_starts_again_after(void **state)
{
    struct fx *f = *state;
    int64_t n = -1;
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0, T0 - 100, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0 + 50, T0 - 50, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_suppression_temporary(f->st, KEY_B, T0 + 50, T0 - 50, &n), 0);
    assert_int_equal(n, 1);
    /* the window began at T0, and T0 is still inside it */
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0 + 60, T0, &n), 0);
    assert_int_equal(n, 3);
    /* now it began before window_start: a new window, begun at now */
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0 + 200, T0 + 1, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0 + 210, T0 + 200, &n), 0);
    assert_int_equal(n, 2);
    /* a removal forgets the count */
    assert_int_equal(store_suppression_remove(f->st, KEY_A, NULL), 0);
    assert_int_equal(store_suppression_temporary(f->st, KEY_A, T0 + 220, T0 + 200, &n), 0);
    assert_int_equal(n, 1);
}

static void suppression_entries_are_seen_by_another_handle(void **state)
{
    struct fx *f = *state;
    struct store *other = open_other(f);
    suppress(f->st, KEY_A, "a@example.org", SUPPRESSION_BOUNCE, T0, "", 0);
    int found = -1;
    assert_int_equal(store_suppression_exists(other, KEY_A, &found), 0);
    assert_int_equal(found, 1);
    int64_t n = -1;
    assert_int_equal(store_suppression_temporary(other, KEY_B, T0, T0, &n), 0);
    assert_int_equal(store_suppression_temporary(f->st, KEY_B, T0 + 1, T0, &n), 0);
    assert_int_equal(n, 2);
}

static void webhook_claim_returns_queued_events_with_their_payloads(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_webhook_insert(f->st, f->cid, WEBHOOK_PLEDGE_CONFIRMED, "{\"n\":1}", T0),
                     0);
    assert_int_equal(
        store_webhook_insert(f->st, f->cid, WEBHOOK_ACTION_CLICKED, "{\"n\":2}", T0 + 1), 0);
    struct webhook_delivery d[4];
    size_t n = webhook_claim(f->st, "A", T0 + 1, 60, d, 4);
    assert_int_equal(n, 2);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[i].campaign_id, f->cid);
        assert_int_equal(d[i].attempts, 1);
        assert_non_null(d[i].payload);
        assert_int_equal(d[i].payload_len, strlen(d[i].payload));
        if (d[i].event == WEBHOOK_PLEDGE_CONFIRMED) {
            assert_string_equal(d[i].payload, "{\"n\":1}");
            seen |= 1;
        } else {
            assert_int_equal(d[i].event, WEBHOOK_ACTION_CLICKED);
            assert_string_equal(d[i].payload, "{\"n\":2}");
            seen |= 2;
        }
    }
    assert_int_equal(seen, 3);
    assert_true(d[0].id != d[1].id);
    webhook_release_all(d, n);
}

static void webhook_claim_skips_events_not_yet_due_and_takes_at_most_max(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            store_webhook_insert(f->st, f->cid, WEBHOOK_ACTION_CLICKED, "{}", T0 + 100), 0);
    struct webhook_delivery d[4];
    assert_int_equal(webhook_claim(f->st, "A", T0 + 99, 60, d, 4), 0);
    size_t n = webhook_claim(f->st, "A", T0 + 100, 60, d, 2);
    assert_int_equal(n, 2);
    webhook_release_all(d, n);
    n = webhook_claim(f->st, "A", T0 + 100, 60, d, 4);
    assert_int_equal(n, 1);
    webhook_release_all(d, n);
}

static void webhook_claim_skips_events_leased_by_another_until_the_lease_ends(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_webhook_insert(f->st, f->cid, WEBHOOK_ACTION_CLICKED, "{}", T0), 0);
    struct webhook_delivery d[4];
    size_t n = webhook_claim(f->st, "A", T0, 60, d, 4);
    assert_int_equal(n, 1);
    int64_t id = d[0].id;
    webhook_release_all(d, n);
    assert_int_equal(webhook_claim(f->st, "B", T0 + 59, 60, d, 4), 0);
    n = webhook_claim(f->st, "B", T0 + 60, 60, d, 4);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, id);
    assert_int_equal(d[0].attempts, 2);
    webhook_release_all(d, n);
}

static int64_t claimed_webhook(struct fx *f)
{
    assert_int_equal(store_webhook_insert(f->st, f->cid, WEBHOOK_PLEDGE_CONFIRMED, "{}", T0), 0);
    struct webhook_delivery d[2];
    size_t n = webhook_claim(f->st, "A", T0, 60, d, 2);
    assert_int_equal(n, 1);
    int64_t id = d[0].id;
    webhook_release_all(d, n);
    return id;
}

static void webhook_sent_settles_the_event(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_webhook(f);
    assert_int_equal(store_webhook_sent(f->st, id, 200, T0 + 1), 0);
    struct webhook_delivery d[2];
    assert_int_equal(webhook_claim(f->st, "B", T0 + 1000, 60, d, 2), 0);
}

static void webhook_retry_defers_the_event_to_next_at(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_webhook(f);
    assert_int_equal(store_webhook_retry(f->st, id, T0 + 300, 503, "unavailable"), 0);
    struct webhook_delivery d[2];
    assert_int_equal(webhook_claim(f->st, "B", T0 + 299, 60, d, 2), 0);
    size_t n = webhook_claim(f->st, "B", T0 + 300, 60, d, 2);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, id);
    assert_int_equal(d[0].attempts, 2);
    webhook_release_all(d, n);
}

static void webhook_failed_gives_the_event_up(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_webhook(f);
    assert_int_equal(store_webhook_failed(f->st, id, T0 + 1, 410, "gone"), 0);
    struct webhook_delivery d[2];
    assert_int_equal(webhook_claim(f->st, "B", T0 + 100000, 60, d, 2), 0);
}

static void webhook_release_gives_the_claim_back_without_counting_the_attempt(void **state)
{
    struct fx *f = *state;
    int64_t id = claimed_webhook(f);
    assert_int_equal(store_webhook_release(f->st, id), 0);
    struct webhook_delivery d[2];
    size_t n = webhook_claim(f->st, "B", T0, 60, d, 2);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, id);
    assert_int_equal(d[0].attempts, 1);
    webhook_release_all(d, n);
}

/* ======================= dashboard ======================= */

static void insert_clicks(struct fx *f, const struct click_record *k, size_t n)
{
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, k, n), 0);
    assert_int_equal(store_commit(f->st), 0);
}

/* ---------- the write-ahead log ---------- */

static void pledge_many(struct store *st, int64_t cid, const char *tag, int n)
{
    for (int i = 0; i < n; i++) {
        char email[64];
        snprintf(email, sizeof email, "%s%d@example.org", tag, i);
        pledge(st, cid, email, T0 + i);
    }
}

static void log_trim_empties_a_log_over_the_threshold_and_leaves_a_smaller_one(void **state)
{
    struct fx *f = *state;
    pledge_many(f->st, f->cid, "trim", 100);
    struct store_log_trim r;
    assert_int_equal(store_log_trim(f->st, INT64_MAX, 100, &r), 0);
    if (!r.applies) { /* no such log: nothing to keep small */
        assert_int_equal(r.bytes_before, 0);
        return;
    }
    assert_true(r.bytes_before > 0);
    assert_int_equal(r.trimmed, 0);
    assert_int_equal(r.bytes_after, r.bytes_before);

    assert_int_equal(store_log_trim(f->st, 0, 1000, &r), 0);
    assert_int_equal(r.trimmed, 1);
    assert_int_equal(r.busy, 0);
    assert_true(r.bytes_before > 0);
    assert_int_equal(r.bytes_after, 0);
    /* Nothing was lost on the way into the database. */
    struct store *other = open_other(f);
    struct store_inspect_counts n;
    assert_int_equal(store_inspect_counts(other, &n), 0);
    assert_int_equal(n.supporters, 100);
}

static void log_trim_waits_for_an_older_snapshot_at_most_wait_ms(void **state)
{
    struct fx *f = *state;
    struct store *reader = open_other(f);
    pledge_many(f->st, f->cid, "before", 10);
    assert_int_equal(store_read_begin(reader), 0);
    struct store_inspect_counts n;
    assert_int_equal(store_inspect_counts(reader, &n), 0); /* the snapshot is taken */
    assert_int_equal(n.supporters, 10);
    pledge_many(f->st, f->cid, "after", 10);

    struct store_log_trim r;
    int64_t t0 = monotonic_ms();
    assert_int_equal(store_log_trim(f->st, 0, 50, &r), 0);
    int64_t took = monotonic_ms() - t0;
    if (!r.applies) {
        store_read_end(reader);
        return;
    }
    assert_int_equal(r.busy, 1);
    assert_int_equal(r.trimmed, 0);
    assert_true(r.bytes_after > 0);
    assert_true(took >= 40 && took < 2000);
    /* The reader still sees its snapshot; once it ends, the log empties. */
    assert_int_equal(store_inspect_counts(reader, &n), 0);
    assert_int_equal(n.supporters, 10);
    store_read_end(reader);
    assert_int_equal(store_log_trim(f->st, 0, 1000, &r), 0);
    assert_int_equal(r.trimmed, 1);
    assert_int_equal(r.bytes_after, 0);
    assert_int_equal(store_inspect_counts(reader, &n), 0);
    assert_int_equal(n.supporters, 20);
}

static void inspect_integrity_is_ok_on_a_sound_database(void **state)
{
    struct fx *f = *state;
    pledge_many(f->st, f->cid, "sound", 20);
    struct store_inspect_integrity r;
    struct buf problems = BUF_INIT;
    assert_int_equal(store_inspect_integrity(f->st, &r, &problems), 0);
    if (r.applies) {
        assert_int_equal(r.ok, 1);
        assert_int_equal(problems.len, 0);
    }
    buf_release(&problems);
}

static void dashboard_bounds_are_0_without_pledges_or_activity(void **state)
{
    struct fx *f = *state;
    int64_t first = -1, activity = -1, last = -1;
    assert_int_equal(store_dashboard_bounds(f->st, f->cid, &first, &activity, &last), 0);
    assert_int_equal(first, 0);
    assert_int_equal(activity, 0);
    assert_int_equal(last, 0);
}

static void dashboard_bounds_give_the_first_pledge_and_the_span_of_launch_activity(void **state)
{
    struct fx *f = *state;
    int64_t a = import(f->st, f->cid, "a@example.org", T0 + 50);
    pledge(f->st, f->cid, "b@example.org", T0 + 10);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, a, f->launch), 0);
    struct outbox_item items[2];
    assert_int_equal(claim(f->st, "A", 0, f->launch, 60, items, 2), 1);
    assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", f->launch + 50), 0);
    struct click_record k[2] = {{f->cid, a, f->t[0], 0, f->launch + 100, 1, 0, 0},
                                {f->cid, a, f->t[0], 0, f->launch + 300, 0, 0, 0}};
    insert_clicks(f, k, 2);
    int64_t first = -1, activity = -1, last = -1;
    assert_int_equal(store_dashboard_bounds(f->st, f->cid, &first, &activity, &last), 0);
    assert_int_equal(first, T0 + 10);
    assert_int_equal(activity, f->launch + 50);
    assert_int_equal(last, f->launch + 300);
}

static void dashboard_pledges_counts_pledges_and_confirmations_per_bucket(void **state)
{
    struct fx *f = *state;
    const int64_t start = T0 + 1000;
    int64_t a = pledge(f->st, f->cid, "a@example.org", start - 50); /* before: bucket 0 */
    int64_t b = pledge(f->st, f->cid, "b@example.org", start + 10); /* bucket 0 */
    pledge(f->st, f->cid, "c@example.org", start + 150);            /* bucket 1 */
    pledge(f->st, f->cid, "d@example.org", start + 1000);           /* after: bucket 2 */
    assert_int_equal(store_pledge_mark_confirmed(f->st, a, start + 120), 0);
    assert_int_equal(store_pledge_mark_confirmed(f->st, b, start + 250), 0);
    int64_t pledged[3] = {0, 0, 0}, confirmed[3] = {10, 10, 10};
    assert_int_equal(store_dashboard_pledges(f->st, f->cid, start, 100, 3, pledged, confirmed), 0);
    assert_int_equal(pledged[0], 2);
    assert_int_equal(pledged[1], 1);
    assert_int_equal(pledged[2], 1);
    /* counts are added to what the arrays held */
    assert_int_equal(confirmed[0], 10);
    assert_int_equal(confirmed[1], 11);
    assert_int_equal(confirmed[2], 11);
}

static void dashboard_reminders_counts_reminders_by_state(void **state)
{
    struct fx *f = *state;
    int64_t s[4];
    for (int i = 0; i < 4; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.org", i);
        s[i] = import(f->st, f->cid, email, T0);
        assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s[i], f->launch), 0);
    }
    assert_int_equal(store_outbox_add(f->st, MAIL_WELCOME, f->cid, s[0], f->launch), 0);
    struct outbox_item items[8];
    assert_int_equal(claim(f->st, "A", 0, f->launch, 60, items, 8), 5);
    for (int i = 0; i < 5; i++) {
        if (items[i].kind != MAIL_REMINDER)
            continue;
        if (items[i].supporter_id == s[0])
            assert_int_equal(store_outbox_sent(f->st, items[i].id, "A", f->launch + 1), 0);
        else if (items[i].supporter_id == s[1])
            assert_int_equal(store_outbox_failed(f->st, items[i].id, "A", f->launch + 1, "550"), 0);
        else if (items[i].supporter_id == s[2])
            assert_int_equal(store_outbox_retry(f->st, items[i].id, "A", f->launch + 60, "451"), 0);
    }
    int64_t sent = -1, failed = -1, pending = -1;
    assert_int_equal(store_dashboard_reminders(f->st, f->cid, &sent, &failed, &pending), 0);
    assert_int_equal(sent, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(pending, 2); /* one deferred, one claimed */
}

static void dashboard_reminders_sent_counts_per_bucket_of_sent_time(void **state)
{
    struct fx *f = *state;
    static const int64_t sent_after[3] = {5, 95, 250};
    for (int i = 0; i < 3; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.org", i);
        int64_t s = import(f->st, f->cid, email, T0);
        assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, s, f->launch), 0);
        struct outbox_item items[2];
        assert_int_equal(claim(f->st, "A", 0, f->launch, 60, items, 2), 1);
        assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", f->launch + sent_after[i]), 0);
    }
    int64_t sent[2] = {0, 0};
    assert_int_equal(store_dashboard_reminders_sent(f->st, f->cid, f->launch, 100, 2, sent), 0);
    assert_int_equal(sent[0], 2);
    assert_int_equal(sent[1], 1); /* 250 is past the last bucket: counted in it */
}

static void dashboard_clicks_counts_per_target_and_bucket_and_ignores_other_targets(void **state)
{
    struct fx *f = *state;
    int64_t a = import(f->st, f->cid, "a@example.org", T0);
    const int64_t start = f->launch;
    struct click_record k[5] = {
        {f->cid, a, f->t[0], 0, start + 5, 1, 0, 0},  {f->cid, a, f->t[0], 0, start + 150, 0, 0, 0},
        {f->cid, a, f->t[1], 0, start + 50, 1, 0, 0}, {f->cid, a, f->t[2], 0, start + 5, 1, 0, 0},
        {f->cid, a, 0, 0, start + 6, 0, 0, 0},
    };
    insert_clicks(f, k, 5);
    const int64_t targets[2] = {f->t[1], f->t[0]};
    int64_t counts[4] = {0, 0, 0, 0};
    assert_int_equal(store_dashboard_clicks(f->st, f->cid, start, 100, 2, targets, 2, counts), 0);
    assert_int_equal(counts[0], 1); /* second, bucket 0 */
    assert_int_equal(counts[1], 0); /* second, bucket 1 */
    assert_int_equal(counts[2], 1); /* first, bucket 0 */
    assert_int_equal(counts[3], 1); /* first, bucket 1 */
}

static void dashboard_reports_since_counts_reports_at_or_after_since_per_target(void **state)
{
    struct fx *f = *state;
    int64_t a = pledge(f->st, f->cid, "a@example.org", T0);
    int64_t b = pledge(f->st, f->cid, "b@example.org", T0);
    int added;
    assert_int_equal(store_target_report_add(f->st, f->t[0], a, T0 + 100, &added), 0);
    assert_int_equal(store_target_report_add(f->st, f->t[0], b, T0 + 110, &added), 0);
    assert_int_equal(store_target_report_add(f->st, f->t[1], a, T0 + 99, &added), 0);
    assert_int_equal(store_target_report_add(f->st, f->t[2], a, T0 + 200, &added), 0);
    const int64_t targets[2] = {f->t[0], f->t[1]};
    int64_t counts[2] = {0, 0};
    assert_int_equal(store_dashboard_reports_since(f->st, f->cid, T0 + 100, targets, 2, counts), 0);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 0);
}

static void
dashboard_events_lists_closes_and_opens_newest_first_with_the_organizers_email(void **state)
{
    struct fx *f = *state;
    int64_t org = add_organizer(f->st, "o@example.org", "h");
    char actor[64];
    snprintf(actor, sizeof actor, "organizer:%lld", (long long)org);
    assert_int_equal(store_target_set_state(f->st, f->t[0], 0, "full", "cli", T0), 0);
    assert_int_equal(store_target_set_state(f->st, f->t[0], 1, "", actor, T0 + 10), 0);
    assert_int_equal(store_target_set_state(f->st, f->t[1], 0, "bounced", "reports", T0 + 20), 0);
    struct dashboard_event e[4];
    size_t n = 99;
    assert_int_equal(store_dashboard_events(f->st, f->cid, e, 4, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(e[0].at, T0 + 20);
    assert_string_equal(e[0].target, "second");
    assert_int_equal(e[0].open, 0);
    assert_string_equal(e[0].reason, "bounced");
    assert_string_equal(e[0].actor, "reports");
    assert_int_equal(e[1].at, T0 + 10);
    assert_string_equal(e[1].target, "first");
    assert_int_equal(e[1].open, 1);
    assert_string_equal(e[1].actor, "o@example.org");
    assert_int_equal(e[2].at, T0);
    assert_int_equal(e[2].open, 0);
    assert_string_equal(e[2].reason, "full");
    assert_string_equal(e[2].actor, "cli");
    assert_int_equal(store_dashboard_events(f->st, f->cid, e, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].at, T0 + 20);
    int64_t other = add_campaign(f, "other-day");
    assert_int_equal(store_dashboard_events(f->st, other, e, 4, &n), 0);
    assert_int_equal(n, 0);
}

/* ======================= the target limit ======================= */

static void a_campaign_of_1000_targets_is_applied_and_read_back_whole(void **state)
{
    struct fx *f = *state;
    struct buf targets = BUF_INIT;
    for (int i = 0; i < CAMPAIGN_MAX_TARGETS; i++)
        buf_printf(&targets, "%s{\"id\": \"t%04d\", \"kind\": \"bluesky\"%s}", i ? ", " : "", i,
                   i % 10 == 0 ? ", \"cap\": 7" : "");
    struct campaign *c = parse_campaign("big-day", "M", buf_cstr(&targets));
    buf_release(&targets);
    assert_int_equal(c->target_count, CAMPAIGN_MAX_TARGETS);
    enum apply_result applied;
    char err[256] = "";
    assert_int_equal(campaigns_apply(f->st, c, T0, &applied, err, sizeof err), 0);
    assert_int_equal(applied, APPLY_CREATED);
    campaign_free(c);
    struct campaign_row row = {0};
    assert_int_equal(store_campaign_get(f->st, "big-day", &row), 0);
    int64_t cid = row.id;
    campaign_row_release(&row);
    struct target_list l;
    assert_int_equal(store_targets(f->st, cid, &l), 0);
    assert_int_equal(l.count, CAMPAIGN_MAX_TARGETS);
    for (size_t i = 0; i < l.count; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%04d", (int)i);
        assert_string_equal(l.rows[i].key, key);
        assert_int_equal(l.rows[i].open, 1);
        assert_int_equal(l.rows[i].removed, 0);
        assert_int_equal(l.rows[i].cap, i % 10 == 0 ? 7 : -1);
    }
    int64_t last_id = l.rows[l.count - 1].id;
    target_list_release(&l);
    int64_t id = 0;
    int open = 0;
    assert_int_equal(store_target_find(f->st, cid, "t0999", &id, &open), 0);
    assert_int_equal(id, last_id);
}

/* ======================= concurrency ======================= */

#define CLAIM_ROWS 500
#define CLAIM_BATCH 7
#define THREAD_DEADLINE_MS 60000

/* Between two claims or takes a thread pauses as a sender or a click would
 * (composing, answering), so that the other threads get the lock in between
 * instead of waiting in the busy handler until one thread has done it all. */
static void pause_briefly(void)
{
    struct timespec pause = {0, 200 * 1000};
    nanosleep(&pause, NULL);
}

struct claimer {
    const char *location;
    const char *owner;
    int64_t now;
    pthread_barrier_t *go;
    int64_t ids[CLAIM_ROWS];
    size_t n;
    int error; /* 0, or where it went wrong */
};

static void *claim_until_none_left(void *arg)
{
    struct claimer *c = arg;
    struct store *st = NULL;
    char err[256];
    if (store_open(c->location, &st, err, sizeof err) != 0)
        c->error = 1;
    pthread_barrier_wait(c->go);
    if (c->error)
        return NULL;
    int64_t deadline = monotonic_ms() + THREAD_DEADLINE_MS;
    for (int round = 0; round <= CLAIM_ROWS; round++) {
        struct outbox_item items[CLAIM_BATCH];
        size_t n = 0;
        if (store_outbox_claim(st, c->owner, 0, c->now, 900, items, CLAIM_BATCH, &n) != 0) {
            c->error = 2;
            break;
        }
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (c->n == CLAIM_ROWS) {
                c->error = 3; /* more claims than rows */
                break;
            }
            c->ids[c->n++] = items[i].id;
        }
        if (c->error)
            break;
        if (monotonic_ms() > deadline) {
            c->error = 4;
            break;
        }
        pause_briefly();
    }
    store_close(st);
    return NULL;
}

static void two_handles_claiming_500_due_rows_at_once_claim_each_exactly_once(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    for (int i = 0; i < CLAIM_ROWS; i++) {
        char email[32];
        snprintf(email, sizeof email, "c%03d@example.org", i);
        assert_int_equal(store_pledge_import(f->st, f->cid, email, "", "UTC", "yes", T0 - 1, T0),
                         0);
    }
    assert_int_equal(store_commit(f->st), 0);
    int64_t queued = 0;
    assert_int_equal(store_outbox_add_confirmed(f->st, f->cid, MAIL_REMINDER, f->launch, &queued),
                     0);
    assert_int_equal(queued, CLAIM_ROWS);

    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
    struct claimer *c = calloc(2, sizeof *c);
    assert_non_null(c);
    static const char *const owners[2] = {"host:101:1", "host:202:2"};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        c[i].location = f->db.location;
        c[i].owner = owners[i];
        c[i].now = f->launch;
        c[i].go = &go;
        assert_int_equal(pthread_create(&threads[i], NULL, claim_until_none_left, &c[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&go);
    assert_int_equal(c[0].error, 0);
    assert_int_equal(c[1].error, 0);

    int64_t *all = calloc(2 * CLAIM_ROWS, sizeof *all);
    assert_non_null(all);
    size_t total = 0;
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < c[i].n; j++)
            all[total++] = c[i].ids[j];
    size_t by_first = c[0].n, by_second = c[1].n;
    free(c);
    assert_int_equal(total, CLAIM_ROWS);
    qsort(all, total, sizeof all[0], cmp_i64);
    for (size_t i = 1; i < total; i++)
        if (all[i] == all[i - 1])
            fail_msg("outbox row %lld claimed twice", (long long)all[i]);
    free(all);
    print_message("claims: %zu by one handle, %zu by the other\n", by_first, by_second);
    /* every row is leased now: nothing left for a third owner */
    struct outbox_item items[4];
    assert_int_equal(claim(f->st, "host:303:3", 0, f->launch, 900, items, 4), 0);
    assert_int_equal(pending_of(f->st, f->cid, MAIL_REMINDER, f->launch, NULL), CLAIM_ROWS);
}

#define CAP 50
#define TAKERS 8
#define TAKER_SUPPORTERS 25 /* each: 8 x 25 = 200 supporters */

struct taker {
    const char *location;
    int64_t target;
    const int64_t *supporters; /* TAKER_SUPPORTERS of them */
    pthread_barrier_t *go;
    int taken[TAKER_SUPPORTERS];
    int error;
};

static void *take_places(void *arg)
{
    struct taker *t = arg;
    struct store *st = NULL;
    char err[256];
    if (store_open(t->location, &st, err, sizeof err) != 0)
        t->error = 1;
    pthread_barrier_wait(t->go);
    if (t->error)
        return NULL;
    int64_t deadline = monotonic_ms() + THREAD_DEADLINE_MS;
    for (int i = 0; i < TAKER_SUPPORTERS; i++) {
        t->taken[i] = -1;
        if (store_place_take(st, t->target, t->supporters[i], 0, &t->taken[i]) != 0) {
            t->error = 2;
            break;
        }
        if (monotonic_ms() > deadline) {
            t->error = 4;
            break;
        }
        pause_briefly();
    }
    store_close(st);
    return NULL;
}

static void eight_threads_taking_places_under_a_cap_of_50_take_exactly_50(void **state)
{
    struct fx *f = *state;
    struct campaign *c = parse_campaign("capped-day", "M", CAPPED_TARGET("capped", 50));
    int64_t cid = insert_campaign(f->st, c);
    campaign_free(c);
    int64_t target = 0;
    int open;
    assert_int_equal(store_target_find(f->st, cid, "capped", &target, &open), 0);
    assert_int_equal(target_of(f->st, cid, target).cap, CAP);

    int64_t supporters[TAKERS * TAKER_SUPPORTERS];
    assert_int_equal(store_begin(f->st), 0);
    for (int i = 0; i < TAKERS * TAKER_SUPPORTERS; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%03d@example.org", i);
        assert_int_equal(store_pledge_import(f->st, cid, email, "", "UTC", "yes", T0 - 1, T0), 0);
        struct pledge_state ps;
        assert_int_equal(store_pledge_find(f->st, cid, email, &ps), 0);
        supporters[i] = ps.id;
    }
    assert_int_equal(store_commit(f->st), 0);

    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, TAKERS), 0);
    struct taker t[TAKERS];
    memset(t, 0, sizeof t);
    pthread_t threads[TAKERS];
    for (int i = 0; i < TAKERS; i++) {
        t[i].location = f->db.location;
        t[i].target = target;
        t[i].supporters = supporters + i * TAKER_SUPPORTERS;
        t[i].go = &go;
        assert_int_equal(pthread_create(&threads[i], NULL, take_places, &t[i]), 0);
    }
    for (int i = 0; i < TAKERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&go);

    int taken = 0;
    for (int i = 0; i < TAKERS; i++) {
        assert_int_equal(t[i].error, 0);
        for (int j = 0; j < TAKER_SUPPORTERS; j++) {
            assert_true(t[i].taken[j] == 0 || t[i].taken[j] == 1);
            int64_t want = t[i].taken[j] ? target : 0;
            assert_int_equal(assigned_of(f->st, t[i].supporters[j]), want);
            taken += t[i].taken[j];
        }
    }
    assert_int_equal(taken, CAP);
    assert_int_equal(target_of(f->st, cid, target).places, CAP);
}

/* ======================= copy (store_copy.h, `muster migrate`) ======================= */

/* Every table's rows as text, one line a row, "\N" for NULL. */
static int serialize_row(void *ctx, const char *const *values, int count)
{
    struct buf *out = ctx;
    for (int i = 0; i < count; i++)
        buf_printf(out, "%s%s", i ? "|" : "", values[i] ? values[i] : "\\N");
    buf_printf(out, "\n");
    return 0;
}

static void dump_table(struct store *st, const struct store_copy_table *t, struct buf *out)
{
    assert_int_equal(store_copy_read(st, t, serialize_row, out), 0);
    assert_false(buf_failed(out));
}

/* Writes each row it is given to the store in ctx, one at a time. */
struct copy_to {
    struct store *to;
    const struct store_copy_table *t;
};

static int write_row(void *ctx, const char *const *values, int count)
{
    struct copy_to *c = ctx;
    assert_int_equal((size_t)count, c->t->ncolumns);
    assert_int_equal(store_copy_write(c->to, c->t, values, 1), 0);
    return 0;
}

/* Some of everything: pledges (one erased, so NULLs), a confirmation, a
 * sent reminder, a click, a closed target and a report, an organizer with
 * a role on the campaign, a session and an API token, a webhook event, the
 * secret. */
static void fill_every_table(struct fx *f, int64_t *pledged, int64_t *imported)
{
    unsigned char secret[32];
    assert_int_equal(store_secret(f->st, secret), 0);
    int64_t p = pledge(f->st, f->cid, "p@example.org", T0);
    int64_t i = import(f->st, f->cid, "i@example.org", T0);
    pledge(f->st, f->cid, "gone@example.org", T0 + 1);
    int erased = 0;
    assert_int_equal(store_pledges_erase(f->st, "gone@example.org", T0 + 2, &erased), 0);
    assert_int_equal(erased, 1);
    assert_int_equal(store_pledge_mark_confirmed(f->st, p, T0 + 5), 0);
    assert_int_equal(store_outbox_add(f->st, MAIL_REMINDER, f->cid, i, T0 + 6), 0);
    struct outbox_item items[2];
    assert_int_equal(claim(f->st, "A", f->cid, T0 + 7, 60, items, 2), 1);
    assert_int_equal(store_outbox_sent(f->st, items[0].id, "A", T0 + 8), 0);
    struct click_record k = {f->cid, p, f->t[1], 0, f->launch + 10, 1, 0, 0};
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_clicks_insert(f->st, &k, 1), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_target_set_state(f->st, f->t[2], 0, "inbox full", "cli", T0 + 9), 0);
    int added = 0;
    assert_int_equal(store_target_report_add(f->st, f->t[1], p, T0 + 10, &added), 0);
    int64_t o = add_organizer(f->st, "o@example.org", "hash");
    assert_int_equal(store_organizer_set_role(f->st, o, ORGANIZER_ADMIN), 0);
    assert_int_equal(store_grant_set(f->st, f->cid, o, CAMPAIGN_ROLE_EDITOR, T0 + 11), 0);
    assert_int_equal(store_session_create(f->st, o, "session-hash", T0, T0 + 3600), 0);
    int64_t tid = 0;
    assert_int_equal(store_api_token_create(f->st, o, "token-hash", T0, T0 + 3600, &tid), 0);
    assert_int_equal(store_webhook_insert(f->st, f->cid, WEBHOOK_PLEDGE_CONFIRMED, "{\"n\":1}", T0),
                     0);
    *pledged = p;
    *imported = i;
}

static void copy_check_finds_every_table_and_column_of_the_schema_in_the_copy_list(void **state)
{
    struct fx *f = *state;
    struct buf unknown = BUF_INIT;
    assert_int_equal(store_copy_check(f->st, &unknown), 0);
    /* A migration that adds a table or a column adds it to store_copy.c. */
    if (unknown.len)
        fail_msg("not in store_copy.c's list: %s", buf_cstr(&unknown));
    buf_release(&unknown);
    /* And every listed table and column exists. */
    size_t n;
    const struct store_copy_table *t = store_copy_tables(&n);
    assert_true(n >= 13);
    for (size_t i = 0; i < n; i++) {
        struct buf rows = BUF_INIT;
        dump_table(f->st, &t[i], &rows);
        buf_release(&rows);
    }
}

static void copy_read_stops_when_the_row_function_says_so(void **state)
{
    struct fx *f = *state;
    size_t n;
    const struct store_copy_table *t = store_copy_tables(&n);
    const struct store_copy_table *targets = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, "targets") == 0)
            targets = &t[i];
    assert_non_null(targets);
    struct rows r;
    memset(&r, 0, sizeof r);
    r.stop_after = 2;
    assert_true(store_copy_read(f->st, targets, collect_row, &r) != 0);
    assert_int_equal(r.count, 2);
    /* In id order: the fixture's first and second targets. */
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)f->t[0]);
    assert_string_equal(r.cell[0][0], id);
    assert_string_equal(r.cell[0][2], "first");
    assert_string_equal(r.cell[1][2], "second");
}

static void open_empty_makes_the_newest_schema_and_takes_an_unused_one_of_this_version(void **state)
{
    struct fx *f = *state;
    struct conformance_db db;
    memset(&db, 0, sizeof db);
    assert_int_equal(f->be->make(&db), 0);
    struct store *to = NULL;
    char err[512] = "";
    if (store_open_empty(db.location, &to, err, sizeof err) != 0)
        fail_msg("store_open_empty: %s", err);
    assert_int_equal(store_schema_version(to), store_schema_version(f->st));
    store_close(to);
    /* Its schema, with no row, is still a target (a copy that failed left
     * it): opening again changes nothing. */
    to = NULL;
    assert_int_equal(store_open_empty(db.location, &to, err, sizeof err), 0);
    size_t n;
    const struct store_copy_table *t = store_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        int64_t count = -1;
        assert_int_equal(store_copy_count(to, &t[i], &count), 0);
        assert_int_equal(count, 0);
    }
    store_close(to);
    f->be->remove(&db);
}

static void copy_moves_every_row_and_the_copy_serves_them_with_ids_after_the_copied(void **state)
{
    struct fx *f = *state;
    int64_t p, i;
    fill_every_table(f, &p, &i);
    struct conformance_db db;
    memset(&db, 0, sizeof db);
    assert_int_equal(f->be->make(&db), 0);
    struct store *to = NULL;
    char err[512] = "";
    if (store_open_empty(db.location, &to, err, sizeof err) != 0)
        fail_msg("store_open_empty: %s", err);
    size_t n;
    const struct store_copy_table *t = store_copy_tables(&n);
    assert_int_equal(store_begin(to), 0);
    for (size_t k = 0; k < n; k++) {
        struct copy_to c = {to, &t[k]};
        assert_int_equal(store_copy_read(f->st, &t[k], write_row, &c), 0);
        assert_int_equal(store_copy_finish(to, &t[k]), 0);
    }
    assert_int_equal(store_commit(to), 0);

    /* Every table, row for row, value for value. */
    for (size_t k = 0; k < n; k++) {
        struct buf a = BUF_INIT, b = BUF_INIT;
        dump_table(f->st, &t[k], &a);
        dump_table(to, &t[k], &b);
        if (strcmp(buf_cstr(&a), buf_cstr(&b)) != 0)
            fail_msg("table %s differs:\n%s---\n%s", t[k].name, buf_cstr(&a), buf_cstr(&b));
        int64_t ca = -1, cb = -1;
        assert_int_equal(store_copy_count(f->st, &t[k], &ca), 0);
        assert_int_equal(store_copy_count(to, &t[k], &cb), 0);
        assert_int_equal(ca, cb);
        buf_release(&a);
        buf_release(&b);
    }
    /* The copy answers as the original: the secret, a token key, stats,
     * the organizer's session and token. */
    unsigned char s1[32], s2[32];
    assert_int_equal(store_secret(f->st, s1), 0);
    assert_int_equal(store_secret(to, s2), 0);
    assert_memory_equal(s1, s2, 32);
    struct supporter a = supporter_of(f->st, p);
    struct supporter b;
    assert_int_equal(store_supporter_by_key(to, a.token_key, &b), 0);
    assert_int_equal(b.id, p);
    assert_string_equal(b.email, "p@example.org");
    assert_int_equal(b.epoch, a.epoch);
    supporter_release(&a);
    supporter_release(&b);
    struct campaign_stats sa = stats_of(f->st, f->cid), sb = stats_of(to, f->cid);
    assert_memory_equal(&sa, &sb, sizeof sa);
    int64_t organizer = 0;
    assert_int_equal(store_session_organizer(to, "session-hash", T0 + 1, &organizer), 0);
    struct api_token_row tok;
    assert_int_equal(store_api_token_find(to, "token-hash", T0 + 1, &tok), 0);
    assert_int_equal(tok.organizer_id, organizer);
    /* New rows get ids after the copied ones (the sequences moved on). */
    int64_t q = pledge(to, f->cid, "new@example.org", T0 + 20);
    assert_true(q > i);
    int64_t tid2 = 0;
    assert_int_equal(store_api_token_create(to, organizer, "token-2", T0, T0 + 3600, &tid2), 0);
    assert_true(tid2 > tok.id);
    assert_int_equal(store_outbox_add(to, MAIL_CONFIRM, f->cid, q, T0 + 21), 0);
    int64_t cid2 = add_campaign_on(to, "second-campaign");
    assert_true(cid2 > f->cid);
    store_close(to);
    f->be->remove(&db);
}

/* ======================= registration ======================= */

struct conformance_case {
    const char *name;
    CMUnitTestFunction run;
};

#define CASE(fn)                                                                                   \
    {                                                                                              \
#fn, fn                                                                                    \
    }

static const struct conformance_case cases[] = {
    /* handle and backend */
    CASE(backend_name_is_the_name_in_the_backend_table),
    CASE(supports_exactly_the_capabilities_in_the_backend_table),
    CASE(schema_version_is_positive_and_stays_when_reopened),
    CASE(ping_answers_0),
    CASE(secret_is_made_once_and_every_handle_reads_the_same),
    CASE(data_version_moves_when_another_handle_commits),
    CASE(a_handle_that_asked_its_data_version_sees_and_writes_after_another_commit),
    /* transactions */
    CASE(commit_makes_a_transactions_writes_visible_to_other_handles),
    CASE(rollback_undoes_every_write_of_the_transaction),
    CASE(savepoint_end_without_keep_undoes_only_the_savepoint),
    CASE(a_checked_savepoint_undoes_only_the_job_whose_write_failed),
    CASE(a_held_write_that_fails_fails_the_commit_and_the_handle_goes_on),
    CASE(a_commit_with_a_held_write_that_fails_commits_nothing),
    CASE(a_group_with_a_failing_job_commits_every_other_job),
    CASE(a_group_with_a_repledge_gives_every_job_its_own_outcome),
    CASE(a_guessed_pledge_insert_commits_the_pledge_and_its_mail),
    CASE(a_wrong_guess_fails_the_transaction_and_keeps_nothing),
    CASE(a_read_transaction_sees_one_snapshot_until_read_end),
    CASE(set_durable_takes_both_modes_and_commits_still_land),
    /* shared read snapshot */
    CASE(snapshot_enter_begins_one_then_reuses_it_with_the_same_id),
    CASE(snapshot_after_end_is_a_new_one_with_a_new_id),
    CASE(a_reused_snapshot_does_not_see_a_later_commit_and_a_new_one_does),
    CASE(snapshot_expire_ends_an_old_snapshot_and_keeps_a_young_one),
    CASE(after_snapshot_end_the_handle_writes_again),
    /* campaigns */
    CASE(campaign_get_returns_the_inserted_campaign),
    CASE(campaign_get_of_an_unknown_slug_is_not_found_and_sets_nothing),
    CASE(campaign_peek_by_slug_or_id_returns_the_row_without_its_file),
    CASE(campaign_peek_of_an_unknown_campaign_is_not_found),
    CASE(campaign_get_by_id_returns_the_campaign_or_not_found),
    CASE(campaign_slugs_appends_one_line_per_campaign),
    CASE(campaign_insert_of_an_existing_slug_is_a_conflict_and_changes_nothing),
    CASE(campaign_update_replaces_file_moment_and_window_and_bumps_the_revision),
    CASE(campaign_language_is_kept_and_replaced_by_an_update),
    CASE(campaign_update_of_an_unknown_campaign_is_not_found),
    CASE(campaign_mark_launched_marks_only_once),
    CASE(campaign_mark_launched_with_move_to_now_moves_the_moment_once),
    CASE(campaigns_due_lists_unlaunched_campaigns_within_their_launch_window),
    CASE(campaigns_due_gives_at_most_max),
    CASE(campaigns_missed_lists_unlaunched_campaigns_whose_window_ended),
    CASE(campaign_pause_is_set_once_read_back_and_cleared_by_resume),
    CASE(outbox_claim_skips_the_launch_mail_of_a_paused_campaign_until_resumed),
    CASE(outbox_renew_hands_back_an_item_whose_campaign_was_paused),
    CASE(confirmed_count_adds_every_delta),
    /* targets */
    CASE(targets_lists_every_target_in_file_order_with_fresh_counters),
    CASE(targets_replace_marks_dropped_targets_removed_and_lists_them_last),
    CASE(targets_replace_revives_a_removed_target_with_its_id_and_counters),
    CASE(target_find_gives_the_id_and_whether_it_is_open),
    CASE(target_find_of_an_unknown_or_removed_key_is_not_found),
    CASE(target_key_gives_the_key_of_an_id_or_not_found),
    CASE(target_set_state_closes_and_opens_with_a_reason_and_bumps_the_revision),
    CASE(target_report_add_counts_once_per_supporter_and_target),
    CASE(target_reports_since_counts_the_reports_made_after_since),
    CASE(place_take_assigns_the_supporter_and_takes_a_place),
    CASE(place_take_on_a_full_target_takes_nothing),
    CASE(place_take_for_an_assigned_supporter_takes_no_second_place),
    CASE(place_take_releases_the_previous_targets_place),
    CASE(place_take_on_a_full_target_keeps_the_previous_place),
    CASE(place_take_without_a_cap_always_takes),
    CASE(place_take_for_an_unknown_supporter_is_not_found),
    CASE(place_take_for_an_erased_supporter_is_not_found),
    CASE(place_take_in_the_callers_transaction_is_undone_by_its_rollback),
    /* supporters and pledges */
    CASE(pledge_insert_stores_a_pending_pledge_as_given),
    CASE(pledge_insert_mailed_queues_the_confirmation_and_counts_it),
    CASE(pledge_insert_of_the_same_address_in_another_case_is_a_conflict),
    CASE(the_same_address_pledges_once_in_each_campaign),
    CASE(supporter_by_key_finds_the_supporter_of_a_token_key),
    CASE(supporter_by_id_of_an_unknown_id_is_not_found),
    CASE(pledge_find_matches_the_address_case_insensitively),
    CASE(pledge_find_of_an_address_without_a_pledge_here_is_not_found),
    CASE(pledge_count_mail_is_read_back_by_pledge_find),
    CASE(pledge_mark_confirmed_confirms_at_now),
    CASE(pledge_import_stores_a_confirmed_pledge_from_import),
    CASE(pledge_import_of_an_address_that_pledged_is_a_conflict),
    CASE(pledge_hold_change_numbers_each_change_and_load_change_reads_the_newest),
    CASE(pledge_hold_change_keeps_the_details_until_apply_change),
    CASE(pledge_apply_change_without_a_held_change_changes_nothing),
    CASE(pledge_unsubscribe_sets_the_time_only_once),
    CASE(pledge_resubscribe_clears_the_unsubscribe),
    CASE(set_instance_is_read_back),
    CASE(pledges_erase_removes_every_pledge_of_the_address_and_keeps_the_counts),
    CASE(an_erased_address_may_pledge_again),
    CASE(pledges_erase_removes_the_address_from_stored_relay_replies),
    /* clicks */
    CASE(clicks_insert_writes_rows_that_the_clicks_export_gives_back),
    CASE(supporter_assign_sets_the_assigned_target),
    CASE(target_counters_add_adds_and_assigned_never_goes_below_0),
    /* outbox */
    CASE(outbox_add_queues_a_mail_that_is_claimed_with_its_details),
    CASE(outbox_add_queues_a_welcome_only_once),
    CASE(outbox_add_queues_a_reminder_only_once),
    CASE(outbox_add_queues_no_welcome_once_one_was_sent),
    CASE(outbox_add_queues_every_confirmation_mail),
    CASE(outbox_add_confirmed_queues_for_confirmed_subscribed_supporters_without_one),
    CASE(outbox_add_confirmed_a_second_time_queues_nothing),
    CASE(campaign_moved_raises_the_sequence_and_starts_the_steps_again),
    CASE(campaigns_ahead_lists_campaigns_within_the_horizon_until_their_window_ends),
    CASE(outbox_add_variant_queues_once_per_supporter_kind_and_variant),
    CASE(outbox_add_variant_without_click_skips_who_followed_a_link),
    CASE(outbox_add_variant_refuses_a_kind_without_variants),
    CASE(outbox_add_confirmed_refuses_a_kind_that_is_not_once_only),
    CASE(outbox_owed_counts_what_add_confirmed_would_queue),
    CASE(outbox_claim_skips_mail_not_yet_due),
    CASE(outbox_claim_skips_items_leased_by_another_until_the_lease_ends),
    CASE(outbox_claim_of_one_campaign_leaves_the_others),
    CASE(outbox_claim_takes_at_most_max_items),
    CASE(outbox_lease_owners_lists_the_owners_of_unexpired_leases),
    CASE(outbox_lease_drop_ends_every_lease_of_one_owner),
    CASE(outbox_renew_extends_only_the_owners_lease),
    CASE(outbox_renew_of_a_settled_item_is_not_ours),
    CASE(outbox_renew_and_sent_of_a_list_answer_per_item),
    CASE(outbox_outcomes_in_a_rows_transaction_commit_and_roll_back),
    CASE(suppression_exists_many_answers_each_key),
    CASE(supporters_by_ids_reads_each_and_says_which_are_gone),
    CASE(supporters_by_keys_reads_each_and_says_which_are_gone),
    CASE(outbox_sent_settles_the_item),
    CASE(outbox_retry_defers_the_item_to_next_at),
    CASE(outbox_defer_puts_the_item_back_without_counting_the_attempt),
    CASE(outbox_failed_gives_the_item_up),
    CASE(outbox_cancel_makes_the_item_no_longer_owed),
    CASE(outbox_cancel_of_a_sent_item_leaves_it_sent),
    CASE(outbox_cancel_supporter_cancels_one_kind_or_every_kind),
    CASE(outbox_cancel_email_cancels_the_mail_of_every_pledge_of_the_address),
    CASE(outbox_pending_counts_by_campaign_and_kind_and_what_is_ready),
    /* stats and exports */
    CASE(stats_count_pledges_confirmations_unsubscribes_reminders_and_clicks),
    CASE(export_supporters_gives_twelve_columns_per_supporter_in_pledge_order),
    CASE(exports_stop_when_the_row_callback_returns_non_zero),
    /* organizers */
    CASE(organizer_set_password_creates_then_replaces),
    CASE(organizer_get_of_an_unknown_email_is_not_found),
    CASE(session_organizer_finds_the_organizer_until_the_session_expires),
    CASE(session_delete_ends_the_session),
    CASE(a_new_password_ends_the_organizers_sessions),
    CASE(api_token_find_finds_the_token_until_it_expires),
    CASE(api_tokens_are_listed_touched_and_revoked_per_organizer),
    CASE(a_new_password_deletes_the_organizers_api_tokens),
    CASE(a_new_organizer_is_plain_until_given_a_role),
    CASE(grants_are_set_replaced_listed_and_deleted_per_campaign),
    /* webhooks */
    CASE(webhook_claim_returns_queued_events_with_their_payloads),
    CASE(webhook_claim_skips_events_not_yet_due_and_takes_at_most_max),
    CASE(webhook_claim_skips_events_leased_by_another_until_the_lease_ends),
    CASE(webhook_sent_settles_the_event),
    CASE(webhook_retry_defers_the_event_to_next_at),
    CASE(webhook_failed_gives_the_event_up),
    CASE(webhook_release_gives_the_claim_back_without_counting_the_attempt),
    /* suppression list */
    CASE(suppression_add_stores_the_entry_that_get_reads_back),
    CASE(suppression_add_of_a_listed_key_keeps_the_first_entry),
    CASE(suppression_campaign_counts_count_added_bounces_and_complaints_only),
    CASE(suppression_add_in_the_callers_transaction_is_undone_by_its_rollback),
    CASE(suppression_remove_takes_the_entry_off_and_says_whether_there_was_one),
    CASE(suppression_forget_address_keeps_the_entry_without_its_address),
    CASE(suppression_each_walks_every_entry_newest_first_and_stops_when_asked),
    CASE(suppression_temporary_counts_within_the_window_and_starts_again_after),
    CASE(suppression_entries_are_seen_by_another_handle),
    CASE(outbox_suppressed_settles_the_item_as_suppressed_and_it_is_counted),
    CASE(suppression_campaign_mail_counts_every_kind_of_one_campaign),
    /* the write-ahead log, the structure check */
    CASE(log_trim_empties_a_log_over_the_threshold_and_leaves_a_smaller_one),
    CASE(log_trim_waits_for_an_older_snapshot_at_most_wait_ms),
    CASE(inspect_integrity_is_ok_on_a_sound_database),
    /* dashboard */
    CASE(dashboard_bounds_are_0_without_pledges_or_activity),
    CASE(dashboard_bounds_give_the_first_pledge_and_the_span_of_launch_activity),
    CASE(dashboard_pledges_counts_pledges_and_confirmations_per_bucket),
    CASE(dashboard_reminders_counts_reminders_by_state),
    CASE(dashboard_reminders_sent_counts_per_bucket_of_sent_time),
    CASE(dashboard_clicks_counts_per_target_and_bucket_and_ignores_other_targets),
    CASE(dashboard_reports_since_counts_reports_at_or_after_since_per_target),
    CASE(dashboard_events_lists_closes_and_opens_newest_first_with_the_organizers_email),
    /* the target limit */
    CASE(a_campaign_of_1000_targets_is_applied_and_read_back_whole),
    /* concurrency */
    CASE(two_handles_claiming_500_due_rows_at_once_claim_each_exactly_once),
    CASE(eight_threads_taking_places_under_a_cap_of_50_take_exactly_50),
    /* copy (muster migrate) */
    CASE(copy_check_finds_every_table_and_column_of_the_schema_in_the_copy_list),
    CASE(copy_read_stops_when_the_row_function_says_so),
    CASE(open_empty_makes_the_newest_schema_and_takes_an_unused_one_of_this_version),
    CASE(copy_moves_every_row_and_the_copy_serves_them_with_ids_after_the_copied),
};

#define NCASES (sizeof cases / sizeof cases[0])

int main(void)
{
    unsigned char secret[TOKEN_SECRET_LEN] = {1};
    if (token_init(secret) != 0)
        return 1;

    /* What holds whatever the backend: choosing one, and the campaign file's limit. */
    const struct CMUnitTest any_backend[] = {
        cmocka_unit_test(store_open_of_an_unreachable_postgres_says_so_without_the_password),
        cmocka_unit_test(store_location_redact_hides_every_form_of_password),
        cmocka_unit_test(store_location_check_takes_postgres_forms_and_connects_to_nothing),
        cmocka_unit_test(store_location_backend_names_the_backend_of_each_form),
        cmocka_unit_test(store_open_refuses_an_unknown_scheme_naming_it),
        cmocka_unit_test(store_open_refuses_an_empty_location_or_sqlite_without_a_path),
        cmocka_unit_test(store_open_accepts_sqlite_colon_path_as_that_file),
        cmocka_unit_test(
            store_location_check_refuses_what_store_open_refuses_with_the_same_message),
        cmocka_unit_test(store_location_check_takes_a_sqlite_location_and_opens_nothing),
        cmocka_unit_test(campaign_parse_refuses_1001_targets_naming_the_limit),
    };
    int failed = _cmocka_run_group_tests("store conformance: any backend", any_backend,
                                         sizeof any_backend / sizeof any_backend[0], NULL, NULL);

    /* Every case against every backend, the backend as each case's state. */
    static struct CMUnitTest tests[NCASES];
    for (size_t b = 0; b < sizeof conformance_backends / sizeof conformance_backends[0]; b++) {
        const struct conformance_backend *be = &conformance_backends[b];
        const char *why_not = be->unavailable();
        if (why_not) {
            printf("\n!! SKIPPED: store conformance: %s: %s\n\n", be->name, why_not);
            fflush(stdout);
            continue;
        }
        for (size_t i = 0; i < NCASES; i++)
            tests[i] =
                (struct CMUnitTest){cases[i].name, cases[i].run, setup, teardown, (void *)be};
        char group[64];
        snprintf(group, sizeof group, "store conformance: %s", be->name);
        failed += _cmocka_run_group_tests(group, tests, NCASES, NULL, NULL);
    }
    return failed;
}
