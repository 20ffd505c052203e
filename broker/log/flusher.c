/*
 * flusher.c - the fsync workers (contract in flusher.h): a FIFO of jobs
 * shared by LIMIT_FLUSHER_THREADS threads, and a done list that one loop
 * event drains.
 *
 * A job moves queued -> running -> done under flusher->mutex; the worker
 * syncs without the lock. The loop's done_cb pops one job at a time (a
 * callback may cancel or submit others), calls done and frees it. Cancel
 * (loop) removes a queued job and runs it inline, waits on `cond` while the
 * job runs, or takes it off the done list; afterwards nothing refers to it.
 */
#include "broker/log/flusher.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/partition_log_internal.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/limits.h"
#include "common/limits.h"
#include "common/log.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct flusher_job {
    int *fds;
    size_t fd_count;
    flusher_done_fn done;
    void *arg;
    int rc;                    /* 0 or ST_EIO, set by whoever ran it */
    enum job_state state;      /* under mutex */
    flusher_job *next;         /* queue or done list, under mutex */
};

struct log_flusher {
    pthread_t threads[LIMIT_FLUSHER_THREADS];
    int thread_count;
    pthread_mutex_t mutex;
    pthread_cond_t cond;       /* work queued, stop, or a job finished */
    bool stop;                 /* under mutex */
    flusher_job *queue_head, *queue_tail;   /* under mutex */
    flusher_job *done_head, *done_tail;     /* under mutex */
    uint64_t jobs_done;        /* under mutex */
    struct event *done_event;  /* activated by workers, runs done_cb on the loop */
};

/* Any thread, no lock: syncs the job's fds and closes them. */
static void job_run(flusher_job *job)
{
    uint64_t started_ns = plog_flush_clock_ns(); /* strait_broker_log_flush_* metrics */
    /* a job runs once: on a worker, or by the cancel that took it off the queue */
    INVARIANT(job->fd_count <= LIMIT_FLUSH_JOB_FDS && job->state != JOB_DONE);
    job->rc = 0;
    for (size_t i = 0; i < job->fd_count; i++) {
        if (job->rc == 0 && fdatasync(job->fds[i]) != 0) {
            log_error("log", "fsync failed (flusher) fd=%d errno=%d", job->fds[i], errno);
            job->rc = ST_EIO;
        }
        close(job->fds[i]);
    }
    job->fd_count = 0;
    plog_flush_account(started_ns);
}

static void job_free(flusher_job *job)
{
    for (size_t i = 0; i < job->fd_count; i++)
        close(job->fds[i]);
    free(job->fds);
    free(job);
}

/* Under mutex. */
static void list_push(flusher_job **head, flusher_job **tail, flusher_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

/* Under mutex: unlinks job from the list; false when it is not there. */
static bool list_remove(flusher_job **head, flusher_job **tail, flusher_job *job)
{
    flusher_job *prev = NULL;
    for (flusher_job *j = *head; j; prev = j, j = j->next) {
        if (j != job)
            continue;
        if (prev)
            prev->next = j->next;
        else
            *head = j->next;
        if (*tail == j)
            *tail = prev;
        j->next = NULL;
        return true;
    }
    return false;
}

static void *worker_main(void *arg)
{
    log_flusher *f = arg;
    pthread_mutex_lock(&f->mutex);
    for (;;) {
        while (!f->stop && f->queue_head == NULL)
            pthread_cond_wait(&f->cond, &f->mutex);
        flusher_job *job = f->queue_head;
        if (job == NULL)
            break; /* stopping and nothing left to sync */
        list_remove(&f->queue_head, &f->queue_tail, job);
        job->state = JOB_RUNNING;
        pthread_mutex_unlock(&f->mutex);
        job_run(job);
        pthread_mutex_lock(&f->mutex);
        job->state = JOB_DONE;
        f->jobs_done++;
        list_push(&f->done_head, &f->done_tail, job);
        pthread_cond_broadcast(&f->cond);
        event_active(f->done_event, EV_READ, 0);
    }
    pthread_mutex_unlock(&f->mutex);
    return NULL;
}

/* Loop: delivers finished jobs one at a time. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_flusher *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->mutex);
        flusher_job *job = f->done_head;
        if (job)
            list_remove(&f->done_head, &f->done_tail, job);
        pthread_mutex_unlock(&f->mutex);
        if (job == NULL)
            return;
        INVARIANT(job->state == JOB_DONE && job->fd_count == 0); /* run, its descriptors closed */
        job->done(job->arg, job->rc);
        job_free(job);
    }
}

int log_flusher_open(struct event_base *base, log_flusher **out)
{
    log_flusher *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ST_ENOMEM;
    pthread_mutex_init(&f->mutex, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->done_event = event_new(base, -1, 0, done_cb, f);
    if (f->done_event == NULL) {
        log_flusher_close(f);
        return ST_ENOMEM;
    }
    for (int i = 0; i < LIMIT_FLUSHER_THREADS; i++) {
        if (pthread_create(&f->threads[i], NULL, worker_main, f) != 0) {
            log_flusher_close(f);
            return ST_EIO;
        }
        f->thread_count++;
    }
    *out = f;
    return 0;
}

void log_flusher_close(log_flusher *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mutex);
    f->stop = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mutex);
    for (int i = 0; i < f->thread_count; i++)
        pthread_join(f->threads[i], NULL);
    /* workers drained the queue; results nobody collected are dropped */
    while (f->done_head) {
        flusher_job *job = f->done_head;
        f->done_head = job->next;
        log_warn("log", "flusher closing with an undelivered result rc=%d", job->rc);
        job_free(job);
    }
    if (f->done_event)
        event_free(f->done_event);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mutex);
    free(f);
}

int log_flusher_submit(log_flusher *f, const int *fds, size_t count, flusher_done_fn done,
                       void *arg, flusher_job **out)
{
    INVARIANT(count <= LIMIT_FLUSH_JOB_FDS && done != NULL);
    flusher_job *job = calloc(1, sizeof *job);
    int *copy = calloc(count ? count : 1, sizeof *copy);
    if (job == NULL || copy == NULL) {
        for (size_t i = 0; i < count; i++)
            close(fds[i]);
        free(job);
        free(copy);
        return ST_ENOMEM;
    }
    memcpy(copy, fds, count * sizeof *copy);
    job->fds = copy;
    job->fd_count = count;
    job->done = done;
    job->arg = arg;
    pthread_mutex_lock(&f->mutex);
    job->state = JOB_QUEUED;
    list_push(&f->queue_head, &f->queue_tail, job);
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->mutex);
    *out = job;
    return 0;
}

int log_flusher_cancel(log_flusher *f, flusher_job *job)
{
    pthread_mutex_lock(&f->mutex);
    bool run_here = job->state == JOB_QUEUED && list_remove(&f->queue_head, &f->queue_tail, job);
    while (job->state == JOB_RUNNING)
        pthread_cond_wait(&f->cond, &f->mutex);
    if (!run_here)
        list_remove(&f->done_head, &f->done_tail, job); /* finished, not yet delivered */
    pthread_mutex_unlock(&f->mutex);
    INVARIANT(run_here || job->state == JOB_DONE); /* queued, or run and not delivered */
    if (run_here)
        job_run(job); /* the caller is closing the log: a synchronous sync is fine */
    int rc = job->rc;
    job_free(job);
    return rc;
}

uint64_t log_flusher_jobs_done(const log_flusher *f)
{
    pthread_mutex_lock((pthread_mutex_t *)&f->mutex);
    uint64_t n = f->jobs_done;
    pthread_mutex_unlock((pthread_mutex_t *)&f->mutex);
    return n;
}
