/*
 * session: who is asking. Organizer sessions (cookie) and API tokens (Bearer)
 * for ROUTE_ADMIN and ROUTE_API routes, and the CSRF token every form carries
 * (double-submit: a random value in an HttpOnly SameSite=Lax cookie that the
 * form must repeat in its `csrf` field).
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
/* The CSRF token for a form on this page; sets the cookie when it is missing. */
void session_csrf_token(const struct http_request *req, struct http_response *resp,
                        char out[TOKEN_RANDOM_LEN + 1]);
/* 1 when cookie is a well-formed CSRF token and field equals it. */
int session_csrf_matches(const char *cookie, const char *field);
/* 1 when the request's form field `csrf` equals its CSRF cookie. */
int session_csrf_ok(const struct http_request *req);
/* "; Secure" when MUSTER_BASE_URL is https, else "". */
const char *session_cookie_secure(const struct http_request *req);

#endif
