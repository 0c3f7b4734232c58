/*
 * escape: the encoders for every place muster writes text a person typed:
 * HTML text and attributes, URL components (percent-encoding), CSV cells.
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
