/*
 * cmd_routes: `muster routes` prints the HTTP route table, one route a line:
 * METHOD PATTERN FLAGS (public, admin, api, csrf). The auth tests read it, so
 * every /admin and /api route is tested without being listed twice.
 */
#include <stdio.h>

#include "app/routes.h"
#include "cli/commands.h"
#include "http/http.h"

int cmd_routes(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster routes");
    for (size_t i = 0; i < app_route_count; i++) {
        const struct route *r = &app_routes[i];
        printf("%s %s %s%s\n", r->method, r->pattern,
               r->flags & ROUTE_ADMIN ? "admin"
               : r->flags & ROUTE_API ? "api"
                                      : "public",
               r->flags & ROUTE_CSRF ? ",csrf" : "");
    }
    return EXIT_OK;
}
