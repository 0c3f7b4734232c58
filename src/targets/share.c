/*
 * share: the "compose a post" links of the social networks,
 *   mastodon  https://INSTANCE/share?text=T     500 characters (Mastodon's default)
 *   bluesky   https://bsky.app/intent/compose?text=T   300 characters
 *   x         https://x.com/intent/post?text=T         280 characters
 * The posted text is the title, a blank line and the body (only one of them
 * when the other is empty). Characters are counted as code points: that is
 * never fewer than Bluesky's graphemes, but X weighs some characters double
 * (CJK, emoji) and every link as 23, so an X post near the limit may still
 * need a trim in X's composer; the supporter sees the text there before
 * posting. A text over the limit is the action page, never cut.
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "core/banned.h"

static int compose_text(struct buf *text, const struct target_message *msg)
{
    const char *title = msg->title ? msg->title : "";
    const char *body = msg->body ? msg->body : "";
    buf_puts(text, title);
    if (*title && *body)
        buf_puts(text, "\n\n");
    buf_puts(text, body);
    return buf_failed(text) ? -1 : 0;
}

/* Appends https://HOST PATH ?text= and the encoded text, or says the text is
 * too long. A NULL host (a mastodon target nobody chose an instance for) is
 * asked for only after the length check: no instance would make it fit. */
static int share_build(const struct target_message *msg, size_t max_chars, const char *host,
                       const char *path, struct buf *url)
{
    struct buf text = BUF_INIT;
    int outcome = -1;
    if (compose_text(&text, msg) != 0)
        goto out;
    if (utf8_length(buf_cstr(&text)) > max_chars) {
        outcome = TARGET_PAGE_TOO_LONG;
        goto out;
    }
    if (!host) {
        outcome = TARGET_PAGE_NEEDS_INSTANCE;
        goto out;
    }
    buf_puts(url, "https://");
    buf_puts(url, host);
    buf_puts(url, path);
    if (target_put_param(url, '?', "text", buf_cstr(&text)) == 0)
        outcome = TARGET_REDIRECT;
out:
    buf_release(&text);
    return outcome;
}

static int mastodon_build(const struct target_spec *t, const struct target_message *msg,
                          const struct template_vars *vars, const char *instance, struct buf *url)
{
    const char *host = NULL;
    if (t->instance && *t->instance) {
        if (!target_instance_valid(t->instance))
            return -1; /* the campaign should have refused it */
        host = t->instance;
    } else if (target_instance_valid(instance)) {
        host = instance;
    }
    return share_build(msg, target_mastodon_ops.limits.max_text_chars, host, "/share", url);
}

static int bluesky_build(const struct target_spec *t, const struct target_message *msg,
                         const struct template_vars *vars, const char *instance, struct buf *url)
{
    return share_build(msg, target_bluesky_ops.limits.max_text_chars, "bsky.app", "/intent/compose",
                       url);
}

static int x_build(const struct target_spec *t, const struct target_message *msg,
                   const struct template_vars *vars, const char *instance, struct buf *url)
{
    return share_build(msg, target_x_ops.limits.max_text_chars, "x.com", "/intent/post", url);
}

const struct target_kind_ops target_mastodon_ops = {
    .kind = TARGET_MASTODON,
    .build = mastodon_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 500,
               .why = N_("Mastodon posts are 500 characters by default.")},
    .open_label = N_("Open the prefilled post on Mastodon"),
};

const struct target_kind_ops target_bluesky_ops = {
    .kind = TARGET_BLUESKY,
    .build = bluesky_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 300,
               .why = N_("Bluesky posts are 300 characters.")},
    .open_label = N_("Open the prefilled post on Bluesky"),
};

const struct target_kind_ops target_x_ops = {
    .kind = TARGET_X,
    .build = x_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 280,
               .why = N_("X posts are 280 characters.")},
    .open_label = N_("Open the prefilled post on X"),
};
