/*
 * transport: the front of transport.h. It picks the transport from the
 * options (no SMTP URL: the maildir; plain smtp:// without credentials: the
 * pipelining client; anything else: libcurl), fills in defaults, dispatches
 * through the transport's ops, and owns the checks every transport applies
 * before a message goes anywhere (the envelope, the URL's characters). It
 * knows nothing about SMTP or files.
 */
#include "mail/transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/message.h"
#include "mail/transport_private.h"

#include "core/banned.h"

void transport_reply(char *reply, size_t reply_len, const char *fmt, ...)
{
    if (!reply || reply_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(reply, reply_len, fmt, ap);
    va_end(ap);
    if (n < 0)
        reply[0] = '\0';
}

int transport_envelope_check(const struct mail_envelope *env, char *reply, size_t reply_len)
{
    if (!env || !mail_address_valid(env->from) || !mail_address_valid(env->to)) {
        transport_reply(reply, reply_len, "%s", TRANSPORT_INVALID_ADDRESS);
        return 0;
    }
    if (!env->data && env->len) {
        transport_reply(reply, reply_len, "no message data");
        return 0;
    }
    return 1;
}

void transport_printable(char *out, size_t out_len, const char *line, size_t len)
{
    if (out_len == 0)
        return;
    if (len > out_len - 1)
        len = out_len - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[len] = '\0';
}

int transport_url_check(const char *url, char *err, size_t err_len)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            transport_reply(err, err_len, "smtp url: spaces and control characters not allowed");
            return -1;
        }
    }
    if (strncasecmp(url, "smtp://", 7) != 0 && strncasecmp(url, "smtps://", 8) != 0) {
        transport_reply(err, err_len, "smtp url: must start with smtp:// or smtps://");
        return -1;
    }
    return 0;
}

/* 1 for smtp://host[:port][/path] with no userinfo: no TLS, no login. */
static int url_is_plain_smtp(const char *url)
{
    if (strncasecmp(url, "smtp://", 7) != 0)
        return 0;
    const char *authority = url + 7;
    size_t len = strcspn(authority, "/?#");
    return memchr(authority, '@', len) == NULL;
}

struct mail_transport *mail_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len)
{
    struct mail_transport_options o = {0};
    if (opt)
        o = *opt;
    if ((!o.smtp_url || !*o.smtp_url) && o.nroutes > 0) {
        transport_reply(err, err_len,
                        "relay= needs the pipelining client: MUSTER_SMTP a plain "
                        "smtp://host:port relay, not the maildir");
        return NULL;
    }
    if (!o.smtp_url || !*o.smtp_url)
        return maildir_transport_open(o.maildir && *o.maildir ? o.maildir : "./mail", err, err_len);
    if (o.concurrency <= 0)
        o.concurrency = 20;
    if (o.concurrency > 1000) {
        transport_reply(err, err_len, "smtp concurrency %d is over 1000", o.concurrency);
        return NULL;
    }
    if (o.connect_timeout_ms <= 0)
        o.connect_timeout_ms = 10000;
    if (o.data_timeout_ms <= 0)
        o.data_timeout_ms = 600000;
    if (transport_url_check(o.smtp_url, err, err_len) != 0)
        return NULL;
    if (o.client == MAIL_SMTP_AUTO && url_is_plain_smtp(o.smtp_url))
        return pipe_transport_open(&o, err, err_len);
    if (o.nroutes > 0) {
        transport_reply(err, err_len,
                        "relay= needs the pipelining client: MUSTER_SMTP a plain "
                        "smtp://host:port (no login, no TLS), MUSTER_SMTP_CLIENT auto");
        return NULL;
    }
    return smtp_transport_open(&o, err, err_len);
}

int mail_transport_is_maildir(const struct mail_transport *t)
{
    return t && t->is_maildir;
}

enum mail_status mail_transport_send(struct mail_transport *t, const struct mail_envelope *env,
                                     char *reply, size_t reply_len)
{
    transport_reply(reply, reply_len, "%s", "");
    if (!transport_envelope_check(env, reply, reply_len))
        return MAIL_PERMFAIL;
    return t->ops->send(t, env, reply, reply_len);
}

/* Wraps the caller's source so a transport only ever sees envelopes that
 * passed transport_envelope_check; the others are reported here. */
struct checked_source {
    const struct mail_source *inner;
};

static int checked_next(void *vctx, struct mail_envelope *env, size_t *id)
{
    struct checked_source *c = vctx;
    char reply[64];
    for (;;) {
        if (!c->inner->next(c->inner->ctx, env, id))
            return 0;
        if (transport_envelope_check(env, reply, sizeof reply))
            return 1;
        c->inner->done(c->inner->ctx, *id, MAIL_PERMFAIL, reply);
    }
}

static int checked_next_route(void *vctx, size_t route, struct mail_envelope *env, size_t *id,
                              long *wake_ms)
{
    struct checked_source *c = vctx;
    char reply[64];
    for (;;) {
        int rc = c->inner->next_route(c->inner->ctx, route, env, id, wake_ms);
        if (rc != 1)
            return rc;
        if (transport_envelope_check(env, reply, sizeof reply))
            return 1;
        c->inner->done(c->inner->ctx, *id, MAIL_PERMFAIL, reply);
    }
}

static void checked_refused(void *vctx, size_t id, int code)
{
    struct checked_source *c = vctx;
    c->inner->refused(c->inner->ctx, id, code);
}

static void checked_done(void *vctx, size_t id, enum mail_status status, const char *reply)
{
    struct checked_source *c = vctx;
    c->inner->done(c->inner->ctx, id, status, reply);
}

static void checked_flush(void *vctx)
{
    struct checked_source *c = vctx;
    if (c->inner->flush)
        c->inner->flush(c->inner->ctx);
}

static int checked_confirm(void *vctx, size_t id)
{
    struct checked_source *c = vctx;
    return c->inner->confirm ? c->inner->confirm(c->inner->ctx, id) : 1;
}

int mail_transport_send_stream(struct mail_transport *t, const struct mail_source *src)
{
    if (!t || !src || !src->next || !src->done)
        return -1;
    struct checked_source checked = {src};
    struct mail_source wrapped = {checked_next,  checked_done,
                                  checked_flush, checked_confirm,
                                  &checked,      src->next_route ? checked_next_route : NULL,
                                  src->refused ? checked_refused : NULL};
    return t->ops->send_stream(t, &wrapped);
}

/* An array as a source: the ids are the indexes. */
struct array_source {
    const struct mail_envelope *envs;
    size_t n, next;
    mail_done_fn done;
    void *done_ctx;
};

static int array_next(void *vctx, struct mail_envelope *env, size_t *id)
{
    struct array_source *a = vctx;
    if (a->next >= a->n)
        return 0;
    *id = a->next;
    *env = a->envs[a->next++];
    return 1;
}

static void array_done(void *vctx, size_t id, enum mail_status status, const char *reply)
{
    struct array_source *a = vctx;
    a->done(a->done_ctx, id, status, reply);
}

int mail_transport_send_batch(struct mail_transport *t, const struct mail_envelope *envs, size_t n,
                              mail_done_fn done, void *ctx)
{
    if (!t || !done || (n && !envs))
        return -1;
    if (n == 0)
        return 0;
    struct array_source a = {envs, n, 0, done, ctx};
    struct mail_source src = {array_next, array_done, NULL, NULL, &a, NULL, NULL};
    return mail_transport_send_stream(t, &src);
}

void mail_transport_close(struct mail_transport *t)
{
    if (t)
        t->ops->close(t);
}
