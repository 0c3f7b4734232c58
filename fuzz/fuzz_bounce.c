/*
 * fuzz_bounce: the hand-written part of reading bounces (mail/bounce_fields.c
 * and mail/verp.c) on arbitrary bytes: delivery-status fields, feedback-report
 * fields, the text of non-standard bounces, and the search for a return-path
 * token. The first byte picks the reader. Whatever the input, every finding
 * is a NUL-terminated address with one '@' and no control character, its
 * reason has no control character, and there are at most
 * BOUNCE_FINDINGS_MAX; anything else abort()s.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "mail/bounce.h"
#include "mail/verp.h"
#include "core/banned.h"

static void check(const struct bounce_report *r)
{
    if (r->n > BOUNCE_FINDINGS_MAX)
        abort();
    for (size_t i = 0; i < r->n; i++) {
        const struct bounce_finding *f = &r->found[i];
        size_t al = strnlen(f->address, sizeof f->address);
        size_t rl = strnlen(f->reason, sizeof f->reason);
        if (al == sizeof f->address || rl == sizeof f->reason)
            abort();
        const char *at = strchr(f->address, '@');
        if (!at || strchr(at + 1, '@'))
            abort();
        for (size_t k = 0; k < al; k++)
            if ((unsigned char)f->address[k] <= 0x20 || f->address[k] == 0x7f)
                abort();
        for (size_t k = 0; k < rl; k++)
            if ((unsigned char)f->reason[k] < 0x20 || f->reason[k] == 0x7f)
                abort();
        if (f->kind != BOUNCE_PERMANENT && f->kind != BOUNCE_TEMPORARY &&
            f->kind != BOUNCE_COMPLAINT)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        unsigned char secret[TOKEN_SECRET_LEN];
        memset(secret, 7, sizeof secret);
        if (token_init(secret) != 0)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    static struct bounce_report r;
    memset(&r, 0, sizeof r);
    switch (data[0] % 4) {
    case 0:
        bounce_read_dsn(text, len, &r);
        break;
    case 1:
        bounce_read_arf(text, len, &r);
        break;
    case 2: {
        static const char exclude[] = "list-bounces@example.org\0owner@example.org\0";
        bounce_read_text(text, len, exclude, &r);
        break;
    }
    default: {
        int64_t ob = 0, sup = 0;
        char made[VERP_ADDRESS_MAX];
        if (verp_find("bounces@example.org", text, len, &ob, &sup) == 1) {
            /* a token found must be the one verp_address makes */
            if (verp_address("bounces@example.org", ob, sup, made, sizeof made) != 0)
                abort();
        }
        return 0;
    }
    }
    check(&r);
    return 0;
}
