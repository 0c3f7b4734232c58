/*
 * server: the HTTP server of `muster serve` on libmicrohttpd, one event loop
 * per thread around one listening socket (docs/ARCHITECTURE.md, "The HTTP
 * server"). It bounds request bodies, resolves the client address (believing
 * X-Forwarded-For only from MUSTER_TRUSTED_PROXIES), routes, enforces each
 * route's auth and CSRF flags, and records metrics.
 */
#ifndef MUSTER_HTTP_SERVER_H
#define MUSTER_HTTP_SERVER_H

struct app;
struct http_server;

/* Starts listening on app->cfg->listen. NULL with a message in err on failure. */
struct http_server *http_server_start(struct app *app, int threads, char *err, unsigned long n);
/* Stops accepting new connections (in-flight requests go on). */
void http_server_quiesce(struct http_server *srv);
/* Stops accepting, finishes in-flight requests, and frees the server. */
void http_server_stop(struct http_server *srv);

#endif
