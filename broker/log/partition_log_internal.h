/*
 * partition_log_internal.h - the plog structure and the helpers shared by
 * partition_log.c (append, read, flush), log_recovery.c (open) and
 * log_retention.c (tick, retention, DeleteRecords). Private to broker/log.
 *
 * Runs on the broker's event-loop thread; nothing here is locked.
 */
#ifndef STRAIT_PARTITION_LOG_INTERNAL_H
#define STRAIT_PARTITION_LOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/leader_epoch.h"
#include "broker/log/partition_log.h"
#include "broker/log/segment.h"

#define PLOG_RECOVERY_POINT_CHECKPOINT_NAME "recovery-point-checkpoint"
#define PLOG_LOG_START_CHECKPOINT_NAME "log-start-offset-checkpoint"

/* How often a moved recovery point is written to its checkpoint (Kafka's
 * log.flush.offset.checkpoint.interval.ms). Writing it costs three fsyncs, so
 * not on every flush; a stale value only makes recovery rescan more. */
#define PLOG_RECOVERY_CHECKPOINT_INTERVAL_MS 60000

/* Room for "/<20 digits>.timeindex" and the checkpoint names after the dir. */
#define PLOG_DIR_PATH_BYTES_MAX 3900

struct plog {
    char *dir;
    plog_config config;
    segment **segments;          /* sorted by base offset, never empty; last = active */
    size_t segment_count;
    size_t segment_capacity;
    int64_t log_start_offset;    /* first readable offset, >= first segment's base */
    int64_t log_end_offset;      /* next offset to assign = active->next_offset */
    int64_t recovery_point;      /* offsets below are fsynced */
    int64_t recovery_point_saved;     /* value in recovery-point-checkpoint */
    int64_t recovery_point_saved_ms;  /* tick time it was written */
    int64_t first_unflushed_ms;  /* wall clock of the oldest unflushed append, -1 none */
    bool dir_dirty;              /* files created since the directory was fsynced */
    int io_error;                /* sticky ST_EIO after a failed write or fsync */
    leader_epoch_cache epochs;
    struct cleaner_log_state *cleaner;    /* compaction bookkeeping (cleaner_internal.h), NULL until used */
    struct producer_state *producers;     /* idempotent producers (log_producers.c) */
    int64_t producers_snapshot_offset;    /* offset of the newest snapshot written or loaded, -1 */
    int64_t producers_expire_checked_ms;  /* wall clock of the last expiry scan */
    /* asynchronous flush (log_flush.c) */
    struct log_flusher *flusher;          /* NULL: the policy fsyncs inline */
    struct flusher_job *flush_job;        /* the one fsync in flight, NULL none */
    int64_t flush_job_end;                /* log end when it started: what it makes durable */
    int64_t flush_wanted;                 /* offsets below must become durable (policy, waiters) */
    plog_flush_waiter *flush_waiters;     /* unordered, doubly linked */
};

static inline segment *plog_active(const plog *log) { return log->segments[log->segment_count - 1]; }

/* log_flush.c: starts an fsync on the flusher covering everything written
 * (or notes that the next one must, while one is in flight). */
int plog_flush_start(plog *log);
/* log_flush.c: takes back an fsync in flight (waits for it, or runs it
 * inline) and applies its result; before a synchronous flush or close. */
int plog_flush_settle(plog *log);
/* log_flush.c: completes the waiters the recovery point now covers, or all
 * of them with rc when rc != 0. */
void plog_flush_notify(plog *log, int rc);

/* log_recovery.c: lists the directory and recovers the segments, the offsets
 * and the epoch cache of a freshly allocated log (dir and config set). */
int plog_recover(plog *log);

/* partition_log.c */
int plog_roll(plog *log, int64_t now_ms);
/* Flush accounting for plog_flush_totals, from any thread: the monotonic
 * clock in nanoseconds, and one flush that started at started_ns is over. */
uint64_t plog_flush_clock_ns(void);
void plog_flush_account(uint64_t started_ns);
int plog_push_segment(plog *log, segment *seg);
/* The log's own invariants, for INVARIANT_EXPENSIVE: segments sorted by base
 * offset without overlap, the active one ending at the log end, log start
 * inside the first segment's range and the recovery point at most the end. */
bool plog_segments_ordered(const plog *log);
int plog_save_recovery_point(plog *log, int64_t now_ms);
/* Moves the log start up to new_start (never down): persists it, trims the
 * epoch cache. */
int plog_advance_log_start(plog *log, int64_t new_start);
/* Deletes the count oldest segments (count < segment_count). */
int plog_drop_segments(plog *log, size_t count, const char *reason);

/* log_producers.c: the producer state's lifecycle. recover is the last step
 * of plog_recover (allocates log->producers); on_append records a written
 * batch; snapshot writes <log end>.snapshot (roll, close; failures are logged,
 * not returned); prune deletes snapshots below the first segment (after
 * segments are dropped); tick expires idle producers; free releases it. */
struct batch_header;
int plog_producers_recover(plog *log);
void plog_producers_on_append(plog *log, const struct batch_header *h, int64_t now_ms);
void plog_producers_snapshot(plog *log);
void plog_producers_prune(plog *log);
void plog_producers_tick(plog *log, int64_t now_ms);
void plog_producers_free(plog *log);

#endif
