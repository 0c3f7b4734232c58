/*
 * test_message: what mail_build promises (message.h, README.md "Email"):
 * exact headers, CRLF everywhere, line limits, RFC 2047 names and subjects
 * that decode back to what was typed, no header injection, List-Unsubscribe,
 * the attachment, and quoted-printable bodies that decode back to the input.
 * The decoders here are deliberately independent of the encoders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/escape.h"
#include "mail/message.h"

#include "core/banned.h"

/* ---- helpers: independent decoders ---- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes base64, skipping CR and LF; fails the test on anything else. */
static void b64_decode(const char *s, size_t len, struct buf *out)
{
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        if (s[i] == '=')
            break;
        int d = b64_value(s[i]);
        assert_true(d >= 0);
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(out, (char)((v >> bits) & 0xff));
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* RFC 2045: uppercase only from an encoder */
}

static void qp_decode(const char *s, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '=') {
            buf_putc(out, s[i]);
            continue;
        }
        assert_true(i + 2 < len);
        if (s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
            continue;
        }
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        assert_true(hi >= 0 && lo >= 0);
        buf_putc(out, (char)(hi * 16 + lo));
        i += 2;
    }
}

/* LF (not after CR) becomes CRLF: what the body must decode to. */
static char *crlf_normalise(const char *s)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            buf_putc(&b, '\r');
        buf_putc(&b, s[i]);
    }
    return buf_detach(&b);
}

static size_t header_end(const char *msg)
{
    const char *p = strstr(msg, "\r\n\r\n");
    assert_non_null(p);
    return (size_t)(p - msg) + 2;
}

/* The unfolded value of the first header `name` in [msg, msg+hlen), or NULL;
 * caller frees. */
static char *header_value_n(const char *msg, size_t hlen, const char *name)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < hlen;) {
        if ((i == 0 || msg[i - 1] == '\n') && strncmp(msg + i, name, nlen) == 0 &&
            msg[i + nlen] == ':') {
            struct buf b = BUF_INIT;
            size_t j = i + nlen + 1;
            if (msg[j] == ' ')
                j++;
            for (; j < hlen; j++) {
                if (msg[j] == '\r' && msg[j + 1] == '\n') {
                    if (msg[j + 2] != ' ' && msg[j + 2] != '\t')
                        break;
                    j++;
                    continue;
                }
                buf_putc(&b, msg[j]);
            }
            return buf_detach(&b);
        }
        const char *nl = strstr(msg + i, "\r\n");
        if (!nl)
            break;
        i = (size_t)(nl - msg) + 2;
    }
    return NULL;
}

static char *header_value(const char *msg, const char *name)
{
    return header_value_n(msg, header_end(msg), name);
}

/* Decodes RFC 2047 B encoded-words (UTF-8) in an unfolded value; white space
 * between two encoded-words is dropped (RFC 2047 6.2). Checks each word is at
 * most 75 characters and decodes to valid UTF-8 on its own. */
static char *decode_2047(const char *v)
{
    struct buf b = BUF_INIT;
    size_t len = strlen(v), i = 0, pending_ws = 0, ws_start = 0;
    int last_was_word = 0;
    while (i < len) {
        if (strncmp(v + i, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(v + i + 10, "?=");
            assert_non_null(end);
            size_t wlen = (size_t)(end + 2 - (v + i));
            assert_true(wlen <= 75);
            if (!last_was_word && pending_ws)
                buf_append(&b, v + ws_start, pending_ws);
            struct buf w = BUF_INIT;
            b64_decode(v + i + 10, (size_t)(end - (v + i + 10)), &w);
            assert_true(utf8_valid(w.data ? w.data : "", w.len));
            buf_append(&b, w.data ? w.data : "", w.len);
            buf_release(&w);
            i += wlen;
            pending_ws = 0;
            last_was_word = 1;
            continue;
        }
        if (v[i] == ' ' || v[i] == '\t') {
            if (!pending_ws)
                ws_start = i;
            pending_ws++;
            i++;
            continue;
        }
        if (pending_ws)
            buf_append(&b, v + ws_start, pending_ws);
        pending_ws = 0;
        last_was_word = 0;
        buf_putc(&b, v[i]);
        i++;
    }
    if (pending_ws)
        buf_append(&b, v + ws_start, pending_ws);
    return buf_detach(&b);
}

/* Every line ends in CRLF, there is no bare CR or LF, no line passes max. */
static void assert_lines(const char *msg, size_t len, size_t max)
{
    size_t col = 0;
    assert_true(len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n');
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\r') {
            assert_true(i + 1 < len && msg[i + 1] == '\n');
            i++;
            col = 0;
            continue;
        }
        assert_true(msg[i] != '\n');
        col++;
        if (col > max)
            fail_msg("line over %zu octets near offset %zu", max, i);
    }
}

/* Lines of the header containing "=?" are at most 76 (RFC 2047 2). */
static void assert_encoded_header_lines(const char *msg)
{
    size_t hlen = header_end(msg);
    for (size_t i = 0; i < hlen;) {
        const char *nl = strstr(msg + i, "\r\n");
        size_t n = (size_t)(nl - (msg + i));
        char *line = strndup(msg + i, n);
        if (strstr(line, "=?"))
            assert_true(n <= 76);
        free(line);
        i += n + 2;
    }
}

/* The body of the MIME part whose header has `ctype`, decoded from its
 * transfer encoding into out. Parts are found by their delimiter lines. */
static void part_body(const char *msg, const char *ctype, struct buf *out, char **part_headers)
{
    const char *h = strstr(msg, ctype);
    assert_non_null(h);
    const char *start = h;
    while (start > msg + 1 &&
           !(start[-1] == '\n' && start[-2] == '\r' && start[0] == '-' && start[1] == '-'))
        start--;
    const char *nl = strstr(start, "\r\n");
    assert_non_null(nl);
    char *delim = strndup(start, (size_t)(nl - start)); /* "--boundary" */
    const char *body = strstr(h, "\r\n\r\n");
    assert_non_null(body);
    if (part_headers)
        *part_headers = strndup(nl + 2, (size_t)(body - nl));
    body += 4;
    struct buf needle = BUF_INIT;
    buf_printf(&needle, "\r\n%s", delim);
    const char *end = strstr(body, needle.data);
    assert_non_null(end);
    int qp = strstr(h, "quoted-printable") && strstr(h, "quoted-printable") < body;
    if (qp)
        qp_decode(body, (size_t)(end - body), out);
    else
        b64_decode(body, (size_t)(end - body), out);
    buf_release(&needle);
    free(delim);
}

static struct mail_message sample(void)
{
    struct mail_message m = {
        .from_name = "Docs Collective",
        .from_addr = "team@example.org",
        .to_name = "Ada Lovelace",
        .to_addr = "ada@example.com",
        .subject = "You're in: Docs Day",
        .message_id = "r1.42@muster.example.org",
        .date = 1796137200, /* Tue, 01 Dec 2026 15:00:00 UTC */
        .text = "Hello Ada,\nsee you on the day.\n",
        .html = "<p>Hello Ada,</p>\n<p>see you on the day.</p>\n",
    };
    return m;
}

static char *build_ok(const struct mail_message *m)
{
    struct buf out = BUF_INIT;
    assert_int_equal(mail_build(m, &out), 0);
    assert_false(buf_failed(&out));
    assert_lines(out.data, out.len, 998);
    return buf_detach(&out);
}

static void assert_refused(const struct mail_message *m)
{
    struct buf out = BUF_INIT;
    assert_int_equal(mail_build(m, &out), -1);
    assert_true(out.len == 0);
    buf_release(&out);
}

/* ---- tests ---- */

static void headers_are_exact(void **state)
{
    struct mail_message m = sample();
    char *msg = build_ok(&m);
    size_t hlen = header_end(msg);
    char *head = strndup(msg, hlen);
    const char *expect_prefix = "Date: Tue, 01 Dec 2026 15:00:00 +0000\r\n"
                                "From: Docs Collective <team@example.org>\r\n"
                                "To: Ada Lovelace <ada@example.com>\r\n"
                                "Subject: You're in: Docs Day\r\n"
                                "Message-ID: <r1.42@muster.example.org>\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: multipart/alternative;\r\n boundary=\"";
    assert_memory_equal(head, expect_prefix, strlen(expect_prefix));
    assert_null(strstr(head, "List-Unsubscribe"));
    assert_null(strstr(head, "Auto-Submitted"));
    free(head);
    free(msg);
}

static void every_line_is_crlf_and_short(void **state)
{
    struct mail_message m = sample();
    struct buf text = BUF_INIT;
    for (int i = 0; i < 50; i++)
        buf_puts(&text, "a long line with words and = signs and trailing spaces   ");
    buf_puts(&text, "\nline\r\nbare cr \r here\n\n");
    m.text = text.data;
    m.html = text.data;
    char *msg = build_ok(&m);
    size_t hlen = header_end(msg);
    assert_lines(msg + hlen + 2, strlen(msg) - hlen - 2, 76); /* bodies: QP lines */
    free(msg);
    buf_release(&text);
}

static void quoted_printable_round_trips(void **state)
{
    static const char *const texts[] = {
        "plain\n",
        "",
        "no newline at end",
        "equals = sign and =3D and =\n",
        "trailing spaces   \ntrailing tab\t\n",
        "trailing space at the very end ",
        ".leading dot\n.\nFrom the start\nFrom here\n",
        "Zoë, Łódź, 日本語, emoji 🎉🚀\n",
        "crlf\r\nmixed\nends\r\n",
        "lone\rcr",
        "=_muster_0123456789abcdef_a\n--=_muster_0123456789abcdef_a--\n",
        NULL,
    };
    for (size_t k = 0; texts[k]; k++) {
        struct mail_message m = sample();
        m.text = texts[k];
        m.html = texts[k];
        char *msg = build_ok(&m);
        struct buf got = BUF_INIT;
        part_body(msg, "Content-Type: text/plain", &got, NULL);
        char *want = crlf_normalise(texts[k]);
        assert_int_equal(got.len, strlen(want));
        assert_memory_equal(got.data ? got.data : "", want, got.len);
        buf_reset(&got);
        part_body(msg, "Content-Type: text/html", &got, NULL);
        assert_int_equal(got.len, strlen(want));
        assert_memory_equal(got.data ? got.data : "", want, got.len);
        free(want);
        buf_release(&got);
        free(msg);
    }
}

static void quoted_printable_long_lines(void **state)
{
    struct buf in = BUF_INIT, out = BUF_INIT, back = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_putc(&in, (char)(i % 7 == 0 ? '=' : i % 11 == 0 ? ' ' : 'a' + i % 26));
    buf_puts(&in, " \n");
    for (int i = 0; i < 300; i++)
        buf_puts(&in, "é");
    buf_puts(&in, "\t\n");
    assert_int_equal(mail_encode_qp(&out, in.data, in.len), 0);
    assert_lines(out.data, out.len, 76);
    assert_null(strstr(out.data, " \r\n"));
    assert_null(strstr(out.data, "\t\r\n"));
    qp_decode(out.data, out.len, &back);
    char *want = crlf_normalise(in.data);
    assert_int_equal(back.len, strlen(want));
    assert_memory_equal(back.data, want, back.len);
    free(want);
    buf_release(&in);
    buf_release(&out);
    buf_release(&back);
}

static void ascii_names_with_specials_are_quoted(void **state)
{
    struct mail_message m = sample();
    m.from_name = "Smith, \"J\" \\ Jr.";
    m.to_name = "Ada  Lovelace";
    char *msg = build_ok(&m);
    char *from = header_value(msg, "From");
    assert_string_equal(from, "\"Smith, \\\"J\\\" \\\\ Jr.\" <team@example.org>");
    char *to = header_value(msg, "To");
    assert_string_equal(to, "\"Ada  Lovelace\" <ada@example.com>");
    free(from);
    free(to);
    free(msg);
}

static void no_name_gives_bare_address(void **state)
{
    struct mail_message m = sample();
    m.from_name = NULL;
    m.to_name = "";
    char *msg = build_ok(&m);
    char *from = header_value(msg, "From"), *to = header_value(msg, "To");
    assert_string_equal(from, "team@example.org");
    assert_string_equal(to, "ada@example.com");
    free(from);
    free(to);
    free(msg);
}

static void check_name_round_trip(const char *name)
{
    struct mail_message m = sample();
    m.to_name = name;
    m.from_name = name;
    char *msg = build_ok(&m);
    assert_encoded_header_lines(msg);
    char *to = header_value(msg, "To");
    assert_non_null(strstr(to, "=?UTF-8?B?"));
    char *decoded = decode_2047(to);
    struct buf want = BUF_INIT;
    buf_printf(&want, "%s <ada@example.com>", name);
    assert_string_equal(decoded, want.data);
    buf_release(&want);
    free(decoded);
    free(to);
    free(msg);
}

static void non_ascii_names_round_trip(void **state)
{
    check_name_round_trip("Zoë Ärger");
    check_name_round_trip("日本語の名前");
    check_name_round_trip("Party 🎉 People 🚀");
    check_name_round_trip("Ünïcödé, \"quoted\" <not an address> \\ back");
    struct buf longname = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_puts(&longname, "Ωμέγα ");
    check_name_round_trip(longname.data);
    buf_release(&longname);
}

static void check_subject_round_trip(const char *subject, int expect_encoded)
{
    struct mail_message m = sample();
    m.subject = subject;
    char *msg = build_ok(&m);
    assert_encoded_header_lines(msg);
    char *v = header_value(msg, "Subject");
    assert_int_equal(strstr(v, "=?UTF-8?B?") != NULL, expect_encoded);
    char *decoded = decode_2047(v);
    assert_string_equal(decoded, subject);
    free(decoded);
    free(v);
    free(msg);
}

static void subjects_round_trip(void **state)
{
    check_subject_round_trip("Plain ASCII subject", 0);
    check_subject_round_trip("Docs Day: ça commence 🎉", 1);
    check_subject_round_trip("🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀🎉🚀", 1);
    check_subject_round_trip("looks encoded =?UTF-8?B?SGk=?= but is not", 1);
    check_subject_round_trip("tab\there", 1);
    struct buf s = BUF_INIT;
    for (int i = 0; i < 300; i++)
        buf_puts(&s, i % 3 == 0 ? "ä" : i % 3 == 1 ? "x" : "€");
    assert_int_equal(utf8_length(s.data), 300);
    check_subject_round_trip(s.data, 1);
    buf_reset(&s);
    for (int i = 0; i < 30; i++)
        buf_puts(&s, "word1234 ");
    buf_puts(&s, "end");
    check_subject_round_trip(s.data, 0); /* long ASCII folds at spaces */
    buf_reset(&s);
    for (int i = 0; i < 300; i++)
        buf_putc(&s, 'x');
    check_subject_round_trip(s.data, 1); /* an unbreakable run is encoded */
    buf_release(&s);
}

static void long_ascii_subject_is_folded(void **state)
{
    struct buf s = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_puts(&s, "folding ");
    buf_puts(&s, "end");
    struct mail_message m = sample();
    m.subject = s.data;
    char *msg = build_ok(&m);
    size_t hlen = header_end(msg);
    assert_lines(msg, hlen, 76);
    free(msg);
    buf_release(&s);
}

static void encode_header_word_directly(void **state)
{
    struct buf out = BUF_INIT;
    assert_int_equal(mail_encode_header_word(&out, "plain words"), 0);
    assert_string_equal(out.data, "plain words");
    buf_reset(&out);
    assert_int_equal(mail_encode_header_word(&out, "Grüße"), 0);
    assert_string_equal(out.data, "=?UTF-8?B?R3LDvMOfZQ==?=");
    buf_reset(&out);
    assert_int_equal(mail_encode_header_word(&out, "a\r\nBcc: x@y.z"), 0);
    assert_null(strpbrk(out.data, "\r\n"));
    buf_reset(&out);
    assert_int_equal(mail_encode_header_word(&out, "\xff\xfe"), -1);
    buf_release(&out);
}

static void header_injection_is_refused(void **state)
{
    static const char *const bad[] = {
        "x\r\nBcc: evil@example.net",
        "x\nBcc: evil@example.net",
        "x\rBcc: evil@example.net",
        "x\r\n",
        "\n",
        NULL,
    };
    for (size_t i = 0; bad[i]; i++) {
        struct mail_message m = sample();
        m.from_name = bad[i];
        assert_refused(&m);
        m = sample();
        m.to_name = bad[i];
        assert_refused(&m);
        m = sample();
        m.subject = bad[i];
        assert_refused(&m);
        m = sample();
        m.list_unsubscribe_url = bad[i];
        assert_refused(&m);
        m = sample();
        m.attachment_name = bad[i];
        m.attachment_type = "text/plain";
        assert_refused(&m);
    }
    struct mail_message m = sample();
    m.to_addr = "a@b.c\r\nBcc: x@y.z";
    assert_refused(&m);
    m = sample();
    m.from_addr = "a@b.c\nBcc: x@y.z";
    assert_refused(&m);
    m = sample();
    m.message_id = "id@example.org>\r\nBcc: x@y.z";
    assert_refused(&m);
    m = sample();
    m.to_addr = "Eve <eve@example.net>";
    assert_refused(&m);
    m = sample();
    m.attachment_name = "cal.ics";
    m.attachment_type = "text/calendar\r\nBcc: x@y.z";
    assert_refused(&m);
    m = sample();
    m.list_unsubscribe_url = "https://example.org/u/x> , <mailto:evil@example.net";
    assert_refused(&m);
}

static void invalid_utf8_is_refused(void **state)
{
    static const char *const bad[] = {"\xc3", "a\xff", "\xed\xa0\x80", "\xc0\xaf", NULL};
    for (size_t i = 0; bad[i]; i++) {
        struct mail_message m = sample();
        m.subject = bad[i];
        assert_refused(&m);
        m = sample();
        m.to_name = bad[i];
        assert_refused(&m);
        m = sample();
        m.text = bad[i];
        assert_refused(&m);
        m = sample();
        m.html = bad[i];
        assert_refused(&m);
    }
}

static void required_fields_are_checked(void **state)
{
    struct mail_message m = sample();
    m.message_id = NULL;
    assert_refused(&m);
    m = sample();
    m.message_id = "<r1@example.org>";
    assert_refused(&m);
    m = sample();
    m.to_addr = NULL;
    assert_refused(&m);
    m = sample();
    m.from_addr = "";
    assert_refused(&m);
    struct buf out = BUF_INIT;
    assert_int_equal(mail_build(NULL, &out), -1);
    buf_release(&out);
}

static void list_unsubscribe_headers(void **state)
{
    struct mail_message m = sample();
    m.list_unsubscribe_url = "https://muster.example.org/u/AbCdEf0123456789_-AbCdEf0123456";
    m.list_unsubscribe_one_click = 1;
    char *msg = build_ok(&m);
    size_t hlen = header_end(msg);
    char *head = strndup(msg, hlen);
    assert_non_null(strstr(head,
                           "\r\nList-Unsubscribe: "
                           "<https://muster.example.org/u/AbCdEf0123456789_-AbCdEf0123456>\r\n"
                           "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    free(head);
    free(msg);

    m.list_unsubscribe_one_click = 0;
    msg = build_ok(&m);
    assert_non_null(strstr(msg, "List-Unsubscribe: <"));
    assert_null(strstr(msg, "List-Unsubscribe-Post"));
    free(msg);
}

static void attachment_is_base64_with_type(void **state)
{
    struct buf data = BUF_INIT;
    buf_puts(&data, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    for (int i = 0; i < 200; i++)
        buf_putc(&data, (char)i); /* binary-safe */
    buf_puts(&data, "END:VCALENDAR\r\n");
    struct mail_message m = sample();
    m.attachment_name = "docs-day.ics";
    m.attachment_type = "text/calendar; method=PUBLISH";
    m.attachment_data = data.data;
    m.attachment_len = data.len;
    char *msg = build_ok(&m);
    size_t hlen = header_end(msg);
    assert_lines(msg + hlen, strlen(msg) - hlen, 76);

    char *ctype = header_value(msg, "Content-Type");
    assert_non_null(strstr(ctype, "multipart/mixed; boundary=\"=_muster_"));
    free(ctype);

    struct buf got = BUF_INIT;
    char *ph = NULL;
    part_body(msg, "Content-Type: text/calendar", &got, &ph);
    assert_int_equal(got.len, data.len);
    assert_memory_equal(got.data, data.data, data.len);
    char *pt = header_value_n(ph, strlen(ph), "Content-Type");
    char *pd = header_value_n(ph, strlen(ph), "Content-Disposition");
    char *pe = header_value_n(ph, strlen(ph), "Content-Transfer-Encoding");
    assert_string_equal(pt, "text/calendar; method=PUBLISH; name=\"docs-day.ics\"");
    assert_string_equal(pd, "attachment; filename=\"docs-day.ics\"");
    assert_string_equal(pe, "base64");
    free(pt);
    free(pd);
    free(pe);
    free(ph);

    /* the text and HTML parts are still there, inside the mixed part */
    buf_reset(&got);
    part_body(msg, "Content-Type: text/plain", &got, NULL);
    char *want = crlf_normalise(m.text);
    assert_string_equal(got.data, want);
    free(want);
    assert_non_null(strstr(msg, "Content-Type: multipart/alternative;"));
    buf_release(&got);
    buf_release(&data);
    free(msg);
}

static void attachment_name_non_ascii_uses_rfc2231(void **state)
{
    struct mail_message m = sample();
    m.attachment_name = "Docs Day ü.ics";
    m.attachment_type = "text/calendar";
    m.attachment_data = "x";
    m.attachment_len = 1;
    char *msg = build_ok(&m);
    assert_non_null(strstr(msg, "filename*=UTF-8''Docs%20Day%20%C3%BC.ics"));
    assert_non_null(strstr(msg, "name*=UTF-8''Docs%20Day%20%C3%BC.ics"));
    free(msg);
}

static void boundaries_are_closed_and_unique(void **state)
{
    struct mail_message m = sample();
    m.attachment_name = "a.txt";
    m.attachment_type = "text/plain";
    m.attachment_data = "hello";
    m.attachment_len = 5;
    char *msg = build_ok(&m);
    char *ctype = header_value(msg, "Content-Type");
    const char *b = strstr(ctype, "boundary=\"");
    assert_non_null(b);
    b += 10;
    char *boundary = strndup(b, strcspn(b, "\""));
    struct buf delim = BUF_INIT;
    buf_printf(&delim, "\r\n--%s", boundary);
    int count = 0;
    for (const char *p = msg; (p = strstr(p, delim.data)) != NULL; p++)
        count++;
    assert_int_equal(count, 3); /* two part delimiters and the close */
    buf_printf(&delim, "--\r\n");
    size_t dl = strlen(delim.data), ml = strlen(msg);
    assert_true(ml >= dl && strcmp(msg + ml - dl, delim.data) == 0);
    free(boundary);
    free(ctype);
    buf_release(&delim);
    free(msg);
}

static void appends_to_existing_buffer(void **state)
{
    struct buf out = BUF_INIT;
    buf_puts(&out, "prefix");
    struct mail_message m = sample();
    assert_int_equal(mail_build(&m, &out), 0);
    assert_memory_equal(out.data, "prefixDate: ", 12);
    size_t len = out.len;
    m.subject = "bad\r\n";
    assert_int_equal(mail_build(&m, &out), -1);
    assert_int_equal(out.len, len);
    buf_release(&out);
}

static void full_buffer_fails(void **state)
{
    struct buf out;
    buf_init(&out, 100);
    struct mail_message m = sample();
    assert_int_equal(mail_build(&m, &out), -1);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_are_exact),
        cmocka_unit_test(every_line_is_crlf_and_short),
        cmocka_unit_test(quoted_printable_round_trips),
        cmocka_unit_test(quoted_printable_long_lines),
        cmocka_unit_test(ascii_names_with_specials_are_quoted),
        cmocka_unit_test(no_name_gives_bare_address),
        cmocka_unit_test(non_ascii_names_round_trip),
        cmocka_unit_test(subjects_round_trip),
        cmocka_unit_test(long_ascii_subject_is_folded),
        cmocka_unit_test(encode_header_word_directly),
        cmocka_unit_test(header_injection_is_refused),
        cmocka_unit_test(invalid_utf8_is_refused),
        cmocka_unit_test(required_fields_are_checked),
        cmocka_unit_test(list_unsubscribe_headers),
        cmocka_unit_test(attachment_is_base64_with_type),
        cmocka_unit_test(attachment_name_non_ascii_uses_rfc2231),
        cmocka_unit_test(boundaries_are_closed_and_unique),
        cmocka_unit_test(appends_to_existing_buffer),
        cmocka_unit_test(full_buffer_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
