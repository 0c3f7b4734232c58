/*
 * admin_suppression: the suppression list in the dashboard
 * (/admin/suppression, docs/DASHBOARD.md "Suppression list"): the newest
 * entries (time, kind, campaign, address, reason; every field escaped), and
 * the forms that add an address (kind manual) and take one off, through the
 * rules of service/suppression.c. Server administrators only
 * (ACCESS_SUPPRESSION, checked by the router with the CSRF token of each
 * POST).
 */
#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "service/suppression.h"
#include "store/store.h"
#include "store/store_suppression.h"
#include "core/banned.h"

/* The page shows this many entries, newest first; `muster suppression list`
 * shows them all. */
#define SUPPRESSION_ROWS_SHOWN 500

struct list_ctx {
    struct buf *b;
    size_t shown;
    struct suppression_slugs slugs;
};

static int list_row(void *vctx, const struct suppression_entry *e)
{
    struct list_ctx *ctx = vctx;
    if (ctx->shown >= SUPPRESSION_ROWS_SHOWN)
        return 1;
    struct buf *b = ctx->b;
    char at[21];
    tz_iso_utc(e->created_at, at);
    const char *kind = suppression_kind_name(e->kind);
    const char *slug = suppression_campaign_slug(&ctx->slugs, e->campaign_id);
    buf_puts(b, "<tr><td><time datetime=\"");
    escape_html(b, at);
    buf_puts(b, "\">");
    escape_html(b, at);
    buf_puts(b, "</time></td><td>");
    escape_html(b, kind ? kind : "?");
    buf_puts(b, "</td><td>");
    if (slug[0] && e->campaign_id > 0 && strcmp(slug, "(removed)") != 0 && strcmp(slug, "?") != 0) {
        buf_puts(b, "<a href=\"/admin/campaigns/");
        escape_url(b, slug);
        buf_puts(b, "\">");
        escape_html(b, slug);
        buf_puts(b, "</a>");
    } else {
        escape_html(b, slug);
    }
    buf_puts(b, "</td><td class=\"address\">");
    if (e->address)
        escape_html(b, e->address);
    else
        buf_puts(b, "<span class=\"muted\">(erased)</span>");
    buf_puts(b, "</td><td><bdi>");
    escape_html(b, e->reason ? e->reason : "");
    buf_puts(b, "</bdi></td></tr>\n");
    ctx->shown++;
    return 0;
}

/* The page, with a notice (status) or an error about the add form. */
static void suppression_page(struct http_request *req, struct http_response *resp,
                             const char *notice, const char *error, const char *address)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    buf_reset(b);
    resp->content_type = "text/html; charset=utf-8";
    int64_t count = 0;
    if (store_suppression_count(req->store, &count) != 0) {
        admin_message_page(req, resp, 503, "Suppression list unavailable",
                           "The suppression list could not be read. Try again in a moment.");
        return;
    }
    admin_page_begin(b, "Suppression list", csrf, ADMIN_SUPPRESSION);
    buf_puts(b, "<div class=\"page-head\"><div><h1>Suppression list</h1></div></div>\n");
    if (notice) {
        buf_puts(b, "<p class=\"notice\" role=\"status\" id=\"suppression-notice\">");
        escape_html(b, notice);
        buf_puts(b, "</p>\n");
    }
    buf_printf(b,
               "<section class=\"card\" aria-labelledby=\"suppression-add-h\">\n"
               "<h2 id=\"suppression-add-h\">Add an address</h2>\n"
               "<p class=\"muted\">No mail of any kind goes to an address on this list, in any "
               "campaign. Bounces and complaints put addresses here by themselves.</p>\n"
               "<form method=\"post\" action=\"/admin/suppression\" novalidate>\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
               "<div class=\"field\"><label for=\"address\">Email address</label>"
               "<input type=\"email\" id=\"address\" name=\"address\" maxlength=\"%d\" "
               "autocomplete=\"off\" value=\"",
               csrf, SUPPRESSION_ADDRESS_MAX);
    escape_html(b, address ? address : "");
    buf_puts(b, "\"");
    if (error)
        buf_puts(b, " aria-describedby=\"address-error\" aria-invalid=\"true\"");
    buf_puts(b, "></div>\n");
    if (error) {
        buf_puts(b, "<div class=\"error\" id=\"address-error\"><p>");
        escape_html(b, error);
        buf_puts(b, "</p></div>\n");
    }
    buf_printf(b,
               "<div class=\"field\"><label for=\"reason\">Why (optional)</label>"
               "<input id=\"reason\" name=\"reason\" maxlength=\"%d\"></div>\n"
               "<div class=\"actions\"><button type=\"submit\" id=\"suppression-add\">Add to the "
               "list</button></div>\n</form>\n</section>\n",
               SUPPRESSION_REASON_MAX);
    buf_printf(b,
               "<section class=\"card\" aria-labelledby=\"suppression-remove-h\">\n"
               "<h2 id=\"suppression-remove-h\">Take an address off</h2>\n"
               "<form method=\"post\" action=\"/admin/suppression/remove\" novalidate>\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
               "<div class=\"field\"><label for=\"remove-address\">Email address</label>"
               "<input type=\"email\" id=\"remove-address\" name=\"address\" maxlength=\"%d\" "
               "autocomplete=\"off\"></div>\n"
               "<div class=\"actions\"><button type=\"submit\" class=\"secondary\" "
               "id=\"suppression-remove\">Take off the list</button></div>\n</form>\n</section>\n",
               csrf, SUPPRESSION_ADDRESS_MAX);
    buf_puts(b, "<section class=\"card\" aria-labelledby=\"suppression-list-h\">\n"
                "<h2 id=\"suppression-list-h\">On the list</h2>\n<p id=\"suppression-count\">");
    admin_count(b, count);
    buf_printf(b, " suppressed %s", count == 1 ? "address" : "addresses");
    if (count > SUPPRESSION_ROWS_SHOWN)
        buf_printf(b,
                   "; the newest %d are shown (<code>muster suppression list</code> shows "
                   "all)",
                   SUPPRESSION_ROWS_SHOWN);
    buf_puts(b, ".</p>\n<div class=\"table-scroll\"><table id=\"suppression-list\">\n"
                "<thead><tr><th scope=\"col\">Time (UTC)</th><th scope=\"col\">Kind</th>"
                "<th scope=\"col\">Campaign</th><th scope=\"col\">Address</th>"
                "<th scope=\"col\">Reason</th></tr></thead>\n<tbody>\n");
    struct list_ctx ctx = {.b = b, .slugs = {.st = req->store}};
    if (store_suppression_each(req->store, list_row, &ctx) != 0 || ctx.slugs.failed) {
        admin_message_page(req, resp, 503, "Suppression list unavailable",
                           "The suppression list could not be read. Try again in a moment.");
        return;
    }
    buf_puts(b, "</tbody>\n</table></div>\n</section>\n");
    admin_page_end(b);
}

void handle_admin_suppression_page(struct http_request *req, struct http_response *resp)
{
    suppression_page(req, resp, NULL, NULL, NULL);
}

/* Reads the form's address (and reason); NULL with the page answered when
 * the form cannot be read. */
static const char *form_address(struct http_request *req, struct http_response *resp,
                                struct form *f)
{
    char err[160];
    if (form_parse(f, req->body, req->body_len, err, sizeof err) != 0) {
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return NULL;
    }
    const char *address = form_get(f, "address");
    return address ? address : "";
}

void handle_admin_suppression_add(struct http_request *req, struct http_response *resp)
{
    struct form f;
    memset(&f, 0, sizeof f);
    const char *address = form_address(req, resp, &f);
    if (!address)
        return;
    const char *reason = form_get(&f, "reason");
    char norm[SUPPRESSION_ADDRESS_MAX + 1];
    if (suppression_normalize(address, norm) != 0) {
        suppression_page(req, resp, NULL, "Enter one email address (name@domain, without spaces).",
                         address);
        resp->status = 422;
        form_release(&f);
        return;
    }
    int added = 0;
    if (suppression_add_manual(req->store, norm, reason, req->now, &added) != 0) {
        form_release(&f);
        admin_message_page(req, resp, 503, "Not added",
                           "The database was busy or failed, so nothing was added. Try again.");
        return;
    }
    log_info("suppression.dashboard", "action=add added=%d by=organizer:%lld", added,
             (long long)req->organizer_id);
    char notice[SUPPRESSION_ADDRESS_MAX + 64];
    snprintf(notice, sizeof notice,
             added ? "%s is on the list now." : "%s was on the list already.", norm);
    suppression_page(req, resp, notice, NULL, NULL);
    form_release(&f);
}

void handle_admin_suppression_remove(struct http_request *req, struct http_response *resp)
{
    struct form f;
    memset(&f, 0, sizeof f);
    const char *address = form_address(req, resp, &f);
    if (!address)
        return;
    char norm[SUPPRESSION_ADDRESS_MAX + 1];
    if (suppression_normalize(address, norm) != 0) {
        suppression_page(req, resp, "That is not an email address: nothing was taken off.", NULL,
                         NULL);
        resp->status = 422;
        form_release(&f);
        return;
    }
    int removed = 0;
    if (suppression_remove(req->store, norm, &removed) != 0) {
        form_release(&f);
        admin_message_page(req, resp, 503, "Not removed",
                           "The database was busy or failed, so nothing changed. Try again.");
        return;
    }
    log_info("suppression.dashboard", "action=remove removed=%d by=organizer:%lld", removed,
             (long long)req->organizer_id);
    char notice[SUPPRESSION_ADDRESS_MAX + 64];
    snprintf(notice, sizeof notice,
             removed ? "%s is off the list: mail goes to it again." : "%s was not on the list.",
             norm);
    suppression_page(req, resp, notice, NULL, NULL);
    form_release(&f);
}

/* A rate as "0.42 %". */
static void put_percent(struct buf *b, double fraction)
{
    buf_printf(b, "%.2f %%", fraction * 100.0);
}

void admin_delivery_section(struct buf *b, struct http_request *req, const struct campaign_row *row)
{
    struct suppression_rates r;
    if (suppression_rates(req->store, row->id, &r) != 0) {
        buf_puts(b, "<section class=\"card\" id=\"delivery\"><p class=\"muted\">The delivery "
                    "numbers could not be read.</p></section>\n");
        return;
    }
    buf_puts(b, "<section class=\"card\" id=\"delivery\" aria-labelledby=\"delivery-h\">\n"
                "<h2 id=\"delivery-h\">Delivery</h2>\n<table id=\"delivery-rates\">\n"
                "<thead><tr><th scope=\"col\"></th><th scope=\"col\">Count</th>"
                "<th scope=\"col\">Rate</th><th scope=\"col\">The line</th></tr></thead>\n<tbody>\n"
                "<tr><th scope=\"row\">Mails sent</th><td id=\"delivery-sent\">");
    admin_count(b, r.mails_sent);
    buf_puts(b, "</td><td></td><td></td></tr>\n<tr><th scope=\"row\">Bounces</th>"
                "<td id=\"delivery-bounces\">");
    admin_count(b, r.bounces);
    buf_puts(b, "</td><td id=\"delivery-bounce-rate\">");
    put_percent(b, r.bounce_rate);
    buf_puts(b, "</td><td></td></tr>\n<tr><th scope=\"row\">Complaints</th>"
                "<td id=\"delivery-complaints\">");
    admin_count(b, r.complaints);
    buf_printf(b, "</td><td id=\"delivery-complaint-rate\" data-over=\"%d\">",
               r.complaints_over_limit);
    put_percent(b, r.complaint_rate);
    buf_puts(b, "</td><td id=\"delivery-complaint-limit\">");
    put_percent(b, SUPPRESSION_COMPLAINT_LIMIT);
    buf_puts(b, "</td></tr>\n</tbody>\n</table>\n");
    if (r.complaints_over_limit)
        buf_printf(b,
                   "<p class=\"notice\" role=\"alert\" id=\"delivery-over\">Complaints are over "
                   "the 0.3 %% line the big providers hold bulk senders to.%s</p>\n",
                   r.mails_sent >= SUPPRESSION_PAUSE_MIN_MAILS
                       ? " muster pauses the launch when a new complaint arrives over it."
                       : " Too few mails were sent yet for muster to pause the launch for it.");
    buf_puts(b, "<p class=\"muted\">");
    admin_count(b, r.mails_suppressed);
    buf_puts(b, " mails not sent because their address is on the <a "
                "href=\"/admin/suppression\">suppression list</a>.</p>\n</section>\n");
}
