/*
 * campaign: the campaign model and its file format (docs/CAMPAIGN.md, "Campaign
 * file"). campaign_parse turns the JSON text of a campaign file into a
 * validated struct campaign, or lists every error it found; it never touches
 * the store. The struct owns all its strings: campaign_free releases them.
 */
#ifndef MUSTER_CAMPAIGN_CAMPAIGN_H
#define MUSTER_CAMPAIGN_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/target_kinds.h"
#include "core/buf.h"

struct template;

/* The most targets a campaign may have: `campaign apply` refuses more with a
 * clear error, and every reader (the stats, the pages, the assigner) handles
 * all of them. */
#define CAMPAIGN_MAX_TARGETS 1000

enum assignment_mode { ASSIGN_BALANCED, ASSIGN_CHOOSE, ASSIGN_ALL };

struct string_list {
    char **items;
    size_t count;
};

struct target_spec {
    char *id; /* [a-z0-9-_], unique in the campaign */
    enum target_kind kind;
    char *label; /* optional display name; NULL -> id */
    long cap;    /* -1: no cap */
    /* The kinds' own fields, each parsed by its kind's row of kind_syntax
     * (campaign.c); NULL or empty in a target of another kind. */
    /* github_issue */
    char *repo; /* owner/name */
    struct string_list labels;
    char *issue_template; /* "template" in the file */
    /* gitlab_issue */
    char *project_url; /* https://gitlab.example/group/project */
    /* email */
    struct string_list to, cc, bcc;
    /* call */
    char *number; /* E.164, e.g. +4930123456 */
    char *script;
    /* mastodon */
    char *instance; /* host name, optional */
    /* web */
    char *url; /* http(s) URL with {{placeholders}} */
};

/* ---- webhook (docs/WEBHOOKS.md) ---- */
/* Webhook events, as bits of webhook_spec.events. */
enum webhook_event {
    WEBHOOK_PLEDGE_CONFIRMED = 1, /* "pledge.confirmed" */
    WEBHOOK_ACTION_CLICKED = 2,   /* "action.clicked" */
};
#define WEBHOOK_ALL_EVENTS (WEBHOOK_PLEDGE_CONFIRMED | WEBHOOK_ACTION_CLICKED)

/* The optional "webhook" field; url is NULL when the campaign has none. */
struct webhook_spec {
    char *url;       /* http(s) */
    char *secret;    /* signs every delivery; 16 to 256 characters */
    unsigned events; /* bits of enum webhook_event; default: all */
};
/* ---- end webhook ---- */

/* ---- mails (docs/CAMPAIGN.md, "mails", "reminders", "follow_up_after_minutes") ---- */
/* The mails whose words an organizer may write, in the file's "mails". */
enum campaign_mail { CAMPAIGN_MAIL_CONFIRM, CAMPAIGN_MAIL_WELCOME, CAMPAIGN_MAIL_REMINDER };
#define CAMPAIGN_MAIL_COUNT 3
/* The organizer's subject and body of one mail, both templates with the
 * message's placeholders; NULL where the file gives none (muster's words). */
struct mail_words {
    char *subject;
    char *body;
    struct template *subject_template; /* compiled once (campaign_parse); NULL with subject */
    struct template *body_template;    /* NULL with body */
};
/* The most earlier reminders a campaign may ask for, and the furthest one
 * may be before the moment. */
#define CAMPAIGN_MAX_REMINDERS 5
#define CAMPAIGN_MAX_REMINDER_SECONDS (60LL * 86400)
/* Parses one entry of "reminders": a negative duration in minutes, hours or
 * days ("-90m", "-1h", "-1d"). Returns 0 and sets *seconds_before (> 0), or
 * returns -1 and sets *problem to what is wrong (a static string). */
int campaign_reminder_offset_parse(const char *text, int64_t *seconds_before, const char **problem);
/* The name of a mail in the file ("confirm", "welcome", "reminder"). */
const char *campaign_mail_name(enum campaign_mail mail);
/* ---- end mails ---- */

/* What the embeddable banner (GET /c/SLUG/embed.js) shows once the window is
 * over: nothing, or a thank-you line. */
enum embed_after { EMBED_AFTER_HIDE = 0, EMBED_AFTER_THANKS };

struct campaign {
    char *slug;
    char *title;
    char *description;
    char *organizer_name;
    char *organizer_email;
    char *launch_at;          /* local wall time as in the file, "2026-12-05T10:00:00" */
    char *timezone;           /* IANA name */
    int64_t launch_utc;       /* launch_at in timezone, as Unix seconds */
    int64_t launch_utc_later; /* when launch_at occurs twice in timezone (the clocks went
                                 back over it), the second moment; launch_utc is the first
                                 and is the one used. Else launch_utc. */
    int window_minutes;       /* default 120 */
    char *message_title;      /* may be "" when only body is given */
    char *message_body;       /* may be "" when only title is given */
    int statement_enabled;    /* default 0 */
    int statement_max_chars;  /* default 1000 */
    char *statement_prompt;   /* default "Why this matters to you" */
    enum assignment_mode assignment;
    struct target_spec *targets;
    size_t target_count;
    struct string_list fallback;  /* target ids; default: all targets in file order */
    int close_after_reports;      /* 0: off */
    char *closed_message;         /* default: a neutral sentence */
    struct webhook_spec webhook;  /* optional; webhook.url NULL: none */
    enum embed_after embed_after; /* "embed": {"after": "hide"|"thanks"}; default hide */
    char *language;               /* BCP 47 tag in its usual case ("ar", "es-MX"), default
                                     "en": the language of the pages and mails (core/i18n.h) */
    struct mail_words mails[CAMPAIGN_MAIL_COUNT]; /* "mails"; NULL fields: muster's words */
    int64_t reminders[CAMPAIGN_MAX_REMINDERS];    /* "reminders": seconds before the moment,
                                                     furthest first */
    size_t reminder_count;
    int follow_up_after_minutes;     /* 0: no follow-up */
    struct template *title_template; /* message_title compiled once (campaign_parse) */
    struct template *body_template;  /* message_body compiled once */
    char *canonical_json;            /* the file re-serialised (sorted keys, compact): equal
                                        files give equal strings, so re-applying is a no-op */
};

/*
 * Parses and validates a campaign file. On success returns 0 and sets *out
 * (caller frees with campaign_free). On failure returns -1 and appends one line
 * per error to errors, each "FILE:LINE:COLUMN: message" (JSON syntax),
 * "FILE: $.path: message" (invalid value) or
 * "FILE: $.message.body:LINE:COLUMN: message" (template error), where FILE is
 * the filename argument. Every error is listed, not only the first.
 */
int campaign_parse(const char *text, size_t len, const char *filename, struct campaign **out,
                   struct buf *errors);
void campaign_free(struct campaign *c);

/* Target by id, or NULL. */
const struct target_spec *campaign_target(const struct campaign *c, const char *id);
/* One target of the kind as it is written in a campaign file (a JSON object on
 * one line), for the dashboard's form; NULL for an unknown kind. */
const char *target_kind_example(enum target_kind kind);
const char *assignment_mode_name(enum assignment_mode mode);
/* "pledge.confirmed", "action.clicked" (as in the campaign file and payloads). */
const char *webhook_event_name(enum webhook_event event);
/* 1 when slug is lowercase letters, digits and '-', 1..64 characters. */
int campaign_slug_valid(const char *slug);

#endif
