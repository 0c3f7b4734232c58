/*
 * session: organizer authentication and CSRF tokens (see session.h).
 */
#include "http/session.h"

#include <stdio.h>
#include <string.h>

#include "http/app.h"
#include "http/form.h"
#include "store/store.h"
#include "core/banned.h"

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
            return 0;
        }
    }
    if (route_flags & ROUTE_API) {
        const char *auth = http_header(req, "Authorization");
        if (auth && strncmp(auth, "Bearer ", 7) == 0 && token_well_formed(auth + 7)) {
            token_hash(auth + 7, hash);
            if (store_api_token_organizer(req->store, hash, &organizer) == 0) {
                req->organizer_id = organizer;
                return 0;
            }
        }
    }
    return -1;
}

void session_csrf_token(const struct http_request *req, struct http_response *resp,
                        char out[TOKEN_RANDOM_LEN + 1])
{
    const char *cookie = http_cookie(req, CSRF_COOKIE);
    if (token_well_formed(cookie)) {
        snprintf(out, TOKEN_RANDOM_LEN + 1, "%s", cookie);
        return;
    }
    token_random(out);
    char header[160];
    snprintf(header, sizeof header, CSRF_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax%s", out,
             session_cookie_secure(req));
    http_set_header(resp, "Set-Cookie", header);
}

int session_csrf_matches(const char *cookie, const char *field)
{
    return token_well_formed(cookie) && field && token_equal(field, cookie);
}

int session_csrf_ok(const struct http_request *req)
{
    const char *cookie = http_cookie(req, CSRF_COOKIE);
    if (!token_well_formed(cookie))
        return 0;
    struct form f;
    char err[128];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0)
        return 0;
    int ok = session_csrf_matches(cookie, form_get(&f, "csrf"));
    form_release(&f);
    return ok;
}
