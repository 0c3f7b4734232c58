/*
 * web: an organizer's own URL with placeholders, e.g.
 *   https://petition.example/sign?name={{name}}&why={{statement}}
 * The template's literal text is copied as it is; every placeholder value is
 * percent-encoded with escape_url, which leaves only RFC 3986 unreserved
 * characters and so is safe in a path segment, a query value or a fragment.
 * A literal part with a space or a control byte is refused by target.c, and
 * a placeholder in the host part is refused here.
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "core/banned.h"

static int web_build(const struct target_spec *t, const struct target_message *msg,
                     const struct template_vars *vars, const char *instance, struct buf *url)
{
    if (!t->url || (strncmp(t->url, "https://", 8) != 0 && strncmp(t->url, "http://", 7) != 0))
        return -1;
    /* The host is the organizer's: a placeholder there would let a supporter's
     * name pick the site the click goes to. */
    const char *host = strstr(t->url, "://") + 3;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0 || memmem(host, host_len, "{{", 2) != NULL)
        return -1;
    struct template_error err;
    struct template *tpl = template_parse(t->url, &err);
    if (!tpl)
        return -1;
    int rc = template_render(tpl, vars, escape_url, url); /* NULL vars: all "" */
    template_free(tpl);
    return rc != 0 || buf_failed(url) ? -1 : TARGET_REDIRECT;
}

const struct target_kind_ops target_web_ops = {
    .kind = TARGET_WEB,
    .build = web_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 0,
               .why = N_("Browsers, servers and proxies commonly refuse URLs much past 8 KB.")},
    .open_label = N_("Open the form"),
};
