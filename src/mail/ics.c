/*
 * ics: writes the RFC 5545 calendar for one event (see ics.h). It owns TEXT
 * escaping, parameter quoting and line folding for iCalendar, and nothing
 * else: times arrive as Unix seconds and leave as UTC ("Z"), so no time zone
 * data is involved. A value can never start a new property: newlines are
 * escaped in TEXT, dropped from parameters, and refused in URIs.
 */
#include "mail/ics.h"

#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/tz.h"
#include "mail/message.h"

#include "core/i18n.h"
#include "core/banned.h"

#define ICS_LINE_MAX 75 /* octets, without the CRLF (RFC 5545 3.1) */

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

/* Appends one content line, folded: a continuation line starts with one space
 * and no line passes 75 octets or splits a UTF-8 sequence (or a backslash
 * escape). line is valid UTF-8. */
static int put_folded(struct buf *out, const char *line, size_t len)
{
    size_t col = 0, i = 0;
    while (i < len) {
        /* a backslash escape stays on one line too: some readers unfold
         * after unescaping */
        size_t n = utf8_seq_len((unsigned char)line[i]);
        if (line[i] == '\\' && i + 1 < len && (unsigned char)line[i + 1] < 0x80)
            n = 2;
        if (n > len - i)
            n = len - i;
        if (col + n > ICS_LINE_MAX) {
            buf_puts(out, "\r\n ");
            col = 1;
        }
        buf_append(out, line + i, n);
        col += n;
        i += n;
    }
    buf_puts(out, "\r\n");
    return buf_failed(out) ? -1 : 0;
}

/* TEXT (RFC 5545 3.3.11): backslash, semicolon and comma escaped, any line
 * break as \n, other control characters (not allowed in TEXT) dropped. */
static void put_text_escaped(struct buf *line, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\':
            buf_puts(line, "\\\\");
            break;
        case ';':
            buf_puts(line, "\\;");
            break;
        case ',':
            buf_puts(line, "\\,");
            break;
        case '\r':
            if (p[1] == '\n')
                p++;
            /* fall through */
        case '\n':
            buf_puts(line, "\\n");
            break;
        default:
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                break;
            buf_putc(line, (char)*p);
        }
    }
}

static int text_valid(const char *s)
{
    return s && utf8_valid(s, strlen(s));
}

static int put_text_prop(struct buf *out, struct buf *line, const char *name, const char *value)
{
    buf_reset(line);
    buf_printf(line, "%s:", name);
    put_text_escaped(line, value);
    if (buf_failed(line))
        return -1;
    return put_folded(out, line->data, line->len);
}

/* "20261205T150000Z" from tz_iso_utc's "2026-12-05T15:00:00Z". */
static void ics_utc(int64_t t, char out[17])
{
    char iso[21];
    tz_iso_utc(t, iso);
    size_t j = 0;
    for (size_t i = 0; iso[i] && j < 16; i++)
        if (iso[i] != '-' && iso[i] != ':')
            out[j++] = iso[i];
    out[j] = '\0';
}

/* A URI value: printable ASCII without spaces (RFC 3986 has no others). */
static int uri_valid(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

int ics_build(const struct ics_event *e, struct buf *out)
{
    if (!e || !out || !text_valid(e->uid) || !*e->uid || !text_valid(e->summary))
        return -1;
    if ((e->description && !text_valid(e->description)) || (e->url && !uri_valid(e->url)) ||
        e->duration_minutes < 0)
        return -1;
    if (e->organizer_email && !mail_address_valid(e->organizer_email))
        return -1;
    if (e->organizer_name && !text_valid(e->organizer_name))
        return -1;
    if (e->language && !i18n_tag_valid(e->language))
        return -1;
    /* RFC 5545 3.2.10: the language of the text values. */
    char summary[48], description[48];
    snprintf(summary, sizeof summary, "SUMMARY%s%s", e->language ? ";LANGUAGE=" : "",
             e->language ? e->language : "");
    snprintf(description, sizeof description, "DESCRIPTION%s%s", e->language ? ";LANGUAGE=" : "",
             e->language ? e->language : "");

    struct buf line;
    buf_init(&line, 1u << 20);
    int rc = -1;
    char stamp[17], start[17], end[17];
    ics_utc(e->dtstamp, stamp);
    ics_utc(e->start, start);
    ics_utc(e->start + (int64_t)e->duration_minutes * 60, end);

    buf_puts(out, "BEGIN:VCALENDAR\r\n"
                  "VERSION:2.0\r\n"
                  "PRODID:-//muster//muster//EN\r\n"
                  "CALSCALE:GREGORIAN\r\n"
                  "METHOD:PUBLISH\r\n"
                  "BEGIN:VEVENT\r\n");
    if (put_text_prop(out, &line, "UID", e->uid) != 0)
        goto out;
    buf_printf(out, "SEQUENCE:%lld\r\nDTSTAMP:%s\r\nDTSTART:%s\r\n",
               (long long)(e->sequence > 0 ? e->sequence : 0), stamp, start);
    /* Zero minutes: no DTEND, which RFC 5545 3.6.1 reads as a moment. */
    if (e->duration_minutes > 0)
        buf_printf(out, "DTEND:%s\r\n", end);
    if (put_text_prop(out, &line, summary, e->summary) != 0)
        goto out;
    if (e->description && put_text_prop(out, &line, description, e->description) != 0)
        goto out;
    if (e->url) {
        buf_reset(&line);
        buf_printf(&line, "URL:%s", e->url);
        if (buf_failed(&line) || put_folded(out, line.data, line.len) != 0)
            goto out;
    }
    if (e->organizer_email) {
        buf_reset(&line);
        buf_puts(&line, "ORGANIZER");
        if (e->organizer_name && *e->organizer_name) {
            /* quoted param-value: anything but control characters and DQUOTE */
            buf_puts(&line, ";CN=\"");
            for (const unsigned char *p = (const unsigned char *)e->organizer_name; *p; p++)
                if (*p != '"' && (*p >= 0x20 || *p == '\t') && *p != 0x7f)
                    buf_putc(&line, (char)*p);
            buf_putc(&line, '"');
        }
        buf_printf(&line, ":mailto:%s", e->organizer_email);
        if (buf_failed(&line) || put_folded(out, line.data, line.len) != 0)
            goto out;
    }
    buf_puts(out, "END:VEVENT\r\nEND:VCALENDAR\r\n");
    rc = buf_failed(out) ? -1 : 0;
out:
    buf_release(&line);
    return rc;
}
