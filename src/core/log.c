/*
 * log: structured stderr logging (see log.h). One write(2) per line so lines
 * from threads do not interleave. Every email address in a line's values is
 * replaced by "[address]" (redact_addresses): a supporter's address never
 * reaches a log, whatever a caller or a relay's reply put in it.
 */
#include "core/log.h"

#include "core/buf.h"
#include "core/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_quiet;

void log_set_quiet(int quiet)
{
    log_quiet = quiet;
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "info";
    case LOG_WARN:
        return "warn";
    case LOG_ERROR:
        return "error";
    }
    return "info";
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
    if (log_quiet && level < LOG_WARN)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_name(level), event);
    if (n < 0)
        return;
    if (fmt && *fmt && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        char values[sizeof line];
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(values, sizeof values, fmt, ap);
        va_end(ap);
        struct buf redacted;
        buf_init(&redacted, 2 * sizeof values);
        if (m > 0 && redact_addresses(&redacted, values) == 0) {
            size_t room = sizeof line - (size_t)n - 1;
            size_t len = redacted.len < room ? redacted.len : room;
            memcpy(line + n, redacted.data, len);
            n += (int)len;
        } else if (m > 0) {
            n += snprintf(line + n, sizeof line - (size_t)n, "%s", "(values not shown)");
        }
        buf_release(&redacted);
    }
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

const char *log_quote(const char *s, char *out, size_t n)
{
    size_t o = 0;
    if (n < 3) {
        if (n)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (; s && *s && o + 5 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}
