/*
 * cmd_organizer: the organizers' accounts (docs/DASHBOARD.md, "Roles" and
 * "API tokens"):
 *   organizer add EMAIL [--role admin|organizer]  create, or set the password
 *       (from the terminal without echo, or the first line of stdin; hashed
 *       with Argon2id). A new organizer without --role is an administrator,
 *       as every organizer was before roles; setting the password of an
 *       existing one ends their sessions and revokes their API tokens, and
 *       keeps their role unless --role is given.
 *   organizer role EMAIL admin|organizer         change the server role
 *   organizer token EMAIL [--days N]             a new API token (printed
 *       once; only its SHA-256 is stored), valid N days (default 90)
 *   organizer tokens EMAIL                       id, created, expires, last use
 *   organizer revoke-token EMAIL ID              delete one token
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/token.h"
#include "core/tz.h"
#include "service/access.h"
#include "mail/message.h"
#include "store/store.h"
#include "core/banned.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 256
#define TOKEN_DAYS_DEFAULT 90
#define TOKEN_DAYS_MAX 3650

static int parse_server_role(const char *word, enum organizer_role *role)
{
    if (strcmp(word, "admin") == 0)
        *role = ORGANIZER_ADMIN;
    else if (strcmp(word, "organizer") == 0)
        *role = ORGANIZER_PLAIN;
    else
        return -1;
    return 0;
}

/* The organizer's id, or the exit code of the failure. */
static int organizer_id_of(struct cli *cli, const char *what, const char *email, int64_t *id)
{
    char *hash = NULL;
    int rc = store_organizer_get(cli->store, email, id, &hash);
    free(hash);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "organizer %s: no organizer %s", what, email);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "organizer %s: could not read the organizer", what);
    return EXIT_OK;
}

static int read_password(char *out, size_t n)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "Password (at least %d characters): ", PASSWORD_MIN);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)n, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -1;
    size_t len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    return 0;
}

static int organizer_add(struct cli *cli, const char *email, const char *role_word)
{
    enum organizer_role role = ORGANIZER_ADMIN;
    if (role_word && parse_server_role(role_word, &role) != 0)
        return cli_fail(EXIT_USAGE, "organizer add: --role must be admin or organizer, not '%s'",
                        role_word);
    char password[PASSWORD_MAX + 2];
    if (read_password(password, sizeof password) != 0)
        return cli_fail(EXIT_USAGE, "organizer add: no password given on the terminal or stdin");
    size_t len = strlen(password);
    if (len < PASSWORD_MIN || len > PASSWORD_MAX) {
        sodium_memzero(password, sizeof password);
        return cli_fail(EXIT_USAGE, "organizer add: the password must have %d to %d characters",
                        PASSWORD_MIN, PASSWORD_MAX);
    }
    char hash[crypto_pwhash_STRBYTES];
    int rc = crypto_pwhash_str(hash, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(password, sizeof password);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "organizer add: out of memory while hashing");
    int created = 0;
    if (store_organizer_set_password(cli->store, email, hash, tz_now(), &created) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer add: could not store the organizer");
    int64_t id;
    int code = organizer_id_of(cli, "add", email, &id);
    if (code != EXIT_OK)
        return code;
    /* A new organizer is stored as a plain one: made an administrator only
     * here, so a failure in between never leaves more rights than asked. */
    if ((created || role_word) && store_organizer_set_role(cli->store, id, role) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer add: could not store the role");
    if (!created && !role_word && store_organizer_role(cli->store, id, &role) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer add: could not read the role");
    if (created)
        printf("organizer %s added, role %s\n", cli_text(email), access_organizer_role_name(role));
    else
        printf("password of %s changed; their sessions ended and their API tokens were revoked; "
               "role %s\n",
               cli_text(email), access_organizer_role_name(role));
    return EXIT_OK;
}

static int organizer_role(struct cli *cli, const char *email, const char *role_word)
{
    enum organizer_role role;
    if (parse_server_role(role_word, &role) != 0)
        return cli_fail(EXIT_USAGE, "organizer role: the role must be admin or organizer, not '%s'",
                        role_word);
    int64_t id;
    int code = organizer_id_of(cli, "role", email, &id);
    if (code != EXIT_OK)
        return code;
    if (store_organizer_set_role(cli->store, id, role) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer role: could not store the role");
    printf("%s is now %s\n", cli_text(email), access_organizer_role_name(role));
    return EXIT_OK;
}

static int organizer_token(struct cli *cli, const char *email, const char *days_text)
{
    long days = TOKEN_DAYS_DEFAULT;
    if (days_text) {
        char *end;
        days = strtol(days_text, &end, 10);
        if (!*days_text || *end || days < 0 || days > TOKEN_DAYS_MAX)
            return cli_fail(EXIT_USAGE,
                            "organizer token: --days must be a number from 0 to %d, "
                            "not '%s'",
                            TOKEN_DAYS_MAX, days_text);
    }
    int64_t organizer;
    int code = organizer_id_of(cli, "token", email, &organizer);
    if (code != EXIT_OK)
        return code;
    char token[TOKEN_RANDOM_LEN + 1], token_digest[TOKEN_HASH_HEX + 1];
    token_random(token);
    token_hash(token, token_digest);
    int64_t now = tz_now(), expires = now + (int64_t)days * 86400, id;
    if (store_api_token_create(cli->store, organizer, token_digest, now, expires, &id) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer token: could not store the token");
    char until[21];
    tz_iso_utc(expires, until);
    fprintf(stderr, "token %lld of %s, valid until %s; it is shown only now\n", (long long)id,
            cli_text(email), until);
    printf("%s\n", token);
    return EXIT_OK;
}

/* ISO 8601 UTC, or `none` for 0. */
static const char *time_text(int64_t t, const char *none, char iso[21])
{
    if (t <= 0)
        return none;
    tz_iso_utc(t, iso);
    return iso;
}

static int organizer_tokens(struct cli *cli, const char *email)
{
    int64_t organizer;
    int code = organizer_id_of(cli, "tokens", email, &organizer);
    if (code != EXIT_OK)
        return code;
    struct api_token_row *rows = NULL;
    size_t n = 0;
    if (store_api_tokens_of(cli->store, organizer, &rows, &n) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer tokens: could not read the tokens");
    int64_t now = tz_now();
    printf("%-6s  %-20s  %-20s  %s\n", "ID", "CREATED", "EXPIRES", "LAST USED");
    for (size_t i = 0; i < n; i++) {
        char created[21], expires[21], used[21];
        printf("%-6lld  %-20s  %-20s  %s%s\n", (long long)rows[i].id,
               time_text(rows[i].created_at, "-", created),
               time_text(rows[i].expires_at, "-", expires),
               time_text(rows[i].last_used_at, "never", used),
               rows[i].expires_at <= now ? "  expired" : "");
    }
    if (!n)
        printf("(no tokens)\n");
    free(rows);
    return EXIT_OK;
}

static int organizer_revoke_token(struct cli *cli, const char *email, const char *id_text)
{
    char *end;
    long long id = strtoll(id_text, &end, 10);
    if (!*id_text || *end || id <= 0)
        return cli_fail(EXIT_USAGE,
                        "organizer revoke-token: '%s' is not a token id (see "
                        "`muster organizer tokens EMAIL`)",
                        id_text);
    int64_t organizer;
    int code = organizer_id_of(cli, "revoke-token", email, &organizer);
    if (code != EXIT_OK)
        return code;
    int rc = store_api_token_revoke(cli->store, organizer, id);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "organizer revoke-token: %s has no token %lld", email, id);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "organizer revoke-token: could not revoke the token");
    printf("token %lld of %s revoked\n", id, cli_text(email));
    return EXIT_OK;
}

#define ORGANIZER_USAGE                                                                            \
    "usage: muster organizer add EMAIL [--role admin|organizer] | role EMAIL admin|organizer | "   \
    "token EMAIL [--days N] | tokens EMAIL | revoke-token EMAIL ID"

int cmd_organizer(struct cli *cli, int argc, char **argv)
{
    if (argc < 3)
        return cli_fail(EXIT_USAGE, ORGANIZER_USAGE);
    const char *sub = argv[1], *email = argv[2];
    int known = strcmp(sub, "add") == 0 || strcmp(sub, "role") == 0 || strcmp(sub, "token") == 0 ||
                strcmp(sub, "tokens") == 0 || strcmp(sub, "revoke-token") == 0;
    if (!known)
        return cli_fail(EXIT_USAGE, ORGANIZER_USAGE);
    if (!mail_address_valid(email))
        return cli_fail(EXIT_USAGE, "organizer %s: '%s' is not a valid email address", sub, email);
    if (strcmp(sub, "add") == 0) {
        if (argc == 3)
            return organizer_add(cli, email, NULL);
        if (argc == 5 && strcmp(argv[3], "--role") == 0)
            return organizer_add(cli, email, argv[4]);
    } else if (strcmp(sub, "role") == 0 && argc == 4) {
        return organizer_role(cli, email, argv[3]);
    } else if (strcmp(sub, "token") == 0) {
        if (argc == 3)
            return organizer_token(cli, email, NULL);
        if (argc == 5 && strcmp(argv[3], "--days") == 0)
            return organizer_token(cli, email, argv[4]);
    } else if (strcmp(sub, "tokens") == 0 && argc == 3) {
        return organizer_tokens(cli, email);
    } else if (strcmp(sub, "revoke-token") == 0 && argc == 4) {
        return organizer_revoke_token(cli, email, argv[3]);
    }
    return cli_fail(EXIT_USAGE, ORGANIZER_USAGE);
}
