/*
 * unsubscribe: GET /u/TOKEN shows a page with a button (link scanners fetch
 * links; a GET changes nothing); POST /u/TOKEN unsubscribes, as the page's
 * button or as a mail client's RFC 8058 one-click POST: no cookie, no CSRF
 * token (the link token is the secret), no redirect, idempotent.
 */
#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "service/pledges.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/log.h"
#include "http/app.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

static const char *campaign_title(struct http_request *req, const struct supporter *s,
                                  struct campaign_row *row, const struct campaign **c)
{
    if (campaign_cache_get_by_id(req->store, s->campaign_id, row, c) != 0) {
        *c = NULL;
        memcpy(row->language, I18N_DEFAULT_LANGUAGE, sizeof I18N_DEFAULT_LANGUAGE);
        return "this campaign";
    }
    return (*c)->title;
}

void handle_unsubscribe_page(struct http_request *req, struct http_response *resp)
{
    struct supporter s;
    if (page_supporter_from_token(req, resp, req->params[0], TOKEN_UNSUBSCRIBE, &s) != 0)
        return;
    struct campaign_row row = {0};
    const struct campaign *c;
    const char *title = campaign_title(req, &s, &row, &c);
    struct buf *b = &resp->body;
    const char *lang = row.language;
    /* Someone already unsubscribed is told so, not offered to do it again. */
    page_begin_in(b, lang,
                  s.unsubscribed_at ? i18n(lang, "You are unsubscribed")
                                    : i18n(lang, "Unsubscribe"));
    buf_puts(b, "<section class=\"card\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n");
    if (s.unsubscribed_at) {
        buf_puts(b, "<h1>");
        escape_html(b, i18n(lang, "You are unsubscribed"));
        buf_puts(b, "</h1>\n<p class=\"notice\">");
        escape_html(b, i18n(lang, "You will get no reminder for this campaign."));
        buf_puts(b, "</p>\n");
        if (c) {
            buf_printf(b, "<p><a href=\"/c/%s\">", c->slug);
            escape_html(b, i18n(lang, "Back to the campaign"));
            buf_puts(b, "</a> ");
            escape_html(b, i18n(lang, "Pledging again with the same address subscribes you "
                                      "again after you confirm."));
            buf_puts(b, "</p>\n");
        }
    } else {
        buf_puts(b, "<h1>");
        escape_html(b, i18n(lang, "Unsubscribe"));
        buf_puts(b, "</h1>\n<p>");
        escape_html(b, i18n(lang, "Stop the emails for this campaign? You will not get the "
                                  "reminder at the launch moment."));
        buf_printf(b,
                   "</p>\n<form method=\"post\" action=\"/u/%s\"><div class=\"actions\">"
                   "<button type=\"submit\">",
                   req->params[0]);
        escape_html(b, i18n(lang, "Unsubscribe"));
        buf_puts(b, "</button></div></form>\n");
    }
    buf_puts(b, "</section>\n");
    page_end_in(b, lang);
    supporter_release(&s);
    campaign_row_release(&row);
}

void handle_unsubscribe_post(struct http_request *req, struct http_response *resp)
{
    struct supporter s;
    if (page_supporter_from_token(req, resp, req->params[0], TOKEN_UNSUBSCRIBE, &s) != 0)
        return;
    if (pledges_unsubscribe(req->store, s.id, req->now) != 0) {
        char lang[I18N_TAG_MAX + 1];
        page_campaign_language(req, s.campaign_id, lang);
        page_error_in(req, resp, lang, 503, i18n(lang, "Not saved"),
                      i18n(lang, "We could not unsubscribe you. Try again."));
        supporter_release(&s);
        return;
    }
    log_info("supporter.unsubscribed", "supporter=%lld", (long long)s.id);
    struct campaign_row row = {0};
    const struct campaign *c;
    const char *title = campaign_title(req, &s, &row, &c);
    struct buf *b = &resp->body;
    const char *lang = row.language;
    resp->status = 200;
    page_begin_in(b, lang, i18n(lang, "Unsubscribed"));
    buf_puts(b, "<section class=\"card success\">\n<p class=\"eyebrow\" dir=\"auto\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n<h1>");
    escape_html(b, i18n(lang, "You are unsubscribed"));
    buf_puts(b, "</h1>\n<p>");
    escape_html(b, i18n(lang, "You will get no more emails for this campaign."));
    buf_puts(b, "</p>\n");
    if (c) {
        buf_printf(b, "<p><a href=\"/c/%s\">", c->slug);
        escape_html(b, i18n(lang, "Back to the campaign"));
        buf_puts(b, "</a> ");
        escape_html(b, i18n(lang, "Pledging again with the same address subscribes you again "
                                  "after you confirm."));
        buf_puts(b, "</p>\n");
    }
    buf_puts(b, "</section>\n");
    page_end_in(b, lang);
    supporter_release(&s);
    campaign_row_release(&row);
}
