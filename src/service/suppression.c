/*
 * suppression: the rules of the suppression list (suppression.h): which
 * report suppresses, when temporary failures add up to a suppression, how an
 * address is compared and keyed, and the complaint guard that pauses a
 * launch whose complaints cross the line. The store keeps the entries and counts
 * (store_suppression.h); nothing here knows the database.
 */
#include "service/suppression.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/token.h"
#include "service/launches.h"
#include "store/store.h"
#include "core/banned.h"

#define KEY_PURPOSE "suppression\n"

int suppression_normalize(const char *address, char out[SUPPRESSION_ADDRESS_MAX + 1])
{
    if (!address)
        return -1;
    const char *start = address;
    while (*start == ' ' || *start == '\t')
        start++;
    const char *end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - start >= 2 && *start == '<' && end[-1] == '>') {
        start++;
        end--;
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len > SUPPRESSION_ADDRESS_MAX)
        return -1;
    const char *at = NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
            return -1;
        if (c == '@')
            at = start + i;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[len] = '\0';
    /* the last '@' separates the domain (a quoted local part may hold one) */
    if (!at || at == start || at == end - 1)
        return -1;
    return 0;
}

int suppression_key(const char *address, char key[SUPPRESSION_KEY_HEX + 1])
{
    char norm[SUPPRESSION_ADDRESS_MAX + 1];
    if (suppression_normalize(address, norm) != 0)
        return -1;
    char data[sizeof KEY_PURPOSE + SUPPRESSION_ADDRESS_MAX];
    size_t plen = sizeof KEY_PURPOSE - 1, nlen = strlen(norm);
    memcpy(data, KEY_PURPOSE, plen);
    memcpy(data + plen, norm, nlen);
    token_hmac_hex(data, plen + nlen, key);
    return 0;
}

/* The reason as stored: control characters as spaces, cut at a character
 * boundary to SUPPRESSION_REASON_MAX bytes. */
static void clean_reason(const char *reason, char out[SUPPRESSION_REASON_MAX + 1])
{
    size_t n = 0;
    for (const char *p = reason ? reason : ""; *p && n < SUPPRESSION_REASON_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        out[n++] = (char)(c < ' ' || c == 0x7f ? ' ' : c);
    }
    /* drop a UTF-8 sequence the cut split */
    if (n == SUPPRESSION_REASON_MAX && reason[n]) {
        size_t k = n;
        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0) {
            unsigned char lead = (unsigned char)out[k - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (n - (k - 1) < want)
                n = k - 1;
        }
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static int add_entry(struct store *st, const char *norm, const char *key,
                     enum suppression_kind kind, const char *reason, int64_t campaign_id,
                     int64_t now, int *added)
{
    char cleaned[SUPPRESSION_REASON_MAX + 1];
    clean_reason(reason, cleaned);
    struct suppression_entry e = {0};
    snprintf(e.key, sizeof e.key, "%s", key);
    e.address = (char *)norm; /* borrowed: the store only reads it */
    e.kind = kind;
    e.created_at = now;
    e.reason = cleaned;
    e.campaign_id = campaign_id > 0 ? campaign_id : 0;
    int was_added = 0;
    if (store_suppression_add(st, &e, &was_added) != 0)
        return -1;
    if (was_added)
        log_info("suppression.added", "kind=%s campaign=%lld", suppression_kind_name(kind),
                 (long long)e.campaign_id);
    if (added)
        *added = was_added;
    return 0;
}

/* The complaint guard (SUPPRESSION_PAUSE_MIN_MAILS): called after a
 * complaint added an entry for CAMPAIGN_ID. 0, or -1 on a store error
 * (logged). */
static int guard_complaints(struct store *st, int64_t campaign_id, int64_t now)
{
    struct campaign_pause pause;
    int rc = store_campaign_pause_get(st, campaign_id, &pause);
    if (rc == STORE_NOT_FOUND)
        return 0; /* the campaign is gone: nothing to pause */
    if (rc != 0) {
        log_error("suppression.guard", "campaign=%lld error=\"pause state unreadable\"",
                  (long long)campaign_id);
        return -1;
    }
    if (pause.paused_at)
        return 0;
    struct suppression_rates r;
    if (suppression_rates(st, campaign_id, &r) != 0) {
        log_error("suppression.guard", "campaign=%lld error=\"rates unreadable\"",
                  (long long)campaign_id);
        return -1;
    }
    if (r.mails_sent < SUPPRESSION_PAUSE_MIN_MAILS || !r.complaints_over_limit)
        return 0;
    char reason[160];
    snprintf(reason, sizeof reason, "complaints %.1f %% of %lld mails, over the %.1f %% line",
             r.complaint_rate * 100.0, (long long)r.mails_sent,
             SUPPRESSION_COMPLAINT_LIMIT * 100.0);
    int changed = 0;
    if (launches_set_pause(st, campaign_id, 1, "muster", reason, now, &changed) != 0) {
        log_error("suppression.guard", "campaign=%lld error=\"the launch could not be paused\"",
                  (long long)campaign_id);
        return -1;
    }
    if (changed)
        log_error("launch.paused",
                  "campaign=%lld by=muster complaints=%lld mails_sent=%lld reason=\"%s\"",
                  (long long)campaign_id, (long long)r.complaints, (long long)r.mails_sent, reason);
    return 0;
}

int suppression_report(struct store *st, const char *address, enum suppression_report_kind kind,
                       const char *reason, int64_t campaign_id, int64_t now, int *suppressed)
{
    char norm[SUPPRESSION_ADDRESS_MAX + 1], key[SUPPRESSION_KEY_HEX + 1];
    if (suppression_normalize(address, norm) != 0 || suppression_key(norm, key) != 0) {
        log_warn("suppression.invalid", "error=\"a report names no valid address\"");
        return -1;
    }
    switch (kind) {
    case SUPPRESSION_REPORT_PERMANENT:
    case SUPPRESSION_REPORT_COMPLAINT: {
        int added = 0;
        if (add_entry(st, norm, key,
                      kind == SUPPRESSION_REPORT_PERMANENT ? SUPPRESSION_BOUNCE
                                                           : SUPPRESSION_COMPLAINT,
                      reason, campaign_id, now, &added) != 0)
            return -1;
        /* a guard failure is logged at error level; the entry stays */
        if (kind == SUPPRESSION_REPORT_COMPLAINT && added && campaign_id > 0)
            (void)guard_complaints(st, campaign_id, now);
        if (suppressed)
            *suppressed = 1;
        return 0;
    }
    case SUPPRESSION_REPORT_TEMPORARY: {
        int64_t failures = 0;
        int64_t window_start = now - (int64_t)SUPPRESSION_TEMPORARY_DAYS * 86400;
        if (store_suppression_temporary(st, key, now, window_start, &failures) != 0)
            return -1;
        int on_list = 0;
        if (failures >= SUPPRESSION_TEMPORARY_LIMIT) {
            if (add_entry(st, norm, key, SUPPRESSION_TEMPORARY, reason, campaign_id, now, NULL) !=
                0)
                return -1;
            on_list = 1;
        } else if (store_suppression_exists(st, key, &on_list) != 0) {
            return -1;
        }
        if (suppressed)
            *suppressed = on_list;
        return 0;
    }
    }
    log_error("suppression.error", "error=\"unknown report kind %d\"", (int)kind);
    return -1;
}

int suppression_check(struct store *st, const char *address)
{
    int suppressed = 0;
    return suppression_check_many(st, &address, 1, &suppressed) != 0 ? -1 : suppressed;
}

int suppression_check_many(struct store *st, const char *const *addresses, size_t n,
                           int *suppressed)
{
    char(*keys)[SUPPRESSION_KEY_HEX + 1] = calloc(n ? n : 1, sizeof *keys);
    const char **asked = calloc(n ? n : 1, sizeof *asked);
    size_t *where = calloc(n ? n : 1, sizeof *where);
    int *found = calloc(n ? n : 1, sizeof *found);
    int rc = keys && asked && where && found ? 0 : -1;
    size_t nasked = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        suppressed[i] = 0;
        if (addresses[i] && suppression_key(addresses[i], keys[nasked]) == 0) {
            asked[nasked] = keys[nasked];
            where[nasked++] = i;
        }
    }
    if (rc == 0)
        rc = store_suppression_exists_many(st, asked, nasked, found);
    for (size_t k = 0; rc == 0 && k < nasked; k++)
        suppressed[where[k]] = found[k];
    free(keys);
    free(asked);
    free(where);
    free(found);
    return rc;
}

int suppression_add_manual(struct store *st, const char *address, const char *reason, int64_t now,
                           int *added)
{
    char norm[SUPPRESSION_ADDRESS_MAX + 1], key[SUPPRESSION_KEY_HEX + 1];
    if (suppression_normalize(address, norm) != 0 || suppression_key(norm, key) != 0) {
        log_warn("suppression.invalid", "error=\"not an address\"");
        return -1;
    }
    return add_entry(st, norm, key, SUPPRESSION_MANUAL, reason, 0, now, added);
}

int suppression_remove(struct store *st, const char *address, int *removed)
{
    char key[SUPPRESSION_KEY_HEX + 1];
    if (suppression_key(address, key) != 0) {
        if (removed)
            *removed = 0;
        return 0;
    }
    return store_suppression_remove(st, key, removed);
}

int suppression_forget_address(struct store *st, const char *address)
{
    char key[SUPPRESSION_KEY_HEX + 1];
    if (suppression_key(address, key) != 0)
        return 0;
    return store_suppression_forget_address(st, key, NULL);
}

int suppression_rates(struct store *st, int64_t campaign_id, struct suppression_rates *out)
{
    struct suppression_rates r = {0};
    if (store_suppression_campaign_mail(st, campaign_id, &r.mails_sent, &r.mails_suppressed) != 0 ||
        store_suppression_campaign_counts(st, campaign_id, &r.bounces, &r.complaints) != 0)
        return -1;
    if (r.mails_sent > 0) {
        r.bounce_rate = (double)r.bounces / (double)r.mails_sent;
        r.complaint_rate = (double)r.complaints / (double)r.mails_sent;
    }
    r.complaints_over_limit = r.complaint_rate > SUPPRESSION_COMPLAINT_LIMIT;
    *out = r;
    return 0;
}

int suppression_complaint_rate(struct store *st, int64_t campaign_id, double *rate, int *over_limit)
{
    struct suppression_rates r;
    if (suppression_rates(st, campaign_id, &r) != 0)
        return -1;
    if (rate)
        *rate = r.complaint_rate;
    if (over_limit)
        *over_limit = r.complaints_over_limit;
    return 0;
}

const char *suppression_campaign_slug(struct suppression_slugs *s, int64_t id)
{
    if (id <= 0)
        return "";
    if (id == s->cached_id)
        return s->cached_slug;
    struct campaign_row row = {0};
    int rc = store_campaign_peek(s->st, NULL, id, &row);
    if (rc == 0) {
        snprintf(s->cached_slug, sizeof s->cached_slug, "%s", row.slug ? row.slug : "");
        campaign_row_release(&row);
    } else if (rc == STORE_NOT_FOUND) {
        snprintf(s->cached_slug, sizeof s->cached_slug, "(removed)");
    } else {
        s->failed = 1;
        return "?";
    }
    s->cached_id = id;
    return s->cached_slug;
}
