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
/* How often a local wall time occurs in its zone. */
enum tz_local_kind {
    TZ_LOCAL_ONCE = 0,  /* the usual case */
    TZ_LOCAL_NEVER = 1, /* skipped: the clocks jumped over it (a daylight-saving gap) */
    TZ_LOCAL_TWICE = 2, /* repeated: the clocks went back over it (the overlap) */
};
/* tz_local_to_utc that also says how often the wall time occurs: *kind is set
 * on success. ONCE: *out and *later are the moment. TWICE: *out the earlier
 * of the two moments, *later the later. NEVER: *out and *later are the wall
 * times where the gap starts and ends ("02:00" and "03:00"), as seconds on a
 * UTC clock (format them with gmtime_r). */
int tz_local_resolve(const char *iso_local, const char *tz, int64_t *out, int64_t *later,
                     enum tz_local_kind *kind);
/* Formats t as wall time in tz, e.g. "Saturday, December 5, 2026, 10:00 EST".
 * Returns 0, or -1 when tz is invalid. */
int tz_format(int64_t t, const char *tz, char *out, size_t n);
/* Formats t as the wall time in tz, "YYYY-MM-DDTHH:MM:SS" (no offset).
 * Returns 0, or -1 when tz is invalid. */
int tz_local_iso(int64_t t, const char *tz, char out[20]);
/* Formats t as UTC "YYYY-MM-DDTHH:MM:SSZ". */
void tz_iso_utc(int64_t t, char out[21]);
/* Formats t as RFC 5322 date in UTC, "Tue, 24 Nov 2026 05:36:25 +0000". */
void tz_rfc5322(int64_t t, char out[40]);
/* Now, in Unix seconds and in milliseconds. */
int64_t tz_now(void);
int64_t tz_now_ms(void);

#endif
