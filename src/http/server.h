/*
 * server: the HTTP server of `muster serve` on libmicrohttpd, one event loop
 * per thread around one listening socket (docs/ARCHITECTURE.md, "The HTTP
 * server"). It bounds request bodies, resolves the client address (believing
 * X-Forwarded-For only from MUSTER_TRUSTED_PROXIES), routes, enforces each
 * route's auth and CSRF flags, and records metrics.
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

/* Starts listening on app->cfg->listen and answers with hc's routes (hc is
 * copied). NULL with a message in err on failure. */
struct http_server *http_server_start(struct app *app, const struct http_server_config *hc,
                                      int threads, char *err, unsigned long n);
/* Stops accepting new connections (in-flight requests go on). */
void http_server_quiesce(struct http_server *srv);
/* Stops accepting, finishes in-flight requests, and frees the server. */
void http_server_stop(struct http_server *srv);

#endif
