/*
 * router: matches a request against the route table (routes.c). Patterns are
 * data: literal segments and ":name" segments that capture one non-empty
 * segment. Captured segments point into a per-request copy of the path.
 */
#include "http/http.h"

#include <string.h>

static int segment_end(const char *s)
{
    int n = 0;
    while (s[n] && s[n] != '/')
        n++;
    return n;
}

/* Matches path against pattern; params receive pointers into scratch, a
 * writable copy of path of the same length. */
static int match(const char *pattern, const char *path, char *scratch, const char **params,
                 size_t *count)
{
    const char *p = pattern, *u = path;
    size_t n = 0;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return 0;
        p++;
        u++;
        int pl = segment_end(p), ul = segment_end(u);
        if (*p == ':') {
            if (ul == 0 || n >= HTTP_MAX_PARAMS)
                return 0;
            char *seg = scratch + (u - path);
            seg[ul] = '\0';
            params[n++] = seg;
        } else if (pl != ul || strncmp(p, u, (size_t)pl) != 0) {
            return 0;
        }
        p += pl;
        u += ul;
    }
    if (*p || *u)
        return 0;
    *count = n;
    return 1;
}

const struct route *http_route_match(struct http_request *req, int *path_known)
{
    static __thread char scratch[2048];
    size_t len = strlen(req->path);
    *path_known = 0;
    if (len >= sizeof scratch)
        return NULL;
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    for (size_t i = 0; i < http_route_count; i++) {
        const struct route *r = &http_routes[i];
        memcpy(scratch, req->path, len + 1);
        const char *params[HTTP_MAX_PARAMS];
        size_t count = 0;
        if (!match(r->pattern, req->path, scratch, params, &count))
            continue;
        if (strcmp(r->method, method) != 0) {
            *path_known = 1;
            continue;
        }
        for (size_t k = 0; k < count; k++)
            req->params[k] = params[k];
        req->param_count = count;
        return r;
    }
    return NULL;
}
