/*
 * routes: every HTTP route muster answers, as data (docs/API.md, "HTTP
 * routes"), and the server configuration that hands them, with the HTML
 * error pages, to http/server.c. The router matches in order; the flags say
 * who may call a route and the access action what it does to the campaign
 * its :slug names (server.c enforces both before the handler runs; the
 * table of actions x roles is service/access.c). The
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
    {"GET", "/", handle_home, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/healthz", handle_healthz, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/hooks/bounces/postmark", handle_hook_postmark, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/hooks/bounces/sendgrid", handle_hook_sendgrid, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/hooks/bounces/ses", handle_hook_ses, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/metrics", handle_metrics, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/static/muster.css", handle_stylesheet, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/static/muster.js", handle_script, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/favicon.ico", handle_favicon, ROUTE_PUBLIC, ACCESS_NONE},
    /* supporters */
    {"GET", "/c/:slug", handle_pledge_page, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/c/:slug/pledge", handle_pledge_post, ROUTE_PUBLIC | ROUTE_SNAPSHOT,
     ACCESS_NONE}, /* CSRF checked for forms */
    {"GET", "/c/:slug/calendar/:file", handle_calendar, ROUTE_PUBLIC, ACCESS_NONE},
    /* the banner other sites carry: the only routes that may run or be framed elsewhere */
    {"GET", "/c/:slug/embed.js", handle_embed_script, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/c/:slug/embed", handle_embed_page, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/static/embed.css", handle_embed_stylesheet, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/confirm/:token", handle_confirm_page, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/confirm/:token", handle_confirm_post, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/a/:token", handle_action, ROUTE_PUBLIC | ROUTE_SNAPSHOT, ACCESS_NONE},
    {"POST", "/a/:token/report", handle_action_report, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/a/:token/instance", handle_action_instance, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/t/:token", handle_action_test, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/t/:token/u", handle_action_test_unsubscribe, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/t/:token/u", handle_action_test_unsubscribe, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/u/:token", handle_unsubscribe_page, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/u/:token", handle_unsubscribe_post, ROUTE_PUBLIC, ACCESS_NONE},
    /* organizers: every /admin route is ROUTE_ADMIN, every POST also ROUTE_CSRF,
     * every /api route ROUTE_API, and each names its access action. /admin/campaigns/new comes
     * before /admin/campaigns/:slug, which would match it. */
    {"GET", "/login", handle_login_page, ROUTE_PUBLIC, ACCESS_NONE},
    {"POST", "/login", handle_login_post, ROUTE_CSRF, ACCESS_NONE},
    {"POST", "/logout", handle_logout, ROUTE_CSRF, ACCESS_NONE},
    {"GET", "/static/admin.css", handle_admin_stylesheet, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/static/admin.js", handle_admin_script, ROUTE_PUBLIC, ACCESS_NONE},
    {"GET", "/admin", handle_admin_home, ROUTE_ADMIN, ACCESS_CAMPAIGN_LIST},
    {"GET", "/admin/campaigns/new", handle_admin_campaign_new, ROUTE_ADMIN, ACCESS_CAMPAIGN_CREATE},
    {"POST", "/admin/campaigns", handle_admin_campaign_create, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_CAMPAIGN_CREATE},
    {"GET", "/admin/campaigns/:slug", handle_admin_campaign, ROUTE_ADMIN, ACCESS_CAMPAIGN_VIEW},
    {"POST", "/admin/campaigns/:slug", handle_admin_campaign_update, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_CAMPAIGN_EDIT},
    {"GET", "/admin/campaigns/:slug/edit", handle_admin_campaign_edit, ROUTE_ADMIN,
     ACCESS_CAMPAIGN_EDIT},
    {"GET", "/admin/campaigns/:slug/charts", handle_admin_charts, ROUTE_ADMIN,
     ACCESS_CAMPAIGN_VIEW},
    {"GET", "/admin/campaigns/:slug/export/supporters.csv", handle_admin_export_supporters,
     ROUTE_ADMIN, ACCESS_PERSONAL_DATA},
    {"GET", "/admin/campaigns/:slug/export/clicks.csv", handle_admin_export_clicks, ROUTE_ADMIN,
     ACCESS_PERSONAL_DATA},
    {"GET", "/admin/campaigns/:slug/import", handle_admin_import_page, ROUTE_ADMIN,
     ACCESS_PERSONAL_DATA},
    {"POST", "/admin/campaigns/:slug/import", handle_admin_import_post, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_PERSONAL_DATA},
    {"POST", "/admin/campaigns/:slug/launch/pause", handle_admin_launch_pause,
     ROUTE_ADMIN | ROUTE_CSRF, ACCESS_LAUNCH_CONTROL},
    {"POST", "/admin/campaigns/:slug/launch/resume", handle_admin_launch_resume,
     ROUTE_ADMIN | ROUTE_CSRF, ACCESS_LAUNCH_CONTROL},
    {"POST", "/admin/campaigns/:slug/launch/test", handle_admin_launch_test,
     ROUTE_ADMIN | ROUTE_CSRF, ACCESS_LAUNCH_CONTROL},
    {"POST", "/admin/campaigns/:slug/targets/:target/close", handle_admin_target_close,
     ROUTE_ADMIN | ROUTE_CSRF, ACCESS_TARGET_SET},
    {"POST", "/admin/campaigns/:slug/targets/:target/open", handle_admin_target_open,
     ROUTE_ADMIN | ROUTE_CSRF, ACCESS_TARGET_SET},
    {"GET", "/admin/supporters/erase", handle_admin_erase_page, ROUTE_ADMIN, ACCESS_ERASE_ANYONE},
    {"POST", "/admin/supporters/erase", handle_admin_erase_post, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_ERASE_ANYONE},
    {"GET", "/admin/suppression", handle_admin_suppression_page, ROUTE_ADMIN, ACCESS_SUPPRESSION},
    {"POST", "/admin/suppression", handle_admin_suppression_add, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_SUPPRESSION},
    {"POST", "/admin/suppression/remove", handle_admin_suppression_remove, ROUTE_ADMIN | ROUTE_CSRF,
     ACCESS_SUPPRESSION},
    {"GET", "/api/v1/campaigns/:slug/stats", handle_api_stats, ROUTE_API, ACCESS_CAMPAIGN_VIEW},
    {"GET", "/api/v1/campaigns/:slug/timeseries", handle_api_timeseries, ROUTE_API,
     ACCESS_CAMPAIGN_VIEW},
};

const size_t app_route_count = sizeof app_routes / sizeof app_routes[0];

const struct http_server_config app_http = {
    .routes = app_routes,
    .route_count = sizeof app_routes / sizeof app_routes[0],
    .error_page = page_error, /* the site's frame (pages/layout.c) */
};
