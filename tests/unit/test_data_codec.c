/*
 * test_data_codec.c - the field tables of the data-path APIs (Produce, Fetch,
 * ListOffsets, DeleteRecords, OffsetForLeaderEpoch): round trips at the
 * lowest and highest implemented version of every request and response,
 * byte vectors written by hand as the clients send them, and the splice
 * bookkeeping of a Fetch response whose records come from a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/cluster/topic_registry.h"
#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/proto/codec.h"
#include "broker/proto/data_apis.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/limits.h"

/* ---- helpers --------------------------------------------------------------- */

/* Gives every field present at version a distinct value; arrays get two
 * elements; nullable strings alternate between null and a value. */
static void fill(const proto_struct *s, int16_t version, void *out, proto_arena *a, int *seed);

static void fill_field(const proto_field *f, int16_t version, void *base, proto_arena *a, int *seed)
{
    void *p = (uint8_t *)base + f->offset;
    int v = ++*seed;
    bool nullable = f->nullable_min != PV_NEVER && version >= f->nullable_min;
    switch (f->type) {
    case PT_INT8: *(int8_t *)p = (int8_t)v; break;
    case PT_INT16: *(int16_t *)p = (int16_t)(v * 7); break;
    case PT_INT32: *(int32_t *)p = v * 100003; break;
    case PT_INT64: *(int64_t *)p = (int64_t)v * 10000000019LL; break;
    case PT_STRING:
    case PT_RECORDS: {
        if (nullable && (v % 3) == 0 && f->type == PT_STRING) {
            *(proto_str *)p = proto_str_null();
            break;
        }
        char *text = proto_arena_alloc(a, 24);
        int n = snprintf(text, 24, "%s-%d", f->name, v % 1000);
        if (f->type == PT_STRING)
            *(proto_str *)p = (proto_str){text, n};
        else
            *(proto_records *)p = (proto_records){.ptr = (uint8_t *)text, .len = n};
        break;
    }
    case PT_ARRAY: {
        proto_array *arr = p;
        assert_int_equal(proto_array_alloc(a, arr, f->element, 2), 0);
        for (int32_t i = 0; i < arr->count; i++)
            fill(f->element, version, (uint8_t *)arr->items + (size_t)i * f->element->size, a, seed);
        break;
    }
    default: fail_msg("unexpected field type %d in %s", f->type, f->name);
    }
}

static void fill(const proto_struct *s, int16_t version, void *out, proto_arena *a, int *seed)
{
    for (int i = 0; i < s->field_count; i++)
        if (version >= s->fields[i].min_version && version <= s->fields[i].max_version)
            fill_field(&s->fields[i], version, out, a, seed);
}

/* Encodes value, decodes it (must consume every byte), re-encodes: equal. */
static void assert_round_trip(const proto_struct *s, int16_t version, const void *value, proto_arena *a,
                              const char *what)
{
    proto_out first, second;
    proto_out_init(&first, 1 << 20);
    proto_out_init(&second, 1 << 20);
    proto_encode(&first, s, version, false, value);
    assert_true(buf_ok(&first.mem));
    void *decoded = proto_arena_alloc(a, s->size);
    reader r;
    reader_init(&r, first.mem.data, first.mem.len);
    int rc = proto_decode(&r, s, version, false, decoded, a);
    if (rc != 0 || reader_remaining(&r) != 0)
        fail_msg("%s v%d: decode rc=%d field=%s remaining=%zu", what, version, rc,
                 r.what ? r.what : "-", reader_remaining(&r));
    proto_encode(&second, s, version, false, decoded);
    if (first.mem.len != second.mem.len || memcmp(first.mem.data, second.mem.data, first.mem.len) != 0)
        fail_msg("%s v%d: re-encoding differs (%zu vs %zu bytes)", what, version, first.mem.len,
                 second.mem.len);
    proto_out_free(&first);
    proto_out_free(&second);
}

static void round_trip_api(const proto_api *api)
{
    int16_t versions[2] = {api->min_version, api->max_version};
    for (int i = 0; i < 2; i++) {
        proto_arena a;
        proto_arena_init(&a, LIMIT_DECODE_ARENA_BYTES);
        int seed = 0;
        void *request = proto_arena_alloc(&a, api->request->size);
        void *response = proto_arena_alloc(&a, api->response->size);
        fill(api->request, versions[i], request, &a, &seed);
        fill(api->response, versions[i], response, &a, &seed);
        char what[64];
        snprintf(what, sizeof what, "%s request", api->name);
        assert_round_trip(api->request, versions[i], request, &a, what);
        snprintf(what, sizeof what, "%s response", api->name);
        assert_round_trip(api->response, versions[i], response, &a, what);
        proto_arena_free(&a);
    }
}

/* Decodes bytes at version into a new struct; every byte must be used. */
static void *decode_all(const proto_struct *s, int16_t version, const uint8_t *data, size_t len,
                        proto_arena *a)
{
    void *out = proto_arena_alloc(a, s->size);
    reader r;
    reader_init(&r, data, len);
    int rc = proto_decode(&r, s, version, false, out, a);
    if (rc != 0 || reader_remaining(&r) != 0)
        fail_msg("%s v%d: decode rc=%d field=%s remaining=%zu", s->name, version, rc,
                 r.what ? r.what : "-", reader_remaining(&r));
    return out;
}

/* Re-encodes value and compares with the original bytes. */
static void assert_encodes_to(const proto_struct *s, int16_t version, const void *value,
                              const uint8_t *expected, size_t len)
{
    proto_out o;
    proto_out_init(&o, 1 << 20);
    proto_encode(&o, s, version, false, value);
    assert_true(buf_ok(&o.mem));
    assert_int_equal(o.mem.len, len);
    assert_memory_equal(o.mem.data, expected, len);
    proto_out_free(&o);
}

static bool str_is(proto_str s, const char *text) { return proto_str_eq(s, text); }

/* One record batch v2 with one record (key null, value "hello"), as a
 * producer sends it: base offset 0, leader epoch -1, no producer id. */
static void put_batch(buf *b)
{
    size_t start = b->len;
    buf_put_i64(b, 0);                 /* baseOffset */
    buf_put_i32(b, 49 + 12);           /* batchLength: header after this field + one 12-byte record */
    buf_put_i32(b, -1);                /* partitionLeaderEpoch */
    buf_put_i8(b, 2);                  /* magic */
    buf_put_i32(b, 0);                 /* crc, patched below */
    buf_put_i16(b, 0);                 /* attributes */
    buf_put_i32(b, 0);                 /* lastOffsetDelta */
    buf_put_i64(b, 1700000000000LL);   /* baseTimestamp */
    buf_put_i64(b, 1700000000000LL);   /* maxTimestamp */
    buf_put_i64(b, -1);                /* producerId */
    buf_put_i16(b, -1);                /* producerEpoch */
    buf_put_i32(b, -1);                /* baseSequence */
    buf_put_i32(b, 1);                 /* recordCount */
    static const uint8_t record[] = {
        0x16,                          /* length 11 (zigzag) */
        0x00,                          /* attributes */
        0x00,                          /* timestampDelta 0 */
        0x00,                          /* offsetDelta 0 */
        0x01,                          /* keyLength -1: null */
        0x0a, 'h', 'e', 'l', 'l', 'o', /* valueLength 5, value */
        0x00,                          /* no headers */
    };
    buf_put(b, record, sizeof record);
    assert_true(buf_ok(b));
    uint8_t *batch = b->data + start;
    size_t total = b->len - start;
    store_i32(batch + BATCH_OFFSET_CRC, (int32_t)crc32c(0, batch + BATCH_OFFSET_ATTRIBUTES,
                                                        total - BATCH_OFFSET_ATTRIBUTES));
}

/* ---- round trips ------------------------------------------------------------ */

static void produce_round_trips(void **state)
{
    (void)state;
    round_trip_api(&api_produce);
    /* v3 is the first version strait implements; v8 has record_errors. */
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    int seed = 0;
    void *request = proto_arena_alloc(&a, api_produce.request->size);
    fill(api_produce.request, 3, request, &a, &seed);
    assert_round_trip(api_produce.request, 3, request, &a, "Produce request");
    proto_arena_free(&a);
}

static void fetch_round_trips(void **state)
{
    (void)state;
    round_trip_api(&api_fetch);
}

static void list_offsets_round_trips(void **state)
{
    (void)state;
    round_trip_api(&api_list_offsets);
}

static void delete_records_round_trips(void **state)
{
    (void)state;
    round_trip_api(&api_delete_records);
}

static void offset_for_leader_epoch_round_trips(void **state)
{
    (void)state;
    round_trip_api(&api_offset_for_leader_epoch);
}

static void api_ranges_as_advertised(void **state)
{
    (void)state;
    /* kafka-client-versions.md, column "strait: advertise" */
    assert_int_equal(api_produce.key, 0);
    assert_int_equal(api_produce.min_version, 0);
    assert_int_equal(api_produce.max_version, 8);
    assert_int_equal(api_fetch.key, 1);
    assert_int_equal(api_fetch.min_version, 4);
    assert_int_equal(api_fetch.max_version, 11);
    assert_int_equal(api_list_offsets.key, 2);
    assert_int_equal(api_list_offsets.min_version, 1);
    assert_int_equal(api_list_offsets.max_version, 5);
    assert_int_equal(api_delete_records.key, 21);
    assert_int_equal(api_delete_records.min_version, 0);
    assert_int_equal(api_delete_records.max_version, 1);
    assert_int_equal(api_offset_for_leader_epoch.key, 23);
    assert_int_equal(api_offset_for_leader_epoch.min_version, 2);
    assert_int_equal(api_offset_for_leader_epoch.max_version, 3);
    const proto_api *apis[] = {&api_produce, &api_fetch, &api_list_offsets, &api_delete_records,
                               &api_offset_for_leader_epoch};
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
        assert_int_equal(apis[i]->flexible_min, PV_NEVER); /* none flexible in our ranges */
        assert_non_null(apis[i]->handle);
    }
}

/* ---- known bytes ------------------------------------------------------------ */

/* Fetch v4 as kafka-python 2.0.2 sends it (FetchRequest_v4). */
static void fetch_v4_kafka_python_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait_ms 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x03, 0x20, 0x00, 0x00,                         /* max_bytes 52428800 */
        0x00,                                           /* isolation_level 0 */
        0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
        0x00, 0x08, 'm', 'y', '-', 't', 'o', 'p', 'i', 'c',
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x02,                         /* partition 2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* fetch_offset 42 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes 1048576 */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const fetch_request *in = decode_all(api_fetch.request, 4, bytes, sizeof bytes, &a);
    assert_int_equal(in->replica_id, -1);
    assert_int_equal(in->max_wait_ms, 500);
    assert_int_equal(in->min_bytes, 1);
    assert_int_equal(in->max_bytes, 52428800);
    assert_int_equal(in->isolation_level, 0);
    assert_int_equal(in->session_id, 0);     /* absent before v7: sessionless */
    assert_int_equal(in->session_epoch, -1);
    assert_int_equal(in->forgotten_topics_data.count, 0);
    assert_int_equal(in->rack_id.len, 0);
    assert_int_equal(in->topics.count, 1);
    const fetch_topic *t = in->topics.items;
    assert_true(str_is(t->topic, "my-topic"));
    assert_int_equal(t->partitions.count, 1);
    const fetch_partition *p = t->partitions.items;
    assert_int_equal(p->partition, 2);
    assert_int_equal(p->current_leader_epoch, -1); /* absent before v9: no fence */
    assert_int_equal(p->fetch_offset, 42);
    assert_int_equal(p->log_start_offset, -1);
    assert_int_equal(p->partition_max_bytes, 1048576);
    assert_encodes_to(api_fetch.request, 4, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* Fetch v11 incremental request as the Java consumer sends one: a session,
 * a leader epoch, a forgotten partition, a rack. */
static void fetch_v11_session_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait_ms 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x03, 0x20, 0x00, 0x00,                         /* max_bytes */
        0x01,                                           /* isolation_level read_committed */
        0x12, 0x34, 0x56, 0x78,                         /* session_id */
        0x00, 0x00, 0x00, 0x03,                         /* session_epoch 3 */
        0x00, 0x00, 0x00, 0x01,                         /* topics: 1 */
        0x00, 0x01, 't',
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
        0x00, 0x00, 0x00, 0x07,                         /* current_leader_epoch 7 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* fetch_offset 256 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset -1 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes */
        0x00, 0x00, 0x00, 0x01,                         /* forgotten: 1 */
        0x00, 0x01, 'u',
        0x00, 0x00, 0x00, 0x02,                         /* partition indexes: 2 */
        0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, /* 3, 5 */
        0x00, 0x04, 'r', 'a', 'c', 'k',                 /* rack_id */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const fetch_request *in = decode_all(api_fetch.request, 11, bytes, sizeof bytes, &a);
    assert_int_equal(in->isolation_level, 1);
    assert_int_equal(in->session_id, 0x12345678);
    assert_int_equal(in->session_epoch, 3);
    const fetch_partition *p = ((const fetch_topic *)in->topics.items)->partitions.items;
    assert_int_equal(p->current_leader_epoch, 7);
    assert_int_equal(p->fetch_offset, 256);
    assert_int_equal(in->forgotten_topics_data.count, 1);
    const fetch_forgotten_topic *f = in->forgotten_topics_data.items;
    assert_true(str_is(f->topic, "u"));
    assert_int_equal(f->partitions.count, 2);
    assert_int_equal(((const proto_int32 *)f->partitions.items)[0].value, 3);
    assert_int_equal(((const proto_int32 *)f->partitions.items)[1].value, 5);
    assert_true(str_is(in->rack_id, "rack"));
    assert_encodes_to(api_fetch.request, 11, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* Produce v3 with one record batch, as librdkafka / kafka-python send it. */
static void produce_v3_batch_bytes(void **state)
{
    (void)state;
    buf frame;
    buf_init(&frame, 4096);
    buf_put_i16(&frame, -1);          /* transactional_id: null */
    buf_put_i16(&frame, -1);          /* acks -1 */
    buf_put_i32(&frame, 30000);       /* timeout_ms */
    buf_put_i32(&frame, 1);           /* topics: 1 */
    buf_put_i16(&frame, 6);
    buf_put(&frame, "orders", 6);
    buf_put_i32(&frame, 1);           /* partitions: 1 */
    buf_put_i32(&frame, 3);           /* partition_index 3 */
    size_t length_at = frame.len;
    buf_put_i32(&frame, 0);           /* records length, patched */
    size_t batch_at = frame.len;
    put_batch(&frame);
    buf_patch_i32(&frame, length_at, (int32_t)(frame.len - batch_at));
    assert_true(buf_ok(&frame));

    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const produce_request *in = decode_all(api_produce.request, 3, frame.data, frame.len, &a);
    assert_int_equal(in->transactional_id.len, -1);
    assert_int_equal(in->acks, -1);
    assert_int_equal(in->timeout_ms, 30000);
    assert_int_equal(in->topics.count, 1);
    const produce_topic_data *t = in->topics.items;
    assert_true(str_is(t->name, "orders"));
    assert_int_equal(t->partitions.count, 1);
    const produce_partition_data *p = t->partitions.items;
    assert_int_equal(p->partition_index, 3);
    assert_int_equal(p->records.len, 73);
    assert_ptr_equal(p->records.ptr, frame.data + batch_at); /* points into the frame: no copy */
    assert_false(p->records.in_file);
    batch_header h;
    assert_int_equal(batch_header_parse(p->records.ptr, (size_t)p->records.len, &h), 0);
    assert_int_equal(h.record_count, 1);
    assert_int_equal(batch_total_bytes(&h), 73);
    assert_true(batch_crc_ok(p->records.ptr, 73));
    assert_encodes_to(api_produce.request, 3, in, frame.data, frame.len);

    /* v0-2 have no transactional_id: the same body minus its first two bytes. */
    const produce_request *v2 = decode_all(api_produce.request, 2, frame.data + 2, frame.len - 2, &a);
    assert_int_equal(v2->acks, -1);
    assert_int_equal(((const produce_topic_data *)v2->topics.items)->partitions.count, 1);
    proto_arena_free(&a);
    buf_free(&frame);
}

/* Produce v8 response: error_message null, and a partition with an error
 * text; log_append_time_ms and log_start_offset present. */
static void produce_v8_response_bytes(void **state)
{
    (void)state;
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    produce_response *out = proto_arena_alloc(&a, sizeof *out);
    assert_int_equal(proto_array_alloc(&a, &out->responses, api_produce.response->fields[0].element, 1), 0);
    produce_topic_response *t = out->responses.items;
    t->name = proto_str_c("t");
    assert_int_equal(proto_array_alloc(&a, &t->partitions, api_produce.response->fields[0].element->fields[1].element, 1), 0);
    produce_partition_response *p = t->partitions.items;
    p->partition_index = 0;
    p->error_code = KERR_CORRUPT_MESSAGE;
    p->base_offset = -1;
    p->log_append_time_ms = -1;
    p->log_start_offset = 5;
    p->error_message = proto_str_c("bad");
    out->throttle_time_ms = 0;
    static const uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* responses: 1, name "t" */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x00,                         /* partition_index */
        0x00, 0x02,                                     /* CORRUPT_MESSAGE */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base_offset -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_append_time_ms -1 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* log_start_offset 5 */
        0x00, 0x00, 0x00, 0x00,                         /* record_errors: empty */
        0x00, 0x03, 'b', 'a', 'd',                      /* error_message */
        0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
    };
    assert_encodes_to(api_produce.response, 8, out, expected, sizeof expected);
    const produce_response *back = decode_all(api_produce.response, 8, expected, sizeof expected, &a);
    const produce_partition_response *bp =
        ((const produce_topic_response *)back->responses.items)->partitions.items;
    assert_true(str_is(bp->error_message, "bad"));
    assert_int_equal(bp->log_start_offset, 5);
    proto_arena_free(&a);
}

/* ListOffsets v1 as kafka-python sends it: latest offset of t/0. */
static void list_offsets_v1_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* topics: 1 */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* timestamp -1: latest */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const list_offsets_request *in = decode_all(api_list_offsets.request, 1, bytes, sizeof bytes, &a);
    assert_int_equal(in->replica_id, -1);
    assert_int_equal(in->isolation_level, 0);
    const list_offsets_partition *p = ((const list_offsets_topic *)in->topics.items)->partitions.items;
    assert_int_equal(p->timestamp, -1);
    assert_int_equal(p->current_leader_epoch, -1);
    assert_encodes_to(api_list_offsets.request, 1, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* OffsetForLeaderEpoch v2 as librdkafka 2.8 sends it (no replica_id). */
static void offset_for_leader_epoch_v2_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* topics: 1 */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x04,                         /* partition 4 */
        0x00, 0x00, 0x00, 0x09,                         /* current_leader_epoch 9 */
        0x00, 0x00, 0x00, 0x08,                         /* leader_epoch 8 */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const offset_for_leader_epoch_request *in =
        decode_all(api_offset_for_leader_epoch.request, 2, bytes, sizeof bytes, &a);
    assert_int_equal(in->replica_id, -2); /* default: "debug" consumer */
    const offset_for_leader_partition *p =
        ((const offset_for_leader_topic *)in->topics.items)->partitions.items;
    assert_int_equal(p->partition, 4);
    assert_int_equal(p->current_leader_epoch, 9);
    assert_int_equal(p->leader_epoch, 8);
    assert_encodes_to(api_offset_for_leader_epoch.request, 2, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* DeleteRecords v1: delete up to the high watermark. */
static void delete_records_v1_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* topics: 1 */
        0x00, 0x00, 0x00, 0x01,                         /* partitions: 1 */
        0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* offset -1: high watermark */
        0x00, 0x00, 0x75, 0x30,                         /* timeout_ms 30000 */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const delete_records_request *in = decode_all(api_delete_records.request, 1, bytes, sizeof bytes, &a);
    assert_int_equal(in->timeout_ms, 30000);
    const delete_records_partition *p = ((const delete_records_topic *)in->topics.items)->partitions.items;
    assert_int_equal(p->offset, -1);
    assert_encodes_to(api_delete_records.request, 1, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* ---- splice ---------------------------------------------------------------- */

/* A Fetch v11 response with one partition read from a file and one empty:
 * the file range sits right after its int32 length, is dup()ed, counted in
 * the total length, and memory + file + memory decode back to the records. */
static void fetch_response_splices_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_data_codec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    buf batch;
    buf_init(&batch, 4096);
    buf_put(&batch, "0123456789", 10); /* unrelated bytes before the range */
    put_batch(&batch);
    assert_int_equal(write(fd, batch.data, batch.len), (ssize_t)batch.len);

    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const proto_struct *topic_schema = api_fetch.response->fields[3].element;
    const proto_struct *partition_schema = topic_schema->fields[1].element;
    fetch_response *out = proto_arena_alloc(&a, sizeof *out);
    out->session_id = 77;
    assert_int_equal(proto_array_alloc(&a, &out->responses, topic_schema, 1), 0);
    fetch_topic_response *t = out->responses.items;
    t->topic = proto_str_c("orders");
    assert_int_equal(proto_array_alloc(&a, &t->partitions, partition_schema, 2), 0);
    fetch_partition_data *p = t->partitions.items;
    for (int i = 0; i < 2; i++) {
        p[i].partition_index = i;
        p[i].high_watermark = 1;
        p[i].last_stable_offset = 1;
        p[i].log_start_offset = 0;
        p[i].preferred_read_replica = -1;
    }
    p[0].records = (proto_records){.len = 73, .in_file = true, .fd = fd, .file_position = 10};
    p[1].records = (proto_records){.len = 0};

    proto_out o;
    proto_out_init(&o, 1 << 20);
    proto_encode(&o, api_fetch.response, 11, false, out);
    assert_true(buf_ok(&o.mem));
    assert_int_equal(o.file_count, 1);
    assert_int_equal(o.file_bytes, 73);
    assert_int_equal(proto_out_length(&o), (int64_t)o.mem.len + 73);
    assert_int_equal(o.files[0].file_position, 10);
    assert_int_equal(o.files[0].length, 73);
    assert_true(o.files[0].fd >= 0 && o.files[0].fd != fd); /* a dup the output owns */
    size_t at = o.files[0].buf_position;
    assert_true(at >= 4 && at <= o.mem.len);
    assert_int_equal(load_i32(o.mem.data + at - 4), 73); /* the records length precedes the range */

    /* What the peer receives: memory up to the range, the file bytes, the rest. */
    buf wire;
    buf_init(&wire, 1 << 20);
    buf_put(&wire, o.mem.data, at);
    buf_put(&wire, batch.data + 10, 73);
    buf_put(&wire, o.mem.data + at, o.mem.len - at);
    const fetch_response *back = decode_all(api_fetch.response, 11, wire.data, wire.len, &a);
    assert_int_equal(back->session_id, 77);
    const fetch_partition_data *bp = ((const fetch_topic_response *)back->responses.items)->partitions.items;
    assert_int_equal(bp[0].records.len, 73);
    assert_memory_equal(bp[0].records.ptr, batch.data + 10, 73);
    assert_int_equal(bp[0].aborted_transactions.count, 0); /* empty, not null */
    assert_int_equal(bp[1].records.len, 0);
    assert_int_equal(bp[1].preferred_read_replica, -1);

    int dup_fd = o.files[0].fd;
    proto_out_free(&o);
    assert_int_equal(fcntl(dup_fd, F_GETFD), -1); /* proto_out_free closed its dup */
    assert_int_equal(errno, EBADF);
    buf_free(&wire);
    buf_free(&batch);
    proto_arena_free(&a);
    close(fd);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_ranges_as_advertised),
        cmocka_unit_test(produce_round_trips),
        cmocka_unit_test(fetch_round_trips),
        cmocka_unit_test(list_offsets_round_trips),
        cmocka_unit_test(delete_records_round_trips),
        cmocka_unit_test(offset_for_leader_epoch_round_trips),
        cmocka_unit_test(fetch_v4_kafka_python_bytes),
        cmocka_unit_test(fetch_v11_session_bytes),
        cmocka_unit_test(produce_v3_batch_bytes),
        cmocka_unit_test(produce_v8_response_bytes),
        cmocka_unit_test(list_offsets_v1_bytes),
        cmocka_unit_test(offset_for_leader_epoch_v2_bytes),
        cmocka_unit_test(delete_records_v1_bytes),
        cmocka_unit_test(fetch_response_splices_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
