/*
 * hooks: the providers' bounce and complaint webhooks (docs/API.md,
 * "Bounce webhooks"). Each checks the provider's way of authenticating,
 * validates the event's fields, and hands the address to
 * suppression_report (service/suppression.c), the same list `muster bounce`
 * feeds. Postmark: the shared secret MUSTER_HOOK_SECRET as the basic-auth
 * password of the webhook URL or as its `secret` query parameter. Without
 * the setting the hooks answer 404: nothing is accepted unauthenticated.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/token.h"
#include "http/app.h"
#include "pages/pages.h"
#include "service/suppression.h"
#include "store/store.h"
#include "core/banned.h"

static void answer(struct http_response *resp, int status, const char *message)
{
    json_t *doc = json_pack("{s:s}", status < 300 ? "result" : "error", message);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    http_json(resp, status, text ? text : "{}");
    free(text);
    json_decref(doc);
}

/* 1 when the request carries the secret: the password of basic auth, or the
 * `secret` query parameter; compared in constant time. */
static int secret_given(const struct http_request *req, const char *secret)
{
    const char *q = http_query(req, "secret");
    if (q && token_equal(q, secret))
        return 1;
    const char *auth = http_header(req, "Authorization");
    if (!auth || strncmp(auth, "Basic ", 6) != 0)
        return 0;
    unsigned char decoded[512];
    size_t len = 0;
    const char *b64 = auth + 6;
    if (strlen(b64) > 600 || sodium_base642bin(decoded, sizeof decoded - 1, b64, strlen(b64), NULL,
                                               &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    decoded[len] = '\0';
    const char *colon = memchr(decoded, ':', len);
    if (!colon || memchr(decoded, '\0', len))
        return 0;
    return token_equal(colon + 1, secret);
}

/* Postmark's Type of a bounce (its "bounce types" list) as a report kind;
 * -1 for the types that say nothing about the address (an auto-responder, a
 * subscription change, an open or a click). */
static int postmark_kind(const char *record_type, const char *type)
{
    if (strcmp(record_type, "SpamComplaint") == 0 || strcmp(type, "SpamComplaint") == 0)
        return SUPPRESSION_REPORT_COMPLAINT;
    if (strcmp(record_type, "Bounce") != 0)
        return -1;
    static const char *const permanent[] = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated",
                                            "Unknown"};
    static const char *const temporary[] = {"SoftBounce",   "Transient", "DnsError",
                                            "MailFrontier", "Blocked",   "SMTPApiError"};
    for (size_t i = 0; i < sizeof permanent / sizeof permanent[0]; i++)
        if (strcmp(type, permanent[i]) == 0)
            return SUPPRESSION_REPORT_PERMANENT;
    for (size_t i = 0; i < sizeof temporary / sizeof temporary[0]; i++)
        if (strcmp(type, temporary[i]) == 0)
            return SUPPRESSION_REPORT_TEMPORARY;
    return -1;
}

void handle_hook_postmark(struct http_request *req, struct http_response *resp)
{
    const char *secret = req->app->cfg->hook_secret;
    if (!secret) {
        answer(resp, 404, "bounce webhooks are off: MUSTER_HOOK_SECRET is not set");
        return;
    }
    if (!secret_given(req, secret)) {
        http_set_header(resp, "WWW-Authenticate", "Basic realm=\"muster hooks\"");
        answer(resp, 401, "the webhook secret is missing or wrong");
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        answer(resp, 400, "the body is not a JSON object");
        return;
    }
    const char *record_type = json_string_value(json_object_get(doc, "RecordType"));
    const char *type = json_string_value(json_object_get(doc, "Type"));
    const char *email = json_string_value(json_object_get(doc, "Email"));
    if (!record_type) {
        json_decref(doc);
        answer(resp, 400, "RecordType: missing or not a string");
        return;
    }
    if (!type)
        type = "";
    int kind = postmark_kind(record_type, type);
    if (kind < 0) {
        json_decref(doc);
        answer(resp, 200, "ignored: this event says nothing about the address");
        return;
    }
    char norm[SUPPRESSION_ADDRESS_MAX + 1];
    if (!email || suppression_normalize(email, norm) != 0) {
        json_decref(doc);
        answer(resp, 400, "Email: missing or not an email address");
        return;
    }
    const char *details = json_string_value(json_object_get(doc, "Details"));
    const char *description = json_string_value(json_object_get(doc, "Description"));
    char reason[SUPPRESSION_REASON_MAX + 1];
    snprintf(reason, sizeof reason, "postmark %s%s%s", type[0] ? type : record_type,
             details ? ": " : (description ? ": " : ""),
             details ? details : (description ? description : ""));
    int suppressed = 0;
    int rc = suppression_report(req->store, norm, (enum suppression_report_kind)kind, reason, 0,
                                req->now, &suppressed);
    json_decref(doc);
    if (rc != 0) {
        answer(resp, 503, "the event could not be recorded; send it again");
        return;
    }
    log_info("hook.bounce", "provider=postmark kind=%d suppressed=%d", kind, suppressed);
    answer(resp, 200, suppressed ? "recorded: suppressed" : "recorded");
}
