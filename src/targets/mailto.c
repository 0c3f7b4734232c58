/*
 * mailto: an email target as an RFC 6068 URL,
 *   mailto:TO1,TO2?cc=C1,C2&bcc=B1&subject=S&body=B
 * Addresses are percent-encoded except '@' (RFC 6068 section 2 lets it stay)
 * and joined with a literal ','. Line breaks in the body become CRLF before
 * encoding (%0D%0A, section 5). A Subject header has no line breaks, so each
 * one in the title becomes a single space: a mail client must never see a
 * line break it could take for the start of another header.
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "core/banned.h"

static void put_address(struct buf *url, const char *addr)
{
    const char *p = addr ? addr : "";
    for (;;) {
        const char *at = strchr(p, '@');
        size_t n = at ? (size_t)(at - p) : strlen(p);
        escape_url_n(url, p, n);
        if (!at)
            break;
        buf_putc(url, '@');
        p = at + 1;
    }
}

static void put_address_list(struct buf *url, const struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        if (i > 0)
            buf_putc(url, ',');
        put_address(url, list->items[i]);
    }
}

/* Appends s with every line break (CRLF, LF or a lone CR) replaced by
 * line_break. */
static int put_lines(struct buf *out, const char *s, const char *line_break)
{
    for (const char *p = s ? s : ""; *p;) {
        size_t n = strcspn(p, "\r\n");
        buf_append(out, p, n);
        p += n;
        if (!*p)
            break;
        buf_puts(out, line_break);
        p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
    }
    return buf_failed(out) ? -1 : 0;
}

static int put_text_param(struct buf *url, char sep, const char *name, const char *text,
                          const char *line_break)
{
    struct buf plain = BUF_INIT;
    int rc = put_lines(&plain, text, line_break);
    if (rc == 0)
        rc = target_put_param(url, sep, name, buf_cstr(&plain));
    buf_release(&plain);
    return rc;
}

static int email_build(const struct target_spec *t, const struct target_message *msg,
                       const struct template_vars *vars, const char *instance, struct buf *url)
{
    buf_puts(url, "mailto:");
    put_address_list(url, &t->to);
    char sep = '?';
    if (t->cc.count) {
        buf_puts(url, "?cc=");
        put_address_list(url, &t->cc);
        sep = '&';
    }
    if (t->bcc.count) {
        buf_putc(url, sep);
        buf_puts(url, "bcc=");
        put_address_list(url, &t->bcc);
        sep = '&';
    }
    if (put_text_param(url, sep, "subject", msg->title, " ") != 0 ||
        put_text_param(url, '&', "body", msg->body, "\r\n") != 0)
        return -1;
    return buf_failed(url) ? -1 : TARGET_REDIRECT;
}

const struct target_kind_ops target_email_ops = {
    .kind = TARGET_EMAIL,
    .build = email_build,
    .limits = {.max_url_bytes = 2000,
               .max_text_chars = 0,
               .why = N_("Mail clients and the systems that hand mailto: links to them cut or "
                         "drop links past about 2000 bytes.")},
    .open_label = N_("Open the prefilled email"),
};
