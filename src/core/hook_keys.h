/*
 * hook_keys: the public keys that authenticate the providers' bounce
 * webhooks (pages/hooks.c): SendGrid's ECDSA P-256 verification key
 * (MUSTER_SENDGRID_KEY, the base64 DER SubjectPublicKeyInfo SendGrid shows)
 * and the RSA key of the certificate that signs Amazon SNS messages
 * (MUSTER_SES_CERT, a PEM file). Loaded and checked once at start by
 * config_load; read-only afterwards, so every HTTP thread may verify with the
 * same key at once. Owns the OpenSSL key objects.
 */
#ifndef MUSTER_CORE_HOOK_KEYS_H
#define MUSTER_CORE_HOOK_KEYS_H

#include <stddef.h>

struct hook_key;

/* The digest a signature is made over. */
enum hook_digest { HOOK_DIGEST_SHA1, HOOK_DIGEST_SHA256 };

/* SETTING's value TEXT as base64 (standard alphabet, no line breaks) of a DER
 * SubjectPublicKeyInfo holding an EC key on P-256. NULL with a one-line
 * message naming SETTING in err when it is not. The caller frees the key. */
struct hook_key *hook_key_ec_p256_from_base64(const char *setting, const char *text, char *err,
                                              size_t err_len);

/* The RSA public key (2048 bits or more) of the PEM X.509 certificate at
 * PATH. NULL with a one-line message naming SETTING in err when the file
 * cannot be read or does not hold one. The caller frees the key. */
struct hook_key *hook_key_rsa_from_cert_file(const char *setting, const char *path, char *err,
                                             size_t err_len);

/* 1 when SIGNATURE (SIGNATURE_LEN bytes: DER ECDSA-Sig-Value for an EC key,
 * PKCS#1 v1.5 for an RSA key) is KEY's over the concatenation of the COUNT
 * PARTS (PART_LENS bytes each) hashed with DIGEST; 0 when not (or on any
 * error: nothing unverified passes). */
int hook_key_verify(const struct hook_key *key, enum hook_digest digest, const char *const *parts,
                    const size_t *part_lens, size_t count, const unsigned char *signature,
                    size_t signature_len);

void hook_key_free(struct hook_key *key);

#endif
