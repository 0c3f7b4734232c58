/*
 * login: GET/POST /login and POST /logout. Passwords are checked against
 * their Argon2id hash, and an unknown address against a dummy hash, so both
 * take as long; failed logins (never successful ones) make a client address
 * wait, per account and over all accounts (http/loginlimit.h), so one address
 * cannot lock an organizer out from another; a session is a random token in
 * an HttpOnly SameSite=Lax cookie (Secure over https), stored as its SHA-256,
 * valid for 12 hours.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/token.h"
#include "http/app.h"
#include "http/form.h"
#include "http/loginlimit.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

#define SESSION_SECONDS (12 * 3600)

static void login_form(struct http_request *req, struct http_response *resp, const char *email,
                       const char *error)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    admin_page_begin(b, "Organizer login", NULL, ADMIN_NONE);
    buf_puts(b, "<section class=\"card\">\n<h1>Organizer login</h1>\n<p class=\"muted\">"
                "For the people who run campaigns on this server.</p>\n");
    if (error) {
        buf_puts(b, "<div class=\"errors\" role=\"alert\"><p>");
        escape_html(b, error);
        buf_puts(b, "</p></div>\n");
    }
    buf_printf(b,
               "<form method=\"post\" action=\"/login\">\n<input type=\"hidden\" name=\"csrf\" "
               "value=\"%s\">\n<div class=\"field\"><label for=\"email\">Email</label>\n"
               "<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"username\" "
               "required value=\"",
               csrf);
    escape_html(b, email ? email : "");
    buf_puts(b, "\"></div>\n<div class=\"field\"><label for=\"password\">Password</label>\n"
                "<input type=\"password\" id=\"password\" name=\"password\" "
                "autocomplete=\"current-password\" required></div>\n"
                "<div class=\"actions\"><button type=\"submit\">Log in</button></div>\n</form>\n"
                "</section>\n<p class=\"muted\">No account? An administrator creates one with "
                "<code>muster organizer add EMAIL</code>.</p>\n");
    admin_page_end(b);
}

void handle_login_page(struct http_request *req, struct http_response *resp)
{
    if (session_authenticate(req, ROUTE_ADMIN) == 0) {
        http_redirect(resp, 303, "/admin");
        return;
    }
    login_form(req, resp, NULL, NULL);
}

/* The login limits' keys: SHA-256 of the client address, and of the client
 * address with the account as the store matches it (ASCII lowercase), so
 * every spelling and every length of an address is one key. 0 or -1. */
static int login_keys(const char *ip, const char *email, char source_key[TOKEN_HASH_HEX + 1],
                      char account_key[TOKEN_HASH_HEX + 1])
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s\n", ip);
    for (const char *c = email ? email : ""; *c; c++)
        buf_putc(&b, *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c);
    if (buf_failed(&b) || !b.data) {
        buf_release(&b);
        return -1;
    }
    token_hash(ip, source_key);
    token_hash(buf_cstr(&b), account_key);
    buf_release(&b);
    return 0;
}

void handle_login_post(struct http_request *req, struct http_response *resp)
{
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        login_form(req, resp, NULL, err);
        resp->status = 400;
        return;
    }
    const char *email = form_get(&f, "email"), *password = form_get(&f, "password");
    const char *ip = http_client_ip(req);
    char source_key[TOKEN_HASH_HEX + 1], account_key[TOKEN_HASH_HEX + 1];
    if (login_keys(ip, email, source_key, account_key) != 0) {
        page_error(req, resp, 503, "Try again", "The server is out of memory.");
        form_release(&f);
        return;
    }
    struct app *app = req->app;
    if (!loginlimit_allowed(app->login_by_source, source_key, req->now) ||
        !loginlimit_allowed(app->login_by_account, account_key, req->now)) {
        login_form(req, resp, email, "Too many login attempts. Wait a few minutes and try again.");
        resp->status = 429;
        form_release(&f);
        return;
    }
    int64_t organizer = 0;
    char *hash = NULL;
    int rc = email ? store_organizer_get(req->store, email, &organizer, &hash) : STORE_NOT_FOUND;
    if (rc != 0 && rc != STORE_NOT_FOUND)
        log_warn("login.store", "ip=%s", ip);
    /* An unknown address costs the same Argon2id verify as a known one, so
     * the time of the answer does not tell which organizers exist. */
    const char *against = rc == 0 ? hash : app->login_dummy_hash;
    const char *attempt = password ? password : "";
    int verified = crypto_pwhash_str_verify(against, attempt, strlen(attempt)) == 0;
    int ok = rc == 0 && password && verified;
    free(hash);
    if (!ok) {
        log_warn("login.failed", "ip=%s", ip);
        if (loginlimit_failed(app->login_by_source, source_key, req->now) != 0 ||
            loginlimit_failed(app->login_by_account, account_key, req->now) != 0)
            log_error("login.limit", "ip=%s", ip);
        login_form(req, resp, email, "Wrong email or password.");
        resp->status = 401;
        form_release(&f);
        return;
    }
    loginlimit_clear(app->login_by_account, account_key);
    char token[TOKEN_RANDOM_LEN + 1], digest[TOKEN_HASH_HEX + 1];
    token_random(token);
    token_hash(token, digest);
    if (store_session_create(req->store, organizer, digest, req->now, req->now + SESSION_SECONDS) !=
        0) {
        page_error(req, resp, 503, "Try again", "The session could not be saved.");
        form_release(&f);
        return;
    }
    log_info("login.ok", "organizer=%lld", (long long)organizer);
    char cookie[200];
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", token,
             SESSION_SECONDS, session_cookie_secure(req));
    http_redirect(resp, 303, "/admin");
    http_set_header(resp, "Set-Cookie", cookie);
    form_release(&f);
}

void handle_logout(struct http_request *req, struct http_response *resp)
{
    const char *cookie = http_cookie(req, SESSION_COOKIE);
    if (cookie) {
        char digest[TOKEN_HASH_HEX + 1];
        token_hash(cookie, digest);
        if (store_session_delete(req->store, digest) != 0)
            log_warn("logout.failed", "%s", "");
    }
    char expired[160];
    snprintf(expired, sizeof expired,
             SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; "
                            "Max-Age=0%s",
             session_cookie_secure(req));
    http_redirect(resp, 303, "/login");
    http_set_header(resp, "Set-Cookie", expired);
}
