/*
 * escape: HTML, URL, CSV and terminal encoders, the address redaction of
 * log values, and the URL decoder (see escape.h).
 * These functions see every byte a supporter types, so they are small and
 * fuzzed (fuzz/fuzz_percent.c); the one table, what each byte becomes in a
 * URL, is checked byte by byte in tests/unit/test_escape.c.
 */
#include "core/escape.h"

#include <stdint.h>
#include <string.h>

#include "core/banned.h"

int escape_html_n(struct buf *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        buf_append(out, s + start, i - start);
        buf_puts(out, rep);
        start = i + 1;
    }
    buf_append(out, s + start, len - start);
    return buf_failed(out) ? -1 : 0;
}

int escape_html(struct buf *out, const char *s)
{
    return escape_html_n(out, s ? s : "", s ? strlen(s) : 0);
}

/* What each byte becomes in a URL: its encoding (the byte itself when it is
 * RFC 3986 unreserved, A-Z a-z 0-9 - . _ ~, else %XY) padded to 3 bytes, and
 * in the 4th byte that encoding's length. Built at compile time. */
#define URL_UNRESERVED(c)                                                                          \
    (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ||     \
     (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~')
#define HEX_DIGIT(n) ((n) < 10 ? '0' + (n) : 'A' + (n)-10)
#define URL_BYTE(c)                                                                                \
    {                                                                                              \
        URL_UNRESERVED(c) ? (c) : '%', URL_UNRESERVED(c) ? 0 : HEX_DIGIT((c) >> 4),                \
            URL_UNRESERVED(c) ? 0 : HEX_DIGIT((c)&15), URL_UNRESERVED(c) ? 1 : 3                   \
    }
#define URL_BYTES4(c) URL_BYTE(c), URL_BYTE((c) + 1), URL_BYTE((c) + 2), URL_BYTE((c) + 3)
#define URL_BYTES16(c) URL_BYTES4(c), URL_BYTES4((c) + 4), URL_BYTES4((c) + 8), URL_BYTES4((c) + 12)
#define URL_BYTES64(c)                                                                             \
    URL_BYTES16(c), URL_BYTES16((c) + 16), URL_BYTES16((c) + 32), URL_BYTES16((c) + 48)
static const unsigned char url_encoding[256][4] = {URL_BYTES64(0), URL_BYTES64(64),
                                                   URL_BYTES64(128), URL_BYTES64(192)};

/* Every one-click URL escapes the whole message, so the buffer grows once:
 * by the worst case (3 bytes per byte, and 3 of slack) when the cap allows
 * it, and then shrinks to what was written. That loop copies each byte's 4
 * table bytes and advances by the length, with no branch per byte (a
 * message's mix of letters, spaces and punctuation made one mispredict
 * often). Near the cap the buffer grows by the measured size, and only the
 * encoding's own bytes are copied. */
int escape_url_n(struct buf *out, const char *s, size_t len)
{
    const unsigned char *in = (const unsigned char *)s;
    size_t room = out->len < out->limit ? out->limit - out->len : 0;
    if (room >= 3 && len <= (room - 3) / 3) {
        size_t reserved = 3 * len + 3;
        char *start = buf_extend(out, reserved);
        if (!start)
            return -1;
        char *p = start;
        for (size_t i = 0; i < len; i++) {
            const unsigned char *e = url_encoding[in[i]];
            memcpy(p, e, 4);
            p += e[3];
        }
        out->len -= reserved - (size_t)(p - start);
        *p = '\0';
        return 0;
    }
    size_t need = 0;
    for (size_t i = 0; i < len; i++)
        need += url_encoding[in[i]][3];
    char *p = buf_extend(out, need);
    if (!p)
        return -1;
    for (size_t i = 0; i < len; i++) {
        const unsigned char *e = url_encoding[in[i]];
        memcpy(p, e, e[3]);
        p += e[3];
    }
    return 0;
}

int escape_url(struct buf *out, const char *s)
{
    return escape_url_n(out, s ? s : "", s ? strlen(s) : 0);
}

/* The length of the formula sign at p (= + - @, or their fullwidth forms
 * U+FF1D U+FF0B U+FF0D U+FF20, which spreadsheets also read as formulas), or 0. */
static size_t formula_sign(const char *p)
{
    if (*p == '=' || *p == '+' || *p == '-' || *p == '@')
        return 1;
    static const char *const fullwidth[] = {"\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
                                            "\xef\xbc\xa0"};
    for (size_t i = 0; i < sizeof fullwidth / sizeof fullwidth[0]; i++)
        if (strncmp(p, fullwidth[i], 3) == 0)
            return 3;
    return 0;
}

int escape_csv(struct buf *out, const char *s)
{
    if (!s)
        s = "";
    /* Spreadsheets skip leading white space before a formula sign. */
    const char *first = s;
    while (*first == ' ' || *first == '\t' || *first == '\r' || *first == '\n')
        first++;
    int formula = s[0] == '\t' || s[0] == '\r' || s[0] == '\n' || formula_sign(first) > 0;
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf_putc(out, '"');
    if (formula)
        buf_putc(out, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_putc(out, '"');
        buf_putc(out, *p);
    }
    if (quote)
        buf_putc(out, '"');
    return buf_failed(out) ? -1 : 0;
}

/* The length of the valid UTF-8 sequence at s[0] (1 to 4), or 0 when the
 * bytes there are not one; *cp gets its code point. */
static size_t utf8_sequence(const unsigned char *s, size_t len, unsigned int *cp)
{
    size_t n;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (len < n || !utf8_valid((const char *)s, n))
        return 0;
    unsigned int v = s[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++)
        v = (v << 6) | (s[k] & 0x3f);
    *cp = v;
    return n;
}

static int terminal_neutralised(unsigned int cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static int escape_terminal_mode(struct buf *out, const char *str, size_t len, int lines)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned int cp = 0;
        size_t n = utf8_sequence(s + i, len - i, &cp);
        if (n && !terminal_neutralised(cp)) {
            i += n;
            continue;
        }
        if (n && lines &&
            (cp == '\n' || cp == '\t' || (cp == '\r' && i + 1 < len && s[i + 1] == '\n'))) {
            i += n;
            continue;
        }
        buf_append(out, str + start, i - start);
        if (n == 0) { /* a byte of invalid UTF-8 */
            char esc[4] = {'\\', 'x', hex[s[i] >> 4], hex[s[i] & 15]};
            buf_append(out, esc, sizeof esc);
            n = 1;
        } else if (cp == '\t' || cp == '\n' || cp == '\r') {
            buf_puts(out, cp == '\t' ? "\\t" : cp == '\n' ? "\\n" : "\\r");
        } else if (cp < 0x80) {
            char esc[4] = {'\\', 'x', hex[cp >> 4], hex[cp & 15]};
            buf_append(out, esc, sizeof esc);
        } else {
            char esc[6] = {
                '\\',        'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                hex[cp & 15]};
            buf_append(out, esc, sizeof esc);
        }
        i += n;
        start = i;
    }
    buf_append(out, str + start, len - start);
    return buf_failed(out) ? -1 : 0;
}

int escape_terminal_n(struct buf *out, const char *s, size_t len)
{
    return escape_terminal_mode(out, s, len, 0);
}

int escape_terminal(struct buf *out, const char *s)
{
    return escape_terminal_mode(out, s ? s : "", s ? strlen(s) : 0, 0);
}

int escape_terminal_lines(struct buf *out, const char *s, size_t len)
{
    return escape_terminal_mode(out, s, len, 1);
}

/* Characters of an address around its '@': the local part's atext and dots,
 * the domain's letters, digits, hyphens, dots and brackets (not ':', which ends a reply's address);
 * bytes >= 0x80 for internationalised addresses. */
static int address_char(unsigned char ch)
{
    return ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-/=?^_`{|}~.[]", ch) != NULL);
}

int redact_addresses(struct buf *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t len = strlen((const char *)s), start = 0;
    for (size_t at = 0; at < len; at++) {
        if (s[at] != '@')
            continue;
        size_t from = at, to = at + 1;
        while (from > start && address_char(s[from - 1]))
            from--;
        while (to < len && address_char(s[to]))
            to++;
        buf_append(out, (const char *)s + start, from - start);
        buf_puts(out, "[address]");
        start = to;
        at = to - 1;
    }
    buf_append(out, (const char *)s + start, len - start);
    return buf_failed(out) ? -1 : 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* On failure out is put back as it was (its failed flag aside), so a caller
 * never sees half a decoded value. */
static int unescape_fail(struct buf *out, size_t start_len)
{
    out->len = start_len;
    if (out->data)
        out->data[start_len] = '\0';
    return -1;
}

int unescape_url(struct buf *out, const char *s, size_t len, int plus_is_space)
{
    size_t start_len = out->len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return unescape_fail(out, start_len);
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return unescape_fail(out, start_len);
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0' || buf_putc(out, c) != 0)
            return unescape_fail(out, start_len);
    }
    if (!utf8_valid(out->data ? out->data + start_len : "", out->len - start_len))
        return unescape_fail(out, start_len);
    return 0;
}

int utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* Runs of ASCII, most of every message, 8 bytes at a time. */
        uint64_t word;
        while (len - i >= sizeof word) {
            memcpy(&word, s + i, sizeof word);
            if (word & 0x8080808080808080ULL)
                break;
            i += sizeof word;
        }
        if (i == len)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned int cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

long utf8_find_control(const char *s, int allow_line_breaks)
{
    long index = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue; /* a continuation byte: part of the code point counted */
        int line_break = *p == '\n' || *p == '\r';
        if ((*p < 0x20 && *p != '\t' && !(line_break && allow_line_breaks)) || *p == 0x7f ||
            (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return index;
        index++;
    }
    return -1;
}

size_t utf8_length(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}
