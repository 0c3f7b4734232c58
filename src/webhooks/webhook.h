/*
 * webhook: telling an organizer's server what happened, as it happens
 * (docs/WEBHOOKS.md). A campaign may name a receiver ("webhook" in the
 * campaign file); the store queues one row per event in the same transaction
 * as the confirmation or the click (store/store_webhooks.h), and the sender
 * thread of `muster serve` delivers the rows: signed, retried with backoff,
 * and only to addresses that are not loopback or private unless the operator
 * allowed it. Nothing here runs on the request path.
 *
 * This header holds the pure parts (payload, signature, backoff, address
 * policy), which the tests call directly, and the sender's start and stop.
 */
#ifndef MUSTER_WEBHOOKS_WEBHOOK_H
#define MUSTER_WEBHOOKS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "campaign/campaign.h"
#include "core/buf.h"

#define WEBHOOK_HMAC_HEX 64
#define WEBHOOK_SIGNATURE_LEN (7 + WEBHOOK_HMAC_HEX) /* "sha256=" and the hex */
#define WEBHOOK_SUPPORTER_ID_LEN 32                  /* hex characters */
#define WEBHOOK_EVENT_ID_LEN 32                      /* hex characters */
#define WEBHOOK_MAX_ATTEMPTS 10
#define WEBHOOK_BACKOFF_START_MS 5000
#define WEBHOOK_BACKOFF_CAP_MS 600000
#define WEBHOOK_TIMEOUT_MS 10000

struct config;

/* 1 when the campaign's webhook wants event. */
int webhook_wanted(const struct webhook_spec *w, enum webhook_event event);

/* ---- payload and signature ---- */

/* Hex HMAC-SHA256(key, msg). */
void webhook_hmac_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                      char out[WEBHOOK_HMAC_HEX + 1]);
/* "sha256=" hex HMAC-SHA256(secret, "<timestamp>." body): X-Muster-Signature. */
void webhook_signature(const char *secret, int64_t timestamp, const char *body, size_t body_len,
                       char out[WEBHOOK_SIGNATURE_LEN + 1]);

/* The supporter as a receiver sees them: stable per supporter, opaque (an
 * HMAC under the server secret, so it reveals neither the email nor the row
 * id). token_init must have run. */
void webhook_supporter_id(int64_t campaign_id, int64_t supporter_id,
                          char out[WEBHOOK_SUPPORTER_ID_LEN + 1]);
/* A fresh random event id (receivers use it to drop a repeated delivery). */
void webhook_event_id(char out[WEBHOOK_EVENT_ID_LEN + 1]);

struct webhook_payload {
    enum webhook_event event;
    const char *id;           /* webhook_event_id */
    const char *campaign;     /* the slug */
    int64_t occurred_at;      /* Unix seconds */
    const char *supporter_id; /* webhook_supporter_id */
    const char *target;       /* action.clicked: the target's id, NULL when none was assigned */
};
/* Appends the JSON body (compact, fixed key order). Returns 0, or -1 when out
 * failed. */
int webhook_payload_build(const struct webhook_payload *p, struct buf *out);

/* Milliseconds to wait after failed attempt number `attempts` (1-based):
 * start_ms doubled per attempt, capped at WEBHOOK_BACKOFF_CAP_MS, then
 * "equal jitter" (between half of it and all of it). */
int64_t webhook_backoff_ms(int attempts, int64_t start_ms);

/* ---- where a delivery may go (SSRF) ---- */

/* NULL when a webhook may connect to the address; otherwise why not, e.g.
 * "loopback" or "private (10.0.0.0/8)". Unwraps IPv4-mapped, IPv4-compatible,
 * NAT64 and 6to4 forms and judges the IPv4 address inside. */
const char *webhook_address_refusal(const struct sockaddr *sa);

/* Where one delivery connects: the URL's host and port, and the addresses
 * checked for it (libcurl may try each, as for any dual-stack host), also as
 * a CURLOPT_RESOLVE entry that pins the connection to them. */
#define WEBHOOK_ROUTE_ADDRESSES 4
struct webhook_route {
    char host[256];
    int port;
    int count;                                            /* addresses checked, >= 1 */
    char addresses[WEBHOOK_ROUTE_ADDRESSES][64];          /* numeric; IPv6 without brackets */
    char resolve[256 + 8 + WEBHOOK_ROUTE_ADDRESSES * 66]; /* "host:port:a,[b]"; "" when the
                                                              host is an address literal */
};
enum webhook_route_result {
    WEBHOOK_ROUTE_OK = 0,
    WEBHOOK_ROUTE_REFUSED = 1, /* a bad URL or a forbidden address: do not retry */
    WEBHOOK_ROUTE_RETRY = 2,   /* the name did not resolve now: retry later */
};
/* Parses url (http or https only), resolves its host and keeps the addresses
 * that webhook_address_refusal accepts (all of them when allow_private), in
 * the resolver's order. On failure, err says why in one line. */
enum webhook_route_result webhook_route(const char *url, int allow_private,
                                        struct webhook_route *out, char *err, size_t err_len);

/* ---- the sender thread of `muster serve` ---- */

struct webhook_sender;
/* Opens its own store connection and starts the thread. The backoff starts
 * at MUSTER_WEBHOOK_BACKOFF_MS when set (for tests), else at
 * WEBHOOK_BACKOFF_START_MS. NULL with a message in err on failure. */
struct webhook_sender *webhook_sender_start(const struct config *cfg, char *err, size_t err_len);
/* Stops the thread: deliveries in flight are abandoned and their events left
 * pending for the next start. Frees everything; NULL is a no-op. */
void webhook_sender_stop(struct webhook_sender *s);

#endif
