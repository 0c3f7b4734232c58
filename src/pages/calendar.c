/*
 * calendar: GET /c/SLUG/calendar/TOKEN.ics, the supporter's calendar file for
 * the launch moment (the same file the "you're in" email carries).
 */
#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/i18n.h"
#include "http/app.h"
#include "mail/compose.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

void handle_calendar(struct http_request *req, struct http_response *resp)
{
    const char *file = req->params[1];
    size_t len = strlen(file);
    char token[TOKEN_LINK_LEN + 1];
    /* The 404 under /c/SLUG speaks the campaign's language (the same page
     * for every wrong file name or token of that campaign). */
    char lang[I18N_TAG_MAX + 1] = I18N_DEFAULT_LANGUAGE;
    struct campaign_row by_slug = {0};
    const struct campaign *named;
    if (campaign_cache_get(req->store, req->params[0], &by_slug, &named) == 0) {
        memcpy(lang, by_slug.language, sizeof lang);
        campaign_row_release(&by_slug);
    }
    if (len != TOKEN_LINK_LEN + 4 || strcmp(file + TOKEN_LINK_LEN, ".ics") != 0) {
        page_not_found_in(req, resp, lang);
        return;
    }
    memcpy(token, file, TOKEN_LINK_LEN);
    token[TOKEN_LINK_LEN] = '\0';
    /* The thank-you page links the calendar token; any of the supporter's own
     * link tokens opens the same file (it holds only the campaign's moment). */
    static const enum token_purpose accepted[] = {TOKEN_CALENDAR, TOKEN_CONFIRM, TOKEN_ACTION,
                                                  TOKEN_UNSUBSCRIBE};
    struct supporter s;
    if (page_supporter_from_token_any(req, resp, lang, token, accepted,
                                      sizeof accepted / sizeof accepted[0], &s) != 0)
        return;
    struct campaign_row row = {0};
    const struct campaign *c;
    if (campaign_cache_get_by_id(req->store, s.campaign_id, &row, &c) != 0 ||
        strcmp(row.slug, req->params[0]) != 0) {
        campaign_row_release(&row);
        supporter_release(&s);
        page_not_found_in(req, resp, lang);
        return;
    }
    resp->content_type = "text/calendar; charset=utf-8";
    char disposition[128];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s.ics\"", c->slug);
    http_set_header(resp, "Content-Disposition", disposition);
    if (compose_ics(c, &row, &s, req->app->cfg, req->now, &resp->body) != 0)
        page_error_in(req, resp, lang, 500, i18n(lang, "Something went wrong"),
                      i18n(lang, "The calendar file could not be made."));
    supporter_release(&s);
    campaign_row_release(&row);
}
