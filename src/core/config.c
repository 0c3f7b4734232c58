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
    cfg->trusted_proxies = env_or("MUSTER_TRUSTED_PROXIES", "");
    cfg->allow_private_webhooks = strcmp(env_or("MUSTER_WEBHOOK_ALLOW_PRIVATE", "0"), "1") == 0;
    if (env_int("MUSTER_PLEDGE_LIMIT", 60, 0, 100000000, &cfg->pledge_limit, err, err_len) ||
        env_int("MUSTER_SEND_CONCURRENCY", 20, 1, 1000, &cfg->send_concurrency, err, err_len) ||
        env_int("MUSTER_SEND_RATE", 0, 0, 10000000, &cfg->send_rate, err, err_len) ||
        env_int("MUSTER_MAX_CONNECTIONS_PER_IP", 128, 0, 1000000, &cfg->max_connections_per_ip, err,
                err_len) ||
        env_int("MUSTER_HEADER_TIMEOUT", 10, 1, 3600, &cfg->header_timeout, err, err_len) ||
        env_int("MUSTER_BODY_TIMEOUT", 10, 1, 3600, &cfg->body_timeout, err, err_len) ||
        env_int("MUSTER_WAL_LIMIT_MB", 64, 1, 1048576, &cfg->wal_limit_mb, err, err_len))
        return -1;
    const char *client = env_or("MUSTER_SMTP_CLIENT", "auto");
    if (strcmp(client, "auto") != 0 && strcmp(client, "curl") != 0) {
        snprintf(err, err_len, "MUSTER_SMTP_CLIENT: expected auto or curl, got \"%.40s\"", client);
        return -1;
    }
    cfg->smtp_client_curl = strcmp(client, "curl") == 0;
    return 0;
}

void config_release(struct config *cfg)
{
    free((char *)cfg->base_url);
    cfg->base_url = NULL;
}
