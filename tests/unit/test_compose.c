/*
 * test_compose: the table of mail kinds (src/mail/compose.c) and what each
 * row makes of a mail. Every enum mail_kind has a name and a composer; a
 * value that is no kind (0, 9, one past the last) is refused by every entry
 * point, so nothing is ever sent as a guess; and the sender (outbox.c) marks
 * an outbox row of such a kind failed instead of sending it, on a real
 * database and Maildir.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "campaign/campaign.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/token.h"
#include "mail/compose.h"
#include "mail/outbox.h"
#include "service/campaigns.h"
#include "service/pledges.h"
#include "store/store.h"
#include "tmp_db.h"

#include "core/banned.h"

#define CAMPAIGN                                                                                   \
    "{\"slug\": \"docs-day\", \"title\": \"Offline docs\", "                                       \
    "\"organizer\": {\"name\": \"Docs Collective\", \"email\": \"team@example.org\"}, "            \
    "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "                       \
    "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"sky\", \"kind\": \"bluesky\"}]}"

static const enum mail_kind unknown_kinds[] = {
    (enum mail_kind)0, (enum mail_kind)9, (enum mail_kind)MAIL_KIND_COUNT, (enum mail_kind)(-1)};
#define UNKNOWN_COUNT (sizeof unknown_kinds / sizeof unknown_kinds[0])

static struct config test_config(void)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.base_url = "https://muster.example";
    cfg.from = "muster@example.org";
    cfg.send_concurrency = 1;
    return cfg;
}

static void secret_init(void)
{
    unsigned char secret[TOKEN_SECRET_LEN] = {7};
    assert_int_equal(token_init(secret), 0);
}

static struct campaign *campaign_ok(void)
{
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(CAMPAIGN, strlen(CAMPAIGN), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    return c;
}

/* ---- the table ---------------------------------------------------------- */

static void every_mail_kind_has_a_name_and_a_composer(void **state)
{
    for (int k = 1; k < MAIL_KIND_COUNT; k++) {
        const struct mail_kind_ops *ops = mail_kind_lookup((enum mail_kind)k);
        if (!ops)
            fail_msg("mail kind %d has no row in compose.c's mail_kinds", k);
        assert_non_null(ops->name);
        assert_true(strlen(ops->name) > 0);
        assert_non_null(ops->compose);
        /* A name is one dot-atom word: it starts the Message-ID's local part. */
        assert_int_equal(strspn(ops->name, "abcdefghijklmnopqrstuvwxyz"), strlen(ops->name));
        for (int j = 1; j < k; j++)
            assert_string_not_equal(mail_kind_lookup((enum mail_kind)j)->name, ops->name);
    }
    assert_string_equal(mail_kind_lookup(MAIL_CONFIRM)->name, "confirm");
    assert_string_equal(mail_kind_lookup(MAIL_WELCOME)->name, "welcome");
    assert_string_equal(mail_kind_lookup(MAIL_REMINDER)->name, "reminder");
}

static void message_id_starts_with_the_kind_name(void **state)
{
    secret_init();
    struct config cfg = test_config();
    for (int k = 1; k < MAIL_KIND_COUNT; k++) {
        char id[160], want[64];
        assert_int_equal(compose_message_id((enum mail_kind)k, 12, 34, &cfg, id), 0);
        snprintf(want, sizeof want, "%s.12.34.", mail_kind_lookup((enum mail_kind)k)->name);
        assert_memory_equal(id, want, strlen(want));
        assert_non_null(strstr(id, "@example.org"));
    }
}

/* A provider's event echoes the Message-ID: the campaign and supporter come
 * back from ours only (webhooks attribute events by it). */
static void message_id_parse_gives_back_the_ids_of_ours_only(void **state)
{
    secret_init();
    struct config cfg = test_config();
    char id[160], bracketed[170], forged[160];
    int64_t cid = -1, sid = -1;
    for (int k = 1; k < MAIL_KIND_COUNT; k++) {
        assert_int_equal(compose_message_id_variant((enum mail_kind)k,
                                                    mail_kind_per_variant((enum mail_kind)k) ? 60
                                                                                             : 0,
                                                    12, 34, &cfg, id),
                         0);
        cid = sid = -1;
        assert_int_equal(compose_message_id_parse(id, &cfg, &cid, &sid), 0);
        assert_int_equal(cid, 12);
        assert_int_equal(sid, 34);
    }
    assert_int_equal(compose_message_id(MAIL_REMINDER, 7, 8, &cfg, id), 0);
    snprintf(bracketed, sizeof bracketed, " <%s>", id);
    assert_int_equal(compose_message_id_parse(bracketed, &cfg, &cid, &sid), 0);
    assert_int_equal(cid, 7);
    assert_int_equal(sid, 8);
    /* another campaign under the same MAC, a changed MAC, another server's */
    snprintf(forged, sizeof forged, "reminder.9.8.%s", id + strlen("reminder.7.8."));
    assert_int_equal(compose_message_id_parse(forged, &cfg, &cid, &sid), -1);
    snprintf(forged, sizeof forged, "%s", id);
    forged[strlen("reminder.7.8.")] ^= 1;
    assert_int_equal(compose_message_id_parse(forged, &cfg, &cid, &sid), -1);
    unsigned char other[TOKEN_SECRET_LEN] = {99};
    assert_int_equal(token_init(other), 0);
    assert_int_equal(compose_message_id_parse(id, &cfg, &cid, &sid), -1);
    secret_init();
    const char *bad[] = {NULL, "", "<>", "reminder", "reminder.1.2@example.org",
                         "nosuchkind.1.2.0123456789abcdef@example.org",
                         "reminder.-1.2.0123456789abcdef@example.org",
                         "test-reminder.1.2.3.abc@example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(compose_message_id_parse(bad[i], &cfg, &cid, &sid), -1);
}

/* Two servers count campaigns and supporters from 1: the same ids must not
 * give the same calendar UID, and one server gives the same UID every time. */
static void calendar_uid_is_stable_and_differs_between_servers(void **state)
{
    struct config cfg = test_config();
    struct campaign *c = campaign_ok();
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {.id = 2, .token_key = 3, .email = (char *)"a@example.org"};
    char uids[2][2][200];
    for (int server = 0; server < 2; server++) {
        unsigned char secret[TOKEN_SECRET_LEN] = {(unsigned char)(7 + server)};
        assert_int_equal(token_init(secret), 0);
        for (int time = 0; time < 2; time++) {
            struct buf ics = BUF_INIT;
            assert_int_equal(compose_ics(c, &row, &s, &cfg, 1000 + time, &ics), 0);
            const char *uid = strstr(buf_cstr(&ics), "\r\nUID:");
            assert_non_null(uid);
            uid += 6;
            size_t n = strcspn(uid, "\r");
            assert_true(n < sizeof uids[0][0]);
            memcpy(uids[server][time], uid, n);
            uids[server][time][n] = '\0';
            buf_release(&ics);
        }
        assert_string_equal(uids[server][0], uids[server][1]);
        char want[200];
        compose_calendar_uid(1, 2, &cfg, want);
        assert_string_equal(uids[server][0], want);
        assert_non_null(strstr(want, "@example.org"));
        assert_true(strlen(want) >= strlen("launch-@example.org") + 32);
    }
    assert_string_not_equal(uids[0][0], uids[1][0]);
    secret_init();
    campaign_free(c);
}

static void unknown_mail_kind_is_refused(void **state)
{
    secret_init();
    struct config cfg = test_config();
    struct campaign *c = campaign_ok();
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {
        .id = 2, .token_key = 3, .email = (char *)"ada@example.org", .timezone = (char *)"UTC"};
    for (size_t i = 0; i < UNKNOWN_COUNT; i++) {
        enum mail_kind kind = unknown_kinds[i];
        assert_null(mail_kind_lookup(kind));
        char id[160] = "untouched";
        assert_int_equal(compose_message_id(kind, 1, 2, &cfg, id), -1);
        assert_string_equal(id, "untouched");
        struct buf out = BUF_INIT, links = BUF_INIT;
        assert_int_equal(compose_mail(kind, c, &row, &s, &cfg, 1000, &out, &links), -1);
        assert_int_equal(out.len, 0);
        assert_int_equal(links.len, 0);
        buf_release(&out);
        buf_release(&links);
    }
    campaign_free(c);
}

/* What the rows say differs per kind shows in the mails. */
static void each_kind_composes_its_own_mail(void **state)
{
    secret_init();
    struct config cfg = test_config();
    struct campaign *c = campaign_ok();
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {.id = 2,
                          .token_key = 3,
                          .email = (char *)"ada@example.org",
                          .name = (char *)"Ada",
                          .timezone = (char *)"UTC"};
    static const struct {
        enum mail_kind kind;
        const char *subject, *link;
        int footer, list_unsubscribe, attachment, cancel;
    } want[] = {
        {MAIL_CONFIRM, "Subject: Confirm your pledge: Offline docs", "/confirm/", 0, 0, 0, 0},
        {MAIL_WELCOME, "Subject: You're in: Offline docs", "/c/docs-day", 1, 0, 1, 0},
        {MAIL_REMINDER, "Subject: It's time: Offline docs", "/a/", 1, 1, 0, 1},
        {MAIL_MOVED, "Subject: New time: Offline docs", "/c/docs-day", 1, 1, 1, 1},
        {MAIL_EARLY_REMINDER, "Subject: Coming up: Offline docs", "/c/docs-day", 1, 1, 0, 1},
        {MAIL_FOLLOW_UP, "Subject: Still time: Offline docs", "/a/", 1, 1, 0, 1},
    };
    assert_int_equal(sizeof want / sizeof want[0], MAIL_KIND_COUNT - 1);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct mail_kind_ops *ops = mail_kind_lookup(want[i].kind);
        assert_int_equal(ops->unsubscribe_footer, want[i].footer);
        assert_int_equal(ops->cancel_if_unsubscribed, want[i].cancel);
        struct buf out = BUF_INIT, links = BUF_INIT;
        assert_int_equal(compose_mail(want[i].kind, c, &row, &s, &cfg, 1000, &out, &links), 0);
        const char *m = buf_cstr(&out), *l = buf_cstr(&links);
        char id[160], header[200];
        assert_int_equal(compose_message_id(want[i].kind, row.id, s.id, &cfg, id), 0);
        snprintf(header, sizeof header, "Message-ID: <%s>\r\n", id);
        assert_non_null(strstr(m, header));
        assert_non_null(strstr(m, want[i].subject));
        assert_memory_equal(l, "https://muster.example", 22);
        assert_non_null(strstr(l, want[i].link));
        assert_int_equal(strstr(l, " https://muster.example/u/") != NULL, want[i].footer);
        assert_int_equal(strstr(m, "\r\nList-Unsubscribe: ") != NULL, want[i].list_unsubscribe);
        /* the list the supporter joined is named where there is an unsubscribe link */
        assert_int_equal(strstr(m, "\r\nList-Id: Offline docs <docs-day.example.org>\r\n") != NULL,
                         want[i].footer);
        assert_int_equal(strstr(m, "invite.ics") != NULL, want[i].attachment);
        buf_release(&out);
        buf_release(&links);
    }
    campaign_free(c);
}

/* The calendar file carries the campaign's SEQUENCE (0, then one more per
 * move of the moment) under the same UID. */
static void calendar_file_carries_the_sequence(void **state)
{
    secret_init();
    struct config cfg = test_config();
    struct campaign *c = campaign_ok();
    struct supporter s = {.id = 2, .token_key = 3, .email = (char *)"a@example.org"};
    for (int64_t seq = 0; seq < 3; seq++) {
        struct campaign_row row = {
            .id = 1, .launch_utc = c->launch_utc, .window_minutes = 120, .calendar_sequence = seq};
        struct buf ics = BUF_INIT;
        char want[64];
        snprintf(want, sizeof want, "\r\nSEQUENCE:%lld\r\n", (long long)seq);
        assert_int_equal(compose_ics(c, &row, &s, &cfg, 1000, &ics), 0);
        if (!strstr(buf_cstr(&ics), want))
            fail_msg("no %s in:\n%s", want, buf_cstr(&ics));
        buf_release(&ics);
    }
    campaign_free(c);
}

/* Two earlier reminders of one supporter have Message-IDs of their own; a
 * kind without variants keeps the Message-ID it always had. */
static void variants_have_their_own_message_ids(void **state)
{
    secret_init();
    struct config cfg = test_config();
    char a[160], b[160], plain[160], zero[160];
    assert_int_equal(compose_message_id_variant(MAIL_EARLY_REMINDER, 3600, 1, 2, &cfg, a), 0);
    assert_int_equal(compose_message_id_variant(MAIL_EARLY_REMINDER, 60, 1, 2, &cfg, b), 0);
    assert_string_not_equal(a, b);
    assert_memory_equal(a, "upcoming.1.2.3600.", strlen("upcoming.1.2.3600."));
    assert_int_equal(compose_message_id(MAIL_REMINDER, 1, 2, &cfg, plain), 0);
    assert_int_equal(compose_message_id_variant(MAIL_REMINDER, 0, 1, 2, &cfg, zero), 0);
    assert_string_equal(plain, zero);
}

/* The organizer's words: values and literal text escaped in the HTML part,
 * the subject one line whatever the statement holds, muster's link after. */
static void organizers_words_are_escaped_and_followed_by_the_link(void **state)
{
    secret_init();
    struct config cfg = test_config();
    const char *json =
        "{\"slug\": \"w\", \"title\": \"T\", "
        "\"organizer\": {\"name\": \"D\", \"email\": \"d@example.org\"}, "
        "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "
        "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"sky\", \"kind\": "
        "\"bluesky\"}], \"mails\": {\"reminder\": {\"subject\": \"Go {{statement}}\", "
        "\"body\": \"<p>Hi {{name}}</p>\\n\\nsay {{statement}}\"}}}";
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(json, strlen(json), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {.id = 2,
                          .token_key = 3,
                          .email = (char *)"ada@example.org",
                          .name = (char *)"<Ada>",
                          .statement = (char *)"a\r\nBcc: x@evil.example",
                          .timezone = (char *)"UTC"};
    struct buf out = BUF_INIT, links = BUF_INIT;
    assert_int_equal(compose_mail(MAIL_REMINDER, c, &row, &s, &cfg, 1000, &out, &links), 0);
    const char *m = buf_cstr(&out);
    if (!strstr(m, "\r\nSubject: Go a  Bcc: x@evil.example\r\n"))
        fail_msg("subject not on one line:\n%s", m);
    /* no header of its own: the headers end at the first empty line */
    const char *bcc = strstr(m, "\r\nBcc:"), *headers_end = strstr(m, "\r\n\r\n");
    assert_non_null(headers_end);
    assert_true(!bcc || bcc > headers_end);
    /* the HTML part is quoted-printable: "=3D" is "=" */
    if (!strstr(m, "<p>&lt;p&gt;Hi &lt;Ada&gt;&lt;/p&gt;</p>"))
        fail_msg("body not escaped:\n%s", m);
    assert_null(strstr(m, "Hello"));
    assert_non_null(strstr(buf_cstr(&links), "https://muster.example/a/"));
    buf_release(&out);
    buf_release(&links);
    campaign_free(c);
}

/* A re-pledge's confirmation keeps muster's words: it must say that nothing
 * changes unless the new details are confirmed. */
static void a_held_change_is_confirmed_in_musters_words(void **state)
{
    secret_init();
    struct config cfg = test_config();
    const char *json = "{\"slug\": \"w\", \"title\": \"T\", "
                       "\"organizer\": {\"name\": \"D\", \"email\": \"d@example.org\"}, "
                       "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "
                       "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"sky\", \"kind\": "
                       "\"bluesky\"}], \"mails\": {\"confirm\": {\"subject\": \"Click it\", "
                       "\"body\": \"Just click\"}}}";
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(json, strlen(json), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {.id = 2,
                          .token_key = 3,
                          .email = (char *)"ada@example.org",
                          .timezone = (char *)"UTC",
                          .has_pending_change = 1,
                          .change_epoch = 1,
                          .change_timezone = (char *)"Europe/Berlin"};
    struct buf out = BUF_INIT;
    assert_int_equal(compose_mail(MAIL_CONFIRM, c, &row, &s, &cfg, 1000, &out, NULL), 0);
    assert_non_null(strstr(buf_cstr(&out), "Subject: Confirm the change to your pledge: T"));
    assert_null(strstr(buf_cstr(&out), "Just click"));
    buf_release(&out);
    s.has_pending_change = 0;
    s.change_timezone = NULL;
    assert_int_equal(compose_mail(MAIL_CONFIRM, c, &row, &s, &cfg, 1000, &out, NULL), 0);
    assert_non_null(strstr(buf_cstr(&out), "Subject: Click it"));
    assert_non_null(strstr(buf_cstr(&out), "Just click"));
    buf_release(&out);
    campaign_free(c);
}

/* The HTML part is a whole document with a head; a non-ASCII campaign title
 * is RFC 2047-encoded in List-Id. */
static void html_part_has_a_head_and_list_id_is_encoded(void **state)
{
    secret_init();
    struct config cfg = test_config();
    const char *json = "{\"slug\": \"tag-der-doku\", \"title\": \"Doku f\xc3\xbcr alle <jetzt>\", "
                       "\"organizer\": {\"name\": \"D\", \"email\": \"d@example.org\"}, "
                       "\"launch\": {\"at\": \"2026-12-05T10:00:00\", \"timezone\": \"UTC\"}, "
                       "\"message\": {\"title\": \"M\"}, \"targets\": [{\"id\": \"sky\", \"kind\": "
                       "\"bluesky\"}]}";
    struct campaign *c = NULL;
    struct buf errors = BUF_INIT;
    if (campaign_parse(json, strlen(json), "c.json", &c, &errors) != 0)
        fail_msg("campaign: %s", buf_cstr(&errors));
    buf_release(&errors);
    struct campaign_row row = {.id = 1, .launch_utc = c->launch_utc, .window_minutes = 120};
    struct supporter s = {
        .id = 2, .token_key = 3, .email = (char *)"ada@example.org", .timezone = (char *)"UTC"};
    struct buf out = BUF_INIT;
    assert_int_equal(compose_mail(MAIL_REMINDER, c, &row, &s, &cfg, 1000, &out, NULL), 0);
    const char *m = buf_cstr(&out);
    if (!strstr(m, "\r\nList-Id: "))
        fail_msg("no List-Id in:\n%s", m);
    /* "Doku f\xc3\xbcr alle <jetzt>" in base64 */
    const char *list_id = strstr(m, "\r\nList-Id: =?UTF-8?B?RG9rdSBmw7xyIGFsbGUgPGpldHp0Pg==?=");
    assert_non_null(list_id);
    /* folded before the id: the line would pass 76 characters */
    assert_non_null(strstr(list_id, "?=\r\n <tag-der-doku.example.org>\r\n"));
    /* the HTML part is quoted-printable: "=3D" is "=" */
    assert_non_null(strstr(m, "<html lang=3D\"en\" dir=3D\"ltr\">"));
    assert_non_null(strstr(m, "<meta charset=3D\"utf-8\">"));
    if (!strstr(m, "<title>It&#39;s time: Doku f=C3=BCr alle &lt;jetzt&gt;</title>"))
        fail_msg("no title in:\n%s", m);
    const char *head = strstr(m, "<head>"), *body = strstr(m, "<body");
    assert_non_null(head);
    assert_non_null(body);
    assert_true(head < body);
    buf_release(&out);
    campaign_free(c);
}

/* ---- the sender --------------------------------------------------------- */

struct outbox_fixture {
    struct tmp_db db;
    char maildir[128];
    struct store *st;
    sqlite3 *raw; /* to write rows the store never would */
    int64_t campaign_id;
};

static int outbox_setup(void **state)
{
    struct outbox_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tmp_db_make(&f->db, "compose"), 0);
    snprintf(f->maildir, sizeof f->maildir, "%s/mail", f->db.dir);
    char err[256];
    assert_int_equal(store_open(f->db.path, &f->st, err, sizeof err), 0);
    secret_init();
    struct campaign *c = campaign_ok();
    enum apply_result applied;
    assert_int_equal(campaigns_apply(f->st, c, 1000, &applied, err, sizeof err), 0);
    campaign_free(c);
    struct campaign_row row = {0};
    assert_int_equal(store_campaign_get(f->st, "docs-day", &row), 0);
    f->campaign_id = row.id;
    campaign_row_release(&row);
    assert_int_equal(sqlite3_open(f->db.path, &f->raw), SQLITE_OK);
    sqlite3_busy_timeout(f->raw, 5000);
    *state = f;
    return 0;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[512];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

static int outbox_teardown(void **state)
{
    struct outbox_fixture *f = *state;
    sqlite3_close(f->raw);
    store_close(f->st);
    remove_tree(f->maildir);
    tmp_db_remove(&f->db);
    free(f);
    return 0;
}

/* Files the Maildir transport wrote (new/ and cur/). */
static int mails_written(const char *maildir)
{
    int n = 0;
    static const char *const subdirs[] = {"new", "cur"};
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", maildir, subdirs[i]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)))
            n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

/* The state and reply of outbox row id. */
static void outbox_row(sqlite3 *db, int64_t id, char *state, char *reply, size_t n)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT state, last_reply FROM outbox WHERE id = ?1", -1, &s, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(s, 1, id);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(state, n, "%s", (const char *)sqlite3_column_text(s, 0));
    const unsigned char *r = sqlite3_column_text(s, 1);
    snprintf(reply, n, "%s", r ? (const char *)r : "");
    sqlite3_finalize(s);
}

static void outbox_row_of_unknown_kind_fails_and_is_not_sent(void **state)
{
    struct outbox_fixture *f = *state;
    /* Three pledges queue three confirmations; two of them get kinds no
     * muster knows. */
    for (int i = 0; i < 3; i++) {
        char email[64];
        snprintf(email, sizeof email, "p%d@example.org", i);
        struct pledge_input in = {.email = email, .timezone = "UTC", .consent_text = "yes"};
        enum pledge_outcome outcome;
        assert_int_equal(pledges_record(f->st, f->campaign_id, &in, 3, 1000, &outcome), 0);
    }
    sql_exec(f->raw, "UPDATE outbox SET kind = 0 WHERE id = 1");
    sql_exec(f->raw, "UPDATE outbox SET kind = 9 WHERE id = 2");

    struct config cfg = test_config();
    cfg.maildir = f->maildir;
    char err[256];
    struct sender *sender = sender_open(&cfg, f->st, err, sizeof err);
    if (!sender)
        fail_msg("sender_open: %s", err);
    struct sender_counts counts = {0};
    size_t claimed = 0;
    /* The log goes to a file for the batch, to be read back. */
    char log_path[160];
    snprintf(log_path, sizeof log_path, "%s/log", f->db.dir);
    int log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(log_fd >= 0);
    int saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(log_fd, STDERR_FILENO) >= 0);
    int rc = sender_run_batch(sender, f->campaign_id, 10, 2000, &counts, &claimed);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    assert_int_equal(rc, 0);
    sender_close(sender);
    char log[4096];
    ssize_t got = pread(log_fd, log, sizeof log - 1, 0);
    close(log_fd);
    unlink(log_path);
    assert_true(got > 0);
    log[got] = '\0';
    assert_non_null(strstr(log, "level=error event=mail.unknown_kind outbox=1 kind=0\n"));
    assert_non_null(strstr(log, "level=error event=mail.unknown_kind outbox=2 kind=9\n"));

    assert_int_equal(claimed, 3);
    assert_int_equal(counts.sent, 1);
    assert_int_equal(counts.failed, 2);
    assert_int_equal(mails_written(f->maildir), 1);
    char st[64], reply[64];
    outbox_row(f->raw, 1, st, reply, sizeof st);
    assert_string_equal(st, "failed");
    assert_string_equal(reply, "unknown mail kind 0: not sent");
    outbox_row(f->raw, 2, st, reply, sizeof st);
    assert_string_equal(st, "failed");
    assert_string_equal(reply, "unknown mail kind 9: not sent");
    outbox_row(f->raw, 3, st, reply, sizeof st);
    assert_string_equal(st, "sent");
}

/* An earlier reminder still queued when the campaign launched is cancelled,
 * not sent: it would announce a moment that has come. */
static void earlier_reminder_queued_before_the_launch_is_not_sent_after_it(void **state)
{
    struct outbox_fixture *f = *state;
    assert_int_equal(store_pledge_import(f->st, f->campaign_id, "early@example.org", "Early", "UTC",
                                         "yes", 900, 1000),
                     0);
    int64_t queued = 0;
    assert_int_equal(store_outbox_add_variant(f->st, f->campaign_id, MAIL_EARLY_REMINDER, 3600, 0,
                                              1000, &queued),
                     0);
    assert_int_equal(queued, 1);
    int marked = 0;
    assert_int_equal(store_campaign_mark_launched(f->st, f->campaign_id, 1, 1500, &marked), 0);
    assert_int_equal(marked, 1);
    struct config cfg = test_config();
    cfg.maildir = f->maildir;
    char err[256];
    struct sender *sender = sender_open(&cfg, f->st, err, sizeof err);
    if (!sender)
        fail_msg("sender_open: %s", err);
    struct sender_counts counts = {0};
    size_t claimed = 0;
    assert_int_equal(sender_run_batch(sender, f->campaign_id, 10, 2000, &counts, &claimed), 0);
    sender_close(sender);
    assert_int_equal(claimed, 1);
    assert_int_equal(counts.sent, 0);
    assert_int_equal(counts.cancelled, 1);
    assert_int_equal(mails_written(f->maildir), 0);
    char st[64], reply[64];
    outbox_row(f->raw, 1, st, reply, sizeof st);
    assert_string_equal(st, "cancelled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_mail_kind_has_a_name_and_a_composer),
        cmocka_unit_test(message_id_starts_with_the_kind_name),
        cmocka_unit_test(message_id_parse_gives_back_the_ids_of_ours_only),
        cmocka_unit_test(calendar_uid_is_stable_and_differs_between_servers),
        cmocka_unit_test(html_part_has_a_head_and_list_id_is_encoded),
        cmocka_unit_test(calendar_file_carries_the_sequence),
        cmocka_unit_test(variants_have_their_own_message_ids),
        cmocka_unit_test(organizers_words_are_escaped_and_followed_by_the_link),
        cmocka_unit_test(a_held_change_is_confirmed_in_musters_words),
        cmocka_unit_test(unknown_mail_kind_is_refused),
        cmocka_unit_test(each_kind_composes_its_own_mail),
        cmocka_unit_test_setup_teardown(outbox_row_of_unknown_kind_fails_and_is_not_sent,
                                        outbox_setup, outbox_teardown),
        cmocka_unit_test_setup_teardown(
            earlier_reminder_queued_before_the_launch_is_not_sent_after_it, outbox_setup,
            outbox_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
