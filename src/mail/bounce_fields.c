/*
 * bounce_fields: the hand-written part of reading a bounce (mail/bounce.h):
 * the fields of a delivery-status or feedback-report part, and the failed
 * recipients in the text of a non-standard bounce. Bytes in, findings out;
 * no allocation, no MIME (bounce.c hands over decoded parts). Fuzzed by
 * fuzz/fuzz_bounce.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/bounce.h"

#include "core/banned.h"

#define LINE_MAX_BYTES 1024

static int is_local_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static int is_domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-';
}

/* Copies s without control characters (each becomes a space), trimmed. */
static void copy_clean(char *dst, size_t n, const char *s, size_t len)
{
    size_t j = 0;
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    for (size_t i = 0; i < len && j + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    while (j > 0 && dst[j - 1] == ' ')
        j--;
    dst[j] = '\0';
}

/* An address muster could have mailed: local@domain, printable ASCII,
 * a dot in the domain and a last label of letters. */
static int address_plausible(const char *a, size_t len)
{
    if (len < 5 || len >= BOUNCE_ADDRESS_MAX)
        return 0;
    const char *at = memchr(a, '@', len);
    if (!at || at == a || memchr(at + 1, '@', len - (size_t)(at - a) - 1))
        return 0;
    for (const char *p = a; p < at; p++)
        if (!is_local_char((unsigned char)*p))
            return 0;
    const char *d = at + 1, *end = a + len;
    const char *last_dot = NULL;
    for (const char *p = d; p < end; p++) {
        if (!is_domain_char((unsigned char)*p))
            return 0;
        if (*p == '.')
            last_dot = p;
    }
    if (!last_dot || last_dot == d || end - last_dot < 3 || a[0] == '.' || at[-1] == '.')
        return 0;
    for (const char *p = last_dot + 1; p < end; p++)
        if (!isalpha((unsigned char)*p))
            return 0;
    return 1;
}

static int local_is_daemon(const char *a)
{
    static const char *const daemons[] = {"mailer-daemon@", "postmaster@", "mail-daemon@",
                                          "mailerdaemon@",  "daemon@",     "mdaemon@"};
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
        if (strncasecmp(a, daemons[i], strlen(daemons[i])) == 0)
            return 1;
    return 0;
}

static void add_finding(struct bounce_report *out, const char *addr, size_t len,
                        enum bounce_kind kind, const char *reason, size_t reason_len)
{
    while (len > 0 && (addr[len - 1] == '.' || addr[len - 1] == '-'))
        len--;
    while (len > 0 && addr[0] == '.') {
        addr++;
        len--;
    }
    if (!address_plausible(addr, len) || out->n >= BOUNCE_FINDINGS_MAX)
        return;
    for (size_t i = 0; i < out->n; i++)
        if (strlen(out->found[i].address) == len &&
            strncasecmp(out->found[i].address, addr, len) == 0)
            return;
    struct bounce_finding *f = &out->found[out->n++];
    memcpy(f->address, addr, len);
    f->address[len] = '\0';
    f->kind = kind;
    copy_clean(f->reason, sizeof f->reason, reason ? reason : "", reason ? reason_len : 0);
}

/* Iterates logical lines (RFC 5322 folding undone) of a field block:
 * *pos advances; line gets the unfolded line (truncated to LINE_MAX_BYTES).
 * Returns 0 at the end; an empty line separates blocks. */
static int next_logical_line(const char *text, size_t len, size_t *pos, char *line, size_t *llen)
{
    if (*pos >= len)
        return 0;
    size_t j = 0;
    int first = 1;
    while (*pos < len) {
        const char *start = text + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t raw = nl ? (size_t)(nl - start) : len - *pos;
        size_t l = raw;
        if (l > 0 && start[l - 1] == '\r')
            l--;
        if (!first && (l == 0 || (start[0] != ' ' && start[0] != '\t')))
            break; /* the next field or a blank line: not ours */
        size_t from = 0;
        if (!first) { /* a folded line: its leading blanks become one space */
            while (from < l && (start[from] == ' ' || start[from] == '\t'))
                from++;
            if (j + 1 < LINE_MAX_BYTES && j > 0 && line[j - 1] != ' ')
                line[j++] = ' ';
        }
        for (size_t i = from; i < l && j + 1 < LINE_MAX_BYTES; i++)
            line[j++] = start[i];
        *pos += raw + (nl ? 1 : 0);
        if (first && l == 0)
            break; /* a blank line is a line of its own */
        first = 0;
    }
    line[j] = '\0';
    *llen = j;
    return 1;
}

/* "Name: value": 1 with *value pointing after the colon and its spaces when
 * line's field is name (case-insensitive). */
static int field_is(const char *line, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0)
        return 0;
    const char *p = line + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != ':')
        return 0;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    *value = p;
    return 1;
}

/* "rfc822; <a@b>" or "a@b" -> a@b into dst (empty when of another type). */
static void recipient_value(const char *v, char *dst, size_t n)
{
    dst[0] = '\0';
    const char *semi = strchr(v, ';');
    if (semi) {
        size_t tl = (size_t)(semi - v);
        while (tl > 0 && isspace((unsigned char)v[tl - 1]))
            tl--;
        if (!(tl == 6 && strncasecmp(v, "rfc822", 6) == 0) &&
            !(tl == 5 && strncasecmp(v, "utf-8", 5) == 0))
            return;
        v = semi + 1;
    }
    while (*v == ' ' || *v == '\t' || *v == '<')
        v++;
    size_t l = 0;
    while (v[l] && v[l] != '>' && !isspace((unsigned char)v[l]) && l + 1 < n)
        l++;
    memcpy(dst, v, l);
    dst[l] = '\0';
}

struct dsn_block {
    char original[BOUNCE_ADDRESS_MAX];
    char final[BOUNCE_ADDRESS_MAX];
    char action[32];
    char status[32];
    char diagnostic[200];
};

static void dsn_flush(struct dsn_block *b, struct bounce_report *out)
{
    const char *addr = b->original[0] ? b->original : b->final;
    if (addr[0]) {
        out->recipients_reported++;
        int kind = -1;
        if (strncasecmp(b->action, "fail", 4) == 0 || strncasecmp(b->action, "error", 5) == 0)
            kind = BOUNCE_PERMANENT;
        else if (strncasecmp(b->action, "delay", 5) == 0)
            kind = BOUNCE_TEMPORARY;
        else if (!b->action[0] && b->status[0] == '5')
            kind = BOUNCE_PERMANENT;
        else if (!b->action[0] && b->status[0] == '4')
            kind = BOUNCE_TEMPORARY;
        if (kind >= 0) {
            char reason[BOUNCE_REASON_MAX];
            int rl = snprintf(reason, sizeof reason, "%s%s%s", b->status,
                              b->status[0] && b->diagnostic[0] ? " " : "", b->diagnostic);
            add_finding(out, addr, strlen(addr), (enum bounce_kind)kind, reason,
                        rl < 0 ? 0 : strlen(reason));
        }
    }
    memset(b, 0, sizeof *b);
}

void bounce_read_dsn(const char *text, size_t len, struct bounce_report *out)
{
    struct dsn_block b;
    memset(&b, 0, sizeof b);
    char line[LINE_MAX_BYTES];
    size_t pos = 0, llen;
    while (next_logical_line(text, len, &pos, line, &llen)) {
        const char *v;
        if (llen == 0)
            dsn_flush(&b, out);
        else if (field_is(line, "Original-Recipient", &v))
            recipient_value(v, b.original, sizeof b.original);
        else if (field_is(line, "Final-Recipient", &v))
            recipient_value(v, b.final, sizeof b.final);
        else if (field_is(line, "Action", &v))
            copy_clean(b.action, sizeof b.action, v, strlen(v));
        else if (field_is(line, "Status", &v))
            copy_clean(b.status, sizeof b.status, v, strcspn(v, " \t("));
        else if (field_is(line, "Diagnostic-Code", &v))
            copy_clean(b.diagnostic, sizeof b.diagnostic, v, strlen(v));
    }
    dsn_flush(&b, out);
}

size_t bounce_read_arf(const char *text, size_t len, struct bounce_report *out)
{
    char type[64] = "";
    char rcpts[BOUNCE_FINDINGS_MAX][BOUNCE_ADDRESS_MAX];
    size_t nr = 0;
    char line[LINE_MAX_BYTES];
    size_t pos = 0, llen;
    while (next_logical_line(text, len, &pos, line, &llen)) {
        const char *v;
        if (field_is(line, "Feedback-Type", &v))
            copy_clean(type, sizeof type, v, strcspn(v, " \t;"));
        else if (field_is(line, "Original-Rcpt-To", &v) && nr < BOUNCE_FINDINGS_MAX)
            recipient_value(v, rcpts[nr++], sizeof rcpts[0]);
    }
    size_t before = out->n;
    char reason[BOUNCE_REASON_MAX];
    snprintf(reason, sizeof reason, "feedback-type %s", type[0] ? type : "(none)");
    for (size_t i = 0; i < nr; i++)
        add_finding(out, rcpts[i], strlen(rcpts[i]), BOUNCE_COMPLAINT, reason, strlen(reason));
    return out->n - before;
}

/* ---- the text of non-standard bounces ---- */

/* A line where the copy of the returned message (or its headers) begins. */
static int is_copy_marker(const char *lower)
{
    static const char *const markers[] = {
        "original message follows",     "original message below",
        "copy of the message",          "copy of your message",
        "copy of the original message", "below this line is",
        "returned message follows",     "unsent message below",
        "header of the original",       "headers of the original",
        "original message header",      "original headers",
        "------ original message",      "----- original message",
        "-- original message",          "message header follows",
        "text of the original message", "original message was received",
        "start of returned message",    "source mail attached",
        "original message as received", "old message:"};
    /* "did not receive a copy of your message:" lists the failed ones */
    if (strstr(lower, "receive a copy") || strstr(lower, "following"))
        return 0;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (strstr(lower, markers[i]))
            return 1;
    return 0;
}

/* A quoted header of the returned message: its addresses are no findings. */
static int is_header_line(const char *line)
{
    static const char *const names[] = {
        "Received:",   "Return-Path:",  "From:",          "Reply-To:",    "Sender:",
        "Message-ID:", "Message-Id:",   "Date:",          "Subject:",     "To:",
        "Cc:",         "In-Reply-To:",  "References:",    "X-",           "List-",
        "Errors-To:",  "Delivered-To:", "Reporting-MTA:", "Arrival-Date:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0)
            return 1;
    /* An SMTP transcript's sender, a "from" line */
    if (strcasestr(line, "MAIL FROM") || strcasestr(line, "message from") ||
        strcasestr(line, "sent by") || strcasestr(line, "envelope-from"))
        return 1;
    return 0;
}

static int has_any(const char *lower, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(lower, words[i]))
            return 1;
    return 0;
}

static const char *const failure_words[] = {"unknown",
                                            "not exist",
                                            "no such",
                                            "invalid",
                                            "fail",
                                            "undeliver",
                                            "not deliver",
                                            "unable to deliver",
                                            "couldn't be delivered",
                                            "not be delivered",
                                            "reject",
                                            "refused",
                                            "user",
                                            "mailbox",
                                            "recipient",
                                            "not found",
                                            "disabled",
                                            "quota",
                                            "bad destination",
                                            "550",
                                            "551",
                                            "553",
                                            "554",
                                            "5.1.",
                                            "5.2.",
                                            "5.7.",
                                            "account",
                                            "not listed",
                                            "error",
                                            "inactive",
                                            "expired",
                                            "deactivated",
                                            "does not have",
                                            "no longer",
                                            "address",
                                            "delivery",
                                            "denied",
                                            "permanent",
                                            "blocked",
                                            "could not",
                                            "deliver to",
                                            "delivered to",
                                            "not a valid",
                                            "died",
                                            "did not reach",
                                            "not receive",
                                            "wasn't able",
                                            "was not able",
                                            "non-delivery"};

static const char *const temporary_words[] = {"will continue to",
                                              "will keep trying",
                                              "will retry",
                                              "will be retried",
                                              "will try again",
                                              "still trying",
                                              "not yet been delivered",
                                              "has been delayed",
                                              "delivery delayed",
                                              "is delayed",
                                              "warning: message",
                                              "temporarily",
                                              "temporary failure",
                                              "delivery attempts will continue",
                                              "delay notification",
                                              "has not been delivered yet",
                                              "retrying"};

static const char *const permanent_words[] = {"permanent", "given up", "giving up", "fatal error",
                                              "have been permanently"};

void bounce_read_text(const char *text, size_t len, const char *exclude, struct bounce_report *out)
{
    /* The region: up to the copy of the returned message. */
    char line[LINE_MAX_BYTES], lower[LINE_MAX_BYTES];
    size_t pos = 0, region = len;
    int seen_text = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - start) : len - pos;
        size_t c = l < LINE_MAX_BYTES - 1 ? l : LINE_MAX_BYTES - 1;
        for (size_t i = 0; i < c; i++)
            lower[i] = (char)tolower((unsigned char)start[i]);
        lower[c] = '\0';
        const char *quoted = lower + strspn(lower, " \t>");
        if (seen_text && (is_copy_marker(lower) || strncmp(quoted, "received: from", 14) == 0 ||
                          strncmp(quoted, "return-path:", 12) == 0)) {
            region = pos;
            break;
        }
        if (c > 0 && strspn(lower, " \t\r") < c)
            seen_text = 1;
        pos += l + (nl ? 1 : 0);
    }
    /* Permanent unless the text says the delivery is still being tried. */
    enum bounce_kind kind = BOUNCE_PERMANENT;
    int temporary = 0, permanent = 0;
    pos = 0;
    while (pos < region) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', region - pos);
        size_t l = nl ? (size_t)(nl - start) : region - pos;
        size_t c = l < LINE_MAX_BYTES - 1 ? l : LINE_MAX_BYTES - 1;
        for (size_t i = 0; i < c; i++)
            lower[i] = (char)tolower((unsigned char)start[i]);
        lower[c] = '\0';
        temporary |=
            has_any(lower, temporary_words, sizeof temporary_words / sizeof *temporary_words);
        permanent |=
            has_any(lower, permanent_words, sizeof permanent_words / sizeof *permanent_words);
        pos += l + (nl ? 1 : 0);
    }
    if (temporary && !permanent)
        kind = BOUNCE_TEMPORARY;
    /* The addresses on failure lines and on the few lines after one. */
    int window = 0;
    pos = 0;
    while (pos < region) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', region - pos);
        size_t l = nl ? (size_t)(nl - start) : region - pos;
        pos += l + (nl ? 1 : 0);
        size_t c = l < LINE_MAX_BYTES - 1 ? l : LINE_MAX_BYTES - 1;
        while (c > 0 && (start[c - 1] == '\r'))
            c--;
        memcpy(line, start, c);
        line[c] = '\0';
        for (size_t i = 0; i < c; i++)
            lower[i] = (char)tolower((unsigned char)line[i]);
        lower[c] = '\0';
        const char *trimmed = line + strspn(line, " \t>");
        int failure = has_any(lower, failure_words, sizeof failure_words / sizeof *failure_words);
        int blank = strspn(lower, " \t") == c;
        if (failure)
            window = 6;
        else if (window > 0 && !blank)
            window--;
        if (!(failure || window > 0) || is_header_line(trimmed))
            continue;
        for (char *at = strchr(line, '@'); at; at = strchr(at + 1, '@')) {
            char *a = at, *b = at + 1;
            while (a > line && is_local_char((unsigned char)a[-1]))
                a--;
            while (*b && is_domain_char((unsigned char)*b))
                b++;
            /* "mailto:", "smtp;" and quotes are not part of the address. */
            /* quotes, "SMTP=" (Exchange's X.400 form) and the like */
            while (a < at && (*a == '\'' || *a == '`' || *a == '='))
                a++;
            static const char *const prefixes[] = {"smtp=", "rfc822="};
            for (size_t k = 0; k < 2; k++)
                if ((size_t)(at - a) > strlen(prefixes[k]) &&
                    strncasecmp(a, prefixes[k], strlen(prefixes[k])) == 0)
                    a += strlen(prefixes[k]);
            while (b > at + 1 && (b[-1] == '.' || b[-1] == '-'))
                b--;
            size_t alen = (size_t)(b - a);
            char addr[BOUNCE_ADDRESS_MAX];
            if (alen >= sizeof addr)
                continue;
            memcpy(addr, a, alen);
            addr[alen] = '\0';
            if (local_is_daemon(addr))
                continue;
            int excluded = 0;
            for (const char *e = exclude; e && *e; e += strlen(e) + 1)
                if (strcasecmp(e, addr) == 0)
                    excluded = 1;
            if (excluded)
                continue;
            add_finding(out, addr, alen, kind, trimmed, strlen(trimmed));
        }
    }
}
