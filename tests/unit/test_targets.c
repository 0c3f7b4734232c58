/*
 * test_targets: the one-click URLs of every kind of target (src/targets/),
 * read the way the site reading them would: each URL's query is split on '&'
 * and '=' and percent-decoded by a small parser here, and the decoded title
 * and body must equal what the supporter wrote, byte for byte, whatever they
 * wrote. Limits are tested at the boundary: at the limit is a redirect, one
 * over is the action page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/escape.h"
#include "targets/target.h"
#include "targets/target_private.h"
#include "core/banned.h"

/* ---- a test-only reader of URLs ---------------------------------------- */

/* Raw bytes a value may hold in the URL: unreserved, '%' and the extra
 * separators the caller allows (',' between labels, '@' in addresses). */
static void assert_raw_value_safe(const char *v, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' || c == '%' ||
                 (extra && c && strchr(extra, c));
        if (!ok)
            fail_msg("raw byte 0x%02x in value \"%.*s\"", (unsigned char)c, (int)len, v);
    }
}

/* Every byte printable ASCII, no space, no '#' anywhere. */
static void assert_url_clean(const char *url)
{
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x21 || c > 0x7e || c == '#')
            fail_msg("byte 0x%02x at %zu in %s", c, (size_t)(p - url), url);
    }
}

/* The raw value of parameter name in url's query, or NULL; *len its length. */
static const char *query_raw(const char *url, const char *name, size_t *len)
{
    const char *q = strchr(url, '?');
    if (!q)
        return NULL;
    q++;
    size_t name_len = strlen(name);
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (eq && (size_t)(eq - q) == name_len && memcmp(q, name, name_len) == 0) {
            *len = n - (size_t)(eq + 1 - q);
            return eq + 1;
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return NULL;
}

/* How many times parameter name occurs. */
static int query_count(const char *url, const char *name)
{
    int count = 0;
    const char *q = strchr(url, '?');
    size_t name_len = strlen(name);
    for (q = q ? q + 1 : ""; *q;) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        size_t key = eq ? (size_t)(eq - q) : n;
        if (key == name_len && memcmp(q, name, name_len) == 0)
            count++;
        q += n;
        if (*q == '&')
            q++;
    }
    return count;
}

/* Decodes parameter name into out (emptied first); fails the test when it is
 * missing, holds an unsafe raw byte or does not decode. */
static void query_decode(const char *url, const char *name, struct buf *out)
{
    size_t len = 0;
    const char *raw = query_raw(url, name, &len);
    if (!raw)
        fail_msg("no %s in %s", name, url);
    assert_raw_value_safe(raw, len, NULL);
    buf_reset(out);
    assert_int_equal(unescape_url(out, raw, len, 0), 0);
}

/* ---- expected values, computed independently of src/targets ------------ */

/* Line breaks (CRLF, LF, lone CR) replaced by rep. */
static void replace_breaks(struct buf *out, const char *s, const char *rep)
{
    buf_reset(out);
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n') {
            buf_puts(out, rep);
            if (s[0] == '\r' && s[1] == '\n')
                s++;
        } else {
            buf_putc(out, *s);
        }
    }
    buf_puts(out, "");
}

static void share_text(struct buf *out, const char *title, const char *body)
{
    buf_reset(out);
    buf_puts(out, title);
    if (*title && *body)
        buf_puts(out, "\n\n");
    buf_puts(out, body);
}

/* ---- targets ------------------------------------------------------------ */

static char *to_list[] = {(char *)"team@example.org"};
static char *cc_list[] = {(char *)"cc@example.org", (char *)"c2@example.org"};
static char *bcc_list[] = {(char *)"bcc@example.org"};
static char *label_list[] = {(char *)"docs", (char *)"good first issue", (char *)"a,b&c"};

#define WEB_URL "https://act.example/{{target.id}}/say/{{statement}}?who={{name}}&from=muster"

static struct target_spec spec(enum target_kind kind)
{
    struct target_spec t;
    memset(&t, 0, sizeof t);
    t.id = (char *)"t1";
    t.kind = kind;
    t.cap = -1;
    t.repo = (char *)"example/core";
    t.project_url = (char *)"https://gitlab.example/group/project";
    t.to.items = to_list;
    t.to.count = 1;
    t.number = (char *)"+4930123456";
    t.script = (char *)"Hello, my name is {{name}}. {{#statement}}{{statement}}{{/statement}}";
    t.instance = kind == TARGET_MASTODON ? (char *)"social.example" : NULL;
    t.url = (char *)WEB_URL;
    return t;
}

static int build(const struct target_spec *t, const char *title, const char *body,
                 const struct template_vars *vars, const char *instance, struct buf *url)
{
    struct target_message msg = {title, body};
    buf_reset(url);
    return target_build_action(t, &msg, vars, instance, url);
}

static const char *const hostile[] = {
    "",
    "plain words",
    "newline\nline two\n",
    "crlf\r\nline two\r\n\r\n",
    "lone\rcarriage return",
    "a&b=c?d#e%f+g;h/i:j@k",
    "100% sure + 50%25 = %zz %4 %",
    "title=x&body=injected&labels=bug",
    "%0D%0ABcc: spy@evil.example",
    "\"double\" and 'single' quotes `back`",
    "<script>alert(document.cookie)</script>",
    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
    "\xe2\x80\xaegnp.exe", /* Arabic, Hebrew, RLO */
    "\xe2\x9c\x8a\xf0\x9f\x8f\xbd \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 "
    "\xf0\x9f\x87\xba\xf0\x9f\x87\xa6", /* emoji, ZWJ, flag */
    "{{name}} stays {{statement}} literal",
    "  leading and trailing spaces\t ",
    "back\\slash and ~tilde~ and _under_.dot-dash",
};
#define HOSTILE_COUNT (sizeof hostile / sizeof hostile[0])

struct kind_case {
    enum target_kind kind;
    const char *prefix;      /* what the URL starts with */
    const char *title_param; /* NULL: title and body are one "text" */
    const char *body_param;
};

static const struct kind_case kind_cases[] = {
    {TARGET_GITHUB_ISSUE, "https://github.com/example/core/issues/new?title=", "title", "body"},
    {TARGET_GITLAB_ISSUE, "https://gitlab.example/group/project/-/issues/new?issue[title]=",
     "issue[title]", "issue[description]"},
    {TARGET_EMAIL, "mailto:team@example.org?subject=", "subject", "body"},
    {TARGET_MASTODON, "https://social.example/share?text=", NULL, "text"},
    {TARGET_BLUESKY, "https://bsky.app/intent/compose?text=", NULL, "text"},
    {TARGET_X, "https://x.com/intent/post?text=", NULL, "text"},
};

static void check_round_trip(const struct kind_case *kc, const char *title, const char *body)
{
    struct target_spec t = spec(kc->kind);
    struct buf url = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
    int rc = build(&t, title, body, NULL, NULL, &url);
    if (rc != TARGET_REDIRECT)
        fail_msg("kind %d: outcome %d for title \"%s\" body \"%s\"", kc->kind, rc, title, body);
    const char *u = buf_cstr(&url);
    assert_url_clean(u);
    assert_memory_equal(u, kc->prefix, strlen(kc->prefix));
    if (kc->title_param) {
        assert_int_equal(query_count(u, kc->title_param), 1);
        assert_int_equal(query_count(u, kc->body_param), 1);
        query_decode(u, kc->title_param, &got);
        if (kc->kind == TARGET_EMAIL)
            replace_breaks(&want, title, " ");
        else
            share_text(&want, title, "");
        assert_string_equal(buf_cstr(&got), buf_cstr(&want));
        query_decode(u, kc->body_param, &got);
        if (kc->kind == TARGET_EMAIL)
            replace_breaks(&want, body, "\r\n");
        else
            share_text(&want, body, "");
        assert_string_equal(buf_cstr(&got), buf_cstr(&want));
    } else {
        assert_int_equal(query_count(u, "text"), 1);
        query_decode(u, "text", &got);
        share_text(&want, title, body);
        assert_string_equal(buf_cstr(&got), buf_cstr(&want));
    }
    buf_release(&url);
    buf_release(&got);
    buf_release(&want);
}

static void test_hostile_text_round_trips_for_every_kind(void **state)
{
    for (size_t k = 0; k < sizeof kind_cases / sizeof kind_cases[0]; k++) {
        for (size_t i = 0; i < HOSTILE_COUNT; i++) {
            check_round_trip(&kind_cases[k], hostile[i], hostile[i]);
            check_round_trip(&kind_cases[k], "", hostile[i]);
            check_round_trip(&kind_cases[k], hostile[i], "");
            check_round_trip(&kind_cases[k], hostile[i], hostile[(i + 1) % HOSTILE_COUNT]);
        }
    }
}

static void test_web_placeholders_encoded_in_path_and_query(void **state)
{
    struct target_spec t = spec(TARGET_WEB);
    struct buf url = BUF_INIT, got = BUF_INIT;
    for (size_t i = 0; i < HOSTILE_COUNT; i++) {
        const char *name = hostile[(i + 3) % HOSTILE_COUNT];
        struct template_vars vars = {name, hostile[i], "Campaign", "t1"};
        assert_int_equal(build(&t, "title", "body", &vars, NULL, &url), TARGET_REDIRECT);
        const char *u = buf_cstr(&url);
        assert_url_clean(u);
        const char *prefix = "https://act.example/t1/say/";
        assert_memory_equal(u, prefix, strlen(prefix));
        /* the path segment: up to the query */
        const char *seg = u + strlen(prefix);
        const char *q = strchr(seg, '?');
        assert_non_null(q);
        assert_raw_value_safe(seg, (size_t)(q - seg), NULL);
        buf_reset(&got);
        assert_int_equal(unescape_url(&got, seg, (size_t)(q - seg), 0), 0);
        assert_string_equal(buf_cstr(&got), hostile[i]);
        /* the query value, and the literal parameter after it intact */
        query_decode(u, "who", &got);
        assert_string_equal(buf_cstr(&got), name);
        assert_int_equal(query_count(u, "who"), 1);
        query_decode(u, "from", &got);
        assert_string_equal(buf_cstr(&got), "muster");
    }
    buf_release(&url);
    buf_release(&got);
}

static void test_web_without_placeholders_is_copied(void **state)
{
    struct target_spec t = spec(TARGET_WEB);
    t.url = (char *)"https://act.example/sign?x=1&y=%20";
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "a", "b", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://act.example/sign?x=1&y=%20");
    buf_release(&url);
}

static void test_web_bad_template_fails(void **state)
{
    static const char *const bad[] = {
        "https://act.example/{{nope}}",          /* unknown placeholder */
        "https://act.example/{{name}",           /* unclosed */
        "https://act.example/a b?{{name}}",      /* raw space in the literal part */
        "https://act.example/\r\nSet-Cookie: x", /* header splitting */
        "javascript:alert({{name}})",            /* not http(s) */
        "https://{{name}}.example/act",          /* the supporter would pick the host */
        "https://act.{{target.id}}/x",
        "https:///{{name}}", /* no host */
        "",
    };
    struct template_vars vars = {"Ada", "why", "C", "t1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct target_spec t = spec(TARGET_WEB);
        t.url = (char *)bad[i];
        struct buf url = BUF_INIT;
        assert_int_equal(build(&t, "a", "b", &vars, NULL, &url), -1);
        assert_int_equal(url.len, 0);
        buf_release(&url);
    }
}

static void test_mailto_line_breaks_are_crlf(void **state)
{
    struct target_spec t = spec(TARGET_EMAIL);
    struct buf url = BUF_INIT;
    static const char *const bodies[] = {"a\nb", "a\r\nb", "a\rb"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(build(&t, "Subject\nline", bodies[i], NULL, NULL, &url), TARGET_REDIRECT);
        assert_string_equal(buf_cstr(&url),
                            "mailto:team@example.org?subject=Subject%20line&body=a%0D%0Ab");
    }
    assert_int_equal(build(&t, "", "x\n\ny\r\n", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url),
                        "mailto:team@example.org?subject=&body=x%0D%0A%0D%0Ay%0D%0A");
    buf_release(&url);
}

static void test_mailto_addresses_cc_bcc(void **state)
{
    char *to[] = {(char *)"a+b@example.org", (char *)"x@example.org"};
    struct target_spec t = spec(TARGET_EMAIL);
    t.to.items = to;
    t.to.count = 2;
    t.cc.items = cc_list;
    t.cc.count = 2;
    t.bcc.items = bcc_list;
    t.bcc.count = 1;
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "Hi", "Yes", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url),
                        "mailto:a%2Bb@example.org,x@example.org?cc=cc@example.org,c2@example.org"
                        "&bcc=bcc@example.org&subject=Hi&body=Yes");
    /* only bcc: it opens the query */
    t.cc.count = 0;
    assert_int_equal(build(&t, "Hi", "Yes", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "mailto:a%2Bb@example.org,x@example.org"
                                        "?bcc=bcc@example.org&subject=Hi&body=Yes");
    buf_release(&url);
}

static void test_mailto_address_cannot_add_headers(void **state)
{
    char *to[] = {(char *)"evil@x.example?bcc=spy@y.example&body=gotcha, z@x.example"};
    struct target_spec t = spec(TARGET_EMAIL);
    t.to.items = to;
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "Hi", "Yes", NULL, NULL, &url), TARGET_REDIRECT);
    const char *u = buf_cstr(&url);
    assert_url_clean(u);
    assert_int_equal(query_count(u, "bcc"), 0);
    assert_int_equal(query_count(u, "body"), 1);
    const char *q = strchr(u, '?');
    assert_raw_value_safe(u + 7, (size_t)(q - u - 7), "@,");
    assert_string_equal(q, "?subject=Hi&body=Yes");
    buf_release(&url);
}

static void test_github_labels_and_template(void **state)
{
    struct target_spec t = spec(TARGET_GITHUB_ISSUE);
    t.labels.items = label_list;
    t.labels.count = 3;
    t.issue_template = (char *)"bug report.md";
    struct buf url = BUF_INIT, got = BUF_INIT;
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), TARGET_REDIRECT);
    const char *u = buf_cstr(&url);
    assert_string_equal(u, "https://github.com/example/core/issues/new?title=T&body=B"
                           "&labels=docs,good%20first%20issue,a%2Cb%26c&template=bug%20report.md");
    /* split labels on the literal ',' and decode each */
    size_t len;
    const char *raw = query_raw(u, "labels", &len);
    assert_non_null(raw);
    assert_raw_value_safe(raw, len, ",");
    for (size_t i = 0; i < 3; i++) {
        size_t n = strcspn(raw, ",&");
        buf_reset(&got);
        assert_int_equal(unescape_url(&got, raw, n, 0), 0);
        assert_string_equal(buf_cstr(&got), label_list[i]);
        raw += n + 1;
    }
    query_decode(u, "template", &got);
    assert_string_equal(buf_cstr(&got), "bug report.md");
    buf_release(&url);
    buf_release(&got);
}

static void test_github_bad_repo_fails(void **state)
{
    static const char *const bad[] = {"",      "core", "a/b/c",       "../x",  "a/..",
                                      "/b",    "a/",   "a b/c",       "a/b?x", "a/b#x",
                                      "a/b\n", "./b",  "a/b%2F..%2Fc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct target_spec t = spec(TARGET_GITHUB_ISSUE);
        t.repo = (char *)bad[i];
        struct buf url = BUF_INIT;
        assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
        buf_release(&url);
    }
}

static void test_gitlab_brackets_literal_and_trailing_slash(void **state)
{
    struct target_spec t = spec(TARGET_GITLAB_ISSUE);
    t.project_url = (char *)"https://gitlab.example/group/sub/project/";
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "a b", "c&d", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://gitlab.example/group/sub/project/-/issues/new"
                                        "?issue[title]=a%20b&issue[description]=c%26d");
    buf_release(&url);
}

static void test_gitlab_bad_project_url_fails(void **state)
{
    static const char *const bad[] = {"",
                                      "gitlab.example/group/project",
                                      "javascript:alert(1)//",
                                      "https://",
                                      "https:///",
                                      "https://gitlab.example/group project",
                                      "https://gitlab.example/p?x=1",
                                      "https://gitlab.example/p#frag",
                                      "https://gitlab.example/p\r\nX-Injected: 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct target_spec t = spec(TARGET_GITLAB_ISSUE);
        t.project_url = (char *)bad[i];
        struct buf url = BUF_INIT;
        assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
        buf_release(&url);
    }
}

/* ---- limits ------------------------------------------------------------- */

static void fill(struct buf *b, const char *unit, size_t n)
{
    buf_reset(b);
    for (size_t i = 0; i < n; i++)
        buf_puts(b, unit);
    buf_puts(b, "");
}

static void test_ten_kb_statement_is_too_long_for_every_kind(void **state)
{
    struct buf big = BUF_INIT, url = BUF_INIT;
    while (big.len < 10 * 1024)
        buf_puts(&big, "a&b #%\r\n\xe2\x9c\x8a \xd7\xa9 ");
    const char *s = buf_cstr(&big);
    struct template_vars vars = {"Ada", s, "Campaign", "t1"};
    for (int kind = 0; kind < TARGET_KIND_COUNT; kind++) {
        struct target_spec t = spec((enum target_kind)kind);
        buf_reset(&url);
        buf_puts(&url, "kept");
        int rc = target_build_action(&t, &(struct target_message){"Title", s}, &vars,
                                     "social.example", &url);
        if (kind == TARGET_CALL) {
            assert_int_equal(rc, TARGET_PAGE_CALL);
            assert_string_equal(buf_cstr(&url), "kepttel:+4930123456");
        } else {
            if (rc != TARGET_PAGE_TOO_LONG)
                fail_msg("kind %d: outcome %d", kind, rc);
            assert_string_equal(buf_cstr(&url), "kept");
        }
        /* the statement as title alone is too long as well */
        buf_reset(&url);
        rc =
            target_build_action(&t, &(struct target_message){s, ""}, &vars, "social.example", &url);
        assert_int_equal(rc, kind == TARGET_CALL ? TARGET_PAGE_CALL : TARGET_PAGE_TOO_LONG);
    }
    /* mastodon without an instance: too long wins over asking for one */
    struct target_spec m = spec(TARGET_MASTODON);
    m.instance = NULL;
    assert_int_equal(build(&m, "Title", s, NULL, NULL, &url), TARGET_PAGE_TOO_LONG);
    buf_release(&big);
    buf_release(&url);
}

static void test_text_limits_boundary(void **state)
{
    static const struct {
        enum target_kind kind;
        size_t limit;
    } cases[] = {{TARGET_MASTODON, 500}, {TARGET_BLUESKY, 300}, {TARGET_X, 280}};
    /* one byte, two bytes, four bytes, and a combining mark: code points */
    static const char *const units[] = {"a", "\xc3\xa9", "\xf0\x9f\x98\x80", "e\xcc\x81"};
    static const size_t unit_chars[] = {1, 1, 1, 2};
    struct buf body = BUF_INIT, url = BUF_INIT;
    for (size_t c = 0; c < 3; c++) {
        struct target_spec t = spec(cases[c].kind);
        assert_int_equal(target_kind_limits(cases[c].kind).max_text_chars, cases[c].limit);
        for (size_t u = 0; u < 4; u++) {
            size_t n = cases[c].limit / unit_chars[u];
            fill(&body, units[u], n);
            assert_int_equal(build(&t, "", buf_cstr(&body), NULL, NULL, &url), TARGET_REDIRECT);
            fill(&body, units[u], n + 1);
            assert_int_equal(build(&t, "", buf_cstr(&body), NULL, NULL, &url),
                             TARGET_PAGE_TOO_LONG);
            assert_int_equal(url.len, 0);
        }
        /* title + blank line + body counts as a whole: "ab\n\n" is 4 */
        fill(&body, "x", cases[c].limit - 4);
        assert_int_equal(build(&t, "ab", buf_cstr(&body), NULL, NULL, &url), TARGET_REDIRECT);
        fill(&body, "x", cases[c].limit - 3);
        assert_int_equal(build(&t, "ab", buf_cstr(&body), NULL, NULL, &url), TARGET_PAGE_TOO_LONG);
    }
    buf_release(&body);
    buf_release(&url);
}

static void test_url_limits_boundary(void **state)
{
    static const struct {
        enum target_kind kind;
        size_t limit;
    } cases[] = {{TARGET_GITHUB_ISSUE, 8000},
                 {TARGET_GITLAB_ISSUE, 8000},
                 {TARGET_EMAIL, 2000},
                 {TARGET_WEB, 8000}};
    struct buf body = BUF_INIT, url = BUF_INIT;
    for (size_t c = 0; c < 4; c++) {
        struct target_spec t = spec(cases[c].kind);
        assert_int_equal(target_kind_limits(cases[c].kind).max_url_bytes, cases[c].limit);
        struct template_vars vars = {"n", "", "C", "t1"};
        assert_int_equal(build(&t, "T", "", &vars, NULL, &url), TARGET_REDIRECT);
        size_t base = url.len;
        /* 'a' is unreserved: one byte of text is one byte of URL */
        fill(&body, "a", cases[c].limit - base);
        vars.statement = buf_cstr(&body);
        assert_int_equal(build(&t, "T", buf_cstr(&body), &vars, NULL, &url), TARGET_REDIRECT);
        assert_int_equal(url.len, cases[c].limit);
        fill(&body, "a", cases[c].limit - base + 1);
        vars.statement = buf_cstr(&body);
        assert_int_equal(build(&t, "T", buf_cstr(&body), &vars, NULL, &url), TARGET_PAGE_TOO_LONG);
        assert_int_equal(url.len, 0);
        /* a space costs three bytes: "%20" */
        fill(&body, "a", cases[c].limit - base - 3);
        buf_puts(&body, " ");
        vars.statement = buf_cstr(&body);
        assert_int_equal(build(&t, "T", buf_cstr(&body), &vars, NULL, &url), TARGET_REDIRECT);
        buf_puts(&body, "a");
        vars.statement = buf_cstr(&body);
        assert_int_equal(build(&t, "T", buf_cstr(&body), &vars, NULL, &url), TARGET_PAGE_TOO_LONG);
    }
    buf_release(&body);
    buf_release(&url);
}

static void test_kind_limits_documented(void **state)
{
    static const struct {
        enum target_kind kind;
        size_t url, text;
    } want[] = {
        {TARGET_GITHUB_ISSUE, 8000, 0}, {TARGET_GITLAB_ISSUE, 8000, 0},
        {TARGET_EMAIL, 2000, 0},        {TARGET_CALL, 0, 0},
        {TARGET_MASTODON, 8000, 500},   {TARGET_BLUESKY, 8000, 300},
        {TARGET_X, 8000, 280},          {TARGET_WEB, 8000, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct target_limits l = target_kind_limits(want[i].kind);
        assert_int_equal(l.max_url_bytes, want[i].url);
        assert_int_equal(l.max_text_chars, want[i].text);
        assert_non_null(l.why);
        assert_true(strlen(l.why) > 10);
    }
    struct target_limits none = target_kind_limits((enum target_kind)99);
    assert_int_equal(none.max_url_bytes, 0);
    assert_int_equal(none.max_text_chars, 0);
}

/* target.c's kind_table: a row for every kind of campaign/target_kinds.h, each
 * its own kind's, whose name leads back to it; nothing for other values. */
static void test_every_kind_has_its_row(void **state)
{
    for (int k = 0; k < TARGET_KIND_COUNT; k++) {
        const char *name = target_kind_name((enum target_kind)k);
        const struct target_kind_ops *ops = target_kind_lookup((enum target_kind)k);
        if (!ops)
            fail_msg("kind %s has no row in kind_table", name);
        if ((int)ops->kind != k)
            fail_msg("the row of kind %s is kind %s's", name, target_kind_name(ops->kind));
        enum target_kind back;
        assert_int_equal(target_kind_from_name(target_kind_name(ops->kind), &back), 0);
        assert_int_equal(back, k);
        assert_non_null(ops->build);
        assert_non_null(ops->limits.why);
        assert_non_null(ops->open_label);
        assert_true(strlen(ops->open_label) > 3);
        assert_string_equal(target_kind_open_label((enum target_kind)k), ops->open_label);
    }
    assert_null(target_kind_lookup((enum target_kind)TARGET_KIND_COUNT));
    assert_null(target_kind_lookup((enum target_kind)(-1)));
    assert_string_equal(target_kind_open_label((enum target_kind)99), "Open");
}

static void test_open_labels(void **state)
{
    static const struct {
        enum target_kind kind;
        const char *label;
    } want[] = {
        {TARGET_GITHUB_ISSUE, "Open the prefilled issue on GitHub"},
        {TARGET_GITLAB_ISSUE, "Open the prefilled issue on GitLab"},
        {TARGET_EMAIL, "Open the prefilled email"},
        {TARGET_CALL, "Call now"},
        {TARGET_MASTODON, "Open the prefilled post on Mastodon"},
        {TARGET_BLUESKY, "Open the prefilled post on Bluesky"},
        {TARGET_X, "Open the prefilled post on X"},
        {TARGET_WEB, "Open the form"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(target_kind_open_label(want[i].kind), want[i].label);
}

/* ---- mastodon instances ------------------------------------------------- */

static void test_mastodon_needs_instance(void **state)
{
    struct target_spec t = spec(TARGET_MASTODON);
    t.instance = NULL;
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), TARGET_PAGE_NEEDS_INSTANCE);
    assert_int_equal(url.len, 0);
    t.instance = (char *)"";
    assert_int_equal(build(&t, "T", "B", NULL, "", &url), TARGET_PAGE_NEEDS_INSTANCE);
    static const char *const bad[] = {"mastodon.social:443",
                                      "user@mastodon.social",
                                      "https://mastodon.social",
                                      "localhost",
                                      "mastodon.social/path",
                                      "mastodon.social#x",
                                      "evil.example?x=",
                                      "exa mple.org",
                                      "-bad.example",
                                      "bad-.example",
                                      "a..b",
                                      ".example.org",
                                      "example.org.",
                                      "ex\xc3\xa4mple.org",
                                      "mastodon.social\r\nX: 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(target_instance_valid(bad[i]), 0);
        assert_int_equal(build(&t, "T", "B", NULL, bad[i], &url), TARGET_PAGE_NEEDS_INSTANCE);
        assert_int_equal(url.len, 0);
    }
    buf_release(&url);
}

static void test_mastodon_supporter_instance(void **state)
{
    struct target_spec t = spec(TARGET_MASTODON);
    t.instance = NULL;
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "T", "B", NULL, "mastodon.social", &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://mastodon.social/share?text=T%0A%0AB");
    buf_release(&url);
}

static void test_mastodon_target_instance_wins(void **state)
{
    struct target_spec t = spec(TARGET_MASTODON);
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "", "B", NULL, "other.example", &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://social.example/share?text=B");
    assert_int_equal(build(&t, "", "B", NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://social.example/share?text=B");
    t.instance = (char *)"bad instance";
    assert_int_equal(build(&t, "", "B", NULL, "mastodon.social", &url), -1);
    buf_release(&url);
}

static void test_instance_valid_accepts_host_names(void **state)
{
    static const char *const good[] = {"mastodon.social", "a.b", "Social.Example.ORG",
                                       "x-1.hachyderm.io", "10.0.0.1.example"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(target_instance_valid(good[i]), 1);
    assert_int_equal(target_instance_valid(NULL), 0);
    struct buf b = BUF_INIT;
    fill(&b, "a", 64);
    buf_puts(&b, ".org");
    assert_int_equal(target_instance_valid(buf_cstr(&b)), 0); /* label of 64 */
    fill(&b, "a", 63);
    buf_puts(&b, ".org");
    assert_int_equal(target_instance_valid(buf_cstr(&b)), 1);
    fill(&b, "abcdefghi.", 26); /* 260 bytes */
    buf_puts(&b, "org");
    assert_int_equal(target_instance_valid(buf_cstr(&b)), 0);
    buf_release(&b);
}

/* The instance a supporter may choose: only a public DNS host name, so the
 * one-click link never redirects to an address or a private name. */
static const struct {
    const char *host;
    int valid;
} instance_cases[] = {
    {"mastodon.social", 1},
    {"fosstodon.org", 1},
    {"social.example.co.uk", 1},
    {"evil.example", 1}, /* a public name: refused only by CSRF, not by shape */
    {"MASTODON.Social", 1},
    {"xn--mstdn-fsa.example", 1},
    {"m4stodon.social", 1},
    {"1.social", 1},
    {"a-b.c-d.org", 1},
    {"0x7f.social", 1}, /* only the last label decides "a number" */
    {"social.0xzz", 1},
    /* not host names */
    {"", 0},
    {"evil..example", 0},
    {".example.org", 0},
    {"example.org.", 0},
    {"-a.example", 0},
    {"a-.example", 0},
    {"a.-example", 0},
    {"exa mple.org", 0},
    {"ex_ample.org", 0},
    {"ex\xc3\xa4mple.org", 0},
    {"mastodon.social\r\nX: 1", 0},
    {"mastodon", 0},
    /* IPv4 in every notation a browser parses */
    {"127.0.0.1", 0},
    {"169.254.169.254", 0},
    {"10.0.0.1", 0},
    {"0x7f.1", 0},
    {"0x7f.0x0.0x0.0x1", 0},
    {"0177.0.0.1", 0},
    {"127.1", 0},
    {"1.0x7f", 0},
    {"1.0X7F", 0},
    {"a.0x", 0},
    {"2130706433", 0},
    {"0x7f000001", 0},
    {"example.123", 0},
    /* IPv6 literals */
    {"[::1]", 0},
    {"::1", 0},
    {"[fe80::1]", 0},
    {"::ffff:127.0.0.1", 0},
    /* private names */
    {"localhost", 0},
    {"LOCALHOST", 0},
    {"evil.localhost", 0},
    {"printer.local", 0},
    {"metadata.google.internal", 0},
    {"nas.home.arpa", 0},
    {"home.arpa", 0},
    {"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", 0},
    /* more than a host */
    {"mastodon.social:443", 0},
    {"mastodon.social:", 0},
    {"user@mastodon.social", 0},
    {"user:pw@mastodon.social", 0},
    {"https://mastodon.social", 0},
    {"https://mastodon.social/", 0},
    {"mastodon.social/path", 0},
    {"mastodon.social/", 0},
    {"mastodon.social?x=1", 0},
    {"mastodon.social#x", 0},
    {"evil.example\\@mastodon.social", 0},
    {"//evil.example", 0},
};

static void test_instance_accepts_only_public_host_names(void **state)
{
    for (size_t i = 0; i < sizeof instance_cases / sizeof instance_cases[0]; i++) {
        const char *problem = target_instance_problem(instance_cases[i].host);
        if ((problem == NULL) != instance_cases[i].valid)
            fail_msg("\"%s\": want %s, got %s", instance_cases[i].host,
                     instance_cases[i].valid ? "accepted" : "refused",
                     problem ? problem : "accepted");
        assert_int_equal(target_instance_valid(instance_cases[i].host), instance_cases[i].valid);
    }
    assert_non_null(target_instance_problem(NULL));
}

static void test_instance_longer_than_253_is_refused_with_the_reason(void **state)
{
    struct buf b = BUF_INIT;
    fill(&b, "abcdefgh.", 28); /* 252 bytes */
    buf_puts(&b, "o");
    assert_int_equal(b.len, 253);
    assert_null(target_instance_problem(buf_cstr(&b)));
    buf_puts(&b, "r");
    const char *problem = target_instance_problem(buf_cstr(&b));
    assert_non_null(problem);
    assert_non_null(strstr(problem, "253"));
    buf_release(&b);
}

/* An instance stored before the validator was strict is checked again at
 * every click: the page asks for a new one, nothing is redirected there. */
static void test_stored_bad_instance_is_never_a_redirect(void **state)
{
    struct target_spec t = spec(TARGET_MASTODON);
    t.instance = NULL;
    struct buf url = BUF_INIT;
    for (size_t i = 0; i < sizeof instance_cases / sizeof instance_cases[0]; i++) {
        if (instance_cases[i].valid)
            continue;
        assert_int_equal(build(&t, "T", "B", NULL, instance_cases[i].host, &url),
                         TARGET_PAGE_NEEDS_INSTANCE);
        assert_int_equal(url.len, 0);
    }
    buf_release(&url);
}

/* ---- call --------------------------------------------------------------- */

static void test_call_is_tel_link(void **state)
{
    struct target_spec t = spec(TARGET_CALL);
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), TARGET_PAGE_CALL);
    assert_string_equal(buf_cstr(&url), "tel:+4930123456");
    static const char *const bad[] = {"4930123456",        "+0301234",  "+49 30 123456", "+1",
                                      "+1234567890123456", "tel:+4930", "+49301x",       ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t.number = (char *)bad[i];
        assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
    }
    t.number = NULL;
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
    buf_release(&url);
}

static void test_call_script_rendered_as_plain_text(void **state)
{
    struct target_spec t = spec(TARGET_CALL);
    struct template_vars vars = {"Ada <b>&", "I care", "C", "t1"};
    struct buf out = BUF_INIT;
    assert_int_equal(target_render_script(&t, &vars, &out), 0);
    assert_string_equal(buf_cstr(&out), "Hello, my name is Ada <b>&. I care");
    buf_reset(&out);
    vars.statement = "";
    assert_int_equal(target_render_script(&t, &vars, &out), 0);
    assert_string_equal(buf_cstr(&out), "Hello, my name is Ada <b>&. ");
    buf_reset(&out);
    t.script = NULL;
    assert_int_equal(target_render_script(&t, &vars, &out), 0);
    assert_string_equal(buf_cstr(&out), "");
    t.script = (char *)"{{unknown}}";
    assert_int_equal(target_render_script(&t, &vars, &out), -1);
    buf_release(&out);
}

/* ---- failures ----------------------------------------------------------- */

static void test_invalid_utf8_message_fails(void **state)
{
    static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80"};
    struct buf url = BUF_INIT;
    for (int kind = 0; kind < TARGET_KIND_COUNT; kind++) {
        struct target_spec t = spec((enum target_kind)kind);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(build(&t, bad[i], "ok", NULL, NULL, &url), -1);
            assert_int_equal(build(&t, "ok", bad[i], NULL, NULL, &url), -1);
            assert_int_equal(url.len, 0);
        }
    }
    buf_release(&url);
}

static void test_full_url_buffer_fails(void **state)
{
    struct target_spec t = spec(TARGET_GITHUB_ISSUE);
    struct buf url;
    buf_init(&url, 16);
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
    buf_release(&url);
    buf_init(&url, 0);
    url.failed = 1; /* already failed before the call */
    assert_int_equal(target_build_action(&t, &(struct target_message){"T", "B"}, NULL, NULL, &url),
                     -1);
    buf_release(&url);
}

static void test_unknown_kind_and_null_fields(void **state)
{
    struct target_spec t = spec((enum target_kind)99);
    struct buf url = BUF_INIT;
    assert_int_equal(build(&t, "T", "B", NULL, NULL, &url), -1);
    /* NULL title and body are empty */
    t = spec(TARGET_GITHUB_ISSUE);
    assert_int_equal(build(&t, NULL, NULL, NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://github.com/example/core/issues/new?title=&body=");
    t = spec(TARGET_X);
    assert_int_equal(build(&t, NULL, NULL, NULL, NULL, &url), TARGET_REDIRECT);
    assert_string_equal(buf_cstr(&url), "https://x.com/intent/post?text=");
    buf_release(&url);
}

/* The check reads 8 bytes at a time: every byte value at every place of
 * strings of 1 to 20 bytes (whole words, a tail, both) must give what the
 * byte-by-byte rule gives: only 0x21..0x7e pass. */
static void test_url_bytes_safe_every_byte_at_every_place(void **state)
{
    char s[20];
    for (size_t len = 1; len <= sizeof s; len++)
        for (size_t at = 0; at < len; at++)
            for (int c = 0; c < 256; c++) {
                memset(s, 'a', sizeof s);
                s[at] = (char)c;
                int want = c >= 0x21 && c <= 0x7e;
                if (target_url_bytes_safe(s, len) != want)
                    fail_msg("len %zu, byte 0x%02x at %zu", len, c, at);
            }
    assert_int_equal(target_url_bytes_safe("", 0), 0);
    /* a byte outside next to one that borrows or carries */
    assert_int_equal(target_url_bytes_safe("aaaaaa\x20\x21", 8), 0);
    assert_int_equal(target_url_bytes_safe("aaaaaa\x7e\x7f", 8), 0);
    assert_int_equal(target_url_bytes_safe("aaaaaa\xff\x21", 8), 0);
    assert_int_equal(target_url_bytes_safe("\x21\x7e\x21\x7e\x21\x7e\x21\x7e\x21", 9), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_bytes_safe_every_byte_at_every_place),
        cmocka_unit_test(test_hostile_text_round_trips_for_every_kind),
        cmocka_unit_test(test_web_placeholders_encoded_in_path_and_query),
        cmocka_unit_test(test_web_without_placeholders_is_copied),
        cmocka_unit_test(test_web_bad_template_fails),
        cmocka_unit_test(test_mailto_line_breaks_are_crlf),
        cmocka_unit_test(test_mailto_addresses_cc_bcc),
        cmocka_unit_test(test_mailto_address_cannot_add_headers),
        cmocka_unit_test(test_github_labels_and_template),
        cmocka_unit_test(test_github_bad_repo_fails),
        cmocka_unit_test(test_gitlab_brackets_literal_and_trailing_slash),
        cmocka_unit_test(test_gitlab_bad_project_url_fails),
        cmocka_unit_test(test_ten_kb_statement_is_too_long_for_every_kind),
        cmocka_unit_test(test_text_limits_boundary),
        cmocka_unit_test(test_url_limits_boundary),
        cmocka_unit_test(test_kind_limits_documented),
        cmocka_unit_test(test_every_kind_has_its_row),
        cmocka_unit_test(test_open_labels),
        cmocka_unit_test(test_mastodon_needs_instance),
        cmocka_unit_test(test_mastodon_supporter_instance),
        cmocka_unit_test(test_mastodon_target_instance_wins),
        cmocka_unit_test(test_instance_valid_accepts_host_names),
        cmocka_unit_test(test_instance_accepts_only_public_host_names),
        cmocka_unit_test(test_instance_longer_than_253_is_refused_with_the_reason),
        cmocka_unit_test(test_stored_bad_instance_is_never_a_redirect),
        cmocka_unit_test(test_call_is_tel_link),
        cmocka_unit_test(test_call_script_rendered_as_plain_text),
        cmocka_unit_test(test_invalid_utf8_message_fails),
        cmocka_unit_test(test_full_url_buffer_fails),
        cmocka_unit_test(test_unknown_kind_and_null_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
