/*
 * flusher.h - the broker's fsync workers (DESIGN.md §5: blocking work runs on
 * worker threads that post results back to the loop).
 *
 * A job is a set of file descriptors (the caller dup()s them, the job owns
 * and closes them, so segments may roll, close or be deleted meanwhile) that
 * a worker fdatasyncs in order; the first failure stops the job. When it is
 * done the worker queues it and activates an event on the loop, whose
 * callback calls job's done(arg, rc) on the loop thread: 0, or ST_EIO.
 *
 * Jobs run on LIMIT_FLUSHER_THREADS workers in submission order (several
 * partitions sync in parallel; partition_log.c keeps at most one job per log
 * in flight, so the jobs of one log never overtake each other).
 *
 * Thread model: every function here is called on the loop thread; the
 * workers only touch the queues under flusher->mutex and the job's fds.
 */
#ifndef STRAIT_FLUSHER_H
#define STRAIT_FLUSHER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef struct log_flusher log_flusher;
typedef struct flusher_job flusher_job;

/* Runs on the loop thread when the job finished (never after a cancel). */
typedef void (*flusher_done_fn)(void *arg, int rc);

/* Starts the workers; completions are delivered on base's loop (which must
 * be notifiable: evthread_use_pthreads + evthread_make_base_notifiable). */
int log_flusher_open(struct event_base *base, log_flusher **out);

/* Stops the workers. Jobs still queued run first (their fds are synced),
 * but no done callback is called any more: close the logs first. */
void log_flusher_close(log_flusher *f);

/* Queues a job syncing fds[0..count) (ownership of the fds passes to the
 * job, also on failure: they are closed). *out identifies it for
 * log_flusher_cancel until done runs. ST_ENOMEM, else 0. */
int log_flusher_submit(log_flusher *f, const int *fds, size_t count, flusher_done_fn done,
                       void *arg, flusher_job **out);

/* Takes a job back before its done callback ran (the log closes): a job
 * still queued is run here synchronously, a running one is waited for.
 * Returns the job's result (0 or ST_EIO); done is never called for it. */
int log_flusher_cancel(log_flusher *f, flusher_job *job);

/* Jobs completed so far (successful or not): for tests and metrics. */
uint64_t log_flusher_jobs_done(const log_flusher *f);

#endif
