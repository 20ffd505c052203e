/*
 * log_flush.c - asynchronous durability of a partition log (contract in
 * partition_log.h): fsyncs the flush policy asks for run on the flusher's
 * workers (flusher.h), and callers wait for them with plog_flush_waiter.
 *
 * State (partition_log_internal.h): at most one job in flight (flush_job),
 * covering everything below flush_job_end (the log end when it started: the
 * segments' dirty flags are cleared at that moment and the job syncs dup()ed
 * descriptors of those files, so a roll, retention or close meanwhile does
 * no harm). flush_wanted is the highest offset someone needs durable; when a
 * job completes below it, the next job starts and covers every append made
 * meanwhile with one fsync per file (group commit).
 *
 * The recovery point advances only when a job succeeded. A failed job fails
 * the log (sticky ST_EIO, as a failed inline fsync does) and every waiter,
 * so nothing written before or after it is acknowledged.
 *
 * Runs on the broker's event-loop thread; only the fsync itself runs on a
 * worker, over descriptors the job owns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include "broker/log/flusher.h"
#include "broker/log/partition_log_internal.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/limits.h"
#include "common/log.h"

static void waiter_unlink(plog *log, plog_flush_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        log->flush_waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->log = NULL;
}

void plog_flush_notify(plog *log, int rc)
{
    /* restart from the head after each callback: it may cancel other waiters */
    for (;;) {
        plog_flush_waiter *w = log->flush_waiters;
        while (w && rc == 0 && w->offset > log->recovery_point)
            w = w->next;
        if (w == NULL)
            return;
        waiter_unlink(log, w);
        w->done(w, rc);
    }
}

/* Loop: the flusher finished this log's job. */
static void flush_done(void *arg, int rc)
{
    plog *log = arg;
    /* a job covers what was written when it started, never more */
    INVARIANT(log->flush_job != NULL && log->flush_job_end <= log->log_end_offset);
    log->flush_job = NULL;
    if (rc != 0) {
        log_error("log", "fsync failed, log is offline dir=%s", log->dir);
        log->io_error = ST_EIO;
        plog_flush_notify(log, ST_EIO);
        return;
    }
    if (log->flush_job_end > log->recovery_point)
        log->recovery_point = log->flush_job_end;
    INVARIANT(log->recovery_point <= log->log_end_offset);
    if (log->recovery_point >= log->log_end_offset)
        log->first_unflushed_ms = -1;
    plog_flush_notify(log, 0);
    if (log->io_error == 0 && (log->flush_wanted > log->recovery_point || log->flush_waiters))
        plog_flush_start(log);
}

/* Dup()s the descriptors of every unsynced file (newest segment first, down
 * to the one holding the recovery point, as plog_flush) and clears their
 * dirty flags; *count of them. ST_ETOOBIG when more than fit a job. */
static int collect_fds(plog *log, int *fds, size_t *count)
{
    *count = 0;
    int rc = 0;
    for (size_t i = log->segment_count; i-- > 0 && rc == 0;) {
        segment *seg = log->segments[i];
        int files[3] = {seg->log_fd, seg->index_fd, seg->time_index_fd};
        bool *dirty[3] = {&seg->log_dirty, &seg->index_dirty, &seg->time_index_dirty};
        for (int f = 0; f < 3 && rc == 0; f++) {
            if (!*dirty[f])
                continue;
            if (*count + 2 > LIMIT_FLUSH_JOB_FDS) { /* keep room for the directory */
                rc = ST_ETOOBIG;
                break;
            }
            int fd = fcntl(files[f], F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
                rc = ST_EIO;
            else
                fds[(*count)++] = fd;
        }
        if (seg->base_offset <= log->recovery_point)
            break;
    }
    if (rc == 0 && log->dir_dirty) {
        int fd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            rc = ST_EIO;
        else
            fds[(*count)++] = fd;
    }
    if (rc != 0) {
        for (size_t i = 0; i < *count; i++)
            close(fds[i]);
        *count = 0;
    }
    return rc;
}

/* Marks every file collected as synced-to-be (the job owns the outcome). */
static void clear_dirty(plog *log)
{
    for (size_t i = log->segment_count; i-- > 0;) {
        segment *seg = log->segments[i];
        seg->log_dirty = seg->index_dirty = seg->time_index_dirty = false;
        if (seg->base_offset <= log->recovery_point)
            break;
    }
    log->dir_dirty = false;
}

int plog_flush_start(plog *log)
{
    if (log->io_error != 0)
        return log->io_error;
    if (log->flush_wanted < log->log_end_offset)
        log->flush_wanted = log->log_end_offset;
    if (log->flusher == NULL) { /* inline, as before the flusher existed */
        int rc = plog_flush(log);
        plog_flush_notify(log, rc);
        return rc;
    }
    if (log->flush_job != NULL)
        return 0; /* flush_done starts the next one: it covers this append too */
    int fds[LIMIT_FLUSH_JOB_FDS];
    size_t count;
    int rc = collect_fds(log, fds, &count);
    if (rc != 0) {
        /* too many unsynced segments or no descriptor left: sync inline
         * rather than fail the log */
        log_warn("log", "flushing inline dir=%s error=%s errno=%d", log->dir,
                 strait_error_name(rc), errno);
        rc = plog_flush(log);
        plog_flush_notify(log, rc);
        return rc;
    }
    INVARIANT(log->flush_job == NULL && count <= LIMIT_FLUSH_JOB_FDS); /* one job in flight */
    clear_dirty(log);
    log->flush_job_end = log->log_end_offset;
    rc = log_flusher_submit(log->flusher, fds, count, flush_done, log, &log->flush_job);
    if (rc != 0) {
        log->flush_job = NULL;
        log_error("log", "cannot queue an fsync dir=%s error=%s", log->dir, strait_error_name(rc));
        /* the dirty flags are gone: nothing may be acknowledged any more */
        log->io_error = ST_EIO;
        plog_flush_notify(log, ST_EIO);
        return ST_EIO;
    }
    return 0;
}

int plog_flush_settle(plog *log)
{
    if (log->flush_job == NULL)
        return 0;
    INVARIANT(log->flusher != NULL && log->flush_job_end <= log->log_end_offset);
    int rc = log_flusher_cancel(log->flusher, log->flush_job);
    log->flush_job = NULL;
    if (rc != 0) {
        log->io_error = ST_EIO;
        return rc;
    }
    if (log->flush_job_end > log->recovery_point)
        log->recovery_point = log->flush_job_end;
    INVARIANT(log->recovery_point <= log->log_end_offset);
    return 0;
}

void plog_set_flusher(plog *log, struct log_flusher *flusher)
{
    if (log->flusher == flusher)
        return;
    plog_flush_settle(log);
    log->flusher = flusher;
}

int plog_flush_wait(plog *log, int64_t offset, plog_flush_waiter *w, plog_flush_fn done, void *arg)
{
    if (log->io_error != 0)
        return log->io_error;
    if (offset <= log->recovery_point)
        return 1;
    if (offset > log->log_end_offset)
        return ST_ERANGE; /* never written: no fsync could cover it */
    if (log->flusher == NULL || log->flush_job == NULL) {
        /* nothing in flight covers it: start an fsync (inline without a
         * flusher, or when the flusher cannot take it) */
        int rc = plog_flush_start(log);
        if (rc != 0)
            return rc;
        if (offset <= log->recovery_point)
            return 1;
    }
    if (log->flush_wanted < offset)
        log->flush_wanted = offset;
    *w = (plog_flush_waiter){.offset = offset, .done = done, .arg = arg, .log = log};
    w->next = log->flush_waiters;
    if (w->next)
        w->next->prev = w;
    log->flush_waiters = w;
    return 0;
}

void plog_flush_cancel(plog_flush_waiter *w)
{
    if (w != NULL && w->log != NULL)
        waiter_unlink(w->log, w);
}

bool plog_flush_pending(const plog *log, int64_t offset)
{
    return offset > log->recovery_point && log->flush_wanted >= offset;
}
