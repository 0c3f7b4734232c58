/*
 * target: dispatch of target_build_action to the kind's build function (one
 * table, one row per kind) and the rules every kind shares: the message must
 * be valid UTF-8, a URL longer than the kind's limit becomes
 * TARGET_PAGE_TOO_LONG (never a truncated message), and no URL leaves here
 * with a byte a Location header could be split on. The caller's url buffer is
 * touched only when there is a URL to give.
 */
#include "targets/target_private.h"

#include <stdint.h>
#include <string.h>

#include "core/escape.h"
#include "core/banned.h"

/* One row per kind of campaign/target_kinds.h, at its enum value: the
 * assertion fails to compile when the list grows without this table, and
 * test_targets checks that no row is missing and each is its own kind's. */
static const struct target_kind_ops *const kind_table[] = {
    [TARGET_GITHUB_ISSUE] = &target_github_issue_ops,
    [TARGET_GITLAB_ISSUE] = &target_gitlab_issue_ops,
    [TARGET_EMAIL] = &target_email_ops,
    [TARGET_CALL] = &target_call_ops,
    [TARGET_MASTODON] = &target_mastodon_ops,
    [TARGET_BLUESKY] = &target_bluesky_ops,
    [TARGET_X] = &target_x_ops,
    [TARGET_WEB] = &target_web_ops,
};
_Static_assert(sizeof kind_table / sizeof kind_table[0] == TARGET_KIND_COUNT,
               "kind_table needs a row for every kind of campaign/target_kinds.h");

const struct target_kind_ops *target_kind_lookup(enum target_kind kind)
{
    if ((size_t)kind < TARGET_KIND_COUNT)
        return kind_table[kind];
    return NULL;
}

int target_put_param(struct buf *url, char sep, const char *name, const char *value)
{
    buf_putc(url, sep);
    buf_puts(url, name);
    buf_putc(url, '=');
    return escape_url(url, value ? value : "");
}

int target_url_bytes_safe(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    /* Every one-click URL passes here whole, so 8 bytes at a time: a byte
     * below 0x21 sets its high bit in (w - 0x21..) & ~w, one above 0x7e in
     * (w + 0x01..) | w. A borrow or carry that crosses into the next byte
     * comes only from a byte that was already caught. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t outside = 0;
    size_t i = 0;
    for (; len - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        outside |= ((w - 0x21 * ones) & ~w) | ((w + ones) | w);
    }
    if (outside & highs)
        return 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return 0;
    }
    return 1;
}

static int text_valid(const char *s)
{
    return s == NULL || utf8_valid(s, strlen(s));
}

int target_build_action(const struct target_spec *t, const struct target_message *msg,
                        const struct template_vars *vars, const char *instance, struct buf *url)
{
    const struct target_kind_ops *ops = t ? target_kind_lookup(t->kind) : NULL;
    if (!ops || !msg || !url || buf_failed(url))
        return -1;
    /* Code points are what the limits count; bytes that are not UTF-8 would
     * also come back from the site as U+FFFD, so they are refused here. */
    if (!text_valid(msg->title) || !text_valid(msg->body))
        return -1;

    struct buf scratch = BUF_INIT;
    int outcome = ops->build(t, msg, vars, instance, &scratch);
    if (outcome < 0 || buf_failed(&scratch)) {
        outcome = -1;
        goto out;
    }
    if (outcome != TARGET_REDIRECT && outcome != TARGET_PAGE_CALL)
        goto out;
    if (ops->limits.max_url_bytes && scratch.len > ops->limits.max_url_bytes) {
        outcome = TARGET_PAGE_TOO_LONG;
        goto out;
    }
    /* Values are percent-encoded, so only a target field (a project URL, a
     * web template's literal text) could bring a space or a line break here. */
    if (!target_url_bytes_safe(buf_cstr(&scratch), scratch.len)) {
        outcome = -1;
        goto out;
    }
    if (buf_append(url, scratch.data, scratch.len) != 0)
        outcome = -1;
out:
    buf_release(&scratch);
    return outcome;
}

struct target_limits target_kind_limits(enum target_kind kind)
{
    const struct target_kind_ops *ops = target_kind_lookup(kind);
    if (!ops) {
        struct target_limits none = {0, 0, "Unknown kind of target."};
        return none;
    }
    return ops->limits;
}

const char *target_kind_open_label(enum target_kind kind)
{
    const struct target_kind_ops *ops = target_kind_lookup(kind);
    return ops ? ops->open_label : "Open";
}

int target_render_script(const struct target_spec *t, const struct template_vars *vars,
                         struct buf *out)
{
    if (!t || !out)
        return -1;
    if (!t->script || !*t->script)
        return buf_failed(out) ? -1 : 0;
    return template_render_text(t->script, vars, out);
}

/* A DNS host name: dot-separated labels of 1..63 letters, digits and '-'
 * (not at either end of a label), 253 bytes at most, at least two labels.
 * Anything else (a port, userinfo, a path, a scheme) is refused. */
int target_instance_valid(const char *host)
{
    if (!host)
        return 0;
    size_t len = strlen(host), label = 0, dots = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label == 0 || host[i - 1] == '-')
                return 0;
            label = 0;
            dots++;
            continue;
        }
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return dots > 0 && label > 0 && host[len - 1] != '-';
}
