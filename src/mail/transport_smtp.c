/*
 * transport_smtp: sends mail to one relay through libcurl (smtps://,
 * credentials from the URL's userinfo, or any URL with
 * MUSTER_SMTP_CLIENT=curl; plain smtp:// goes to transport_pipe.c). It owns the libcurl
 * handles, the timeouts, and the mapping of what the relay said to
 * MAIL_SENT / MAIL_TEMPFAIL / MAIL_PERMFAIL with the relay's own reply line.
 *
 * Connections are reused: mail_transport_send keeps one easy handle (and so
 * its connection) across calls, and mail_transport_send_batch keeps a multi
 * handle with a pool of `concurrency` easy handles across batches; the multi
 * handle's connection cache holds up to `concurrency` open connections, and
 * each transfer that starts picks up one a finished transfer left idle.
 * libcurl closes a connection after any failed transfer, so a relay never
 * sees a MAIL FROM on a connection left in the middle of a transaction.
 *
 * Credentials in an smtp:// URL are sent only after STARTTLS (required, so a
 * relay without it fails with MAIL_TEMPFAIL rather than see the password in
 * clear); smtps:// is TLS from the start. Certificates are always verified.
 *
 * A transport is used by one thread at a time (libcurl handles are not
 * shared between threads); threads open their own transports.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "mail/transport_private.h"

#include "core/banned.h"

#define REPLY_MAX 512
#define LOW_SPEED_TIME_S 300 /* a relay that sends nothing for 5 minutes is gone */

/* One transfer slot: an easy handle and the state of the message on it. */
struct smtp_xfer {
    CURL *easy;
    struct curl_slist *rcpt;
    const struct mail_envelope *env;
    struct mail_envelope env_copy; /* a stream's message, which env points at */
    size_t off;                    /* bytes of env->data handed to libcurl */
    size_t index;                  /* the stream's id for it */
    int busy;
    char last_line[REPLY_MAX]; /* the relay's last reply line in this transfer */
    char fail_line[REPLY_MAX]; /* its last 4xx/5xx reply line in this transfer */
    int fail_at_mail_from;     /* that reply answered MAIL FROM (about the sender) */
    int last_command_mail_from;
    char errbuf[CURL_ERROR_SIZE];
};

struct smtp_transport {
    struct mail_transport base;
    char *url; /* without userinfo */
    char *user, *password;
    int starttls; /* credentials over smtp:// travel only after STARTTLS */
    int concurrency;
    long connect_timeout_ms, data_timeout_ms;
    struct smtp_xfer single; /* for mail_transport_send */
    CURLM *multi;            /* for batches, with pool[concurrency] */
    struct smtp_xfer *pool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *userp)
{
    struct smtp_xfer *x = userp;
    size_t room = size * nmemb, left = x->env->len - x->off;
    size_t n = left < room ? left : room;
    if (n)
        memcpy(dst, x->env->data + x->off, n);
    x->off += n;
    return n;
}

/* Copies the last non-empty line of [data, data+size) into out, printable
 * (it ends up in logs). */
static void copy_last_line(const char *data, size_t size, char out[REPLY_MAX])
{
    while (size > 0 && (data[size - 1] == '\r' || data[size - 1] == '\n'))
        size--;
    if (size == 0)
        return;
    size_t start = size;
    while (start > 0 && data[start - 1] != '\n')
        start--;
    transport_printable(out, REPLY_MAX, data + start, size - start);
}

static int reply_code(const char *line)
{
    if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
        line[2] > '9')
        return 0;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Sees what the relay says (CURLINFO_HEADER_IN is a reply line for SMTP). */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
    struct smtp_xfer *x = userp;
    if (type == CURLINFO_HEADER_OUT) {
        x->last_command_mail_from = size >= 10 && strncasecmp(data, "MAIL FROM:", 10) == 0;
        return 0;
    }
    if (type != CURLINFO_HEADER_IN)
        return 0;
    char line[REPLY_MAX] = "";
    copy_last_line(data, size, line);
    if (!line[0])
        return 0;
    memcpy(x->last_line, line, sizeof line);
    if (reply_code(line) >= 400) {
        memcpy(x->fail_line, line, sizeof line);
        x->fail_at_mail_from = x->last_command_mail_from;
    }
    return 0;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK)                                       \
            goto fail;                                                                             \
    } while (0)

/* Creates x->easy with everything that does not change per message. */
static int xfer_init(struct smtp_transport *t, struct smtp_xfer *x)
{
    memset(x, 0, sizeof *x);
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    x->easy = h;
    /* Whole seconds, never above the bound in milliseconds. */
    long data_s = t->data_timeout_ms >= 2000 ? t->data_timeout_ms / 1000 : 1;
    SETOPT(h, CURLOPT_URL, t->url);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (t->user)
        SETOPT(h, CURLOPT_USERNAME, t->user);
    if (t->password)
        SETOPT(h, CURLOPT_PASSWORD, t->password);
    if (t->starttls)
        SETOPT(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    SETOPT(h, CURLOPT_UPLOAD, 1L);
    SETOPT(h, CURLOPT_READFUNCTION, on_read);
    SETOPT(h, CURLOPT_READDATA, x);
    SETOPT(h, CURLOPT_VERBOSE, 1L); /* needed for the debug function, which sees replies */
    SETOPT(h, CURLOPT_DEBUGFUNCTION, on_debug);
    SETOPT(h, CURLOPT_DEBUGDATA, x);
    SETOPT(h, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(h, CURLOPT_PRIVATE, x);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    /* The whole transfer, and each wait for a reply (libcurl's default is
     * 120 s; RFC 5321 4.5.3.2 allows the relay 10 minutes after the dot).
     * The outbox sets data_timeout_ms below its lease (mail/outbox.c,
     * lease_budget_of): the transfer starts just after a renewal, and this
     * bound is what keeps it from outliving the lease, after which another
     * server may claim the mail and send it too. */
    SETOPT(h, CURLOPT_TIMEOUT_MS, t->data_timeout_ms);
    SETOPT(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, data_s < 600 ? data_s : 600L);
    SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(h, CURLOPT_LOW_SPEED_TIME, data_s < LOW_SPEED_TIME_S ? data_s : LOW_SPEED_TIME_S);
    return 0;
fail:
    curl_easy_cleanup(h);
    x->easy = NULL;
    return -1;
}

/* Points x at env for its next transfer. */
static int xfer_begin(struct smtp_xfer *x, const struct mail_envelope *env, size_t index)
{
    char from[300];
    x->env = env;
    x->off = 0;
    x->index = index;
    x->last_line[0] = x->fail_line[0] = x->errbuf[0] = '\0';
    x->fail_at_mail_from = x->last_command_mail_from = 0;
    snprintf(from, sizeof from, "<%s>", env->from); /* addresses are <= 254 octets */
    char to[300];
    snprintf(to, sizeof to, "<%s>", env->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    if (!rcpt)
        return -1;
    CURL *h = x->easy;
    SETOPT(h, CURLOPT_MAIL_FROM, from);
    SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)env->len);
    /* Last, so a failure leaves libcurl pointing at the list x still owns;
     * the old list goes only once libcurl points at the new one. */
    SETOPT(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_slist_free_all(x->rcpt);
    x->rcpt = rcpt;
    return 0;
fail:
    curl_slist_free_all(rcpt);
    return -1;
}

/* After a transfer: classifies the outcome and writes the reply line. */
static enum mail_status xfer_end(struct smtp_xfer *x, CURLcode rc, char *reply, size_t reply_len)
{
    if (rc == CURLE_OK) {
        transport_reply(reply, reply_len, "%s", x->last_line[0] ? x->last_line : "250 OK");
        return MAIL_SENT;
    }
    int code = reply_code(x->fail_line);
    if (code == 0) {
        long info = 0;
        if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &info) == CURLE_OK && info >= 400 &&
            info < 600)
            code = (int)info;
    }
    /* libcurl reports a reply it did not want (to MAIL, RCPT, DATA or the
     * dot) as SEND_ERROR or WEIRD_SERVER_REPLY; the reply code decides.
     * Other failures (network, timeout, TLS, login) are not about this
     * message: temporary, so a fixed relay or setting sends it later. */
    int about_message = rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY;
    /* A refused MAIL FROM is about our sender or login, not this recipient:
     * temporary, so the launch pauses and a fixed relay sends everything. */
    if (x->fail_at_mail_from)
        about_message = 0;
    if ((about_message || x->fail_at_mail_from) && code >= 400 && x->fail_line[0])
        transport_reply(reply, reply_len, "%s", x->fail_line);
    else if (x->errbuf[0])
        transport_reply(reply, reply_len, "%s", x->errbuf);
    else
        transport_reply(reply, reply_len, "%s", curl_easy_strerror(rc));
    return about_message && code >= 500 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
}

static enum mail_status smtp_send(struct mail_transport *base, const struct mail_envelope *env,
                                  char *reply, size_t reply_len)
{
    struct smtp_transport *t = (struct smtp_transport *)base;
    struct smtp_xfer *x = &t->single;
    if (!x->easy && xfer_init(t, x) != 0) {
        transport_reply(reply, reply_len, "smtp: cannot create a libcurl handle");
        return MAIL_TEMPFAIL;
    }
    if (xfer_begin(x, env, 0) != 0) {
        transport_reply(reply, reply_len, "smtp: out of memory");
        return MAIL_TEMPFAIL;
    }
    CURLcode rc = curl_easy_perform(x->easy);
    return xfer_end(x, rc, reply, reply_len);
}

/* Creates the multi handle and the pool on the first batch; they then live
 * as long as the transport, so connections outlive a batch. */
static int batch_ready(struct smtp_transport *t)
{
    if (t->multi)
        return 0;
    struct smtp_xfer *pool = calloc((size_t)t->concurrency, sizeof *pool);
    CURLM *multi = curl_multi_init();
    if (!pool || !multi)
        goto fail;
    if (curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)t->concurrency) != CURLM_OK ||
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)t->concurrency) != CURLM_OK)
        goto fail;
    for (int i = 0; i < t->concurrency; i++) {
        if (xfer_init(t, &pool[i]) != 0) {
            while (i-- > 0)
                curl_easy_cleanup(pool[i].easy);
            goto fail;
        }
    }
    t->multi = multi;
    t->pool = pool;
    return 0;
fail:
    if (multi)
        curl_multi_cleanup(multi);
    free(pool);
    return -1;
}

struct batch {
    struct smtp_transport *t;
    const struct mail_source *src;
    int exhausted; /* next() returned 0 */
    int active;
};

/* Starts messages from the source on idle slots until the slots or the
 * source run out. A message that cannot start is reported at once. */
static void batch_fill(struct batch *b)
{
    for (int i = 0; i < b->t->concurrency && !b->exhausted; i++) {
        struct smtp_xfer *x = &b->t->pool[i];
        while (!x->busy && !b->exhausted) {
            struct mail_envelope env;
            size_t id;
            if (!b->src->next(b->src->ctx, &env, &id)) {
                b->exhausted = 1;
                break;
            }
            x->env_copy = env;
            if (xfer_begin(x, &x->env_copy, id) != 0) {
                b->src->done(b->src->ctx, id, MAIL_TEMPFAIL, "smtp: out of memory");
                continue;
            }
            if (curl_multi_add_handle(b->t->multi, x->easy) != CURLM_OK) {
                b->src->done(b->src->ctx, id, MAIL_TEMPFAIL, "smtp: cannot start a transfer");
                continue;
            }
            x->busy = 1;
            b->active++;
        }
    }
}

static void batch_finish(struct batch *b, struct smtp_xfer *x, CURLcode rc)
{
    char reply[REPLY_MAX];
    CURLMcode mc = curl_multi_remove_handle(b->t->multi, x->easy);
    if (mc != CURLM_OK) /* the next add of this handle fails and is reported */
        log_warn("mail.smtp_remove_handle", "error=%d", (int)mc);
    enum mail_status st = xfer_end(x, rc, reply, sizeof reply);
    x->busy = 0;
    b->active--;
    b->src->done(b->src->ctx, x->index, st, reply);
}

/* After every round (next() may have opened the caller's transaction too). */
static void batch_flush(struct batch *b)
{
    if (b->src->flush)
        b->src->flush(b->src->ctx);
}

static int smtp_send_stream(struct mail_transport *base, const struct mail_source *src)
{
    struct smtp_transport *t = (struct smtp_transport *)base;
    if (batch_ready(t) != 0)
        return -1;
    struct batch b = {.t = t, .src = src};
    batch_fill(&b);
    while (b.active > 0) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(t->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *easy = msg->easy_handle;
            CURLcode rc = msg->data.result; /* msg dies with remove_handle */
            struct smtp_xfer *x = NULL;
            if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x) != CURLE_OK || !x)
                continue;
            batch_finish(&b, x, rc);
        }
        if (mc != CURLM_OK) {
            /* The multi handle is broken: end what is in flight. */
            for (int i = 0; i < t->concurrency; i++)
                if (t->pool[i].busy)
                    batch_finish(&b, &t->pool[i], CURLE_FAILED_INIT);
        }
        batch_flush(&b);
        batch_fill(&b);
        if (b.active > 0 && curl_multi_poll(t->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            for (int i = 0; i < t->concurrency; i++)
                if (t->pool[i].busy)
                    batch_finish(&b, &t->pool[i], CURLE_FAILED_INIT);
            batch_flush(&b);
            batch_fill(&b);
        }
    }
    batch_flush(&b);
    return 0;
}

static void smtp_close(struct mail_transport *base)
{
    struct smtp_transport *t = (struct smtp_transport *)base;
    /* Batches finish before they return, so no pool handle is in the multi
     * handle here; the multi handle goes last and closes the connections. */
    if (t->pool) {
        for (int i = 0; i < t->concurrency; i++) {
            curl_easy_cleanup(t->pool[i].easy);
            curl_slist_free_all(t->pool[i].rcpt);
        }
    }
    if (t->multi)
        curl_multi_cleanup(t->multi);
    free(t->pool);
    if (t->single.easy)
        curl_easy_cleanup(t->single.easy);
    curl_slist_free_all(t->single.rcpt);
    if (t->password)
        explicit_bzero(t->password, strlen(t->password));
    curl_free(t->url);
    curl_free(t->user);
    curl_free(t->password);
    free(t);
}

static const struct mail_transport_ops smtp_ops = {
    .send = smtp_send,
    .send_stream = smtp_send_stream,
    .close = smtp_close,
};

/* Parses and checks the URL; t->url keeps it without userinfo, so the
 * password is never part of a string libcurl may print. */
static int smtp_parse_url(struct smtp_transport *t, const char *url, char *err, size_t err_len)
{
    if (transport_url_check(url, err, err_len) != 0)
        return -1;
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL;
    int rc = -1;
    if (!u) {
        transport_reply(err, err_len, "smtp url: out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        transport_reply(err, err_len, "smtp url: malformed (expected smtp://host:port)");
        goto out;
    }
    CURLUcode uc = curl_url_get(u, CURLUPART_USER, &t->user, CURLU_URLDECODE);
    if (uc != CURLUE_OK && uc != CURLUE_NO_USER)
        goto malformed;
    uc = curl_url_get(u, CURLUPART_PASSWORD, &t->password, CURLU_URLDECODE);
    if (uc != CURLUE_OK && uc != CURLUE_NO_PASSWORD)
        goto malformed;
    if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &t->url, 0) != CURLUE_OK)
        goto malformed;
    t->starttls = t->user && strcasecmp(scheme, "smtp") == 0;
    rc = 0;
    goto out;
malformed:
    transport_reply(err, err_len, "smtp url: malformed user or password");
out:
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

struct mail_transport *smtp_transport_open(const struct mail_transport_options *opt, char *err,
                                           size_t err_len)
{
    if (pthread_once(&curl_once, curl_init_once) != 0 || curl_init_result != CURLE_OK) {
        transport_reply(err, err_len, "smtp: libcurl failed to initialise");
        return NULL;
    }
    struct smtp_transport *t = calloc(1, sizeof *t);
    if (!t) {
        transport_reply(err, err_len, "smtp: out of memory");
        return NULL;
    }
    t->base.ops = &smtp_ops;
    t->concurrency = opt->concurrency;
    t->connect_timeout_ms = opt->connect_timeout_ms;
    t->data_timeout_ms = opt->data_timeout_ms;
    if (smtp_parse_url(t, opt->smtp_url, err, err_len) != 0) {
        smtp_close(&t->base);
        return NULL;
    }
    return &t->base;
}
