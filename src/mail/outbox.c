/*
 * outbox: claim, build, send, record (see outbox.h).
 */
#include "mail/outbox.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/cache.h"
#include "campaign/campaign.h"
#include "core/config.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/process.h"
#include "core/tz.h"
#include "core/metrics.h"
#include "core/workpool.h"
#include "mail/claim_ahead.h"
#include "mail/compose.h"
#include "mail/dkim.h"
#include "mail/message.h"
#include "mail/pacing.h"
#include "mail/transport.h"
#include "mail/verp.h"
#include "service/launches.h"
#include "service/suppression.h"
#include "store/store.h"
#include "core/banned.h"

#define BATCH_MAX 512
/* Leases are renewed for the next RENEW_GROUP items in one transaction when
 * the next item's renewal is older than LEASE_FRESH_MS: "just before" without
 * a transaction per message. */
#define RENEW_GROUP 64
#define LEASE_FRESH_MS 500

/*
 * A lease lasts cfg->lease_seconds (MUSTER_LEASE_SECONDS, default 120): across
 * hosts nobody can check the owner's pid, so a dead server's claims wait that
 * long. A message on the wire must never outlive its lease (or another sender
 * could claim the row and send it while the first copy is still being
 * accepted), so the lease L is spent, from the moment its renewal was
 * decided (renewed_ms, taken before the renewal's transaction begins):
 *   - up to 1 s lost to whole seconds (lease_until is in seconds);
 *   - start: the content goes out within L/8 of that moment (a renewal is
 *     made when the last is older than LEASE_FRESH_MS; a renewal whose own
 *     transaction took longer than L/8 does not count, and the message is
 *     given back instead of sent);
 *   - transfer: every wait of the transport after that is bounded by
 *     transfer_ms (the whole libcurl transfer; the pipelining client's wait
 *     for the reply to the final dot, which begins before the content goes);
 *   - the rest, L/4 at least, for the window between the relay's 250 and the
 *     commit of the outcome and for other hosts' clocks running ahead.
 * With the default 120 s the transport waits at most 74 s for a reply (RFC
 * 5321 suggests 10 minutes after the dot; a relay that slow gets the message
 * again later, with the same Message-ID).
 */
struct lease_budget {
    int64_t lease_ms;
    int64_t start_ms; /* content starts at most this long after the renewal */
    long transfer_ms; /* the transport's bound on a message's waits */
    long connect_ms;  /* the transport's bound on connecting */
};

static struct lease_budget lease_budget_of(int lease_seconds)
{
    if (lease_seconds < 5)
        lease_seconds = 120; /* a config not from config_load: the default */
    struct lease_budget b;
    b.lease_ms = (int64_t)lease_seconds * 1000;
    b.start_ms = b.lease_ms / 8;
    int64_t transfer = b.lease_ms - 1000 - b.start_ms - b.lease_ms / 4;
    b.transfer_ms = (long)(transfer < 600000 ? transfer : 600000);
    b.connect_ms = b.transfer_ms < 10000 ? b.transfer_ms : 10000;
    return b;
}

struct sender {
    const struct config *cfg;
    struct store *st;
    struct mail_transport *transport;
    struct app_metrics *metrics;
    char owner[320];
    int lease_seconds;
    struct lease_budget budget;
    /* MUSTER_SEND_RATE: a token bucket of messages per second (0: no limit),
     * holding at most one second of sending. */
    double rate;
    double tokens;
    int64_t refilled_ms;
    /* DKIM (MUSTER_DKIM_*): NULL when off. A signature is a private-key
     * operation (RSA-2048 ~0.26 ms): the signers, one per core, sign the
     * next messages while this thread builds and sends. */
    struct dkim_signer *dkim;
    struct workpool *signers;
    size_t sign_ahead; /* how many messages past the next may be signing */
    pthread_mutex_t sign_lock;
    pthread_cond_t sign_done; /* a pending_mail left MAIL_SIGNING */
    /* The per-domain limits (MUSTER_DOMAIN_LIMITS) and this sender's state
     * against them, across batches. */
    struct pacing *pacing;
    uint32_t batch_epoch; /* tags a domain's queue as this batch's */
    /* On a database server without a send rate: the next claim, made while
     * a full batch is sent (claim_ahead.h). NULL: each claim in its turn. */
    struct claim_ahead *ahead;
};

/* Where a message of the batch stands when it is signed ahead. */
enum mail_stage {
    MAIL_UNBUILT = 0, /* prepare() has not run */
    MAIL_SETTLED,     /* prepare() recorded an outcome: not to be sent */
    MAIL_SIGNING,     /* built, with a signer */
    MAIL_READY,       /* built (and signed, or its signing failed: sign_failed) */
};

struct pending_mail {
    struct outbox_item item;
    const struct mail_kind_ops *kind; /* set by prepare(): NULL until then */
    struct buf data;
    struct buf links; /* the links (for the maildir log), NUL, the recipient */
    size_t to_offset;
    char return_path[VERP_ADDRESS_MAX]; /* with MUSTER_BOUNCE_ADDRESS: its VERP address */
    int fetched;                        /* prefetch() read sup_found, sup and suppressed */
    int sup_found;                      /* the supporter is there (not erased) */
    struct supporter sup;               /* when sup_found; released with the batch */
    int suppressed;     /* on the suppression list: 1, 0, or -1 when that is unknown */
    int ours;           /* its lease was confirmed ours at the last renewal */
    int64_t renewed_ms; /* when that renewal was decided; 0: never */
    /* With DKIM only. stage is MAIL_SIGNING while a signer owns data;
     * sender->sign_lock guards stage and sign_error then. */
    enum mail_stage stage;
    struct batch_ctx *ctx;
    char sign_error[160]; /* set when signing failed */
    /* Pacing: its recipient's domain (set when built), when it went out,
     * and the next item of the domain's queue while it waits there. */
    struct pacing_domain *domain;
    int64_t started_ms;
    size_t queue_next;
    int refused_code; /* the 4xx about its recipient (mail_source.refused), 0 none */
};

/* An outcome waiting for the next flush, which comes as soon as the round's
 * replies are read. */
enum outcome_kind {
    OUTCOME_SENT,
    OUTCOME_FAILED,
    OUTCOME_RETRY,
    OUTCOME_CANCEL,
    OUTCOME_SUPPRESSED,
    OUTCOME_PACED /* held by its domain's limit: back at `at`, the attempt not counted */
};

struct outcome {
    int64_t item_id;
    enum outcome_kind kind;
    int64_t at; /* sent_at, or next_at for a retry */
    char reply[256];
};

#define QUEUE_END SIZE_MAX

/* The items of one domain (or group) waiting in this batch for it to admit
 * them, in claim order. */
struct domain_queue {
    struct pacing_domain *domain;
    size_t route;
    size_t head, tail, count;
    int listed; /* in its route's list of queues with items */
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
    int64_t *ids; /* room for n: the item ids of one list write_round hands the store */
    int *ours;    /* room for n: what the renewal of those ids said */
    int store_failed;
    struct campaign_row campaign_row; /* round_campaign(): the round's campaign */
    const struct campaign *campaign;
    int campaign_valid;
    size_t signing; /* messages with a signer (under sender->sign_lock) */
    size_t ahead;   /* the next item signing ahead may build */
    /* Pacing: a queue per domain met in the batch (at most n), and per
     * route the queues that hold items (each at most n). */
    struct domain_queue *queues;
    size_t nqueues;
    size_t **waiting; /* waiting[route]: indexes into queues */
    size_t *nwaiting;
    size_t nroutes;
    size_t queued; /* items in every queue */
};

static void round_campaign_forget(struct batch_ctx *ctx)
{
    if (ctx->campaign_valid)
        campaign_row_release(&ctx->campaign_row);
    ctx->campaign_valid = 0;
}

/* One signer thread per core, the queue a batch's worth. */
static int start_signers(struct sender *s, char *err, size_t n)
{
    if (dkim_signer_open(s->cfg, &s->dkim, err, n) != 0)
        return -1;
    if (!s->dkim)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    s->signers = workpool_start(threads, BATCH_MAX, 0, err, n);
    if (!s->signers) {
        dkim_signer_close(s->dkim);
        s->dkim = NULL;
        return -1;
    }
    s->sign_ahead = (size_t)threads * 4;
    pthread_mutex_init(&s->sign_lock, NULL);
    pthread_cond_init(&s->sign_done, NULL);
    return 0;
}

struct sender *sender_open(const struct config *cfg, struct store *st, char *err, size_t n)
{
    struct sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->st = st;
    s->budget = lease_budget_of(cfg->lease_seconds);
    s->lease_seconds = (int)(s->budget.lease_ms / 1000);
    /* Outbox marks survive a killed process without an fsync each; after a
     * power cut a few may be lost, and those reminders go again with the
     * same Message-ID. */
    if (store_set_durable(st, 0) != 0) {
        snprintf(err, n, "cannot configure the database connection");
        free(s);
        return NULL;
    }
    s->pacing = pacing_load(cfg->domain_limits, err, n);
    if (!s->pacing) {
        free(s);
        return NULL;
    }
    size_t nroutes = pacing_route_count(s->pacing) - 1;
    const char **relays = calloc(nroutes + 1, sizeof *relays);
    int *relay_connections = calloc(nroutes + 1, sizeof *relay_connections);
    if (!relays || !relay_connections) {
        free(relays);
        free(relay_connections);
        pacing_free(s->pacing);
        free(s);
        snprintf(err, n, "out of memory");
        return NULL;
    }
    for (size_t r = 0; r < nroutes; r++) {
        relays[r] = pacing_route_relay(s->pacing, r + 1);
        relay_connections[r] = pacing_route_connections(s->pacing, r + 1);
    }
    struct mail_transport_options opt = {
        .routes = relays,
        .route_connections = relay_connections,
        .nroutes = nroutes,
        .smtp_url = cfg->smtp,
        .client = cfg->smtp_client_curl ? MAIL_SMTP_CURL : MAIL_SMTP_AUTO,
        .maildir = cfg->maildir,
        .concurrency = cfg->send_concurrency,
        .connect_timeout_ms = s->budget.connect_ms,
        .data_timeout_ms = s->budget.transfer_ms,
    };
    s->transport = mail_transport_open(&opt, err, n);
    free(relays);
    free(relay_connections);
    if (!s->transport) {
        if (nroutes && cfg->domain_limits) { /* say where the relay= came from */
            char why[512];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, n, "%s: %s", cfg->domain_limits, why);
        }
        pacing_free(s->pacing);
        free(s);
        return NULL;
    }
    if (start_signers(s, err, n) != 0) {
        mail_transport_close(s->transport);
        pacing_free(s->pacing);
        free(s);
        return NULL;
    }
    s->rate = cfg->send_rate;
    s->tokens = s->rate;
    s->refilled_ms = tz_now_ms();
    if (cfg->db && s->rate <= 0 && !store_supports(st, STORE_SUPPORTS_LOCAL_ONLY)) {
        char why[256];
        s->ahead = claim_ahead_open(cfg->db, why, sizeof why);
        if (!s->ahead) /* each claim in its turn, as on SQLite */
            log_warn("sender.claim_ahead_off", "error=\"%s\"", why);
    }
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
    claim_ahead_close(s->ahead); /* hands back a claim made ahead */
    mail_transport_close(s->transport);
    pacing_free(s->pacing);
    if (s->dkim) {
        workpool_free(s->signers); /* no batch runs: no job is queued */
        dkim_signer_close(s->dkim);
        pthread_mutex_destroy(&s->sign_lock);
        pthread_cond_destroy(&s->sign_done);
    }
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

/* The campaign of an item: the one read last in this round when it is the
 * same (the round's read transaction sees one version of it), else read
 * now. It stays the round's until read_end(). */
static int round_campaign(struct batch_ctx *ctx, int64_t id, const struct campaign_row **row,
                          const struct campaign **c)
{
    if (!ctx->campaign_valid || ctx->campaign_row.id != id) {
        round_campaign_forget(ctx);
        int rc = campaign_cache_get_by_id(ctx->sender->st, id, &ctx->campaign_row, &ctx->campaign);
        if (rc != 0)
            return rc;
        ctx->campaign_valid = 1;
    }
    *row = &ctx->campaign_row;
    *c = ctx->campaign;
    return 0;
}

/* The supporters of items [from, from + RENEW_GROUP) not read yet, and
 * whether their addresses are suppressed, read in two statements instead of
 * two per message (on a database server each is a round trip:
 * docs/PERFORMANCE.md), just before the first of them is built. What
 * changes after that still stops a message when it touches the row (an
 * erase cancels every row, an unsubscribe the reminder, a pause holds the
 * campaign's), which the lease renewal just before the message goes out
 * sees; a suppression, or an unsubscribe before another kind, is seen from
 * the next group on (at the speed of a launch, milliseconds later). -1 on a
 * store error. */
static int prefetch(struct batch_ctx *ctx, size_t from)
{
    size_t end = from + RENEW_GROUP < ctx->n ? from + RENEW_GROUP : ctx->n, n = 0;
    int64_t ids[RENEW_GROUP] = {0};
    size_t at[RENEW_GROUP] = {0};
    struct supporter sups[RENEW_GROUP];
    int found[RENEW_GROUP], suppressed[RENEW_GROUP];
    const char *emails[RENEW_GROUP];
    for (size_t i = from; i < end; i++)
        if (!ctx->mails[i].fetched) {
            at[n] = i;
            ids[n++] = ctx->mails[i].item.supporter_id;
        }
    if (n == 0)
        return 0;
    if (store_supporters_by_ids(ctx->sender->st, ids, n, sups, found) != 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        struct pending_mail *pm = &ctx->mails[at[k]];
        pm->fetched = 1;
        pm->sup_found = found[k];
        if (found[k])
            pm->sup = sups[k]; /* the batch's now, released with it */
        emails[k] = found[k] ? sups[k].email : NULL;
    }
    int rc = suppression_check_many(ctx->sender->st, emails, n, suppressed);
    for (size_t k = 0; k < n; k++)
        ctx->mails[at[k]].suppressed = rc == 0 ? suppressed[k] : -1;
    return rc;
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
    if (!pm->fetched && prefetch(ctx, (size_t)(pm - ctx->mails)) != 0)
        return -1;
    struct supporter *sup = &pm->sup;
    if (!pm->sup_found || (kind->cancel_if_unsubscribed && sup->unsubscribed_at)) {
        ctx->counts->cancelled++;
        add_outcome(ctx, pm->item.id, OUTCOME_CANCEL, 0, "not owed any more");
        return 0;
    }
    if (pm->suppressed < 0)
        return -1; /* never sent without knowing */
    if (pm->suppressed) {
        ctx->counts->suppressed++;
        log_info("mail.suppressed", "outbox=%lld kind=%s campaign=%lld", (long long)pm->item.id,
                 kind->name, (long long)pm->item.campaign_id);
        add_outcome(ctx, pm->item.id, OUTCOME_SUPPRESSED, ctx->now, SUPPRESSED_REPLY);
        return 0;
    }
    if (kind->shows_held_change && sup->has_pending_change &&
        store_pledge_load_change(s->st, sup) < 0)
        return -1;
    const struct campaign_row *row;
    const struct campaign *c;
    int rc = round_campaign(ctx, pm->item.campaign_id, &row, &c);
    if (rc != 0) {
        if (rc != STORE_NOT_FOUND)
            return -1;
        add_outcome(ctx, pm->item.id, OUTCOME_CANCEL, 0, "not owed any more");
        return 0;
    }
    /* An earlier reminder still queued when the campaign launched would
     * announce a moment that has come: the reminder says it instead. */
    if (pm->item.kind == MAIL_EARLY_REMINDER && row->launched_at) {
        ctx->counts->cancelled++;
        add_outcome(ctx, pm->item.id, OUTCOME_CANCEL, 0, "the moment has come");
        return 0;
    }
    buf_init(&pm->data, 0);
    buf_init(&pm->links, 0);
    int ok = compose_mail_variant(pm->item.kind, pm->item.variant, c, row, sup, s->cfg, ctx->now,
                                  &pm->data, &pm->links) == 0;
    /* The envelope recipient must outlive the batch: keep it after the links. */
    pm->to_offset = pm->links.len + 1;
    buf_putc(&pm->links, '\0');
    buf_puts(&pm->links, sup->email);
    ok = ok && !buf_failed(&pm->links);
    pm->return_path[0] = '\0';
    if (ok && s->cfg->bounce_address)
        ok = verp_address(s->cfg->bounce_address, pm->item.id, pm->item.supporter_id,
                          pm->return_path, sizeof pm->return_path) == 0;
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
    round_campaign_forget(ctx);
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
    case OUTCOME_PACED:
        return store_outbox_defer(st, o->item_id, owner, o->at, o->reply);
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
    /* The lease counts from before the transaction: a slow commit shortens
     * what is left of it, never lengthens it. */
    int64_t decided_ms = tz_now_ms();
    int64_t lease_until = decided_ms / 1000 + s->lease_seconds;
    /* The sent items (most outcomes) and the renewals go as one list each:
     * on a store over the network, a statement per message was a round trip
     * per message (docs/PERFORMANCE.md). */
    size_t nsent = 0, nrenew = renew_end > renew_from ? renew_end - renew_from : 0;
    int64_t sent_at = 0; /* the round's last 250: its items' 250s came within the round */
    for (size_t i = 0; i < ctx->noutcomes; i++)
        if (ctx->outcomes[i].kind == OUTCOME_SENT) {
            ctx->ids[nsent++] = ctx->outcomes[i].item_id;
            if (ctx->outcomes[i].at > sent_at)
                sent_at = ctx->outcomes[i].at;
        }
    int rc = store_begin_rows(s->st);
    if (rc == 0 && nsent)
        rc = store_outbox_sent_many(s->st, ctx->ids, nsent, s->owner, sent_at);
    for (size_t i = 0; rc == 0 && i < ctx->noutcomes; i++)
        if (ctx->outcomes[i].kind != OUTCOME_SENT)
            rc = write_outcome(s->st, s->owner, &ctx->outcomes[i]);
    for (size_t k = 0; k < nrenew; k++)
        ctx->ids[k] = ctx->mails[renew_from + k].item.id;
    if (rc == 0 && nrenew)
        rc = store_outbox_renew_many(s->st, ctx->ids, nrenew, s->owner, lease_until, ctx->ours);
    for (size_t k = 0; rc == 0 && k < nrenew; k++)
        ctx->mails[renew_from + k].ours = ctx->ours[k];
    if (rc != 0 || store_commit(s->st) != 0) {
        if (rc != 0)
            store_rollback(s->st); /* a no-op when BEGIN failed */
        ctx->store_failed = 1;
        for (size_t k = renew_from; k < renew_end; k++)
            ctx->mails[k].ours = 0;
    } else {
        ctx->noutcomes = 0;
    }
    for (size_t k = renew_from; k < renew_end; k++)
        ctx->mails[k].renewed_ms = decided_ms;
}

/* Renews item k's lease (with the next items up to group_end) when its last
 * renewal is older than LEASE_FRESH_MS. 1 when its content may start now: the
 * lease is ours and was renewed within the budget's start time (a renewal
 * whose transaction took longer does not count). */
static int lease_ready(struct batch_ctx *ctx, size_t k, size_t group_end)
{
    struct pending_mail *pm = &ctx->mails[k];
    if (tz_now_ms() - pm->renewed_ms > LEASE_FRESH_MS)
        write_round(ctx, k, group_end);
    return pm->ours && tz_now_ms() - pm->renewed_ms <= ctx->sender->budget.start_ms;
}

static void batch_flush(void *vctx)
{
    write_round(vctx, 0, 0);
}

static void pace_queue_if_stopped(struct batch_ctx *ctx, struct pacing_domain *d);

/* The relay refused the item's recipient with a 4xx (the transport says so
 * just before on_done): what its domain's backoff reads. */
static void on_refused(void *vctx, size_t index, int code)
{
    struct batch_ctx *ctx = vctx;
    ctx->mails[index].refused_code = code;
}

static void on_done(void *vctx, size_t index, enum mail_status status, const char *reply)
{
    struct batch_ctx *ctx = vctx;
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[index];
    int64_t now = tz_now();
    if (pm->domain && pm->started_ms) {
        /* its domain's connection is free; a 421/450/451 slows the domain */
        pacing_done(pm->domain, pm->started_ms, tz_now_ms(), status == MAIL_SENT,
                    pm->refused_code);
        pm->started_ms = 0;
        pm->refused_code = 0;
        if (status != MAIL_SENT)
            pace_queue_if_stopped(ctx, pm->domain);
    }
    if (status == MAIL_ABANDONED) {
        /* Withdrawn before its content: its lease passed to another sender,
         * or is still ours but was not renewed in time (then it is given back
         * for the next round instead of waiting for the lease to run out). */
        if (pm->ours)
            add_outcome(ctx, pm->item.id, OUTCOME_RETRY, now,
                        "withdrawn before its content: the lease renewal was slow");
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
 * renewed and confirmed ours just now (it may have waited behind another
 * message's final reply since next_mail gave it). */
static int confirm_mail(void *vctx, size_t id)
{
    return lease_ready(vctx, id, id + 1);
}

/* Signing ahead (DKIM on). This thread builds each message (the store
 * reads are its own) and hands it to a signer; next_mail waits only for the
 * one it gives the transport, while the signers work on the next
 * sender->sign_ahead. */

/* On a signer: the DKIM-Signature header goes first, above the message. */
static void sign_run(void *arg)
{
    struct pending_mail *pm = arg;
    struct buf out = BUF_INIT;
    char err[160] = "";
    if (dkim_signer_sign(pm->ctx->sender->dkim, pm->data.data, pm->data.len, &out, err,
                         sizeof err) == 0) {
        if (buf_append(&out, pm->data.data, pm->data.len) == 0) {
            buf_release(&pm->data);
            pm->data = out;
            return;
        }
        snprintf(err, sizeof err, "out of memory");
    }
    buf_release(&out);
    snprintf(pm->sign_error, sizeof pm->sign_error, "%s", err[0] ? err : "unknown error");
}

static void sign_finished(void *arg, enum workpool_outcome outcome)
{
    struct pending_mail *pm = arg;
    struct sender *s = pm->ctx->sender;
    pthread_mutex_lock(&s->sign_lock);
    if (outcome == WORKPOOL_CANCELLED)
        snprintf(pm->sign_error, sizeof pm->sign_error, "the signers stopped");
    pm->stage = MAIL_READY;
    pm->ctx->signing--;
    pthread_cond_broadcast(&s->sign_done);
    pthread_mutex_unlock(&s->sign_lock);
}

/* Builds item i and hands it to a signer (or signs it here when the queue
 * is full). Leaves it MAIL_SETTLED when prepare() settled it. */
static void build_and_sign(struct batch_ctx *ctx, size_t i)
{
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[i];
    read_begin(ctx);
    int rc = prepare(ctx, pm);
    if (rc < 0)
        ctx->store_failed = 1;
    if (rc <= 0) {
        pm->stage = MAIL_SETTLED;
        return;
    }
    pm->ctx = ctx;
    pthread_mutex_lock(&s->sign_lock);
    pm->stage = MAIL_SIGNING;
    ctx->signing++;
    pthread_mutex_unlock(&s->sign_lock);
    if (workpool_submit(s->signers, sign_run, sign_finished, pm) != 0) {
        sign_run(pm);
        sign_finished(pm, WORKPOOL_RAN);
    }
}

/* Keeps the signers busy with the items after from, renewing a group's
 * leases before its first item is built (as next_mail would). */
static void sign_further(struct batch_ctx *ctx, size_t from)
{
    size_t limit = from + ctx->sender->sign_ahead;
    if (limit > ctx->n)
        limit = ctx->n;
    if (ctx->ahead < from)
        ctx->ahead = from;
    while (ctx->ahead < limit) {
        size_t k = ctx->ahead++;
        struct pending_mail *pm = &ctx->mails[k];
        if (tz_now_ms() - pm->renewed_ms > LEASE_FRESH_MS)
            write_round(ctx, k, k + RENEW_GROUP < ctx->n ? k + RENEW_GROUP : ctx->n);
        if (pm->ours && pm->stage == MAIL_UNBUILT)
            build_and_sign(ctx, k);
    }
}

static enum mail_stage wait_signed(struct batch_ctx *ctx, struct pending_mail *pm)
{
    struct sender *s = ctx->sender;
    pthread_mutex_lock(&s->sign_lock);
    while (pm->stage == MAIL_SIGNING)
        pthread_cond_wait(&s->sign_done, &s->sign_lock);
    enum mail_stage stage = pm->stage;
    pthread_mutex_unlock(&s->sign_lock);
    return stage;
}

static void wait_all_signed(struct batch_ctx *ctx)
{
    struct sender *s = ctx->sender;
    if (!s->dkim)
        return;
    pthread_mutex_lock(&s->sign_lock);
    while (ctx->signing > 0)
        pthread_cond_wait(&s->sign_done, &s->sign_lock);
    pthread_mutex_unlock(&s->sign_lock);
}

/* Item i, built and signed, or 0 when it is not to be sent: settled by
 * prepare(), or its signing failed (then it is retried later, never sent
 * unsigned: a relay's DMARC policy would reject it). */
static int signed_mail(struct batch_ctx *ctx, size_t i)
{
    struct pending_mail *pm = &ctx->mails[i];
    if (pm->stage == MAIL_UNBUILT)
        build_and_sign(ctx, i);
    sign_further(ctx, i + 1);
    if (wait_signed(ctx, pm) != MAIL_READY)
        return 0;
    if (!pm->sign_error[0])
        return 1;
    char q[200];
    log_error("dkim.sign_failed", "outbox=%lld error=%s", (long long)pm->item.id,
              log_quote(pm->sign_error, q, sizeof q));
    char reply[256];
    snprintf(reply, sizeof reply, "not sent: DKIM signing failed: %s", pm->sign_error);
    add_outcome(ctx, pm->item.id, OUTCOME_RETRY,
                ctx->now + sender_backoff_seconds(pm->item.attempts), reply);
    ctx->counts->deferred++;
    buf_release(&pm->data);
    buf_release(&pm->links);
    pm->stage = MAIL_SETTLED;
    return 0;
}

/* ---- pacing (mail/pacing.h) ----
 *
 * Each item, once built, is looked up in the domain limits (the recipient's
 * address is read by prepare() anyway). It goes to the transport when its
 * domain admits one more message now and the transport asks for its route;
 * otherwise it waits in its domain's queue, reconsidered at each next(). An
 * item whose domain will not admit it within PACED_WAIT_MAX_MS (a backoff,
 * a long queue behind a low rate) does not hold the batch: it goes back to
 * the outbox for when the domain will (store_outbox_defer, the attempt not
 * counted), and so does every item still queued when the batch ends. */
#define PACED_WAIT_MAX_MS 1000

static struct domain_queue *queue_of(struct batch_ctx *ctx, struct pacing_domain *d)
{
    uint64_t tag = pacing_domain_tag(d);
    if ((uint32_t)(tag >> 32) == ctx->sender->batch_epoch)
        return &ctx->queues[(size_t)(tag & 0xffffffffu)];
    struct domain_queue *q = &ctx->queues[ctx->nqueues]; /* one per item at most: room for n */
    *q = (struct domain_queue){
        .domain = d, .route = pacing_domain_route(d), .head = QUEUE_END, .tail = QUEUE_END};
    if (q->route >= ctx->nroutes)
        q->route = 0; /* not reached: the transport has the limits' routes */
    pacing_domain_set_tag(d, ((uint64_t)ctx->sender->batch_epoch << 32) | ctx->nqueues);
    ctx->nqueues++;
    return q;
}

static void enqueue(struct batch_ctx *ctx, struct domain_queue *q, size_t i)
{
    ctx->mails[i].queue_next = QUEUE_END;
    if (q->tail == QUEUE_END)
        q->head = i;
    else
        ctx->mails[q->tail].queue_next = i;
    q->tail = i;
    q->count++;
    ctx->queued++;
    if (!q->listed) {
        ctx->waiting[q->route][ctx->nwaiting[q->route]++] = (size_t)(q - ctx->queues);
        q->listed = 1;
    }
}

static size_t dequeue(struct batch_ctx *ctx, struct domain_queue *q)
{
    size_t i = q->head;
    q->head = ctx->mails[i].queue_next;
    if (q->head == QUEUE_END)
        q->tail = QUEUE_END;
    q->count--;
    ctx->queued--;
    return i;
}

static void release_mail(struct pending_mail *pm)
{
    buf_release(&pm->data);
    buf_release(&pm->links);
    pm->stage = MAIL_SETTLED;
}

/* Item i goes back to the outbox for wait_ms from now: held by its
 * domain's limit, nothing tried. */
static void pace_later(struct batch_ctx *ctx, size_t i, int64_t wait_ms)
{
    struct pending_mail *pm = &ctx->mails[i];
    int64_t at = (tz_now_ms() + (wait_ms > 0 ? wait_ms : 0) + 999) / 1000;
    add_outcome(ctx, pm->item.id, OUTCOME_PACED, at,
                "not sent yet: held by the pacing of its recipient's domain");
    ctx->counts->paced++;
    if (at > ctx->counts->paced_until)
        ctx->counts->paced_until = at;
    release_mail(pm);
}

/* Every item queued for d goes back to the outbox when d will not admit
 * them soon (a backoff began). */
static void pace_queue_if_stopped(struct batch_ctx *ctx, struct pacing_domain *d)
{
    if ((uint32_t)(pacing_domain_tag(d) >> 32) != ctx->sender->batch_epoch)
        return;
    struct domain_queue *q = queue_of(ctx, d);
    int64_t now = tz_now_ms();
    if (q->count == 0 || pacing_wait_ms(d, now, 0) <= PACED_WAIT_MAX_MS)
        return;
    for (size_t ahead = 0; q->count > 0; ahead++) {
        size_t i = dequeue(ctx, q);
        pace_later(ctx, i, pacing_wait_ms(d, now, ahead));
    }
}

/* Its lease is not fresh: not sent now (given back, or another's). */
static void lease_lost(struct batch_ctx *ctx, size_t i)
{
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[i];
    if (pm->ours) /* ours, but the renewal was slow: the next round sends it */
        add_outcome(ctx, pm->item.id, OUTCOME_RETRY, ctx->now,
                    "not sent: the lease renewal was slow");
    /* Built ahead, then its lease passed to another sender or went stale. */
    if (s->dkim && wait_signed(ctx, pm) != MAIL_READY)
        return;
    release_mail(pm);
}

/* Builds the next item not looked at yet (renewing the leases of the group
 * it begins); 1 when it is built and its domain known, 0 when it is not to
 * be sent (its outcome is recorded or it is another's). */
static int build_next(struct batch_ctx *ctx, size_t i)
{
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[i];
    size_t end = i + RENEW_GROUP < ctx->n ? i + RENEW_GROUP : ctx->n;
    if (!lease_ready(ctx, i, end)) {
        lease_lost(ctx, i);
        return 0;
    }
    if (s->dkim) {
        if (!signed_mail(ctx, i))
            return 0;
    } else {
        /* The reads join the round's read transaction: one set of SQLite
         * locks per round instead of several per message. */
        read_begin(ctx);
        int rc = prepare(ctx, pm);
        if (rc < 0)
            ctx->store_failed = 1;
        if (rc <= 0)
            return 0;
    }
    pm->domain = pacing_lookup_address(s->pacing, pm->links.data + pm->to_offset);
    if (!pm->domain) {
        add_outcome(ctx, pm->item.id, OUTCOME_RETRY,
                    ctx->now + sender_backoff_seconds(pm->item.attempts),
                    "not sent: out of memory");
        ctx->counts->deferred++;
        release_mail(pm);
        return 0;
    }
    return 1;
}

/* Item i to the transport, when its lease is still fresh (it may have
 * waited in its queue since it was renewed). */
static int give(struct batch_ctx *ctx, size_t i, struct mail_envelope *env, size_t *id)
{
    struct sender *s = ctx->sender;
    struct pending_mail *pm = &ctx->mails[i];
    if (!lease_ready(ctx, i, i + 1)) {
        lease_lost(ctx, i);
        return 0;
    }
    pm->started_ms = tz_now_ms();
    pacing_start(pm->domain, pm->started_ms);
    env->from = pm->return_path[0] ? pm->return_path : s->cfg->from;
    env->to = pm->links.data + pm->to_offset;
    env->data = pm->data.data;
    env->len = pm->data.len;
    *id = i;
    return 1;
}

/* The transport's source (next_route): builds each message just before it
 * goes out, and gives a connection of route the first item of that route
 * whose domain admits it now. */
static int next_for_route(void *vctx, size_t route, struct mail_envelope *env, size_t *id,
                          long *wake_ms)
{
    struct batch_ctx *ctx = vctx;
    int64_t soonest = PACED_WAIT_MAX_MS;
    /* the queues of this route first: they came earlier */
    if (route < ctx->nroutes) {
        size_t *w = ctx->waiting[route];
        for (size_t k = 0; k < ctx->nwaiting[route];) {
            struct domain_queue *q = &ctx->queues[w[k]];
            if (q->count == 0) {
                q->listed = 0;
                w[k] = w[--ctx->nwaiting[route]];
                continue;
            }
            int64_t wait = pacing_wait_ms(q->domain, tz_now_ms(), 0);
            if (wait == 0) {
                if (give(ctx, dequeue(ctx, q), env, id))
                    return 1;
                continue;
            }
            if (wait > 0 && wait < soonest)
                soonest = wait;
            k++;
        }
    }
    while (ctx->next < ctx->n) {
        size_t i = ctx->next++;
        if (!build_next(ctx, i))
            continue;
        struct pending_mail *pm = &ctx->mails[i];
        struct domain_queue *q = queue_of(ctx, pm->domain);
        int64_t wait = pacing_wait_ms(pm->domain, tz_now_ms(), q->count);
        if (q->route == route && q->count == 0 && wait == 0) {
            if (give(ctx, i, env, id))
                return 1;
            continue;
        }
        if (wait > PACED_WAIT_MAX_MS) {
            pace_later(ctx, i, wait);
            continue;
        }
        enqueue(ctx, q, i);
        if (q->route == route && wait > 0 && wait < soonest)
            soonest = wait;
    }
    if (ctx->queued == 0)
        return 0;
    *wake_ms = soonest < 1 ? 1 : (long)soonest;
    return MAIL_SOURCE_LATER;
}

/* The source for the transports without routes (libcurl, the maildir):
 * "nothing now" ends their stream, and what waits goes back to the outbox. */
static int next_mail(void *vctx, struct mail_envelope *env, size_t *id)
{
    long wake = 0;
    return next_for_route(vctx, 0, env, id, &wake) == 1;
}

/* The batch ends: what still waits for its domain goes back to the outbox
 * for when the domain will admit it. */
static void pace_queued(struct batch_ctx *ctx)
{
    int64_t now = tz_now_ms();
    for (size_t k = 0; k < ctx->nqueues; k++) {
        struct domain_queue *q = &ctx->queues[k];
        for (size_t ahead = 0; q->count > 0; ahead++) {
            size_t i = dequeue(ctx, q);
            pace_later(ctx, i, pacing_wait_ms(q->domain, now, ahead));
        }
    }
}

int sender_send_test(struct sender *s, int64_t campaign_id, const char *address, int64_t now,
                     char *err, size_t n)
{
    if (!mail_address_valid(address)) {
        snprintf(err, n, "'%s' is not an address muster can send to", address);
        return -1;
    }
    struct campaign_row row = {0};
    const struct campaign *c;
    int rc = campaign_cache_get_by_id(s->st, campaign_id, &row, &c);
    if (rc != 0) {
        snprintf(err, n, rc == STORE_NOT_FOUND ? "no such campaign" : "the store failed");
        return -1;
    }
    struct buf data = BUF_INIT, links = BUF_INIT;
    int result = -1;
    if (compose_test_reminder(c, &row, s->cfg, address, now, &data, &links) != 0) {
        snprintf(err, n, "the test reminder could not be built");
        goto out;
    }
    struct mail_envelope env = {s->cfg->from, address, data.data, data.len};
    char reply[256] = "";
    enum mail_status status = mail_transport_send(s->transport, &env, reply, sizeof reply);
    if (status == MAIL_SENT) {
        result = 0;
        if (mail_transport_is_maildir(s->transport))
            log_info("mail.written", "kind=test-reminder links=%s", buf_cstr(&links));
    } else {
        struct buf clean = BUF_INIT;
        if (redact_addresses(&clean, reply) != 0)
            buf_reset(&clean);
        snprintf(err, n, "the relay did not take the test (%s): %s",
                 status == MAIL_PERMFAIL ? "refused" : "try again", buf_cstr(&clean));
        buf_release(&clean);
    }
out:
    buf_release(&data);
    buf_release(&links);
    campaign_row_release(&row);
    return result;
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
     * for (a backend shared by hosts lets them run out: MUSTER_LEASE_SECONDS). */
    if (store_supports(s->st, STORE_SUPPORTS_LOCAL_ONLY) &&
        launches_reclaim_dead_leases(s->st, now) != 0)
        return -1;
    /* The claim gives each item its lease as a renewal does (write_round):
     * decided before the statement, ending lease_seconds after its now. */
    int64_t claim_decided_ms = 0, claim_now = now;
    int ahead = s->ahead ? claim_ahead_take(s->ahead, campaign_id, items, max, &n,
                                            &claim_decided_ms, &claim_now)
                         : 0;
    if (ahead < 0)
        return -1;
    if (!ahead) {
        claim_decided_ms = tz_now_ms();
        if (store_outbox_claim(s->st, s->owner, campaign_id, now, s->lease_seconds, items, max,
                               &n) != 0)
            return -1;
    }
    *claimed = n;
    if (n == 0)
        return 0;
    /* A full batch: the next is claimed while this one goes. */
    if (s->ahead && n == max)
        claim_ahead_request(s->ahead, s->owner, campaign_id, tz_now(), s->lease_seconds, max);
    if (s->rate > 0)
        s->tokens -= (double)n;
    size_t nroutes = pacing_route_count(s->pacing);
    struct batch_ctx ctx = {.sender = s,
                            .mails = calloc(n, sizeof(struct pending_mail)),
                            .n = n,
                            .counts = counts,
                            .now = now,
                            .outcomes = calloc(n, sizeof(struct outcome)),
                            .ids = calloc(n, sizeof(int64_t)),
                            .ours = calloc(n, sizeof(int)),
                            .queues = calloc(n, sizeof(struct domain_queue)),
                            .waiting = calloc(nroutes, sizeof(size_t *)),
                            .nwaiting = calloc(nroutes, sizeof(size_t)),
                            .nroutes = nroutes};
    size_t *waiting = calloc(nroutes * n, sizeof *waiting);
    struct pending_mail *mails = ctx.mails;
    if (!mails || !ctx.outcomes || !ctx.ids || !ctx.ours || !ctx.queues || !ctx.waiting ||
        !ctx.nwaiting || !waiting) {
        ctx.store_failed = 1; /* out of memory: the claims run out with their lease */
        goto out;
    }
    /* Every item goes out on the claim's lease, as if just renewed: a group
     * that starts more than LEASE_FRESH_MS after the claim is renewed before
     * it goes (lease_ready), so a pause or a cancel made since the claim
     * stops it then. The lease ends at now + lease_seconds, so it counts
     * from now's second at the latest: the budget's whole second. */
    int64_t claimed_ms =
        claim_decided_ms < claim_now * 1000 + 1000 ? claim_decided_ms : claim_now * 1000 + 1000;
    for (size_t i = 0; i < n; i++) {
        mails[i].item = items[i]; /* data and links are built by prepare() */
        mails[i].ours = 1;
        mails[i].renewed_ms = claimed_ms;
    }
    for (size_t r = 0; r < nroutes; r++)
        ctx.waiting[r] = waiting + r * n;
    if (++s->batch_epoch == 0) /* a domain's tag of 0 is no batch's */
        s->batch_epoch = 1;
    struct mail_source src = {next_mail, on_done,        batch_flush, confirm_mail,
                              &ctx,      next_for_route, on_refused};
    int started = mail_transport_send_stream(s->transport, &src) == 0;
    wait_all_signed(&ctx); /* the signers hold no item any more */
    if (!started) {
        /* Nothing was sent: release the claims for a later retry. */
        for (size_t i = ctx.next; i < n; i++)
            if (mails[i].stage != MAIL_SETTLED)
                on_done(&ctx, i, MAIL_TEMPFAIL, "the mail transport could not start");
        ctx.next = n;
    }
    /* Items the transport never asked for keep no claim (those built ahead
     * and settled have their outcome already). */
    for (size_t i = ctx.next; i < n; i++)
        if (mails[i].stage != MAIL_SETTLED)
            on_done(&ctx, i, MAIL_TEMPFAIL, "not sent: the mail transport stopped");
    pace_queued(&ctx);
    batch_flush(&ctx);
    for (size_t i = 0; i < n; i++) {
        buf_release(&mails[i].data);
        buf_release(&mails[i].links);
        if (mails[i].sup_found)
            supporter_release(&mails[i].sup);
    }
    if (ctx.noutcomes) /* the last flush failed: these outcomes are not recorded */
        log_warn("outbox.unrecorded", "outcomes=%zu", ctx.noutcomes);
out:
    free(ctx.queues);
    free(ctx.waiting);
    free(ctx.nwaiting);
    free(waiting);
    free(ctx.outcomes);
    free(ctx.ids);
    free(ctx.ours);
    free(mails);
    return ctx.store_failed ? -1 : 0;
}
