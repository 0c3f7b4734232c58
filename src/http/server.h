/*
 * server: the HTTP server of `muster serve` on libmicrohttpd, one event loop
 * per thread around one listening socket (docs/ARCHITECTURE.md, "The HTTP
 * server"). It bounds request bodies, resolves the client address (believing
 * X-Forwarded-For only from MUSTER_TRUSTED_PROXIES), routes, enforces each
 * route's auth and CSRF flags, and records metrics. It runs the work pool that
 * takes CPU-heavy work (password checks) off the event loops (http_defer).
 */
#ifndef MUSTER_HTTP_SERVER_H
#define MUSTER_HTTP_SERVER_H

#include <stddef.h>

struct app;
struct http_request;
struct http_response;
struct http_server;
struct route;

/* Fills resp with an error page: the status, a short title and one sentence
 * for the reader, both plain text (the renderer escapes them). */
typedef void (*http_error_page_fn)(struct http_request *req, struct http_response *resp, int status,
                                   const char *title, const char *message);

/* What the application serves (src/app/ fills it): the server only knows
 * the mechanics. */
struct http_server_config {
    const struct route *routes; /* matched in order (http_route_match) */
    size_t route_count;
    /* The answers the server gives itself (404, 405, 403 for a stale form,
     * 413, 503). NULL: "STATUS TITLE" and the sentence as text/plain. */
    http_error_page_fn error_page;
};

/* How many threads the server runs. */
struct http_server_size {
    int threads;      /* event loops, one MHD daemon each */
    int work_threads; /* the work pool of deferred CPU work (http_deferred.work) */
    int work_queue;   /* jobs that may wait for a work thread; more get 503 */
};

/* Starts listening on app->cfg->listen and answers with hc's routes (hc is
 * copied). NULL with a message in err on failure. */
struct http_server *http_server_start(struct app *app, const struct http_server_config *hc,
                                      const struct http_server_size *size, char *err,
                                      unsigned long n);
/* For the in-process fuzzer (fuzz/fuzz_http_request.c): the same daemon,
 * routes and handlers with no listening socket and no thread of its own. It
 * has no work pool: deferred work (a login's password check) is answered as
 * when the server stops (its finish gets -1: 503). */
struct http_server *http_server_start_unlistened(struct app *app,
                                                 const struct http_server_config *hc, char *err,
                                                 unsigned long n);
/* Hands fd (a connected stream socket; the server owns it afterwards) to an
 * unlistened server as a client at 127.0.0.1 and runs the event loop in the
 * calling thread, calling drain(ctx) after every round, until the server has
 * no connection left (0), or nothing happened for idle_ms or timeout_ms
 * passed (1: the connection stays with the server, which closes it at its
 * timeout); -1 when MHD refused fd. */
int http_server_serve_connection(struct http_server *srv, int fd, void (*drain)(void *ctx),
                                 void *ctx, int idle_ms, int timeout_ms);
/* Stops accepting new connections (in-flight requests go on). */
void http_server_quiesce(struct http_server *srv);
/* Stops accepting, finishes in-flight requests, and frees the server: the
 * work running on the work pool finishes, the work still queued is answered
 * as failed (its finish gets -1), then the event loops stop. */
void http_server_stop(struct http_server *srv);

#endif
