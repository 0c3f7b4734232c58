/*
 * message: building outgoing email as RFC 5322 text, the one place that knows
 * MIME. A message has a text part and an HTML part (multipart/alternative),
 * optionally an attachment (multipart/mixed), CRLF line endings, no line over
 * 998 octets (bodies are quoted-printable), non-ASCII display names and
 * subjects in RFC 2047 encoded-words. No value can add a header: header values
 * are refused (-1) when they contain CR or LF, addresses are validated.
 */
#ifndef MUSTER_MAIL_MESSAGE_H
#define MUSTER_MAIL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct mail_message {
    const char *from_name; /* display name, may be NULL; any UTF-8 */
    const char *from_addr; /* validated with mail_address_valid */
    const char *to_name;   /* may be NULL; any UTF-8 (a supporter typed it) */
    const char *to_addr;
    const char *subject;    /* any UTF-8 without CR/LF */
    const char *message_id; /* without angle brackets: "local@domain", both dot-atoms */
    int64_t date;           /* Unix seconds */
    const char *text;       /* UTF-8 plain text, LF or CRLF line ends */
    const char *html;       /* UTF-8 HTML document */
    const char *language;   /* BCP 47 tag for Content-Language; NULL: none */
    const char *list_id;    /* when set: List-Id (RFC 2919), a dot-atom with a dot */
    const char *list_name;  /* ... and its description, any UTF-8 (RFC 2047 when needed) */
    const char *list_unsubscribe_url; /* when set: List-Unsubscribe + ... */
    int list_unsubscribe_one_click;   /* ... List-Unsubscribe-Post (RFC 8058) */
    const char *feedback_id;          /* when set: Feedback-ID (Gmail's feedback loop),
                                         "a:b:c:SenderId": printable ASCII, no space */
    const char *attachment_name;      /* e.g. "docs-day.ics"; NULL: no attachment */
    const char *attachment_type;      /* e.g. "text/calendar; method=PUBLISH" */
    const char *attachment_data;
    size_t attachment_len;
};

/* Appends the whole message (headers and body, CRLF) to out. Returns 0, or -1
 * with nothing useful in out when a field is invalid or out failed. */
int mail_build(const struct mail_message *m, struct buf *out);

/* 1 when addr is an address muster will put in an envelope and a header:
 * local@domain, printable ASCII, no spaces, CR, LF, quotes, angle brackets,
 * commas or semicolons, one '@', a dotted domain of letters/digits/'-', at most
 * 254 octets. Precisely: the local part is an RFC 5322 dot-atom of at most 64
 * octets; domain labels are 1-63 octets and do not start or end with '-';
 * "localhost" is the one undotted domain allowed (muster@localhost is the
 * default sender). */
int mail_address_valid(const char *addr);

/* Appends s as RFC 2047 encoded-words (B encoding, UTF-8) when it is not plain
 * printable ASCII, else as it is. Never emits CR or LF. Also encodes ASCII
 * that holds "=?" (a reader would decode it) or a run of over 60 characters
 * without a space (so the header can be folded). Words are at most 75
 * characters, split between UTF-8 characters, separated by one space.
 * Returns -1 on invalid UTF-8. */
int mail_encode_header_word(struct buf *out, const char *s);

/* Appends s encoded quoted-printable (RFC 2045), CRLF line ends, lines <= 76. */
int mail_encode_qp(struct buf *out, const char *s, size_t len);

#endif
