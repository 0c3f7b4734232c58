/*
 * confirm: the double opt-in. GET /confirm/TOKEN only shows a page with a
 * Confirm button and exactly what it confirms (a link scanner that fetches
 * the link confirms nothing); POST /confirm/TOKEN confirms, idempotently, and
 * answers 200 with the thank-you page: the calendar file and a share link.
 * A token is the first confirmation link (TOKEN_CONFIRM: the pledge as it
 * stands) or the link mailed with a re-pledge's held change
 * (TOKEN_CONFIRM_CHANGE, numbered by the change: that change only).
 */
#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "service/pledges.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/token.h"
#include "core/tz.h"
#include "http/app.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

static int load(struct http_request *req, struct http_response *resp, struct supporter *s,
                struct campaign_row *row, const struct campaign **c, enum confirm_what *what)
{
    struct token_link link;
    if (token_link_parse(req->params[0], &link) != 0 ||
        store_supporter_by_key(req->store, link.key, s) != 0) {
        page_not_found(req, resp);
        return -1;
    }
    if (token_link_check(&link, TOKEN_CONFIRM, s->epoch)) {
        *what = CONFIRM_PLEDGE;
    } else if (s->has_pending_change &&
               token_link_check(&link, TOKEN_CONFIRM_CHANGE, s->change_epoch) &&
               store_pledge_load_change(req->store, s) == 0) {
        *what = CONFIRM_CHANGE;
    } else {
        /* A change link whose change was replaced by a newer one is gone. */
        supporter_release(s);
        page_not_found(req, resp);
        return -1;
    }
    if (campaign_cache_get_by_id(req->store, s->campaign_id, row, c) != 0) {
        supporter_release(s);
        page_not_found(req, resp);
        return -1;
    }
    return 0;
}

static void moment(struct buf *b, const struct campaign *c, const struct campaign_row *row,
                   const char *supporter_tz)
{
    const char *lang = row->language;
    char when[128], iso[21];
    tz_iso_utc(row->launch_utc, iso);
    if (i18n_format_moment(row->launch_utc, supporter_tz, lang, when, sizeof when) != 0 &&
        i18n_format_moment(row->launch_utc, c->timezone, lang, when, sizeof when) != 0)
        snprintf(when, sizeof when, "%s", iso);
    buf_puts(b, "<div class=\"moment\"><div><span class=\"muted\">");
    escape_html(b, i18n(lang, "The moment"));
    buf_puts(b, "</span><strong data-local-time=\"");
    buf_puts(b, iso);
    buf_puts(b, "\">");
    escape_html(b, when);
    buf_puts(b, "</strong></div></div>\n");
}

/* One line of what the confirmation confirms. */
static void detail(struct buf *b, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    buf_puts(b, "<dt>");
    escape_html(b, label);
    buf_puts(b, "</dt><dd dir=\"auto\">");
    escape_html(b, value);
    buf_puts(b, "</dd>\n");
}

void handle_confirm_page(struct http_request *req, struct http_response *resp)
{
    struct supporter s;
    struct campaign_row row;
    const struct campaign *c;
    enum confirm_what what;
    if (load(req, resp, &s, &row, &c, &what) != 0)
        return;
    struct buf *b = &resp->body;
    const char *lang = row.language;
    page_begin_in(b, lang, i18n(lang, "Confirm your pledge"));
    buf_puts(b, "<section class=\"card\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, c->title);
    buf_puts(b, "</p>\n<h1>");
    escape_html(b, i18n(lang, "Confirm your pledge"));
    buf_puts(b, "</h1>\n");
    int change = what == CONFIRM_CHANGE;
    buf_puts(b, change || !s.confirmed ? "<p>" : "<p class=\"notice\">");
    if (change)
        escape_html(b, i18n(lang, "You (or someone using this address) pledged again with the "
                                  "details below. Your pledge stays as it was unless you confirm "
                                  "them."));
    else if (s.confirmed)
        escape_html(b, i18n(lang, "Your pledge is already confirmed. Confirming again changes "
                                  "nothing."));
    else
        escape_html(b, i18n(lang, "One step left: press the button to confirm that this is your "
                                  "address and that you will take part with the details below."));
    buf_puts(b, "</p>\n<dl class=\"details\" id=\"confirm-details\">\n");
    detail(b, i18n(lang, "Name"), change ? s.change_name : s.name);
    detail(b, i18n(lang, "Statement"), change ? s.change_statement : s.statement);
    detail(b, i18n(lang, "Time zone"), change ? s.change_timezone : s.timezone);
    detail(b, i18n(lang, "Target"), change ? s.change_target : s.chosen_target);
    buf_puts(b, "</dl>\n");
    moment(b, c, &row, s.timezone);
    buf_printf(b,
               "<form method=\"post\" action=\"/confirm/%s\">\n<div class=\"actions\">"
               "<button type=\"submit\">",
               req->params[0]);
    escape_html(b, change ? i18n(lang, "Confirm these details") : i18n(lang, "Confirm my pledge"));
    buf_puts(b, "</button></div>\n</form>\n</section>\n");
    page_end_in(b, lang);
    supporter_release(&s);
    campaign_row_release(&row);
}

void handle_confirm_post(struct http_request *req, struct http_response *resp)
{
    struct supporter s;
    struct campaign_row row;
    const struct campaign *c;
    enum confirm_what what;
    if (load(req, resp, &s, &row, &c, &what) != 0)
        return;
    enum confirm_outcome outcome;
    int rc = pledges_confirm(req->store, s.id, what, s.change_epoch, req->now, &outcome);
    if (rc == STORE_CONFLICT) {
        /* A newer re-pledge replaced this change between the page and the
         * button: only the newest change's link confirms. */
        page_not_found(req, resp);
        goto out;
    }
    const char *lang = row.language;
    if (rc != 0) {
        page_error_in(req, resp, lang, 503, i18n(lang, "Not confirmed"),
                      i18n(lang, "Your confirmation could not be saved. Please press the button "
                                 "again."));
        goto out;
    }
    if (outcome != CONFIRM_ALREADY) {
        atomic_fetch_add(&req->app->metrics.confirmations, 1);
        log_info("pledge.confirmed", "campaign=%s outcome=%d", c->slug, (int)outcome);
        app_wake_sender(req->app);
    }
    char calendar[TOKEN_LINK_LEN + 1];
    token_link_make(TOKEN_CALENDAR, s.token_key, s.epoch, calendar);
    struct buf *b = &resp->body;
    resp->status = 200;
    page_begin_in(b, lang, i18n(lang, "You're in"));
    buf_puts(b, "<section class=\"card success\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, c->title);
    buf_puts(b, "</p>\n<h1>");
    escape_html(b, i18n(lang, "You're in. Thank you!"));
    buf_puts(b, "</h1>\n<p>");
    escape_html(b, i18n(lang, "Your pledge is confirmed. At the moment, we email you a personal "
                              "link: one click opens your action, prefilled. You review it and "
                              "send it yourself."));
    buf_puts(b, "</p>\n");
    moment(b, c, &row, s.timezone);
    buf_printf(b,
               "<div class=\"actions\"><a class=\"button\" id=\"calendar-link\" "
               "href=\"/c/%s/calendar/%s.ics\">",
               c->slug, calendar);
    escape_html(b, i18n(lang, "Add to my calendar"));
    buf_puts(b, "</a></div>\n<h2 class=\"spaced\">");
    escape_html(b, i18n(lang, "Bring others along"));
    buf_puts(b, "</h2>\n<p><label for=\"share-url\">");
    escape_html(b, i18n(lang, "Share the campaign page"));
    buf_puts(b, "</label><input type=\"text\" readonly id=\"share-url\" dir=\"ltr\" "
                "value=\"");
    struct buf url = BUF_INIT;
    page_absolute_url(req, &url, "/c/");
    buf_puts(&url, c->slug);
    escape_html(b, buf_cstr(&url));
    buf_puts(b, "\"></p>\n<div class=\"actions\"><button type=\"button\" class=\"secondary\" "
                "data-copy=\"share-url\" data-copied=\"");
    escape_html(b, i18n(lang, "Copied"));
    buf_puts(b, "\" hidden>");
    escape_html(b, i18n(lang, "Copy link"));
    buf_puts(b, "</button></div>\n</section>\n");
    buf_release(&url);
    page_end_in(b, lang);
out:
    supporter_release(&s);
    campaign_row_release(&row);
}
