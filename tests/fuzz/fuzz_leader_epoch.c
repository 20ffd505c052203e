/*
 * fuzz_leader_epoch.c - libFuzzer target for loading a partition's
 * leader-epoch-checkpoint (leader_epoch_load, broker/log/leader_epoch.h) and
 * for the lookups and truncations the log then does on what it loaded.
 *
 * Input: the file's bytes. leader_epoch_load only takes a directory, so the
 * input is written as <temp dir>/leader-epoch-checkpoint first (tmpfs).
 * Checked: a failed load is ST_ECORRUPT and leaves the cache empty; a loaded
 * cache keeps the invariants (epochs strictly increase, start offsets never
 * decrease, none negative); leader_epoch_end_offset agrees with a linear
 * scan for every loaded epoch and its neighbours; save then load gives the
 * same entries; truncating at either end keeps the invariants.
 * Seeds: tests/fuzz/corpus/leader_epoch/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/leader_epoch.h"
#include "common/error.h"
#include "support.h"

static void check_invariants(const leader_epoch_cache *c)
{
    FUZZ_CHECK(c->count <= c->capacity || c->count == 0, "count within capacity");
    for (size_t i = 0; i < c->count; i++) {
        FUZZ_CHECK(c->entries[i].epoch >= 0 && c->entries[i].start_offset >= 0,
                   "no negative epoch or start offset");
        if (i > 0) {
            FUZZ_CHECK(c->entries[i].epoch > c->entries[i - 1].epoch, "epochs strictly increase");
            FUZZ_CHECK(c->entries[i].start_offset >= c->entries[i - 1].start_offset,
                       "start offsets never decrease");
        }
    }
}

/* Kafka's endOffsetFor by a linear scan, to compare the binary search with. */
static void reference_end_offset(const leader_epoch_cache *c, int32_t epoch, int64_t log_end,
                                 int32_t *found, int64_t *end)
{
    *found = -1;
    *end = -1;
    if (c->count == 0 || epoch < c->entries[0].epoch)
        return;
    if (epoch == c->entries[c->count - 1].epoch) {
        *found = epoch;
        *end = log_end;
        return;
    }
    for (size_t i = 0; i + 1 < c->count; i++)
        if (c->entries[i].epoch <= epoch && c->entries[i + 1].epoch > epoch) {
            *found = c->entries[i].epoch;
            *end = c->entries[i + 1].start_offset;
            return;
        }
}

static void check_lookup(const leader_epoch_cache *c, int64_t epoch_wide, int64_t log_end)
{
    if (epoch_wide < INT32_MIN || epoch_wide > INT32_MAX)
        return;
    int32_t epoch = (int32_t)epoch_wide, found, expected_found;
    int64_t end, expected_end;
    leader_epoch_end_offset(c, epoch, log_end, &found, &end);
    reference_end_offset(c, epoch, log_end, &expected_found, &expected_end);
    FUZZ_CHECK(found == expected_found && end == expected_end,
               "end offset for an epoch agrees with a linear scan");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_temp_dir();
    fuzz_write_file(dir, LEADER_EPOCH_CHECKPOINT_NAME, data, size);
    leader_epoch_cache cache;
    leader_epoch_init(&cache);
    int rc = leader_epoch_load(&cache, dir);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT, "a bad leader-epoch checkpoint is ST_ECORRUPT");
        FUZZ_CHECK(cache.count == 0, "a failed load leaves the cache empty");
        leader_epoch_free(&cache);
        return 0;
    }
    check_invariants(&cache);
    int64_t log_end = cache.count ? cache.entries[cache.count - 1].start_offset + 1 : 0;
    for (size_t i = 0; i < cache.count; i++)
        for (int delta = -1; delta <= 1; delta++)
            check_lookup(&cache, (int64_t)cache.entries[i].epoch + delta, log_end);
    check_lookup(&cache, -1, log_end);

    FUZZ_CHECK(leader_epoch_save(&cache, dir) == 0, "a loaded cache saves");
    leader_epoch_cache reloaded;
    leader_epoch_init(&reloaded);
    FUZZ_CHECK(leader_epoch_load(&reloaded, dir) == 0, "a saved cache loads");
    FUZZ_CHECK(reloaded.count == cache.count &&
                   (cache.count == 0 || memcmp(reloaded.entries, cache.entries,
                                               cache.count * sizeof cache.entries[0]) == 0),
               "save then load gives the same entries");
    leader_epoch_free(&reloaded);

    if (cache.count > 0) { /* the log's truncations at a loaded boundary */
        int64_t middle = cache.entries[cache.count / 2].start_offset;
        leader_epoch_truncate_start(&cache, middle);
        check_invariants(&cache);
        FUZZ_CHECK(cache.count > 0 && cache.entries[0].start_offset >= middle,
                   "truncating the start keeps an epoch from that offset on");
        leader_epoch_truncate_end(&cache, middle);
        check_invariants(&cache);
        int64_t next = (int64_t)leader_epoch_latest(&cache) + 1;
        if (next <= INT32_MAX)
            FUZZ_CHECK(leader_epoch_assign(&cache, (int32_t)next, middle) == 1,
                       "a higher epoch at the end offset is assigned");
        check_invariants(&cache);
    }
    leader_epoch_free(&cache);
    return 0;
}
