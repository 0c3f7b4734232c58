/*
 * hook_keys: loads and checks the webhooks' verification keys and verifies
 * signatures with OpenSSL's libcrypto (see hook_keys.h).
 */
#include "core/hook_keys.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

#define KEY_TEXT_MAX 4096         /* a P-256 SPKI is 91 bytes, 124 in base64 */
#define CERT_FILE_MAX (64 * 1024) /* one certificate in PEM is a few KiB */
#define RSA_BITS_MIN 2048

struct hook_key {
    EVP_PKEY *pkey;
};

static struct hook_key *wrap(EVP_PKEY *pkey, char *err, size_t err_len, const char *setting)
{
    struct hook_key *key = malloc(sizeof *key);
    if (!key) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "%s: out of memory", setting);
        return NULL;
    }
    key->pkey = pkey;
    return key;
}

struct hook_key *hook_key_ec_p256_from_base64(const char *setting, const char *text, char *err,
                                              size_t err_len)
{
    size_t text_len = strlen(text);
    unsigned char der[KEY_TEXT_MAX];
    size_t der_len = 0;
    const char *end = NULL;
    if (text_len > KEY_TEXT_MAX ||
        sodium_base642bin(der, sizeof der, text, text_len, NULL, &der_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text + text_len || der_len == 0) {
        snprintf(err, err_len,
                 "%s: expected the verification key as SendGrid shows it (base64 of a DER "
                 "public key, e.g. \"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...\"), got %zu "
                 "characters that are not base64",
                 setting, text_len);
        return NULL;
    }
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)der_len);
    if (!pkey || p != der + der_len) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "%s: the base64 value is not a DER SubjectPublicKeyInfo", setting);
        return NULL;
    }
    char curve[64] = "";
    size_t curve_len = 0;
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof curve, &curve_len) != 1 ||
        strcmp(curve, SN_X9_62_prime256v1) != 0) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "%s: expected an ECDSA P-256 (prime256v1) public key, got %s",
                 setting, curve[0] ? curve : "another kind of key");
        return NULL;
    }
    return wrap(pkey, err, err_len, setting);
}

struct hook_key *hook_key_rsa_from_cert_file(const char *setting, const char *path, char *err,
                                             size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot read %s: %s", setting, path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CERT_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, CERT_FILE_MAX + 1, f) : 0;
    int read_failed = ferror(f);
    fclose(f);
    if (!text || read_failed || len == 0 || len > CERT_FILE_MAX) {
        snprintf(err, err_len, "%s: %s: %s", setting, path,
                 !text         ? "out of memory"
                 : read_failed ? "read error"
                 : len == 0    ? "the file is empty"
                               : "larger than 64 KiB: not one PEM certificate");
        free(text);
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(text);
    if (!cert) {
        snprintf(err, err_len,
                 "%s: %s is not a PEM certificate (expected \"-----BEGIN CERTIFICATE-----\", "
                 "the file SNS's SigningCertURL names)",
                 setting, path);
        return NULL;
    }
    EVP_PKEY *pkey = X509_get_pubkey(cert);
    X509_free(cert);
    if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bits(pkey) < RSA_BITS_MIN) {
        int bits = pkey ? EVP_PKEY_get_bits(pkey) : 0;
        const char *what = !pkey                                        ? "no readable key"
                           : EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA ? "an RSA key"
                                                                        : "a key of another kind";
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "%s: %s: expected an RSA key of %d bits or more, got %s of %d bits",
                 setting, path, RSA_BITS_MIN, what, bits);
        return NULL;
    }
    return wrap(pkey, err, err_len, setting);
}

int hook_key_verify(const struct hook_key *key, enum hook_digest digest, const char *const *parts,
                    const size_t *part_lens, size_t count, const unsigned char *signature,
                    size_t signature_len)
{
    if (!key || !signature || signature_len == 0)
        return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return 0;
    const EVP_MD *md = digest == HOOK_DIGEST_SHA1 ? EVP_sha1() : EVP_sha256();
    int ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) == 1;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestVerifyUpdate(ctx, parts[i], part_lens[i]) == 1;
    ok = ok && EVP_DigestVerifyFinal(ctx, signature, signature_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        ERR_clear_error(); /* a bad signature is an answer, not an error to keep */
    return ok;
}

void hook_key_free(struct hook_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}
