/*
 * fuzz_url: every kind of target fed arbitrary supporter text. The input is
 * split on NUL bytes into title, body, statement and a supporter's mastodon
 * instance. For each kind the outcome must agree with an independent oracle
 * (the encoded length or the code-point count against the kind's limit), the
 * URL must hold only printable ASCII without '#', and a redirect's decoded
 * title and body must equal the input. Any violation abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "targets/target.h"
#include "core/banned.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define WEB_URL "https://act.example/{{target.id}}/say/{{statement}}?who={{name}}&from=muster"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static size_t encoded_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += unreserved((unsigned char)*s) ? 1 : 3;
    return n;
}

/* Line breaks (CRLF, LF, lone CR) replaced by rep. */
static void replace_breaks(struct buf *out, const char *s, const char *rep)
{
    buf_reset(out);
    buf_puts(out, "");
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n') {
            buf_puts(out, rep);
            if (s[0] == '\r' && s[1] == '\n')
                s++;
        } else {
            buf_putc(out, *s);
        }
    }
    CHECK(!buf_failed(out));
}

static void share_text(struct buf *out, const char *title, const char *body)
{
    buf_reset(out);
    buf_puts(out, title);
    if (*title && *body)
        buf_puts(out, "\n\n");
    buf_puts(out, body);
    CHECK(!buf_failed(out));
}

static void check_url_bytes(const struct buf *url)
{
    for (size_t i = 0; i < url->len; i++) {
        unsigned char c = (unsigned char)url->data[i];
        CHECK(c >= 0x21 && c <= 0x7e && c != '#');
    }
}

/* Decodes parameter name of url's query into out; aborts when it is missing,
 * repeated, holds a byte escape_url never leaves, or does not decode. */
static void query_decode(const char *url, const char *name, struct buf *out)
{
    const char *q = strchr(url, '?');
    CHECK(q != NULL);
    size_t name_len = strlen(name);
    int found = 0;
    for (q++; *q;) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (eq && (size_t)(eq - q) == name_len && memcmp(q, name, name_len) == 0) {
            CHECK(!found);
            found = 1;
            const char *v = eq + 1;
            size_t len = n - (size_t)(v - q);
            for (size_t i = 0; i < len; i++)
                CHECK(unreserved((unsigned char)v[i]) || v[i] == '%');
            buf_reset(out);
            CHECK(unescape_url(out, v, len, 0) == 0);
            buf_puts(out, "");
        }
        q += n;
        if (*q == '&')
            q++;
    }
    CHECK(found);
}

static void check_param(const char *url, const char *name, const char *want)
{
    struct buf got = BUF_INIT;
    query_decode(url, name, &got);
    CHECK(strcmp(buf_cstr(&got), want) == 0);
    buf_release(&got);
}

struct input {
    const char *title, *body, *statement, *instance;
    int text_valid; /* title and body are UTF-8 */
};

static int build(struct target_spec *t, const struct input *in, const char *instance,
                 struct buf *url)
{
    struct target_message msg = {in->title, in->body};
    struct template_vars vars = {in->title, in->statement, "Campaign", "t1"};
    buf_reset(url);
    int rc = target_build_action(t, &msg, &vars, instance, url);
    CHECK(rc >= -1 && rc <= TARGET_PAGE_NEEDS_INSTANCE);
    if (!in->text_valid) {
        CHECK(rc == -1);
        return rc;
    }
    CHECK(rc != -1);
    check_url_bytes(url);
    if (rc == TARGET_PAGE_TOO_LONG || rc == TARGET_PAGE_NEEDS_INSTANCE)
        CHECK(url->len == 0);
    if (rc == TARGET_REDIRECT)
        CHECK(url->len <= target_kind_limits(t->kind).max_url_bytes);
    return rc;
}

/* github and gitlab: two encoded parameters after a fixed prefix. */
static void check_issue(enum target_kind kind, const char *prefix, const char *title_param,
                        const char *body_param, const struct input *in)
{
    struct target_spec t = {0};
    t.id = (char *)"t1";
    t.kind = kind;
    t.repo = (char *)"example/core";
    t.project_url = (char *)"https://gitlab.example/group/project";
    struct buf url = BUF_INIT;
    int rc = build(&t, in, NULL, &url);
    if (in->text_valid) {
        size_t want = strlen(prefix) + 1 + strlen(title_param) + 1 + encoded_len(in->title) + 1 +
                      strlen(body_param) + 1 + encoded_len(in->body);
        CHECK(rc == (want <= 8000 ? TARGET_REDIRECT : TARGET_PAGE_TOO_LONG));
        if (rc == TARGET_REDIRECT) {
            CHECK(url.len == want);
            CHECK(strncmp(url.data, prefix, strlen(prefix)) == 0);
            check_param(url.data, title_param, in->title);
            check_param(url.data, body_param, in->body);
        }
    }
    buf_release(&url);
}

static void check_email(const struct input *in)
{
    char *to[] = {(char *)"team@example.org"};
    struct target_spec t = {0};
    t.id = (char *)"t1";
    t.kind = TARGET_EMAIL;
    t.to.items = to;
    t.to.count = 1;
    struct buf url = BUF_INIT, subject = BUF_INIT, body = BUF_INIT;
    int rc = build(&t, in, NULL, &url);
    if (in->text_valid) {
        replace_breaks(&subject, in->title, " ");
        replace_breaks(&body, in->body, "\r\n");
        const char *prefix = "mailto:team@example.org?subject=";
        size_t want = strlen(prefix) + encoded_len(buf_cstr(&subject)) + strlen("&body=") +
                      encoded_len(buf_cstr(&body));
        CHECK(rc == (want <= 2000 ? TARGET_REDIRECT : TARGET_PAGE_TOO_LONG));
        if (rc == TARGET_REDIRECT) {
            CHECK(url.len == want);
            CHECK(strncmp(url.data, prefix, strlen(prefix)) == 0);
            check_param(url.data, "subject", buf_cstr(&subject));
            check_param(url.data, "body", buf_cstr(&body));
            /* every line break is CRLF: %0D always before %0A, and only there */
            for (const char *p = url.data; (p = strstr(p, "%0")) != NULL; p += 3) {
                if (p[2] == 'D')
                    CHECK(strncmp(p + 3, "%0A", 3) == 0);
                if (p[2] == 'A')
                    CHECK(p - url.data >= 3 && strncmp(p - 3, "%0D", 3) == 0);
            }
        }
    }
    buf_release(&url);
    buf_release(&subject);
    buf_release(&body);
}

static void check_share(enum target_kind kind, const char *target_instance,
                        const char *supporter_instance, const char *prefix_host, const char *path,
                        size_t limit, const struct input *in)
{
    struct target_spec t = {0};
    t.id = (char *)"t1";
    t.kind = kind;
    t.instance = (char *)target_instance;
    struct buf url = BUF_INIT, text = BUF_INIT, prefix = BUF_INIT;
    int rc = build(&t, in, supporter_instance, &url);
    if (in->text_valid) {
        share_text(&text, in->title, in->body);
        int fits = utf8_length(buf_cstr(&text)) <= limit;
        const char *host = prefix_host;
        if (kind == TARGET_MASTODON && !target_instance)
            host = target_instance_valid(supporter_instance) ? supporter_instance : NULL;
        if (!fits)
            CHECK(rc == TARGET_PAGE_TOO_LONG);
        else if (!host)
            CHECK(rc == TARGET_PAGE_NEEDS_INSTANCE);
        else
            CHECK(rc == TARGET_REDIRECT);
        if (rc == TARGET_REDIRECT) {
            buf_puts(&prefix, "https://");
            buf_puts(&prefix, host);
            buf_puts(&prefix, path);
            buf_puts(&prefix, "?text=");
            CHECK(strncmp(url.data, buf_cstr(&prefix), prefix.len) == 0);
            check_param(url.data, "text", buf_cstr(&text));
        }
    }
    buf_release(&url);
    buf_release(&text);
    buf_release(&prefix);
}

static void check_web(const struct input *in)
{
    struct target_spec t = {0};
    t.id = (char *)"t1";
    t.kind = TARGET_WEB;
    t.url = (char *)WEB_URL;
    struct buf url = BUF_INIT, got = BUF_INIT;
    int rc = build(&t, in, NULL, &url);
    if (in->text_valid) {
        const char *prefix = "https://act.example/t1/say/";
        size_t want = strlen(prefix) + encoded_len(in->statement) + strlen("?who=") +
                      encoded_len(in->title) + strlen("&from=muster");
        CHECK(rc == (want <= 8000 ? TARGET_REDIRECT : TARGET_PAGE_TOO_LONG));
        if (rc == TARGET_REDIRECT) {
            CHECK(url.len == want);
            CHECK(strncmp(url.data, prefix, strlen(prefix)) == 0);
            const char *seg = url.data + strlen(prefix);
            const char *q = strchr(seg, '?');
            CHECK(q != NULL);
            size_t seg_len = (size_t)(q - seg);
            for (size_t i = 0; i < seg_len; i++)
                CHECK(unreserved((unsigned char)seg[i]) || seg[i] == '%');
            if (utf8_valid(in->statement, strlen(in->statement))) {
                CHECK(unescape_url(&got, seg, seg_len, 0) == 0);
                buf_puts(&got, "");
                CHECK(strcmp(buf_cstr(&got), in->statement) == 0);
            }
            check_param(url.data, "who", in->title);
            check_param(url.data, "from", "muster");
        }
    }
    buf_release(&url);
    buf_release(&got);
}

static void check_call(const struct input *in)
{
    struct target_spec t = {0};
    t.id = (char *)"t1";
    t.kind = TARGET_CALL;
    t.number = (char *)"+4930123456";
    struct buf url = BUF_INIT;
    int rc = build(&t, in, NULL, &url);
    if (in->text_valid) {
        CHECK(rc == TARGET_PAGE_CALL);
        CHECK(strcmp(buf_cstr(&url), "tel:+4930123456") == 0);
    }
    buf_release(&url);
}

static void check_instance_valid(const char *host)
{
    if (!target_instance_valid(host))
        return;
    CHECK(strchr(host, '.') != NULL && strlen(host) <= 253);
    for (const char *p = host; *p; p++)
        CHECK(unreserved((unsigned char)*p) && *p != '_' && *p != '~');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-terminated copy; the parts are the NUL-separated pieces */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *parts[4] = {"", "", "", ""};
    size_t at = 0;
    for (int i = 0; i < 4 && at <= size; i++) {
        parts[i] = copy + at;
        at += strlen(copy + at) + 1;
    }
    struct input in = {parts[0], parts[1], parts[2], parts[3], 0};
    in.text_valid = utf8_valid(in.title, strlen(in.title)) && utf8_valid(in.body, strlen(in.body));

    check_issue(TARGET_GITHUB_ISSUE, "https://github.com/example/core/issues/new", "title", "body",
                &in);
    check_issue(TARGET_GITLAB_ISSUE, "https://gitlab.example/group/project/-/issues/new",
                "issue[title]", "issue[description]", &in);
    check_email(&in);
    check_call(&in);
    check_share(TARGET_MASTODON, "social.example", in.instance, "social.example", "/share", 500,
                &in);
    check_share(TARGET_MASTODON, NULL, in.instance, NULL, "/share", 500, &in);
    check_share(TARGET_BLUESKY, NULL, NULL, "bsky.app", "/intent/compose", 300, &in);
    check_share(TARGET_X, NULL, NULL, "x.com", "/intent/post", 280, &in);
    check_web(&in);
    check_instance_valid(in.instance);
    free(copy);
    return 0;
}
