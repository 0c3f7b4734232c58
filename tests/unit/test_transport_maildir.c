/*
 * test_transport_maildir: the maildir transport (transport.h): it creates
 * tmp/, new/ and cur/, puts each message in new/ under a unique name with
 * exactly the bytes given, leaves nothing in tmp/, reports I/O errors as
 * MAIL_TEMPFAIL and bad envelopes as MAIL_PERMFAIL, and stays unique across
 * threads with their own transports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/transport.h"

#include "core/banned.h"

struct fixture {
    char root[64];
    char dir[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->root, sizeof f->root, "/tmp/muster-maildir-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/deep/er/mail", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Number of entries (not . and ..) in dir/sub; the name of the last in name. */
static int count_files(const char *dir, const char *sub, char *name, size_t name_len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        if (name)
            snprintf(name, name_len, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    *len = b.len;
    return buf_detach(&b);
}

static struct mail_transport *open_maildir(const char *dir)
{
    struct mail_transport_options opt = {.smtp_url = "", .maildir = dir};
    char err[256] = "";
    struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
    if (!t)
        fail_msg("open: %s", err);
    return t;
}

static const char message[] = "Date: Tue, 01 Dec 2026 15:00:00 +0000\r\n"
                              "From: team@example.org\r\n"
                              "To: ada@example.com\r\n"
                              "Subject: hi\r\n"
                              "\r\n"
                              ".a line with a dot\r\n";

static void open_creates_the_maildir(void **state)
{
    struct fixture *f = *state;
    struct mail_transport *t = open_maildir(f->dir);
    assert_true(mail_transport_is_maildir(t));
    static const char *const subs[] = {"tmp", "new", "cur"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", f->dir, subs[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
    }
    mail_transport_close(t);
    /* opening again over an existing maildir is fine */
    t = open_maildir(f->dir);
    mail_transport_close(t);
}

static void a_message_lands_in_new_with_its_exact_bytes(void **state)
{
    struct fixture *f = *state;
    struct mail_transport *t = open_maildir(f->dir);
    struct mail_envelope env = {"team@example.org", "ada@example.com", message, strlen(message)};
    char reply[512];
    assert_int_equal(mail_transport_send(t, &env, reply, sizeof reply), MAIL_SENT);
    char name[256], path[600];
    assert_int_equal(count_files(f->dir, "new", name, sizeof name), 1);
    assert_int_equal(count_files(f->dir, "tmp", NULL, 0), 0);
    assert_int_equal(count_files(f->dir, "cur", NULL, 0), 0);
    assert_null(strchr(name, ':'));
    assert_null(strchr(name, '/'));
    snprintf(path, sizeof path, "%s/new/%s", f->dir, name);
    size_t len = 0;
    char *got = read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(message));
    assert_memory_equal(got, message, len);
    free(got);
    mail_transport_close(t);
}

static void invalid_envelope_is_a_permanent_failure(void **state)
{
    struct fixture *f = *state;
    struct mail_transport *t = open_maildir(f->dir);
    struct mail_envelope env = {"team@example.org", "a@b.c\r\nBcc: x@y.z", message,
                                strlen(message)};
    char reply[512];
    assert_int_equal(mail_transport_send(t, &env, reply, sizeof reply), MAIL_PERMFAIL);
    assert_string_equal(reply, "invalid address");
    env.to = "ada@example.com";
    env.from = "not an address";
    assert_int_equal(mail_transport_send(t, &env, reply, sizeof reply), MAIL_PERMFAIL);
    assert_int_equal(count_files(f->dir, "new", NULL, 0), 0);
    mail_transport_close(t);
}

struct record {
    int calls[32];
    enum mail_status status[32];
};

static void on_done(void *ctx, size_t index, enum mail_status status, const char *reply)
{
    struct record *r = ctx;
    assert_non_null(reply);
    assert_true(index < 32);
    r->calls[index]++;
    r->status[index] = status;
}

static void batch_calls_done_once_per_message(void **state)
{
    struct fixture *f = *state;
    struct mail_transport *t = open_maildir(f->dir);
    struct mail_envelope envs[20];
    for (int i = 0; i < 20; i++)
        envs[i] = (struct mail_envelope){"team@example.org", i == 7 ? "bad" : "ada@example.com",
                                         message, strlen(message)};
    struct record r;
    memset(&r, 0, sizeof r);
    assert_int_equal(mail_transport_send_batch(t, envs, 20, on_done, &r), 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(r.calls[i], 1);
        assert_int_equal(r.status[i], i == 7 ? MAIL_PERMFAIL : MAIL_SENT);
    }
    assert_int_equal(count_files(f->dir, "new", NULL, 0), 19);
    assert_int_equal(mail_transport_send_batch(t, envs, 0, on_done, &r), 0);
    mail_transport_close(t);
}

static void io_error_is_a_temporary_failure(void **state)
{
    struct fixture *f = *state;
    struct mail_transport *t = open_maildir(f->dir);
    char path[256], reply[512];
    snprintf(path, sizeof path, "%s/new", f->dir);
    assert_int_equal(rmdir(path), 0);
    struct mail_envelope env = {"team@example.org", "ada@example.com", message, strlen(message)};
    assert_int_equal(mail_transport_send(t, &env, reply, sizeof reply), MAIL_TEMPFAIL);
    assert_non_null(strstr(reply, "rename"));
    assert_int_equal(count_files(f->dir, "tmp", NULL, 0), 0); /* the partial file is gone */
    mail_transport_close(t);
}

static void open_fails_on_a_file(void **state)
{
    struct fixture *f = *state;
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "%s/file", f->root);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    struct mail_transport_options opt = {.maildir = path};
    assert_null(mail_transport_open(&opt, err, sizeof err));
    assert_true(err[0] != '\0');
}

#define THREADS 4
#define PER_THREAD 50

static void *sender(void *arg)
{
    const char *dir = arg;
    struct mail_transport_options opt = {.maildir = dir};
    char err[256];
    struct mail_transport *t = mail_transport_open(&opt, err, sizeof err);
    if (!t)
        return (void *)1;
    struct mail_envelope env = {"team@example.org", "ada@example.com", message, strlen(message)};
    char reply[512];
    intptr_t failures = 0;
    for (int i = 0; i < PER_THREAD; i++)
        if (mail_transport_send(t, &env, reply, sizeof reply) != MAIL_SENT)
            failures++;
    mail_transport_close(t);
    return (void *)failures;
}

static void names_are_unique_across_threads(void **state)
{
    struct fixture *f = *state;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sender, f->dir), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rv;
        assert_int_equal(pthread_join(th[i], &rv), 0);
        assert_null(rv);
    }
    assert_int_equal(count_files(f->dir, "new", NULL, 0), THREADS * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_the_maildir, setup, teardown),
        cmocka_unit_test_setup_teardown(a_message_lands_in_new_with_its_exact_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_envelope_is_a_permanent_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_calls_done_once_per_message, setup, teardown),
        cmocka_unit_test_setup_teardown(io_error_is_a_temporary_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(open_fails_on_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(names_are_unique_across_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
