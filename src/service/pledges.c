/*
 * pledges: the pledge rules (pledges.h). A re-pledge with other details,
 * confirmed or not, never changes what the pledge says and never changes what
 * a link already mailed confirms: the details are held as a numbered change,
 * and only the link mailed with that change (TOKEN_CONFIRM_CHANGE, its
 * number as the epoch) applies it; the first confirmation link still
 * confirms the first details. Anyone can type someone else's address into
 * the form, so nobody but the inbox's owner may decide what it says.
 * Confirmation mails are capped per address per day (UTC days), so the form
 * cannot be used to flood an inbox.
 */
#include "service/pledges.h"
#include "service/suppression.h"

#include <string.h>

#include "service/webhook_events.h"
#include "core/banned.h"

static int same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* 1 when the pledge already says what in says. */
static int same_details(const struct supporter *s, const struct pledge_input *in)
{
    return same_text(s->name, in->name) && same_text(s->statement, in->statement) &&
           same_text(s->timezone, in->timezone) && same_text(s->chosen_target, in->target);
}

int pledges_record_in_tx(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                         int mail_limit, int64_t now, enum pledge_outcome *outcome)
{
    int64_t day = now / 86400;
    struct pledge_state found = {0};
    /* Most pledges are new: the insert comes first (insert-if-absent), with
     * the confirmation mail a new pledge always gets (its day's first, so
     * under any limit), and only an address already pledged is looked up:
     * one statement for a new pledge on a database server. */
    int rc = store_pledge_insert_mailed(st, campaign_id, in, now, day, &found.id);
    if (rc == 0) {
        *outcome = PLEDGE_NEW;
        return 0;
    }
    if (rc != STORE_CONFLICT || store_pledge_find(st, campaign_id, in->email, &found) != 0)
        return -1;
    /* The same details again: nothing to hold, the mail repeats the first
     * link. Other details: held until their own link confirms. */
    struct supporter now_says;
    if (store_supporter_by_id(st, found.id, &now_says) != 0)
        return -1;
    int same = !now_says.has_pending_change && same_details(&now_says, in);
    supporter_release(&now_says);
    if (!same && store_pledge_hold_change(st, found.id, in) != 0)
        return -1;
    enum pledge_outcome result = found.confirmed ? PLEDGE_CHANGE_PENDING : PLEDGE_UPDATED_PENDING;
    int64_t mails = found.confirm_mail_day == day ? found.confirm_mails : 0;
    if (mail_limit > 0 && mails >= mail_limit) {
        result = PLEDGE_MAIL_SUPPRESSED;
    } else if (store_outbox_add(st, MAIL_CONFIRM, campaign_id, found.id, now) != 0 ||
               store_pledge_count_mail(st, found.id, day, mails + 1) != 0) {
        return -1;
    }
    *outcome = result;
    return 0;
}

int pledges_record(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                   int mail_limit, int64_t now, enum pledge_outcome *outcome)
{
    if (store_begin(st) != 0)
        return -1;
    if (pledges_record_in_tx(st, campaign_id, in, mail_limit, now, outcome) != 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

int pledges_confirm(struct store *st, int64_t supporter_id, enum confirm_what what,
                    uint32_t change_epoch, int64_t now, enum confirm_outcome *outcome)
{
    if (store_begin(st) != 0)
        return -1;
    struct supporter s;
    struct campaign_row campaign = {0};
    int rc = store_supporter_by_id(st, supporter_id, &s);
    if (rc != 0) {
        store_rollback(st);
        return rc;
    }
    rc = store_campaign_peek(st, NULL, s.campaign_id, &campaign);
    if (rc != 0)
        goto fail;
    enum confirm_outcome result = CONFIRM_ALREADY;
    int unsubscribed = s.unsubscribed_at != 0;
    if (what == CONFIRM_CHANGE && (!s.has_pending_change || s.change_epoch != change_epoch)) {
        supporter_release(&s);
        campaign_row_release(&campaign);
        store_rollback(st);
        return STORE_CONFLICT;
    }
    if (what == CONFIRM_CHANGE) {
        /* Confirming a change is asking for the reminders again. */
        if (store_pledge_apply_change(st, supporter_id) != 0 ||
            (unsubscribed && store_pledge_resubscribe(st, supporter_id) != 0))
            goto fail;
        unsubscribed = 0;
        result = CONFIRM_CHANGE_APPLIED;
    }
    if (!s.confirmed) {
        int64_t window_end = campaign.launch_utc + (int64_t)campaign.window_minutes * 60;
        if (store_pledge_mark_confirmed(st, supporter_id, now) != 0 ||
            store_outbox_add(st, MAIL_WELCOME, s.campaign_id, supporter_id, now) != 0 ||
            store_campaign_count_confirmed(st, s.campaign_id, 1) != 0)
            goto fail;
        /* Confirmed during the launch window: the reminder goes at once. */
        if (campaign.launched_at && now < window_end && !unsubscribed &&
            store_outbox_add(st, MAIL_REMINDER, s.campaign_id, supporter_id, now) != 0)
            goto fail;
        /* The campaign's webhook, when it has one (docs/WEBHOOKS.md). */
        if (webhook_events_queue(st, s.campaign_id, WEBHOOK_PLEDGE_CONFIRMED, supporter_id, 0,
                                 now) != 0)
            goto fail;
        result = CONFIRM_NEW;
    }
    supporter_release(&s);
    campaign_row_release(&campaign);
    if (store_commit(st) != 0)
        return -1;
    *outcome = result;
    return 0;
fail:
    supporter_release(&s);
    campaign_row_release(&campaign);
    store_rollback(st);
    return -1;
}

int pledges_unsubscribe(struct store *st, int64_t supporter_id, int64_t now)
{
    if (store_begin(st) != 0)
        return -1;
    int changed;
    if (store_pledge_unsubscribe(st, supporter_id, now, &changed) != 0 ||
        store_outbox_cancel_supporter(st, supporter_id, MAIL_REMINDER) != 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

int pledges_erase(struct store *st, const char *email, int64_t now, int *count)
{
    if (store_begin(st) != 0)
        return -1;
    int n;
    /* The mails first: afterwards nothing links them to the address. A
     * suppression entry stays, keyed by its hash, without the address. */
    if (store_outbox_cancel_email(st, email) != 0 || store_pledges_erase(st, email, now, &n) != 0 ||
        suppression_forget_address(st, email) != 0) {
        store_rollback(st);
        return -1;
    }
    if (store_commit(st) != 0)
        return -1;
    *count = n;
    return 0;
}

int pledges_import_in_tx(struct store *st, int64_t campaign_id, const char *email, const char *name,
                         const char *timezone, const char *consent_text, int64_t consent_at,
                         int64_t now)
{
    return store_pledge_import(st, campaign_id, email, name, timezone, consent_text, consent_at,
                               now);
}

int pledges_import_count(struct store *st, int64_t campaign_id, int64_t imported)
{
    return imported > 0 ? store_campaign_count_confirmed(st, campaign_id, imported) : 0;
}
