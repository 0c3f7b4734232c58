/*
 * fuzz_dkim: the hand-written part of DKIM signing (mail/dkim.c: splitting a
 * message into header fields and body, relaxed canonicalization, folding the
 * DKIM-Signature header) on arbitrary bytes, with an Ed25519 key made at
 * start. Whatever the input, a signature is refused with a reason or is one
 * header field: it starts "DKIM-Signature: ", ends with CRLF, every line ends
 * with CRLF, every line after the first is folded (starts with a space or a
 * tab), and it carries no NUL and no other control character but tab, CR
 * and LF; anything else abort()s.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "mail/dkim.h"
#include "core/banned.h"

static struct dkim_signer *signer;

/* An Ed25519 key in a temporary PEM file, read by dkim_signer_open as
 * MUSTER_DKIM_KEY would be. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char path[] = "/tmp/fuzz_dkim_keyXXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!key || !f || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    fclose(f);
    EVP_PKEY_free(key);
    struct config cfg = {0};
    cfg.dkim_key = path;
    cfg.dkim_selector = "fuzz";
    cfg.dkim_domain = "example.org";
    cfg.from = "muster@example.org";
    char err[256];
    if (dkim_signer_open(&cfg, &signer, err, sizeof err) != 0 || !signer)
        abort();
    unlink(path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT;
    char err[256];
    if (dkim_signer_sign(signer, (const char *)data, size, &out, err, sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err) || !err[0])
            abort(); /* a refusal says why */
        buf_release(&out);
        return 0;
    }
    const char *s = out.data;
    size_t n = out.len;
    static const char head[] = "DKIM-Signature: ";
    if (n < sizeof head + 1 || memcmp(s, head, sizeof head - 1) != 0 || s[n - 2] != '\r' ||
        s[n - 1] != '\n')
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' && (i == 0 || s[i - 1] != '\r'))
            abort(); /* a bare LF */
        if (c == '\r' && (i + 1 == n || s[i + 1] != '\n'))
            abort(); /* a bare CR */
        if (c == '\n' && i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '\t')
            abort(); /* a line that is not folded */
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            abort();
    }
    buf_release(&out);
    return 0;
}
