/*
 * fuzz_percent: the percent-decoder on arbitrary bytes, in both '+' modes,
 * and the encoders on the same bytes. A decode either fails and leaves the
 * output as it was, or yields valid UTF-8 without NUL; escape_url followed by
 * unescape_url gives back any valid UTF-8 input without NUL; escape_terminal
 * leaves nothing a terminal runs (C0, DEL, C1, bidi overrides) in valid
 * UTF-8; redact_addresses leaves no '@'. Any violation
 * abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/banned.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Decodes in both modes into a buffer holding "pre"; returns 1 on success. */
static int decode(const char *s, size_t len, int plus_is_space, struct buf *out)
{
    buf_reset(out);
    buf_puts(out, "pre");
    int rc = unescape_url(out, s, len, plus_is_space);
    CHECK(rc == 0 || rc == -1);
    CHECK(out->len >= 3 && memcmp(out->data, "pre", 3) == 0);
    if (rc != 0) {
        CHECK(out->len == 3 && out->data[3] == '\0'); /* left as it was */
        return 0;
    }
    const char *d = out->data + 3;
    size_t n = out->len - 3;
    CHECK(n <= len);
    CHECK(memchr(d, '\0', n) == NULL);
    CHECK(utf8_valid(d, n));
    CHECK(d[n] == '\0');
    if (plus_is_space == 0) {
        /* nothing but %XX changes: the decoded length follows from the input */
        size_t pct = 0;
        for (size_t i = 0; i < len; i++)
            pct += s[i] == '%';
        CHECK(n == len - 2 * pct);
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct buf a = BUF_INIT, b = BUF_INIT, enc = BUF_INIT;

    int ok_plain = decode(s, size, 0, &a);
    int ok_plus = decode(s, size, 1, &b);
    CHECK(ok_plain == ok_plus); /* '+' <-> ' ' never changes validity */
    if (ok_plain && !memchr(s, '+', size))
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);

    /* Round trip: what escape_url writes, unescape_url reads back exactly. */
    if (utf8_valid(s, size) && !memchr(s, '\0', size)) {
        CHECK(escape_url_n(&enc, s, size) == 0);
        for (size_t i = 0; i < enc.len; i++)
            CHECK(unreserved((unsigned char)enc.data[i]) || enc.data[i] == '%');
        for (int plus = 0; plus <= 1; plus++) {
            buf_reset(&a);
            CHECK(unescape_url(&a, buf_cstr(&enc), enc.len, plus) == 0);
            CHECK(a.len == size && (size == 0 || memcmp(a.data, s, size) == 0));
        }
        CHECK(utf8_length(buf_cstr(&a)) <= size);
    }

    /* HTML: none of the five special characters survive raw. */
    buf_reset(&enc);
    CHECK(escape_html_n(&enc, s, size) == 0);
    for (size_t i = 0; i < enc.len; i++)
        CHECK(enc.data[i] != '<' && enc.data[i] != '>' && enc.data[i] != '"' &&
              enc.data[i] != '\'');

    /* Terminal: valid UTF-8 with no C0 control, DEL, C1 control or bidi
     * override/isolate left; with the lines variant only LF, TAB and CR LF. */
    for (int lines = 0; lines <= 1; lines++) {
        buf_reset(&enc);
        CHECK((lines ? escape_terminal_lines(&enc, s, size) : escape_terminal_n(&enc, s, size)) ==
              0);
        const unsigned char *t = (const unsigned char *)buf_cstr(&enc);
        CHECK(utf8_valid((const char *)t, enc.len));
        for (size_t i = 0; i < enc.len; i++) {
            if (t[i] < 0x20 || t[i] == 0x7f)
                CHECK(lines && (t[i] == '\n' || t[i] == '\t' ||
                                (t[i] == '\r' && i + 1 < enc.len && t[i + 1] == '\n')));
            if (t[i] == 0xc2 && i + 1 < enc.len)
                CHECK(t[i + 1] < 0x80 || t[i + 1] > 0x9f);
            if (t[i] == 0xe2 && i + 2 < enc.len)
                CHECK(!(t[i + 1] == 0x80 && t[i + 2] >= 0xaa && t[i + 2] <= 0xae) &&
                      !(t[i + 1] == 0x81 && t[i + 2] >= 0xa6 && t[i + 2] <= 0xa9));
        }
    }

    /* Redaction: no '@' survives, the rest is kept in order. */
    if (!memchr(s, '\0', size)) {
        buf_reset(&enc);
        buf_reset(&a);
        buf_append(&a, s, size);
        CHECK(redact_addresses(&enc, buf_cstr(&a)) == 0);
        CHECK(enc.len == 0 || memchr(enc.data, '@', enc.len) == NULL);
        if (!memchr(s, '@', size))
            CHECK(enc.len == size && (size == 0 || memcmp(enc.data, s, size) == 0));
    }

    buf_release(&a);
    buf_release(&b);
    buf_release(&enc);
    return 0;
}
