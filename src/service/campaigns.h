/*
 * campaigns: the rules of applying a campaign and of opening, closing and
 * reporting its targets, for every backend: a launched campaign's message is
 * frozen and keeps the moment it launched at; a target closes by itself when
 * enough of the supporters assigned to it report it within the campaign's
 * window.
 */
#ifndef MUSTER_SERVICE_CAMPAIGNS_H
#define MUSTER_SERVICE_CAMPAIGNS_H

#include <stddef.h>
#include <stdint.h>

#include "campaign/campaign.h"

struct store;

enum apply_result { APPLY_UNCHANGED, APPLY_CREATED, APPLY_UPDATED };
/* Creates or updates the campaign and its targets in one transaction.
 * STORE_CONFLICT with the reason in err when the change is refused (a
 * launched campaign's message is frozen). */
int campaigns_apply(struct store *st, const struct campaign *c, int64_t now,
                    enum apply_result *result, char *err, size_t err_len);

/* Closes or opens a target and records the event. STORE_NOT_FOUND when the
 * target does not exist; *changed is 0 when it already was in that state. */
int campaigns_target_set_open(struct store *st, int64_t campaign_id, const char *target_key,
                              int open, const char *reason, const char *actor, int64_t now,
                              int *changed);
/* assigned_target of campaigns_target_report in the `all` mode, where every
 * open target is every supporter's. */
#define REPORT_ANY_TARGET (-1)
/* campaigns_target_report's answer when the supporter was not sent there. */
#define REPORT_NOT_ASSIGNED 3
/* Records a supporter's report that the target did not accept the action.
 * Only a supporter assigned to that target (assigned_target: the id of the
 * target their link sent them to, 0 for none, or REPORT_ANY_TARGET) counts:
 * anyone else gets REPORT_NOT_ASSIGNED and nothing is recorded, so reports
 * from supporters never sent there cannot close a target. When threshold > 0
 * and the reports within window_seconds reach it, closes the target;
 * *closed_now tells. STORE_NOT_FOUND: no such target. */
int campaigns_target_report(struct store *st, int64_t campaign_id, int64_t supporter_id,
                            int64_t assigned_target, const char *target_key, int threshold,
                            int window_seconds, int64_t now, int *closed_now);

#endif
