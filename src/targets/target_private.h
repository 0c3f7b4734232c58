/*
 * target_private: what the per-kind files (github_issue.c, gitlab_issue.c,
 * mailto.c, call.c, share.c, web.c) share with target.c and nobody else.
 * Each kind is one struct target_kind_ops: its build function, its
 * documented limits and the label of its button. target.c owns the table
 * (one row per kind) and the checks common to all kinds (UTF-8 of the
 * message, the URL length limit, the final byte check).
 */
#ifndef MUSTER_TARGETS_TARGET_PRIVATE_H
#define MUSTER_TARGETS_TARGET_PRIVATE_H

#include "targets/target.h"

/*
 * build appends the URL for t to url (a scratch buffer owned by target.c) and
 * returns a target_outcome, or -1 on a failure (buffer, invalid target field,
 * template). A kind that counts characters checks limits.max_text_chars
 * itself; target.c checks limits.max_url_bytes on the result, so build never
 * has to.
 */
struct target_kind_ops {
    enum target_kind kind; /* the row of target.c's kind_table it belongs in */
    int (*build)(const struct target_spec *t, const struct target_message *msg,
                 const struct template_vars *vars, const char *instance, struct buf *url);
    struct target_limits limits;
    const char *open_label; /* the action page's button for the URL */
};

extern const struct target_kind_ops target_github_issue_ops;
extern const struct target_kind_ops target_gitlab_issue_ops;
extern const struct target_kind_ops target_email_ops;
extern const struct target_kind_ops target_call_ops;
extern const struct target_kind_ops target_mastodon_ops;
extern const struct target_kind_ops target_bluesky_ops;
extern const struct target_kind_ops target_x_ops;
extern const struct target_kind_ops target_web_ops;

/* The kind's row of target.c's table, or NULL for a value that is no kind. */
const struct target_kind_ops *target_kind_lookup(enum target_kind kind);

/* Appends sep, name (literally: the caller passes a safe constant) '=' and the
 * percent-encoded value ("" when NULL). Returns 0 or -1. */
int target_put_param(struct buf *url, char sep, const char *name, const char *value);

/* 1 when s is non-empty and every byte is printable ASCII other than space
 * (0x21..0x7e): safe to copy into a URL or a Location header as it is. */
int target_url_bytes_safe(const char *s, size_t len);

#endif
