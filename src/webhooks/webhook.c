/*
 * webhook: the pure parts of a delivery (see webhook.h): the JSON body, the
 * signature a receiver checks, the opaque supporter id, and the backoff
 * between attempts. No I/O, no store: what goes out is decided here, where
 * it goes is decided in address.c, and sender.c does the sending.
 */
#include "webhooks/webhook.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/tz.h"
#include "core/banned.h"

int webhook_wanted(const struct webhook_spec *w, enum webhook_event event)
{
    return w && w->url && w->secret && (w->events & (unsigned)event) != 0;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void webhook_hmac_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                      char out[WEBHOOK_HMAC_HEX + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, mac);
    hex(mac, sizeof mac, out);
    sodium_memzero(&st, sizeof st);
}

void webhook_signature(const char *secret, int64_t timestamp, const char *body, size_t body_len,
                       char out[WEBHOOK_SIGNATURE_LEN + 1])
{
    char ts[24];
    int n = snprintf(ts, sizeof ts, "%" PRId64 ".", timestamp);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    memcpy(out, "sha256=", 7);
    hex(mac, sizeof mac, out + 7);
}

void webhook_supporter_id(int64_t campaign_id, int64_t supporter_id,
                          char out[WEBHOOK_SUPPORTER_ID_LEN + 1])
{
    /* A purpose of its own, so the id can never equal a token or a CSRF value. */
    char msg[80];
    int n = snprintf(msg, sizeof msg, "webhook.supporter:%" PRId64 ":%" PRId64, campaign_id,
                     supporter_id);
    char mac[TOKEN_HASH_HEX + 1];
    token_hmac_hex(msg, (size_t)n, mac);
    memcpy(out, mac, WEBHOOK_SUPPORTER_ID_LEN);
    out[WEBHOOK_SUPPORTER_ID_LEN] = '\0';
}

void webhook_event_id(char out[WEBHOOK_EVENT_ID_LEN + 1])
{
    unsigned char raw[WEBHOOK_EVENT_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    hex(raw, sizeof raw, out);
}

static int set(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

int webhook_payload_build(const struct webhook_payload *p, struct buf *out)
{
    char when[21];
    tz_iso_utc(p->occurred_at, when);
    json_t *doc = json_object();
    json_t *supporter = json_object();
    int bad = !doc || !supporter || !p->id || !p->campaign || !p->supporter_id;
    if (!bad) {
        bad |= set(doc, "id", json_string(p->id));
        bad |= set(doc, "event", json_string(webhook_event_name(p->event)));
        bad |= set(doc, "campaign", json_string(p->campaign));
        bad |= set(doc, "occurred_at", json_string(when));
        bad |= set(supporter, "id", json_string(p->supporter_id));
        bad |= json_object_set(doc, "supporter", supporter);
        if (p->event == WEBHOOK_ACTION_CLICKED)
            bad |= set(doc, "target", p->target ? json_string(p->target) : json_null());
    }
    char *text = bad ? NULL : json_dumps(doc, JSON_COMPACT);
    json_decref(supporter);
    json_decref(doc);
    if (!text)
        return -1;
    buf_puts(out, text);
    free(text);
    return buf_failed(out) ? -1 : 0;
}

int64_t webhook_backoff_ms(int attempts, int64_t start_ms)
{
    if (attempts < 1)
        attempts = 1;
    if (start_ms < 1)
        start_ms = 1;
    int64_t base = start_ms;
    for (int i = 1; i < attempts && base < WEBHOOK_BACKOFF_CAP_MS; i++)
        base *= 2;
    if (base > WEBHOOK_BACKOFF_CAP_MS)
        base = WEBHOOK_BACKOFF_CAP_MS;
    int64_t half = base / 2;
    return base - half + (int64_t)randombytes_uniform((uint32_t)half + 1);
}
