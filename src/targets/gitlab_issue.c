/*
 * gitlab_issue: the prefilled "new issue" URL of a GitLab project,
 *   PROJECT_URL/-/issues/new?issue[title]=T&issue[description]=B
 * The brackets of the parameter names stay literal, as GitLab documents them.
 * The project URL is the organizer's and copied as it is, so it must be an
 * http(s) URL without query, fragment, spaces or control bytes; trailing
 * slashes are dropped so the path does not read "//-/".
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/i18n.h"
#include "core/banned.h"

static int gitlab_issue_build(const struct target_spec *t, const struct target_message *msg,
                              const struct template_vars *vars, const char *instance,
                              struct buf *url)
{
    const char *p = t->project_url;
    if (!p)
        return -1;
    size_t scheme = strncmp(p, "https://", 8) == 0 ? 8 : strncmp(p, "http://", 7) == 0 ? 7 : 0;
    size_t len = strlen(p);
    while (len > scheme && p[len - 1] == '/')
        len--;
    if (scheme == 0 || len == scheme || !target_url_bytes_safe(p, len) || memchr(p, '?', len) ||
        memchr(p, '#', len))
        return -1;
    buf_append(url, p, len);
    buf_puts(url, "/-/issues/new");
    target_put_param(url, '?', "issue[title]", msg->title);
    target_put_param(url, '&', "issue[description]", msg->body);
    return buf_failed(url) ? -1 : TARGET_REDIRECT;
}

const struct target_kind_ops target_gitlab_issue_ops = {
    .kind = TARGET_GITLAB_ISSUE,
    .build = gitlab_issue_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 0,
               .why = N_("GitLab and the proxies in front of it refuse request lines much past "
                         "8 KB.")},
    .open_label = N_("Open the prefilled issue on GitLab"),
};
