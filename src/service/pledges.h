/*
 * pledges: the rules of a supporter's pledge, for every backend: what a
 * pledge, a re-pledge, a confirmation, an unsubscribe, an import and an
 * erase do, and which mails and webhook events each one queues. Each runs in
 * one write transaction of the store (pledges_record_in_tx inside one the
 * caller opened: the group commit of `muster serve`).
 */
#ifndef MUSTER_SERVICE_PLEDGES_H
#define MUSTER_SERVICE_PLEDGES_H

#include <stdint.h>

#include "store/store.h"

enum pledge_outcome {
    PLEDGE_NEW,             /* new pending supporter, confirmation queued */
    PLEDGE_UPDATED_PENDING, /* still unconfirmed: other details held as a change, mailed with
                               the link that confirms them */
    PLEDGE_CHANGE_PENDING,  /* confirmed: the same, the pledge unchanged until then */
    PLEDGE_MAIL_SUPPRESSED, /* as above, but the per-address mail limit held the mail back */
};
/* Records a pledge durably and queues the confirmation mail in the same
 * transaction. At most mail_limit confirmation mails per address per day. */
int pledges_record(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                   int mail_limit, int64_t now, enum pledge_outcome *outcome);
int pledges_record_in_tx(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                         int mail_limit, int64_t now, enum pledge_outcome *outcome);

enum confirm_outcome { CONFIRM_NEW, CONFIRM_CHANGE_APPLIED, CONFIRM_ALREADY };
/* What a confirmation link confirms: the pledge as it stands (the first
 * link), or the held change numbered change_epoch (the link mailed with it). */
enum confirm_what { CONFIRM_PLEDGE, CONFIRM_CHANGE };
/* Confirms (idempotent); with CONFIRM_CHANGE applies the held change first,
 * only while it is still the one numbered change_epoch (else
 * STORE_CONFLICT: a newer change replaced it). Queues the "you're in" mail
 * and the pledge.confirmed webhook event on the first confirmation, and the
 * reminder when the campaign is launched and within its window. */
int pledges_confirm(struct store *st, int64_t supporter_id, enum confirm_what what,
                    uint32_t change_epoch, int64_t now, enum confirm_outcome *outcome);
/* Unsubscribes from reminders; cancels a queued, unsent reminder. */
int pledges_unsubscribe(struct store *st, int64_t supporter_id, int64_t now);
/* Removes a person's data (by email, every campaign) and cancels every mail
 * still owed to them; keeps anonymous counts. *count gets the pledges erased. */
int pledges_erase(struct store *st, const char *email, int64_t now, int *count);
/* Imports one supporter with consent recorded elsewhere, as confirmed
 * (inside a transaction the caller opened). STORE_CONFLICT when the address
 * already pledged. The campaign's confirmed count is not moved: the caller
 * ends its import with pledges_import_count, in the same transaction (one
 * write of the campaign's row per import, not one per supporter: PostgreSQL
 * slows with every version of one row a transaction writes). */
int pledges_import_in_tx(struct store *st, int64_t campaign_id, const char *email, const char *name,
                         const char *timezone, const char *consent_text, int64_t consent_at,
                         int64_t now);
/* Adds the supporters an import brought to the campaign's confirmed count
 * (inside the import's transaction). */
int pledges_import_count(struct store *st, int64_t campaign_id, int64_t imported);

#endif
