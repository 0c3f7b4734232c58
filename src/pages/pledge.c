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
#include "core/i18n.h"
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

/* Room for a message in any shipped language (Arabic takes two bytes a letter). */
#define ERROR_SIZE 512

struct pledge_errors {
    char email[ERROR_SIZE];
    char name[ERROR_SIZE];
    char statement[ERROR_SIZE];
    char timezone[ERROR_SIZE];
    char consent[ERROR_SIZE];
    char target[ERROR_SIZE];
    int count;
};

/* The consent as shown and kept with the pledge, in the campaign's language.
 * The organizer's name is isolated (U+2068 ... U+2069) so a name written in
 * the other direction does not reorder the sentence around it. */
static void consent_text(const struct campaign *c, const char *lang, char *out, size_t n)
{
    char who[512];
    if (c->organizer_name && *c->organizer_name)
        snprintf(who, sizeof who, "\xe2\x81\xa8%s\xe2\x81\xa9", c->organizer_name);
    else
        snprintf(who, sizeof who, "%s", i18n(lang, "The organizers"));
    snprintf(out, n,
             i18n(lang, "I agree that %s may store my email address, name and statement to "
                        "confirm my pledge, send me a reminder at the launch moment, and count "
                        "my pledge. I can unsubscribe at any time."),
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
            return rows[i].open && !rows[i].removed &&
                   (rows[i].cap < 0 || rows[i].assigned < rows[i].cap);
    return 0;
}

static void validate(const struct campaign *c, const char *lang, const struct target_row *rows,
                     size_t nrows, struct pledge_fields *f, struct pledge_errors *e)
{
    memset(e, 0, sizeof *e);
    if (!f->email || !*f->email) {
        snprintf(e->email, sizeof e->email, "%s", i18n(lang, "Enter your email address."));
    } else if (strlen(f->email) > 254 || !mail_address_valid(f->email)) {
        snprintf(e->email, sizeof e->email, "%s",
                 i18n(lang, "Enter a valid email address, like name@example.org."));
    }
    if (f->name && utf8_length(f->name) > NAME_MAX_CHARS)
        snprintf(e->name, sizeof e->name, i18n(lang, "Use at most %d characters for your name."),
                 NAME_MAX_CHARS);
    else if (f->name && has_control_chars(f->name, 0))
        snprintf(e->name, sizeof e->name, "%s",
                 i18n(lang, "Your name cannot contain line breaks."));
    if (!c->statement_enabled)
        f->statement = "";
    else if (f->statement && utf8_length(f->statement) > (size_t)c->statement_max_chars)
        snprintf(e->statement, sizeof e->statement,
                 i18n(lang, "Use at most %d characters; this has %zu."), c->statement_max_chars,
                 utf8_length(f->statement));
    else if (f->statement && has_control_chars(f->statement, 1))
        snprintf(e->statement, sizeof e->statement, "%s",
                 i18n(lang, "Remove the control characters."));
    if (!f->timezone || !*f->timezone)
        f->timezone = "UTC";
    else if (!tz_valid(f->timezone))
        snprintf(e->timezone, sizeof e->timezone, "%s",
                 i18n(lang, "Use a time zone name such as Europe/Berlin, America/New_York or "
                            "UTC."));
    if (!f->consent)
        snprintf(e->consent, sizeof e->consent, "%s",
                 i18n(lang, "Tick the box to agree, or we cannot keep your pledge."));
    if (c->assignment == ASSIGN_CHOOSE) {
        if (!f->target || !*f->target)
            snprintf(e->target, sizeof e->target, "%s", i18n(lang, "Choose where you will act."));
        else if (!campaign_target(c, f->target) || !target_has_room(rows, nrows, f->target))
            snprintf(e->target, sizeof e->target, "%s",
                     i18n(lang, "That target is not taking new supporters; choose another."));
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
                        const struct target_row *rows, size_t nrows, const struct pledge_fields *f,
                        const struct pledge_errors *e)
{
    struct buf *b = &resp->body;
    const char *lang = row->language;
    int64_t confirmed = 0;
    if (store_confirmed_count(req->store, row->id, &confirmed) != 0)
        confirmed = 0;
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    char when[128], iso[21], consent[1024];
    if (i18n_format_moment(row->launch_utc, c->timezone, lang, when, sizeof when) != 0)
        snprintf(when, sizeof when, "(unknown)");
    tz_iso_utc(row->launch_utc, iso);
    consent_text(c, lang, consent, sizeof consent);

    page_begin_in(b, lang, c->title);
    buf_puts(b, "<article class=\"card\">\n");
    if (c->organizer_name && *c->organizer_name) {
        buf_puts(b, "<p class=\"eyebrow\" dir=\"auto\">");
        escape_html(b, c->organizer_name);
        buf_puts(b, "</p>\n");
    }
    buf_puts(b, "<h1 dir=\"auto\">");
    escape_html(b, c->title);
    buf_puts(b, "</h1>\n<div dir=\"auto\" id=\"description\">\n");
    page_paragraphs(b, c->description);
    buf_puts(b, "</div>\n<div class=\"moment\"><div><span class=\"muted\">");
    escape_html(b, i18n(lang, "We act together on"));
    buf_puts(b, "</span><strong data-local-time=\"");
    buf_puts(b, iso);
    buf_puts(b, "\" id=\"local-time\">");
    escape_html(b, when);
    buf_puts(b, "</strong><span class=\"zone\" id=\"organizer-time\">");
    char organizer_time[256];
    snprintf(organizer_time, sizeof organizer_time,
             i18n(lang, "%s (%s, the organizers' time zone)"), when, c->timezone);
    escape_html(b, organizer_time);
    buf_puts(b, "</span></div></div>\n");
    if (row->launched_at || req->now >= row->launch_utc) {
        int64_t end = row->launch_utc + (int64_t)row->window_minutes * 60;
        buf_puts(b, "<p class=\"notice\">");
        escape_html(b, req->now < end ? i18n(lang, "The day of action is happening now. Pledge "
                                                   "and confirm, and your link arrives at once.")
                                      : i18n(lang, "This moment has passed. You can still pledge "
                                                   "to hear about the next one."));
        buf_puts(b, "</p>\n");
    }
    buf_puts(b, "<p class=\"count\" id=\"pledge-count\">");
    escape_html(b, i18n(lang, "Pledges so far:"));
    buf_printf(b, " <b>%lld</b></p>\n", (long long)confirmed);
    buf_puts(b, "</article>\n<section class=\"card\" aria-labelledby=\"pledge-heading\">\n"
                "<h2 id=\"pledge-heading\">");
    escape_html(b, i18n(lang, "Pledge to take part"));
    buf_puts(b, "</h2>\n");
    if (e && e->count) {
        char summary[256];
        snprintf(summary, sizeof summary, i18n(lang, "Please fix the fields marked below (%d)."),
                 e->count);
        buf_puts(b, "<div class=\"errors\" role=\"alert\" tabindex=\"-1\" "
                    "data-error-summary><p>");
        escape_html(b, summary);
        buf_puts(b, "</p></div>\n");
    }
    static const struct pledge_errors none;
    if (!e)
        e = &none;
    buf_printf(b, "<form method=\"post\" action=\"/c/%s/pledge#pledge-heading\" novalidate>\n",
               c->slug);
    buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", csrf);

    buf_puts(b, "<label for=\"email\">");
    escape_html(b, i18n(lang, "Email"));
    buf_puts(b, " <span class=\"hint\" id=\"email-hint\">");
    escape_html(b, i18n(lang, "We send one confirmation now and one reminder at the moment."));
    buf_puts(b, "</span></label>\n<input type=\"email\" id=\"email\" name=\"email\" "
                "autocomplete=\"email\" required maxlength=\"254\" dir=\"auto\" value=\"");
    escape_html(b, f ? f->email : "");
    buf_puts(b, "\"");
    describedby(b, "email", e->email, "email");
    buf_puts(b, ">\n");
    field_error(b, "email", e->email);

    buf_puts(b, "<label for=\"name\">");
    escape_html(b, i18n(lang, "Name"));
    buf_puts(b, " <span class=\"hint\">");
    escape_html(b, i18n(lang, "Optional. Signs your message."));
    buf_puts(b, "</span></label>\n<input type=\"text\" id=\"name\" name=\"name\" "
                "autocomplete=\"name\" maxlength=\"100\" dir=\"auto\" value=\"");
    escape_html(b, f ? f->name : "");
    buf_puts(b, "\"");
    describedby(b, "name", e->name, NULL);
    buf_puts(b, ">\n");
    field_error(b, "name", e->name);

    if (c->statement_enabled) {
        buf_puts(b, "<label for=\"statement\"><span dir=\"auto\">");
        escape_html(b, c->statement_prompt);
        buf_puts(b, "</span> <span class=\"hint\" id=\"statement-hint\">");
        char hint[256];
        snprintf(hint, sizeof hint,
                 i18n(lang, "Optional, up to %d characters. It becomes part of your message."),
                 c->statement_max_chars);
        escape_html(b, hint);
        buf_printf(b,
                   "</span></label>\n<textarea id=\"statement\" name=\"statement\" "
                   "dir=\"auto\" maxlength=\"%d\"",
                   c->statement_max_chars);
        describedby(b, "statement", e->statement, "statement");
        buf_puts(b, ">");
        escape_html(b, f ? f->statement : "");
        buf_puts(b, "</textarea>\n");
        field_error(b, "statement", e->statement);
    }
    if (c->assignment == ASSIGN_CHOOSE) {
        buf_puts(b, "<label for=\"target\">");
        escape_html(b, i18n(lang, "Where you will act"));
        buf_puts(b, "</label>\n<select id=\"target\" name=\"target\" required");
        describedby(b, "target", e->target, NULL);
        buf_puts(b, ">\n<option value=\"\">");
        escape_html(b, i18n(lang, "Choose…"));
        buf_puts(b, "</option>\n");
        for (size_t i = 0; i < c->target_count; i++) {
            const struct target_spec *t = &c->targets[i];
            if (!target_has_room(rows, nrows, t->id))
                continue;
            buf_puts(b, "<option value=\"");
            escape_html(b, t->id);
            buf_puts(b, "\" dir=\"auto\"");
            if (f && f->target && strcmp(f->target, t->id) == 0)
                buf_puts(b, " selected");
            buf_puts(b, ">");
            escape_html(b, t->label ? t->label : t->id);
            buf_puts(b, "</option>\n");
        }
        buf_puts(b, "</select>\n");
        field_error(b, "target", e->target);
    }
    buf_puts(b, "<label for=\"timezone\">");
    escape_html(b, i18n(lang, "Your time zone"));
    buf_puts(b, " <span class=\"hint\" id=\"timezone-hint\">");
    escape_html(b, i18n(lang, "Filled in by your browser; we show the moment in it."));
    buf_puts(b, "</span></label>\n<input type=\"text\" id=\"timezone\" name=\"timezone\" "
                "data-fill-timezone maxlength=\"64\" autocomplete=\"off\" dir=\"ltr\" "
                "value=\"");
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
    buf_puts(b, "<div class=\"actions\"><button type=\"submit\">");
    escape_html(b, i18n(lang, "Pledge"));
    buf_puts(b, "</button></div>\n</form>\n</section>\n");
    page_end_in(b, lang);
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
static int read_json(struct http_request *req, struct http_response *resp, const char *lang,
                     json_t **root, struct pledge_fields *f, struct pledge_errors *e)
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
    } strings[] = {{"email", &f->email, e->email},
                   {"name", &f->name, e->name},
                   {"statement", &f->statement, e->statement},
                   {"timezone", &f->timezone, e->timezone},
                   {"target", &f->target, e->target}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        json_t *v = json_object_get(*root, strings[i].key);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            snprintf(strings[i].err, ERROR_SIZE, "%s", i18n(lang, "Must be a string."));
        else
            *strings[i].slot = json_string_value(v);
    }
    json_t *consent = json_object_get(*root, "consent");
    if (consent && !json_is_boolean(consent))
        snprintf(e->consent, sizeof e->consent, "%s", i18n(lang, "Must be true or false."));
    f->consent = consent && json_is_true(consent);
    return 0;
}

static void merge_errors(struct pledge_errors *into, const struct pledge_errors *from)
{
    char *dst[] = {into->email,    into->name,    into->statement,
                   into->timezone, into->consent, into->target};
    const char *src[] = {from->email,    from->name,    from->statement,
                         from->timezone, from->consent, from->target};
    for (size_t i = 0; i < 6; i++)
        if (src[i][0] && !dst[i][0])
            snprintf(dst[i], ERROR_SIZE, "%s", src[i]);
    into->count = !!into->email[0] + !!into->name[0] + !!into->statement[0] + !!into->timezone[0] +
                  !!into->consent[0] + !!into->target[0];
}

/* Appends HTML for the translated format, whose %s are filled with the
 * values in order, each escaped and wrapped in open/close: the sentence
 * is the translator's, the values and their markup are not. */
static void html_sentence(struct buf *b, const char *format, const char *const *values,
                          const char *const *open, const char *const *close, size_t n)
{
    size_t k = 0;
    for (const char *p = format; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && k < n) {
            buf_puts(b, open[k]);
            escape_html(b, values[k]);
            buf_puts(b, close[k]);
            k++;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            buf_puts(b, "%");
            p++;
        } else {
            escape_html_n(b, p, 1);
        }
    }
}

static void pledge_done_page(struct http_response *resp, const char *lang, const char *slug,
                             const char *title, const char *email)
{
    struct buf *b = &resp->body;
    resp->status = 200;
    page_begin_in(b, lang, i18n(lang, "Check your inbox"));
    buf_puts(b, "<section class=\"card success\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n<h1>");
    escape_html(b, i18n(lang, "Check your inbox"));
    buf_puts(b, "</h1>\n<p>");
    const char *values[] = {email, i18n(lang, "Confirm my pledge"), title};
    const char *open[] = {"<b><bdi>", "<b>", "<i><bdi>"};
    const char *close[] = {"</bdi></b>", "</b>", "</bdi></i>"};
    html_sentence(b,
                  i18n(lang, "We sent a confirmation link to %s. Open it and press %s to count "
                             "your pledge for %s."),
                  values, open, close, 3);
    buf_puts(b, "</p>\n<p class=\"muted\">");
    escape_html(b, i18n(lang, "Nothing arrived after a few minutes? Look in your spam folder, or "
                              "pledge again with the same address."));
    buf_printf(b, "</p>\n<p><a href=\"/c/%s\">", slug);
    escape_html(b, i18n(lang, "Back to the campaign"));
    buf_puts(b, "</a></p>\n</section>\n");
    page_end_in(b, lang);
}

/* A pledge waiting for its group commit: owns copies of everything it needs,
 * because the request's form and JSON are gone when the commit is done. */
struct pledge_job {
    int64_t campaign_id;
    int is_json;
    char *slug;
    char *title;
    char lang[I18N_TAG_MAX + 1];
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
            json_error_one(resp, 503, "body",
                           i18n(j->lang, "Could not save the pledge. Try again."));
        else
            page_error_in(req, resp, j->lang, 503, i18n(j->lang, "Not saved"),
                          i18n(j->lang, "Your pledge could not be saved. Try again."));
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
        pledge_done_page(resp, j->lang, j->slug, j->title, j->in.email);
}

/* Queues the pledge for the next group commit; the answer follows the fsync. */
static int submit_pledge(struct http_request *req, struct http_response *resp,
                         const struct campaign *c, const struct campaign_row *row,
                         const struct pledge_fields *f, int is_json)
{
    int64_t campaign_id = row->id;
    char consent[1024];
    consent_text(c, row->language, consent, sizeof consent);
    struct pledge_job *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    snprintf(j->lang, sizeof j->lang, "%s", row->language);
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
    struct http_deferred d = {.run = pledge_job_run,
                              .finish = pledge_job_finish,
                              .release = pledge_job_release,
                              .arg = j};
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
    /* The campaign is read in the thread's shared read snapshot (the pledges
     * of one moment read its row once); one it does not know yet is looked
     * for again outside it (created since). */
    int in_snapshot = app_snapshot_enter(req->store) == 0;
    int rc = in_snapshot ? campaign_cache_get(req->store, req->params[0], &row, &c) : -1;
    if (rc == STORE_NOT_FOUND) {
        app_snapshot_leave(req->store);
        in_snapshot = 0;
        store_snapshot_end(req->store);
        rc = campaign_cache_get(req->store, req->params[0], &row, &c);
    }
    if (rc != 0) {
        if (in_snapshot)
            app_snapshot_leave(req->store);
        if (is_json)
            json_error_one(resp, rc == STORE_NOT_FOUND ? 404 : 500, "campaign",
                           rc == STORE_NOT_FOUND ? "No such campaign." : "Try again.");
        else if (rc == STORE_NOT_FOUND)
            page_not_found(req, resp);
        else
            page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return;
    }
    const char *lang = row.language;
    json_t *root = NULL;
    struct form form;
    memset(&form, 0, sizeof form);
    struct pledge_fields f;
    memset(&f, 0, sizeof f);
    struct pledge_errors type_errors, e;
    memset(&type_errors, 0, sizeof type_errors);
    struct target_list list = {NULL, 0};

    if (is_json) {
        if (read_json(req, resp, lang, &root, &f, &type_errors) != 0)
            goto out;
    } else if (is_form) {
        char err[160];
        if (form_parse(&form, req->body, req->body_len, err, sizeof err) != 0) {
            page_error_in(req, resp, lang, 400, i18n(lang, "The form could not be read"), err);
            goto out;
        }
        if (!session_csrf_field_ok(req, form_get(&form, "csrf"))) {
            page_error_in(req, resp, lang, 403, i18n(lang, "Form expired"),
                          i18n(lang, "This form has expired or was sent from another site. Go "
                                     "back, reload the page and try again."));
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
    /* The targets' rows are read only when a choice is checked or the form
     * is shown again: most pledges name none, and need none. */
    int need_targets = c->assignment == ASSIGN_CHOOSE;
    if (need_targets && load_targets(req, row.id, &list) != 0)
        goto targets_failed;
    validate(c, lang, list.rows, list.count, &f, &e);
    merge_errors(&e, &type_errors);
    if (e.count) {
        if (is_json) {
            json_errors(resp, 422, &e);
        } else {
            if (!need_targets && load_targets(req, row.id, &list) != 0)
                goto targets_failed;
            resp->status = 422;
            render_page(req, resp, c, &row, list.rows, list.count, &f, &e);
        }
        goto out;
    }
    if (!ratelimit_hit(req->app->pledge_limiter, http_client_ip(req), req->now)) {
        if (is_json)
            json_error_one(resp, 429, "rate",
                           i18n(lang, "Too many pledges from your network in the last hour. Try "
                                      "later."));
        else
            page_error_in(req, resp, lang, 429, i18n(lang, "Too many pledges"),
                          i18n(lang, "Too many pledges came from your network in the last hour. "
                                     "Please try again later."));
        goto out;
    }
    if (submit_pledge(req, resp, c, &row, &f, is_json) != 0) {
        if (is_json)
            json_error_one(resp, 503, "body", i18n(lang, "Could not save the pledge. Try again."));
        else
            page_error_in(req, resp, lang, 503, i18n(lang, "Not saved"),
                          i18n(lang, "Your pledge could not be saved. Try again."));
    }
    goto out;
targets_failed:
    page_error_in(req, resp, lang, 500, i18n(lang, "Something went wrong"),
                  i18n(lang, "Please try again in a moment."));
out:
    if (in_snapshot)
        app_snapshot_leave(req->store);
    target_list_release(&list);
    json_decref(root);
    form_release(&form);
    campaign_row_release(&row);
}
