/*
 * test_token: the supporter link tokens and the random tokens of
 * src/core/token.c: shape (32 base64url characters, no padding), round trip,
 * that a token only checks for its own purpose, key and epoch, that any
 * changed character fails, and that malformed strings are refused. The
 * HMAC and the base64url come from nettle; libsodium's versions are the
 * reference they must agree with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/token.h"

static int setup_secret(void **state)
{
    (void)state;
    unsigned char secret[TOKEN_SECRET_LEN];
    for (int i = 0; i < TOKEN_SECRET_LEN; i++)
        secret[i] = (unsigned char)(i * 7 + 3);
    return token_init(secret);
}

static int is_base64url(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static void test_link_token_is_32_base64url_characters(void **state)
{
    (void)state;
    char t[TOKEN_LINK_LEN + 1];
    token_link_make(TOKEN_ACTION, 123456789, 0, t);
    assert_int_equal(strlen(t), 32);
    assert_true(is_base64url(t));
    assert_null(strchr(t, '='));
}

/* The format docs/ARCHITECTURE.md gives (key || HMAC-SHA256(secret, purpose
 * || key || epoch)[0..16]), computed here with one-shot HMAC calls: the
 * secret's precomputed HMAC state must give the same MACs, every time. */
static void test_link_token_is_the_documented_hmac(void **state)
{
    (void)state;
    unsigned char secret[TOKEN_SECRET_LEN];
    for (int i = 0; i < TOKEN_SECRET_LEN; i++)
        secret[i] = (unsigned char)(i * 7 + 3);
    for (int round = 0; round < 3; round++) {
        uint64_t key = 0x0123456789abcdefULL + (uint64_t)round;
        uint32_t epoch = 7u + (uint32_t)round;
        unsigned char msg[13], mac[crypto_auth_hmacsha256_BYTES], raw[24];
        msg[0] = (unsigned char)TOKEN_ACTION;
        for (int i = 0; i < 8; i++)
            msg[1 + i] = raw[i] = (unsigned char)(key >> (8 * i));
        for (int i = 0; i < 4; i++)
            msg[9 + i] = (unsigned char)(epoch >> (8 * i));
        crypto_auth_hmacsha256(mac, msg, sizeof msg, secret);
        memcpy(raw + 8, mac, 16);
        char want[TOKEN_LINK_LEN + 1], got[TOKEN_LINK_LEN + 1];
        sodium_bin2base64(want, sizeof want, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        token_link_make(TOKEN_ACTION, (int64_t)key, epoch, got);
        assert_string_equal(got, want);
    }
}

static void test_link_token_round_trips_its_key(void **state)
{
    (void)state;
    char t[TOKEN_LINK_LEN + 1];
    int64_t key = token_new_key();
    struct token_link link;
    token_link_make(TOKEN_CONFIRM, key, 4, t);
    assert_int_equal(token_link_parse(t, &link), 0);
    assert_true(link.key == key);
    assert_true(token_link_check(&link, TOKEN_CONFIRM, 4));
}

static void test_link_token_checks_only_for_its_purpose_and_epoch(void **state)
{
    (void)state;
    char t[TOKEN_LINK_LEN + 1];
    struct token_link link;
    token_link_make(TOKEN_UNSUBSCRIBE, 42, 1, t);
    assert_int_equal(token_link_parse(t, &link), 0);
    assert_true(token_link_check(&link, TOKEN_UNSUBSCRIBE, 1));
    assert_false(token_link_check(&link, TOKEN_ACTION, 1));
    assert_false(token_link_check(&link, TOKEN_CONFIRM, 1));
    assert_false(token_link_check(&link, TOKEN_UNSUBSCRIBE, 2)); /* revoked by a new epoch */
    /* The MAC covers the key: the same MAC under another key fails. */
    link.key = 43;
    assert_false(token_link_check(&link, TOKEN_UNSUBSCRIBE, 1));
}

/* A changed character either makes the token malformed or changes its key
 * or its MAC; none of them checks. */
static void test_any_changed_character_fails_the_check(void **state)
{
    (void)state;
    char t[TOKEN_LINK_LEN + 1];
    token_link_make(TOKEN_ACTION, 987654321, 0, t);
    int parsed = 0;
    for (int i = 0; i < TOKEN_LINK_LEN; i++) {
        char copy[TOKEN_LINK_LEN + 1];
        memcpy(copy, t, sizeof copy);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        struct token_link link;
        if (token_link_parse(copy, &link) != 0)
            continue;
        parsed++;
        assert_false(token_link_check(&link, TOKEN_ACTION, 0));
    }
    assert_true(parsed >= TOKEN_LINK_LEN - 11); /* every change in the MAC parses */
}

static void test_malformed_tokens_are_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "short",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* 33 characters */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* 31 characters */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",   /* padding */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/",   /* standard alphabet */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* well-formed, key 0 */
        "_________________________________", /* 33 characters */
        "__________AAAAAAAAAAAAAAAAAAAAAA",   /* well-formed, key over 2^63 - 1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct token_link link;
        assert_int_not_equal(token_link_parse(bad[i], &link), 0);
    }
    assert_int_not_equal(token_link_parse(NULL, NULL), 0);
}

static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* The parser decodes with nettle; libsodium's strict base64url decoder (the
 * one the parser used before) is the reference. 200,000 strings of 32
 * characters, mostly base64url, some with a space, a tab, '=', '+', '/', '.'
 * or '%' at random places: both accept the same ones, with the same bytes. */
static void test_parse_agrees_with_libsodium_on_random_strings(void **state)
{
    (void)state;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const char intruders[] = " \t=+/.%";
    uint64_t rng = 0x9e3779b97f4a7c15ULL; /* xorshift64: the same strings every run */
#define NEXT(n) (int)(xorshift64(&rng) % (n))
    int accepted = 0, refused = 0;
    for (int round = 0; round < 200000; round++) {
        char t[TOKEN_LINK_LEN + 1];
        for (int i = 0; i < TOKEN_LINK_LEN; i++)
            t[i] = alphabet[NEXT(64)];
        int intrusions = NEXT(4) == 0 ? 1 + NEXT(2) : 0;
        for (int k = 0; k < intrusions; k++)
            t[NEXT(TOKEN_LINK_LEN)] = intruders[NEXT(8)];
        t[TOKEN_LINK_LEN] = '\0';

        unsigned char raw[24];
        size_t raw_len = 0;
        int sodium_ok = sodium_base642bin(raw, sizeof raw, t, TOKEN_LINK_LEN, NULL, &raw_len, NULL,
                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                        raw_len == sizeof raw;
        uint64_t key = 0;
        for (int i = 0; sodium_ok && i < 8; i++)
            key |= (uint64_t)raw[i] << (8 * i);
        int want = sodium_ok && key != 0 && key <= 0x7fffffffffffffffULL;

        struct token_link link;
        int got = token_link_parse(t, &link) == 0;
        assert_int_equal(got, want);
        if (got) {
            assert_true((uint64_t)link.key == key);
            assert_memory_equal(link.mac, raw + 8, 16);
            accepted++;
        } else {
            refused++;
        }
    }
#undef NEXT
    assert_true(accepted > 50000 && refused > 50000); /* both sides were tried */
}

/* token_hmac_hex (CSRF tokens, webhook ids, Message-IDs' signatures) is
 * plain HMAC-SHA256 under the secret: libsodium's one-shot gives the same. */
static void test_hmac_hex_is_hmac_sha256(void **state)
{
    (void)state;
    unsigned char secret[TOKEN_SECRET_LEN];
    for (int i = 0; i < TOKEN_SECRET_LEN; i++)
        secret[i] = (unsigned char)(i * 7 + 3);
    static const char *messages[] = {"", "abc", "campaign 7 supporter 12345",
                                     "a message longer than one SHA-256 block of sixty-four "
                                     "bytes, so the update crosses a block boundary"};
    for (size_t m = 0; m < sizeof messages / sizeof messages[0]; m++) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, secret, sizeof secret);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)messages[m], strlen(messages[m]));
        crypto_auth_hmacsha256_final(&st, mac);
        char want[TOKEN_HASH_HEX + 1], got[TOKEN_HASH_HEX + 1];
        sodium_bin2hex(want, sizeof want, mac, sizeof mac);
        token_hmac_hex(messages[m], strlen(messages[m]), got);
        assert_string_equal(got, want);
    }
}

static void test_random_tokens_differ_and_hash_to_64_hex(void **state)
{
    (void)state;
    char a[TOKEN_RANDOM_LEN + 1], b[TOKEN_RANDOM_LEN + 1], h[TOKEN_HASH_HEX + 1];
    token_random(a);
    token_random(b);
    assert_int_equal(strlen(a), TOKEN_RANDOM_LEN);
    assert_true(is_base64url(a));
    assert_string_not_equal(a, b);
    token_hash(a, h);
    assert_int_equal(strlen(h), 64);
    assert_int_equal(strspn(h, "0123456789abcdef"), 64);
    /* SHA-256("abc"), FIPS 180-2 test vector */
    token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_token_equal_compares_whole_strings(void **state)
{
    (void)state;
    assert_true(token_equal("abc", "abc"));
    assert_false(token_equal("abc", "abd"));
    assert_false(token_equal("abc", "abcd"));
    assert_false(token_equal("", "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_token_is_32_base64url_characters),
        cmocka_unit_test(test_link_token_is_the_documented_hmac),
        cmocka_unit_test(test_link_token_round_trips_its_key),
        cmocka_unit_test(test_link_token_checks_only_for_its_purpose_and_epoch),
        cmocka_unit_test(test_any_changed_character_fails_the_check),
        cmocka_unit_test(test_malformed_tokens_are_refused),
        cmocka_unit_test(test_parse_agrees_with_libsodium_on_random_strings),
        cmocka_unit_test(test_hmac_hex_is_hmac_sha256),
        cmocka_unit_test(test_random_tokens_differ_and_hash_to_64_hex),
        cmocka_unit_test(test_token_equal_compares_whole_strings),
    };
    return cmocka_run_group_tests(tests, setup_secret, NULL);
}
