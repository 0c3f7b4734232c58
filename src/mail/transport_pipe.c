/*
 * transport_pipe: muster's own SMTP client, for plain smtp://host:port relays
 * (no TLS, no login: the local relay a launch normally hands its mail to;
 * smtps:// and credentials go through libcurl, transport_smtp.c). It exists
 * because libcurl sends each SMTP command and waits for its reply (five round
 * trips per message) and awaits each final reply inside one multi handle
 * (curl/curl#8555), which capped a launch at a fraction of what the relay
 * takes (docs/PERFORMANCE.md).
 *
 * One thread drives up to `concurrency` non-blocking connections with poll(),
 * per route: route 0 is the relay of MUSTER_SMTP, each relay= of the domain
 * limits one more (mail_transport_options.routes). A connection asks the
 * source for a message of its route; a source that paces itself may answer
 * "nothing now, ask again within W ms", and the loop then keeps polling until
 * the source is done and nothing is in flight.
 * When the relay announces PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA
 * go out together, and after the 354 the message, its final dot and the next
 * message's three commands go out together: one write and one round trip per
 * message. Without PIPELINING each command waits for its reply. A connection
 * carries at most two messages: one whose final reply is awaited and one in
 * its MAIL/RCPT/DATA phase.
 *
 * Outcomes: 2xx to the final dot is MAIL_SENT. A 4xx anywhere, a dropped
 * connection or a timeout is MAIL_TEMPFAIL. A 5xx to RCPT, DATA or the dot is
 * MAIL_PERMFAIL; a refused MAIL FROM is about the sender, not the recipient,
 * so it is temporary. Each wait for a reply has RFC 5321 4.5.3.2's limit for
 * its command (5 minutes; 2 for DATA; 10 after the final dot), capped by
 * data_timeout_ms. A failed transaction is followed by RSET; a 421, a reply
 * that is not SMTP or a closed connection ends the connection, and every
 * message still on it is reported MAIL_TEMPFAIL with what happened.
 *
 * A transport is used by one thread at a time; its connections live until
 * mail_transport_close, and an idle one the relay closed is noticed before
 * it is reused.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "mail/transport_private.h"

#include "core/banned.h"

#define REPLY_MAX 512
#define IN_MAX 4096   /* a reply line longer than this is not SMTP */
#define EXPECT_MAX 16 /* replies awaited on one connection, at most 9 in practice */
#define OUT_LIMIT (80u * 1024u * 1024u)

/* RFC 5321 4.5.3.2 */
#define WAIT_COMMAND_MS 300000L
#define WAIT_DATA_MS 120000L
#define WAIT_DOT_MS 600000L

enum expect {
    EXPECT_GREETING,
    EXPECT_EHLO,
    EXPECT_HELO,
    EXPECT_MAIL,
    EXPECT_RCPT,
    EXPECT_DATA,
    EXPECT_DOT,
    EXPECT_RSET,
    EXPECT_ABORT_DOT, /* the empty message ending a DATA the relay took without a recipient */
};

struct pending_reply {
    enum expect what;
    int slot; /* the message it is about, -1 for none */
};

/* A message on a connection. */
struct pipe_msg {
    int used;
    size_t id;
    struct mail_envelope env;
    int fail_code; /* the first refusal in its transaction, 0 while none */
    int fail_at_mail;
    char fail_line[REPLY_MAX];
};

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_HANDSHAKE, CONN_READY };

struct pipe_conn {
    int fd;
    enum conn_state state;
    int pipelining;        /* the relay announced PIPELINING */
    struct addrinfo *addr; /* the address being tried (in the transport's list) */
    struct buf out;        /* bytes not yet written */
    size_t out_off;
    char in[IN_MAX];
    size_t in_len;
    struct pending_reply q[EXPECT_MAX];
    size_t q_head, q_len;
    struct pipe_msg msgs[2];
    int current; /* slot in its MAIL/RCPT/DATA phase (or waiting for the connection), -1 none */
    int awaiting_dot;    /* slot whose final reply is awaited, -1 none */
    int64_t deadline_ms; /* when the current wait times out, 0 none */
    size_t route;        /* the relay it talks to */
};

/* One relay: route 0 is MUSTER_SMTP, the others the relay= of the domain
 * limits (mail_transport_options.routes). The transport knows routes, not
 * domains: the source says which message goes on which route. */
struct pipe_route {
    char *host, *port;
    char helo[256];
    struct addrinfo *addrs;
};

struct pipe_transport {
    struct mail_transport base;
    struct pipe_route *routes;
    size_t nroutes;
    int concurrency; /* connections over every route */
    long connect_timeout_ms, data_timeout_ms;
    struct pipe_conn *conns;
};

/* The state of one mail_transport_send_stream call. */
struct stream {
    struct pipe_transport *t;
    const struct mail_source *src;
    int exhausted;
    /* next_route() said "later" for these routes in this round (bit per
     * route, the first 64; later routes share the last bit) */
    uint64_t later_routes;
    long wake_ms; /* the soonest it asked to be asked again; 0 none */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long wait_limit_ms(const struct pipe_transport *t, enum expect what)
{
    long limit = what == EXPECT_DOT    ? WAIT_DOT_MS
                 : what == EXPECT_DATA ? WAIT_DATA_MS
                                       : WAIT_COMMAND_MS;
    return t->data_timeout_ms < limit ? t->data_timeout_ms : limit;
}

static const char *expect_name(enum expect what)
{
    switch (what) {
    case EXPECT_GREETING:
        return "the greeting";
    case EXPECT_EHLO:
        return "EHLO";
    case EXPECT_HELO:
        return "HELO";
    case EXPECT_MAIL:
        return "MAIL FROM";
    case EXPECT_RCPT:
        return "RCPT TO";
    case EXPECT_DATA:
        return "DATA";
    case EXPECT_DOT:
        return "the end of the message";
    case EXPECT_RSET:
        return "RSET";
    case EXPECT_ABORT_DOT:
        return "the end of an empty message";
    }
    return "a command";
}

/* ---- reporting ---- */

static void report(struct stream *s, struct pipe_conn *c, int slot, enum mail_status st,
                   const char *reply)
{
    struct pipe_msg *m = &c->msgs[slot];
    m->used = 0;
    if (c->current == slot)
        c->current = -1;
    if (c->awaiting_dot == slot)
        c->awaiting_dot = -1;
    /* a 4xx to its own RCPT, DATA or dot: about its recipient (mail_source) */
    if (st == MAIL_TEMPFAIL && s->src->refused && !m->fail_at_mail && m->fail_code >= 400 &&
        m->fail_code < 500)
        s->src->refused(s->src->ctx, m->id, m->fail_code);
    s->src->done(s->src->ctx, m->id, st, reply);
}

/* Ends the connection; every message on it is reported temporary with why. */
static void conn_close(struct stream *s, struct pipe_conn *c, const char *why)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_CLOSED;
    c->pipelining = 0;
    c->q_head = c->q_len = 0;
    c->in_len = 0;
    buf_reset(&c->out);
    c->out_off = 0;
    c->deadline_ms = 0;
    /* the message whose final reply was awaited first: it left earlier */
    int order[2] = {c->awaiting_dot, c->current};
    for (int i = 0; i < 2; i++)
        if (order[i] >= 0 && c->msgs[order[i]].used)
            report(s, c, order[i], MAIL_TEMPFAIL, why);
    c->current = c->awaiting_dot = -1;
}

/* ---- output ---- */

static void expect_reply(struct pipe_transport *t, struct pipe_conn *c, enum expect what, int slot)
{
    /* EXPECT_MAX is more than a connection can have outstanding */
    c->q[(c->q_head + c->q_len) % EXPECT_MAX] = (struct pending_reply){what, slot};
    if (c->q_len++ == 0)
        c->deadline_ms = now_ms() + wait_limit_ms(t, what);
}

static void send_command(struct pipe_transport *t, struct pipe_conn *c, enum expect what, int slot,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void send_command(struct pipe_transport *t, struct pipe_conn *c, enum expect what, int slot,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&c->out, fmt, ap);
    va_end(ap);
    expect_reply(t, c, what, slot);
}

/* Appends the message with dot-stuffing (RFC 5321 4.5.2), a final CRLF if
 * the data lacks one, and the end-of-data line. */
static void send_body(struct pipe_transport *t, struct pipe_conn *c, int slot)
{
    const char *p = c->msgs[slot].env.data, *end = p + c->msgs[slot].env.len;
    int line_start = 1;
    while (p < end) {
        if (line_start && *p == '.')
            buf_putc(&c->out, '.');
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        buf_append(&c->out, p, (size_t)(stop - p));
        line_start = nl != NULL;
        p = stop;
    }
    size_t len = c->msgs[slot].env.len;
    const char *d = c->msgs[slot].env.data;
    if (len < 2 || d[len - 2] != '\r' || d[len - 1] != '\n')
        buf_puts(&c->out, "\r\n");
    buf_puts(&c->out, ".\r\n");
    expect_reply(t, c, EXPECT_DOT, slot);
}

/* Writes what it can; 0, or -1 after closing the connection. */
static int conn_write(struct stream *s, struct pipe_conn *c)
{
    if (buf_failed(&c->out)) {
        conn_close(s, c, "smtp: out of memory");
        return -1;
    }
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        char why[128];
        snprintf(why, sizeof why, "smtp: connection to the relay lost while sending (%s)",
                 n < 0 ? strerror(errno) : "closed");
        conn_close(s, c, why);
        return -1;
    }
    buf_reset(&c->out);
    c->out_off = 0;
    return 0;
}

/* Sends the commands of the message in c->current (the connection is ready). */
static void start_message(struct pipe_transport *t, struct pipe_conn *c)
{
    int slot = c->current;
    struct pipe_msg *m = &c->msgs[slot];
    send_command(t, c, EXPECT_MAIL, slot, "MAIL FROM:<%s>\r\n", m->env.from);
    if (!c->pipelining)
        return;
    send_command(t, c, EXPECT_RCPT, slot, "RCPT TO:<%s>\r\n", m->env.to);
    send_command(t, c, EXPECT_DATA, slot, "DATA\r\n");
}

/* ---- connections ---- */

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Starts connecting to c->addr or the addresses after it; 0, or -1 with why
 * when none could start. */
static int conn_connect_from(struct pipe_transport *t, struct pipe_conn *c, char *why, size_t n)
{
    for (; c->addr; c->addr = c->addr->ai_next) {
        int fd =
            socket(c->addr->ai_family, c->addr->ai_socktype | SOCK_CLOEXEC, c->addr->ai_protocol);
        if (fd < 0) {
            snprintf(why, n, "smtp: socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        if (set_nonblocking(fd) != 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            snprintf(why, n, "smtp: socket options: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (connect(fd, c->addr->ai_addr, c->addr->ai_addrlen) != 0 && errno != EINPROGRESS) {
            snprintf(why, n, "smtp: cannot connect to %s:%s: %s", t->routes[c->route].host,
                     t->routes[c->route].port, strerror(errno));
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = CONN_CONNECTING;
        c->deadline_ms = now_ms() + t->connect_timeout_ms;
        return 0;
    }
    return -1;
}

static int conn_open(struct pipe_transport *t, struct pipe_conn *c, char *why, size_t n)
{
    struct pipe_route *rt = &t->routes[c->route];
    if (!rt->addrs) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        int rc = getaddrinfo(rt->host, rt->port, &hints, &rt->addrs);
        if (rc != 0) {
            snprintf(why, n, "smtp: cannot resolve %s: %s", rt->host, gai_strerror(rc));
            rt->addrs = NULL;
            return -1;
        }
    }
    c->addr = rt->addrs;
    snprintf(why, n, "smtp: no address for %s", rt->host);
    return conn_connect_from(t, c, why, n);
}

/* The connect finished (POLLOUT): on to the greeting, or the next address. */
static void conn_connected(struct stream *s, struct pipe_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        c->state = CONN_HANDSHAKE;
        c->deadline_ms = 0;
        expect_reply(s->t, c, EXPECT_GREETING, -1);
        return;
    }
    char why[256];
    snprintf(why, sizeof why, "smtp: cannot connect to %s:%s: %s", s->t->routes[c->route].host,
             s->t->routes[c->route].port, strerror(err));
    close(c->fd);
    c->fd = -1;
    c->addr = c->addr->ai_next;
    if (conn_connect_from(s->t, c, why, sizeof why) != 0)
        conn_close(s, c, why);
}

/* 1 when an idle ready connection is still open: the relay may have closed
 * it (an idle timeout, often after a 421) since it was last used. */
static int conn_alive(struct pipe_conn *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- replies ---- */

/* A transaction that will not be sent: report it, and RSET the session. */
static void transaction_failed(struct stream *s, struct pipe_conn *c, int slot)
{
    struct pipe_msg *m = &c->msgs[slot];
    enum mail_status st = m->fail_at_mail       ? MAIL_TEMPFAIL
                          : m->fail_code >= 500 ? MAIL_PERMFAIL
                                                : MAIL_TEMPFAIL;
    char reply[REPLY_MAX];
    memcpy(reply, m->fail_line, sizeof reply);
    report(s, c, slot, st, reply);
    send_command(s->t, c, EXPECT_RSET, -1, "RSET\r\n");
}

static void note_failure(struct pipe_msg *m, int code, const char *line, int at_mail)
{
    if (m->fail_code)
        return;
    m->fail_code = code;
    m->fail_at_mail = at_mail;
    memcpy(m->fail_line, line, REPLY_MAX);
}

/* Handles one complete reply; returns -1 when it closed the connection. */
static int on_reply(struct stream *s, struct pipe_conn *c, int code, const char *line)
{
    struct pipe_transport *t = s->t;
    if (c->q_len == 0) {
        conn_close(s, c, "smtp: the relay answered a command that was not sent");
        return -1;
    }
    struct pending_reply r = c->q[c->q_head];
    c->q_head = (c->q_head + 1) % EXPECT_MAX;
    c->q_len--;
    c->deadline_ms = c->q_len ? now_ms() + wait_limit_ms(t, c->q[c->q_head].what) : 0;
    int ok = code >= 200 && code < 300;
    struct pipe_msg *m = r.slot >= 0 ? &c->msgs[r.slot] : NULL;
    switch (r.what) {
    case EXPECT_GREETING:
        if (!ok)
            break;
        send_command(t, c, EXPECT_EHLO, -1, "EHLO %s\r\n", t->routes[c->route].helo);
        return 0;
    case EXPECT_EHLO:
        if (!ok) {
            c->pipelining = 0;
            send_command(t, c, EXPECT_HELO, -1, "HELO %s\r\n", t->routes[c->route].helo);
            return 0;
        }
        /* fall through */
    case EXPECT_HELO:
        if (!ok)
            break;
        c->state = CONN_READY;
        if (c->current >= 0)
            start_message(t, c);
        return 0;
    case EXPECT_MAIL:
        if (!ok)
            note_failure(m, code, line, 1);
        if (!c->pipelining) {
            if (m->fail_code)
                transaction_failed(s, c, r.slot);
            else
                send_command(t, c, EXPECT_RCPT, r.slot, "RCPT TO:<%s>\r\n", m->env.to);
        }
        break;
    case EXPECT_RCPT:
        if (!ok)
            note_failure(m, code, line, 0);
        if (!c->pipelining) {
            if (m->fail_code)
                transaction_failed(s, c, r.slot);
            else
                send_command(t, c, EXPECT_DATA, r.slot, "DATA\r\n");
        }
        break;
    case EXPECT_DATA:
        if (code == 354 && !m->fail_code && s->src->confirm &&
            !s->src->confirm(s->src->ctx, m->id)) {
            /* Withdrawn. Only a dropped connection ends DATA without a
             * message; nothing else is on this one (the reply to the
             * previous message's dot came before this 354). */
            report(s, c, r.slot, MAIL_ABANDONED, "withdrawn before its content was sent");
            conn_close(s, c, "withdrawn");
            return -1;
        }
        if (code == 354 && !m->fail_code) {
            send_body(t, c, r.slot);
            c->awaiting_dot = r.slot;
            c->current = -1;
            break;
        }
        if (code == 354) /* no recipient, yet the relay wants data: send none */
            send_command(t, c, EXPECT_ABORT_DOT, -1, ".\r\n");
        else
            note_failure(m, code, line, 0);
        transaction_failed(s, c, r.slot);
        break;
    case EXPECT_DOT:
        if (!ok)
            note_failure(m, code, line, 0);
        report(s, c, r.slot, ok ? MAIL_SENT : code >= 500 ? MAIL_PERMFAIL : MAIL_TEMPFAIL, line);
        break;
    case EXPECT_RSET:
    case EXPECT_ABORT_DOT:
        break;
    }
    if (code == 421 || (!ok && r.what <= EXPECT_HELO) || (r.what == EXPECT_RSET && !ok)) {
        conn_close(s, c, line);
        return -1;
    }
    return 0;
}

/* Parses the complete reply lines in c->in. A multi-line reply (RFC 5321
 * 4.2.1) is handled at its last line; EHLO's lines are read for PIPELINING. */
static int parse_replies(struct stream *s, struct pipe_conn *c)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(c->in + start, '\n', c->in_len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (c->in + start));
        const char *l = c->in + start;
        start += len + 1;
        if (len && l[len - 1] == '\r')
            len--;
        char line[REPLY_MAX];
        transport_printable(line, sizeof line, l, len);
        if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
            l[2] > '9' || (len > 3 && l[3] != ' ' && l[3] != '-')) {
            char why[REPLY_MAX + 40];
            snprintf(why, sizeof why, "smtp: not an SMTP reply: %s", line);
            conn_close(s, c, why);
            return -1;
        }
        int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
        if (len > 3 && l[3] == '-') {
            if (c->q_len && c->q[c->q_head].what == EXPECT_EHLO && len == 14 &&
                strncasecmp(l + 4, "PIPELINING", 10) == 0)
                c->pipelining = 1;
            continue;
        }
        if (c->q_len && c->q[c->q_head].what == EXPECT_EHLO && len == 14 &&
            strncasecmp(l + 4, "PIPELINING", 10) == 0)
            c->pipelining = 1;
        if (on_reply(s, c, code, line) != 0)
            return -1;
    }
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len == sizeof c->in) {
        conn_close(s, c, "smtp: reply line too long");
        return -1;
    }
    return 0;
}

static void conn_read(struct stream *s, struct pipe_conn *c)
{
    for (;;) {
        size_t room = sizeof c->in - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (parse_replies(s, c) != 0 || (size_t)n < room)
                return; /* poll says when there is more */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        char why[160];
        if (c->q_len)
            snprintf(why, sizeof why, "smtp: the relay closed the connection before answering %s",
                     expect_name(c->q[c->q_head].what));
        else
            snprintf(why, sizeof why, "smtp: the relay closed the connection");
        if (n < 0)
            snprintf(why, sizeof why, "smtp: connection to the relay lost (%s)", strerror(errno));
        conn_close(s, c, why);
        return;
    }
}

/* ---- the stream ---- */

/* 1 when c can take another message now. Without PIPELINING a command goes
 * only when no reply is outstanding (an RSET's, say). */
static int conn_has_room(const struct pipe_conn *c)
{
    if (c->current >= 0)
        return 0;
    if (c->state == CONN_READY && !c->pipelining && c->q_len > 0)
        return 0;
    if (c->awaiting_dot < 0)
        return 1;
    return c->state == CONN_READY && c->pipelining;
}

static uint64_t route_bit(size_t route)
{
    return (uint64_t)1 << (route < 63 ? route : 63);
}

#define ROUTE_UNUSED 3 /* a source without next_route() sends on route 0 only */

/* The source's next message for a connection of route: 1, 0 (the source is
 * done), MAIL_SOURCE_LATER (noted in s->later_routes and s->wake_ms) or
 * ROUTE_UNUSED. */
static int source_next(struct stream *s, size_t route, struct pipe_msg *m)
{
    if (!s->src->next_route)
        return route == 0 ? s->src->next(s->src->ctx, &m->env, &m->id) : ROUTE_UNUSED;
    long wake = 1000;
    int rc = s->src->next_route(s->src->ctx, route, &m->env, &m->id, &wake);
    if (rc == MAIL_SOURCE_LATER) {
        s->later_routes |= route_bit(route);
        if (wake < 1)
            wake = 1;
        if (wake > 1000)
            wake = 1000;
        if (!s->wake_ms || wake < s->wake_ms)
            s->wake_ms = wake;
    }
    return rc;
}

/* Gives each connection with room the next message from the source for its
 * route; a route the source has nothing for now is asked again next round. */
static void fill(struct stream *s)
{
    struct pipe_transport *t = s->t;
    s->later_routes = 0;
    s->wake_ms = 0;
    for (int i = 0; i < t->concurrency && !s->exhausted; i++) {
        struct pipe_conn *c = &t->conns[i];
        while (conn_has_room(c) && !s->exhausted && !(s->later_routes & route_bit(c->route))) {
            if (c->state == CONN_READY && c->q_len == 0 && !conn_alive(c))
                conn_close(s, c, "closed while idle"); /* nothing on it: reports nothing */
            int slot = c->msgs[0].used ? 1 : 0;
            struct pipe_msg *m = &c->msgs[slot];
            int rc = source_next(s, c->route, m);
            if (rc == MAIL_SOURCE_LATER || rc == ROUTE_UNUSED)
                break;
            if (rc != 1) {
                s->exhausted = 1;
                break;
            }
            m->used = 1;
            m->fail_code = m->fail_at_mail = 0;
            m->fail_line[0] = '\0';
            c->current = slot;
            if (c->state == CONN_CLOSED) {
                char why[256];
                if (conn_open(t, c, why, sizeof why) != 0) {
                    report(s, c, slot, MAIL_TEMPFAIL, why);
                    continue;
                }
            }
            if (c->state == CONN_READY)
                start_message(t, c); /* written at the end of the round */
        }
    }
}

/* 1 while a message is on c or a reply is outstanding. */
static int conn_busy(const struct pipe_conn *c)
{
    return c->current >= 0 || c->awaiting_dot >= 0 || (c->fd >= 0 && c->q_len > 0);
}

static int in_flight(const struct pipe_transport *t)
{
    for (int i = 0; i < t->concurrency; i++)
        if (conn_busy(&t->conns[i]))
            return 1;
    return 0;
}

static void expire(struct stream *s, int64_t now)
{
    for (int i = 0; i < s->t->concurrency; i++) {
        struct pipe_conn *c = &s->t->conns[i];
        if (c->fd < 0 || !c->deadline_ms || now < c->deadline_ms)
            continue;
        char why[160];
        if (c->state == CONN_CONNECTING)
            snprintf(why, sizeof why, "smtp: connecting to %s:%s timed out",
                     s->t->routes[c->route].host, s->t->routes[c->route].port);
        else
            snprintf(why, sizeof why, "smtp: timed out waiting for the reply to %s",
                     c->q_len ? expect_name(c->q[c->q_head].what) : "a command");
        conn_close(s, c, why);
    }
}

/* After every round, whether or not it reported anything: next() may have
 * opened the caller's transaction too. */
static void flush(struct stream *s)
{
    if (s->src->flush)
        s->src->flush(s->src->ctx);
}

static int pipe_send_stream(struct mail_transport *base, const struct mail_source *src)
{
    struct pipe_transport *t = (struct pipe_transport *)base;
    struct stream s = {.t = t, .src = src};
    struct pollfd *pfd = calloc((size_t)t->concurrency, sizeof *pfd);
    int *which = calloc((size_t)t->concurrency, sizeof *which);
    if (!pfd || !which) {
        free(pfd);
        free(which);
        return -1;
    }
    fill(&s);
    for (int i = 0; i < t->concurrency; i++) {
        struct pipe_conn *c = &t->conns[i];
        if (c->fd >= 0 && c->state == CONN_READY && c->out_off < c->out.len)
            conn_write(&s, c);
    }
    flush(&s);
    /* Until the source is done (or only says "later" with nothing in
     * flight... then it is asked again when it said) and nothing is in
     * flight. */
    while (in_flight(t) || (!s.exhausted && s.later_routes)) {
        nfds_t n = 0;
        int64_t now = now_ms(), wait = s.later_routes && s.wake_ms ? s.wake_ms : 1000;
        for (int i = 0; i < t->concurrency; i++) {
            struct pipe_conn *c = &t->conns[i];
            if (c->fd < 0)
                continue;
            short ev = POLLIN;
            if (c->state == CONN_CONNECTING || c->out_off < c->out.len)
                ev = c->state == CONN_CONNECTING ? POLLOUT : POLLIN | POLLOUT;
            pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
            which[n++] = i;
            if (c->deadline_ms && c->deadline_ms - now < wait)
                wait = c->deadline_ms - now > 0 ? c->deadline_ms - now : 0;
        }
        int ready = poll(pfd, n, (int)wait);
        if (ready < 0 && errno != EINTR)
            break;
        for (nfds_t k = 0; ready > 0 && k < n; k++) {
            struct pipe_conn *c = &t->conns[which[k]];
            short re = pfd[k].revents;
            if (!re || c->fd != pfd[k].fd)
                continue;
            if (c->state == CONN_CONNECTING) {
                conn_connected(&s, c);
                continue;
            }
            if (re & (POLLIN | POLLERR | POLLHUP))
                conn_read(&s, c);
        }
        expire(&s, now_ms());
        /* The replies' outcomes are committed first, before the next
         * messages are built and written: a relay's 250 is recorded as
         * soon as it is read, which keeps the window in which a crash
         * repeats a message to the commit itself. */
        flush(&s);
        fill(&s);
        /* What the replies and fill() queued goes out in one write per
         * connection (a message's content with the next one's commands);
         * the flush after it ends fill()'s read transaction and records
         * what fill() reported (a connection that could not open). */
        for (int i = 0; i < t->concurrency; i++) {
            struct pipe_conn *c = &t->conns[i];
            if (c->fd >= 0 && c->state != CONN_CONNECTING && c->out_off < c->out.len)
                conn_write(&s, c);
        }
        flush(&s);
    }
    /* poll failed: end what is in flight */
    for (int i = 0; i < t->concurrency; i++)
        if (conn_busy(&t->conns[i]))
            conn_close(&s, &t->conns[i], "smtp: poll failed");
    flush(&s);
    free(pfd);
    free(which);
    return 0;
}

/* ---- one message ---- */

struct single {
    const struct mail_envelope *env;
    int given;
    enum mail_status status;
    char *reply;
    size_t reply_len;
};

static int single_next(void *vctx, struct mail_envelope *env, size_t *id)
{
    struct single *one = vctx;
    if (one->given)
        return 0;
    one->given = 1;
    *env = *one->env;
    *id = 0;
    return 1;
}

static void single_done(void *vctx, size_t id, enum mail_status status, const char *reply)
{
    struct single *one = vctx;
    (void)id;
    one->status = status;
    transport_reply(one->reply, one->reply_len, "%s", reply);
}

static enum mail_status pipe_send(struct mail_transport *base, const struct mail_envelope *env,
                                  char *reply, size_t reply_len)
{
    struct single one = {env, 0, MAIL_TEMPFAIL, reply, reply_len};
    struct mail_source src = {single_next, single_done, NULL, NULL, &one, NULL, NULL};
    transport_reply(reply, reply_len, "smtp: could not start");
    if (pipe_send_stream(base, &src) != 0)
        return MAIL_TEMPFAIL;
    return one.status;
}

static void pipe_close(struct mail_transport *base)
{
    struct pipe_transport *t = (struct pipe_transport *)base;
    for (int i = 0; t->conns && i < t->concurrency; i++) {
        struct pipe_conn *c = &t->conns[i];
        if (c->fd >= 0) {
            /* QUIT without waiting: every message on it has been reported */
            if (c->state == CONN_READY && c->q_len == 0)
                (void)!send(c->fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(c->fd);
        }
        buf_release(&c->out);
    }
    free(t->conns);
    for (size_t r = 0; t->routes && r < t->nroutes; r++) {
        if (t->routes[r].addrs)
            freeaddrinfo(t->routes[r].addrs);
        curl_free(t->routes[r].host);
        curl_free(t->routes[r].port);
    }
    free(t->routes);
    free(t);
}

static const struct mail_transport_ops pipe_ops = {
    .send = pipe_send,
    .send_stream = pipe_send_stream,
    .close = pipe_close,
};

/* ---- fuzzing ---- */

#define FUZZ_MESSAGES 4

struct fuzz_source {
    struct mail_envelope env;
    size_t given;
    int reported[FUZZ_MESSAGES];
};

static int fuzz_next(void *vctx, struct mail_envelope *env, size_t *id)
{
    struct fuzz_source *f = vctx;
    if (f->given == FUZZ_MESSAGES)
        return 0;
    *env = f->env;
    *id = f->given++;
    return 1;
}

static void fuzz_done(void *vctx, size_t id, enum mail_status status, const char *reply)
{
    struct fuzz_source *f = vctx;
    if (id >= f->given || f->reported[id]++ || !reply || status > MAIL_ABANDONED)
        abort(); /* reported twice, never given, or without a reply */
}

/* Withdraws every third message, to cover the dropped DATA. */
static int fuzz_confirm(void *vctx, size_t id)
{
    (void)vctx;
    return id % 3 != 2;
}

int transport_pipe_fuzz(const unsigned char *data, size_t size)
{
    static const char message[] = "Subject: x\r\n\r\n.dot first\r\nline\r\n.\r\nend";
    struct fuzz_source f = {.env = {"a@example.org", "b@example.org", message, sizeof message - 1}};
    struct mail_source src = {fuzz_next, fuzz_done, NULL, fuzz_confirm, &f, NULL, NULL};
    struct pipe_route route = {.helo = "fuzz"};
    struct pipe_transport t = {.routes = &route,
                               .nroutes = 1,
                               .concurrency = 1,
                               .connect_timeout_ms = 1000,
                               .data_timeout_ms = 1000};
    struct pipe_conn c = {.fd = -1, .current = -1, .awaiting_dot = -1};
    struct stream s = {.t = &t, .src = &src};
    int sv[2];
    t.conns = &c;
    buf_init(&c.out, OUT_LIMIT);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    c.fd = sv[0];
    c.state = CONN_HANDSHAKE;
    expect_reply(&t, &c, EXPECT_GREETING, -1);
    fill(&s);
    /* The input is the relay's side, fed in pieces of the size its first
     * byte says, so replies split across reads are covered too. */
    size_t piece = size ? (size_t)data[0] % 64 + 1 : 1;
    char sink[65536];
    for (size_t off = size ? 1 : 0; off < size && c.fd >= 0;) {
        size_t n = size - off < piece ? size - off : piece;
        if (n > sizeof c.in - c.in_len)
            n = sizeof c.in - c.in_len;
        memcpy(c.in + c.in_len, data + off, n);
        c.in_len += n;
        off += n;
        if (parse_replies(&s, &c) != 0)
            break;
        fill(&s);
        if (c.fd >= 0 && c.out_off < c.out.len && conn_write(&s, &c) != 0)
            break;
        while (recv(sv[1], sink, sizeof sink, MSG_DONTWAIT) > 0)
            continue;
    }
    conn_close(&s, &c, "end of input");
    close(sv[1]);
    buf_release(&c.out);
    /* every message given was reported exactly once */
    for (size_t i = 0; i < f.given; i++)
        if (f.reported[i] != 1)
            abort();
    return 0;
}

/* Host, port (default 25) and the EHLO name (the URL's path, as libcurl
 * takes it, or this machine's host name). */
static int pipe_parse_url(struct pipe_route *t, const char *url, char *err, size_t err_len)
{
    CURLU *u = curl_url();
    char *path = NULL;
    int rc = -1;
    if (!u) {
        transport_reply(err, err_len, "smtp url: out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &t->host, 0) != CURLUE_OK || !t->host || !*t->host ||
        curl_url_get(u, CURLUPART_PORT, &t->port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        transport_reply(err, err_len, "smtp url: malformed (expected smtp://host:port)");
        goto out;
    }
    /* an IPv6 literal comes back in brackets; getaddrinfo wants it bare */
    size_t hl = strlen(t->host);
    if (hl > 2 && t->host[0] == '[' && t->host[hl - 1] == ']') {
        memmove(t->host, t->host + 1, hl - 2);
        t->host[hl - 2] = '\0';
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path && path[0] == '/' &&
        path[1] && strlen(path + 1) < sizeof t->helo && !strpbrk(path + 1, "/?#%"))
        snprintf(t->helo, sizeof t->helo, "%s", path + 1);
    else if (gethostname(t->helo, sizeof t->helo) != 0 || !t->helo[0])
        snprintf(t->helo, sizeof t->helo, "localhost");
    t->helo[sizeof t->helo - 1] = '\0';
    rc = 0;
out:
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

struct mail_transport *pipe_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len)
{
    struct pipe_transport *t = calloc(1, sizeof *t);
    if (!t) {
        transport_reply(err, err_len, "smtp: out of memory");
        return NULL;
    }
    t->base.ops = &pipe_ops;
    t->connect_timeout_ms = opt->connect_timeout_ms;
    t->data_timeout_ms = opt->data_timeout_ms;
    t->nroutes = 1 + opt->nroutes;
    t->routes = calloc(t->nroutes, sizeof *t->routes);
    long total = 0;
    for (size_t r = 0; r < t->nroutes; r++) {
        int n = r && opt->route_connections && opt->route_connections[r - 1] > 0
                    ? opt->route_connections[r - 1]
                    : opt->concurrency;
        total += n;
    }
    if (total > 100000) {
        transport_reply(err, err_len, "smtp: %ld connections over every route is too many", total);
        free(t->routes);
        free(t);
        return NULL;
    }
    t->concurrency = (int)total;
    t->conns = calloc((size_t)t->concurrency, sizeof *t->conns);
    if (!t->conns || !t->routes) {
        transport_reply(err, err_len, "smtp: out of memory");
        free(t->conns);
        free(t->routes);
        free(t);
        return NULL;
    }
    int i = 0;
    for (size_t r = 0; r < t->nroutes; r++) {
        int n = r && opt->route_connections && opt->route_connections[r - 1] > 0
                    ? opt->route_connections[r - 1]
                    : opt->concurrency;
        for (int k = 0; k < n; k++, i++) {
            t->conns[i].fd = -1;
            t->conns[i].current = t->conns[i].awaiting_dot = -1;
            t->conns[i].route = r;
            buf_init(&t->conns[i].out, OUT_LIMIT);
        }
    }
    for (size_t r = 0; r < t->nroutes; r++) {
        const char *url = r ? opt->routes[r - 1] : opt->smtp_url;
        if (pipe_parse_url(&t->routes[r], url, err, err_len) != 0) {
            pipe_close(&t->base);
            return NULL;
        }
    }
    return &t->base;
}
