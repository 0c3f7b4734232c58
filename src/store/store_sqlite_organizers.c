/*
 * store_sqlite_organizers: organizer logins, their sessions and API tokens
 * (tokens stored only as SHA-256). Changing a password ends the sessions.
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
    sqlite3_stmt *s = sql_stmt(st, "SELECT id, password_hash FROM organizers WHERE email = lower(?1)");
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

int sqlite_api_token_create(struct store *base, int64_t organizer_id, const char *token_hash,
                           int64_t now)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "INSERT INTO api_tokens (token_hash, organizer_id, created_at) "
                               "VALUES (?1, ?2, ?3)");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, organizer_id);
    sqlite3_bind_int64(s, 3, now);
    return sql_step_done(st, s, "api token create");
}

int sqlite_api_token_organizer(struct store *base, const char *token_hash, int64_t *organizer_id)
{
    struct sqlite_store *st = sqlite_of(base);
    sqlite3_stmt *s = sql_stmt(st, "SELECT organizer_id FROM api_tokens WHERE token_hash = ?1");
    if (!s)
        return -1;
    sql_bind_text(s, 1, token_hash);
    return lookup_organizer(st, s, organizer_id);
}
