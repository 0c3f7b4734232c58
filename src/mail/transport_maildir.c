/*
 * transport_maildir: delivers each message as a file in a Maildir
 * (tmp/, new/, cur/), for the demo and for machines without a relay. A
 * message is written to tmp/NAME, fsynced, renamed to new/NAME and the
 * directory fsynced, so a reader never sees half a message and a crash never
 * loses an accepted one. NAME is unique across threads and processes
 * (time, pid, a process-wide counter and random bits). The file holds the
 * message exactly as SMTP would carry it (CRLF line ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "mail/transport_private.h"

#include "core/banned.h"

struct maildir_transport {
    struct mail_transport base;
    char *dir;
    char host[64]; /* the last part of each file name, '/' and ':' removed */
};

static atomic_ulong maildir_counter;

/* mkdir -p: creates path and its parents with mode 0700 where missing. */
static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        tmp[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    if (close(fd) != 0 && rc == 0)
        return -1;
    errno = saved;
    return rc;
}

static enum mail_status maildir_send(struct mail_transport *base, const struct mail_envelope *env,
                                     char *reply, size_t reply_len)
{
    struct maildir_transport *t = (struct maildir_transport *)base;
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        transport_reply(reply, reply_len, "maildir: no random bytes: %s", strerror(errno));
        return MAIL_TEMPFAIL;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    unsigned long count = atomic_fetch_add(&maildir_counter, 1);
    char name[160], tmp_path[PATH_MAX], new_path[PATH_MAX], new_dir[PATH_MAX];
    snprintf(name, sizeof name, "%lld.M%ldP%ldQ%luR%016llx.%s", (long long)now.tv_sec,
             now.tv_nsec / 1000, (long)getpid(), count, (unsigned long long)rnd, t->host);
    int n1 = snprintf(tmp_path, sizeof tmp_path, "%s/tmp/%s", t->dir, name);
    int n2 = snprintf(new_path, sizeof new_path, "%s/new/%s", t->dir, name);
    int n3 = snprintf(new_dir, sizeof new_dir, "%s/new", t->dir);
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n1 >= sizeof tmp_path ||
        (size_t)n2 >= sizeof new_path || (size_t)n3 >= sizeof new_dir) {
        transport_reply(reply, reply_len, "maildir: path too long");
        return MAIL_TEMPFAIL;
    }

    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        transport_reply(reply, reply_len, "maildir: open %s: %s", tmp_path, strerror(errno));
        return MAIL_TEMPFAIL;
    }
    const char *what = NULL;
    if (write_all(fd, env->data ? env->data : "", env->len) != 0)
        what = "write";
    else if (fsync(fd) != 0)
        what = "fsync";
    int saved = errno;
    if (close(fd) != 0 && !what) {
        what = "close";
        saved = errno;
    }
    if (!what && rename(tmp_path, new_path) != 0) {
        what = "rename";
        saved = errno;
    }
    if (what) {
        /* Remove the partial file; report the first error, and the second. */
        if (unlink(tmp_path) != 0 && errno != ENOENT)
            transport_reply(reply, reply_len, "maildir: %s %s: %s (unlink: %s)", what, tmp_path,
                            strerror(saved), strerror(errno));
        else
            transport_reply(reply, reply_len, "maildir: %s %s: %s", what, tmp_path,
                            strerror(saved));
        return MAIL_TEMPFAIL;
    }
    if (fsync_dir(new_dir) != 0) {
        /* The message is in new/ but may not survive a power cut: say so and
         * let the caller retry; a repeat carries the same Message-ID. */
        transport_reply(reply, reply_len, "maildir: fsync %s: %s", new_dir, strerror(errno));
        return MAIL_TEMPFAIL;
    }
    transport_reply(reply, reply_len, "delivered to %s", new_path);
    return MAIL_SENT;
}

/* Files are written one by one; outcomes are flushed every few messages, so
 * a caller committing in flush() does not pay a transaction per file. */
#define MAILDIR_FLUSH_EVERY 16

static int maildir_send_stream(struct mail_transport *base, const struct mail_source *src)
{
    char reply[PATH_MAX + 64];
    struct mail_envelope env;
    size_t id, unflushed = 0;
    while (src->next(src->ctx, &env, &id)) {
        enum mail_status st = maildir_send(base, &env, reply, sizeof reply);
        src->done(src->ctx, id, st, reply);
        if (++unflushed == MAILDIR_FLUSH_EVERY && src->flush) {
            src->flush(src->ctx);
            unflushed = 0;
        }
    }
    if (unflushed && src->flush)
        src->flush(src->ctx);
    return 0;
}

static void maildir_close(struct mail_transport *base)
{
    struct maildir_transport *t = (struct maildir_transport *)base;
    free(t->dir);
    free(t);
}

static const struct mail_transport_ops maildir_ops = {
    .send = maildir_send,
    .send_stream = maildir_send_stream,
    .close = maildir_close,
};

struct mail_transport *maildir_transport_open(const char *dir, char *err, size_t err_len)
{
    static const char *const subdirs[] = {"tmp", "new", "cur"};
    char path[PATH_MAX];
    for (size_t i = 0; i < 3; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
        if (n < 0 || (size_t)n >= sizeof path) {
            transport_reply(err, err_len, "maildir %s: path too long", dir);
            return NULL;
        }
        if (mkdir_p(path) != 0) {
            transport_reply(err, err_len, "maildir %s: %s", path, strerror(errno));
            return NULL;
        }
    }
    struct maildir_transport *t = calloc(1, sizeof *t);
    if (!t || !(t->dir = strdup(dir))) {
        free(t);
        transport_reply(err, err_len, "maildir %s: out of memory", dir);
        return NULL;
    }
    t->base.ops = &maildir_ops;
    t->base.is_maildir = 1;
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    size_t j = 0;
    for (size_t i = 0; host[i] && j < sizeof t->host - 1; i++)
        if (host[i] != '/' && host[i] != ':')
            t->host[j++] = host[i];
    t->host[j] = '\0';
    return &t->base;
}
