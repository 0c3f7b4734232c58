/*
 * ics: the RFC 5545 calendar file for a campaign's launch moment: one VEVENT
 * in UTC (DTSTART/DTEND with Z, so no VTIMEZONE is needed), CRLF line ends,
 * lines folded at 75 octets without splitting a UTF-8 sequence, TEXT values
 * escaped (backslash, comma, semicolon, newline).
 */
#ifndef MUSTER_MAIL_ICS_H
#define MUSTER_MAIL_ICS_H

#include <stdint.h>

#include "core/buf.h"

struct ics_event {
    const char *uid;         /* stable per supporter and campaign */
    int64_t sequence;        /* SEQUENCE: 0, then one more at each move of the moment, so a
                                calendar moves the event it has instead of adding one */
    int64_t dtstamp;         /* Unix seconds */
    int64_t start;           /* Unix seconds */
    int duration_minutes;    /* 0: no DTEND (a moment); negative is refused */
    const char *summary;     /* any UTF-8 */
    const char *description; /* any UTF-8, may be NULL */
    const char *url;         /* may be NULL */
    const char *organizer_name;  /* may be NULL */
    const char *organizer_email; /* may be NULL */
    const char *language;    /* BCP 47 tag: LANGUAGE= of SUMMARY, DESCRIPTION; NULL: none */
};

int ics_build(const struct ics_event *e, struct buf *out);

#endif
