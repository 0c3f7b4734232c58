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

static const char *kind_name(enum mail_kind kind)
{
    switch (kind) {
    case MAIL_CONFIRM:
        return "confirm";
    case MAIL_WELCOME:
        return "welcome";
    case MAIL_REMINDER:
        return "reminder";
    }
    return "mail";
}

static const char *from_domain(const struct config *cfg)
{
    const char *at = strrchr(cfg->from, '@');
    return at && at[1] ? at + 1 : "localhost";
}

void compose_message_id(enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                        const struct config *cfg, char out[160])
{
    char data[96], mac[TOKEN_HASH_HEX + 1];
    int n = snprintf(data, sizeof data, "message-id:%d:%lld:%lld", (int)kind,
                     (long long)campaign_id, (long long)supporter_id);
    token_hmac_hex(data, (size_t)n, mac);
    mac[16] = '\0';
    snprintf(out, 160, "%s.%lld.%lld.%s@%s", kind_name(kind), (long long)campaign_id,
             (long long)supporter_id, mac, from_domain(cfg));
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
    snprintf(uid, sizeof uid, "launch.%lld.%lld@%s", (long long)row->id, (long long)s->id,
             from_domain(cfg));
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

int compose_mail(enum mail_kind kind, const struct campaign *c, const struct campaign_row *row,
                 const struct supporter *s, const struct config *cfg, int64_t now, struct buf *out,
                 struct buf *links)
{
    struct buf text = BUF_INIT, html = BUF_INIT, subject = BUF_INIT, url = BUF_INIT,
               unsub = BUF_INIT, ics = BUF_INIT, line = BUF_INIT, calendar = BUF_INIT;
    char when[128], message_id[160];
    if (tz_format(row->launch_utc, s->timezone, when, sizeof when) != 0 &&
        tz_format(row->launch_utc, c->timezone, when, sizeof when) != 0)
        tz_iso_utc(row->launch_utc, when);
    compose_message_id(kind, row->id, s->id, cfg, message_id);
    link(&unsub, cfg, "/u/", TOKEN_UNSUBSCRIBE, s, NULL);
    buf_puts(&html, "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;"
                    "font-size:16px;line-height:1.5;color:#1b1f24;max-width:36em\">\n");
    greeting(&text, &html, s);
    struct mail_message m;
    memset(&m, 0, sizeof m);
    int with_unsubscribe = 0;

    switch (kind) {
    case MAIL_CONFIRM:
        link(&url, cfg, "/confirm/", TOKEN_CONFIRM, s, NULL);
        buf_printf(&subject, "Confirm your pledge: %s", c->title);
        buf_printf(&line,
                   "You (or someone using this address) pledged to take part in \"%s\" on %s.",
                   c->title, when);
        buf_printf(&text,
                   "%s\n\nConfirm your pledge:\n%s\n\nIf this was not you, ignore this email: "
                   "nothing happens without a confirmation.\n",
                   buf_cstr(&line), buf_cstr(&url));
        html_para(&html, buf_cstr(&line));
        html_link(&html, buf_cstr(&url), "Confirm my pledge");
        html_para(&html, "If this was not you, ignore this email: nothing happens without a "
                         "confirmation.");
        break;
    case MAIL_WELCOME:
        with_unsubscribe = 1;
        buf_printf(&subject, "You're in: %s", c->title);
        buf_printf(&line,
                   "Your pledge for \"%s\" is confirmed. On %s we email you a personal "
                   "one-click link: it opens your action, prefilled, and you send it yourself.",
                   c->title, when);
        buf_printf(&url, "%s/c/%s", cfg->base_url, c->slug);
        char calendar_path[96];
        snprintf(calendar_path, sizeof calendar_path, "/c/%s/calendar/", c->slug);
        link(&calendar, cfg, calendar_path, TOKEN_CALENDAR, s, ".ics");
        buf_printf(&text,
                   "%s\n\nThe calendar file attached puts the moment in your calendar (or "
                   "open %s).\n\nShare the campaign: %s\n",
                   buf_cstr(&line), buf_cstr(&calendar), buf_cstr(&url));
        html_para(&html, buf_cstr(&line));
        html_para(&html, "The calendar file attached puts the moment in your calendar.");
        html_link(&html, buf_cstr(&calendar), "Add to my calendar");
        html_link(&html, buf_cstr(&url), "Share the campaign");
        if (compose_ics(c, row, s, cfg, now, &ics) != 0)
            goto fail;
        m.attachment_name = "invite.ics";
        m.attachment_type = "text/calendar; charset=UTF-8; method=PUBLISH";
        m.attachment_data = ics.data;
        m.attachment_len = ics.len;
        break;
    case MAIL_REMINDER:
        with_unsubscribe = 1;
        link(&url, cfg, "/a/", TOKEN_ACTION, s, NULL);
        buf_printf(&subject, "It's time: %s", c->title);
        buf_printf(&line,
                   "The moment is here (%s). Your personal link opens your action, prefilled "
                   "with your message. Review it and send it yourself.",
                   when);
        buf_printf(&text, "%s\n\nTake action:\n%s\n", buf_cstr(&line), buf_cstr(&url));
        html_para(&html, buf_cstr(&line));
        html_link(&html, buf_cstr(&url), "Take action now");
        m.list_unsubscribe_url = buf_cstr(&unsub);
        m.list_unsubscribe_one_click = 1;
        break;
    }
    if (with_unsubscribe) {
        buf_printf(&text, "\n--\nYou get this because you pledged. Unsubscribe: %s\n",
                   buf_cstr(&unsub));
        buf_puts(&html, "<hr><p style=\"font-size:13px;color:#57606a\">You get this because you "
                        "pledged. <a href=\"");
        escape_html(&html, buf_cstr(&unsub));
        buf_puts(&html, "\">Unsubscribe</a></p>\n");
    }
    buf_puts(&html, "</body></html>\n");
    if (buf_failed(&text) || buf_failed(&html) || buf_failed(&subject) || buf_failed(&url))
        goto fail;

    m.from_name = c->organizer_name && *c->organizer_name ? c->organizer_name : "muster";
    m.from_addr = cfg->from;
    m.to_name = s->name;
    m.to_addr = s->email;
    m.subject = buf_cstr(&subject);
    m.message_id = message_id;
    m.date = now;
    m.text = buf_cstr(&text);
    m.html = buf_cstr(&html);
    if (mail_build(&m, out) != 0)
        goto fail;
    if (links) {
        buf_printf(links, "%s", buf_cstr(&url));
        if (with_unsubscribe)
            buf_printf(links, " %s", buf_cstr(&unsub));
    }
    buf_release(&text);
    buf_release(&html);
    buf_release(&subject);
    buf_release(&url);
    buf_release(&unsub);
    buf_release(&ics);
    buf_release(&line);
    buf_release(&calendar);
    return 0;
fail:
    buf_release(&text);
    buf_release(&html);
    buf_release(&subject);
    buf_release(&url);
    buf_release(&unsub);
    buf_release(&ics);
    buf_release(&line);
    buf_release(&calendar);
    return -1;
}
