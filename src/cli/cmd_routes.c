/*
 * cmd_routes: `muster routes` prints the HTTP route table, one route a line:
 * METHOD PATTERN FLAGS ACCESS (flags: public, admin, api, csrf; access: the
 * action service/access.c decides on, "none" for a public route). The auth
 * tests read it, so a new /admin or /api route cannot go untested.
 */
#include <stdio.h>

#include "app/routes.h"
#include "cli/commands.h"
#include "http/http.h"
#include "service/access.h"

int cmd_routes(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argv;
    if (argc != 1)
        return cli_fail(EXIT_USAGE, "usage: muster routes");
    for (size_t i = 0; i < app_route_count; i++) {
        const struct route *r = &app_routes[i];
        printf("%s %s %s%s %s\n", r->method, r->pattern,
               r->flags & ROUTE_ADMIN ? "admin"
               : r->flags & ROUTE_API ? "api"
                                      : "public",
               r->flags & ROUTE_CSRF ? ",csrf" : "", access_action_name(r->access));
    }
    return EXIT_OK;
}
