/*
 * assign: the assignment rules (see assign.h), shared by the one-click path
 * (assigner.c) and anything else that must predict an assignment.
 */
#include "campaign/assign.h"

#include <string.h>

#include "campaign/campaign.h"

int assign_has_room(const struct assign_target *t)
{
    return t->open && (t->cap < 0 || t->assigned < t->cap);
}

int assign_find(const struct assign_target *ts, size_t n, const char *key)
{
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(ts[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* The fallback order after `after` (wrapping), then the fewest assignments. */
static int pick_open(const struct campaign *c, const struct assign_target *ts, size_t n,
                     const char *after)
{
    size_t fb = c->fallback.count;
    if (after && fb) {
        size_t start = 0;
        for (size_t i = 0; i < fb; i++)
            if (strcmp(c->fallback.items[i], after) == 0)
                start = i + 1;
        for (size_t k = 0; k < fb; k++) {
            int idx = assign_find(ts, n, c->fallback.items[(start + k) % fb]);
            if (idx >= 0 && assign_has_room(&ts[idx]))
                return idx;
        }
    }
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (assign_has_room(&ts[i]) && (best < 0 || ts[i].assigned < ts[best].assigned))
            best = (int)i;
    return best;
}

struct assign_choice assign_pick(const struct campaign *c, const struct assign_target *ts,
                                 size_t n, int current, const char *chosen)
{
    struct assign_choice r = {-1, 0, 0};
    if (c->assignment == ASSIGN_ALL)
        return r;
    if (current >= 0 && ts[current].open) {
        r.index = current; /* sticky, even when the cap was lowered since */
        return r;
    }
    if (current >= 0) {
        r.rerouted = 1;
        r.index = pick_open(c, ts, n, ts[current].key);
    } else if (c->assignment == ASSIGN_CHOOSE && chosen && *chosen) {
        int want = assign_find(ts, n, chosen);
        r.index = want >= 0 && assign_has_room(&ts[want]) ? want : pick_open(c, ts, n, chosen);
    } else {
        r.index = pick_open(c, ts, n, NULL);
    }
    r.changed = r.index >= 0;
    return r;
}
