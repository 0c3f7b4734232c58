/*
 * action: the one-click link. GET /a/TOKEN assigns the supporter a target
 * (sticky; rerouted when it closed), renders their message, records the click
 * and answers 302 to the prefilled URL, or the action page when no URL can
 * carry the action (a call, a message past the kind's limit, a mastodon
 * instance to pick, the "all" assignment, ?review=1: a review counts no
 * click). Before the moment it shows a countdown; HEAD answers as GET would
 * and records nothing. POST /a/TOKEN/report is "this target did not accept my
 * action", counted only from a supporter the target was assigned to (403 for
 * anyone else), and it moves the reporter to the next open target; POST
 * /a/TOKEN/instance remembers the
 * supporter's mastodon instance (CSRF-checked; only a public host name,
 * target_instance_problem). GET /t/TOKEN is a test reminder's link: the same
 * redirect or page for nobody in particular, counting nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/assigner.h"
#include "campaign/campaign.h"
#include "campaign/template.h"
#include "service/campaigns.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/token.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/pages.h"
#include "store/store.h"
#include "targets/target.h"
#include "core/banned.h"

#define REPORT_WINDOW_SECONDS 600

struct rendered {
    struct buf title;
    struct buf body;
};

static int render_message(const struct campaign *c, const struct supporter *s,
                          const char *target_id, struct rendered *out, struct template_vars *vars)
{
    vars->name = s->name;
    vars->statement = s->statement;
    vars->campaign_title = c->title;
    vars->target_id = target_id ? target_id : "";
    buf_init(&out->title, 0);
    buf_init(&out->body, 0);
    if (template_render(c->title_template, vars, NULL, &out->title) != 0 ||
        template_render(c->body_template, vars, NULL, &out->body) != 0) {
        buf_release(&out->title);
        buf_release(&out->body);
        return -1;
    }
    return 0;
}

static void rendered_release(struct rendered *r)
{
    buf_release(&r->title);
    buf_release(&r->body);
}

static void head(struct buf *b, const struct campaign *c, const char *lang, const char *title)
{
    page_begin_in(b, lang, title);
    buf_puts(b, "<section class=\"card\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, c->title);
    buf_puts(b, "</p>\n");
}

/* A copy button: hidden until the script shows it; says "Copied" in lang. */
static void copy_button(struct buf *b, const char *lang, const char *id, const char *suffix,
                        const char *label)
{
    buf_printf(b,
               "<div class=\"actions\"><button type=\"button\" class=\"secondary\" "
               "data-copy=\"%s%s\" data-copied=\"",
               id, suffix);
    escape_html(b, i18n(lang, "Copied"));
    buf_puts(b, "\" hidden>");
    escape_html(b, label);
    buf_puts(b, "</button></div>\n");
}

/* The message boxes: the supporter's and organizer's words, dir="auto" so
 * an Arabic title in an English page (or the reverse) starts at its own
 * side and "-- name" keeps its order. */
static void copy_boxes(struct buf *b, const char *lang, const struct rendered *m,
                       const char *suffix)
{
    if (m->title.len) {
        /* A wrapping box, not a one-line input: a long title is shown whole,
         * from its first word, in either direction. */
        int rows = 1 + (int)(utf8_length(buf_cstr(&m->title)) / 50);
        rows = rows > 6 ? 6 : rows;
        buf_printf(b, "<label for=\"message-title%s\">", suffix);
        escape_html(b, i18n(lang, "Title"));
        buf_printf(b,
                   "</label>\n<textarea readonly dir=\"auto\" rows=\"%d\" class=\"title-box\" "
                   "id=\"message-title%s\">",
                   rows, suffix);
        escape_html(b, buf_cstr(&m->title));
        buf_puts(b, "</textarea>\n");
        copy_button(b, lang, "message-title", suffix, i18n(lang, "Copy title"));
    }
    if (m->body.len) {
        /* Tall enough to show the whole message, signature included. */
        int rows = 2;
        for (const char *p = buf_cstr(&m->body); *p; p++)
            rows += *p == '\n';
        rows += (int)(m->body.len / 60);
        rows = rows < 6 ? 6 : rows > 30 ? 30 : rows;
        buf_printf(b, "<label for=\"message-body%s\">", suffix);
        escape_html(b, i18n(lang, "Message"));
        buf_printf(b,
                   "</label>\n<textarea readonly dir=\"auto\" rows=\"%d\" "
                   "id=\"message-body%s\">",
                   rows, suffix);
        escape_html(b, buf_cstr(&m->body));
        buf_puts(b, "</textarea>\n");
        copy_button(b, lang, "message-body", suffix, i18n(lang, "Copy message"));
    }
}

static void report_form(struct buf *b, const char *lang, const char *token, const char *target_key)
{
    buf_printf(b,
               "<form method=\"post\" action=\"/a/%s/report\" class=\"report\">\n"
               "<input type=\"hidden\" name=\"target\" value=\"",
               token);
    escape_html(b, target_key);
    buf_puts(b, "\">\n<p class=\"muted\">");
    escape_html(b, i18n(lang, "Could you not send it there (for example, the repository no "
                              "longer accepts issues, or the address bounced)?"));
    buf_puts(b, "</p>\n<button type=\"submit\" class=\"secondary\">");
    escape_html(b, i18n(lang, "This target did not accept my action"));
    buf_puts(b, "</button>\n</form>\n");
}

/* The form that asks for the supporter's mastodon instance; value and
 * problem (what was wrong with the last try) are NULL on a first ask. */
static void instance_form(struct buf *b, const char *lang, const char *token, const char *suffix,
                          const char *csrf, const char *value, const char *problem)
{
    buf_printf(b,
               "<form method=\"post\" action=\"/a/%s/instance\">\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n<label for=\"instance%s\">",
               token, csrf, suffix);
    escape_html(b, i18n(lang, "Your Mastodon server"));
    buf_puts(b, " <span class=\"hint\">");
    escape_html(b, i18n(lang, "For example mastodon.social"));
    buf_puts(b, "</span></label>\n");
    if (problem) {
        buf_printf(b, "<p class=\"error\" id=\"instance%s-error\">", suffix);
        escape_html(b, problem);
        buf_puts(b, "</p>\n");
    }
    buf_printf(b,
               "<input type=\"text\" id=\"instance%s\" name=\"instance\" required dir=\"ltr\" "
               "maxlength=\"%d\" autocomplete=\"off\"",
               suffix, TARGET_INSTANCE_MAX);
    if (problem)
        buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"instance%s-error\"", suffix);
    if (value) {
        buf_puts(b, " value=\"");
        escape_html(b, value);
        buf_puts(b, "\"");
    }
    buf_puts(b, ">\n<div class=\"actions\"><button type=\"submit\">");
    escape_html(b, i18n(lang, "Continue"));
    buf_puts(b, "</button></div>\n</form>\n");
}

/* One target's block on the action page. */
static void target_block(struct buf *b, const struct campaign *c, const char *lang,
                         const struct target_spec *t, const struct supporter *s, const char *token,
                         const char *suffix, const char *csrf)
{
    struct rendered m;
    struct template_vars vars;
    if (render_message(c, s, t->id, &m, &vars) != 0) {
        buf_puts(b, "<p class=\"error\">");
        escape_html(b, i18n(lang, "This message could not be prepared."));
        buf_puts(b, "</p>\n");
        return;
    }
    struct target_message msg = {buf_cstr(&m.title), buf_cstr(&m.body)};
    struct buf url = BUF_INIT;
    int outcome = target_build_action(t, &msg, &vars, s->instance, &url);
    buf_puts(b, "<h2 dir=\"auto\">");
    escape_html(b, t->label ? t->label : t->id);
    buf_puts(b, "</h2>\n");
    if (outcome == TARGET_REDIRECT) {
        buf_puts(b, "<p>");
        escape_html(b, i18n(lang, "Review the prefilled text, then send it yourself."));
        buf_puts(b, "</p>\n<div class=\"actions\"><a class=\"button\" rel=\"noopener\" href=\"");
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "\">");
        escape_html(b, i18n(lang, target_kind_open_label(t->kind)));
        buf_puts(b, "</a></div>\n");
    } else if (outcome == TARGET_PAGE_CALL) {
        buf_puts(b, "<p>");
        escape_html(b, i18n(lang, "Call this number and use the script below."));
        buf_puts(b, "</p>\n<p><a class=\"tel\" dir=\"ltr\" href=\"");
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "\">");
        escape_html(b, t->number);
        buf_puts(b, "</a></p>\n");
        struct buf script = BUF_INIT;
        if (target_render_script(t, &vars, &script) == 0 && script.len) {
            buf_puts(b, "<h3>");
            escape_html(b, i18n(lang, "Script"));
            buf_puts(b, "</h3>\n<pre class=\"message\" dir=\"auto\">");
            escape_html(b, buf_cstr(&script));
            buf_puts(b, "</pre>\n");
        }
        buf_release(&script);
    } else if (outcome == TARGET_PAGE_NEEDS_INSTANCE) {
        instance_form(b, lang, token, suffix, csrf, NULL, NULL);
    } else if (outcome == TARGET_PAGE_TOO_LONG) {
        struct target_limits lim = target_kind_limits(t->kind);
        char notice[1024];
        snprintf(notice, sizeof notice,
                 i18n(lang, "Your message is too long for a one-click link here (%s). Copy it "
                            "below and paste it there; nothing is cut."),
                 i18n(lang, lim.why));
        buf_puts(b, "<p class=\"notice\">");
        escape_html(b, notice);
        buf_puts(b, "</p>\n");
    } else {
        buf_puts(b, "<p class=\"error\">");
        escape_html(b, i18n(lang, "This action could not be prepared."));
        buf_puts(b, "</p>\n");
    }
    copy_boxes(b, lang, &m, suffix);
    report_form(b, lang, token, t->id);
    buf_release(&url);
    rendered_release(&m);
}

static void countdown_page(struct http_response *resp, const struct campaign *c,
                           const struct campaign_row *row, const struct supporter *s)
{
    struct buf *b = &resp->body;
    const char *lang = row->language;
    char when[128], iso[21];
    tz_iso_utc(row->launch_utc, iso);
    if (i18n_format_moment(row->launch_utc, s->timezone, lang, when, sizeof when) != 0)
        snprintf(when, sizeof when, "%s", iso);
    head(b, c, lang, i18n(lang, "Not yet"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "Not yet: the moment is coming"));
    buf_puts(b, "</h1>\n<div class=\"moment\"><div><strong data-local-time=\"");
    buf_puts(b, iso);
    buf_puts(b, "\">");
    escape_html(b, when);
    buf_puts(b, "</strong><span class=\"zone\">");
    escape_html(b, i18n(lang, "Starts in"));
    buf_printf(b, " <span data-countdown=\"%s\" id=\"countdown\">", iso);
    escape_html(b, i18n(lang, "a while"));
    buf_puts(b, "</span></span></div></div>\n<p>");
    escape_html(b, i18n(lang, "Keep this link: it opens your action at the moment."));
    buf_puts(b, "</p>\n</section>\n");
    page_end_in(b, lang);
}

/* 503: the database did not answer while the link was prepared. */
static void action_unavailable(struct http_request *req, struct http_response *resp)
{
    page_error(req, resp, 503, "Try again", "Your action could not be prepared. Reload the page.");
}

/* The answer to the link of supporter s (taken: released here), whose
 * token is valid. */
static void action_answer(struct http_request *req, struct http_response *resp, const char *token,
                          struct supporter s)
{
    if (app_snapshot_enter(req->store) != 0) {
        supporter_release(&s);
        action_unavailable(req, resp);
        return;
    }
    struct campaign_row row = {0};
    const struct campaign *c;
    if (campaign_cache_get_by_id(req->store, s.campaign_id, &row, &c) != 0) {
        app_snapshot_leave(req->store);
        supporter_release(&s);
        page_not_found(req, resp);
        return;
    }
    if (req->now < row.launch_utc) {
        countdown_page(resp, c, &row, &s);
        goto out;
    }
    /* HEAD answers what GET would (RFC 9110 9.3.2: the same status and
     * headers) and records nothing; a review shows the page and counts no
     * click (it keeps a new assignment, so the page shows where the link
     * goes). */
    const char *review = http_query(req, "review");
    int want_page = review && strcmp(review, "1") == 0;
    enum assigner_mode mode = http_is_head(req) ? ASSIGNER_PEEK
                              : want_page       ? ASSIGNER_REVIEW
                                                : ASSIGNER_CLICK;
    struct click_outcome r;
    if (assigner_click(req->app->assigner, req->store, c, &row, &s, mode, req->now, &r) != 0) {
        page_error_in(req, resp, row.language, 503, i18n(row.language, "Try again"),
                      i18n(row.language, "Your action could not be prepared. Reload the page."));
        goto out;
    }
    if (mode == ASSIGNER_CLICK)
        atomic_fetch_add(&req->app->metrics.clicks, 1);
    else if (mode == ASSIGNER_REVIEW)
        atomic_fetch_add(&req->app->metrics.reviews, 1);
    int late = req->now >= row.launch_utc + (int64_t)row.window_minutes * 60;
    const struct target_spec *t = r.target_id ? campaign_target(c, r.target_key) : NULL;

    /* After the window the link still works, through the page that says the
     * moment has passed (a redirect could not say it). */
    if (t && !want_page && !late) {
        struct rendered m;
        struct template_vars vars;
        if (render_message(c, &s, t->id, &m, &vars) == 0) {
            struct target_message msg = {buf_cstr(&m.title), buf_cstr(&m.body)};
            struct buf url = BUF_INIT;
            int outcome = target_build_action(t, &msg, &vars, s.instance, &url);
            if (outcome == TARGET_REDIRECT) {
                http_redirect(resp, 302, buf_cstr(&url));
                buf_release(&url);
                rendered_release(&m);
                goto out;
            }
            buf_release(&url);
            rendered_release(&m);
        }
    }
    /* The page may ask for a mastodon instance: its form carries the token. */
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    const char *lang = row.language;
    head(b, c, lang, i18n(lang, "Your action"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "Your action"));
    buf_puts(b, "</h1>\n");
    if (late) {
        buf_puts(b, "<p class=\"notice\">");
        escape_html(b, i18n(lang, "The moment has passed, but your action still counts. Thank "
                                  "you for acting."));
        buf_puts(b, "</p>\n");
    }
    if (r.rerouted && t) {
        buf_puts(b, "<p class=\"notice\">");
        escape_html(b, i18n(lang, "The target you had closed, so we moved you to an open one."));
        buf_puts(b, "</p>\n");
    }
    if (c->assignment == ASSIGN_ALL) {
        struct target_list list = {NULL, 0};
        if (store_targets(req->store, row.id, &list) != 0)
            list.count = 0;
        const struct target_row *rows = list.rows;
        size_t n = list.count;
        int shown = 0;
        for (size_t i = 0; i < n; i++) {
            const struct target_spec *ti = campaign_target(c, rows[i].key);
            if (!ti || !rows[i].open || rows[i].removed)
                continue;
            char suffix[16];
            snprintf(suffix, sizeof suffix, "-%d", shown + 1);
            buf_puts(b, "<div class=\"target\">\n");
            target_block(b, c, lang, ti, &s, token, suffix, csrf);
            buf_puts(b, "</div>\n");
            shown++;
        }
        target_list_release(&list);
        if (!shown) {
            buf_puts(b, "<div class=\"notice\" id=\"closed-message\" dir=\"auto\">");
            page_paragraphs(b, c->closed_message);
            buf_puts(b, "</div>\n");
        }
    } else if (t) {
        target_block(b, c, lang, t, &s, token, "", csrf);
    } else {
        buf_puts(b, "<div class=\"notice\" id=\"closed-message\" dir=\"auto\">");
        page_paragraphs(b, c->closed_message);
        buf_puts(b, "</div>\n");
    }
    buf_puts(b, "</section>\n");
    page_end_in(b, lang);
out:
    app_snapshot_leave(req->store);
    supporter_release(&s);
    campaign_row_release(&row);
}

/* ---- the links of one moment, read together ----
 *
 * On a database server (STORE_SUPPORTS_BATCHED_READS) a link's supporter is
 * not read by its own request: the request waits for the end of its event
 * loop's turn (http_gather), when the supporters of every link that turn
 * received are read in one statement, in the thread's shared read snapshot.
 * At a launch that is one round trip for tens of clicks instead of one each;
 * the rest of the answer (campaign, assignment, message) is the same code as
 * a link read alone. */
struct action_read {
    struct token_link link;
    struct supporter supporter;
    int found;
    char token[]; /* the link's token, for the page's forms */
};

static void action_read_many(struct store *st, void *const *args, int *rcs, size_t n)
{
    int64_t keys[HTTP_GATHER_MAX];
    struct supporter found_rows[HTTP_GATHER_MAX];
    int found[HTTP_GATHER_MAX];
    for (size_t i = 0; i < n; i++)
        keys[i] = ((struct action_read *)args[i])->link.key;
    int rc = -1;
    if (app_snapshot_enter(st) == 0) {
        rc = store_supporters_by_keys(st, keys, n, found_rows, found);
        app_snapshot_leave(st);
    }
    for (size_t i = 0; i < n; i++) {
        struct action_read *a = args[i];
        rcs[i] = rc;
        a->found = rc == 0 && found[i];
        if (a->found)
            a->supporter = found_rows[i];
    }
}

static const struct http_gather action_gather = {action_read_many};

static void action_read_finish(struct http_request *req, struct http_response *resp, void *arg,
                               int rc)
{
    struct action_read *a = arg;
    if (rc != 0) {
        action_unavailable(req, resp);
        return;
    }
    if (!a->found || !token_link_check(&a->link, TOKEN_ACTION, a->supporter.epoch)) {
        page_not_found(req, resp);
        return;
    }
    a->found = 0; /* the supporter is the answer's now */
    action_answer(req, resp, a->token, a->supporter);
}

static void action_read_release(void *arg)
{
    struct action_read *a = arg;
    if (a->found)
        supporter_release(&a->supporter);
    free(a);
}

void handle_action(struct http_request *req, struct http_response *resp)
{
    const char *token = req->params[0];
    if (store_supports(req->store, STORE_SUPPORTS_BATCHED_READS)) {
        struct token_link link;
        if (token_link_parse(token, &link) != 0) {
            page_not_found(req, resp);
            return;
        }
        size_t len = strlen(token);
        struct action_read *a = calloc(1, sizeof *a + len + 1);
        if (!a) {
            action_unavailable(req, resp);
            return;
        }
        a->link = link;
        memcpy(a->token, token, len + 1);
        struct http_deferred d = {.gather = &action_gather,
                                  .finish = action_read_finish,
                                  .release = action_read_release,
                                  .arg = a};
        http_defer(resp, &d);
        return;
    }
    /* The supporter, the campaign's revision and (on a new revision) the
     * targets are read in the thread's shared read snapshot: the clicks of
     * the same millisecond share one read transaction and one round of WAL
     * locks (taking and dropping the locks was a fifth of a click's CPU).
     * Nothing here writes; the click itself is queued for the assigner's
     * writer. */
    if (app_snapshot_enter(req->store) != 0) {
        action_unavailable(req, resp);
        return;
    }
    struct supporter s;
    int rc = page_supporter_from_token(req, resp, token, TOKEN_ACTION, &s);
    app_snapshot_leave(req->store);
    if (rc == 0)
        action_answer(req, resp, token, s);
}

void handle_action_report(struct http_request *req, struct http_response *resp)
{
    const char *token = req->params[0];
    struct supporter s;
    if (page_supporter_from_token(req, resp, token, TOKEN_ACTION, &s) != 0)
        return;
    struct campaign_row row = {0};
    const struct campaign *c;
    struct form f;
    memset(&f, 0, sizeof f);
    char err[160];
    if (campaign_cache_get_by_id(req->store, s.campaign_id, &row, &c) != 0) {
        page_not_found(req, resp);
        goto out;
    }
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        page_error_in(req, resp, row.language, 400,
                      i18n(row.language, "The form could not be read"), err);
        goto out;
    }
    const char *key = form_get(&f, "target");
    /* Who may report: the supporters the target was given to (the `all`
     * mode gives every open target to everyone). This process's own
     * assignments come first: its latest clicks may not be written yet. */
    int64_t assigned = REPORT_ANY_TARGET;
    if (c->assignment != ASSIGN_ALL) {
        assigned = assigner_assigned(req->app->assigner, row.id, s.id);
        if (!assigned)
            assigned = s.assigned_target;
    }
    int closed = 0;
    int rc = key ? campaigns_target_report(req->store, row.id, s.id, assigned, key,
                                           c->close_after_reports, REPORT_WINDOW_SECONDS, req->now,
                                           &closed)
                 : STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND) {
        page_error_in(req, resp, row.language, 400, i18n(row.language, "Unknown target"),
                      i18n(row.language, "That target is not part of this campaign."));
        goto out;
    }
    if (rc == REPORT_NOT_ASSIGNED) {
        page_error_in(req, resp, row.language, 403, i18n(row.language, "Not your target"),
                      i18n(row.language, "Only the supporters sent to a target can report it, and "
                                         "your link did not send you to this one. Your report was "
                                         "not counted."));
        goto out;
    }
    if (rc != 0) {
        page_error_in(req, resp, row.language, 503, i18n(row.language, "Not saved"),
                      i18n(row.language, "Your report could not be saved. Try again."));
        goto out;
    }
    if (closed)
        log_warn("target.auto_closed", "campaign=%s target=%s threshold=%d", c->slug, key,
                 c->close_after_reports);
    /* The reporter's next click goes to the next open target at once, not
     * back to the one that refused them. */
    struct click_outcome moved;
    if (!closed && c->assignment != ASSIGN_ALL &&
        assigner_move_reporter(req->app->assigner, req->store, c, &row, &s, key, req->now,
                               &moved) != 0)
        log_error("target.report_move_failed", "campaign=%s target=%s", c->slug, key);
    struct buf *b = &resp->body;
    const char *lang = row.language;
    head(b, c, lang, i18n(lang, "Thank you for telling us"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "Thank you for telling us"));
    buf_puts(b, "</h1>\n<p>");
    escape_html(b, i18n(lang, "The organizers see your report."));
    if (closed) {
        buf_puts(b, " ");
        escape_html(b, i18n(lang, "Enough supporters reported this target, so it is now closed."));
    }
    buf_printf(b, "</p>\n<div class=\"actions\"><a class=\"button\" href=\"/a/%s?review=1\">",
               token);
    escape_html(b, i18n(lang, "Back to my action"));
    buf_puts(b, "</a></div>\n</section>\n");
    page_end_in(b, lang);
out:
    form_release(&f);
    supporter_release(&s);
    campaign_row_release(&row);
}

/* The instance form again with what was wrong (422): nothing is stored. */
static void instance_refused(struct http_request *req, struct http_response *resp,
                             const struct supporter *s, const char *token, const char *value,
                             const char *problem)
{
    struct campaign_row row = {0};
    const struct campaign *c;
    if (campaign_cache_get_by_id(req->store, s->campaign_id, &row, &c) != 0) {
        page_error(req, resp, 422, "Not a Mastodon server", problem);
        return;
    }
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    resp->status = 422;
    struct buf *b = &resp->body;
    const char *lang = row.language;
    head(b, c, lang, i18n(lang, "Not a Mastodon server"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "Your action"));
    buf_puts(b, "</h1>\n");
    instance_form(b, lang, token, "", csrf, value, i18n(lang, problem));
    buf_printf(b, "<p><a href=\"/a/%s?review=1\">", token);
    escape_html(b, i18n(lang, "Back to my action"));
    buf_puts(b, "</a></p>\n</section>\n");
    page_end_in(b, lang);
    campaign_row_release(&row);
}

/* POST /a/TOKEN/instance: remembers a public host name as the supporter's
 * mastodon instance. The form must carry the CSRF token, so another site
 * cannot choose where a supporter's next click goes. */
void handle_action_instance(struct http_request *req, struct http_response *resp)
{
    const char *token = req->params[0];
    struct supporter s;
    if (page_supporter_from_token(req, resp, token, TOKEN_ACTION, &s) != 0)
        return;
    char lang[I18N_TAG_MAX + 1];
    page_campaign_language(req, s.campaign_id, lang);
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        page_error_in(req, resp, lang, 400, i18n(lang, "The form could not be read"), err);
        supporter_release(&s);
        return;
    }
    if (!session_csrf_field_ok(req, form_get(&f, "csrf"))) {
        page_error_in(req, resp, lang, 403, i18n(lang, "Form expired"),
                      i18n(lang, "This form has expired or was sent from another site. Go back, "
                                 "reload the page and try again."));
        goto out;
    }
    const char *instance = form_get(&f, "instance");
    const char *p = instance ? instance : "";
    /* Accept what people paste: "https://mastodon.social/" -> "mastodon.social". */
    while (*p == ' ')
        p++;
    if (strncmp(p, "https://", 8) == 0)
        p += 8;
    size_t n = strlen(p);
    while (n && (p[n - 1] == '/' || p[n - 1] == ' '))
        n--;
    /* Measured before copying: a longer name is refused, never cut to fit. */
    if (n > TARGET_INSTANCE_MAX) {
        instance_refused(req, resp, &s, token, NULL, target_instance_problem(p));
        goto out;
    }
    char host[TARGET_INSTANCE_MAX + 1];
    memcpy(host, p, n);
    host[n] = '\0';
    for (char *q = host; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    const char *problem = target_instance_problem(host);
    if (problem) {
        instance_refused(req, resp, &s, token, instance, problem);
    } else if (store_set_instance(req->store, s.id, host) != 0) {
        page_error_in(req, resp, lang, 503, i18n(lang, "Not saved"),
                      i18n(lang, "Your server could not be saved. Try again."));
    } else {
        char location[64];
        snprintf(location, sizeof location, "/a/%s", token);
        http_redirect(resp, 303, location);
    }
out:
    form_release(&f);
    supporter_release(&s);
}

/* The link of a test reminder (TOKEN_TEST: the campaign's id, epoch 0), or
 * NULL with a 404 answered. */
static int test_link_campaign(struct http_request *req, struct http_response *resp,
                              struct campaign_row *row, const struct campaign **c)
{
    struct token_link link;
    if (token_link_parse(req->params[0], &link) != 0 || !token_link_check(&link, TOKEN_TEST, 0) ||
        campaign_cache_get_by_id(req->store, link.key, row, c) != 0) {
        page_not_found(req, resp);
        return -1;
    }
    return 0;
}

/* GET /t/TOKEN: a test reminder's link. It goes where a supporter's link
 * goes (the first open target's prefilled action, or the action page), as
 * if the moment had come, for nobody in particular: it reads, and writes
 * nothing (no click, no assignment, no place under a cap). */
void handle_action_test(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row = {0};
    const struct campaign *c;
    if (test_link_campaign(req, resp, &row, &c) != 0)
        return;
    struct supporter nobody = {
        .campaign_id = row.id, .name = "", .statement = "", .timezone = c->timezone};
    struct target_list list = {NULL, 0};
    if (store_targets(req->store, row.id, &list) != 0) {
        page_error_in(req, resp, row.language, 503, i18n(row.language, "Try again"),
                      i18n(row.language, "Your action could not be prepared. Reload the page."));
        campaign_row_release(&row);
        return;
    }
    const struct target_spec *t = NULL;
    for (size_t i = 0; i < list.count && !t; i++)
        if (list.rows[i].open && !list.rows[i].removed)
            t = campaign_target(c, list.rows[i].key);
    if (t && c->assignment != ASSIGN_ALL) {
        struct rendered m;
        struct template_vars vars;
        if (render_message(c, &nobody, t->id, &m, &vars) == 0) {
            struct target_message msg = {buf_cstr(&m.title), buf_cstr(&m.body)};
            struct buf url = BUF_INIT;
            int outcome = target_build_action(t, &msg, &vars, NULL, &url);
            if (outcome == TARGET_REDIRECT) {
                http_redirect(resp, 302, buf_cstr(&url));
                buf_release(&url);
                rendered_release(&m);
                goto out;
            }
            buf_release(&url);
            rendered_release(&m);
        }
    }
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    const char *lang = row.language;
    head(b, c, lang, i18n(lang, "Your action"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "Your action"));
    buf_puts(b, "</h1>\n<p class=\"notice\" id=\"test-notice\">");
    escape_html(b, i18n(lang, "[TEST]"));
    buf_putc(b, ' ');
    escape_html(b, i18n(lang, "This is the link of a test reminder: it shows what supporters "
                              "will see, and counts nothing."));
    buf_puts(b, "</p>\n");
    if (c->assignment == ASSIGN_ALL) {
        int shown = 0;
        for (size_t i = 0; i < list.count; i++) {
            const struct target_spec *ti = campaign_target(c, list.rows[i].key);
            if (!ti || !list.rows[i].open || list.rows[i].removed)
                continue;
            char suffix[16];
            snprintf(suffix, sizeof suffix, "-%d", shown + 1);
            buf_puts(b, "<div class=\"target\">\n");
            target_block(b, c, lang, ti, &nobody, req->params[0], suffix, csrf);
            buf_puts(b, "</div>\n");
            shown++;
        }
        if (!shown)
            t = NULL;
    } else if (t) {
        target_block(b, c, lang, t, &nobody, req->params[0], "", csrf);
    }
    if (!t) {
        buf_puts(b, "<div class=\"notice\" id=\"closed-message\" dir=\"auto\">");
        page_paragraphs(b, c->closed_message);
        buf_puts(b, "</div>\n");
    }
    buf_puts(b, "</section>\n");
    page_end_in(b, lang);
out:
    target_list_release(&list);
    campaign_row_release(&row);
}

/* GET and POST /t/TOKEN/u: a test reminder's unsubscribe link (and its
 * one-click List-Unsubscribe): nobody to unsubscribe, and it says so. */
void handle_action_test_unsubscribe(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row = {0};
    const struct campaign *c;
    if (test_link_campaign(req, resp, &row, &c) != 0)
        return;
    struct buf *b = &resp->body;
    const char *lang = row.language;
    head(b, c, lang, i18n(lang, "[TEST]"));
    buf_puts(b, "<h1>");
    escape_html(b, i18n(lang, "[TEST]"));
    buf_puts(b, "</h1>\n<p id=\"test-notice\">");
    escape_html(b, i18n(lang, "This is the unsubscribe link of a test reminder: nobody was "
                              "unsubscribed."));
    buf_puts(b, "</p>\n</section>\n");
    page_end_in(b, row.language);
    campaign_row_release(&row);
}
