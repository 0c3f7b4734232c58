/*
 * group_commit: many callers' writes in one durable transaction. Callers
 * submit jobs; a writer thread with its own connection (synchronous=FULL)
 * opens a transaction, runs every job waiting, commits once (one fsync for
 * the group), then tells each caller its job's result. A group in which a job
 * fails runs once more with each job under a savepoint, so that a failing job
 * undoes only itself. On PostgreSQL a job's writes go with the next job's
 * first statement (store.h), so a pledge costs about one round trip. Under
 * load the groups grow by themselves; alone, a job waits for one commit. Used
 * for pledges: a pledge is answered only after its commit is on disk.
 */
#ifndef MUSTER_STORE_GROUP_COMMIT_H
#define MUSTER_STORE_GROUP_COMMIT_H

#include <stddef.h>

struct store;
struct group_commit;

/* Runs inside the open transaction; returns 0 or an error code for the job.
 * It may run twice (a group whose transaction failed is run once more) and
 * must change nothing but the store. */
typedef int (*group_job_fn)(struct store *st, void *arg);
/* Called once per job after the commit (from the writer thread): rc is the
 * job's result, or -1 when the transaction failed to commit. */
typedef void (*group_done_fn)(void *arg, int rc);

struct group_commit *group_commit_start(const char *db_path, char *err, size_t err_len);
/* Queues a job; returns -1 when stopping (then done is not called). */
int group_commit_submit(struct group_commit *g, group_job_fn job, group_done_fn done, void *arg);
/* Finishes every queued job and stops the writer; later submits fail (-1).
 * The struct stays valid for them until group_commit_free. */
void group_commit_stop(struct group_commit *g);
void group_commit_free(struct group_commit *g);

#endif
