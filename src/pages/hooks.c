/*
 * hooks: the providers' bounce and complaint webhooks (docs/API.md,
 * "Bounce webhooks"). Each checks the provider's way of authenticating,
 * validates the event's fields, and hands the address to
 * suppression_report (service/suppression.c), the same list `muster bounce`
 * feeds. Postmark: the shared secret MUSTER_HOOK_SECRET as the basic-auth
 * password of the webhook URL or as its `secret` query parameter. SendGrid:
 * its signed Event Webhook, ECDSA P-256 over the timestamp header and the
 * raw body, verified with MUSTER_SENDGRID_KEY; a timestamp more than
 * SENDGRID_MAX_AGE away from now is refused (a replay). Amazon SES: the SNS
 * message signature (version 1, SHA1withRSA, or 2, SHA256withRSA, over the
 * canonical string SNS defines for each Type) verified against the
 * certificate MUSTER_SES_CERT names; SigningCertURL and SubscribeURL are
 * never fetched. Without its setting a hook answers 404: nothing is accepted
 * unauthenticated.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/hook_keys.h"
#include "core/log.h"
#include "core/token.h"
#include "http/app.h"
#include "mail/compose.h"
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

/* ---- shared by the signed hooks ---- */

/* The most events or recipients one request may report. */
#define HOOK_MAX_ITEMS 1000

/* Decodes standard base64 TEXT (at most OUT_SIZE bytes decoded) into out.
 * 0, or -1 when it is not base64 or too long. */
static int base64_decode(const char *text, unsigned char *out, size_t out_size, size_t *out_len)
{
    size_t len = strlen(text);
    const char *end = NULL;
    if (len == 0 || len > out_size * 4 / 3 + 4 ||
        sodium_base642bin(out, out_size, text, len, NULL, out_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text + len)
        return -1;
    return 0;
}

/* One address a provider reported, checked before anything is recorded. */
struct hook_report {
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    enum suppression_report_kind kind;
    char reason[SUPPRESSION_REASON_MAX + 1];
    int64_t campaign_id; /* from the event's Message-ID when it is one of ours; else 0 */
};

/* The campaign a provider's event is about: the one in the Message-ID muster
 * gave the message (compose_message_id_parse checks its MAC), which the
 * provider echoes; 0 when there is none or it is not ours. */
static int64_t campaign_of_message_id(const struct config *cfg, const char *message_id)
{
    int64_t campaign_id = 0, supporter_id = 0;
    if (compose_message_id_parse(message_id, cfg, &campaign_id, &supporter_id) != 0)
        return 0;
    return campaign_id;
}

/* Records COUNT reports and answers: 200 with how many, or 503 when the store
 * failed (the provider sends the batch again; a permanent failure or a
 * complaint recorded twice changes nothing). */
static void record_reports(struct http_request *req, struct http_response *resp,
                           const char *provider, const struct hook_report *reports, size_t count,
                           size_t ignored)
{
    size_t suppressed_count = 0;
    for (size_t i = 0; i < count; i++) {
        int suppressed = 0;
        if (suppression_report(req->store, reports[i].address, reports[i].kind, reports[i].reason,
                               reports[i].campaign_id, req->now, &suppressed) != 0) {
            log_error("hook.bounce", "provider=%s recorded=%zu of=%zu store error", provider, i,
                      count);
            answer(resp, 503, "the events could not be recorded; send them again");
            return;
        }
        suppressed_count += suppressed != 0;
    }
    log_info("hook.bounce", "provider=%s recorded=%zu suppressed=%zu ignored=%zu", provider, count,
             suppressed_count, ignored);
    char message[160];
    snprintf(message, sizeof message, "recorded %zu, suppressed %zu, ignored %zu", count,
             suppressed_count, ignored);
    answer(resp, 200, message);
}

static const char *json_text(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- SendGrid ---- */

/* How far the signed timestamp may be from now, in seconds. */
#define SENDGRID_MAX_AGE 600
#define SENDGRID_SIGNATURE_HEADER "X-Twilio-Email-Event-Webhook-Signature"
#define SENDGRID_TIMESTAMP_HEADER "X-Twilio-Email-Event-Webhook-Timestamp"

/* SendGrid's event as a report kind (docs/API.md): -1 for the events that
 * say nothing final about the address. A `deferred` event is SendGrid still
 * retrying (it sends one per attempt, for up to 72 hours): its final
 * `bounce` or `dropped` is what counts, so counting each attempt as a
 * temporary failure would suppress addresses that a busy provider only
 * throttled. */
static int sendgrid_kind(const char *event, const char *type, const char *reason)
{
    if (strcmp(event, "spamreport") == 0)
        return SUPPRESSION_REPORT_COMPLAINT;
    if (strcmp(event, "bounce") == 0)
        return type && strcmp(type, "blocked") == 0 ? SUPPRESSION_REPORT_TEMPORARY
                                                    : SUPPRESSION_REPORT_PERMANENT;
    if (strcmp(event, "dropped") == 0 && reason) {
        /* SendGrid drops a message to an address on its own lists; its other
         * reasons ("Invalid SMTPAPI header", "Spam Content", "Unsubscribed
         * Address", ...) are about the message or a choice, not the address. */
        if (strcmp(reason, "Spam Reporting Address") == 0)
            return SUPPRESSION_REPORT_COMPLAINT;
        if (strcmp(reason, "Bounced Address") == 0 || strcmp(reason, "Invalid") == 0)
            return SUPPRESSION_REPORT_PERMANENT;
    }
    return -1;
}

/* 0 with *at set when TEXT is a decimal Unix time, else -1. */
static int parse_unix_time(const char *text, int64_t *at)
{
    size_t len = strlen(text);
    if (len == 0 || len > 12)
        return -1;
    int64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    *at = value;
    return 0;
}

void handle_hook_sendgrid(struct http_request *req, struct http_response *resp)
{
    const struct hook_key *key = req->app->cfg->sendgrid_key;
    if (!key) {
        answer(resp, 404, "the SendGrid webhook is off: MUSTER_SENDGRID_KEY is not set");
        return;
    }
    const char *signature_b64 = http_header(req, SENDGRID_SIGNATURE_HEADER);
    const char *timestamp = http_header(req, SENDGRID_TIMESTAMP_HEADER);
    if (!signature_b64 || !timestamp) {
        answer(resp, 401,
               !signature_b64 ? SENDGRID_SIGNATURE_HEADER ": missing (the webhook must be signed)"
                              : SENDGRID_TIMESTAMP_HEADER ": missing (the webhook must be signed)");
        return;
    }
    unsigned char signature[256];
    size_t signature_len = 0;
    if (base64_decode(signature_b64, signature, sizeof signature, &signature_len) != 0) {
        answer(resp, 401, SENDGRID_SIGNATURE_HEADER ": not a base64 signature");
        return;
    }
    int64_t signed_at = 0;
    if (parse_unix_time(timestamp, &signed_at) != 0) {
        answer(resp, 401, SENDGRID_TIMESTAMP_HEADER ": expected a Unix time in seconds");
        return;
    }
    const char *parts[2] = {timestamp, req->body};
    size_t part_lens[2] = {strlen(timestamp), req->body_len};
    if (!hook_key_verify(key, HOOK_DIGEST_SHA256, parts, part_lens, 2, signature, signature_len)) {
        answer(resp, 403,
               "the signature does not verify with MUSTER_SENDGRID_KEY over the timestamp and "
               "the body");
        return;
    }
    if (signed_at < req->now - SENDGRID_MAX_AGE || signed_at > req->now + SENDGRID_MAX_AGE) {
        answer(resp, 403, SENDGRID_TIMESTAMP_HEADER ": more than 10 minutes from now (a replay?)");
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_array(doc)) {
        json_decref(doc);
        answer(resp, 400, "the body is not a JSON array of events");
        return;
    }
    size_t count = json_array_size(doc);
    if (count > HOOK_MAX_ITEMS) {
        json_decref(doc);
        answer(resp, 413, "more than 1000 events in one request");
        return;
    }
    struct hook_report *reports = calloc(count ? count : 1, sizeof *reports);
    if (!reports) {
        json_decref(doc);
        answer(resp, 503, "out of memory; send the events again");
        return;
    }
    size_t used = 0;
    size_t ignored = 0;
    char problem[160] = "";
    for (size_t i = 0; i < count && !problem[0]; i++) {
        const json_t *ev = json_array_get(doc, i);
        const char *event = json_is_object(ev) ? json_text(ev, "event") : NULL;
        if (!event) {
            snprintf(problem, sizeof problem, "event %zu: %s", i,
                     json_is_object(ev) ? "\"event\" missing or not a string"
                                        : "not a JSON object");
            break;
        }
        const char *type = json_text(ev, "type");
        const char *reason = json_text(ev, "reason");
        int kind = sendgrid_kind(event, type, reason);
        if (kind < 0) {
            ignored++;
            continue;
        }
        const char *email = json_text(ev, "email");
        struct hook_report *r = &reports[used];
        if (!email || suppression_normalize(email, r->address) != 0) {
            snprintf(problem, sizeof problem,
                     "event %zu: \"email\" missing or not an email address", i);
            break;
        }
        const char *status = json_text(ev, "status");
        r->kind = (enum suppression_report_kind)kind;
        r->campaign_id = campaign_of_message_id(req->app->cfg, json_text(ev, "smtp-id"));
        snprintf(r->reason, sizeof r->reason, "sendgrid %s%s%s%s%s%s", event, type ? " " : "",
                 type ? type : "", status || reason ? ":" : "", status ? " " : "",
                 status ? status : "");
        if (reason) {
            size_t at = strlen(r->reason);
            snprintf(r->reason + at, sizeof r->reason - at, " %s", reason);
        }
        used++;
    }
    json_decref(doc);
    if (problem[0])
        answer(resp, 400, problem);
    else
        record_reports(req, resp, "sendgrid", reports, used, ignored);
    free(reports);
}

/* ---- Amazon SES through SNS ---- */

/* How old a signed SNS message may be, in seconds: SNS retries an HTTP
 * delivery for at most an hour, so an older one is a replay. */
#define SNS_MAX_AGE 3600
/* The most fields of SNS's canonical string: Message, MessageId, Subject,
 * SubscribeURL, Timestamp, Token, TopicArn and Type. */
#define SNS_MAX_FIELDS 8

/* 0 with *at set when TEXT is SNS's "2026-12-05T10:00:00.000Z", else -1. */
static int parse_sns_time(const char *text, int64_t *at)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int consumed = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        consumed != 19)
        return -1;
    const char *rest = text + consumed;
    if (*rest == '.') {
        rest++;
        size_t digits = strspn(rest, "0123456789");
        if (digits == 0 || digits > 9)
            return -1;
        rest += digits;
    }
    if (strcmp(rest, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *at = (int64_t)timegm(&tm);
    return 0;
}

/* The canonical string SNS signs for the message's Type, as the parts given
 * to hook_key_verify: "Name\nvalue\n" for each field SNS lists, in its order;
 * Subject only when the notification has one. Returns the number of parts,
 * or 0 with the missing field's name in *missing. */
static size_t sns_canonical(const json_t *doc, const char *type, const char **parts, size_t *lens,
                            const char **missing)
{
    static const char *const notification[] = {"Message",  "MessageId", "Subject", "Timestamp",
                                               "TopicArn", "Type",      NULL};
    static const char *const confirmation[] = {"Message", "MessageId", "SubscribeURL", "Timestamp",
                                               "Token",   "TopicArn",  "Type",         NULL};
    const char *const *fields = strcmp(type, "Notification") == 0 ? notification : confirmation;
    size_t n = 0;
    for (size_t i = 0; fields[i]; i++) {
        const json_t *value = json_object_get(doc, fields[i]);
        if (!json_is_string(value)) {
            if (strcmp(fields[i], "Subject") == 0 && (!value || json_is_null(value)))
                continue;
            *missing = fields[i];
            return 0;
        }
        const char *piece[4] = {fields[i], "\n", json_string_value(value), "\n"};
        size_t piece_len[4] = {strlen(fields[i]), 1, json_string_length(value), 1};
        for (size_t k = 0; k < 4; k++) {
            parts[n] = piece[k];
            lens[n++] = piece_len[k];
        }
    }
    return n;
}

/* The reports of one SES notification (the Message's JSON): a Bounce's
 * bouncedRecipients or a Complaint's complainedRecipients. *count is 0 with
 * *ignored 1 for the other types; -1 with PROBLEM filled when a field is
 * wrong. */
static int ses_reports(const struct config *cfg, const json_t *msg, struct hook_report *reports,
                       size_t *count, size_t *ignored, char *problem, size_t problem_len)
{
    *count = 0;
    *ignored = 0;
    const char *type = json_text(msg, "notificationType");
    if (!type)
        type = json_text(msg, "eventType"); /* SES event publishing's form */
    if (!type) {
        snprintf(problem, problem_len, "Message: notificationType missing or not a string");
        return -1;
    }
    int complaint = strcmp(type, "Complaint") == 0;
    if (!complaint && strcmp(type, "Bounce") != 0) {
        *ignored = 1; /* Delivery, Send, Open, ...: nothing about the address */
        return 0;
    }
    const char *section = complaint ? "complaint" : "bounce";
    const json_t *body = json_object_get(msg, section);
    if (!json_is_object(body)) {
        snprintf(problem, problem_len, "Message.%s: missing or not an object", section);
        return -1;
    }
    enum suppression_report_kind kind = SUPPRESSION_REPORT_COMPLAINT;
    const char *detail = json_text(body, "complaintFeedbackType");
    const char *bounce_type = json_text(body, "bounceType");
    if (!complaint) {
        if (!bounce_type) {
            snprintf(problem, problem_len, "Message.bounce.bounceType: missing or not a string");
            return -1;
        }
        if (strcmp(bounce_type, "Permanent") == 0)
            kind = SUPPRESSION_REPORT_PERMANENT;
        else if (strcmp(bounce_type, "Transient") == 0 || strcmp(bounce_type, "Undetermined") == 0)
            kind = SUPPRESSION_REPORT_TEMPORARY;
        else {
            snprintf(problem, problem_len,
                     "Message.bounce.bounceType: expected Permanent, Transient or Undetermined");
            return -1;
        }
        detail = json_text(body, "bounceSubType");
    }
    /* mail.commonHeaders.messageId: the Message-ID muster gave the message */
    int64_t campaign = campaign_of_message_id(
        cfg, json_text(json_object_get(json_object_get(msg, "mail"), "commonHeaders"), "messageId"));
    const char *list_name = complaint ? "complainedRecipients" : "bouncedRecipients";
    const json_t *list = json_object_get(body, list_name);
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > HOOK_MAX_ITEMS) {
        snprintf(problem, problem_len, "Message.%s.%s: expected an array of 1 to %d recipients",
                 section, list_name, HOOK_MAX_ITEMS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *recipient = json_array_get(list, i);
        const char *email = json_text(recipient, "emailAddress");
        struct hook_report *r = &reports[i];
        if (!email || suppression_normalize(email, r->address) != 0) {
            snprintf(problem, problem_len,
                     "Message.%s.%s[%zu].emailAddress: missing or not an email address", section,
                     list_name, i);
            return -1;
        }
        const char *diagnostic = json_text(recipient, "diagnosticCode");
        r->kind = kind;
        r->campaign_id = campaign;
        snprintf(r->reason, sizeof r->reason, "ses %s%s%s%s%s%s%s", type, bounce_type ? " " : "",
                 bounce_type ? bounce_type : "", detail ? "/" : "", detail ? detail : "",
                 diagnostic ? ": " : "", diagnostic ? diagnostic : "");
    }
    *count = n;
    return 0;
}

void handle_hook_ses(struct http_request *req, struct http_response *resp)
{
    const struct config *cfg = req->app->cfg;
    if (!cfg->ses_key) {
        answer(resp, 404, "the SES webhook is off: MUSTER_SES_CERT is not set");
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        answer(resp, 400, "the body is not a JSON object (an SNS message)");
        return;
    }
    char problem[200] = "";
    const char *type = json_text(doc, "Type");
    const char *version = json_text(doc, "SignatureVersion");
    const char *signature_b64 = json_text(doc, "Signature");
    const char *timestamp = json_text(doc, "Timestamp");
    const char *topic = json_text(doc, "TopicArn");
    const char *missing = NULL;
    const char *parts[SNS_MAX_FIELDS * 4];
    size_t lens[SNS_MAX_FIELDS * 4];
    size_t part_count = 0;
    unsigned char signature[1024];
    size_t signature_len = 0;
    int64_t sent_at = 0;
    if (!type ||
        (strcmp(type, "Notification") != 0 && strcmp(type, "SubscriptionConfirmation") != 0 &&
         strcmp(type, "UnsubscribeConfirmation") != 0))
        snprintf(problem, sizeof problem,
                 "Type: expected Notification, SubscriptionConfirmation or "
                 "UnsubscribeConfirmation");
    else if (!version || (strcmp(version, "1") != 0 && strcmp(version, "2") != 0))
        snprintf(problem, sizeof problem, "SignatureVersion: expected \"1\" or \"2\"");
    else if (!signature_b64 ||
             base64_decode(signature_b64, signature, sizeof signature, &signature_len) != 0)
        snprintf(problem, sizeof problem, "Signature: missing or not base64");
    else if (!timestamp || parse_sns_time(timestamp, &sent_at) != 0)
        snprintf(problem, sizeof problem,
                 "Timestamp: missing or not of the form 2026-12-05T10:00:00.000Z");
    else if ((part_count = sns_canonical(doc, type, parts, lens, &missing)) == 0)
        snprintf(problem, sizeof problem, "%s: missing or not a string", missing);
    if (problem[0]) {
        json_decref(doc);
        answer(resp, 400, problem);
        return;
    }
    enum hook_digest digest = strcmp(version, "1") == 0 ? HOOK_DIGEST_SHA1 : HOOK_DIGEST_SHA256;
    if (!hook_key_verify(cfg->ses_key, digest, parts, lens, part_count, signature, signature_len)) {
        json_decref(doc);
        answer(resp, 403, "the SNS signature does not verify with MUSTER_SES_CERT's key");
        return;
    }
    if (sent_at < req->now - SNS_MAX_AGE) {
        json_decref(doc);
        answer(resp, 403, "Timestamp: more than an hour old (a replay?)");
        return;
    }
    if (cfg->ses_topic_arn && strcmp(topic, cfg->ses_topic_arn) != 0) {
        json_decref(doc);
        answer(resp, 403, "TopicArn: not the topic MUSTER_SES_TOPIC_ARN names");
        return;
    }
    if (strcmp(type, "Notification") != 0) {
        char url[600];
        char topic_q[300];
        if (strcmp(type, "SubscriptionConfirmation") == 0) {
            log_warn("hook.ses_subscription",
                     "topic=%s subscribe_url=%s action=\"visit the URL to confirm the "
                     "subscription\"",
                     log_quote(topic, topic_q, sizeof topic_q),
                     log_quote(json_text(doc, "SubscribeURL"), url, sizeof url));
            answer(resp, 200,
                   "logged: an operator confirms the subscription by visiting its "
                   "SubscribeURL (in the server's log)");
        } else {
            log_warn("hook.ses_unsubscribed", "topic=%s",
                     log_quote(topic, topic_q, sizeof topic_q));
            answer(resp, 200, "ignored: the subscription ended");
        }
        json_decref(doc);
        return;
    }
    json_t *msg = json_loads(json_text(doc, "Message"), JSON_REJECT_DUPLICATES, &jerr);
    json_decref(doc);
    if (!json_is_object(msg)) {
        json_decref(msg);
        answer(resp, 400, "Message: not a JSON object (an SES notification)");
        return;
    }
    struct hook_report *reports = calloc(HOOK_MAX_ITEMS, sizeof *reports);
    if (!reports) {
        json_decref(msg);
        answer(resp, 503, "out of memory; send the notification again");
        return;
    }
    size_t count = 0;
    size_t ignored = 0;
    int rc = ses_reports(cfg, msg, reports, &count, &ignored, problem, sizeof problem);
    json_decref(msg);
    if (rc != 0)
        answer(resp, 400, problem);
    else
        record_reports(req, resp, "ses", reports, count, ignored);
    free(reports);
}
