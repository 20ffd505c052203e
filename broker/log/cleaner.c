/*
 * cleaner.c - the broker's log cleaner (contract in cleaner.h): one worker
 * thread, the hand-off of one job at a time between the loop and the worker,
 * the completion event that brings the result back to the loop, cancelling
 * a job when its log closes, the synchronous cleaner_clean_now, and the
 * produce-side key check of compacted topics.
 *
 * Hand-off (all under cleaner->mutex): the loop sets `queued` and signals;
 * the worker moves it to `running`, cleans without the lock, then moves it
 * to `done`, broadcasts, and activates the completion event; the loop's
 * callback takes `done` and swaps. Cancelling (loop) sets job->cancelled and
 * waits while the job is `running`, so after cleaner_log_detach no worker
 * touches the log's directory.
 */
#include "broker/log/cleaner.h"

#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch_build.h"
#include "broker/log/cleaner_internal.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

struct log_cleaner {
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool stop;                  /* under mutex */
    cleaner_job *queued;        /* under mutex */
    cleaner_job *running;       /* under mutex */
    cleaner_job *done;          /* under mutex */
    struct event *done_event;   /* activated by the worker, runs on the loop */
    /* loop thread only */
    cleaner_job *in_flight;     /* the one job between start and swap */
    plog *best;                 /* filthiest candidate of the current round */
    double best_ratio;
    int64_t round_ms;
};

static void *worker_main(void *arg)
{
    log_cleaner *c = arg;
    pthread_mutex_lock(&c->mutex);
    for (;;) {
        while (!c->stop && c->queued == NULL)
            pthread_cond_wait(&c->cond, &c->mutex);
        if (c->stop)
            break;
        cleaner_job *job = c->queued;
        c->queued = NULL;
        c->running = job;
        job->state = CLEANER_JOB_RUNNING;
        pthread_mutex_unlock(&c->mutex);
        cleaner_job_run(job);
        pthread_mutex_lock(&c->mutex);
        c->running = NULL;
        c->done = job;
        job->state = CLEANER_JOB_DONE;
        pthread_cond_broadcast(&c->cond);
        event_active(c->done_event, EV_READ, 0);
    }
    pthread_mutex_unlock(&c->mutex);
    return NULL;
}

/* Loop: the worker finished a job. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_cleaner *c = arg;
    pthread_mutex_lock(&c->mutex);
    cleaner_job *job = c->done;
    c->done = NULL;
    pthread_mutex_unlock(&c->mutex);
    if (job == NULL)
        return; /* taken by a detach meanwhile */
    if (c->in_flight == job)
        c->in_flight = NULL;
    if (job->log != NULL) {
        job->log->cleaner->job = NULL;
        cleaner_job_apply(job);
    }
    cleaner_job_free(job);
}

int log_cleaner_open(struct event_base *base, log_cleaner **out)
{
    log_cleaner *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ST_ENOMEM;
    pthread_mutex_init(&c->mutex, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->done_event = event_new(base, -1, 0, done_cb, c);
    if (c->done_event == NULL || pthread_create(&c->thread, NULL, worker_main, c) != 0) {
        log_cleaner_close(c);
        return ST_EIO;
    }
    c->thread_started = true;
    *out = c;
    return 0;
}

void log_cleaner_close(log_cleaner *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mutex);
    c->stop = true;
    if (c->running != NULL)
        atomic_store(&c->running->cancelled, true);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mutex);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    /* logs are closed first, so any job left is detached: free it */
    cleaner_job *left[3] = {c->queued, c->running, c->done};
    for (int i = 0; i < 3; i++) {
        if (left[i] == NULL)
            continue;
        if (left[i]->log != NULL) {
            log_warn("cleaner", "closing with a log still attached dir=%s", left[i]->dir);
            left[i]->log->cleaner->job = NULL;
        }
        cleaner_job_free(left[i]);
    }
    if (c->done_event != NULL)
        event_free(c->done_event);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mutex);
    free(c);
}

void cleaner_log_detach(plog *log)
{
    cleaner_log_state *st = log->cleaner;
    if (st == NULL)
        return;
    cleaner_job *job = st->job;
    if (job != NULL) {
        log_cleaner *c = job->owner;
        if (c != NULL) {
            pthread_mutex_lock(&c->mutex);
            atomic_store(&job->cancelled, true);
            if (c->queued == job)
                c->queued = NULL;
            while (c->running == job)
                pthread_cond_wait(&c->cond, &c->mutex);
            if (c->done == job)
                c->done = NULL;
            pthread_mutex_unlock(&c->mutex);
            if (c->in_flight == job)
                c->in_flight = NULL;
        }
        job->log = NULL;
        cleaner_job_free(job); /* removes its work and swap directories */
    }
    free(st);
    log->cleaner = NULL;
}

void log_cleaner_consider(log_cleaner *c, plog *log, int64_t now_ms)
{
    if (c == NULL || log == NULL || !log->config.compact_policy)
        return;
    double ratio;
    if (cleaner_eligible(log, now_ms, &ratio) != 0)
        return;
    if (c->best == NULL || ratio > c->best_ratio) {
        c->best = log;
        c->best_ratio = ratio;
    }
    c->round_ms = now_ms;
}

void log_cleaner_start(log_cleaner *c)
{
    if (c == NULL)
        return;
    plog *log = c->best;
    c->best = NULL;
    if (log == NULL || c->in_flight != NULL)
        return;
    cleaner_job *job;
    if (cleaner_job_prepare(log, c->round_ms, &job) != 0)
        return;
    job->owner = c;
    c->in_flight = job;
    pthread_mutex_lock(&c->mutex);
    job->state = CLEANER_JOB_QUEUED;
    c->queued = job;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mutex);
}

bool log_cleaner_busy(const log_cleaner *c) { return c != NULL && c->in_flight != NULL; }

int cleaner_clean_now(plog *log, int64_t now_ms)
{
    double ratio;
    int rc = cleaner_eligible(log, now_ms, &ratio);
    cleaner_job *job = NULL;
    if (rc == 0)
        rc = cleaner_job_prepare(log, now_ms, &job);
    if (rc != 0)
        return rc;
    cleaner_job_run(job);
    log->cleaner->job = NULL;
    rc = cleaner_job_apply(job);
    cleaner_job_free(job);
    return rc;
}

int cleaner_check_keys(const uint8_t *data, size_t len)
{
    batch_iter *it;
    int rc = batch_iter_open(data, len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it);
    if (rc != 0)
        return rc;
    batch_record rec;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        if (rec.key_len < 0) {
            rc = ST_EINVAL;
            break;
        }
    }
    batch_iter_close(it);
    return rc < 0 ? rc : 0;
}
