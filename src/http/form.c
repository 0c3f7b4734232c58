/*
 * form: urlencoded body parsing on top of unescape_url (see form.h). Fuzzed by
 * fuzz/fuzz_form.c.
 */
#include "http/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/banned.h"

int form_parse(struct form *f, const char *body, size_t len, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    size_t pos = 0;
    while (pos < len) {
        const char *start = body + pos;
        const char *amp = memchr(start, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - start) : len - pos;
        pos += plen + 1;
        if (plen == 0)
            continue;
        if (f->count >= FORM_MAX_FIELDS) {
            snprintf(err, err_len, "too many form fields (at most %d)", FORM_MAX_FIELDS);
            form_release(f);
            return -1;
        }
        const char *eq = memchr(start, '=', plen);
        size_t nlen = eq ? (size_t)(eq - start) : plen;
        struct buf name = BUF_INIT, value = BUF_INIT;
        if (unescape_url(&name, start, nlen, 1) != 0 ||
            (eq && unescape_url(&value, eq + 1, plen - nlen - 1, 1) != 0)) {
            snprintf(err, err_len,
                     "form field %zu is not valid (bad %%-escape or not UTF-8)", f->count + 1);
            buf_release(&name);
            buf_release(&value);
            form_release(f);
            return -1;
        }
        f->fields[f->count].name = buf_detach(&name);
        f->fields[f->count].value = buf_detach(&value);
        if (!f->fields[f->count].name || !f->fields[f->count].value) {
            snprintf(err, err_len, "out of memory");
            f->count++;
            form_release(f);
            return -1;
        }
        f->count++;
    }
    return 0;
}

const char *form_get(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

void form_release(struct form *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->fields[i].name);
        free(f->fields[i].value);
    }
    f->count = 0;
}
