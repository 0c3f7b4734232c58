/*
 * routes: every HTTP route muster answers, as data (PRODUCT.md, "HTTP
 * routes"), and the server configuration that hands them, with the HTML
 * error pages, to http/server.c. The router matches in order; the flags say
 * who may call a route (server.c enforces them before the handler runs). The
 * auth tests walk this table (`muster routes`), so a new /admin or /api route
 * is covered without listing it twice. This is wiring only: no handler lives
 * here.
 */
#include "app/routes.h"

#include "http/http.h"
#include "http/server.h"
#include "pages/pages.h"
#include "pages/admin.h"

const struct route app_routes[] = {
    {"GET", "/", handle_home, ROUTE_PUBLIC},
    {"GET", "/healthz", handle_healthz, ROUTE_PUBLIC},
    {"GET", "/metrics", handle_metrics, ROUTE_PUBLIC},
    {"GET", "/static/muster.css", handle_stylesheet, ROUTE_PUBLIC},
    {"GET", "/static/muster.js", handle_script, ROUTE_PUBLIC},
    /* supporters */
    {"GET", "/c/:slug", handle_pledge_page, ROUTE_PUBLIC},
    {"POST", "/c/:slug/pledge", handle_pledge_post, ROUTE_PUBLIC}, /* CSRF checked for forms */
    {"GET", "/c/:slug/calendar/:file", handle_calendar, ROUTE_PUBLIC},
    /* the banner other sites carry: the only routes that may run or be framed elsewhere */
    {"GET", "/c/:slug/embed.js", handle_embed_script, ROUTE_PUBLIC},
    {"GET", "/c/:slug/embed", handle_embed_page, ROUTE_PUBLIC},
    {"GET", "/static/embed.css", handle_embed_stylesheet, ROUTE_PUBLIC},
    {"GET", "/confirm/:token", handle_confirm_page, ROUTE_PUBLIC},
    {"POST", "/confirm/:token", handle_confirm_post, ROUTE_PUBLIC},
    {"GET", "/a/:token", handle_action, ROUTE_PUBLIC | ROUTE_SNAPSHOT},
    {"POST", "/a/:token/report", handle_action_report, ROUTE_PUBLIC},
    {"POST", "/a/:token/instance", handle_action_instance, ROUTE_PUBLIC},
    {"GET", "/u/:token", handle_unsubscribe_page, ROUTE_PUBLIC},
    {"POST", "/u/:token", handle_unsubscribe_post, ROUTE_PUBLIC},
    /* organizers: every /admin route is ROUTE_ADMIN, every POST also ROUTE_CSRF,
     * every /api route ROUTE_API. /admin/campaigns/new comes before
     * /admin/campaigns/:slug, which would match it. */
    {"GET", "/login", handle_login_page, ROUTE_PUBLIC},
    {"POST", "/login", handle_login_post, ROUTE_CSRF},
    {"POST", "/logout", handle_logout, ROUTE_CSRF},
    {"GET", "/static/admin.css", handle_admin_stylesheet, ROUTE_PUBLIC},
    {"GET", "/static/admin.js", handle_admin_script, ROUTE_PUBLIC},
    {"GET", "/admin", handle_admin_home, ROUTE_ADMIN},
    {"GET", "/admin/campaigns/new", handle_admin_campaign_new, ROUTE_ADMIN},
    {"POST", "/admin/campaigns", handle_admin_campaign_create, ROUTE_ADMIN | ROUTE_CSRF},
    {"GET", "/admin/campaigns/:slug", handle_admin_campaign, ROUTE_ADMIN},
    {"POST", "/admin/campaigns/:slug", handle_admin_campaign_update, ROUTE_ADMIN | ROUTE_CSRF},
    {"GET", "/admin/campaigns/:slug/edit", handle_admin_campaign_edit, ROUTE_ADMIN},
    {"GET", "/admin/campaigns/:slug/charts", handle_admin_charts, ROUTE_ADMIN},
    {"GET", "/admin/campaigns/:slug/export/supporters.csv", handle_admin_export_supporters,
     ROUTE_ADMIN},
    {"GET", "/admin/campaigns/:slug/export/clicks.csv", handle_admin_export_clicks, ROUTE_ADMIN},
    {"GET", "/admin/campaigns/:slug/import", handle_admin_import_page, ROUTE_ADMIN},
    {"POST", "/admin/campaigns/:slug/import", handle_admin_import_post, ROUTE_ADMIN | ROUTE_CSRF},
    {"POST", "/admin/campaigns/:slug/targets/:target/close", handle_admin_target_close,
     ROUTE_ADMIN | ROUTE_CSRF},
    {"POST", "/admin/campaigns/:slug/targets/:target/open", handle_admin_target_open,
     ROUTE_ADMIN | ROUTE_CSRF},
    {"GET", "/admin/supporters/erase", handle_admin_erase_page, ROUTE_ADMIN},
    {"POST", "/admin/supporters/erase", handle_admin_erase_post, ROUTE_ADMIN | ROUTE_CSRF},
    {"GET", "/api/v1/campaigns/:slug/stats", handle_api_stats, ROUTE_API},
    {"GET", "/api/v1/campaigns/:slug/timeseries", handle_api_timeseries, ROUTE_API},
};

const size_t app_route_count = sizeof app_routes / sizeof app_routes[0];

const struct http_server_config app_http = {
    .routes = app_routes,
    .route_count = sizeof app_routes / sizeof app_routes[0],
    .error_page = page_error, /* the site's frame (pages/layout.c) */
};
