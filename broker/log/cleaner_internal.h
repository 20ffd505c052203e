/*
 * cleaner_internal.h - log compaction internals shared by cleaner.c (worker
 * thread and hand-off), cleaner_plan.c (eligibility, job snapshot, cleaner
 * checkpoint), cleaner_rewrite.c (offset map and segment rewrite, on the
 * worker) and cleaner_swap.c (swap on the loop, crash recovery). Private to
 * broker/log.
 *
 * How a cleaning goes (Kafka's LogCleaner semantics, our own code):
 *
 *  1. plan (loop): first dirty offset = cleaner checkpoint clamped to the
 *     log; first uncleanable offset = the active segment's base, or the base
 *     of the first dirty segment whose max timestamp is within
 *     min.compaction.lag.ms. Eligible when dirty bytes / cleanable bytes >=
 *     min.cleanable.dirty.ratio, or the first dirty batch is older than
 *     max.compaction.lag.ms, or a retained tombstone's delete horizon has
 *     passed. The job snapshots the sealed segments below the first
 *     uncleanable offset, each with a dup()ed .log descriptor: sealed
 *     segments are never written again, and a descriptor stays readable even
 *     when retention unlinks the file meanwhile.
 *  2. map (worker): key -> latest offset over [first dirty, first
 *     uncleanable); records without a key and control batches are not
 *     mapped. When the map's memory budget runs out the scan stops at that
 *     batch and the clean end moves there (the rest stays dirty).
 *  3. rewrite (worker): the snapshot segments below the clean end, grouped so
 *     a group fits segment.bytes and int32 relative offsets, are rewritten
 *     each into <dir>/<base>.cleaned/ (a complete segment: .log, .index,
 *     .timeindex, built by segment_append). A record stays when it has a key,
 *     its offset >= the map's offset for the key, and it is not a tombstone
 *     past its delete horizon. A batch with every record kept (and nothing to
 *     stamp) is copied byte for byte; otherwise it is re-encoded with its
 *     original codec, base offset, lastOffsetDelta, producer id / epoch /
 *     base sequence and leader epoch, the records keeping their offset
 *     deltas (offsets never change; fetching a removed offset returns the
 *     next batch). A batch that keeps a tombstone and has no delete horizon
 *     gets one (attribute bit 6, baseTimestamp = now + delete.retention.ms,
 *     KIP-534); the tombstone goes in a cleaning after that time. A batch
 *     that loses every record is dropped, except that an empty batch (no
 *     records, same base and last offset, uncompressed) is kept when it is
 *     the last batch of its producer id in the cleaned range (so producer
 *     state and sequence numbers survive, as Kafka keeps it), the last batch
 *     of the cleaned range (so no offset gap lies before the uncleaned part,
 *     where the active segment may still be empty after a segment.ms roll
 *     and a consumer would find no batch at all), or the last batch of a
 *     group that would otherwise be empty (an empty segment file is deleted
 *     by recovery and could move the log start). Reads skip empty batches
 *     when records follow (plog_read), since librdkafka takes a response
 *     without records for a truncated one.
 *     Control batches are kept as they are (no transactions yet).
 *     The directory is fsynced and renamed <base>.<end>.swap: from then on
 *     recovery completes the swap; before, it deletes the .cleaned leftovers.
 *  4. swap (loop): the groups' segments must still be in the log, unchanged
 *     (retention may have removed some: then the job is discarded). For each
 *     group: move .index and .timeindex in, unlink the replaced segments'
 *     files except the first's .log, rename the cleaned .log over it (the
 *     swap is complete once the .log left the .swap directory), remove the
 *     directory, fsync; replace the segments in memory. Then the cleaner
 *     checkpoint moves to the clean end.
 *
 * Recovery (cleaner_recover_dir, before the segments are listed): every
 * *.cleaned directory is deleted; for every <base>.<end>.swap directory that
 * still holds its .log, every segment file with a base in [base, end) is
 * deleted, the swap's files are moved in (a missing index is rebuilt by the
 * segment recovery) and the directory removed. So a kill -9 at any step
 * leaves either the old segments or the cleaned one, never both, never
 * neither.
 */
#ifndef STRAIT_CLEANER_INTERNAL_H
#define STRAIT_CLEANER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/log/cleaner.h"
#include "broker/log/partition_log_internal.h"
#include "broker/log/segment.h"

/* Per partition directory, Kafka's name: one entry of two columns,
 * first dirty offset and the earliest delete horizon of a retained tombstone
 * (-1: none). */
#define CLEANER_CHECKPOINT_NAME "cleaner-offset-checkpoint"

/* "<20 digits>.<20 digits>.swap" plus the terminator. */
#define CLEANER_DIR_NAME_BYTES 64

/* What the cleaner keeps per partition log (plog.cleaner); loop thread. */
typedef struct cleaner_log_state {
    bool loaded;                 /* checkpoint read */
    int64_t first_dirty_offset;  /* offsets below were cleaned */
    int64_t delete_horizon_ms;   /* earliest horizon of a retained tombstone, -1 none */
    bool uncleanable;            /* a job met corrupt data: skipped until restart */
    struct cleaner_job *job;     /* in flight, or NULL */
} cleaner_log_state;

/* One sealed segment as the loop saw it when the job was planned. */
typedef struct cleaner_source {
    segment *seg;                /* loop-owned; only compared by the swap */
    int64_t base_offset;
    int64_t next_offset;
    int64_t size_bytes;
    int fd;                      /* dup of the .log descriptor, owned by the job */
} cleaner_source;

/* Consecutive sources rewritten into one cleaned segment. */
typedef struct cleaner_group {
    size_t first;                /* sources[first .. first + count) */
    size_t count;
    int64_t base_offset;
    int64_t end_offset;          /* offsets replaced: [base_offset, end_offset) */
    segment *cleaned;            /* the new segment, files in the work directory */
    char dir_name[CLEANER_DIR_NAME_BYTES]; /* "<base>.cleaned", then "<base>.<end>.swap" */
    bool created;                /* the work directory exists */
} cleaner_group;

/* Hand-off states between the loop and the worker (under the owner's mutex). */
enum cleaner_job_state { CLEANER_JOB_NEW, CLEANER_JOB_QUEUED, CLEANER_JOB_RUNNING, CLEANER_JOB_DONE };

typedef struct cleaner_job {
    plog *log;                   /* loop only; NULL once the log detached */
    struct log_cleaner *owner;   /* NULL when run synchronously */
    enum cleaner_job_state state;
    atomic_bool cancelled;       /* set by the loop, polled by the worker */
    /* input, immutable while the worker runs */
    char *dir;
    plog_config config;
    int64_t now_ms;
    int64_t first_dirty;         /* the map starts here */
    int64_t end;                 /* first uncleanable offset */
    cleaner_source *sources;
    size_t source_count;
    /* output */
    int rc;
    int64_t clean_end;           /* next first dirty offset */
    int64_t delete_horizon_ms;   /* earliest horizon of a kept tombstone, -1 none */
    cleaner_group *groups;
    size_t group_count;
    int64_t bytes_before;
    int64_t bytes_after;
    int64_t records_removed;
} cleaner_job;

/* cleaner_plan.c (loop) */
cleaner_log_state *cleaner_state(plog *log);
/* Filthiness of log at now_ms: *ratio, and whether it must be cleaned now;
 * ST_ENOTFOUND when nothing is cleanable. */
int cleaner_eligible(plog *log, int64_t now_ms, double *ratio);
/* Snapshot for a job (the log must be eligible); attaches it to the log. */
int cleaner_job_prepare(plog *log, int64_t now_ms, cleaner_job **out);
int cleaner_save_checkpoint(plog *log);

/* cleaner_rewrite.c (worker thread; touches only the job) */
void cleaner_job_run(cleaner_job *job);

/* cleaner_swap.c (loop) */
/* Installs the job's result in its log; 0, or the error (the log unchanged
 * unless the error is ST_EIO, which also fails the log). */
int cleaner_job_apply(cleaner_job *job);
/* Removes whatever work directories are left, closes descriptors, frees. */
void cleaner_job_free(cleaner_job *job);
/* Hook for crash tests: called at each step of the swap with its name;
 * NULL in production. */
extern void (*cleaner_crash_point)(const char *step);

/* cleaner.c (loop): cancels and waits for the log's job, frees the state.
 * Called by plog_close and plog_delete. */
void cleaner_log_detach(plog *log);

/* cleaner_swap.c, called by plog_recover before the segments are listed:
 * deletes *.cleaned work, completes *.swap. Returns 0 or ST_EIO. */
int cleaner_recover_dir(const char *dir);

/* Shared file helpers (cleaner_swap.c). */
int cleaner_remove_tree(const char *path);

#endif
