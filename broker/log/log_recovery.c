/*
 * log_recovery.c - opening a partition directory: list and sort the
 * segments, delete leftovers (.tmp files, index files without a log), read
 * the checkpoints, scan every segment from the recovery point on (CRC and
 * offset checks, torn tail truncated, later segments dropped, indexes
 * rebuilt), trust and load the ones below it, then settle log start, log
 * end and the leader-epoch cache.
 *
 * Runs once per partition on the thread that opens the log.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/checkpoint_file.h"
#include "broker/log/cleaner_internal.h"
#include "common/file_io.h"
#include "common/invariant.h"
#include "common/limits.h"
#include "broker/log/partition_log_internal.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"


typedef struct base_list {
    int64_t *bases;
    size_t count;
    size_t capacity;
} base_list;

static bool has_suffix(const char *name, const char *suffix)
{
    size_t len = strlen(name), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0;
}

static int base_list_add(base_list *list, int64_t base)
{
    if (list->count >= LIMIT_SEGMENTS_PER_PARTITION)
        return ST_ETOOBIG;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        int64_t *grown = realloc(list->bases, capacity * sizeof *grown);
        if (grown == NULL)
            return ST_ENOMEM;
        list->bases = grown;
        list->capacity = capacity;
    }
    list->bases[list->count++] = base;
    return 0;
}

static int compare_bases(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Collects the base offsets of the .log files; deletes .tmp leftovers and
 * index files whose .log is gone. */
static int list_segments(const char *dir, base_list *list)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return ST_EIO;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t base;
        if (segment_file_name_parse(e->d_name, ".log", &base)) {
            rc = base_list_add(list, base);
        } else if (has_suffix(e->d_name, ".tmp")) {
            log_warn("log", "deleting leftover temporary file dir=%s file=%s", dir, e->d_name);
            if (unlinkat(dirfd(d), e->d_name, 0) != 0)
                rc = ST_EIO;
        } else if (segment_file_name_parse(e->d_name, ".index", &base) ||
                   segment_file_name_parse(e->d_name, ".timeindex", &base)) {
            char log_name[SEGMENT_FILE_NAME_BYTES];
            segment_file_name(log_name, base, ".log");
            if (faccessat(dirfd(d), log_name, F_OK, 0) != 0 && errno == ENOENT) {
                log_warn("log", "deleting index without log dir=%s file=%s", dir, e->d_name);
                if (unlinkat(dirfd(d), e->d_name, 0) != 0)
                    rc = ST_EIO;
            }
        }
    }
    closedir(d);
    if (rc == 0 && list->count > 0)
        qsort(list->bases, list->count, sizeof *list->bases, compare_bases);
    return rc;
}

/* A single-value checkpoint, or fallback when missing or damaged. */
static int read_offset_checkpoint(const char *dir, const char *name, int64_t fallback, int64_t *out)
{
    size_t entries = 0;
    int64_t value = 0;
    int rc = checkpoint_read(dir, name, 1, &value, 1, &entries);
    if (rc == ST_ECORRUPT || (rc == 0 && (entries != 1 || value < 0))) {
        log_warn("log", "ignoring damaged checkpoint dir=%s file=%s", dir, name);
        rc = ST_ENOTFOUND;
    }
    if (rc == ST_ENOTFOUND) {
        *out = fallback;
        return 0;
    }
    *out = value;
    return rc;
}

/* Deletes segments[from..] (after a truncation, they follow a gap). */
static int drop_tail(plog *log, size_t from)
{
    INVARIANT(from <= log->segment_count);
    int rc = 0;
    for (size_t i = from; i < log->segment_count; i++) {
        log_warn("log", "dropping segment dir=%s base_offset=%" PRId64,
                 log->dir, log->segments[i]->base_offset);
        if (segment_delete(log->dir, log->segments[i]) != 0)
            rc = ST_EIO;
    }
    log->segment_count = from;
    return rc;
}

/* Opens every listed segment in order, scanning the unflushed ones. Stops at
 * (and drops everything after) the first truncation or overlap. */
static int recover_segments(plog *log, const base_list *list, int64_t recovery_point, int64_t now_ms)
{
    for (size_t i = 0; i < list->count; i++) {
        segment *seg = NULL;
        int rc = segment_open(log->dir, list->bases[i], log->config.segment_index_bytes, now_ms, &seg);
        if (rc == 0 && (rc = plog_push_segment(log, seg)) != 0)
            segment_close(seg);
        if (rc != 0)
            return rc;
    }
    int32_t interval = log->config.index_interval_bytes;
    for (size_t i = 0; i < log->segment_count; i++) {
        segment *seg = log->segments[i];
        bool last = i + 1 == log->segment_count;
        if (seg->size_bytes == 0 && !last) { /* a crash right after creating it */
            log_warn("log", "deleting empty segment dir=%s base_offset=%" PRId64, log->dir,
                     seg->base_offset);
            int rc = segment_delete(log->dir, seg);
            memmove(log->segments + i, log->segments + i + 1,
                    (log->segment_count - i - 1) * sizeof *log->segments);
            log->segment_count--;
            if (rc != 0)
                return rc;
            i--; /* unsigned wrap from 0 is undone by the loop's i++ */
            continue;
        }
        int64_t expected = i > 0 ? log->segments[i - 1]->next_offset : -1;
        INVARIANT(i == 0 || log->segments[i - 1]->base_offset < seg->base_offset); /* sorted list */
        if (seg->base_offset < expected) {
            log_warn("log", "segment overlaps the previous one dir=%s base_offset=%" PRId64,
                     log->dir, seg->base_offset);
            return drop_tail(log, i);
        }
        bool flushed = !last && log->segments[i + 1]->base_offset <= recovery_point;
        int64_t truncated = 0;
        int rc = flushed || last ? segment_load(seg, last, interval, &truncated) : 0;
        if (rc == 0 && (!flushed && (!last || seg->next_offset > recovery_point)))
            rc = segment_recover(seg, expected, interval, &truncated);
        if (rc != 0)
            return rc;
        /* what the scan read back: whole batches from the base on, in order */
        INVARIANT(seg->next_offset >= seg->base_offset && seg->next_offset >= expected);
        INVARIANT_EXPENSIVE(segment_index_ordered(seg));
        if (truncated > 0)
            return drop_tail(log, i + 1); /* this one becomes the active segment */
    }
    return 0;
}

/* Removes every segment and starts over with an empty one at base. */
static int reset_to(plog *log, int64_t base, int64_t now_ms)
{
    int rc = drop_tail(log, 0);
    segment *seg = NULL;
    if (rc == 0)
        rc = segment_create(log->dir, base, log->config.segment_index_bytes, now_ms, &seg);
    if (rc == 0 && (rc = plog_push_segment(log, seg)) != 0)
        segment_close(seg);
    log->dir_dirty = true;
    return rc;
}

/* Rebuilds the epoch cache from the batch headers of every segment. */
static int rebuild_epochs(plog *log)
{
    leader_epoch_cache *cache = &log->epochs;
    cache->count = 0;
    for (size_t i = 0; i < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        for (int64_t position = 0; position < seg->size_bytes;) {
            batch_header h;
            int rc = segment_read_header(seg, position, &h);
            if (rc != 0)
                return rc == ST_EIO ? rc : ST_ECORRUPT;
            if (h.partition_leader_epoch >= 0 &&
                (rc = leader_epoch_assign(cache, h.partition_leader_epoch, h.base_offset)) < 0)
                return rc;
            position += (int64_t)batch_total_bytes(&h);
        }
    }
    return 0;
}

/* Loads the leader-epoch checkpoint (rebuilding it from the log when it is
 * missing or damaged) and trims it to [log start, log end]. */
static int recover_epochs(plog *log)
{
    int rc = leader_epoch_load(&log->epochs, log->dir);
    bool changed = false;
    if (rc == ST_ENOTFOUND || rc == ST_ECORRUPT) {
        if (rc == ST_ECORRUPT || log->log_end_offset > log->segments[0]->base_offset)
            log_warn("log", "rebuilding leader epoch cache from the log dir=%s", log->dir);
        rc = rebuild_epochs(log);
        changed = true;
    }
    if (rc != 0)
        return rc;
    changed |= leader_epoch_truncate_end(&log->epochs, log->log_end_offset);
    changed |= leader_epoch_truncate_start(&log->epochs, log->log_start_offset);
    if (log->epochs.count == 0) {
        rc = leader_epoch_assign(&log->epochs, 0, log->log_start_offset);
        if (rc < 0)
            return rc;
        changed = true;
    }
    return changed ? leader_epoch_save(&log->epochs, log->dir) : 0;
}

/* Log start from its checkpoint, at least the first segment's base; segments
 * wholly below it (a crash between checkpoint and unlink) are deleted; a
 * start beyond the recovered end resets the log there. */
static int settle_offsets(plog *log, int64_t checkpoint_start, int64_t now_ms)
{
    int64_t start = checkpoint_start;
    if (start < log->segments[0]->base_offset)
        start = log->segments[0]->base_offset;
    if (start > plog_active(log)->next_offset) {
        log_warn("log", "log start beyond recovered end, resetting dir=%s log_start_offset=%" PRId64
                 " log_end_offset=%" PRId64, log->dir, start, plog_active(log)->next_offset);
        int rc = reset_to(log, start, now_ms);
        if (rc != 0)
            return rc;
    }
    size_t below = 0;
    while (below + 1 < log->segment_count && log->segments[below + 1]->base_offset <= start)
        below++;
    for (size_t i = 0; i < below; i++)
        if (segment_delete(log->dir, log->segments[i]) != 0)
            return ST_EIO;
    memmove(log->segments, log->segments + below, (log->segment_count - below) * sizeof *log->segments);
    log->segment_count -= below;
    log->log_start_offset = start;
    log->log_end_offset = plog_active(log)->next_offset;
    INVARIANT(log->segment_count >= 1 && log->segments[0]->base_offset <= start &&
              start <= log->log_end_offset);
    return 0;
}

int plog_recover(plog *log)
{
    int64_t now_ms = clock_wall_ms();
    base_list list = {0};
    int64_t recovery_point = 0, log_start = 0;
    int rc = cleaner_recover_dir(log->dir); /* finish or roll back an interrupted compaction swap */
    if (rc == 0)
        rc = list_segments(log->dir, &list);
    if (rc == 0)
        rc = read_offset_checkpoint(log->dir, PLOG_RECOVERY_POINT_CHECKPOINT_NAME, 0, &recovery_point);
    if (rc == 0)
        rc = read_offset_checkpoint(log->dir, PLOG_LOG_START_CHECKPOINT_NAME, 0, &log_start);
    if (rc == 0)
        rc = recover_segments(log, &list, recovery_point, now_ms);
    free(list.bases);
    if (rc == 0 && log->segment_count == 0)
        rc = reset_to(log, log_start, now_ms);
    if (rc == 0)
        rc = settle_offsets(log, log_start, now_ms);
    if (rc == 0)
        rc = recover_epochs(log);
    if (rc == 0)
        rc = plog_producers_recover(log); /* needs the final log end: after truncation */
    if (rc != 0)
        return rc;
    /* what recovery checked may still sit only in the page cache (a kill -9
     * before the fsync): make it durable, then everything is recovered */
    log->recovery_point_saved = recovery_point;
    log->recovery_point_saved_ms = now_ms;
    log->recovery_point = log->log_start_offset;
    for (size_t i = 0; rc == 0 && i < log->segment_count; i++)
        rc = segment_flush(log->segments[i]);
    if (rc == 0)
        rc = file_fsync_dir(log->dir);
    if (rc != 0)
        return rc;
    log->dir_dirty = false;
    log->recovery_point = log->log_end_offset;
    INVARIANT_EXPENSIVE(plog_segments_ordered(log));
    INVARIANT(leader_epoch_latest(&log->epochs) >= 0 &&
              log->epochs.entries[log->epochs.count - 1].start_offset <= log->log_end_offset);
    return 0;
}
