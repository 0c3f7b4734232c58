/*
 * config: muster's settings. Flags, then environment, then defaults
 * (README.md, "Command line"). Read once at start; the struct is then
 * read-only and shared by every thread.
 */
#ifndef MUSTER_CORE_CONFIG_H
#define MUSTER_CORE_CONFIG_H

struct hook_key;

struct config {
    const char *db;              /* MUSTER_DB, default ./muster.db */
    const char *listen;          /* MUSTER_LISTEN, default 127.0.0.1:8080 */
    const char *base_url;        /* MUSTER_BASE_URL, default http://LISTEN, no trailing '/' */
    const char *smtp;            /* MUSTER_SMTP, NULL: maildir */
    const char *maildir;         /* MUSTER_MAILDIR, default ./mail */
    const char *from;            /* MUSTER_FROM, default muster@localhost */
    const char *bounce_address;  /* MUSTER_BOUNCE_ADDRESS: VERP base (local@domain), NULL: off */
    int pledge_limit;            /* MUSTER_PLEDGE_LIMIT per IP per hour, default 60, 0 = none */
    const char *trusted_proxies; /* MUSTER_TRUSTED_PROXIES, comma-separated, default none */
    int send_concurrency;        /* MUSTER_SEND_CONCURRENCY, default 20 */
    int send_rate;               /* MUSTER_SEND_RATE messages/s per relay, 0 = unlimited */
    int smtp_client_curl;        /* MUSTER_SMTP_CLIENT=curl: libcurl even for plain smtp:// */
    /* MUSTER_DOMAIN_LIMITS: path of the per-domain pacing rules (mail/pacing.c,
     * docs/DELIVERABILITY.md), NULL: the built-in defaults. Read by the sender. */
    const char *domain_limits;
    int allow_private_webhooks;  /* MUSTER_WEBHOOK_ALLOW_PRIVATE=1 */
    int max_connections_per_ip;  /* MUSTER_MAX_CONNECTIONS_PER_IP, default 128, 0 = none */
    int header_timeout;          /* MUSTER_HEADER_TIMEOUT s for a request head, default 10 */
    int body_timeout;            /* MUSTER_BODY_TIMEOUT s (+1 per 4 KiB) for a body, default 10 */
    const char *hook_secret;     /* MUSTER_HOOK_SECRET: the bounce webhooks' secret, NULL: off */
    /* The signed bounce webhooks (pages/hooks.c): each NULL while its setting is unset. */
    struct hook_key *sendgrid_key; /* MUSTER_SENDGRID_KEY: SendGrid's ECDSA verification key */
    struct hook_key *ses_key;      /* MUSTER_SES_CERT: the SNS signing certificate's key */
    const char *ses_topic_arn;     /* MUSTER_SES_TOPIC_ARN: the one topic accepted, NULL: any */
    int wal_limit_mb; /* MUSTER_WAL_LIMIT_MB: bound of the write-ahead log, default 64 */
    /* DKIM signing (mail/dkim.c, docs/DELIVERABILITY.md): all three or none.
     * config_load checks their form; the key itself is read by dkim.c. */
    const char *dkim_key;      /* MUSTER_DKIM_KEY: path of a PEM private key (RSA or Ed25519) */
    const char *dkim_selector; /* MUSTER_DKIM_SELECTOR: e.g. "muster2026" */
    const char *dkim_domain;   /* MUSTER_DKIM_DOMAIN: the d= domain, e.g. "example.org" */
    int lease_seconds;         /* MUSTER_LEASE_SECONDS: a sender's claim, 5..3600, default 120 */
};

/* Fills cfg from the environment and defaults. Returns 0, or -1 with a
 * one-line message in err when a value is invalid (e.g. a non-numeric limit). */
int config_load(struct config *cfg, char *err, unsigned long err_len);

/* Frees what config_load allocated. */
void config_release(struct config *cfg);

/* Parses "host:port" into host (out, size n) and port. -1 when malformed. */
int config_split_listen(const char *listen, char *host, unsigned long n, int *port);

#endif
