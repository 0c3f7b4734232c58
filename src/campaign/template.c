/*
 * template: compiles a message template into a flat array of segments
 * (literal text, a value, the start or end of a section) and renders it.
 * Parsing reports the first error with its line and column (in code points)
 * inside the template; it must survive any bytes, since organizers write
 * templates and the fuzzer writes worse. Rendering never re-reads a value as
 * a template: values are appended through the caller's escaper and nothing
 * else, so "{{name}}" typed by a supporter stays literal.
 */
#include "campaign/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/banned.h"

enum var_id { VAR_NAME, VAR_STATEMENT, VAR_CAMPAIGN_TITLE, VAR_TARGET_ID };

enum segment_kind { SEG_LITERAL, SEG_VALUE, SEG_SECTION_BEGIN, SEG_SECTION_END };

struct segment {
    enum segment_kind kind;
    enum var_id var; /* SEG_VALUE, SEG_SECTION_* */
    size_t offset;   /* SEG_LITERAL: into template.text */
    size_t len;      /* SEG_LITERAL */
    size_t end;      /* SEG_SECTION_BEGIN: index of its SEG_SECTION_END */
};

struct template
{
    char *text; /* a copy of the source; literals point into it */
    struct segment *segs;
    size_t count;
    size_t cap;
};

static const struct {
    const char *name;
    enum var_id var;
    int section; /* may be used as {{#name}}...{{/name}} */
} known_vars[] = {
    {"name", VAR_NAME, 1},
    {"statement", VAR_STATEMENT, 1},
    {"campaign.title", VAR_CAMPAIGN_TITLE, 0},
    {"target.id", VAR_TARGET_ID, 0},
};

#define KNOWN_PLACEHOLDERS "name, statement, campaign.title, target.id"
#define KNOWN_SECTIONS "name, statement"
/* The longest tag text quoted back in an error message (bytes). */
#define TAG_QUOTE_MAX 40

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Looks up [s, s+len) among the known variables; -1 when unknown. */
static int lookup_var(const char *s, size_t len, int want_section)
{
    for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++) {
        if (want_section && !known_vars[i].section)
            continue;
        if (strlen(known_vars[i].name) == len && memcmp(known_vars[i].name, s, len) == 0)
            return (int)i;
    }
    return -1;
}

static const char *var_name(enum var_id var)
{
    for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++)
        if (known_vars[i].var == var)
            return known_vars[i].name;
    return "?";
}

/*
 * Copies at most TAG_QUOTE_MAX bytes of [s, s+len) into out (size n) so an
 * error message stays one printable line: control characters and bytes of
 * invalid UTF-8 become '?', a cut never splits a code point, "..." marks a cut.
 */
static void quote_tag(char *out, size_t n, const char *s, size_t len)
{
    size_t take = len;
    int cut = 0;
    if (take > TAG_QUOTE_MAX) {
        take = TAG_QUOTE_MAX;
        while (take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
            take--;
        cut = 1;
    }
    int valid = utf8_valid(s, take);
    size_t o = 0;
    for (size_t i = 0; i < take && o + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !valid))
            c = '?';
        out[o++] = (char)c;
    }
    if (cut)
        for (int k = 0; k < 3 && o + 1 < n; k++)
            out[o++] = '.';
    out[o] = '\0';
}

/* Line and column (1-based, columns in code points) of byte offset pos in src. */
static void position_of(const char *src, size_t pos, int *line, int *column)
{
    long l = 1, col = 1;
    for (size_t i = 0; i < pos; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\n') {
            l++;
            col = 1;
        } else if ((c & 0xc0) != 0x80) {
            col++;
        }
    }
    /* A template too large for an int still reports a position, saturated. */
    *line = l > 1000000000L ? 1000000000 : (int)l;
    *column = col > 1000000000L ? 1000000000 : (int)col;
}

static void set_error(struct template_error *err, const char *src, size_t pos, const char *fmt,
                      const char *a, const char *b)
{
    if (!err)
        return;
    position_of(src, pos, &err->line, &err->column);
    snprintf(err->message, sizeof err->message, fmt, a, b);
}

static int push_segment(struct template *t, struct segment seg)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct segment *p = realloc(t->segs, cap * sizeof *p);
        if (!p)
            return -1;
        t->segs = p;
        t->cap = cap;
    }
    t->segs[t->count++] = seg;
    return 0;
}

static int push_literal(struct template *t, size_t offset, size_t len)
{
    if (len == 0)
        return 0;
    struct segment seg = {SEG_LITERAL, VAR_NAME, offset, len, 0};
    return push_segment(t, seg);
}

void template_free(struct template *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->segs);
    free(t);
}

/* At most two sections can be open, and never the same one twice. */
#define MAX_OPEN 2

struct template *template_parse(const char *src, struct template_error *err)
{
    struct template_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    if (!src) {
        err->line = err->column = 1;
        snprintf(err->message, sizeof err->message, "no template");
        return NULL;
    }
    struct template *t = calloc(1, sizeof *t);
    if (!t || !(t->text = strdup(src))) {
        free(t);
        err->line = err->column = 1;
        snprintf(err->message, sizeof err->message, "out of memory");
        return NULL;
    }
    const char *s = t->text;
    size_t len = strlen(s);
    size_t open_seg[MAX_OPEN], open_pos[MAX_OPEN];
    int depth = 0;
    size_t lit = 0; /* start of the pending literal */
    size_t i = 0;
    char quoted[TAG_QUOTE_MAX + 8];

    while (i + 1 < len) {
        if (s[i] != '{' || s[i + 1] != '{') {
            i++;
            continue;
        }
        size_t tag = i;
        /* The tag ends at the first "}}"; a "{{" before it means this one never closed. */
        size_t close = tag + 2;
        while (close + 1 < len && !(s[close] == '}' && s[close + 1] == '}') &&
               !(s[close] == '{' && s[close + 1] == '{'))
            close++;
        if (close + 1 >= len || s[close] == '{') {
            set_error(err, s, tag, "unclosed {{ (every {{ needs a matching }})", "", "");
            goto fail;
        }
        size_t a = tag + 2, b = close;
        while (a < b && is_space(s[a]))
            a++;
        while (b > a && is_space(s[b - 1]))
            b--;
        quote_tag(quoted, sizeof quoted, s + a, b - a);
        if (push_literal(t, lit, tag - lit) != 0)
            goto oom;
        char sigil = a < b ? s[a] : '\0';
        if (sigil == '#' || sigil == '/') {
            size_t na = a + 1;
            while (na < b && is_space(s[na]))
                na++;
            quote_tag(quoted, sizeof quoted, s + na, b - na);
            int k = lookup_var(s + na, b - na, 1);
            if (k < 0) {
                set_error(err, s, tag,
                          sigil == '#' ? "unknown section {{#%s}}; known: %s"
                                       : "unknown section {{/%s}}; known: %s",
                          quoted, KNOWN_SECTIONS);
                goto fail;
            }
            enum var_id var = known_vars[k].var;
            if (sigil == '#') {
                for (int d = 0; d < depth; d++) {
                    if (t->segs[open_seg[d]].var == var) {
                        set_error(err, s, tag, "section {{#%s}} is already open%s", quoted,
                                  " (a section cannot nest inside itself)");
                        goto fail;
                    }
                }
                /* depth < MAX_OPEN here: there are only MAX_OPEN section names. */
                struct segment seg = {SEG_SECTION_BEGIN, var, 0, 0, 0};
                open_seg[depth] = t->count;
                open_pos[depth] = tag;
                depth++;
                if (push_segment(t, seg) != 0)
                    goto oom;
            } else {
                if (depth == 0) {
                    set_error(err, s, tag, "{{/%s}} without an open {{#%s}}", quoted, quoted);
                    goto fail;
                }
                enum var_id open = t->segs[open_seg[depth - 1]].var;
                if (open != var) {
                    set_error(err, s, tag, "{{/%s}} does not close the open section {{#%s}}",
                              quoted, var_name(open));
                    goto fail;
                }
                depth--;
                t->segs[open_seg[depth]].end = t->count;
                struct segment seg = {SEG_SECTION_END, var, 0, 0, 0};
                if (push_segment(t, seg) != 0)
                    goto oom;
            }
        } else {
            int k = lookup_var(s + a, b - a, 0);
            if (k < 0) {
                set_error(err, s, tag,
                          a == b ? "empty placeholder {{%s}}; known: %s"
                                 : "unknown placeholder {{%s}}; known: %s",
                          quoted, KNOWN_PLACEHOLDERS);
                goto fail;
            }
            struct segment seg = {SEG_VALUE, known_vars[k].var, 0, 0, 0};
            if (push_segment(t, seg) != 0)
                goto oom;
        }
        i = close + 2;
        lit = i;
    }
    if (depth > 0) {
        const char *name = var_name(t->segs[open_seg[depth - 1]].var);
        set_error(err, s, open_pos[depth - 1], "unclosed section {{#%s}}; close it with {{/%s}}",
                  name, name);
        goto fail;
    }
    if (push_literal(t, lit, len - lit) != 0)
        goto oom;
    return t;

oom:
    err->line = err->column = 1;
    snprintf(err->message, sizeof err->message, "out of memory");
fail:
    template_free(t);
    return NULL;
}

static const char *var_value(const struct template_vars *vars, enum var_id var)
{
    const char *v = NULL;
    if (vars) {
        switch (var) {
        case VAR_NAME:
            v = vars->name;
            break;
        case VAR_STATEMENT:
            v = vars->statement;
            break;
        case VAR_CAMPAIGN_TITLE:
            v = vars->campaign_title;
            break;
        case VAR_TARGET_ID:
            v = vars->target_id;
            break;
        }
    }
    return v ? v : "";
}

int template_render(const struct template *t, const struct template_vars *vars,
                    template_escape_fn escape_value, struct buf *out)
{
    if (!t)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        const struct segment *seg = &t->segs[i];
        switch (seg->kind) {
        case SEG_LITERAL:
            if (buf_append(out, t->text + seg->offset, seg->len) != 0)
                return -1;
            break;
        case SEG_VALUE: {
            const char *v = var_value(vars, seg->var);
            int rc = escape_value ? escape_value(out, v) : buf_puts(out, v);
            if (rc != 0)
                return -1;
            break;
        }
        case SEG_SECTION_BEGIN:
            if (var_value(vars, seg->var)[0] == '\0')
                i = seg->end; /* skip to the end marker; the loop steps past it */
            break;
        case SEG_SECTION_END:
            break;
        }
    }
    return buf_failed(out) ? -1 : 0;
}

int template_render_text(const char *src, const struct template_vars *vars, struct buf *out)
{
    struct template *t = template_parse(src, NULL);
    if (!t)
        return -1;
    int rc = template_render(t, vars, NULL, out);
    template_free(t);
    return rc;
}
