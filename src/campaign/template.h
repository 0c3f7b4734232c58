/*
 * template: the message templates of a campaign ("{{name}}", "{{statement}}",
 * "{{campaign.title}}", "{{target.id}}", and the section
 * "{{#statement}}...{{/statement}}" shown only when the supporter wrote one).
 * A template is compiled once (template_parse, which reports the line and
 * column of any error) and rendered many times. Values are passed through an
 * escaper chosen by the caller (plain text, HTML, URL component); literal text
 * of the template is copied as it is. A supporter's text is a value, never a
 * template: "{{name}}" typed into a statement stays literally "{{name}}".
 */
#ifndef MUSTER_CAMPAIGN_TEMPLATE_H
#define MUSTER_CAMPAIGN_TEMPLATE_H

#include "core/buf.h"

struct template;

struct template_vars {
    const char *name;           /* may be NULL or "" */
    const char *statement;      /* may be NULL or "" */
    const char *campaign_title;
    const char *target_id;
};

struct template_error {
    int line;   /* 1-based, inside the template text */
    int column; /* 1-based, in characters (code points) */
    char message[160];
};

/* Appends value (NUL-terminated) to out, escaped for the output; returns 0 or -1. */
typedef int (*template_escape_fn)(struct buf *out, const char *value);

/* Compiles src. Returns NULL and fills *err on an error (unknown placeholder,
 * unclosed tag or section, mismatched section). Caller frees with template_free. */
struct template *template_parse(const char *src, struct template_error *err);
void template_free(struct template *t);

/* Renders with the given escaper for values (NULL: values copied as they are).
 * Returns 0, or -1 when out failed (size cap). */
int template_render(const struct template *t, const struct template_vars *vars,
                    template_escape_fn escape_value, struct buf *out);

/* Convenience: parse + render src as plain text into out. -1 on parse error. */
int template_render_text(const char *src, const struct template_vars *vars, struct buf *out);

#endif
