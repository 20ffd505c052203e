/*
 * partition_log.h - the durable log of one partition: a directory of segments
 * with sparse offset and time indexes, recovery, roll, retention, flush policy
 * and the leader-epoch cache.
 *
 * Directory <log.dir>/<topic>-<partition>/ holds:
 *   <20-digit base offset>.log        record batches exactly as stored
 *   <20-digit base offset>.index      sparse offset index (see segment.h)
 *   <20-digit base offset>.timeindex  sparse time index
 *   leader-epoch-checkpoint           epoch -> start offset lines
 *   recovery-point-checkpoint         offset up to which data is known fsynced
 *   log-start-offset-checkpoint       log start offset (DeleteRecords, retention)
 *
 * Runs on the broker's event-loop thread; not thread-safe. Every function
 * returns 0 or a negative ST_E* value (common/error.h).
 */
#ifndef STRAIT_PARTITION_LOG_H
#define STRAIT_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plog plog;

/* Per-partition settings; the topic's effective configuration. */
typedef struct plog_config {
    int64_t segment_bytes;        /* segment.bytes: roll when the active segment would exceed it */
    int64_t segment_ms;           /* segment.ms: roll when the active segment is older */
    int64_t retention_ms;         /* retention.ms, -1 = unlimited */
    int64_t retention_bytes;      /* retention.bytes, -1 = unlimited */
    int64_t flush_messages;       /* flush.messages: fsync after this many records (1 = every append) */
    int64_t flush_ms;             /* flush.ms: fsync when the oldest unflushed data is older */
    int32_t index_interval_bytes; /* index.interval.bytes: bytes between index entries */
    int32_t segment_index_bytes;  /* segment.index.bytes: max size of one index file */
    bool delete_policy;           /* cleanup.policy contains "delete" (retention applies) */
    int64_t producer_id_expiration_ms; /* producer.id.expiration.ms: forget idle idempotent producers */
    bool compact_policy;          /* cleanup.policy contains "compact" (the cleaner runs, cleaner.h) */
    int64_t delete_retention_ms;  /* delete.retention.ms: tombstones live this long after cleaning */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio: dirty share that starts a cleaning */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms: records younger stay uncompacted */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms: dirty records older force a cleaning */
} plog_config;

/* Fills c with Kafka's defaults. */
void plog_config_default(plog_config *c);

/* Opens (creating if needed) the log in dir and recovers it: segments after
 * the recovery point are scanned, CRCs checked and a torn or corrupt tail
 * truncated; missing or damaged indexes are rebuilt. */
int plog_open(const char *dir, const plog_config *config, plog **out);
/* Flushes everything and closes; frees the log. NULL is allowed. */
void plog_close(plog *log);
/* Closes and removes the directory and everything in it. */
int plog_delete(plog *log);

void plog_set_config(plog *log, const plog_config *config);

/* Outcome of one append. */
typedef struct plog_append_result {
    int64_t base_offset;     /* offset assigned to the batch's first record */
    int64_t last_offset;     /* offset of its last record */
    bool flushed;            /* data up to last_offset is fsynced (policy met) */
    bool needs_flush;        /* the flush policy wants data up to last_offset durable and the
                              * fsync runs on the flusher: acknowledge only after
                              * plog_flush_wait(last_offset + 1) says it is done */
} plog_append_result;

/*
 * Appends one validated batch (batch.h). The log rewrites the base offset and
 * partition leader epoch in data (the caller's buffer) and, if log_append_time
 * >= 0, the LogAppendTime max timestamp, then writes it to the active segment,
 * rolling first if segment.bytes/segment.ms say so. When the flush policy says
 * this append must be durable (flush.messages reached): without a flusher
 * (plog_set_flusher) it fsyncs before returning, so the caller may
 * acknowledge as soon as this returns 0; with one it starts an fsync on the
 * flusher's workers and sets result->needs_flush: the caller acknowledges
 * only when plog_flush_wait reports the data durable.
 * After any failed write or fsync the log is failed: this append and every
 * later append, flush and tick return ST_EIO (Kafka takes the log directory
 * offline), so nothing written after a failed fsync is ever acknowledged.
 * ST_ECORRUPT / ST_EUNSUPPORTED / ST_EINVAL for a buffer that is not exactly
 * one batch (nothing is written).
 */
int plog_append(plog *log, uint8_t *data, size_t len, int64_t log_append_time,
                plog_append_result *result);

/* fsyncs everything written so far on the calling thread (waiting for an
 * fsync in flight on the flusher first) and advances the recovery point. */
int plog_flush(plog *log);

/*
 * Asynchronous durability (DESIGN.md §5: fsync runs on worker threads).
 * With a flusher attached, fsyncs the flush policy asks for run on its
 * workers (flusher.h) over dup()ed descriptors; the recovery point advances
 * only when one completed. At most one fsync per log is in flight: appends
 * needing durability meanwhile are covered by the next one, which syncs
 * everything written until it starts (group commit).
 */
struct log_flusher;
/* Attaches (or with NULL detaches, after settling an fsync in flight) the
 * flusher; the loop thread owns both. */
void plog_set_flusher(plog *log, struct log_flusher *flusher);

typedef struct plog_flush_waiter plog_flush_waiter;
/* rc 0: data below w->offset is durable. ST_EIO: the fsync failed, the log is
 * failed and the data must never be acknowledged. ST_ENOTFOUND: the log was
 * deleted. Called on the loop thread, possibly from inside any plog call on
 * this log: it must not close, delete or append to the log. */
typedef void (*plog_flush_fn)(plog_flush_waiter *w, int rc);
struct plog_flush_waiter {      /* caller-owned; fields private to partition_log */
    int64_t offset;
    plog_flush_fn done;
    void *arg;
    plog *log;                  /* while registered, else NULL */
    plog_flush_waiter *prev, *next;
};

/* Calls done(w, rc) once data below offset is durable (starting an fsync if
 * none covers it yet). Returns 1 when it already is (done is not called),
 * 0 when registered, or the log's sticky error (ST_EIO; not registered). */
int plog_flush_wait(plog *log, int64_t offset, plog_flush_waiter *w, plog_flush_fn done, void *arg);
/* Unregisters w if it is still waiting (the request went away); done is not
 * called. Safe on a waiter that already completed. */
void plog_flush_cancel(plog_flush_waiter *w);
/* True when the flush policy asked for data below offset to be durable and
 * it is not yet (an idempotent retry of such a batch must wait too). */
bool plog_flush_pending(const plog *log, int64_t offset);

/* Flushes (plog_flush calls with data to make durable) over every log of the
 * process since it started, and their total duration: the broker's
 * strait_broker_log_flushes_total metrics. Safe from any thread. */
void plog_flush_totals(uint64_t *count, uint64_t *nanoseconds);

/* Periodic work, called about once a second: flush.ms, segment.ms roll,
 * retention by time and bytes (whole segments, never the active one).
 * now_ms is wall-clock milliseconds. */
int plog_tick(plog *log, int64_t now_ms);

/* A contiguous file range holding whole batches, for sendfile. */
typedef struct plog_slice {
    int fd;               /* segment file descriptor owned by the log: dup() it to keep it */
    int64_t file_position;
    int32_t length;       /* 0 when there is nothing at the offset yet */
} plog_slice;

/*
 * Finds whole batches starting with the batch that contains offset, up to
 * max_bytes, within one segment. The first batch is returned even when it is
 * larger than max_bytes (KIP-74), so consumers always progress. After
 * compaction the batch holding offset may be gone: the range starts at the
 * next batch, and empty batches (no records) are skipped when a batch with
 * records follows somewhere before the log end.
 * Returns ST_ERANGE if offset < log start or offset > log end; at log end
 * returns 0 with length 0.
 */
int plog_read(plog *log, int64_t offset, int32_t max_bytes, plog_slice *out);

int64_t plog_log_start_offset(const plog *log);
int64_t plog_log_end_offset(const plog *log);   /* next offset to assign */
int64_t plog_high_watermark(const plog *log);   /* = log end on a single node */
int64_t plog_size_bytes(const plog *log);

/* First offset whose batch max timestamp >= timestamp_ms (ListOffsets by
 * time, via the time index). *offset = -1 when none. *found_timestamp gets
 * the batch's max timestamp. Batch granularity: *offset is that batch's base
 * offset (or the log start when the batch straddles it). */
int plog_offset_for_timestamp(plog *log, int64_t timestamp_ms, int64_t *offset,
                              int64_t *found_timestamp);

/* Advances the log start offset to offset (DeleteRecords) and deletes whole
 * segments below it. offset > log end is ST_ERANGE; an offset at or below
 * the log start changes nothing; ST_EUNSUPPORTED when cleanup.policy has no
 * delete (Kafka answers POLICY_VIOLATION). Persisted. */
int plog_delete_records(plog *log, int64_t offset);

/* Leader epochs: the current epoch (new batches are stamped with it) and the
 * end offset of an epoch for OffsetForLeaderEpoch: the start offset of the
 * next higher epoch, or the log end for the current epoch; -1/-1 when the
 * requested epoch is below the first known. */
int32_t plog_leader_epoch(const plog *log);
int plog_set_leader_epoch(plog *log, int32_t epoch);
void plog_end_offset_for_epoch(const plog *log, int32_t epoch, int32_t *found_epoch,
                               int64_t *end_offset);

#endif
