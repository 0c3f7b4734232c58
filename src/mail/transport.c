/*
 * transport: the front of transport.h. It picks the transport from the
 * options (no SMTP URL: the maildir), fills in defaults, dispatches through
 * the transport's ops, and owns the envelope check every transport applies
 * before a message goes anywhere. It knows nothing about SMTP or files.
 */
#include "mail/transport.h"

#include <stdarg.h>
#include <stdio.h>

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

struct mail_transport *mail_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len)
{
    struct mail_transport_options o = {0};
    if (opt)
        o = *opt;
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

int mail_transport_send_batch(struct mail_transport *t, const struct mail_envelope *envs, size_t n,
                              mail_done_fn done, void *ctx)
{
    if (!t || !done || (n && !envs))
        return -1;
    if (n == 0)
        return 0;
    return t->ops->send_batch(t, envs, n, done, ctx);
}

void mail_transport_close(struct mail_transport *t)
{
    if (t)
        t->ops->close(t);
}
