/*
 * store_pg_organizers: organizer logins, their sessions and API tokens on
 * PostgreSQL (tokens stored only as SHA-256). Changing a password ends the
 * sessions, in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_private.h"
#include "store/store.h"
#include "core/banned.h"

int pg_organizer_set_password(struct store *base, const char *email, const char *password_hash,
                              int64_t now, int *created)
{
    struct pg_store *st = pg_of(base);
    if (pg_begin(st) != 0)
        return -1;
    int64_t id = 0;
    struct pg_params p = {0};
    pg_param_text(&p, email);
    PGresult *r =
        pg_exec(st, "SELECT id FROM organizers WHERE email = lower($1::text)", &p, "organizer");
    if (!r)
        goto fail;
    if (PQntuples(r) == 1)
        id = pg_i64(r, 0, 0);
    PQclear(r);
    if (id) {
        struct pg_params u = {0};
        pg_param_i64(&u, id);
        pg_param_text(&u, password_hash);
        pg_param_i64(&u, now);
        if (pg_run(st,
                   "UPDATE organizers SET password_hash = $2::text, password_changed_at = "
                   "$3::bigint WHERE id = $1::bigint",
                   &u, "organizer password", NULL) != 0)
            goto fail;
        struct pg_params d = {0};
        pg_param_i64(&d, id);
        if (pg_run(st, "DELETE FROM sessions WHERE organizer_id = $1::bigint", &d,
                   "organizer sessions", NULL) != 0)
            goto fail;
    } else {
        struct pg_params i = {0};
        pg_param_text(&i, email);
        pg_param_text(&i, password_hash);
        pg_param_i64(&i, now);
        if (pg_run(st,
                   "INSERT INTO organizers (email, password_hash, password_changed_at, "
                   "created_at) VALUES (lower($1::text), $2::text, $3::bigint, $3::bigint)",
                   &i, "organizer add", NULL) != 0)
            goto fail;
    }
    if (pg_commit(st) != 0)
        return -1;
    *created = id == 0;
    return 0;
fail:
    pg_rollback(st);
    return -1;
}

int pg_organizer_get(struct store *base, const char *email, int64_t *id, char **password_hash)
{
    struct pg_store *st = pg_of(base);
    struct pg_params p = {0};
    pg_param_text(&p, email);
    PGresult *r = pg_exec(st,
                          "SELECT id, password_hash FROM organizers WHERE email = "
                          "lower($1::text)",
                          &p, "organizer get");
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    char *hash = pg_strdup(r, 0, 1);
    int64_t found = pg_i64(r, 0, 0);
    PQclear(r);
    if (!hash)
        return -1;
    *id = found;
    *password_hash = hash;
    return 0;
}

int pg_session_create(struct store *base, int64_t organizer_id, const char *token_hash, int64_t now,
                      int64_t expires_at)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    pg_param_i64(&p, organizer_id);
    pg_param_i64(&p, now);
    pg_param_i64(&p, expires_at);
    return pg_run(pg_of(base),
                  "INSERT INTO sessions (token_hash, organizer_id, created_at, expires_at) "
                  "VALUES ($1::text, $2::bigint, $3::bigint, $4::bigint)",
                  &p, "session create", NULL);
}

int pg_session_delete(struct store *base, const char *token_hash)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    return pg_run(pg_of(base), "DELETE FROM sessions WHERE token_hash = $1::text", &p,
                  "session delete", NULL);
}

static int lookup_organizer(PGresult *r, int64_t *organizer_id)
{
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *organizer_id = pg_i64(r, 0, 0);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_session_organizer(struct store *base, const char *token_hash, int64_t now,
                         int64_t *organizer_id)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    pg_param_i64(&p, now);
    return lookup_organizer(pg_exec(pg_of(base),
                                    "SELECT organizer_id FROM sessions WHERE token_hash = "
                                    "$1::text AND expires_at > $2::bigint",
                                    &p, "organizer lookup"),
                            organizer_id);
}

int pg_api_token_create(struct store *base, int64_t organizer_id, const char *token_hash,
                        int64_t now)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    pg_param_i64(&p, organizer_id);
    pg_param_i64(&p, now);
    return pg_run(pg_of(base),
                  "INSERT INTO api_tokens (token_hash, organizer_id, created_at) VALUES "
                  "($1::text, $2::bigint, $3::bigint)",
                  &p, "api token create", NULL);
}

int pg_api_token_organizer(struct store *base, const char *token_hash, int64_t *organizer_id)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    return lookup_organizer(pg_exec(pg_of(base),
                                    "SELECT organizer_id FROM api_tokens WHERE token_hash = "
                                    "$1::text",
                                    &p, "organizer lookup"),
                            organizer_id);
}
