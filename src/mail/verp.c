/*
 * verp: makes and finds per-message return paths (see verp.h).
 */
#include "mail/verp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/token.h"

#include "core/banned.h"

#define VERP_MAC_HEX 20

static void verp_mac(int64_t outbox_id, int64_t supporter_id, char mac[VERP_MAC_HEX + 1])
{
    char data[64];
    int len = snprintf(data, sizeof data, "verp:%lld-%lld", (long long)outbox_id,
                       (long long)supporter_id);
    char hex[TOKEN_HASH_HEX + 1];
    token_hmac_hex(data, (size_t)len, hex);
    memcpy(mac, hex, VERP_MAC_HEX);
    mac[VERP_MAC_HEX] = '\0';
}

int verp_address(const char *base, int64_t outbox_id, int64_t supporter_id, char *out, size_t n)
{
    const char *at = strchr(base, '@');
    if (!at || outbox_id <= 0 || supporter_id <= 0)
        return -1;
    char mac[VERP_MAC_HEX + 1];
    verp_mac(outbox_id, supporter_id, mac);
    int len = snprintf(out, n, "%.*s+%lld-%lld-%s%s", (int)(at - base), base, (long long)outbox_id,
                       (long long)supporter_id, mac, at);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* Reads a positive decimal id of at most 18 digits at *p, moving *p past it. */
static int read_id(const char **p, const char *end, int64_t *out)
{
    int64_t v = 0;
    int digits = 0;
    while (*p < end && **p >= '0' && **p <= '9' && digits < 18) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || v <= 0 || (*p < end && **p >= '0' && **p <= '9'))
        return -1;
    *out = v;
    return 0;
}

/* The token at p (after "local+"), followed by "@domain": 1 when its MAC is
 * valid. */
static int verp_check_at(const char *p, const char *end, const char *domain, int64_t *outbox_id,
                         int64_t *supporter_id)
{
    int64_t ob, sup;
    if (read_id(&p, end, &ob) != 0 || p >= end || *p++ != '-')
        return 0;
    if (read_id(&p, end, &sup) != 0 || p >= end || *p++ != '-')
        return 0;
    if ((size_t)(end - p) < VERP_MAC_HEX + 1)
        return 0;
    char got[VERP_MAC_HEX + 1];
    for (int i = 0; i < VERP_MAC_HEX; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        got[i] = c;
    }
    got[VERP_MAC_HEX] = '\0';
    p += VERP_MAC_HEX;
    size_t dlen = strlen(domain);
    if (*p != '@' || (size_t)(end - p - 1) < dlen || strncasecmp(p + 1, domain, dlen) != 0)
        return 0;
    char c = p + 1 + dlen < end ? p[1 + dlen] : '\0';
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        (c == '.' && p + 2 + dlen < end && p[2 + dlen] != ' ' && p[2 + dlen] != '\n' &&
         p[2 + dlen] != '\r'))
        return 0; /* a longer domain: another address */
    char want[VERP_MAC_HEX + 1];
    verp_mac(ob, sup, want);
    if (!token_equal(got, want))
        return 0;
    *outbox_id = ob;
    *supporter_id = sup;
    return 1;
}

int verp_find(const char *base, const char *text, size_t len, int64_t *outbox_id,
              int64_t *supporter_id)
{
    const char *at = base ? strchr(base, '@') : NULL;
    if (!at || !text)
        return 0;
    size_t local = (size_t)(at - base);
    const char *end = text + len;
    for (const char *p = text; (size_t)(end - p) > local + 1; p++) {
        if (p[local] != '+' || strncasecmp(p, base, local) != 0)
            continue;
        /* The local part starts here, not inside a longer one. */
        if (p > text) {
            char b = p[-1];
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                strchr("!#$%&'*/=?^_`{|}~-.+", b))
                continue;
        }
        if (verp_check_at(p + local + 1, end, at + 1, outbox_id, supporter_id))
            return 1;
    }
    return 0;
}
