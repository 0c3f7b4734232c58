/*
 * sender: the webhook thread of `muster serve` (see webhook.h). It claims due
 * events from the store with a lease (as the mail outbox does), checks and
 * pins each receiver's address (address.c), posts the batch concurrently
 * with libcurl, and commits each outcome as it finishes: 2xx is sent; any
 * other answer or a network error is retried with backoff until the tenth
 * attempt fails; a refused address fails at once. It owns its own store
 * connection and never touches the request path: a request only inserts a
 * row, and this thread finds it within a second.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tz.h"
#include "store/store.h"
#include "store/store_webhooks.h"
#include "webhooks/webhook.h"
#include "core/banned.h"

#define BATCH_MAX 16 /* deliveries in flight at once */
/* The lease is MUSTER_LEASE_SECONDS (as the mail outbox's: a dead server's
 * claims wait that long), but at least LEASE_MIN_SECONDS: a transfer takes up
 * to WEBHOOK_TIMEOUT_MS. The transfers of a batch start together, after the
 * receivers' names are resolved, and only while the lease has room for one
 * transfer and a quarter of the lease to spare (the commit of the outcome,
 * other hosts' clocks); a batch whose resolution ate that room is given back
 * unsent, so a request never outlives its lease. */
#define LEASE_MIN_SECONDS 30
#define IDLE_WAIT_MS 500
#define POLL_MS 100

struct webhook_sender {
    const struct config *cfg;
    struct store *st;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    int64_t backoff_start_ms;
    char owner[300];
    int lease_seconds;
    /* The last campaign read, by (id, revision): most batches are one campaign's. */
    int64_t campaign_id, revision;
    struct campaign *campaign;
    /* The last route checked in this batch: one resolution per receiver and batch. */
    char *route_url;
    struct webhook_route route;
};

struct delivery {
    struct webhook_delivery ev;
    CURL *h;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    struct webhook_route route;
    struct sockaddr_storage pinned[WEBHOOK_ROUTE_ADDRESSES];
    int allow_private;
    int unpinned; /* the socket would have gone to another address */
    int finished;
    char error[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- the campaign's webhook ---- */

/* The campaign of an event, parsed (kept until the next revision); NULL when
 * it is gone or unreadable, with *store_error set for a database error. */
static const struct campaign *campaign_of(struct webhook_sender *s, int64_t id, int *store_error)
{
    struct campaign_row row = {0};
    int rc = store_campaign_get_by_id(s->st, id, &row);
    if (rc != 0) {
        *store_error = rc < 0;
        return NULL;
    }
    if (!s->campaign || s->campaign_id != id || s->revision != row.revision) {
        campaign_free(s->campaign);
        s->campaign = NULL;
        struct buf errors = BUF_INIT;
        if (campaign_parse(row.spec_json, strlen(row.spec_json), row.slug, &s->campaign, &errors) !=
            0)
            log_error("webhook.campaign_invalid", "campaign_id=%" PRId64, id);
        buf_release(&errors);
        s->campaign_id = id;
        s->revision = row.revision;
    }
    campaign_row_release(&row);
    return s->campaign;
}

/* ---- outcomes ---- */

static void record_failed(struct webhook_sender *s, const struct delivery *d, long status,
                          const char *error)
{
    char q[400];
    log_warn("webhook.failed", "id=%" PRId64 " campaign_id=%" PRId64 " attempts=%d error=%s",
             d->ev.id, d->ev.campaign_id, d->ev.attempts, log_quote(error, q, sizeof q));
    if (store_webhook_failed(s->st, d->ev.id, tz_now(), (int)status, error) != 0)
        log_error("webhook.store_failed", "id=%" PRId64, d->ev.id);
}

/* Retries later, or gives up after the last attempt. */
static void record_unsent(struct webhook_sender *s, const struct delivery *d, long status,
                          const char *error)
{
    if (d->ev.attempts >= WEBHOOK_MAX_ATTEMPTS) {
        char why[400];
        snprintf(why, sizeof why, "gave up after %d attempts: %s", d->ev.attempts, error);
        record_failed(s, d, status, why);
        return;
    }
    int64_t delay_ms = webhook_backoff_ms(d->ev.attempts, s->backoff_start_ms);
    int64_t next = tz_now() + (delay_ms + 999) / 1000;
    char q[400];
    log_info("webhook.retry", "id=%" PRId64 " attempts=%d status=%ld in_s=%" PRId64 " error=%s",
             d->ev.id, d->ev.attempts, status, next - tz_now(), log_quote(error, q, sizeof q));
    if (store_webhook_retry(s->st, d->ev.id, next, (int)status, error) != 0)
        log_error("webhook.store_failed", "id=%" PRId64, d->ev.id);
}

static void record_transfer(struct webhook_sender *s, struct delivery *d, CURLcode result)
{
    long status = 0;
    curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
    d->finished = 1;
    if (result == CURLE_OK && status >= 200 && status < 300) {
        log_info("webhook.sent", "id=%" PRId64 " campaign_id=%" PRId64 " status=%ld attempts=%d",
                 d->ev.id, d->ev.campaign_id, status, d->ev.attempts);
        if (store_webhook_sent(s->st, d->ev.id, (int)status, tz_now()) != 0)
            log_error("webhook.store_failed", "id=%" PRId64, d->ev.id);
        return;
    }
    char error[400];
    if (d->unpinned)
        snprintf(error, sizeof error,
                 "refused: the connection to %s was not to a checked "
                 "address (%s)",
                 d->route.host, d->route.addresses[0]);
    else if (result == CURLE_OK)
        snprintf(error, sizeof error, "the receiver answered HTTP %ld", status);
    else
        snprintf(error, sizeof error, "%s: %s", curl_easy_strerror(result),
                 d->error[0] ? d->error : "no detail");
    if (d->unpinned)
        record_failed(s, d, status, error);
    else
        record_unsent(s, d, status, error);
}

/* ---- one request ---- */

static size_t discard_body(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

static int same_address(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return 0;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return 0;
}

/* The last line of defence: whatever libcurl resolved, a socket opens only
 * to an address that was checked. */
static curl_socket_t open_pinned_socket(void *userp, curlsocktype purpose,
                                        struct curl_sockaddr *addr)
{
    struct delivery *d = userp;
    (void)purpose;
    int pinned = 0;
    for (int i = 0; i < d->route.count && !pinned; i++)
        pinned = same_address(&addr->addr, &d->pinned[i]);
    if (!pinned || (!d->allow_private && webhook_address_refusal(&addr->addr))) {
        d->unpinned = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static int pin(struct delivery *d)
{
    memset(d->pinned, 0, sizeof d->pinned);
    for (int i = 0; i < d->route.count; i++) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&d->pinned[i];
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&d->pinned[i];
        if (inet_pton(AF_INET, d->route.addresses[i], &v4->sin_addr) == 1)
            v4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, d->route.addresses[i], &v6->sin6_addr) == 1)
            v6->sin6_family = AF_INET6;
        else
            return -1;
    }
    return d->route.count > 0 ? 0 : -1;
}

#define SET(h, opt, val)                                                                           \
    do {                                                                                           \
        if (curl_easy_setopt(h, opt, val) != CURLE_OK)                                             \
            return -1;                                                                             \
    } while (0)

static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *next = curl_slist_append(*list, line);
    if (!next)
        return -1;
    *list = next;
    return 0;
}

/* Builds the signed request for d (secret: the campaign's, url: its receiver). */
static int prepare_request(struct delivery *d, const char *url, const char *secret)
{
    int64_t ts = tz_now();
    char signature[WEBHOOK_SIGNATURE_LEN + 1], line[160];
    webhook_signature(secret, ts, d->ev.payload, d->ev.payload_len, signature);
    if (add_header(&d->headers, "Content-Type: application/json") != 0)
        return -1;
    snprintf(line, sizeof line, "X-Muster-Event: %s", webhook_event_name(d->ev.event));
    if (add_header(&d->headers, line) != 0)
        return -1;
    snprintf(line, sizeof line, "X-Muster-Timestamp: %" PRId64, ts);
    if (add_header(&d->headers, line) != 0)
        return -1;
    snprintf(line, sizeof line, "X-Muster-Signature: %s", signature);
    if (add_header(&d->headers, line) != 0 || add_header(&d->headers, "Expect:") != 0 ||
        (d->route.resolve[0] && add_header(&d->resolve, d->route.resolve) != 0) || pin(d) != 0)
        return -1;
    d->h = curl_easy_init();
    if (!d->h)
        return -1;
    CURL *h = d->h;
    SET(h, CURLOPT_URL, url);
    SET(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SET(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(h, CURLOPT_FOLLOWLOCATION, 0L);
    SET(h, CURLOPT_PROXY, ""); /* never through a proxy from the environment: the pin must hold */
    if (d->resolve)
        SET(h, CURLOPT_RESOLVE, d->resolve);
    SET(h, CURLOPT_OPENSOCKETFUNCTION, open_pinned_socket);
    SET(h, CURLOPT_OPENSOCKETDATA, d);
    SET(h, CURLOPT_POST, 1L);
    SET(h, CURLOPT_POSTFIELDS, d->ev.payload);
    SET(h, CURLOPT_POSTFIELDSIZE, (long)d->ev.payload_len);
    SET(h, CURLOPT_HTTPHEADER, d->headers);
    SET(h, CURLOPT_USERAGENT, "muster");
    SET(h, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
    SET(h, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
    SET(h, CURLOPT_NOSIGNAL, 1L);
    SET(h, CURLOPT_WRITEFUNCTION, discard_body);
    SET(h, CURLOPT_ERRORBUFFER, d->error);
    SET(h, CURLOPT_PRIVATE, d);
    return 0;
}

static void delivery_release(struct delivery *d)
{
    if (d->h)
        curl_easy_cleanup(d->h);
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->resolve);
    webhook_delivery_release(&d->ev);
    memset(d, 0, sizeof *d);
}

/* Decides what to do with a claimed event before any network traffic: 1 when
 * its request is ready, 0 when it was settled here (failed, or retried). */
static int prepare(struct webhook_sender *s, struct delivery *d, int *store_error)
{
    const struct campaign *c = campaign_of(s, d->ev.campaign_id, store_error);
    if (*store_error)
        return 0;
    if (!c || !webhook_wanted(&c->webhook, d->ev.event)) {
        record_failed(s, d, 0, "the campaign has no webhook for this event any more");
        return 0;
    }
    char err[400];
    enum webhook_route_result r = WEBHOOK_ROUTE_OK;
    if (s->route_url && strcmp(s->route_url, c->webhook.url) == 0) {
        d->route = s->route;
    } else {
        r = webhook_route(c->webhook.url, s->cfg->allow_private_webhooks, &d->route, err,
                          sizeof err);
        free(s->route_url);
        s->route_url = r == WEBHOOK_ROUTE_OK ? strdup(c->webhook.url) : NULL;
        s->route = d->route;
    }
    if (r == WEBHOOK_ROUTE_REFUSED) {
        record_failed(s, d, 0, err);
        return 0;
    }
    if (r == WEBHOOK_ROUTE_RETRY) {
        record_unsent(s, d, 0, err);
        return 0;
    }
    d->allow_private = s->cfg->allow_private_webhooks;
    if (prepare_request(d, c->webhook.url, c->webhook.secret) != 0) {
        if (d->h)
            curl_easy_cleanup(d->h);
        d->h = NULL;
        record_unsent(s, d, 0, "the request could not be prepared (out of memory)");
        return 0;
    }
    return 1;
}

/* ---- a batch ---- */

static void run_transfers(struct webhook_sender *s, struct delivery *ds, size_t n)
{
    CURLM *multi = curl_multi_init();
    if (!multi) {
        for (size_t i = 0; i < n; i++)
            if (ds[i].h)
                record_unsent(s, &ds[i], 0, "the HTTP client could not start");
        return;
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ds[i].h)
            continue;
        if (curl_multi_add_handle(multi, ds[i].h) != CURLM_OK) {
            record_unsent(s, &ds[i], 0, "the HTTP client could not start");
            curl_easy_cleanup(ds[i].h);
            ds[i].h = NULL;
            continue;
        }
        added++;
    }
    int running = added > 0;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct delivery *d = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
            if (d)
                record_transfer(s, d, msg->data.result);
        }
        if (!running || atomic_load(&s->stopping))
            break;
        curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (!ds[i].h)
            continue;
        curl_multi_remove_handle(multi, ds[i].h);
        /* Stopping (or a broken multi handle): give the claim back untouched. */
        if (!ds[i].finished && store_webhook_release(s->st, ds[i].ev.id) != 0)
            log_error("webhook.store_failed", "id=%" PRId64, ds[i].ev.id);
    }
    curl_multi_cleanup(multi);
}

/* Claims and delivers one batch; *claimed gets how many were due. */
static int run_batch(struct webhook_sender *s, size_t *claimed)
{
    struct webhook_delivery evs[BATCH_MAX];
    size_t n = 0;
    *claimed = 0;
    int64_t claimed_ms = tz_now_ms();
    if (store_webhook_claim(s->st, s->owner, claimed_ms / 1000, s->lease_seconds, evs, BATCH_MAX,
                            &n) != 0)
        return -1;
    *claimed = n;
    if (n == 0)
        return 0;
    struct delivery ds[BATCH_MAX];
    memset(ds, 0, sizeof ds);
    int result = 0;
    for (size_t i = 0; i < n; i++) {
        ds[i].ev = evs[i];
        int store_error = 0;
        if (atomic_load(&s->stopping)) {
            if (store_webhook_release(s->st, ds[i].ev.id) != 0)
                result = -1;
            continue;
        }
        if (!prepare(s, &ds[i], &store_error) && store_error) {
            if (store_webhook_release(s->st, ds[i].ev.id) != 0)
                log_error("webhook.store_failed", "id=%" PRId64, ds[i].ev.id);
            result = -1;
        }
    }
    /* The lease ends at the whole second of the claim plus lease_seconds. */
    int64_t lease_end_ms = (claimed_ms / 1000 + s->lease_seconds) * 1000;
    int64_t room_ms = lease_end_ms - tz_now_ms();
    if (room_ms < WEBHOOK_TIMEOUT_MS + (int64_t)s->lease_seconds * 1000 / 4) {
        log_warn("webhook.lease_short", "events=%zu room_ms=%" PRId64 " (not sent: given back)", n,
                 room_ms);
        for (size_t i = 0; i < n; i++) {
            if (!ds[i].h)
                continue;
            if (store_webhook_release(s->st, ds[i].ev.id) != 0) {
                log_error("webhook.store_failed", "id=%" PRId64, ds[i].ev.id);
                result = -1;
            }
            curl_easy_cleanup(ds[i].h);
            ds[i].h = NULL;
        }
    }
    run_transfers(s, ds, n);
    for (size_t i = 0; i < n; i++)
        delivery_release(&ds[i]);
    /* Names are resolved again for the next batch. */
    free(s->route_url);
    s->route_url = NULL;
    return result;
}

static void wait_ms(struct webhook_sender *s, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    if (!atomic_load(&s->stopping))
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    pthread_mutex_unlock(&s->lock);
}

static void *sender_main(void *arg)
{
    struct webhook_sender *s = arg;
    while (!atomic_load(&s->stopping)) {
        size_t claimed = 0;
        if (run_batch(s, &claimed) != 0) {
            log_error("webhook.store_failed", "will retry");
            wait_ms(s, 1000);
            continue;
        }
        /* A full batch means more may be due: go on at once. */
        if (claimed < BATCH_MAX)
            wait_ms(s, IDLE_WAIT_MS);
    }
    return NULL;
}

/* ---- start, stop ---- */

struct webhook_sender *webhook_sender_start(const struct config *cfg, char *err, size_t err_len)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        snprintf(err, err_len, "cannot initialise libcurl for webhooks");
        return NULL;
    }
    struct webhook_sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->lease_seconds =
        cfg->lease_seconds > LEASE_MIN_SECONDS ? cfg->lease_seconds : LEASE_MIN_SECONDS;
    s->backoff_start_ms = WEBHOOK_BACKOFF_START_MS;
    const char *env = getenv("MUSTER_WEBHOOK_BACKOFF_MS");
    if (env && *env) {
        /* A test setting: a bad value must not stop webhooks, only be said. */
        char *end = NULL;
        long long v = strtoll(env, &end, 10);
        if (*end || v < 1 || v > WEBHOOK_BACKOFF_CAP_MS)
            log_warn("webhook.bad_backoff", "MUSTER_WEBHOOK_BACKOFF_MS must be 1 to %d; using %d",
                     WEBHOOK_BACKOFF_CAP_MS, WEBHOOK_BACKOFF_START_MS);
        else
            s->backoff_start_ms = v;
    }
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(s->owner, sizeof s->owner, "%s:%ld:webhooks", host, (long)getpid());
    if (store_open(cfg->db, &s->st, err, err_len) != 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->tid, NULL, sender_main, s) != 0) {
        snprintf(err, err_len, "cannot start the webhook sender thread");
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        store_close(s->st);
        free(s);
        return NULL;
    }
    log_info("webhook.sender_started", "allow_private=%d backoff_start_ms=%" PRId64,
             cfg->allow_private_webhooks, s->backoff_start_ms);
    return s;
}

void webhook_sender_stop(struct webhook_sender *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stopping, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->tid, NULL);
    campaign_free(s->campaign);
    store_close(s->st);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
