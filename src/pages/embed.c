/*
 * embed: the banner an organizer pastes into their own site (GET
 * /c/SLUG/embed.js), and its <iframe> form for sites that refuse scripts (GET
 * /c/SLUG/embed, styled by /static/embed.css).
 *
 * Before the moment it shows a countdown, the number of confirmed pledges and
 * a link to pledge; during the window a full-width "act now" banner linking to
 * the pledge page; after it nothing, or a thank-you line when the campaign file
 * says "embed": {"after": "thanks"}.
 *
 * What it promises the sites that carry it (docs/EMBED.md): no cookies, no
 * request to anyone (the script carries its data and loads nothing; the iframe
 * loads only its stylesheet from muster), nothing from a third party, a size
 * budget (EMBED_SCRIPT_BUDGET, measured by the tests), a link a keyboard
 * reaches and a region a screen reader names. Only these two routes may be
 * framed or run elsewhere: every other page keeps frame-ancestors 'none'.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/tz.h"
#include "http/app.h"
#include "pages/pages.h"
#include "service/cache.h"
#include "store/store.h"
#include "core/banned.h"

/* The script's own code (everything but the campaign's data) stays under this
 * many bytes; docs/EMBED.md states it and tests/e2e/test_embed.py measures it. */
#define EMBED_SCRIPT_BUDGET 3072

/* The words the banner says (muster's own, not the organizer's), in the
 * campaign's language (core/i18n.h, po/). */
struct embed_words {
    const char *pledge;  /* the link before the moment */
    const char *pledged; /* before the number of confirmed pledges */
    const char *starts;  /* before the countdown */
    const char *now;     /* during the window */
    const char *act;     /* the link during the window */
    const char *thanks;  /* after the window, when the organizer wants it */
};

static struct embed_words embed_words_in(const char *lang)
{
    struct embed_words w = {
        .pledge = i18n(lang, "Pledge to take part"),
        .pledged = i18n(lang, "Pledged so far:"),
        .starts = i18n(lang, "We act together"),
        .now = i18n(lang, "The day of action is happening now."),
        .act = i18n(lang, "Act now"),
        .thanks = i18n(lang, "Thank you to everyone who took part."),
    };
    return w;
}

/* Shared by the script (inside its shadow root) and the iframe page. Logical
 * properties only, so a right-to-left campaign mirrors. */
static const char embed_css[] =
    "body{margin:0}"
    ".muster-embed{box-sizing:border-box;inline-size:100%;margin:0;padding:12px 16px;"
    "border-radius:8px;font:16px/1.4 system-ui,sans-serif;background:#0b3d91;color:#fff;"
    "text-align:start}"
    ".muster-embed p,.muster-embed h1{margin:0 0 6px}"
    ".muster-embed .t{font-weight:700;font-size:1.1em}"
    ".muster-embed a{display:inline-block;margin-block-start:4px;padding:6px 14px;"
    "border-radius:6px;background:#fff;color:#0b3d91;font-weight:700;text-decoration:none}"
    ".muster-embed a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}"
    ".muster-embed.m-during{border-radius:0;background:#a4161a;font-size:18px}"
    ".muster-embed.m-during a{color:#a4161a}"
    ".muster-embed.m-after{background:#f3f4f6;color:#1f2328}";

/* The script: draws the state the visitor's clock says (so a cached copy
 * still changes at the moment), updates the countdown every second in a
 * role="timer" (never announced on its own), and stops ticking after the
 * window. d is the data object appended by handle_embed_script. */
static const char embed_js_code[] =
    "(function(d){var s=document.currentScript;if(!s||!s.parentNode)return;"
    "var h=document.createElement('div');s.parentNode.insertBefore(h,s.nextSibling);"
    "var r=h.attachShadow?h.attachShadow({mode:'open'}):h;"
    "var st=document.createElement('style');st.textContent=d.css;r.appendChild(st);"
    "var b=document.createElement('section');b.setAttribute('lang',d.lang);b.dir=d.dir;"
    "b.setAttribute('aria-label',d.title);r.appendChild(b);"
    "function el(t,c,x,p){var e=document.createElement(t);if(c)e.className=c;"
    "if(x!=null)e.textContent=x;(p||b).appendChild(e);return e}"
    "function link(x){var a=el('a','',x);a.href=d.url;a.target='_top';return a}"
    "var state='',timer=null;"
    "function left(ms){var u=[['day',864e5],['hour',36e5],['minute',6e4],['second',1e3]];"
    "for(var i=0;i<u.length;i++)if(ms>=u[i][1]||i==3){var n=Math.max(1,Math.round(ms/u[i][1]));"
    "try{return new Intl.RelativeTimeFormat(d.lang,{numeric:'auto'}).format(n,u[i][0])}"
    "catch(e){return n+' '+u[i][0]+(n>1?'s':'')}}}"
    "function draw(){var now=Date.now(),m=now<d.start?'before':now<d.end?'during':'after';"
    "if(m!==state){state=m;b.textContent='';b.className='muster-embed m-'+m;"
    "h.hidden=m=='after'&&!d.thanks;"
    "var t=el('p','t',d.title);t.dir='auto';"
    "if(m=='before'){var p=el('p','',d.w.starts+' ');"
    "timer=el('span','',null,p);timer.setAttribute('role','timer');"
    "var w=el('time','',null,p);w.dateTime=new Date(d.start).toISOString();"
    "try{w.textContent=' ('+new Intl.DateTimeFormat(d.lang,{dateStyle:'medium',"
    "timeStyle:'short'}).format(d.start)+')'}catch(e){w.textContent=' ('+w.dateTime+')'}"
    "var n=d.count;try{n=new Intl.NumberFormat(d.lang).format(n)}catch(e){}"
    "el('p','',d.w.pledged+' '+n);link(d.w.pledge)}"
    "else if(m=='during'){el('p','',d.w.now);link(d.w.act)}"
    "else el('p','',d.w.thanks)}"
    "if(m=='before')timer.textContent=left(d.start-now);return m}"
    "if(draw()!='after')var i=setInterval(function(){if(draw()=='after')clearInterval(i)},1e3)"
    "})(";

_Static_assert(sizeof embed_js_code - 1 + sizeof embed_css - 1 <= EMBED_SCRIPT_BUDGET,
               "the embed script outgrew its budget (docs/EMBED.md)");

enum embed_moment { EMBED_BEFORE, EMBED_DURING, EMBED_AFTER };

static enum embed_moment moment_at(const struct campaign_row *row, int64_t now)
{
    int64_t end = row->launch_utc + (int64_t)row->window_minutes * 60;
    if (now < row->launch_utc)
        return EMBED_BEFORE;
    return now < end ? EMBED_DURING : EMBED_AFTER;
}

/* The campaign's language and its direction: the tag was validated when the
 * campaign file was applied (campaign.c), so it is safe in an attribute. */
static void embed_language(const struct campaign *c, const char **lang, const char **dir)
{
    *lang = c->language && *c->language ? c->language : I18N_DEFAULT_LANGUAGE;
    *dir = i18n_dir(*lang);
}

/* Loads the campaign of the route's slug and its confirmed count, or answers
 * (404, 500) itself and returns -1. */
static int load(struct http_request *req, struct http_response *resp, struct campaign_row *row,
                const struct campaign **c, int64_t *confirmed)
{
    int rc = campaign_cache_get(req->store, req->params[0], row, c);
    if (rc == STORE_NOT_FOUND) {
        page_not_found(req, resp);
        return -1;
    }
    if (rc != 0) {
        page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return -1;
    }
    if (store_confirmed_count(req->store, row->id, confirmed) != 0) {
        campaign_row_release(row);
        page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return -1;
    }
    return 0;
}

/* Headers both forms share: cacheable for a minute (the count may lag that
 * much), readable by any origin's page, never a cookie. */
static void embed_headers(struct http_response *resp)
{
    http_set_header(resp, "Cache-Control", "public, max-age=60");
    http_set_header(resp, "Cross-Origin-Resource-Policy", "cross-origin");
}

void handle_embed_script(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    int64_t confirmed = 0;
    if (load(req, resp, &row, &c, &confirmed) != 0)
        return;
    const char *lang, *dir;
    embed_language(c, &lang, &dir);
    struct buf url = BUF_INIT;
    char path[128];
    snprintf(path, sizeof path, "/c/%s", c->slug);
    page_absolute_url(req, &url, path);
    const struct embed_words words = embed_words_in(lang);
    const struct embed_words *w = &words;
    json_t *data =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
                  "title", c->title, "url", buf_cstr(&url), "lang", lang, "dir", dir, "start",
                  (json_int_t)row.launch_utc * 1000, "end",
                  (json_int_t)(row.launch_utc + (int64_t)row.window_minutes * 60) * 1000, "count",
                  (json_int_t)confirmed, "thanks", c->embed_after == EMBED_AFTER_THANKS, "css",
                  embed_css, "w", "pledge", w->pledge, "pledged", w->pledged, "starts", w->starts,
                  "now", w->now, "act", w->act, "thanks", w->thanks);
    /* ASCII only (U+2028 and U+2029 end a line in older JavaScript), and
     * "</" as "<\/" for a page that inlines the script. */
    char *json =
        data ? json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH) : NULL;
    json_decref(data);
    buf_release(&url);
    campaign_row_release(&row);
    if (!json) {
        page_error(req, resp, 500, "Something went wrong", "Please try again in a moment.");
        return;
    }
    resp->content_type = "text/javascript; charset=utf-8";
    embed_headers(resp);
    buf_append(&resp->body, embed_js_code, sizeof embed_js_code - 1);
    buf_puts(&resp->body, json);
    buf_puts(&resp->body, ");\n");
    free(json);
}

void handle_embed_page(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    int64_t confirmed = 0;
    if (load(req, resp, &row, &c, &confirmed) != 0)
        return;
    const char *lang, *dir;
    embed_language(c, &lang, &dir);
    const struct embed_words words = embed_words_in(lang);
    const struct embed_words *w = &words;
    enum embed_moment m = moment_at(&row, req->now);
    struct buf *b = &resp->body;
    static const char *const mode[] = {"m-before", "m-during", "m-after"};
    buf_printf(b,
               "<!doctype html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
               lang, dir);
    escape_html(b, c->title);
    buf_printf(b,
               "</title>\n<link rel=\"stylesheet\" href=\"/static/embed.css\">\n</head>\n"
               "<body>\n<main class=\"muster-embed %s\" aria-label=\"",
               mode[m]);
    escape_html(b, c->title);
    buf_puts(b, "\">\n");
    if (m != EMBED_AFTER || c->embed_after == EMBED_AFTER_THANKS) {
        /* the framed document's own heading (the script's banner is a region
         * of the host page, whose headings are the host's) */
        buf_puts(b, "<h1 class=\"t\" dir=\"auto\">");
        escape_html(b, c->title);
        buf_puts(b, "</h1>\n");
    }
    struct buf url = BUF_INIT;
    char path[128];
    snprintf(path, sizeof path, "/c/%s", c->slug);
    page_absolute_url(req, &url, path);
    if (m == EMBED_BEFORE) {
        char when[128], iso[21];
        if (i18n_format_moment(row.launch_utc, c->timezone, lang, when, sizeof when) != 0)
            snprintf(when, sizeof when, "(unknown)");
        tz_iso_utc(row.launch_utc, iso);
        buf_puts(b, "<p>");
        escape_html(b, w->starts);
        buf_printf(b, " <time datetime=\"%s\">", iso);
        escape_html(b, when);
        buf_puts(b, "</time></p>\n<p>");
        escape_html(b, w->pledged);
        buf_printf(b, " %lld</p>\n<a href=\"", (long long)confirmed);
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "\" target=\"_top\">");
        escape_html(b, w->pledge);
        buf_puts(b, "</a>\n");
    } else if (m == EMBED_DURING) {
        buf_puts(b, "<p>");
        escape_html(b, w->now);
        buf_puts(b, "</p>\n<a href=\"");
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "\" target=\"_top\">");
        escape_html(b, w->act);
        buf_puts(b, "</a>\n");
    } else if (c->embed_after == EMBED_AFTER_THANKS) {
        buf_puts(b, "<p>");
        escape_html(b, w->thanks);
        buf_puts(b, "</p>\n");
    }
    buf_puts(b, "</main>\n</body>\n</html>\n");
    buf_release(&url);
    campaign_row_release(&row);
    resp->content_type = "text/html; charset=utf-8";
    embed_headers(resp);
    /* The one document any site may frame: no script, its own stylesheet. */
    http_set_header(resp, "Content-Security-Policy",
                    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
                    "frame-ancestors *");
}

void handle_embed_stylesheet(struct http_request *req, struct http_response *resp)
{
    (void)req;
    page_static(resp, "text/css; charset=utf-8", embed_css, sizeof embed_css - 1, 3600);
    http_set_header(resp, "Cross-Origin-Resource-Policy", "cross-origin");
}
