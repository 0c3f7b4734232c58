/*
 * layout: the frame every page shares (head, stylesheet, script), the error
 * pages, plain-text-to-HTML rendering, and the stylesheet and script
 * themselves (served from memory at /static/). Pages load nothing from other
 * sites, so the Content-Security-Policy is 'self' only.
 */
#include "pages/pages.h"

#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "http/app.h"
#include "service/cache.h"
#include "store/store.h"
#include "core/banned.h"

/* The icon, drawn once: served at /favicon.ico and linked inline from every
 * page's head (no request of its own; CSP allows data: images). */
static const char icon_svg[] =
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' "
    "rx='7' fill='#0b5cad'/><path d='M8 23V10l8 8 8-8v13' fill='none' stroke='#fff' "
    "stroke-width='3.5' stroke-linecap='round' stroke-linejoin='round'/></svg>";
#define ICON_LINK                                                                                  \
    "<link rel=\"icon\" type=\"image/svg+xml\" "                                                   \
    "href=\"data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/"                            \
    "svg'%20viewBox='0%200%2032%2032'%3E%3Crect%20width='32'%20height='32'%20rx='7'%20fill='%"     \
    "230b5cad'/"                                                                                   \
    "%3E%3Cpath%20d='M8%2023V10l8%208%208-8v13'%20fill='none'%20stroke='%23fff'%20stroke-width='"  \
    "3.5'%20stroke-linecap='round'%20stroke-linejoin='round'/%3E%3C/svg%3E\">\n"

const char *page_icon_link(void)
{
    return ICON_LINK;
}

void handle_favicon(struct http_request *req, struct http_response *resp)
{
    (void)req;
    page_static(resp, "image/svg+xml", icon_svg, sizeof icon_svg - 1, 31536000);
}

void page_begin(struct buf *b, const char *title)
{
    page_begin_in(b, I18N_DEFAULT_LANGUAGE, title);
}

void page_begin_in(struct buf *b, const char *lang, const char *title)
{
    /* lang is a validated tag (campaign.c, store): safe in an attribute. */
    buf_printf(b, "<!doctype html>\n<html lang=\"%s\" dir=\"%s\">\n", lang, i18n_dir(lang));
    buf_puts(b, "<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>");
    escape_html(b, title);
    buf_puts(b, "</title>\n" ICON_LINK "<link rel=\"stylesheet\" href=\"/static/muster.css\">\n"
                "<script src=\"/static/muster.js\" defer></script>\n</head>\n<body>\n"
                "<main class=\"page\">\n");
}

void page_end(struct buf *b)
{
    page_end_in(b, I18N_DEFAULT_LANGUAGE);
}

void page_end_in(struct buf *b, const char *lang)
{
    buf_puts(b, "</main>\n<footer class=\"footer\">");
    escape_html(b, i18n(lang, "Powered by muster. You act yourself; nothing is posted on your "
                              "behalf."));
    buf_puts(b, "</footer>\n</body>\n</html>\n");
}

void page_error(struct http_request *req, struct http_response *resp, int status, const char *title,
                const char *message)
{
    page_error_in(req, resp, I18N_DEFAULT_LANGUAGE, status, title, message);
}

void page_error_in(struct http_request *req, struct http_response *resp, const char *lang,
                   int status, const char *title, const char *message)
{
    (void)req;
    resp->status = status;
    resp->content_type = "text/html; charset=utf-8";
    buf_reset(&resp->body);
    page_begin_in(&resp->body, lang, title);
    buf_puts(&resp->body, "<h1>");
    escape_html(&resp->body, title);
    buf_puts(&resp->body, "</h1>\n<p>");
    escape_html(&resp->body, message);
    /* A way on from every error page; the same for every wrong link, so it
     * says nothing about which links exist. */
    buf_puts(&resp->body, "</p>\n<p class=\"back\"><a href=\"/\">");
    escape_html(&resp->body, i18n(lang, "Go to the start page"));
    buf_puts(&resp->body, "</a></p>\n");
    page_end_in(&resp->body, lang);
}

void page_not_found(struct http_request *req, struct http_response *resp)
{
    page_not_found_in(req, resp, I18N_DEFAULT_LANGUAGE);
}

void page_not_found_in(struct http_request *req, struct http_response *resp, const char *lang)
{
    page_error_in(req, resp, lang, 404, i18n(lang, "Not found"),
                  i18n(lang, "There is nothing here. If you followed a link from an email, it "
                             "may have expired or been mistyped."));
}

static size_t url_length(const char *s)
{
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != '\n' && s[n] != '\r' && s[n] != '\t' && s[n] != '<' &&
           s[n] != '>' && s[n] != '"')
        n++;
    /* Trailing punctuation ends a sentence, not the URL. */
    while (n > 0 && strchr(".,;:!?)'", s[n - 1]))
        n--;
    return n;
}

static void inline_text(struct buf *b, const char *s, size_t len)
{
    size_t i = 0, start = 0;
    while (i < len) {
        if ((len - i > 8 && strncmp(s + i, "https://", 8) == 0) ||
            (len - i > 7 && strncmp(s + i, "http://", 7) == 0)) {
            escape_html_n(b, s + start, i - start);
            size_t ul = url_length(s + i);
            if (ul > len - i)
                ul = len - i;
            buf_puts(b, "<a href=\"");
            escape_html_n(b, s + i, ul);
            buf_puts(b, "\" rel=\"nofollow noopener\">");
            escape_html_n(b, s + i, ul);
            buf_puts(b, "</a>");
            i += ul;
            start = i;
        } else if (s[i] == '\n') {
            escape_html_n(b, s + start, i - start);
            buf_puts(b, "<br>\n");
            i++;
            start = i;
        } else {
            i++;
        }
    }
    escape_html_n(b, s + start, len - start);
}

void page_paragraphs(struct buf *b, const char *text)
{
    const char *p = text ? text : "";
    while (*p) {
        while (*p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        const char *end = strstr(p, "\n\n");
        const char *crlf = strstr(p, "\r\n\r\n");
        if (crlf && (!end || crlf < end))
            end = crlf;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        buf_puts(b, "<p>");
        inline_text(b, p, len);
        buf_puts(b, "</p>\n");
        p += len;
    }
}

void page_absolute_url(const struct http_request *req, struct buf *b, const char *path)
{
    buf_puts(b, req->app->cfg->base_url);
    buf_puts(b, path);
}

int page_supporter_from_token(struct http_request *req, struct http_response *resp,
                              const char *token, enum token_purpose purpose, struct supporter *out)
{
    return page_supporter_from_token_any(req, resp, I18N_DEFAULT_LANGUAGE, token, &purpose, 1, out);
}

int page_supporter_from_token_any(struct http_request *req, struct http_response *resp,
                                  const char *lang, const char *token,
                                  const enum token_purpose *purposes, size_t count,
                                  struct supporter *out)
{
    struct token_link link;
    struct supporter s;
    if (token_link_parse(token, &link) != 0 ||
        store_supporter_by_key(req->store, link.key, &s) != 0) {
        page_not_found_in(req, resp, lang);
        return -1;
    }
    int valid = 0;
    for (size_t i = 0; i < count && !valid; i++)
        valid = token_link_check(&link, purposes[i], s.epoch);
    if (!valid) {
        supporter_release(&s);
        page_not_found_in(req, resp, lang);
        return -1;
    }
    *out = s;
    return 0;
}

static const char stylesheet[] =
    ":root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--card:#fff;"
    "--accent:#0b5cad;--accent-ink:#fff;--ok:#1a7f37;--bad:#b42318;--warn-bg:#fff8c5}\n"
    "*{box-sizing:border-box}\n"
    "html{font-size:100%;-webkit-text-size-adjust:100%}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:1.0625rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",sans-serif}\n"
    ".page{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 2rem}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:12px;"
    "padding:1.25rem 1.25rem 1.5rem;margin:1rem 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}\n"
    "h1{font-size:1.75rem;line-height:1.2;margin:.25rem 0 1rem}\n"
    "h2{font-size:1.25rem;margin:0 0 .75rem}\n"
    "p{margin:.5rem 0 .9rem}\n"
    "a{color:var(--accent)}\n"
    ".eyebrow{color:var(--muted);font-size:.9rem;text-transform:uppercase;letter-spacing:.04em;"
    "margin:0}\n"
    ".moment{display:flex;gap:.75rem;align-items:flex-start;background:#eef5ff;"
    "border:1px solid #c8defa;border-radius:10px;padding:.9rem 1rem;margin:1rem 0}\n"
    ".moment strong{display:block;font-size:1.1rem}\n"
    ".moment .zone{color:var(--muted);font-size:.92rem}\n"
    ".count{font-size:1.05rem;margin:.5rem 0 1rem}\n"
    ".count b{font-size:1.5rem}\n"
    "label{display:block;font-weight:600;margin:1rem 0 .3rem}\n"
    ".hint{display:block;font-weight:400;color:var(--muted);font-size:.92rem}\n"
    "input[type=email],input[type=text],input[type=password],textarea,select{width:100%;"
    "max-inline-size:100%;text-align:start;"
    "font:inherit;"
    "padding:.65rem .75rem;border:1px solid #8c959f;border-radius:8px;background:#fff;"
    "color:var(--ink)}\n"
    "textarea{min-height:8rem;resize:vertical}\n"
    "textarea[readonly]{field-sizing:content;overflow-wrap:anywhere}\n"
    "textarea.title-box{min-height:0;resize:none}\n"
    ":focus-visible{outline:3px solid #0b5cad;outline-offset:2px}\n"
    "input:focus-visible,textarea:focus-visible,select:focus-visible{outline-offset:0;"
    "border-color:#0b5cad}\n"
    "[aria-invalid=true]{border-color:var(--bad)!important;border-width:2px}\n"
    ".spaced{margin-top:1.75rem}\n"
    ".report{margin-top:2rem;padding-top:1rem;border-top:1px solid var(--line)}\n"
    ".report button{font-weight:400;font-size:.95rem;min-height:40px}\n"
    ".check{display:flex;gap:.6rem;align-items:flex-start;font-weight:400;margin-top:1.25rem}\n"
    ".check input{width:1.25rem;height:1.25rem;margin-top:.2rem;flex:none}\n"
    ".button,button{display:inline-block;font:inherit;font-weight:600;background:var(--accent);"
    "color:var(--accent-ink);border:0;border-radius:8px;padding:.75rem 1.25rem;"
    "text-decoration:none;cursor:pointer;min-height:44px}\n"
    ".button.secondary,button.secondary{background:#fff;color:var(--accent);"
    "border:1px solid var(--accent)}\n"
    ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}\n"
    ".error{color:var(--bad);font-weight:600;font-size:.95rem;margin:.3rem 0 0}\n"
    ".errors{border:2px solid var(--bad);border-radius:10px;padding:.75rem 1rem;"
    "background:#fff5f5}\n"
    ".notice{background:var(--warn-bg);border:1px solid #e3c34d;border-radius:10px;"
    "padding:.75rem 1rem}\n"
    ".success{border-inline-start:5px solid var(--ok)}\n"
    "pre.message{white-space:pre-wrap;word-wrap:break-word;background:var(--bg);"
    "border:1px solid var(--line);border-radius:8px;padding:.9rem;font:inherit;margin:.5rem 0}\n"
    ".details dt{font-weight:600;margin-top:.5rem}\n"
    ".details dd{margin:0;text-align:match-parent}\n"
    ".targets{list-style:none;padding:0;margin:0}\n"
    ".targets li{border-top:1px solid var(--line);padding:.9rem 0}\n"
    ".muted{color:var(--muted)}\n"
    ".footer{max-width:42rem;margin:0 auto;padding:0 1rem 2rem;color:var(--muted);"
    "font-size:.85rem}\n"
    ".tel{font-size:1.5rem;font-weight:700}\n"
    "@media (max-width:30rem){h1{font-size:1.45rem}.card{padding:1rem}"
    ".actions .button,.actions button{width:100%;text-align:center}}\n";

static const char script[] =
    "(function(){\n"
    "'use strict';\n"
    "var lang=document.documentElement.lang||undefined;\n"
    "function fmt(d,tz){try{return new Intl.DateTimeFormat(lang,{dateStyle:'full',"
    "timeStyle:'short',hourCycle:'h23',timeZone:tz}).format(d);}catch(e){return d.toString();}}\n"
    "var zone='UTC';try{zone=Intl.DateTimeFormat().resolvedOptions().timeZone||'UTC';}"
    "catch(e){}\n"
    "document.querySelectorAll('[data-local-time]').forEach(function(el){\n"
    "  var d=new Date(el.getAttribute('data-local-time'));if(isNaN(d))return;\n"
    "  el.textContent=fmt(d,zone)+' ('+zone+')';el.hidden=false;});\n"
    "var summary=document.querySelector('[data-error-summary]');\n"
    "if(summary){summary.focus();summary.scrollIntoView({block:'start'});}\n"
    "document.querySelectorAll('input[data-fill-timezone]').forEach(function(el){\n"
    "  if(!el.value||el.value==='UTC'&&!el.hasAttribute('data-kept'))el.value=zone;});\n"
    "document.querySelectorAll('[data-countdown]').forEach(function(el){\n"
    "  var t=new Date(el.getAttribute('data-countdown'));if(isNaN(t))return;\n"
    "  function tick(){var s=Math.max(0,Math.floor((t-new Date())/1000));\n"
    "    var d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60);\n"
    "    var left={days:d,hours:h,minutes:m,seconds:s%60};\n"
    "    try{el.textContent=new Intl.DurationFormat(lang,{style:'narrow'}).format(left);}\n"
    "    catch(e){el.textContent=(d?d+' d ':'')+h+' h '+m+' min '+(s%60)+' s';}\n"
    "    if(s===0){clearInterval(iv);location.reload();}}\n"
    "  var iv=setInterval(tick,1000);tick();});\n"
    "document.querySelectorAll('button[data-copy]').forEach(function(b){\n"
    "  b.hidden=false;b.addEventListener('click',function(){\n"
    "    var src=document.getElementById(b.getAttribute('data-copy'));if(!src)return;\n"
    "    var text=src.value!==undefined?src.value:src.textContent;\n"
    "    var done=function(){var o=b.textContent;"
    "b.textContent=b.getAttribute('data-copied')||'Copied';"
    "setTimeout(function(){b.textContent=o;},2000);};\n"
    "    if(navigator.clipboard){navigator.clipboard.writeText(text).then(done,function(){});}\n"
    "    else{var r=document.createRange();r.selectNodeContents(src);"
    "var s=getSelection();s.removeAllRanges();s.addRange(r);document.execCommand('copy');"
    "done();}});});\n"
    "})();\n";

void page_static(struct http_response *resp, const char *content_type, const char *data, size_t len,
                 int max_age)
{
    char cache[48];
    snprintf(cache, sizeof cache, "public, max-age=%d", max_age);
    resp->content_type = content_type;
    http_set_header(resp, "Cache-Control", cache);
    buf_append(&resp->body, data, len);
}

void handle_stylesheet(struct http_request *req, struct http_response *resp)
{
    (void)req;
    page_static(resp, "text/css; charset=utf-8", stylesheet, sizeof stylesheet - 1, 3600);
}

void handle_script(struct http_request *req, struct http_response *resp)
{
    (void)req;
    page_static(resp, "text/javascript; charset=utf-8", script, sizeof script - 1, 3600);
}

void page_campaign_language(struct http_request *req, int64_t campaign_id,
                            char out[I18N_TAG_MAX + 1])
{
    struct campaign_row row = {0};
    const struct campaign *c;
    memcpy(out, I18N_DEFAULT_LANGUAGE, sizeof I18N_DEFAULT_LANGUAGE);
    if (campaign_cache_get_by_id(req->store, campaign_id, &row, &c) == 0) {
        memcpy(out, row.language, sizeof row.language);
        campaign_row_release(&row);
    }
}
