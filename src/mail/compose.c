/*
 * compose: the texts of muster's emails and calendar files (see compose.h).
 * The supporter's name and statement only ever pass through the MIME writer
 * (which encodes them) and escape_html; they never reach a header raw.
 */
#include "mail/compose.h"

#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "campaign/template.h"
#include "core/config.h"
#include "core/escape.h"
#include "core/i18n.h"
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

int compose_message_id_variant(enum mail_kind kind, int64_t variant, int64_t campaign_id,
                               int64_t supporter_id, const struct config *cfg, char out[160])
{
    const struct mail_kind_ops *ops = mail_kind_lookup(kind);
    if (!ops)
        return -1;
    char data[128], mac[TOKEN_HASH_HEX + 1];
    int n = variant ? snprintf(data, sizeof data, "message-id:%d:%lld:%lld:%lld", (int)kind,
                               (long long)campaign_id, (long long)supporter_id, (long long)variant)
                    : snprintf(data, sizeof data, "message-id:%d:%lld:%lld", (int)kind,
                               (long long)campaign_id, (long long)supporter_id);
    token_hmac_hex(data, (size_t)n, mac);
    mac[16] = '\0';
    if (variant)
        snprintf(out, 160, "%s.%lld.%lld.%lld.%s@%s", ops->name, (long long)campaign_id,
                 (long long)supporter_id, (long long)variant, mac, from_domain(cfg));
    else
        snprintf(out, 160, "%s.%lld.%lld.%s@%s", ops->name, (long long)campaign_id,
                 (long long)supporter_id, mac, from_domain(cfg));
    return 0;
}

/* The next '.'-separated decimal field of *p (1 to 18 digits) into *out. */
static int id_field(const char **p, const char *end, int64_t *out)
{
    const char *q = *p;
    int64_t v = 0;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < 18) {
        v = v * 10 + (*q++ - '0');
        digits++;
    }
    if (digits == 0 || q >= end || *q != '.')
        return -1;
    *p = q + 1;
    *out = v;
    return 0;
}

int compose_message_id_parse(const char *message_id, const struct config *cfg,
                             int64_t *campaign_id, int64_t *supporter_id)
{
    if (!message_id)
        return -1;
    while (*message_id == ' ' || *message_id == '\t')
        message_id++;
    if (*message_id == '<')
        message_id++;
    const char *at = strchr(message_id, '@');
    const char *dot = at ? memchr(message_id, '.', (size_t)(at - message_id)) : NULL;
    if (!dot)
        return -1;
    for (int k = 1; k < MAIL_KIND_COUNT; k++) {
        const struct mail_kind_ops *ops = mail_kind_lookup((enum mail_kind)k);
        if (!ops || strlen(ops->name) != (size_t)(dot - message_id) ||
            memcmp(ops->name, message_id, (size_t)(dot - message_id)) != 0)
            continue;
        /* kind.campaign.supporter[.variant].mac */
        const char *p = dot + 1;
        int64_t cid, sid, variant = 0;
        if (id_field(&p, at, &cid) != 0 || id_field(&p, at, &sid) != 0)
            return -1;
        const char *mac_at = p;
        if (mail_kind_per_variant((enum mail_kind)k) && id_field(&p, at, &variant) == 0)
            mac_at = p;
        char expected[160];
        if (compose_message_id_variant((enum mail_kind)k, variant, cid, sid, cfg, expected) != 0)
            return -1;
        /* The whole local part, MAC included, compared in constant time. */
        size_t local = (size_t)(at - message_id);
        const char *expected_at = strchr(expected, '@');
        if (!expected_at || (size_t)(expected_at - expected) != local || mac_at >= at)
            return -1;
        unsigned char diff = 0;
        for (size_t i = 0; i < local; i++)
            diff |= (unsigned char)(expected[i] ^ message_id[i]);
        if (diff)
            return -1;
        *campaign_id = cid;
        *supporter_id = sid;
        return 0;
    }
    return -1;
}

int compose_message_id(enum mail_kind kind, int64_t campaign_id, int64_t supporter_id,
                       const struct config *cfg, char out[160])
{
    return compose_message_id_variant(kind, 0, campaign_id, supporter_id, cfg, out);
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

/* The campaign's language as the store keeps it; English for a row that
 * has none (a row made by hand). */
static const char *mail_language(const struct campaign_row *row)
{
    return i18n_tag_valid(row->language) ? row->language : I18N_DEFAULT_LANGUAGE;
}

int compose_ics(const struct campaign *c, const struct campaign_row *row, const struct supporter *s,
                const struct config *cfg, int64_t now, struct buf *out)
{
    const char *lang = mail_language(row);
    char uid[200];
    compose_calendar_uid(row->id, s->id, cfg, uid);
    struct buf url = BUF_INIT, description = BUF_INIT;
    buf_printf(&url, "%s/c/%s", cfg->base_url, c->slug);
    buf_printf(&description, "%s\n%s %s",
               i18n(lang, "At this moment you receive an email with your personal one-click "
                          "link."),
               i18n(lang, "Campaign page:"), buf_cstr(&url));
    struct ics_event e = {
        .uid = uid,
        .sequence = row->calendar_sequence,
        .dtstamp = now,
        .start = row->launch_utc,
        .duration_minutes = row->window_minutes,
        .summary = c->title,
        .description = buf_cstr(&description),
        .url = buf_cstr(&url),
        .organizer_name = c->organizer_name,
        .organizer_email = c->organizer_email,
        .language = lang,
    };
    int rc = buf_failed(&url) || buf_failed(&description) ? -1 : ics_build(&e, out);
    buf_release(&url);
    buf_release(&description);
    return rc;
}

/* The Unicode isolates around a value set in a translated sentence of a
 * right-to-left mail (FSI ... PDI), so a Latin title or date keeps its own
 * order inside the Arabic sentence; none in a left-to-right mail. */
#define FSI "\xe2\x81\xa8"
#define PDI "\xe2\x81\xa9"

static void greeting(struct buf *text, struct buf *html, const char *lang,
                     const struct supporter *s)
{
    if (s->name && *s->name) {
        const char *format = i18n(lang, "Hello %s,");
        buf_printf(text, i18n(lang, "Hello %s,"), s->name);
        buf_puts(text, "\n\n");
        /* The name in <bdi>: it keeps its own direction inside the sentence.
         * The format has exactly one %s (scripts/po2c.sh checks). */
        const char *at = strstr(format, "%s");
        buf_puts(html, "<p>");
        escape_html_n(html, format, at ? (size_t)(at - format) : strlen(format));
        buf_puts(html, "<bdi>");
        escape_html(html, s->name);
        buf_puts(html, "</bdi>");
        if (at)
            escape_html(html, at + 2);
        buf_puts(html, "</p>\n");
    } else {
        buf_puts(text, i18n(lang, "Hello,"));
        buf_puts(text, "\n\n");
        buf_puts(html, "<p>");
        escape_html(html, i18n(lang, "Hello,"));
        buf_puts(html, "</p>\n");
    }
}

static void html_link(struct buf *html, const char *lang, const char *url, const char *label)
{
    buf_puts(html, "<p><a href=\"");
    escape_html(html, url);
    buf_puts(html, "\" style=\"display:inline-block;background:#0b5cad;color:#ffffff;"
                   "padding:12px 20px;border-radius:8px;text-decoration:none;font-weight:600\">");
    escape_html(html, label);
    buf_puts(html, "</a></p>\n<p style=\"font-size:13px;color:#57606a\">");
    escape_html(html, i18n(lang, "Or open this link:"));
    buf_puts(html, " <span dir=\"ltr\">");
    escape_html(html, url);
    buf_puts(html, "</span></p>\n");
}

static void html_para(struct buf *html, const char *text)
{
    buf_puts(html, "<p>");
    escape_html(html, text);
    buf_puts(html, "</p>\n");
}

/* A value in a subject: one line whatever the supporter typed (a statement
 * may hold line breaks; a header must not). */
static int subject_value(struct buf *out, const char *value)
{
    for (const char *p = value; *p; p++)
        buf_putc(out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
    return buf_failed(out) ? -1 : 0;
}

/* Text as HTML paragraphs: every character escaped, a blank line starts a
 * paragraph, a single line break is a <br>. */
static void html_paragraphs(struct buf *html, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == '\n')
            p++;
        if (!*p)
            break;
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        buf_puts(html, "<p>");
        const char *line = p;
        while (line < p + len) {
            const char *nl = memchr(line, '\n', (size_t)(p + len - line));
            size_t n = nl ? (size_t)(nl - line) : (size_t)(p + len - line);
            escape_html_n(html, line, n);
            if (!nl)
                break;
            buf_puts(html, "<br>\n");
            line = nl + 1;
        }
        buf_puts(html, "</p>\n");
        p += len;
    }
}

/* One mail being composed: what every kind starts from, and the buffers the
 * kind's composer fills. compose_mail owns the buffers. */
struct mail_draft {
    const struct campaign *c;
    const struct campaign_row *row;
    const struct supporter *s;
    const struct config *cfg;
    int64_t now;
    const char *lang;       /* the campaign's language tag */
    char when[160];         /* the launch moment, in the supporter's time zone and language,
                               isolated in a right-to-left mail */
    struct buf title;       /* the campaign's title, isolated in a right-to-left mail */
    struct buf unsubscribe; /* the /u/ link */
    struct buf subject, text, html;
    struct buf page;                /* the HTML part: html inside its document */
    struct buf url;                 /* the mail's main link: first in the maildir log */
    struct buf line, calendar, ics; /* the composers' scratch */
    struct mail_message m;          /* the composer sets the attachment and List-Unsubscribe */
    const struct mail_words *words; /* the organizer's subject and body for this kind, or NULL */
    int test;                       /* a test (compose_test_reminder): /t/ links */
};

static void words_vars(const struct mail_draft *d, struct template_vars *vars)
{
    *vars = (struct template_vars){
        .name = d->s->name,
        .statement = d->s->statement,
        .campaign_title = d->c->title,
        .target_id = d->s->chosen_target ? d->s->chosen_target : "",
    };
}

/* The subject: the organizer's when the file gives one, else muster's
 * (format with one %s, the title). */
static int words_subject(struct mail_draft *d, const char *format)
{
    if (d->words && d->words->subject_template) {
        struct template_vars vars;
        words_vars(d, &vars);
        return template_render(d->words->subject_template, &vars, subject_value, &d->subject);
    }
    buf_printf(&d->subject, format, buf_cstr(&d->title));
    return 0;
}

/* The opening: the organizer's body in place of muster's greeting and
 * first paragraph (line) when the file gives one. The links, the details
 * a confirmation confirms and the unsubscribe footer always follow it. */
static int words_opening(struct mail_draft *d)
{
    if (d->words && d->words->body_template) {
        struct template_vars vars;
        words_vars(d, &vars);
        struct buf body = BUF_INIT;
        int rc = template_render(d->words->body_template, &vars, NULL, &body);
        if (rc == 0 && !buf_failed(&body)) {
            buf_printf(&d->text, "%s\n\n", buf_cstr(&body));
            html_paragraphs(&d->html, buf_cstr(&body));
        }
        buf_release(&body);
        buf_reset(&d->line);
        return rc;
    }
    greeting(&d->text, &d->html, d->lang, d->s);
    buf_printf(&d->text, "%s\n\n", buf_cstr(&d->line));
    html_para(&d->html, buf_cstr(&d->line));
    buf_reset(&d->line);
    return 0;
}

/* One "Label: value" line of what a confirmation confirms, in both parts. */
static void detail(struct mail_draft *d, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    int rtl = i18n_is_rtl(d->lang);
    buf_printf(&d->text, "%s: %s%s%s\n", label, rtl ? FSI : "", value, rtl ? PDI : "");
    buf_printf(&d->line, "%s: %s%s%s", label, rtl ? FSI : "", value, rtl ? PDI : "");
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
    /* A held change is explained in muster's words whatever the file says:
     * that the pledge stays as it was unless these details are confirmed. */
    if (change)
        d->words = NULL;
    char token[TOKEN_LINK_LEN + 1];
    token_link_make(change ? TOKEN_CONFIRM_CHANGE : TOKEN_CONFIRM, s->token_key,
                    change ? s->change_epoch : s->epoch, token);
    buf_printf(&d->url, "%s/confirm/%s", d->cfg->base_url, token);
    const char *lang = d->lang;
    if (words_subject(d, change ? i18n(lang, "Confirm the change to your pledge: %s")
                                : i18n(lang, "Confirm your pledge: %s")) != 0)
        return -1;
    if (change)
        buf_printf(&d->line,
                   i18n(lang, "You (or someone using this address) pledged again to take part in "
                              "\"%s\" on %s, with these details. Your pledge stays as it was "
                              "unless you confirm them."),
                   buf_cstr(&d->title), d->when);
    else
        buf_printf(&d->line,
                   i18n(lang, "You (or someone using this address) pledged to take part in \"%s\" "
                              "on %s."),
                   buf_cstr(&d->title), d->when);
    if (words_opening(d) != 0)
        return -1;
    detail(d, i18n(lang, "Name"), change ? s->change_name : s->name);
    detail(d, i18n(lang, "Statement"), change ? s->change_statement : s->statement);
    detail(d, i18n(lang, "Time zone"), change ? s->change_timezone : s->timezone);
    detail(d, i18n(lang, "Target"), change ? s->change_target : s->chosen_target);
    const char *ignore = i18n(lang, "If this was not you, ignore this email: nothing happens "
                                    "without a confirmation.");
    buf_printf(&d->text, "\n%s:\n%s\n\n%s\n",
               change ? i18n(lang, "Confirm these details") : i18n(lang, "Confirm your pledge"),
               buf_cstr(&d->url), ignore);
    html_link(&d->html, lang, buf_cstr(&d->url),
              change ? i18n(lang, "Confirm these details") : i18n(lang, "Confirm my pledge"));
    html_para(&d->html, ignore);
    return 0;
}

/* The calendar file of the moment attached, as the welcome mail has it. */
static int attach_ics(struct mail_draft *d)
{
    if (compose_ics(d->c, d->row, d->s, d->cfg, d->now, &d->ics) != 0)
        return -1;
    d->m.attachment_name = "invite.ics";
    d->m.attachment_type = "text/calendar; charset=UTF-8; method=PUBLISH";
    d->m.attachment_data = d->ics.data;
    d->m.attachment_len = d->ics.len;
    return 0;
}

static int compose_welcome(struct mail_draft *d)
{
    const char *lang = d->lang;
    if (words_subject(d, i18n(lang, "You're in: %s")) != 0)
        return -1;
    buf_printf(&d->line,
               i18n(lang, "Your pledge for \"%s\" is confirmed. On %s we email you a personal "
                          "one-click link: it opens your action, prefilled, and you send it "
                          "yourself."),
               buf_cstr(&d->title), d->when);
    buf_printf(&d->url, "%s/c/%s", d->cfg->base_url, d->c->slug);
    char calendar_path[96];
    snprintf(calendar_path, sizeof calendar_path, "/c/%s/calendar/", d->c->slug);
    link(&d->calendar, d->cfg, calendar_path, TOKEN_CALENDAR, d->s, ".ics");
    if (words_opening(d) != 0)
        return -1;
    buf_printf(&d->text,
               i18n(lang, "The calendar file attached puts the moment in your calendar (or open "
                          "%s)."),
               buf_cstr(&d->calendar));
    buf_printf(&d->text, "\n\n%s %s\n", i18n(lang, "Share the campaign:"), buf_cstr(&d->url));
    html_para(&d->html, i18n(lang, "The calendar file attached puts the moment in your calendar."));
    html_link(&d->html, lang, buf_cstr(&d->calendar), i18n(lang, "Add to my calendar"));
    html_link(&d->html, lang, buf_cstr(&d->url), i18n(lang, "Share the campaign"));
    return attach_ics(d);
}

static int compose_reminder(struct mail_draft *d)
{
    if (d->test)
        link(&d->url, d->cfg, "/t/", TOKEN_TEST, d->s, NULL);
    else
        link(&d->url, d->cfg, "/a/", TOKEN_ACTION, d->s, NULL);
    const char *lang = d->lang;
    if (words_subject(d, i18n(lang, "It's time: %s")) != 0)
        return -1;
    buf_printf(&d->line,
               i18n(lang, "The moment is here (%s). Your personal link opens your action, "
                          "prefilled with your message. Review it and send it yourself."),
               d->when);
    if (words_opening(d) != 0)
        return -1;
    buf_printf(&d->text, "%s\n%s\n", i18n(lang, "Take action:"), buf_cstr(&d->url));
    html_link(&d->html, lang, buf_cstr(&d->url), i18n(lang, "Take action now"));
    d->m.list_unsubscribe_url = buf_cstr(&d->unsubscribe);
    d->m.list_unsubscribe_one_click = 1;
    return 0;
}

/* The moment moved (campaign apply): the new moment in the supporter's time
 * zone and the calendar file again, same UID and a higher SEQUENCE, so a
 * calendar moves the event it has. */
static int compose_moved(struct mail_draft *d)
{
    const char *lang = d->lang;
    buf_printf(&d->subject, i18n(lang, "New time: %s"), buf_cstr(&d->title));
    buf_printf(&d->line,
               i18n(lang, "The moment for \"%s\" has moved. It is now %s. At that moment we "
                          "email you your personal one-click link."),
               buf_cstr(&d->title), d->when);
    if (words_opening(d) != 0)
        return -1;
    buf_printf(&d->url, "%s/c/%s", d->cfg->base_url, d->c->slug);
    const char *moves = i18n(lang, "The calendar file attached moves the event in your calendar.");
    buf_printf(&d->text, "%s\n\n%s %s\n", moves, i18n(lang, "Campaign page:"), buf_cstr(&d->url));
    html_para(&d->html, moves);
    html_link(&d->html, lang, buf_cstr(&d->url), i18n(lang, "Open the campaign page"));
    d->m.list_unsubscribe_url = buf_cstr(&d->unsubscribe);
    d->m.list_unsubscribe_one_click = 1;
    return attach_ics(d);
}

/* An earlier reminder ("reminders"): the moment is ahead, shown in the
 * supporter's time zone. */
static int compose_upcoming(struct mail_draft *d)
{
    const char *lang = d->lang;
    buf_printf(&d->subject, i18n(lang, "Coming up: %s"), buf_cstr(&d->title));
    buf_printf(&d->line,
               i18n(lang, "A reminder: \"%s\" is on %s. At that moment we email you your "
                          "personal one-click link."),
               buf_cstr(&d->title), d->when);
    if (words_opening(d) != 0)
        return -1;
    buf_printf(&d->url, "%s/c/%s", d->cfg->base_url, d->c->slug);
    buf_printf(&d->text, "%s %s\n", i18n(lang, "Campaign page:"), buf_cstr(&d->url));
    html_link(&d->html, lang, buf_cstr(&d->url), i18n(lang, "Open the campaign page"));
    d->m.list_unsubscribe_url = buf_cstr(&d->unsubscribe);
    d->m.list_unsubscribe_one_click = 1;
    return 0;
}

/* The follow-up ("follow_up_after_minutes"), to those who have not followed
 * their link yet: the same personal link as the reminder. */
static int compose_follow_up(struct mail_draft *d)
{
    link(&d->url, d->cfg, "/a/", TOKEN_ACTION, d->s, NULL);
    const char *lang = d->lang;
    buf_printf(&d->subject, i18n(lang, "Still time: %s"), buf_cstr(&d->title));
    buf_printf(&d->line,
               i18n(lang, "\"%s\" is under way and your action is still waiting. Your personal "
                          "link opens it, prefilled with your message. Review it and send it "
                          "yourself."),
               buf_cstr(&d->title));
    if (words_opening(d) != 0)
        return -1;
    buf_printf(&d->text, "%s\n%s\n", i18n(lang, "Take action:"), buf_cstr(&d->url));
    html_link(&d->html, lang, buf_cstr(&d->url), i18n(lang, "Take action now"));
    d->m.list_unsubscribe_url = buf_cstr(&d->unsubscribe);
    d->m.list_unsubscribe_one_click = 1;
    return 0;
}

/* One row per kind of enum mail_kind (store/store.h), at its value; kinds
 * start at 1, so row 0 is empty. The assertion fails to compile when the enum
 * grows without this table; test_compose checks every row is filled. */
static const struct mail_kind_ops mail_kinds[] = {
    [MAIL_CONFIRM] = {.name = "confirm",
                      .compose = compose_confirm,
                      .shows_held_change = 1,
                      .words = 1 + CAMPAIGN_MAIL_CONFIRM},
    [MAIL_WELCOME] = {.name = "welcome",
                      .compose = compose_welcome,
                      .unsubscribe_footer = 1,
                      .words = 1 + CAMPAIGN_MAIL_WELCOME},
    [MAIL_REMINDER] = {.name = "reminder",
                       .compose = compose_reminder,
                       .words = 1 + CAMPAIGN_MAIL_REMINDER,
                       .unsubscribe_footer = 1,
                       .cancel_if_unsubscribed = 1},
    [MAIL_MOVED] = {.name = "moved",
                    .compose = compose_moved,
                    .unsubscribe_footer = 1,
                    .cancel_if_unsubscribed = 1},
    [MAIL_EARLY_REMINDER] = {.name = "upcoming",
                             .compose = compose_upcoming,
                             .unsubscribe_footer = 1,
                             .cancel_if_unsubscribed = 1},
    [MAIL_FOLLOW_UP] = {.name = "followup",
                        .compose = compose_follow_up,
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
    buf_release(&d->title);
}

static int compose(enum mail_kind kind, int64_t variant, const struct campaign *c,
                   const struct campaign_row *row, const struct supporter *s,
                   const struct config *cfg, int64_t now, int test, struct buf *out,
                   struct buf *links);

int compose_mail(enum mail_kind kind, const struct campaign *c, const struct campaign_row *row,
                 const struct supporter *s, const struct config *cfg, int64_t now, struct buf *out,
                 struct buf *links)
{
    return compose_mail_variant(kind, 0, c, row, s, cfg, now, out, links);
}

int compose_mail_variant(enum mail_kind kind, int64_t variant, const struct campaign *c,
                         const struct campaign_row *row, const struct supporter *s,
                         const struct config *cfg, int64_t now, struct buf *out, struct buf *links)
{
    return compose(kind, variant, c, row, s, cfg, now, 0, out, links);
}

int compose_test_reminder(const struct campaign *c, const struct campaign_row *row,
                          const struct config *cfg, const char *address, int64_t now,
                          struct buf *out, struct buf *links)
{
    if (!mail_address_valid(address))
        return -1;
    /* Nobody's row: the campaign's id keys the /t/ links, the campaign's
     * time zone dates the moment, and the greeting has no name. */
    struct supporter nobody = {.id = 0,
                               .campaign_id = row->id,
                               .token_key = row->id,
                               .epoch = 0,
                               .email = (char *)address,
                               .name = "",
                               .statement = "",
                               .timezone = c->timezone};
    return compose(MAIL_REMINDER, 0, c, row, &nobody, cfg, now, 1, out, links);
}

static int compose(enum mail_kind kind, int64_t variant, const struct campaign *c,
                   const struct campaign_row *row, const struct supporter *s,
                   const struct config *cfg, int64_t now, int test, struct buf *out,
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
                           .lang = mail_language(row),
                           .title = BUF_INIT,
                           .unsubscribe = BUF_INIT,
                           .subject = BUF_INIT,
                           .text = BUF_INIT,
                           .html = BUF_INIT,
                           .page = BUF_INIT,
                           .url = BUF_INIT,
                           .line = BUF_INIT,
                           .calendar = BUF_INIT,
                           .ics = BUF_INIT,
                           .test = test};
    char message_id[160];
    const char *lang = d.lang;
    int rtl = i18n_is_rtl(lang);
    char when[128];
    if (i18n_format_moment(row->launch_utc, s->timezone, lang, when, sizeof when) != 0 &&
        i18n_format_moment(row->launch_utc, c->timezone, lang, when, sizeof when) != 0)
        tz_iso_utc(row->launch_utc, when);
    snprintf(d.when, sizeof d.when, "%s%s%s", rtl ? FSI : "", when, rtl ? PDI : "");
    buf_printf(&d.title, "%s%s%s", rtl ? FSI : "", c->title, rtl ? PDI : "");
    if (test) {
        /* Each test is a message of its own: a client that hides repeats of
         * a Message-ID would hide the second test. */
        char nonce[TOKEN_RANDOM_LEN + 1];
        token_random(nonce);
        nonce[16] = '\0';
        snprintf(message_id, sizeof message_id, "test-%s.%lld.%lld.%s@%s", ops->name,
                 (long long)row->id, (long long)now, nonce, from_domain(cfg));
        link(&d.unsubscribe, cfg, "/t/", TOKEN_TEST, s, "/u");
        /* TRANSLATORS: the mark on the subject and first line of a test send. */
        const char *mark = i18n(lang, "[TEST]");
        const char *line = i18n(lang, "This is a test of the reminder your supporters get. Its "
                                      "link works as theirs will, but counts nothing.");
        buf_printf(&d.text, "%s %s\n\n", mark, line);
        buf_puts(&d.html, "<p><strong>");
        escape_html(&d.html, mark);
        buf_puts(&d.html, "</strong> ");
        escape_html(&d.html, line);
        buf_puts(&d.html, "</p>\n");
        buf_printf(&d.subject, "%s ", mark);
    } else {
        if (compose_message_id_variant(kind, variant, row->id, s->id, cfg, message_id) != 0)
            goto fail;
        link(&d.unsubscribe, cfg, "/u/", TOKEN_UNSUBSCRIBE, s, NULL);
    }
    if (ops->words > 0)
        d.words = &c->mails[ops->words - 1];
    if (ops->compose(&d) != 0)
        goto fail;
    if (ops->unsubscribe_footer) {
        buf_printf(&d.text, "\n--\n%s %s %s\n", i18n(lang, "You get this because you pledged."),
                   i18n(lang, "Unsubscribe:"), buf_cstr(&d.unsubscribe));
        buf_puts(&d.html, "<hr><p style=\"font-size:13px;color:#57606a\">");
        escape_html(&d.html, i18n(lang, "You get this because you pledged."));
        buf_puts(&d.html, " <a href=\"");
        escape_html(&d.html, buf_cstr(&d.unsubscribe));
        buf_puts(&d.html, "\">");
        escape_html(&d.html, i18n(lang, "Unsubscribe"));
        buf_puts(&d.html, "</a></p>\n");
    }
    if (buf_failed(&d.text) || buf_failed(&d.html) || buf_failed(&d.subject) ||
        buf_failed(&d.url) || buf_failed(&d.title))
        goto fail;
    /* The whole document: a <head> with the charset and a title (the subject)
     * reads better in mail clients and spam filters than a bare body. lang is
     * a validated tag (campaign.c, store): safe in an attribute. */
    buf_printf(&d.page, "<!doctype html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n", lang,
               i18n_dir(lang));
    buf_puts(&d.page,
             "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, "
             "initial-scale=1\">\n<title>");
    escape_html(&d.page, buf_cstr(&d.subject));
    buf_puts(&d.page, "</title>\n</head>\n<body style=\"font-family:system-ui,sans-serif;"
                      "font-size:16px;line-height:1.5;color:#1b1f24;max-width:36em\">\n");
    buf_append(&d.page, d.html.data, d.html.len);
    buf_puts(&d.page, "</body>\n</html>\n");
    if (buf_failed(&d.page))
        goto fail;
    /* The mails of the list a supporter joined (welcome, reminder: the ones
     * with an unsubscribe link) name it: "Campaign title" <slug.domain>. */
    char list_id[200];
    if (ops->unsubscribe_footer) {
        snprintf(list_id, sizeof list_id, "%s.%s", c->slug, from_domain(cfg));
        d.m.list_id = list_id;
        d.m.list_name = c->title;
    }

    /* Gmail's feedback loop groups complaints by this header's fields
     * (docs/DELIVERABILITY.md): campaign : mail kind : "muster" : the sender,
     * the From domain, the same for every campaign of this server. A slug is
     * [a-z0-9-] (campaign.c): no colon, no space. */
    char feedback_id[400];
    snprintf(feedback_id, sizeof feedback_id, "%s:%s:muster:%s", c->slug, ops->name,
             from_domain(cfg));
    d.m.feedback_id = feedback_id;
    d.m.from_name = c->organizer_name && *c->organizer_name ? c->organizer_name : "muster";
    d.m.from_addr = cfg->from;
    d.m.to_name = s->name;
    d.m.to_addr = s->email;
    d.m.subject = buf_cstr(&d.subject);
    d.m.message_id = message_id;
    d.m.date = now;
    d.m.text = buf_cstr(&d.text);
    d.m.html = buf_cstr(&d.page);
    d.m.language = lang;
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
