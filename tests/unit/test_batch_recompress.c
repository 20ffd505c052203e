/* test_batch_recompress.c - a batch re-encoded with each codec keeps every
 * record and header field and validates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/log/batch_recompress.h"
#include "common/error.h"
#include "common/limits.h"

#define RECORDS 20

static void build_source(buf *out, int codec)
{
    static batch_record records[RECORDS];
    static batch_record_header headers[2] = {
        {(const uint8_t *)"trace", 5, (const uint8_t *)"abc", 3},
        {(const uint8_t *)"nullv", 5, NULL, -1},
    };
    static char values[RECORDS][32];
    for (int i = 0; i < RECORDS; i++) {
        int n = snprintf(values[i], sizeof values[i], "value-%d-%s", i, "xxxxxxxxxxxxxxxx");
        records[i] = (batch_record){.key = (const uint8_t *)"key", .key_len = i % 3 == 0 ? -1 : 3,
                                    .value = (const uint8_t *)values[i], .value_len = i == 7 ? -1 : n,
                                    .timestamp = 1700000000000 + i * 10, .headers = headers,
                                    .header_count = i % 2 ? 2 : 0};
    }
    batch_build_params p;
    batch_build_params_default(&p);
    p.codec = codec;
    p.base_offset = 42;
    p.producer_id = 77;
    p.producer_epoch = 3;
    p.base_sequence = 1000;
    p.partition_leader_epoch = 5;
    assert_int_equal(batch_build(out, &p, records, RECORDS), 0);
}

static void same_records(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    batch_iter *ia, *ib;
    assert_int_equal(batch_iter_open(a, alen, LIMIT_BATCH_DECOMPRESSED_BYTES, &ia), 0);
    assert_int_equal(batch_iter_open(b, blen, LIMIT_BATCH_DECOMPRESSED_BYTES, &ib), 0);
    batch_record ra, rb;
    int n = 0;
    for (;;) {
        int ca = batch_iter_next(ia, &ra), cb = batch_iter_next(ib, &rb);
        assert_int_equal(ca, cb);
        if (ca != 1)
            break;
        assert_int_equal(ra.key_len, rb.key_len);
        assert_int_equal(ra.value_len, rb.value_len);
        if (ra.value_len > 0)
            assert_memory_equal(ra.value, rb.value, (size_t)ra.value_len);
        assert_true(ra.timestamp == rb.timestamp);
        assert_int_equal(ra.offset_delta, rb.offset_delta);
        assert_int_equal(ra.header_count, rb.header_count);
        for (int h = 0; h < ra.header_count; h++) {
            assert_int_equal(ra.headers[h].key_len, rb.headers[h].key_len);
            assert_int_equal(ra.headers[h].value_len, rb.headers[h].value_len);
        }
        n++;
    }
    assert_int_equal(n, RECORDS);
    batch_iter_close(ia);
    batch_iter_close(ib);
}

static void every_codec_pair(void **state)
{
    (void)state;
    for (int from = BATCH_CODEC_NONE; from <= BATCH_CODEC_ZSTD; from++) {
        buf src;
        buf_init(&src, 1 << 20);
        build_source(&src, from);
        for (int to = BATCH_CODEC_NONE; to <= BATCH_CODEC_ZSTD; to++) {
            buf out;
            buf_init(&out, 1 << 20);
            assert_int_equal(batch_recompress(src.data, src.len, to, LIMIT_BATCH_DECOMPRESSED_BYTES, &out), 0);
            batch_limits limits = {LIMIT_BATCH_DECOMPRESSED_BYTES};
            batch_info info;
            assert_int_equal(batch_validate(out.data, out.len, &limits, &info), 0);
            assert_int_equal(batch_codec_of(&info.header), to);
            assert_true(info.header.base_offset == 42);
            assert_true(info.header.producer_id == 77);
            assert_int_equal(info.header.producer_epoch, 3);
            assert_int_equal(info.header.base_sequence, 1000);
            assert_int_equal(info.header.partition_leader_epoch, 5);
            assert_int_equal(info.header.record_count, RECORDS);
            same_records(src.data, src.len, out.data, out.len);
            buf_free(&out);
        }
        buf_free(&src);
    }
}

static void corrupt_input_changes_nothing(void **state)
{
    (void)state;
    buf src, out;
    buf_init(&src, 1 << 20);
    buf_init(&out, 1 << 20);
    build_source(&src, BATCH_CODEC_LZ4);
    src.data[BATCH_HEADER_BYTES + 8] ^= 0xff; /* inside the lz4 frame */
    assert_int_not_equal(batch_recompress(src.data, src.len, BATCH_CODEC_NONE,
                                          LIMIT_BATCH_DECOMPRESSED_BYTES, &out), 0);
    assert_int_equal(out.len, 0);
    buf_free(&src);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_codec_pair),
        cmocka_unit_test(corrupt_input_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
