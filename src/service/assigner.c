/*
 * assigner: in-memory assignment with a batched click writer (see
 * assigner.h). Locks: `campaigns_lock` guards the list of campaign states;
 * each state has its own lock for its targets and assignment map; `queue_lock`
 * guards the click queue; `places_lock` the handle that takes places under
 * caps. No lock is held while another is taken, except a state's lock around
 * the queue push and around a place's take (state -> queue, state -> places,
 * never the reverse).
 */
#include "service/assigner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/assign.h"
#include "campaign/campaign.h"
#include "core/log.h"
#include "service/clicks.h"
#include "store/store.h"
#include "core/banned.h"

#define QUEUE_MAX (1u << 20) /* clicks waiting for the writer; pushers wait past it */
#define GATHER_NS (20 * 1000 * 1000)

struct campaign_state {
    int64_t id;
    int64_t revision;
    int loaded;
    pthread_mutex_t lock;
    struct assign_target *targets; /* owned, count of them */
    size_t count;
    /* supporter id -> target id, for assignments made by this process (the
     * database may not have them yet). Open addressing, power-of-two size. */
    int64_t *keys;
    int64_t *values;
    size_t slots;
    size_t used;
    struct campaign_state *next;
};

struct assigner {
    pthread_mutex_t campaigns_lock;
    struct campaign_state *campaigns;

    pthread_mutex_t queue_lock;
    pthread_cond_t queue_ready; /* the writer waits for clicks */
    pthread_cond_t queue_space; /* pushers wait for room */
    struct click_record *queue;
    size_t queued;
    size_t queue_cap;
    int stopping;

    struct store *store; /* the writer's */
    pthread_t writer;

    /* Places under caps are taken in the database (store_place_take), on a
     * handle of their own: an HTTP thread's handle is inside a read
     * snapshot. Taken with a campaign state's lock held. */
    pthread_mutex_t places_lock;
    struct store *places;
};

/* ---- the assignment map ---- */

static size_t slot_of(int64_t key, size_t slots)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (slots - 1);
}

static int64_t map_get(const struct campaign_state *cs, int64_t key)
{
    if (!cs->slots)
        return 0;
    for (size_t i = slot_of(key, cs->slots);; i = (i + 1) & (cs->slots - 1)) {
        if (cs->keys[i] == 0)
            return 0;
        if (cs->keys[i] == key)
            return cs->values[i];
    }
}

static int map_put(struct campaign_state *cs, int64_t key, int64_t value)
{
    if ((cs->used + 1) * 2 > cs->slots) {
        size_t slots = cs->slots ? cs->slots * 2 : 1024;
        int64_t *keys = calloc(slots, sizeof *keys), *values = calloc(slots, sizeof *values);
        if (!keys || !values) {
            free(keys);
            free(values);
            return -1;
        }
        for (size_t i = 0; i < cs->slots; i++) {
            if (!cs->keys[i])
                continue;
            size_t j = slot_of(cs->keys[i], slots);
            while (keys[j])
                j = (j + 1) & (slots - 1);
            keys[j] = cs->keys[i];
            values[j] = cs->values[i];
        }
        free(cs->keys);
        free(cs->values);
        cs->keys = keys;
        cs->values = values;
        cs->slots = slots;
    }
    size_t i = slot_of(key, cs->slots);
    while (cs->keys[i] && cs->keys[i] != key)
        i = (i + 1) & (cs->slots - 1);
    if (!cs->keys[i])
        cs->used++;
    cs->keys[i] = key;
    cs->values[i] = value;
    return 0;
}

/* ---- campaign states ---- */

static struct campaign_state *state_for(struct assigner *a, int64_t id)
{
    pthread_mutex_lock(&a->campaigns_lock);
    struct campaign_state *cs = a->campaigns;
    while (cs && cs->id != id)
        cs = cs->next;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (cs) {
            cs->id = id;
            pthread_mutex_init(&cs->lock, NULL);
            cs->next = a->campaigns;
            a->campaigns = cs;
        }
    }
    pthread_mutex_unlock(&a->campaigns_lock);
    return cs;
}

/* Reloads open/cap/order from the store; keeps the counts this process holds
 * for targets it knows (they include clicks not yet written), except under a
 * cap, where the database's places are the authority (every process takes
 * them there, at once). */
static int state_reload(struct campaign_state *cs, struct store *st, int64_t revision)
{
    struct target_list rows;
    if (store_targets(st, cs->id, &rows) != 0)
        return -1;
    struct assign_target *fresh = calloc(rows.count ? rows.count : 1, sizeof *fresh);
    if (!fresh) {
        target_list_release(&rows);
        return -1;
    }
    for (size_t i = 0; i < rows.count; i++) {
        struct assign_target *t = &fresh[i];
        t->id = rows.rows[i].id;
        snprintf(t->key, sizeof t->key, "%s", rows.rows[i].key);
        t->open = rows.rows[i].open && !rows.rows[i].removed;
        t->cap = rows.rows[i].cap;
        t->assigned = rows.rows[i].assigned;
        for (size_t k = 0; cs->loaded && k < cs->count; k++)
            if (cs->targets[k].id == t->id)
                t->assigned = cs->targets[k].assigned;
        if (t->cap >= 0)
            t->assigned = rows.rows[i].places;
    }
    free(cs->targets);
    cs->targets = fresh;
    cs->count = rows.count;
    cs->revision = revision;
    cs->loaded = 1;
    target_list_release(&rows);
    return 0;
}

/* ---- the queue and its writer ---- */

static int queue_push(struct assigner *a, const struct click_record *r)
{
    pthread_mutex_lock(&a->queue_lock);
    while (a->queued >= QUEUE_MAX && !a->stopping)
        pthread_cond_wait(&a->queue_space, &a->queue_lock);
    if (a->queued == a->queue_cap) {
        size_t cap = a->queue_cap ? a->queue_cap * 2 : 4096;
        struct click_record *q = realloc(a->queue, cap * sizeof *q);
        if (!q) {
            pthread_mutex_unlock(&a->queue_lock);
            return -1;
        }
        a->queue = q;
        a->queue_cap = cap;
    }
    a->queue[a->queued++] = *r;
    if (a->queued == 1) /* the writer sleeps only on an empty queue */
        pthread_cond_signal(&a->queue_ready);
    pthread_mutex_unlock(&a->queue_lock);
    return 0;
}

static void *writer_main(void *arg)
{
    struct assigner *a = arg;
    struct click_record *batch = NULL;
    size_t batch_cap = 0;
    for (;;) {
        pthread_mutex_lock(&a->queue_lock);
        while (a->queued == 0 && !a->stopping)
            pthread_cond_wait(&a->queue_ready, &a->queue_lock);
        if (a->queued == 0 && a->stopping) {
            pthread_mutex_unlock(&a->queue_lock);
            break;
        }
        if (!a->stopping && a->queued < 256) {
            /* Let a group gather: clicks are already answered, so this costs
             * no latency, and it saves a wakeup and a commit per click. Every
             * commit also makes each HTTP thread's next read snapshot reload
             * the pages it reads; 20 ms measured 5-15 % more clicks per
             * second than 2 ms (docs/PERFORMANCE.md). */
            pthread_mutex_unlock(&a->queue_lock);
            struct timespec gather = {0, GATHER_NS};
            nanosleep(&gather, NULL);
            pthread_mutex_lock(&a->queue_lock);
        }
        /* Take the whole queue: under load, batches grow by themselves. */
        struct click_record *taken = a->queue;
        size_t n = a->queued, cap = a->queue_cap;
        a->queue = batch;
        a->queue_cap = batch_cap;
        a->queued = 0;
        pthread_cond_broadcast(&a->queue_space);
        pthread_mutex_unlock(&a->queue_lock);
        batch = taken;
        batch_cap = cap;
        int tries = 0;
        while (clicks_record(a->store, batch, n) != 0) {
            /* Keep the clicks and try again; the store logged why. */
            if (++tries % 10 == 1)
                log_error("clicks.write_failed", "batch=%zu tries=%d", n, tries);
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
            if (tries >= 200) {
                log_error("clicks.lost", "batch=%zu", n);
                break;
            }
        }
    }
    free(batch);
    return NULL;
}

struct assigner *assigner_start(const char *db_path, char *err, size_t err_len)
{
    struct assigner *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->campaigns_lock, NULL);
    pthread_mutex_init(&a->queue_lock, NULL);
    pthread_cond_init(&a->queue_ready, NULL);
    pthread_cond_init(&a->queue_space, NULL);
    pthread_mutex_init(&a->places_lock, NULL);
    if (store_open(db_path, &a->store, err, err_len) != 0) {
        free(a);
        return NULL;
    }
    if (store_open(db_path, &a->places, err, err_len) != 0) {
        store_close(a->store);
        free(a);
        return NULL;
    }
    if (store_set_durable(a->store, 0) != 0 || store_set_durable(a->places, 0) != 0 ||
        pthread_create(&a->writer, NULL, writer_main, a) != 0) {
        snprintf(err, err_len, "cannot start the click writer");
        store_close(a->places);
        store_close(a->store);
        free(a);
        return NULL;
    }
    return a;
}

void assigner_stop(struct assigner *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->queue_lock);
    a->stopping = 1;
    pthread_cond_broadcast(&a->queue_ready);
    pthread_cond_broadcast(&a->queue_space);
    pthread_mutex_unlock(&a->queue_lock);
    pthread_join(a->writer, NULL);
    store_close(a->store);
    store_close(a->places);
    while (a->campaigns) {
        struct campaign_state *next = a->campaigns->next;
        pthread_mutex_destroy(&a->campaigns->lock);
        free(a->campaigns->targets);
        free(a->campaigns->keys);
        free(a->campaigns->values);
        free(a->campaigns);
        a->campaigns = next;
    }
    free(a->queue);
    pthread_mutex_destroy(&a->campaigns_lock);
    pthread_mutex_destroy(&a->queue_lock);
    pthread_mutex_destroy(&a->places_lock);
    pthread_cond_destroy(&a->queue_ready);
    pthread_cond_destroy(&a->queue_space);
    free(a);
}

/* The decision behind a click, a review, a HEAD and a report. reported: the
 * key of a target to treat as closed for this supporter (a report), or NULL. */
static int decide(struct assigner *a, struct store *st, const struct campaign *c,
                  const struct campaign_row *row, const struct supporter *s,
                  enum assigner_mode mode, const char *reported, int64_t now,
                  struct click_outcome *out)
{
    struct campaign_state *cs = state_for(a, row->id);
    if (!cs)
        return -1;
    pthread_mutex_lock(&cs->lock);
    if ((!cs->loaded || cs->revision != row->revision) &&
        state_reload(cs, st, row->revision) != 0) {
        pthread_mutex_unlock(&cs->lock);
        return -1;
    }
    int64_t current_id = map_get(cs, s->id);
    if (!current_id)
        current_id = s->assigned_target;
    int current = -1;
    for (size_t i = 0; current_id && i < cs->count; i++)
        if (cs->targets[i].id == current_id)
            current = (int)i;
    /* A report moves the supporter only away from the target they are at. */
    int hidden = -1;
    if (reported && current >= 0 && strcmp(cs->targets[current].key, reported) == 0 &&
        cs->targets[current].open) {
        hidden = current;
        cs->targets[hidden].open = 0; /* closed for this supporter, for this pick */
    }
    struct assign_choice choice;
    /* A capped target's place is taken in the database first; when another
     * server filled it meanwhile, the pick is made again without it. HEAD
     * takes nothing: it only says where a click would go. */
    for (size_t tries = 0;; tries++) {
        choice = assign_pick(c, cs->targets, cs->count, current, s->chosen_target);
        if (mode == ASSIGNER_PEEK || choice.index < 0 || !choice.changed ||
            cs->targets[choice.index].cap < 0)
            break;
        int taken = 0;
        int64_t previous = current >= 0 ? cs->targets[current].id : 0;
        pthread_mutex_lock(&a->places_lock);
        int rc = store_place_take(a->places, cs->targets[choice.index].id, s->id, previous, &taken);
        pthread_mutex_unlock(&a->places_lock);
        if (rc != 0 || tries >= cs->count) {
            if (hidden >= 0)
                cs->targets[hidden].open = 1;
            pthread_mutex_unlock(&cs->lock);
            return -1;
        }
        if (taken)
            break;
        cs->targets[choice.index].assigned = cs->targets[choice.index].cap; /* full */
    }
    if (hidden >= 0)
        cs->targets[hidden].open = 1;
    if (reported && choice.index < 0 && current >= 0) {
        /* Nowhere else to go: the supporter stays where they are. */
        choice.index = current;
        choice.changed = choice.rerouted = 0;
    }
    struct click_record rec = {row->id, s->id, 0, 0, now, 0, choice.rerouted, 0};
    rec.assignment_only = mode != ASSIGNER_CLICK;
    memset(out, 0, sizeof *out);
    if (choice.index >= 0) {
        struct assign_target *t = &cs->targets[choice.index];
        if (choice.changed && mode != ASSIGNER_PEEK) {
            if (map_put(cs, s->id, t->id) != 0) {
                pthread_mutex_unlock(&cs->lock);
                return -1;
            }
            t->assigned++;
            if (choice.rerouted && current >= 0 && cs->targets[current].assigned > 0)
                cs->targets[current].assigned--;
            rec.assigned = 1;
            rec.previous_target = current >= 0 ? cs->targets[current].id : 0;
        }
        rec.target_id = t->id;
        out->target_id = t->id;
        snprintf(out->target_key, sizeof out->target_key, "%s", t->key);
        out->rerouted = choice.rerouted;
    }
    /* Pushed under the state lock so the writer sees clicks in decision order.
     * A review or a report writes only a new assignment; HEAD writes nothing. */
    int record = mode == ASSIGNER_CLICK || (mode == ASSIGNER_REVIEW && rec.assigned);
    int rc = record ? queue_push(a, &rec) : 0;
    pthread_mutex_unlock(&cs->lock);
    return rc;
}

int64_t assigner_assigned(struct assigner *a, int64_t campaign_id, int64_t supporter_id)
{
    struct campaign_state *cs = state_for(a, campaign_id);
    if (!cs)
        return 0;
    pthread_mutex_lock(&cs->lock);
    int64_t target = map_get(cs, supporter_id);
    pthread_mutex_unlock(&cs->lock);
    return target;
}

int assigner_click(struct assigner *a, struct store *st, const struct campaign *c,
                   const struct campaign_row *row, const struct supporter *s,
                   enum assigner_mode mode, int64_t now, struct click_outcome *out)
{
    return decide(a, st, c, row, s, mode, NULL, now, out);
}

int assigner_move_reporter(struct assigner *a, struct store *st, const struct campaign *c,
                           const struct campaign_row *row, const struct supporter *s,
                           const char *reported, int64_t now, struct click_outcome *out)
{
    return decide(a, st, c, row, s, ASSIGNER_REVIEW, reported, now, out);
}
