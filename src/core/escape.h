/*
 * escape: the encoders for every place muster writes text a person typed:
 * HTML text and attributes, URL components (percent-encoding), CSV cells,
 * text shown on a terminal.
 * Each appends to a buf and returns 0, or -1 when the buf failed.
 * Decoders for what arrives (percent-decoding) live here too; they validate.
 */
#ifndef MUSTER_CORE_ESCAPE_H
#define MUSTER_CORE_ESCAPE_H

#include "core/buf.h"

/* & < > " ' escaped; safe in text and in quoted attributes. */
int escape_html(struct buf *out, const char *s);
int escape_html_n(struct buf *out, const char *s, size_t len);
/* Percent-encodes every byte except ALPHA DIGIT - . _ ~ (RFC 3986 unreserved):
 * safe in any URL component (path segment, query name or value, fragment). */
int escape_url(struct buf *out, const char *s);
int escape_url_n(struct buf *out, const char *s, size_t len);
/* One RFC 4180 CSV cell, quoted when needed; a cell starting with TAB, CR or
 * LF, or with = + - @ (or their fullwidth forms) after any leading spaces,
 * tabs and line breaks, is prefixed with ' so spreadsheets do not run it as
 * a formula. */
int escape_csv(struct buf *out, const char *s);

/* Text for a terminal (what the CLI prints for a person): every byte that a
 * terminal could run or that could disguise the text becomes a visible
 * escape: C0 controls (ESC, BEL, ...; TAB, LF and CR as \t \n \r) and DEL as
 * \xHH, C1 controls U+0080..U+009F and the bidirectional embedding, override
 * and isolate characters U+202A..U+202E and U+2066..U+2069 as \uXXXX, and
 * each byte of invalid UTF-8 (a lone 0x9B is CSI to an 8-bit terminal) as
 * \xHH. Everything else, backslashes included, is copied as it is. */
int escape_terminal(struct buf *out, const char *s);
int escape_terminal_n(struct buf *out, const char *s, size_t len);
/* The same for multi-line text (a CSV file shown on a terminal): LF, TAB and
 * a CR right before an LF are kept. */
int escape_terminal_lines(struct buf *out, const char *s, size_t len);
/* Copies s with every email address in it (a run of address characters
 * around an '@') replaced by "[address]": for text another system wrote,
 * such as a relay's reply, before it reaches a log. */
int redact_addresses(struct buf *out, const char *s);

/* Decodes %XX and (when plus_is_space) '+' in [s, s+len) into out.
 * Returns -1 on a malformed escape, an embedded NUL, or invalid UTF-8. */
int unescape_url(struct buf *out, const char *s, size_t len, int plus_is_space);

/* 1 when [s, s+len) is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t len);
/* Number of code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* The 0-based code point index of the first control character in the valid
 * UTF-8 string s, or -1 when there is none. Control characters: C0 (U+0000 to
 * U+001F) except tab, and except CR and LF when allow_line_breaks; DEL; C1
 * (U+0080 to U+009F, which terminals read as escape sequences too). */
long utf8_find_control(const char *s, int allow_line_breaks);

#endif
