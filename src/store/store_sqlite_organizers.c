/*
 * store_sqlite_organizers: organizer logins, their sessions and API tokens
 * (tokens stored only as SHA-256, with an expiry), their server role and
 * their roles per campaign (campaign_grants). Changing a password ends the
 * sessions and deletes the API tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/tz.h"
#include "store/sqlite_private.h"
#include "store/store.h"
#include "core/banned.h"

int sqlite_organizer_set_password(struct store *base, const char *email, const char *password_hash,
                                  int64_t now, int *created)
{
    struct sqlite_store *st = sqlite_of(base);
    if (sql_begin(st) != 0)
        return -1;
    int64_t id = 0;
    sqlite3_stmt *s = sql_stmt(st, "SELECT id FROM organizers WHERE email = lower(?1)");
    if (!s)
        goto fail;
    sql_bind_text(s, 1, email);
    if (sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (id) {
        s = sql_stmt(st, "UPDATE organizers SET password_hash = ?2, password_changed_at = ?3 "
                         "WHERE id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, password_hash);
        sqlite3_bind_int64(s, 3, now);
        if (sql_step_done(st, s, "organizer password") != 0)
            goto fail;
        s = sql_stmt(st, "DELETE FROM sessions WHERE organizer_id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        if (sql_step_done(st, s, "organizer sessions") != 0)
            goto fail;
        s = sql_stmt(st, "DELETE FROM api_tokens WHERE organizer_id = ?1");
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, id);
        if (sql_step_done(st, s, "organizer api tokens") != 0)
            goto fail;
    } else {
        s = sql_stmt(st, "INSERT INTO organizers (email, password_hash, password_changed_at, "
                         "created_at) VALUES (lower(?1), ?2, ?3, ?3)");
        if (!s)
            goto fail;
        sql_bind_text(s, 1, email);
        sql_bind_text(s, 2, password_hash);
        sqlite3_bind_int64(s, 3, now);
        if (sql_step_done(st, s, "organizer add") != 0)
            goto fail;
    }
    if (sql_commit(st) != 0)
        return -1;
    *created = id == 0;
    return 0;
fail:
    sql_rollback(st);
    return -1;
}

int sqlite_organizer_get(struct store *base, const char *email, int64_t *id, char **password_hash)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "SELECT id, password_hash FROM organizers WHERE email = lower(?1)");
    if (!s)
        return -1;
    sql_bind_text(s, 1, email);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        char *hash = sql_col_strdup(s, 1);
        int64_t found = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (!hash)
            return -1;
        *id = found;
        *password_hash = hash;
        return 0;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "organizer get");
}

int sqlite_session_create(struct store *base, int64_t organizer_id, const char *token_hash,
                          int64_t now, int64_t expires_at)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO sessions (token_hash, organizer_id, created_at, "
                                   "expires_at) VALUES (?1, ?2, ?3, ?4)");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, organizer_id);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int64(s, 4, expires_at);
    return sql_step_done(st, s, "session create");
}

int sqlite_session_delete(struct store *base, const char *token_hash)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "DELETE FROM sessions WHERE token_hash = ?1");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    return sql_step_done(st, s, "session delete");
}

static int lookup_organizer(struct sqlite_store *st, sqlite3_stmt *s, int64_t *organizer_id)
{
    int rc = sqlite3_step(s);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        *organizer_id = id;
        return 0;
    }
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "organizer lookup");
}

int sqlite_session_organizer(struct store *base, const char *token_hash, int64_t now,
                             int64_t *organizer_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT organizer_id FROM sessions WHERE token_hash = ?1 "
                                   "AND expires_at > ?2");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now);
    return lookup_organizer(st, s, organizer_id);
}

static const char *organizer_role_text(enum organizer_role role)
{
    return role == ORGANIZER_ADMIN ? "admin" : "organizer";
}

static const char *campaign_role_text(enum campaign_role role)
{
    switch (role) {
    case CAMPAIGN_ROLE_OWNER:
        return "owner";
    case CAMPAIGN_ROLE_EDITOR:
        return "editor";
    case CAMPAIGN_ROLE_VIEWER:
        return "viewer";
    }
    return NULL;
}

/* -1 for a text the CHECK constraint would not have let in. */
static int campaign_role_of_text(const unsigned char *text, enum campaign_role *role)
{
    static const enum campaign_role all[] = {CAMPAIGN_ROLE_OWNER, CAMPAIGN_ROLE_EDITOR,
                                             CAMPAIGN_ROLE_VIEWER};
    for (size_t i = 0; text && i < sizeof all / sizeof all[0]; i++)
        if (strcmp((const char *)text, campaign_role_text(all[i])) == 0) {
            *role = all[i];
            return 0;
        }
    return -1;
}

/* 0 when the statement changed a row, STORE_NOT_FOUND when none, -1 on error. */
static int step_changed_one(struct sqlite_store *st, sqlite3_stmt *s, const char *what)
{
    if (sql_step_done(st, s, what) != 0)
        return -1;
    return sqlite3_changes(st->db) > 0 ? 0 : STORE_NOT_FOUND;
}

int sqlite_organizer_set_role(struct store *base, int64_t organizer_id, enum organizer_role role)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE organizers SET role = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, organizer_id);
    sql_bind_text(s, 2, organizer_role_text(role));
    return step_changed_one(st, s, "organizer set role");
}

int sqlite_organizer_role(struct store *base, int64_t organizer_id, enum organizer_role *role)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT role = 'admin' FROM organizers WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, organizer_id);
    int rc = sqlite3_step(s);
    int admin = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        *role = admin ? ORGANIZER_ADMIN : ORGANIZER_PLAIN;
        return 0;
    }
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "organizer role");
}

int sqlite_grant_set(struct store *base, int64_t campaign_id, int64_t organizer_id,
                     enum campaign_role role, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    const char *text = campaign_role_text(role);
    if (!text)
        return -1;
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO campaign_grants (campaign_id, organizer_id, role, "
                                   "granted_at) VALUES (?1, ?2, ?3, ?4) "
                                   "ON CONFLICT (campaign_id, organizer_id) DO UPDATE SET "
                                   "role = excluded.role, granted_at = excluded.granted_at");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, organizer_id);
    sql_bind_text(s, 3, text);
    sqlite3_bind_int64(s, 4, now);
    return sql_step_done(st, s, "grant set");
}

int sqlite_grant_delete(struct store *base, int64_t campaign_id, int64_t organizer_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s =
        sql_stmt(st, "DELETE FROM campaign_grants WHERE campaign_id = ?1 AND organizer_id = ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, organizer_id);
    return step_changed_one(st, s, "grant delete");
}

int sqlite_grant_role(struct store *base, int64_t organizer_id, int64_t campaign_id,
                      enum campaign_role *role)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT role FROM campaign_grants WHERE campaign_id = ?1 "
                                   "AND organizer_id = ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    sqlite3_bind_int64(s, 2, organizer_id);
    int rc = sqlite3_step(s);
    enum campaign_role found = CAMPAIGN_ROLE_VIEWER;
    int bad = rc == SQLITE_ROW && campaign_role_of_text(sqlite3_column_text(s, 0), &found) != 0;
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        if (bad)
            return -1;
        *role = found;
        return 0;
    }
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "grant role");
}

int sqlite_grants_of_campaign(struct store *base, int64_t campaign_id, struct grant_row **rows,
                              size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT o.email, g.role, g.granted_at FROM campaign_grants g "
                                   "JOIN organizers o ON o.id = g.organizer_id "
                                   "WHERE g.campaign_id = ?1 ORDER BY o.email");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, campaign_id);
    struct grant_row *out = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            size_t bigger = cap ? cap * 2 : 8;
            struct grant_row *grown = realloc(out, bigger * sizeof *out);
            if (!grown)
                goto fail;
            out = grown;
            cap = bigger;
        }
        struct grant_row *g = &out[count];
        const unsigned char *email = sqlite3_column_text(s, 0);
        snprintf(g->email, sizeof g->email, "%s", email ? (const char *)email : "");
        if (campaign_role_of_text(sqlite3_column_text(s, 1), &g->role) != 0)
            goto fail;
        g->granted_at = sqlite3_column_int64(s, 2);
        count++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(out);
        return sql_error(st, "grants of campaign");
    }
    *rows = out;
    *n = count;
    return 0;
fail:
    sqlite3_reset(s);
    free(out);
    return -1;
}

int sqlite_api_token_create(struct store *base, int64_t organizer_id, const char *token_hash,
                            int64_t now, int64_t expires_at, int64_t *id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO api_tokens (token_hash, organizer_id, created_at, "
                                   "expires_at) VALUES (?1, ?2, ?3, ?4)");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, organizer_id);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int64(s, 4, expires_at);
    if (sql_step_done(st, s, "api token create") != 0)
        return -1;
    *id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

static void token_row_read(sqlite3_stmt *s, struct api_token_row *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->organizer_id = sqlite3_column_int64(s, 1);
    out->created_at = sqlite3_column_int64(s, 2);
    out->expires_at = sqlite3_column_int64(s, 3);
    out->last_used_at = sqlite3_column_int64(s, 4);
}

int sqlite_api_token_find(struct store *base, const char *token_hash, int64_t now,
                          struct api_token_row *out)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, organizer_id, created_at, expires_at, last_used_at "
                                   "FROM api_tokens WHERE token_hash = ?1 AND expires_at > ?2");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now);
    int rc = sqlite3_step(s);
    struct api_token_row row;
    if (rc == SQLITE_ROW)
        token_row_read(s, &row);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        *out = row;
        return 0;
    }
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : sql_error(st, "api token find");
}

int sqlite_api_token_touch(struct store *base, int64_t token_id, int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, token_id);
    sqlite3_bind_int64(s, 2, now);
    return sql_step_done(st, s, "api token touch");
}

int sqlite_api_tokens_of(struct store *base, int64_t organizer_id, struct api_token_row **rows,
                         size_t *n)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, organizer_id, created_at, expires_at, last_used_at "
                                   "FROM api_tokens WHERE organizer_id = ?1 ORDER BY id");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, organizer_id);
    struct api_token_row *out = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            size_t bigger = cap ? cap * 2 : 8;
            struct api_token_row *grown = realloc(out, bigger * sizeof *out);
            if (!grown) {
                sqlite3_reset(s);
                free(out);
                return -1;
            }
            out = grown;
            cap = bigger;
        }
        token_row_read(s, &out[count++]);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(out);
        return sql_error(st, "api tokens of");
    }
    *rows = out;
    *n = count;
    return 0;
}

int sqlite_api_token_revoke(struct store *base, int64_t organizer_id, int64_t token_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "DELETE FROM api_tokens WHERE id = ?1 AND organizer_id = ?2");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, token_id);
    sqlite3_bind_int64(s, 2, organizer_id);
    return step_changed_one(st, s, "api token revoke");
}
