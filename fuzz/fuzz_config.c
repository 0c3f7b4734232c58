/*
 * fuzz_config: the small parsers of configuration and links on arbitrary
 * bytes: MUSTER_LISTEN's host:port (config_split_listen), a launch moment in
 * a time zone (tz_local_to_utc, with the input split at the first NUL into
 * the time and the zone name), and link tokens (token_link_parse). None may
 * crash; accepted values must be in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/token.h"
#include "core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        unsigned char secret[TOKEN_SECRET_LEN] = {1};
        if (token_init(secret) != 0)
            abort();
        ready = 1;
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char host[256];
    int port = -1;
    if (config_split_listen(s, host, sizeof host, &port) == 0 && (port < 0 || port > 65535))
        abort();
    const char *zone = s + strlen(s) + (strlen(s) < size ? 1 : 0);
    int64_t t;
    if (tz_local_to_utc(s, zone, &t) == 0 && !tz_valid(zone))
        abort();
    struct token_link link;
    if (token_link_parse(s, &link) == 0 && (link.key <= 0 || strlen(s) != TOKEN_LINK_LEN))
        abort();
    free(s);
    return 0;
}
