/*
 * target: turning a supporter's rendered message into the one-click action at
 * a target, one file per kind (github_issue.c, gitlab_issue.c, mailto.c,
 * call.c, share.c for mastodon/bluesky/x, web.c) behind this interface.
 *
 * target_build_action never truncates: when the message does not fit the
 * kind's documented limit, or the kind has no URL (call), or a mastodon target
 * has no instance yet, it says so and the caller shows the action page with
 * the full text and a copy button.
 */
#ifndef MUSTER_TARGETS_TARGET_H
#define MUSTER_TARGETS_TARGET_H

#include "campaign/campaign.h"
#include "campaign/template.h"
#include "core/buf.h"

enum target_outcome {
    TARGET_REDIRECT,         /* url holds the prefilled URL: answer 302 */
    TARGET_PAGE_TOO_LONG,    /* url empty: the message exceeds the kind's limit */
    TARGET_PAGE_CALL,        /* url holds "tel:+..." for the action page */
    TARGET_PAGE_NEEDS_INSTANCE, /* mastodon without instance: ask the supporter */
};

struct target_message {
    const char *title; /* the rendered message title (plain text, may be "") */
    const char *body;  /* the rendered message body (plain text, may be "") */
};

struct target_limits {
    size_t max_url_bytes; /* the whole URL, 0 when the kind has no URL */
    size_t max_text_chars; /* code points of the posted text, 0 when unlimited */
    const char *why;       /* one sentence for docs and the action page */
};

/*
 * Builds the action for target t. msg is the message already rendered for
 * this supporter; vars are the same values, for templates inside the target
 * (web url, call script). instance is the supporter's chosen mastodon
 * instance (host name) or NULL. Appends the URL to url (for TARGET_REDIRECT
 * and TARGET_PAGE_CALL). Returns the outcome, or -1 when url failed or a
 * template inside the target did not render.
 */
int target_build_action(const struct target_spec *t, const struct target_message *msg,
                        const struct template_vars *vars, const char *instance, struct buf *url);

/* The documented limits of a kind (docs/TARGETS.md lists them). */
struct target_limits target_kind_limits(enum target_kind kind);

/* The action page's button that opens a kind's URL ("Open the prefilled
 * issue on GitHub"); "Open" for a value that is no kind. */
const char *target_kind_open_label(enum target_kind kind);

/* Renders a call target's script for this supporter (plain text). */
int target_render_script(const struct target_spec *t, const struct template_vars *vars,
                         struct buf *out);

/* The longest host name DNS allows (RFC 1035: 253 characters written out). */
#define TARGET_INSTANCE_MAX 253

/* NULL when host is a public DNS host name a supporter may choose as their
 * mastodon instance; otherwise one sentence for the supporter saying what is
 * wrong. Public: labels of 1..63 letters, digits and '-' (RFC 1123, not
 * starting or ending in '-'), at least one dot, 253 characters at most; no
 * IPv4 in any notation a browser accepts (the last label all digits or 0x
 * hex), no IPv6 literal, no port, userinfo, path or query, and not localhost
 * or a name under .localhost, .local, .internal, .home.arpa or .onion. */
const char *target_instance_problem(const char *host);
/* 1 when target_instance_problem(host) finds nothing. */
int target_instance_valid(const char *host);

#endif
