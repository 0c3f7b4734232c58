/*
 * store_inspect: `store-inspect [--db PATH] QUESTION [ARGS]`, a test-only tool
 * that answers questions about a muster database on stdout as one JSON value,
 * for what no user-facing command shows (tests/README.md, "How e2e tests look
 * at state"). It asks the store through its public API (store.h and
 * store_inspect.h) and never runs SQL itself, so the same end-to-end tests run
 * against every backend. The database is --db PATH, else $MUSTER_DB; it must
 * exist (a typo must not create an empty one that answers "nothing").
 *
 * Exit codes: 0 answered, 1 the store failed (the reason on stderr), 2 usage.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_inspect.h"
#include "store/store_suppression.h"
#include "core/banned.h"

#define USAGE                                                                                      \
    "usage: store-inspect [--db PATH] QUESTION [ARGS]\n"                                           \
    "questions:\n"                                                                                 \
    "  count [campaigns|supporters|outbox|clicks|webhook-events]\n"                                \
    "  campaigns                       every campaign with its stored file and targets\n"          \
    "  supporter EMAIL                 the supporter with this address, or null\n"                 \
    "  outbox [--kind confirm|welcome|reminder] [--email EMAIL]\n"                                 \
    "  webhook-events\n"                                                                           \
    "  secret-hex                      the server secret, as hex\n"                                \
    "  checkpoint                      empty the write-ahead log (where there is one)\n"           \
    "  integrity                       the database's own structure check (where there is one)\n"  \
    "fault injections (tests only):\n"                                                             \
    "  set-email EMAIL NEW             store NEW as the supporter's address\n"                     \
    "  set-leases UNTIL                move every claimed pending outbox lease to UNTIL\n"         \
    "  set-instance EMAIL HOST         store HOST as the supporter's Mastodon instance, "          \
    "unchecked\n"

/* Set when a part of the answer could not be built (a string that is not
 * UTF-8, no memory): the answer is then refused instead of printed with a
 * hole in it. */
static int answer_broken;

static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (!v) {
        answer_broken = 1;
        return json_null();
    }
    return v;
}

/* Appends v (taking it) to list; -1 when v or the append failed. */
static int append(json_t *list, json_t *v)
{
    if (!v || json_array_append_new(list, v) != 0) {
        answer_broken = 1;
        return -1;
    }
    return 0;
}

static int usage_error(const char *what)
{
    if (what)
        fprintf(stderr, "store-inspect: %s\n", what);
    fputs(USAGE, stderr);
    return 2;
}

static int store_failed(const char *what)
{
    fprintf(stderr, "store-inspect: %s failed\n", what);
    return 1;
}

/* Prints the answer (takes ownership of it). */
static int answer(json_t *v)
{
    if (!v || answer_broken) {
        json_decref(v);
        fputs("store-inspect: the answer could not be built (a string that is not UTF-8?)\n",
              stderr);
        return 1;
    }
    int rc = json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return store_failed("writing the answer");
    return 0;
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static const char *kind_name(enum mail_kind kind)
{
    return kind == MAIL_CONFIRM    ? "confirm"
           : kind == MAIL_WELCOME  ? "welcome"
           : kind == MAIL_REMINDER ? "reminder"
                                   : "unknown";
}

/* ---- questions ---- */

static int ask_count(struct store *st, int argc, char **argv)
{
    if (argc > 2)
        return usage_error("count takes at most one kind of row");
    struct store_inspect_counts c;
    if (store_inspect_counts(st, &c) != 0)
        return store_failed("count");
    static const char *const names[] = {"campaigns", "supporters", "outbox", "clicks",
                                        "webhook-events"};
    const int64_t values[] = {c.campaigns, c.supporters, c.outbox, c.clicks, c.webhook_events};
    if (argc == 1) {
        json_t *all = json_object();
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            json_object_set_new(all, names[i], json_integer(values[i]));
        return answer(all);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(argv[1], names[i]) == 0)
            return answer(json_integer(values[i]));
    return usage_error("count: unknown kind of row");
}

static json_t *campaign_json(struct store *st, const struct campaign_row *row)
{
    json_t *targets = json_array();
    struct target_list list;
    if (store_targets(st, row->id, &list) != 0) {
        json_decref(targets);
        return NULL;
    }
    const struct target_row *t = list.rows;
    for (size_t i = 0; i < list.count; i++)
        append(targets, json_pack("{s:o, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "key",
                                  jstr(t[i].key), "open", t[i].open, "removed", t[i].removed, "cap",
                                  (json_int_t)t[i].cap, "assigned", (json_int_t)t[i].assigned,
                                  "clicks", (json_int_t)t[i].clicks, "rerouted",
                                  (json_int_t)t[i].rerouted, "reports", (json_int_t)t[i].reports,
                                  "places", (json_int_t)t[i].places, "reason", jstr(t[i].reason)));
    target_list_release(&list);
    return json_pack("{s:I, s:o, s:o, s:I, s:I, s:i, s:I, s:o}", "id", (json_int_t)row->id, "slug",
                     jstr(row->slug), "spec_json", jstr(row->spec_json), "launch_utc",
                     (json_int_t)row->launch_utc, "launched_at", (json_int_t)row->launched_at,
                     "window_minutes", row->window_minutes, "revision", (json_int_t)row->revision,
                     "targets", targets);
}

static int ask_campaigns(struct store *st, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("campaigns takes no arguments");
    struct buf slugs = BUF_INIT;
    if (store_campaign_slugs(st, &slugs) != 0) {
        buf_release(&slugs);
        return store_failed("campaigns");
    }
    json_t *list = json_array();
    int rc = 0;
    char *save = NULL;
    for (char *slug = slugs.data ? strtok_r(slugs.data, "\n", &save) : NULL; slug && rc == 0;
         slug = strtok_r(NULL, "\n", &save)) {
        struct campaign_row row;
        json_t *c = NULL;
        if (store_campaign_get(st, slug, &row) == 0) {
            c = campaign_json(st, &row);
            campaign_row_release(&row);
        }
        if (!c)
            rc = -1;
        else
            append(list, c);
    }
    buf_release(&slugs);
    if (rc != 0) {
        json_decref(list);
        return store_failed("campaigns");
    }
    return answer(list);
}

static int ask_supporter(struct store *st, int argc, char **argv)
{
    if (argc != 2)
        return usage_error("supporter takes one address");
    int64_t id = 0;
    int rc = store_inspect_supporter_id(st, argv[1], &id);
    if (rc == STORE_NOT_FOUND)
        return answer(json_null());
    struct supporter s;
    if (rc != 0 || (rc = store_supporter_by_id(st, id, &s)) != 0)
        return rc == STORE_NOT_FOUND ? answer(json_null()) : store_failed("supporter");
    json_t *v = json_pack(
        "{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:I, s:I, s:b}", "id",
        (json_int_t)s.id, "campaign_id", (json_int_t)s.campaign_id, "token_key",
        (json_int_t)s.token_key, "epoch", (json_int_t)s.epoch, "email", jstr(s.email), "name",
        jstr(s.name), "statement", jstr(s.statement), "timezone", jstr(s.timezone), "chosen_target",
        jstr(s.chosen_target), "instance", jstr(s.instance), "confirmed", s.confirmed,
        "confirmed_at", (json_int_t)s.confirmed_at, "unsubscribed_at",
        (json_int_t)s.unsubscribed_at, "assigned_target", (json_int_t)s.assigned_target,
        "has_pending_change", s.has_pending_change);
    supporter_release(&s);
    return answer(v);
}

static int outbox_row(void *ctx, const struct store_inspect_outbox_row *r)
{
    return append(ctx,
                  json_pack("{s:I, s:s, s:I, s:I, s:o, s:o, s:I, s:i, s:I, s:I, s:I, s:o}", "id",
                            (json_int_t)r->id, "kind", kind_name(r->kind), "campaign_id",
                            (json_int_t)r->campaign_id, "supporter_id", (json_int_t)r->supporter_id,
                            "state", jstr(r->state), "owner", jstr(r->owner), "lease_until",
                            (json_int_t)r->lease_until, "attempts", r->attempts, "next_at",
                            (json_int_t)r->next_at, "created_at", (json_int_t)r->created_at,
                            "sent_at", (json_int_t)r->sent_at, "last_reply", jstr(r->last_reply)));
}

static int ask_outbox(struct store *st, int argc, char **argv)
{
    enum mail_kind kind = 0;
    const char *email = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage_error("outbox: an option without its value");
        if (strcmp(argv[i], "--email") == 0) {
            email = argv[i + 1];
        } else if (strcmp(argv[i], "--kind") == 0) {
            const char *k = argv[i + 1];
            kind = strcmp(k, "confirm") == 0    ? MAIL_CONFIRM
                   : strcmp(k, "welcome") == 0  ? MAIL_WELCOME
                   : strcmp(k, "reminder") == 0 ? MAIL_REMINDER
                                                : 0;
            if (!kind)
                return usage_error("outbox: --kind is confirm, welcome or reminder");
        } else {
            return usage_error("outbox: unknown option");
        }
    }
    json_t *rows = json_array();
    if (store_inspect_outbox(st, kind, email, outbox_row, rows) != 0) {
        json_decref(rows);
        return store_failed("outbox");
    }
    return answer(rows);
}

static int webhook_row(void *ctx, const struct store_inspect_webhook_row *r)
{
    return append(ctx,
                  json_pack("{s:I, s:I, s:o, s:o, s:i, s:I, s:o, s:I, s:i, s:o, s:I, s:I}", "id",
                            (json_int_t)r->id, "campaign_id", (json_int_t)r->campaign_id, "event",
                            jstr(r->event), "state", jstr(r->state), "attempts", r->attempts,
                            "next_at", (json_int_t)r->next_at, "owner", jstr(r->owner),
                            "lease_until", (json_int_t)r->lease_until, "last_status",
                            r->last_status, "last_error", jstr(r->last_error), "created_at",
                            (json_int_t)r->created_at, "done_at", (json_int_t)r->done_at));
}

static int ask_webhook_events(struct store *st, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("webhook-events takes no arguments");
    json_t *rows = json_array();
    if (store_inspect_webhook_events(st, webhook_row, rows) != 0) {
        json_decref(rows);
        return store_failed("webhook-events");
    }
    return answer(rows);
}

static int ask_secret_hex(struct store *st, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("secret-hex takes no arguments");
    unsigned char secret[32];
    if (store_secret(st, secret) != 0)
        return store_failed("secret-hex");
    char hex[65];
    for (size_t i = 0; i < sizeof secret; i++)
        snprintf(hex + 2 * i, 3, "%02x", secret[i]);
    return answer(json_string(hex));
}

static int suppression_row(void *ctx, const struct suppression_entry *e)
{
    const char *kind = suppression_kind_name(e->kind);
    json_t *row =
        json_pack("{s:s?, s:s, s:s, s:I, s:I}", "address", e->address, "kind",
                  kind ? kind : "unknown", "reason", e->reason ? e->reason : "", "campaign_id",
                  (json_int_t)e->campaign_id, "created_at", (json_int_t)e->created_at);
    return row && json_array_append_new(ctx, row) == 0 ? 0 : -1;
}

static int ask_suppressions(struct store *st, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("suppressions takes no arguments");
    json_t *rows = json_array();
    if (!rows || store_suppression_each(st, suppression_row, rows) != 0) {
        json_decref(rows);
        return store_failed("suppressions");
    }
    return answer(rows);
}

static int ask_checkpoint(struct store *st, int argc, char **argv)
{
    if (argc != 1)
        return usage_error("checkpoint takes no arguments");
    struct store_inspect_checkpoint c;
    if (store_inspect_checkpoint(st, &c) != 0)
        return store_failed("checkpoint");
    if (!c.applies)
        return answer(json_pack("{s:b}", "applies", 0));
    return answer(json_pack("{s:b, s:b, s:I, s:I, s:I}", "applies", 1, "busy", c.busy, "log_frames",
                            (json_int_t)c.log_frames, "moved_frames", (json_int_t)c.moved_frames,
                            "log_bytes", (json_int_t)c.log_bytes));
}

static int ask_integrity(struct store *st, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage_error("integrity takes no arguments");
    struct store_inspect_integrity r;
    struct buf problems;
    buf_init(&problems, 0);
    if (store_inspect_integrity(st, &r, &problems) != 0) {
        buf_release(&problems);
        return store_failed("integrity");
    }
    json_t *v = r.applies ? json_pack("{s:b, s:b, s:o}", "applies", 1, "ok", r.ok, "problems",
                                      jstr(buf_cstr(&problems)))
                          : json_pack("{s:b}", "applies", 0);
    buf_release(&problems);
    return answer(v);
}

static int inject_set_email(struct store *st, int argc, char **argv)
{
    if (argc != 3)
        return usage_error("set-email takes the address and the new one");
    int64_t changed = 0;
    if (store_inspect_set_email(st, argv[1], argv[2], &changed) != 0)
        return store_failed("set-email");
    return answer(json_pack("{s:I}", "changed", (json_int_t)changed));
}

static int inject_set_leases(struct store *st, int argc, char **argv)
{
    int64_t until = 0;
    if (argc != 2 || parse_int64(argv[1], &until) != 0)
        return usage_error("set-leases takes a time in seconds since 1970");
    int64_t changed = 0;
    if (store_inspect_set_leases(st, until, &changed) != 0)
        return store_failed("set-leases");
    return answer(json_pack("{s:I}", "changed", (json_int_t)changed));
}

/* An instance stored without the page's checks, as an older muster could
 * have stored it. */
static int inject_set_instance(struct store *st, int argc, char **argv)
{
    if (argc != 3)
        return usage_error("set-instance takes the address and the host");
    int64_t id;
    int rc = store_inspect_supporter_id(st, argv[1], &id);
    if (rc == STORE_NOT_FOUND)
        return answer(json_pack("{s:I}", "changed", (json_int_t)0));
    if (rc != 0 || store_set_instance(st, id, argv[2]) != 0)
        return store_failed("set-instance");
    return answer(json_pack("{s:I}", "changed", (json_int_t)1));
}

static const struct question {
    const char *name;
    int (*run)(struct store *st, int argc, char **argv);
} questions[] = {
    {"count", ask_count},
    {"campaigns", ask_campaigns},
    {"supporter", ask_supporter},
    {"outbox", ask_outbox},
    {"webhook-events", ask_webhook_events},
    {"secret-hex", ask_secret_hex},
    {"suppressions", ask_suppressions},
    {"checkpoint", ask_checkpoint},
    {"integrity", ask_integrity},
    {"set-email", inject_set_email},
    {"set-leases", inject_set_leases},
    {"set-instance", inject_set_instance},
};

int main(int argc, char **argv)
{
    const char *db = getenv("MUSTER_DB");
    int i = 1;
    if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (i + 1 < argc && strcmp(argv[i], "--db") == 0) {
        db = argv[i + 1];
        i += 2;
    }
    if (i >= argc)
        return usage_error(NULL);
    const struct question *q = NULL;
    for (size_t k = 0; k < sizeof questions / sizeof questions[0]; k++)
        if (strcmp(questions[k].name, argv[i]) == 0)
            q = &questions[k];
    if (!q)
        return usage_error("unknown question");
    if (!db || !*db)
        return usage_error("no database: --db PATH or MUSTER_DB");
    /* store_open would make a new SQLite file: ask only an existing one (a
     * PostgreSQL database must exist anyway). */
    const char *backend = store_location_backend(db);
    if (backend && strcmp(backend, "sqlite") == 0 && access(db, F_OK) != 0) {
        char shown[512];
        store_location_redact(db, shown, sizeof shown);
        fprintf(stderr, "store-inspect: no database at %s\n", shown);
        return 1;
    }
    struct store *st = NULL;
    char err[512];
    if (store_open(db, &st, err, sizeof err) != 0) {
        fprintf(stderr, "store-inspect: %s\n", err);
        return 1;
    }
    int rc = q->run(st, argc - i, argv + i);
    store_close(st);
    return rc;
}
