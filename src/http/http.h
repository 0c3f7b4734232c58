/*
 * http: the request and response that every handler sees, and the route
 * table's types. Handlers never touch libmicrohttpd: server.c turns an MHD
 * connection into a struct http_request, calls the handler the router picked,
 * and queues the struct http_response it filled. Everything a handler
 * allocates for the response lives in resp (freed by the server). The table
 * of routes itself is the application's (src/app/routes.c): http/ never
 * names a handler.
 */
#ifndef MUSTER_HTTP_HTTP_H
#define MUSTER_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "service/access.h"

struct store;
struct app;
struct http_request;
struct http_response;

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 8
#define HTTP_MAX_BODY (256 * 1024)

struct http_request {
    void *connection;          /* the MHD connection (server.c only) */
    const char *method;        /* "GET", "POST", "HEAD", ... */
    const char *path;
    const char *params[HTTP_MAX_PARAMS]; /* :name segments of the route, in order */
    size_t param_count;
    const char *body;          /* NUL-terminated; "" without a body */
    size_t body_len;
    char client_ip[64];        /* read with http_client_ip (filled on first use) */
    struct store *store;       /* this thread's store handle */
    struct app *app;
    int64_t organizer_id;      /* set by the router for ORGANIZER routes */
    int by_session;            /* organizer_id came from a session cookie */
    int64_t now;
};

struct http_header {
    const char *name;
    char *value; /* owned */
};

/* An answer that waits, with the connection suspended and the event loop
 * free for other requests. Either for a durable write: `run` executes in the
 * next group commit (store/group_commit.h); or for CPU work that must not hold
 * an event loop (a password hash): `work` runs on one of the server's work
 * threads (core/workpool.h) and run is NULL. Then `finish` fills the response
 * on the same request with run's or work's result, -1 when the commit failed
 * or the server stopped before the work ran. When the work threads' queue is
 * full, the server answers 503 with Retry-After itself, at once, and finish is
 * not called. `release` frees arg, in every case.
 *
 * Or for a read that the requests of one moment share (`gather`, with run and
 * work NULL): the worker's event loop collects the requests that deferred to
 * the same gather during one turn, then calls gather->run_many once for them
 * (at most HTTP_GATHER_MAX at a time) on its own thread and store, and
 * finishes each in its next turn. On a database server that turns a round
 * trip per request into one per turn (pages/action.c's one-click links). */
struct http_gather {
    /* Sets rcs[i] to 0, or -1 when the read for args[i] failed. */
    void (*run_many)(struct store *st, void *const *args, int *rcs, size_t n);
};
#define HTTP_GATHER_MAX 128

struct http_deferred {
    int (*run)(struct store *st, void *arg);
    void (*finish)(struct http_request *req, struct http_response *resp, void *arg, int rc);
    void (*release)(void *arg);
    void *arg;
    int (*work)(void *arg);
    const struct http_gather *gather;
};

struct http_response {
    struct http_deferred deferred; /* set by http_defer */
    int has_deferred;
    int status;
    const char *content_type;  /* static string */
    struct buf body;
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t header_count;
};

/* Request accessors (server.c). NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);
const char *http_query(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);
/* The client's address after MUSTER_TRUSTED_PROXIES (a trusted proxy's
 * X-Forwarded-For), or "unknown". Worked out on the first call: most requests
 * (a one-click link) never need it. */
const char *http_client_ip(struct http_request *req);
int http_is_head(const struct http_request *req);

/* Response helpers. */
void http_set_header(struct http_response *resp, const char *name, const char *value);
void http_redirect(struct http_response *resp, int status, const char *location);
void http_text(struct http_response *resp, int status, const char *text);
void http_json(struct http_response *resp, int status, const char *json);
/* Answers later (see struct http_deferred); takes ownership of d->arg. */
void http_defer(struct http_response *resp, const struct http_deferred *d);

typedef void (*http_handler_fn)(struct http_request *req, struct http_response *resp);

enum route_flags {
    ROUTE_PUBLIC = 0,
    ROUTE_ADMIN = 1 << 0,   /* organizer session, else 303 to /login */
    ROUTE_API = 1 << 1,     /* organizer session or Bearer token, else 401 */
    ROUTE_CSRF = 1 << 2,    /* form post: csrf field must match the cookie */
    ROUTE_SNAPSHOT = 1 << 3, /* reads through the shared read snapshot
                              * (app_snapshot_enter); every other route ends
                              * it before its handler runs */
};

struct route {
    const char *method;     /* "GET" also answers HEAD */
    const char *pattern;    /* "/c/:slug/pledge": ":x" matches one non-empty segment */
    http_handler_fn handler;
    unsigned flags;
    /* For ROUTE_ADMIN and ROUTE_API: what the route does, which server.c
     * asks service/access.c about before the handler runs (the campaign is
     * the route's first parameter, :slug). ACCESS_NONE on such a route is
     * refused. */
    enum access_action access;
};

/* Finds the route for method and path in routes[route_count] (the
 * application's table, tried in order: src/app/routes.c); fills req->params.
 * Returns the route, or NULL with *path_known set when the path matched
 * another method (405). */
const struct route *http_route_match(const struct route *routes, size_t route_count,
                                     struct http_request *req, int *path_known);

#endif
