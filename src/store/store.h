/*
 * store: everything muster keeps, behind one opaque handle (after lwan's
 * struct db). The SQLite implementation is store_sqlite.c; the schema and its
 * versioned migrations are in migrations.c. A handle belongs to one thread at a
 * time: every thread opens its own (SQLite connections are cheap).
 *
 * Every function returns 0 on success, STORE_NOT_FOUND when the thing asked
 * for does not exist, STORE_CONFLICT when a rule refused the change, and -1 on
 * a database error (logged). Output parameters are set only on success.
 * Strings handed out are owned by the caller and freed with the matching
 * *_release function.
 */
#ifndef MUSTER_STORE_STORE_H
#define MUSTER_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define STORE_NOT_FOUND 1
#define STORE_CONFLICT 2

struct store;
struct campaign;

/* Opens (creating if needed) and migrates the database at path. */
int store_open(const char *path, struct store **out, char *err, size_t err_len);
void store_close(struct store *st);
/* The schema version after migration. */
int store_schema_version(struct store *st);
/* 0 when the database answers a query. */
int store_ping(struct store *st);
/* Loads the server secret, creating it on first use. */
int store_secret(struct store *st, unsigned char secret[32]);
/* A number that changes whenever another connection commits (PRAGMA
 * data_version), so caches can tell that a command changed something. */
int64_t store_data_version(struct store *st);

/* ---- campaigns ---- */
struct campaign_row {
    int64_t id;
    char *slug;
    char *spec_json;     /* the canonical campaign file */
    int64_t launch_utc;  /* the launch moment (moved to "now" by a manual launch) */
    int64_t launched_at; /* 0 until reminders were queued */
    int window_minutes;
    int64_t revision;    /* bumped by every apply */
};
void campaign_row_release(struct campaign_row *r);

enum apply_result { APPLY_UNCHANGED, APPLY_CREATED, APPLY_UPDATED };
/* Creates or updates the campaign and its targets in one transaction. A
 * launched campaign's message is frozen: STORE_CONFLICT with a reason in err. */
int store_campaign_apply(struct store *st, const struct campaign *c, int64_t now,
                         enum apply_result *result, char *err, size_t err_len);
int store_campaign_get(struct store *st, const char *slug, struct campaign_row *out);
/* The same without the campaign file (spec_json NULL): for caches that only
 * need to know whether the revision moved. */
int store_campaign_peek(struct store *st, const char *slug, int64_t id, struct campaign_row *out);
int store_campaign_get_by_id(struct store *st, int64_t id, struct campaign_row *out);
/* Appends one slug per line. */
int store_campaign_slugs(struct store *st, struct buf *out);

/* ---- targets ---- */
struct target_row {
    int64_t id;
    char key[65];     /* the target's id in the campaign file */
    int open;         /* 1 open, 0 closed */
    int removed;      /* no longer in the campaign file */
    long cap;         /* -1: none */
    int64_t assigned; /* supporters assigned */
    int64_t clicks;
    int64_t reports;  /* "did not accept my action" reports */
    int64_t rerouted; /* supporters moved away from it because it closed */
    char reason[256]; /* last close/open reason */
};
/* Fills up to max rows in file order; *n gets the count. */
int store_targets(struct store *st, int64_t campaign_id, struct target_row *rows, size_t max,
                  size_t *n);
/* Closes or opens a target and records the event. STORE_NOT_FOUND when the
 * target does not exist; no-op (0) when it already is in that state. */
int store_target_set_open(struct store *st, int64_t campaign_id, const char *target_key, int open,
                          const char *reason, const char *actor, int64_t now, int *changed);
/* Records a supporter's report that the target did not accept the action.
 * When threshold > 0 and the reports within window_seconds reach it, closes
 * the target; *closed_now tells. */
int store_target_report(struct store *st, int64_t campaign_id, int64_t supporter_id,
                        const char *target_key, int threshold, int window_seconds, int64_t now,
                        int *closed_now);

/* ---- supporters ---- */
struct pledge_input {
    const char *email;      /* validated, will be lowercased for matching */
    const char *name;       /* may be "" */
    const char *statement;  /* may be "" */
    const char *timezone;   /* validated IANA name */
    const char *target;     /* chosen target key under "choose", else NULL */
    const char *consent_text; /* the consent sentence shown */
    const char *client_ip;
};
enum pledge_outcome {
    PLEDGE_NEW,               /* new pending supporter, confirmation queued */
    PLEDGE_UPDATED_PENDING,   /* still unconfirmed: details replaced, confirmation queued */
    PLEDGE_CHANGE_PENDING,    /* confirmed: change held until confirmed again */
    PLEDGE_MAIL_SUPPRESSED,   /* as above, but the per-address mail limit held the mail back */
};
/* Records a pledge durably and queues the confirmation mail in the same
 * transaction. At most mail_limit confirmation mails per address per day. */
int store_pledge(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                 int mail_limit, int64_t now, enum pledge_outcome *outcome);
/* The same inside a transaction the caller opened (group commit). */
int store_pledge_in_tx(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                       int mail_limit, int64_t now, enum pledge_outcome *outcome);

struct supporter {
    int64_t id;
    int64_t campaign_id;
    int64_t token_key;
    uint32_t epoch;
    char *email;      /* NULL once erased */
    char *name;
    char *statement;
    char *timezone;
    char *chosen_target;   /* "choose" mode */
    char *instance;        /* remembered mastodon instance */
    int confirmed;
    int64_t confirmed_at;
    int64_t unsubscribed_at;
    int64_t assigned_target; /* 0: none */
    int has_pending_change;
};
void supporter_release(struct supporter *s);
int store_supporter_by_key(struct store *st, int64_t token_key, struct supporter *out);
int store_supporter_by_id(struct store *st, int64_t id, struct supporter *out);

enum confirm_outcome { CONFIRM_NEW, CONFIRM_CHANGE_APPLIED, CONFIRM_ALREADY };
/* Confirms (idempotent), applies a held change, queues the "you're in" mail
 * on the first confirmation, and the reminder when the campaign is launched
 * and within its window. */
int store_confirm(struct store *st, int64_t supporter_id, int64_t now,
                  enum confirm_outcome *outcome);
/* Unsubscribes from reminders; cancels a queued, unsent reminder. */
int store_unsubscribe(struct store *st, int64_t supporter_id, int64_t now);
int store_set_instance(struct store *st, int64_t supporter_id, const char *instance);
/* Removes a person's data (by email, every campaign); keeps anonymous counts.
 * *count gets the number of pledges erased. */
int store_supporter_erase(struct store *st, const char *email, int64_t now, int *count);

/* ---- one click ---- */
struct click_record {
    int64_t campaign_id;
    int64_t supporter_id;
    int64_t target_id;        /* 0: none (the "all" mode, or no open target) */
    int64_t previous_target;  /* the closed target a reroute moved away from, or 0 */
    int64_t at;
    int assigned;             /* target_id is a new assignment */
    int rerouted;
};
/* Writes a batch of clicks and the assignments they made in one transaction:
 * the click rows, supporters.assigned_target, and the targets' assigned,
 * clicks and rerouted counters. */
int store_record_clicks(struct store *st, const struct click_record *clicks, size_t n);
/* Chooses how a connection commits: 1 = synchronous=FULL (durable across power
 * loss: pledges, confirmations), 0 = NORMAL (durable across a killed process,
 * not a power cut: click batches, outbox marks). */
int store_set_durable(struct store *st, int full);

/* ---- launch and outbox ---- */
/* Moves the launch moment to now when move_to_now and it has not launched,
 * marks the campaign launched and queues one reminder per confirmed,
 * subscribed supporter (never twice). *queued gets the number added. */
int store_launch(struct store *st, int64_t campaign_id, int move_to_now, int64_t now,
                 int64_t *queued);
/* Campaigns whose launch moment has come and that have not launched. */
int store_due_launches(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);

enum mail_kind { MAIL_CONFIRM = 1, MAIL_WELCOME = 2, MAIL_REMINDER = 3, MAIL_KIND_COUNT };

struct outbox_item {
    int64_t id;
    enum mail_kind kind;
    int64_t supporter_id;
    int64_t campaign_id;
    int attempts;
};
/* Claims up to max due items for owner (a lease until now + lease_seconds),
 * taking over expired leases and leases of dead processes on this host. */
int store_outbox_claim(struct store *st, const char *owner, int64_t campaign_id_or_0,
                       int64_t now, int lease_seconds, struct outbox_item *items, size_t max,
                       size_t *n);
/* Extends owner's lease on an item just before it is sent; *ours is 0 when
 * the item is no longer owner's (its lease ran out and another sender took
 * it, or it was settled), and then it must not be sent. */
int store_outbox_renew(struct store *st, int64_t item_id, const char *owner, int64_t lease_until,
                       int *ours);
/* Outcomes, each committed before the next message goes out. */
int store_outbox_sent(struct store *st, int64_t item_id, const char *owner, int64_t now);
int store_outbox_retry(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply);
int store_outbox_failed(struct store *st, int64_t item_id, const char *owner, int64_t now,
                        const char *reply);
/* The item is no longer owed (its supporter unsubscribed or was erased). */
int store_outbox_cancel(struct store *st, int64_t item_id);
/* Reminders a launch would queue now (confirmed, subscribed, none queued). */
int store_launch_owed(struct store *st, int64_t campaign_id, int64_t *owed);
/* Items neither sent, failed nor cancelled (kind 0: any kind); *ready gets
 * those not deferred to a later retry (due now, possibly claimed). */
int store_outbox_pending(struct store *st, int64_t campaign_id_or_0, enum mail_kind kind,
                         int64_t now, int64_t *pending, int64_t *ready);

/* ---- stats ---- */
struct campaign_stats {
    int64_t pledges;
    int64_t confirmed;
    int64_t unsubscribed;
    int64_t reminders_sent;
    int64_t reminders_failed;
    int64_t reminders_pending;
    int64_t clicks;
    int64_t supporters_clicked;
    int64_t reroutes;
};
int store_stats(struct store *st, int64_t campaign_id, struct campaign_stats *out);
/* Confirmed pledges (a counter kept by confirm and import: one row read). */
int store_confirmed_count(struct store *st, int64_t campaign_id, int64_t *count);


/* ---- data out and in ---- */
/* Calls row(ctx, values, count) for each supporter (columns: email, name,
 * statement, timezone, status, pledged_at, confirmed_at, unsubscribed_at,
 * consent_at, consent_text, source, target) or each click (columns: at,
 * target, rerouted, email). Times are ISO 8601 UTC. Erased people export as
 * empty personal fields. A non-zero return from row stops the walk. */
typedef int (*store_row_fn)(void *ctx, const char *const *values, int count);
int store_export_supporters(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int store_export_clicks(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
/* Imports one supporter with recorded consent, as confirmed (source
 * 'import'). STORE_CONFLICT when the address already pledged. */
int store_import_supporter(struct store *st, int64_t campaign_id, const char *email,
                           const char *name, const char *timezone, const char *consent_text,
                           int64_t consent_at, int64_t now);

/* Groups many writes (an import, a group commit) into one transaction; a
 * savepoint lets one job of a group fail without undoing the others. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_savepoint(struct store *st);
int store_savepoint_end(struct store *st, int keep);
/* A read transaction around several reads: one snapshot, and one round of
 * WAL read locks instead of one per statement (the one-click path reads the
 * supporter, the campaign's revision and sometimes the targets). Only reads
 * may run in between; store_read_end ends it. */
int store_read_begin(struct store *st);
void store_read_end(struct store *st);

/* A shared read snapshot: one read transaction that consecutive requests on
 * this handle reuse while it is younger than max_age_us, so clicks that come
 * close together pay one round of WAL locks instead of one each (what group
 * commit is to writes, this is to reads). A change committed elsewhere is
 * seen by every snapshot begun after it, so at most max_age_us late.
 *
 * store_snapshot_enter reuses the open snapshot or begins a new one (1: new,
 * 0: reused, -1: error) and holds the handle until store_snapshot_leave,
 * which leaves the snapshot open; only reads may run in between.
 * store_snapshot_end ends it: call it before any other use of the handle.
 * store_snapshot_expire may be called from another thread: it ends a snapshot
 * older than max_age_us that nobody holds, never waits, and returns 1 while
 * one is still open. */
int store_snapshot_enter(struct store *st, int64_t max_age_us);
void store_snapshot_leave(struct store *st);
void store_snapshot_end(struct store *st);
int store_snapshot_expire(struct store *st, int64_t max_age_us);
/* For the holder of a snapshot (between enter and leave): equal ids mean the
 * same snapshot, so whatever was read in it still holds. 0 when none is open. */
uint64_t store_snapshot_id(struct store *st);

/* ---- organizers ---- */
/* Creates the organizer, or replaces the password of an existing one (which
 * ends all their sessions). *created tells which. */
int store_organizer_set_password(struct store *st, const char *email, const char *password_hash,
                                 int64_t now, int *created);
/* The organizer's id and password hash (caller frees *password_hash). */
int store_organizer_get(struct store *st, const char *email, int64_t *id, char **password_hash);
int store_session_create(struct store *st, int64_t organizer_id, const char *token_hash,
                         int64_t now, int64_t expires_at);
int store_session_delete(struct store *st, const char *token_hash);
int store_session_organizer(struct store *st, const char *token_hash, int64_t now,
                            int64_t *organizer_id);
int store_api_token_create(struct store *st, int64_t organizer_id, const char *token_hash,
                           int64_t now);
int store_api_token_organizer(struct store *st, const char *token_hash, int64_t *organizer_id);

#endif
