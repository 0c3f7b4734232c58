/*
 * github_issue: the prefilled "new issue" URL of a GitHub repository,
 *   https://github.com/OWNER/NAME/issues/new?title=T&body=B[&labels=L1,L2][&template=F]
 * Every value is percent-encoded; the ',' between labels stays literal because
 * GitHub splits the labels parameter on it. The repository name is copied
 * literally, so it is checked here rather than trusted.
 */
#include "targets/target_private.h"

#include <string.h>

#include "core/escape.h"
#include "core/i18n.h"
#include "core/banned.h"

/* owner/name: one '/', both sides non-empty, letters, digits, '-', '_', '.',
 * and neither side "." or ".." (they would walk the path). */
static int repo_valid(const char *repo)
{
    if (!repo)
        return 0;
    const char *slash = strchr(repo, '/');
    if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    for (const char *p = repo; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '/';
        if (!ok)
            return 0;
    }
    size_t owner = (size_t)(slash - repo);
    const char *name = slash + 1;
    if ((owner == 1 && repo[0] == '.') || (owner == 2 && repo[0] == '.' && repo[1] == '.'))
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int github_issue_build(const struct target_spec *t, const struct target_message *msg,
                              const struct template_vars *vars, const char *instance,
                              struct buf *url)
{
    if (!repo_valid(t->repo))
        return -1;
    buf_puts(url, "https://github.com/");
    buf_puts(url, t->repo);
    buf_puts(url, "/issues/new");
    target_put_param(url, '?', "title", msg->title);
    target_put_param(url, '&', "body", msg->body);
    for (size_t i = 0; i < t->labels.count; i++) {
        buf_puts(url, i == 0 ? "&labels=" : ",");
        escape_url(url, t->labels.items[i]);
    }
    if (t->issue_template && *t->issue_template)
        target_put_param(url, '&', "template", t->issue_template);
    return buf_failed(url) ? -1 : TARGET_REDIRECT;
}

const struct target_kind_ops target_github_issue_ops = {
    .kind = TARGET_GITHUB_ISSUE,
    .build = github_issue_build,
    .limits = {.max_url_bytes = 8000,
               .max_text_chars = 0,
               .why = N_("GitHub refuses longer new-issue links (414 URI Too Long) somewhere "
                         "past 8 KB.")},
    .open_label = N_("Open the prefilled issue on GitHub"),
};
