/*
 * leader_epoch.c - the leader-epoch cache (contract in leader_epoch.h):
 * assignment, truncation at both ends, OffsetForLeaderEpoch lookup, and its
 * checkpoint file.
 */
#include "broker/log/leader_epoch.h"
#include "common/limits.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/checkpoint_file.h"
#include "common/error.h"
#include "common/invariant.h"

void leader_epoch_init(leader_epoch_cache *cache) { memset(cache, 0, sizeof *cache); }

void leader_epoch_free(leader_epoch_cache *cache)
{
    free(cache->entries);
    memset(cache, 0, sizeof *cache);
}

static int reserve(leader_epoch_cache *cache, size_t count)
{
    if (count <= cache->capacity)
        return 0;
    size_t capacity = cache->capacity ? cache->capacity * 2 : 8;
    if (capacity < count)
        capacity = count;
    leader_epoch_entry *entries = realloc(cache->entries, capacity * sizeof *entries);
    if (entries == NULL)
        return ST_ENOMEM;
    cache->entries = entries;
    cache->capacity = capacity;
    return 0;
}

/* The cache's invariants (leader_epoch.h): epochs strictly increasing,
 * start offsets non-decreasing, both non-negative. */
static bool cache_ordered(const leader_epoch_cache *cache)
{
    for (size_t i = 0; i < cache->count; i++) {
        const leader_epoch_entry *e = &cache->entries[i];
        if (e->epoch < 0 || e->start_offset < 0)
            return false;
        if (i > 0 && (e->epoch <= e[-1].epoch || e->start_offset < e[-1].start_offset))
            return false;
    }
    return cache->count <= LIMIT_LEADER_EPOCH_ENTRIES && cache->count <= cache->capacity;
}

static bool entries_valid(const int64_t *values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int64_t epoch = values[2 * i], start = values[2 * i + 1];
        if (epoch < 0 || epoch > INT32_MAX || start < 0)
            return false;
        if (i > 0 && (epoch <= values[2 * i - 2] || start < values[2 * i - 1]))
            return false;
    }
    return true;
}

int leader_epoch_load(leader_epoch_cache *cache, const char *dir)
{
    cache->count = 0;
    int64_t *values = malloc(2 * LIMIT_LEADER_EPOCH_ENTRIES * sizeof *values);
    if (values == NULL)
        return ST_ENOMEM;
    size_t count = 0;
    int rc = checkpoint_read(dir, LEADER_EPOCH_CHECKPOINT_NAME, 2, values,
                             LIMIT_LEADER_EPOCH_ENTRIES, &count);
    if (rc == 0 && !entries_valid(values, count))
        rc = ST_ECORRUPT;
    if (rc == 0)
        rc = reserve(cache, count);
    if (rc == 0) {
        for (size_t i = 0; i < count; i++) {
            cache->entries[i].epoch = (int32_t)values[2 * i];
            cache->entries[i].start_offset = values[2 * i + 1];
        }
        cache->count = count;
    }
    free(values);
    INVARIANT_EXPENSIVE(cache_ordered(cache));
    return rc;
}

int leader_epoch_save(const leader_epoch_cache *cache, const char *dir)
{
    /* checked before it is written: leader_epoch_load refuses anything else */
    INVARIANT_EXPENSIVE(cache_ordered(cache));
    int64_t *values = malloc((2 * cache->count + 1) * sizeof *values);
    if (values == NULL)
        return ST_ENOMEM;
    for (size_t i = 0; i < cache->count; i++) {
        values[2 * i] = cache->entries[i].epoch;
        values[2 * i + 1] = cache->entries[i].start_offset;
    }
    int rc = checkpoint_write(dir, LEADER_EPOCH_CHECKPOINT_NAME, values, cache->count, 2);
    free(values);
    return rc;
}

int32_t leader_epoch_latest(const leader_epoch_cache *cache)
{
    return cache->count ? cache->entries[cache->count - 1].epoch : -1;
}

int leader_epoch_assign(leader_epoch_cache *cache, int32_t epoch, int64_t start_offset)
{
    if (epoch < 0 || start_offset < 0)
        return ST_EINVAL;
    if (cache->count > 0) {
        const leader_epoch_entry *last = &cache->entries[cache->count - 1];
        if (epoch <= last->epoch)
            return 0;
        if (start_offset < last->start_offset)
            return ST_EINVAL; /* the caller must truncate the cache first */
    }
    if (cache->count == LIMIT_LEADER_EPOCH_ENTRIES) {
        memmove(cache->entries, cache->entries + 1, (cache->count - 1) * sizeof *cache->entries);
        cache->count--;
    }
    int rc = reserve(cache, cache->count + 1);
    if (rc != 0)
        return rc;
    cache->entries[cache->count].epoch = epoch;
    cache->entries[cache->count].start_offset = start_offset;
    cache->count++;
    INVARIANT(cache->count == 1 || (cache->entries[cache->count - 2].epoch < epoch &&
                                    cache->entries[cache->count - 2].start_offset <= start_offset));
    return 1;
}

bool leader_epoch_truncate_end(leader_epoch_cache *cache, int64_t end_offset)
{
    size_t count = cache->count;
    while (count > 0 && cache->entries[count - 1].start_offset > end_offset)
        count--;
    bool changed = count != cache->count;
    cache->count = count;
    INVARIANT(count == 0 || cache->entries[count - 1].start_offset <= end_offset);
    return changed;
}

bool leader_epoch_truncate_start(leader_epoch_cache *cache, int64_t start_offset)
{
    /* keep the last entry starting at or before start_offset, moved up to it */
    size_t first = 0;
    while (first + 1 < cache->count && cache->entries[first + 1].start_offset <= start_offset)
        first++;
    if (cache->count == 0 || (first == 0 && cache->entries[0].start_offset >= start_offset))
        return false;
    memmove(cache->entries, cache->entries + first, (cache->count - first) * sizeof *cache->entries);
    cache->count -= first;
    if (cache->entries[0].start_offset < start_offset)
        cache->entries[0].start_offset = start_offset;
    INVARIANT(cache->count >= 1 && cache->entries[0].start_offset >= start_offset);
    INVARIANT_EXPENSIVE(cache_ordered(cache));
    return true;
}

void leader_epoch_end_offset(const leader_epoch_cache *cache, int32_t epoch, int64_t log_end_offset,
                             int32_t *found_epoch, int64_t *end_offset)
{
    *found_epoch = -1;
    *end_offset = -1;
    if (cache->count == 0 || epoch < cache->entries[0].epoch)
        return;
    if (epoch == cache->entries[cache->count - 1].epoch) {
        *found_epoch = epoch;
        *end_offset = log_end_offset;
        return;
    }
    /* binary search for the first entry with a higher epoch */
    size_t low = 0, high = cache->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (cache->entries[mid].epoch <= epoch)
            low = mid + 1;
        else
            high = mid;
    }
    if (low == cache->count)
        return; /* above the latest epoch: unknown */
    INVARIANT(low >= 1 && cache->entries[low - 1].epoch <= epoch && cache->entries[low].epoch > epoch);
    *found_epoch = cache->entries[low - 1].epoch;
    *end_offset = cache->entries[low].start_offset;
}
