/*
 * pledge: the public campaign page (GET /c/SLUG) and the pledge itself
 * (POST /c/SLUG/pledge, as a form with a CSRF token or as JSON). The answer to
 * a valid pledge is the same whether or not the address pledged before, so
 * the form reveals nobody's pledge; the store decides what the pledge does.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campaign/campaign.h"
#include "service/pledges.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "http/ratelimit.h"
#include "http/session.h"
#include "mail/message.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

#define NAME_MAX_CHARS 100

struct pledge_fields {
    const char *email;
    const char *name;
    const char *statement;
    const char *timezone;
    const char *target;
    int consent;
};

struct pledge_errors {
    char email[160];
    char name[160];
    char statement[160];
    char timezone[160];
    char consent[160];
    char target[160];
    int count;
};

static void consent_text(const struct campaign *c, char *out, size_t n)
{
    const char *who = c->organizer_name && *c->organizer_name ? c->organizer_name
                                                              : "The organizers";
    snprintf(out, n,
             "I agree that %s may store my email address, name and statement to confirm my "
             "pledge, send me a reminder at the launch moment, and count my pledge. I can "
             "unsubscribe at any time.",
             who);
}

static int has_control_chars(const char *s, int allow_newlines)
{
    if (!allow_newlines && strchr(s, '\t'))
        return 1; /* a name is one field of one line */
    return utf8_find_control(s, allow_newlines) >= 0;
}

static int target_has_room(const struct target_row *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].key, key) == 0)
            return rows[i].open && !rows[i].removed && (rows[i].cap < 0 || rows[i].assigned < rows[i].cap);
    return 0;
}

static void validate(const struct campaign *c, const struct target_row *rows, size_t nrows,
                     struct pledge_fields *f, struct pledge_errors *e)
{
    memset(e, 0, sizeof *e);
    if (!f->email || !*f->email) {
        snprintf(e->email, sizeof e->email, "Enter your email address.");
    } else if (strlen(f->email) > 254 || !mail_address_valid(f->email)) {
        snprintf(e->email, sizeof e->email,
                 "Enter a valid email address, like name@example.org.");
    }
    if (f->name && utf8_length(f->name) > NAME_MAX_CHARS)
        snprintf(e->name, sizeof e->name, "Use at most %d characters for your name.",
                 NAME_MAX_CHARS);
    else if (f->name && has_control_chars(f->name, 0))
        snprintf(e->name, sizeof e->name, "Your name cannot contain line breaks.");
    if (!c->statement_enabled)
        f->statement = "";
    else if (f->statement && utf8_length(f->statement) > (size_t)c->statement_max_chars)
        snprintf(e->statement, sizeof e->statement,
                 "Use at most %d characters; this has %zu.", c->statement_max_chars,
                 utf8_length(f->statement));
    else if (f->statement && has_control_chars(f->statement, 1))
        snprintf(e->statement, sizeof e->statement, "Remove the control characters.");
    if (!f->timezone || !*f->timezone)
        f->timezone = "UTC";
    else if (!tz_valid(f->timezone))
        snprintf(e->timezone, sizeof e->timezone,
                 "Use a time zone name such as Europe/Berlin, America/New_York or UTC.");
    if (!f->consent)
        snprintf(e->consent, sizeof e->consent, "Tick the box to agree, or we cannot keep your "
                                                "pledge.");
    if (c->assignment == ASSIGN_CHOOSE) {
        if (!f->target || !*f->target)
            snprintf(e->target, sizeof e->target, "Choose where you will act.");
        else if (!campaign_target(c, f->target) || !target_has_room(rows, nrows, f->target))
            snprintf(e->target, sizeof e->target,
                     "That target is not taking new supporters; choose another.");
    } else {
        f->target = NULL;
    }
    e->count = !!e->email[0] + !!e->name[0] + !!e->statement[0] + !!e->timezone[0] +
               !!e->consent[0] + !!e->target[0];
}

static void field_error(struct buf *b, const char *id, const char *msg)
{
    if (!msg[0])
        return;
    buf_printf(b, "<p class=\"error\" id=\"%s-error\">", id);
    escape_html(b, msg);
    buf_puts(b, "</p>\n");
}

static void describedby(struct buf *b, const char *id, const char *msg, const char *hint)
{
    if (!msg[0] && !hint)
        return;
    buf_puts(b, " aria-describedby=\"");
    if (hint)
        buf_printf(b, "%s-hint", id);
    if (msg[0])
        buf_printf(b, "%s%s-error", hint ? " " : "", id);
    buf_puts(b, "\"");
    if (msg[0])
        buf_puts(b, " aria-invalid=\"true\"");
}

static void render_page(struct http_request *req, struct http_response *resp,
                        const struct campaign *c, const struct campaign_row *row,
                        const struct target_row *rows, size_t nrows,
                        const struct pledge_fields *f, const struct pledge_errors *e)
{
    struct buf *b = &resp->body;
    int64_t confirmed = 0;
    if (store_confirmed_count(req->store, row->id, &confirmed) != 0)
        confirmed = 0;
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    char when[128], iso[21], consent[512];
    if (tz_format(row->launch_utc, c->timezone, when, sizeof when) != 0)
        snprintf(when, sizeof when, "(unknown)");
    tz_iso_utc(row->launch_utc, iso);
    consent_text(c, consent, sizeof consent);

    page_begin(b, c->title);
    buf_puts(b, "<article class=\"card\">\n");
    if (c->organizer_name && *c->organizer_name) {
        buf_puts(b, "<p class=\"eyebrow\">");
        escape_html(b, c->organizer_name);
        buf_puts(b, "</p>\n");
    }
    buf_puts(b, "<h1>");
    escape_html(b, c->title);
    buf_puts(b, "</h1>\n");
    page_paragraphs(b, c->description);
    buf_puts(b, "<div class=\"moment\"><div><span class=\"muted\">We act together on</span>"
                "<strong data-local-time=\"");
    buf_puts(b, iso);
    buf_puts(b, "\" id=\"local-time\">");
    escape_html(b, when);
    buf_puts(b, "</strong><span class=\"zone\" id=\"organizer-time\">");
    escape_html(b, when);
    buf_puts(b, " (");
    escape_html(b, c->timezone);
    buf_puts(b, ", the organizers' time zone)</span></div></div>\n");
    if (row->launched_at || req->now >= row->launch_utc) {
        int64_t end = row->launch_utc + (int64_t)row->window_minutes * 60;
        buf_puts(b, req->now < end ? "<p class=\"notice\">The day of action is happening now. "
                                     "Pledge and confirm, and your link arrives at once.</p>\n"
                                   : "<p class=\"notice\">This moment has passed. You can still "
                                     "pledge to hear about the next one.</p>\n");
    }
    buf_printf(b, "<p class=\"count\" id=\"pledge-count\"><b>%lld</b> %s pledged so far.</p>\n",
               (long long)confirmed, confirmed == 1 ? "person has" : "people have");
    buf_puts(b, "</article>\n<section class=\"card\" aria-labelledby=\"pledge-heading\">\n"
                "<h2 id=\"pledge-heading\">Pledge to take part</h2>\n");
    if (e && e->count)
        buf_printf(b, "<div class=\"errors\" role=\"alert\" tabindex=\"-1\" "
                      "data-error-summary><p>Please fix %d %s below.</p></div>\n",
                   e->count, e->count == 1 ? "field" : "fields");
    static const struct pledge_errors none;
    if (!e)
        e = &none;
    buf_printf(b, "<form method=\"post\" action=\"/c/%s/pledge#pledge-heading\" novalidate>\n",
               c->slug);
    buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", csrf);

    buf_puts(b, "<label for=\"email\">Email <span class=\"hint\" id=\"email-hint\">We send one "
                "confirmation now and one reminder at the moment.</span></label>\n"
                "<input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" "
                "required maxlength=\"254\" value=\"");
    escape_html(b, f ? f->email : "");
    buf_puts(b, "\"");
    describedby(b, "email", e->email, "email");
    buf_puts(b, ">\n");
    field_error(b, "email", e->email);

    buf_puts(b, "<label for=\"name\">Name <span class=\"hint\">Optional. Signs your "
                "message.</span></label>\n<input type=\"text\" id=\"name\" name=\"name\" "
                "autocomplete=\"name\" maxlength=\"100\" value=\"");
    escape_html(b, f ? f->name : "");
    buf_puts(b, "\"");
    describedby(b, "name", e->name, NULL);
    buf_puts(b, ">\n");
    field_error(b, "name", e->name);

    if (c->statement_enabled) {
        buf_puts(b, "<label for=\"statement\">");
        escape_html(b, c->statement_prompt);
        buf_printf(b, " <span class=\"hint\" id=\"statement-hint\">Optional, up to %d "
                      "characters. It becomes part of your message.</span></label>\n"
                      "<textarea id=\"statement\" name=\"statement\" maxlength=\"%d\"",
                   c->statement_max_chars, c->statement_max_chars);
        describedby(b, "statement", e->statement, "statement");
        buf_puts(b, ">");
        escape_html(b, f ? f->statement : "");
        buf_puts(b, "</textarea>\n");
        field_error(b, "statement", e->statement);
    }
    if (c->assignment == ASSIGN_CHOOSE) {
        buf_puts(b, "<label for=\"target\">Where you will act</label>\n"
                    "<select id=\"target\" name=\"target\" required");
        describedby(b, "target", e->target, NULL);
        buf_puts(b, ">\n<option value=\"\">Choose…</option>\n");
        for (size_t i = 0; i < c->target_count; i++) {
            const struct target_spec *t = &c->targets[i];
            if (!target_has_room(rows, nrows, t->id))
                continue;
            buf_puts(b, "<option value=\"");
            escape_html(b, t->id);
            buf_puts(b, "\"");
            if (f && f->target && strcmp(f->target, t->id) == 0)
                buf_puts(b, " selected");
            buf_puts(b, ">");
            escape_html(b, t->label ? t->label : t->id);
            buf_puts(b, "</option>\n");
        }
        buf_puts(b, "</select>\n");
        field_error(b, "target", e->target);
    }
    buf_puts(b, "<label for=\"timezone\">Your time zone <span class=\"hint\" "
                "id=\"timezone-hint\">Filled in by your browser; we show the moment in it."
                "</span></label>\n<input type=\"text\" id=\"timezone\" name=\"timezone\" "
                "data-fill-timezone maxlength=\"64\" autocomplete=\"off\" value=\"");
    escape_html(b, f && f->timezone ? f->timezone : "");
    buf_puts(b, "\"");
    if (f && f->timezone && *f->timezone)
        buf_puts(b, " data-kept");
    describedby(b, "timezone", e->timezone, "timezone");
    buf_puts(b, ">\n");
    field_error(b, "timezone", e->timezone);

    buf_puts(b, "<label class=\"check\" for=\"consent\"><input type=\"checkbox\" id=\"consent\" "
                "name=\"consent\" value=\"yes\" required");
    if (f && f->consent)
        buf_puts(b, " checked");
    describedby(b, "consent", e->consent, NULL);
    buf_puts(b, "><span>");
    escape_html(b, consent);
    buf_puts(b, "</span></label>\n");
    field_error(b, "consent", e->consent);
    buf_puts(b, "<div class=\"actions\"><button type=\"submit\">Pledge</button></div>\n"
                "</form>\n</section>\n");
    page_end(b);
}

static int load_targets(struct http_request *req, int64_t campaign_id, struct target_list *out)
{
    return store_targets(req->store, campaign_id, out);
}

void handle_pledge_page(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(req->store, req->params[0], &row, &c);
    if (rc == STORE_NOT_FOUND) {
        page_not_found(req, resp);
        return;
    }
    if (rc != 0) {
        page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return;
    }
    struct target_list list = {NULL, 0};
    if (load_targets(req, row.id, &list) != 0)
        list.count = 0;
    render_page(req, resp, c, &row, list.rows, list.count, NULL, NULL);
    target_list_release(&list);
    campaign_row_release(&row);
}

static void json_errors(struct http_response *resp, int status, const struct pledge_errors *e)
{
    json_t *errors = json_object();
    json_t *root = json_pack("{s:o}", "errors", errors);
    if (e->email[0])
        json_object_set_new(errors, "email", json_string(e->email));
    if (e->name[0])
        json_object_set_new(errors, "name", json_string(e->name));
    if (e->statement[0])
        json_object_set_new(errors, "statement", json_string(e->statement));
    if (e->timezone[0])
        json_object_set_new(errors, "timezone", json_string(e->timezone));
    if (e->consent[0])
        json_object_set_new(errors, "consent", json_string(e->consent));
    if (e->target[0])
        json_object_set_new(errors, "target", json_string(e->target));
    char *text = json_dumps(root, JSON_COMPACT);
    http_json(resp, status, text ? text : "{\"errors\":{}}");
    free(text);
    json_decref(root);
}

static void json_error_one(struct http_response *resp, int status, const char *field,
                           const char *message)
{
    json_t *root = json_pack("{s:{s:s}}", "errors", field, message);
    char *text = json_dumps(root, JSON_COMPACT);
    http_json(resp, status, text ? text : "{\"errors\":{}}");
    free(text);
    json_decref(root);
}

/* Reads the JSON body into f (strings point into *root). Type errors go to e.
 * Returns -1 when the body is not a JSON object (answered). */
static int read_json(struct http_request *req, struct http_response *resp, json_t **root,
                     struct pledge_fields *f, struct pledge_errors *e)
{
    json_error_t jerr;
    *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root || !json_is_object(*root)) {
        char msg[256];
        if (*root)
            snprintf(msg, sizeof msg, "expected a JSON object");
        else
            snprintf(msg, sizeof msg, "invalid JSON at line %d, column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        json_decref(*root);
        *root = NULL;
        json_error_one(resp, 400, "body", msg);
        return -1;
    }
    struct {
        const char *key;
        const char **slot;
        char *err;
    } strings[] = {{"email", &f->email, e->email},       {"name", &f->name, e->name},
                   {"statement", &f->statement, e->statement},
                   {"timezone", &f->timezone, e->timezone}, {"target", &f->target, e->target}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        json_t *v = json_object_get(*root, strings[i].key);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            snprintf(strings[i].err, 160, "Must be a string.");
        else
            *strings[i].slot = json_string_value(v);
    }
    json_t *consent = json_object_get(*root, "consent");
    if (consent && !json_is_boolean(consent))
        snprintf(e->consent, sizeof e->consent, "Must be true or false.");
    f->consent = consent && json_is_true(consent);
    return 0;
}

static void merge_errors(struct pledge_errors *into, const struct pledge_errors *from)
{
    char *dst[] = {into->email, into->name, into->statement, into->timezone, into->consent,
                   into->target};
    const char *src[] = {from->email, from->name, from->statement, from->timezone, from->consent,
                         from->target};
    for (size_t i = 0; i < 6; i++)
        if (src[i][0] && !dst[i][0])
            snprintf(dst[i], 160, "%s", src[i]);
    into->count = !!into->email[0] + !!into->name[0] + !!into->statement[0] +
                  !!into->timezone[0] + !!into->consent[0] + !!into->target[0];
}

static void pledge_done_page(struct http_response *resp, const char *slug, const char *title,
                             const char *email)
{
    struct buf *b = &resp->body;
    resp->status = 200;
    page_begin(b, "Check your inbox");
    buf_puts(b, "<section class=\"card success\">\n<p class=\"eyebrow\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n<h1>Check your inbox</h1>\n<p>We sent a confirmation link to <b>");
    escape_html(b, email);
    buf_puts(b, "</b>. Open it and press <b>Confirm</b> to count your pledge for <i>");
    escape_html(b, title);
    buf_puts(b, "</i>.</p>\n<p class=\"muted\">Nothing arrived after a few minutes? Look in your "
                "spam folder, or pledge again with the same address.</p>\n");
    buf_printf(b, "<p><a href=\"/c/%s\">Back to the campaign</a></p>\n</section>\n", slug);
    page_end(b);
}

/* A pledge waiting for its group commit: owns copies of everything it needs,
 * because the request's form and JSON are gone when the commit is done. */
struct pledge_job {
    int64_t campaign_id;
    int is_json;
    char *slug;
    char *title;
    struct pledge_input in;
    enum pledge_outcome outcome;
};

static void pledge_job_release(void *arg)
{
    struct pledge_job *j = arg;
    free(j->slug);
    free(j->title);
    free((char *)j->in.email);
    free((char *)j->in.name);
    free((char *)j->in.statement);
    free((char *)j->in.timezone);
    free((char *)j->in.target);
    free((char *)j->in.consent_text);
    free((char *)j->in.client_ip);
    free(j);
}

static int pledge_job_run(struct store *st, void *arg)
{
    struct pledge_job *j = arg;
    return pledges_record_in_tx(st, j->campaign_id, &j->in, 3, tz_now(), &j->outcome);
}

static void pledge_job_finish(struct http_request *req, struct http_response *resp, void *arg,
                              int rc)
{
    struct pledge_job *j = arg;
    if (rc != 0) {
        if (j->is_json)
            json_error_one(resp, 503, "body", "Could not save the pledge. Try again.");
        else
            page_error(req, resp, 503, "Not saved", "Your pledge could not be saved. Try again.");
        return;
    }
    atomic_fetch_add(&req->app->metrics.pledges, 1);
    log_info("pledge.recorded", "campaign=%s outcome=%d", j->slug, (int)j->outcome);
    app_wake_sender(req->app);
    if (j->is_json)
        http_json(resp, 202,
                  "{\"status\":\"pending\",\"message\":\"Check your inbox to confirm your "
                  "pledge.\"}");
    else
        pledge_done_page(resp, j->slug, j->title, j->in.email);
}

/* Queues the pledge for the next group commit; the answer follows the fsync. */
static int submit_pledge(struct http_request *req, struct http_response *resp,
                         const struct campaign *c, int64_t campaign_id,
                         const struct pledge_fields *f, int is_json)
{
    char consent[512];
    consent_text(c, consent, sizeof consent);
    struct pledge_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->campaign_id = campaign_id;
    j->is_json = is_json;
    j->slug = strdup(c->slug);
    j->title = strdup(c->title);
    j->in.email = strdup(f->email);
    j->in.name = strdup(f->name ? f->name : "");
    j->in.statement = strdup(f->statement ? f->statement : "");
    j->in.timezone = strdup(f->timezone);
    j->in.target = f->target ? strdup(f->target) : NULL;
    j->in.consent_text = strdup(consent);
    j->in.client_ip = strdup(http_client_ip(req));
    if (!j->slug || !j->title || !j->in.email || !j->in.name || !j->in.statement ||
        !j->in.timezone || (f->target && !j->in.target) || !j->in.consent_text ||
        !j->in.client_ip) {
        pledge_job_release(j);
        return -1;
    }
    struct http_deferred d = {
        .run = pledge_job_run, .finish = pledge_job_finish, .release = pledge_job_release, .arg = j};
    http_defer(resp, &d);
    return 0;
}

void handle_pledge_post(struct http_request *req, struct http_response *resp)
{
    const char *ctype = http_header(req, "Content-Type");
    int is_json = ctype && strncasecmp(ctype, "application/json", 16) == 0;
    int is_form = ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(req->store, req->params[0], &row, &c);
    if (rc != 0) {
        if (is_json)
            json_error_one(resp, rc == STORE_NOT_FOUND ? 404 : 500, "campaign",
                           rc == STORE_NOT_FOUND ? "No such campaign." : "Try again.");
        else if (rc == STORE_NOT_FOUND)
            page_not_found(req, resp);
        else
            page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return;
    }
    json_t *root = NULL;
    struct form form;
    memset(&form, 0, sizeof form);
    struct pledge_fields f;
    memset(&f, 0, sizeof f);
    struct pledge_errors type_errors, e;
    memset(&type_errors, 0, sizeof type_errors);
    struct target_list list = {NULL, 0};
    const struct target_row *rows = NULL;
    size_t nrows = 0;

    if (is_json) {
        if (read_json(req, resp, &root, &f, &type_errors) != 0)
            goto out;
    } else if (is_form) {
        char err[160];
        if (form_parse(&form, req->body, req->body_len, err, sizeof err) != 0) {
            page_error(req, resp, 400, "The form could not be read", err);
            goto out;
        }
        if (!session_csrf_field_ok(req, form_get(&form, "csrf"))) {
            page_error(req, resp, 403, "Form expired",
                       "This form has expired or was sent from another site. Go back, reload "
                       "the page and try again.");
            goto out;
        }
        f.email = form_get(&form, "email");
        f.name = form_get(&form, "name");
        f.statement = form_get(&form, "statement");
        f.timezone = form_get(&form, "timezone");
        f.target = form_get(&form, "target");
        const char *consent = form_get(&form, "consent");
        f.consent = consent && *consent;
    } else {
        http_json(resp, 415,
                  "{\"errors\":{\"body\":\"send application/json or "
                  "application/x-www-form-urlencoded\"}}");
        goto out;
    }
    if (load_targets(req, row.id, &list) != 0) {
        page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        goto out;
    }
    rows = list.rows;
    nrows = list.count;
    validate(c, rows, nrows, &f, &e);
    merge_errors(&e, &type_errors);
    if (e.count) {
        if (is_json) {
            json_errors(resp, 422, &e);
        } else {
            resp->status = 422;
            render_page(req, resp, c, &row, rows, nrows, &f, &e);
        }
        goto out;
    }
    if (!ratelimit_hit(req->app->pledge_limiter, http_client_ip(req), req->now)) {
        if (is_json)
            json_error_one(resp, 429, "rate",
                           "Too many pledges from your network in the last hour. Try later.");
        else
            page_error(req, resp, 429, "Too many pledges",
                       "Too many pledges came from your network in the last hour. Please try "
                       "again later.");
        goto out;
    }
    if (submit_pledge(req, resp, c, row.id, &f, is_json) != 0) {
        if (is_json)
            json_error_one(resp, 503, "body", "Could not save the pledge. Try again.");
        else
            page_error(req, resp, 503, "Not saved", "Your pledge could not be saved. Try again.");
    }
out:
    target_list_release(&list);
    json_decref(root);
    form_release(&form);
    campaign_row_release(&row);
}
