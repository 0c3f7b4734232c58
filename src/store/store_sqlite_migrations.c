/*
 * migrations: the schema, as an append-only list of versioned steps. Version
 * N is stored in PRAGMA user_version; store_open applies every step above it,
 * each in its own transaction. Never edit a step that has shipped: add one.
 */
#include "store/sqlite_private.h"

static const char *const migration_steps[] = {
    /* 1: campaigns, targets, supporters, outbox, clicks */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE campaigns ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  spec_json TEXT NOT NULL,"
    "  launch_utc INTEGER NOT NULL,"
    "  launched_at INTEGER NOT NULL DEFAULT 0,"
    "  window_minutes INTEGER NOT NULL,"
    "  revision INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE targets ("
    "  id INTEGER PRIMARY KEY,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  key TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  cap INTEGER NOT NULL DEFAULT -1,"
    "  open INTEGER NOT NULL DEFAULT 1,"
    "  removed INTEGER NOT NULL DEFAULT 0,"
    "  assigned INTEGER NOT NULL DEFAULT 0,"
    "  clicks INTEGER NOT NULL DEFAULT 0,"
    "  rerouted INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (campaign_id, key));"
    "CREATE TABLE target_events ("
    "  id INTEGER PRIMARY KEY,"
    "  target_id INTEGER NOT NULL REFERENCES targets(id),"
    "  at INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  actor TEXT NOT NULL);"
    "CREATE TABLE target_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  target_id INTEGER NOT NULL REFERENCES targets(id),"
    "  supporter_id INTEGER,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX target_reports_recent ON target_reports(target_id, at);"
    "CREATE TABLE supporters ("
    "  id INTEGER PRIMARY KEY,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  token_key INTEGER NOT NULL UNIQUE,"
    "  epoch INTEGER NOT NULL DEFAULT 0,"
    "  email TEXT,"
    "  email_norm TEXT,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  statement TEXT NOT NULL DEFAULT '',"
    "  timezone TEXT NOT NULL DEFAULT 'UTC',"
    "  chosen_target TEXT,"
    "  instance TEXT,"
    "  status TEXT NOT NULL DEFAULT 'pending'," /* pending | confirmed | erased */
    "  created_at INTEGER NOT NULL,"
    "  consent_at INTEGER NOT NULL,"
    "  consent_text TEXT NOT NULL,"
    "  consent_ip TEXT,"
    "  source TEXT NOT NULL DEFAULT 'form',"
    "  confirmed_at INTEGER NOT NULL DEFAULT 0,"
    "  unsubscribed_at INTEGER NOT NULL DEFAULT 0,"
    "  erased_at INTEGER NOT NULL DEFAULT 0,"
    "  assigned_target INTEGER NOT NULL DEFAULT 0,"
    "  pending_json TEXT,"
    "  confirm_mail_day INTEGER NOT NULL DEFAULT 0,"
    "  confirm_mails INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX supporters_email ON supporters(campaign_id, email_norm);"
    "CREATE INDEX supporters_by_email ON supporters(email_norm);"
    "CREATE INDEX supporters_confirmed ON supporters(campaign_id, status, confirmed_at);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  supporter_id INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'," /* pending | sent | failed | cancelled */
    "  owner TEXT,"
    "  lease_until INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  sent_at INTEGER NOT NULL DEFAULT 0,"
    "  last_reply TEXT);"
    "CREATE UNIQUE INDEX outbox_one_reminder ON outbox(campaign_id, supporter_id) WHERE kind = 3;"
    "CREATE UNIQUE INDEX outbox_one_welcome ON outbox(campaign_id, supporter_id) WHERE kind = 2;"
    "CREATE INDEX outbox_due ON outbox(state, next_at);"
    "CREATE INDEX outbox_by_campaign ON outbox(campaign_id, kind, state);"
    "CREATE TABLE clicks ("
    "  id INTEGER PRIMARY KEY,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  supporter_id INTEGER,"
    "  target_id INTEGER,"
    "  at INTEGER NOT NULL,"
    "  rerouted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX clicks_by_campaign ON clicks(campaign_id, at);",
    /* 2: organizers, their sessions and API tokens (stored as SHA-256) */
    "CREATE TABLE organizers ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  password_changed_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  organizer_id INTEGER NOT NULL REFERENCES organizers(id),"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE TABLE api_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  organizer_id INTEGER NOT NULL REFERENCES organizers(id),"
    "  created_at INTEGER NOT NULL);",
    /* 3: webhook deliveries owed (docs/WEBHOOKS.md), claimed with leases like outbox */
    "CREATE TABLE webhook_events ("
    "  id INTEGER PRIMARY KEY,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  event TEXT NOT NULL," /* pledge.confirmed | action.clicked */
    "  payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'," /* pending | sent | failed */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  owner TEXT,"
    "  lease_until INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX webhook_events_due ON webhook_events(state, next_at);",
    /* 4: the dashboard's pledges-over-time series and its first-pledge bound
     * read this index alone instead of every supporter row */
    "CREATE INDEX supporters_created ON supporters(campaign_id, created_at);",
    /* 5: the confirmed count as a counter, so the public campaign page costs
     * one row read, not a count over every supporter */
    "ALTER TABLE campaigns ADD COLUMN confirmed_count INTEGER NOT NULL DEFAULT 0;"
    "UPDATE campaigns SET confirmed_count = (SELECT count(*) FROM supporters s "
    "WHERE s.campaign_id = campaigns.id AND s.status = 'confirmed');",
    /* 6: the rows claimed right now (owner is cleared when a row is
     * settled), so each claim's look for dead owners reads those alone
     * instead of every pending row of a launch */
    "CREATE INDEX outbox_claimed ON outbox(owner) WHERE owner IS NOT NULL;",
    /* 7: places taken under a target's cap, kept by store_place_take in the
     * database so that a cap holds whichever process assigns */
    "ALTER TABLE targets ADD COLUMN places INTEGER NOT NULL DEFAULT 0;"
    "UPDATE targets SET places = assigned;",
    /* 8: the number of the supporter's held change (a re-pledge), the epoch
     * of the link that confirms it */
    "ALTER TABLE supporters ADD COLUMN change_epoch INTEGER NOT NULL DEFAULT 0;",
    /* 9: roles (docs/DASHBOARD.md, "Roles"): a server role per organizer
     * (the organizers there before become administrators, so nobody is
     * locked out; a new one is a plain organizer until given a role), a role
     * per organizer and campaign, and API tokens with an id, an expiry (90
     * days from this upgrade for the tokens there before) and a last use */
    "ALTER TABLE organizers ADD COLUMN role TEXT NOT NULL DEFAULT 'organizer' "
    "  CHECK (role IN ('admin', 'organizer'));"
    "UPDATE organizers SET role = 'admin';"
    "CREATE TABLE campaign_grants ("
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
    "  organizer_id INTEGER NOT NULL REFERENCES organizers(id),"
    "  role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),"
    "  granted_at INTEGER NOT NULL,"
    "  PRIMARY KEY (campaign_id, organizer_id));"
    "CREATE INDEX campaign_grants_by_organizer ON campaign_grants(organizer_id);"
    "CREATE TABLE api_tokens_v9 ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  organizer_id INTEGER NOT NULL REFERENCES organizers(id),"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO api_tokens_v9 (token_hash, organizer_id, created_at, expires_at) "
    "  SELECT token_hash, organizer_id, created_at, "
    "  CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400 FROM api_tokens;"
    "DROP TABLE api_tokens;"
    "ALTER TABLE api_tokens_v9 RENAME TO api_tokens;"
    "CREATE INDEX api_tokens_by_organizer ON api_tokens(organizer_id);",
    /* 10: the campaign's language (a BCP 47 tag, core/i18n.h), a plain column
     * so pages that have no parsed campaign at hand can still speak it */
    "ALTER TABLE campaigns ADD COLUMN language TEXT NOT NULL DEFAULT 'en';",
    /* 11: the suppression list (docs/DELIVERABILITY.md): one entry per
     * address, found by a keyed hash of it (the address itself is forgotten
     * when the person is erased, the entry stays); the temporary failures
     * counted per address within their window; each campaign's count of
     * bounce and complaint entries added for it (never lowered by a removal) */
    "CREATE TABLE suppressions ("
    "  id INTEGER PRIMARY KEY,"
    "  address_key TEXT NOT NULL UNIQUE,"
    "  address TEXT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('bounce', 'complaint', 'manual', 'temporary')),"
    "  created_at INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  campaign_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX suppressions_newest ON suppressions(created_at, id);"
    "CREATE TABLE suppression_temporary ("
    "  address_key TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  window_start INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL);"
    "CREATE TABLE suppression_campaign_counts ("
    "  campaign_id INTEGER PRIMARY KEY,"
    "  bounces INTEGER NOT NULL DEFAULT 0,"
    "  complaints INTEGER NOT NULL DEFAULT 0);",
    /* 12: a launch paused by an organizer (store_campaign_set_pause): when,
     * by whom and why; a claim skips the campaign's launch mail meanwhile */
    "ALTER TABLE campaigns ADD COLUMN paused_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE campaigns ADD COLUMN paused_by TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE campaigns ADD COLUMN paused_reason TEXT NOT NULL DEFAULT '';",
    /* 13: the calendar file's SEQUENCE (a moved moment), the latest scheduled
     * mail step queued (earlier reminders, the follow-up), and a variant per
     * outbox row so that each notice, earlier reminder and follow-up is owed
     * once per supporter */
    "ALTER TABLE campaigns ADD COLUMN calendar_sequence INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE campaigns ADD COLUMN mail_steps_done INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN variant INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX outbox_once_per_variant ON "
    "outbox(campaign_id, supporter_id, kind, variant) WHERE kind IN (4, 5, 6);",
    /* 14: nothing here: PostgreSQL's step 14 changes indexes of the outbox
     * for its claim's plan (SQLite's claim reads outbox_due in order) */
    NULL,
    /* 15: nothing here: PostgreSQL's step 15 drops the foreign keys from
     * clicks and outbox to campaigns, whose check locks a row per inserted
     * row there */
    NULL,
};

const char *const *sqlite_migrations(int *count)
{
    *count = (int)(sizeof migration_steps / sizeof migration_steps[0]);
    return migration_steps;
}
