/*
 * admin: the organizer's side, every handler the ORGANIZER section of the
 * route table (app/routes.c) names: login and logout (login.c), the campaign
 * list and launch-day view (admin.c), the campaign form (admin_form.c), the
 * live charts and time series (admin_charts.c), data in and out
 * (admin_data.c), the dashboard's stylesheet and script (admin_static.c), and
 * the JSON API. Every handler except login, logout and the static files runs
 * only after server.c checked the session (ROUTE_ADMIN) or token (ROUTE_API),
 * and every POST only after the CSRF check (ROUTE_CSRF).
 */
#ifndef MUSTER_PAGES_ADMIN_H
#define MUSTER_PAGES_ADMIN_H

#include "http/http.h"

/* login.c */
void handle_login_page(struct http_request *req, struct http_response *resp);
void handle_login_post(struct http_request *req, struct http_response *resp);
void handle_logout(struct http_request *req, struct http_response *resp);

/* admin.c */
void handle_admin_home(struct http_request *req, struct http_response *resp);
void handle_admin_campaign(struct http_request *req, struct http_response *resp);
void handle_admin_target_close(struct http_request *req, struct http_response *resp);
void handle_admin_target_open(struct http_request *req, struct http_response *resp);
/* admin_launch.c: pause, resume, a test of the reminder */
void handle_admin_launch_pause(struct http_request *req, struct http_response *resp);
void handle_admin_launch_resume(struct http_request *req, struct http_response *resp);
void handle_admin_launch_test(struct http_request *req, struct http_response *resp);
void handle_api_stats(struct http_request *req, struct http_response *resp);

/* admin_form.c: GET /admin/campaigns/new, POST /admin/campaigns,
 * GET /admin/campaigns/SLUG/edit, POST /admin/campaigns/SLUG */
void handle_admin_campaign_new(struct http_request *req, struct http_response *resp);
void handle_admin_campaign_create(struct http_request *req, struct http_response *resp);
void handle_admin_campaign_edit(struct http_request *req, struct http_response *resp);
void handle_admin_campaign_update(struct http_request *req, struct http_response *resp);

/* admin_charts.c */
void handle_admin_charts(struct http_request *req, struct http_response *resp);
void handle_api_timeseries(struct http_request *req, struct http_response *resp);

/* admin_data.c */
void handle_admin_export_supporters(struct http_request *req, struct http_response *resp);
void handle_admin_export_clicks(struct http_request *req, struct http_response *resp);
void handle_admin_import_page(struct http_request *req, struct http_response *resp);
void handle_admin_import_post(struct http_request *req, struct http_response *resp);
void handle_admin_erase_page(struct http_request *req, struct http_response *resp);
void handle_admin_erase_post(struct http_request *req, struct http_response *resp);
/* admin_suppression.c: the suppression list, its add and remove forms */
void handle_admin_suppression_page(struct http_request *req, struct http_response *resp);
void handle_admin_suppression_add(struct http_request *req, struct http_response *resp);
void handle_admin_suppression_remove(struct http_request *req, struct http_response *resp);

/* admin_static.c */
void handle_admin_stylesheet(struct http_request *req, struct http_response *resp);
void handle_admin_script(struct http_request *req, struct http_response *resp);

#endif
