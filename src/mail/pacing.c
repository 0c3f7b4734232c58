/*
 * pacing: the domain limits and one sender's state against them (see
 * pacing.h). The rules are parsed into groups; a hash table maps each domain
 * of a group to the group's one state, and each other domain, when first
 * seen, to a state of its own with the `*` limits.
 */
#include "mail/pacing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

#include "core/banned.h"

#define DOMAIN_MAX 253
#define FILE_MAX (1024 * 1024)
#define CONNECTIONS_MAX 1000
#define RATE_MAX 1000000.0
#define LEVEL_MAX 16

/* Starting points for a large sender of opted-in mail, not the providers'
 * promises (docs/DELIVERABILITY.md has the table). */
static const char builtin_defaults[] =
    "gmail.com,googlemail.com connections=20 rate=50\n"
    "outlook.com,hotmail.com,live.com,msn.com connections=10 rate=20\n"
    "yahoo.com,ymail.com,aol.com,yahoo.co.uk,yahoo.fr,yahoo.de connections=10 rate=20\n"
    "icloud.com,me.com,mac.com connections=10 rate=20\n"
    "gmx.de,gmx.net,gmx.com,web.de connections=10 rate=20\n"
    "*\n";

struct pacing_domain {
    char *name;      /* the group's domains, comma-separated, or the one domain */
    int connections; /* 0: no limit */
    double rate;     /* configured, 0: no limit */
    size_t route;
    /* the rate in force: rate, or lower after a backoff (0: no limit) */
    double current;
    double ceiling; /* what recovery climbs back to */
    double tokens;
    int64_t refilled_ms;
    int in_flight;
    int level;
    int64_t paused_until_ms;
    int64_t step_ms; /* when the last backoff step began, 0 none */
    /* the observed rate, over windows of about a second */
    int64_t window_ms;
    int window_count;
    double observed;
    uint64_t tag;
};

/* One rule as parsed, before the file's rules are laid over the defaults. */
struct rule {
    char **domains; /* NULL for `*` */
    size_t ndomains;
    int connections;
    double rate;
    char *relay; /* NULL: route 0 */
    int line;
};

struct rules {
    struct rule *v;
    size_t n, cap;
};

struct slot {
    char *domain; /* owned by the slot */
    struct pacing_domain *state;
};

struct pacing {
    struct pacing_domain **states; /* every state, owned here */
    size_t nstates, capstates;
    struct slot *table;
    size_t table_cap, table_used;
    struct pacing_domain wildcard; /* the `*` limits, copied into each new state */
    char **relays;                 /* relays[r - 1] for route r */
    int *relay_connections;
    size_t nrelays;
};

/* ---- parsing ---- */

static void rule_free(struct rule *r)
{
    for (size_t i = 0; i < r->ndomains; i++)
        free(r->domains[i]);
    free(r->domains);
    free(r->relay);
    memset(r, 0, sizeof *r);
}

static void rules_free(struct rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        rule_free(&rs->v[i]);
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

static int rules_push(struct rules *rs, struct rule *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        struct rule *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return -1;
        rs->v = v;
        rs->cap = cap;
    }
    rs->v[rs->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

/* A domain as a rule may name it: letters, digits, '-' and '.', labels not
 * empty, at most 253 characters. Lowercased in place. */
static int domain_valid(char *d)
{
    size_t len = strlen(d);
    if (len == 0 || len > DOMAIN_MAX || d[0] == '.' || d[len - 1] == '.' || strstr(d, ".."))
        return 0;
    for (char *p = d; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return 0;
    }
    return 1;
}

/* A plain smtp://host:port relay: no login, no TLS (the pipelining client). */
static int relay_valid(const char *url)
{
    if (strncasecmp(url, "smtp://", 7) != 0)
        return 0;
    const char *a = url + 7;
    size_t len = strcspn(a, "/?#");
    if (len == 0 || memchr(a, '@', len))
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        char what_[200];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        snprintf(err, err_len, "%s:%d: %s", name, line, what_);                                    \
        goto fail;                                                                                 \
    } while (0)

/* One non-blank line, comments removed, into r. */
static int parse_rule(char *text, const char *name, int line, struct rule *r, char *err,
                      size_t err_len)
{
    char *save = NULL;
    char *tok = strtok_r(text, " \t", &save);
    r->line = line;
    if (strcmp(tok, "*") != 0) {
        char *dsave = NULL;
        for (char *d = strtok_r(tok, ",", &dsave); d; d = strtok_r(NULL, ",", &dsave)) {
            if (strcmp(d, "*") == 0)
                FAIL("'*' stands alone, not in a list of domains");
            if (!domain_valid(d))
                FAIL("'%.80s' is not a domain", d);
            for (size_t i = 0; i < r->ndomains; i++)
                if (strcmp(r->domains[i], d) == 0)
                    FAIL("%.80s is listed twice", d);
            char **v = realloc(r->domains, (r->ndomains + 1) * sizeof *v);
            if (!v)
                FAIL("out of memory");
            r->domains = v;
            if (!(r->domains[r->ndomains] = strdup(d)))
                FAIL("out of memory");
            r->ndomains++;
        }
        if (r->ndomains == 0)
            FAIL("a rule begins with its domains (comma-separated) or '*'");
    }
    int seen_conn = 0, seen_rate = 0;
    while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            FAIL("expected connections=N, rate=R or relay=smtp://host:port, got '%.80s'", tok);
        *eq = '\0';
        const char *key = tok, *value = eq + 1;
        char *end = NULL;
        if (strcmp(key, "connections") == 0) {
            if (seen_conn++)
                FAIL("connections given twice");
            errno = 0;
            long v = strtol(value, &end, 10);
            if (errno || *end || end == value || v < 1 || v > CONNECTIONS_MAX || value[0] == '+' ||
                value[0] == '-')
                FAIL("connections: expected a whole number from 1 to %d, got '%.40s'",
                     CONNECTIONS_MAX, value);
            r->connections = (int)v;
        } else if (strcmp(key, "rate") == 0) {
            if (seen_rate++)
                FAIL("rate given twice");
            int digits = 0, dots = 0;
            for (const char *p = value; *p; p++) {
                if (*p >= '0' && *p <= '9')
                    digits++;
                else if (*p == '.' && !dots)
                    dots++;
                else
                    digits = -1000;
            }
            errno = 0;
            double v = digits > 0 ? strtod(value, &end) : -1;
            if (digits <= 0 || errno || *end || !(v >= 0 && v <= RATE_MAX))
                FAIL("rate: expected messages per second from 0 (no limit) to %.0f, got '%.40s'",
                     RATE_MAX, value);
            r->rate = v;
        } else if (strcmp(key, "relay") == 0) {
            if (r->relay)
                FAIL("relay given twice");
            if (!relay_valid(value))
                FAIL("relay: expected a plain smtp://host:port URL (no login, no TLS), got "
                     "'%.80s'",
                     value);
            if (!(r->relay = strdup(value)))
                FAIL("out of memory");
        } else {
            FAIL("unknown setting '%.40s' (expected connections, rate or relay)", key);
        }
    }
    return 0;
fail:
    rule_free(r);
    return -1;
}

static int rules_parse(const char *text, size_t len, const char *name, struct rules *rs, char *err,
                       size_t err_len)
{
    int line = 0;
    size_t off = 0;
    if (len > FILE_MAX)
        FAIL("larger than %d bytes", FILE_MAX);
    while (off < len) {
        line++;
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
        char buf[4096];
        if (l >= sizeof buf)
            FAIL("line longer than %zu characters", sizeof buf - 1);
        memcpy(buf, text + off, l);
        buf[l] = '\0';
        off += l + (nl ? 1 : 0);
        if (memchr(buf, '\0', l))
            FAIL("a NUL byte");
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        for (char *p = buf; *p; p++) {
            if (*p == '\r' && p[1] == '\0')
                *p = '\0';
            else if ((unsigned char)*p < 0x20 && *p != '\t')
                FAIL("a control character");
        }
        if (buf[strspn(buf, " \t")] == '\0')
            continue;
        struct rule r = {0};
        if (parse_rule(buf, name, line, &r, err, err_len) != 0)
            return -1;
        /* a domain (or `*`) has one rule */
        for (size_t i = 0; i < rs->n; i++) {
            struct rule *o = &rs->v[i];
            if (!r.domains && !o->domains) {
                rule_free(&r);
                FAIL("a second '*' rule (the first is on line %d)", o->line);
            }
            for (size_t a = 0; a < r.ndomains; a++)
                for (size_t b = 0; b < o->ndomains; b++)
                    if (strcmp(r.domains[a], o->domains[b]) == 0) {
                        char d[DOMAIN_MAX + 1];
                        snprintf(d, sizeof d, "%s", r.domains[a]);
                        rule_free(&r);
                        FAIL("%.80s already has a rule (line %d)", d, o->line);
                    }
        }
        if (rules_push(rs, &r) != 0) {
            rule_free(&r);
            FAIL("out of memory");
        }
    }
    return 0;
fail:
    return -1;
}

#undef FAIL

/* ---- the table of domains ---- */

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static struct slot *slot_find(struct pacing *p, const char *domain)
{
    size_t mask = p->table_cap - 1;
    for (size_t i = (size_t)hash_of(domain) & mask;; i = (i + 1) & mask)
        if (!p->table[i].domain || strcmp(p->table[i].domain, domain) == 0)
            return &p->table[i];
}

static int table_grow(struct pacing *p)
{
    size_t cap = p->table_cap ? p->table_cap * 2 : 64;
    struct slot *old = p->table;
    size_t old_cap = p->table_cap;
    p->table = calloc(cap, sizeof *p->table);
    if (!p->table) {
        p->table = old;
        return -1;
    }
    p->table_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].domain)
            *slot_find(p, old[i].domain) = old[i];
    free(old);
    return 0;
}

/* Maps domain (lowercase) to state; the caller checked it is absent. */
static int table_put(struct pacing *p, const char *domain, struct pacing_domain *state)
{
    if ((p->table_used + 1) * 10 > p->table_cap * 7 && table_grow(p) != 0)
        return -1;
    struct slot *s = slot_find(p, domain);
    if (!(s->domain = strdup(domain)))
        return -1;
    s->state = state;
    p->table_used++;
    return 0;
}

static struct pacing_domain *state_new(struct pacing *p, const char *name, int connections,
                                       double rate, size_t route)
{
    if (p->nstates == p->capstates) {
        size_t cap = p->capstates ? p->capstates * 2 : 32;
        struct pacing_domain **v = realloc(p->states, cap * sizeof *v);
        if (!v)
            return NULL;
        p->states = v;
        p->capstates = cap;
    }
    struct pacing_domain *d = calloc(1, sizeof *d);
    if (!d || !(d->name = strdup(name))) {
        free(d);
        return NULL;
    }
    d->connections = connections;
    d->rate = d->current = rate;
    d->route = route;
    d->tokens = rate > 1 ? rate : 1; /* a full bucket: one second's worth, at least 1 */
    p->states[p->nstates++] = d;
    return d;
}

/* The route of relay (NULL: 0), added when new. */
static long route_of(struct pacing *p, const char *relay, int connections)
{
    if (!relay)
        return 0;
    size_t r = 0;
    while (r < p->nrelays && strcmp(p->relays[r], relay) != 0)
        r++;
    if (r == p->nrelays) {
        char **v = realloc(p->relays, (r + 1) * sizeof *v);
        if (!v)
            return -1;
        p->relays = v;
        int *c = realloc(p->relay_connections, (r + 1) * sizeof *c);
        if (!c)
            return -1;
        p->relay_connections = c;
        if (!(p->relays[r] = strdup(relay)))
            return -1;
        p->relay_connections[r] = 0;
        p->nrelays++;
    }
    if (connections > p->relay_connections[r])
        p->relay_connections[r] = connections;
    return (long)r + 1;
}

/* 1 when one of rs's rules names domain. */
static int named_by(const struct rules *rs, const char *domain)
{
    for (size_t k = 0; rs && k < rs->n; k++)
        for (size_t j = 0; j < rs->v[k].ndomains; j++)
            if (strcmp(rs->v[k].domains[j], domain) == 0)
                return 1;
    return 0;
}

/* A rule's group: one state for its domains, less those the rules of
 * `over` name (the file's rules over a default). */
static int add_group(struct pacing *p, const struct rule *r, const struct rules *over)
{
    char name[1024] = "";
    size_t used = 0, kept = 0;
    for (size_t i = 0; i < r->ndomains; i++) {
        if (named_by(over, r->domains[i]))
            continue;
        kept++;
        size_t len = strlen(r->domains[i]);
        if (used + len + 2 < sizeof name) {
            memcpy(name + used + (used ? 1 : 0), r->domains[i], len + 1);
            if (used)
                name[used] = ',';
            used += len + (used ? 1 : 0);
        }
    }
    if (!kept)
        return 0;
    long route = route_of(p, r->relay, r->connections);
    if (route < 0)
        return -1;
    struct pacing_domain *d = state_new(p, name, r->connections, r->rate, (size_t)route);
    if (!d)
        return -1;
    for (size_t i = 0; i < r->ndomains; i++)
        if (!named_by(over, r->domains[i]) && table_put(p, r->domains[i], d) != 0)
            return -1;
    return 0;
}

void pacing_free(struct pacing *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nstates; i++) {
        free(p->states[i]->name);
        free(p->states[i]);
    }
    free(p->states);
    for (size_t i = 0; i < p->table_cap; i++)
        free(p->table[i].domain);
    free(p->table);
    for (size_t i = 0; i < p->nrelays; i++)
        free(p->relays[i]);
    free(p->relays);
    free(p->relay_connections);
    free(p);
}

struct pacing *pacing_parse(const char *text, size_t len, const char *name, char *err,
                            size_t err_len)
{
    struct rules defaults = {0}, file = {0};
    struct pacing *p = calloc(1, sizeof *p);
    if (!p || table_grow(p) != 0) {
        snprintf(err, err_len, "%s: out of memory", name);
        goto fail;
    }
    if (rules_parse(builtin_defaults, sizeof builtin_defaults - 1, "built-in defaults", &defaults,
                    err, err_len) != 0)
        goto fail;
    if (text && rules_parse(text, len, name, &file, err, err_len) != 0)
        goto fail;
    /* the `*` in force: the file's, else the default one */
    const struct rule *star = NULL;
    for (size_t i = 0; i < file.n && !star; i++)
        if (!file.v[i].domains)
            star = &file.v[i];
    for (size_t i = 0; i < defaults.n && !star; i++)
        if (!defaults.v[i].domains)
            star = &defaults.v[i];
    long route = star ? route_of(p, star->relay, star->connections) : 0;
    if (route < 0) {
        snprintf(err, err_len, "%s: out of memory", name);
        goto fail;
    }
    p->wildcard.connections = star ? star->connections : 0;
    p->wildcard.rate = star ? star->rate : 0;
    p->wildcard.route = (size_t)route;
    for (size_t i = 0; i < file.n; i++)
        if (file.v[i].domains && add_group(p, &file.v[i], NULL) != 0) {
            snprintf(err, err_len, "%s: out of memory", name);
            goto fail;
        }
    for (size_t i = 0; i < defaults.n; i++)
        if (defaults.v[i].domains && add_group(p, &defaults.v[i], &file) != 0) {
            snprintf(err, err_len, "%s: out of memory", name);
            goto fail;
        }
    rules_free(&defaults);
    rules_free(&file);
    return p;
fail:
    rules_free(&defaults);
    rules_free(&file);
    pacing_free(p);
    return NULL;
}

struct pacing *pacing_load(const char *path, char *err, size_t err_len)
{
    if (!path || !*path)
        return pacing_parse(NULL, 0, "built-in defaults", err, err_len);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(FILE_MAX + 1);
    size_t len = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
    int failed = !text || ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, err_len, "%s: cannot read", path);
        free(text);
        return NULL;
    }
    struct pacing *p = pacing_parse(text, len, path, err, err_len);
    free(text);
    return p;
}

size_t pacing_route_count(const struct pacing *p)
{
    return 1 + p->nrelays;
}

const char *pacing_route_relay(const struct pacing *p, size_t r)
{
    return r >= 1 && r <= p->nrelays ? p->relays[r - 1] : NULL;
}

int pacing_route_connections(const struct pacing *p, size_t r)
{
    return r >= 1 && r <= p->nrelays ? p->relay_connections[r - 1] : 0;
}

/* ---- lookups ---- */

struct pacing_domain *pacing_lookup(struct pacing *p, const char *domain)
{
    char lower[DOMAIN_MAX + 1];
    size_t len = strlen(domain);
    if (len > DOMAIN_MAX)
        len = DOMAIN_MAX; /* not a domain any relay takes: paced as one under `*` */
    for (size_t i = 0; i < len; i++) {
        char c = domain[i];
        lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    lower[len] = '\0';
    struct slot *s = slot_find(p, lower);
    if (s->domain)
        return s->state;
    struct pacing_domain *d =
        state_new(p, lower, p->wildcard.connections, p->wildcard.rate, p->wildcard.route);
    if (!d)
        return NULL;
    if (table_put(p, lower, d) != 0)
        return NULL; /* d stays in p->states, freed with p */
    return d;
}

struct pacing_domain *pacing_lookup_address(struct pacing *p, const char *address)
{
    const char *at = strrchr(address, '@');
    return pacing_lookup(p, at ? at + 1 : "");
}

size_t pacing_domain_route(const struct pacing_domain *d)
{
    return d->route;
}

const char *pacing_domain_name(const struct pacing_domain *d)
{
    return d->name;
}

/* ---- the bucket and the backoff ---- */

static void refill(struct pacing_domain *d, int64_t now_ms)
{
    if (now_ms <= d->refilled_ms)
        return; /* still stopped by a backoff: no tokens until it ends */
    if (d->current <= 0) {
        d->refilled_ms = now_ms;
        return;
    }
    d->tokens += d->current * (double)(now_ms - d->refilled_ms) / 1000.0;
    double burst = d->current > 1 ? d->current : 1;
    if (d->tokens > burst)
        d->tokens = burst;
    d->refilled_ms = now_ms;
}

int64_t pacing_wait_ms(struct pacing_domain *d, int64_t now_ms, size_t ahead)
{
    int64_t wait = d->paused_until_ms > now_ms ? d->paused_until_ms - now_ms : 0;
    refill(d, now_ms);
    if (d->current > 0) {
        double need = (double)ahead + 1 - d->tokens;
        if (need > 0) {
            double ms = need * 1000.0 / d->current;
            wait += (int64_t)ms + ((double)(int64_t)ms < ms ? 1 : 0);
        }
    }
    if (wait == 0 && ahead == 0 && d->connections > 0 && d->in_flight >= d->connections)
        return PACING_FULL;
    return wait;
}

void pacing_start(struct pacing_domain *d, int64_t now_ms)
{
    refill(d, now_ms);
    if (d->current > 0)
        d->tokens -= 1;
    d->in_flight++;
    if (now_ms - d->window_ms >= 1000) {
        if (d->window_count > 0 && now_ms - d->window_ms < 3000)
            d->observed = d->window_count * 1000.0 / (double)(now_ms - d->window_ms);
        d->window_ms = now_ms;
        d->window_count = 0;
    }
    d->window_count++;
}

static void back_off(struct pacing_domain *d, int code, int64_t now_ms)
{
    double base = d->current > 0     ? d->current
                  : d->observed >= 1 ? d->observed
                                     : PACING_UNLIMITED_START_RATE;
    if (d->ceiling <= 0)
        d->ceiling = d->rate > 0 ? d->rate : base;
    d->current = base / 2 < 1 ? 1 : base / 2;
    if (d->level < LEVEL_MAX)
        d->level++;
    int64_t wait_s = PACING_BACKOFF_FIRST_S;
    for (int i = 1; i < d->level && wait_s < PACING_BACKOFF_MAX_S; i++)
        wait_s *= 2;
    if (wait_s > PACING_BACKOFF_MAX_S)
        wait_s = PACING_BACKOFF_MAX_S;
    d->paused_until_ms = now_ms + wait_s * 1000;
    d->step_ms = now_ms;
    d->tokens = 0;
    d->refilled_ms = d->paused_until_ms;
    char q[300];
    log_warn("pacing.backoff", "domain=%s code=%d rate=%.1f wait_s=%lld level=%d",
             log_quote(d->name, q, sizeof q), code, d->current, (long long)wait_s, d->level);
}

/* A success after the stop: the level decays and the rate climbs back by a
 * twentieth of what it climbs to, per message. */
static void recover(struct pacing_domain *d, int64_t now_ms)
{
    if (d->ceiling <= 0 || now_ms < d->paused_until_ms)
        return;
    if (d->level > 0)
        d->level--;
    double step = d->ceiling / 20 > 0.5 ? d->ceiling / 20 : 0.5;
    d->current += step;
    if (d->current >= d->ceiling && d->level == 0) {
        d->current = d->rate; /* back to the configured limit, or none */
        d->ceiling = 0;
    } else if (d->current > d->ceiling) {
        d->current = d->ceiling;
    }
}

void pacing_done(struct pacing_domain *d, int64_t started_ms, int64_t now_ms, int sent,
                 int refused_code)
{
    if (d->in_flight > 0)
        d->in_flight--;
    if (sent) {
        recover(d, now_ms);
        return;
    }
    int throttling = refused_code == 421 || refused_code == 450 || refused_code == 451;
    if (throttling && !(d->step_ms && started_ms < d->step_ms))
        back_off(d, refused_code, now_ms);
}

double pacing_domain_rate(const struct pacing_domain *d)
{
    return d->current;
}

int pacing_domain_level(const struct pacing_domain *d)
{
    return d->level;
}

int64_t pacing_domain_paused_until(const struct pacing_domain *d)
{
    return d->paused_until_ms;
}

int pacing_domain_in_flight(const struct pacing_domain *d)
{
    return d->in_flight;
}

void pacing_domain_set_tag(struct pacing_domain *d, uint64_t tag)
{
    d->tag = tag;
}

uint64_t pacing_domain_tag(const struct pacing_domain *d)
{
    return d->tag;
}
