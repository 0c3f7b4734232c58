/*
 * session: who is asking and whether they may. Organizer sessions (cookie)
 * and API tokens (Bearer, until they expire) for ROUTE_ADMIN and ROUTE_API
 * routes, the route's access check (service/access.c decides), and the CSRF
 * token every form carries: an HMAC under the server secret of the session
 * (logged in) or of a random per-browser HttpOnly SameSite=Lax cookie (not
 * logged in), which the form repeats in its `csrf` field.
 */
#ifndef MUSTER_HTTP_SESSION_H
#define MUSTER_HTTP_SESSION_H

#include "core/token.h"
#include "http/http.h"

#define CSRF_COOKIE "muster_csrf"
#define SESSION_COOKIE "muster_session"

/* Sets req->organizer_id from the session cookie (ROUTE_ADMIN) or the cookie
 * or a Bearer token (ROUTE_API). Returns 0 when authenticated, else -1. */
int session_authenticate(struct http_request *req, unsigned route_flags);
/* What the authenticated organizer (req->organizer_id) may do with the
 * route's action, on the campaign named by req->params[0] when the action
 * concerns one: 0 with *verdict, -1 when the store failed. */
int session_authorize(struct http_request *req, enum access_action action,
                      enum access_verdict *verdict);

#define SESSION_CSRF_LEN TOKEN_HASH_HEX
/* The CSRF token for a form on this page; sets the browser cookie when the
 * request has neither a session nor that cookie. */
void session_csrf_token(const struct http_request *req, struct http_response *resp,
                        char out[SESSION_CSRF_LEN + 1]);
/* 1 when field is the CSRF token of this request's session, or without a
 * session of its browser cookie. */
int session_csrf_field_ok(const struct http_request *req, const char *field);
/* 1 when the request's form field `csrf` is its CSRF token. */
int session_csrf_ok(const struct http_request *req);
/* "; Secure" when MUSTER_BASE_URL is https, else "". */
const char *session_cookie_secure(const struct http_request *req);

#endif
