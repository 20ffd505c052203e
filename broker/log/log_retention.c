/*
 * log_retention.c - the periodic work of a partition log (plog_tick):
 * flush.ms, the segment.ms roll, retention by time and by bytes, the
 * recovery-point checkpoint; and DeleteRecords (plog_delete_records).
 *
 * Retention removes whole segments from the oldest on and never the active
 * one (Kafka's deletableSegments: stop at the first segment to keep). It
 * applies only when cleanup.policy contains delete.
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#include <inttypes.h>
#include <sys/stat.h>

#include "broker/log/partition_log_internal.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"

/* The time retention compares against: the segment's largest batch
 * timestamp, or the .log file's modification time when no batch carries one
 * (Kafka's largestTimestamp). */
static int64_t segment_retention_time_ms(const segment *seg)
{
    if (seg->max_timestamp_ms >= 0)
        return seg->max_timestamp_ms;
    struct stat st;
    if (fstat(seg->log_fd, &st) != 0)
        return seg->created_ms;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static int retain_by_time(plog *log, int64_t now_ms)
{
    if (log->config.retention_ms < 0)
        return 0;
    size_t count = 0;
    while (count + 1 < log->segment_count &&
           now_ms - segment_retention_time_ms(log->segments[count]) > log->config.retention_ms)
        count++;
    INVARIANT(count < log->segment_count); /* the active segment stays */
    return plog_drop_segments(log, count, "retention.ms");
}

static int retain_by_size(plog *log)
{
    if (log->config.retention_bytes < 0)
        return 0;
    int64_t excess = plog_size_bytes(log) - log->config.retention_bytes;
    size_t count = 0;
    while (count + 1 < log->segment_count && excess - log->segments[count]->size_bytes >= 0) {
        excess -= log->segments[count]->size_bytes;
        count++;
    }
    INVARIANT(count < log->segment_count); /* the active segment stays */
    return plog_drop_segments(log, count, "retention.bytes");
}

int plog_tick(plog *log, int64_t now_ms)
{
    if (log->io_error != 0)
        return log->io_error;
    int rc = 0;
    /* flush.ms: on the flusher when one is attached (log_flush.c), else inline */
    if (log->first_unflushed_ms >= 0 && now_ms - log->first_unflushed_ms >= log->config.flush_ms)
        rc = plog_flush_start(log);
    segment *active = plog_active(log);
    if (rc == 0 && active->size_bytes > 0 && now_ms - active->created_ms > log->config.segment_ms)
        rc = plog_roll(log, now_ms);
    if (rc == 0 && log->config.delete_policy)
        rc = retain_by_time(log, now_ms);
    if (rc == 0 && log->config.delete_policy)
        rc = retain_by_size(log);
    if (rc == 0 && log->recovery_point != log->recovery_point_saved &&
        now_ms - log->recovery_point_saved_ms >= PLOG_RECOVERY_CHECKPOINT_INTERVAL_MS)
        rc = plog_save_recovery_point(log, now_ms);
    if (rc == 0)
        plog_producers_tick(log, now_ms);
    if (rc != 0)
        log_error("log", "periodic work failed dir=%s error=%s", log->dir, strait_error_name(rc));
    return rc;
}

int plog_delete_records(plog *log, int64_t offset)
{
    if (!log->config.delete_policy)
        return ST_EUNSUPPORTED; /* Kafka: POLICY_VIOLATION on compacted topics */
    if (offset < 0 || offset > log->log_end_offset)
        return ST_ERANGE;
    int rc = plog_advance_log_start(log, offset);
    if (rc != 0)
        return rc;
    size_t count = 0;
    while (count + 1 < log->segment_count && log->segments[count + 1]->base_offset <= offset)
        count++;
    /* segments wholly below the new start go; the one holding it stays */
    INVARIANT(log->log_start_offset >= offset && count < log->segment_count &&
              log->segments[count]->base_offset <= log->log_start_offset);
    log_info("log", "delete records dir=%s log_start_offset=%" PRId64, log->dir, log->log_start_offset);
    return plog_drop_segments(log, count, "delete-records");
}
