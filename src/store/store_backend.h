/*
 * store_backend: the table of functions a database offers muster, after
 * git's ref storage backends (struct ref_storage_be) and curl's TLS backends
 * (struct Curl_ssl with its `supports` bits). A backend embeds struct store
 * first in its own handle (struct sqlite_store) and fills one const table;
 * store.c picks the table by the scheme of MUSTER_DB and every store_*
 * function in store.h, store_webhooks.h and store_dashboard.h calls through
 * it. Only store/ includes this header: the rest of muster sees store.h.
 *
 * A backend stores rows and does the atomic operations store.h describes; it
 * never decides what they mean (src/service/). Every entry is required: a
 * backend that cannot do something says so with a capability bit and
 * answers -1 with a log line.
 */
#ifndef MUSTER_STORE_STORE_BACKEND_H
#define MUSTER_STORE_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_copy.h"
#include "store/store_dashboard.h"
#include "store/store_inspect.h"
#include "store/store_suppression.h"
#include "store/store_webhooks.h"

struct store {
    const struct store_backend *be;
    int guessing; /* store_set_guessing's choice; a backend may ignore it */
};

struct store_backend {
    const char *name;  /* "sqlite", "postgres" */
    unsigned supports; /* bits of enum store_capability */
    /* location without the scheme prefix */
    int (*open)(const char *location, struct store **out, char *err, size_t err_len);
    /* open, when the database holds no table yet; STORE_CONFLICT, nothing
     * touched, when it does (store_open_empty) */
    int (*open_empty)(const char *location, struct store **out, char *err, size_t err_len);
    void (*close)(struct store *st);
    int (*schema_version)(struct store *st);
    int (*ping)(struct store *st);
    int (*secret)(struct store *st, unsigned char secret[32]);
    int64_t (*data_version)(struct store *st);

    int (*begin)(struct store *st);
    int (*begin_rows)(struct store *st); /* optional: NULL is begin */
    int (*commit)(struct store *st);
    void (*rollback)(struct store *st);
    int (*savepoint)(struct store *st);
    int (*savepoint_end)(struct store *st, int keep);
    int (*read_begin)(struct store *st);
    void (*read_end)(struct store *st);
    int (*set_durable)(struct store *st, int full);
    int (*snapshot_enter)(struct store *st, int64_t max_age_us);
    void (*snapshot_leave)(struct store *st);
    void (*snapshot_end)(struct store *st);
    int (*snapshot_expire)(struct store *st, int64_t max_age_us);
    uint64_t (*snapshot_id)(struct store *st);
    int (*log_trim)(struct store *st, int64_t above_bytes, int wait_ms, struct store_log_trim *out);

    int (*campaign_get)(struct store *st, const char *slug, struct campaign_row *out);
    int (*campaign_peek)(struct store *st, const char *slug, int64_t id, struct campaign_row *out);
    int (*campaign_get_by_id)(struct store *st, int64_t id, struct campaign_row *out);
    int (*campaign_slugs)(struct store *st, struct buf *out);
    int (*campaign_insert)(struct store *st, const struct campaign *c, int64_t now, int64_t *id);
    int (*campaign_update)(struct store *st, int64_t id, const struct campaign *c,
                           int64_t launch_utc, int64_t now);
    int (*campaign_mark_launched)(struct store *st, int64_t id, int move_to_now, int64_t now,
                                  int *marked);
    int (*campaigns_due)(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
    int (*campaign_moved)(struct store *st, int64_t id, int64_t *sequence);
    int (*campaign_steps_done)(struct store *st, int64_t id, int64_t done_at);
    int (*campaigns_ahead)(struct store *st, int64_t now, int64_t horizon, int64_t *ids, size_t max,
                           size_t *n);
    int (*campaigns_missed)(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n);
    int (*campaign_set_pause)(struct store *st, int64_t campaign_id, int paused, const char *by,
                              const char *reason, int64_t now, int *changed);
    int (*campaign_pause_get)(struct store *st, int64_t campaign_id, struct campaign_pause *out);
    int (*confirmed_count)(struct store *st, int64_t campaign_id, int64_t *count);
    int (*campaign_count_confirmed)(struct store *st, int64_t campaign_id, int64_t delta);

    int (*targets)(struct store *st, int64_t campaign_id, struct target_list *out);
    int (*targets_replace)(struct store *st, int64_t campaign_id, const struct target_spec *targets,
                           size_t n);
    int (*target_find)(struct store *st, int64_t campaign_id, const char *key, int64_t *id,
                       int *open);
    int (*target_key)(struct store *st, int64_t target_id, char key[65]);
    int (*target_set_state)(struct store *st, int64_t target_id, int open, const char *reason,
                            const char *actor, int64_t now);
    int (*target_report_add)(struct store *st, int64_t target_id, int64_t supporter_id, int64_t now,
                             int *added);
    int (*target_reports_since)(struct store *st, int64_t target_id, int64_t since, int64_t *count);
    int (*place_take)(struct store *st, int64_t target_id, int64_t supporter_id,
                      int64_t previous_target, int *taken);

    int (*supporter_by_key)(struct store *st, int64_t token_key, struct supporter *out);
    int (*supporter_by_id)(struct store *st, int64_t id, struct supporter *out);
    /* Optional (NULL: store.c calls supporter_by_id for each id): for a
     * backend whose every statement is a round trip to a server. */
    int (*supporters_by_ids)(struct store *st, const int64_t *ids, size_t n, struct supporter *out,
                             int *found);
    /* Optional, as supporters_by_ids (NULL: supporter_by_key for each key). */
    int (*supporters_by_keys)(struct store *st, const int64_t *token_keys, size_t n,
                              struct supporter *out, int *found);
    int (*pledge_find)(struct store *st, int64_t campaign_id, const char *email,
                       struct pledge_state *out);
    /* Optional, as supporters_by_ids (NULL: pledge_insert, outbox_add and
     * pledge_count_mail one by one). */
    int (*pledge_insert_mailed)(struct store *st, int64_t campaign_id,
                                const struct pledge_input *in, int64_t now, int64_t day,
                                int64_t *id);
    int (*pledge_insert)(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                         int64_t now, int64_t *id);
    int (*pledge_import)(struct store *st, int64_t campaign_id, const char *email, const char *name,
                         const char *timezone, const char *consent_text, int64_t consent_at,
                         int64_t now);
    int (*pledge_hold_change)(struct store *st, int64_t supporter_id,
                              const struct pledge_input *in);
    int (*pledge_apply_change)(struct store *st, int64_t supporter_id);
    int (*pledge_load_change)(struct store *st, struct supporter *s);
    int (*pledge_count_mail)(struct store *st, int64_t supporter_id, int64_t day, int64_t mails);
    int (*pledge_mark_confirmed)(struct store *st, int64_t supporter_id, int64_t now);
    int (*pledge_unsubscribe)(struct store *st, int64_t supporter_id, int64_t now, int *changed);
    int (*pledge_resubscribe)(struct store *st, int64_t supporter_id);
    int (*set_instance)(struct store *st, int64_t supporter_id, const char *instance);
    int (*pledges_erase)(struct store *st, const char *email, int64_t now, int *count);

    int (*clicks_insert)(struct store *st, const struct click_record *clicks, size_t n);
    int (*supporter_assign)(struct store *st, int64_t supporter_id, int64_t target_id);
    int (*target_counters_add)(struct store *st, int64_t target_id, int64_t assigned,
                               int64_t clicks, int64_t rerouted);

    int (*outbox_add)(struct store *st, enum mail_kind kind, int64_t campaign_id,
                      int64_t supporter_id, int64_t now);
    int (*outbox_add_confirmed)(struct store *st, int64_t campaign_id, enum mail_kind kind,
                                int64_t now, int64_t *queued);
    int (*outbox_owed)(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t *owed);
    int (*outbox_add_variant)(struct store *st, int64_t campaign_id, enum mail_kind kind,
                              int64_t variant, int without_click, int64_t now, int64_t *queued);
    int (*outbox_claim)(struct store *st, const char *owner, int64_t campaign_id, int64_t now,
                        int lease_seconds, struct outbox_item *items, size_t max, size_t *n);
    int (*outbox_lease_owners)(struct store *st, int64_t now, char (*owners)[300], size_t max,
                               size_t *n);
    int (*outbox_lease_drop)(struct store *st, const char *owner);
    /* n >= 1 items each (store_outbox_renew_many, store_outbox_sent_many) */
    int (*outbox_renew)(struct store *st, const int64_t *ids, size_t n, const char *owner,
                        int64_t lease_until, int *ours);
    int (*outbox_sent)(struct store *st, const int64_t *ids, size_t n, const char *owner,
                       int64_t now);
    int (*outbox_retry)(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                        const char *reply);
    int (*outbox_defer)(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                        const char *reply);
    int (*outbox_failed)(struct store *st, int64_t item_id, const char *owner, int64_t now,
                         const char *reply);
    int (*outbox_cancel)(struct store *st, int64_t item_id);
    int (*outbox_cancel_supporter)(struct store *st, int64_t supporter_id, enum mail_kind kind);
    int (*outbox_cancel_email)(struct store *st, const char *email);
    int (*outbox_pending)(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t now,
                          int64_t *pending, int64_t *ready);

    int (*stats)(struct store *st, int64_t campaign_id, struct campaign_stats *out);
    int (*export_supporters)(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);
    int (*export_clicks)(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx);

    int (*organizer_set_password)(struct store *st, const char *email, const char *password_hash,
                                  int64_t now, int *created);
    int (*organizer_get)(struct store *st, const char *email, int64_t *id, char **password_hash);
    int (*session_create)(struct store *st, int64_t organizer_id, const char *token_hash,
                          int64_t now, int64_t expires_at);
    int (*session_delete)(struct store *st, const char *token_hash);
    int (*session_organizer)(struct store *st, const char *token_hash, int64_t now,
                             int64_t *organizer_id);
    int (*organizer_set_role)(struct store *st, int64_t organizer_id, enum organizer_role role);
    int (*organizer_role)(struct store *st, int64_t organizer_id, enum organizer_role *role);
    int (*grant_set)(struct store *st, int64_t campaign_id, int64_t organizer_id,
                     enum campaign_role role, int64_t now);
    int (*grant_delete)(struct store *st, int64_t campaign_id, int64_t organizer_id);
    int (*grant_role)(struct store *st, int64_t organizer_id, int64_t campaign_id,
                      enum campaign_role *role);
    int (*grants_of_campaign)(struct store *st, int64_t campaign_id, struct grant_row **rows,
                              size_t *n);
    int (*api_token_create)(struct store *st, int64_t organizer_id, const char *token_hash,
                            int64_t now, int64_t expires_at, int64_t *id);
    int (*api_token_find)(struct store *st, const char *token_hash, int64_t now,
                          struct api_token_row *out);
    int (*api_token_touch)(struct store *st, int64_t token_id, int64_t now);
    int (*api_tokens_of)(struct store *st, int64_t organizer_id, struct api_token_row **rows,
                         size_t *n);
    int (*api_token_revoke)(struct store *st, int64_t organizer_id, int64_t token_id);

    /* store_webhooks.h */
    int (*webhook_insert)(struct store *st, int64_t campaign_id, enum webhook_event event,
                          const char *payload, int64_t at);
    int (*webhook_claim)(struct store *st, const char *owner, int64_t now, int lease_seconds,
                         struct webhook_delivery *items, size_t max, size_t *n);
    int (*webhook_sent)(struct store *st, int64_t id, int status, int64_t now);
    int (*webhook_retry)(struct store *st, int64_t id, int64_t next_at, int status,
                         const char *error);
    int (*webhook_failed)(struct store *st, int64_t id, int64_t now, int status, const char *error);
    int (*webhook_release)(struct store *st, int64_t id);

    /* store_suppression.h */
    int (*suppression_add)(struct store *st, const struct suppression_entry *e, int *added);
    int (*suppression_get)(struct store *st, const char *key, struct suppression_entry *out);
    int (*suppression_exists)(struct store *st, const char *key, int *found);
    /* Optional, as supporters_by_ids. */
    int (*suppression_exists_many)(struct store *st, const char *const *keys, size_t n, int *found);
    int (*suppression_remove)(struct store *st, const char *key, int *removed);
    int (*suppression_forget_address)(struct store *st, const char *key, int *changed);
    int (*suppression_each)(struct store *st, store_suppression_fn row, void *ctx);
    int (*suppression_count)(struct store *st, int64_t *count);
    int (*suppression_temporary)(struct store *st, const char *key, int64_t now,
                                 int64_t window_start, int64_t *failures);
    int (*suppression_campaign_counts)(struct store *st, int64_t campaign_id, int64_t *bounces,
                                       int64_t *complaints);
    int (*outbox_suppressed)(struct store *st, int64_t item_id, int64_t now, const char *reason);
    int (*suppression_campaign_mail)(struct store *st, int64_t campaign_id, int64_t *sent,
                                     int64_t *suppressed);

    /* store_dashboard.h */
    int (*dashboard_bounds)(struct store *st, int64_t campaign_id, int64_t *first_pledge,
                            int64_t *first_activity, int64_t *last_activity);
    int (*dashboard_pledges)(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                             size_t n, int64_t *pledged, int64_t *confirmed);
    int (*dashboard_reminders)(struct store *st, int64_t campaign_id, int64_t *sent,
                               int64_t *failed, int64_t *pending);
    int (*dashboard_reminders_sent)(struct store *st, int64_t campaign_id, int64_t start,
                                    int64_t bucket, size_t n, int64_t *sent);
    int (*dashboard_clicks)(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                            size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts);
    int (*dashboard_reports_since)(struct store *st, int64_t campaign_id, int64_t since,
                                   const int64_t *target_ids, size_t ntargets, int64_t *counts);
    int (*dashboard_events)(struct store *st, int64_t campaign_id, struct dashboard_event *rows,
                            size_t max, size_t *n);

    /* store_inspect.h */
    int (*inspect_counts)(struct store *st, struct store_inspect_counts *out);
    int (*inspect_supporter_id)(struct store *st, const char *email, int64_t *id);
    int (*inspect_outbox)(struct store *st, enum mail_kind kind, const char *email,
                          store_inspect_outbox_fn row, void *ctx);
    int (*inspect_webhook_events)(struct store *st, store_inspect_webhook_fn row, void *ctx);
    int (*inspect_checkpoint)(struct store *st, struct store_inspect_checkpoint *out);
    int (*inspect_integrity)(struct store *st, struct store_inspect_integrity *out,
                             struct buf *problems);
    int (*inspect_set_email)(struct store *st, const char *email, const char *new_email,
                             int64_t *changed);
    int (*inspect_set_leases)(struct store *st, int64_t lease_until, int64_t *changed);

    /* store_copy.h: every (table, NULL), then its (table, column), of the
     * schema the handle uses, the backend's own bookkeeping tables left out */
    int (*copy_schema)(struct store *st,
                       int (*fn)(void *ctx, const char *table, const char *column), void *ctx);
    int (*copy_read)(struct store *st, const struct store_copy_table *t, store_row_fn row,
                     void *ctx);
    int (*copy_write)(struct store *st, const struct store_copy_table *t, const char *const *values,
                      size_t n);
    int (*copy_finish)(struct store *st, const struct store_copy_table *t);
    int (*copy_count)(struct store *st, const struct store_copy_table *t, int64_t *count);
    int (*copy_other_user)(struct store *st, int64_t *pid);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_pg;

#endif
