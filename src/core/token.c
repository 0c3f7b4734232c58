/*
 * token: HMAC-derived link tokens and random session tokens (see token.h),
 * all on libsodium. Never logs a token.
 */
#include "core/token.h"

#include <sodium.h>
#include <string.h>

static unsigned char server_secret[TOKEN_SECRET_LEN];
/* HMAC-SHA256 with the secret as key, before any message: copied for each
 * MAC, so a link check hashes the key's two pad blocks once per process
 * instead of once per click. Set by token_init, read-only afterwards. */
static crypto_auth_hmacsha256_state keyed_state;

int token_init(const unsigned char secret[TOKEN_SECRET_LEN])
{
    if (sodium_init() < 0)
        return -1;
    memcpy(server_secret, secret, TOKEN_SECRET_LEN);
    if (crypto_auth_hmacsha256_init(&keyed_state, server_secret, TOKEN_SECRET_LEN) != 0)
        return -1;
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

static void link_mac(enum token_purpose purpose, uint64_t key, uint32_t epoch, unsigned char mac[16])
{
    unsigned char msg[13];
    msg[0] = (unsigned char)purpose;
    for (int i = 0; i < 8; i++)
        msg[1 + i] = (unsigned char)(key >> (8 * i));
    for (int i = 0; i < 4; i++)
        msg[9 + i] = (unsigned char)(epoch >> (8 * i));
    unsigned char full[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st = keyed_state;
    crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&st, full);
    memcpy(mac, full, 16);
}

void token_link_make(enum token_purpose purpose, int64_t key, uint32_t epoch,
                     char out[TOKEN_LINK_LEN + 1])
{
    unsigned char raw[24];
    uint64_t k = (uint64_t)key;
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(k >> (8 * i));
    link_mac(purpose, k, epoch, raw + 8);
    sodium_bin2base64(out, TOKEN_LINK_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int token_link_parse(const char *token, struct token_link *out)
{
    unsigned char raw[24];
    size_t bin_len = 0;
    if (!token || strlen(token) != TOKEN_LINK_LEN ||
        sodium_base642bin(raw, sizeof raw, token, TOKEN_LINK_LEN, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bin_len != sizeof raw)
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
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st = keyed_state;
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, mac);
    to_hex(mac, sizeof mac, out);
}
