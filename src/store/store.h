/*
 * store: what muster keeps, behind one handle whatever the database. A store
 * stores and retrieves rows and offers the few atomic operations the rules
 * need (claim due outbox rows with a lease, take one place under a target's
 * cap, insert-if-absent, launch once); it never decides what a pledge, a
 * confirmation or a launch means: those rules live once, above it, in
 * src/service/. Each function here calls the backend chosen by store_open
 * through its table of functions (store_backend.h; SQLite in store_sqlite*.c).
 *
 * A handle belongs to one thread at a time: every thread opens its own.
 * Every function returns 0 on success, STORE_NOT_FOUND when the thing asked
 * for does not exist, STORE_CONFLICT when an atomic operation found the row
 * not as required, and -1 on a database error (logged). Output parameters
 * are set only on success. Strings handed out are owned by the caller and
 * freed with the matching *_release function.
 */
#ifndef MUSTER_STORE_STORE_H
#define MUSTER_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/campaign.h"
#include "core/buf.h"
#include "core/i18n.h"

#define STORE_NOT_FOUND 1
#define STORE_CONFLICT 2
/* store_savepoint_end(STORE_SAVEPOINT_CHECK): one of the job's writes
 * failed, and the job was undone alone (the transaction goes on). */
#define STORE_UNDONE 3

struct store;

/* What a backend can do beyond the operations every backend offers
 * (store_supports), as curl's TLS backends say with their `supports` bits. */
enum store_capability {
    /* Consecutive reads may share one read transaction (store_snapshot_*);
     * without it the snapshot calls are plain per-request reads. */
    STORE_SUPPORTS_SHARED_SNAPSHOT = 1u << 0,
    /* store_data_version is a cheap change counter for other connections'
     * commits. */
    STORE_SUPPORTS_DATA_VERSION = 1u << 1,
    /* The database is one local file: every writer runs on this host, so a
     * lease owner's pid can be checked. */
    STORE_SUPPORTS_LOCAL_ONLY = 1u << 2,
    /* Every statement is a round trip to a server, and a read of many rows
     * in one statement (store_supporters_by_keys) costs about one row's: a
     * caller that can wait for its neighbours reads with them. */
    STORE_SUPPORTS_BATCHED_READS = 1u << 3,
};

/* Opens (creating if needed) and migrates the database named by location:
 * a path or "sqlite:PATH" for SQLite; a "postgres://" or "postgresql://"
 * URL, or libpq's key=value pairs ("host=/run/pg dbname=muster": the
 * location begins with a lowercase keyword and '='), for PostgreSQL, whose
 * database must exist. Messages in err never show a password. */
int store_open(const char *location, struct store **out, char *err, size_t err_len);
/* store_open for a database that must hold nothing yet (`muster migrate`'s
 * target): STORE_CONFLICT, with what was found in err and nothing touched,
 * when it holds any table (PostgreSQL: in the schema muster would use, the
 * first of its search_path; SQLite: in the file) other than muster's own of
 * exactly this version (whose rows the caller counts: opening it changes
 * nothing); else as store_open, which makes the schema by the normal
 * migrations. */
int store_open_empty(const char *location, struct store **out, char *err, size_t err_len);
/* 0 when a backend takes location; -1 with the reason in err (bad input:
 * nothing was opened, nothing was connected to). */
int store_location_check(const char *location, char *err, size_t err_len);
/* The name of the backend that would open location ("sqlite", "postgres"),
 * NULL when none takes it; nothing is opened. */
const char *store_location_backend(const char *location);
/* The location as it may be shown or logged: a password in a URL's user
 * part, in its query (password=) or in a key=value pair becomes "***". */
void store_location_redact(const char *location, char *out, size_t n);
void store_close(struct store *st);
/* The backend's name ("sqlite", "postgres") and whether it has a capability. */
const char *store_backend_name(const struct store *st);
int store_supports(const struct store *st, enum store_capability cap);
/* The schema version after migration. */
int store_schema_version(struct store *st);
/* 0 when the database answers a query. */
int store_ping(struct store *st);
/* Loads the server secret, creating it on first use (insert-if-absent). */
int store_secret(struct store *st, unsigned char secret[32]);
/* A number that changes whenever another connection commits (backends with
 * STORE_SUPPORTS_DATA_VERSION; others return -1). */
int64_t store_data_version(struct store *st);

/* ---- transactions ---- */
/* A write transaction around several operations (the service layer's
 * rules run inside one); a savepoint lets one job of a group fail without
 * undoing the others (group commit). */
int store_begin(struct store *st);
/* A write transaction whose operations each change only the rows they name
 * and decide nothing from other rows (the mail sender's outcomes and lease
 * renewals): a backend whose writers otherwise take turns may run it beside
 * them (PostgreSQL: without the write lock, under row locks); on the others
 * it is store_begin. Ended by store_commit or store_rollback. */
int store_begin_rows(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_savepoint(struct store *st);
/* keep: 0 undoes the job; 1 keeps it, and a backend that holds writes to
 * send them with later statements (PostgreSQL) may report a failure of one
 * only later, losing the transaction; STORE_SAVEPOINT_CHECK keeps it and
 * checks its writes now. 0, STORE_UNDONE (see above), or -1: the transaction
 * is lost. */
#define STORE_SAVEPOINT_CHECK 2
int store_savepoint_end(struct store *st, int keep);
/* A read transaction around several reads: one snapshot. Only reads may run
 * in between; store_read_end ends it. */
int store_read_begin(struct store *st);
void store_read_end(struct store *st);
/* Chooses how a connection commits: 1 = durable across power loss
 * (pledges, confirmations), 0 = durable across a killed process, not a power
 * cut (click batches, outbox marks). */
int store_set_durable(struct store *st, int full);
/* With on, an insert-if-absent that a database server would answer with a
 * round trip of its own (store_pledge_insert_mailed) may return 0 at once,
 * guessing the row is new (its id then 0), and go to the server with a later
 * statement: when the guess is wrong, that statement or the commit fails and
 * nothing of the transaction is kept. So a caller turns it on only when it
 * runs a failed transaction again with it off (the group commit's first
 * pass). Off when opened; SQLite never guesses (its answer costs no trip). */
void store_set_guessing(struct store *st, int on);

/* A shared read snapshot: one read transaction that consecutive requests on
 * this handle reuse while it is younger than max_age_us, so clicks that come
 * close together pay one round of locks instead of one each (what group
 * commit is to writes, this is to reads). A change committed elsewhere is
 * seen by every snapshot begun after it, so at most max_age_us late.
 *
 * store_snapshot_enter reuses the open snapshot or begins a new one (1: new,
 * 0: reused, -1: error) and holds the handle until store_snapshot_leave,
 * which leaves the snapshot open; only reads may run in between.
 * store_snapshot_end ends it: call it before any other use of the handle.
 * store_snapshot_expire ends a snapshot older than max_age_us that nobody
 * holds, never waits, and returns 1 while one is still open. */
int store_snapshot_enter(struct store *st, int64_t max_age_us);
void store_snapshot_leave(struct store *st);
void store_snapshot_end(struct store *st);
int store_snapshot_expire(struct store *st, int64_t max_age_us);
/* For the holder of a snapshot (between enter and leave): equal ids mean the
 * same snapshot, so whatever was read in it still holds. 0 when none is open. */
uint64_t store_snapshot_id(struct store *st);

/* The write-ahead log, for a backend that keeps one in a file beside the
 * database (SQLite's PATH-wal), which grows with every commit until it is
 * moved into the database and started over. store_log_trim does that when
 * the log is larger than above_bytes: it moves every frame into the
 * database and empties the file, waiting at most wait_ms for the writer of
 * the moment and for readers of older snapshots (new writers wait while it
 * works; readers never do). applies is 0 for a backend without such a log
 * (the rest is then 0); trimmed is 1 when the log was emptied, busy 1 when
 * a writer or a reader kept it from finishing in time (try again later);
 * bytes_before and bytes_after are the file's sizes. */
struct store_log_trim {
    int applies;
    int trimmed;
    int busy;
    int64_t bytes_before;
    int64_t bytes_after;
};
int store_log_trim(struct store *st, int64_t above_bytes, int wait_ms, struct store_log_trim *out);

/* ---- campaigns ---- */
struct campaign_row {
    int64_t id;
    char *slug;
    char *spec_json;     /* the canonical campaign file */
    int64_t launch_utc;  /* the launch moment (moved to "now" by a manual launch) */
    int64_t launched_at; /* 0 until reminders were queued */
    int window_minutes;
    int64_t revision;    /* bumped by every apply and every target close or open */
    char language[I18N_TAG_MAX + 1]; /* the campaign's language tag (core/i18n.h), "en" */
    int64_t calendar_sequence; /* the calendar file's SEQUENCE: how often the moment moved
                                  after the campaign was made (store_campaign_moved) */
    int64_t mail_steps_done;   /* the latest scheduled moment (an earlier reminder, the
                                  follow-up) whose mails are queued; 0: none yet */
};
void campaign_row_release(struct campaign_row *r);

int store_campaign_get(struct store *st, const char *slug, struct campaign_row *out);
/* The same without the campaign file (spec_json NULL): for caches that only
 * need to know whether the revision moved. By slug, or by id when slug is
 * NULL. */
int store_campaign_peek(struct store *st, const char *slug, int64_t id, struct campaign_row *out);
int store_campaign_get_by_id(struct store *st, int64_t id, struct campaign_row *out);
/* The campaign's moment moved: its calendar SEQUENCE goes up by one (*sequence
 * gets the new value) and its mail steps start again (mail_steps_done 0). */
int store_campaign_moved(struct store *st, int64_t id, int64_t *sequence);
/* Records that the mails of the scheduled moment done_at are queued. */
int store_campaign_steps_done(struct store *st, int64_t id, int64_t done_at);
/* Campaigns whose window has not ended at now and whose moment is at most
 * horizon seconds ahead, by id (up to max). */
int store_campaigns_ahead(struct store *st, int64_t now, int64_t horizon, int64_t *ids, size_t max,
                          size_t *n);
/* Appends one slug per line. */
int store_campaign_slugs(struct store *st, struct buf *out);
/* Inserts a campaign row from c (slug, canonical file, moment, window).
 * STORE_CONFLICT when the slug exists. */
int store_campaign_insert(struct store *st, const struct campaign *c, int64_t now, int64_t *id);
/* Replaces the stored file, moment and window, and bumps the revision. */
int store_campaign_update(struct store *st, int64_t id, const struct campaign *c,
                          int64_t launch_utc, int64_t now);
/* Launch once: sets launched_at = now (and launch_utc = now when
 * move_to_now) only if the campaign has not launched; *marked tells whether
 * this call did it. */
int store_campaign_mark_launched(struct store *st, int64_t id, int move_to_now, int64_t now,
                                 int *marked);
/* Campaigns not launched whose launch moment has come and whose window has
 * not ended at now. */
int store_campaigns_due(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
/* Campaigns not launched whose window ended at or before now: their
 * reminders were never queued (a launch that no server ran). */
int store_campaigns_missed(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
/* A paused launch (docs/CAMPAIGN.md, "Launch day"): while paused_at is not
 * 0, store_outbox_claim takes none of the campaign's mail but the answers to
 * a person's own pledge (confirm, welcome). */
struct campaign_pause {
    int64_t paused_at; /* 0: not paused */
    char by[321];      /* who paused it ("" when not said) */
    char reason[256];  /* why ("" when not said) */
};
/* Pauses (paused 1: sets paused_at = now, by and reason, only when not
 * paused) or resumes (paused 0: clears them, only when paused); *changed
 * tells whether this call did it. STORE_NOT_FOUND: no such campaign. */
int store_campaign_set_pause(struct store *st, int64_t campaign_id, int paused, const char *by,
                             const char *reason, int64_t now, int *changed);
int store_campaign_pause_get(struct store *st, int64_t campaign_id, struct campaign_pause *out);
/* The confirmed-pledges counter (one row read); store_campaign_count_confirmed
 * adds delta to it inside a transaction. */
int store_confirmed_count(struct store *st, int64_t campaign_id, int64_t *count);
int store_campaign_count_confirmed(struct store *st, int64_t campaign_id, int64_t delta);

/* ---- targets ---- */
struct target_row {
    int64_t id;
    char key[65];     /* the target's id in the campaign file */
    int open;         /* 1 open, 0 closed */
    int removed;      /* no longer in the campaign file */
    long cap;         /* -1: none */
    int64_t assigned; /* supporters assigned */
    int64_t places;   /* places taken under the cap (store_place_take) */
    int64_t clicks;
    int64_t reports;  /* "did not accept my action" reports */
    int64_t rerouted; /* supporters moved away from it because it closed */
    char reason[256]; /* last close/open reason */
};
/* Every target of a campaign, in file order then the removed ones. */
struct target_list {
    struct target_row *rows; /* owned: target_list_release */
    size_t count;
};
void target_list_release(struct target_list *l);
int store_targets(struct store *st, int64_t campaign_id, struct target_list *out);
/* Marks every target of the campaign removed, then inserts or revives the
 * campaign's targets in file order (key, position, kind, cap). */
int store_targets_replace(struct store *st, int64_t campaign_id, const struct target_spec *targets,
                          size_t n);
/* The target by key (not removed). STORE_NOT_FOUND when there is none. */
int store_target_find(struct store *st, int64_t campaign_id, const char *key, int64_t *id,
                      int *open);
/* The key of a target by id; STORE_NOT_FOUND when there is none. */
int store_target_key(struct store *st, int64_t target_id, char key[65]);
/* Sets open or closed with a reason, records the event with its actor and
 * bumps the campaign's revision (so every server reloads the states). */
int store_target_set_state(struct store *st, int64_t target_id, int open, const char *reason,
                           const char *actor, int64_t now);
/* Records a supporter's report about a target, once per supporter and
 * target (insert-if-absent: *added tells). */
int store_target_report_add(struct store *st, int64_t target_id, int64_t supporter_id,
                            int64_t now, int *added);
/* Reports on the target made after since. */
int store_target_reports_since(struct store *st, int64_t target_id, int64_t since,
                               int64_t *count);
/* Takes one place under the target's cap for a supporter, atomically in the
 * database, whichever process asks (its own transaction, or the caller's).
 * When the supporter is already assigned to the target: *taken = 1, nothing
 * changes. Else, when the target has room (no cap, or places < cap): the
 * supporter is assigned to it, its places grow by one and previous_target's
 * (0: none) shrink by one; *taken = 1. A full target: *taken = 0, nothing
 * changes. STORE_NOT_FOUND: no such supporter (or erased). */
int store_place_take(struct store *st, int64_t target_id, int64_t supporter_id,
                     int64_t previous_target, int *taken);

/* ---- supporters ---- */
struct pledge_input {
    const char *email;      /* validated; matched case-insensitively */
    const char *name;       /* may be "" */
    const char *statement;  /* may be "" */
    const char *timezone;   /* validated IANA name */
    const char *target;     /* chosen target key under "choose", else NULL */
    const char *consent_text; /* the consent sentence shown */
    const char *client_ip;
};

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
    uint32_t change_epoch; /* the held change's number (TOKEN_CONFIRM_CHANGE links) */
    /* The held change, when store_pledge_load_change filled it (else NULL). */
    char *change_name;
    char *change_statement;
    char *change_timezone;
    char *change_target;
};
void supporter_release(struct supporter *s);
int store_supporter_by_key(struct store *st, int64_t token_key, struct supporter *out);
int store_supporter_by_id(struct store *st, int64_t id, struct supporter *out);
/* store_supporter_by_id for n ids at once: found[i] = 1 and out[i] filled
 * (the caller releases it) for each not-erased supporter, found[i] = 0 for
 * the others. One statement on a database server. */
int store_supporters_by_ids(struct store *st, const int64_t *ids, size_t n, struct supporter *out,
                            int *found);
/* store_supporter_by_key for n token keys at once, as store_supporters_by_ids
 * (the one-click links that reach a server together: pages/action.c). */
int store_supporters_by_keys(struct store *st, const int64_t *token_keys, size_t n,
                             struct supporter *out, int *found);

/* What the pledge rules need to know about an existing pledge. */
struct pledge_state {
    int64_t id;
    int confirmed;
    int64_t confirm_mail_day; /* the day (UTC days since 1970) of the last confirmation mails */
    int64_t confirm_mails;    /* confirmation mails sent on that day */
};
/* The pledge of an address (case-insensitive) in a campaign, not erased. */
int store_pledge_find(struct store *st, int64_t campaign_id, const char *email,
                      struct pledge_state *out);
/* Inserts a pending pledge with its consent (time, text, IP) and a new
 * token key. STORE_CONFLICT when the address already pledged (insert-if-
 * absent). */
int store_pledge_insert(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                        int64_t now, int64_t *id);
/* store_pledge_insert, and for the new pledge its first confirmation mail
 * (store_outbox_add of MAIL_CONFIRM at now) counted as the day's first
 * (store_pledge_count_mail(day, 1)), in the caller's transaction (one
 * statement on PostgreSQL): STORE_CONFLICT, and nothing done, when the
 * address already pledged. Under store_set_guessing, 0 with *id 0 may be a
 * guess, which a conflict proves wrong later (the transaction fails). */
int store_pledge_insert_mailed(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                               int64_t now, int64_t day, int64_t *id);
/* Inserts an imported pledge (source 'import'), confirmed at now, with the
 * consent recorded elsewhere at consent_at. STORE_CONFLICT when the address
 * already pledged. */
int store_pledge_import(struct store *st, int64_t campaign_id, const char *email, const char *name,
                        const char *timezone, const char *consent_text, int64_t consent_at,
                        int64_t now);
/* Holds name, statement, time zone and chosen target as a change that
 * store_pledge_apply_change applies, replacing a change held before, and
 * numbers it (change_epoch + 1). */
int store_pledge_hold_change(struct store *st, int64_t supporter_id, const struct pledge_input *in);
int store_pledge_apply_change(struct store *st, int64_t supporter_id);
/* Fills s->change_* with the held change of s (supporter_release frees
 * them); STORE_NOT_FOUND when it has none. */
int store_pledge_load_change(struct store *st, struct supporter *s);
int store_pledge_count_mail(struct store *st, int64_t supporter_id, int64_t day, int64_t mails);
/* Marks the pledge confirmed at now. */
int store_pledge_mark_confirmed(struct store *st, int64_t supporter_id, int64_t now);
/* Sets unsubscribed_at = now unless already set; *changed tells. A held
 * change being applied clears it (store_pledge_resubscribe). */
int store_pledge_unsubscribe(struct store *st, int64_t supporter_id, int64_t now, int *changed);
int store_pledge_resubscribe(struct store *st, int64_t supporter_id);
int store_set_instance(struct store *st, int64_t supporter_id, const char *instance);
/* Removes the personal data of every pledge of an address (every campaign):
 * the rows stay for the anonymous counts, their links die (new key and
 * epoch). The relay replies stored with their mails keep no address: every
 * address in them becomes "[address]" (redact_addresses). All of it or
 * nothing. *count gets the number of pledges erased. */
int store_pledges_erase(struct store *st, const char *email, int64_t now, int *count);

/* ---- one click ---- */
struct click_record {
    int64_t campaign_id;
    int64_t supporter_id;
    int64_t target_id;        /* 0: none (the "all" mode, or no open target) */
    int64_t previous_target;  /* the closed target a reroute moved away from, or 0 */
    int64_t at;
    int assigned;             /* target_id is a new assignment */
    int rerouted;
    int assignment_only;      /* no click: only the new assignment is kept (a review of
                                 the action page, or a report that moved the supporter) */
};
/* Inserts the click rows of a batch (inside a transaction). */
int store_clicks_insert(struct store *st, const struct click_record *clicks, size_t n);
/* The supporter's assigned target. */
int store_supporter_assign(struct store *st, int64_t supporter_id, int64_t target_id);
/* Adds to a target's counters (assigned never goes below 0). */
int store_target_counters_add(struct store *st, int64_t target_id, int64_t assigned,
                              int64_t clicks, int64_t rerouted);

/* ---- outbox ---- */
/* The kinds of mail, as stored; a new kind is one entry here and one in
 * mail/'s table (checked at compile time there). */
enum mail_kind {
    MAIL_CONFIRM = 1,
    MAIL_WELCOME = 2,
    MAIL_REMINDER = 3,
    MAIL_MOVED = 4,          /* the moment moved: a notice with the updated calendar file */
    MAIL_EARLY_REMINDER = 5, /* "reminders" in the campaign file: before the moment */
    MAIL_FOLLOW_UP = 6,      /* "follow_up_after_minutes": to those who did not click */
};
#define MAIL_KIND_COUNT 7 /* one past the last kind */
/* A supporter is owed at most one mail of these kinds per campaign (a
 * unique index): store_outbox_add of a second one adds nothing. */
static inline int mail_kind_once_only(enum mail_kind kind)
{
    return kind == MAIL_WELCOME || kind == MAIL_REMINDER;
}

/* A supporter is owed at most one mail of these kinds per campaign and
 * variant (a unique index): the moved moment's notice per SEQUENCE, an
 * earlier reminder per offset, the follow-up once (variant 0). */
static inline int mail_kind_per_variant(enum mail_kind kind)
{
    return kind == MAIL_MOVED || kind == MAIL_EARLY_REMINDER || kind == MAIL_FOLLOW_UP;
}

struct outbox_item {
    int64_t id;
    enum mail_kind kind;
    int64_t supporter_id;
    int64_t campaign_id;
    int attempts;
    int64_t variant; /* of a per-variant kind (mail_kind_per_variant); else 0 */
};
/* Queues one mail of kind for the supporter; of a once-only kind, only when
 * the supporter has none of that kind yet (insert-if-absent). */
int store_outbox_add(struct store *st, enum mail_kind kind, int64_t campaign_id,
                     int64_t supporter_id, int64_t now);
/* Queues kind (a once-only kind: mail_kind_once_only; any other is refused,
 * -1 and logged) for every confirmed, subscribed, not erased supporter of the
 * campaign that has none of that kind yet (one statement, for a million
 * rows). *queued gets the number added. */
int store_outbox_add_confirmed(struct store *st, int64_t campaign_id, enum mail_kind kind,
                               int64_t now, int64_t *queued);
/* Queues kind (a per-variant kind: mail_kind_per_variant; any other is
 * refused, -1 and logged) with variant for every confirmed, subscribed, not
 * erased supporter of the campaign that has none of that kind and variant
 * yet; without_click: only those who followed no link of the campaign (no
 * click kept for them). One statement. *queued gets the number added. */
int store_outbox_add_variant(struct store *st, int64_t campaign_id, enum mail_kind kind,
                             int64_t variant, int without_click, int64_t now, int64_t *queued);
/* What store_outbox_add_confirmed would add now (once-only kinds, as there). */
int store_outbox_owed(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t *owed);
/* Claims up to max due items for owner (a lease until now + lease_seconds),
 * skipping items leased by others until their lease runs out, and the items
 * of a paused campaign (store_campaign_set_pause) other than MAIL_CONFIRM and
 * MAIL_WELCOME: the filter is part of the claim, so every sender on the
 * database stops at its next claim. */
int store_outbox_claim(struct store *st, const char *owner, int64_t campaign_id_or_0,
                       int64_t now, int lease_seconds, struct outbox_item *items, size_t max,
                       size_t *n);
/* The owners holding unexpired leases (up to max, 300 bytes each), and the
 * end of every lease of one owner (its process is known to be dead). */
int store_outbox_lease_owners(struct store *st, int64_t now, char (*owners)[300], size_t max,
                              size_t *n);
int store_outbox_lease_drop(struct store *st, const char *owner);
/* Extends owner's lease on an item just before it is sent; *ours is 0 when
 * the item is no longer owner's, and then it must not be sent. An item the
 * claim would skip now (its campaign paused since) is handed back instead:
 * its lease and owner cleared, its attempt not counted, *ours 0. */
int store_outbox_renew(struct store *st, int64_t item_id, const char *owner, int64_t lease_until,
                       int *ours);
/* The same for n items at once (ours[i] for ids[i]): one statement on a
 * backend whose every statement is a round trip to another process. */
int store_outbox_renew_many(struct store *st, const int64_t *ids, size_t n, const char *owner,
                            int64_t lease_until, int *ours);
/* Outcomes, each committed before the next message goes out. */
int store_outbox_sent(struct store *st, int64_t item_id, const char *owner, int64_t now);
/* store_outbox_sent for n items at once. */
int store_outbox_sent_many(struct store *st, const int64_t *ids, size_t n, const char *owner,
                           int64_t now);
int store_outbox_retry(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply);
/* Puts owner's claimed item back for a claim at next_at without counting
 * the attempt the claim counted (attempts - 1, not below 0): the sender's
 * per-domain pacing held it, nothing was tried. Owner and lease cleared,
 * reply kept as last_reply. Only a pending item still owner's changes. */
int store_outbox_defer(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply);
int store_outbox_failed(struct store *st, int64_t item_id, const char *owner, int64_t now,
                        const char *reply);
/* The item is no longer owed. */
int store_outbox_cancel(struct store *st, int64_t item_id);
/* Cancels the pending items of a supporter (kind 0: every kind), or of every
 * pledge of an address. */
int store_outbox_cancel_supporter(struct store *st, int64_t supporter_id, enum mail_kind kind);
int store_outbox_cancel_email(struct store *st, const char *email);
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

/* ---- data out ---- */
/* Calls row(ctx, values, count) for each supporter (columns: email, name,
 * statement, timezone, status, pledged_at, confirmed_at, unsubscribed_at,
 * consent_at, consent_text, source, target) or each click (columns: at,
 * target, rerouted, email). Times are ISO 8601 UTC. Erased people export as
 * empty personal fields. A non-zero return from row stops the walk. */
typedef int (*store_row_fn)(void *ctx, const char *const *values, int count);
int store_export_supporters(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
int store_export_clicks(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);

/* ---- organizers ---- */
/* Creates the organizer, or replaces the password of an existing one (which
 * ends all their sessions and deletes all their API tokens). *created tells
 * which. A new organizer has the role ORGANIZER_PLAIN until
 * store_organizer_set_role says otherwise. */
int store_organizer_set_password(struct store *st, const char *email, const char *password_hash,
                                 int64_t now, int *created);
/* The organizer's id and password hash (caller frees *password_hash). */
int store_organizer_get(struct store *st, const char *email, int64_t *id, char **password_hash);
int store_session_create(struct store *st, int64_t organizer_id, const char *token_hash,
                         int64_t now, int64_t expires_at);
int store_session_delete(struct store *st, const char *token_hash);
int store_session_organizer(struct store *st, const char *token_hash, int64_t now,
                            int64_t *organizer_id);

/* ---- roles (docs/DASHBOARD.md, "Roles"; the decisions: service/access.c) ---- */
/* The server role: an administrator sees and does everything; a plain
 * organizer only what their campaign roles allow. Stored as "admin" and
 * "organizer". */
enum organizer_role { ORGANIZER_PLAIN = 0, ORGANIZER_ADMIN = 1 };
/* A role on one campaign, stored as "viewer", "editor", "owner"; the order
 * is not a rule (the rules are in service/access.c). */
enum campaign_role { CAMPAIGN_ROLE_VIEWER = 1, CAMPAIGN_ROLE_EDITOR = 2, CAMPAIGN_ROLE_OWNER = 3 };

/* STORE_NOT_FOUND when there is no such organizer. */
int store_organizer_set_role(struct store *st, int64_t organizer_id, enum organizer_role role);
int store_organizer_role(struct store *st, int64_t organizer_id, enum organizer_role *role);
/* Gives the organizer the role on the campaign, replacing the one they had. */
int store_grant_set(struct store *st, int64_t campaign_id, int64_t organizer_id,
                    enum campaign_role role, int64_t now);
/* STORE_NOT_FOUND when the organizer had no role on the campaign. */
int store_grant_delete(struct store *st, int64_t campaign_id, int64_t organizer_id);
/* The organizer's role on the campaign; STORE_NOT_FOUND when none. */
int store_grant_role(struct store *st, int64_t organizer_id, int64_t campaign_id,
                     enum campaign_role *role);
struct grant_row {
    char email[321];
    enum campaign_role role;
    int64_t granted_at;
};
/* Every grant on the campaign, by email; caller frees *rows (NULL when none). */
int store_grants_of_campaign(struct store *st, int64_t campaign_id, struct grant_row **rows,
                             size_t *n);

/* ---- API tokens (stored as their SHA-256, with an expiry) ---- */
struct api_token_row {
    int64_t id;
    int64_t organizer_id;
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at; /* 0: never used */
};
/* *id gets the new token's id (unique for the store's lifetime). */
int store_api_token_create(struct store *st, int64_t organizer_id, const char *token_hash,
                           int64_t now, int64_t expires_at, int64_t *id);
/* The token with this hash if it has not expired (expires_at > now);
 * STORE_NOT_FOUND otherwise. */
int store_api_token_find(struct store *st, const char *token_hash, int64_t now,
                         struct api_token_row *out);
/* Sets the token's last use to now. */
int store_api_token_touch(struct store *st, int64_t token_id, int64_t now);
/* The organizer's tokens, expired ones included, oldest first; caller frees
 * *rows (NULL when none). */
int store_api_tokens_of(struct store *st, int64_t organizer_id, struct api_token_row **rows,
                        size_t *n);
/* Deletes the organizer's token; STORE_NOT_FOUND when they have none with
 * this id. */
int store_api_token_revoke(struct store *st, int64_t organizer_id, int64_t token_id);

#endif
