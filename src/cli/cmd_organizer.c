/*
 * cmd_organizer: `muster organizer add EMAIL` (password from the terminal
 * without echo, or the first line of stdin; hashed with Argon2id; setting the
 * password of an existing organizer ends their sessions) and
 * `muster organizer token EMAIL` (prints a new API token; only its SHA-256 is
 * stored).
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
#include "mail/message.h"
#include "store/store.h"
#include "core/banned.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 256

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

static int organizer_add(struct cli *cli, const char *email)
{
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
    printf(created ? "organizer %s added\n" : "password of %s changed; their sessions ended\n",
           cli_text(email));
    return EXIT_OK;
}

static int organizer_token(struct cli *cli, const char *email)
{
    int64_t id;
    char *hash = NULL;
    int rc = store_organizer_get(cli->store, email, &id, &hash);
    if (rc == STORE_NOT_FOUND)
        return cli_fail(EXIT_USAGE, "organizer token: no organizer %s", email);
    if (rc != 0)
        return cli_fail(EXIT_RUNTIME, "organizer token: could not read the organizer");
    free(hash);
    char token[TOKEN_RANDOM_LEN + 1], token_digest[TOKEN_HASH_HEX + 1];
    token_random(token);
    token_hash(token, token_digest);
    if (store_api_token_create(cli->store, id, token_digest, tz_now()) != 0)
        return cli_fail(EXIT_RUNTIME, "organizer token: could not store the token");
    printf("%s\n", token);
    return EXIT_OK;
}

int cmd_organizer(struct cli *cli, int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "token") != 0))
        return cli_fail(EXIT_USAGE, "usage: muster organizer add EMAIL | token EMAIL");
    if (!mail_address_valid(argv[2]))
        return cli_fail(EXIT_USAGE, "organizer %s: '%s' is not a valid email address", argv[1],
                        argv[2]);
    return strcmp(argv[1], "add") == 0 ? organizer_add(cli, argv[2])
                                       : organizer_token(cli, argv[2]);
}
