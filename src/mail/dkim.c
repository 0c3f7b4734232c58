/*
 * dkim: relaxed canonicalization and the signature header (RFC 6376), the
 * key read, checked and used with OpenSSL's libcrypto, the DNS record (see
 * dkim.h). Not libopendkim: Debian's 2.11.0~beta2 parses the PEM key again
 * for every message (about 0.37 ms with OpenSSL 3.0, more than the RSA-2048
 * signature itself and ten times an Ed25519 one) and leaks the parsed key of
 * every Ed25519 signature (about 0.7 KB a message under ASan).
 */
#include "mail/dkim.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/config.h"
#include "core/log.h"
#include "core/banned.h"

/* A PEM private key is a few KiB at most (RSA-8192: 6.3 KiB). */
#define KEY_FILE_MAX (64 * 1024)

/* What is signed (RFC 6376 5.4.1): the headers a reader sees and the ones
 * that drive unsubscribe and feedback loops. Those in OVERSIGNED are also
 * listed once more than they occur, so a header of that name added on the
 * way breaks the signature instead of being shown beside a valid one. */
/* What is signed (RFC 6376 5.4.1): the headers a reader sees and the ones
 * that drive unsubscribe and feedback loops, each named in h= once per
 * occurrence and once more (over-signed, 8.15): a field of that name added on
 * the way breaks the signature instead of being shown beside a valid one.
 * content-transfer-encoding is per part here, never in the top header. */
static const char *const SIGNED[] = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-language",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
};
#define NSIGNED (sizeof SIGNED / sizeof SIGNED[0])
/* Fields seen per signed name; a message has a few dozen headers at most. */
#define FIELDS_MAX 8

struct dkim_signer {
    EVP_PKEY *key; /* read-only once loaded: shared by every signing thread */
    enum dkim_key_type type;
    char selector[64];
    char domain[254];
};

/* Reads the key file and parses it into *pkey. */
static int read_key(const char *path, EVP_PKEY **pkey, char *err, size_t err_len)
{
    *pkey = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "MUSTER_DKIM_KEY: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(KEY_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, KEY_FILE_MAX + 1, f) : 0;
    int read_failed = ferror(f);
    fclose(f);
    if (!text || read_failed || len == 0 || len > KEY_FILE_MAX) {
        snprintf(err, err_len, "MUSTER_DKIM_KEY: %s: %s", path,
                 !text         ? "out of memory"
                 : read_failed ? "read error"
                 : len == 0    ? "the file is empty"
                               : "larger than 64 KiB: not a PEM private key");
        free(text);
        return -1;
    }
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    sodium_memzero(text, len);
    free(text);
    if (!key) {
        snprintf(err, err_len,
                 "MUSTER_DKIM_KEY: %s is not an unencrypted PEM private key (expected "
                 "\"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE KEY-----\")",
                 path);
        return -1;
    }
    *pkey = key;
    return 0;
}

static int key_type(EVP_PKEY *key, const char *path, enum dkim_key_type *type, char *err,
                    size_t err_len)
{
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_ED25519) {
        *type = DKIM_KEY_ED25519;
        return 0;
    }
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 1024) {
            /* RFC 8301 3.2: verifiers must not accept RSA keys under 1024 bits. */
            snprintf(err, err_len,
                     "MUSTER_DKIM_KEY: %s is an RSA key of %d bits; DKIM needs at least 1024 "
                     "(2048 recommended)",
                     path, bits);
            return -1;
        }
        *type = DKIM_KEY_RSA;
        return 0;
    }
    snprintf(err, err_len, "MUSTER_DKIM_KEY: %s is neither an RSA nor an Ed25519 key", path);
    return -1;
}

void dkim_signer_close(struct dkim_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}

enum dkim_key_type dkim_signer_key_type(const struct dkim_signer *s)
{
    return s->type;
}

int dkim_signer_open(const struct config *cfg, struct dkim_signer **out, char *err, size_t err_len)
{
    *out = NULL;
    if (!cfg->dkim_key)
        return 0;
    struct dkim_signer *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (read_key(cfg->dkim_key, &s->key, err, err_len) != 0 ||
        key_type(s->key, cfg->dkim_key, &s->type, err, err_len) != 0) {
        dkim_signer_close(s);
        return -1;
    }
    snprintf(s->selector, sizeof s->selector, "%s", cfg->dkim_selector);
    snprintf(s->domain, sizeof s->domain, "%s", cfg->dkim_domain);
    /* A trial signature: a key that cannot sign is refused at start, not on
     * every message of a launch. */
    static const char trial[] = "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n"
                                "\r\nt\r\n";
    struct buf sig = BUF_INIT;
    char why[200];
    if (dkim_signer_sign(s, trial, sizeof trial - 1, &sig, why, sizeof why) != 0) {
        snprintf(err, err_len, "MUSTER_DKIM_KEY: %s: cannot sign with this key: %s", cfg->dkim_key,
                 why);
        buf_release(&sig);
        dkim_signer_close(s);
        return -1;
    }
    buf_release(&sig);
    /* DMARC passes on DKIM only when d= is the From domain or a parent of it
     * (relaxed alignment, RFC 7489 3.1.1). Allowed, but said. */
    const char *at = strrchr(cfg->from, '@');
    const char *from_domain = at ? at + 1 : "";
    size_t fl = strlen(from_domain), dl = strlen(s->domain);
    int aligned = strcasecmp(from_domain, s->domain) == 0 ||
                  (fl > dl && from_domain[fl - dl - 1] == '.' &&
                   strcasecmp(from_domain + fl - dl, s->domain) == 0);
    if (!aligned)
        log_warn("dkim.not_aligned", "from_domain=%s dkim_domain=%s", from_domain, s->domain);
    *out = s;
    return 0;
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* The "relaxed" body (RFC 6376 3.4.4): runs of WSP become one space, WSP at
 * a line's end goes, empty lines at the end go, a non-empty body ends with
 * CRLF. Fed to the hash line by line. */
static int hash_relaxed_body(EVP_MD_CTX *md, const char *body, size_t len)
{
    struct buf line = BUF_INIT;
    size_t empty_lines = 0;
    size_t at = 0;
    int rc = 0;
    while (at < len && rc == 0) {
        const char *nl = memchr(body + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - body) : len;
        size_t stop = end > at && body[end - 1] == '\r' ? end - 1 : end;
        buf_reset(&line);
        for (size_t i = at; i < stop; i++) {
            if (is_wsp(body[i])) {
                while (i + 1 < stop && is_wsp(body[i + 1]))
                    i++;
                if (i + 1 < stop) /* not trailing */
                    buf_putc(&line, ' ');
            } else {
                buf_putc(&line, body[i]);
            }
        }
        at = nl ? end + 1 : len;
        if (buf_failed(&line)) {
            rc = -1;
            break;
        }
        if (line.len == 0) {
            empty_lines++;
            continue;
        }
        for (; empty_lines > 0 && rc == 0; empty_lines--)
            rc = EVP_DigestUpdate(md, "\r\n", 2) == 1 ? 0 : -1;
        if (rc == 0 && (EVP_DigestUpdate(md, line.data, line.len) != 1 ||
                        EVP_DigestUpdate(md, "\r\n", 2) != 1))
            rc = -1;
    }
    buf_release(&line);
    return rc;
}

/* Appends one header field in "relaxed" form (RFC 6376 3.4.2): the name
 * lowercase, unfolded, runs of WSP one space, none around the colon nor at
 * the end; then CRLF when crlf. */
static void put_relaxed_header(struct buf *out, const char *field, size_t len, int crlf)
{
    const char *colon = memchr(field, ':', len);
    size_t name_end = (size_t)(colon - field);
    while (name_end > 0 && is_wsp(field[name_end - 1]))
        name_end--;
    for (size_t i = 0; i < name_end; i++) {
        char c = field[i];
        buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
    buf_putc(out, ':');
    size_t i = (size_t)(colon - field) + 1;
    int pending_space = 0, started = 0;
    for (; i < len; i++) {
        char c = field[i];
        if (c == '\r' || c == '\n' || is_wsp(c)) {
            pending_space = started;
            continue;
        }
        if (pending_space)
            buf_putc(out, ' ');
        pending_space = 0;
        started = 1;
        buf_putc(out, c);
    }
    if (crlf)
        buf_puts(out, "\r\n");
}

struct field {
    const char *start;
    size_t len; /* without the CRLF that ends it */
};

/* The header fields of msg (up to the empty line), and where the body starts. */
static int split_header(const char *msg, size_t len, struct field *fields, size_t max,
                        size_t *nfields, size_t *body)
{
    size_t n = 0, at = 0;
    while (at < len) {
        const char *nl = memchr(msg + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - msg) : len;
        size_t stop = end > at && msg[end - 1] == '\r' ? end - 1 : end;
        size_t next = nl ? end + 1 : len;
        if (stop == at) { /* the empty line */
            *nfields = n;
            *body = next;
            return 0;
        }
        if (is_wsp(msg[at])) { /* a continuation line */
            if (n == 0)
                return -1;
            fields[n - 1].len = stop - (size_t)(fields[n - 1].start - msg);
        } else {
            if (n == max || !memchr(msg + at, ':', stop - at))
                return -1;
            fields[n].start = msg + at;
            fields[n].len = stop - at;
            n++;
        }
        at = next;
    }
    *nfields = n;
    *body = len;
    return 0;
}

static int field_is(const struct field *f, const char *name)
{
    size_t n = strlen(name);
    if (f->len <= n || strncasecmp(f->start, name, n) != 0)
        return 0;
    for (size_t i = n; i < f->len; i++) {
        if (f->start[i] == ':')
            return 1;
        if (!is_wsp(f->start[i]))
            return 0;
    }
    return 0;
}

/* Appends s to out, folding (CRLF TAB) before a piece that would pass 76
 * columns; *col tracks the current column. */
static void put_folded(struct buf *out, size_t *col, const char *s, size_t len, int may_split)
{
    while (len > 0) {
        size_t room = *col < 76 ? 76 - *col : 0;
        if (room == 0 || (!may_split && len > room && *col > 1)) {
            buf_puts(out, "\r\n\t");
            *col = 1;
            room = 75;
        }
        size_t n = may_split ? (len < room ? len : room) : len;
        buf_append(out, s, n);
        *col += n;
        s += n;
        len -= n;
    }
}

int dkim_signer_sign(const struct dkim_signer *s, const char *msg, size_t len, struct buf *out,
                     char *err, size_t err_len)
{
    struct field fields[256];
    size_t nfields = 0, body = 0;
    if (split_header(msg, len, fields, sizeof fields / sizeof fields[0], &nfields, &body) != 0) {
        snprintf(err, err_len, "the message's header cannot be parsed");
        return -1;
    }
    int rc = -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct buf data = BUF_INIT, header = BUF_INIT;
    unsigned char body_hash[32], signature[512];
    unsigned int body_hash_len = 0;
    size_t signature_len = sizeof signature;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        hash_relaxed_body(md, msg + body, len - body) != 0 ||
        EVP_DigestFinal_ex(md, body_hash, &body_hash_len) != 1) {
        snprintf(err, err_len, "cannot hash the body");
        goto done;
    }
    char bh[64];
    sodium_bin2base64(bh, sizeof bh, body_hash, body_hash_len, sodium_base64_VARIANT_ORIGINAL);

    /* The signed fields, each name's instances from the last up (5.4.2),
     * then the name once more for the instance that must not appear. */
    struct buf names = BUF_INIT;
    for (size_t k = 0; k < NSIGNED; k++) {
        for (size_t i = nfields; i-- > 0;) {
            if (!field_is(&fields[i], SIGNED[k]))
                continue;
            put_relaxed_header(&data, fields[i].start, fields[i].len, 1);
            buf_printf(&names, "%s:", SIGNED[k]);
        }
        buf_printf(&names, "%s%s", SIGNED[k], k + 1 < NSIGNED ? ":" : "");
    }
    size_t col = strlen("DKIM-Signature: ");
    char head[400];
    snprintf(head, sizeof head, "v=1; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%lld;",
             s->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256", s->domain, s->selector,
             (long long)time(NULL));
    buf_puts(&header, "DKIM-Signature: ");
    /* Folded between tags; h= between names; bh= and b= anywhere (their
     * values are base64, in which a verifier ignores white space). */
    const char *tag = head;
    while (*tag) {
        const char *semi = strchr(tag, ';');
        size_t tl = (size_t)(semi - tag) + 1;
        if (tag != head) {
            buf_putc(&header, ' ');
            col++;
        }
        put_folded(&header, &col, tag, tl, 0);
        tag = semi + 1;
        while (*tag == ' ')
            tag++;
    }
    buf_putc(&header, ' ');
    col++;
    put_folded(&header, &col, "h=", 2, 0);
    const char *name = names.data ? names.data : "";
    while (*name) {
        const char *sep = strchr(name, ':');
        size_t nl = sep ? (size_t)(sep - name) + 1 : strlen(name);
        put_folded(&header, &col, name, nl, 0);
        name += nl;
    }
    buf_release(&names);
    buf_putc(&header, ';');
    col++;
    buf_putc(&header, ' ');
    col++;
    put_folded(&header, &col, "bh=", 3, 0);
    put_folded(&header, &col, bh, strlen(bh), 1);
    buf_putc(&header, ';');
    col++;
    buf_putc(&header, ' ');
    col++;
    put_folded(&header, &col, "b=", 2, 0);
    /* The signature's own header, b= empty, without its CRLF (3.7). */
    put_relaxed_header(&data, header.data, header.len, 0);
    if (buf_failed(&data) || buf_failed(&header)) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    /* rsa-sha256 signs the data with SHA-256 (RSASSA-PKCS1-v1_5); ed25519-sha256
     * signs the SHA-256 hash of the data with PureEdDSA (RFC 8463 3). */
    unsigned char data_hash[32];
    const unsigned char *to_sign = (const unsigned char *)data.data;
    size_t to_sign_len = data.len;
    if (s->type == DKIM_KEY_ED25519) {
        unsigned int hl = 0;
        if (EVP_Digest(data.data, data.len, data_hash, &hl, EVP_sha256(), NULL) != 1) {
            snprintf(err, err_len, "cannot hash the header");
            goto done;
        }
        to_sign = data_hash;
        to_sign_len = hl;
    }
    EVP_MD_CTX_reset(md);
    if (EVP_DigestSignInit(md, NULL, s->type == DKIM_KEY_ED25519 ? NULL : EVP_sha256(), NULL,
                           s->key) != 1 ||
        EVP_DigestSign(md, signature, &signature_len, to_sign, to_sign_len) != 1) {
        snprintf(err, err_len, "the signing operation failed");
        goto done;
    }
    size_t b64_len = sodium_base64_encoded_len(signature_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    sodium_bin2base64(b64, b64_len, signature, signature_len, sodium_base64_VARIANT_ORIGINAL);
    put_folded(&header, &col, b64, strlen(b64), 1);
    free(b64);
    buf_puts(&header, "\r\n");
    if (buf_failed(&header) || buf_append(out, header.data, header.len) != 0) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    rc = 0;
done:
    EVP_MD_CTX_free(md);
    buf_release(&data);
    buf_release(&header);
    return rc;
}

int dkim_dns_record(const struct config *cfg, struct buf *out, char *err, size_t err_len)
{
    if (!cfg->dkim_key) {
        snprintf(err, err_len,
                 "MUSTER_DKIM_KEY, MUSTER_DKIM_SELECTOR and MUSTER_DKIM_DOMAIN are not set");
        return -1;
    }
    EVP_PKEY *key = NULL;
    enum dkim_key_type type;
    if (read_key(cfg->dkim_key, &key, err, err_len) != 0)
        return -1;
    if (key_type(key, cfg->dkim_key, &type, err, err_len) != 0) {
        EVP_PKEY_free(key);
        return -1;
    }
    /* RSA: the SubjectPublicKeyInfo DER (RFC 6376 3.6.1); Ed25519: the raw
     * 32-octet public key (RFC 8463 4.2). */
    unsigned char raw[32], *der = NULL;
    int der_len = 0;
    size_t raw_len = sizeof raw;
    if (type == DKIM_KEY_RSA)
        der_len = i2d_PUBKEY(key, &der);
    else if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) == 1)
        der_len = (int)raw_len;
    EVP_PKEY_free(key);
    if (der_len <= 0) {
        snprintf(err, err_len, "MUSTER_DKIM_KEY: %s: cannot derive the public key", cfg->dkim_key);
        OPENSSL_free(der);
        return -1;
    }
    size_t b64_len = sodium_base64_encoded_len((size_t)der_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64) {
        OPENSSL_free(der);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    sodium_bin2base64(b64, b64_len, type == DKIM_KEY_RSA ? der : raw, (size_t)der_len,
                      sodium_base64_VARIANT_ORIGINAL);
    OPENSSL_free(der);
    struct buf value = BUF_INIT;
    buf_printf(&value, "v=DKIM1; k=%s; p=%s", type == DKIM_KEY_RSA ? "rsa" : "ed25519", b64);
    free(b64);
    buf_printf(out, "%s._domainkey.%s. IN TXT", cfg->dkim_selector, cfg->dkim_domain);
    /* A TXT record's strings are at most 255 octets each (RFC 1035 3.3);
     * resolvers join them (RFC 6376 3.6.2.2). The value has no quote or
     * backslash to escape (base64, letters, '=', ';'). */
    for (size_t at = 0; at < value.len; at += 255) {
        size_t n = value.len - at < 255 ? value.len - at : 255;
        buf_printf(out, " \"%.*s\"", (int)n, value.data + at);
    }
    buf_putc(out, '\n');
    int failed = buf_failed(&value) || buf_failed(out);
    buf_release(&value);
    if (failed) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}
