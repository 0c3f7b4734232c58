/*
 * bounces: attribution of a report's findings (see bounces.h).
 */
#include "service/bounces.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "service/suppression.h"
#include "store/store.h"

#include "core/banned.h"

const char *bounce_kind_name(enum bounce_kind kind)
{
    switch (kind) {
    case BOUNCE_PERMANENT:
        return "permanent";
    case BOUNCE_TEMPORARY:
        return "temporary";
    case BOUNCE_COMPLAINT:
        return "complaint";
    }
    return "unknown";
}

/* complaint > permanent > temporary */
static int kind_strength(enum bounce_kind kind)
{
    return kind == BOUNCE_COMPLAINT ? 3 : kind == BOUNCE_PERMANENT ? 2 : 1;
}

int bounces_attribute(struct store *st, const struct bounce_finding *found, size_t nfound,
                      int64_t return_path_supporter_id, struct bounce_attribution *out, size_t *n)
{
    *n = 0;
    if (nfound > BOUNCE_FINDINGS_MAX)
        nfound = BOUNCE_FINDINGS_MAX;
    if (nfound == 0)
        return 0;
    if (return_path_supporter_id > 0) {
        struct supporter sup;
        int rc = store_supporter_by_id(st, return_path_supporter_id, &sup);
        if (rc == STORE_NOT_FOUND)
            return 0;
        if (rc != 0) {
            log_error("bounce.store", "supporter=%lld", (long long)return_path_supporter_id);
            return -1;
        }
        const struct bounce_finding *strongest = &found[0];
        for (size_t i = 1; i < nfound; i++)
            if (kind_strength(found[i].kind) > kind_strength(strongest->kind))
                strongest = &found[i];
        struct bounce_attribution *a = &out[0];
        memset(a, 0, sizeof *a);
        snprintf(a->address, sizeof a->address, "%s", sup.email ? sup.email : "");
        a->kind = strongest->kind;
        snprintf(a->reason, sizeof a->reason, "%s", strongest->reason);
        a->campaign_id = sup.campaign_id;
        a->supporter_id = sup.id;
        a->via_return_path = 1;
        supporter_release(&sup);
        *n = a->address[0] ? 1 : 0;
        return 0;
    }
    for (size_t i = 0; i < nfound; i++) {
        if (!found[i].address[0])
            continue; /* only a return path could say who */
        struct bounce_attribution *a = &out[*n];
        memset(a, 0, sizeof *a);
        snprintf(a->address, sizeof a->address, "%s", found[i].address);
        a->kind = found[i].kind;
        snprintf(a->reason, sizeof a->reason, "%s", found[i].reason);
        (*n)++;
    }
    return 0;
}

int bounces_record(struct store *st, const struct bounce_attribution *a, int64_t now,
                   int *suppressed)
{
    char normalized[SUPPRESSION_ADDRESS_MAX + 1];
    *suppressed = 0;
    if (suppression_normalize(a->address, normalized) != 0)
        return 1;
    enum suppression_report_kind kind = a->kind == BOUNCE_COMPLAINT ? SUPPRESSION_REPORT_COMPLAINT
                                        : a->kind == BOUNCE_TEMPORARY
                                            ? SUPPRESSION_REPORT_TEMPORARY
                                            : SUPPRESSION_REPORT_PERMANENT;
    if (suppression_report(st, normalized, kind, a->reason, a->campaign_id, now, suppressed) != 0)
        return -1;
    log_info("bounce.recorded", "kind=%s campaign=%lld supporter=%lld by=%s suppressed=%d",
             bounce_kind_name(a->kind), (long long)a->campaign_id, (long long)a->supporter_id,
             a->via_return_path ? "return-path" : "report", *suppressed);
    return 0;
}
