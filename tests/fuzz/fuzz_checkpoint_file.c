/*
 * fuzz_checkpoint_file.c - libFuzzer target for the text checkpoint decoder
 * (checkpoint_parse; format in broker/log/checkpoint_file.h), which every
 * small checkpoint of a partition directory and of the broker goes through:
 * recovery-point-checkpoint and log-start-offset-checkpoint (1 column, 1
 * entry), the cleaner's checkpoint (2 columns, 1 entry), the producer-id
 * block file (1 column, 1 entry) and leader-epoch-checkpoint (2 columns, up
 * to LIMIT_LEADER_EPOCH_ENTRIES).
 *
 * Input: byte 0 picks the caller's shape (shapes[] below, modulo its size),
 * the rest is the file. A failed parse must say ST_ECORRUPT; a successful one
 * must hold at most the caller's maximum, and the values written back with
 * checkpoint_write must read back (checkpoint_read) as the same values.
 * Seeds: tests/fuzz/corpus/checkpoint_file/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/checkpoint_file.h"
#include "common/error.h"
#include "common/limits.h"
#include "support.h"

typedef struct shape {
    int columns;
    size_t entries_max;
} shape;

static const shape shapes[] = {
    {1, 1},                          /* recovery point, log start, producer-id block */
    {2, 1},                          /* cleaner checkpoint */
    {2, LIMIT_LEADER_EPOCH_ENTRIES}, /* leader epochs */
    {3, 16},
    {CHECKPOINT_COLUMNS_MAX, 16},
};

#define FUZZ_VALUES_MAX (2 * LIMIT_LEADER_EPOCH_ENTRIES)

static int64_t values[FUZZ_VALUES_MAX];
static int64_t again[FUZZ_VALUES_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const shape *s = &shapes[data[0] % (sizeof shapes / sizeof shapes[0])];
    data++;
    size--;
    size_t entries = (size_t)-1;
    int rc = checkpoint_parse(data, size, s->columns, values, s->entries_max, &entries);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT, "a malformed checkpoint is ST_ECORRUPT");
        FUZZ_CHECK(entries == (size_t)-1, "a failed parse sets no count");
        return 0;
    }
    FUZZ_CHECK(entries <= s->entries_max, "no more entries than the caller's maximum");
    const char *dir = fuzz_temp_dir();
    FUZZ_CHECK(checkpoint_write(dir, "checkpoint", values, entries, s->columns) == 0,
               "parsed values write back");
    size_t entries_again = 0;
    FUZZ_CHECK(checkpoint_read(dir, "checkpoint", s->columns, again, s->entries_max,
                               &entries_again) == 0,
               "written values read back");
    FUZZ_CHECK(entries_again == entries, "same entry count after a write and a read");
    FUZZ_CHECK(memcmp(values, again, entries * (size_t)s->columns * sizeof values[0]) == 0,
               "same values after a write and a read");
    return 0;
}
