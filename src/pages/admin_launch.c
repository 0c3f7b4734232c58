/*
 * admin_launch: the launch-day controls of the campaign page (docs/DASHBOARD.md,
 * "Launch day"): where the launch stands (scheduled, due, missed, sending,
 * sent; paused, by whom and why), and for those who may (ACCESS_LAUNCH_CONTROL)
 * the buttons that pause and resume it for every sender on the database
 * (service/launches.c) and send a test of the reminder to one address
 * (mail/outbox.c, on a work thread: the relay may take seconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/tz.h"
#include "http/app.h"
#include "http/form.h"
#include "mail/message.h"
#include "mail/outbox.h"
#include "pages/admin.h"
#include "pages/admin_private.h"
#include "service/access.h"
#include "service/launches.h"
#include "store/store.h"
#include "core/banned.h"

void admin_launch_section(struct buf *b, struct http_request *req, const struct campaign_row *row,
                          const char *timezone, const char *csrf)
{
    struct launch_state ls;
    if (launches_state(req->store, row, req->now, &ls) != 0) {
        buf_puts(b, "<section class=\"card\" id=\"launch\"><p class=\"muted\">The launch's state "
                    "could not be read.</p></section>\n");
        return;
    }
    buf_printf(b,
               "<section class=\"card\" id=\"launch\" aria-labelledby=\"launch-h\">\n"
               "<h2 id=\"launch-h\">Launch day</h2>\n<p>State: <b id=\"launch-state\" "
               "data-state=\"%s\">%s</b>%s</p>\n",
               launches_phase_name(ls.phase), launches_phase_name(ls.phase),
               ls.pause.paused_at ? " <span class=\"badge badge-wait\" id=\"launch-paused\">"
                                    "Paused</span>"
                                  : "");
    if (ls.phase == LAUNCH_MISSED)
        buf_printf(b,
                   "<p class=\"notice\" id=\"launch-missed\" role=\"alert\">Missed: the launch "
                   "window ended and no server launched it, so no reminder went out. Nothing "
                   "is sent late unless you say so: <code>muster launch %s</code> sends them "
                   "now.</p>\n",
                   row->slug);
    if (ls.pause.paused_at) {
        buf_puts(b, "<p id=\"launch-paused-by\">Paused ");
        admin_when(b, ls.pause.paused_at, timezone);
        if (ls.pause.by[0]) {
            buf_puts(b, " by ");
            escape_html(b, ls.pause.by);
        }
        if (ls.pause.reason[0]) {
            buf_puts(b, ": <bdi>");
            escape_html(b, ls.pause.reason);
            buf_puts(b, "</bdi>");
        }
        buf_puts(b, ". No sender takes this campaign's reminders until it is resumed; what "
                    "is owed stays owed.</p>\n");
    }
    buf_puts(b, "<p class=\"muted\">Reminders: ");
    admin_count(b, ls.sent);
    buf_puts(b, " sent, ");
    admin_count(b, ls.failed);
    buf_puts(b, " failed, ");
    admin_count(b, ls.pending);
    buf_puts(b, " waiting (every sender on this database).</p>\n");
    enum access_verdict may;
    if (access_decide(req->store, req->organizer_id, row->id, ACCESS_LAUNCH_CONTROL, &may) != 0 ||
        may != ACCESS_ALLOWED) {
        buf_puts(b, "</section>\n");
        return;
    }
    if (ls.pause.paused_at)
        buf_printf(b,
                   "<form method=\"post\" action=\"/admin/campaigns/%s/launch/resume\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<div class=\"actions\"><button type=\"submit\" id=\"launch-resume\">Resume "
                   "the launch</button></div></form>\n",
                   row->slug, csrf);
    else
        buf_printf(b,
                   "<form method=\"post\" action=\"/admin/campaigns/%s/launch/pause\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                   "<label for=\"pause-reason\">Why (shown in the stats)</label>"
                   "<input id=\"pause-reason\" name=\"reason\" maxlength=\"250\">"
                   "<div class=\"actions\"><button type=\"submit\" class=\"secondary\" "
                   "id=\"launch-pause\">Pause the launch</button></div></form>\n",
                   row->slug, csrf);
    buf_printf(b,
               "<form method=\"post\" action=\"/admin/campaigns/%s/launch/test\">"
               "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
               "<label for=\"test-address\">Send a test of the reminder to</label>"
               "<input id=\"test-address\" name=\"address\" type=\"email\" required "
               "maxlength=\"254\">"
               "<p class=\"muted\">The reminder exactly as a supporter gets it, marked [TEST]; "
               "its link works and counts nothing.</p>"
               "<div class=\"actions\"><button type=\"submit\" class=\"secondary\" "
               "id=\"launch-test\">Send a test</button></div></form>\n</section>\n",
               row->slug, csrf);
}

/* The form's field, or "" when absent; NULL (and a 400 answered) when the
 * form cannot be read or the field is not acceptable text. */
static const char *form_text(struct http_request *req, struct http_response *resp, struct form *f,
                             const char *name, size_t max)
{
    char err[160];
    if (form_parse(f, req->body, req->body_len, err, sizeof err) != 0) {
        admin_message_page(req, resp, 400, "The form could not be read", err);
        return NULL;
    }
    const char *v = form_get(f, name);
    if (!v)
        v = "";
    const char *problem = launches_text_problem(v, max);
    if (problem) {
        char message[200];
        snprintf(message, sizeof message, "The field \"%s\" %s.", name, problem);
        admin_message_page(req, resp, 400, "Not saved", message);
        return NULL;
    }
    return v;
}

static void set_pause(struct http_request *req, struct http_response *resp, int paused)
{
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        admin_message_page(req, resp, rc == STORE_NOT_FOUND ? 404 : 500, "No such campaign",
                           "There is no campaign with this name.");
        return;
    }
    struct form f;
    memset(&f, 0, sizeof f);
    const char *reason = form_text(req, resp, &f, "reason", 250);
    if (reason) {
        char actor[32];
        snprintf(actor, sizeof actor, "organizer:%lld", (long long)req->organizer_id);
        if (launches_set_pause(req->store, row.id, paused, actor, paused ? reason : "", req->now,
                               NULL) != 0) {
            admin_message_page(req, resp, 503, "Not saved",
                               "The launch could not be paused or resumed. Try again.");
        } else {
            char location[200];
            snprintf(location, sizeof location, "/admin/campaigns/%s?saved=%s#launch", row.slug,
                     paused ? "paused" : "resumed");
            http_redirect(resp, 303, location);
        }
    }
    form_release(&f);
    campaign_row_release(&row);
}

void handle_admin_launch_pause(struct http_request *req, struct http_response *resp)
{
    set_pause(req, resp, 1);
}

void handle_admin_launch_resume(struct http_request *req, struct http_response *resp)
{
    set_pause(req, resp, 0);
}

/* A test send, on a work thread: its own store handle and transport. */
struct test_job {
    const struct config *cfg;
    int64_t campaign_id;
    char slug[128];
    char address[256];
    char err[512];
};

static int test_send(void *arg)
{
    struct test_job *j = arg;
    struct store *st = NULL;
    if (store_open(j->cfg->db, &st, j->err, sizeof j->err) != 0)
        return -1;
    struct sender *s = sender_open(j->cfg, st, j->err, sizeof j->err);
    int rc = -1;
    if (s) {
        rc = sender_send_test(s, j->campaign_id, j->address, tz_now(), j->err, sizeof j->err);
        sender_close(s);
    }
    store_close(st);
    return rc;
}

static void test_finish(struct http_request *req, struct http_response *resp, void *arg, int rc)
{
    struct test_job *j = arg;
    if (rc != 0) {
        log_warn("launch.test_failed", "campaign_id=%lld", (long long)j->campaign_id);
        admin_message_page(req, resp, 502, "The test was not sent",
                           j->err[0] ? j->err : "The server stopped before sending it.");
        return;
    }
    log_info("launch.test_sent", "campaign_id=%lld by=organizer:%lld", (long long)j->campaign_id,
             (long long)req->organizer_id);
    char location[200];
    snprintf(location, sizeof location, "/admin/campaigns/%s?saved=test-sent#launch", j->slug);
    http_redirect(resp, 303, location);
}

void handle_admin_launch_test(struct http_request *req, struct http_response *resp)
{
    struct campaign_row row;
    int rc = store_campaign_get(req->store, req->params[0], &row);
    if (rc != 0) {
        admin_message_page(req, resp, rc == STORE_NOT_FOUND ? 404 : 500, "No such campaign",
                           "There is no campaign with this name.");
        return;
    }
    struct form f;
    memset(&f, 0, sizeof f);
    const char *address = form_text(req, resp, &f, "address", 254);
    if (address && !mail_address_valid(address)) {
        admin_message_page(req, resp, 400, "The test was not sent",
                           "This is not an address muster can send to.");
        address = NULL;
    }
    struct test_job *j = address ? calloc(1, sizeof *j) : NULL;
    if (address && !j)
        admin_message_page(req, resp, 500, "The test was not sent", "Out of memory.");
    if (j) {
        j->cfg = req->app->cfg;
        j->campaign_id = row.id;
        snprintf(j->slug, sizeof j->slug, "%s", row.slug);
        snprintf(j->address, sizeof j->address, "%s", address);
        struct http_deferred d = {
            .work = test_send, .finish = test_finish, .release = free, .arg = j};
        http_defer(resp, &d);
    }
    form_release(&f);
    campaign_row_release(&row);
}
