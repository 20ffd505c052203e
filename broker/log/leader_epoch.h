/*
 * leader_epoch.h - the leader-epoch cache of one partition log: which leader
 * epoch began at which offset, persisted in leader-epoch-checkpoint (format in
 * checkpoint_file.h, two columns: epoch, start offset).
 *
 * Invariants: epochs strictly increase; start offsets never decrease (two
 * epochs may start at the same offset when a leader wrote nothing). Answers
 * OffsetForLeaderEpoch (Kafka's LeaderEpochFileCache.endOffsetFor).
 *
 * Runs on the event-loop thread of the owning log; not thread-safe.
 */
#ifndef STRAIT_LEADER_EPOCH_H
#define STRAIT_LEADER_EPOCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEADER_EPOCH_CHECKPOINT_NAME "leader-epoch-checkpoint"


typedef struct leader_epoch_entry {
    int32_t epoch;
    int64_t start_offset; /* first offset written under this epoch */
} leader_epoch_entry;

typedef struct leader_epoch_cache {
    leader_epoch_entry *entries; /* sorted by epoch, see invariants above */
    size_t count;
    size_t capacity;
} leader_epoch_cache;

void leader_epoch_init(leader_epoch_cache *cache);
void leader_epoch_free(leader_epoch_cache *cache);

/* Loads dir/leader-epoch-checkpoint, replacing the contents. Returns 0,
 * ST_ENOTFOUND (no file), ST_ECORRUPT (malformed or breaks the invariants;
 * the cache is left empty), ST_ENOMEM or ST_EIO. */
int leader_epoch_load(leader_epoch_cache *cache, const char *dir);
/* Writes the checkpoint atomically. */
int leader_epoch_save(const leader_epoch_cache *cache, const char *dir);

/* Latest epoch, or -1 when the cache is empty. */
int32_t leader_epoch_latest(const leader_epoch_cache *cache);

/* Records that epoch starts at start_offset if epoch is higher than the
 * latest (a lower or equal epoch changes nothing). Returns 1 when the cache
 * changed, 0 when not, or ST_EINVAL / ST_ENOMEM. */
int leader_epoch_assign(leader_epoch_cache *cache, int32_t epoch, int64_t start_offset);

/* The log was truncated to end_offset: drops epochs that started after it.
 * Returns true when the cache changed. */
bool leader_epoch_truncate_end(leader_epoch_cache *cache, int64_t end_offset);
/* The log start moved to start_offset: drops epochs that ended before it and
 * moves the start of the epoch containing it there (Kafka truncateFromStart).
 * Returns true when the cache changed. */
bool leader_epoch_truncate_start(leader_epoch_cache *cache, int64_t start_offset);

/* OffsetForLeaderEpoch: for the latest epoch, (epoch, log_end_offset); for an
 * older known range, (largest epoch <= requested, start offset of the next
 * higher epoch); -1/-1 when requested is below the first epoch, above the
 * latest, or the cache is empty. */
void leader_epoch_end_offset(const leader_epoch_cache *cache, int32_t epoch, int64_t log_end_offset,
                             int32_t *found_epoch, int64_t *end_offset);

#endif
