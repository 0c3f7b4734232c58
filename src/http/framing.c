/*
 * framing: the request-head checks of framing.h.
 *
 * libmicrohttpd 0.9.75 accepts a bare LF as a line end and joins obs-fold
 * continuation lines into the previous field, and has no option to refuse
 * either. It parses the head in place, in one buffer that starts at the
 * request method (the handler's `method` argument) and is
 * MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes long: it replaces each CR LF
 * with two NULs and a bare LF with one, the colon of each field line with a
 * NUL, and hands the field names and values as pointers into that buffer, in
 * the order received. A folded field is copied elsewhere and its
 * continuation line stays behind. So, walking the fields in order, each name
 * must start exactly where the previous line's two NULs end, only spaces or
 * tabs may sit between the name's NUL and the value, and the head must end
 * with the empty line's two NULs exactly at its size; anything else is a bare
 * LF, a folded line or a stray byte. Every read is inside a line already
 * found this way, so nothing is read outside MHD's buffer.
 */
#include "http/framing.h"

#include <microhttpd.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

static const char bad_line_end[] =
    "Every line of a request head must end with CR LF, with no folded (indented) lines.";

struct walk {
    int layout;
    const char *next_line; /* where the next field line must start (layout) */
    int hosts, lengths, encodings;
    const char *length; /* the Content-Length value */
    size_t length_size;
    const char *problem;
};

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int name_is(const char *key, size_t key_size, const char *name, size_t name_size)
{
    return key_size == name_size && strncasecmp(key, name, name_size) == 0;
}

/* The layout checks of one field line (see the top of the file). */
static const char *check_line(struct walk *w, const char *key, size_t key_size, const char *value,
                              size_t value_size)
{
    if (key != w->next_line)
        return bad_line_end;
    const char *p = key + key_size + 1; /* after the NUL that was the colon */
    while (*p == ' ' || *p == '\t')
        p++;
    if (p != value)
        return bad_line_end;
    const char *end = value + value_size;
    if (end[0] != '\0' || end[1] != '\0')
        return bad_line_end;
    w->next_line = end + 2;
    return NULL;
}

static enum MHD_Result walk_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    struct walk *w = cls;
    (void)kind;
    if (w->layout && (w->problem = check_line(w, key, key_size, value, value_size)))
        return MHD_NO;
    if (key_size == 0) {
        w->problem = "A header field has no name.";
        return MHD_NO;
    }
    for (size_t i = 0; i < key_size; i++)
        if (!is_tchar((unsigned char)key[i])) {
            w->problem = "A header field name has a space or a character that is not allowed.";
            return MHD_NO;
        }
    for (size_t i = 0; i < value_size; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            w->problem = "A header field value has a control character.";
            return MHD_NO;
        }
    }
    if (name_is(key, key_size, "Host", 4)) {
        w->hosts++;
    } else if (name_is(key, key_size, "Content-Length", 14)) {
        w->lengths++;
        w->length = value;
        w->length_size = value_size;
    } else if (name_is(key, key_size, "Transfer-Encoding", 17)) {
        w->encodings++;
    }
    return MHD_YES;
}

int framing_layout_known(void)
{
    const char *v = MHD_get_version();
    return v && strcmp(v, "0.9.75") == 0;
}

static void refuse(struct framing *out, int status, const char *problem)
{
    out->status = status;
    out->problem = problem;
}

void framing_check(struct MHD_Connection *conn, const char *method, const char *url,
                   const char *version, int layout, struct framing *out)
{
    memset(out, 0, sizeof *out);
    out->content_length = -1;
    struct walk w;
    memset(&w, 0, sizeof w);
    const char *head_end = NULL;
    if (layout) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (!info || !method || !version) {
            refuse(out, 400, bad_line_end);
            return;
        }
        head_end = method + info->header_size;
        /* The request line: "METHOD\0URL\0VERSION\0\0". */
        if ((uintptr_t)version <= (uintptr_t)method || (uintptr_t)version >= (uintptr_t)head_end) {
            refuse(out, 400, bad_line_end);
            return;
        }
        /* One space before the URL: MHD skips more (with
         * MHD_OPTION_STRICT_FOR_CLIENT it refuses one inside or after it). */
        if (url != method + strlen(method) + 1) {
            refuse(out, 400, "The parts of the request line must be separated by one space.");
            return;
        }
        const char *end = version + strlen(version);
        if (end[0] != '\0' || end[1] != '\0') {
            refuse(out, 400, bad_line_end);
            return;
        }
        w.layout = 1;
        w.next_line = end + 2;
    }
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, walk_field, &w);
    if (w.problem) {
        refuse(out, 400, w.problem);
        return;
    }
    /* The empty line: its two NULs end the head exactly. */
    if (layout && (w.next_line + 2 != head_end || w.next_line[0] || w.next_line[1])) {
        refuse(out, 400, bad_line_end);
        return;
    }
    int http10 = version && strcmp(version, "HTTP/1.0") == 0;
    if (w.hosts > 1 || (w.hosts == 0 && !http10)) {
        refuse(out, 400, "An HTTP/1.1 request needs exactly one Host header.");
        return;
    }
    if (w.lengths > 1) {
        refuse(out, 400, "A request may have only one Content-Length header.");
        return;
    }
    if (w.encodings) {
        if (w.lengths || http10)
            refuse(out, 400,
                   "Transfer-Encoding is not allowed with Content-Length or in HTTP/1.0.");
        else
            refuse(out, 411, "Send the request body with a Content-Length.");
        return;
    }
    if (w.lengths) {
        /* libmicrohttpd already refused anything but digits. */
        int64_t n = 0;
        for (size_t i = 0; i < w.length_size; i++) {
            if (w.length[i] < '0' || w.length[i] > '9') {
                refuse(out, 400, "Content-Length must be a number.");
                return;
            }
            int digit = w.length[i] - '0';
            n = n > (INT64_MAX - digit) / 10 ? INT64_MAX : n * 10 + digit;
        }
        if (w.length_size == 0) {
            refuse(out, 400, "Content-Length must be a number.");
            return;
        }
        out->content_length = n;
    }
}
