/*
 * admin_data: a campaign's data in and out of the dashboard. The CSV
 * downloads and the import are the command line's own code
 * (exchange/csv_io.c); the import form takes the CSV as text (a file is read
 * into the textarea by admin.js), because forms here are urlencoded: the CSRF
 * check reads an urlencoded body, and the body is capped at 256 KiB anyway
 * (bigger files go through `muster import`). Erasing a person takes two
 * steps: the address, then a confirmation page that says what goes.
 */
#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "service/pledges.h"
#include "core/escape.h"
#include "core/log.h"
#include "exchange/csv_io.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

#define IMPORT_NOTES_SHOWN 500

/* ---- export ---- */

static int append_body(void *ctx, const char *data, size_t len)
{
    return buf_append(ctx, data, len) != 0;
}

static void export_csv(struct http_request *req, struct http_response *resp,
                       enum csv_export_kind kind)
{
    const char *what = kind == CSV_EXPORT_SUPPORTERS ? "supporters" : "clicks";
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        admin_message_page(req, resp, rc == STORE_NOT_FOUND ? 404 : 500, "No such campaign",
                           "There is no campaign with this name.");
        return;
    }
    long rows = 0;
    if (csv_export(req->store, row.id, kind, append_body, &resp->body, &rows) != 0) {
        admin_message_page(req, resp, 500, "Export failed",
                           "The data could not be read completely. Try again in a moment.");
        campaign_row_release(&row);
        return;
    }
    resp->content_type = "text/csv; charset=utf-8";
    char disposition[160];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-%s.csv\"", row.slug, what);
    http_set_header(resp, "Content-Disposition", disposition);
    log_info("data.exported", "campaign=%s what=%s rows=%ld by=organizer:%lld", row.slug, what,
             rows, (long long)req->organizer_id);
    campaign_row_release(&row);
}

void handle_admin_export_supporters(struct http_request *req, struct http_response *resp)
{
    export_csv(req, resp, CSV_EXPORT_SUPPORTERS);
}

void handle_admin_export_clicks(struct http_request *req, struct http_response *resp)
{
    export_csv(req, resp, CSV_EXPORT_CLICKS);
}

/* ---- import ---- */

static void import_form(struct http_request *req, struct http_response *resp,
                        const struct campaign_row *row, const char *title, const char *csv,
                        const char *error)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    buf_reset(b);
    admin_page_begin(b, "Import supporters", csrf, ADMIN_CAMPAIGNS);
    buf_printf(b,
               "<div class=\"page-head\"><div><p class=\"crumbs\"><a href=\"/admin\">Campaigns"
               "</a> / <a href=\"/admin/campaigns/%s\">",
               row->slug);
    escape_html(b, title);
    buf_puts(b, "</a></p>\n<h1>Import supporters</h1></div></div>\n"
                "<section class=\"card\">\n<p>Supporters who agreed elsewhere to take part, as "
                "CSV with a header row. <code>email</code> and <code>consent</code> are "
                "required; <code>name</code>, <code>timezone</code> and "
                "<code>consented_at</code> (<code>2026-11-30T12:00:00Z</code>) are optional.</p>"
                "\n<p>Only rows whose consent column says <b>yes</b> (or true, 1) are imported; "
                "every other row is refused and listed with its line. Imported supporters count "
                "as confirmed and get the reminder. Addresses that already pledged are skipped."
                "</p>\n<p class=\"muted\">Up to about 200 KB here; for bigger files use "
                "<code>muster import SLUG FILE.csv</code>.</p>\n");
    buf_printf(b,
               "<form method=\"post\" action=\"/admin/campaigns/%s/import\" novalidate>\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
               row->slug, csrf);
    buf_puts(b, "<div class=\"field\" data-needs-script hidden><label for=\"csv-file\">CSV file "
                "<span class=\"hint\">Read here in your browser into the box below; nothing is "
                "sent until you press Import.</span></label><input type=\"file\" id=\"csv-file\" "
                "accept=\".csv,text/csv,text/plain\" data-read-into=\"csv\"></div>\n"
                "<div class=\"field\"><label for=\"csv\">CSV <span class=\"hint\" "
                "id=\"csv-hint\">Paste it here, or choose a file above.</span></label>"
                "<textarea id=\"csv\" name=\"csv\" rows=\"12\" class=\"code\" spellcheck=\"false\" "
                "placeholder=\"email,name,consent,timezone\nada@example.org,Ada,yes,Europe/London"
                "\" aria-describedby=\"csv-hint");
    if (error)
        buf_puts(b, " csv-error\" aria-invalid=\"true");
    buf_puts(b, "\">");
    escape_html(b, csv ? csv : "");
    buf_puts(b, "</textarea>\n");
    if (error) {
        buf_puts(b, "<div class=\"error\" id=\"csv-error\"><p>");
        escape_html(b, error);
        buf_puts(b, "</p></div>\n");
    }
    buf_puts(b, "</div>\n<div class=\"actions\"><button type=\"submit\">Import</button></div>\n"
                "</form>\n</section>\n");
    admin_page_end(b);
}

void handle_admin_import_page(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    if (admin_campaign_load(req, resp, &row, &c) != 0)
        return;
    import_form(req, resp, &row, c->title, NULL, NULL);
    campaign_row_release(&row);
}

struct import_notes {
    struct buf rows; /* HTML table rows */
    long count;
};

static void note_row(void *ctx, int line, int refused, const char *why)
{
    struct import_notes *n = ctx;
    if (++n->count > IMPORT_NOTES_SHOWN)
        return;
    buf_printf(&n->rows,
               "<tr><th scope=\"row\">%d</th><td><span class=\"badge %s\">%s</span>"
               "</td><td>",
               line, refused ? "badge-closed" : "badge-wait", refused ? "Refused" : "Skipped");
    escape_html(&n->rows, why);
    buf_puts(&n->rows, "</td></tr>\n");
}

static void import_result(struct http_request *req, struct http_response *resp,
                          const struct campaign_row *row, const char *title,
                          const struct csv_import_result *res, const struct import_notes *notes)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    admin_page_begin(b, "Import finished", csrf, ADMIN_CAMPAIGNS);
    buf_printf(b,
               "<div class=\"page-head\"><div><p class=\"crumbs\"><a href=\"/admin\">Campaigns"
               "</a> / <a href=\"/admin/campaigns/%s\">",
               row->slug);
    escape_html(b, title);
    buf_puts(b, "</a></p>\n<h1>Import finished</h1></div></div>\n"
                "<section class=\"tiles few\" aria-label=\"Import\">");
    buf_puts(b, "<div class=\"tile\"><span class=\"tile-label\">Imported</span>"
                "<b class=\"tile-value\" id=\"import-imported\">");
    admin_count(b, res->imported);
    buf_puts(b, "</b></div><div class=\"tile\"><span class=\"tile-label\">Refused</span>"
                "<b class=\"tile-value\" id=\"import-refused\">");
    admin_count(b, res->refused);
    buf_puts(b, "</b></div><div class=\"tile\"><span class=\"tile-label\">Skipped (already "
                "pledged)</span><b class=\"tile-value\" id=\"import-skipped\">");
    admin_count(b, res->duplicates);
    buf_puts(b, "</b></div></section>\n");
    if (notes->count) {
        buf_puts(b, "<section class=\"card\" aria-labelledby=\"notes-h\"><h2 id=\"notes-h\">Rows "
                    "not imported</h2>\n<div class=\"table-wrap\"><table class=\"notes\">"
                    "<thead><tr><th scope=\"col\">Line</th><th scope=\"col\">Result</th>"
                    "<th scope=\"col\">Why</th></tr></thead>\n<tbody>\n");
        buf_append(b, notes->rows.data ? notes->rows.data : "", notes->rows.len);
        buf_puts(b, "</tbody></table></div>\n");
        if (notes->count > IMPORT_NOTES_SHOWN)
            buf_printf(b, "<p class=\"muted\">The first %d of %ld are listed.</p>\n",
                       IMPORT_NOTES_SHOWN, notes->count);
        buf_puts(b, "</section>\n");
    }
    buf_printf(b,
               "<div class=\"actions\"><a class=\"button\" href=\"/admin/campaigns/%s\">Back "
               "to the campaign</a><a class=\"button secondary\" "
               "href=\"/admin/campaigns/%s/import\">Import more</a></div>\n",
               row->slug, row->slug);
    admin_page_end(b);
}

void handle_admin_import_post(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    if (admin_campaign_load(req, resp, &row, &c) != 0)
        return;
    char title[256];
    snprintf(title, sizeof title, "%s", c->title);
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        campaign_row_release(&row);
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return;
    }
    const char *csv = form_get(&f, "csv");
    if (!csv || !*csv) {
        import_form(req, resp, &row, title, "", "Paste the CSV, or choose a file.");
        resp->status = 422;
        goto out;
    }
    struct import_notes notes = {BUF_INIT, 0};
    struct csv_import_result res;
    int status = csv_import(req->store, row.id, csv, strlen(csv), req->now, 0, note_row, &notes, &res);
    char message[320];
    switch (status) {
    case CSV_IMPORT_OK:
        log_info("data.imported",
                 "campaign=%s imported=%ld refused=%ld skipped=%ld "
                 "by=organizer:%lld",
                 row.slug, res.imported, res.refused, res.duplicates, (long long)req->organizer_id);
        import_result(req, resp, &row, title, &res, &notes);
        break;
    case CSV_IMPORT_NO_HEADER:
    case CSV_IMPORT_BAD_HEADER:
    case CSV_IMPORT_BAD_CSV:
        if (status == CSV_IMPORT_BAD_CSV)
            snprintf(message, sizeof message, "This is not valid CSV (%s). Nothing was imported.",
                     res.error);
        else
            snprintf(message, sizeof message,
                     "Line 1 must be a header row naming the columns, "
                     "with at least email and consent. Nothing was "
                     "imported.");
        import_form(req, resp, &row, title, csv, message);
        resp->status = 422;
        break;
    default:
        admin_message_page(req, resp, 503, "Not imported",
                           "The database was busy or failed, so nothing was imported. Try "
                           "again in a moment.");
        break;
    }
    buf_release(&notes.rows);
out:
    form_release(&f);
    campaign_row_release(&row);
}

/* ---- erase ---- */

static void erase_form(struct http_request *req, struct http_response *resp, const char *email,
                       const char *error)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    buf_reset(b);
    admin_page_begin(b, "Erase a person", csrf, ADMIN_ERASE);
    buf_printf(b,
               "<div class=\"page-head\"><div><h1>Erase a person</h1></div></div>\n"
               "<section class=\"card narrow\">\n<p>Removes everything muster keeps about "
               "one email address, in every campaign: the address, name, statement, time "
               "zone and consent record. Their links stop working and no more mail goes to "
               "them. Only anonymous counts remain.</p>\n"
               "<form method=\"post\" action=\"/admin/supporters/erase\" novalidate>\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
               "<div class=\"field\"><label for=\"email\">Email address</label>"
               "<input type=\"email\" id=\"email\" name=\"email\" maxlength=\"320\" "
               "autocomplete=\"off\" value=\"",
               csrf);
    escape_html(b, email ? email : "");
    buf_puts(b, "\"");
    if (error)
        buf_puts(b, " aria-describedby=\"email-error\" aria-invalid=\"true\"");
    buf_puts(b, ">\n");
    if (error) {
        buf_puts(b, "<div class=\"error\" id=\"email-error\"><p>");
        escape_html(b, error);
        buf_puts(b, "</p></div>\n");
    }
    buf_puts(b, "</div>\n<div class=\"actions\"><button type=\"submit\">Continue</button></div>\n"
                "</form>\n</section>\n");
    admin_page_end(b);
}

void handle_admin_erase_page(struct http_request *req, struct http_response *resp)
{
    erase_form(req, resp, NULL, NULL);
}

void handle_admin_erase_post(struct http_request *req, struct http_response *resp)
{
    struct form f;
    char err[160];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return;
    }
    const char *email = form_get(&f, "email"), *confirm = form_get(&f, "confirm");
    if (!email || !*email || strlen(email) > 320 || !strchr(email, '@')) {
        erase_form(req, resp, email, "Enter the email address whose data should be erased.");
        resp->status = 422;
        form_release(&f);
        return;
    }
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    if (!confirm || strcmp(confirm, "yes") != 0) {
        admin_page_begin(b, "Erase a person?", csrf, ADMIN_ERASE);
        buf_puts(b, "<div class=\"page-head\"><div><h1>Erase this person?</h1></div></div>\n"
                    "<section class=\"card narrow danger-zone\">\n<p>Everything muster keeps "
                    "about <b>");
        escape_html(b, email);
        buf_printf(b,
                   "</b> will be removed from every campaign. This cannot be undone.</p>\n"
                   "<form method=\"post\" action=\"/admin/supporters/erase\">\n"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
                   "<input type=\"hidden\" name=\"confirm\" value=\"yes\">\n"
                   "<input type=\"hidden\" name=\"email\" value=\"",
                   csrf);
        escape_html(b, email);
        buf_puts(b, "\">\n<div class=\"actions\"><button type=\"submit\" class=\"danger\">Yes, "
                    "erase</button><a class=\"button secondary\" href=\"/admin/supporters/erase\">"
                    "Cancel</a></div>\n</form>\n</section>\n");
        admin_page_end(b);
        form_release(&f);
        return;
    }
    int count = 0;
    if (pledges_erase(req->store, email, req->now, &count) != 0) {
        form_release(&f);
        admin_message_page(req, resp, 503, "Not erased",
                           "The database was busy or failed, so nothing was erased. Try again.");
        return;
    }
    log_info("supporter.erased", "pledges=%d by=organizer:%lld", count,
             (long long)req->organizer_id);
    admin_page_begin(b, "Erased", csrf, ADMIN_ERASE);
    buf_puts(b, "<div class=\"page-head\"><div><h1>");
    buf_puts(b, count ? "Erased" : "Nothing to erase");
    buf_puts(b, "</h1></div></div>\n<section class=\"card narrow\">\n<p role=\"status\">");
    if (count)
        buf_printf(b,
                   "The data of %d %s with that address was erased. Only anonymous counts "
                   "remain.",
                   count, count == 1 ? "pledge" : "pledges");
    else
        buf_puts(b, "No pledge has that address, so nothing was erased.");
    buf_puts(b, "</p>\n<div class=\"actions\"><a class=\"button\" href=\"/admin\">Back to the "
                "campaigns</a><a class=\"button secondary\" href=\"/admin/supporters/erase\">"
                "Erase another</a></div>\n</section>\n");
    admin_page_end(b);
    form_release(&f);
}
