/*
 * stats_json: builds the stats document (see stats_json.h):
 * {"campaign", "pledges", "confirmed", "unsubscribed",
 *  "reminders": {"sent", "failed", "pending"}, "clicks", "supporters_clicked",
 *  "reroutes", "launched", "launch_at", "launch": {"state", "paused",
 *  "paused_at", "paused_by", "paused_reason"}, "targets": [{"id", "kind",
 *  "state", "cap", "assigned", "clicks", "rerouted", "reports", "reason"}],
 *  "delivery": {"mails_sent", "mails_suppressed", "bounces", "complaints",
 *  "bounce_rate", "complaint_rate", "complaint_limit", "complaints_over_limit"}}
 */
#include "service/stats_json.h"

#include "service/cache.h"
#include "service/suppression.h"
#include "campaign/campaign.h"
#include "core/tz.h"
#include "service/launches.h"
#include "store/store.h"
#include "core/banned.h"

int stats_json(struct store *st, const char *slug, json_t **out)
{
    struct campaign_row row;
    const struct campaign *c;
    int rc = campaign_cache_get(st, slug, &row, &c);
    if (rc != 0)
        return rc;
    struct campaign_stats s;
    struct target_list list;
    struct campaign_pause pause;
    struct suppression_rates rates;
    if (suppression_rates(st, row.id, &rates) != 0) {
        campaign_row_release(&row);
        return -1;
    }
    if (store_campaign_pause_get(st, row.id, &pause) != 0 || store_stats(st, row.id, &s) != 0 ||
        store_targets(st, row.id, &list) != 0) {
        campaign_row_release(&row);
        return -1;
    }
    enum launch_phase phase = launches_phase(&row, tz_now(), s.reminders_pending);
    char paused_at[21];
    if (pause.paused_at)
        tz_iso_utc(pause.paused_at, paused_at);
    json_t *launch_doc = json_pack("{s:s, s:b, s:o, s:s, s:s}", "state", launches_phase_name(phase),
                                   "paused", pause.paused_at != 0, "paused_at",
                                   pause.paused_at ? json_string(paused_at) : json_null(),
                                   "paused_by", pause.by, "paused_reason", pause.reason);
    const struct target_row *targets = list.rows;
    size_t n = list.count;
    char launch[21];
    tz_iso_utc(row.launch_utc, launch);
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct target_spec *t = campaign_target(c, targets[i].key);
        json_array_append_new(
            array,
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "id", targets[i].key, "kind",
                      t ? target_kind_name(t->kind) : "removed", "state",
                      targets[i].removed ? "removed"
                      : targets[i].open  ? "open"
                                         : "closed",
                      "cap", (json_int_t)targets[i].cap, "assigned",
                      (json_int_t)targets[i].assigned, "clicks", (json_int_t)targets[i].clicks,
                      "rerouted", (json_int_t)targets[i].rerouted, "reports",
                      (json_int_t)targets[i].reports, "reason", targets[i].reason));
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:o}",
        "campaign", row.slug, "title", c->title, "launch_at", launch, "launched",
        row.launched_at != 0, "launch", launch_doc, "pledges", (json_int_t)s.pledges, "confirmed",
        (json_int_t)s.confirmed, "unsubscribed", (json_int_t)s.unsubscribed, "reminders", "sent",
        (json_int_t)s.reminders_sent, "failed", (json_int_t)s.reminders_failed, "pending",
        (json_int_t)s.reminders_pending, "clicks", (json_int_t)s.clicks, "supporters_clicked",
        (json_int_t)s.supporters_clicked, "reroutes", (json_int_t)s.reroutes, "targets", array);
    target_list_release(&list);
    campaign_row_release(&row);
    if (!doc)
        return -1;
    json_t *delivery = json_pack(
        "{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:b}", "mails_sent", (json_int_t)rates.mails_sent,
        "mails_suppressed", (json_int_t)rates.mails_suppressed, "bounces",
        (json_int_t)rates.bounces, "complaints", (json_int_t)rates.complaints, "bounce_rate",
        rates.bounce_rate, "complaint_rate", rates.complaint_rate, "complaint_limit",
        SUPPRESSION_COMPLAINT_LIMIT, "complaints_over_limit", rates.complaints_over_limit);
    if (!delivery || json_object_set_new(doc, "delivery", delivery) != 0) {
        json_decref(doc);
        return -1;
    }
    *out = doc;
    return 0;
}
