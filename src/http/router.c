/*
 * router: matches a request against a route table (the application's,
 * src/app/routes.c, handed over by the server). Patterns are data: literal
 * segments and ":name" segments that capture one non-empty segment. Captured
 * segments point into a per-request copy of the path.
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

struct span {
    size_t off, len;
};

/* Matches path against pattern; the ":name" segments' places in path go to
 * params. Writes nothing, so one copy of the path serves every route tried. */
static int match(const char *pattern, const char *path, struct span *params, size_t *count)
{
    const char *p = pattern, *u = path;
    size_t n = 0;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return 0;
        p++;
        u++;
        if (*p != ':' && *p != *u) /* most routes differ at once */
            return 0;
        int pl = segment_end(p), ul = segment_end(u);
        if (*p == ':') {
            if (ul == 0 || n >= HTTP_MAX_PARAMS)
                return 0;
            params[n++] = (struct span){(size_t)(u - path), (size_t)ul};
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

const struct route *http_route_match(const struct route *routes, size_t route_count,
                                     struct http_request *req, int *path_known)
{
    static __thread char scratch[2048];
    size_t len = strlen(req->path);
    *path_known = 0;
    if (len >= sizeof scratch)
        return NULL;
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    for (size_t i = 0; i < route_count; i++) {
        const struct route *r = &routes[i];
        struct span params[HTTP_MAX_PARAMS];
        size_t count = 0;
        if (!match(r->pattern, req->path, params, &count))
            continue;
        if (strcmp(r->method, method) != 0) {
            *path_known = 1;
            continue;
        }
        /* The captured segments point into a copy of the path, each ended
         * where its '/' was. */
        memcpy(scratch, req->path, len + 1);
        for (size_t k = 0; k < count; k++) {
            scratch[params[k].off + params[k].len] = '\0';
            req->params[k] = scratch + params[k].off;
        }
        req->param_count = count;
        return r;
    }
    return NULL;
}
