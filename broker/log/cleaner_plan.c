/*
 * cleaner_plan.c - which part of a partition log the cleaner may clean and
 * whether it should (design in cleaner_internal.h): the first dirty offset
 * from the cleaner checkpoint, the first uncleanable offset (active segment,
 * min.compaction.lag.ms), the dirty ratio, the max.compaction.lag.ms and
 * delete-horizon triggers; the job snapshot; the cleaner checkpoint.
 *
 * Runs on the broker's event-loop thread (it reads the segment list).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/checkpoint_file.h"
#include "broker/log/cleaner_internal.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"

/* What the plan found for one log at one time. */
typedef struct cleaner_plan {
    int64_t first_dirty;
    int64_t first_uncleanable;
    size_t cleanable_count;  /* segments[0 .. cleanable_count) lie below first_uncleanable */
    int64_t clean_bytes;
    int64_t dirty_bytes;
    bool forced;             /* max.compaction.lag.ms or a delete horizon passed */
} cleaner_plan;

cleaner_log_state *cleaner_state(plog *log)
{
    if (log->cleaner == NULL) {
        log->cleaner = calloc(1, sizeof *log->cleaner);
        if (log->cleaner == NULL)
            return NULL;
        log->cleaner->delete_horizon_ms = -1;
    }
    cleaner_log_state *st = log->cleaner;
    if (!st->loaded) {
        int64_t values[2] = {0, -1};
        size_t entries = 0;
        int rc = checkpoint_read(log->dir, CLEANER_CHECKPOINT_NAME, 2, values, 1, &entries);
        if (rc == 0 && entries == 1) {
            st->first_dirty_offset = values[0];
            st->delete_horizon_ms = values[1];
        } else {
            if (rc != ST_ENOTFOUND)
                log_warn("cleaner", "ignoring damaged checkpoint dir=%s", log->dir);
            st->first_dirty_offset = log->log_start_offset;
            st->delete_horizon_ms = -1;
        }
        st->loaded = true;
    }
    return st;
}

int cleaner_save_checkpoint(plog *log)
{
    const cleaner_log_state *st = log->cleaner;
    int64_t values[2] = {st->first_dirty_offset, st->delete_horizon_ms};
    return checkpoint_write(log->dir, CLEANER_CHECKPOINT_NAME, values, 1, 2);
}

/* a - b without overflow, for "now - lag" with lags up to INT64_MAX. */
static int64_t saturating_sub(int64_t a, int64_t b)
{
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    return a - b;
}

/* Max timestamp of the first batch of seg (Kafka's firstBatchTimestamp), -1
 * when unreadable or empty. */
static int64_t first_batch_timestamp(const segment *seg)
{
    batch_header h;
    if (seg->size_bytes == 0 || segment_read_header(seg, 0, &h) != 0)
        return -1;
    return h.max_timestamp;
}

static void make_plan(plog *log, cleaner_log_state *st, int64_t now_ms, cleaner_plan *plan)
{
    const plog_config *c = &log->config;
    memset(plan, 0, sizeof *plan);
    int64_t first_dirty = st->first_dirty_offset;
    /* Kafka resets a checkpoint outside the log to the log start */
    if (first_dirty < log->log_start_offset || first_dirty > log->log_end_offset)
        first_dirty = log->log_start_offset;
    plan->first_dirty = first_dirty;
    plan->first_uncleanable = plog_active(log)->base_offset;
    int64_t lag_limit = saturating_sub(now_ms, c->min_compaction_lag_ms);
    for (size_t i = 0; i + 1 < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        bool dirty = seg->next_offset > first_dirty;
        if (dirty && c->min_compaction_lag_ms > 0 && seg->max_timestamp_ms > lag_limit) {
            plan->first_uncleanable = seg->base_offset;
            break;
        }
    }
    int64_t max_lag_limit = saturating_sub(now_ms, c->max_compaction_lag_ms);
    bool first_dirty_seen = false;
    for (size_t i = 0; i + 1 < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        if (seg->base_offset >= plan->first_uncleanable)
            break;
        plan->cleanable_count = i + 1;
        if (seg->next_offset <= first_dirty) {
            plan->clean_bytes += seg->size_bytes;
            continue;
        }
        plan->dirty_bytes += seg->size_bytes;
        if (!first_dirty_seen && c->max_compaction_lag_ms < INT64_MAX) {
            int64_t ts = first_batch_timestamp(seg);
            if (ts >= 0 && ts < max_lag_limit)
                plan->forced = true;
        }
        first_dirty_seen = true;
    }
    if (st->delete_horizon_ms >= 0 && now_ms >= st->delete_horizon_ms && plan->cleanable_count > 0)
        plan->forced = true;
    /* never the active segment, never outside the log */
    INVARIANT(plan->cleanable_count < log->segment_count &&
              plan->first_uncleanable <= plog_active(log)->base_offset);
    INVARIANT(plan->first_dirty >= log->log_start_offset && plan->first_dirty <= log->log_end_offset);
}

int cleaner_eligible(plog *log, int64_t now_ms, double *ratio)
{
    *ratio = 0;
    if (!log->config.compact_policy || log->io_error != 0)
        return ST_ENOTFOUND;
    cleaner_log_state *st = cleaner_state(log);
    if (st == NULL)
        return ST_ENOMEM;
    if (st->uncleanable || st->job != NULL)
        return ST_ENOTFOUND;
    cleaner_plan plan;
    make_plan(log, st, now_ms, &plan);
    int64_t total = plan.clean_bytes + plan.dirty_bytes;
    *ratio = total > 0 ? (double)plan.dirty_bytes / (double)total : 0;
    if (plan.cleanable_count == 0)
        return ST_ENOTFOUND;
    if (plan.forced) {
        *ratio = 1.0 + *ratio; /* forced logs go first, as Kafka's max-lag logs do */
        return 0;
    }
    if (plan.dirty_bytes > 0 && *ratio >= log->config.min_cleanable_dirty_ratio)
        return 0;
    return ST_ENOTFOUND;
}

int64_t cleaner_first_dirty_offset(plog *log)
{
    cleaner_log_state *st = cleaner_state(log);
    if (st == NULL)
        return log->log_start_offset;
    cleaner_plan plan;
    make_plan(log, st, 0, &plan);
    return plan.first_dirty;
}

double cleaner_dirty_ratio(plog *log, int64_t now_ms)
{
    cleaner_log_state *st = cleaner_state(log);
    if (st == NULL)
        return 0;
    cleaner_plan plan;
    make_plan(log, st, now_ms, &plan);
    int64_t total = plan.clean_bytes + plan.dirty_bytes;
    return total > 0 ? (double)plan.dirty_bytes / (double)total : 0;
}

int cleaner_job_prepare(plog *log, int64_t now_ms, cleaner_job **out)
{
    cleaner_log_state *st = cleaner_state(log);
    if (st == NULL)
        return ST_ENOMEM;
    cleaner_plan plan;
    make_plan(log, st, now_ms, &plan);
    if (plan.cleanable_count == 0)
        return ST_ENOTFOUND;
    cleaner_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return ST_ENOMEM;
    atomic_init(&job->cancelled, false);
    job->log = log;
    job->dir = strdup(log->dir);
    job->config = log->config;
    job->now_ms = now_ms;
    job->first_dirty = plan.first_dirty;
    job->end = plan.first_uncleanable;
    job->delete_horizon_ms = -1;
    job->sources = calloc(plan.cleanable_count, sizeof *job->sources);
    int rc = job->dir && job->sources ? 0 : ST_ENOMEM;
    for (size_t i = 0; rc == 0 && i < plan.cleanable_count; i++) {
        segment *seg = log->segments[i];
        cleaner_source *s = &job->sources[i];
        *s = (cleaner_source){.seg = seg, .base_offset = seg->base_offset,
                              .next_offset = seg->next_offset, .size_bytes = seg->size_bytes,
                              .fd = fcntl(seg->log_fd, F_DUPFD_CLOEXEC, 0)};
        job->source_count = i + 1;
        if (s->fd < 0)
            rc = ST_EIO;
    }
    if (rc != 0) {
        job->log = NULL;
        cleaner_job_free(job);
        return rc;
    }
    /* the job reads only sealed segments, wholly below its end */
    INVARIANT(job->source_count == plan.cleanable_count && job->source_count < log->segment_count &&
              job->sources[job->source_count - 1].base_offset < job->end);
    st->job = job;
    log_info("cleaner", "cleaning dir=%s first_dirty_offset=%" PRId64 " first_uncleanable_offset=%" PRId64
             " segments=%zu clean_bytes=%" PRId64 " dirty_bytes=%" PRId64, log->dir, plan.first_dirty,
             plan.first_uncleanable, plan.cleanable_count, plan.clean_bytes, plan.dirty_bytes);
    *out = job;
    return 0;
}
