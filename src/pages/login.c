/*
 * login: GET/POST /login and POST /logout. Passwords are checked against
 * their Argon2id hash, and an unknown address against a dummy hash, so both
 * take as long, on a work thread of the server (http_defer: an Argon2id
 * verify is about 100 ms that the HTTP thread spends on other requests);
 * failed logins (never successful ones) make a client address
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
#include "core/tz.h"
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

/* One login attempt while its password is checked on a work thread
 * (http_defer): the handler looks the organizer up, the work thread runs the
 * Argon2id verify, login_finish answers. */
struct login_job {
    char *email;   /* as typed (shown again in the form); NULL when absent */
    char *attempt; /* the password typed, "" when absent; wiped when released */
    char *hash;    /* the organizer's hash, or a copy of the dummy one */
    int has_password;
    int known; /* the address is an organizer's */
    int64_t organizer;
    int verified; /* set by login_check */
    int ended;    /* the login limits were told the outcome */
    struct app *app;
    char source_key[TOKEN_HASH_HEX + 1];
    char account_key[TOKEN_HASH_HEX + 1];
};

/* Tells both login limits that the attempt is over (once). */
static void login_end(struct login_job *j, int64_t now, int failed)
{
    if (j->ended)
        return;
    j->ended = 1;
    loginlimit_end(j->app->login_by_source, j->source_key, now, failed);
    loginlimit_end(j->app->login_by_account, j->account_key, now, failed);
}

static void login_job_release(void *arg)
{
    struct login_job *j = arg;
    /* Not answered (the queue was full, the client left): the password was
     * never checked, so the attempt is no failure. */
    login_end(j, tz_now(), 0);
    if (j->attempt) {
        sodium_memzero(j->attempt, strlen(j->attempt));
        free(j->attempt);
    }
    free(j->email);
    free(j->hash);
    free(j);
}

/* On a work thread: the Argon2id verify, about 100 ms of CPU and 64 MiB. An
 * unknown address is checked against the dummy hash, so it costs the same. */
static int login_check(void *arg)
{
    struct login_job *j = arg;
    j->verified = crypto_pwhash_str_verify(j->hash, j->attempt, strlen(j->attempt)) == 0;
    return 0;
}

static void login_finish(struct http_request *req, struct http_response *resp, void *arg, int rc)
{
    struct login_job *j = arg;
    const char *ip = http_client_ip(req);
    if (rc != 0) {
        login_end(j, req->now, 0);
        page_error(req, resp, 503, "Try again", "The server is stopping. Try again in a moment.");
        http_set_header(resp, "Retry-After", "1");
        return;
    }
    int ok = j->known && j->has_password && j->verified;
    login_end(j, req->now, !ok);
    if (!ok) {
        log_warn("login.failed", "ip=%s", ip);
        login_form(req, resp, j->email, "Wrong email or password.");
        resp->status = 401;
        return;
    }
    loginlimit_clear(req->app->login_by_account, j->account_key);
    char token[TOKEN_RANDOM_LEN + 1], digest[TOKEN_HASH_HEX + 1];
    token_random(token);
    token_hash(token, digest);
    if (store_session_create(req->store, j->organizer, digest, req->now,
                             req->now + SESSION_SECONDS) != 0) {
        page_error(req, resp, 503, "Try again", "The session could not be saved.");
        return;
    }
    log_info("login.ok", "organizer=%lld", (long long)j->organizer);
    char cookie[200];
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", token,
             SESSION_SECONDS, session_cookie_secure(req));
    http_redirect(resp, 303, "/admin");
    http_set_header(resp, "Set-Cookie", cookie);
}

/* Checks the limits, looks the organizer up and hands the password check to
 * a work thread (login_check, then login_finish): the HTTP thread goes on
 * with other requests meanwhile. */
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
    struct login_job *j = calloc(1, sizeof *j);
    if (!j || login_keys(ip, email, j->source_key, j->account_key) != 0) {
        page_error(req, resp, 503, "Try again", "The server is out of memory.");
        free(j);
        form_release(&f);
        return;
    }
    struct app *app = req->app;
    j->app = app;
    j->ended = 1; /* until both limits counted the attempt as begun */
    /* The attempt is in flight from here until login_end: it counts as a
     * failure meanwhile (http/loginlimit.h), so attempts sent at once get no
     * further than the same attempts one after another. */
    int source_ok = loginlimit_begin(app->login_by_source, j->source_key, req->now) == 1;
    int account_ok =
        source_ok && loginlimit_begin(app->login_by_account, j->account_key, req->now) == 1;
    if (source_ok && !account_ok)
        loginlimit_end(app->login_by_source, j->source_key, req->now, 0);
    if (!account_ok) {
        login_form(req, resp, email, "Too many login attempts. Wait a few minutes and try again.");
        resp->status = 429;
        login_job_release(j);
        form_release(&f);
        return;
    }
    j->ended = 0;
    char *hash = NULL;
    int rc = email ? store_organizer_get(req->store, email, &j->organizer, &hash) : STORE_NOT_FOUND;
    if (rc != 0 && rc != STORE_NOT_FOUND)
        log_warn("login.store", "ip=%s", ip);
    j->known = rc == 0;
    /* An unknown address costs the same Argon2id verify as a known one, so
     * the time of the answer does not tell which organizers exist. */
    j->hash = j->known ? hash : strdup(app->login_dummy_hash);
    if (!j->known)
        free(hash);
    j->has_password = password != NULL;
    j->attempt = strdup(password ? password : "");
    j->email = email ? strdup(email) : NULL;
    if (!j->hash || !j->attempt || (email && !j->email)) {
        page_error(req, resp, 503, "Try again", "The server is out of memory.");
        login_job_release(j);
        form_release(&f);
        return;
    }
    struct http_deferred d = {
        .work = login_check, .finish = login_finish, .release = login_job_release, .arg = j};
    http_defer(resp, &d);
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
