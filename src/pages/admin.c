/*
 * admin: the organizer dashboard: the campaign list, one campaign's launch-day
 * view (numbers that update live by polling the stats API, each target's
 * state with close/open buttons), and the target close/open actions. Only
 * reached through ROUTE_ADMIN routes (see routes.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/cache.h"
#include "campaign/campaign.h"
#include "campaign/stats_json.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

static void admin_nav(struct buf *b, const char *csrf)
{
    buf_printf(b, "<nav class=\"actions\" aria-label=\"Organizer\"><a href=\"/admin\">Campaigns</a>"
                  "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" "
                  "value=\"%s\"><button type=\"submit\" class=\"secondary\">Log out</button>"
                  "</form></nav>\n",
               csrf);
}

void handle_admin_home(struct http_request *req, struct http_response *resp)
{
    char csrf[TOKEN_RANDOM_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf slugs = BUF_INIT;
    if (store_campaign_slugs(req->store, &slugs) != 0) {
        buf_release(&slugs);
        page_error(req, resp, 500, "Something went wrong", "The campaigns could not be read.");
        return;
    }
    struct buf *b = &resp->body;
    page_begin(b, "Campaigns");
    admin_nav(b, csrf);
    buf_puts(b, "<section class=\"card\">\n<h1>Campaigns</h1>\n<ul class=\"targets\">\n");
    char *save = NULL;
    int count = 0;
    for (char *slug = strtok_r(slugs.data, "\n", &save); slug;
         slug = strtok_r(NULL, "\n", &save)) {
        struct campaign_row row;
        const struct campaign *c;
        if (campaign_cache_get(req->store, slug, &row, &c) != 0)
            continue;
        struct campaign_stats s;
        memset(&s, 0, sizeof s);
        if (store_stats(req->store, row.id, &s) != 0)
            memset(&s, 0, sizeof s);
        char when[128];
        if (tz_format(row.launch_utc, c->timezone, when, sizeof when) != 0)
            when[0] = '\0';
        buf_printf(b, "<li><a href=\"/admin/campaigns/%s\"><b>", row.slug);
        escape_html(b, c->title);
        buf_puts(b, "</b></a><br><span class=\"muted\">");
        escape_html(b, when);
        buf_printf(b, " · %lld confirmed of %lld pledges · %s</span></li>\n",
                   (long long)s.confirmed, (long long)s.pledges,
                   row.launched_at ? "launched" : "waiting");
        campaign_row_release(&row);
        count++;
    }
    if (!count)
        buf_puts(b, "<li>No campaigns yet. Create one with <code>muster campaign apply "
                    "FILE</code>.</li>\n");
    buf_puts(b, "</ul>\n</section>\n");
    page_end(b);
    buf_release(&slugs);
}

static void stat_tile(struct buf *b, const char *id, const char *label, json_int_t value)
{
    buf_printf(b, "<div class=\"tile\"><span class=\"muted\">%s</span><b id=\"stat-%s\" "
                  "data-stat=\"%s\">%lld</b></div>\n",
               label, id, id, (long long)value);
}

void handle_admin_campaign(struct http_request *req, struct http_response *resp)
{
    const char *slug = req->params[0];
    json_t *doc = NULL;
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(req->store, slug, &row, &c);
    if (rc == STORE_NOT_FOUND) {
        page_not_found(req, resp);
        return;
    }
    if (rc != 0 || stats_json(req->store, slug, &doc) != 0) {
        if (rc == 0)
            campaign_row_release(&row);
        page_error(req, resp, 500, "Something went wrong", "The campaign could not be read.");
        return;
    }
    char csrf[TOKEN_RANDOM_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    page_begin(b, c->title);
    admin_nav(b, csrf);
    buf_printf(b, "<section class=\"card\" data-live-stats=\"/api/v1/campaigns/%s/stats\">\n"
                  "<p class=\"eyebrow\">Launch day</p>\n<h1>",
               row.slug);
    escape_html(b, c->title);
    buf_puts(b, "</h1>\n<div class=\"tiles\">\n");
    json_t *rem = json_object_get(doc, "reminders");
    stat_tile(b, "pledges", "Pledges", json_integer_value(json_object_get(doc, "pledges")));
    stat_tile(b, "confirmed", "Confirmed", json_integer_value(json_object_get(doc, "confirmed")));
    stat_tile(b, "sent", "Reminders sent", json_integer_value(json_object_get(rem, "sent")));
    stat_tile(b, "failed", "Failed", json_integer_value(json_object_get(rem, "failed")));
    stat_tile(b, "pending", "Pending", json_integer_value(json_object_get(rem, "pending")));
    stat_tile(b, "clicks", "Clicks", json_integer_value(json_object_get(doc, "clicks")));
    stat_tile(b, "reroutes", "Reroutes", json_integer_value(json_object_get(doc, "reroutes")));
    buf_puts(b, "</div>\n</section>\n<section class=\"card\">\n<h2>Targets</h2>\n"
                "<ul class=\"targets\">\n");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "targets"), i, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *state = json_string_value(json_object_get(t, "state"));
        if (strcmp(state, "removed") == 0)
            continue;
        buf_puts(b, "<li><b>");
        escape_html(b, id);
        buf_printf(b, "</b> <span class=\"muted\">%s</span> · <span data-target-state=\"",
                   json_string_value(json_object_get(t, "kind")));
        escape_html(b, id);
        buf_printf(b, "\">%s</span> · <span data-target-clicks=\"", state);
        escape_html(b, id);
        buf_printf(b, "\">%lld</span> clicks · %lld reports",
                   (long long)json_integer_value(json_object_get(t, "clicks")),
                   (long long)json_integer_value(json_object_get(t, "reports")));
        const char *reason = json_string_value(json_object_get(t, "reason"));
        if (reason && *reason) {
            buf_puts(b, "<br><span class=\"muted\">");
            escape_html(b, reason);
            buf_puts(b, "</span>");
        }
        int open = strcmp(state, "open") == 0;
        buf_printf(b, "<form method=\"post\" action=\"/admin/campaigns/%s/targets/", row.slug);
        escape_url(b, id);
        buf_printf(b, "/%s\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">", open ? "close" : "open",
                   csrf);
        buf_puts(b, "<label for=\"reason-");
        escape_html(b, id);
        buf_puts(b, "\">Reason <span class=\"hint\">Optional</span></label><input type=\"text\" "
                    "name=\"reason\" maxlength=\"250\" id=\"reason-");
        escape_html(b, id);
        buf_printf(b, "\"><div class=\"actions\"><button type=\"submit\"%s>%s target</button></div>"
                      "</form></li>\n",
                   open ? " class=\"secondary\"" : "", open ? "Close" : "Reopen");
    }
    buf_puts(b, "</ul>\n</section>\n");
    page_end(b);
    json_decref(doc);
    campaign_row_release(&row);
}

static void set_target(struct http_request *req, struct http_response *resp, int open)
{
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        page_not_found(req, resp);
        return;
    }
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        campaign_row_release(&row);
        page_error(req, resp, 400, "The form could not be read", err);
        return;
    }
    const char *reason = form_get(&f, "reason");
    char clean[251];
    snprintf(clean, sizeof clean, "%s", reason ? reason : "");
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    char actor[32];
    snprintf(actor, sizeof actor, "organizer:%lld", (long long)req->organizer_id);
    int changed = 0;
    rc = store_target_set_open(req->store, row.id, req->params[1], open, clean, actor, req->now,
                               &changed);
    if (rc == STORE_NOT_FOUND) {
        page_error(req, resp, 404, "No such target", "This campaign has no such target.");
    } else if (rc != 0) {
        page_error(req, resp, 503, "Not saved", "The target could not be changed. Try again.");
    } else {
        log_info("target.changed", "campaign=%s open=%d by=%s", row.slug, open, actor);
        char location[200];
        snprintf(location, sizeof location, "/admin/campaigns/%s", row.slug);
        http_redirect(resp, 303, location);
    }
    form_release(&f);
    campaign_row_release(&row);
}

void handle_admin_target_close(struct http_request *req, struct http_response *resp)
{
    set_target(req, resp, 0);
}

void handle_admin_target_open(struct http_request *req, struct http_response *resp)
{
    set_target(req, resp, 1);
}

void handle_api_stats(struct http_request *req, struct http_response *resp)
{
    json_t *doc = NULL;
    int rc = stats_json(req->store, req->params[0], &doc);
    if (rc == STORE_NOT_FOUND) {
        http_json(resp, 404, "{\"error\":\"no such campaign\"}");
        return;
    }
    if (rc != 0) {
        http_json(resp, 500, "{\"error\":\"stats unavailable\"}");
        return;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_json(resp, 200, text ? text : "{}");
    free(text);
    json_decref(doc);
}
