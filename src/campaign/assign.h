/*
 * assign: which target a supporter acts at. The rules (docs/CAMPAIGN.md,
 * "Assignment"): sticky once assigned while the target is open; under
 * "choose" the supporter's pick when it has room; a supporter whose target
 * closed goes to the next open target in the campaign's fallback order after
 * it, then to any open target; otherwise ("balanced") the open target with the
 * fewest assignments under its cap, ties to the first in file order. Pure
 * functions over an array of target states: the caller holds whatever lock
 * makes the counts current.
 */
#ifndef MUSTER_CAMPAIGN_ASSIGN_H
#define MUSTER_CAMPAIGN_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

struct campaign;

struct assign_target {
    int64_t id;      /* targets.id */
    char key[65];    /* the id in the campaign file */
    int open;        /* open and still in the campaign file */
    long cap;        /* -1: none */
    int64_t assigned;
};

/* 1 when the target is open and under its cap. */
int assign_has_room(const struct assign_target *t);
/* Index of the target with that key, or -1. */
int assign_find(const struct assign_target *ts, size_t n, const char *key);

struct assign_choice {
    int index;    /* into ts, or -1 when no open target has room */
    int rerouted; /* the current target had closed */
    int changed;  /* a new assignment (index differs from current) */
};

/* Applies the rules for a supporter currently assigned to ts[current]
 * (-1: none yet) who chose `chosen` on the pledge form (NULL or ""). Under
 * "all" nobody is assigned (index -1, changed 0). */
struct assign_choice assign_pick(const struct campaign *c, const struct assign_target *ts,
                                 size_t n, int current, const char *chosen);

#endif
