/*
 * call: a phone call has no URL that can carry the message, so it is always
 * the action page, with a "tel:+NUMBER" link (RFC 3966, global number, '+'
 * literal) and the script rendered for the supporter (target_render_script
 * in target.c). The number was validated as E.164 with the campaign; it is
 * checked again because it is copied into the page as it is.
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/i18n.h"
#include "core/banned.h"

/* '+' then 2..15 digits, the first not 0 (E.164). */
static int e164_valid(const char *n)
{
    if (!n || n[0] != '+' || n[1] < '1' || n[1] > '9')
        return 0;
    size_t digits = 0;
    for (const char *p = n + 1; *p; p++, digits++)
        if (*p < '0' || *p > '9')
            return 0;
    return digits >= 2 && digits <= 15;
}

static int call_build(const struct target_spec *t, const struct target_message *msg,
                      const struct template_vars *vars, const char *instance, struct buf *url)
{
    if (!e164_valid(t->number))
        return -1;
    buf_puts(url, "tel:");
    buf_puts(url, t->number);
    return buf_failed(url) ? -1 : TARGET_PAGE_CALL;
}

const struct target_kind_ops target_call_ops = {
    .kind = TARGET_CALL,
    .build = call_build,
    .limits = {.max_url_bytes = 0,
               .max_text_chars = 0,
               .why = N_("A phone call carries no text: the action page shows the number and "
                         "the script.")},
    .open_label = N_("Call now"),
};
