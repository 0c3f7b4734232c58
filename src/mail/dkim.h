/*
 * dkim: DKIM signatures (RFC 6376) on the messages muster sends:
 * relaxed/relaxed, rsa-sha256 or ed25519-sha256 (RFC 8463) after the key's
 * type, made with OpenSSL's libcrypto. It owns the signing key (read and
 * parsed once from MUSTER_DKIM_KEY) and the list of signed headers, and
 * writes the DNS TXT record the key implies (`muster dkim-record`). A signer
 * is shared by threads: the parsed key is only read, each signature has its
 * own hashing context.
 */
#ifndef MUSTER_MAIL_DKIM_H
#define MUSTER_MAIL_DKIM_H

#include <stddef.h>

#include "core/buf.h"

struct config;
struct dkim_signer;

enum dkim_key_type { DKIM_KEY_RSA = 1, DKIM_KEY_ED25519 = 2 };

/* The signer for cfg's MUSTER_DKIM_* settings: *out is NULL (and 0 returned)
 * when they are not set. -1 with a message naming the setting in err when the
 * key cannot be read, does not parse, is neither RSA (>= 1024 bits) nor
 * Ed25519, or cannot sign (a trial signature is made). */
int dkim_signer_open(const struct config *cfg, struct dkim_signer **out, char *err, size_t err_len);

/* Appends the "DKIM-Signature: ..." header (folded with CRLF, ending in CRLF)
 * for the whole message msg (RFC 5322, CRLF line ends) to out. Safe to call
 * from several threads at once. Returns 0, or -1 with the reason in err. */
int dkim_signer_sign(const struct dkim_signer *s, const char *msg, size_t len, struct buf *out,
                     char *err, size_t err_len);

enum dkim_key_type dkim_signer_key_type(const struct dkim_signer *s);

void dkim_signer_close(struct dkim_signer *s);

/* The DNS TXT record for cfg's key:
 * `SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=rsa; p=..."`, the value
 * split into quoted strings of at most 255 octets, one line with its LF.
 * Returns 0, or -1 with the reason in err (as dkim_signer_open). */
int dkim_dns_record(const struct config *cfg, struct buf *out, char *err, size_t err_len);

#endif
