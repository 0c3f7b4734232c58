/*
 * tz: IANA time zones, from the system's tzdata (/usr/share/zoneinfo).
 * glibc only converts through the TZ variable, so every conversion here takes
 * one mutex, sets TZ, converts, and releases it; nothing else in muster may call
 * localtime/mktime (everything else uses UTC: gmtime_r, timegm). Zone names
 * found valid and the last formatted moments are cached for the process's
 * life (a launch formats one moment in a few zones for every message).
 */
#ifndef MUSTER_CORE_TZ_H
#define MUSTER_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

/* 1 when name is a zone tzdata knows (e.g. "Europe/Berlin", "UTC"). */
int tz_valid(const char *name);
/* Parses "YYYY-MM-DDTHH:MM[:SS]" (no offset: local wall time in tz) and
 * converts to Unix seconds. Returns -1 on a malformed or impossible date. */
int tz_local_to_utc(const char *iso_local, const char *tz, int64_t *out);
/* Formats t as wall time in tz, e.g. "Saturday, December 5, 2026, 10:00 EST".
 * Returns 0, or -1 when tz is invalid. */
int tz_format(int64_t t, const char *tz, char *out, size_t n);
/* The wall time of t in tz, broken down, and the zone's abbreviation there
 * ("CET", "EST", "+03"; "" when the zone has none). For the language-aware
 * formats of core/i18n.c. Returns 0, or -1 when tz is invalid. */
struct tm;
int tz_local_parts(int64_t t, const char *tz, struct tm *out, char abbrev[16]);
/* Formats t as UTC "YYYY-MM-DDTHH:MM:SSZ". */
void tz_iso_utc(int64_t t, char out[21]);
/* Formats t as RFC 5322 date in UTC, "Tue, 24 Nov 2026 05:36:25 +0000". */
void tz_rfc5322(int64_t t, char out[40]);
/* Now, in Unix seconds and in milliseconds. */
int64_t tz_now(void);
int64_t tz_now_ms(void);

#endif
