/*
 * partition_log.c - the log of one partition (contract in partition_log.h):
 * open and close, append with roll and the flush policy, reads as file
 * ranges of whole batches, offset lookups, leader epochs. Recovery on open
 * lives in log_recovery.c, retention and DeleteRecords in log_retention.c.
 *
 * Failure model: a failed write or fsync makes the log read-only for
 * appends and flushes (sticky ST_EIO, like Kafka taking the log directory
 * offline): after a failed fsync the page cache state is unknown, so nothing
 * may be acknowledged any more.
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#include "broker/log/partition_log.h"
#include "common/file_io.h"
#include "common/invariant.h"
#include "common/limits.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/checkpoint_file.h"
#include "broker/log/cleaner_internal.h"
#include "broker/log/partition_log_internal.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

void plog_config_default(plog_config *c)
{
    memset(c, 0, sizeof *c);
    c->segment_bytes = 1024LL * 1024 * 1024;
    c->segment_ms = 7 * DAY_MS;
    c->retention_ms = 7 * DAY_MS;
    c->retention_bytes = -1;
    c->flush_messages = INT64_MAX;
    c->flush_ms = INT64_MAX;
    c->index_interval_bytes = 4096;
    c->segment_index_bytes = 10 * 1024 * 1024;
    c->delete_policy = true;
    c->producer_id_expiration_ms = DAY_MS;
    c->compact_policy = false;
    c->delete_retention_ms = DAY_MS;
    c->min_cleanable_dirty_ratio = 0.5;
    c->min_compaction_lag_ms = 0;
    c->max_compaction_lag_ms = INT64_MAX;
}

/* Kafka's validators: segment.bytes >= 14, segment.ms >= 1, retention >= -1,
 * flush.messages >= 1, flush.ms >= 0, index.interval.bytes >= 0,
 * segment.index.bytes >= 4. */
static bool config_valid(const plog_config *c)
{
    return c->segment_bytes >= 14 && c->segment_ms >= 1 && c->retention_ms >= -1 &&
           c->retention_bytes >= -1 && c->flush_messages >= 1 && c->flush_ms >= 0 &&
           c->index_interval_bytes >= 0 && c->segment_index_bytes >= 4 &&
           c->producer_id_expiration_ms >= 1;
}

int plog_open(const char *dir, const plog_config *config, plog **out)
{
    if (dir == NULL || config == NULL || !config_valid(config))
        return ST_ECONFIG;
    if (strlen(dir) > PLOG_DIR_PATH_BYTES_MAX)
        return ST_EINVAL;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_error("log", "cannot create log directory dir=%s errno=%d", dir, errno);
        return ST_EIO;
    }
    plog *log = calloc(1, sizeof *log);
    if (log == NULL)
        return ST_ENOMEM;
    log->dir = strdup(dir);
    log->config = *config;
    log->first_unflushed_ms = -1;
    log->producers_snapshot_offset = -1;
    leader_epoch_init(&log->epochs);
    int rc = log->dir ? plog_recover(log) : ST_ENOMEM;
    if (rc != 0) {
        log_error("log", "open failed dir=%s error=%s", dir, strait_error_name(rc));
        for (size_t i = 0; i < log->segment_count; i++)
            segment_close(log->segments[i]);
        free(log->segments);
        leader_epoch_free(&log->epochs);
        plog_producers_free(log);
        free(log->dir);
        free(log);
        return rc;
    }
    log_info("log", "opened dir=%s log_start_offset=%" PRId64 " log_end_offset=%" PRId64
             " segments=%zu", dir, log->log_start_offset, log->log_end_offset, log->segment_count);
    *out = log;
    return 0;
}

/* rc: what waiters still registered are told (the log goes away). */
static void plog_free(plog *log, int rc)
{
    cleaner_log_detach(log); /* no worker may still read or write in the directory */
    plog_flush_settle(log);  /* no fsync job may still refer to the log */
    plog_flush_notify(log, rc);
    for (size_t i = 0; i < log->segment_count; i++)
        segment_close(log->segments[i]);
    free(log->segments);
    leader_epoch_free(&log->epochs);
    plog_producers_free(log);
    free(log->dir);
    free(log);
}

void plog_close(plog *log)
{
    if (log == NULL)
        return;
    if (log->io_error == 0) {
        int rc = segment_seal(plog_active(log));
        if (rc == 0)
            rc = plog_flush(log);
        if (rc == 0 && log->recovery_point != log->recovery_point_saved)
            rc = plog_save_recovery_point(log, 0);
        if (rc != 0)
            log_error("log", "flush on close failed dir=%s error=%s", log->dir, strait_error_name(rc));
        else
            plog_producers_snapshot(log); /* a clean reopen then replays nothing */
    }
    plog_free(log, ST_EIO);
}

int plog_delete(plog *log)
{
    if (log == NULL)
        return ST_EINVAL;
    cleaner_log_detach(log); /* before unlinking: the cleaner writes in the directory */
    int rc = 0;
    for (size_t i = 0; i < log->segment_count; i++)
        if (segment_delete(log->dir, log->segments[i]) != 0)
            rc = ST_EIO;
    log->segment_count = 0;
    DIR *d = opendir(log->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (unlinkat(dirfd(d), e->d_name, 0) != 0)
                rc = ST_EIO;
        }
        closedir(d);
    }
    if (rmdir(log->dir) != 0)
        rc = ST_EIO;
    log_info("log", "deleted dir=%s", log->dir);
    plog_free(log, ST_ENOTFOUND);
    return rc;
}

void plog_set_config(plog *log, const plog_config *config)
{
    if (config_valid(config))
        log->config = *config;
    else
        log_warn("log", "ignoring invalid log config dir=%s", log->dir);
}

int plog_push_segment(plog *log, segment *seg)
{
    /* sorted by base offset, no two alike (partition_log_internal.h) */
    INVARIANT(seg != NULL && (log->segment_count == 0 ||
                              log->segments[log->segment_count - 1]->base_offset < seg->base_offset));
    if (log->segment_count == log->segment_capacity) {
        if (log->segment_count >= LIMIT_SEGMENTS_PER_PARTITION)
            return ST_ETOOBIG;
        size_t capacity = log->segment_capacity ? log->segment_capacity * 2 : 8;
        segment **grown = realloc(log->segments, capacity * sizeof *grown);
        if (grown == NULL)
            return ST_ENOMEM;
        log->segments = grown;
        log->segment_capacity = capacity;
    }
    log->segments[log->segment_count++] = seg;
    return 0;
}

int plog_roll(plog *log, int64_t now_ms)
{
    segment *active = plog_active(log);
    /* never roll an empty segment: the new one would have the same base */
    INVARIANT(log->log_end_offset == active->next_offset && active->next_offset > active->base_offset);
    size_t segments_before = log->segment_count;
    int rc = segment_seal(active);
    segment *seg = NULL;
    if (rc == 0)
        rc = segment_create(log->dir, log->log_end_offset, log->config.segment_index_bytes, now_ms, &seg);
    if (rc == 0) {
        rc = plog_push_segment(log, seg);
        if (rc != 0)
            segment_delete(log->dir, seg);
    }
    if (rc != 0) {
        log_error("log", "roll failed dir=%s error=%s", log->dir, strait_error_name(rc));
        if (rc == ST_ENOMEM || rc == ST_ETOOBIG)
            return rc;
        return log->io_error = ST_EIO;
    }
    INVARIANT(log->segment_count == segments_before + 1 && plog_active(log) == seg &&
              seg->base_offset == log->log_end_offset && seg->size_bytes == 0);
    log->dir_dirty = true;
    log_info("log", "rolled segment dir=%s base_offset=%" PRId64 " previous_bytes=%" PRId64,
             log->dir, seg->base_offset, active->size_bytes);
    plog_producers_snapshot(log);
    return 0;
}

/* Kafka's shouldRoll: the batch would overflow segment.bytes, the segment is
 * older than segment.ms, an index is full, or an offset or position would not
 * fit the index's int32 fields. An empty segment never rolls. */
static bool should_roll(const plog *log, const batch_header *h, size_t len, int64_t now_ms)
{
    const segment *active = plog_active(log);
    if (active->size_bytes == 0)
        return false;
    int64_t segment_bytes = log->config.segment_bytes < INT32_MAX ? log->config.segment_bytes : INT32_MAX;
    int64_t last_offset = log->log_end_offset + h->last_offset_delta;
    return active->size_bytes > segment_bytes - (int64_t)len ||
           now_ms - active->created_ms > log->config.segment_ms || segment_index_full(active) ||
           last_offset - active->base_offset > INT32_MAX;
}

/* The batch as it goes to the segment (for INVARIANT_EXPENSIVE). */
static bool rewritten_batch_ok(const uint8_t *data, size_t len, const batch_header *h)
{
    batch_header back;
    return batch_header_parse(data, len, &back) == 0 && back.base_offset == h->base_offset &&
           back.last_offset_delta == h->last_offset_delta && batch_total_bytes(&back) == len &&
           back.max_timestamp == h->max_timestamp && batch_crc_ok(data, len);
}

int plog_append(plog *log, uint8_t *data, size_t len, int64_t log_append_time,
                plog_append_result *result)
{
    if (log->io_error != 0)
        return log->io_error;
    batch_header h;
    int rc = batch_header_parse(data, len, &h);
    if (rc != 0)
        return rc == ST_EUNSUPPORTED ? rc : ST_ECORRUPT;
    if (batch_total_bytes(&h) != len)
        return ST_EINVAL;
    if (len > INT32_MAX)
        return ST_ETOOBIG;
    int64_t now_ms = clock_wall_ms();
    if (should_roll(log, &h, len, now_ms) && (rc = plog_roll(log, now_ms)) != 0)
        return rc;

    INVARIANT(log->log_end_offset == plog_active(log)->next_offset &&
              log->log_start_offset <= log->log_end_offset && log->recovery_point <= log->log_end_offset);
    h.base_offset = log->log_end_offset;
    h.partition_leader_epoch = plog_leader_epoch(log);
    batch_set_base_offset(data, h.base_offset);
    batch_set_leader_epoch(data, h.partition_leader_epoch);
    if (log_append_time >= 0) {
        batch_set_log_append_time(data, len, log_append_time);
        h.max_timestamp = log_append_time;
        h.attributes |= BATCH_ATTR_LOG_APPEND_TIME;
    }
    /* checked before it is written: a validated batch (the contract) whose
     * rewritten header still parses to the offsets assigned here and whose
     * CRC (which does not cover base offset and epoch) still holds */
    INVARIANT_EXPENSIVE(rewritten_batch_ok(data, len, &h));
    rc = segment_append(plog_active(log), data, len, &h, log->config.index_interval_bytes);
    if (rc != 0) {
        if (rc == ST_EIO)
            log->io_error = ST_EIO;
        return rc;
    }
    log->log_end_offset = batch_last_offset(&h) + 1;
    INVARIANT(log->log_end_offset == plog_active(log)->next_offset);
    plog_producers_on_append(log, &h, now_ms);
    if (log->first_unflushed_ms < 0)
        log->first_unflushed_ms = now_ms;
    /* flush.messages: inline without a flusher; else on the flusher, and the
     * caller waits (plog_flush_wait) before acknowledging */
    if (log->log_end_offset - log->recovery_point >= log->config.flush_messages &&
        (rc = plog_flush_start(log)) != 0)
        return rc;
    result->base_offset = h.base_offset;
    result->last_offset = batch_last_offset(&h);
    result->flushed = log->recovery_point >= log->log_end_offset;
    result->needs_flush = !result->flushed && plog_flush_pending(log, log->log_end_offset);
    return 0;
}

/* Process-wide totals of flushes that had something to make durable, inline
 * (plog_flush) or on the flusher's workers (plog_flush_totals); atomic: the
 * workers add to them and a reader on any thread is safe. */
static _Atomic uint64_t flush_count_total;
static _Atomic uint64_t flush_nanoseconds_total;

uint64_t plog_flush_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void plog_flush_account(uint64_t started_ns)
{
    uint64_t now_ns = plog_flush_clock_ns();
    atomic_fetch_add_explicit(&flush_count_total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&flush_nanoseconds_total, now_ns > started_ns ? now_ns - started_ns : 0,
                              memory_order_relaxed);
}

void plog_flush_totals(uint64_t *count, uint64_t *nanoseconds)
{
    *count = atomic_load_explicit(&flush_count_total, memory_order_relaxed);
    *nanoseconds = atomic_load_explicit(&flush_nanoseconds_total, memory_order_relaxed);
}

static int flush_segments(plog *log);

int plog_flush(plog *log)
{
    if (log->io_error != 0)
        return log->io_error;
    /* an fsync in flight on the flusher first (its files are no longer
     * marked dirty); then waiters learn the outcome (log_flush.c) */
    int rc = plog_flush_settle(log);
    if (rc == 0 && log->recovery_point >= log->log_end_offset && !log->dir_dirty) {
        rc = flush_segments(log); /* nothing appended since: cheap, not counted */
    } else if (rc == 0) {
        uint64_t started_ns = plog_flush_clock_ns();
        rc = flush_segments(log);
        plog_flush_account(started_ns);
    }
    plog_flush_notify(log, rc);
    return rc;
}

static int flush_segments(plog *log)
{
    /* segments wholly below the recovery point were fsynced when it moved */
    for (size_t i = log->segment_count; i-- > 0;) {
        segment *seg = log->segments[i];
        if (segment_flush(seg) != 0)
            return log->io_error = ST_EIO;
        if (seg->base_offset <= log->recovery_point)
            break;
    }
    if (log->dir_dirty) {
        if (file_fsync_dir(log->dir) != 0)
            return log->io_error = ST_EIO;
        log->dir_dirty = false;
    }
    INVARIANT(log->recovery_point <= log->log_end_offset);
    log->recovery_point = log->log_end_offset;
    log->first_unflushed_ms = -1;
    return 0;
}

int plog_save_recovery_point(plog *log, int64_t now_ms)
{
    int64_t value = log->recovery_point;
    int rc = checkpoint_write(log->dir, PLOG_RECOVERY_POINT_CHECKPOINT_NAME, &value, 1, 1);
    if (rc == 0) {
        log->recovery_point_saved = value;
        log->recovery_point_saved_ms = now_ms;
    }
    return rc;
}

/* Index of the segment holding offset: the last with base_offset <= offset. */
static size_t find_segment(const plog *log, int64_t offset)
{
    size_t low = 0, high = log->segment_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (log->segments[mid]->base_offset <= offset)
            low = mid + 1;
        else
            high = mid;
    }
    return low == 0 ? 0 : low - 1;
}

/* Extends [position, *end) with whole batches while the range stays within
 * max_bytes; index entries (batch boundaries) let it skip ahead. */
static void extend_range(const segment *seg, int64_t position, int64_t *end, int32_t max_bytes)
{
    int64_t limit = position + (max_bytes > 0 ? max_bytes : 0);
    size_t low = 0, high = seg->offset_count;
    while (low < high) { /* first entry past the limit */
        size_t mid = low + (high - low) / 2;
        if (seg->offset_entries[mid].position <= limit)
            low = mid + 1;
        else
            high = mid;
    }
    batch_header h;
    if (low > 0 && seg->offset_entries[low - 1].position > *end) {
        /* jump only to a position that really starts the indexed batch */
        const segment_offset_entry *e = &seg->offset_entries[low - 1];
        if (segment_read_header(seg, e->position, &h) == 0 &&
            h.base_offset == seg->base_offset + e->relative_offset)
            *end = e->position;
    }
    while (*end < seg->size_bytes) {
        if (segment_read_header(seg, *end, &h) != 0)
            break; /* damaged data: serve what precedes it */
        if (*end + (int64_t)batch_total_bytes(&h) > limit)
            break;
        *end += (int64_t)batch_total_bytes(&h);
    }
}

/* Compaction leaves empty batches (no records, kept for producer state and
 * offsets, cleaner_internal.h). A fetch answer holding only empty batches
 * looks truncated to librdkafka, which grows its fetch size and at last
 * fails with MSG_SIZE_TOO_LARGE; so reads start at the first batch with
 * records (or a control batch) from *position on. ST_ENOTFOUND when the
 * segment has none. */
static int skip_empty_batches(const segment *seg, int64_t *position, batch_header *h)
{
    while (h->record_count == 0 && !(h->attributes & BATCH_ATTR_CONTROL)) {
        *position += (int64_t)batch_total_bytes(h);
        if (*position >= seg->size_bytes)
            return ST_ENOTFOUND;
        int rc = segment_read_header(seg, *position, h);
        if (rc != 0)
            return rc == ST_EIO ? rc : ST_ECORRUPT;
    }
    return 0;
}

/* The range of whole batches from the batch h at position, within max_bytes
 * (the first batch always). */
static void slice_from(const segment *seg, int64_t position, const batch_header *h, int32_t max_bytes,
                       plog_slice *out)
{
    int64_t end = position + (int64_t)batch_total_bytes(h);
    extend_range(seg, position, &end, max_bytes);
    /* whole batches of this segment, the first one always */
    INVARIANT(position >= 0 && end > position && end <= seg->size_bytes && end - position <= INT32_MAX);
    *out = (plog_slice){.fd = seg->log_fd, .file_position = position, .length = (int32_t)(end - position)};
}

int plog_read(plog *log, int64_t offset, int32_t max_bytes, plog_slice *out)
{
    if (offset < log->log_start_offset || offset > log->log_end_offset)
        return ST_ERANGE;
    segment *active = plog_active(log);
    INVARIANT(log->log_end_offset == active->next_offset);
    if (offset == log->log_end_offset) {
        *out = (plog_slice){.fd = active->log_fd, .file_position = active->size_bytes, .length = 0};
        return 0;
    }
    const segment *fallback = NULL; /* first empty batch met, served when nothing else follows */
    int64_t fallback_position = 0;
    batch_header fallback_header;
    for (size_t i = find_segment(log, offset); i < log->segment_count; i++) {
        segment *seg = log->segments[i];
        int64_t position;
        batch_header h;
        int rc = segment_find_offset(seg, offset, &position, &h);
        if (rc == ST_ENOTFOUND)
            continue; /* offset lies past this segment's last batch */
        if (rc != 0)
            return rc;
        int64_t found_position = position;
        batch_header found = h;
        rc = skip_empty_batches(seg, &position, &h);
        if (rc == ST_ENOTFOUND) {
            if (fallback == NULL) {
                fallback = seg;
                fallback_position = found_position;
                fallback_header = found;
            }
            continue;
        }
        if (rc != 0)
            return rc;
        slice_from(seg, position, &h, max_bytes, out);
        return 0;
    }
    if (fallback != NULL) {
        slice_from(fallback, fallback_position, &fallback_header, max_bytes, out);
        return 0;
    }
    log_error("log", "offset below log end has no batch dir=%s offset=%" PRId64, log->dir, offset);
    return ST_ECORRUPT;
}

bool plog_segments_ordered(const plog *log)
{
    if (log->segment_count == 0)
        return false;
    for (size_t i = 1; i < log->segment_count; i++) {
        const segment *previous = log->segments[i - 1], *seg = log->segments[i];
        if (seg->base_offset <= previous->base_offset || seg->base_offset < previous->next_offset)
            return false;
    }
    const segment *active = plog_active(log);
    return active->next_offset == log->log_end_offset &&
           log->segments[0]->base_offset <= log->log_start_offset &&
           log->log_start_offset <= log->log_end_offset && log->recovery_point <= log->log_end_offset;
}

int64_t plog_log_start_offset(const plog *log) { return log->log_start_offset; }
int64_t plog_log_end_offset(const plog *log) { return log->log_end_offset; }
int64_t plog_high_watermark(const plog *log) { return log->log_end_offset; }

int64_t plog_size_bytes(const plog *log)
{
    int64_t total = 0;
    for (size_t i = 0; i < log->segment_count; i++)
        total += log->segments[i]->size_bytes;
    return total;
}

int plog_offset_for_timestamp(plog *log, int64_t timestamp_ms, int64_t *offset,
                              int64_t *found_timestamp)
{
    *offset = -1;
    *found_timestamp = -1;
    for (size_t i = find_segment(log, log->log_start_offset); i < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        batch_header h;
        int rc = segment_find_timestamp(seg, timestamp_ms, log->log_start_offset, &h);
        if (rc == ST_ENOTFOUND)
            continue;
        if (rc != 0)
            return rc;
        *offset = h.base_offset > log->log_start_offset ? h.base_offset : log->log_start_offset;
        *found_timestamp = h.max_timestamp;
        return 0;
    }
    return 0;
}

int32_t plog_leader_epoch(const plog *log)
{
    int32_t epoch = leader_epoch_latest(&log->epochs);
    return epoch < 0 ? 0 : epoch;
}

/* A new epoch is used (stamped on batches) only once its checkpoint is
 * written: were batches of epoch E appended while leader-epoch-checkpoint
 * still ends before E, a restart would load that checkpoint and stamp the
 * next batches with an older epoch than the log already holds. So a failed
 * save takes the entry back; after a failed write (the file may or may not
 * hold it) the log is failed as after any write error. */
int plog_set_leader_epoch(plog *log, int32_t epoch)
{
    size_t count_before = log->epochs.count;
    int rc = leader_epoch_assign(&log->epochs, epoch, log->log_end_offset);
    if (rc == 1) {
        rc = leader_epoch_save(&log->epochs, log->dir);
        if (rc != 0) {
            /* the new entry is the last one (an assign at the limit also
             * dropped the oldest, which stays dropped) */
            log->epochs.count = count_before < log->epochs.count ? count_before : log->epochs.count - 1;
            if (rc != ST_ENOMEM)
                log->io_error = ST_EIO;
            log_error("log", "cannot save leader epoch dir=%s epoch=%d error=%s", log->dir, epoch,
                      strait_error_name(rc));
            return rc;
        }
        log_info("log", "leader epoch dir=%s epoch=%d start_offset=%" PRId64, log->dir, epoch,
                 log->log_end_offset);
        INVARIANT(plog_leader_epoch(log) == epoch);
    }
    return rc < 0 ? rc : 0;
}

void plog_end_offset_for_epoch(const plog *log, int32_t epoch, int32_t *found_epoch,
                               int64_t *end_offset)
{
    leader_epoch_end_offset(&log->epochs, epoch, log->log_end_offset, found_epoch, end_offset);
}

int plog_advance_log_start(plog *log, int64_t new_start)
{
    if (new_start <= log->log_start_offset)
        return 0;
    INVARIANT(new_start <= log->log_end_offset);
    int rc = checkpoint_write(log->dir, PLOG_LOG_START_CHECKPOINT_NAME, &new_start, 1, 1);
    if (rc != 0)
        return rc;
    log->log_start_offset = new_start;
    if (leader_epoch_truncate_start(&log->epochs, new_start))
        rc = leader_epoch_save(&log->epochs, log->dir);
    return rc;
}

int plog_drop_segments(plog *log, size_t count, const char *reason)
{
    if (count == 0 || count >= log->segment_count)
        return 0;
    int rc = plog_advance_log_start(log, log->segments[count]->base_offset);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        segment *seg = log->segments[i];
        log_info("log", "deleting segment dir=%s base_offset=%" PRId64 " bytes=%" PRId64 " reason=%s",
                 log->dir, seg->base_offset, seg->size_bytes, reason);
        if (segment_delete(log->dir, seg) != 0)
            rc = ST_EIO;
    }
    memmove(log->segments, log->segments + count, (log->segment_count - count) * sizeof *log->segments);
    log->segment_count -= count;
    INVARIANT(log->segment_count >= 1 && log->segments[0]->base_offset <= log->log_start_offset);
    INVARIANT_EXPENSIVE(plog_segments_ordered(log));
    plog_producers_prune(log);
    return rc;
}
