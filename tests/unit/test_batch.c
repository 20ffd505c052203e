/*
 * test_batch.c - record batches v2: build -> validate -> iterate round trips
 * with all five codecs, a golden batch whose CRC was computed independently,
 * every corruption the validator must refuse (with its exact error), and
 * decompression bombs that must stop at the cap.
 *
 * With STRAIT_WRITE_CORPUS=DIR in the environment the round-trip batches are
 * also written to DIR as fuzz seeds (tests/fuzz/corpus/batch/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/log/compression.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/limits.h"

#define TEST_BUF_MAX (64u * 1024 * 1024)
#define TEST_CAP_SMALL (4u * 1024 * 1024)
#define TEST_BOMB_BYTES (200ull * 1024 * 1024)
#define TEST_HEADERS 50
#define TEST_BIG_VALUE (100 * 1024)

static const int all_codecs[] = {BATCH_CODEC_NONE, BATCH_CODEC_GZIP, BATCH_CODEC_SNAPPY, BATCH_CODEC_LZ4,
                                 BATCH_CODEC_ZSTD};

/* ---- fixtures ----------------------------------------------------------- */

typedef struct sample {
    batch_record records[7];
    batch_record_header headers[TEST_HEADERS];
    char header_keys[TEST_HEADERS][16];
    uint8_t *big_value;
    int32_t count;
} sample;

static void sample_init(sample *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < TEST_HEADERS; i++) {
        int n = snprintf(s->header_keys[i], sizeof s->header_keys[i], "h%d", i);
        s->headers[i].key = (const uint8_t *)s->header_keys[i];
        s->headers[i].key_len = i == 7 ? 0 : n; /* one empty header key */
        s->headers[i].value = (const uint8_t *)"header-value";
        s->headers[i].value_len = i % 5 == 0 ? -1 : (int32_t)(i % 12); /* null and empty values too */
    }
    s->big_value = malloc(TEST_BIG_VALUE);
    assert_non_null(s->big_value);
    for (int i = 0; i < TEST_BIG_VALUE; i++)
        s->big_value[i] = (uint8_t)((i * 7) ^ (i >> 9)); /* compressible, not trivial */

    batch_record *r = s->records;
    r[0] = (batch_record){.key = (const uint8_t *)"k0", .key_len = 2, .value = (const uint8_t *)"v0",
                          .value_len = 2, .timestamp = 1700000000000};
    r[1] = (batch_record){.key = NULL, .key_len = -1, .value = (const uint8_t *)"hello", .value_len = 5,
                          .timestamp = 1699999999000}; /* earlier than the first: negative delta */
    r[2] = (batch_record){.key = (const uint8_t *)"k2", .key_len = 2, .value = NULL, .value_len = -1,
                          .timestamp = 1700000005000}; /* tombstone */
    r[3] = (batch_record){.key = (const uint8_t *)"", .key_len = 0, .value = (const uint8_t *)"", .value_len = 0,
                          .timestamp = 1700000001000};
    r[4] = (batch_record){.key = (const uint8_t *)"many", .key_len = 4, .value = (const uint8_t *)"headers",
                          .value_len = 7, .timestamp = 1700000002000, .headers = s->headers,
                          .header_count = TEST_HEADERS};
    r[5] = (batch_record){.key = (const uint8_t *)"big", .key_len = 3, .value = s->big_value,
                          .value_len = TEST_BIG_VALUE, .timestamp = 1700000003000};
    r[6] = (batch_record){.key = NULL, .key_len = -1, .value = NULL, .value_len = -1,
                          .timestamp = 1700000004000, .headers = s->headers, .header_count = 1};
    s->count = 7;
}

static void sample_free(sample *s) { free(s->big_value); }

static void assert_bytes_equal(const uint8_t *a, int32_t a_len, const uint8_t *b, int32_t b_len)
{
    assert_int_equal(a_len, b_len);
    if (a_len > 0)
        assert_memory_equal(a, b, (size_t)a_len);
    if (a_len == 0)
        assert_non_null(a); /* empty is not null */
}

static void maybe_write_corpus(const char *name, const uint8_t *data, size_t len)
{
    const char *dir = getenv("STRAIT_WRITE_CORPUS");
    if (!dir || len > 4096)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Builds records with codec into a fresh buffer. */
static void build(buf *out, int codec, const batch_record *records, int32_t count)
{
    batch_build_params p;
    batch_build_params_default(&p);
    p.codec = codec;
    buf_init(out, TEST_BUF_MAX);
    assert_int_equal(batch_build(out, &p, records, count), 0);
}

static int validate(const buf *b)
{
    batch_info info;
    batch_limits limits = {.max_decompressed_bytes = LIMIT_BATCH_DECOMPRESSED_BYTES};
    return batch_validate(b->data, b->len, &limits, &info);
}

/* ---- round trips -------------------------------------------------------- */

static void check_iteration(const buf *b, const sample *s)
{
    batch_iter *it;
    assert_int_equal(batch_iter_open(b->data, b->len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it), 0);
    assert_int_equal(batch_iter_header(it)->record_count, s->count);
    batch_record rec;
    for (int32_t i = 0; i < s->count; i++) {
        const batch_record *want = &s->records[i];
        assert_int_equal(batch_iter_next(it, &rec), 1);
        assert_int_equal(rec.offset_delta, i);
        assert_int_equal(rec.timestamp, want->timestamp);
        assert_bytes_equal(rec.key, rec.key_len, want->key, want->key_len);
        assert_bytes_equal(rec.value, rec.value_len, want->value, want->value_len);
        assert_int_equal(rec.header_count, want->header_count);
        for (int32_t h = 0; h < want->header_count; h++) {
            assert_bytes_equal(rec.headers[h].key, rec.headers[h].key_len, want->headers[h].key,
                               want->headers[h].key_len);
            if (want->headers[h].value_len < 0)
                assert_null(rec.headers[h].value);
            assert_bytes_equal(rec.headers[h].value, rec.headers[h].value_len, want->headers[h].value,
                               want->headers[h].value_len);
        }
        if (want->key_len < 0)
            assert_null(rec.key);
        if (want->value_len < 0)
            assert_null(rec.value);
    }
    assert_int_equal(batch_iter_next(it, &rec), 0);
    assert_int_equal(batch_iter_next(it, &rec), 0);
    batch_iter_close(it);
}

static void round_trip(int codec)
{
    sample s;
    sample_init(&s);
    buf b;
    build(&b, codec, s.records, s.count);
    batch_info info;
    assert_int_equal(batch_validate(b.data, b.len, NULL, &info), 0);
    assert_int_equal(info.records_seen, s.count);
    assert_int_equal(info.header.record_count, s.count);
    assert_int_equal(info.header.last_offset_delta, s.count - 1);
    assert_int_equal(batch_codec_of(&info.header), codec);
    assert_int_equal(info.first_timestamp, 1700000000000);
    assert_int_equal(info.max_timestamp, 1700000005000);
    assert_int_equal(info.header.max_timestamp, 1700000005000);
    assert_int_equal(info.header.base_timestamp, 1700000000000);
    assert_int_equal(info.header.producer_id, -1);
    assert_int_equal(batch_total_bytes(&info.header), b.len);
    if (codec != BATCH_CODEC_NONE)
        assert_true(b.len < TEST_BIG_VALUE / 2); /* the big value really was compressed */
    check_iteration(&b, &s);

    /* A small batch of the same codec as a fuzz seed. */
    buf small;
    build(&small, codec, s.records, 5);
    assert_int_equal(validate(&small), 0);
    char name[64];
    snprintf(name, sizeof name, "valid-%s.bin", compression_codec_name(codec));
    maybe_write_corpus(name, small.data, small.len);
    if (codec != BATCH_CODEC_NONE) {
        /* fuzz_batch's codec mode: byte (codec - 1), then a compressed section. */
        buf seed;
        buf_init(&seed, TEST_BUF_MAX);
        buf_put_i8(&seed, (int8_t)(codec - BATCH_CODEC_GZIP));
        buf_put(&seed, small.data + BATCH_HEADER_BYTES, small.len - BATCH_HEADER_BYTES);
        snprintf(name, sizeof name, "codec-%s.bin", compression_codec_name(codec));
        maybe_write_corpus(name, seed.data, seed.len);
        buf_free(&seed);
    }
    buf_free(&small);
    buf_free(&b);
    sample_free(&s);
}

static void test_round_trip_none(void **state) { (void)state; round_trip(BATCH_CODEC_NONE); }
static void test_round_trip_gzip(void **state) { (void)state; round_trip(BATCH_CODEC_GZIP); }
static void test_round_trip_snappy(void **state) { (void)state; round_trip(BATCH_CODEC_SNAPPY); }
static void test_round_trip_lz4(void **state) { (void)state; round_trip(BATCH_CODEC_LZ4); }
static void test_round_trip_zstd(void **state) { (void)state; round_trip(BATCH_CODEC_ZSTD); }

static void test_build_params(void **state)
{
    (void)state;
    batch_record rec = {.key = NULL, .key_len = -1, .value = (const uint8_t *)"x", .value_len = 1, .timestamp = 5};
    batch_build_params p;
    batch_build_params_default(&p);
    assert_int_equal(p.codec, BATCH_CODEC_NONE);
    assert_int_equal(p.producer_id, -1);
    p.base_offset = 1234;
    p.producer_id = 77;
    p.producer_epoch = 3;
    p.base_sequence = 42;
    p.partition_leader_epoch = 9;
    p.extra_attributes = BATCH_ATTR_TRANSACTIONAL;
    buf b;
    buf_init(&b, TEST_BUF_MAX);
    buf_put(&b, "prefix", 6); /* the builder appends */
    assert_int_equal(batch_build(&b, &p, &rec, 1), 0);
    batch_info info;
    assert_int_equal(batch_validate(b.data + 6, b.len - 6, NULL, &info), 0);
    assert_int_equal(info.header.base_offset, 1234);
    assert_int_equal(info.header.producer_id, 77);
    assert_int_equal(info.header.producer_epoch, 3);
    assert_int_equal(info.header.base_sequence, 42);
    assert_int_equal(info.header.partition_leader_epoch, 9);
    assert_int_equal(info.header.attributes, BATCH_ATTR_TRANSACTIONAL);
    assert_memory_equal(b.data, "prefix", 6);
    buf_free(&b);
}

static void test_build_rejects_bad_input(void **state)
{
    (void)state;
    batch_record_header bad_header = {.key = NULL, .key_len = -1, .value = NULL, .value_len = -1};
    batch_record rec = {.key = NULL, .key_len = -1, .value = NULL, .value_len = -1};
    batch_build_params p;
    batch_build_params_default(&p);
    buf b;
    buf_init(&b, TEST_BUF_MAX);
    rec.key_len = -2;
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_EINVAL);
    rec.key_len = 3; /* length without bytes */
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_EINVAL);
    rec.key_len = -1;
    rec.headers = &bad_header;
    rec.header_count = 1;
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_EINVAL);
    rec.header_count = -1;
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_EINVAL);
    rec.header_count = 0;
    p.codec = 5;
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_EINVAL);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    /* An output buffer too small: error, nothing half-written. */
    p.codec = BATCH_CODEC_NONE;
    buf_init(&b, 70);
    buf_put(&b, "abc", 3);
    uint8_t value[100] = {0};
    rec.value = value;
    rec.value_len = sizeof value;
    assert_int_equal(batch_build(&b, &p, &rec, 1), ST_ETOOBIG);
    assert_int_equal(b.len, 3);
    buf_free(&b);
}

static void test_empty_batch(void **state)
{
    (void)state;
    buf b;
    build(&b, BATCH_CODEC_NONE, NULL, 0);
    assert_int_equal(b.len, BATCH_HEADER_BYTES);
    assert_true(batch_crc_ok(b.data, b.len));
    assert_int_equal(validate(&b), ST_ECORRUPT); /* producers may not send empty batches */
    batch_iter *it;
    batch_record rec;
    assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), 0);
    assert_int_equal(batch_iter_next(it, &rec), 0);
    batch_iter_close(it);
    buf_free(&b);
}

/* ---- CRC vectors -------------------------------------------------------- */

/* One record (null key, value "a", timestamp 1000), no producer id. The CRC
 * 0xebf1884b was computed with an independent bitwise CRC-32C. */
static const uint8_t golden_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x39, 0x00, 0x00, 0x00, 0x00, 0x02, 0xeb,
    0xf1, 0x88, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x00, 0x00, 0x00, 0x01, 0x02, 0x61, 0x00};

static void test_crc_vectors(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(batch_crc_compute(golden_batch, sizeof golden_batch), 0xebf1884bu);
    batch_info info;
    assert_int_equal(batch_validate(golden_batch, sizeof golden_batch, NULL, &info), 0);
    maybe_write_corpus("golden.bin", golden_batch, sizeof golden_batch);
    batch_record rec = {.key = NULL, .key_len = -1, .value = (const uint8_t *)"a", .value_len = 1, .timestamp = 1000};
    buf b;
    build(&b, BATCH_CODEC_NONE, &rec, 1);
    assert_int_equal(b.len, sizeof golden_batch);
    assert_memory_equal(b.data, golden_batch, sizeof golden_batch); /* byte-exact builder */
    buf_free(&b);
}

static void test_log_append_time_keeps_crc(void **state)
{
    (void)state;
    sample s;
    sample_init(&s);
    for (size_t c = 0; c < sizeof all_codecs / sizeof all_codecs[0]; c++) {
        buf b;
        build(&b, all_codecs[c], s.records, 4);
        batch_set_log_append_time(b.data, b.len, 1800000000000);
        batch_set_base_offset(b.data, 5000);
        batch_set_leader_epoch(b.data, 12);
        batch_info info;
        assert_int_equal(batch_validate(b.data, b.len, NULL, &info), 0);
        assert_true(info.header.attributes & BATCH_ATTR_LOG_APPEND_TIME);
        assert_int_equal(info.header.max_timestamp, 1800000000000);
        assert_int_equal(info.header.base_offset, 5000);
        assert_int_equal(info.header.partition_leader_epoch, 12);
        assert_int_equal(batch_codec_of(&info.header), all_codecs[c]);
        batch_iter *it;
        batch_record rec;
        assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), 0);
        while (batch_iter_next(it, &rec) == 1)
            assert_int_equal(rec.timestamp, 1800000000000); /* what consumers see */
        batch_iter_close(it);
        buf_free(&b);
    }
    sample_free(&s);
}

/* batch_validate and the iterator never write to the batch: read-only pages. */
static void test_input_read_only(void **state)
{
    (void)state;
    sample s;
    sample_init(&s);
    for (size_t c = 0; c < sizeof all_codecs / sizeof all_codecs[0]; c++) {
        buf b;
        build(&b, all_codecs[c], s.records, s.count);
        size_t map_len = (b.len + 4095) & ~(size_t)4095;
        uint8_t *page = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(page != MAP_FAILED);
        memcpy(page, b.data, b.len);
        assert_int_equal(mprotect(page, map_len, PROT_READ), 0);
        batch_info info;
        assert_int_equal(batch_validate(page, b.len, NULL, &info), 0);
        buf view = {.data = page, .len = b.len};
        check_iteration(&view, &s);
        munmap(page, map_len);
        buf_free(&b);
    }
    sample_free(&s);
}

/* ---- hand-made batches for corruption tests ----------------------------- */

/* Appends one record the way a producer would, with a chosen offset delta and
 * optional lie in the length field. */
static void put_record(buf *section, int32_t offset_delta, const char *value, int32_t length_lie)
{
    buf body;
    buf_init(&body, 1024);
    buf_put_i8(&body, 0);
    buf_put_varint(&body, offset_delta * 10); /* timestampDelta */
    buf_put_varint(&body, offset_delta);
    buf_put_varint(&body, -1); /* null key */
    buf_put_varint(&body, (int64_t)strlen(value));
    buf_put(&body, value, strlen(value));
    buf_put_varint(&body, 0); /* no headers */
    buf_put_varint(section, (int64_t)body.len + length_lie);
    buf_put(section, body.data, body.len);
    buf_free(&body);
}

/* Wraps a records section (compressed by the caller if at all) in a header
 * with a correct CRC. */
static void make_batch(buf *out, const uint8_t *section, size_t len, int32_t count, int32_t last_offset_delta,
                       int16_t attributes)
{
    buf_init(out, TEST_BUF_MAX);
    buf_put_i64(out, 0);
    buf_put_i32(out, (int32_t)(BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD + len));
    buf_put_i32(out, 0);
    buf_put_i8(out, 2);
    buf_put_i32(out, 0);
    buf_put_i16(out, attributes);
    buf_put_i32(out, last_offset_delta);
    buf_put_i64(out, 1000);
    buf_put_i64(out, 1000);
    buf_put_i64(out, -1);
    buf_put_i16(out, -1);
    buf_put_i32(out, -1);
    buf_put_i32(out, count);
    buf_put(out, section, len);
    store_i32(out->data + BATCH_OFFSET_CRC, (int32_t)batch_crc_compute(out->data, out->len));
    assert_true(buf_ok(out));
}

/* Builds a batch from records with the given offset deltas. */
static int validate_deltas(const int32_t *deltas, int32_t n, int32_t count, int32_t last_offset_delta)
{
    buf section, b;
    buf_init(&section, 4096);
    for (int32_t i = 0; i < n; i++)
        put_record(&section, deltas[i], "value", 0);
    make_batch(&b, section.data, section.len, count, last_offset_delta, 0);
    int rc = validate(&b);
    buf_free(&section);
    buf_free(&b);
    return rc;
}

static void test_offset_deltas(void **state)
{
    (void)state;
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, 3, 2), 0);
    assert_int_equal(validate_deltas((int32_t[]){0, 2, 1}, 3, 3, 2), ST_ECORRUPT); /* decreasing */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 1}, 3, 3, 2), ST_ECORRUPT); /* repeated */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 3}, 3, 3, 2), ST_ECORRUPT); /* past lastOffsetDelta */
    assert_int_equal(validate_deltas((int32_t[]){1, 2, 3}, 3, 3, 3), ST_ECORRUPT); /* lastOffsetDelta != count-1 */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, 3, 3), ST_ECORRUPT); /* lastOffsetDelta mismatch */
    assert_int_equal(validate_deltas((int32_t[]){-1, 0, 1}, 3, 3, 2), ST_ECORRUPT); /* negative */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, 4, 3), ST_ECORRUPT); /* count too high */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, 2, 1), ST_ECORRUPT); /* count too low */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, 0, 0), ST_ECORRUPT); /* count zero */
    assert_int_equal(validate_deltas((int32_t[]){0, 1, 2}, 3, -1, 2), ST_ECORRUPT);
    assert_int_equal(validate_deltas((int32_t[]){0}, 1, 1, 0), 0);

    /* A compacted batch (gaps in the deltas) is not a valid produce, but the
     * iterator reads it, as the log must after compaction. */
    buf section, b;
    buf_init(&section, 4096);
    for (int32_t i = 0; i < 3; i++)
        put_record(&section, i * i, "v", 0);
    make_batch(&b, section.data, section.len, 3, 5, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    batch_iter *it;
    batch_record rec;
    assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), 0);
    for (int32_t i = 0; i < 3; i++) {
        assert_int_equal(batch_iter_next(it, &rec), 1);
        assert_int_equal(rec.offset_delta, i * i);
        assert_int_equal(rec.timestamp, 1000 + i * i * 10);
    }
    assert_int_equal(batch_iter_next(it, &rec), 0);
    batch_iter_close(it);
    buf_free(&b);
    buf_free(&section);
}

static void test_record_framing(void **state)
{
    (void)state;
    buf section, b;
    /* The length says one byte more than the record has. */
    buf_init(&section, 4096);
    put_record(&section, 0, "aaaa", 0);
    put_record(&section, 1, "bbbb", 1);
    make_batch(&b, section.data, section.len, 2, 1, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    buf_free(&b);
    /* ... one byte less. */
    buf_reset(&section);
    put_record(&section, 0, "aaaa", -1);
    put_record(&section, 1, "bbbb", 0);
    make_batch(&b, section.data, section.len, 2, 1, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    buf_free(&b);
    /* Truncated last record (batchLength and CRC consistent with it). */
    buf_reset(&section);
    put_record(&section, 0, "aaaa", 0);
    put_record(&section, 1, "bbbb", 0);
    make_batch(&b, section.data, section.len - 1, 2, 1, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    buf_free(&b);
    /* A trailing byte after the last record. */
    buf_put_i8(&section, 0);
    make_batch(&b, section.data, section.len, 2, 1, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    buf_free(&b);
    /* Negative record length. */
    buf_reset(&section);
    buf_put_varint(&section, -5);
    buf_put(&section, "\0\0\0\0\0\0\0\0", 8);
    make_batch(&b, section.data, section.len, 1, 0, 0);
    assert_int_equal(validate(&b), ST_ECORRUPT);
    buf_free(&b);
    buf_free(&section);
}

/* A record with a hand-written body after attributes/timestamp/offset. */
static int validate_body(const uint8_t *tail, size_t tail_len)
{
    buf section, b;
    buf_init(&section, 4096);
    buf_put_varint(&section, (int64_t)(3 + tail_len));
    buf_put(&section, "\x00\x00\x00", 3);
    buf_put(&section, tail, tail_len);
    make_batch(&b, section.data, section.len, 1, 0, 0);
    int rc = validate(&b);
    if (rc == 0) { /* what the validator accepts, the iterator reads */
        batch_iter *it;
        batch_record rec;
        assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), 0);
        assert_int_equal(batch_iter_next(it, &rec), 1);
        assert_int_equal(batch_iter_next(it, &rec), 0);
        batch_iter_close(it);
    }
    buf_free(&section);
    buf_free(&b);
    return rc;
}

static void test_record_fields(void **state)
{
    (void)state;
    /* zigzag: 0x01 = -1, 0x02 = 1, 0x03 = -2, 0x00 = 0 */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x00", 3), 0);            /* null key, value */
    assert_int_equal(validate_body((const uint8_t *)"\x03\x01\x00", 3), ST_ECORRUPT);  /* key length -2 */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x03\x00", 3), ST_ECORRUPT);  /* value length -2 */
    assert_int_equal(validate_body((const uint8_t *)"\x04k\x01\x00", 4), ST_ECORRUPT); /* key past record */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x01", 3), ST_ECORRUPT);  /* header count -1 */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x02\x00\x01", 5), 0);    /* header "" = null */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x02\x01\x01", 5), ST_ECORRUPT); /* null key */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x04\x00\x01", 5), ST_ECORRUPT); /* 2 headers, 1 */
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\xfe\xff\xff\xff\x0f", 7), ST_ECORRUPT);
    assert_int_equal(validate_body((const uint8_t *)"\x01\x01\x00\x00", 4), ST_ECORRUPT); /* trailing in record */
    assert_int_equal(validate_body((const uint8_t *)"\x01\xff\xff\xff\xff\xff\x01", 7), ST_ECORRUPT); /* varint */
}

static void test_header_corruption(void **state)
{
    (void)state;
    sample s;
    sample_init(&s);
    buf b;
    build(&b, BATCH_CODEC_NONE, s.records, 3);
    batch_info info;
    /* A flipped CRC byte, and a flipped record byte. */
    b.data[BATCH_OFFSET_CRC + 2] ^= 0x10;
    assert_int_equal(validate(&b), ST_ECRC);
    b.data[BATCH_OFFSET_CRC + 2] ^= 0x10;
    b.data[b.len - 3] ^= 0x01;
    assert_int_equal(validate(&b), ST_ECRC);
    b.data[b.len - 3] ^= 0x01;
    assert_int_equal(validate(&b), 0);
    /* Truncated, and longer than one batch. */
    assert_int_equal(batch_validate(b.data, b.len - 1, NULL, &info), ST_ECORRUPT);
    assert_int_equal(batch_validate(b.data, 30, NULL, &info), ST_ECORRUPT);
    assert_int_equal(batch_validate(b.data, 0, NULL, &info), ST_ECORRUPT);
    uint8_t *longer = calloc(1, b.len + 1);
    memcpy(longer, b.data, b.len);
    assert_int_equal(batch_validate(longer, b.len + 1, NULL, &info), ST_ECORRUPT);
    free(longer);
    /* batchLength below the header. */
    store_i32(b.data + BATCH_OFFSET_LENGTH, 10);
    assert_int_equal(batch_validate(b.data, b.len, NULL, &info), ST_ECORRUPT);
    store_i32(b.data + BATCH_OFFSET_LENGTH, (int32_t)(b.len - BATCH_LOG_OVERHEAD));
    /* Magic 0 and 1 are unsupported, 3 is corrupt. */
    b.data[BATCH_OFFSET_MAGIC] = 1;
    assert_int_equal(validate(&b), ST_EUNSUPPORTED);
    b.data[BATCH_OFFSET_MAGIC] = 0;
    assert_int_equal(validate(&b), ST_EUNSUPPORTED);
    b.data[BATCH_OFFSET_MAGIC] = 3;
    assert_int_equal(validate(&b), ST_ECORRUPT);
    b.data[BATCH_OFFSET_MAGIC] = 2;
    /* Unknown codecs 5, 6, 7 (CRC kept valid). */
    for (int codec = 5; codec <= 7; codec++) {
        store_i16(b.data + BATCH_OFFSET_ATTRIBUTES, (int16_t)codec);
        store_i32(b.data + BATCH_OFFSET_CRC, (int32_t)batch_crc_compute(b.data, b.len));
        assert_int_equal(validate(&b), ST_ECODEC);
        batch_iter *it;
        assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), ST_ECODEC);
    }
    buf_free(&b);
    sample_free(&s);
}

/* ---- compressed input --------------------------------------------------- */

static void records_section(buf *section, int n)
{
    buf_init(section, TEST_BUF_MAX);
    for (int i = 0; i < n; i++)
        put_record(section, i, "some value that repeats some value that repeats", 0);
}

static void test_compressed_garbage(void **state)
{
    (void)state;
    static const char garbage[] = "this is not compressed data, whatever the codec says it is!!";
    buf section, compressed, b;
    records_section(&section, 3);
    for (int codec = BATCH_CODEC_GZIP; codec <= BATCH_CODEC_ZSTD; codec++) {
        make_batch(&b, (const uint8_t *)garbage, sizeof garbage - 1, 3, 2, (int16_t)codec);
        assert_int_equal(validate(&b), ST_ECODEC);
        buf_free(&b);
        /* Empty compressed section. */
        make_batch(&b, (const uint8_t *)"", 0, 3, 2, (int16_t)codec);
        assert_int_equal(validate(&b), ST_ECODEC);
        buf_free(&b);
        /* A valid stream cut short. */
        buf_init(&compressed, TEST_BUF_MAX);
        assert_int_equal(compression_compress(codec, section.data, section.len, &compressed), 0);
        make_batch(&b, compressed.data, compressed.len, 3, 2, (int16_t)codec);
        assert_int_equal(validate(&b), 0);
        buf_free(&b);
        make_batch(&b, compressed.data, compressed.len, 4, 3, (int16_t)codec); /* count lies */
        assert_int_equal(validate(&b), ST_ECORRUPT);
        buf_free(&b);
        make_batch(&b, compressed.data, compressed.len - 3, 3, 2, (int16_t)codec);
        assert_int_equal(validate(&b), ST_ECODEC);
        buf_free(&b);
        /* Valid stream plus trailing garbage. */
        buf_put(&compressed, "XYZW", 4);
        make_batch(&b, compressed.data, compressed.len, 3, 2, (int16_t)codec);
        assert_int_equal(validate(&b), ST_ECODEC);
        buf_free(&b);
        buf_free(&compressed);
    }
    buf_free(&section);
}

/* librdkafka also produces raw (unframed) snappy; accept it. Also gzip with
 * two members, which Java's GZIPInputStream reads. */
static void test_compressed_variants(void **state)
{
    (void)state;
    buf section, b;
    records_section(&section, 4);
    size_t bound = snappy_max_compressed_length(section.len);
    char *raw = malloc(bound);
    size_t raw_len = bound;
    assert_int_equal(snappy_compress((const char *)section.data, section.len, raw, &raw_len), SNAPPY_OK);
    make_batch(&b, (const uint8_t *)raw, raw_len, 4, 3, BATCH_CODEC_SNAPPY);
    assert_int_equal(validate(&b), 0);
    maybe_write_corpus("valid-snappy-raw.bin", b.data, b.len);
    buf_free(&b);
    free(raw);

    buf two;
    buf_init(&two, TEST_BUF_MAX);
    buf first_half; /* the first two records in one member, the rest in another */
    records_section(&first_half, 2);
    assert_int_equal(compression_compress(BATCH_CODEC_GZIP, first_half.data, first_half.len, &two), 0);
    assert_int_equal(compression_compress(BATCH_CODEC_GZIP, section.data + first_half.len,
                                          section.len - first_half.len, &two), 0);
    make_batch(&b, two.data, two.len, 4, 3, BATCH_CODEC_GZIP);
    assert_int_equal(validate(&b), 0);
    buf_free(&b);
    buf_free(&two);
    buf_free(&first_half);
    buf_free(&section);
}

/* The cap is exact: max_bytes of output is fine, one more is ST_ETOOBIG. */
static void test_decompress_cap_exact(void **state)
{
    (void)state;
    size_t n = 100000;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i % 251);
    for (int codec = BATCH_CODEC_GZIP; codec <= BATCH_CODEC_ZSTD; codec++) {
        buf compressed;
        buf_init(&compressed, TEST_BUF_MAX);
        assert_int_equal(compression_compress(codec, data, n, &compressed), 0);
        uint8_t *out;
        size_t out_len;
        assert_int_equal(batch_decompress(codec, compressed.data, compressed.len, n, &out, &out_len), 0);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, data, n);
        free(out);
        assert_int_equal(batch_decompress(codec, compressed.data, compressed.len, n - 1, &out, &out_len),
                         ST_ETOOBIG);
        assert_null(out);
        assert_int_equal(batch_decompress(codec, compressed.data, compressed.len, 0, &out, &out_len), ST_ETOOBIG);
        buf_free(&compressed);
        /* Empty input compresses and comes back empty (non-NULL). */
        buf_init(&compressed, TEST_BUF_MAX);
        assert_int_equal(compression_compress(codec, data, 0, &compressed), 0);
        assert_int_equal(batch_decompress(codec, compressed.data, compressed.len, 10, &out, &out_len), 0);
        assert_int_equal(out_len, 0);
        assert_non_null(out);
        free(out);
        buf_free(&compressed);
    }
    uint8_t *out;
    size_t out_len;
    /* fuzz regression (regress-snappy-empty-block.bin): a raw snappy block
     * declaring 0 bytes once made buf_reserve(0) compute NULL + 0. */
    assert_int_equal(batch_decompress(BATCH_CODEC_SNAPPY, (const uint8_t *)"\x80\x00", 2, 100, &out, &out_len), 0);
    assert_int_equal(out_len, 0);
    free(out);
    assert_int_equal(batch_decompress(BATCH_CODEC_NONE, data, 10, 100, &out, &out_len), ST_ECODEC);
    assert_int_equal(batch_decompress(6, data, 10, 100, &out, &out_len), ST_ECODEC);
    free(data);
}

/* ---- decompression bombs ------------------------------------------------ */

/* Streams TEST_BOMB_BYTES of zeros through a codec without ever holding them. */
static void bomb_zstd(buf *out)
{
    static uint8_t zeros[1 << 20];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    buf_init(out, TEST_BUF_MAX);
    for (size_t done = 0; done <= TEST_BOMB_BYTES; done += sizeof zeros) {
        ZSTD_EndDirective end = done == TEST_BOMB_BYTES ? ZSTD_e_end : ZSTD_e_continue;
        ZSTD_inBuffer in = {zeros, end == ZSTD_e_end ? 0 : sizeof zeros, 0};
        size_t remaining;
        do {
            uint8_t *space = buf_reserve(out, 1 << 16);
            ZSTD_outBuffer o = {space, 1 << 16, 0};
            remaining = ZSTD_compressStream2(cctx, &o, &in, end);
            assert_false(ZSTD_isError(remaining));
            out->len += o.pos;
        } while (end == ZSTD_e_end ? remaining != 0 : in.pos < in.size);
    }
    ZSTD_freeCCtx(cctx);
}

static void bomb_gzip(buf *out)
{
    static uint8_t zeros[1 << 20];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    buf_init(out, TEST_BUF_MAX);
    for (size_t done = 0; done <= TEST_BOMB_BYTES; done += sizeof zeros) {
        int flush = done == TEST_BOMB_BYTES ? Z_FINISH : Z_NO_FLUSH;
        zs.next_in = zeros;
        zs.avail_in = flush == Z_FINISH ? 0 : sizeof zeros;
        int z;
        do {
            zs.next_out = buf_reserve(out, 1 << 16);
            zs.avail_out = 1 << 16;
            z = deflate(&zs, flush);
            out->len += (1 << 16) - zs.avail_out;
        } while (zs.avail_out == 0 || (flush == Z_FINISH && z != Z_STREAM_END));
    }
    deflateEnd(&zs);
}

static void bomb_lz4(buf *out)
{
    static uint8_t zeros[1 << 16];
    LZ4F_cctx *cctx;
    assert_false(LZ4F_isError(LZ4F_createCompressionContext(&cctx, LZ4F_VERSION)));
    size_t bound = LZ4F_compressBound(sizeof zeros, NULL);
    buf_init(out, TEST_BUF_MAX);
    out->len += LZ4F_compressBegin(cctx, buf_reserve(out, LZ4F_HEADER_SIZE_MAX), LZ4F_HEADER_SIZE_MAX, NULL);
    for (size_t done = 0; done < TEST_BOMB_BYTES; done += sizeof zeros)
        out->len += LZ4F_compressUpdate(cctx, buf_reserve(out, bound), bound, zeros, sizeof zeros, NULL);
    out->len += LZ4F_compressEnd(cctx, buf_reserve(out, bound), bound, NULL);
    assert_true(buf_ok(out));
    LZ4F_freeCompressionContext(cctx);
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void check_bomb(int codec, const buf *bomb)
{
    buf b;
    make_batch(&b, bomb->data, bomb->len, 1, 0, (int16_t)codec);
    long before = max_rss_kib();
    batch_info info;
    batch_limits limits = {.max_decompressed_bytes = TEST_CAP_SMALL};
    assert_int_equal(batch_validate(b.data, b.len, &limits, &info), ST_ETOOBIG);
    batch_iter *it;
    assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), ST_ETOOBIG);
    long grown_kib = max_rss_kib() - before;
    assert_true(grown_kib < 64 * 1024); /* nowhere near 200 MiB */
    buf_free(&b);
}

static void test_decompression_bombs(void **state)
{
    (void)state;
    buf bomb;
    bomb_zstd(&bomb);
    assert_true(bomb.len < 64 * 1024);
    check_bomb(BATCH_CODEC_ZSTD, &bomb);
    buf_free(&bomb);
    bomb_gzip(&bomb);
    check_bomb(BATCH_CODEC_GZIP, &bomb);
    buf_free(&bomb);
    bomb_lz4(&bomb);
    check_bomb(BATCH_CODEC_LZ4, &bomb);
    buf_free(&bomb);
    /* Raw snappy declaring 200 MiB: refused before anything is allocated. */
    buf_init(&bomb, 64);
    buf_put_uvarint(&bomb, TEST_BOMB_BYTES);
    buf_put(&bomb, "\x00\x00\x00\x00", 4);
    check_bomb(BATCH_CODEC_SNAPPY, &bomb);
    buf_free(&bomb);
    /* Xerial snappy: many blocks of zeros, stopped at the cap. */
    static uint8_t zeros[32 * 1024];
    buf_init(&bomb, TEST_BUF_MAX);
    assert_int_equal(compression_compress(BATCH_CODEC_SNAPPY, zeros, sizeof zeros, &bomb), 0);
    size_t block_len = bomb.len - 16;
    uint8_t *block = malloc(block_len); /* copied: appending may move bomb.data */
    memcpy(block, bomb.data + 16, block_len);
    for (int i = 0; i < 200; i++) /* 200 x 32 KiB = 6.25 MiB > 4 MiB cap */
        buf_put(&bomb, block, block_len);
    free(block);
    check_bomb(BATCH_CODEC_SNAPPY, &bomb);
    buf_free(&bomb);
}

/* The iterator on a corrupt batch reports, never crashes. */
static void test_iterator_corruption(void **state)
{
    (void)state;
    buf section, b;
    buf_init(&section, 4096);
    put_record(&section, 0, "aaaa", 0);
    put_record(&section, 1, "bbbb", 3);
    make_batch(&b, section.data, section.len, 2, 1, 0);
    batch_iter *it;
    batch_record rec;
    assert_int_equal(batch_iter_open(b.data, b.len, TEST_CAP_SMALL, &it), 0);
    assert_int_equal(batch_iter_next(it, &rec), 1);
    assert_int_equal(batch_iter_next(it, &rec), ST_ECORRUPT);
    assert_int_equal(batch_iter_next(it, &rec), ST_ECORRUPT);
    batch_iter_close(it);
    assert_int_equal(batch_iter_open(b.data, 20, TEST_CAP_SMALL, &it), ST_ETRUNCATED);
    buf_free(&b);
    buf_free(&section);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_none),
        cmocka_unit_test(test_round_trip_gzip),
        cmocka_unit_test(test_round_trip_snappy),
        cmocka_unit_test(test_round_trip_lz4),
        cmocka_unit_test(test_round_trip_zstd),
        cmocka_unit_test(test_build_params),
        cmocka_unit_test(test_build_rejects_bad_input),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_crc_vectors),
        cmocka_unit_test(test_log_append_time_keeps_crc),
        cmocka_unit_test(test_input_read_only),
        cmocka_unit_test(test_offset_deltas),
        cmocka_unit_test(test_record_framing),
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_header_corruption),
        cmocka_unit_test(test_compressed_garbage),
        cmocka_unit_test(test_compressed_variants),
        cmocka_unit_test(test_decompress_cap_exact),
        cmocka_unit_test(test_decompression_bombs),
        cmocka_unit_test(test_iterator_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
