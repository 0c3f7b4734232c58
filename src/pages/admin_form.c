/*
 * admin_form: creating and editing a campaign in the browser. The form's
 * fields are composed into a campaign file (JSON) and checked by
 * campaign_parse, the same validation as `muster campaign apply`, then stored
 * with campaigns_apply. Every error line ("$.path: message") is shown
 * next to the field that path belongs to; errors anywhere under $.targets go
 * next to the targets textarea. On errors the form comes back with status
 * 422 and every value kept.
 *
 * Editing starts from the stored file, so keys the form leaves untouched keep
 * their exact values and saving an unchanged form changes nothing. The edit
 * page also previews the message for a sample supporter and each target's
 * one-click URL, everything HTML-escaped.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/cache.h"
#include "campaign/campaign.h"
#include "campaign/template.h"
#include "service/campaigns.h"
#include "core/escape.h"
#include "core/log.h"
#include "http/app.h"
#include "http/form.h"
#include "http/session.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "pages/pages.h"
#include "store/store.h"
#include "targets/target.h"
#include "core/banned.h"

#define SAMPLE_NAME "Sample Supporter"
#define SAMPLE_STATEMENT "I rely on this every week, and often where the connection is poor."

enum field_kind { F_TEXT, F_TEXTAREA, F_EMAIL, F_DATETIME, F_NUMBER, F_CHECK, F_SELECT, F_JSON };

enum field_id {
    FLD_SLUG,
    FLD_TITLE,
    FLD_DESCRIPTION,
    FLD_ORGANIZER_NAME,
    FLD_ORGANIZER_EMAIL,
    FLD_LAUNCH_AT,
    FLD_TIMEZONE,
    FLD_WINDOW,
    FLD_MESSAGE_TITLE,
    FLD_MESSAGE_BODY,
    FLD_STATEMENT_ENABLED,
    FLD_STATEMENT_MAX,
    FLD_STATEMENT_PROMPT,
    FLD_ASSIGNMENT,
    FLD_TARGETS,
    FLD_FALLBACK,
    FLD_CLOSE_AFTER,
    FLD_CLOSED_MESSAGE,
    FLD_LANGUAGE,
    FLD_COUNT
};

struct field_def {
    const char *name; /* form field name and element id */
    const char *label;
    const char *hint; /* NULL: none */
    enum field_kind kind;
    const char *path; /* where campaign_parse reports it */
    const char *placeholder;
};

static const struct field_def fields[FLD_COUNT] = {
    {"slug", "Short name", "In the address: /c/short-name. Lowercase letters, digits and -.",
     F_TEXT, "$.slug", "docs-day"},
    {"title", "Title", NULL, F_TEXT, "$.title", "Ask for offline documentation"},
    {"description", "Description",
     "Plain text on the public page; blank lines separate paragraphs, URLs become links.",
     F_TEXTAREA, "$.description", NULL},
    {"organizer_name", "Organizer name", "Shown on the public page.", F_TEXT, "$.organizer.name",
     "Docs Collective"},
    {"organizer_email", "Organizer email", "Optional.", F_EMAIL, "$.organizer.email",
     "team@example.org"},
    {"launch_at", "Launch moment", "Local time in that zone.", F_DATETIME, "$.launch.at", NULL},
    {"timezone", "Time zone", "IANA name, e.g. Europe/Berlin.", F_TEXT, "$.launch.timezone",
     "Europe/Berlin"},
    {"window_minutes", "Window", "Minutes. Default 120.", F_NUMBER, "$.launch.window_minutes",
     "120"},
    {"message_title", "Message title",
     "Placeholders: {{name}}, {{statement}}, {{campaign.title}}, {{target.id}}.", F_TEXT,
     "$.message.title", NULL},
    {"message_body", "Message body",
     "{{#statement}}...{{/statement}} shows its inside only when the supporter wrote one.",
     F_TEXTAREA, "$.message.body", NULL},
    {"statement_enabled", "Ask supporters for a personal statement", NULL, F_CHECK,
     "$.statement.enabled", NULL},
    {"statement_max_chars", "Statement length limit", "Characters. Default 1000.", F_NUMBER,
     "$.statement.max_chars", "1000"},
    {"statement_prompt", "Statement prompt", "The label supporters see.", F_TEXT,
     "$.statement.prompt", "Why this matters to you"},
    {"assignment", "Assignment", NULL, F_SELECT, "$.assignment", NULL},
    {"targets", "Targets",
     "A JSON array, one object per target: id, kind and the kind's fields (see the examples "
     "below).",
     F_JSON, "$.targets", NULL},
    {"fallback", "Fallback order",
     "Target ids separated by commas: where supporters of a closed target go next. Default: "
     "the targets in order.",
     F_TEXT, "$.fallback", "core, office"},
    {"close_after_reports", "Close after reports",
     "Close a target by itself when this many supporters report it within ten minutes. Empty: "
     "never.",
     F_NUMBER, "$.close_after_reports", "5"},
    {"closed_message", "Closed message", "Shown when no target has room.", F_TEXTAREA,
     "$.closed_message", "Every target has closed. Thank you for showing up."},
    {"language", "Language",
     "Of the public pages and the mails, as a tag: en, es, fr, de and ar have muster's words "
     "translated; another tag (pt-BR) keeps them in English. Your own words stay as written.",
     F_TEXT, "$.language", "en"},
};

/* Extra paths that belong to a field: the object holding it. */
static const struct {
    const char *path;
    enum field_id field;
} group_paths[] = {{"$.organizer", FLD_ORGANIZER_NAME},
                   {"$.launch", FLD_LAUNCH_AT},
                   {"$.message", FLD_MESSAGE_TITLE},
                   {"$.statement", FLD_STATEMENT_ENABLED}};

struct campaign_form {
    char *values[FLD_COUNT]; /* owned; never NULL after form_init */
    struct buf errors[FLD_COUNT];
    struct buf general;
    int error_count;
};

static void campaign_form_init(struct campaign_form *cf)
{
    memset(cf, 0, sizeof *cf);
    for (int i = 0; i < FLD_COUNT; i++)
        buf_init(&cf->errors[i], 64 * 1024);
    buf_init(&cf->general, 64 * 1024);
}

static void campaign_form_release(struct campaign_form *cf)
{
    for (int i = 0; i < FLD_COUNT; i++) {
        free(cf->values[i]);
        buf_release(&cf->errors[i]);
    }
    buf_release(&cf->general);
}

static void set_value(struct campaign_form *cf, enum field_id id, const char *v)
{
    free(cf->values[id]);
    cf->values[id] = strdup(v ? v : "");
}

static const char *value(const struct campaign_form *cf, enum field_id id)
{
    return cf->values[id] ? cf->values[id] : "";
}

static void add_error(struct campaign_form *cf, int field, const char *msg, size_t len)
{
    struct buf *b = field < 0 ? &cf->general : &cf->errors[field];
    if (b->len)
        buf_putc(b, '\n');
    buf_append(b, msg, len);
    cf->error_count++;
}

/* ---- from the stored file to the form ---- */

static char *int_text(json_t *v)
{
    char tmp[32];
    if (json_is_integer(v))
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
    else
        tmp[0] = '\0';
    return strdup(tmp);
}

/* The targets, one per line, id, kind and label first (the stored file has
 * its keys sorted). */
static char *targets_text(json_t *targets)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *t;
    buf_puts(&b, "[\n");
    json_array_foreach(targets, i, t)
    {
        json_t *ordered = json_object();
        static const char *const first[] = {"id", "kind", "label"};
        for (size_t k = 0; k < 3; k++)
            if (json_object_get(t, first[k]))
                json_object_set(ordered, first[k], json_object_get(t, first[k]));
        const char *key;
        json_t *v;
        json_object_foreach(t, key, v)
        {
            if (!json_object_get(ordered, key))
                json_object_set(ordered, key, v);
        }
        char *line = json_dumps(ordered, JSON_PRESERVE_ORDER);
        buf_printf(&b, "  %s%s\n", line ? line : "{}", i + 1 < json_array_size(targets) ? "," : "");
        free(line);
        json_decref(ordered);
    }
    buf_puts(&b, "]");
    return buf_detach(&b);
}

static void form_from_spec(struct campaign_form *cf, const char *spec_json)
{
    json_t *root = json_loads(spec_json ? spec_json : "{}", 0, NULL);
    json_t *org = json_object_get(root, "organizer"), *launch = json_object_get(root, "launch"),
           *msg = json_object_get(root, "message"), *st = json_object_get(root, "statement");
    set_value(cf, FLD_SLUG, json_string_value(json_object_get(root, "slug")));
    set_value(cf, FLD_TITLE, json_string_value(json_object_get(root, "title")));
    set_value(cf, FLD_DESCRIPTION, json_string_value(json_object_get(root, "description")));
    set_value(cf, FLD_ORGANIZER_NAME, json_string_value(json_object_get(org, "name")));
    set_value(cf, FLD_ORGANIZER_EMAIL, json_string_value(json_object_get(org, "email")));
    set_value(cf, FLD_LAUNCH_AT, json_string_value(json_object_get(launch, "at")));
    /* datetime-local shows whole minutes; ":00" seconds come back on save. */
    char *at = cf->values[FLD_LAUNCH_AT];
    if (at && strlen(at) == 19 && strcmp(at + 16, ":00") == 0)
        at[16] = '\0';
    set_value(cf, FLD_TIMEZONE, json_string_value(json_object_get(launch, "timezone")));
    free(cf->values[FLD_WINDOW]);
    cf->values[FLD_WINDOW] = int_text(json_object_get(launch, "window_minutes"));
    set_value(cf, FLD_MESSAGE_TITLE, json_string_value(json_object_get(msg, "title")));
    set_value(cf, FLD_MESSAGE_BODY, json_string_value(json_object_get(msg, "body")));
    set_value(cf, FLD_STATEMENT_ENABLED, json_is_true(json_object_get(st, "enabled")) ? "on" : "");
    free(cf->values[FLD_STATEMENT_MAX]);
    cf->values[FLD_STATEMENT_MAX] = int_text(json_object_get(st, "max_chars"));
    set_value(cf, FLD_STATEMENT_PROMPT, json_string_value(json_object_get(st, "prompt")));
    const char *assignment = json_string_value(json_object_get(root, "assignment"));
    set_value(cf, FLD_ASSIGNMENT, assignment ? assignment : "balanced");
    free(cf->values[FLD_TARGETS]);
    cf->values[FLD_TARGETS] = targets_text(json_object_get(root, "targets"));
    struct buf fb = BUF_INIT;
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(root, "fallback"), i, id)
        buf_printf(&fb, "%s%s", i ? ", " : "", json_string_value(id) ? json_string_value(id) : "");
    set_value(cf, FLD_FALLBACK, buf_cstr(&fb));
    buf_release(&fb);
    free(cf->values[FLD_CLOSE_AFTER]);
    cf->values[FLD_CLOSE_AFTER] = int_text(json_object_get(root, "close_after_reports"));
    set_value(cf, FLD_CLOSED_MESSAGE, json_string_value(json_object_get(root, "closed_message")));
    set_value(cf, FLD_LANGUAGE, json_string_value(json_object_get(root, "language")));
    for (int f = 0; f < FLD_COUNT; f++)
        if (!cf->values[f])
            set_value(cf, (enum field_id)f, "");
    json_decref(root);
}

static void form_from_post(struct campaign_form *cf, const struct form *f)
{
    for (int i = 0; i < FLD_COUNT; i++) {
        const char *v = form_get(f, fields[i].name);
        if (fields[i].kind == F_CHECK)
            v = v ? "on" : "";
        set_value(cf, (enum field_id)i, v ? v : "");
        /* Browsers send textarea line breaks as CRLF; the file has LF. */
        char *p = cf->values[i], *w = p;
        for (; p && *p; p++)
            if (!(p[0] == '\r' && p[1] == '\n'))
                *w++ = *p;
        if (w)
            *w = '\0';
    }
}

/* ---- from the form to a campaign file ---- */

static void put_text(json_t *obj, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(obj, key, json_string(v));
    else
        json_object_del(obj, key);
}

/* A number field: an integer when it is one, else the text itself, so the
 * validator names the field ("expected an integer"). */
static void put_number(json_t *obj, const char *key, const char *v)
{
    if (!v || !*v) {
        json_object_del(obj, key);
        return;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end == '\0' && end != v)
        json_object_set_new(obj, key, json_integer((json_int_t)n));
    else
        json_object_set_new(obj, key, json_string(v));
}

/* Sets or removes root[key] = obj (removed when obj ends up empty). */
static void put_object(json_t *root, const char *key, json_t *obj)
{
    if (json_object_size(obj))
        json_object_set(root, key, obj);
    else
        json_object_del(root, key);
    json_decref(obj);
}

static json_t *object_copy(json_t *base, const char *key)
{
    json_t *v = json_object_get(base, key);
    return json_is_object(v) ? json_copy(v) : json_object();
}

/* Builds the campaign file from the form on top of base (the stored file,
 * or NULL). A targets textarea that is not JSON is reported here and left
 * out; *targets_bad tells the caller to drop the validator's errors about
 * the targets and the fallback, which would only repeat it. */
static json_t *compose(struct campaign_form *cf, json_t *base, int *targets_bad)
{
    json_t *root = json_is_object(base) ? json_deep_copy(base) : json_object();
    *targets_bad = 0;
    if (!root)
        return NULL;
    put_text(root, "slug", value(cf, FLD_SLUG));
    put_text(root, "title", value(cf, FLD_TITLE));
    put_text(root, "description", value(cf, FLD_DESCRIPTION));

    json_t *org = object_copy(base, "organizer");
    put_text(org, "name", value(cf, FLD_ORGANIZER_NAME));
    put_text(org, "email", value(cf, FLD_ORGANIZER_EMAIL));
    put_object(root, "organizer", org);

    json_t *launch = object_copy(base, "launch");
    const char *at = value(cf, FLD_LAUNCH_AT);
    char with_seconds[20];
    if (strlen(at) == 16) { /* datetime-local sends whole minutes */
        snprintf(with_seconds, sizeof with_seconds, "%s:00", at);
        at = with_seconds;
    }
    put_text(launch, "at", at);
    put_text(launch, "timezone", value(cf, FLD_TIMEZONE));
    put_number(launch, "window_minutes", value(cf, FLD_WINDOW));
    json_object_set_new(root, "launch", launch);

    json_t *msg = object_copy(base, "message");
    put_text(msg, "title", value(cf, FLD_MESSAGE_TITLE));
    put_text(msg, "body", value(cf, FLD_MESSAGE_BODY));
    json_object_set_new(root, "message", msg);

    json_t *st = object_copy(base, "statement");
    if (value(cf, FLD_STATEMENT_ENABLED)[0])
        json_object_set_new(st, "enabled", json_true());
    else if (json_object_get(st, "enabled"))
        json_object_set_new(st, "enabled", json_false());
    put_number(st, "max_chars", value(cf, FLD_STATEMENT_MAX));
    put_text(st, "prompt", value(cf, FLD_STATEMENT_PROMPT));
    put_object(root, "statement", st);

    const char *assignment = value(cf, FLD_ASSIGNMENT);
    if (strcmp(assignment, "balanced") == 0 && !json_object_get(base, "assignment"))
        json_object_del(root, "assignment");
    else
        put_text(root, "assignment", assignment);

    const char *targets = value(cf, FLD_TARGETS);
    json_object_del(root, "targets");
    if (*targets) {
        json_error_t jerr;
        json_t *t = json_loads(targets, JSON_REJECT_DUPLICATES, &jerr);
        if (t) {
            json_object_set_new(root, "targets", t);
        } else {
            char msg_text[300];
            int n = snprintf(msg_text, sizeof msg_text, "Not valid JSON: line %d, column %d: %s",
                             jerr.line, jerr.column, jerr.text);
            add_error(cf, FLD_TARGETS, msg_text,
                      n < 0                         ? 0
                      : (size_t)n < sizeof msg_text ? (size_t)n
                                                    : sizeof msg_text - 1);
            *targets_bad = 1;
        }
    }

    json_t *fallback = json_array();
    char *copy = strdup(value(cf, FLD_FALLBACK)), *save = NULL;
    for (char *id = copy ? strtok_r(copy, ", \t\n", &save) : NULL; id;
         id = strtok_r(NULL, ", \t\n", &save))
        json_array_append_new(fallback, json_string(id));
    free(copy);
    if (json_array_size(fallback))
        json_object_set(root, "fallback", fallback);
    else
        json_object_del(root, "fallback");
    json_decref(fallback);

    put_number(root, "close_after_reports", value(cf, FLD_CLOSE_AFTER));
    put_text(root, "closed_message", value(cf, FLD_CLOSED_MESSAGE));
    put_text(root, "language", value(cf, FLD_LANGUAGE));
    return root;
}

/* ---- the validator's errors, field by field ---- */

/* Length of the JSON path at the start of s ("$.targets[0][\"a:b\"].repo"). */
static size_t path_length(const char *s)
{
    size_t i = 0;
    while (s[i] && s[i] != ':' && s[i] != ' ') {
        if (s[i] == '[' && s[i + 1] == '"') {
            i += 2;
            while (s[i] && !(s[i] == '"' && s[i + 1] == ']'))
                i += s[i] == '\\' && s[i + 1] ? 2 : 1;
            if (s[i])
                i += 2;
            continue;
        }
        i++;
    }
    return i;
}

static int path_within(const char *path, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncmp(path, prefix, n) == 0 &&
           (len == n || path[n] == '.' || path[n] == '[');
}

static int field_for_path(const char *path, size_t len)
{
    for (int i = 0; i < FLD_COUNT; i++)
        if (path_within(path, len, fields[i].path))
            return i;
    for (size_t i = 0; i < sizeof group_paths / sizeof group_paths[0]; i++)
        if (path_within(path, len, group_paths[i].path))
            return (int)group_paths[i].field;
    return -1;
}

/* Splits campaign_parse's error lines ("form: $.path: message",
 * "form: $.path:LINE:COL: message") onto the fields. */
static void map_errors(struct campaign_form *cf, const char *errors, int targets_bad)
{
    const char *line = errors;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        struct buf one = BUF_INIT;
        buf_append(&one, line, len);
        const char *s = buf_cstr(&one);
        if (strncmp(s, "form: ", 6) == 0)
            s += 6;
        int field = -1, prefixed = 0;
        struct buf msg = BUF_INIT;
        if (s[0] == '$') {
            size_t plen = path_length(s);
            field = field_for_path(s, plen);
            const char *rest = s + plen;
            int tl = 0, tc = 0, used = 0;
            if (sscanf(rest, ":%d:%d: %n", &tl, &tc, &used) == 2 && used > 0) {
                buf_printf(&msg, "Line %d, column %d: %s", tl, tc, rest + used);
            } else {
                if (strncmp(rest, ": ", 2) == 0)
                    rest += 2;
                /* Where inside the targets (or the whole file) it is. */
                if ((field == FLD_TARGETS || field == FLD_FALLBACK || field < 0) && plen > 2) {
                    buf_printf(&msg, "%.*s: ", (int)(plen - 2), s + 2);
                    prefixed = 1;
                }
                buf_puts(&msg, rest);
            }
        } else {
            buf_puts(&msg, s);
        }
        int drop = targets_bad && (field == FLD_TARGETS || field == FLD_FALLBACK);
        if (!drop && msg.len) {
            /* Capitalise a bare message: they are written to follow a path. */
            if (!prefixed && msg.data[0] >= 'a' && msg.data[0] <= 'z')
                msg.data[0] = (char)(msg.data[0] - 'a' + 'A');
            add_error(cf, field, msg.data, msg.len);
        }
        buf_release(&msg);
        buf_release(&one);
        line += len;
        if (*line == '\n')
            line++;
    }
}

/* ---- rendering ---- */

static void describedby(struct buf *b, const struct field_def *d, int has_error)
{
    if (!d->hint && !has_error)
        return;
    buf_puts(b, " aria-describedby=\"");
    if (d->hint)
        buf_printf(b, "%s-hint", d->name);
    if (has_error)
        buf_printf(b, "%s%s-error", d->hint ? " " : "", d->name);
    buf_puts(b, "\"");
    if (has_error)
        buf_puts(b, " aria-invalid=\"true\"");
}

static void field_error(struct buf *b, const struct field_def *d, const struct buf *err)
{
    if (!err->len)
        return;
    buf_printf(b, "<div class=\"error\" id=\"%s-error\">", d->name);
    const char *p = buf_cstr(err);
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        buf_puts(b, "<p>");
        escape_html_n(b, p, len);
        buf_puts(b, "</p>");
        p += len;
        if (*p)
            p++;
    }
    buf_puts(b, "</div>\n");
}

static void render_field(struct buf *b, const struct campaign_form *cf, enum field_id id,
                         int readonly, const char *extra_class)
{
    const struct field_def *d = &fields[id];
    const char *v = value(cf, id);
    int has_error = cf->errors[id].len > 0;
    buf_printf(b, "<div class=\"field%s%s\" id=\"field-%s\">\n", extra_class ? " " : "",
               extra_class ? extra_class : "", d->name);
    if (d->kind == F_CHECK) {
        buf_printf(b,
                   "<label class=\"check\" for=\"%s\"><input type=\"checkbox\" id=\"%s\" "
                   "name=\"%s\" value=\"on\"%s",
                   d->name, d->name, d->name, v[0] ? " checked" : "");
        describedby(b, d, has_error);
        buf_printf(b, "><span>%s</span></label>\n", d->label);
        field_error(b, d, &cf->errors[id]);
        buf_puts(b, "</div>\n");
        return;
    }
    buf_printf(b, "<label for=\"%s\">%s", d->name, d->label);
    if (d->hint) {
        buf_printf(b, " <span class=\"hint\" id=\"%s-hint\">", d->name);
        escape_html(b, d->hint);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</label>\n");
    switch (d->kind) {
    case F_TEXTAREA:
    case F_JSON:
        buf_printf(b, "<textarea id=\"%s\" name=\"%s\" rows=\"%d\"%s", d->name, d->name,
                   d->kind == F_JSON        ? 10
                   : id == FLD_MESSAGE_BODY ? 10
                                            : 4,
                   d->kind == F_JSON ? " spellcheck=\"false\" class=\"code\"" : " dir=\"auto\"");
        if (d->kind == F_JSON)
            buf_puts(b, " placeholder=\"[{&quot;id&quot;: &quot;core&quot;, &quot;kind&quot;: "
                        "&quot;github_issue&quot;, &quot;repo&quot;: &quot;owner/name&quot;}]\"");
        else if (d->placeholder) {
            buf_puts(b, " placeholder=\"");
            escape_html(b, d->placeholder);
            buf_puts(b, "\"");
        }
        describedby(b, d, has_error);
        buf_puts(b, ">");
        escape_html(b, v);
        buf_puts(b, "</textarea>\n");
        break;
    case F_SELECT: {
        static const char *const modes[][2] = {
            {"balanced", "Balanced: each supporter gets the open target with the fewest"},
            {"choose", "Choose: supporters pick a target on the pledge form"},
            {"all", "All: the action page lists every open target"}};
        buf_printf(b, "<select id=\"%s\" name=\"%s\"", d->name, d->name);
        describedby(b, d, has_error);
        buf_puts(b, ">");
        int known = 0;
        for (size_t i = 0; i < 3; i++) {
            int sel = strcmp(v, modes[i][0]) == 0;
            known |= sel;
            buf_printf(b, "<option value=\"%s\"%s>%s</option>", modes[i][0], sel ? " selected" : "",
                       modes[i][1]);
        }
        if (!known && *v) { /* keep an unknown value so its error makes sense */
            buf_puts(b, "<option selected value=\"");
            escape_html(b, v);
            buf_puts(b, "\">");
            escape_html(b, v);
            buf_puts(b, "</option>");
        }
        buf_puts(b, "</select>\n");
        break;
    }
    default: {
        const char *type = d->kind == F_EMAIL      ? "email"
                           : d->kind == F_DATETIME ? "datetime-local"
                           : d->kind == F_NUMBER   ? "number"
                                                   : "text";
        buf_printf(b, "<input type=\"%s\" id=\"%s\" name=\"%s\" value=\"", type, d->name, d->name);
        escape_html(b, v);
        buf_puts(b, "\"");
        if (d->kind == F_NUMBER)
            buf_puts(b, " inputmode=\"numeric\" min=\"0\"");
        if (d->kind == F_DATETIME && strlen(v) == 19)
            buf_puts(b, " step=\"1\"");
        if (id == FLD_TIMEZONE)
            buf_puts(b, " data-fill-timezone autocomplete=\"off\"");
        if (id == FLD_SLUG || id == FLD_TIMEZONE || id == FLD_LANGUAGE)
            buf_puts(b, " autocapitalize=\"none\" spellcheck=\"false\"");
        if (id == FLD_LANGUAGE)
            buf_puts(b, " list=\"languages\" autocomplete=\"off\"");
        /* The organizer's words read in their own direction. */
        if (d->kind == F_TEXT && id != FLD_SLUG && id != FLD_TIMEZONE && id != FLD_LANGUAGE &&
            id != FLD_FALLBACK)
            buf_puts(b, " dir=\"auto\"");
        if (readonly)
            buf_puts(b, " readonly");
        if (d->placeholder) {
            buf_puts(b, " placeholder=\"");
            escape_html(b, d->placeholder);
            buf_puts(b, "\"");
        }
        describedby(b, d, has_error);
        buf_puts(b, ">\n");
        break;
    }
    }
    field_error(b, d, &cf->errors[id]);
    buf_puts(b, "</div>\n");
}

/* Every kind's example target, from the campaign parser's table (the same
 * examples test_campaign proves valid). */
static void target_examples(struct buf *b)
{
    buf_puts(b, "<details class=\"examples\"><summary>Target kinds and their fields</summary>\n"
                "<p>Every target has an <code>id</code> (lowercase letters, digits, - and _), a "
                "<code>kind</code>, and optionally a <code>label</code> and a <code>cap</code> "
                "(the most supporters it gets).</p>\n<pre class=\"code\">");
    for (int kind = 0; kind < TARGET_KIND_COUNT; kind++) {
        if (kind)
            buf_putc(b, '\n');
        escape_html(b, target_kind_example((enum target_kind)kind));
    }
    buf_puts(b, "</pre>\n</details>\n");
}

static void render_form(struct buf *b, const struct campaign_form *cf, const char *action,
                        const char *csrf, const char *slug)
{
    if (cf->error_count) {
        buf_printf(b,
                   "<div class=\"errors\" role=\"alert\"><p><b>The campaign was not saved.</b> "
                   "Please fix %d %s below.</p>",
                   cf->error_count, cf->error_count == 1 ? "problem" : "problems");
        buf_puts(b, "<ul class=\"error-links\">");
        for (int i = 0; i < FLD_COUNT; i++)
            if (cf->errors[i].len)
                buf_printf(b, "<li><a href=\"#%s\">%s</a></li>", fields[i].name, fields[i].label);
        buf_puts(b, "</ul>");
        if (cf->general.len) {
            const char *p = buf_cstr(&cf->general);
            while (*p) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                buf_puts(b, "<p class=\"error\">");
                escape_html_n(b, p, len);
                buf_puts(b, "</p>");
                p += len;
                if (*p)
                    p++;
            }
        }
        buf_puts(b, "</div>\n");
    }
    buf_printf(b,
               "<form method=\"post\" action=\"%s\" class=\"campaign-form\" novalidate>\n"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
               action, csrf);
    buf_puts(b, "<fieldset class=\"card\"><legend>The campaign</legend>\n<div class=\"grid2\">");
    render_field(b, cf, FLD_SLUG, slug != NULL, NULL);
    render_field(b, cf, FLD_TITLE, 0, NULL);
    buf_puts(b, "</div>");
    render_field(b, cf, FLD_DESCRIPTION, 0, NULL);
    buf_puts(b, "<div class=\"grid2\">");
    render_field(b, cf, FLD_ORGANIZER_NAME, 0, NULL);
    render_field(b, cf, FLD_ORGANIZER_EMAIL, 0, NULL);
    buf_puts(b, "</div>");
    render_field(b, cf, FLD_LANGUAGE, 0, NULL);
    buf_puts(b, "<datalist id=\"languages\"><option value=\"en\">English</option>"
                "<option value=\"es\">Español</option><option value=\"fr\">Français</option>"
                "<option value=\"de\">Deutsch</option><option value=\"ar\">العربية</option>"
                "</datalist>\n</fieldset>\n");

    buf_puts(b, "<fieldset class=\"card\"><legend>The moment</legend>\n<div class=\"grid3\">");
    render_field(b, cf, FLD_LAUNCH_AT, 0, NULL);
    render_field(b, cf, FLD_TIMEZONE, 0, NULL);
    render_field(b, cf, FLD_WINDOW, 0, NULL);
    buf_puts(b, "</div></fieldset>\n");

    buf_puts(b, "<fieldset class=\"card\"><legend>The message</legend>\n");
    render_field(b, cf, FLD_MESSAGE_TITLE, 0, NULL);
    render_field(b, cf, FLD_MESSAGE_BODY, 0, NULL);
    render_field(b, cf, FLD_STATEMENT_ENABLED, 0, NULL);
    buf_puts(b, "<div class=\"grid2\">");
    render_field(b, cf, FLD_STATEMENT_PROMPT, 0, NULL);
    render_field(b, cf, FLD_STATEMENT_MAX, 0, NULL);
    buf_puts(b, "</div></fieldset>\n");

    buf_puts(b, "<fieldset class=\"card\"><legend>Targets</legend>\n");
    render_field(b, cf, FLD_ASSIGNMENT, 0, NULL);
    render_field(b, cf, FLD_TARGETS, 0, NULL);
    target_examples(b);
    buf_puts(b, "<div class=\"grid2\">");
    render_field(b, cf, FLD_FALLBACK, 0, NULL);
    render_field(b, cf, FLD_CLOSE_AFTER, 0, NULL);
    buf_puts(b, "</div>");
    render_field(b, cf, FLD_CLOSED_MESSAGE, 0, NULL);
    buf_puts(b, "</fieldset>\n");
    buf_printf(b,
               "<div class=\"actions form-actions\"><button type=\"submit\">%s</button>"
               "<a class=\"button secondary\" href=\"/admin%s%s\">Cancel</a></div>\n"
               "</form>\n",
               slug ? "Save changes" : "Create campaign", slug ? "/campaigns/" : "",
               slug ? slug : "");
}

/* ---- the preview ---- */

static void preview_target(struct buf *b, const struct campaign *c, const struct target_spec *t)
{
    struct template_vars vars = {SAMPLE_NAME, SAMPLE_STATEMENT, c->title, t->id};
    struct buf title = BUF_INIT, body = BUF_INIT, url = BUF_INIT;
    buf_puts(b, "<li><div class=\"target-head\"><h3>");
    escape_html(b, t->label ? t->label : t->id);
    buf_puts(b, "</h3> <code>");
    escape_html(b, t->id);
    buf_printf(b, "</code> <span class=\"kind\">%s</span></div>\n", target_kind_name(t->kind));
    if (template_render_text(c->message_title, &vars, &title) != 0 ||
        template_render_text(c->message_body, &vars, &body) != 0) {
        buf_puts(b, "<p class=\"error\">The message could not be rendered.</p></li>\n");
        goto out;
    }
    struct target_message msg = {buf_cstr(&title), buf_cstr(&body)};
    int outcome = target_build_action(t, &msg, &vars, NULL, &url);
    struct target_limits limits = target_kind_limits(t->kind);
    switch (outcome) {
    case TARGET_REDIRECT:
        buf_printf(b, "<p>One click opens this link (%zu characters", url.len);
        if (limits.max_url_bytes)
            buf_printf(b, " of at most %zu", limits.max_url_bytes);
        buf_puts(b, "):</p>\n<p class=\"url\"><code>");
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "</code></p>\n");
        if (strncmp(buf_cstr(&url), "https://", 8) == 0) {
            buf_puts(b, "<p><a href=\"");
            escape_html(b, buf_cstr(&url));
            buf_puts(b, "\" rel=\"noopener noreferrer\" target=\"_blank\">Open the prefilled "
                        "page</a> <span class=\"muted\">(nothing is sent until you press its "
                        "button)</span></p>\n");
        }
        break;
    case TARGET_PAGE_TOO_LONG:
        buf_puts(b, "<p class=\"warn-text\">The message does not fit this target's link, so "
                    "supporters get the action page with the full text and a copy button.");
        if (limits.why) {
            buf_puts(b, " ");
            escape_html(b, limits.why);
        }
        buf_puts(b, "</p>\n");
        break;
    case TARGET_PAGE_CALL: {
        buf_puts(b, "<p>Supporters get the action page with the number (<code>");
        escape_html(b, buf_cstr(&url));
        buf_puts(b, "</code>) and this script:</p>\n");
        struct buf script = BUF_INIT;
        if (target_render_script(t, &vars, &script) == 0) {
            buf_puts(b, "<pre class=\"message\">");
            escape_html(b, buf_cstr(&script));
            buf_puts(b, "</pre>\n");
        }
        buf_release(&script);
        break;
    }
    case TARGET_PAGE_NEEDS_INSTANCE:
        buf_puts(b, "<p>Supporters first name their Mastodon instance; the link then opens a "
                    "prefilled post there.</p>\n");
        break;
    default:
        buf_puts(b, "<p class=\"error\">The link could not be built (a template inside the "
                    "target did not render).</p>\n");
        break;
    }
    buf_puts(b, "</li>\n");
out:
    buf_release(&title);
    buf_release(&body);
    buf_release(&url);
}

/* The organizer's words of each mail ("mails" in the file) as the sample
 * supporter gets them; muster's own words where the file gives none. */
static void preview_mails(struct buf *b, const struct campaign *c)
{
    static const char *const what_follows[CAMPAIGN_MAIL_COUNT] = {
        [CAMPAIGN_MAIL_CONFIRM] = "the pledge's details, the confirmation link and a note to "
                                  "ignore the mail",
        [CAMPAIGN_MAIL_WELCOME] = "the calendar link (and the .ics attached), the share link and "
                                  "the unsubscribe link",
        [CAMPAIGN_MAIL_REMINDER] = "the personal one-click link and the unsubscribe link",
    };
    buf_puts(b, "<h3>Mails</h3>\n<dl class=\"preview-mails\">\n");
    for (int i = 0; i < CAMPAIGN_MAIL_COUNT; i++) {
        const struct mail_words *w = &c->mails[i];
        struct template_vars vars = {SAMPLE_NAME, SAMPLE_STATEMENT, c->title,
                                     c->target_count ? c->targets[0].id : ""};
        struct buf subject = BUF_INIT, body = BUF_INIT;
        buf_printf(b, "<dt><code>%s</code></dt>\n<dd>", campaign_mail_name((enum campaign_mail)i));
        if (w->subject_template &&
            template_render(w->subject_template, &vars, NULL, &subject) == 0) {
            buf_puts(b, "<p>Subject: <strong>");
            escape_html(b, buf_cstr(&subject));
            buf_puts(b, "</strong></p>\n");
        } else {
            buf_puts(b, "<p class=\"muted\">Subject: muster's own.</p>\n");
        }
        if (w->body_template && template_render(w->body_template, &vars, NULL, &body) == 0) {
            buf_puts(b, "<pre class=\"message\">");
            escape_html(b, buf_cstr(&body));
            buf_puts(b, "</pre>\n");
        } else {
            buf_puts(b, "<p class=\"muted\">Opening: muster's own.</p>\n");
        }
        buf_printf(b, "<p class=\"muted\">Then muster adds %s.</p></dd>\n", what_follows[i]);
        buf_release(&subject);
        buf_release(&body);
    }
    buf_puts(b, "</dl>\n");
}

static void preview(struct buf *b, const struct campaign *c)
{
    buf_puts(b, "<section class=\"card preview\" aria-labelledby=\"preview-h\">\n"
                "<h2 id=\"preview-h\">Preview</h2>\n<p class=\"muted\">The saved campaign's "
                "message as a supporter named “" SAMPLE_NAME "” with a short statement "
                "would send it, and where each target's one-click link leads.</p>\n");
    if (c->target_count) {
        struct template_vars vars = {SAMPLE_NAME, SAMPLE_STATEMENT, c->title, c->targets[0].id};
        struct buf title = BUF_INIT, body = BUF_INIT;
        if (template_render_text(c->message_title, &vars, &title) == 0 &&
            template_render_text(c->message_body, &vars, &body) == 0) {
            if (title.len) {
                buf_puts(b, "<h3>Title</h3>\n<pre class=\"message\">");
                escape_html(b, buf_cstr(&title));
                buf_puts(b, "</pre>\n");
            }
            if (body.len) {
                buf_puts(b, "<h3>Message</h3>\n<pre class=\"message\">");
                escape_html(b, buf_cstr(&body));
                buf_puts(b, "</pre>\n");
            }
        }
        buf_release(&title);
        buf_release(&body);
    }
    buf_puts(b, "<h3>Targets</h3>\n<ul class=\"preview-targets\">\n");
    for (size_t i = 0; i < c->target_count; i++)
        preview_target(b, c, &c->targets[i]);
    buf_puts(b, "</ul>\n");
    preview_mails(b, c);
    buf_puts(b, "</section>\n");
}

/* ---- pages ---- */

static void form_page(struct http_request *req, struct http_response *resp,
                      const struct campaign_form *cf, const char *slug, const struct campaign *c)
{
    char csrf[SESSION_CSRF_LEN + 1];
    session_csrf_token(req, resp, csrf);
    struct buf *b = &resp->body;
    buf_reset(b);
    admin_page_begin(b, slug ? "Edit campaign" : "New campaign", csrf,
                     slug ? ADMIN_CAMPAIGNS : ADMIN_NEW);
    buf_puts(b, "<div class=\"page-head\"><div>");
    if (slug)
        buf_printf(b,
                   "<p class=\"crumbs\"><a href=\"/admin\">Campaigns</a> / <a "
                   "href=\"/admin/campaigns/%s\"><code>%s</code></a></p>\n<h1>Edit campaign</h1>",
                   slug, slug);
    else
        buf_puts(b, "<p class=\"crumbs\"><a href=\"/admin\">Campaigns</a></p>\n"
                    "<h1>New campaign</h1>");
    buf_puts(b, "<p class=\"muted\">The same checks as <code>muster campaign apply</code>: "
                "nothing is saved until every field is right.</p></div></div>\n");
    char action[128];
    if (slug)
        snprintf(action, sizeof action, "/admin/campaigns/%s", slug);
    else
        snprintf(action, sizeof action, "/admin/campaigns");
    if (c && !cf->error_count) {
        buf_puts(b, "<div class=\"form-with-preview\"><div>");
        render_form(b, cf, action, csrf, slug);
        buf_puts(b, "</div>");
        preview(b, c);
        buf_puts(b, "</div>\n");
    } else {
        render_form(b, cf, action, csrf, slug);
    }
    admin_page_end(b);
}

void handle_admin_campaign_new(struct http_request *req, struct http_response *resp)
{
    struct campaign_form cf;
    campaign_form_init(&cf);
    for (int i = 0; i < FLD_COUNT; i++)
        set_value(&cf, (enum field_id)i, "");
    set_value(&cf, FLD_ASSIGNMENT, "balanced");
    form_page(req, resp, &cf, NULL, NULL);
    campaign_form_release(&cf);
}

void handle_admin_campaign_edit(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    const struct campaign *c;
    if (admin_campaign_load(req, resp, &row, &c) != 0)
        return;
    /* The cache hands out the parsed campaign but not always the file. */
    struct campaign_row full;
    if (store_campaign_get(req->store, row.slug, &full) != 0) {
        campaign_row_release(&row);
        admin_message_page(req, resp, 500, "Something went wrong",
                           "The campaign could not be read. Try again in a moment.");
        return;
    }
    struct campaign_form cf;
    campaign_form_init(&cf);
    form_from_spec(&cf, full.spec_json);
    form_page(req, resp, &cf, row.slug, c);
    campaign_form_release(&cf);
    campaign_row_release(&full);
    campaign_row_release(&row);
}

static const char *apply_word(enum apply_result r)
{
    return r == APPLY_CREATED ? "created" : r == APPLY_UPDATED ? "updated" : "unchanged";
}

/* The organizer who created a campaign in the dashboard owns it
 * (docs/DASHBOARD.md, "Roles"), so a plain organizer can open what they made. */
static int grant_creator(struct http_request *req, const char *slug)
{
    struct campaign_row row;
    if (store_campaign_get(req->store, slug, &row) != 0)
        return -1;
    int rc = store_grant_set(req->store, row.id, req->organizer_id, CAMPAIGN_ROLE_OWNER, req->now);
    campaign_row_release(&row);
    if (rc != 0)
        log_error("campaign.grant", "campaign=%s: could not make organizer:%lld its owner", slug,
                  (long long)req->organizer_id);
    return rc;
}

/* Validates and stores; answers 303 to the launch-day view, or the form with
 * its errors (422). base is the stored file when editing. */
static void save(struct http_request *req, struct http_response *resp, const char *slug,
                 json_t *base)
{
    struct form f;
    char err[300];
    if (form_parse(&f, req->body, req->body_len, err, sizeof err) != 0) {
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return;
    }
    struct campaign_form cf;
    campaign_form_init(&cf);
    form_from_post(&cf, &f);
    form_release(&f);
    if (slug)
        set_value(&cf, FLD_SLUG, slug); /* the address names the campaign */

    struct campaign_row existing;
    if (!slug && campaign_slug_valid(value(&cf, FLD_SLUG)) &&
        store_campaign_get(req->store, value(&cf, FLD_SLUG), &existing) == 0) {
        campaign_row_release(&existing);
        const char *m = "A campaign with this short name exists already; edit it instead, or "
                        "choose another name.";
        add_error(&cf, FLD_SLUG, m, strlen(m));
    }
    int targets_bad = 0;
    json_t *doc = compose(&cf, base, &targets_bad);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (!text) {
        const char *m = "The campaign could not be composed (out of memory).";
        add_error(&cf, -1, m, strlen(m));
    } else if (campaign_parse(text, strlen(text), "form", &c, &errors) != 0) {
        map_errors(&cf, buf_cstr(&errors), targets_bad);
    }
    if (c && !cf.error_count) {
        enum apply_result result;
        char apply_err[300] = "";
        int rc = campaigns_apply(req->store, c, req->now, &result, apply_err, sizeof apply_err);
        if (rc == 0 && !slug && result == APPLY_CREATED && grant_creator(req, c->slug) != 0)
            rc = -1;
        if (rc == 0) {
            log_info("campaign.saved", "campaign=%s result=%s by=organizer:%lld", c->slug,
                     apply_word(result), (long long)req->organizer_id);
            char location[200];
            snprintf(location, sizeof location, "/admin/campaigns/%s?saved=%s", c->slug,
                     apply_word(result));
            http_redirect(resp, 303, location);
            goto out;
        }
        const char *m = rc == STORE_CONFLICT && apply_err[0]
                            ? apply_err
                            : "The campaign could not be saved. Try again in a moment.";
        add_error(&cf, rc == STORE_CONFLICT ? FLD_MESSAGE_BODY : -1, m, strlen(m));
    }
    form_page(req, resp, &cf, slug, NULL);
    resp->status = 422;
out:
    campaign_free(c);
    free(text);
    buf_release(&errors);
    campaign_form_release(&cf);
}

void handle_admin_campaign_create(struct http_request *req, struct http_response *resp)
{
    save(req, resp, NULL, NULL);
}

void handle_admin_campaign_update(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        admin_message_page(req, resp, rc == STORE_NOT_FOUND ? 404 : 500, "No such campaign",
                           "There is no campaign with this name.");
        return;
    }
    json_t *base = json_loads(row.spec_json, 0, NULL);
    save(req, resp, row.slug, base);
    json_decref(base);
    campaign_row_release(&row);
}
