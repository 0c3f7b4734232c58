/*
 * config: environment and defaults (see config.h). Strings point into the
 * environment or static storage, or are allocated once and live as long as
 * the process.
 */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hook_keys.h"
#include "core/banned.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

static int env_int(const char *name, int fallback, int min, int max, int *out, char *err,
                   unsigned long err_len)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(err, err_len, "%s: expected a whole number from %d to %d, got '%s'", name, min,
                 max, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

int config_split_listen(const char *listen, char *host, unsigned long n, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (unsigned long)(colon - listen) >= n)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535 || colon[1] == '\0')
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    *port = (int)p;
    return 0;
}

/* 1 when s is a dot-separated run of DNS labels (letters, digits, '-', 1-63
 * octets, not starting or ending with '-'), at most 253 octets; with_dot
 * asks for at least two labels. */
static int dns_name_valid(const char *s, int with_dot)
{
    size_t len = strlen(s), label = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
        label++;
    }
    return !with_dot || strchr(s, '.') != NULL;
}

/* MUSTER_DKIM_KEY, _SELECTOR and _DOMAIN: all three or none, each of its form. */
static int load_dkim(struct config *cfg, char *err, unsigned long err_len)
{
    cfg->dkim_key = env_or("MUSTER_DKIM_KEY", NULL);
    cfg->dkim_selector = env_or("MUSTER_DKIM_SELECTOR", NULL);
    cfg->dkim_domain = env_or("MUSTER_DKIM_DOMAIN", NULL);
    const char *names[3] = {"MUSTER_DKIM_KEY", "MUSTER_DKIM_SELECTOR", "MUSTER_DKIM_DOMAIN"};
    const char *values[3] = {cfg->dkim_key, cfg->dkim_selector, cfg->dkim_domain};
    int set = 0;
    for (int i = 0; i < 3; i++)
        set += values[i] != NULL;
    if (set == 0)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (!values[i]) {
            snprintf(err, err_len,
                     "%s is not set: MUSTER_DKIM_KEY, MUSTER_DKIM_SELECTOR and MUSTER_DKIM_DOMAIN "
                     "go together (docs/DELIVERABILITY.md)",
                     names[i]);
            return -1;
        }
    }
    if (!dns_name_valid(cfg->dkim_selector, 0) || strlen(cfg->dkim_selector) > 63) {
        snprintf(err, err_len,
                 "MUSTER_DKIM_SELECTOR: expected DNS labels (letters, digits, '-', '.'), got "
                 "\"%.64s\"",
                 cfg->dkim_selector);
        return -1;
    }
    if (!dns_name_valid(cfg->dkim_domain, 1)) {
        snprintf(err, err_len,
                 "MUSTER_DKIM_DOMAIN: expected a domain such as example.org, got \"%.64s\"",
                 cfg->dkim_domain);
        return -1;
    }
    return 0;
}

/* MUSTER_BOUNCE_ADDRESS: local@domain, the base of each message's return
 * path (local+TOKEN@domain). The local part is 1 to 32 of the characters of
 * a dot-atom but '+' (the VERP delimiter), the domain letters, digits, '-'
 * and '.' in labels (a name a relay can route to). 1 when valid. */
static int bounce_address_valid(const char *addr, const char **why)
{
    const char *at = strchr(addr, '@');
    if (!at || strchr(at + 1, '@')) {
        *why = "expected one '@'";
        return 0;
    }
    size_t local = (size_t)(at - addr);
    if (local == 0 || local > 32) {
        *why = "the part before '@' must be 1 to 32 characters";
        return 0;
    }
    for (const char *p = addr; p < at; p++) {
        if (*p == '+') {
            *why = "the part before '@' must not hold '+' (muster adds +TOKEN)";
            return 0;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*/=?^_`{|}~-.", *p))) {
            *why = "the part before '@' holds a character an address cannot";
            return 0;
        }
    }
    if (addr[0] == '.' || at[-1] == '.' || strstr(addr, "..")) {
        *why = "a dot starts, ends or doubles in the part before '@'";
        return 0;
    }
    const char *domain = at + 1;
    size_t dlen = strlen(domain);
    if (dlen == 0 || dlen > 253 || domain[0] == '.' || domain[0] == '-' ||
        domain[dlen - 1] == '.' || domain[dlen - 1] == '-' || strstr(domain, "..")) {
        *why = "expected a domain name after '@'";
        return 0;
    }
    for (const char *p = domain; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.')) {
            *why = "the domain holds a character other than letters, digits, '-' and '.'";
            return 0;
        }
    return 1;
}

/* The signed bounce webhooks' keys: MUSTER_SENDGRID_KEY, MUSTER_SES_CERT and
 * MUSTER_SES_TOPIC_ARN (docs/API.md, "Bounce webhooks"). */
static int load_hook_keys(struct config *cfg, char *err, unsigned long err_len)
{
    const char *sendgrid = env_or("MUSTER_SENDGRID_KEY", NULL);
    if (sendgrid) {
        cfg->sendgrid_key =
            hook_key_ec_p256_from_base64("MUSTER_SENDGRID_KEY", sendgrid, err, err_len);
        if (!cfg->sendgrid_key)
            return -1;
    }
    const char *ses_cert = env_or("MUSTER_SES_CERT", NULL);
    if (ses_cert) {
        cfg->ses_key = hook_key_rsa_from_cert_file("MUSTER_SES_CERT", ses_cert, err, err_len);
        if (!cfg->ses_key)
            return -1;
    }
    cfg->ses_topic_arn = env_or("MUSTER_SES_TOPIC_ARN", NULL);
    if (cfg->ses_topic_arn) {
        if (!ses_cert) {
            snprintf(err, err_len, "MUSTER_SES_TOPIC_ARN: set without MUSTER_SES_CERT");
            return -1;
        }
        if (strncmp(cfg->ses_topic_arn, "arn:", 4) != 0 || strlen(cfg->ses_topic_arn) > 256 ||
            strpbrk(cfg->ses_topic_arn, " \t\r\n")) {
            snprintf(
                err, err_len,
                "MUSTER_SES_TOPIC_ARN: expected a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), "
                "got '%.80s'",
                cfg->ses_topic_arn);
            return -1;
        }
    }
    return 0;
}

int config_load(struct config *cfg, char *err, unsigned long err_len)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->hook_secret = env_or("MUSTER_HOOK_SECRET", NULL);
    if (cfg->hook_secret && strlen(cfg->hook_secret) < 16) {
        snprintf(err, err_len, "MUSTER_HOOK_SECRET: at least 16 characters, got %zu",
                 strlen(cfg->hook_secret));
        return -1;
    }
    cfg->db = env_or("MUSTER_DB", "./muster.db");
    cfg->listen = env_or("MUSTER_LISTEN", "127.0.0.1:8080");
    char host[256];
    int port;
    if (config_split_listen(cfg->listen, host, sizeof host, &port) != 0) {
        snprintf(err, err_len, "MUSTER_LISTEN: expected host:port, got '%s'", cfg->listen);
        return -1;
    }
    const char *base = getenv("MUSTER_BASE_URL");
    if (base && *base) {
        if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
            snprintf(err, err_len, "MUSTER_BASE_URL: expected an http:// or https:// URL, got '%s'",
                     base);
            return -1;
        }
        size_t len = strlen(base);
        while (len > 0 && base[len - 1] == '/')
            len--;
        cfg->base_url = strndup(base, len);
    } else {
        size_t len = strlen(cfg->listen) + 8;
        char *b = malloc(len);
        if (b)
            snprintf(b, len, "http://%s", cfg->listen);
        cfg->base_url = b;
    }
    if (!cfg->base_url) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    cfg->smtp = env_or("MUSTER_SMTP", NULL);
    cfg->maildir = env_or("MUSTER_MAILDIR", "./mail");
    cfg->from = env_or("MUSTER_FROM", "muster@localhost");
    cfg->bounce_address = env_or("MUSTER_BOUNCE_ADDRESS", NULL);
    const char *why = NULL;
    if (cfg->bounce_address && !bounce_address_valid(cfg->bounce_address, &why)) {
        snprintf(err, err_len, "MUSTER_BOUNCE_ADDRESS: %s, got '%.80s'", why, cfg->bounce_address);
        return -1;
    }
    cfg->trusted_proxies = env_or("MUSTER_TRUSTED_PROXIES", "");
    cfg->allow_private_webhooks = strcmp(env_or("MUSTER_WEBHOOK_ALLOW_PRIVATE", "0"), "1") == 0;
    if (env_int("MUSTER_PLEDGE_LIMIT", 60, 0, 100000000, &cfg->pledge_limit, err, err_len) ||
        env_int("MUSTER_SEND_CONCURRENCY", 20, 1, 1000, &cfg->send_concurrency, err, err_len) ||
        env_int("MUSTER_SEND_RATE", 0, 0, 10000000, &cfg->send_rate, err, err_len) ||
        env_int("MUSTER_MAX_CONNECTIONS_PER_IP", 128, 0, 1000000, &cfg->max_connections_per_ip, err,
                err_len) ||
        env_int("MUSTER_HEADER_TIMEOUT", 10, 1, 3600, &cfg->header_timeout, err, err_len) ||
        env_int("MUSTER_BODY_TIMEOUT", 10, 1, 3600, &cfg->body_timeout, err, err_len) ||
        env_int("MUSTER_WAL_LIMIT_MB", 64, 1, 1048576, &cfg->wal_limit_mb, err, err_len) ||
        env_int("MUSTER_LEASE_SECONDS", 120, 5, 3600, &cfg->lease_seconds, err, err_len))
        return -1;
    const char *client = env_or("MUSTER_SMTP_CLIENT", "auto");
    if (strcmp(client, "auto") != 0 && strcmp(client, "curl") != 0) {
        snprintf(err, err_len, "MUSTER_SMTP_CLIENT: expected auto or curl, got \"%.40s\"", client);
        return -1;
    }
    cfg->smtp_client_curl = strcmp(client, "curl") == 0;
    cfg->domain_limits = env_or("MUSTER_DOMAIN_LIMITS", NULL);
    if (load_dkim(cfg, err, err_len) != 0 || load_hook_keys(cfg, err, err_len) != 0) {
        config_release(cfg);
        return -1;
    }
    return 0;
}

void config_release(struct config *cfg)
{
    free((char *)cfg->base_url);
    cfg->base_url = NULL;
    hook_key_free(cfg->sendgrid_key);
    cfg->sendgrid_key = NULL;
    hook_key_free(cfg->ses_key);
    cfg->ses_key = NULL;
}
