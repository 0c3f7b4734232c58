/*
 * address: where a webhook may connect (SSRF). A campaign file names a URL,
 * and whoever can apply a campaign must not make the server post to its own
 * loopback, its cloud metadata service or the private network behind it.
 * Before each delivery the host is resolved here, every address is judged,
 * and the delivery is pinned to the first acceptable one (sender.c passes it
 * to libcurl as CURLOPT_RESOLVE and checks it again when the socket opens),
 * so a second DNS answer cannot move the connection elsewhere.
 * MUSTER_WEBHOOK_ALLOW_PRIVATE=1 lifts the address rules, not the pinning.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webhooks/webhook.h"
#include "core/banned.h"

struct v4_range {
    uint32_t net;
    int bits;
    const char *why;
};

/* Not reachable on the public Internet, or not a unicast destination. */
static const struct v4_range v4_refused[] = {
    {0x00000000u, 8, "unspecified (0.0.0.0/8)"},
    {0x0a000000u, 8, "private (10.0.0.0/8)"},
    {0x64400000u, 10, "shared address space (100.64.0.0/10)"},
    {0x7f000000u, 8, "loopback (127.0.0.0/8)"},
    {0xa9fe0000u, 16, "link-local (169.254.0.0/16)"},
    {0xac100000u, 12, "private (172.16.0.0/12)"},
    {0xc0000000u, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {0xc0000200u, 24, "documentation (192.0.2.0/24)"},
    {0xc0a80000u, 16, "private (192.168.0.0/16)"},
    {0xc6120000u, 15, "benchmarking (198.18.0.0/15)"},
    {0xc6336400u, 24, "documentation (198.51.100.0/24)"},
    {0xcb007100u, 24, "documentation (203.0.113.0/24)"},
    {0xe0000000u, 4, "multicast (224.0.0.0/4)"},
    {0xf0000000u, 4, "reserved or broadcast (240.0.0.0/4)"},
};

static const char *v4_refusal(const unsigned char b[4])
{
    uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    for (size_t i = 0; i < sizeof v4_refused / sizeof v4_refused[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_refused[i].bits);
        if ((a & mask) == v4_refused[i].net)
            return v4_refused[i].why;
    }
    return NULL;
}

/* 1 when the first `bits` bits of a equal those of prefix. */
static int v6_in(const unsigned char a[16], const unsigned char *prefix, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, prefix, (size_t)whole) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (prefix[whole] & mask);
}

static const char *v6_refusal(const unsigned char a[16])
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
    static const unsigned char discard[8] = {0x01, 0x00};
    static const unsigned char teredo[4] = {0x20, 0x01, 0, 0};
    static const unsigned char doc[4] = {0x20, 0x01, 0x0d, 0xb8};
    static const unsigned char six_to_four[2] = {0x20, 0x02};
    static const unsigned char ula[1] = {0xfc};
    static const unsigned char link_local[2] = {0xfe, 0x80};
    static const unsigned char site_local[2] = {0xfe, 0xc0};
    static const unsigned char multicast[1] = {0xff};

    if (memcmp(a, zero, 16) == 0)
        return "unspecified (::)";
    if (memcmp(a, zero, 15) == 0 && a[15] == 1)
        return "loopback (::1)";
    /* Forms that carry an IPv4 address: judge the address inside. */
    if (v6_in(a, mapped, 96) || v6_in(a, nat64, 96))
        return v4_refusal(a + 12);
    if (v6_in(a, six_to_four, 16))
        return v4_refusal(a + 2);
    if (v6_in(a, zero, 96))
        return "IPv4-compatible (::/96, deprecated)";
    if (v6_in(a, nat64_local, 48))
        return "local-use NAT64 (64:ff9b:1::/48)";
    if (v6_in(a, discard, 64))
        return "discard-only (100::/64)";
    if (v6_in(a, teredo, 32))
        return "Teredo (2001::/32)";
    if (v6_in(a, doc, 32))
        return "documentation (2001:db8::/32)";
    if (v6_in(a, ula, 7))
        return "unique-local (fc00::/7)";
    if (v6_in(a, link_local, 10))
        return "link-local (fe80::/10)";
    if (v6_in(a, site_local, 10))
        return "site-local (fec0::/10, deprecated)";
    if (v6_in(a, multicast, 8))
        return "multicast (ff00::/8)";
    return NULL;
}

const char *webhook_address_refusal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return v4_refusal((const unsigned char *)&in->sin_addr.s_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_refusal(in6->sin6_addr.s6_addr);
    }
    return "not an IP address";
}

static int address_text(const struct sockaddr *sa, char *out, size_t n)
{
    const void *raw =
        sa->sa_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return inet_ntop(sa->sa_family, raw, out, (socklen_t)n) ? 0 : -1;
}

static int is_literal(const char *host)
{
    unsigned char raw[16];
    return inet_pton(AF_INET, host, raw) == 1 || inet_pton(AF_INET6, host, raw) == 1;
}

/* Scheme, host (brackets removed) and port of url. */
static int split_url(const char *url, struct webhook_route *out, char *err, size_t err_len)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (!u) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(err, err_len, "the webhook URL is not a valid URL");
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        snprintf(err, err_len, "the webhook URL must be http:// or https://");
        goto out;
    }
    const char *h = host;
    size_t len = strlen(h);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof out->host) {
        snprintf(err, err_len, "the webhook URL's host name is empty or too long");
        goto out;
    }
    memcpy(out->host, h, len);
    out->host[len] = '\0';
    out->port = atoi(port);
    if (out->port <= 0 || out->port > 65535) {
        snprintf(err, err_len, "the webhook URL's port is invalid");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

enum webhook_route_result webhook_route(const char *url, int allow_private,
                                        struct webhook_route *out, char *err, size_t err_len)
{
    struct webhook_route r;
    memset(&r, 0, sizeof r);
    if (split_url(url, &r, err, err_len) != 0)
        return WEBHOOK_ROUTE_REFUSED;
    char port[8];
    snprintf(port, sizeof port, "%d", r.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(r.host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", r.host, gai_strerror(gai));
        return WEBHOOK_ROUTE_RETRY;
    }
    const char *first_refusal = NULL;
    char first_refused[64] = "";
    for (const struct addrinfo *ai = res; ai && r.count < WEBHOOK_ROUTE_ADDRESSES;
         ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        const char *why = allow_private ? NULL : webhook_address_refusal(ai->ai_addr);
        char text[64];
        if (address_text(ai->ai_addr, text, sizeof text) != 0)
            continue;
        if (why) {
            if (!first_refusal) {
                first_refusal = why;
                snprintf(first_refused, sizeof first_refused, "%s", text);
            }
            continue;
        }
        int seen = 0;
        for (int i = 0; i < r.count; i++)
            seen |= strcmp(r.addresses[i], text) == 0;
        if (!seen)
            snprintf(r.addresses[r.count++], sizeof r.addresses[0], "%s", text);
    }
    enum webhook_route_result result = WEBHOOK_ROUTE_OK;
    if (r.count == 0) {
        if (first_refusal && strcmp(r.host, first_refused) == 0)
            snprintf(err, err_len,
                     "refused: %s is %s; webhooks go only to public addresses unless "
                     "MUSTER_WEBHOOK_ALLOW_PRIVATE=1",
                     r.host, first_refusal);
        else if (first_refusal)
            snprintf(err, err_len,
                     "refused: %s resolves to %s, which is %s; webhooks go only to public "
                     "addresses unless MUSTER_WEBHOOK_ALLOW_PRIVATE=1",
                     r.host, first_refused, first_refusal);
        else
            snprintf(err, err_len, "cannot resolve %s: no IPv4 or IPv6 address", r.host);
        result = first_refusal ? WEBHOOK_ROUTE_REFUSED : WEBHOOK_ROUTE_RETRY;
    } else if (!is_literal(r.host)) {
        /* libcurl resolves no literal, and (before 8.13) cannot parse an IPv6
         * one as the HOST of an entry: literals are pinned by the socket check
         * alone. */
        struct buf entry;
        buf_init(&entry, sizeof r.resolve - 1);
        buf_printf(&entry, "%s:%d:", r.host, r.port);
        for (int i = 0; i < r.count; i++) {
            int v6 = strchr(r.addresses[i], ':') != NULL;
            buf_printf(&entry, "%s%s%s%s", i ? "," : "", v6 ? "[" : "", r.addresses[i],
                       v6 ? "]" : "");
        }
        if (buf_failed(&entry)) {
            snprintf(err, err_len, "cannot pin the addresses of %s", r.host);
            result = WEBHOOK_ROUTE_RETRY;
        } else {
            snprintf(r.resolve, sizeof r.resolve, "%s", buf_cstr(&entry));
        }
        buf_release(&entry);
    }
    freeaddrinfo(res);
    if (result == WEBHOOK_ROUTE_OK)
        *out = r;
    return result;
}
