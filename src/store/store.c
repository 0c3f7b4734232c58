/*
 * store: the backend-neutral side of store.h. store_open picks a backend by
 * the form of its location (a path or sqlite:PATH: SQLite; postgres://,
 * postgresql:// or libpq's key=value pairs: PostgreSQL); every other
 * function forwards to the backend's table (store_backend.h), so callers
 * never know which database answers. The *_release helpers of the row
 * structs live here too: rows look the same whatever the backend.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/store_backend.h"
#include "store/store_inspect.h"
#include "store/store_suppression.h"
#include "core/banned.h"

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* libpq's key=value form: the location begins with a keyword of lowercase
 * letters and underscores followed by '=' ("host=/run/pg dbname=muster").
 * A SQLite file whose name looks like that is given as sqlite:NAME or
 * ./NAME. */
static int is_keyword_value_form(const char *s)
{
    while (*s == ' ')
        s++;
    const char *p = s;
    while ((*p >= 'a' && *p <= 'z') || *p == '_')
        p++;
    if (p == s)
        return 0;
    while (*p == ' ')
        p++;
    return *p == '=';
}

/* The backend for location and the part of it the backend opens; NULL with
 * a message in err when no backend takes it. */
static const struct store_backend *backend_for(const char *location, const char **rest, char *err,
                                               size_t err_len)
{
    if (!location || !*location) {
        snprintf(err, err_len, "no database given (MUSTER_DB or --db)");
        return NULL;
    }
    *rest = location;
    /* libpq reads the URL itself, scheme included. */
    if (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://") ||
        is_keyword_value_form(location))
        return &store_backend_pg;
    if (has_prefix(location, "sqlite:")) {
        *rest = location + strlen("sqlite:");
        /* sqlite://PATH is accepted as sqlite:PATH. */
        if (has_prefix(*rest, "//"))
            *rest += 2;
        if (!**rest) {
            snprintf(err, err_len, "database '%s' names no file after sqlite:", location);
            return NULL;
        }
        return &store_backend_sqlite;
    }
    const char *scheme_end = strstr(location, "://");
    if (scheme_end) {
        int len = (int)(scheme_end - location);
        snprintf(err, err_len,
                 "database '%.*s://...' has an unknown scheme (use a path, sqlite:PATH, "
                 "postgresql://... or libpq's key=value form)",
                 len > 32 ? 32 : len, location);
        return NULL;
    }
    return &store_backend_sqlite;
}

/* Appends [from, to) of s to out (size n, at *at). */
static void put(char *out, size_t n, size_t *at, const char *from, const char *to)
{
    for (const char *p = from; p < to && *at + 1 < n; p++)
        out[(*at)++] = *p;
    out[*at] = '\0';
}

void store_location_redact(const char *location, char *out, size_t n)
{
    if (n == 0)
        return;
    out[0] = '\0';
    if (!location)
        return;
    size_t at = 0;
    const char *end = location + strlen(location);
    static const char hidden[] = "***";
    if (has_prefix(location, "postgres://") || has_prefix(location, "postgresql://")) {
        const char *auth = strstr(location, "://") + 3;
        const char *auth_end = auth + strcspn(auth, "/?#");
        const char *at_sign = NULL;
        for (const char *p = auth; p < auth_end; p++)
            if (*p == '@')
                at_sign = p;
        const char *colon = at_sign ? memchr(auth, ':', (size_t)(at_sign - auth)) : NULL;
        const char *p = location;
        if (colon) {
            put(out, n, &at, p, colon + 1);
            put(out, n, &at, hidden, hidden + 3);
            p = at_sign;
        }
        /* The query: every password=VALUE up to the next & or #. */
        const char *query = strchr(auth_end, '?');
        if (!query) {
            put(out, n, &at, p, end);
            return;
        }
        put(out, n, &at, p, query + 1);
        p = query + 1;
        while (p < end) {
            const char *param_end = p + strcspn(p, "&#");
            if (has_prefix(p, "password=")) {
                put(out, n, &at, p, p + strlen("password="));
                put(out, n, &at, hidden, hidden + 3);
            } else {
                put(out, n, &at, p, param_end);
            }
            p = param_end;
            if (p < end) {
                put(out, n, &at, p, p + 1);
                p++;
            }
        }
        return;
    }
    if (!is_keyword_value_form(location)) {
        put(out, n, &at, location, end);
        return;
    }
    /* key = value pairs; a value is 'quoted' (with \\ escapes) or runs to a space. */
    const char *p = location;
    while (p < end) {
        const char *word = p;
        while (p < end && *p == ' ')
            p++;
        const char *key = p;
        while (p < end && *p != '=' && *p != ' ')
            p++;
        int is_password = (size_t)(p - key) == strlen("password") &&
                          strncmp(key, "password", strlen("password")) == 0;
        while (p < end && *p == ' ')
            p++;
        if (p < end && *p == '=')
            p++;
        while (p < end && *p == ' ')
            p++;
        put(out, n, &at, word, p);
        const char *value = p;
        if (p < end && *p == '\'') {
            p++;
            while (p < end && *p != '\'') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            if (p < end)
                p++;
        } else {
            while (p < end && *p != ' ')
                p++;
        }
        if (is_password)
            put(out, n, &at, hidden, hidden + 3);
        else
            put(out, n, &at, value, p);
    }
}

const char *store_location_backend(const char *location)
{
    const char *rest;
    char err[8];
    const struct store_backend *be = backend_for(location, &rest, err, sizeof err);
    return be ? be->name : NULL;
}

int store_location_check(const char *location, char *err, size_t err_len)
{
    const char *rest;
    return backend_for(location, &rest, err, err_len) ? 0 : -1;
}

int store_open(const char *location, struct store **out, char *err, size_t err_len)
{
    const char *rest;
    const struct store_backend *be = backend_for(location, &rest, err, err_len);
    if (!be)
        return -1;
    return be->open(rest, out, err, err_len);
}

int store_open_empty(const char *location, struct store **out, char *err, size_t err_len)
{
    const char *rest;
    const struct store_backend *be = backend_for(location, &rest, err, err_len);
    if (!be)
        return -1;
    return be->open_empty(rest, out, err, err_len);
}

void store_close(struct store *st)
{
    if (st)
        st->be->close(st);
}

const char *store_backend_name(const struct store *st)
{
    return st->be->name;
}

int store_supports(const struct store *st, enum store_capability cap)
{
    return (st->be->supports & (unsigned)cap) != 0;
}

void campaign_row_release(struct campaign_row *r)
{
    free(r->slug);
    free(r->spec_json);
    r->slug = r->spec_json = NULL;
}

void target_list_release(struct target_list *l)
{
    free(l->rows);
    l->rows = NULL;
    l->count = 0;
}

void supporter_release(struct supporter *s)
{
    free(s->email);
    free(s->name);
    free(s->statement);
    free(s->timezone);
    free(s->chosen_target);
    free(s->instance);
    free(s->change_name);
    free(s->change_statement);
    free(s->change_timezone);
    free(s->change_target);
    memset(s, 0, sizeof *s);
}

void webhook_delivery_release(struct webhook_delivery *d)
{
    free(d->payload);
    d->payload = NULL;
}

/* ---- forwarding: one function per entry of struct store_backend ---- */

int store_schema_version(struct store *st)
{
    return st->be->schema_version(st);
}

int store_ping(struct store *st)
{
    return st->be->ping(st);
}

int store_secret(struct store *st, unsigned char secret[32])
{
    return st->be->secret(st, secret);
}

int64_t store_data_version(struct store *st)
{
    return st->be->data_version(st);
}

int store_begin(struct store *st)
{
    return st->be->begin(st);
}

int store_begin_rows(struct store *st)
{
    return st->be->begin_rows ? st->be->begin_rows(st) : st->be->begin(st);
}

int store_commit(struct store *st)
{
    return st->be->commit(st);
}

void store_rollback(struct store *st)
{
    st->be->rollback(st);
}

int store_savepoint(struct store *st)
{
    return st->be->savepoint(st);
}

int store_savepoint_end(struct store *st, int keep)
{
    return st->be->savepoint_end(st, keep);
}

int store_read_begin(struct store *st)
{
    return st->be->read_begin(st);
}

void store_read_end(struct store *st)
{
    st->be->read_end(st);
}

int store_set_durable(struct store *st, int full)
{
    return st->be->set_durable(st, full);
}

void store_set_guessing(struct store *st, int on)
{
    st->guessing = on != 0;
}

int store_snapshot_enter(struct store *st, int64_t max_age_us)
{
    return st->be->snapshot_enter(st, max_age_us);
}

void store_snapshot_leave(struct store *st)
{
    st->be->snapshot_leave(st);
}

void store_snapshot_end(struct store *st)
{
    st->be->snapshot_end(st);
}

int store_snapshot_expire(struct store *st, int64_t max_age_us)
{
    return st->be->snapshot_expire(st, max_age_us);
}

uint64_t store_snapshot_id(struct store *st)
{
    return st->be->snapshot_id(st);
}

int store_log_trim(struct store *st, int64_t above_bytes, int wait_ms, struct store_log_trim *out)
{
    return st->be->log_trim(st, above_bytes, wait_ms, out);
}

int store_campaign_get(struct store *st, const char *slug, struct campaign_row *out)
{
    return st->be->campaign_get(st, slug, out);
}

int store_campaign_peek(struct store *st, const char *slug, int64_t id, struct campaign_row *out)
{
    return st->be->campaign_peek(st, slug, id, out);
}

int store_campaign_get_by_id(struct store *st, int64_t id, struct campaign_row *out)
{
    return st->be->campaign_get_by_id(st, id, out);
}

int store_campaign_slugs(struct store *st, struct buf *out)
{
    return st->be->campaign_slugs(st, out);
}

int store_campaign_insert(struct store *st, const struct campaign *c, int64_t now, int64_t *id)
{
    return st->be->campaign_insert(st, c, now, id);
}

int store_campaign_update(struct store *st, int64_t id, const struct campaign *c,
                          int64_t launch_utc, int64_t now)
{
    return st->be->campaign_update(st, id, c, launch_utc, now);
}

int store_campaign_mark_launched(struct store *st, int64_t id, int move_to_now, int64_t now,
                                 int *marked)
{
    return st->be->campaign_mark_launched(st, id, move_to_now, now, marked);
}

int store_campaign_moved(struct store *st, int64_t id, int64_t *sequence)
{
    return st->be->campaign_moved(st, id, sequence);
}

int store_campaign_steps_done(struct store *st, int64_t id, int64_t done_at)
{
    return st->be->campaign_steps_done(st, id, done_at);
}

int store_campaigns_ahead(struct store *st, int64_t now, int64_t horizon, int64_t *ids, size_t max,
                          size_t *n)
{
    return st->be->campaigns_ahead(st, now, horizon, ids, max, n);
}

int store_campaigns_due(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n)
{
    return st->be->campaigns_due(st, now, ids, max, n);
}

int store_campaigns_missed(struct store *st, int64_t now, int64_t *ids, size_t max, size_t *n)
{
    return st->be->campaigns_missed(st, now, ids, max, n);
}

int store_campaign_set_pause(struct store *st, int64_t campaign_id, int paused, const char *by,
                             const char *reason, int64_t now, int *changed)
{
    /* What store_campaign_pause_get can hand back whole. */
    if (!by || !reason || strlen(by) >= sizeof((struct campaign_pause *)0)->by ||
        strlen(reason) >= sizeof((struct campaign_pause *)0)->reason) {
        log_error("store.error", "op=campaign_set_pause error=\"who or why missing or too long\"");
        return -1;
    }
    return st->be->campaign_set_pause(st, campaign_id, paused, by, reason, now, changed);
}

int store_campaign_pause_get(struct store *st, int64_t campaign_id, struct campaign_pause *out)
{
    return st->be->campaign_pause_get(st, campaign_id, out);
}

int store_confirmed_count(struct store *st, int64_t campaign_id, int64_t *count)
{
    return st->be->confirmed_count(st, campaign_id, count);
}

int store_campaign_count_confirmed(struct store *st, int64_t campaign_id, int64_t delta)
{
    return st->be->campaign_count_confirmed(st, campaign_id, delta);
}

int store_targets(struct store *st, int64_t campaign_id, struct target_list *out)
{
    return st->be->targets(st, campaign_id, out);
}

int store_targets_replace(struct store *st, int64_t campaign_id, const struct target_spec *targets,
                          size_t n)
{
    return st->be->targets_replace(st, campaign_id, targets, n);
}

int store_target_find(struct store *st, int64_t campaign_id, const char *key, int64_t *id,
                      int *open)
{
    return st->be->target_find(st, campaign_id, key, id, open);
}

int store_target_key(struct store *st, int64_t target_id, char key[65])
{
    return st->be->target_key(st, target_id, key);
}

int store_target_set_state(struct store *st, int64_t target_id, int open, const char *reason,
                           const char *actor, int64_t now)
{
    return st->be->target_set_state(st, target_id, open, reason, actor, now);
}

int store_target_report_add(struct store *st, int64_t target_id, int64_t supporter_id, int64_t now,
                            int *added)
{
    return st->be->target_report_add(st, target_id, supporter_id, now, added);
}

int store_target_reports_since(struct store *st, int64_t target_id, int64_t since, int64_t *count)
{
    return st->be->target_reports_since(st, target_id, since, count);
}

int store_place_take(struct store *st, int64_t target_id, int64_t supporter_id,
                     int64_t previous_target, int *taken)
{
    return st->be->place_take(st, target_id, supporter_id, previous_target, taken);
}

int store_supporter_by_key(struct store *st, int64_t token_key, struct supporter *out)
{
    return st->be->supporter_by_key(st, token_key, out);
}

int store_supporter_by_id(struct store *st, int64_t id, struct supporter *out)
{
    return st->be->supporter_by_id(st, id, out);
}

/* The fallback of both reads of many: one read per value. */
static int supporters_one_by_one(struct store *st,
                                 int (*one)(struct store *, int64_t, struct supporter *),
                                 const int64_t *values, size_t n, struct supporter *out, int *found)
{
    for (size_t i = 0; i < n; i++) {
        int rc = one(st, values[i], &out[i]);
        found[i] = rc == 0;
        if (rc != 0 && rc != STORE_NOT_FOUND) {
            for (size_t k = 0; k < i; k++)
                if (found[k])
                    supporter_release(&out[k]);
            return -1;
        }
    }
    return 0;
}

int store_supporters_by_ids(struct store *st, const int64_t *ids, size_t n, struct supporter *out,
                            int *found)
{
    if (n == 0)
        return 0;
    if (st->be->supporters_by_ids)
        return st->be->supporters_by_ids(st, ids, n, out, found);
    return supporters_one_by_one(st, st->be->supporter_by_id, ids, n, out, found);
}

int store_supporters_by_keys(struct store *st, const int64_t *token_keys, size_t n,
                             struct supporter *out, int *found)
{
    if (n == 0)
        return 0;
    if (st->be->supporters_by_keys)
        return st->be->supporters_by_keys(st, token_keys, n, out, found);
    return supporters_one_by_one(st, st->be->supporter_by_key, token_keys, n, out, found);
}

int store_pledge_insert_mailed(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                               int64_t now, int64_t day, int64_t *id)
{
    if (st->be->pledge_insert_mailed)
        return st->be->pledge_insert_mailed(st, campaign_id, in, now, day, id);
    int64_t new_id;
    int rc = st->be->pledge_insert(st, campaign_id, in, now, &new_id);
    if (rc != 0)
        return rc;
    if (st->be->outbox_add(st, MAIL_CONFIRM, campaign_id, new_id, now) != 0 ||
        st->be->pledge_count_mail(st, new_id, day, 1) != 0)
        return -1;
    *id = new_id;
    return 0;
}

int store_pledge_find(struct store *st, int64_t campaign_id, const char *email,
                      struct pledge_state *out)
{
    return st->be->pledge_find(st, campaign_id, email, out);
}

int store_pledge_insert(struct store *st, int64_t campaign_id, const struct pledge_input *in,
                        int64_t now, int64_t *id)
{
    return st->be->pledge_insert(st, campaign_id, in, now, id);
}

int store_pledge_import(struct store *st, int64_t campaign_id, const char *email, const char *name,
                        const char *timezone, const char *consent_text, int64_t consent_at,
                        int64_t now)
{
    return st->be->pledge_import(st, campaign_id, email, name, timezone, consent_text, consent_at,
                                 now);
}

int store_pledge_hold_change(struct store *st, int64_t supporter_id, const struct pledge_input *in)
{
    return st->be->pledge_hold_change(st, supporter_id, in);
}

int store_pledge_apply_change(struct store *st, int64_t supporter_id)
{
    return st->be->pledge_apply_change(st, supporter_id);
}

int store_pledge_load_change(struct store *st, struct supporter *s)
{
    return st->be->pledge_load_change(st, s);
}

int store_pledge_count_mail(struct store *st, int64_t supporter_id, int64_t day, int64_t mails)
{
    return st->be->pledge_count_mail(st, supporter_id, day, mails);
}

int store_pledge_mark_confirmed(struct store *st, int64_t supporter_id, int64_t now)
{
    return st->be->pledge_mark_confirmed(st, supporter_id, now);
}

int store_pledge_unsubscribe(struct store *st, int64_t supporter_id, int64_t now, int *changed)
{
    return st->be->pledge_unsubscribe(st, supporter_id, now, changed);
}

int store_pledge_resubscribe(struct store *st, int64_t supporter_id)
{
    return st->be->pledge_resubscribe(st, supporter_id);
}

int store_set_instance(struct store *st, int64_t supporter_id, const char *instance)
{
    return st->be->set_instance(st, supporter_id, instance);
}

int store_pledges_erase(struct store *st, const char *email, int64_t now, int *count)
{
    return st->be->pledges_erase(st, email, now, count);
}

int store_clicks_insert(struct store *st, const struct click_record *clicks, size_t n)
{
    return st->be->clicks_insert(st, clicks, n);
}

int store_supporter_assign(struct store *st, int64_t supporter_id, int64_t target_id)
{
    return st->be->supporter_assign(st, supporter_id, target_id);
}

int store_target_counters_add(struct store *st, int64_t target_id, int64_t assigned, int64_t clicks,
                              int64_t rerouted)
{
    return st->be->target_counters_add(st, target_id, assigned, clicks, rerouted);
}

int store_outbox_add(struct store *st, enum mail_kind kind, int64_t campaign_id,
                     int64_t supporter_id, int64_t now)
{
    return st->be->outbox_add(st, kind, campaign_id, supporter_id, now);
}

int store_outbox_add_confirmed(struct store *st, int64_t campaign_id, enum mail_kind kind,
                               int64_t now, int64_t *queued)
{
    return st->be->outbox_add_confirmed(st, campaign_id, kind, now, queued);
}

int store_outbox_add_variant(struct store *st, int64_t campaign_id, enum mail_kind kind,
                             int64_t variant, int without_click, int64_t now, int64_t *queued)
{
    return st->be->outbox_add_variant(st, campaign_id, kind, variant, without_click, now, queued);
}

int store_outbox_owed(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t *owed)
{
    return st->be->outbox_owed(st, campaign_id, kind, owed);
}

int store_outbox_claim(struct store *st, const char *owner, int64_t campaign_id, int64_t now,
                       int lease_seconds, struct outbox_item *items, size_t max, size_t *n)
{
    return st->be->outbox_claim(st, owner, campaign_id, now, lease_seconds, items, max, n);
}

int store_outbox_lease_owners(struct store *st, int64_t now, char (*owners)[300], size_t max,
                              size_t *n)
{
    return st->be->outbox_lease_owners(st, now, owners, max, n);
}

int store_outbox_lease_drop(struct store *st, const char *owner)
{
    return st->be->outbox_lease_drop(st, owner);
}

int store_outbox_renew(struct store *st, int64_t item_id, const char *owner, int64_t lease_until,
                       int *ours)
{
    return st->be->outbox_renew(st, &item_id, 1, owner, lease_until, ours);
}

int store_outbox_renew_many(struct store *st, const int64_t *ids, size_t n, const char *owner,
                            int64_t lease_until, int *ours)
{
    return n ? st->be->outbox_renew(st, ids, n, owner, lease_until, ours) : 0;
}

int store_outbox_sent(struct store *st, int64_t item_id, const char *owner, int64_t now)
{
    return st->be->outbox_sent(st, &item_id, 1, owner, now);
}

int store_outbox_sent_many(struct store *st, const int64_t *ids, size_t n, const char *owner,
                           int64_t now)
{
    return n ? st->be->outbox_sent(st, ids, n, owner, now) : 0;
}

int store_outbox_retry(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply)
{
    return st->be->outbox_retry(st, item_id, owner, next_at, reply);
}

int store_outbox_defer(struct store *st, int64_t item_id, const char *owner, int64_t next_at,
                       const char *reply)
{
    return st->be->outbox_defer(st, item_id, owner, next_at, reply);
}

int store_outbox_failed(struct store *st, int64_t item_id, const char *owner, int64_t now,
                        const char *reply)
{
    return st->be->outbox_failed(st, item_id, owner, now, reply);
}

int store_outbox_cancel(struct store *st, int64_t item_id)
{
    return st->be->outbox_cancel(st, item_id);
}

int store_outbox_cancel_supporter(struct store *st, int64_t supporter_id, enum mail_kind kind)
{
    return st->be->outbox_cancel_supporter(st, supporter_id, kind);
}

int store_outbox_cancel_email(struct store *st, const char *email)
{
    return st->be->outbox_cancel_email(st, email);
}

int store_outbox_pending(struct store *st, int64_t campaign_id, enum mail_kind kind, int64_t now,
                         int64_t *pending, int64_t *ready)
{
    return st->be->outbox_pending(st, campaign_id, kind, now, pending, ready);
}

int store_stats(struct store *st, int64_t campaign_id, struct campaign_stats *out)
{
    return st->be->stats(st, campaign_id, out);
}

int store_export_supporters(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx)
{
    return st->be->export_supporters(st, campaign_id, row, ctx);
}

int store_export_clicks(struct store *st, int64_t campaign_id, store_row_fn row, void *ctx)
{
    return st->be->export_clicks(st, campaign_id, row, ctx);
}

int store_organizer_set_password(struct store *st, const char *email, const char *password_hash,
                                 int64_t now, int *created)
{
    return st->be->organizer_set_password(st, email, password_hash, now, created);
}

int store_organizer_get(struct store *st, const char *email, int64_t *id, char **password_hash)
{
    return st->be->organizer_get(st, email, id, password_hash);
}

int store_session_create(struct store *st, int64_t organizer_id, const char *token_hash,
                         int64_t now, int64_t expires_at)
{
    return st->be->session_create(st, organizer_id, token_hash, now, expires_at);
}

int store_session_delete(struct store *st, const char *token_hash)
{
    return st->be->session_delete(st, token_hash);
}

int store_session_organizer(struct store *st, const char *token_hash, int64_t now,
                            int64_t *organizer_id)
{
    return st->be->session_organizer(st, token_hash, now, organizer_id);
}

int store_organizer_set_role(struct store *st, int64_t organizer_id, enum organizer_role role)
{
    return st->be->organizer_set_role(st, organizer_id, role);
}

int store_organizer_role(struct store *st, int64_t organizer_id, enum organizer_role *role)
{
    return st->be->organizer_role(st, organizer_id, role);
}

int store_grant_set(struct store *st, int64_t campaign_id, int64_t organizer_id,
                    enum campaign_role role, int64_t now)
{
    return st->be->grant_set(st, campaign_id, organizer_id, role, now);
}

int store_grant_delete(struct store *st, int64_t campaign_id, int64_t organizer_id)
{
    return st->be->grant_delete(st, campaign_id, organizer_id);
}

int store_grant_role(struct store *st, int64_t organizer_id, int64_t campaign_id,
                     enum campaign_role *role)
{
    return st->be->grant_role(st, organizer_id, campaign_id, role);
}

int store_grants_of_campaign(struct store *st, int64_t campaign_id, struct grant_row **rows,
                             size_t *n)
{
    return st->be->grants_of_campaign(st, campaign_id, rows, n);
}

int store_api_token_create(struct store *st, int64_t organizer_id, const char *token_hash,
                           int64_t now, int64_t expires_at, int64_t *id)
{
    return st->be->api_token_create(st, organizer_id, token_hash, now, expires_at, id);
}

int store_api_token_find(struct store *st, const char *token_hash, int64_t now,
                         struct api_token_row *out)
{
    return st->be->api_token_find(st, token_hash, now, out);
}

int store_api_token_touch(struct store *st, int64_t token_id, int64_t now)
{
    return st->be->api_token_touch(st, token_id, now);
}

int store_api_tokens_of(struct store *st, int64_t organizer_id, struct api_token_row **rows,
                        size_t *n)
{
    return st->be->api_tokens_of(st, organizer_id, rows, n);
}

int store_api_token_revoke(struct store *st, int64_t organizer_id, int64_t token_id)
{
    return st->be->api_token_revoke(st, organizer_id, token_id);
}

int store_webhook_insert(struct store *st, int64_t campaign_id, enum webhook_event event,
                         const char *payload, int64_t at)
{
    return st->be->webhook_insert(st, campaign_id, event, payload, at);
}

int store_webhook_claim(struct store *st, const char *owner, int64_t now, int lease_seconds,
                        struct webhook_delivery *items, size_t max, size_t *n)
{
    return st->be->webhook_claim(st, owner, now, lease_seconds, items, max, n);
}

int store_webhook_sent(struct store *st, int64_t id, int status, int64_t now)
{
    return st->be->webhook_sent(st, id, status, now);
}

int store_webhook_retry(struct store *st, int64_t id, int64_t next_at, int status,
                        const char *error)
{
    return st->be->webhook_retry(st, id, next_at, status, error);
}

int store_webhook_failed(struct store *st, int64_t id, int64_t now, int status, const char *error)
{
    return st->be->webhook_failed(st, id, now, status, error);
}

int store_webhook_release(struct store *st, int64_t id)
{
    return st->be->webhook_release(st, id);
}

static const char *const suppression_kind_names[] = {
    [SUPPRESSION_BOUNCE] = "bounce",
    [SUPPRESSION_COMPLAINT] = "complaint",
    [SUPPRESSION_MANUAL] = "manual",
    [SUPPRESSION_TEMPORARY] = "temporary",
};

const char *suppression_kind_name(enum suppression_kind kind)
{
    if (kind < SUPPRESSION_BOUNCE || kind > SUPPRESSION_TEMPORARY)
        return NULL;
    return suppression_kind_names[kind];
}

int suppression_kind_parse(const char *name, enum suppression_kind *out)
{
    for (int k = SUPPRESSION_BOUNCE; name && k <= SUPPRESSION_TEMPORARY; k++) {
        if (strcmp(name, suppression_kind_names[k]) == 0) {
            *out = (enum suppression_kind)k;
            return 0;
        }
    }
    return -1;
}

void suppression_entry_release(struct suppression_entry *e)
{
    if (!e)
        return;
    free(e->address);
    free(e->reason);
    e->address = NULL;
    e->reason = NULL;
}

int store_suppression_add(struct store *st, const struct suppression_entry *e, int *added)
{
    return st->be->suppression_add(st, e, added);
}

int store_suppression_get(struct store *st, const char *key, struct suppression_entry *out)
{
    return st->be->suppression_get(st, key, out);
}

int store_suppression_exists(struct store *st, const char *key, int *found)
{
    return st->be->suppression_exists(st, key, found);
}

int store_suppression_exists_many(struct store *st, const char *const *keys, size_t n, int *found)
{
    if (n == 0)
        return 0;
    if (st->be->suppression_exists_many)
        return st->be->suppression_exists_many(st, keys, n, found);
    for (size_t i = 0; i < n; i++)
        if (st->be->suppression_exists(st, keys[i], &found[i]) != 0)
            return -1;
    return 0;
}

int store_suppression_remove(struct store *st, const char *key, int *removed)
{
    return st->be->suppression_remove(st, key, removed);
}

int store_suppression_forget_address(struct store *st, const char *key, int *changed)
{
    return st->be->suppression_forget_address(st, key, changed);
}

int store_suppression_each(struct store *st, store_suppression_fn row, void *ctx)
{
    return st->be->suppression_each(st, row, ctx);
}

int store_suppression_count(struct store *st, int64_t *count)
{
    return st->be->suppression_count(st, count);
}

int store_suppression_temporary(struct store *st, const char *key, int64_t now,
                                int64_t window_start, int64_t *failures)
{
    return st->be->suppression_temporary(st, key, now, window_start, failures);
}

int store_suppression_campaign_counts(struct store *st, int64_t campaign_id, int64_t *bounces,
                                      int64_t *complaints)
{
    return st->be->suppression_campaign_counts(st, campaign_id, bounces, complaints);
}

int store_outbox_suppressed(struct store *st, int64_t item_id, int64_t now, const char *reason)
{
    return st->be->outbox_suppressed(st, item_id, now, reason);
}

int store_suppression_campaign_mail(struct store *st, int64_t campaign_id, int64_t *sent,
                                    int64_t *suppressed)
{
    return st->be->suppression_campaign_mail(st, campaign_id, sent, suppressed);
}

int store_dashboard_bounds(struct store *st, int64_t campaign_id, int64_t *first_pledge,
                           int64_t *first_activity, int64_t *last_activity)
{
    return st->be->dashboard_bounds(st, campaign_id, first_pledge, first_activity, last_activity);
}

int store_dashboard_pledges(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                            size_t n, int64_t *pledged, int64_t *confirmed)
{
    return st->be->dashboard_pledges(st, campaign_id, start, bucket, n, pledged, confirmed);
}

int store_dashboard_reminders(struct store *st, int64_t campaign_id, int64_t *sent, int64_t *failed,
                              int64_t *pending)
{
    return st->be->dashboard_reminders(st, campaign_id, sent, failed, pending);
}

int store_dashboard_reminders_sent(struct store *st, int64_t campaign_id, int64_t start,
                                   int64_t bucket, size_t n, int64_t *sent)
{
    return st->be->dashboard_reminders_sent(st, campaign_id, start, bucket, n, sent);
}

int store_dashboard_clicks(struct store *st, int64_t campaign_id, int64_t start, int64_t bucket,
                           size_t n, const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    return st->be->dashboard_clicks(st, campaign_id, start, bucket, n, target_ids, ntargets,
                                    counts);
}

int store_dashboard_reports_since(struct store *st, int64_t campaign_id, int64_t since,
                                  const int64_t *target_ids, size_t ntargets, int64_t *counts)
{
    return st->be->dashboard_reports_since(st, campaign_id, since, target_ids, ntargets, counts);
}

int store_dashboard_events(struct store *st, int64_t campaign_id, struct dashboard_event *rows,
                           size_t max, size_t *n)
{
    return st->be->dashboard_events(st, campaign_id, rows, max, n);
}

int store_inspect_counts(struct store *st, struct store_inspect_counts *out)
{
    return st->be->inspect_counts(st, out);
}

int store_inspect_supporter_id(struct store *st, const char *email, int64_t *id)
{
    return st->be->inspect_supporter_id(st, email, id);
}

int store_inspect_outbox(struct store *st, enum mail_kind kind, const char *email,
                         store_inspect_outbox_fn row, void *ctx)
{
    return st->be->inspect_outbox(st, kind, email, row, ctx);
}

int store_inspect_webhook_events(struct store *st, store_inspect_webhook_fn row, void *ctx)
{
    return st->be->inspect_webhook_events(st, row, ctx);
}

int store_inspect_checkpoint(struct store *st, struct store_inspect_checkpoint *out)
{
    return st->be->inspect_checkpoint(st, out);
}

int store_inspect_integrity(struct store *st, struct store_inspect_integrity *out,
                            struct buf *problems)
{
    return st->be->inspect_integrity(st, out, problems);
}

int store_inspect_set_email(struct store *st, const char *email, const char *new_email,
                            int64_t *changed)
{
    return st->be->inspect_set_email(st, email, new_email, changed);
}

int store_inspect_set_leases(struct store *st, int64_t lease_until, int64_t *changed)
{
    return st->be->inspect_set_leases(st, lease_until, changed);
}
