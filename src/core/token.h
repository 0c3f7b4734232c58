/*
 * token: the unforgeable strings in supporters' links and organizers' sessions.
 *
 * Supporter link tokens are derived, never stored: base64url (no padding) of
 *   key (8 bytes, random per supporter, stored) || HMAC-SHA256(secret, purpose || key || epoch)[0..16]
 * so a link can be shown again (derive it), revoked (bump the supporter's
 * epoch, or erase the row), and guessing one needs 128 bits. Session and API
 * tokens are random (256 bits) and stored only as their SHA-256.
 * The server secret is 32 random bytes kept in the database (store meta).
 */
#ifndef MUSTER_CORE_TOKEN_H
#define MUSTER_CORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_SECRET_LEN 32
#define TOKEN_LINK_LEN 32 /* characters of a link token */
#define TOKEN_RANDOM_LEN 43 /* characters of a 32-byte random token */
#define TOKEN_HASH_HEX 64

enum token_purpose {
    TOKEN_CONFIRM = 'c',
    TOKEN_ACTION = 'a',
    TOKEN_UNSUBSCRIBE = 'u',
    TOKEN_CALENDAR = 'i',
    /* Confirms a held change (a re-pledge): its epoch is the supporter's
     * change number, so only the link mailed with the newest change works,
     * and the first confirmation link never confirms someone else's words. */
    TOKEN_CONFIRM_CHANGE = 'h',
    /* The link of a test reminder (`muster launch SLUG --test ADDRESS`): its
     * key is the campaign's id, its epoch 0; it opens the campaign's action
     * and counts nothing. */
    TOKEN_TEST = 't',
};

/* Must be called once before any token is made (sodium_init included). */
int token_init(const unsigned char secret[TOKEN_SECRET_LEN]);
/* Fills secret with fresh random bytes (for `muster init`). */
void token_new_secret(unsigned char secret[TOKEN_SECRET_LEN]);
/* A fresh random 63-bit lookup key (positive, fits an SQLite INTEGER). */
int64_t token_new_key(void);

/* out receives TOKEN_LINK_LEN characters plus NUL. */
void token_link_make(enum token_purpose purpose, int64_t key, uint32_t epoch,
                     char out[TOKEN_LINK_LEN + 1]);
/* A link token split into its parts (no secret in it: both parts are in the
 * link the supporter holds). */
struct token_link {
    int64_t key;
    unsigned char mac[16];
};
/* Splits a link token; returns 0 and fills *out when it is well-formed
 * (does not say whether it is valid: use token_link_check with the epoch). */
int token_link_parse(const char *token, struct token_link *out);
/* 1 when link is the one token_link_make gives for purpose, its key and
 * epoch (constant time). */
int token_link_check(const struct token_link *link, enum token_purpose purpose, uint32_t epoch);

/* out receives TOKEN_RANDOM_LEN characters plus NUL. */
void token_random(char out[TOKEN_RANDOM_LEN + 1]);
/* hex SHA-256 of s, for storing session and API tokens. */
void token_hash(const char *s, char out[TOKEN_HASH_HEX + 1]);
/* Constant-time string equality (lengths compared first). */
int token_equal(const char *a, const char *b);
/* HMAC-SHA256 under the server secret, hex; for CSRF and webhook ids. */
void token_hmac_hex(const char *data, size_t len, char out[TOKEN_HASH_HEX + 1]);
/* The raw server secret (32 bytes), for modules that sign (Message-IDs). */
const unsigned char *token_secret(void);

#endif
