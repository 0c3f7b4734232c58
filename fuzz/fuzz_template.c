/*
 * fuzz_template: libFuzzer target for src/campaign/template.c. Any bytes are a
 * template an organizer might write: parsing must fail cleanly or compile, an
 * error must carry a sane position and a printable message, and rendering
 * (with the HTML escaper and raw) must never read or write out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/template.h"
#include "core/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';

    struct template_error err;
    struct template *t = template_parse(src, &err);
    if (!t) {
        if (err.line < 1 || err.column < 1 || !memchr(err.message, '\0', sizeof err.message))
            abort();
        for (const char *p = err.message; *p; p++)
            if ((unsigned char)*p < 0x20)
                abort();
        free(src);
        return 0;
    }
    /* The values are hostile too: they must come out as themselves, never expanded. */
    struct template_vars vars = {"{{name}}<b>", "{{#statement}}&{{/statement}}", "T{{", "id}}"};
    struct buf out = BUF_INIT;
    if (template_render(t, &vars, escape_html, &out) != 0)
        abort();
    buf_release(&out);
    buf_init(&out, 0);
    if (template_render(t, &vars, NULL, &out) != 0)
        abort();
    buf_release(&out);
    struct template_vars empty = {0};
    buf_init(&out, 0);
    if (template_render(t, &empty, NULL, &out) != 0)
        abort();
    buf_release(&out);
    template_free(t);
    free(src);
    return 0;
}
