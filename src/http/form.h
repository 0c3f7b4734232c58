/*
 * form: application/x-www-form-urlencoded bodies, decoded and validated
 * (percent escapes well-formed, UTF-8 valid, no NUL), with a bound on the
 * number of fields. The form owns its strings.
 */
#ifndef MUSTER_HTTP_FORM_H
#define MUSTER_HTTP_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64

struct form_field {
    char *name;
    char *value;
};

struct form {
    struct form_field fields[FORM_MAX_FIELDS];
    size_t count;
};

/* Parses body; returns 0, or -1 with a reason in err (which field was bad). */
int form_parse(struct form *f, const char *body, size_t len, char *err, size_t err_len);
/* The first value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);
void form_release(struct form *f);

#endif
