/*
 * message: turns a struct mail_message into RFC 5322 text with MIME bodies
 * (see message.h). It owns header encoding (RFC 2047 encoded-words, quoted
 * display names, folding), quoted-printable and base64 bodies, and the
 * multipart layout. It must never let a caller's value start a new header or
 * a new MIME part: values with CR or LF are refused, addresses and ids are
 * validated, and boundaries begin with "=_", which neither quoted-printable
 * nor base64 output can contain.
 */
#include "mail/message.h"

#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/tz.h"

#include "core/i18n.h"
#include "core/banned.h"

#define LINE_FOLD 76        /* fold header lines here when a space allows (RFC 2047: 76) */
#define LINE_HARD 998       /* RFC 5322 2.1.1: never longer */
#define ENCODED_WORD_MAX 75 /* RFC 2047 2 */
#define WORD_MAX 60         /* a longer unbreakable run is encoded so it can be split */
#define ATTACHMENT_NAME_MAX 255

static const char hex_upper[] = "0123456789ABCDEF";

static int is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 5322 3.2.3 atext. */
static int is_atext(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 dot-atom-text: atext runs joined by single dots. */
static int dot_atom_valid(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return 1;
}

static int domain_valid(const char *s, size_t len)
{
    if (len == 9 && memcmp(s, "localhost", 9) == 0)
        return 1; /* muster's default sender, muster@localhost */
    size_t labels = 0, label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label_len == 0 || label_len > 63 || s[i - 1] == '-')
                return 0;
            labels++;
            label_len = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && c != '-')
            return 0;
        if (label_len == 0 && c == '-')
            return 0;
        label_len++;
    }
    return labels >= 2;
}

int mail_address_valid(const char *addr)
{
    if (!addr)
        return 0;
    size_t len = strlen(addr);
    if (len == 0 || len > 254)
        return 0;
    const char *at = strchr(addr, '@');
    if (!at || strchr(at + 1, '@'))
        return 0;
    size_t local_len = (size_t)(at - addr);
    if (local_len > 64 || !dot_atom_valid(addr, local_len))
        return 0;
    return domain_valid(at + 1, len - local_len - 1);
}

/* "local@domain" for Message-ID (RFC 5322 3.6.4, dot-atom on both sides). */
static int message_id_valid(const char *id)
{
    if (!id)
        return 0;
    size_t len = strlen(id);
    const char *at = strchr(id, '@');
    if (len > 250 || !at || strchr(at + 1, '@'))
        return 0;
    size_t left = (size_t)(at - id);
    return dot_atom_valid(id, left) && dot_atom_valid(at + 1, len - left - 1);
}

/* A header value a person may have typed: no CR, LF; valid UTF-8. */
static int header_text_valid(const char *s)
{
    return s && !strpbrk(s, "\r\n") && utf8_valid(s, strlen(s));
}

/* Printable ASCII only, no spaces (URLs in angle brackets). */
static int printable_token_valid(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>')
            return 0;
    return 1;
}

/* "type/subtype" followed by optional "; param=value" in printable ASCII. */
static int content_type_valid(const char *s)
{
    if (!s)
        return 0;
    size_t i = 0, slashes = 0;
    for (; s[i] && s[i] != ';'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/')
            slashes++;
        else if (!is_atext(c) && c != '.')
            return 0;
    }
    if (slashes != 1 || i == 0 || s[0] == '/' || s[i - 1] == '/')
        return 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xe0)
        return 2;
    if (c < 0xf0)
        return 3;
    return 4;
}

static void base64_quantum(const unsigned char *p, size_t n, char out[4])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = (unsigned)p[0] << 16;
    if (n > 1)
        v |= (unsigned)p[1] << 8;
    if (n > 2)
        v |= p[2];
    out[0] = alphabet[(v >> 18) & 63];
    out[1] = alphabet[(v >> 12) & 63];
    out[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
    out[3] = n > 2 ? alphabet[v & 63] : '=';
}

static int put_base64(struct buf *out, const unsigned char *p, size_t n)
{
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        base64_quantum(p + i, n - i < 3 ? n - i : 3, q);
        buf_append(out, q, 4);
    }
    return buf_failed(out) ? -1 : 0;
}

/* Base64 in lines of 76 characters separated by CRLF; no CRLF after the last. */
static int put_base64_lines(struct buf *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 57) {
        if (i)
            buf_puts(out, "\r\n");
        put_base64(out, p + i, n - i < 57 ? n - i : 57);
    }
    return buf_failed(out) ? -1 : 0;
}

/* 1 when s must become encoded-words: not printable ASCII, something a
 * decoder would take for an encoded-word, or a run too long to fold. */
static int needs_encoding(const char *s)
{
    size_t run = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            return 1;
        if (p[0] == '=' && p[1] == '?')
            return 1;
        run = *p == ' ' ? 0 : run + 1;
        if (run > WORD_MAX)
            return 1;
    }
    return 0;
}

/* RFC 2047 B encoded-words, UTF-8, each at most `first_room` (the first) or 75
 * characters, split between characters, separated by one space. */
static int put_encoded_words(struct buf *out, const char *s, size_t first_room)
{
    size_t len = strlen(s), pos = 0;
    int first = 1;
    while (pos < len) {
        size_t room = first ? first_room : ENCODED_WORD_MAX;
        if (room < 20 || room > ENCODED_WORD_MAX)
            room = ENCODED_WORD_MAX; /* 20 fits one 4-byte character */
        size_t max_bytes = (room - 12) / 4 * 3;
        size_t take = 0;
        while (pos + take < len) {
            size_t n = utf8_seq_len((unsigned char)s[pos + take]);
            if (take + n > max_bytes)
                break;
            take += n;
        }
        if (!first)
            buf_putc(out, ' ');
        buf_puts(out, "=?UTF-8?B?");
        put_base64(out, (const unsigned char *)s + pos, take);
        buf_puts(out, "?=");
        pos += take;
        first = 0;
    }
    return buf_failed(out) ? -1 : 0;
}

int mail_encode_header_word(struct buf *out, const char *s)
{
    if (!s || !utf8_valid(s, strlen(s)))
        return -1;
    if (needs_encoding(s))
        return put_encoded_words(out, s, ENCODED_WORD_MAX);
    return buf_puts(out, s);
}

/* Appends "Name: value" CRLF. Folds before a space (the last of a run, so no
 * continuation line is only whitespace) when the line would pass 76
 * characters; -1 when a line still passes 998. value has no CR or LF. */
static int put_header(struct buf *out, const char *name, const char *value)
{
    size_t len = strlen(value), col = strlen(name) + 1;
    buf_puts(out, name);
    buf_putc(out, ':');
    if (len) {
        buf_putc(out, ' ');
        col++;
    }
    size_t start = 0;
    while (start < len) {
        size_t end = start + 1;
        while (end < len && !(value[end] == ' ' && end + 1 < len && value[end + 1] != ' '))
            end++;
        if (start > 0 && col + (end - start) > LINE_FOLD) {
            buf_puts(out, "\r\n");
            col = 0;
        }
        buf_append(out, value + start, end - start);
        col += end - start;
        if (col > LINE_HARD)
            return -1;
        start = end;
    }
    buf_puts(out, "\r\n");
    return buf_failed(out) ? -1 : 0;
}

/* A display name that is a plain phrase of atoms needs no quotes. */
static int needs_quoting(const char *s)
{
    size_t len = strlen(s);
    if (s[0] == ' ' || s[len - 1] == ' ')
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' ? s[i + 1] == ' ' : !is_atext(c))
            return 1;
    }
    return 0;
}

/* "From: name <addr>" (or "To:"); the name as a phrase, quoted-string or
 * encoded-words. */
static int put_mailbox_header(struct buf *out, const char *hname, const char *name,
                              const char *addr)
{
    struct buf v;
    buf_init(&v, 16384);
    if (name && *name) {
        if (needs_encoding(name)) {
            put_encoded_words(&v, name, LINE_FOLD - strlen(hname) - 2);
        } else if (needs_quoting(name)) {
            buf_putc(&v, '"');
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    buf_putc(&v, '\\');
                buf_putc(&v, *p);
            }
            buf_putc(&v, '"');
        } else {
            buf_puts(&v, name);
        }
        buf_printf(&v, " <%s>", addr);
    } else {
        buf_puts(&v, addr);
    }
    int rc = buf_failed(&v) ? -1 : put_header(out, hname, buf_cstr(&v));
    buf_release(&v);
    return rc;
}

static int put_subject(struct buf *out, const char *subject)
{
    if (!needs_encoding(subject))
        return put_header(out, "Subject", subject);
    struct buf v;
    buf_init(&v, 65536);
    int rc = put_encoded_words(&v, subject, LINE_FOLD - strlen("Subject: "));
    if (rc == 0)
        rc = put_header(out, "Subject", buf_cstr(&v));
    buf_release(&v);
    return rc;
}

static int at_line_end(const unsigned char *s, size_t len, size_t i)
{
    return i == len || s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n');
}

int mail_encode_qp(struct buf *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t col = 0, i = 0;
    while (i < len) {
        if (s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            buf_puts(out, "\r\n");
            i += s[i] == '\r' ? 2 : 1;
            col = 0;
            continue;
        }
        unsigned char c = s[i];
        int eol = at_line_end(s, len, i + 1);
        for (;;) {
            /* Spaces are literal unless a line would end in them; a leading
             * '.' or "From " is encoded for SMTP and mbox. */
            int literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol);
            if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 && !memcmp(s + i, "From ", 5))))
                literal = 0;
            size_t need = literal ? 1 : 3;
            /* the last character of a line may use column 76; others leave
             * room for the soft break '=' */
            if (col + need > (eol ? 76u : 75u) && col > 0) {
                buf_puts(out, "=\r\n");
                col = 0;
                continue;
            }
            if (literal) {
                buf_putc(out, (char)c);
            } else {
                char esc[3] = {'=', hex_upper[c >> 4], hex_upper[c & 15]};
                buf_append(out, esc, 3);
            }
            col += need;
            break;
        }
        i++;
    }
    return buf_failed(out) ? -1 : 0;
}

/* A 64-bit FNV-1a over the message's identity: boundaries that look random
 * and are stable for the same message. Safety does not depend on it. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int put_qp_part(struct buf *out, const char *boundary, const char *type, const char *body)
{
    buf_printf(out,
               "\r\n--%s\r\n"
               "Content-Type: %s; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n"
               "\r\n",
               boundary, type);
    return mail_encode_qp(out, body, strlen(body));
}

/* An attachment file name as Content-Type name= and Content-Disposition
 * filename= parameters: quoted when plain, RFC 2231 percent-encoded UTF-8
 * otherwise. */
static int put_file_param(struct buf *out, const char *param, const char *name)
{
    int plain = 1;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_alnum(*p) && *p != '.' && *p != '-' && *p != '_' && *p != '+')
            plain = 0;
    if (plain)
        return buf_printf(out, "%s=\"%s\"", param, name);
    buf_printf(out, "%s*=UTF-8''", param);
    return escape_url(out, name);
}

static int put_attachment(struct buf *out, const char *boundary, const struct mail_message *m)
{
    struct buf v;
    buf_init(&v, 4096);
    int rc = -1;
    buf_printf(out, "\r\n--%s\r\n", boundary);
    buf_printf(&v, "%s; ", m->attachment_type ? m->attachment_type : "application/octet-stream");
    put_file_param(&v, "name", m->attachment_name);
    if (buf_failed(&v) || put_header(out, "Content-Type", buf_cstr(&v)) != 0)
        goto out;
    buf_reset(&v);
    buf_puts(&v, "attachment; ");
    put_file_param(&v, "filename", m->attachment_name);
    if (buf_failed(&v) || put_header(out, "Content-Disposition", buf_cstr(&v)) != 0)
        goto out;
    buf_puts(out, "Content-Transfer-Encoding: base64\r\n\r\n");
    rc = put_base64_lines(out, (const unsigned char *)m->attachment_data, m->attachment_len);
out:
    buf_release(&v);
    return rc;
}

static int message_valid(const struct mail_message *m)
{
    if (!mail_address_valid(m->from_addr) || !mail_address_valid(m->to_addr))
        return 0;
    if (!message_id_valid(m->message_id))
        return 0;
    if ((m->from_name && !header_text_valid(m->from_name)) ||
        (m->to_name && !header_text_valid(m->to_name)) ||
        (m->subject && !header_text_valid(m->subject)))
        return 0;
    if ((m->text && !utf8_valid(m->text, strlen(m->text))) ||
        (m->html && !utf8_valid(m->html, strlen(m->html))))
        return 0;
    if (m->list_unsubscribe_url && !printable_token_valid(m->list_unsubscribe_url))
        return 0;
    if (m->language && !i18n_tag_valid(m->language))
        return 0;
    if (m->list_id && (strlen(m->list_id) > 250 || !strchr(m->list_id, '.') ||
                       !dot_atom_valid(m->list_id, strlen(m->list_id))))
        return 0;
    if (m->list_name && !header_text_valid(m->list_name))
        return 0;
    if (m->feedback_id && (strlen(m->feedback_id) > 200 || !printable_token_valid(m->feedback_id)))
        return 0;
    if (m->attachment_name) {
        size_t n = strlen(m->attachment_name);
        if (n == 0 || n > ATTACHMENT_NAME_MAX || !header_text_valid(m->attachment_name))
            return 0;
        if (m->attachment_type && !content_type_valid(m->attachment_type))
            return 0;
        if (m->attachment_len && !m->attachment_data)
            return 0;
    }
    return 1;
}

static int build(const struct mail_message *m, struct buf *out)
{
    char date[40];
    tz_rfc5322(m->date, date);
    if (put_header(out, "Date", date) != 0 ||
        put_mailbox_header(out, "From", m->from_name, m->from_addr) != 0 ||
        put_mailbox_header(out, "To", m->to_name, m->to_addr) != 0 ||
        put_subject(out, m->subject ? m->subject : "") != 0)
        return -1;
    buf_printf(out, "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n", m->message_id);
    /* RFC 3282: the language the reader reads (a valid tag: checked above). */
    if (m->language)
        buf_printf(out, "Content-Language: %s\r\n", m->language);
    /* List-Id: "name" <id>, the name a phrase as in From (RFC 2919 3). */
    if (m->list_id && put_mailbox_header(out, "List-Id", m->list_name, m->list_id) != 0)
        return -1;
    if (m->list_unsubscribe_url) {
        struct buf v;
        buf_init(&v, 4096);
        buf_printf(&v, "<%s>", m->list_unsubscribe_url);
        int rc = buf_failed(&v) ? -1 : put_header(out, "List-Unsubscribe", buf_cstr(&v));
        buf_release(&v);
        if (rc != 0)
            return -1;
        if (m->list_unsubscribe_one_click)
            buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    if (m->feedback_id)
        buf_printf(out, "Feedback-ID: %s\r\n", m->feedback_id);

    const char *text = m->text ? m->text : "", *html = m->html ? m->html : "";
    uint64_t h = 14695981039346656037ull;
    h = fnv1a(h, m->message_id, strlen(m->message_id));
    h = fnv1a(h, &m->date, sizeof m->date);
    h = fnv1a(h, text, strlen(text));
    char alt[48], mixed[48];
    snprintf(alt, sizeof alt, "=_muster_%016llx_a", (unsigned long long)h);
    snprintf(mixed, sizeof mixed, "=_muster_%016llx_m", (unsigned long long)h);

    /* No preamble: each body starts with its first delimiter. The CRLF before
     * a delimiter belongs to the delimiter (RFC 2046 5.1.1), so parts end
     * exactly where their content ends. */
    if (m->attachment_name)
        buf_printf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", mixed,
                   mixed);
    buf_printf(out,
               "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n"
               "\r\n"
               "--%s\r\n"
               "Content-Type: text/plain; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n"
               "\r\n",
               alt, alt);
    if (mail_encode_qp(out, text, strlen(text)) != 0 ||
        put_qp_part(out, alt, "text/html", html) != 0)
        return -1;
    buf_printf(out, "\r\n--%s--", alt);
    if (m->attachment_name) {
        if (put_attachment(out, mixed, m) != 0)
            return -1;
        buf_printf(out, "\r\n--%s--", mixed);
    }
    buf_puts(out, "\r\n");
    return buf_failed(out) ? -1 : 0;
}

int mail_build(const struct mail_message *m, struct buf *out)
{
    if (!m || !out || !message_valid(m))
        return -1;
    size_t start = out->len;
    if (build(m, out) == 0)
        return 0;
    if (!buf_failed(out) && out->data) {
        out->len = start; /* leave nothing half-written behind */
        out->data[start] = '\0';
    }
    return -1;
}
