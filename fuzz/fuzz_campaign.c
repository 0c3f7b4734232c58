/*
 * fuzz_campaign: libFuzzer target for campaign_parse (src/campaign/campaign.c).
 * Any bytes are a campaign file: the parser returns a campaign or a list of
 * errors, never both and never neither, and every error line names the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    int rc = campaign_parse((const char *)data, size, "fuzz.json", &c, &errors);
    if (rc == 0) {
        if (!c || errors.len != 0 || !c->canonical_json || c->target_count == 0)
            abort();
        for (size_t i = 0; i < c->fallback.count; i++)
            if (!campaign_target(c, c->fallback.items[i]))
                abort();
        campaign_free(c);
    } else {
        if (c || errors.len == 0 || errors.data[errors.len - 1] != '\n' ||
            strncmp(errors.data, "fuzz.json", 9) != 0)
            abort();
    }
    buf_release(&errors);
    return 0;
}
