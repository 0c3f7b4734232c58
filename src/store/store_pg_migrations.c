/*
 * store_pg_migrations: the PostgreSQL schema, as an append-only list of
 * versioned steps numbered as SQLite's (store_sqlite_migrations.c): step N
 * here makes what step N makes there, so a version means the same tables
 * whatever the backend. The version is the row of muster_schema; store_pg.c
 * applies every step above it, each in its own transaction, under an
 * advisory lock. Never edit a step that has shipped: add one.
 */
#include "store/pg_private.h"

static const char *const migration_steps[] = {
    /* 1: campaigns, targets, supporters, outbox, clicks */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);"
    "CREATE TABLE campaigns ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  spec_json TEXT NOT NULL,"
    "  launch_utc BIGINT NOT NULL,"
    "  launched_at BIGINT NOT NULL DEFAULT 0,"
    "  window_minutes BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL DEFAULT 1,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE TABLE targets ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  key TEXT NOT NULL,"
    "  position BIGINT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  cap BIGINT NOT NULL DEFAULT -1,"
    "  open BIGINT NOT NULL DEFAULT 1,"
    "  removed BIGINT NOT NULL DEFAULT 0,"
    "  assigned BIGINT NOT NULL DEFAULT 0,"
    "  clicks BIGINT NOT NULL DEFAULT 0,"
    "  rerouted BIGINT NOT NULL DEFAULT 0,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (campaign_id, key));"
    "CREATE TABLE target_events ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  target_id BIGINT NOT NULL REFERENCES targets(id),"
    "  at BIGINT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  actor TEXT NOT NULL);"
    "CREATE TABLE target_reports ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  target_id BIGINT NOT NULL REFERENCES targets(id),"
    "  supporter_id BIGINT,"
    "  at BIGINT NOT NULL);"
    "CREATE INDEX target_reports_recent ON target_reports(target_id, at);"
    "CREATE TABLE supporters ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  token_key BIGINT NOT NULL UNIQUE,"
    "  epoch BIGINT NOT NULL DEFAULT 0,"
    "  email TEXT,"
    "  email_norm TEXT,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  statement TEXT NOT NULL DEFAULT '',"
    "  timezone TEXT NOT NULL DEFAULT 'UTC',"
    "  chosen_target TEXT,"
    "  instance TEXT,"
    "  status TEXT NOT NULL DEFAULT 'pending'," /* pending | confirmed | erased */
    "  created_at BIGINT NOT NULL,"
    "  consent_at BIGINT NOT NULL,"
    "  consent_text TEXT NOT NULL,"
    "  consent_ip TEXT,"
    "  source TEXT NOT NULL DEFAULT 'form',"
    "  confirmed_at BIGINT NOT NULL DEFAULT 0,"
    "  unsubscribed_at BIGINT NOT NULL DEFAULT 0,"
    "  erased_at BIGINT NOT NULL DEFAULT 0,"
    "  assigned_target BIGINT NOT NULL DEFAULT 0,"
    "  pending_json TEXT,"
    "  confirm_mail_day BIGINT NOT NULL DEFAULT 0,"
    "  confirm_mails BIGINT NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX supporters_email ON supporters(campaign_id, email_norm);"
    "CREATE INDEX supporters_by_email ON supporters(email_norm);"
    "CREATE INDEX supporters_confirmed ON supporters(campaign_id, status, confirmed_at);"
    "CREATE TABLE outbox ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  supporter_id BIGINT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'," /* pending | sent | failed | cancelled */
    "  owner TEXT,"
    "  lease_until BIGINT NOT NULL DEFAULT 0,"
    "  attempts BIGINT NOT NULL DEFAULT 0,"
    "  next_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  sent_at BIGINT NOT NULL DEFAULT 0,"
    "  last_reply TEXT);"
    "CREATE UNIQUE INDEX outbox_one_reminder ON outbox(campaign_id, supporter_id) WHERE kind = 3;"
    "CREATE UNIQUE INDEX outbox_one_welcome ON outbox(campaign_id, supporter_id) WHERE kind = 2;"
    "CREATE INDEX outbox_due ON outbox(state, next_at);"
    "CREATE INDEX outbox_by_campaign ON outbox(campaign_id, kind, state);"
    "CREATE TABLE clicks ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  supporter_id BIGINT,"
    "  target_id BIGINT,"
    "  at BIGINT NOT NULL,"
    "  rerouted BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX clicks_by_campaign ON clicks(campaign_id, at);",
    /* 2: organizers, their sessions and API tokens (stored as SHA-256) */
    "CREATE TABLE organizers ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  password_changed_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  organizer_id BIGINT NOT NULL REFERENCES organizers(id),"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE TABLE api_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  organizer_id BIGINT NOT NULL REFERENCES organizers(id),"
    "  created_at BIGINT NOT NULL);",
    /* 3: webhook deliveries owed (docs/WEBHOOKS.md), claimed with leases like outbox */
    "CREATE TABLE webhook_events ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  event TEXT NOT NULL," /* pledge.confirmed | action.clicked */
    "  payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'," /* pending | sent | failed */
    "  attempts BIGINT NOT NULL DEFAULT 0,"
    "  next_at BIGINT NOT NULL,"
    "  owner TEXT,"
    "  lease_until BIGINT NOT NULL DEFAULT 0,"
    "  last_status BIGINT NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  done_at BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX webhook_events_due ON webhook_events(state, next_at);",
    /* 4: the dashboard's pledges-over-time series */
    "CREATE INDEX supporters_created ON supporters(campaign_id, created_at);",
    /* 5: the confirmed count as a counter */
    "ALTER TABLE campaigns ADD COLUMN confirmed_count BIGINT NOT NULL DEFAULT 0;"
    "UPDATE campaigns SET confirmed_count = (SELECT count(*) FROM supporters s "
    "WHERE s.campaign_id = campaigns.id AND s.status = 'confirmed');",
    /* 6: the rows claimed right now */
    "CREATE INDEX outbox_claimed ON outbox(owner) WHERE owner IS NOT NULL;",
    /* 7: places taken under a target's cap (store_place_take) */
    "ALTER TABLE targets ADD COLUMN places BIGINT NOT NULL DEFAULT 0;"
    "UPDATE targets SET places = assigned;",
    /* 8: the number of the supporter's held change (a re-pledge) */
    "ALTER TABLE supporters ADD COLUMN change_epoch BIGINT NOT NULL DEFAULT 0;",
    /* 9: roles: a server role per organizer (those there before become
     * administrators), a role per organizer and campaign, and API tokens with
     * an id, an expiry (90 days from this upgrade for those there before) and
     * a last use */
    "ALTER TABLE organizers ADD COLUMN role TEXT NOT NULL DEFAULT 'organizer' "
    "  CHECK (role IN ('admin', 'organizer'));"
    "UPDATE organizers SET role = 'admin';"
    "CREATE TABLE campaign_grants ("
    "  campaign_id BIGINT NOT NULL REFERENCES campaigns(id),"
    "  organizer_id BIGINT NOT NULL REFERENCES organizers(id),"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),"
    "  granted_at BIGINT NOT NULL,"
    "  PRIMARY KEY (campaign_id, organizer_id));"
    "CREATE INDEX campaign_grants_by_organizer ON campaign_grants(organizer_id);"
    "CREATE TABLE api_tokens_v9 ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  organizer_id BIGINT NOT NULL REFERENCES organizers(id),"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL,"
    "  last_used_at BIGINT NOT NULL DEFAULT 0);"
    "INSERT INTO api_tokens_v9 (token_hash, organizer_id, created_at, expires_at) "
    "  SELECT token_hash, organizer_id, created_at, "
    "  extract(epoch FROM now())::bigint + 90 * 86400 FROM api_tokens ORDER BY created_at;"
    "DROP TABLE api_tokens;"
    "ALTER TABLE api_tokens_v9 RENAME TO api_tokens;"
    "CREATE INDEX api_tokens_by_organizer ON api_tokens(organizer_id);",
    /* 10: the campaign's language (a BCP 47 tag, core/i18n.h), a plain column
     * so a row says its language without parsing the file */
    "ALTER TABLE campaigns ADD COLUMN language TEXT NOT NULL DEFAULT 'en';",
    /* 11: the suppression list (docs/DELIVERABILITY.md): one entry per
     * address, found by a keyed hash of it (the address itself is forgotten
     * when the person is erased, the entry stays); the temporary failures
     * counted per address within their window; each campaign's count of
     * bounce and complaint entries added for it (never lowered by a removal) */
    "CREATE TABLE suppressions ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  address_key TEXT NOT NULL UNIQUE,"
    "  address TEXT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('bounce', 'complaint', 'manual', 'temporary')),"
    "  created_at BIGINT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  campaign_id BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX suppressions_newest ON suppressions(created_at, id);"
    "CREATE TABLE suppression_temporary ("
    "  address_key TEXT PRIMARY KEY,"
    "  failures BIGINT NOT NULL,"
    "  window_start BIGINT NOT NULL,"
    "  last_at BIGINT NOT NULL);"
    "CREATE TABLE suppression_campaign_counts ("
    "  campaign_id BIGINT PRIMARY KEY,"
    "  bounces BIGINT NOT NULL DEFAULT 0,"
    "  complaints BIGINT NOT NULL DEFAULT 0);",
    /* 12: a launch paused by an organizer (store_campaign_set_pause): when,
     * by whom and why; a claim skips the campaign's launch mail meanwhile */
    "ALTER TABLE campaigns ADD COLUMN paused_at BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE campaigns ADD COLUMN paused_by TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE campaigns ADD COLUMN paused_reason TEXT NOT NULL DEFAULT '';",
    /* 13: the calendar SEQUENCE, the latest mail step queued, a variant per
     * outbox row (one notice, earlier reminder, follow-up per supporter) */
    "ALTER TABLE campaigns ADD COLUMN calendar_sequence BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE campaigns ADD COLUMN mail_steps_done BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN variant BIGINT NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX outbox_once_per_variant ON "
    "outbox(campaign_id, supporter_id, kind, variant) WHERE kind IN (4, 5, 6);",
    /* 14: the due rows in the claim's order, pending rows alone, for every
     * campaign and per campaign: a claim reads its batch's rows and stops (it
     * sorted every pending row of the campaign before), and a row marked
     * sent leaves both; the counts per campaign use outbox_one_reminder */
    "DROP INDEX outbox_due;"
    "DROP INDEX outbox_by_campaign;"
    "CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'pending';"
    "CREATE INDEX outbox_due_by_campaign ON outbox(campaign_id, next_at, id) "
    "WHERE state = 'pending';",
    /* 15: no foreign key to campaigns from the two tables a launch fills. A
     * campaign is never deleted, and a click's or an outbox row's campaign
     * is its supporter's (whose row keeps its key), so the check never
     * refused a row; it was a locking read of the campaign's row per
     * inserted row: half the time of a batch of clicks, a seventh of the
     * launch's queueing (docs/PERFORMANCE.md) */
    "ALTER TABLE clicks DROP CONSTRAINT clicks_campaign_id_fkey;"
    "ALTER TABLE outbox DROP CONSTRAINT outbox_campaign_id_fkey;",
};

const char *const *pg_migrations(int *count)
{
    *count = (int)(sizeof migration_steps / sizeof migration_steps[0]);
    return migration_steps;
}
