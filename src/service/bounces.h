/*
 * bounces: what a bounce or a complaint changes. The parser (mail/bounce.c)
 * finds failed recipients in a report; this module attributes them (the
 * message's own return path first: mail/verp.h; otherwise the addresses the
 * report itself names, never a guess) and records each through the
 * suppression list (service/suppression.h).
 */
#ifndef MUSTER_SERVICE_BOUNCES_H
#define MUSTER_SERVICE_BOUNCES_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define BOUNCE_ADDRESS_MAX 321 /* an address of 320 bytes and its NUL */
#define BOUNCE_REASON_MAX 256
#define BOUNCE_FINDINGS_MAX 32

enum bounce_kind {
    BOUNCE_PERMANENT, /* a permanent failure (5.x.x, "failed") */
    BOUNCE_TEMPORARY, /* a temporary failure (4.x.x, "delayed") */
    BOUNCE_COMPLAINT, /* an ARF / feedback-loop complaint */
};

/* One recipient a report says failed, in the report's words. */
struct bounce_finding {
    char address[BOUNCE_ADDRESS_MAX];
    enum bounce_kind kind;
    char reason[BOUNCE_REASON_MAX]; /* status and diagnostic, no control character */
};

/* One address to report, and why it is that address. */
struct bounce_attribution {
    char address[BOUNCE_ADDRESS_MAX];
    enum bounce_kind kind;
    char reason[BOUNCE_REASON_MAX];
    int64_t campaign_id;  /* 0 when unknown */
    int64_t supporter_id; /* 0 when unknown */
    int via_return_path;  /* 1: the message's own return path named it */
};

/* Attributes a report's findings. With return_path_supporter_id > 0 (a valid
 * VERP token named that supporter) the one attribution is that supporter's
 * address in its campaign, with the strongest kind found (complaint, then
 * permanent, then temporary); a supporter erased since gives none. Otherwise
 * one attribution per finding, campaign unknown. *n gets how many (at most
 * BOUNCE_FINDINGS_MAX). Returns 0, or -1 on a store error (logged). */
int bounces_attribute(struct store *st, const struct bounce_finding *found, size_t nfound,
                      int64_t return_path_supporter_id, struct bounce_attribution *out, size_t *n);

/* Records one attribution on the suppression list (suppression_report: a
 * permanent failure or a complaint suppresses, a temporary failure is
 * counted). *suppressed says whether the address is suppressed after it.
 * 0; 1 when the address is not one the list takes (nothing recorded); -1 on
 * a store error (logged). */
int bounces_record(struct store *st, const struct bounce_attribution *a, int64_t now,
                   int *suppressed);

/* The kind's name as printed and logged: "permanent", "temporary", "complaint". */
const char *bounce_kind_name(enum bounce_kind kind);

#endif
