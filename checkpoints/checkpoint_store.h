/*
 * checkpoint_store.h - the sidecar's durable state in SQLite (WAL mode,
 * versioned schema with migrations): per flow and partition the offset map
 * from source offsets to target offsets, stored as ranges; and group
 * checkpoints (a group's committed source offset with its translation).
 *
 * Translation is exact to the record (DESIGN.md §7): translate(o) is the
 * target offset of the first mirrored record whose source offset is >= o
 * (gaps from compaction or control records included), or the mapped end
 * (target offset after the last mirrored record) when o is past it.
 *
 * Thread-safety: one store may be used from several threads; calls are
 * serialised internally. Every function returns 0 or ST_E*; SQLITE_BUSY
 * beyond the busy timeout, corruption or a schema from the future is an
 * error (ST_EIO / ST_ECORRUPT) and never a guessed answer.
 */
#ifndef STRAIT_CHECKPOINT_STORE_H
#define STRAIT_CHECKPOINT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct checkpoint_store checkpoint_store;

/* A flow is named "<source>-><target>" (e.g. "east->west"). Topics in the
 * map are SOURCE topic names; partitions are the same on both sides. */

/* Opens or creates the database at path, applies migrations. */
int checkpoint_store_open(const char *path, checkpoint_store **out);
void checkpoint_store_close(checkpoint_store *s);
/* The file the store was opened on (others open their own connection to it). */
const char *checkpoint_store_path(const checkpoint_store *s);

/*
 * Records that source offsets [source_offset ...] were written at target
 * offsets: records[i] = (source offset, target offset), in increasing order
 * of both, for one partition (a delivered batch). Extends the last range
 * when contiguous on both sides, else starts new ranges. Idempotent: pairs
 * already mapped are accepted if they agree, and ST_ECORRUPT if they differ.
 * Also ST_ECORRUPT: a pair below the mapped end that the map records as not
 * mirrored (in a gap), or a new pair whose target offset the map already
 * gives to an earlier record. ST_EINVAL: pairs not increasing on both sides.
 * Pairs below the first stored range (pruned) are accepted unchecked.
 *
 * Durability (checkpoint_store.c): a commit survives kill -9 but the last
 * commits may be lost on power loss. Extend only after the target
 * acknowledged; on start, before extending with new batches, re-extend from
 * the provenance headers of the target records after checkpoint_map_last()
 * (their target offsets), so a lost tail never becomes a hole.
 */
typedef struct checkpoint_pair {
    int64_t source_offset;
    int64_t target_offset;
} checkpoint_pair;

int checkpoint_map_extend(checkpoint_store *s, const char *flow, const char *topic,
                          int32_t partition, const checkpoint_pair *pairs, size_t count);

/*
 * Flow faults. When checkpoint_map_extend fails to write (SQLITE_BUSY beyond
 * the busy timeout, an I/O error, a damaged file; not a refused pair, which
 * leaves the map as it was), the target holds acknowledged records whose
 * pairs are missing from the flow's map. From then on checkpoint_translate,
 * checkpoint_group_put and checkpoint_group_each of that flow fail with the
 * recorded error (ST_EIO, ST_ECORRUPT, ...) instead of answering from a map
 * that is behind the target. The flow repairs the map from the target tail
 * (mirror_resume_partition) and then calls checkpoint_flow_fault_clear; an
 * ST_ECORRUPT fault (or a corrupt store) is never cleared.
 * checkpoint_map_extend / _last / _prune keep working for the repair.
 */
/* The flow's recorded fault (ST_ECORRUPT when the store is corrupt), 0 if none. */
int checkpoint_flow_fault(checkpoint_store *s, const char *flow);
void checkpoint_flow_fault_clear(checkpoint_store *s, const char *flow);
/* 0 if a write transaction can start now (BEGIN IMMEDIATE, ROLLBACK); else
 * ST_EIO (another process holds the write lock beyond the busy timeout, an
 * I/O error) or ST_ECORRUPT. Blocks up to the busy timeout (5 s). */
int checkpoint_store_probe(checkpoint_store *s);

/* Translation as defined above. *found false (and *target_offset -1) when
 * nothing of the partition has been mapped yet. */
int checkpoint_translate(checkpoint_store *s, const char *flow, const char *topic,
                         int32_t partition, int64_t source_offset, int64_t *target_offset,
                         bool *found);

/* Last mapped pair of a partition (resume and lag); *found false if none. */
int checkpoint_map_last(checkpoint_store *s, const char *flow, const char *topic,
                        int32_t partition, checkpoint_pair *last, bool *found);

/* Drops ranges wholly below source_log_start (the source's log start
 * offset), keeping the range that contains it. */
int checkpoint_map_prune(checkpoint_store *s, const char *flow, const char *topic,
                         int32_t partition, int64_t source_log_start);

/* Number of stored ranges (tests, /status, size figures). */
int checkpoint_map_range_count(checkpoint_store *s, const char *flow, int64_t *count);

typedef struct checkpoint_group_offset {
    char group[256];
    char topic[256];              /* source topic */
    int32_t partition;
    int64_t source_offset;        /* committed on the source */
    int64_t target_offset;        /* its translation */
    char metadata[1024];          /* commit metadata, copied */
    int64_t checkpointed_at_ms;   /* wall clock when stored */
    bool applied;                 /* committed to the target cluster */
} checkpoint_group_offset;

/* Stores (upserts) a group checkpoint. */
int checkpoint_group_put(checkpoint_store *s, const char *flow, const checkpoint_group_offset *g);

/* Calls fn for each stored checkpoint of group (NULL = every group) in
 * (group, topic, partition) order. fn returns non-zero to stop. fn runs with
 * the store's lock held: it must not call into the store (copy what it needs). */
int checkpoint_group_each(checkpoint_store *s, const char *flow, const char *group,
                          int (*fn)(void *arg, const checkpoint_group_offset *g), void *arg);

/* Marks a checkpoint as applied to the target (or not); ST_ENOTFOUND if no
 * such checkpoint is stored. */
int checkpoint_group_mark_applied(checkpoint_store *s, const char *flow, const char *group,
                                  const char *topic, int32_t partition, bool applied);

#endif
