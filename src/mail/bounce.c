/*
 * bounce: one report read with GMime (see bounce.h). It walks the report's
 * MIME tree without entering the returned message (message/rfc822), hands
 * the decoded delivery-status and feedback-report parts and the first
 * readable text to bounce_fields.c, and looks for the message's own return
 * path (mail/verp.h) anywhere in the raw bytes: a token is only believed
 * when its MAC is valid, so where it was found does not matter.
 */
#include "mail/bounce.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/verp.h"

#include "core/banned.h"

#define TEXT_MAX (256 * 1024) /* of a part read as text */
#define EXCLUDE_MAX 2048

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

/* The decoded content of a leaf part into a new byte array (NULL: none). */
static GByteArray *part_bytes(GMimeObject *obj)
{
    if (!GMIME_IS_PART(obj))
        return NULL;
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(obj));
    if (!content)
        return NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray *bytes = g_byte_array_new();
    GByteArray *held = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_byte_array_append(bytes, held->data, held->len < TEXT_MAX ? held->len : TEXT_MAX);
    g_object_unref(mem);
    return bytes;
}

/* A message part's content (headers and body) as bytes: some MTAs'
 * delivery-status parts are read as a message/rfc822-like object. */
static GByteArray *object_bytes(GMimeObject *obj)
{
    GMimeStream *mem = g_mime_stream_mem_new();
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner)
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
    } else {
        g_mime_object_write_content_to_stream(obj, NULL, mem);
    }
    GByteArray *bytes = g_byte_array_new();
    GByteArray *held = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_byte_array_append(bytes, held->data, held->len < TEXT_MAX ? held->len : TEXT_MAX);
    g_object_unref(mem);
    return bytes;
}

/* HTML as lines of text: tags dropped (<br>, <p>, <div>, <tr> and <li>
 * end a line; a tag holding '@' and no space is an address in angle
 * brackets, kept), the common entities decoded. Appends to out. */
static void html_to_text(const guint8 *h, size_t len, GByteArray *out)
{
    static const struct {
        const char *name;
        char c;
    } entities[] = {{"&nbsp;", ' '}, {"&lt;", '<'},   {"&gt;", '>'},
                    {"&amp;", '&'},  {"&quot;", '"'}, {"&#64;", '@'}};
    for (size_t i = 0; i < len && out->len < TEXT_MAX;) {
        if (h[i] == '<') {
            const guint8 *close = memchr(h + i, '>', len - i);
            if (!close)
                break;
            size_t tl = (size_t)(close - (h + i)) + 1;
            const char *t = (const char *)h + i;
            if (memchr(t, '@', tl) && !memchr(t, ' ', tl)) {
                g_byte_array_append(out, h + i, (guint)tl);
            } else if (tl > 2 && (strncasecmp(t, "<br", 3) == 0 || strncasecmp(t, "<p", 2) == 0 ||
                                  strncasecmp(t, "</p", 3) == 0 || strncasecmp(t, "<div", 4) == 0 ||
                                  strncasecmp(t, "<tr", 3) == 0 || strncasecmp(t, "<li", 3) == 0)) {
                g_byte_array_append(out, (const guint8 *)"\n", 1);
            }
            i += tl;
            continue;
        }
        if (h[i] == '&') {
            size_t k;
            for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
                size_t el = strlen(entities[k].name);
                if (len - i >= el && strncasecmp((const char *)h + i, entities[k].name, el) == 0) {
                    g_byte_array_append(out, (const guint8 *)&entities[k].c, 1);
                    i += el;
                    break;
                }
            }
            if (k < sizeof entities / sizeof entities[0])
                continue;
        }
        g_byte_array_append(out, h + i, 1);
        i++;
    }
}

struct walk {
    struct bounce_report *out;
    GByteArray *text;      /* the first text/plain part outside a returned message */
    GByteArray *more_text; /* the other text/plain parts */
    GByteArray *html;      /* text/html parts as text, when there is no text/plain */
    int has_dsn, has_arf, arf_found;
    GMimeObject *returned; /* the returned message or its headers, for ARF */
};

static void walk_object(GMimeObject *obj, struct walk *w, int depth)
{
    if (!obj || depth > 8)
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int count = g_mime_multipart_get_count(mp);
        for (int i = 0; i < count && i < 64; i++)
            walk_object(g_mime_multipart_get_part(mp, i), w, depth + 1);
        return;
    }
    if (ct && (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
               g_mime_content_type_is_type(ct, "message", "global-delivery-status"))) {
        GByteArray *b = GMIME_IS_PART(obj) ? part_bytes(obj) : object_bytes(obj);
        if (b) {
            bounce_read_dsn((const char *)b->data, b->len, w->out);
            g_byte_array_unref(b);
        }
        w->has_dsn = 1;
        return;
    }
    if (ct && g_mime_content_type_is_type(ct, "message", "feedback-report")) {
        GByteArray *b = GMIME_IS_PART(obj) ? part_bytes(obj) : object_bytes(obj);
        if (b) {
            w->arf_found += (int)bounce_read_arf((const char *)b->data, b->len, w->out);
            g_byte_array_unref(b);
        }
        w->has_arf = 1;
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj) ||
        (ct && g_mime_content_type_is_type(ct, "text", "rfc822-headers"))) {
        if (!w->returned)
            w->returned = obj;
        return; /* the returned message: its addresses are not findings */
    }
    if (ct && g_mime_content_type_is_type(ct, "text", "html")) {
        GByteArray *b = part_bytes(obj);
        if (b) {
            html_to_text(b->data, b->len, w->html);
            g_byte_array_unref(b);
        }
        return;
    }
    if (ct && g_mime_content_type_is_type(ct, "text", "plain")) {
        GByteArray *b = part_bytes(obj);
        if (!b)
            return;
        if (!w->text) {
            w->text = b;
        } else {
            if (w->more_text->len < TEXT_MAX) {
                g_byte_array_append(w->more_text, (const guint8 *)"\n", 1);
                g_byte_array_append(w->more_text, b->data, b->len);
            }
            g_byte_array_unref(b);
        }
    }
}

/* Appends the mailbox addresses of a header's list to the NUL-separated
 * exclusion list. */
static void exclude_list(InternetAddressList *list, char *ex, size_t *used)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        size_t l = addr ? strlen(addr) : 0;
        if (l == 0 || *used + l + 2 > EXCLUDE_MAX)
            continue;
        memcpy(ex + *used, addr, l + 1);
        *used += l + 1;
        ex[*used] = '\0';
    }
}

static void exclude_header(GMimeObject *obj, const char *name, char *ex, size_t *used)
{
    const char *v = g_mime_object_get_header(obj, name);
    if (!v)
        return;
    InternetAddressList *list = internet_address_list_parse(NULL, v);
    if (list) {
        exclude_list(list, ex, used);
        g_object_unref(list);
    }
}

/* From a mailer daemon or postmaster, an empty return path, or a subject a
 * bounce has. */
static int looks_like_bounce(GMimeMessage *msg)
{
    GMimeObject *obj = GMIME_OBJECT(msg);
    const char *rp = g_mime_object_get_header(obj, "Return-Path");
    if (rp && strstr(rp, "<>"))
        return 1;
    const char *from = g_mime_object_get_header(obj, "From");
    static const char *const daemons[] = {
        "mailer-daemon", "postmaster",  "mail delivery", "mail administrator",
        "mailadmin",     "mail-daemon", "mdaemon",       "mail system",
        "smtp"};
    for (size_t i = 0; from && i < sizeof daemons / sizeof daemons[0]; i++)
        if (strcasestr(from, daemons[i]))
            return 1;
    const char *subject = g_mime_message_get_subject(msg);
    static const char *const words[] = {"deliver",   "returned",   "failure",       "failed",
                                        "undeliver", "bounce",     "not delivered", "error",
                                        "unknown",   "nondeliver", "non-deliver",   "warning",
                                        "delay",     "abuse",      "complaint",     "report"};
    for (size_t i = 0; subject && i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(subject, words[i]))
            return 1;
    return 0;
}

static int parse_at(const char *data, size_t len, const char *return_path_base,
                    struct bounce_report *out, char *err, size_t err_len, int depth)
{
    memset(out, 0, sizeof *out);
    if (return_path_base)
        out->has_return_path = verp_find(return_path_base, data, len, &out->return_path_outbox_id,
                                         &out->return_path_supporter_id);
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    if (!msg) {
        snprintf(err, err_len, "not a mail message (no header block could be read)");
        return -1;
    }
    GMimeObject *top = GMIME_OBJECT(msg);
    if (!g_mime_object_get_header(top, "From") && !g_mime_object_get_header(top, "Subject") &&
        !g_mime_object_get_header(top, "Content-Type")) {
        g_object_unref(msg);
        snprintf(err, err_len, "not a mail message (no From, Subject or Content-Type header)");
        return -1;
    }
    out->looks_like_bounce = looks_like_bounce(msg);
    struct walk w = {.out = out, .more_text = g_byte_array_new(), .html = g_byte_array_new()};
    walk_object(g_mime_message_get_mime_part(msg), &w, 0);
    if (w.has_arf) {
        out->format = BOUNCE_FORMAT_ARF;
        /* No Original-Rcpt-To: the returned message's one recipient. */
        if (w.arf_found == 0 && w.returned) {
            GMimeObject *headers = w.returned;
            GMimeMessage *inner = GMIME_IS_MESSAGE_PART(headers)
                                      ? g_mime_message_part_get_message(GMIME_MESSAGE_PART(headers))
                                      : NULL;
            InternetAddressList *to = NULL, *parsed = NULL;
            if (inner) {
                to = g_mime_message_get_to(inner);
            } else {
                GByteArray *b = part_bytes(headers);
                if (b) {
                    g_byte_array_append(b, (const guint8 *)"\0", 1);
                    const char *p = strcasestr((const char *)b->data, "\nTo:");
                    if (p) {
                        char value[BOUNCE_ADDRESS_MAX * 2];
                        size_t l = strcspn(p + 4, "\r\n");
                        if (l >= sizeof value)
                            l = sizeof value - 1;
                        memcpy(value, p + 4, l);
                        value[l] = '\0';
                        to = parsed = internet_address_list_parse(NULL, value);
                    }
                    g_byte_array_unref(b);
                }
            }
            if (to && internet_address_list_length(to) == 1) {
                InternetAddress *ia = internet_address_list_get_address(to, 0);
                if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
                    const char *addr =
                        internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
                    char block[BOUNCE_ADDRESS_MAX + 64];
                    snprintf(block, sizeof block, "Original-Rcpt-To: %s\n", addr ? addr : "");
                    bounce_read_arf(block, strlen(block), out);
                }
            }
            if (parsed)
                g_object_unref(parsed);
        }
        /* Feedback loops often redact the recipient: the return path in
         * the returned message still names it. */
        if (out->n == 0 && out->has_return_path) {
            struct bounce_finding *f = &out->found[out->n++];
            memset(f, 0, sizeof *f);
            f->kind = BOUNCE_COMPLAINT;
            snprintf(f->reason, sizeof f->reason, "feedback report (recipient redacted)");
        }
    } else if (w.has_dsn) {
        out->format = BOUNCE_FORMAT_DSN;
    }
    /* A delivery-status part that names no recipient at all (some MTAs send
     * only the per-message fields): the text says who. */
    if (out->n == 0 && !w.has_arf && out->recipients_reported == 0 &&
        (out->looks_like_bounce || w.has_dsn)) {
        char exclude[EXCLUDE_MAX + 1];
        size_t used = 0;
        exclude[0] = '\0';
        const char *const names[] = {"From",   "To",        "Cc",         "Reply-To",
                                     "Sender", "Errors-To", "Return-Path"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            exclude_header(top, names[i], exclude, &used);
        if (w.text)
            bounce_read_text((const char *)w.text->data, w.text->len, exclude, out);
        if (out->n == 0 && w.more_text->len)
            bounce_read_text((const char *)w.more_text->data, w.more_text->len, exclude, out);
        if (out->n == 0 && w.html->len)
            bounce_read_text((const char *)w.html->data, w.html->len, exclude, out);
        if (out->n > 0)
            out->format = BOUNCE_FORMAT_TEXT;
    }
    /* A bounce forwarded as an attachment (a relay wrapped the report in a
     * message of its own): the attached report, once. */
    if (out->n == 0 && out->recipients_reported == 0 && w.returned && depth == 0 &&
        GMIME_IS_MESSAGE_PART(w.returned)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(w.returned));
        if (inner && looks_like_bounce(inner)) {
            GMimeStream *mem = g_mime_stream_mem_new();
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
            GByteArray *held = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
            struct bounce_report inner_rep;
            char inner_err[64];
            if (parse_at(held->data ? (const char *)held->data : "", held->len, NULL, &inner_rep,
                         inner_err, sizeof inner_err, depth + 1) == 0 &&
                inner_rep.n > 0) {
                out->format = inner_rep.format;
                out->n = inner_rep.n;
                out->recipients_reported = inner_rep.recipients_reported;
                memcpy(out->found, inner_rep.found, sizeof out->found);
            }
            g_object_unref(mem);
        }
    }
    if (w.text)
        g_byte_array_unref(w.text);
    g_byte_array_unref(w.more_text);
    g_byte_array_unref(w.html);
    g_object_unref(msg);
    return 0;
}

int bounce_parse(const char *data, size_t len, const char *return_path_base,
                 struct bounce_report *out, char *err, size_t err_len)
{
    pthread_once(&gmime_once, gmime_start);
    return parse_at(data, len, return_path_base, out, err, err_len, 0);
}
