/*
 * unsubscribe: GET /u/TOKEN shows a page with a button (link scanners fetch
 * links; a GET changes nothing); POST /u/TOKEN unsubscribes, as the page's
 * button or as a mail client's RFC 8058 one-click POST: no cookie, no CSRF
 * token (the link token is the secret), no redirect, idempotent.
 */
#include <stdio.h>

#include "campaign/campaign.h"
#include "service/pledges.h"
#include "core/escape.h"
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
    /* Someone already unsubscribed is told so, not offered to do it again. */
    page_begin(b, s.unsubscribed_at ? "You are unsubscribed" : "Unsubscribe");
    buf_puts(b, "<section class=\"card\">\n<p class=\"eyebrow\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n");
    if (s.unsubscribed_at) {
        buf_puts(b, "<h1>You are unsubscribed</h1>\n<p class=\"notice\">You will get no "
                    "reminder for this campaign.</p>\n");
        if (c)
            buf_printf(b,
                       "<p><a href=\"/c/%s\">Back to the campaign</a>: pledging again with "
                       "the same address subscribes you again after you confirm.</p>\n",
                       c->slug);
    } else {
        buf_puts(b, "<h1>Unsubscribe</h1>\n");
        buf_puts(b, "<p>Stop the emails for this campaign? You will not get the reminder at the "
                    "launch moment.</p>\n");
        buf_printf(b,
                   "<form method=\"post\" action=\"/u/%s\"><div class=\"actions\"><button "
                   "type=\"submit\">Unsubscribe</button></div></form>\n",
                   req->params[0]);
    }
    buf_puts(b, "</section>\n");
    page_end(b);
    supporter_release(&s);
    campaign_row_release(&row);
}

void handle_unsubscribe_post(struct http_request *req, struct http_response *resp)
{
    struct supporter s;
    if (page_supporter_from_token(req, resp, req->params[0], TOKEN_UNSUBSCRIBE, &s) != 0)
        return;
    if (pledges_unsubscribe(req->store, s.id, req->now) != 0) {
        page_error(req, resp, 503, "Not saved", "We could not unsubscribe you. Try again.");
        supporter_release(&s);
        return;
    }
    log_info("supporter.unsubscribed", "supporter=%lld", (long long)s.id);
    struct campaign_row row = {0};
    const struct campaign *c;
    const char *title = campaign_title(req, &s, &row, &c);
    struct buf *b = &resp->body;
    resp->status = 200;
    page_begin(b, "Unsubscribed");
    buf_puts(b, "<section class=\"card success\">\n<p class=\"eyebrow\">");
    escape_html(b, title);
    buf_puts(b, "</p>\n<h1>You are unsubscribed</h1>\n<p>You will get no more emails for this "
                "campaign.</p>\n");
    if (c)
        buf_printf(b,
                   "<p><a href=\"/c/%s\">Back to the campaign</a>: pledging again with "
                   "the same address subscribes you again after you confirm.</p>\n",
                   c->slug);
    buf_puts(b, "</section>\n");
    page_end(b);
    supporter_release(&s);
    campaign_row_release(&row);
}
