/*
 * fuzz_domain_limits: the parser of MUSTER_DOMAIN_LIMITS (pacing_parse in
 * src/mail/pacing.c) on arbitrary bytes. It may refuse, with an error that
 * names the file and a line; it must not crash. An accepted file is then
 * used: every domain its bytes name as words is looked up, a message goes
 * out and ends with a throttling reply, and the state must stay sane.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/pacing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    struct pacing *p = pacing_parse((const char *)data, size, "fuzz.conf", err, sizeof err);
    if (!p) {
        if (strncmp(err, "fuzz.conf:", 10) != 0)
            abort(); /* an error that does not say where */
        return 0;
    }
    size_t routes = pacing_route_count(p);
    char word[300];
    size_t len = 0;
    int64_t now = 1000000;
    for (size_t i = 0; i <= size; i++) {
        char c = i < size ? (char)data[i] : ' ';
        if (c != ' ' && c != '\n' && c != ',' && c != '\t' && len < sizeof word - 1) {
            word[len++] = c;
            continue;
        }
        word[len] = '\0';
        len = 0;
        struct pacing_domain *d = pacing_lookup(p, word);
        if (!d || pacing_domain_route(d) >= routes)
            abort();
        if (pacing_wait_ms(d, now, 0) == 0)
            pacing_start(d, now);
        pacing_done(d, now, now + 1, 0, 421);
        if (pacing_domain_rate(d) < 1 || pacing_domain_in_flight(d) < 0)
            abort();
        now += 7;
    }
    pacing_free(p);
    return 0;
}
