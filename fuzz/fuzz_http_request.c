/*
 * fuzz_http_request: raw bytes as an HTTP request, end to end, in-process:
 * libmicrohttpd's parser (request line, headers, Content-Length and chunked
 * framing, Expect: 100-continue), the server's body collection and dispatch
 * (src/http/server.c), the route table (src/app/routes.c) and every handler
 * behind it: pledges as forms and JSON (through the group commit), confirm,
 * action and report links, unsubscribe, the calendar, login and the
 * dashboard's routes as an anonymous caller.
 *
 * LLVMFuzzerInitialize makes a throw-away SQLite database (in /dev/shm when
 * there is one, else TMPDIR) with two campaigns through the library
 * (campaigns_apply): one launched, one still counting down, and supporters
 * in both; then starts the real server without a listening socket
 * (http_server_start_unlistened). Each input goes through one end of a
 * socketpair that MHD is handed (MHD_add_connection), with its write side
 * shut after the input; the event loop runs until the server closed the
 * connection, nothing happened for 100 ms (MHD waits for a body that the
 * input cut short: it keeps the connection until its timeout) or 2 s
 * passed, and the answer is read and dropped.
 *
 * Placeholders in an input are replaced by valid link tokens, so the corpus
 * reaches past the token check: @A@ an action link (launched campaign),
 * @R@ an action link of a second supporter, @W@ an action link before the
 * moment (countdown), @C@ a pending supporter's confirmation link, @H@ the
 * link of a held change, @U@ unsubscribe, @I@ calendar. The CSRF cookie is
 * double-submit, so a request carrying the same value in the cookie and the
 * form passes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/routes.h"
#include "campaign/campaign.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/token.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/server.h"
#include "service/assigner.h"
#include "service/campaigns.h"
#include "service/pledges.h"
#include "store/group_commit.h"
#include "store/store.h"
#include "store/store_inspect.h"

#define CAMPAIGN_JSON                                                                              \
    "{\"slug\": \"%s\", \"title\": \"Fuzz day %s\", \"description\": \"A campaign.\","             \
    "\"organizer\": {\"name\": \"Fuzzers\", \"email\": \"team@example.org\"},"                     \
    "\"launch\": {\"at\": \"%s\", \"timezone\": \"UTC\", \"window_minutes\": 600},"                \
    "\"message\": {\"title\": \"Please\", \"body\": \"Hello {{name}}: {{statement}}\"},"           \
    "\"statement\": {\"enabled\": true, \"max_chars\": 1000, \"prompt\": \"Why?\"},"               \
    "\"assignment\": \"%s\", \"targets\": ["                                                       \
    "{\"id\": \"gh\", \"kind\": \"github_issue\", \"repo\": \"o/r\", \"labels\": [\"docs\"]},"     \
    "{\"id\": \"gl\", \"kind\": \"gitlab_issue\", \"project_url\": "                               \
    "\"https://gl.example.org/a/b\"},"                                                             \
    "{\"id\": \"ml\", \"kind\": \"email\", \"to\": [\"list@example.org\"]},"                       \
    "{\"id\": \"ph\", \"kind\": \"call\", \"number\": \"+4930123456\", \"script\": \"Hi\"},"       \
    "{\"id\": \"ma\", \"kind\": \"mastodon\"}],"                                                   \
    "\"fallback\": [\"gh\", \"gl\", \"ml\", \"ph\", \"ma\"], \"close_after_reports\": 1000,"       \
    "\"closed_message\": \"Closed.\"}"

struct placeholder {
    const char *name; /* "@A@" */
    char token[TOKEN_LINK_LEN + 1];
};

static struct placeholder placeholders[] = {{"@A@", ""}, {"@R@", ""}, {"@W@", ""}, {"@C@", ""},
                                            {"@H@", ""}, {"@U@", ""}, {"@I@", ""}};
static struct config cfg;
static struct app app;
static struct http_server *server;
static char dir[256];

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_http_request: %s: %s\n", what, err ? err : "");
    abort();
}

static int64_t add_campaign(struct store *st, const char *slug, int64_t launch, const char *mode)
{
    char when[32], text[4096];
    tz_iso_utc(launch, when);
    when[19] = '\0'; /* local time without the Z: the campaign's zone is UTC */
    snprintf(text, sizeof text, CAMPAIGN_JSON, slug, slug, when, mode);
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(text, strlen(text), slug, &c, &errors) != 0)
        die("campaign", buf_cstr(&errors));
    buf_release(&errors);
    enum apply_result result;
    char err[256];
    if (campaigns_apply(st, c, tz_now(), &result, err, sizeof err) != 0)
        die("apply", err);
    campaign_free(c);
    struct campaign_row row;
    if (store_campaign_get(st, slug, &row) != 0)
        die("campaign row", slug);
    int64_t id = row.id;
    campaign_row_release(&row);
    return id;
}

static struct supporter supporter_of(struct store *st, const char *email)
{
    int64_t id;
    struct supporter s;
    if (store_inspect_supporter_id(st, email, &id) != 0 || store_supporter_by_id(st, id, &s) != 0)
        die("supporter", email);
    return s;
}

static void import(struct store *st, int64_t campaign_id, const char *email)
{
    if (store_begin(st) != 0 ||
        pledges_import_in_tx(st, campaign_id, email, "Ann", "Europe/Berlin", "yes", tz_now(),
                             tz_now()) != 0 ||
        store_commit(st) != 0)
        die("import", email);
}

static void pledge(struct store *st, int64_t campaign_id, const char *email, const char *name)
{
    struct pledge_input in = {email, name, "", "UTC", NULL, "I agree", "127.0.0.1"};
    enum pledge_outcome outcome;
    if (pledges_record(st, campaign_id, &in, 3, tz_now(), &outcome) != 0)
        die("pledge", email);
}

static void make_dir(void)
{
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : NULL;
    if (!base)
        base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz_http_request.XXXXXX", base);
    if (!mkdtemp(dir))
        die("mkdtemp", strerror(errno));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    log_set_quiet(1);
    make_dir();
    static char db[300], maildir[300];
    snprintf(db, sizeof db, "%s/muster.db", dir);
    snprintf(maildir, sizeof maildir, "%s/mail", dir);
    setenv("MUSTER_DB", db, 1);
    setenv("MUSTER_MAILDIR", maildir, 1);
    setenv("MUSTER_LISTEN", "127.0.0.1:8080", 1);
    setenv("MUSTER_BASE_URL", "http://127.0.0.1:8080", 1);
    setenv("MUSTER_PLEDGE_LIMIT", "0", 1);
    unsetenv("MUSTER_SMTP");
    unsetenv("MUSTER_TRUSTED_PROXIES");
    char err[256];
    if (config_load(&cfg, err, sizeof err) != 0)
        die("config", err);
    struct store *st;
    unsigned char secret[TOKEN_SECRET_LEN];
    if (store_open(cfg.db, &st, err, sizeof err) != 0)
        die("store", err);
    if (store_secret(st, secret) != 0 || token_init(secret) != 0)
        die("secret", NULL);

    int64_t now = tz_now();
    int64_t launched = add_campaign(st, "now-day", now - 600, "balanced");
    int64_t waiting = add_campaign(st, "later-day", now + 86400, "choose");
    add_campaign(st, "all-day", now - 600, "all");
    import(st, launched, "ann@example.org");
    import(st, launched, "bob@example.org");
    import(st, waiting, "wait@example.org");
    pledge(st, launched, "pending@example.org", "Pat");
    pledge(st, launched, "pending@example.org", "Pat Changed"); /* a held change */

    struct supporter ann = supporter_of(st, "ann@example.org");
    struct supporter bob = supporter_of(st, "bob@example.org");
    struct supporter wait = supporter_of(st, "wait@example.org");
    struct supporter pat = supporter_of(st, "pending@example.org");
    token_link_make(TOKEN_ACTION, ann.token_key, ann.epoch, placeholders[0].token);
    token_link_make(TOKEN_ACTION, bob.token_key, bob.epoch, placeholders[1].token);
    token_link_make(TOKEN_ACTION, wait.token_key, wait.epoch, placeholders[2].token);
    token_link_make(TOKEN_CONFIRM, pat.token_key, pat.epoch, placeholders[3].token);
    token_link_make(TOKEN_CONFIRM_CHANGE, pat.token_key, pat.change_epoch, placeholders[4].token);
    token_link_make(TOKEN_UNSUBSCRIBE, bob.token_key, bob.epoch, placeholders[5].token);
    token_link_make(TOKEN_CALENDAR, ann.token_key, ann.epoch, placeholders[6].token);
    supporter_release(&ann);
    supporter_release(&bob);
    supporter_release(&wait);
    supporter_release(&pat);
    store_close(st);

    if (app_init(&app, &cfg) != 0)
        die("app", "out of memory");
    app.assigner = assigner_start(cfg.db, err, sizeof err);
    if (!app.assigner)
        die("assigner", err);
    app.committer = group_commit_start(cfg.db, err, sizeof err);
    if (!app.committer)
        die("group commit", err);
    server = http_server_start_unlistened(&app, &app_http, err, sizeof err);
    if (!server)
        die("server", err);
    return 0;
}

/* The request with its placeholders replaced by tokens. */
static void expand(struct buf *out, const uint8_t *data, size_t size)
{
    size_t start = 0;
    for (size_t i = 0; i + 3 <= size; i++) {
        if (data[i] != '@' || data[i + 2] != '@')
            continue;
        for (size_t k = 0; k < sizeof placeholders / sizeof placeholders[0]; k++) {
            if (memcmp(data + i, placeholders[k].name, 3) != 0)
                continue;
            buf_append(out, (const char *)data + start, i - start);
            buf_puts(out, placeholders[k].token);
            start = i + 3;
            i += 2;
            break;
        }
    }
    buf_append(out, (const char *)data + start, size - start);
}

/* Reads and drops what the server answered so far. */
static void drain(void *ctx)
{
    int fd = *(int *)ctx;
    char sink[16384];
    while (read(fd, sink, sizeof sink) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf request;
    buf_init(&request, 1024 * 1024);
    expand(&request, data, size);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair", strerror(errno));
    /* The whole request is in the socket's buffer before MHD reads it (the
     * buffer is larger than any input); the write side is then shut, so the
     * server sees the end of the request. */
    int sndbuf = 4 * 1024 * 1024;
    (void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    size_t sent = 0;
    while (sent < request.len) {
        ssize_t w = write(sv[1], request.data + sent, request.len - sent);
        if (w <= 0)
            break; /* the buffer is full: the server reads what it got */
        sent += (size_t)w;
    }
    buf_release(&request);
    shutdown(sv[1], SHUT_WR);
    int client = sv[1];
    (void)http_server_serve_connection(server, sv[0], drain, &client, 100, 2000);
    close(client);
    return 0;
}
