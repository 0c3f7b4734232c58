/*
 * bounce: reads one bounce or complaint report and says what it reports.
 * MIME is GMime's (a report's parts: RFC 3464 message/delivery-status,
 * RFC 5965 message/feedback-report, the human-readable text); the fields of
 * those parts and the text of non-standard bounces (Postfix, Exim, qmail,
 * Exchange, Yahoo, AOL, GroupWise, ...) are read here, by the small
 * functions below, which are fuzzed (fuzz/fuzz_bounce.c). Parsing only: it
 * keeps nothing and changes nothing (service/bounces.c decides).
 */
#ifndef MUSTER_MAIL_BOUNCE_H
#define MUSTER_MAIL_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "service/bounces.h"

enum bounce_format {
    BOUNCE_FORMAT_NONE, /* nothing that reports a delivery */
    BOUNCE_FORMAT_DSN,  /* RFC 3464 delivery status notification */
    BOUNCE_FORMAT_ARF,  /* RFC 5965 feedback report (a complaint) */
    BOUNCE_FORMAT_TEXT, /* a non-standard bounce, read from its text */
};

struct bounce_report {
    enum bounce_format format;
    /* findings (failed, delayed or complained-about recipients); an ARF
     * report whose recipient is redacted but whose return path is valid has
     * one complaint with an empty address (the return path names it) */
    size_t n;
    struct bounce_finding found[BOUNCE_FINDINGS_MAX];
    size_t recipients_reported; /* DSN recipient blocks, whatever their action */
    int looks_like_bounce;      /* from a mailer daemon, or a bounce's subject */
    int has_return_path;        /* a valid VERP token of return_path_base was found */
    int64_t return_path_outbox_id;
    int64_t return_path_supporter_id;
};

/* Reads one message (raw bytes as delivered). return_path_base is
 * MUSTER_BOUNCE_ADDRESS or NULL (no VERP lookup). 0 with *out filled (maybe
 * no finding), or -1 with a one-line reason in err when it is not a message
 * at all. */
int bounce_parse(const char *data, size_t len, const char *return_path_base,
                 struct bounce_report *out, char *err, size_t err_len);

/* The hand-written readers, each adding to out->found (up to the maximum). */
/* An RFC 3464 message/delivery-status body: per-recipient blocks with
 * Original-Recipient / Final-Recipient, Action, Status, Diagnostic-Code.
 * "failed" is permanent, "delayed" temporary, others are no finding. */
void bounce_read_dsn(const char *text, size_t len, struct bounce_report *out);
/* An RFC 5965 message/feedback-report body: each Original-Rcpt-To is a
 * complaint (Feedback-Type in the reason). Returns how many it found. */
size_t bounce_read_arf(const char *text, size_t len, struct bounce_report *out);
/* The human-readable text of a non-standard bounce, up to the copy of the
 * returned message: the addresses it names as failed, permanent unless the
 * text says delivery is still being tried. Addresses in exclude (the
 * report's own From, To, ...: NUL-separated, ending with an empty string)
 * and mailer-daemon / postmaster addresses are never findings. */
void bounce_read_text(const char *text, size_t len, const char *exclude, struct bounce_report *out);

#endif
