/*
 * admin: the organizer's side: login and logout (login.c), the dashboard
 * (admin.c) and the JSON API (api.c). Every handler here runs only after the
 * router checked the session (ROUTE_ADMIN) or token (ROUTE_API).
 */
#ifndef MUSTER_PAGES_ADMIN_H
#define MUSTER_PAGES_ADMIN_H

#include "http/http.h"

void handle_login_page(struct http_request *req, struct http_response *resp);
void handle_login_post(struct http_request *req, struct http_response *resp);
void handle_logout(struct http_request *req, struct http_response *resp);
void handle_admin_home(struct http_request *req, struct http_response *resp);
void handle_admin_campaign(struct http_request *req, struct http_response *resp);
void handle_admin_target_close(struct http_request *req, struct http_response *resp);
void handle_admin_target_open(struct http_request *req, struct http_response *resp);
void handle_api_stats(struct http_request *req, struct http_response *resp);

#endif
