/*
 * routes: the application's wiring of the HTTP server: the route table (which
 * handler of src/pages/ answers which method and path, and who may call it)
 * and the configuration `muster serve` starts the server with. http/ knows
 * only the mechanics (http.h's struct route, the router, server.c); pages/
 * knows only its handlers; this is the one place that joins them.
 */
#ifndef MUSTER_APP_ROUTES_H
#define MUSTER_APP_ROUTES_H

#include <stddef.h>

#include "http/http.h"
#include "http/server.h"

/* Every route, in the order the router tries them. */
extern const struct route app_routes[];
extern const size_t app_route_count;

/* The server's configuration for muster: app_routes, and page_error
 * (pages/layout.c) for the server's own error answers. */
extern const struct http_server_config app_http;

#endif
