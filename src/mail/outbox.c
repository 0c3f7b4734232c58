/*
 * outbox: claim, build, send, record (see outbox.h).
 */
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/cache.h"
#include "campaign/campaign.h"
#include "core/config.h"
#include "core/log.h"
#include "core/process.h"
#include "core/tz.h"
#include "core/metrics.h"
#include "mail/compose.h"
#include "mail/message.h"
#include "mail/transport.h"
#include "service/launches.h"
#include "service/suppression.h"
#include "store/store.h"
#include "core/banned.h"

/* Longer than one transfer can take (10 s connect + 600 s after DATA), so a
 * lease renewed just before a message starts cannot run out while it is on
 * the wire. */
#define LEASE_SECONDS 900
#define BATCH_MAX 512
/* Leases are renewed for the next RENEW_GROUP items in one transaction, and
 * a message starts only within LEASE_FRESH_MS of its renewal: "just before"
 * without a transaction per message. */
#define RENEW_GROUP 64
#define LEASE_FRESH_MS 500

struct sender {
    const struct config *cfg;
    struct store *st;
    struct mail_transport *transport;
    struct app_metrics *metrics;
    char owner[320];
    /* MUSTER_SEND_RATE: a token bucket of messages per second (0: no limit),
     * holding at most one second of sending. */
    double rate;
    double tokens;
    int64_t refilled_ms;
};

struct pending_mail {
    struct outbox_item item;
    const struct mail_kind_ops *kind; /* set by prepare(): NULL until then */
    struct buf data;
    struct buf links; /* the links (for the maildir log), NUL, the recipient */
    size_t to_offset;
    int ours;           /* its lease was confirmed ours at the last renewal */
    int64_t renewed_ms; /* when that renewal was decided; 0: never */
};

/* An outcome waiting for the next flush, which comes as soon as the round's
 * replies are read. */
enum outcome_kind {
    OUTCOME_SENT,
    OUTCOME_FAILED,
    OUTCOME_RETRY,
    OUTCOME_CANCEL,
    OUTCOME_SUPPRESSED
};

struct outcome {
    int64_t item_id;
    enum outcome_kind kind;
    int64_t at; /* sent_at, or next_at for a retry */
    char reply[256];
};

/* One sender_run_batch: the claimed items, streamed to the transport. */
struct batch_ctx {
    struct sender *sender;
    struct pending_mail *mails;
    size_t n;
    size_t next; /* the next item to hand to the transport */
    struct sender_counts *counts;
    int64_t now;
    int read_tx;              /* a read transaction holds this round's reads */
    struct outcome *outcomes; /* not yet written by batch_flush; at most n */
    size_t noutcomes;
    int store_failed;
};

struct sender *sender_open(const struct config *cfg, struct store *st, char *err, size_t n)
{
    struct sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->st = st;
    /* Outbox marks survive a killed process without an fsync each; after a
     * power cut a few may be lost, and those reminders go again with the
     * same Message-ID. */
    if (store_set_durable(st, 0) != 0) {
        snprintf(err, n, "cannot configure the database connection");
        free(s);
        return NULL;
    }
    struct mail_transport_options opt = {
        .smtp_url = cfg->smtp,
        .client = cfg->smtp_client_curl ? MAIL_SMTP_CURL : MAIL_SMTP_AUTO,
        .maildir = cfg->maildir,
        .concurrency = cfg->send_concurrency,
        .connect_timeout_ms = 10000,
        .data_timeout_ms = 600000,
    };
    s->transport = mail_transport_open(&opt, err, n);
    if (!s->transport) {
        free(s);
        return NULL;
    }
    s->rate = cfg->send_rate;
    s->tokens = s->rate;
    s->refilled_ms = tz_now_ms();
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    unsigned long long start = 0;
    if (process_start_ticks(0, &start) != 0)
        start = 0;
    snprintf(s->owner, sizeof s->owner, "%s:%ld:%llu", host, (long)getpid(), start);
    return s;
}

void sender_close(struct sender *s)
{
    if (!s)
        return;
    mail_transport_close(s->transport);
    free(s);
}

void sender_set_metrics(struct sender *s, struct app_metrics *metrics)
{
    s->metrics = metrics;
}

int64_t sender_backoff_seconds(int attempt)
{
    if (attempt < 1)
        attempt = 1;
    int64_t base = attempt >= 8 ? 300 : (int64_t)2 << (attempt - 1);
    if (base > 300)
        base = 300;
    return base + (int64_t)randombytes_uniform((uint32_t)(base / 2 + 1));
}

static void add_outcome(struct batch_ctx *ctx, int64_t item_id, enum outcome_kind kind, int64_t at,
                        const char *reply)
{
    struct outcome *o = &ctx->outcomes[ctx->noutcomes++]; /* one per item: room for n */
    o->item_id = item_id;
    o->kind = kind;
    o->at = at;
    snprintf(o->reply, sizeof o->reply, "%s", reply ? reply : "");
}

/* The reply an item settled as suppressed keeps. */
#define SUPPRESSED_REPLY "suppressed: the address is on the suppression list"

/* Builds the message for one item. Returns 1 when ready to send, 0 when the
 * item was settled without sending (cancelled, suppressed or failed), -1 on
 * store error. Every mail muster sends passes here, whatever its kind: the
 * one place a suppressed recipient is stopped (docs/DELIVERABILITY.md). */
static int prepare(struct batch_ctx *ctx, struct pending_mail *pm)
{
    struct sender *s = ctx->sender;
    const struct mail_kind_ops *kind = mail_kind_lookup(pm->item.kind);
    pm->kind = kind;
    if (!kind) {
        /* Never guessed: a row muster cannot compose fails, and says so. */
        ctx->counts->failed++;
        log_error("mail.unknown_kind", "outbox=%lld kind=%d", (long long)pm->item.id,
                  (int)pm->item.kind);
        char reply[64];
        snprintf(reply, sizeof reply, "unknown mail kind %d: not sent", (int)pm->item.kind);
        add_outcome(ctx, pm->item.id, OUTCOME_FAILED, ctx->now, reply);
        return 0;
    }
    struct supporter sup;
    int rc = store_supporter_by_id(s->st, pm->item.supporter_id, &sup);
    if (rc == STORE_NOT_FOUND || (rc == 0 && kind->cancel_if_unsubscribed && sup.unsubscribed_at)) {
        if (rc == 0)
            supporter_release(&sup);
        ctx->counts->cancelled++;
        add_outcome(ctx, pm->item.id, OUTCOME_CANCEL, 0, "not owed any more");
        return 0;
    }
    if (rc != 0)
        return -1;
    int suppressed = sup.email ? suppression_check(s->st, sup.email) : 0;
    if (suppressed != 0) {
        supporter_release(&sup);
        if (suppressed < 0)
            return -1;
        ctx->counts->suppressed++;
        log_info("mail.suppressed", "outbox=%lld kind=%s campaign=%lld", (long long)pm->item.id,
                 kind->name, (long long)pm->item.campaign_id);
        add_outcome(ctx, pm->item.id, OUTCOME_SUPPRESSED, ctx->now, SUPPRESSED_REPLY);
        return 0;
    }
    if (kind->shows_held_change && sup.has_pending_change &&
        store_pledge_load_change(s->st, &sup) < 0) {
        supporter_release(&sup);
        return -1;
    }
    struct campaign_row row = {0};
    const struct campaign *c;
    rc = campaign_cache_get_by_id(s->st, pm->item.campaign_id, &row, &c);
    if (rc != 0) {
        supporter_release(&sup);
        if (rc != STORE_NOT_FOUND)
            return -1;
        add_outcome(ctx, pm->item.id, OUTCOME_CANCEL, 0, "not owed any more");
        return 0;
    }
    buf_init(&pm->data, 0);
    buf_init(&pm->links, 0);
    int ok =
        compose_mail(pm->item.kind, c, &row, &sup, s->cfg, ctx->now, &pm->data, &pm->links) == 0;
    /* The envelope recipient must outlive the batch: keep it after the links. */
    pm->to_offset = pm->links.len + 1;
    buf_putc(&pm->links, '\0');
    buf_puts(&pm->links, sup.email);
    ok = ok && !buf_failed(&pm->links);
    supporter_release(&sup);
    campaign_row_release(&row);
    if (!ok) {
        ctx->counts->failed++;
        log_warn("mail.unbuildable", "outbox=%lld", (long long)pm->item.id);
        add_outcome(ctx, pm->item.id, OUTCOME_FAILED, ctx->now,
                    "message could not be built (invalid address or text)");
        return 0;
    }
    return 1;
}

/* The reads of a round (building messages) share one read transaction,
 * which never blocks a writer; outcomes wait in memory and are written by
 * batch_flush in one short write transaction, so the sender holds the write
 * lock only for those UPDATEs (the pledge group commit of `serve` wants it
 * too). The transports flush as soon as a round's replies are read, before
 * the next messages are built: the window between a relay's 250 and the
 * commit is reading the round's other replies and the commit itself. */
static void read_begin(struct batch_ctx *ctx)
{
    if (!ctx->read_tx && store_read_begin(ctx->sender->st) == 0)
        ctx->read_tx = 1;
}

static void read_end(struct batch_ctx *ctx)
{
    if (ctx->read_tx)
        store_read_end(ctx->sender->st);
    ctx->read_tx = 0;
}

static int write_outcome(struct store *st, const char *owner, const struct outcome *o)
{
    switch (o->kind) {
    case OUTCOME_SENT:
        return store_outbox_sent(st, o->item_id, owner, o->at);
    case OUTCOME_FAILED:
        return store_outbox_failed(st, o->item_id, owner, o->at, o->reply);
    case OUTCOME_RETRY:
        return store_outbox_retry(st, o->item_id, owner, o->at, o->reply);
    case OUTCOME_CANCEL:
        return store_outbox_cancel(st, o->item_id);
    case OUTCOME_SUPPRESSED:
        return store_outbox_suppressed(st, o->item_id, o->at, o->reply);
    }
    return -1;
}

/* Writes the round's outcomes, and renews the leases of items [renew_from,
 * renew_end) noting which are still ours, in one write transaction: a row
 * whose lease ran out and passed to another sender is not sent (a slow relay
 * must not turn a long batch into duplicates). On a store error the outcomes
 * stay for the next flush and the renewed items count as not ours (they are
 * not sent, and not tried again). */
static void write_round(struct batch_ctx *ctx, size_t renew_from, size_t renew_end)
{
    struct sender *s = ctx->sender;
    read_end(ctx);
    if (ctx->noutcomes == 0 && renew_end <= renew_from)
        return;
    for (size_t k = renew_from; k < renew_end; k++)
        ctx->mails[k].ours = 0;
    int rc = store_begin(s->st);
    for (size_t i = 0; rc == 0 && i < ctx->noutcomes; i++)
        rc = write_outcome(s->st, s->owner, &ctx->outcomes[i]);
    int64_t lease_until = tz_now() + LEASE_SECONDS;
    for (size_t k = renew_from; rc == 0 && k < renew_end; k++)
        rc = store_outbox_renew(s->st, ctx->mails[k].item.id, s->owner, lease_until,
                                &ctx->mails[k].ours);
    if (rc != 0 || store_commit(s->st) != 0) {
        if (rc != 0)
            store_rollback(s->st); /* a no-op when BEGIN failed */
        ctx->store_failed = 1;
        for (size_t k = renew_from; k < renew_end; k++)
            ctx->mails[k].ours = 0;
    } else {
        ctx->noutcomes = 0;
    }
    int64_t now_ms = tz_now_ms();
    for (size_t k = renew_from; k < renew_end; k++)
        ctx->mails[k].renewed_ms = now_ms;
}

static void batch_flush(void *vctx)
{
    write_round(vctx, 0, 0);
}

static void on_done(void *vctx, size_t index, enum mail_status status, const char *reply)
{
    struct batch_ctx *ctx = vctx;
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[index];
    int64_t now = tz_now();
    if (status == MAIL_ABANDONED) { /* its lease passed to another sender */
        buf_release(&pm->data);
        buf_release(&pm->links);
        return;
    }
    if (status == MAIL_SENT) {
        add_outcome(ctx, pm->item.id, OUTCOME_SENT, now, NULL);
        ctx->counts->sent++;
        ctx->counts->consecutive_failures = 0;
        if (s->metrics)
            atomic_fetch_add(&s->metrics->mails_sent, 1);
        if (mail_transport_is_maildir(s->transport))
            log_info("mail.written", "kind=%s links=%s", pm->kind->name, buf_cstr(&pm->links));
    } else if (status == MAIL_PERMFAIL) {
        add_outcome(ctx, pm->item.id, OUTCOME_FAILED, now, reply);
        ctx->counts->failed++;
        ctx->counts->consecutive_failures = 0;
        if (s->metrics)
            atomic_fetch_add(&s->metrics->mails_failed, 1);
        char q[300];
        log_warn("mail.failed", "outbox=%lld reply=%s", (long long)pm->item.id,
                 log_quote(reply, q, sizeof q));
    } else {
        add_outcome(ctx, pm->item.id, OUTCOME_RETRY,
                    now + sender_backoff_seconds(pm->item.attempts), reply);
        ctx->counts->deferred++;
        ctx->counts->consecutive_failures++;
        if (s->metrics)
            atomic_fetch_add(&s->metrics->mails_retried, 1);
    }
    snprintf(ctx->counts->last_reply, sizeof ctx->counts->last_reply, "%s", reply);
    buf_release(&pm->data);
    buf_release(&pm->links);
}

/* The relay is ready for the item's content: it goes only under a lease
 * confirmed ours within LEASE_FRESH_MS (it may have waited behind another
 * message's final reply since next_mail gave it). */
static int confirm_mail(void *vctx, size_t id)
{
    struct batch_ctx *ctx = vctx;
    struct pending_mail *pm = &ctx->mails[id];
    if (tz_now_ms() - pm->renewed_ms > LEASE_FRESH_MS)
        write_round(ctx, id, id + 1);
    return pm->ours;
}

/* The transport's source: builds each message just before it goes out. */
static int next_mail(void *vctx, struct mail_envelope *env, size_t *id)
{
    struct batch_ctx *ctx = vctx;
    struct sender *s = ctx->sender;
    while (ctx->next < ctx->n) {
        if (tz_now_ms() - ctx->mails[ctx->next].renewed_ms > LEASE_FRESH_MS) {
            size_t end = ctx->next + RENEW_GROUP < ctx->n ? ctx->next + RENEW_GROUP : ctx->n;
            write_round(ctx, ctx->next, end);
        }
        size_t i = ctx->next++;
        struct pending_mail *pm = &ctx->mails[i];
        if (!pm->ours)
            continue;
        /* The reads join the round's read transaction: one set of SQLite
         * locks per round instead of several per message. */
        read_begin(ctx);
        int rc = prepare(ctx, pm);
        if (rc < 0)
            ctx->store_failed = 1;
        if (rc <= 0)
            continue;
        env->from = s->cfg->from;
        env->to = pm->links.data + pm->to_offset;
        env->data = pm->data.data;
        env->len = pm->data.len;
        *id = i;
        return 1;
    }
    return 0;
}

/* Waits until the rate limit allows at least one message; returns how many
 * it allows now (at most max). */
static size_t rate_allowance(struct sender *s, size_t max)
{
    if (s->rate <= 0)
        return max;
    for (;;) {
        int64_t now = tz_now_ms();
        s->tokens += s->rate * (double)(now - s->refilled_ms) / 1000.0;
        if (s->tokens > s->rate)
            s->tokens = s->rate;
        s->refilled_ms = now;
        if (s->tokens >= 1)
            return s->tokens < (double)max ? (size_t)s->tokens : max;
        struct timespec wait = {0, (long)((1.0 - s->tokens) / s->rate * 1e9)};
        if (wait.tv_nsec >= 1000000000L)
            wait.tv_nsec = 999999999L;
        nanosleep(&wait, NULL);
    }
}

int sender_run_batch(struct sender *s, int64_t campaign_id, size_t max, int64_t now,
                     struct sender_counts *counts, size_t *claimed)
{
    if (max > BATCH_MAX)
        max = BATCH_MAX;
    max = rate_allowance(s, max);
    struct outbox_item items[BATCH_MAX];
    size_t n = 0;
    /* A sender that died on this host leaves leases nobody should wait
     * 15 minutes for (a backend shared by hosts lets them run out). */
    if (store_supports(s->st, STORE_SUPPORTS_LOCAL_ONLY) &&
        launches_reclaim_dead_leases(s->st, now) != 0)
        return -1;
    if (store_outbox_claim(s->st, s->owner, campaign_id, now, LEASE_SECONDS, items, max, &n) != 0)
        return -1;
    *claimed = n;
    if (n == 0)
        return 0;
    if (s->rate > 0)
        s->tokens -= (double)n;
    struct pending_mail *mails = calloc(n, sizeof *mails);
    if (!mails)
        return -1;
    for (size_t i = 0; i < n; i++)
        mails[i].item = items[i]; /* data and links are built by prepare() */
    struct outcome *outcomes = calloc(n, sizeof *outcomes);
    if (!outcomes) {
        free(mails);
        return -1;
    }
    struct batch_ctx ctx = {
        .sender = s, .mails = mails, .n = n, .counts = counts, .now = now, .outcomes = outcomes};
    struct mail_source src = {next_mail, on_done, batch_flush, confirm_mail, &ctx};
    if (mail_transport_send_stream(s->transport, &src) != 0) {
        /* Nothing was sent: release the claims for a later retry. */
        for (size_t i = ctx.next; i < n; i++)
            on_done(&ctx, i, MAIL_TEMPFAIL, "the mail transport could not start");
        ctx.next = n;
    }
    /* Items the transport never asked for keep no claim. */
    for (size_t i = ctx.next; i < n; i++)
        on_done(&ctx, i, MAIL_TEMPFAIL, "not sent: the mail transport stopped");
    batch_flush(&ctx);
    for (size_t i = 0; i < n; i++) {
        buf_release(&mails[i].data);
        buf_release(&mails[i].links);
    }
    if (ctx.noutcomes) /* the last flush failed: these outcomes are not recorded */
        log_warn("outbox.unrecorded", "outcomes=%zu", ctx.noutcomes);
    free(outcomes);
    free(mails);
    return ctx.store_failed ? -1 : 0;
}
