/*
 * fuzz_producer_snapshot.c - libFuzzer target for the producer-state snapshot
 * decoder (format in broker/log/producer_snapshot.h).
 *
 * The first 8 bytes of an input are the expected snapshot offset (the file
 * name's), the rest the file. Whatever decodes must re-encode to exactly the
 * same bytes with the CRC fixed up (entries come back in map order, so the
 * comparison is by entry set: decode(encode(decoded)) must hold the same
 * entries), and every entry must satisfy producer_entry_valid. Inputs whose
 * CRC does not match are, with a fixed-up CRC, decoded too, so the fuzzer
 * reaches the field checks behind the checksum.
 * Seeds: tests/fuzz/corpus/producer_snapshot/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/producer_snapshot.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"

#define FUZZ_MAX_PRODUCERS 100000

static void fuzz_invariant(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_producer_snapshot: invariant broken: %s\n", what);
        abort();
    }
}

typedef struct check_state {
    const producer_state *other;
    int64_t offset;
} check_state;

static void check_entry(void *arg, const producer_entry *e)
{
    const check_state *s = arg;
    fuzz_invariant(producer_entry_valid(e, s->offset), "decoded entry is valid");
    const producer_entry *o = producer_state_find(s->other, e->producer_id);
    fuzz_invariant(o != NULL, "entry survives a re-encode");
    fuzz_invariant(o->producer_epoch == e->producer_epoch && o->batch_count == e->batch_count &&
                       o->last_activity_ms == e->last_activity_ms &&
                       memcmp(o->batches, e->batches, e->batch_count * sizeof e->batches[0]) == 0,
                   "entry unchanged by a re-encode");
}

static void decode_and_check(const uint8_t *data, size_t size, int64_t offset, producer_state *a,
                             producer_state *b)
{
    if (producer_snapshot_decode(data, size, offset, a) != 0) {
        fuzz_invariant(producer_state_count(a) == 0, "a failed decode leaves the map empty");
        return;
    }
    buf out;
    buf_init(&out, PRODUCER_SNAPSHOT_BYTES_MAX);
    fuzz_invariant(producer_snapshot_encode(a, offset, &out) == 0, "a decoded map encodes");
    fuzz_invariant(out.len == size, "re-encoded size equals the input size");
    fuzz_invariant(producer_snapshot_decode(out.data, out.len, offset, b) == 0, "re-encoded bytes decode");
    check_state s = {.other = b, .offset = offset};
    producer_state_each(a, check_entry, &s);
    fuzz_invariant(producer_state_count(a) == producer_state_count(b), "same producer count");
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    int64_t offset = load_i64(data);
    data += 8;
    size -= 8;
    producer_state *a = NULL, *b = NULL;
    if (producer_state_create(FUZZ_MAX_PRODUCERS, &a) != 0 || producer_state_create(FUZZ_MAX_PRODUCERS, &b) != 0)
        abort();
    decode_and_check(data, size, offset, a, b);
    if (size >= 12) { /* again with the CRC made to match */
        uint8_t *copy = malloc(size);
        if (!copy)
            abort();
        memcpy(copy, data, size);
        store_i32(copy + 8, (int32_t)crc32c(0, copy + 12, size - 12));
        decode_and_check(copy, size, offset, a, b);
        free(copy);
    }
    producer_state_free(a);
    producer_state_free(b);
    return 0;
}
