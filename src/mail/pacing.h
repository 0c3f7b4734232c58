/*
 * pacing: per-domain limits on outgoing mail and the state of one sender
 * against them. It owns the domain-limits file (MUSTER_DOMAIN_LIMITS; its
 * format and the built-in defaults are in docs/DELIVERABILITY.md), the
 * routes it names (relay=), and for each recipient domain (or each group of
 * domains sharing one limit) a token bucket of messages per second, the
 * count of messages in flight against its connection limit, and a backoff
 * that a 421, 450 or 451 reply starts. It knows nothing about the store or
 * SMTP sessions: the outbox asks it whether a domain admits a message now
 * and tells it how each one ended. One process applies the limits on its
 * own: with several servers, each gets the whole limit. Not thread-safe: one
 * sender uses it.
 */
#ifndef MUSTER_MAIL_PACING_H
#define MUSTER_MAIL_PACING_H

#include <stddef.h>
#include <stdint.h>

struct pacing;
struct pacing_domain;

/* Backoff bounds: the first step stops a domain 1 s, each further one
 * doubles it, up to 300 s. */
#define PACING_BACKOFF_FIRST_S 1
#define PACING_BACKOFF_MAX_S 300
/* A domain without a rate limit that backs off starts from its observed
 * rate, or this when none was observed. */
#define PACING_UNLIMITED_START_RATE 50.0

/* The limits in effect: the built-in defaults, with the rules of text (the
 * content of the file called name, for errors; text may be NULL: the
 * defaults alone) over them. A rule of the file for a domain replaces that
 * domain's default; its `*` replaces the default `*`. Returns NULL with
 * "NAME:LINE: what was wrong" in err. The fuzz target's entry point. */
struct pacing *pacing_parse(const char *text, size_t len, const char *name, char *err,
                            size_t err_len);
/* pacing_parse of the file at path (NULL or "": the defaults alone); errors
 * name the file. */
struct pacing *pacing_load(const char *path, char *err, size_t err_len);
void pacing_free(struct pacing *p);

/* Routes: 0 is the configured relay (MUSTER_SMTP); each distinct relay= of
 * the rules is one more, in the order the rules name them. */
size_t pacing_route_count(const struct pacing *p);
/* The relay URL of route r (>= 1); NULL for route 0. */
const char *pacing_route_relay(const struct pacing *p, size_t r);
/* Connections for route r: the largest connections= of its rules, 0 when
 * none says (then the transport's own concurrency). Route 0: 0. */
int pacing_route_connections(const struct pacing *p, size_t r);

/* The state for a recipient domain (case-insensitive; exact match, then
 * `*`): shared by every domain of its rule's group, one per domain under
 * `*`. NULL only when memory ran out. Lives until pacing_free. */
struct pacing_domain *pacing_lookup(struct pacing *p, const char *domain);
/* The state for the domain of an address (after its last '@'). */
struct pacing_domain *pacing_lookup_address(struct pacing *p, const char *address);

size_t pacing_domain_route(const struct pacing_domain *d);
/* "gmail.com,googlemail.com" for a group, the domain itself under `*`. */
const char *pacing_domain_name(const struct pacing_domain *d);

#define PACING_FULL (-1) /* every connection of the domain carries a message */

/* How long until the domain admits the message that has `ahead` others of
 * the domain queued before it: 0 now, ms to wait for the bucket or the
 * backoff, or PACING_FULL (only when ahead is 0) when what stops it now is
 * the connection limit (a message ending frees one). */
int64_t pacing_wait_ms(struct pacing_domain *d, int64_t now_ms, size_t ahead);
/* A message of the domain goes out now: one token and one connection. */
void pacing_start(struct pacing_domain *d, int64_t now_ms);
/* The message started at started_ms ended: its connection is free. sent: the
 * relay took it. refused_code: the 4xx the relay answered about this
 * message's recipient (its RCPT TO, DATA or final dot; 0: none); a 421, 450
 * or 451 is a step of backoff, unless the message started before the
 * domain's last step began (it belongs to that step). */
void pacing_done(struct pacing_domain *d, int64_t started_ms, int64_t now_ms, int sent,
                 int refused_code);

/* For tests and logs: the rate in force (0: no limit), the backoff level
 * (0: none), when the current stop ends (ms, 0 when none), in flight. */
double pacing_domain_rate(const struct pacing_domain *d);
int pacing_domain_level(const struct pacing_domain *d);
int64_t pacing_domain_paused_until(const struct pacing_domain *d);
int pacing_domain_in_flight(const struct pacing_domain *d);

/* A slot for the caller (the outbox's batch keeps its queue index here). */
void pacing_domain_set_tag(struct pacing_domain *d, uint64_t tag);
uint64_t pacing_domain_tag(const struct pacing_domain *d);

#endif
