/*
 * test_transport_smtp: the SMTP transport (transport.h). URL checks always
 * run; the rest needs a relay and is skipped unless MUSTER_TEST_SMTP names
 * one (smtp://127.0.0.1:PORT). tests/e2e/test_transport.py starts that relay
 * (aiosmtpd), whose answer depends on the recipient's local part:
 *   accept*   250 to everything
 *   tempfail* 451 to RCPT
 *   permfail* 550 to the end of DATA
 *   drop*     closes the connection instead of answering RCPT
 *   slow*     answers RCPT after 3 seconds
 * and then checks which messages arrived (by Message-ID) and over how many
 * connections. Keep the Message-IDs here in step with that file.
 * MUSTER_TEST_SMTP_CLIENT=curl tests the libcurl client instead of muster's
 * own (which that file runs against a relay with and without PIPELINING).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/message.h"
#include "mail/transport.h"

#include "core/banned.h"

#define DOMAIN "muster.test"

static const char *relay(void)
{
    const char *url = getenv("MUSTER_TEST_SMTP");
    return url && *url ? url : NULL;
}

static enum mail_smtp_client client(void)
{
    const char *c = getenv("MUSTER_TEST_SMTP_CLIENT");
    return c && strcmp(c, "curl") == 0 ? MAIL_SMTP_CURL : MAIL_SMTP_AUTO;
}

static struct mail_transport *open_smtp(int concurrency, long data_timeout_ms)
{
    struct mail_transport_options opt = {
        .smtp_url = relay(),
        .client = client(),
        .concurrency = concurrency,
        .connect_timeout_ms = 5000,
        .data_timeout_ms = data_timeout_ms,
    };
    char err[256] = "";
    struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
    if (!t)
        fail_msg("open %s: %s", relay(), err);
    assert_false(mail_transport_is_maildir(t));
    return t;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A real message (mail_build) with Message-ID <id@muster.test>; caller frees. */
static char *make_message(const char *from, const char *to, const char *id)
{
    char message_id[128];
    snprintf(message_id, sizeof message_id, "%s@" DOMAIN, id);
    struct mail_message m = {
        .from_name = "Docs Collective",
        .from_addr = from,
        .to_addr = to,
        .subject = "transport test ✓",
        .message_id = message_id,
        .date = 1796137200,
        .text = "Hello,\n.\n..a line with dots\nthe end\n",
        .html = "<p>Hello</p>\n",
    };
    struct buf out = BUF_INIT;
    assert_int_equal(mail_build(&m, &out), 0);
    return buf_detach(&out);
}

static enum mail_status send_one(struct mail_transport *t, const char *from, const char *to,
                                 const char *id, char *reply, size_t reply_len)
{
    char *data = make_message(from, to, id);
    struct mail_envelope env = {from, to, data, strlen(data)};
    enum mail_status st = mail_transport_send(t, &env, reply, reply_len);
    free(data);
    return st;
}

/* ---- always: URL checks ---- */

static void bad_urls_are_refused(void **state)
{
    static const char *const bad[] = {
        "http://127.0.0.1:25",
        "127.0.0.1:25",
        "smtp://",
        "smtp://host name:25",
        "smtp://host:25\r\nMAIL FROM:<x@y.z>",
        "smtp://host:25\n",
        "smtps://ho\x01st",
        "smtp://hö.example:25",
        NULL,
    };
    for (size_t i = 0; bad[i]; i++) {
        struct mail_transport_options opt = {.smtp_url = bad[i]};
        char err[256] = "";
        struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
        if (t)
            fail_msg("accepted %s", bad[i]);
        assert_true(err[0] != '\0');
        assert_null(strpbrk(err, "\r\n"));
    }
}

static void good_urls_open_without_connecting(void **state)
{
    static const char *const good[] = {
        "smtp://127.0.0.1:1",
        "SMTP://localhost",
        "smtps://user:p%40ss%3Aword@mail.example.org:465",
        "smtp://user@mail.example.org:587/muster.example.org",
        NULL,
    };
    for (size_t i = 0; good[i]; i++) {
        struct mail_transport_options opt = {.smtp_url = good[i], .concurrency = 3};
        char err[256] = "";
        struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
        if (!t)
            fail_msg("refused %s: %s", good[i], err);
        assert_false(mail_transport_is_maildir(t));
        mail_transport_close(t);
    }
}

static void connection_refused_is_temporary(void **state)
{
    /* port 1 on loopback: nothing listens there */
    struct mail_transport_options opt = {.smtp_url = "smtp://127.0.0.1:1",
                                         .client = client(),
                                         .connect_timeout_ms = 2000};
    char err[256] = "", reply[512] = "";
    struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(send_one(t, "from@" DOMAIN, "accept@" DOMAIN, "refused", reply, sizeof reply),
                     MAIL_TEMPFAIL);
    assert_true(reply[0] != '\0');
    mail_transport_close(t);
}

static void invalid_envelope_is_permanent_without_sending(void **state)
{
    struct mail_transport_options opt = {.smtp_url = "smtp://127.0.0.1:1"};
    char err[256] = "", reply[512] = "";
    struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
    assert_non_null(t);
    struct mail_envelope env = {"from@" DOMAIN, "a@b.c>\r\nRCPT TO:<x@y.z", "x\r\n", 3};
    assert_int_equal(mail_transport_send(t, &env, reply, sizeof reply), MAIL_PERMFAIL);
    assert_string_equal(reply, "invalid address");
    mail_transport_close(t);
}

/* ---- with a relay ---- */

#define NEED_RELAY()                                                                               \
    do {                                                                                           \
        if (!relay())                                                                              \
            skip();                                                                                \
    } while (0)

static void send_accepted(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 0);
    char reply[512];
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "accept@" DOMAIN, "single-accept", reply, sizeof reply),
        MAIL_SENT);
    assert_memory_equal(reply, "250", 3);
    mail_transport_close(t);
}

static void send_451_on_rcpt_is_temporary(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 0);
    char reply[512];
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "tempfail@" DOMAIN, "single-tempfail", reply, sizeof reply),
        MAIL_TEMPFAIL);
    assert_memory_equal(reply, "451", 3);
    mail_transport_close(t);
}

static void send_550_on_data_is_permanent(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 0);
    char reply[512];
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "permfail@" DOMAIN, "single-permfail", reply, sizeof reply),
        MAIL_PERMFAIL);
    assert_memory_equal(reply, "550", 3);
    /* the same transport goes on working after a failure */
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "accept@" DOMAIN, "single-after-fail", reply, sizeof reply),
        MAIL_SENT);
    mail_transport_close(t);
}

static void dropped_connection_is_temporary(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 0);
    char reply[512];
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "drop@" DOMAIN, "single-drop", reply, sizeof reply),
        MAIL_TEMPFAIL);
    assert_true(reply[0] != '\0');
    mail_transport_close(t);
}

static void stalled_relay_times_out(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 1000);
    char reply[512];
    double t0 = now_s();
    assert_int_equal(
        send_one(t, "single@" DOMAIN, "slow@" DOMAIN, "single-timeout", reply, sizeof reply),
        MAIL_TEMPFAIL);
    double took = now_s() - t0;
    assert_true(took < 2.5);
    assert_true(reply[0] != '\0');
    mail_transport_close(t);
}

static void sequential_sends_reuse_one_connection(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(1, 0);
    char reply[512], id[32];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "reuse-%d", i);
        assert_int_equal(send_one(t, "reuse@" DOMAIN, "accept@" DOMAIN, id, reply, sizeof reply),
                         MAIL_SENT);
    }
    mail_transport_close(t);
}

#define BATCH_MAX 64

struct batch_record {
    int calls[BATCH_MAX];
    enum mail_status status[BATCH_MAX];
    char reply[BATCH_MAX][64];
    size_t order[BATCH_MAX];
    size_t finished;
};

static void on_done(void *ctx, size_t index, enum mail_status status, const char *reply)
{
    struct batch_record *r = ctx;
    assert_non_null(reply);
    assert_true(index < BATCH_MAX);
    r->calls[index]++;
    r->status[index] = status;
    snprintf(r->reply[index], sizeof r->reply[index], "%s", reply);
    r->order[r->finished++] = index;
}

struct batch_messages {
    struct mail_envelope envs[BATCH_MAX];
    char *data[BATCH_MAX];
    char to[BATCH_MAX][64]; /* the envelopes point here */
    size_t n;
};

static void batch_add(struct batch_messages *b, const char *from, const char *to, const char *id)
{
    assert_true(b->n < BATCH_MAX);
    snprintf(b->to[b->n], sizeof b->to[b->n], "%s", to);
    b->data[b->n] = make_message(from, to, id);
    b->envs[b->n] = (struct mail_envelope){from, b->to[b->n], b->data[b->n], strlen(b->data[b->n])};
    b->n++;
}

static void batch_free(struct batch_messages *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->data[i]);
    b->n = 0;
}

static void batch_of_50_all_arrive_over_few_connections(void **state)
{
    NEED_RELAY();
    struct mail_transport *t = open_smtp(8, 0);
    struct batch_messages b = {.n = 0};
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "batch-%d", i);
        batch_add(&b, "batch@" DOMAIN, "accept@" DOMAIN, id);
    }
    struct batch_record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_int_equal(mail_transport_send_batch(t, b.envs, b.n, on_done, r), 0);
    assert_int_equal(r->finished, 50);
    for (size_t i = 0; i < 50; i++) {
        assert_int_equal(r->calls[i], 1);
        assert_int_equal(r->status[i], MAIL_SENT);
        assert_memory_equal(r->reply[i], "250", 3);
    }
    batch_free(&b);

    /* a second batch on the same transport uses the same connections */
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 16; i++) {
        snprintf(id, sizeof id, "batch2-%d", i);
        batch_add(&b, "batch@" DOMAIN, "accept@" DOMAIN, id);
    }
    assert_int_equal(mail_transport_send_batch(t, b.envs, b.n, on_done, r), 0);
    assert_int_equal(r->finished, 16);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(r->status[i], MAIL_SENT);
    batch_free(&b);
    free(r);
    mail_transport_close(t);
}

static void mixed_batch_reports_each_outcome_as_it_finishes(void **state)
{
    NEED_RELAY();
    static const char *const kinds[] = {"accept", "tempfail", "permfail", "drop", "slow"};
    static const enum mail_status want[] = {MAIL_SENT, MAIL_TEMPFAIL, MAIL_PERMFAIL, MAIL_TEMPFAIL,
                                            MAIL_SENT};
    struct mail_transport *t = open_smtp(8, 0);
    struct batch_messages b = {.n = 0};
    char id[32], to[64];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "mixed-%d-%s", i, kinds[i % 5]);
        snprintf(to, sizeof to, "%s%d@" DOMAIN, kinds[i % 5], i);
        batch_add(&b, "mixed@" DOMAIN, to, id);
    }
    /* one invalid recipient: refused without being sent */
    b.data[b.n] = make_message("mixed@" DOMAIN, "accept@" DOMAIN, "mixed-invalid");
    b.envs[b.n] =
        (struct mail_envelope){"mixed@" DOMAIN, "x@y.z\r\nDATA", b.data[b.n], strlen(b.data[b.n])};
    b.n++;

    struct batch_record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    double t0 = now_s();
    assert_int_equal(mail_transport_send_batch(t, b.envs, b.n, on_done, r), 0);
    double took = now_s() - t0;
    assert_int_equal(r->finished, 21);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(r->calls[i], 1);
        if (r->status[i] != want[i % 5])
            fail_msg("message %zu (%s): status %d, reply %s", i, kinds[i % 5], r->status[i],
                     r->reply[i]);
    }
    assert_int_equal(r->status[20], MAIL_PERMFAIL);
    assert_string_equal(r->reply[20], "invalid address");
    for (size_t i = 0; i < 20; i++) {
        if (i % 5 == 1)
            assert_memory_equal(r->reply[i], "451", 3);
        if (i % 5 == 2)
            assert_memory_equal(r->reply[i], "550", 3);
    }
    /* four slow ones, 3 s each: in parallel, not one after another */
    assert_true(took < 8.0);
    /* reported in completion order: a slow one comes last */
    assert_true(r->order[r->finished - 1] % 5 == 4);
    batch_free(&b);
    free(r);
    mail_transport_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_urls_are_refused),
        cmocka_unit_test(good_urls_open_without_connecting),
        cmocka_unit_test(connection_refused_is_temporary),
        cmocka_unit_test(invalid_envelope_is_permanent_without_sending),
        cmocka_unit_test(send_accepted),
        cmocka_unit_test(send_451_on_rcpt_is_temporary),
        cmocka_unit_test(send_550_on_data_is_permanent),
        cmocka_unit_test(dropped_connection_is_temporary),
        cmocka_unit_test(stalled_relay_times_out),
        cmocka_unit_test(sequential_sends_reuse_one_connection),
        cmocka_unit_test(batch_of_50_all_arrive_over_few_connections),
        cmocka_unit_test(mixed_batch_reports_each_outcome_as_it_finishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
