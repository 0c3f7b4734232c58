/*
 * ops: the operator's endpoints: GET /healthz (liveness: the database
 * answers) and GET /metrics (Prometheus text format, version 0.0.4), and the
 * plain home page.
 */
#include <stdio.h>

#include "http/app.h"
#include "pages/pages.h"
#include "store/store.h"
#include "core/banned.h"

void handle_healthz(struct http_request *req, struct http_response *resp)
{
    if (store_ping(req->store) != 0) {
        http_text(resp, 503, "database unavailable\n");
        return;
    }
    http_text(resp, 200, "ok\n");
}

void handle_metrics(struct http_request *req, struct http_response *resp)
{
    const struct app_metrics *m = &req->app->metrics;
    struct buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_puts(b, "# HELP muster_http_requests_total HTTP requests answered, by status class.\n"
                "# TYPE muster_http_requests_total counter\n");
    for (int cls = 1; cls <= 5; cls++)
        buf_printf(b, "muster_http_requests_total{code=\"%dxx\"} %lld\n", cls,
                   (long long)atomic_load(&m->requests_by_class[cls]));
    static const char *bounds[] = {"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf"};
    buf_puts(b, "# HELP muster_http_request_duration_seconds Time to answer a request.\n"
                "# TYPE muster_http_request_duration_seconds histogram\n");
    long long cumulative = 0;
    for (int i = 0; i < 8; i++) {
        cumulative += (long long)atomic_load(&m->latency_buckets[i]);
        buf_printf(b, "muster_http_request_duration_seconds_bucket{le=\"%s\"} %lld\n", bounds[i],
                   cumulative);
    }
    buf_printf(b, "muster_http_request_duration_seconds_sum %.6f\n",
               (double)atomic_load(&m->latency_us_total) / 1e6);
    buf_printf(b, "muster_http_request_duration_seconds_count %lld\n",
               (long long)atomic_load(&m->requests));
    struct {
        const char *name, *help;
        long long value;
    } counters[] = {
        {"muster_pledges_total", "Pledges recorded.", (long long)atomic_load(&m->pledges)},
        {"muster_confirmations_total", "Pledges confirmed.",
         (long long)atomic_load(&m->confirmations)},
        {"muster_clicks_total", "One-click links followed.", (long long)atomic_load(&m->clicks)},
        {"muster_reviews_total", "Action pages opened with ?review=1 (not clicks).",
         (long long)atomic_load(&m->reviews)},
        {"muster_mails_sent_total", "Emails accepted by the relay.",
         (long long)atomic_load(&m->mails_sent)},
        {"muster_mails_failed_total", "Emails failed permanently.",
         (long long)atomic_load(&m->mails_failed)},
        {"muster_mails_retried_total", "Emails deferred for a retry.",
         (long long)atomic_load(&m->mails_retried)},
        {"muster_work_queue_full_total",
         "Requests answered 503 at once because the password-check queue was full.",
         (long long)atomic_load(&m->work_queue_full)},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", counters[i].name,
                   counters[i].help, counters[i].name, counters[i].name, counters[i].value);
    int64_t pending = 0, ready = 0;
    if (store_outbox_pending(req->store, 0, 0, req->now, &pending, &ready) == 0)
        buf_printf(b,
                   "# HELP muster_outbox_pending Emails waiting to be sent.\n"
                   "# TYPE muster_outbox_pending gauge\nmuster_outbox_pending %lld\n",
                   (long long)pending);
}

void handle_home(struct http_request *req, struct http_response *resp)
{
    (void)req;
    struct buf *b = &resp->body;
    page_begin(b, "muster");
    buf_puts(b, "<section class=\"card\">\n<h1>muster</h1>\n<p>This server runs days of action. "
                "Campaign pages live at <code>/c/&lt;campaign&gt;</code>.</p>\n<p><a "
                "href=\"/login\">Organizer login</a></p>\n</section>\n");
    page_end(b);
}
