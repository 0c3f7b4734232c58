/*
 * transport: where outgoing mail goes. Three transports behind one interface:
 * SMTP through our own pipelining client (plain smtp://host:port without
 * credentials, the usual local relay; transport_pipe.c), SMTP through libcurl
 * (smtps://, credentials, STARTTLS, or MUSTER_SMTP_CLIENT=curl), and a
 * Maildir (./mail by default) for the demo and for machines with no relay.
 * The transport knows nothing about campaigns; the outbox decides what to
 * send and records the outcome.
 */
#ifndef MUSTER_MAIL_TRANSPORT_H
#define MUSTER_MAIL_TRANSPORT_H

#include <stddef.h>

enum mail_status {
    MAIL_SENT = 0,     /* the relay answered 250 to the final dot (or the file is in new/) */
    MAIL_TEMPFAIL = 1, /* 4xx, connection refused or dropped, timeout: retry later */
    MAIL_PERMFAIL = 2, /* 5xx: do not retry; reply says why */
    MAIL_ABANDONED = 3, /* the source's confirm() withdrew it; nothing was delivered */
};

struct mail_envelope {
    const char *from;  /* envelope sender, validated by the caller */
    const char *to;    /* one recipient, validated by the caller */
    const char *data;  /* the RFC 5322 message, CRLF line ends */
    size_t len;
};

enum mail_smtp_client {
    MAIL_SMTP_AUTO = 0, /* pipelining client for plain smtp://, libcurl otherwise */
    MAIL_SMTP_CURL,     /* always libcurl */
};

struct mail_transport_options {
    const char *smtp_url;     /* NULL or "": use the maildir */
    enum mail_smtp_client client;
    const char *maildir;      /* default "./mail" */
    int concurrency;          /* parallel SMTP transfers in a batch, default 20 */
    long connect_timeout_ms;  /* default 10000 */
    long data_timeout_ms;     /* whole-transfer timeout, default 600000 (RFC 5321 4.5.3.2) */
    /* More routes (the pipelining client only): route r >= 1 is the plain
     * smtp://host:port relay routes[r - 1] with route_connections[r - 1]
     * connections (0: concurrency). Route 0 is smtp_url. */
    const char *const *routes;
    const int *route_connections;
    size_t nroutes;
};

/* A transport is used by one thread at a time; threads open their own. */
struct mail_transport;

/* Called as each message of a batch finishes, in completion order, from the
 * thread that called mail_transport_send_batch. reply is the server's last
 * reply line (or a description of the local error), never NULL. */
typedef void (*mail_done_fn)(void *ctx, size_t index, enum mail_status status, const char *reply);

/* A stream of messages for mail_transport_send_stream. next() fills *env with
 * the next message and an id of the caller's choosing and returns 1, or
 * returns 0 when there is nothing more; it is called just before the message
 * goes out, and env's memory must stay valid until done() is called with the
 * same id. done() is called exactly once per message next() gave, in
 * completion order. flush() (optional) is called after each round of next()
 * and done() calls, before the transport waits for the relay again: a caller
 * that records outcomes in one transaction per round commits there. confirm()
 * (optional) is called when the relay is ready for a message's content, which
 * can be long after next() when the message was queued behind another on a
 * connection; returning 0 withdraws it: the transport drops the connection
 * (which discards the transaction at the relay) and reports MAIL_ABANDONED.
 * All four run on the thread that called mail_transport_send_stream.
 *
 * next_route() (optional; only the pipelining client calls it) replaces
 * next() for a source that paces itself or has several routes: it is asked
 * for a message for a connection of route r (mail_transport_options.routes)
 * and returns 1 (a message, as next()), 0 (nothing more for any route: the
 * stream ends when nothing is in flight), or MAIL_SOURCE_LATER: nothing for
 * this route now, ask again within *wake_ms (1..1000) or when a message ends.
 * The transports without routes call next(), for which the source treats
 * "nothing now" as the end of the stream.
 *
 * refused() (optional; the pipelining client calls it) says, just before
 * done() reports a message MAIL_TEMPFAIL, that the relay answered the
 * message's own RCPT TO, DATA or final dot with the 4xx code given: a reply
 * about its recipient, not about our sender (MAIL FROM), the session or the
 * connection. The outbox's per-domain backoff listens to it. */
#define MAIL_SOURCE_LATER 2
struct mail_source {
    int (*next)(void *ctx, struct mail_envelope *env, size_t *id);
    mail_done_fn done;
    void (*flush)(void *ctx);
    int (*confirm)(void *ctx, size_t id);
    void *ctx;
    int (*next_route)(void *ctx, size_t route, struct mail_envelope *env, size_t *id,
                      long *wake_ms);
    void (*refused)(void *ctx, size_t id, int code);
};

/* Returns NULL and writes a one-line reason to err when the options are bad. */
struct mail_transport *mail_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len);
/* 1 when this transport writes to a maildir (so callers log the links). */
int mail_transport_is_maildir(const struct mail_transport *t);
/* Sends one message synchronously; reply receives the server's reply line. */
enum mail_status mail_transport_send(struct mail_transport *t, const struct mail_envelope *env,
                                     char *reply, size_t reply_len);
/* Sends n messages with up to opt.concurrency transfers in flight, reusing
 * connections; calls done once per message. Returns 0, or -1 when the batch
 * could not start (then done was not called). */
int mail_transport_send_batch(struct mail_transport *t, const struct mail_envelope *envs, size_t n,
                              mail_done_fn done, void *ctx);
/* Sends what src gives, with up to opt.concurrency messages in flight (per
 * route), reusing connections across calls. Returns when next() (or
 * next_route()) returned 0 and every message has been reported; -1 only when nothing could start (then done was
 * not called). An envelope that fails the address check is reported as
 * MAIL_PERMFAIL "invalid address" without being sent. */
int mail_transport_send_stream(struct mail_transport *t, const struct mail_source *src);
void mail_transport_close(struct mail_transport *t);

#endif
