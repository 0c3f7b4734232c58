/*
 * session: organizer authentication, the access check of every organizer
 * route, and CSRF tokens (see session.h).
 *
 * A CSRF token is an HMAC under the server secret, never a value a cookie
 * alone carries: for a request with a valid session it is
 * HMAC(secret, "csrf-session:" || SHA-256(session token)), so it is good for
 * that session only, and a cookie planted from a sibling subdomain proves
 * nothing; without a session (the pledge, login, action and instance forms
 * of people who are not logged in) it is HMAC(secret, "csrf-browser:" ||
 * nonce), where the nonce is a random per-browser cookie.
 */
#include "http/session.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/app.h"
#include "http/form.h"
#include "store/store.h"
#include "core/banned.h"

/* A token's last use is written at most once a minute. */
#define TOKEN_TOUCH_SECONDS 60

const char *session_cookie_secure(const struct http_request *req)
{
    return strncmp(req->app->cfg->base_url, "https://", 8) == 0 ? "; Secure" : "";
}

static int token_well_formed(const char *t)
{
    if (!t || strlen(t) != TOKEN_RANDOM_LEN)
        return 0;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

int session_authenticate(struct http_request *req, unsigned route_flags)
{
    char hash[TOKEN_HASH_HEX + 1];
    int64_t organizer = 0;
    const char *cookie = http_cookie(req, SESSION_COOKIE);
    if (token_well_formed(cookie)) {
        token_hash(cookie, hash);
        if (store_session_organizer(req->store, hash, req->now, &organizer) == 0) {
            req->organizer_id = organizer;
            req->by_session = 1;
            return 0;
        }
    }
    if (route_flags & ROUTE_API) {
        const char *auth = http_header(req, "Authorization");
        if (auth && strncmp(auth, "Bearer ", 7) == 0 && token_well_formed(auth + 7)) {
            token_hash(auth + 7, hash);
            struct api_token_row token;
            if (store_api_token_find(req->store, hash, req->now, &token) == 0) {
                if (req->now - token.last_used_at >= TOKEN_TOUCH_SECONDS &&
                    store_api_token_touch(req->store, token.id, req->now) != 0)
                    log_warn("api.token", "could not record the use of token %lld",
                             (long long)token.id);
                req->organizer_id = token.organizer_id;
                return 0;
            }
        }
    }
    return -1;
}

int session_authorize(struct http_request *req, enum access_action action,
                      enum access_verdict *verdict)
{
    int64_t campaign_id = 0;
    if (access_action_is_campaign(action)) {
        if (req->param_count < 1) {
            *verdict = ACCESS_HIDDEN;
            return 0;
        }
        struct campaign_row row;
        int rc = store_campaign_get(req->store, req->params[0], &row);
        if (rc == 0) {
            campaign_id = row.id;
            campaign_row_release(&row);
        } else if (rc != STORE_NOT_FOUND) {
            return -1;
        }
    }
    return access_decide(req->store, req->organizer_id, campaign_id, action, verdict);
}

/* The hash of the request's session token when it has a valid session
 * (whatever the route), so that a page and the post of its form agree. */
static int valid_session_hash(const struct http_request *req, char hash[TOKEN_HASH_HEX + 1])
{
    const char *cookie = http_cookie(req, SESSION_COOKIE);
    if (!token_well_formed(cookie))
        return 0;
    token_hash(cookie, hash);
    if (req->by_session)
        return 1;
    int64_t organizer;
    return store_session_organizer(req->store, hash, req->now, &organizer) == 0;
}

static void csrf_of(const char *kind, const char *value, char out[SESSION_CSRF_LEN + 1])
{
    char data[160];
    int n = snprintf(data, sizeof data, "csrf-%s:%s", kind, value);
    token_hmac_hex(data, n > 0 && (size_t)n < sizeof data ? (size_t)n : 0, out);
}

/* The token this request's forms must carry; 0 when it has no session and
 * no well-formed browser cookie (then no token is valid). */
static int expected_csrf(const struct http_request *req, char out[SESSION_CSRF_LEN + 1])
{
    char hash[TOKEN_HASH_HEX + 1];
    if (valid_session_hash(req, hash)) {
        csrf_of("session", hash, out);
        return 1;
    }
    const char *browser = http_cookie(req, CSRF_COOKIE);
    if (!token_well_formed(browser))
        return 0;
    csrf_of("browser", browser, out);
    return 1;
}

void session_csrf_token(const struct http_request *req, struct http_response *resp,
                        char out[SESSION_CSRF_LEN + 1])
{
    if (expected_csrf(req, out))
        return;
    char browser[TOKEN_RANDOM_LEN + 1];
    token_random(browser);
    csrf_of("browser", browser, out);
    char header[160];
    snprintf(header, sizeof header, CSRF_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax%s", browser,
             session_cookie_secure(req));
    http_set_header(resp, "Set-Cookie", header);
}

int session_csrf_field_ok(const struct http_request *req, const char *field)
{
    char expected[SESSION_CSRF_LEN + 1];
    return field && expected_csrf(req, expected) && token_equal(field, expected);
}

int session_csrf_ok(const struct http_request *req)
{
    struct form f;
    char err[128];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0)
        return 0;
    int ok = session_csrf_field_ok(req, form_get(&f, "csrf"));
    form_release(&f);
    return ok;
}
