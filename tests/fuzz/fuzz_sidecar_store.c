/*
 * fuzz_sidecar_store.c - libFuzzer target for the sidecar's SQLite store
 * read back (format in checkpoints/checkpoint_schema.c): the failover state
 * and its history (checkpoints/failover_state.c) and the offset map and
 * group checkpoints (checkpoints/checkpoint_store.c), as a sidecar reads
 * them after a restart.
 *
 * Input: the database file's bytes, written to the target's temporary
 * directory (tmpfs) as store.db with no -wal or -shm beside it. Checked:
 * opening and every read end in 0 or an error value, never a crash; a found
 * failover state has an epoch >= 1 and an active region (the loader's
 * contract); translations of a mapped partition are >= 0 and never decrease
 * as the source offset grows (the map's definition, checkpoint_store.h); the
 * last mapped pair is one the map translates to itself; strings read back
 * are terminated within their fields.
 * Seeds: tests/fuzz/corpus/sidecar_store/ (tests/fuzz/make-seeds.sh).
 */
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "checkpoints/checkpoint_store.h"
#include "checkpoints/failover_state.h"
#include "common/error.h"
#include "support.h"

static int check_event(void *arg, const failover_event *ev)
{
    int *count = arg;
    FUZZ_CHECK(memchr(ev->actor, '\0', sizeof ev->actor) && memchr(ev->detail, '\0', sizeof ev->detail),
               "event strings terminated in their fields");
    (*count)++;
    return 0;
}

static int check_group(void *arg, const checkpoint_group_offset *g)
{
    int *count = arg;
    FUZZ_CHECK(memchr(g->group, '\0', sizeof g->group) && memchr(g->topic, '\0', sizeof g->topic) &&
                   memchr(g->metadata, '\0', sizeof g->metadata),
               "group checkpoint strings terminated in their fields");
    (*count)++;
    return *count >= 64;
}

static void read_failover_state(const char *path)
{
    failover_store *fs = NULL;
    if (failover_store_open(path, &fs) != 0)
        return;
    failover_state state;
    bool found = false;
    if (failover_state_load(fs, &state, &found) == 0 && found)
        FUZZ_CHECK(state.epoch >= 1 && state.active[0] != '\0',
                   "a found failover state has an epoch and an active region");
    int events = 0;
    failover_event_each(fs, 32, check_event, &events);
    failover_store_close(fs);
}

static void read_map(checkpoint_store *cs, const char *flow, const char *topic, int32_t partition)
{
    static const int64_t offsets[] = {0, 1, 2, 5, 10, 100, 1000, 1000000, INT64_MAX};
    int64_t previous = -1;
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        int64_t target = -2;
        bool found = false;
        if (checkpoint_translate(cs, flow, topic, partition, offsets[i], &target, &found) != 0)
            return; /* an error, not a guessed answer */
        if (!found) {
            FUZZ_CHECK(target == -1, "nothing mapped: target -1");
            return;
        }
        FUZZ_CHECK(target >= 0, "a translation is an offset");
        FUZZ_CHECK(target >= previous, "translations never decrease with the source offset");
        previous = target;
    }
    checkpoint_pair last;
    bool found = false;
    if (checkpoint_map_last(cs, flow, topic, partition, &last, &found) == 0 && found) {
        FUZZ_CHECK(last.source_offset >= 0 && last.target_offset >= 0, "the last pair is offsets");
        int64_t target = -2;
        if (checkpoint_translate(cs, flow, topic, partition, last.source_offset, &target, &found) == 0)
            FUZZ_CHECK(found && target == last.target_offset,
                       "the last mapped pair translates to itself");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_temp_dir();
    fuzz_remove_file(dir, "store.db-wal");
    fuzz_remove_file(dir, "store.db-shm");
    fuzz_write_file(dir, "store.db", data, size);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/store.db", dir);

    read_failover_state(path);
    checkpoint_store *cs = NULL;
    if (checkpoint_store_open(path, &cs) != 0)
        return 0;
    static const char *const flows[] = {"east->west", "west->east"};
    for (size_t f = 0; f < 2; f++) {
        for (int32_t partition = 0; partition < 3; partition++)
            read_map(cs, flows[f], "orders", partition);
        int groups = 0;
        checkpoint_group_each(cs, flows[f], NULL, check_group, &groups);
        int64_t ranges = 0;
        if (checkpoint_map_range_count(cs, flows[f], &ranges) == 0)
            FUZZ_CHECK(ranges >= 0, "a range count");
    }
    checkpoint_store_close(cs);
    return 0;
}
