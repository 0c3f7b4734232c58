/*
 * store_suppression: the suppression list (docs/DELIVERABILITY.md), the
 * count of temporary failures per address with its window, and each
 * campaign's count of bounce and complaint reports. An entry is found by its
 * key (a keyed hash of the normalized address, made above the store:
 * service/suppression.c), never by the address itself, so an entry outlives
 * the address once a person is erased. Whether a report suppresses, and when
 * temporary failures add up to a suppression, is decided above the store.
 * Return values as in store.h.
 */
#ifndef MUSTER_STORE_STORE_SUPPRESSION_H
#define MUSTER_STORE_STORE_SUPPRESSION_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Why an address is on the list. */
enum suppression_kind {
    SUPPRESSION_BOUNCE = 1,    /* a permanent failure */
    SUPPRESSION_COMPLAINT = 2, /* a complaint (feedback loop, ARF) */
    SUPPRESSION_MANUAL = 3,    /* added by an organizer */
    SUPPRESSION_TEMPORARY = 4, /* too many temporary failures in their window */
};
/* "bounce", "complaint", "manual", "temporary" (NULL for another value). */
const char *suppression_kind_name(enum suppression_kind kind);
/* 0 and *out for one of those names, -1 otherwise. */
int suppression_kind_parse(const char *name, enum suppression_kind *out);

#define SUPPRESSION_KEY_HEX 64 /* characters of an entry's key */

struct suppression_entry {
    int64_t id;                        /* set by reads */
    char key[SUPPRESSION_KEY_HEX + 1]; /* what is matched */
    char *address;                     /* NULL once the person was erased */
    enum suppression_kind kind;
    int64_t created_at;
    char *reason;        /* the report's own words; "" when none */
    int64_t campaign_id; /* 0 when unknown */
};
/* Frees what a read put in e (address, reason); e itself is the caller's. */
void suppression_entry_release(struct suppression_entry *e);

/* Adds the entry unless an entry with its key exists (insert-if-absent: the
 * first entry stays as it is). *added (may be NULL) is 1 when it was added.
 * When added with a campaign_id and the kind BOUNCE or COMPLAINT, that
 * campaign's count of that kind (store_suppression_campaign_counts) grows by
 * one in the same transaction; the counts never go down. */
int store_suppression_add(struct store *st, const struct suppression_entry *e, int *added);
/* The entry of key, or STORE_NOT_FOUND. */
int store_suppression_get(struct store *st, const char *key, struct suppression_entry *out);
/* *found = 1 when key is on the list, 0 when not. */
int store_suppression_exists(struct store *st, const char *key, int *found);
/* The same for n keys at once (found[i] for keys[i]). */
int store_suppression_exists_many(struct store *st, const char *const *keys, size_t n, int *found);
/* Deletes the entry of key and its count of temporary failures; *removed
 * (may be NULL) is 1 when there was an entry. */
int store_suppression_remove(struct store *st, const char *key, int *removed);
/* Forgets the address of the entry of key (it stays, found by its key);
 * *changed (may be NULL) is 1 when an address was forgotten. */
int store_suppression_forget_address(struct store *st, const char *key, int *changed);
/* Calls row(ctx, entry) for every entry, newest first (ties by id); a
 * non-zero return stops the walk. The entry is valid during the call only. */
typedef int (*store_suppression_fn)(void *ctx, const struct suppression_entry *e);
int store_suppression_each(struct store *st, store_suppression_fn row, void *ctx);
/* The number of entries. */
int store_suppression_count(struct store *st, int64_t *count);
/* Counts one temporary failure of key at now: a count whose window began at
 * or after window_start goes on; an older one (or none) starts again at 1
 * with its window beginning at now. *failures gets the count after it. One
 * atomic operation: two reports at once count twice. */
int store_suppression_temporary(struct store *st, const char *key, int64_t now,
                                int64_t window_start, int64_t *failures);
/* The campaign's counts of bounce and complaint entries added for it. */
int store_suppression_campaign_counts(struct store *st, int64_t campaign_id, int64_t *bounces,
                                      int64_t *complaints);

/* ---- the outbox's side ---- */
/* Settles a pending outbox item as not sent because its recipient is
 * suppressed: state "suppressed" (never claimed again, counted by
 * store_suppression_campaign_mail), reason as its last reply, at now. An
 * item no longer pending is left as it is. */
int store_outbox_suppressed(struct store *st, int64_t item_id, int64_t now, const char *reason);
/* The campaign's mail of every kind: *sent (may be NULL) the items sent,
 * *suppressed (may be NULL) the items settled as suppressed. */
int store_suppression_campaign_mail(struct store *st, int64_t campaign_id, int64_t *sent,
                                    int64_t *suppressed);

#endif
