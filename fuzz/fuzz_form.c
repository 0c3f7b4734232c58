/*
 * fuzz_form: urlencoded form parsing (src/http/form.c) on arbitrary bytes.
 * Invariants: a parsed form has at most FORM_MAX_FIELDS fields, every name and
 * value is valid UTF-8 without NUL, and a failure leaves no fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct form f;
    char err[160];
    if (form_parse(&f, (const char *)data, size, err, sizeof err) != 0) {
        if (f.count != 0 || !err[0])
            abort();
        return 0;
    }
    if (f.count > FORM_MAX_FIELDS)
        abort();
    for (size_t i = 0; i < f.count; i++) {
        if (!utf8_valid(f.fields[i].name, strlen(f.fields[i].name)) ||
            !utf8_valid(f.fields[i].value, strlen(f.fields[i].value)))
            abort();
        if (form_get(&f, f.fields[i].name) == NULL)
            abort();
    }
    form_release(&f);
    return 0;
}
