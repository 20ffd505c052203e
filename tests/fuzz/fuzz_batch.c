/*
 * fuzz_batch.c - libFuzzer target for the record batch decoder and the codecs.
 *
 * Every input is used two ways:
 *   1. as one record batch: batch_validate with a 4 MiB decompression cap;
 *      when it passes, the iterator must read exactly recordCount records
 *      (what the validator accepts, the iterator reads without error);
 *   2. as a codec test: the first byte picks gzip / snappy / lz4 / zstd and
 *      the rest goes to batch_decompress; output that decompresses must
 *      survive a compress -> decompress round trip unchanged.
 * Seeds: tests/fuzz/corpus/batch/ (valid-*.bin are batches, codec-*.bin are
 * codec-byte + compressed records sections), written by tests/unit/test_batch
 * with STRAIT_WRITE_CORPUS=DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/log/compression.h"
#include "common/buf.h"
#include "common/error.h"

#define FUZZ_DECOMPRESSED_BYTES (4u * 1024 * 1024)

/* A broken invariant of our own code: let libFuzzer record the input. */
static void fuzz_invariant(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_batch: invariant broken: %s\n", what);
        abort();
    }
}

static void fuzz_as_batch(const uint8_t *data, size_t size)
{
    batch_limits limits = {.max_decompressed_bytes = FUZZ_DECOMPRESSED_BYTES};
    batch_info info;
    if (batch_validate(data, size, &limits, &info) != 0)
        return;
    fuzz_invariant(info.records_seen == info.header.record_count, "records_seen == recordCount");
    batch_iter *it;
    fuzz_invariant(batch_iter_open(data, size, FUZZ_DECOMPRESSED_BYTES, &it) == 0, "iterator opens a valid batch");
    batch_record rec;
    int32_t seen = 0;
    int rc;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        /* Touch every byte the iterator hands out, so ASan checks the spans. */
        volatile uint8_t sink = 0;
        for (int32_t i = 0; i < rec.key_len; i++)
            sink ^= rec.key[i];
        for (int32_t i = 0; i < rec.value_len; i++)
            sink ^= rec.value[i];
        for (int32_t h = 0; h < rec.header_count; h++)
            sink ^= rec.headers[h].key_len > 0 ? rec.headers[h].key[0] : 0;
        (void)sink;
        seen++;
    }
    fuzz_invariant(rc == 0, "iterator reads a valid batch to the end");
    fuzz_invariant(seen == info.header.record_count, "iterator count == recordCount");
    batch_iter_close(it);
}

static void fuzz_as_codec(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    int codec = BATCH_CODEC_GZIP + data[0] % 4;
    uint8_t *out;
    size_t out_len;
    if (batch_decompress(codec, data + 1, size - 1, FUZZ_DECOMPRESSED_BYTES, &out, &out_len) != 0)
        return;
    fuzz_invariant(out_len <= FUZZ_DECOMPRESSED_BYTES, "output within the cap");
    buf again;
    buf_init(&again, 2 * FUZZ_DECOMPRESSED_BYTES);
    fuzz_invariant(compression_compress(codec, out, out_len, &again) == 0, "recompression");
    uint8_t *back;
    size_t back_len;
    fuzz_invariant(batch_decompress(codec, again.data, again.len, FUZZ_DECOMPRESSED_BYTES, &back, &back_len) == 0,
                   "own output decompresses");
    fuzz_invariant(back_len == out_len && memcmp(back, out, out_len) == 0, "round trip is exact");
    free(back);
    buf_free(&again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_as_batch(data, size);
    fuzz_as_codec(data, size);
    return 0;
}
