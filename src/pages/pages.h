/*
 * pages: the HTML pages people see and the handlers that serve them, one file
 * per page family (pledge.c, confirm.c, action.c, unsubscribe.c, calendar.c,
 * ops.c for /healthz and /metrics). layout.c holds the shared frame,
 * stylesheet and error pages. Everything a person typed is HTML-escaped on
 * the way out; no page includes third-party resources.
 */
#ifndef MUSTER_PAGES_PAGES_H
#define MUSTER_PAGES_PAGES_H

#include "core/buf.h"
#include "core/i18n.h"
#include "core/token.h"
#include "http/http.h"

struct campaign;
struct supporter;

/* ---- layout.c ---- */
/* Opens the document: <html lang dir>, <head> with title, viewport,
 * stylesheet; <main>. page_begin_in writes it in lang (a validated tag,
 * core/i18n.h: lang and dir come from it); page_begin in English (the
 * dashboard). Text a person typed inside goes in elements with dir="auto". */
void page_begin(struct buf *b, const char *title);
void page_begin_in(struct buf *b, const char *lang, const char *title);
/* Closes <main> and the document with the footer, in English or in lang. */
void page_end(struct buf *b);
void page_end_in(struct buf *b, const char *lang);
/* An error page: title and message as given (translate them first). */
void page_error(struct http_request *req, struct http_response *resp, int status, const char *title,
                const char *message);
void page_error_in(struct http_request *req, struct http_response *resp, const char *lang,
                   int status, const char *title, const char *message);
/* The 404 page: in English where no campaign is known (every wrong token
 * gets the same page), in the campaign's language under /c/SLUG. */
void page_not_found(struct http_request *req, struct http_response *resp);
/* The language of a campaign, for a page answered before the campaign itself
 * is needed (English when it cannot be read). */
void page_campaign_language(struct http_request *req, int64_t campaign_id,
                            char out[I18N_TAG_MAX + 1]);
void page_not_found_in(struct http_request *req, struct http_response *resp, const char *lang);
/* Renders plain text as paragraphs (blank lines separate them, single line
 * breaks become <br>, http(s) URLs become links). */
void page_paragraphs(struct buf *b, const char *text);
/* Appends MUSTER_BASE_URL + path. */
void page_absolute_url(const struct http_request *req, struct buf *b, const char *path);
/* Answers with a file compiled into muster (stylesheet, script), cacheable
 * for max_age seconds. */
void page_static(struct http_response *resp, const char *content_type, const char *data, size_t len,
                 int max_age);
void handle_stylesheet(struct http_request *req, struct http_response *resp);
void handle_script(struct http_request *req, struct http_response *resp);
/* GET /favicon.ico: muster's icon (SVG), cacheable for a year. */
void handle_favicon(struct http_request *req, struct http_response *resp);
/* The <link rel="icon"> of every page's head, the icon inline. */
const char *page_icon_link(void);

/* Resolves a supporter link token of the given purpose (constant-time check).
 * Returns 0 and fills out, or answers 404 itself and returns -1. */
int page_supporter_from_token(struct http_request *req, struct http_response *resp,
                              const char *token, enum token_purpose purpose, struct supporter *out);
/* The same, accepting a token of any of the given purposes; its 404 is in
 * lang (the campaign's, under /c/SLUG). */
int page_supporter_from_token_any(struct http_request *req, struct http_response *resp,
                                  const char *lang, const char *token,
                                  const enum token_purpose *purposes, size_t count,
                                  struct supporter *out);

/* ---- handlers ---- */
void handle_pledge_page(struct http_request *req, struct http_response *resp);
void handle_pledge_post(struct http_request *req, struct http_response *resp);
void handle_confirm_page(struct http_request *req, struct http_response *resp);
void handle_confirm_post(struct http_request *req, struct http_response *resp);
void handle_calendar(struct http_request *req, struct http_response *resp);
void handle_action(struct http_request *req, struct http_response *resp);
void handle_action_report(struct http_request *req, struct http_response *resp);
void handle_action_instance(struct http_request *req, struct http_response *resp);
void handle_action_test(struct http_request *req, struct http_response *resp);
void handle_action_test_unsubscribe(struct http_request *req, struct http_response *resp);
void handle_unsubscribe_page(struct http_request *req, struct http_response *resp);
void handle_unsubscribe_post(struct http_request *req, struct http_response *resp);
void handle_healthz(struct http_request *req, struct http_response *resp);
/* hooks.c: providers' bounce and complaint events (docs/API.md) */
void handle_hook_postmark(struct http_request *req, struct http_response *resp);
void handle_hook_sendgrid(struct http_request *req, struct http_response *resp);
void handle_hook_ses(struct http_request *req, struct http_response *resp);
void handle_metrics(struct http_request *req, struct http_response *resp);
void handle_home(struct http_request *req, struct http_response *resp);
/* embed.c: the banner for other sites (script and iframe forms). */
void handle_embed_script(struct http_request *req, struct http_response *resp);
void handle_embed_page(struct http_request *req, struct http_response *resp);
void handle_embed_stylesheet(struct http_request *req, struct http_response *resp);

#endif
