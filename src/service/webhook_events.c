/*
 * webhook_events: the campaign's webhook answer and the payloads
 * (webhook_events.h). Whether an event is wanted follows the campaign file
 * as stored at that moment: its "webhook" object has a url, and its events
 * list is absent or names the event.
 */
#include "service/webhook_events.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_webhooks.h"
#include "webhooks/webhook.h"
#include "core/banned.h"

/* 1 when the stored campaign file wants event. The strstr keeps campaigns
 * without a webhook from paying for JSON parsing: in the canonical (compact)
 * file, "webhook": can only be the key, since quotes inside strings are
 * escaped. */
static int spec_wants(const char *spec_json, enum webhook_event event)
{
    if (!strstr(spec_json, "\"webhook\":"))
        return 0;
    json_t *root = json_loads(spec_json, 0, NULL);
    if (!root)
        return 0;
    int wanted = 0;
    json_t *hook = json_object_get(root, "webhook");
    if (json_is_string(json_object_get(hook, "url"))) {
        json_t *events = json_object_get(hook, "events");
        if (!events) {
            wanted = 1;
        } else {
            size_t i;
            json_t *v;
            json_array_foreach(events, i, v)
            {
                if (json_is_string(v) &&
                    strcmp(json_string_value(v), webhook_event_name(event)) == 0)
                    wanted = 1;
            }
        }
    }
    json_decref(root);
    return wanted;
}

int webhook_events_want(struct store *st, int64_t campaign_id, enum webhook_event event,
                        struct webhook_want *out)
{
    struct campaign_row row;
    int rc = store_campaign_get_by_id(st, campaign_id, &row);
    if (rc < 0)
        return -1;
    char *slug = NULL;
    if (rc == 0) {
        /* No such campaign (rc STORE_NOT_FOUND): nothing is owed. */
        if (spec_wants(row.spec_json, event)) {
            slug = row.slug;
            row.slug = NULL;
        }
        campaign_row_release(&row);
    }
    out->campaign_id = campaign_id;
    out->event = event;
    out->slug = slug;
    return 0;
}

void webhook_want_release(struct webhook_want *w)
{
    free(w->slug);
    w->slug = NULL;
}

int webhook_events_queue_wanted(struct store *st, const struct webhook_want *w,
                                int64_t supporter_id, int64_t target_id, int64_t at)
{
    if (!w->slug)
        return 0;
    char target[65] = "";
    if (target_id) {
        int rc = store_target_key(st, target_id, target);
        if (rc < 0)
            return -1;
        if (rc == STORE_NOT_FOUND)
            target[0] = '\0';
    }
    char event_id[WEBHOOK_EVENT_ID_LEN + 1], supporter[WEBHOOK_SUPPORTER_ID_LEN + 1];
    webhook_event_id(event_id);
    webhook_supporter_id(w->campaign_id, supporter_id, supporter);
    struct webhook_payload p = {w->event, event_id,  w->slug,
                                at,       supporter, target[0] ? target : NULL};
    struct buf payload = BUF_INIT;
    int result = -1;
    if (webhook_payload_build(&p, &payload) == 0)
        result = store_webhook_insert(st, w->campaign_id, w->event, buf_cstr(&payload), at);
    buf_release(&payload);
    return result;
}

int webhook_events_queue(struct store *st, int64_t campaign_id, enum webhook_event event,
                         int64_t supporter_id, int64_t target_id, int64_t at)
{
    struct webhook_want w;
    if (webhook_events_want(st, campaign_id, event, &w) != 0)
        return -1;
    int rc = webhook_events_queue_wanted(st, &w, supporter_id, target_id, at);
    webhook_want_release(&w);
    return rc;
}
