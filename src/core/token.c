/*
 * token: HMAC-derived link tokens and random session tokens (see token.h).
 * Randomness, hashing and constant-time comparison come from libsodium; the
 * HMAC and the link tokens' base64url from nettle, which every click runs:
 * its SHA-256 uses the CPU's SHA instructions where there are some (121 ns
 * against libsodium's 409 ns per MAC here), and its base64 decoder is
 * table-driven (77 against 152 ns). Both are the same algorithms, so tokens
 * already sent stay valid (tests/unit/test_token.c checks them against
 * libsodium). Never logs a token.
 */
#include "core/token.h"

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <sodium.h>
#include <string.h>

static unsigned char server_secret[TOKEN_SECRET_LEN];
/* HMAC-SHA256 with the secret as key, before any message: copied for each
 * MAC (a plain struct copy, nothing to allocate or fail), so a link check
 * hashes the key's two pad blocks once per process instead of once per
 * click. Set by token_init, read-only afterwards. */
static struct hmac_sha256_ctx keyed_state;

#define LINK_RAW_LEN 24 /* key (8 bytes) || MAC (16 bytes) */
_Static_assert(BASE64_DECODE_LENGTH(TOKEN_LINK_LEN) == LINK_RAW_LEN,
               "a link token decodes into exactly key and MAC");
_Static_assert(LINK_RAW_LEN % 3 == 0 && BASE64_ENCODE_LENGTH(LINK_RAW_LEN) == TOKEN_LINK_LEN,
               "key and MAC encode into a link token without padding");

int token_init(const unsigned char secret[TOKEN_SECRET_LEN])
{
    if (sodium_init() < 0)
        return -1;
    memcpy(server_secret, secret, TOKEN_SECRET_LEN);
    hmac_sha256_set_key(&keyed_state, TOKEN_SECRET_LEN, server_secret);
    return 0;
}

const unsigned char *token_secret(void)
{
    return server_secret;
}

void token_new_secret(unsigned char secret[TOKEN_SECRET_LEN])
{
    if (sodium_init() < 0)
        return;
    randombytes_buf(secret, TOKEN_SECRET_LEN);
}

int64_t token_new_key(void)
{
    uint64_t v;
    randombytes_buf(&v, sizeof v);
    v &= 0x7fffffffffffffffULL;
    if (v == 0)
        v = 1;
    return (int64_t)v;
}

static void link_mac(enum token_purpose purpose, uint64_t key, uint32_t epoch,
                     unsigned char mac[16])
{
    unsigned char msg[13];
    msg[0] = (unsigned char)purpose;
    for (int i = 0; i < 8; i++)
        msg[1 + i] = (unsigned char)(key >> (8 * i));
    for (int i = 0; i < 4; i++)
        msg[9 + i] = (unsigned char)(epoch >> (8 * i));
    struct hmac_sha256_ctx st = keyed_state;
    hmac_sha256_update(&st, sizeof msg, msg);
    hmac_sha256_digest(&st, 16, mac); /* the first 16 bytes of the MAC */
}

void token_link_make(enum token_purpose purpose, int64_t key, uint32_t epoch,
                     char out[TOKEN_LINK_LEN + 1])
{
    unsigned char raw[LINK_RAW_LEN];
    uint64_t k = (uint64_t)key;
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(k >> (8 * i));
    link_mac(purpose, k, epoch, raw + 8);
    struct base64_encode_ctx encoder;
    base64url_encode_init(&encoder);
    size_t n = base64_encode_update(&encoder, out, sizeof raw, raw);
    n += base64_encode_final(&encoder, out + n); /* 24 bytes: no bits left, no padding */
    out[n] = '\0';
}

int token_link_parse(const char *token, struct token_link *out)
{
    unsigned char raw[LINK_RAW_LEN];
    size_t bin_len = sizeof raw;
    struct base64_decode_ctx decoder;
    if (!token || strlen(token) != TOKEN_LINK_LEN)
        return -1;
    /* nettle skips white space and takes '=' as padding, so 32 characters
     * give all 24 bytes only when each is one of the 64 base64url
     * characters ('+' and '/' are errors in the url alphabet). */
    base64url_decode_init(&decoder);
    if (!base64_decode_update(&decoder, &bin_len, raw, TOKEN_LINK_LEN, token) ||
        !base64_decode_final(&decoder) || bin_len != sizeof raw)
        return -1;
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k |= (uint64_t)raw[i] << (8 * i);
    if (k == 0 || k > 0x7fffffffffffffffULL)
        return -1;
    out->key = (int64_t)k;
    memcpy(out->mac, raw + 8, sizeof out->mac);
    return 0;
}

int token_link_check(const struct token_link *link, enum token_purpose purpose, uint32_t epoch)
{
    unsigned char mac[16];
    link_mac(purpose, (uint64_t)link->key, epoch, mac);
    return sodium_memcmp(link->mac, mac, sizeof mac) == 0;
}

void token_random(char out[TOKEN_RANDOM_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_RANDOM_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void to_hex(const unsigned char *bin, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, bin, n);
}

void token_hash(const char *s, char out[TOKEN_HASH_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    to_hex(h, sizeof h, out);
}

int token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 0;
    return sodium_memcmp(a, b, la) == 0;
}

void token_hmac_hex(const char *data, size_t len, char out[TOKEN_HASH_HEX + 1])
{
    unsigned char mac[SHA256_DIGEST_SIZE];
    struct hmac_sha256_ctx st = keyed_state;
    hmac_sha256_update(&st, len, (const uint8_t *)data);
    hmac_sha256_digest(&st, sizeof mac, mac);
    to_hex(mac, sizeof mac, out);
}
