/*
 * admin: the organizer's frame and the two pages an organizer lives in: the
 * campaign list (/admin) and one campaign's launch-day view
 * (/admin/campaigns/SLUG): stat tiles, the live charts (admin_charts.c),
 * each target with its numbers, reports and a close/reopen form, the history
 * of closes and opens, and the data links. admin.js keeps the numbers and
 * charts current by polling; the page itself is complete without script.
 * Also the target close/open actions and the stats API. Only reached through
 * ROUTE_ADMIN / ROUTE_API routes (see app/routes.c), after the access check;
 * the list shows only the campaigns the organizer may see.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/access.h"
#include "service/cache.h"
#include "campaign/campaign.h"
#include "service/stats_json.h"
#include "service/campaigns.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "pages/pages.h"
#include "store/store.h"
#include "store/store_dashboard.h"
#include "core/banned.h"

#define REPORT_WINDOW_SECONDS 600
#define HISTORY_ROWS 20

/* ---- the frame ---- */

void admin_page_begin(struct buf *b, const char *title, const char *csrf, enum admin_section active)
{
    buf_puts(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"robots\" content=\"noindex\">\n<title>");
    escape_html(b, title);
    buf_puts(b, " · muster</title>\n");
    buf_puts(b, page_icon_link());
    buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/admin.css\">\n"
                "<script src=\"/static/admin.js\" defer></script>\n</head>\n");
    buf_puts(b, csrf ? "<body>\n" : "<body class=\"bare\">\n");
    buf_puts(b, "<header class=\"topbar\"><div class=\"topbar-inner\">"
                "<a class=\"brand\" href=\"/admin\"><span class=\"logo\" aria-hidden=\"true\">"
                "</span>muster <span class=\"brand-sub\">organizers</span></a>\n");
    if (csrf) {
        static const struct {
            enum admin_section section;
            const char *href, *label;
        } links[] = {{ADMIN_CAMPAIGNS, "/admin", "Campaigns"},
                     {ADMIN_NEW, "/admin/campaigns/new", "New campaign"},
                     {ADMIN_ERASE, "/admin/supporters/erase", "Erase a person"},
                     {ADMIN_SUPPRESSION, "/admin/suppression", "Suppression list"}};
        buf_puts(b, "<nav class=\"nav\" aria-label=\"Dashboard\">");
        for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
            buf_printf(b, "<a href=\"%s\"%s>%s</a>", links[i].href,
                       links[i].section == active ? " aria-current=\"page\"" : "", links[i].label);
        buf_printf(b,
                   "</nav>\n<form method=\"post\" action=\"/logout\" class=\"logout\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<button type=\"submit\" class=\"link\">Log out</button></form>\n",
                   csrf);
    }
    buf_puts(b, "</div></header>\n<main class=\"wrap\">\n");
}

void admin_page_end(struct buf *b)
{
    buf_puts(b, "</main>\n</body>\n</html>\n");
}

void admin_message_page(struct http_request *req, struct http_response *resp, int status,
                        const char *title, const char *message)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    resp->status = status;
    resp->content_type = "text/html; charset=utf-8";
    buf_reset(&resp->body);
    struct buf *b = &resp->body;
    admin_page_begin(b, title, csrf, ADMIN_NONE);
    buf_puts(b, "<section class=\"card narrow\">\n<h1>");
    escape_html(b, title);
    buf_puts(b, "</h1>\n<p>");
    escape_html(b, message);
    buf_puts(b, "</p>\n<p><a href=\"/admin\">Back to the campaigns</a></p>\n</section>\n");
    admin_page_end(b);
}

int admin_campaign_load(struct http_request *req, struct http_response *resp,
                        struct campaign_row *row, const struct campaign **c)
{
    int rc = campaign_cache_get(req->store, req->params[0], row, c);
    if (rc == STORE_NOT_FOUND) {
        admin_message_page(req, resp, 404, "No such campaign",
                           "There is no campaign with this name. It may have been mistyped.");
        return -1;
    }
    if (rc != 0) {
        admin_message_page(req, resp, 500, "Something went wrong",
                           "The campaign could not be read. Try again in a moment.");
        return -1;
    }
    return 0;
}

void admin_count(struct buf *b, int64_t n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
    if (n < 0)
        buf_putc(b, '-');
    size_t len = strlen(digits);
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf_putc(b, ',');
        buf_putc(b, digits[i]);
    }
}

void admin_when(struct buf *b, int64_t t, const char *tz)
{
    char when[128];
    if (tz_format(t, tz, when, sizeof when) != 0)
        tz_iso_utc(t, when);
    escape_html(b, when);
}

/* ---- the campaign list ---- */

enum phase { PHASE_WAITING, PHASE_LIVE, PHASE_OVER };

static enum phase campaign_phase(const struct campaign_row *row, int64_t now)
{
    if (!row->launched_at && now < row->launch_utc)
        return PHASE_WAITING;
    if (now < row->launch_utc + (int64_t)row->window_minutes * 60)
        return PHASE_LIVE;
    return PHASE_OVER;
}

static void phase_badge(struct buf *b, enum phase p)
{
    static const char *const cls[] = {"wait", "live", "done"};
    static const char *const label[] = {"Waiting for launch", "Live now", "Window over"};
    buf_printf(b, "<span class=\"badge badge-%s\" data-phase>%s</span>", cls[p], label[p]);
}

void handle_admin_home(struct http_request *req, struct http_response *resp)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf slugs = BUF_INIT;
    if (store_campaign_slugs(req->store, &slugs) != 0) {
        buf_release(&slugs);
        admin_message_page(req, resp, 500, "Something went wrong",
                           "The campaigns could not be read. Try again in a moment.");
        return;
    }
    struct buf *b = &resp->body;
    admin_page_begin(b, "Campaigns", csrf, ADMIN_CAMPAIGNS);
    buf_puts(b, "<div class=\"page-head\"><div><h1>Campaigns</h1></div>"
                "<div class=\"head-actions\"><a class=\"button\" href=\"/admin/campaigns/new\">"
                "New campaign</a></div></div>\n<ul class=\"campaigns\">\n");
    char *save = NULL, none[1] = "";
    int count = 0;
    for (char *slug = strtok_r(slugs.data ? slugs.data : none, "\n", &save); slug;
         slug = strtok_r(NULL, "\n", &save)) {
        struct campaign_row row;
        const struct campaign *c;
        if (campaign_cache_get(req->store, slug, &row, &c) != 0)
            continue;
        enum access_verdict verdict;
        if (access_decide(req->store, req->organizer_id, row.id, ACCESS_CAMPAIGN_VIEW, &verdict) !=
                0 ||
            verdict != ACCESS_ALLOWED) {
            campaign_row_release(&row); /* only the campaigns they may see */
            continue;
        }
        struct campaign_stats s;
        if (store_stats(req->store, row.id, &s) != 0)
            memset(&s, 0, sizeof s);
        buf_printf(b,
                   "<li class=\"card campaign\"><div class=\"campaign-top\">"
                   "<h2><a href=\"/admin/campaigns/%s\">",
                   row.slug);
        buf_puts(b, "<bdi>"); /* the organizer's words, in their own direction */
        escape_html(b, c->title);
        buf_puts(b, "</bdi>");
        buf_puts(b, "</a></h2>");
        phase_badge(b, campaign_phase(&row, req->now));
        buf_printf(b, "</div>\n<p class=\"muted\"><code>%s</code> · ", row.slug);
        admin_when(b, row.launch_utc, c->timezone);
        buf_puts(b, "</p>\n<dl class=\"mini\"><div><dt>Pledges</dt><dd>");
        admin_count(b, s.pledges);
        buf_puts(b, "</dd></div><div><dt>Confirmed</dt><dd>");
        admin_count(b, s.confirmed);
        buf_puts(b, "</dd></div><div><dt>Sent</dt><dd>");
        admin_count(b, s.reminders_sent);
        buf_puts(b, "</dd></div><div><dt>Clicks</dt><dd>");
        admin_count(b, s.clicks);
        buf_printf(b,
                   "</dd></div></dl>\n<p class=\"links\"><a href=\"/admin/campaigns/%s\">"
                   "Launch-day view</a><a href=\"/admin/campaigns/%s/edit\">Edit</a>"
                   "<a href=\"/c/%s\">Public page</a></p></li>\n",
                   row.slug, row.slug, row.slug);
        campaign_row_release(&row);
        count++;
    }
    buf_puts(b, "</ul>\n");
    if (!count)
        buf_puts(b, "<section class=\"card empty\"><h2>No campaigns yet</h2><p>Create one "
                    "here with <a href=\"/admin/campaigns/new\">New campaign</a>, or from a "
                    "file with <code>muster campaign apply FILE</code>.</p></section>\n");
    admin_page_end(b);
    buf_release(&slugs);
}

/* ---- the launch-day view ---- */

static void stat_tile(struct buf *b, const char *id, const char *label, int64_t value,
                      const char *hint)
{
    buf_printf(b,
               "<div class=\"tile tile-%s\"><span class=\"tile-label\">%s</span>"
               "<b class=\"tile-value\" id=\"stat-%s\" data-stat=\"%s\">",
               id, label, id, id);
    admin_count(b, value);
    buf_puts(b, "</b>");
    if (hint)
        buf_printf(b, "<span class=\"tile-hint\">%s</span>", hint);
    buf_puts(b, "</div>\n");
}

static void flash(struct buf *b, const struct http_request *req)
{
    const char *saved = http_query(req, "saved");
    const char *msg = NULL;
    if (!saved)
        return;
    if (strcmp(saved, "created") == 0)
        msg = "The campaign was created. Its public page is live.";
    else if (strcmp(saved, "updated") == 0)
        msg = "Your changes were saved. Supporters see them at once.";
    else if (strcmp(saved, "unchanged") == 0)
        msg = "Nothing had changed, so nothing was saved.";
    else if (strcmp(saved, "paused") == 0)
        msg = "The launch is paused: no sender takes its reminders until you resume it.";
    else if (strcmp(saved, "resumed") == 0)
        msg = "The launch is resumed: the reminders it owes go out now.";
    else if (strcmp(saved, "test-sent") == 0)
        msg = "The test reminder went to the relay. Look in that inbox.";
    if (msg)
        buf_printf(b, "<p class=\"flash\" role=\"status\">%s</p>\n", msg);
}

static void target_item(struct buf *b, const char *slug, const struct campaign *c,
                        const struct target_row *t, size_t color, int64_t recent_reports,
                        const char *csrf)
{
    const struct target_spec *spec = campaign_target(c, t->key);
    const char *label = spec && spec->label ? spec->label : t->key;
    buf_puts(b, "<li class=\"target\" data-target=\"");
    escape_html(b, t->key);
    buf_printf(b,
               "\" data-state=\"%s\">\n<div class=\"target-head\"><span class=\"swatch s%zu\" "
               "aria-hidden=\"true\"></span><h3>",
               t->open ? "open" : "closed", color % 8);
    escape_html(b, label);
    buf_puts(b, "</h3> <code>");
    escape_html(b, t->key);
    buf_printf(b,
               "</code> <span class=\"kind\">%s</span> <span class=\"badge %s\" "
               "data-field=\"state\">%s</span></div>\n",
               spec ? target_kind_name(spec->kind) : "", t->open ? "badge-open" : "badge-closed",
               t->open ? "Open" : "Closed");
    buf_puts(b, "<dl class=\"target-stats\"><div><dt>Assigned</dt><dd data-field=\"assigned\">");
    admin_count(b, t->assigned);
    buf_puts(b, "</dd></div><div><dt>Clicks</dt><dd data-field=\"clicks\">");
    admin_count(b, t->clicks);
    buf_puts(b, "</dd></div><div><dt>Rerouted</dt><dd data-field=\"rerouted\">");
    admin_count(b, t->rerouted);
    buf_puts(b, "</dd></div><div><dt>Reports</dt><dd><span data-field=\"reports\">");
    admin_count(b, t->reports);
    buf_printf(b, "</span>%s", recent_reports ? " <span class=\"warn-text\">(" : "");
    if (recent_reports) {
        admin_count(b, recent_reports);
        buf_puts(b, " in the last 10 min)</span>");
    }
    buf_puts(b, "</dd></div><div><dt>Cap</dt><dd>");
    if (t->cap < 0)
        buf_puts(b, "none");
    else
        admin_count(b, t->cap);
    buf_puts(b, "</dd></div></dl>\n<p class=\"reason\" data-field=\"reason\"");
    if (!t->reason[0])
        buf_puts(b, " hidden");
    buf_puts(b, ">");
    escape_html(b, t->reason);
    buf_printf(b,
               "</p>\n<form method=\"post\" class=\"target-form\" action=\"/admin/campaigns/%s"
               "/targets/",
               slug);
    escape_url(b, t->key);
    buf_printf(b, "/%s\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
               t->open ? "close" : "open", csrf);
    buf_puts(b, "<label for=\"reason-");
    escape_html(b, t->key);
    buf_puts(b, "\">Reason <span class=\"hint\">optional, shown in the history</span></label>"
                "<div class=\"inline-form\"><input type=\"text\" name=\"reason\" maxlength=\"250\" "
                "id=\"reason-");
    escape_html(b, t->key);
    buf_printf(b, "\"><button type=\"submit\" class=\"%s\">%s</button></div></form>\n</li>\n",
               t->open ? "danger" : "primary", t->open ? "Close target" : "Reopen target");
}

static void history(struct buf *b, struct store *st, const struct campaign_row *row, const char *tz)
{
    struct dashboard_event events[HISTORY_ROWS];
    size_t n = 0;
    buf_puts(b, "<section class=\"card\" aria-labelledby=\"history-h\">\n"
                "<h2 id=\"history-h\">History</h2>\n");
    if (store_dashboard_events(st, row->id, events, HISTORY_ROWS, &n) != 0) {
        buf_puts(b, "<p class=\"muted\">The history could not be read.</p>\n</section>\n");
        return;
    }
    if (!n) {
        buf_puts(b, "<p class=\"muted\">No target has been closed or reopened yet.</p>\n"
                    "</section>\n");
        return;
    }
    buf_puts(b, "<ol class=\"history\">\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "<li><span class=\"badge %s\">%s</span> <b>",
                   events[i].open ? "badge-open" : "badge-closed",
                   events[i].open ? "Reopened" : "Closed");
        escape_html(b, events[i].target);
        buf_puts(b, "</b> <span class=\"muted\">");
        admin_when(b, events[i].at, tz);
        buf_puts(b, " · by ");
        escape_html(b, events[i].actor);
        buf_puts(b, "</span>");
        if (events[i].reason[0]) {
            buf_puts(b, "<br>");
            escape_html(b, events[i].reason);
        }
        buf_puts(b, "</li>\n");
    }
    buf_puts(b, "</ol>\n</section>\n");
}

void handle_admin_campaign(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    if (admin_campaign_load(req, resp, &row, &c) != 0)
        return;
    struct target_list list = {NULL, 0};
    int64_t *ids = NULL, *recent = NULL;
    struct campaign_stats s;
    if (store_stats(req->store, row.id, &s) != 0 || store_targets(req->store, row.id, &list) != 0 ||
        !(ids = calloc(list.count + 1, sizeof *ids)) ||
        !(recent = calloc(list.count + 1, sizeof *recent))) {
        free(ids);
        target_list_release(&list);
        campaign_row_release(&row);
        admin_message_page(req, resp, 500, "Something went wrong",
                           "The campaign's numbers could not be read. Try again in a moment.");
        return;
    }
    const struct target_row *targets = list.rows;
    size_t n = list.count;
    for (size_t i = 0; i < n; i++)
        ids[i] = targets[i].id;
    if (store_dashboard_reports_since(req->store, row.id, req->now - REPORT_WINDOW_SECONDS, ids, n,
                                      recent) != 0)
        memset(recent, 0, n * sizeof *recent);

    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    admin_page_begin(b, c->title, csrf, ADMIN_CAMPAIGNS);
    buf_printf(b,
               "<div class=\"page-head\"><div><p class=\"crumbs\"><a href=\"/admin\">Campaigns"
               "</a> / <code>%s</code></p>\n<h1>",
               row.slug);
    buf_puts(b, "<bdi>");
    escape_html(b, c->title);
    buf_puts(b, "</bdi>");
    /* admin.js keeps the phase and the moment current (a manual launch
     * moves the moment to now). */
    char launch_iso[21];
    tz_iso_utc(row.launch_utc, launch_iso);
    buf_printf(b,
               "</h1>\n<p class=\"meta\" data-launch-at=\"%s\" data-window-minutes=\"%d\" "
               "data-timezone=\"",
               launch_iso, row.window_minutes);
    escape_html(b, c->timezone);
    buf_puts(b, "\">");
    phase_badge(b, campaign_phase(&row, req->now));
    buf_puts(b, " Launch: <b data-launch-text>");
    admin_when(b, row.launch_utc, c->timezone);
    buf_puts(b, "</b> (");
    escape_html(b, c->timezone);
    buf_printf(b,
               ") · window %d min</p></div>\n<div class=\"head-actions\">"
               "<a class=\"button secondary\" href=\"/c/%s\">Public page</a>"
               "<a class=\"button secondary\" href=\"/admin/campaigns/%s/edit\">Edit</a>"
               "</div></div>\n",
               row.window_minutes, row.slug, row.slug);
    flash(b, req);

    buf_printf(b,
               "<section class=\"tiles\" aria-label=\"Numbers\" "
               "data-live-stats=\"/api/v1/campaigns/%s/stats\" "
               "data-live-charts=\"/admin/campaigns/%s/charts\">\n",
               row.slug, row.slug);
    stat_tile(b, "pledges", "Pledges", s.pledges, NULL);
    stat_tile(b, "confirmed", "Confirmed", s.confirmed, NULL);
    stat_tile(b, "sent", "Reminders sent", s.reminders_sent, NULL);
    stat_tile(b, "failed", "Failed", s.reminders_failed, NULL);
    stat_tile(b, "pending", "Pending", s.reminders_pending, NULL);
    stat_tile(b, "clicks", "Clicks", s.clicks, NULL);
    stat_tile(b, "acted", "People who followed their link", s.supporters_clicked, NULL);
    stat_tile(b, "reroutes", "Reroutes", s.reroutes, NULL);
    buf_puts(b, "</section>\n<p class=\"live-status\" id=\"live-status\" data-state=\"static\">"
                "Numbers as of page load. Reload for newer numbers.</p>\n"
                "<div id=\"charts\" class=\"charts\">\n");
    if (admin_charts_html(b, req->store, &row, c, req->now) != 0)
        buf_puts(b, "<p class=\"muted\">The charts could not be drawn.</p>\n");
    buf_puts(b, "</div>\n");
    admin_launch_section(b, req, &row, c->timezone, csrf);
    admin_delivery_section(b, req, &row);

    buf_puts(b, "<section class=\"card\" id=\"targets\" aria-labelledby=\"targets-h\">\n"
                "<h2 id=\"targets-h\">Targets</h2>\n<p class=\"muted\">");
    if (c->close_after_reports > 0)
        buf_printf(b,
                   "A target closes by itself when %d supporters report within ten "
                   "minutes that it did not accept their action "
                   "(<code>close_after_reports</code>); it then shows here as closed, "
                   "with the reason in the history.",
                   c->close_after_reports);
    else
        buf_puts(b, "Reports never close a target by themselves in this campaign: when "
                    "supporters say a target did not accept their action, decide here "
                    "whether to close it.");
    buf_puts(b, " Supporters of a closed target are sent to the next open one.</p>\n"
                "<ul class=\"target-list\">\n");
    size_t color = 0;
    for (size_t i = 0; i < n; i++) {
        if (targets[i].removed)
            continue;
        target_item(b, row.slug, c, &targets[i], color++, recent[i], csrf);
    }
    free(ids);
    free(recent);
    target_list_release(&list);
    buf_puts(b, "</ul>\n</section>\n");
    history(b, req->store, &row, c->timezone);
    enum access_verdict personal;
    if (access_decide(req->store, req->organizer_id, row.id, ACCESS_PERSONAL_DATA, &personal) !=
            0 ||
        personal != ACCESS_ALLOWED) {
        admin_page_end(b); /* no links to what their role does not open */
        campaign_row_release(&row);
        return;
    }
    buf_printf(b,
               "<section class=\"card\" id=\"data\" aria-labelledby=\"data-h\">\n"
               "<h2 id=\"data-h\">Data</h2>\n<p class=\"muted\">CSV files (UTF-8), safe "
               "to open in a spreadsheet: a cell that would start a formula is prefixed "
               "with an apostrophe.</p>\n<div class=\"actions\">"
               "<a class=\"button secondary\" download href=\"/admin/campaigns/%s/export/"
               "supporters.csv\">Download supporters</a>"
               "<a class=\"button secondary\" download href=\"/admin/campaigns/%s/export/"
               "clicks.csv\">Download clicks</a>"
               "<a class=\"button secondary\" href=\"/admin/campaigns/%s/import\">Import "
               "supporters</a>",
               row.slug, row.slug, row.slug);
    enum access_verdict erase;
    if (access_decide(req->store, req->organizer_id, 0, ACCESS_ERASE_ANYONE, &erase) == 0 &&
        erase == ACCESS_ALLOWED)
        buf_puts(b, "<a class=\"button secondary\" href=\"/admin/supporters/erase\">"
                    "Erase a person</a>");
    buf_puts(b, "</div>\n</section>\n");
    admin_page_end(b);
    campaign_row_release(&row);
}

/* ---- close and reopen ---- */

static void set_target(struct http_request *req, struct http_response *resp, int open)
{
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        admin_message_page(req, resp, rc == STORE_NOT_FOUND ? 404 : 500, "No such campaign",
                           "There is no campaign with this name.");
        return;
    }
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        campaign_row_release(&row);
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return;
    }
    const char *reason = form_get(&f, "reason");
    char clean[251];
    snprintf(clean, sizeof clean, "%s", reason ? reason : "");
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    /* A cut in the middle of a UTF-8 sequence would store invalid text. */
    size_t len = strlen(clean);
    while (len && !utf8_valid(clean, len))
        clean[--len] = '\0';
    char actor[32];
    snprintf(actor, sizeof actor, "organizer:%lld", (long long)req->organizer_id);
    int changed = 0;
    rc = campaigns_target_set_open(req->store, row.id, req->params[1], open, clean, actor, req->now,
                                   &changed);
    if (rc == STORE_NOT_FOUND) {
        admin_message_page(req, resp, 404, "No such target", "This campaign has no such target.");
    } else if (rc != 0) {
        admin_message_page(req, resp, 503, "Not saved",
                           "The target could not be changed. Try again.");
    } else {
        log_info("target.changed", "campaign=%s open=%d changed=%d by=%s", row.slug, open, changed,
                 actor);
        char location[200];
        snprintf(location, sizeof location, "/admin/campaigns/%s#targets", row.slug);
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

/* ---- the stats API ---- */

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
