/*
 * compose: the texts of muster's emails and calendar files (see compose.h).
 * The supporter's name and statement only ever pass through the MIME writer
 * (which encodes them) and escape_html; they never reach a header raw.
 */
#include "mail/compose.h"

#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/config.h"
#include "core/escape.h"
#include "core/token.h"
#include "core/tz.h"
#include "mail/ics.h"
#include "mail/message.h"
#include "core/banned.h"

static const char *from_domain(const struct config *cfg)
{
    const char *at = strrchr(cfg->from, '@');
    return at && at[1] ? at + 1 : "localhost";
}

int compose_message_id(enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                       const struct config *cfg, char out[160])
{
    const struct mail_kind_ops *ops = mail_kind_lookup(kind);
    if (!ops)
        return -1;
    char data[96], mac[TOKEN_HASH_HEX + 1];
    int n = snprintf(data, sizeof data, "message-id:%d:%lld:%lld", (int)kind,
                     (long long)campaign_id, (long long)supporter_id);
    token_hmac_hex(data, (size_t)n, mac);
    mac[16] = '\0';
    snprintf(out, 160, "%s.%lld.%lld.%s@%s", ops->name, (long long)campaign_id,
             (long long)supporter_id, mac, from_domain(cfg));
    return 0;
}

void compose_calendar_uid(int64_t campaign_id, int64_t supporter_id, const struct config *cfg,
                          char out[200])
{
    /* Ids alone repeat on every server (each counts from 1); the MAC under
     * this server's secret does not, and is the same at every download. */
    char data[96], mac[TOKEN_HASH_HEX + 1];
    int n = snprintf(data, sizeof data, "calendar-uid:%lld:%lld", (long long)campaign_id,
                     (long long)supporter_id);
    token_hmac_hex(data, (size_t)n, mac);
    mac[32] = '\0'; /* 128 bits */
    snprintf(out, 200, "launch-%s@%s", mac, from_domain(cfg));
}

static void link(struct buf *out, const struct config *cfg, const char *prefix,
                 enum token_purpose purpose, const struct supporter *s, const char *suffix)
{
    char token[TOKEN_LINK_LEN + 1];
    token_link_make(purpose, s->token_key, s->epoch, token);
    buf_printf(out, "%s%s%s%s", cfg->base_url, prefix, token, suffix ? suffix : "");
}

int compose_ics(const struct campaign *c, const struct campaign_row *row, const struct supporter *s,
                const struct config *cfg, int64_t now, struct buf *out)
{
    char uid[200];
    compose_calendar_uid(row->id, s->id, cfg, uid);
    struct buf url = BUF_INIT, description = BUF_INIT;
    buf_printf(&url, "%s/c/%s", cfg->base_url, c->slug);
    buf_printf(&description,
               "At this moment you receive an email with your personal one-click link.\n"
               "Campaign page: %s",
               buf_cstr(&url));
    struct ics_event e = {
        .uid = uid,
        .dtstamp = now,
        .start = row->launch_utc,
        .duration_minutes = row->window_minutes,
        .summary = c->title,
        .description = buf_cstr(&description),
        .url = buf_cstr(&url),
        .organizer_name = c->organizer_name,
        .organizer_email = c->organizer_email,
    };
    int rc = buf_failed(&url) || buf_failed(&description) ? -1 : ics_build(&e, out);
    buf_release(&url);
    buf_release(&description);
    return rc;
}

static void greeting(struct buf *text, struct buf *html, const struct supporter *s)
{
    if (s->name && *s->name) {
        buf_puts(text, "Hello ");
        buf_puts(text, s->name);
        buf_puts(text, ",\n\n");
        buf_puts(html, "<p>Hello ");
        escape_html(html, s->name);
        buf_puts(html, ",</p>\n");
    } else {
        buf_puts(text, "Hello,\n\n");
        buf_puts(html, "<p>Hello,</p>\n");
    }
}

static void html_link(struct buf *html, const char *url, const char *label)
{
    buf_puts(html, "<p><a href=\"");
    escape_html(html, url);
    buf_puts(html, "\" style=\"display:inline-block;background:#0b5cad;color:#ffffff;"
                   "padding:12px 20px;border-radius:8px;text-decoration:none;font-weight:600\">");
    escape_html(html, label);
    buf_puts(html, "</a></p>\n<p style=\"font-size:13px;color:#57606a\">Or open this link: ");
    escape_html(html, url);
    buf_puts(html, "</p>\n");
}

static void html_para(struct buf *html, const char *text)
{
    buf_puts(html, "<p>");
    escape_html(html, text);
    buf_puts(html, "</p>\n");
}

/* One mail being composed: what every kind starts from, and the buffers the
 * kind's composer fills. compose_mail owns the buffers. */
struct mail_draft {
    const struct campaign *c;
    const struct campaign_row *row;
    const struct supporter *s;
    const struct config *cfg;
    int64_t now;
    char when[128];         /* the launch moment, in the supporter's time zone */
    struct buf unsubscribe; /* the /u/ link */
    struct buf subject, text, html;
    struct buf page;                /* the HTML part: html inside its document */
    struct buf url;                 /* the mail's main link: first in the maildir log */
    struct buf line, calendar, ics; /* the composers' scratch */
    struct mail_message m;          /* the composer sets the attachment and List-Unsubscribe */
};

/* One "Label: value" line of what a confirmation confirms, in both parts. */
static void detail(struct mail_draft *d, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    buf_printf(&d->text, "%s: %s\n", label, value);
    buf_printf(&d->line, "%s: %s", label, value);
    html_para(&d->html, buf_cstr(&d->line));
    buf_reset(&d->line);
}

/* The link confirms exactly what the mail shows: the pledge as it stands,
 * or, when it holds a change (a re-pledge; loaded by the sender), that
 * change, through a link of its own that the first link never becomes. */
static int compose_confirm(struct mail_draft *d)
{
    const struct supporter *s = d->s;
    int change = s->has_pending_change && s->change_timezone;
    char token[TOKEN_LINK_LEN + 1];
    token_link_make(change ? TOKEN_CONFIRM_CHANGE : TOKEN_CONFIRM, s->token_key,
                    change ? s->change_epoch : s->epoch, token);
    buf_printf(&d->url, "%s/confirm/%s", d->cfg->base_url, token);
    buf_printf(&d->subject,
               change ? "Confirm the change to your pledge: %s" : "Confirm your pledge: %s",
               d->c->title);
    if (change)
        buf_printf(&d->line,
                   "You (or someone using this address) pledged again to take part in \"%s\" on "
                   "%s, with these details. Your pledge stays as it was unless you confirm them.",
                   d->c->title, d->when);
    else
        buf_printf(&d->line,
                   "You (or someone using this address) pledged to take part in \"%s\" on %s.",
                   d->c->title, d->when);
    buf_printf(&d->text, "%s\n\n", buf_cstr(&d->line));
    html_para(&d->html, buf_cstr(&d->line));
    buf_reset(&d->line);
    detail(d, "Name", change ? s->change_name : s->name);
    detail(d, "Statement", change ? s->change_statement : s->statement);
    detail(d, "Time zone", change ? s->change_timezone : s->timezone);
    detail(d, "Target", change ? s->change_target : s->chosen_target);
    buf_printf(&d->text,
               "\n%s:\n%s\n\nIf this was not you, ignore this email: nothing happens without a "
               "confirmation.\n",
               change ? "Confirm these details" : "Confirm your pledge", buf_cstr(&d->url));
    html_link(&d->html, buf_cstr(&d->url), change ? "Confirm these details" : "Confirm my pledge");
    html_para(&d->html, "If this was not you, ignore this email: nothing happens without a "
                        "confirmation.");
    return 0;
}

static int compose_welcome(struct mail_draft *d)
{
    buf_printf(&d->subject, "You're in: %s", d->c->title);
    buf_printf(&d->line,
               "Your pledge for \"%s\" is confirmed. On %s we email you a personal "
               "one-click link: it opens your action, prefilled, and you send it yourself.",
               d->c->title, d->when);
    buf_printf(&d->url, "%s/c/%s", d->cfg->base_url, d->c->slug);
    char calendar_path[96];
    snprintf(calendar_path, sizeof calendar_path, "/c/%s/calendar/", d->c->slug);
    link(&d->calendar, d->cfg, calendar_path, TOKEN_CALENDAR, d->s, ".ics");
    buf_printf(&d->text,
               "%s\n\nThe calendar file attached puts the moment in your calendar (or "
               "open %s).\n\nShare the campaign: %s\n",
               buf_cstr(&d->line), buf_cstr(&d->calendar), buf_cstr(&d->url));
    html_para(&d->html, buf_cstr(&d->line));
    html_para(&d->html, "The calendar file attached puts the moment in your calendar.");
    html_link(&d->html, buf_cstr(&d->calendar), "Add to my calendar");
    html_link(&d->html, buf_cstr(&d->url), "Share the campaign");
    if (compose_ics(d->c, d->row, d->s, d->cfg, d->now, &d->ics) != 0)
        return -1;
    d->m.attachment_name = "invite.ics";
    d->m.attachment_type = "text/calendar; charset=UTF-8; method=PUBLISH";
    d->m.attachment_data = d->ics.data;
    d->m.attachment_len = d->ics.len;
    return 0;
}

static int compose_reminder(struct mail_draft *d)
{
    link(&d->url, d->cfg, "/a/", TOKEN_ACTION, d->s, NULL);
    buf_printf(&d->subject, "It's time: %s", d->c->title);
    buf_printf(&d->line,
               "The moment is here (%s). Your personal link opens your action, prefilled "
               "with your message. Review it and send it yourself.",
               d->when);
    buf_printf(&d->text, "%s\n\nTake action:\n%s\n", buf_cstr(&d->line), buf_cstr(&d->url));
    html_para(&d->html, buf_cstr(&d->line));
    html_link(&d->html, buf_cstr(&d->url), "Take action now");
    d->m.list_unsubscribe_url = buf_cstr(&d->unsubscribe);
    d->m.list_unsubscribe_one_click = 1;
    return 0;
}

/* One row per kind of enum mail_kind (store/store.h), at its value; kinds
 * start at 1, so row 0 is empty. The assertion fails to compile when the enum
 * grows without this table; test_compose checks every row is filled. */
static const struct mail_kind_ops mail_kinds[] = {
    [MAIL_CONFIRM] = {.name = "confirm", .compose = compose_confirm, .shows_held_change = 1},
    [MAIL_WELCOME] = {.name = "welcome", .compose = compose_welcome, .unsubscribe_footer = 1},
    [MAIL_REMINDER] = {.name = "reminder",
                       .compose = compose_reminder,
                       .unsubscribe_footer = 1,
                       .cancel_if_unsubscribed = 1},
};
_Static_assert(sizeof mail_kinds / sizeof mail_kinds[0] == MAIL_KIND_COUNT,
               "mail_kinds needs a row for every enum mail_kind of store/store.h");

const struct mail_kind_ops *mail_kind_lookup(enum mail_kind kind)
{
    if ((int)kind < 1 || (int)kind >= MAIL_KIND_COUNT || !mail_kinds[kind].compose)
        return NULL;
    return &mail_kinds[kind];
}

static void draft_release(struct mail_draft *d)
{
    buf_release(&d->unsubscribe);
    buf_release(&d->subject);
    buf_release(&d->text);
    buf_release(&d->html);
    buf_release(&d->page);
    buf_release(&d->url);
    buf_release(&d->line);
    buf_release(&d->calendar);
    buf_release(&d->ics);
}

int compose_mail(enum mail_kind kind, const struct campaign *c, const struct campaign_row *row,
                 const struct supporter *s, const struct config *cfg, int64_t now, struct buf *out,
                 struct buf *links)
{
    const struct mail_kind_ops *ops = mail_kind_lookup(kind);
    if (!ops)
        return -1;
    struct mail_draft d = {.c = c,
                           .row = row,
                           .s = s,
                           .cfg = cfg,
                           .now = now,
                           .unsubscribe = BUF_INIT,
                           .subject = BUF_INIT,
                           .text = BUF_INIT,
                           .html = BUF_INIT,
                           .page = BUF_INIT,
                           .url = BUF_INIT,
                           .line = BUF_INIT,
                           .calendar = BUF_INIT,
                           .ics = BUF_INIT};
    char message_id[160];
    if (tz_format(row->launch_utc, s->timezone, d.when, sizeof d.when) != 0 &&
        tz_format(row->launch_utc, c->timezone, d.when, sizeof d.when) != 0)
        tz_iso_utc(row->launch_utc, d.when);
    if (compose_message_id(kind, row->id, s->id, cfg, message_id) != 0)
        goto fail;
    link(&d.unsubscribe, cfg, "/u/", TOKEN_UNSUBSCRIBE, s, NULL);
    greeting(&d.text, &d.html, s);
    if (ops->compose(&d) != 0)
        goto fail;
    if (ops->unsubscribe_footer) {
        buf_printf(&d.text, "\n--\nYou get this because you pledged. Unsubscribe: %s\n",
                   buf_cstr(&d.unsubscribe));
        buf_puts(&d.html, "<hr><p style=\"font-size:13px;color:#57606a\">You get this because "
                          "you pledged. <a href=\"");
        escape_html(&d.html, buf_cstr(&d.unsubscribe));
        buf_puts(&d.html, "\">Unsubscribe</a></p>\n");
    }
    /* The whole document: a <head> with the charset and a title (the subject)
     * reads better in mail clients and spam filters than a bare body. */
    buf_puts(&d.page, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, "
                      "initial-scale=1\">\n<title>");
    escape_html(&d.page, buf_cstr(&d.subject));
    buf_puts(&d.page, "</title>\n</head>\n<body style=\"font-family:system-ui,sans-serif;"
                      "font-size:16px;line-height:1.5;color:#1b1f24;max-width:36em\">\n");
    buf_append(&d.page, d.html.data, d.html.len);
    buf_puts(&d.page, "</body>\n</html>\n");
    if (buf_failed(&d.text) || buf_failed(&d.html) || buf_failed(&d.page) ||
        buf_failed(&d.subject) || buf_failed(&d.url))
        goto fail;
    /* The mails of the list a supporter joined (welcome, reminder: the ones
     * with an unsubscribe link) name it: "Campaign title" <slug.domain>. */
    char list_id[200];
    if (ops->unsubscribe_footer) {
        snprintf(list_id, sizeof list_id, "%s.%s", c->slug, from_domain(cfg));
        d.m.list_id = list_id;
        d.m.list_name = c->title;
    }

    d.m.from_name = c->organizer_name && *c->organizer_name ? c->organizer_name : "muster";
    d.m.from_addr = cfg->from;
    d.m.to_name = s->name;
    d.m.to_addr = s->email;
    d.m.subject = buf_cstr(&d.subject);
    d.m.message_id = message_id;
    d.m.date = now;
    d.m.text = buf_cstr(&d.text);
    d.m.html = buf_cstr(&d.page);
    if (mail_build(&d.m, out) != 0)
        goto fail;
    if (links) {
        buf_printf(links, "%s", buf_cstr(&d.url));
        if (ops->unsubscribe_footer)
            buf_printf(links, " %s", buf_cstr(&d.unsubscribe));
    }
    draft_release(&d);
    return 0;
fail:
    draft_release(&d);
    return -1;
}
