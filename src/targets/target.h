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

/* 1 when host is a plausible mastodon instance host name (letters, digits,
 * '-', '.', at least one dot, no port, no userinfo). */
int target_instance_valid(const char *host);

#endif
