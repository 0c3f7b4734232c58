/*
 * store_pg_organizers: organizer logins, their sessions and API tokens on
 * PostgreSQL (tokens stored only as SHA-256, with an expiry), their server
 * role and their roles per campaign (campaign_grants). Changing a password
 * ends the sessions and deletes the API tokens, in the same transaction.
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
        if (pg_run(st, "DELETE FROM api_tokens WHERE organizer_id = $1::bigint", &d,
                   "organizer api tokens", NULL) != 0)
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
static int campaign_role_of_text(const char *text, enum campaign_role *role)
{
    static const enum campaign_role all[] = {CAMPAIGN_ROLE_OWNER, CAMPAIGN_ROLE_EDITOR,
                                             CAMPAIGN_ROLE_VIEWER};
    for (size_t i = 0; text && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(text, campaign_role_text(all[i])) == 0) {
            *role = all[i];
            return 0;
        }
    return -1;
}

/* 0 when the statement changed a row, STORE_NOT_FOUND when none, -1 on error. */
static int run_changed_one(struct pg_store *st, const char *sql, const struct pg_params *p,
                           const char *what)
{
    int64_t n = 0;
    if (pg_run(st, sql, p, what, &n) != 0)
        return -1;
    return n > 0 ? 0 : STORE_NOT_FOUND;
}

int pg_organizer_set_role(struct store *base, int64_t organizer_id, enum organizer_role role)
{
    struct pg_params p = {0};
    pg_param_i64(&p, organizer_id);
    pg_param_text(&p, role == ORGANIZER_ADMIN ? "admin" : "organizer");
    return run_changed_one(pg_of(base),
                           "UPDATE organizers SET role = $2::text WHERE id = $1::bigint", &p,
                           "organizer set role");
}

int pg_organizer_role(struct store *base, int64_t organizer_id, enum organizer_role *role)
{
    struct pg_params p = {0};
    pg_param_i64(&p, organizer_id);
    PGresult *r =
        pg_exec(pg_of(base), "SELECT (role = 'admin')::int FROM organizers WHERE id = $1::bigint",
                &p, "organizer role");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        *role = pg_i64(r, 0, 0) ? ORGANIZER_ADMIN : ORGANIZER_PLAIN;
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_grant_set(struct store *base, int64_t campaign_id, int64_t organizer_id,
                 enum campaign_role role, int64_t now)
{
    const char *text = campaign_role_text(role);
    if (!text)
        return -1;
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, organizer_id);
    pg_param_text(&p, text);
    pg_param_i64(&p, now);
    return pg_run(pg_of(base),
                  "INSERT INTO campaign_grants (campaign_id, organizer_id, role, granted_at) "
                  "VALUES ($1::bigint, $2::bigint, $3::text, $4::bigint) ON CONFLICT "
                  "(campaign_id, organizer_id) DO UPDATE SET role = excluded.role, "
                  "granted_at = excluded.granted_at",
                  &p, "grant set", NULL);
}

int pg_grant_delete(struct store *base, int64_t campaign_id, int64_t organizer_id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, organizer_id);
    return run_changed_one(pg_of(base),
                           "DELETE FROM campaign_grants WHERE campaign_id = $1::bigint AND "
                           "organizer_id = $2::bigint",
                           &p, "grant delete");
}

int pg_grant_role(struct store *base, int64_t organizer_id, int64_t campaign_id,
                  enum campaign_role *role)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    pg_param_i64(&p, organizer_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT role FROM campaign_grants WHERE campaign_id = $1::bigint AND "
                          "organizer_id = $2::bigint",
                          &p, "grant role");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        enum campaign_role found;
        rc = campaign_role_of_text(pg_text(r, 0, 0), &found) == 0 ? 0 : -1;
        if (rc == 0)
            *role = found;
    }
    PQclear(r);
    return rc;
}

int pg_grants_of_campaign(struct store *base, int64_t campaign_id, struct grant_row **rows,
                          size_t *n)
{
    struct pg_params p = {0};
    pg_param_i64(&p, campaign_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT o.email, g.role, g.granted_at FROM campaign_grants g JOIN "
                          "organizers o ON o.id = g.organizer_id WHERE g.campaign_id = $1::bigint "
                          "ORDER BY o.email COLLATE \"C\"",
                          &p, "grants of campaign");
    if (!r)
        return -1;
    int count = PQntuples(r);
    struct grant_row *out = count ? calloc((size_t)count, sizeof *out) : NULL;
    if (count && !out) {
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        const char *email = pg_text(r, i, 0);
        snprintf(out[i].email, sizeof out[i].email, "%s", email ? email : "");
        if (campaign_role_of_text(pg_text(r, i, 1), &out[i].role) != 0) {
            PQclear(r);
            free(out);
            return -1;
        }
        out[i].granted_at = pg_i64(r, i, 2);
    }
    PQclear(r);
    *rows = out;
    *n = (size_t)count;
    return 0;
}

int pg_api_token_create(struct store *base, int64_t organizer_id, const char *token_hash,
                        int64_t now, int64_t expires_at, int64_t *id)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    pg_param_i64(&p, organizer_id);
    pg_param_i64(&p, now);
    pg_param_i64(&p, expires_at);
    PGresult *r = pg_exec(pg_of(base),
                          "INSERT INTO api_tokens (token_hash, organizer_id, created_at, "
                          "expires_at) VALUES ($1::text, $2::bigint, $3::bigint, $4::bigint) "
                          "RETURNING id",
                          &p, "api token create");
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1 ? 0 : -1;
    if (rc == 0)
        *id = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

#define TOKEN_COLUMNS "id, organizer_id, created_at, expires_at, last_used_at"

static void token_row_read(const PGresult *r, int i, struct api_token_row *out)
{
    out->id = pg_i64(r, i, 0);
    out->organizer_id = pg_i64(r, i, 1);
    out->created_at = pg_i64(r, i, 2);
    out->expires_at = pg_i64(r, i, 3);
    out->last_used_at = pg_i64(r, i, 4);
}

int pg_api_token_find(struct store *base, const char *token_hash, int64_t now,
                      struct api_token_row *out)
{
    struct pg_params p = {0};
    pg_param_text(&p, token_hash);
    pg_param_i64(&p, now);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1::text "
                          "AND expires_at > $2::bigint",
                          &p, "api token find");
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (PQntuples(r) == 1) {
        token_row_read(r, 0, out);
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int pg_api_token_touch(struct store *base, int64_t token_id, int64_t now)
{
    struct pg_params p = {0};
    pg_param_i64(&p, token_id);
    pg_param_i64(&p, now);
    return pg_run(pg_of(base),
                  "UPDATE api_tokens SET last_used_at = $2::bigint WHERE id = $1::bigint", &p,
                  "api token touch", NULL);
}

int pg_api_tokens_of(struct store *base, int64_t organizer_id, struct api_token_row **rows,
                     size_t *n)
{
    struct pg_params p = {0};
    pg_param_i64(&p, organizer_id);
    PGresult *r = pg_exec(pg_of(base),
                          "SELECT " TOKEN_COLUMNS " FROM api_tokens WHERE organizer_id = "
                          "$1::bigint ORDER BY id",
                          &p, "api tokens of");
    if (!r)
        return -1;
    int count = PQntuples(r);
    struct api_token_row *out = count ? calloc((size_t)count, sizeof *out) : NULL;
    if (count && !out) {
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < count; i++)
        token_row_read(r, i, &out[i]);
    PQclear(r);
    *rows = out;
    *n = (size_t)count;
    return 0;
}

int pg_api_token_revoke(struct store *base, int64_t organizer_id, int64_t token_id)
{
    struct pg_params p = {0};
    pg_param_i64(&p, token_id);
    pg_param_i64(&p, organizer_id);
    return run_changed_one(pg_of(base),
                           "DELETE FROM api_tokens WHERE id = $1::bigint AND organizer_id = "
                           "$2::bigint",
                           &p, "api token revoke");
}
