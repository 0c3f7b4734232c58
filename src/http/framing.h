/*
 * framing: whether a request head that libmicrohttpd accepted is framed the
 * one way RFC 9112 allows, so that muster and a proxy in front of it cannot
 * disagree on where a request ends (request smuggling). Refused: a second
 * Content-Length (§6.3), Transfer-Encoding with Content-Length or in
 * HTTP/1.0 (§6.1), no Host or two in HTTP/1.1 (§3.2), a field name with a
 * space or another character outside the token set (§5.1), a control
 * character in a field value (RFC 9110 §5.5), and, with libmicrohttpd 0.9.75
 * whose in-place parsing it reads, a line ending in a bare LF (§2.2) and an
 * obs-fold continuation line (§5.2), and more than one space before the
 * URL (§3). Transfer-Encoding alone is answered 411:
 * muster takes request bodies with a Content-Length only (§6.3 allows it).
 * One pass over the header fields MHD already parsed.
 */
#ifndef MUSTER_HTTP_FRAMING_H
#define MUSTER_HTTP_FRAMING_H

#include <stdint.h>

struct MHD_Connection;

struct framing {
    int status;             /* 0: framed correctly; else 400 or 411 */
    const char *problem;    /* one sentence for the log and the page, static */
    int64_t content_length; /* -1: none; INT64_MAX when larger than that */
};

/* 1 when the libmicrohttpd in use is the one whose in-place parsing of the
 * head framing_check reads (0.9.75) to see line ends and folded lines; with
 * another, those two checks are skipped (and serve logs it at start). */
int framing_layout_known(void);

/* Checks the head of the request on conn, on the access handler's first
 * call: method, url and version are the handler's arguments (pointers into
 * MHD's copy of the head). layout: framing_layout_known(). */
void framing_check(struct MHD_Connection *conn, const char *method, const char *url,
                   const char *version, int layout, struct framing *out);

#endif
