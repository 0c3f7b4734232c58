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
#include "core/i18n.h"
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

static int ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
    c = (char)ascii_lower(c);
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* 1 when host is name or ends in "." name, ignoring case. */
static int ends_in_name(const char *host, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len < n || (len > n && host[len - n - 1] != '.'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(host[len - n + i]) != name[i])
            return 0;
    return 1;
}

/* The WHATWG URL parser's "ends in a number": a host whose last label is all
 * digits or 0x followed by hex digits is parsed as IPv4 by browsers (127.1,
 * 0x7f.1, 0177.0.0.1, 1.0x7f), so such a name must never reach a Location. */
static int ends_in_number(const char *label, size_t n)
{
    size_t i = 0;
    if (n >= 2 && label[0] == '0' && ascii_lower(label[1]) == 'x') {
        for (i = 2; i < n; i++)
            if (!is_hex(label[i]))
                return 0;
        return 1;
    }
    for (i = 0; i < n; i++)
        if (!is_digit(label[i]))
            return 0;
    return 1;
}

/* Names that never lead to a public server (RFC 6761, RFC 6762, RFC 7686,
 * RFC 8375, and .internal, reserved by ICANN for private use). */
static const char *const private_names[] = {"localhost", "local", "internal", "home.arpa", "onion"};

const char *target_instance_problem(const char *host)
{
    if (!host || !*host)
        return N_("Enter your server's name, like mastodon.social.");
    size_t len = strlen(host);
    if (len > TARGET_INSTANCE_MAX)
        return N_("That is longer than 253 characters, the most a server name can have.");
    if (host[0] == '[' || strchr(host, ':') != strrchr(host, ':'))
        return N_("An IP address is not a server name: enter its name, like mastodon.social.");
    if (strpbrk(host, ":@/?#\\"))
        return N_("Enter only the server's name, without a port, a user name, a path or a query.");
    size_t label = 0, dots = 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label == 0 || host[i - 1] == '-')
                return N_("Each part of the name between dots needs 1 to 63 letters or digits "
                          "and may not start or end with a hyphen.");
            label = 0;
            dots++;
            continue;
        }
        int alnum = is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z');
        if (!alnum && c != '-')
            return N_("A server name has only letters, digits, hyphens and dots.");
        if ((c == '-' && label == 0) || ++label > 63)
            return N_("Each part of the name between dots needs 1 to 63 letters or digits "
                      "and may not start or end with a hyphen.");
    }
    if (label == 0 || host[len - 1] == '-')
        return N_("Each part of the name between dots needs 1 to 63 letters or digits "
                  "and may not start or end with a hyphen.");
    if (ends_in_number(host + len - label, label))
        return N_("An IP address is not a server name: enter its name, like mastodon.social.");
    for (size_t i = 0; i < sizeof private_names / sizeof private_names[0]; i++)
        if (ends_in_name(host, len, private_names[i]))
            return N_("That name only works inside a private network: enter your public "
                      "server's name, like mastodon.social.");
    if (dots == 0)
        return N_("A server name has at least one dot, like mastodon.social.");
    return NULL;
}

int target_instance_valid(const char *host)
{
    return target_instance_problem(host) == NULL;
}
