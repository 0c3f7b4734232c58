/*
 * campaign: reads a campaign file (docs/CAMPAIGN.md, "Campaign file") into a
 * struct campaign. It owns the rules of the format: required fields, defaults,
 * limits, the fields of each target kind, and the wording of every error. It
 * validates the whole document and lists every error it finds, each on one
 * line with its JSON path, so an organizer fixes a file in one round; it
 * returns a campaign only when there are none. It never touches the store and
 * never writes to stdout: the caller decides where errors go.
 */
#include "campaign/campaign.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/template.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/tz.h"
#include "core/banned.h"

#define DEFAULT_WINDOW_MINUTES 120
#define DEFAULT_STATEMENT_MAX_CHARS 1000
/* The default statement prompt and closed message are muster's words, so
 * they are written in the campaign's language (set in parse_document). */

/* Limits, in characters (code points) unless said otherwise. */
#define MAX_TITLE 200
#define MAX_DESCRIPTION 20000
#define MAX_MESSAGE_TITLE 500
#define MAX_MESSAGE_BODY 20000
#define MAX_CLOSED_MESSAGE 2000
#define MAX_PROMPT 500
#define MAX_NAME 200
#define MAX_LABEL 200
#define MAX_ADDRESS 254
#define MAX_SCRIPT 20000
#define MAX_URL 2000
#define MAX_ISSUE_LABEL 50
#define MAX_ISSUE_LABELS 20
#define MAX_ADDRESSES 50

#define MAX_CAP 1000000000LL
/* A file with more errors than this is not worth reading further. */
#define MAX_ERROR_LINES 1000

/* Validation state: where we are in the document and what went wrong. */
struct ctx {
    const char *file;
    struct buf *errors;
    size_t nerr;
    int oom;
    struct buf path; /* "$.targets[1].repo" */
};

/* ---- error reporting -------------------------------------------------- */

/* Appends [s, s+len) as one printable line: control characters and bytes of
 * invalid UTF-8 become '?'. Error lines must stay one per line. */
static void put_printable(struct buf *out, const char *s, size_t len)
{
    int valid = utf8_valid(s, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !valid))
            ch = '?';
        buf_putc(out, (char)ch);
    }
}

static void add_error_line(struct ctx *c, const struct buf *line)
{
    c->nerr++;
    if (c->nerr > MAX_ERROR_LINES + 1)
        return;
    if (c->nerr == MAX_ERROR_LINES + 1) {
        buf_printf(c->errors, "%s: too many errors, stopped listing after %d\n", c->file,
                   MAX_ERROR_LINES);
        return;
    }
    put_printable(c->errors, line->data ? line->data : "", line->len);
    buf_putc(c->errors, '\n');
}

/* "FILE: $.path: message" */
static void __attribute__((format(printf, 2, 3))) fail(struct ctx *c, const char *fmt, ...)
{
    struct buf line;
    buf_init(&line, 64 * 1024);
    buf_printf(&line, "%s: %s: ", c->file, buf_cstr(&c->path));
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&line, fmt, ap);
    va_end(ap);
    add_error_line(c, &line);
    buf_release(&line);
}

/* Appends s as a JSON string literal for a message, cut after max code points. */
static void put_quoted(struct buf *out, const char *s, size_t max)
{
    buf_putc(out, '"');
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch & 0xc0) != 0x80 && n++ == max) {
            buf_puts(out, "...");
            break;
        }
        if (ch == '"' || ch == '\\')
            buf_printf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            buf_printf(out, "\\u%04x", ch);
        else
            buf_putc(out, (char)ch);
    }
    buf_putc(out, '"');
}

/* A short quoted copy of s for messages, in a caller's buffer of QUOTE_SIZE
 * bytes: room for 60 escaped characters, so a cut never splits one. */
#define QUOTE_SIZE 512
static const char *quoted(char *out, size_t n, const char *s)
{
    struct buf b;
    buf_init(&b, 1024);
    put_quoted(&b, s, 60);
    snprintf(out, n, "%s", buf_cstr(&b));
    buf_release(&b);
    return out;
}

/* ---- the JSON path ---------------------------------------------------- */

static int is_ident_key(const char *key)
{
    if (!*key)
        return 0;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static size_t path_push_key(struct ctx *c, const char *key)
{
    size_t saved = c->path.len;
    if (is_ident_key(key)) {
        buf_printf(&c->path, ".%s", key);
    } else {
        buf_putc(&c->path, '[');
        put_quoted(&c->path, key, 40);
        buf_putc(&c->path, ']');
    }
    return saved;
}

static size_t path_push_index(struct ctx *c, size_t i)
{
    size_t saved = c->path.len;
    buf_printf(&c->path, "[%zu]", i);
    return saved;
}

static void path_pop(struct ctx *c, size_t saved)
{
    if (c->path.failed)
        return; /* stays truncated; errors still name the file */
    c->path.len = saved;
    if (c->path.data)
        c->path.data[saved] = '\0';
}

/* ---- typed fields ----------------------------------------------------- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static char *dup_or_oom(struct ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d)
        c->oom = 1;
    return d;
}

/* Reports every key of obj that is in neither list (NULL-terminated). */
static void check_fields(struct ctx *c, json_t *obj, const char *const *allowed,
                         const char *const *more, const char *kind)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        for (const char *const *a = more; a && *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (ok)
            continue;
        struct buf known;
        buf_init(&known, 4096);
        for (const char *const *a = allowed; *a; a++)
            buf_printf(&known, "%s%s", a == allowed ? "" : ", ", *a);
        for (const char *const *a = more; a && *a; a++)
            buf_printf(&known, ", %s", *a);
        size_t saved = path_push_key(c, key);
        if (kind)
            fail(c, "unknown field for kind %s; expected one of: %s", kind, buf_cstr(&known));
        else
            fail(c, "unknown field; expected one of: %s", buf_cstr(&known));
        path_pop(c, saved);
        buf_release(&known);
    }
}

enum { STR_REQUIRED = 1, STR_NONEMPTY = 2, STR_ONE_LINE = 4 };

/* Checks the string value v at the current path. Returns 0 when valid. */
static int check_string(struct ctx *c, const json_t *v, size_t max_chars, int flags)
{
    if (!json_is_string(v)) {
        fail(c, "expected a string, got %s", type_name(v));
        return -1;
    }
    /* jansson guarantees valid UTF-8 and, without JSON_ALLOW_NUL, no NUL. */
    const char *s = json_string_value(v);
    if ((flags & STR_NONEMPTY) && s[0] == '\0') {
        fail(c, "must not be empty");
        return -1;
    }
    size_t n = utf8_length(s);
    if (n > max_chars) {
        fail(c, "too long: %zu characters, at most %zu", n, max_chars);
        return -1;
    }
    if ((flags & STR_ONE_LINE) && strpbrk(s, "\r\n")) {
        fail(c, "must be a single line (no line breaks)");
        return -1;
    }
    long control = utf8_find_control(s, 1);
    if (control >= 0) {
        fail(c, "must not contain control characters (one at character %ld)", control + 1);
        return -1;
    }
    return 0;
}

/*
 * Reads obj.key as a string into *dst (replacing, and freeing, what was there).
 * Returns 1 when set, 0 when absent, -1 on an error (reported).
 */
static int field_string(struct ctx *c, json_t *obj, const char *key, size_t max_chars, int flags,
                        char **dst)
{
    json_t *v = json_object_get(obj, key);
    size_t saved = path_push_key(c, key);
    int rc = 0;
    if (!v) {
        if (flags & STR_REQUIRED) {
            fail(c, "missing required field");
            rc = -1;
        }
    } else if (check_string(c, v, max_chars, flags) != 0) {
        rc = -1;
    } else {
        char *d = dup_or_oom(c, json_string_value(v));
        if (d) {
            free(*dst);
            *dst = d;
        }
        rc = d ? 1 : -1;
    }
    path_pop(c, saved);
    return rc;
}

/* Reads obj.key as an integer in [min, max]. Returns 1 set, 0 absent, -1 error. */
static int field_int(struct ctx *c, json_t *obj, const char *key, long long min, long long max,
                     long long *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t saved = path_push_key(c, key);
    int rc = -1;
    if (!json_is_integer(v)) {
        fail(c, "expected an integer, got %s", type_name(v));
    } else if (json_integer_value(v) < min || json_integer_value(v) > max) {
        fail(c, "must be between %lld and %lld, got %lld", min, max,
             (long long)json_integer_value(v));
    } else {
        *dst = (long long)json_integer_value(v);
        rc = 1;
    }
    path_pop(c, saved);
    return rc;
}

static int field_bool(struct ctx *c, json_t *obj, const char *key, int *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        size_t saved = path_push_key(c, key);
        fail(c, "expected true or false, got %s", type_name(v));
        path_pop(c, saved);
        return -1;
    }
    *dst = json_is_true(v);
    return 1;
}

/* Returns obj.key when it is an object; reports it when required and absent
 * or of the wrong type. */
static json_t *field_object(struct ctx *c, json_t *obj, const char *key, int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required)
        return NULL;
    size_t saved = path_push_key(c, key);
    if (!v)
        fail(c, "missing required field");
    else if (!json_is_object(v))
        fail(c, "expected an object, got %s", type_name(v));
    path_pop(c, saved);
    return json_is_object(v) ? v : NULL;
}

/* Validates src as a template at the current path: "FILE: $.path:LINE:COLUMN: message". */
static int check_template(struct ctx *c, const char *src)
{
    struct template_error err;
    struct template *t = template_parse(src, &err);
    if (t) {
        template_free(t);
        return 0;
    }
    struct buf line;
    buf_init(&line, 64 * 1024);
    buf_printf(&line, "%s: %s:%d:%d: %s", c->file, buf_cstr(&c->path), err.line, err.column,
               err.message);
    add_error_line(c, &line);
    buf_release(&line);
    return -1;
}

/* ---- value syntax ----------------------------------------------------- */

static int is_lower_digit(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static int is_alnum(char ch)
{
    return is_lower_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

int campaign_slug_valid(const char *slug)
{
    if (!slug)
        return 0;
    size_t n = strlen(slug);
    if (n < 1 || n > 64 || slug[0] == '-' || slug[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(slug[i]) && slug[i] != '-')
            return 0;
    return 1;
}

static int target_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_digit(id[i]) && id[i] != '-' && id[i] != '_')
            return 0;
    return 1;
}

/* Loose on purpose: one address, something@something, nothing that could
 * break a header or a mailto: URL. The relay decides the rest. */
static int address_valid(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch == 0x7f || strchr("<>,;\"", ch))
            return 0;
    }
    return 1;
}

static int github_name_part_valid(const char *s, size_t n, size_t max)
{
    if (n < 1 || n > max)
        return 0;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static int repo_valid(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return 0;
    return github_name_part_valid(s, (size_t)(slash - s), 39) &&
           github_name_part_valid(slash + 1, strlen(slash + 1), 100);
}

static int filename_valid(const char *s)
{
    return github_name_part_valid(s, strlen(s), 255);
}

static int e164_valid(const char *s)
{
    if (s[0] != '+' || s[1] < '1' || s[1] > '9') /* no country code starts with 0 */
        return 0;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return 0;
    return n >= 8 && n <= 15;
}

/* A DNS host name with at least one dot: labels of letters, digits and '-'. */
static int host_name_valid(const char *s, size_t n)
{
    if (n < 3 || n > 253)
        return 0;
    size_t label = 0;
    int dots = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = i < n ? s[i] : '.';
        if (ch == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return 0;
            if (i < n)
                dots++;
            label = 0;
        } else if (is_alnum(ch) || ch == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return dots > 0;
}

/* Length of "https://" or "http://" at the start of s, or 0. */
static size_t http_scheme_len(const char *s)
{
    if (strncmp(s, "https://", 8) == 0)
        return 8;
    if (strncmp(s, "http://", 7) == 0)
        return 7;
    return 0;
}

/* The authority [s, s+n) of an http(s) URL: a host name, "localhost" or an
 * IPv4 address, with an optional ":port". */
static int authority_valid(const char *s, size_t n)
{
    size_t host = n;
    const char *colon = memchr(s, ':', n);
    if (colon) {
        host = (size_t)(colon - s);
        size_t digits = n - host - 1;
        if (digits < 1 || digits > 5)
            return 0;
        for (size_t i = host + 1; i < n; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
    }
    if (host == 9 && strncmp(s, "localhost", 9) == 0)
        return 1;
    return host_name_valid(s, host);
}

/* ---- targets ------------------------------------------------------------ */

static const char *const common_target_fields[] = {"id", "kind", "label", "cap", NULL};
static const char *const github_fields[] = {"repo", "labels", "template", NULL};
static const char *const gitlab_fields[] = {"project_url", NULL};
static const char *const email_fields[] = {"to", "cc", "bcc", NULL};
static const char *const call_fields[] = {"number", "script", NULL};
static const char *const mastodon_fields[] = {"instance", NULL};
static const char *const web_fields[] = {"url", NULL};
static const char *const no_fields[] = {NULL};

const char *assignment_mode_name(enum assignment_mode mode)
{
    switch (mode) {
    case ASSIGN_BALANCED:
        return "balanced";
    case ASSIGN_CHOOSE:
        return "choose";
    case ASSIGN_ALL:
        return "all";
    }
    return "unknown";
}

/* Returns the message for an invalid item, or NULL when s is valid. */
typedef const char *(*item_check_fn)(const char *s);

static const char *issue_label_problem(const char *s)
{
    if (!*s)
        return "must not be empty";
    if (strchr(s, ','))
        return "must not contain a comma (GitHub separates labels with commas)";
    if (strpbrk(s, "\r\n"))
        return "must be a single line (no line breaks)";
    if (utf8_length(s) > MAX_ISSUE_LABEL)
        return "too long: at most 50 characters";
    return NULL;
}

static const char *address_problem(const char *s)
{
    if (strlen(s) > MAX_ADDRESS)
        return "too long: at most 254 characters";
    if (!address_valid(s))
        return "not an email address (expected one address like \"name@example.org\", "
               "without a display name)";
    return NULL;
}

/*
 * Reads obj.key as an array of strings, each checked by check, into *dst.
 * min_items applies when the field is present (a required field is also
 * reported when absent). Returns 1 set, 0 absent, -1 error.
 */
static int field_string_list(struct ctx *c, json_t *obj, const char *key, int required,
                             size_t min_items, size_t max_items, item_check_fn check,
                             struct string_list *dst)
{
    json_t *v = json_object_get(obj, key);
    size_t saved = path_push_key(c, key);
    int rc = -1;
    if (!v) {
        rc = 0;
        if (required) {
            fail(c, "missing required field");
            rc = -1;
        }
        goto out;
    }
    if (!json_is_array(v)) {
        fail(c, "expected an array of strings, got %s", type_name(v));
        goto out;
    }
    size_t n = json_array_size(v);
    if (n < min_items) {
        fail(c, "needs at least %zu entr%s", min_items, min_items == 1 ? "y" : "ies");
        goto out;
    }
    if (n > max_items) {
        fail(c, "too many entries: %zu, at most %zu", n, max_items);
        goto out;
    }
    char **items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        c->oom = 1;
        goto out;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        size_t at = path_push_index(c, i);
        if (!json_is_string(item)) {
            fail(c, "expected a string, got %s", type_name(item));
            bad = 1;
        } else {
            const char *problem = check ? check(json_string_value(item)) : NULL;
            if (problem) {
                fail(c, "%s", problem);
                bad = 1;
            } else if (!(items[i] = dup_or_oom(c, json_string_value(item)))) {
                bad = 1;
            }
        }
        path_pop(c, at);
    }
    /* Hand the list over even when some items failed: campaign_free frees it. */
    for (size_t i = 0; i < dst->count; i++)
        free(dst->items[i]);
    free(dst->items);
    dst->items = items;
    dst->count = n;
    rc = bad ? -1 : 1;
out:
    path_pop(c, saved);
    return rc;
}

static void parse_github(struct ctx *c, json_t *obj, struct target_spec *t)
{
    if (field_string(c, obj, "repo", 200, STR_REQUIRED, &t->repo) == 1 && !repo_valid(t->repo)) {
        size_t saved = path_push_key(c, "repo");
        fail(c, "expected \"owner/name\" of a GitHub repository (letters, digits, '.', '_', '-'; "
                "owner up to 39 characters, name up to 100)");
        path_pop(c, saved);
    }
    (void)field_string_list(c, obj, "labels", 0, 0, MAX_ISSUE_LABELS, issue_label_problem,
                            &t->labels);
    if (field_string(c, obj, "template", 255, 0, &t->issue_template) == 1 &&
        !filename_valid(t->issue_template)) {
        size_t saved = path_push_key(c, "template");
        fail(c, "expected the file name of an issue template in .github/ISSUE_TEMPLATE "
                "(letters, digits, '.', '_', '-')");
        path_pop(c, saved);
    }
}

static void parse_gitlab(struct ctx *c, json_t *obj, struct target_spec *t)
{
    if (field_string(c, obj, "project_url", MAX_URL, STR_REQUIRED, &t->project_url) != 1)
        return;
    size_t saved = path_push_key(c, "project_url");
    char *u = t->project_url;
    size_t scheme = http_scheme_len(u);
    size_t n = strlen(u);
    while (n > scheme && u[n - 1] == '/')
        u[--n] = '\0'; /* "https://gitlab.com/group/project/" names the same project */
    const char *host = u + scheme;
    const char *slash = strchr(host, '/');
    if (!scheme) {
        fail(c, "expected an https:// (or http://) URL of a GitLab project");
    } else if (strpbrk(u, " \t\r\n\f\v") || strpbrk(u, "?#")) {
        fail(c, "must be the project's address without spaces, query (?) or fragment (#), "
                "e.g. \"https://gitlab.com/group/project\"");
    } else if (!authority_valid(host, slash ? (size_t)(slash - host) : strlen(host))) {
        fail(c, "expected a host name after %s", scheme == 8 ? "https://" : "http://");
    } else if (!slash || !slash[1]) {
        fail(c, "needs the project's path, e.g. \"https://gitlab.com/group/project\"");
    } else {
        for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                fail(c, "must not contain control characters");
                break;
            }
        }
    }
    path_pop(c, saved);
}

static void parse_email(struct ctx *c, json_t *obj, struct target_spec *t)
{
    (void)field_string_list(c, obj, "to", 1, 1, MAX_ADDRESSES, address_problem, &t->to);
    (void)field_string_list(c, obj, "cc", 0, 0, MAX_ADDRESSES, address_problem, &t->cc);
    (void)field_string_list(c, obj, "bcc", 0, 0, MAX_ADDRESSES, address_problem, &t->bcc);
}

static void parse_call(struct ctx *c, json_t *obj, struct target_spec *t)
{
    if (field_string(c, obj, "number", 32, STR_REQUIRED, &t->number) == 1 &&
        !e164_valid(t->number)) {
        size_t saved = path_push_key(c, "number");
        fail(c, "expected an E.164 number: '+' and 8 to 15 digits, the first not 0, no "
                "spaces (e.g. \"+4930123456\")");
        path_pop(c, saved);
    }
    if (field_string(c, obj, "script", MAX_SCRIPT, STR_REQUIRED | STR_NONEMPTY, &t->script) == 1) {
        size_t saved = path_push_key(c, "script");
        (void)check_template(c, t->script);
        path_pop(c, saved);
    }
}

static void parse_mastodon(struct ctx *c, json_t *obj, struct target_spec *t)
{
    if (field_string(c, obj, "instance", 253 + 16, 0, &t->instance) != 1)
        return;
    size_t saved = path_push_key(c, "instance");
    if (strstr(t->instance, "://"))
        fail(c, "expected a host name like \"mastodon.social\", not a URL: leave out the "
                "scheme (https://) and any path");
    else if (!host_name_valid(t->instance, strlen(t->instance)))
        fail(c, "expected a host name like \"mastodon.social\" (letters, digits, '-' and '.')");
    path_pop(c, saved);
}

/* Checks a web target's URL: http(s), a literal host, no spaces outside
 * placeholders, and a valid template. */
static void parse_web(struct ctx *c, json_t *obj, struct target_spec *t)
{
    if (field_string(c, obj, "url", MAX_URL, STR_REQUIRED, &t->url) != 1)
        return;
    size_t saved = path_push_key(c, "url");
    const char *u = t->url;
    size_t scheme = http_scheme_len(u);
    const char *host = u + scheme;
    size_t host_len = strcspn(host, "/?#");
    if (!scheme) {
        const char *tag = strstr(u, "{{"), *sep = strstr(u, "://");
        if (tag && sep && tag < sep)
            fail(c, "placeholders are not allowed in the scheme or host of the URL");
        else
            fail(c, "expected an https:// (or http://) URL");
    } else if (memchr(host, '{', host_len) || memchr(host, '}', host_len)) {
        fail(c, "placeholders are not allowed in the scheme or host of the URL");
    } else if (!authority_valid(host, host_len)) {
        fail(c, "expected a host name after %s", scheme == 8 ? "https://" : "http://");
    } else if (check_template(c, u) == 0) {
        /* Outside placeholders the URL is literal: no spaces or control characters. */
        for (const char *p = u; *p; p++) {
            if (p[0] == '{' && p[1] == '{') {
                const char *end = strstr(p + 2, "}}");
                p = end ? end + 1 : p + strlen(p) - 1;
                continue;
            }
            unsigned char ch = (unsigned char)*p;
            if (ch <= 0x20 || ch == 0x7f) {
                fail(c, "must not contain spaces or control characters outside {{placeholders}}");
                break;
            }
        }
    }
    path_pop(c, saved);
}

/*
 * A kind as written in the campaign file: its own fields (besides id, kind,
 * label and cap; any other is an error), the function that parses and checks
 * them into the target_spec (NULL: the kind has none), and one example target
 * for the dashboard's form. One row per kind of campaign/target_kinds.h: the
 * assertion below fails to compile when the list grows without this table,
 * and test_campaign parses every row's example.
 */
struct kind_syntax {
    const char *const *fields;
    void (*parse)(struct ctx *c, json_t *obj, struct target_spec *t);
    const char *example;
};

static const struct kind_syntax kind_syntax[] = {
    [TARGET_GITHUB_ISSUE] = {github_fields, parse_github,
                             "{\"id\": \"core\", \"kind\": \"github_issue\", \"repo\": "
                             "\"owner/name\", \"labels\": [\"docs\"]}"},
    [TARGET_GITLAB_ISSUE] = {gitlab_fields, parse_gitlab,
                             "{\"id\": \"mirror\", \"kind\": \"gitlab_issue\", \"project_url\": "
                             "\"https://gitlab.example.org/group/project\"}"},
    [TARGET_EMAIL] = {email_fields, parse_email,
                      "{\"id\": \"office\", \"kind\": \"email\", \"to\": "
                      "[\"maintainers@example.org\"]}"},
    [TARGET_CALL] = {call_fields, parse_call,
                     "{\"id\": \"phone\", \"kind\": \"call\", \"number\": \"+4930123456\", "
                     "\"script\": \"Hello, my name is {{name}}...\"}"},
    [TARGET_MASTODON] = {mastodon_fields, parse_mastodon,
                         "{\"id\": \"toot\", \"kind\": \"mastodon\", \"instance\": "
                         "\"mastodon.social\"}"},
    [TARGET_BLUESKY] = {no_fields, NULL, "{\"id\": \"sky\", \"kind\": \"bluesky\"}"},
    [TARGET_X] = {no_fields, NULL, "{\"id\": \"post\", \"kind\": \"x\"}"},
    [TARGET_WEB] = {web_fields, parse_web,
                    "{\"id\": \"form\", \"kind\": \"web\", \"url\": "
                    "\"https://example.org/contact?text={{statement}}\"}"},
};
_Static_assert(sizeof kind_syntax / sizeof kind_syntax[0] == TARGET_KIND_COUNT,
               "kind_syntax needs a row for every kind of campaign/target_kinds.h");

const char *target_kind_example(enum target_kind kind)
{
    if ((size_t)kind < TARGET_KIND_COUNT)
        return kind_syntax[kind].example;
    return NULL;
}

static void parse_target(struct ctx *c, json_t *obj, struct target_spec *t,
                         const struct target_spec *earlier, size_t index)
{
    if (!json_is_object(obj)) {
        fail(c, "expected an object, got %s", type_name(obj));
        return;
    }
    if (field_string(c, obj, "id", 64, STR_REQUIRED, &t->id) == 1) {
        size_t saved = path_push_key(c, "id");
        if (!target_id_valid(t->id)) {
            fail(c, "must be 1 to 64 characters of a-z, 0-9, '_' and '-'");
        } else {
            for (size_t i = 0; i < index; i++) {
                if (earlier[i].id && strcmp(earlier[i].id, t->id) == 0) {
                    char q[QUOTE_SIZE];
                    fail(c, "duplicate target id %s (also used by $.targets[%zu])",
                         quoted(q, sizeof q, t->id), i);
                    break;
                }
            }
        }
        path_pop(c, saved);
    }
    char *kind = NULL;
    int known = 0;
    if (field_string(c, obj, "kind", 64, STR_REQUIRED, &kind) == 1) {
        known = target_kind_from_name(kind, &t->kind) == 0;
        if (!known) {
            char q[QUOTE_SIZE];
            size_t saved = path_push_key(c, "kind");
            fail(c, "unknown kind %s; expected one of: %s", quoted(q, sizeof q, kind),
                 target_kind_names_joined());
            path_pop(c, saved);
        }
    }
    free(kind);
    (void)field_string(c, obj, "label", MAX_LABEL, STR_NONEMPTY | STR_ONE_LINE, &t->label);
    long long cap = -1;
    if (field_int(c, obj, "cap", 1, MAX_CAP, &cap) == 1)
        t->cap = (long)cap;
    /* Without a known kind the other fields cannot be judged: the kind error says it all. */
    if (!known)
        return;
    const struct kind_syntax *syntax = &kind_syntax[t->kind];
    check_fields(c, obj, common_target_fields, syntax->fields, target_kind_name(t->kind));
    if (syntax->parse)
        syntax->parse(c, obj, t);
}

static void parse_targets(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *v = json_object_get(root, "targets");
    size_t saved = path_push_key(c, "targets");
    if (!v) {
        fail(c, "missing required field (at least one target)");
    } else if (!json_is_array(v)) {
        fail(c, "expected an array of targets, got %s", type_name(v));
    } else if (json_array_size(v) == 0) {
        fail(c, "at least one target is required");
    } else if (json_array_size(v) > CAMPAIGN_MAX_TARGETS) {
        fail(c, "too many targets: %zu, at most %d", json_array_size(v), CAMPAIGN_MAX_TARGETS);
    } else {
        size_t n = json_array_size(v);
        cp->targets = calloc(n, sizeof *cp->targets);
        if (!cp->targets) {
            c->oom = 1;
        } else {
            cp->target_count = n;
            for (size_t i = 0; i < n; i++) {
                cp->targets[i].cap = -1;
                size_t at = path_push_index(c, i);
                parse_target(c, json_array_get(v, i), &cp->targets[i], cp->targets, i);
                path_pop(c, at);
            }
        }
    }
    path_pop(c, saved);
}

static void parse_fallback(struct ctx *c, json_t *root, struct campaign *cp)
{
    if (json_object_get(root, "fallback")) {
        if (field_string_list(c, root, "fallback", 0, 0, CAMPAIGN_MAX_TARGETS, NULL,
                              &cp->fallback) != 1)
            return;
        size_t saved = path_push_key(c, "fallback");
        for (size_t i = 0; i < cp->fallback.count; i++) {
            const char *id = cp->fallback.items[i];
            size_t at = path_push_index(c, i);
            char q[QUOTE_SIZE];
            if (!campaign_target(cp, id)) {
                fail(c, "unknown target id %s; fallback lists ids from $.targets",
                     quoted(q, sizeof q, id));
            } else {
                for (size_t j = 0; j < i; j++) {
                    if (strcmp(cp->fallback.items[j], id) == 0) {
                        fail(c, "duplicate target id %s (also at $.fallback[%zu])",
                             quoted(q, sizeof q, id), j);
                        break;
                    }
                }
            }
            path_pop(c, at);
        }
        path_pop(c, saved);
        return;
    }
    /* Default: every target, in file order. */
    if (cp->target_count == 0)
        return;
    cp->fallback.items = calloc(cp->target_count, sizeof *cp->fallback.items);
    if (!cp->fallback.items) {
        c->oom = 1;
        return;
    }
    cp->fallback.count = cp->target_count;
    for (size_t i = 0; i < cp->target_count; i++)
        if (cp->targets[i].id)
            cp->fallback.items[i] = dup_or_oom(c, cp->targets[i].id);
}

/* ---- the document ------------------------------------------------------- */

static const char *const top_fields[] = {"slug",
                                         "title",
                                         "description",
                                         "organizer",
                                         "launch",
                                         "message",
                                         "statement",
                                         "assignment",
                                         "targets",
                                         "fallback",
                                         "close_after_reports",
                                         "closed_message",
                                         "webhook",
                                         "embed",
                                         "language",
                                         "mails",
                                         "reminders",
                                         "follow_up_after_minutes",
                                         NULL};
static const char *const embed_fields[] = {"after", NULL};
static const char *const organizer_fields[] = {"name", "email", NULL};
static const char *const launch_fields[] = {"at", "timezone", "window_minutes", NULL};
static const char *const message_fields[] = {"title", "body", NULL};
static const char *const statement_fields[] = {"enabled", "max_chars", "prompt", NULL};

/* "language": a BCP 47 tag, kept in its usual case ("es-MX"). */
static void parse_language(struct ctx *c, json_t *root, struct campaign *cp)
{
    char *tag = NULL;
    if (field_string(c, root, "language", 32, STR_NONEMPTY | STR_ONE_LINE, &tag) != 1)
        return;
    char canonical[I18N_TAG_MAX + 1];
    if (i18n_tag_canonical(tag, canonical) != 0) {
        char q[QUOTE_SIZE];
        size_t at = path_push_key(c, "language");
        fail(c,
             "%s is not a language tag; expected a language of 2 or 3 letters, optionally "
             "with a script and a region, like \"en\", \"ar\", \"es-MX\" or \"sr-Latn\"",
             quoted(q, sizeof q, tag));
        path_pop(c, at);
        free(tag);
        return;
    }
    free(tag);
    cp->language = dup_or_oom(c, canonical);
}

static void parse_organizer(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *org = field_object(c, root, "organizer", 0);
    if (!org)
        return;
    size_t saved = path_push_key(c, "organizer");
    check_fields(c, org, organizer_fields, NULL, NULL);
    (void)field_string(c, org, "name", MAX_NAME, STR_ONE_LINE, &cp->organizer_name);
    if (field_string(c, org, "email", MAX_ADDRESS, 0, &cp->organizer_email) == 1 &&
        !address_valid(cp->organizer_email)) {
        size_t at = path_push_key(c, "email");
        fail(c, "%s", address_problem(cp->organizer_email));
        path_pop(c, at);
    }
    path_pop(c, saved);
}

static void parse_launch(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *launch = field_object(c, root, "launch", 1);
    if (!launch)
        return;
    size_t saved = path_push_key(c, "launch");
    check_fields(c, launch, launch_fields, NULL, NULL);
    int have_at = field_string(c, launch, "at", 32, STR_REQUIRED, &cp->launch_at) == 1;
    int have_tz = field_string(c, launch, "timezone", 64, STR_REQUIRED, &cp->timezone) == 1;
    if (have_tz && !tz_valid(cp->timezone)) {
        char q[QUOTE_SIZE];
        size_t at = path_push_key(c, "timezone");
        fail(c, "unknown time zone %s; expected an IANA name like \"Europe/Berlin\"",
             quoted(q, sizeof q, cp->timezone));
        path_pop(c, at);
        have_tz = 0;
    }
    if (have_at) {
        int64_t t, later;
        enum tz_local_kind kind;
        /* Without a valid zone, still check the wall time itself (in UTC). */
        if (tz_local_resolve(cp->launch_at, have_tz ? cp->timezone : "UTC", &t, &later, &kind) !=
            0) {
            size_t at = path_push_key(c, "at");
            fail(c, "expected a local date and time \"YYYY-MM-DDTHH:MM[:SS]\" without an "
                    "offset (the zone is launch.timezone), e.g. \"2026-12-05T10:00:00\"");
            path_pop(c, at);
        } else if (have_tz && kind == TZ_LOCAL_NEVER) {
            /* A moment the clocks never show: refused, not guessed. */
            char from[32], to[32];
            time_t f = (time_t)t, e = (time_t)later;
            struct tm tf, te;
            gmtime_r(&f, &tf);
            gmtime_r(&e, &te);
            strftime(from, sizeof from, "%H:%M", &tf);
            strftime(to, sizeof to, "%H:%M", &te);
            char q[QUOTE_SIZE], z[QUOTE_SIZE];
            size_t at = path_push_key(c, "at");
            fail(c,
                 "%s does not exist in %s: on that day the clocks jump from %s to %s "
                 "(daylight-saving time); choose a time outside the gap",
                 quoted(q, sizeof q, cp->launch_at), quoted(z, sizeof z, cp->timezone), from, to);
            path_pop(c, at);
        } else if (have_tz) {
            cp->launch_utc = t;
            cp->launch_utc_later = later;
        }
    }
    long long window = DEFAULT_WINDOW_MINUTES;
    (void)field_int(c, launch, "window_minutes", 1, 10080, &window);
    cp->window_minutes = (int)window;
    path_pop(c, saved);
}

static void parse_message(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *msg = field_object(c, root, "message", 1);
    if (!msg)
        return;
    size_t saved = path_push_key(c, "message");
    check_fields(c, msg, message_fields, NULL, NULL);
    int title = field_string(c, msg, "title", MAX_MESSAGE_TITLE, STR_ONE_LINE, &cp->message_title);
    if (title == 1) {
        size_t at = path_push_key(c, "title");
        (void)check_template(c, cp->message_title);
        path_pop(c, at);
    }
    int body = field_string(c, msg, "body", MAX_MESSAGE_BODY, 0, &cp->message_body);
    if (body == 1) {
        size_t at = path_push_key(c, "body");
        (void)check_template(c, cp->message_body);
        path_pop(c, at);
    }
    if (title >= 0 && body >= 0 && !(cp->message_title && cp->message_title[0]) &&
        !(cp->message_body && cp->message_body[0]))
        fail(c, "needs a non-empty title or body (or both)");
    path_pop(c, saved);
}

static void parse_statement(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *st = field_object(c, root, "statement", 0);
    if (!st)
        return;
    size_t saved = path_push_key(c, "statement");
    check_fields(c, st, statement_fields, NULL, NULL);
    (void)field_bool(c, st, "enabled", &cp->statement_enabled);
    long long max = DEFAULT_STATEMENT_MAX_CHARS;
    (void)field_int(c, st, "max_chars", 1, 10000, &max);
    cp->statement_max_chars = (int)max;
    (void)field_string(c, st, "prompt", MAX_PROMPT, STR_NONEMPTY | STR_ONE_LINE,
                       &cp->statement_prompt);
    path_pop(c, saved);
}

static void parse_assignment(struct ctx *c, json_t *root, struct campaign *cp)
{
    char *mode = NULL;
    if (field_string(c, root, "assignment", 32, 0, &mode) == 1) {
        if (strcmp(mode, "balanced") == 0) {
            cp->assignment = ASSIGN_BALANCED;
        } else if (strcmp(mode, "choose") == 0) {
            cp->assignment = ASSIGN_CHOOSE;
        } else if (strcmp(mode, "all") == 0) {
            cp->assignment = ASSIGN_ALL;
        } else {
            char q[QUOTE_SIZE];
            size_t saved = path_push_key(c, "assignment");
            fail(c, "unknown assignment %s; expected one of: balanced, choose, all",
                 quoted(q, sizeof q, mode));
            path_pop(c, saved);
        }
    }
    free(mode);
}

/* ---- webhook (docs/WEBHOOKS.md) ---- */

#define MIN_WEBHOOK_SECRET 16
#define MAX_WEBHOOK_SECRET 256

static const char *const webhook_fields[] = {"url", "secret", "events", NULL};
static const struct {
    enum webhook_event event;
    const char *name;
} webhook_events[] = {
    {WEBHOOK_PLEDGE_CONFIRMED, "pledge.confirmed"},
    {WEBHOOK_ACTION_CLICKED, "action.clicked"},
};
#define WEBHOOK_EVENT_COUNT (sizeof webhook_events / sizeof webhook_events[0])

const char *webhook_event_name(enum webhook_event event)
{
    for (size_t i = 0; i < WEBHOOK_EVENT_COUNT; i++)
        if (webhook_events[i].event == event)
            return webhook_events[i].name;
    return "unknown";
}

static unsigned webhook_event_bit(const char *name)
{
    for (size_t i = 0; i < WEBHOOK_EVENT_COUNT; i++)
        if (strcmp(webhook_events[i].name, name) == 0)
            return (unsigned)webhook_events[i].event;
    return 0;
}

static const char *webhook_event_problem(const char *s)
{
    return webhook_event_bit(s)
               ? NULL
               : "unknown event; expected one of: pledge.confirmed, action.clicked";
}

/* The receiver's URL: http(s), a host name, no spaces, control characters or
 * fragment. Where it may point (not loopback, not private) is checked before
 * each delivery, when the name is resolved. */
static void check_webhook_url(struct ctx *c, const char *u)
{
    size_t scheme = http_scheme_len(u);
    const char *host = u + scheme;
    size_t host_len = strcspn(host, "/?#");
    if (!scheme) {
        fail(c, "expected an https:// (or http://) URL");
        return;
    }
    if (!authority_valid(host, host_len)) {
        fail(c, "expected a host name after %s", scheme == 8 ? "https://" : "http://");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            fail(c, "must not contain spaces or control characters");
            return;
        }
    }
    if (strchr(u, '#'))
        fail(c, "must not contain a fragment (#)");
}

static void parse_webhook(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *wh = field_object(c, root, "webhook", 0);
    if (!wh)
        return;
    size_t saved = path_push_key(c, "webhook");
    check_fields(c, wh, webhook_fields, NULL, NULL);
    if (field_string(c, wh, "url", MAX_URL, STR_REQUIRED | STR_NONEMPTY, &cp->webhook.url) == 1) {
        size_t at = path_push_key(c, "url");
        check_webhook_url(c, cp->webhook.url);
        path_pop(c, at);
    }
    if (field_string(c, wh, "secret", MAX_WEBHOOK_SECRET, STR_REQUIRED | STR_ONE_LINE,
                     &cp->webhook.secret) == 1 &&
        utf8_length(cp->webhook.secret) < MIN_WEBHOOK_SECRET) {
        size_t at = path_push_key(c, "secret");
        fail(c, "too short: %zu characters, at least %d (use a long random string)",
             utf8_length(cp->webhook.secret), MIN_WEBHOOK_SECRET);
        path_pop(c, at);
    }
    struct string_list events = {NULL, 0};
    cp->webhook.events = WEBHOOK_ALL_EVENTS;
    if (field_string_list(c, wh, "events", 0, 1, WEBHOOK_EVENT_COUNT * 4, webhook_event_problem,
                          &events) == 1) {
        cp->webhook.events = 0;
        size_t at = path_push_key(c, "events");
        for (size_t i = 0; i < events.count; i++) {
            unsigned bit = webhook_event_bit(events.items[i]);
            if (cp->webhook.events & bit) {
                size_t item = path_push_index(c, i);
                char q[QUOTE_SIZE];
                fail(c, "duplicate event %s", quoted(q, sizeof q, events.items[i]));
                path_pop(c, item);
            }
            cp->webhook.events |= bit;
        }
        path_pop(c, at);
    }
    for (size_t i = 0; i < events.count; i++)
        free(events.items[i]);
    free(events.items);
    path_pop(c, saved);
}

/* ---- end webhook ---- */

/* The optional "embed" object: how the banner on other sites ends. */
static void parse_embed(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *em = field_object(c, root, "embed", 0);
    if (!em)
        return;
    size_t saved = path_push_key(c, "embed");
    check_fields(c, em, embed_fields, NULL, NULL);
    char *after = NULL;
    if (field_string(c, em, "after", 16, 0, &after) == 1) {
        if (strcmp(after, "hide") == 0) {
            cp->embed_after = EMBED_AFTER_HIDE;
        } else if (strcmp(after, "thanks") == 0) {
            cp->embed_after = EMBED_AFTER_THANKS;
        } else {
            size_t at = path_push_key(c, "after");
            char q[QUOTE_SIZE];
            fail(c, "unknown value %s; expected \"hide\" or \"thanks\"",
                 quoted(q, sizeof q, after));
            path_pop(c, at);
        }
    }
    free(after);
    path_pop(c, saved);
}

/* ---- mails, earlier reminders, follow-up (docs/CAMPAIGN.md) ---- */

static const char *const mail_names[CAMPAIGN_MAIL_COUNT] = {
    [CAMPAIGN_MAIL_CONFIRM] = "confirm",
    [CAMPAIGN_MAIL_WELCOME] = "welcome",
    [CAMPAIGN_MAIL_REMINDER] = "reminder",
};
static const char *const mails_fields[] = {"confirm", "welcome", "reminder", NULL};
static const char *const mail_words_fields[] = {"subject", "body", NULL};

const char *campaign_mail_name(enum campaign_mail mail)
{
    return (int)mail >= 0 && mail < CAMPAIGN_MAIL_COUNT ? mail_names[mail] : "unknown";
}

/* The optional "mails": per mail an optional subject (one line) and body,
 * both templates checked where they stand ($.mails.reminder.body:LINE:COL). */
static void parse_mails(struct ctx *c, json_t *root, struct campaign *cp)
{
    json_t *mails = field_object(c, root, "mails", 0);
    if (!mails)
        return;
    size_t saved = path_push_key(c, "mails");
    check_fields(c, mails, mails_fields, NULL, NULL);
    for (int i = 0; i < CAMPAIGN_MAIL_COUNT; i++) {
        json_t *words = field_object(c, mails, mail_names[i], 0);
        if (!words)
            continue;
        size_t at = path_push_key(c, mail_names[i]);
        check_fields(c, words, mail_words_fields, NULL, NULL);
        struct mail_words *w = &cp->mails[i];
        if (field_string(c, words, "subject", MAX_MESSAGE_TITLE, STR_NONEMPTY | STR_ONE_LINE,
                         &w->subject) == 1) {
            size_t field = path_push_key(c, "subject");
            (void)check_template(c, w->subject);
            path_pop(c, field);
        }
        if (field_string(c, words, "body", MAX_MESSAGE_BODY, STR_NONEMPTY, &w->body) == 1) {
            size_t field = path_push_key(c, "body");
            (void)check_template(c, w->body);
            path_pop(c, field);
        }
        if (!json_object_get(words, "subject") && !json_object_get(words, "body"))
            fail(c, "needs a subject or a body (or both); leave the mail out for muster's words");
        path_pop(c, at);
    }
    path_pop(c, saved);
}

int campaign_reminder_offset_parse(const char *text, int64_t *seconds_before, const char **problem)
{
    static const char *const syntax =
        "expected a negative duration in minutes, hours or days, such as \"-30m\", \"-1h\" or "
        "\"-1d\"";
    const char *p = text;
    if (*p != '-') {
        *problem = *p == '+' || (*p >= '0' && *p <= '9')
                       ? "must be before the moment: write it with a minus sign, such as \"-1h\""
                       : syntax;
        return -1;
    }
    p++;
    int64_t n = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 7) {
            *problem = "too far before the moment: at most 60 days";
            return -1;
        }
        n = n * 10 + (*p - '0');
    }
    int64_t unit = p[0] == 'm' ? 60 : p[0] == 'h' ? 3600 : p[0] == 'd' ? 86400 : 0;
    if (!digits || !unit || p[1] != '\0') {
        *problem = syntax;
        return -1;
    }
    if (n == 0) {
        *problem = "must be before the moment, not at it (the reminder itself is sent then)";
        return -1;
    }
    if (n * unit > CAMPAIGN_MAX_REMINDER_SECONDS) {
        *problem = "too far before the moment: at most 60 days";
        return -1;
    }
    *seconds_before = n * unit;
    return 0;
}

/* "reminders": earlier reminders, kept furthest first, no two at one offset. */
static void parse_reminders(struct ctx *c, json_t *root, struct campaign *cp)
{
    struct string_list items = {NULL, 0};
    if (field_string_list(c, root, "reminders", 0, 0, CAMPAIGN_MAX_REMINDERS, NULL, &items) != 1)
        return;
    size_t saved = path_push_key(c, "reminders");
    for (size_t i = 0; i < items.count; i++) {
        size_t at = path_push_index(c, i);
        int64_t seconds;
        const char *problem;
        char q[QUOTE_SIZE];
        if (campaign_reminder_offset_parse(items.items[i], &seconds, &problem) != 0) {
            fail(c, "%s: %s", quoted(q, sizeof q, items.items[i]), problem);
        } else {
            size_t j = 0;
            while (j < cp->reminder_count && cp->reminders[j] != seconds)
                j++;
            if (j < cp->reminder_count) {
                fail(c, "duplicate reminder %s (the same moment as another entry)",
                     quoted(q, sizeof q, items.items[i]));
            } else {
                /* insertion, furthest first */
                size_t k = cp->reminder_count++;
                while (k > 0 && cp->reminders[k - 1] < seconds) {
                    cp->reminders[k] = cp->reminders[k - 1];
                    k--;
                }
                cp->reminders[k] = seconds;
            }
        }
        path_pop(c, at);
        free(items.items[i]);
    }
    free(items.items);
    path_pop(c, saved);
}

/* "follow_up_after_minutes": inside the window, so checked after "launch". */
static void parse_follow_up(struct ctx *c, json_t *root, struct campaign *cp)
{
    long long minutes = 0;
    if (field_int(c, root, "follow_up_after_minutes", 1, 100000, &minutes) != 1)
        return;
    if (minutes >= cp->window_minutes) {
        size_t at = path_push_key(c, "follow_up_after_minutes");
        fail(c, "must be inside the window: less than launch.window_minutes (%d), got %lld",
             cp->window_minutes, minutes);
        path_pop(c, at);
        return;
    }
    cp->follow_up_after_minutes = (int)minutes;
}

/* ---- end mails ---- */

static void set_default(struct ctx *c, char **field, const char *value)
{
    if (!*field)
        *field = dup_or_oom(c, value);
}

static void parse_document(struct ctx *c, json_t *root, struct campaign *cp)
{
    check_fields(c, root, top_fields, NULL, NULL);
    if (field_string(c, root, "slug", 64, STR_REQUIRED, &cp->slug) == 1 &&
        !campaign_slug_valid(cp->slug)) {
        size_t saved = path_push_key(c, "slug");
        fail(c, "must be 1 to 64 lowercase letters, digits and '-', not starting or ending "
                "with '-'");
        path_pop(c, saved);
    }
    (void)field_string(c, root, "title", MAX_TITLE, STR_REQUIRED | STR_NONEMPTY | STR_ONE_LINE,
                       &cp->title);
    (void)field_string(c, root, "description", MAX_DESCRIPTION, 0, &cp->description);
    parse_organizer(c, root, cp);
    parse_launch(c, root, cp);
    parse_message(c, root, cp);
    parse_statement(c, root, cp);
    parse_assignment(c, root, cp);
    parse_targets(c, root, cp);
    parse_fallback(c, root, cp);
    long long reports = 0;
    (void)field_int(c, root, "close_after_reports", 0, 100000, &reports);
    cp->close_after_reports = (int)reports;
    (void)field_string(c, root, "closed_message", MAX_CLOSED_MESSAGE, STR_NONEMPTY,
                       &cp->closed_message);
    parse_webhook(c, root, cp);
    parse_embed(c, root, cp);
    parse_language(c, root, cp);
    parse_mails(c, root, cp);
    parse_reminders(c, root, cp);
    parse_follow_up(c, root, cp);

    set_default(c, &cp->description, "");
    set_default(c, &cp->message_title, "");
    set_default(c, &cp->message_body, "");
    set_default(c, &cp->language, I18N_DEFAULT_LANGUAGE);
    set_default(c, &cp->statement_prompt, i18n(cp->language, "Why this matters to you"));
    set_default(c, &cp->closed_message,
                i18n(cp->language, "Every target has closed for now. Thank you for showing up."));
}

int campaign_parse(const char *text, size_t len, const char *filename, struct campaign **out,
                   struct buf *errors)
{
    struct buf scratch = BUF_INIT;
    struct ctx c = {filename ? filename : "-", errors ? errors : &scratch, 0, 0, BUF_INIT};
    buf_init(&c.path, 4096);
    buf_puts(&c.path, "$");
    struct campaign *cp = NULL;
    json_t *root = NULL;
    int rc = -1;

    json_error_t jerr;
    root = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        struct buf line = BUF_INIT;
        if (jerr.line >= 1)
            buf_printf(&line, "%s:%d:%d: %s", c.file, jerr.line, jerr.column < 1 ? 1 : jerr.column,
                       jerr.text);
        else
            buf_printf(&line, "%s: %s", c.file, jerr.text);
        add_error_line(&c, &line);
        buf_release(&line);
        goto out;
    }
    if (!json_is_object(root)) {
        fail(&c, "expected an object (the campaign), got %s", type_name(root));
        goto out;
    }
    cp = calloc(1, sizeof *cp);
    if (!cp) {
        c.oom = 1;
        goto out;
    }
    cp->window_minutes = DEFAULT_WINDOW_MINUTES;
    cp->statement_max_chars = DEFAULT_STATEMENT_MAX_CHARS;
    cp->assignment = ASSIGN_BALANCED;
    parse_document(&c, root, cp);
    if (c.nerr == 0 && !c.oom) {
        cp->canonical_json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        /* Validated above, so these compile; kept for rendering every click. */
        struct template_error terr;
        cp->title_template = template_parse(cp->message_title, &terr);
        cp->body_template = template_parse(cp->message_body, &terr);
        if (!cp->canonical_json || !cp->title_template || !cp->body_template)
            c.oom = 1;
        for (int i = 0; i < CAMPAIGN_MAIL_COUNT; i++) {
            struct mail_words *w = &cp->mails[i];
            if (w->subject && !(w->subject_template = template_parse(w->subject, &terr)))
                c.oom = 1;
            if (w->body && !(w->body_template = template_parse(w->body, &terr)))
                c.oom = 1;
        }
    }
    if (c.nerr == 0 && !c.oom && out) {
        *out = cp;
        cp = NULL;
        rc = 0;
    }
out:
    if (c.oom) {
        struct buf line = BUF_INIT;
        buf_printf(&line, "%s: out of memory while reading the campaign", c.file);
        add_error_line(&c, &line);
        buf_release(&line);
    }
    campaign_free(cp);
    json_decref(root);
    buf_release(&c.path);
    buf_release(&scratch);
    return rc;
}

static void string_list_release(struct string_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void campaign_free(struct campaign *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->target_count; i++) {
        struct target_spec *t = &c->targets[i];
        free(t->id);
        free(t->label);
        free(t->repo);
        string_list_release(&t->labels);
        free(t->issue_template);
        free(t->project_url);
        string_list_release(&t->to);
        string_list_release(&t->cc);
        string_list_release(&t->bcc);
        free(t->number);
        free(t->script);
        free(t->instance);
        free(t->url);
    }
    free(c->targets);
    free(c->slug);
    free(c->title);
    free(c->description);
    free(c->organizer_name);
    free(c->organizer_email);
    free(c->launch_at);
    free(c->timezone);
    free(c->message_title);
    free(c->message_body);
    template_free(c->title_template);
    template_free(c->body_template);
    for (int i = 0; i < CAMPAIGN_MAIL_COUNT; i++) {
        free(c->mails[i].subject);
        free(c->mails[i].body);
        template_free(c->mails[i].subject_template);
        template_free(c->mails[i].body_template);
    }
    free(c->statement_prompt);
    string_list_release(&c->fallback);
    free(c->closed_message);
    free(c->language);
    free(c->webhook.url);
    free(c->webhook.secret);
    free(c->canonical_json);
    free(c);
}

const struct target_spec *campaign_target(const struct campaign *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < c->target_count; i++)
        if (c->targets[i].id && strcmp(c->targets[i].id, id) == 0)
            return &c->targets[i];
    return NULL;
}
