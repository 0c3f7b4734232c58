/*
 * transport_private: what transport.c shares with the two transports behind
 * transport.h. Each transport embeds struct mail_transport first and fills in
 * its ops; transport.c dispatches and checks envelopes, so a transport never
 * sees an address that could smuggle a command into SMTP.
 */
#ifndef MUSTER_MAIL_TRANSPORT_PRIVATE_H
#define MUSTER_MAIL_TRANSPORT_PRIVATE_H

#include <stddef.h>

#include "mail/transport.h"

struct mail_transport_ops {
    enum mail_status (*send)(struct mail_transport *t, const struct mail_envelope *env, char *reply,
                             size_t reply_len);
    /* src's next() only gives envelopes that passed transport_envelope_check
     * (transport.c wraps it). */
    int (*send_stream)(struct mail_transport *t, const struct mail_source *src);
    void (*close)(struct mail_transport *t);
};

struct mail_transport {
    const struct mail_transport_ops *ops;
    int is_maildir;
};

/* 1 when env has valid from/to addresses and data; otherwise writes
 * TRANSPORT_INVALID_ADDRESS to reply. */
int transport_envelope_check(const struct mail_envelope *env, char *reply, size_t reply_len);
#define TRANSPORT_INVALID_ADDRESS "invalid address"

/* 0 when url is smtp:// or smtps:// with no spaces or control characters;
 * otherwise -1 with the reason in err. */
int transport_url_check(const char *url, char *err, size_t err_len);

/* Copies len bytes of a relay's reply line into out (truncated to fit,
 * NUL-terminated), anything but printable ASCII replaced by '?': replies end
 * up in logs and in the database. */
void transport_printable(char *out, size_t out_len, const char *line, size_t len);

/* snprintf into reply when there is room; never fails. */
void transport_reply(char *reply, size_t reply_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct mail_transport *maildir_transport_open(const char *dir, char *err, size_t err_len);
/* For fuzz/fuzz_smtp_replies.c: one connection of the pipelining client,
 * greeted and then fed data as the relay's replies, with four messages to
 * send; abort()s when a message is not reported exactly once. */
int transport_pipe_fuzz(const unsigned char *data, size_t size);

/* The pipelining client, for smtp:// URLs without userinfo. */
struct mail_transport *pipe_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len);
struct mail_transport *smtp_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len);

#endif
