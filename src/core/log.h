/*
 * log: structured log lines on stderr, one per event:
 *   ts=2026-12-05T15:00:00Z level=info event=pledge.created slug=docs-day
 * The caller passes key=value pairs already formatted; values that a person
 * typed must go through log_quote first so they cannot forge a line.
 * Never logs email addresses or statements (personal data): every address
 * left in a line's values (a relay's reply may echo one) becomes "[address]".
 */
#ifndef MUSTER_CORE_LOG_H
#define MUSTER_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_quiet(int quiet);
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(event, ...) log_event(LOG_INFO, event, __VA_ARGS__)
#define log_warn(event, ...) log_event(LOG_WARN, event, __VA_ARGS__)
#define log_error(event, ...) log_event(LOG_ERROR, event, __VA_ARGS__)

/* Copies s into out (size n) as a double-quoted value with control characters,
 * quotes and backslashes escaped; truncates safely. Returns out. */
const char *log_quote(const char *s, char *out, size_t n);

#endif
