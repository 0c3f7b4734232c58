/*
 * server: libmicrohttpd glue (see server.h). The access handler is called
 * several times per request: the first call only allocates the request
 * context (answering then would make MHD 0.9.75 close keep-alive
 * connections), the middle calls collect the body, the last one dispatches.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tz.h"
#include "core/workpool.h"
#include "http/app.h"
#include "http/connlimit.h"
#include "http/framing.h"
#include "http/http.h"
#include "http/session.h"
#include "store/group_commit.h"
#include "core/banned.h"

enum server_phase { PHASE_RUN, PHASE_QUIESCE, PHASE_STOP };

/* A kept-alive connection's next request head must be complete within this
 * long of the previous answer; it is also MHD's idle timeout. */
#define KEEPALIVE_SECONDS 30
/* How often a worker looks for connections past their deadline. */
#define SWEEP_MS 250
/* A request body may take MUSTER_BODY_TIMEOUT seconds plus one per this
 * many bytes of its Content-Length. */
#define BODY_BYTES_PER_SECOND 4096
/* File descriptors kept for everything but client connections (the
 * database, SMTP, webhooks, logs). */
#define FD_RESERVE 256

/* One per TCP connection (MHD's socket context), owned by its worker: the
 * deadline by which what it is sending must be complete. */
struct conn_state {
    struct conn_state *prev, *next;  /* the worker's list */
    struct connlimit_entry *counted; /* its address's count; NULL: not counted */
    int fd;
    int64_t deadline_ms; /* monotonic; 0: none (a handler or an answer is running) */
    int in_body;         /* the deadline is the body's, not the head's */
    struct sockaddr_storage addr;
};

/* At most one log line per interval for what an attacker can repeat: the
 * line says how many were not logged since the last one. */
struct log_gate {
    atomic_llong next_ms;
    atomic_long skipped;
};

struct http_worker {
    struct http_server *srv;
    struct MHD_Daemon *daemon;
    int epoll_fd; /* the daemon's: readable when MHD has work */
    int wake_fd;  /* eventfd: the phase changed, or a connection was resumed */
    pthread_t thread;
    int started;
    int quiesced;             /* the daemon gave the listening socket back */
    struct conn_state *conns; /* every open connection of this daemon */
    int64_t next_sweep_ms;
    /* The requests of this turn waiting for a gathered read (http_gather),
     * in arrival order; read after the turn's MHD_run (run_gathered). */
    struct request_ctx *gathered, **gathered_tail;
};

struct http_server {
    struct app *app;
    struct http_server_config hc; /* the application's routes and error page */
    int listen_fd;                /* ours: every daemon returns it when quiesced */
    atomic_int phase;
    pthread_mutex_t lock;
    pthread_cond_t quiesced_cv;    /* a worker set its `quiesced` */
    struct connlimit *per_address; /* MUSTER_MAX_CONNECTIONS_PER_IP */
    int64_t head_timeout_ms;       /* MUSTER_HEADER_TIMEOUT */
    int64_t body_timeout_ms;       /* MUSTER_BODY_TIMEOUT */
    int framing_layout;            /* framing_layout_known() */
    struct log_gate refused_log, cut_log, framing_log;
    struct workpool *pool;         /* deferred CPU work (http_deferred.work) */
    int nworkers;
    struct http_worker workers[];
};

enum defer_state { DEFER_NONE, DEFER_WAITING, DEFER_DONE };

struct request_ctx {
    struct buf body;
    int too_large;
    int64_t start_us;
    /* A deferred answer (http_defer): the connection is suspended while the
     * group commit or the work pool runs the job, and resumed by
     * deferred_done; or, for a gathered read, it waits in its worker's
     * gathered list (run_gathered). */
    struct http_deferred deferred;
    atomic_int defer_state;
    int defer_rc;
    int pool_full; /* the work pool refused the job: answer 503 */
    struct MHD_Connection *connection;
    struct http_worker *worker;        /* whose event loop resumes the connection */
    struct request_ctx *gathered_next; /* the worker's gathered list */
};

/* ---- request accessors ---- */

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_COOKIE_KIND, name);
}

int http_is_head(const struct http_request *req)
{
    return strcmp(req->method, "HEAD") == 0;
}

/* ---- response helpers ---- */

void http_set_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->header_count >= HTTP_MAX_HEADERS)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    resp->headers[resp->header_count].name = name;
    resp->headers[resp->header_count].value = copy;
    resp->header_count++;
}

void http_redirect(struct http_response *resp, int status, const char *location)
{
    resp->status = status;
    http_set_header(resp, "Location", location);
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
}

void http_text(struct http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, text);
}

void http_defer(struct http_response *resp, const struct http_deferred *d)
{
    resp->deferred = *d;
    resp->has_deferred = 1;
}

void http_json(struct http_response *resp, int status, const char *json)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_puts(&resp->body, json);
}

/* ---- client address ---- */

static int proxy_trusted(const char *list, const char *ip)
{
    size_t n = strlen(ip);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, ip, n) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static void resolve_client_ip(struct http_request *req, const struct app *app)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(req->client_ip, sizeof req->client_ip, "unknown");
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client_ip,
                      sizeof req->client_ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client_ip,
                      sizeof req->client_ip);
    }
    if (!proxy_trusted(app->cfg->trusted_proxies, req->client_ip))
        return;
    const char *xff = http_header(req, "X-Forwarded-For");
    if (!xff || !*xff)
        return;
    /* The last address is the one our trusted proxy saw. */
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    unsigned char tmp[16];
    char candidate[64];
    snprintf(candidate, sizeof candidate, "%s", last);
    size_t len = strlen(candidate);
    while (len && candidate[len - 1] == ' ')
        candidate[--len] = '\0';
    if (inet_pton(AF_INET, candidate, tmp) == 1 || inet_pton(AF_INET6, candidate, tmp) == 1)
        snprintf(req->client_ip, sizeof req->client_ip, "%s", candidate);
}

const char *http_client_ip(struct http_request *req)
{
    if (!req->client_ip[0])
        resolve_client_ip(req, req->app);
    return req->client_ip;
}

/* ---- dispatch ---- */

/* The application's error page (hc.error_page), else plain text. */
static void error_page(const struct http_server *srv, struct http_request *req,
                       struct http_response *resp, int status, const char *title,
                       const char *message)
{
    if (srv->hc.error_page) {
        srv->hc.error_page(req, resp, status, title, message);
        return;
    }
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    buf_printf(&resp->body, "%d %s\n%s\n", status, title, message);
}

static void record_metrics(struct app *app, int status, int64_t elapsed_us)
{
    static const int64_t bounds_us[] = {1000, 5000, 10000, 50000, 100000, 500000, 1000000};
    atomic_fetch_add(&app->metrics.requests, 1);
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&app->metrics.requests_by_class[cls], 1);
    atomic_fetch_add(&app->metrics.latency_us_total, elapsed_us);
    int b = 0;
    while (b < 7 && elapsed_us > bounds_us[b])
        b++;
    atomic_fetch_add(&app->metrics.latency_buckets[b], 1);
}

static void dispatch(const struct http_server *srv, struct http_request *req,
                     struct http_response *resp, int too_large)
{
    int path_known = 0;
    const struct route *route =
        http_route_match(srv->hc.routes, srv->hc.route_count, req, &path_known);
    if (req->store && !(route && (route->flags & ROUTE_SNAPSHOT)))
        store_snapshot_end(req->store); /* this request must see the latest data */
    if (!route) {
        if (path_known) {
            error_page(srv, req, resp, 405, "Method not allowed",
                       "This address does not answer that kind of request.");
            http_set_header(resp, "Allow", "GET, HEAD, POST");
        } else {
            /* The words of page_not_found (pages/layout.c), which the
             * handlers use for an unknown token or campaign. */
            error_page(srv, req, resp, 404, "Not found",
                       "There is nothing here. If you followed a link from an email, it may "
                       "have expired or been mistyped.");
        }
        return;
    }
    if (too_large) {
        const char *ctype = http_header(req, "Content-Type");
        if (ctype && strncasecmp(ctype, "application/json", 16) == 0)
            http_json(resp, 413,
                      "{\"errors\":{\"body\":\"The request body is larger than 256 "
                      "KiB.\"}}");
        else
            error_page(srv, req, resp, 413, "Request too large", "The request body is too large.");
        return;
    }
    if (!req->store) {
        error_page(srv, req, resp, 503, "Unavailable", "The database is not available. Try again.");
        return;
    }
    if ((route->flags & (ROUTE_ADMIN | ROUTE_API)) &&
        session_authenticate(req, route->flags) != 0) {
        if (route->flags & ROUTE_API) {
            http_json(resp, 401, "{\"error\":\"authentication required\"}");
            http_set_header(resp, "WWW-Authenticate", "Bearer realm=\"muster\"");
        } else {
            http_redirect(resp, 303, "/login");
        }
        return;
    }
    if (route->flags & (ROUTE_ADMIN | ROUTE_API)) {
        /* The access check (service/access.c): no role on the campaign, or
         * no such campaign, answers 404 alike; a role too low 403. */
        enum access_verdict verdict;
        if (session_authorize(req, route->access, &verdict) != 0) {
            if (route->flags & ROUTE_API)
                http_json(resp, 503, "{\"error\":\"try again\"}");
            else
                error_page(srv, req, resp, 503, "Unavailable",
                           "The database is not available. Try again.");
            return;
        }
        if (verdict != ACCESS_ALLOWED) {
            int hidden = verdict == ACCESS_HIDDEN;
            if (route->flags & ROUTE_API)
                http_json(resp, hidden ? 404 : 403,
                          hidden ? "{\"error\":\"no such campaign\"}"
                                 : "{\"error\":\"your role on this campaign does not allow "
                                   "this\"}");
            else if (hidden)
                error_page(srv, req, resp, 404, "Not found",
                           "There is nothing here. If you followed a link from an email, it may "
                           "have expired or been mistyped.");
            else
                error_page(srv, req, resp, 403, "Not allowed",
                           "Your role does not allow this. Ask the campaign's owner or an "
                           "administrator.");
            return;
        }
    }
    if ((route->flags & ROUTE_CSRF) && !session_csrf_ok(req)) {
        error_page(srv, req, resp, 403, "Form expired",
                   "This form has expired or was sent from another site. Go back, reload the "
                   "page and try again.");
        return;
    }
    route->handler(req, resp);
}

/* https_only: the public base URL is https://, so every page says so to the
 * browser (HSTS, RFC 6797: a year, subdomains not included, since muster does
 * not know what else runs on them). */
static enum MHD_Result queue(struct MHD_Connection *conn, struct http_response *resp,
                             int https_only)
{
    size_t len = resp->body.len;
    char *data = buf_detach(&resp->body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    /* A redirect without a body is never rendered: it carries what the
     * browser applies to the navigation (Location, Referrer-Policy, which
     * keeps the token out of the next site's Referer, and Cache-Control) and
     * none of the document headers. That is 230 bytes and four header
     * copies less on every one-click link. */
    int document = !(resp->status >= 300 && resp->status < 400 && len == 0);
    if (document) {
        MHD_add_response_header(r, "Content-Type",
                                resp->content_type ? resp->content_type
                                                   : "text/html; charset=utf-8");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    }
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    int has_cache = 0, has_csp = 0;
    for (size_t i = 0; i < resp->header_count; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
        has_cache |= strcmp(resp->headers[i].name, "Cache-Control") == 0;
        has_csp |= strcmp(resp->headers[i].name, "Content-Security-Policy") == 0;
    }
    if (!has_cache)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (document && https_only)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    if (document && !has_csp) {
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
                                "frame-ancestors 'none'");
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static int deferred_run(struct store *st, void *arg)
{
    struct request_ctx *ctx = arg;
    return ctx->deferred.run(st, ctx->deferred.arg);
}

/* Tells a worker's event loop to look again (its phase, or a resumed
 * connection). */
static void wake_worker(struct http_worker *w)
{
    uint64_t one = 1;
    if (write(w->wake_fd, &one, sizeof one) < 0)
        log_error("http.wake_failed", "error=\"%s\"", strerror(errno));
}

/* From the group-commit thread: the job is durable (or failed). */
static void deferred_done(void *arg, int rc)
{
    struct request_ctx *ctx = arg;
    ctx->defer_rc = rc;
    atomic_store(&ctx->defer_state, DEFER_DONE);
    MHD_resume_connection(ctx->connection);
    wake_worker(ctx->worker); /* MHD marks it resumed; its loop must look again */
}

/* On a work thread: the job's CPU work. */
static void deferred_work(void *arg)
{
    struct request_ctx *ctx = arg;
    ctx->defer_rc = ctx->deferred.work(ctx->deferred.arg);
}

/* On the work thread after deferred_work, or on the thread stopping the pool
 * for a job that never ran. */
static void deferred_work_done(void *arg, enum workpool_outcome outcome)
{
    struct request_ctx *ctx = arg;
    deferred_done(ctx, outcome == WORKPOOL_RAN ? ctx->defer_rc : -1);
}

/* Hands a suspended connection's job to the group commit or the work pool;
 * when neither takes it, resumes the connection at once with a failure (the
 * server is stopping) or a full queue (pool_full). */
static void submit_deferred(struct http_server *srv, struct request_ctx *ctx)
{
    struct app *app = srv->app;
    if (ctx->deferred.gather) {
        struct http_worker *w = ctx->worker;
        ctx->gathered_next = NULL;
        *w->gathered_tail = ctx;
        w->gathered_tail = &ctx->gathered_next;
        return;
    }
    if (ctx->deferred.work) {
        int rc =
            srv->pool ? workpool_submit(srv->pool, deferred_work, deferred_work_done, ctx) : -1;
        if (rc == WORKPOOL_FULL)
            ctx->pool_full = 1;
        if (rc != 0)
            deferred_done(ctx, -1);
        return;
    }
    if (!app->committer ||
        group_commit_submit(app->committer, deferred_run, deferred_done, ctx) != 0)
        deferred_done(ctx, -1); /* shutting down: finish with an error */
}

/* A request whose connection closed while it waited for its gathered read. */
static void gathered_remove(struct request_ctx *ctx)
{
    struct http_worker *w = ctx->worker;
    for (struct request_ctx **link = &w->gathered; *link; link = &(*link)->gathered_next)
        if (*link == ctx) {
            *link = ctx->gathered_next;
            if (w->gathered_tail == &ctx->gathered_next)
                w->gathered_tail = link;
            return;
        }
}

/* After a turn of the worker's event loop: the gathered reads of the
 * requests that turn left waiting, one run_many per gather and up to
 * HTTP_GATHER_MAX requests at a time. Such a request is not suspended (that
 * costs two epoll_ctl calls, a fifth of a click's time): its access handler
 * returned without an answer, which MHD 0.9.75 answers by calling it again in
 * every later MHD_run until it queues one ("the callback can be called again
 * immediately", microhttpd.h), and the next call finishes it. Returns whether
 * any request is ready to be finished. */
static int run_gathered(struct http_worker *w)
{
    struct request_ctx *list = w->gathered;
    if (!list)
        return 0;
    w->gathered = NULL;
    w->gathered_tail = &w->gathered;
    struct store *st = app_thread_store();
    while (list) {
        const struct http_gather *gather = list->deferred.gather;
        struct request_ctx *batch[HTTP_GATHER_MAX];
        void *args[HTTP_GATHER_MAX];
        int rcs[HTTP_GATHER_MAX];
        size_t n = 0;
        for (struct request_ctx **link = &list; *link && n < HTTP_GATHER_MAX;) {
            struct request_ctx *ctx = *link;
            if (ctx->deferred.gather != gather) {
                link = &ctx->gathered_next;
                continue;
            }
            *link = ctx->gathered_next;
            batch[n] = ctx;
            args[n] = ctx->deferred.arg;
            rcs[n] = -1; /* no database: every read fails */
            n++;
        }
        if (st)
            gather->run_many(st, args, rcs, n);
        for (size_t i = 0; i < n; i++) {
            batch[i]->defer_rc = rcs[i];
            atomic_store(&batch[i]->defer_state, DEFER_DONE);
        }
    }
    return 1;
}

static void release_deferred(struct request_ctx *ctx)
{
    if (ctx->deferred.release && ctx->deferred.arg)
        ctx->deferred.release(ctx->deferred.arg);
    ctx->deferred.arg = NULL;
}

/* ---- connections: per-address limit, deadlines ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when a line may be logged now; *skipped: the lines not logged since. */
static int log_gate_open(struct log_gate *g, long *skipped)
{
    int64_t now = mono_ms();
    long long next = atomic_load(&g->next_ms);
    if (now < next || !atomic_compare_exchange_strong(&g->next_ms, &next, now + 10000)) {
        atomic_fetch_add(&g->skipped, 1);
        return 0;
    }
    *skipped = atomic_exchange(&g->skipped, 0);
    return 1;
}

/* MHD's accept policy: refuses at once an address that holds its limit (no
 * memory is spent on it). connection_notify counts, and has the last word. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    struct http_server *srv = cls;
    (void)len;
    if (!connlimit_full(srv->per_address, addr))
        return MHD_YES;
    long skipped;
    if (log_gate_open(&srv->refused_log, &skipped)) {
        char text[64];
        connlimit_format(addr, text, sizeof text);
        log_warn("http.connection_refused",
                 "address=%s limit=%d reason=connections_per_address not_logged_before=%ld", text,
                 srv->app->cfg->max_connections_per_ip, skipped);
    }
    return MHD_NO;
}

/* Cuts a connection at once: MHD sees the end of its input and closes it. */
static void cut_connection(struct conn_state *cs)
{
    cs->deadline_ms = 0;
    if (shutdown(cs->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
        log_error("http.shutdown_failed", "error=\"%s\"", strerror(errno));
}

static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    struct http_worker *w = cls;
    struct http_server *srv = w->srv;
    struct conn_state *cs = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (!cs)
            return;
        connlimit_leave(srv->per_address, cs->counted);
        if (cs->prev)
            cs->prev->next = cs->next;
        else
            w->conns = cs->next;
        if (cs->next)
            cs->next->prev = cs->prev;
        free(cs);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    cs = calloc(1, sizeof *cs);
    if (!cs) {
        if (fd && shutdown(fd->connect_fd, SHUT_RDWR) != 0)
            log_error("http.shutdown_failed", "error=\"%s\"", strerror(errno));
        return;
    }
    cs->fd = fd ? fd->connect_fd : -1;
    cs->deadline_ms = mono_ms() + srv->head_timeout_ms;
    cs->next = w->conns;
    if (w->conns)
        w->conns->prev = cs;
    w->conns = cs;
    *socket_context = cs;
    if (addr && addr->client_addr) {
        const struct sockaddr *sa = addr->client_addr;
        memcpy(&cs->addr, sa,
               sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
        /* Another thread may have counted one more since accept_policy. */
        if (connlimit_enter(srv->per_address, sa, &cs->counted) != 0) {
            accept_policy(srv, sa, 0); /* logs it */
            cut_connection(cs);
        }
    }
}

static struct conn_state *conn_state_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Every SWEEP_MS: cuts the connections whose head or body is late. A
 * slowloris sending one byte a second is never idle long enough for MHD's
 * timeout; this deadline does not move while bytes trickle in. */
static void sweep_deadlines(struct http_worker *w, int64_t now)
{
    struct http_server *srv = w->srv;
    for (struct conn_state *cs = w->conns; cs; cs = cs->next) {
        if (!cs->deadline_ms || now < cs->deadline_ms)
            continue;
        long skipped;
        if (log_gate_open(&srv->cut_log, &skipped)) {
            char text[64];
            connlimit_format((const struct sockaddr *)&cs->addr, text, sizeof text);
            log_warn("http.request_cut", "address=%s late=%s not_logged_before=%ld", text,
                     cs->in_body ? "body" : "head", skipped);
        }
        cut_connection(cs);
    }
}

/* The answer to a request refused before its body was read: the
 * connection closes after it (the body is not read). */
static enum MHD_Result answer_early(struct http_worker *w, struct MHD_Connection *conn,
                                    const char *method, const char *url, const struct framing *f)
{
    struct http_server *srv = w->srv;
    struct app *app = srv->app;
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.connection = conn;
    req.method = method;
    req.path = url;
    req.body = "";
    req.app = app;
    req.now = tz_now();
    struct http_response resp;
    memset(&resp, 0, sizeof resp);
    buf_init(&resp.body, 0);
    resp.status = 200;
    resp.content_type = "text/html; charset=utf-8";
    if (f->status) {
        long skipped;
        if (log_gate_open(&srv->framing_log, &skipped)) {
            char problem[160];
            log_warn("http.request_refused",
                     "status=%d address=%s problem=%s not_logged_before=%ld", f->status,
                     http_client_ip(&req), log_quote(f->problem, problem, sizeof problem), skipped);
        }
        error_page(srv, &req, &resp, f->status,
                   f->status == 411 ? "Length required" : "Bad request", f->problem);
    } else {
        dispatch(srv, &req, &resp, 1); /* 404, 405 or 413, before any handler */
    }
    http_set_header(&resp, "Connection", "close");
    int status = resp.status;
    enum MHD_Result rc = queue(conn, &resp, strncmp(app->cfg->base_url, "https://", 8) == 0);
    for (size_t i = 0; i < resp.header_count; i++)
        free(resp.headers[i].value);
    buf_release(&resp.body);
    record_metrics(app, status, 0);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_worker *worker = cls;
    struct app *app = worker->srv->app;
    struct request_ctx *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        buf_init(&ctx->body, HTTP_MAX_BODY);
        ctx->start_us = tz_now_ms() * 1000;
        *con_cls = ctx;
        /* The head is complete: refuse it now if it is framed wrong or
         * announces a body too large (before a 100 Continue, and without
         * reading the body), else give the body its deadline. */
        struct framing f;
        framing_check(conn, method, url, version, worker->srv->framing_layout, &f);
        if (f.status || f.content_length > HTTP_MAX_BODY)
            return answer_early(worker, conn, method, url, &f);
        struct conn_state *cs = conn_state_of(conn);
        if (cs) {
            cs->in_body = f.content_length > 0;
            cs->deadline_ms = cs->in_body ? mono_ms() + worker->srv->body_timeout_ms +
                                                f.content_length * 1000 / BODY_BYTES_PER_SECOND
                                          : 0;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!ctx->too_large && buf_append(&ctx->body, upload_data, *upload_data_size) != 0)
            ctx->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (atomic_load(&ctx->defer_state) == DEFER_WAITING)
        return MHD_YES; /* its gathered read is not made yet (run_gathered) */
    struct conn_state *cs = conn_state_of(conn);
    if (cs)
        cs->deadline_ms = 0; /* the request is complete */
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.connection = conn;
    req.method = method;
    req.path = url;
    req.body = buf_cstr(&ctx->body);
    req.body_len = ctx->body.len;
    req.app = app;
    req.now = tz_now();
    req.store = app_thread_store();

    struct http_response resp;
    memset(&resp, 0, sizeof resp);
    buf_init(&resp.body, 0);
    resp.status = 200;
    resp.content_type = "text/html; charset=utf-8";
    if (atomic_load(&ctx->defer_state) == DEFER_DONE) {
        /* A durable write or a work thread's result must be seen by what
         * the answer reads; a gathered read was made in the shared
         * snapshot, which the answer keeps reading in. */
        if (req.store && !ctx->deferred.gather)
            store_snapshot_end(req.store);
        if (ctx->pool_full) {
            /* Every work thread is busy and the queue is full: say so now
             * rather than make the client (and its connection) wait. */
            atomic_fetch_add(&app->metrics.work_queue_full, 1);
            error_page(worker->srv, &req, &resp, 503, "Busy",
                       "The server is busy. Try again in a moment.");
            http_set_header(&resp, "Retry-After", "1");
            ctx->pool_full = 0;
        } else {
            ctx->deferred.finish(&req, &resp, ctx->deferred.arg, ctx->defer_rc);
        }
        release_deferred(ctx);
        atomic_store(&ctx->defer_state, DEFER_NONE);
    } else {
        dispatch(worker->srv, &req, &resp, ctx->too_large);
    }
    if (resp.has_deferred) {
        for (size_t i = 0; i < resp.header_count; i++)
            free(resp.headers[i].value);
        buf_release(&resp.body);
        ctx->deferred = resp.deferred;
        ctx->connection = conn;
        ctx->worker = worker;
        atomic_store(&ctx->defer_state, DEFER_WAITING);
        if (!ctx->deferred.gather)
            MHD_suspend_connection(conn);
        submit_deferred(worker->srv, ctx);
        return MHD_YES;
    }
    if (buf_failed(&resp.body)) {
        buf_release(&resp.body);
        buf_init(&resp.body, 0);
        http_text(&resp, 500, "internal error: response too large\n");
    }
    int status = resp.status;
    enum MHD_Result rc = queue(conn, &resp, strncmp(app->cfg->base_url, "https://", 8) == 0);
    for (size_t i = 0; i < resp.header_count; i++)
        free(resp.headers[i].value);
    buf_release(&resp.body);
    record_metrics(app, status, tz_now_ms() * 1000 - ctx->start_us);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)code;
    /* A kept-alive connection: the next head has its own deadline. */
    struct conn_state *cs = conn_state_of(conn);
    if (cs) {
        cs->deadline_ms = mono_ms() + KEEPALIVE_SECONDS * 1000;
        cs->in_body = 0;
    }
    struct request_ctx *ctx = *con_cls;
    if (ctx) {
        if (ctx->deferred.gather && atomic_load(&ctx->defer_state) == DEFER_WAITING)
            gathered_remove(ctx); /* the client left before the read */
        release_deferred(ctx);
        buf_release(&ctx->body);
        free(ctx);
        *con_cls = NULL;
    }
}

/* ---- the event loops ----
 *
 * One MHD daemon per thread, each in "external" epoll mode, all sharing one
 * listening socket; each thread waits on its daemon's epoll descriptor with
 * poll() and then calls MHD_run, which never blocks. MHD 0.9.75's own
 * polling threads can sleep with work waiting: its epoll loop calls
 * epoll_wait again, with the blocking timeout, whenever a call returned
 * exactly its 128-event maximum, so a thread whose 128 connections are all
 * ready at once sleeps until the connection timeout (bench/click.sh at 256
 * connections froze in about one run in ten). poll() on the epoll descriptor
 * only looks; MHD_run's epoll_wait calls all have a zero timeout. */

/* MHD's next timeout, and never later than the next sweep while this
 * worker has connections. */
static int poll_timeout_ms(struct http_worker *w, int64_t now)
{
    MHD_UNSIGNED_LONG_LONG ms;
    long long limit = 60000;
    if (w->conns)
        limit = w->next_sweep_ms > now ? w->next_sweep_ms - now : 0;
    if (MHD_get_timeout(w->daemon, &ms) != MHD_YES)
        return w->conns ? (int)limit : -1;
    return ms > (MHD_UNSIGNED_LONG_LONG)limit ? (int)limit : (int)ms;
}

static void *worker_main(void *arg)
{
    struct http_worker *w = arg;
    struct http_server *srv = w->srv;
    struct pollfd fds[2] = {{w->epoll_fd, POLLIN, 0}, {w->wake_fd, POLLIN, 0}};
    int gathered = 0;
    for (;;) {
        int phase = atomic_load(&srv->phase);
        if (phase != PHASE_RUN && !w->quiesced) {
            /* Here, between two MHD_run calls: MHD's quiesce is not safe
             * while another thread runs the daemon. */
            MHD_quiesce_daemon(w->daemon);
            pthread_mutex_lock(&srv->lock);
            w->quiesced = 1;
            pthread_cond_broadcast(&srv->quiesced_cv);
            pthread_mutex_unlock(&srv->lock);
        }
        if (phase == PHASE_STOP)
            break;
        /* A snapshot older than its age is ended between rounds; one that
         * is younger is kept while events keep coming, and ended before the
         * thread waits for more. */
        app_thread_snapshot_check(0);
        int64_t now = mono_ms();
        if (now >= w->next_sweep_ms) {
            sweep_deadlines(w, now);
            w->next_sweep_ms = now + SWEEP_MS;
        }
        int ready = poll(fds, 2, 0);
        if (ready == 0 && !gathered) {
            int timeout_ms = poll_timeout_ms(w, now);
            if (timeout_ms != 0) {
                app_thread_snapshot_check(1);
                ready = poll(fds, 2, timeout_ms);
            }
        }
        if (ready > 0 && (fds[1].revents & POLLIN)) {
            uint64_t count; /* only this thread reads it: never EAGAIN here */
            if (read(w->wake_fd, &count, sizeof count) < 0)
                log_error("http.wake_failed", "error=\"%s\"", strerror(errno));
        }
        MHD_run(w->daemon);
        /* Requests whose gathered read is made are answered by the next
         * MHD_run: no waiting for events. */
        gathered = run_gathered(w);
    }
    app_thread_store_close();
    return NULL;
}

static void wake_workers(struct http_server *srv, enum server_phase phase)
{
    atomic_store(&srv->phase, phase);
    for (int i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].started)
            wake_worker(&srv->workers[i]);
}

/* Binds the listening socket: SO_REUSEADDR (restarts do not wait for old
 * connections), not SO_REUSEPORT, so a second `muster serve` on the same
 * address fails instead of silently taking half of the connections. */
static int open_listener(const struct sockaddr_storage *ss, char *err, unsigned long n,
                         const char *address)
{
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
        bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, n, "cannot listen on %s: %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* After the workers stopped (or never started). Every daemon is quiesced
 * first, so that none closes the listening socket the others share. */
static void server_free(struct http_server *srv)
{
    workpool_free(srv->pool); /* stopped already when the workers ran */
    for (int i = 0; i < srv->nworkers; i++) {
        struct http_worker *w = &srv->workers[i];
        if (w->daemon && !w->quiesced)
            MHD_quiesce_daemon(w->daemon);
        if (w->daemon)
            MHD_stop_daemon(w->daemon);
        if (w->wake_fd >= 0)
            close(w->wake_fd);
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    connlimit_free(srv->per_address); /* after MHD closed every connection */
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->quiesced_cv);
    free(srv);
}

static int parse_listen(const char *address, struct sockaddr_storage *ss, char *err,
                        unsigned long n)
{
    char host[256];
    int port;
    if (config_split_listen(address, host, sizeof host, &port) != 0) {
        snprintf(err, n, "MUSTER_LISTEN: expected host:port, got '%s'", address);
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (host[0] == '[' && strlen(host) > 2) {
        char v6[64];
        snprintf(v6, sizeof v6, "%.*s", (int)strlen(host) - 2, host + 1);
        if (inet_pton(AF_INET6, v6, &sin6->sin6_addr) == 1) {
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons((uint16_t)port);
            return 0;
        }
    }
    snprintf(err, n, "MUSTER_LISTEN: '%s' is not an IP address", host);
    return -1;
}

/* Raises the soft limit on open files to the hard one (1024 by default
 * would let about a thousand idle connections make the server unreachable),
 * logs what it became, and returns how many client connections fit in it,
 * at most 10000. */
static unsigned connection_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_error("http.nofile_unknown", "error=\"%s\"", strerror(errno));
        return 1024 - FD_RESERVE;
    }
    rlim_t was = rl.rlim_cur;
    /* An unlimited hard limit still cannot pass the kernel's nr_open. */
    rlim_t target = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            log_error("http.nofile_not_raised", "soft=%llu hard=%llu error=\"%s\"",
                      (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
            rl.rlim_cur = was;
        }
    }
    unsigned long long files = rl.rlim_cur;
    unsigned long long budget = files > 2 * FD_RESERVE ? files - FD_RESERVE : files / 2;
    if (budget > 10000)
        budget = 10000;
    log_info("http.nofile", "soft=%llu was=%llu hard=%llu connections=%llu", files,
             (unsigned long long)was, (unsigned long long)rl.rlim_max, budget);
    return (unsigned)budget;
}

struct http_server *http_server_start(struct app *app, const struct http_server_config *hc,
                                      const struct http_server_size *size, char *err,
                                      unsigned long n)
{
    int threads = size->threads;
    struct sockaddr_storage ss;
    if (parse_listen(app->cfg->listen, &ss, err, n) != 0)
        return NULL;
    struct http_server *srv = calloc(1, sizeof *srv + (size_t)threads * sizeof srv->workers[0]);
    if (!srv) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    srv->app = app;
    srv->hc = *hc;
    srv->nworkers = threads;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->quiesced_cv, NULL);
    for (int i = 0; i < threads; i++)
        srv->workers[i].wake_fd = -1;
    srv->head_timeout_ms = (int64_t)app->cfg->header_timeout * 1000;
    srv->body_timeout_ms = (int64_t)app->cfg->body_timeout * 1000;
    srv->framing_layout = framing_layout_known();
    if (!srv->framing_layout)
        log_warn("http.framing_partial",
                 "libmicrohttpd=%s checks=no_bare_lf_or_folded_line_check (known: 0.9.75)",
                 MHD_get_version());
    srv->per_address = connlimit_new(app->cfg->max_connections_per_ip, app->cfg->trusted_proxies);
    if (!srv->per_address) {
        snprintf(err, n, "out of memory");
        server_free(srv);
        return NULL;
    }
    unsigned budget = connection_budget();
    unsigned per_worker = budget / (unsigned)threads ? budget / (unsigned)threads : 1;
    srv->listen_fd = open_listener(&ss, err, n, app->cfg->listen);
    if (srv->listen_fd < 0) {
        server_free(srv);
        return NULL;
    }
    /* Nice 10: the work threads get about a tenth of a core that an event
     * loop also wants, so a flood of logins slows the logins, not the
     * one-click links and pledges (bench/login_latency.sh). */
    srv->pool = workpool_start(size->work_threads, size->work_queue, 10, err, n);
    if (!srv->pool) {
        server_free(srv);
        return NULL;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    for (int i = 0; i < threads; i++) {
        struct http_worker *w = &srv->workers[i];
        w->srv = srv;
        w->gathered_tail = &w->gathered;
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        /* At most 10000 connections in all (connection_budget); 16 KiB
         * each holds any request head we accept (bodies go to the request
         * context, not MHD's pool). Strict: an HTTP/1.1 request without
         * Host, or with a space in its URL, is refused by MHD itself. */
        w->daemon = MHD_start_daemon(
            flags, 0, &accept_policy, srv, &on_request, w, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
            MHD_OPTION_NOTIFY_COMPLETED, &on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
            &connection_notify, w, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)KEEPALIVE_SECONDS,
            MHD_OPTION_CONNECTION_LIMIT, per_worker, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)16384, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
            w->daemon ? MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        if (w->wake_fd < 0 || !info) {
            snprintf(err, n, "cannot start the HTTP server on %s", app->cfg->listen);
            http_server_stop(srv);
            return NULL;
        }
        w->epoll_fd = info->epoll_fd;
        w->started = pthread_create(&w->thread, NULL, worker_main, w) == 0;
        if (!w->started) {
            snprintf(err, n, "cannot start an HTTP thread");
            http_server_stop(srv);
            return NULL;
        }
    }
    return srv;
}

/* ---- without a listening socket ----
 *
 * The same daemon, routes and loop for fuzz/fuzz_http_request.c: MHD is given
 * each connection (MHD_add_connection) and runs in the caller's thread, so a
 * request's raw bytes go through MHD's parser, the router and the handlers
 * with no network. */

struct http_server *http_server_start_unlistened(struct app *app,
                                                 const struct http_server_config *hc, char *err,
                                                 unsigned long n)
{
    struct http_server *srv = calloc(1, sizeof *srv + sizeof srv->workers[0]);
    if (!srv) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    srv->app = app;
    srv->hc = *hc;
    srv->nworkers = 1;
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->quiesced_cv, NULL);
    struct http_worker *w = &srv->workers[0];
    w->srv = srv;
    w->gathered_tail = &w->gathered;
    w->quiesced = 1; /* it has no listening socket to give back */
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
        &on_request, w, MHD_OPTION_NOTIFY_COMPLETED, &on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        w->daemon ? MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (w->wake_fd < 0 || !info) {
        snprintf(err, n, "cannot start the HTTP daemon");
        server_free(srv);
        return NULL;
    }
    w->epoll_fd = info->epoll_fd;
    return srv;
}

int http_server_serve_connection(struct http_server *srv, int fd, void (*drain)(void *ctx),
                                 void *ctx, int idle_ms, int timeout_ms)
{
    struct http_worker *w = &srv->workers[0];
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(w->daemon, fd, (const struct sockaddr *)&peer, sizeof peer) != MHD_YES)
        return -1; /* MHD closed fd */
    int64_t deadline = tz_now_ms() + timeout_ms;
    struct pollfd fds[2] = {{w->epoll_fd, POLLIN, 0}, {w->wake_fd, POLLIN, 0}};
    for (;;) {
        MHD_run(w->daemon);
        if (run_gathered(w))
            continue; /* the gathered requests are answered by the next MHD_run */
        app_thread_snapshot_check(1);
        drain(ctx);
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!info || info->num_connections == 0)
            return 0;
        int64_t left = deadline - tz_now_ms();
        if (left <= 0)
            return 1;
        int ready = poll(fds, 2, left < idle_ms ? (int)left : idle_ms);
        if (ready == 0)
            return 1; /* nothing happened for idle_ms: a request MHD still waits on */
        if (ready > 0 && (fds[1].revents & POLLIN)) {
            uint64_t count;
            if (read(w->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                log_error("http.wake_failed", "error=\"%s\"", strerror(errno));
        }
    }
}

void http_server_quiesce(struct http_server *srv)
{
    if (!srv || atomic_load(&srv->phase) != PHASE_RUN)
        return;
    wake_workers(srv, PHASE_QUIESCE);
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->nworkers; i++)
        while (srv->workers[i].started && !srv->workers[i].quiesced)
            pthread_cond_wait(&srv->quiesced_cv, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    http_server_quiesce(srv);
    /* The work running finishes and the work queued is cancelled; either
     * way its connection is resumed while the event loops still run. */
    if (srv->pool)
        workpool_stop(srv->pool);
    wake_workers(srv, PHASE_STOP);
    for (int i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].thread, NULL);
    server_free(srv);
}
