/*
 * test_data_handlers.c - the data-path handlers (Produce, Fetch, ListOffsets,
 * DeleteRecords, OffsetForLeaderEpoch, fetch sessions) run against a real
 * topic registry and partition logs, without a network: what each answers,
 * what it refuses and what it leaves in the log.
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

/* One record batch v2 with one record (key null, value "hello"), as a
 * producer sends it (73 bytes): built with the broker's own batch builder. */
static void put_batch(buf *b)
{
    batch_record record = {.key = NULL, .key_len = -1, .value = (const uint8_t *)"hello",
                           .value_len = 5, .timestamp = 1700000000000LL};
    batch_build_params params;
    batch_build_params_default(&params);
    params.partition_leader_epoch = -1;
    assert_int_equal(batch_build(b, &params, &record, 1), 0);
}


/* ---- handlers against a real topic registry (no network) -------------------- */

/* A broker with only its config and topics: enough for handlers that do not
 * park (max_wait_ms 0), since parking and sending need the event loop and a
 * connection. */
typedef struct harness {
    broker b;
    char dir[64];
} harness;

static harness *harness_open(int32_t partitions)
{
    harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/test_data_codec_dir_XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    broker_config_default(&h->b.config);
    snprintf(h->b.config.log_dirs, sizeof h->b.config.log_dirs, "%s", h->dir);
    h->b.config.num_partitions = partitions;
    assert_int_equal(topic_registry_open(&h->b.config, &h->b.topics), 0);
    return h;
}

static void harness_close(harness *h)
{
    fetch_sessions_release(&h->b);
    topic_registry_close(h->b.topics);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", h->dir);
    assert_int_equal(system(command), 0);
    free(h);
}

/* Encodes request (so the frame is real, owned bytes), decodes it into a
 * broker_request as the dispatcher does, and runs the handler. */
static broker_request *run(harness *h, const proto_api *api, int16_t version, const void *request,
                           int expected_result)
{
    proto_out o;
    proto_out_init(&o, 1 << 20);
    proto_encode(&o, api->request, version, false, request);
    assert_true(buf_ok(&o.mem));
    broker_request *req = calloc(1, sizeof *req);
    assert_non_null(req);
    req->broker = &h->b;
    req->api = api;
    req->api_version = version;
    req->client_id = proto_str_c("test");
    req->frame = malloc(o.mem.len + 1);
    memcpy(req->frame, o.mem.data, o.mem.len);
    proto_arena_init(&req->arena, LIMIT_DECODE_ARENA_BYTES);
    req->request = proto_arena_alloc(&req->arena, api->request->size);
    req->response = proto_arena_alloc(&req->arena, api->response->size);
    reader r;
    reader_init(&r, req->frame, o.mem.len);
    assert_int_equal(proto_decode(&r, api->request, version, false, req->request, &req->arena), 0);
    assert_int_equal(reader_remaining(&r), 0);
    proto_out_free(&o);
    assert_int_equal(api->handle(req), expected_result);
    if (expected_result == PROTO_RESPOND) { /* the response must encode */
        proto_out_init(&o, 1 << 20);
        proto_encode(&o, api->response, version, false, req->response);
        assert_true(buf_ok(&o.mem));
        proto_out_free(&o);
    }
    return req;
}

static void done(broker_request *req)
{
    proto_arena_free(&req->arena);
    free(req->frame);
    free(req);
}

/* Produce request for one partition; records copied into the arena. */
static produce_request *produce_of(proto_arena *a, const char *topic, int32_t partition,
                                   const uint8_t *records, int32_t len, int16_t acks)
{
    produce_request *in = proto_arena_alloc(a, sizeof *in);
    in->transactional_id = proto_str_null();
    in->acks = acks;
    in->timeout_ms = 1000;
    const proto_struct *topic_schema = api_produce.request->fields[3].element;
    assert_int_equal(proto_array_alloc(a, &in->topics, topic_schema, 1), 0);
    produce_topic_data *t = in->topics.items;
    t->name = proto_str_c(topic);
    assert_int_equal(proto_array_alloc(a, &t->partitions, topic_schema->fields[1].element, 1), 0);
    produce_partition_data *p = t->partitions.items;
    p->partition_index = partition;
    uint8_t *copy = proto_arena_alloc(a, (size_t)(len > 0 ? len : 1));
    if (len > 0)
        memcpy(copy, records, (size_t)len);
    p->records = (proto_records){.ptr = copy, .len = len};
    return in;
}

static const produce_partition_response *produce_result(broker_request *req)
{
    const produce_response *out = req->response;
    assert_int_equal(out->responses.count, 1);
    const produce_topic_response *t = out->responses.items;
    assert_int_equal(t->partitions.count, 1);
    return t->partitions.items;
}

/* Fetch request: n partitions of one topic at offsets[i]. */
static fetch_request *fetch_of(proto_arena *a, const char *topic, int n, const int64_t *offsets,
                               int32_t partition_max_bytes, int32_t max_bytes)
{
    fetch_request *in = proto_arena_alloc(a, sizeof *in);
    in->replica_id = -1;
    in->max_wait_ms = 0;
    in->min_bytes = 1;
    in->max_bytes = max_bytes;
    in->session_epoch = -1;
    const proto_struct *topic_schema = api_fetch.request->fields[7].element;
    assert_int_equal(proto_array_alloc(a, &in->topics, topic_schema, 1), 0);
    fetch_topic *t = in->topics.items;
    t->topic = proto_str_c(topic);
    assert_int_equal(proto_array_alloc(a, &t->partitions, topic_schema->fields[1].element, n), 0);
    for (int i = 0; i < n; i++) {
        fetch_partition *p = (fetch_partition *)t->partitions.items + i;
        p->partition = i;
        p->current_leader_epoch = -1;
        p->fetch_offset = offsets[i];
        p->log_start_offset = -1;
        p->partition_max_bytes = partition_max_bytes;
    }
    return in;
}

static const fetch_partition_data *fetch_partition_at(broker_request *req, int i)
{
    const fetch_response *out = req->response;
    assert_int_equal(out->responses.count, 1);
    const fetch_topic_response *t = out->responses.items;
    assert_true(i < t->partitions.count);
    return (const fetch_partition_data *)t->partitions.items + i;
}

static void produce_and_fetch(void **state)
{
    (void)state;
    harness *h = harness_open(2);
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    buf batches;
    buf_init(&batches, 4096);
    put_batch(&batches);

    /* auto-creates "orders" with 2 partitions; offset 0 */
    broker_request *req = run(h, &api_produce, 8, produce_of(&a, "orders", 0, batches.data, 73, -1),
                              PROTO_RESPOND);
    const produce_partition_response *pr = produce_result(req);
    assert_int_equal(pr->error_code, KERR_NONE);
    assert_int_equal(pr->base_offset, 0);
    assert_int_equal(pr->log_append_time_ms, -1);
    assert_int_equal(pr->log_start_offset, 0);
    assert_int_equal(pr->error_message.len, -1);
    done(req);

    /* two batches back to back: offsets 1 and 2, base offset 1 */
    put_batch(&batches);
    req = run(h, &api_produce, 3, produce_of(&a, "orders", 0, batches.data, 146, 1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_NONE);
    assert_int_equal(produce_result(req)->base_offset, 1);
    done(req);

    /* acks=0: appended (offset 0 of partition 1), no response */
    done(run(h, &api_produce, 7, produce_of(&a, "orders", 1, batches.data, 73, 0), PROTO_NO_RESPONSE));

    /* fetch both partitions from 0: 3 batches from p0, 1 from p1, as file ranges */
    int64_t offsets[2] = {0, 0};
    req = run(h, &api_fetch, 11, fetch_of(&a, "orders", 2, offsets, 1 << 20, 1 << 20), PROTO_RESPOND);
    const fetch_partition_data *p0 = fetch_partition_at(req, 0), *p1 = fetch_partition_at(req, 1);
    assert_int_equal(p0->error_code, KERR_NONE);
    assert_int_equal(p0->high_watermark, 3);
    assert_int_equal(p0->last_stable_offset, 3);
    assert_int_equal(p0->log_start_offset, 0);
    assert_int_equal(p0->preferred_read_replica, -1);
    assert_true(p0->records.in_file);
    assert_int_equal(p0->records.len, 3 * 73);
    assert_int_equal(p1->high_watermark, 1);
    assert_int_equal(p1->records.len, 73);
    /* the stored batch: base offset rewritten, rest byte for byte */
    uint8_t stored[73];
    assert_int_equal(pread(p0->records.fd, stored, 73, p0->records.file_position + 73), 73);
    assert_int_equal(load_i64(stored), 1);
    assert_memory_equal(stored + BATCH_OFFSET_MAGIC, batches.data + BATCH_OFFSET_MAGIC,
                        73 - BATCH_OFFSET_MAGIC);
    done(req);

    /* KIP-74: max_bytes 1 still gives the first partition one whole batch, the
     * second nothing; partition_max_bytes 1 likewise */
    req = run(h, &api_fetch, 4, fetch_of(&a, "orders", 2, offsets, 1, 1), PROTO_RESPOND);
    assert_int_equal(fetch_partition_at(req, 0)->records.len, 73);
    assert_int_equal(fetch_partition_at(req, 1)->records.len, 0);
    assert_int_equal(fetch_partition_at(req, 1)->high_watermark, 1);
    done(req);

    /* at the end: nothing; past the end and unknown topics: errors, -1 offsets */
    int64_t at_end[2] = {3, 2};
    req = run(h, &api_fetch, 11, fetch_of(&a, "orders", 2, at_end, 1 << 20, 1 << 20), PROTO_RESPOND);
    assert_int_equal(fetch_partition_at(req, 0)->error_code, KERR_NONE);
    assert_int_equal(fetch_partition_at(req, 0)->records.len, 0);
    assert_int_equal(fetch_partition_at(req, 1)->error_code, KERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(fetch_partition_at(req, 1)->high_watermark, -1);
    done(req);
    req = run(h, &api_fetch, 11, fetch_of(&a, "nope", 1, offsets, 1 << 20, 1 << 20), PROTO_RESPOND);
    assert_int_equal(fetch_partition_at(req, 0)->error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(fetch_partition_at(req, 0)->aborted_transactions.count, 0);
    done(req);

    /* leader-epoch fence (v9+) */
    fetch_request *fenced = fetch_of(&a, "orders", 1, offsets, 1 << 20, 1 << 20);
    partition *part;
    assert_int_equal(data_partition_find(&h->b, proto_str_c("orders"), 0, &part), KERR_NONE);
    int32_t epoch = plog_leader_epoch(part->log);
    ((fetch_partition *)((fetch_topic *)fenced->topics.items)->partitions.items)->current_leader_epoch = epoch + 1;
    req = run(h, &api_fetch, 9, fenced, PROTO_RESPOND);
    assert_int_equal(fetch_partition_at(req, 0)->error_code, KERR_UNKNOWN_LEADER_EPOCH);
    done(req);
    if (epoch > 0) {
        ((fetch_partition *)((fetch_topic *)fenced->topics.items)->partitions.items)->current_leader_epoch = epoch - 1;
        req = run(h, &api_fetch, 9, fenced, PROTO_RESPOND);
        assert_int_equal(fetch_partition_at(req, 0)->error_code, KERR_FENCED_LEADER_EPOCH);
        done(req);
    }
    buf_free(&batches);
    proto_arena_free(&a);
    harness_close(h);
}

static void produce_refusals(void **state)
{
    (void)state;
    harness *h = harness_open(1);
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    buf good;
    buf_init(&good, 4096);
    put_batch(&good);
    put_batch(&good);
    broker_request *req;

    /* second batch corrupt: nothing of the partition is appended */
    uint8_t bad[146];
    memcpy(bad, good.data, sizeof bad);
    bad[73 + 70] ^= 0xff; /* a value byte of the second batch: CRC mismatch */
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, bad, 146, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_CORRUPT_MESSAGE);
    assert_int_equal(produce_result(req)->base_offset, -1);
    assert_true(produce_result(req)->error_message.len > 0);
    done(req);
    partition *p;
    assert_int_equal(data_partition_find(&h->b, proto_str_c("t"), 0, &p), KERR_NONE);
    assert_int_equal(plog_log_end_offset(p->log), 0);

    /* truncated batch, empty records */
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, good.data, 72, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_CORRUPT_MESSAGE);
    done(req);
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, good.data, 0, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_CORRUPT_MESSAGE);
    done(req);

    /* magic 1 in a v3 request; a v2 request (message sets) */
    uint8_t legacy[73];
    memcpy(legacy, good.data, sizeof legacy);
    legacy[BATCH_OFFSET_MAGIC] = 1;
    req = run(h, &api_produce, 3, produce_of(&a, "t", 0, legacy, 73, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    done(req);
    req = run(h, &api_produce, 2, produce_of(&a, "t", 0, legacy, 73, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert_int_equal(produce_result(req)->log_append_time_ms, -1);
    done(req);
    req = run(h, &api_produce, 0, produce_of(&a, "t", 0, (const uint8_t *)"junk", 4, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_CORRUPT_MESSAGE);
    done(req);

    /* unknown codec 7 */
    uint8_t codec[73];
    memcpy(codec, good.data, sizeof codec);
    codec[BATCH_OFFSET_ATTRIBUTES + 1] = 7;
    store_i32(codec + BATCH_OFFSET_CRC, (int32_t)crc32c(0, codec + BATCH_OFFSET_ATTRIBUTES, 73 - BATCH_OFFSET_ATTRIBUTES));
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, codec, 73, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_UNSUPPORTED_COMPRESSION_TYPE);
    done(req);

    /* acks, transactional_id, bad partition, acks=0 failure closes */
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, good.data, 73, 2), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_INVALID_REQUIRED_ACKS);
    done(req);
    produce_request *txn = produce_of(&a, "t", 0, good.data, 73, -1);
    txn->transactional_id = proto_str_c("tx-1");
    req = run(h, &api_produce, 8, txn, PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_INVALID_TXN_STATE);
    done(req);
    req = run(h, &api_produce, 8, produce_of(&a, "t", 5, good.data, 73, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    done(req);
    done(run(h, &api_produce, 8, produce_of(&a, "t", 5, good.data, 73, 0), PROTO_CLOSE));

    /* max.message.bytes, set on the topic as an operator would */
    const char *key = "max.message.bytes", *value = "72";
    int8_t op = 0; /* SET */
    char err[256];
    assert_int_equal(topic_registry_alter_config(h->b.topics, topic_registry_find(h->b.topics, "t", 1),
                                                 true, &key, &value, &op, 1, false, err, sizeof err),
                     0);
    req = run(h, &api_produce, 8, produce_of(&a, "t", 0, good.data, 73, -1), PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_MESSAGE_TOO_LARGE);
    done(req);
    assert_int_equal(plog_log_end_offset(p->log), 0);

    buf_free(&good);
    proto_arena_free(&a);
    harness_close(h);
}

/* Produces n single-record batches to topic/0. */
static void produce_n(harness *h, const char *topic, int n)
{
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    buf one;
    buf_init(&one, 4096);
    put_batch(&one);
    for (int i = 0; i < n; i++) {
        broker_request *req = run(h, &api_produce, 8, produce_of(&a, topic, 0, one.data, 73, -1),
                                  PROTO_RESPOND);
        assert_int_equal(produce_result(req)->error_code, KERR_NONE);
        done(req);
    }
    buf_free(&one);
    proto_arena_free(&a);
}

static void offsets_epochs_and_deletion(void **state)
{
    (void)state;
    harness *h = harness_open(1);
    produce_n(h, "t", 4);
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    partition *p;
    assert_int_equal(data_partition_find(&h->b, proto_str_c("t"), 0, &p), KERR_NONE);
    int32_t epoch = plog_leader_epoch(p->log);

    /* ListOffsets: earliest, latest, by time (found / too recent) */
    int64_t stamps[4] = {-2, -1, 1700000000000LL, 1800000000000LL};
    list_offsets_request *lo = proto_arena_alloc(&a, sizeof *lo);
    lo->replica_id = -1;
    const proto_struct *lo_topic = api_list_offsets.request->fields[2].element;
    assert_int_equal(proto_array_alloc(&a, &lo->topics, lo_topic, 1), 0);
    list_offsets_topic *lt = lo->topics.items;
    lt->name = proto_str_c("t");
    assert_int_equal(proto_array_alloc(&a, &lt->partitions, lo_topic->fields[1].element, 4), 0);
    for (int i = 0; i < 4; i++) {
        list_offsets_partition *lp = (list_offsets_partition *)lt->partitions.items + i;
        lp->current_leader_epoch = -1;
        lp->timestamp = stamps[i];
    }
    broker_request *req = run(h, &api_list_offsets, 5, lo, PROTO_RESPOND);
    const list_offsets_partition_response *lr =
        ((const list_offsets_topic_response *)((const list_offsets_response *)req->response)->topics.items)->partitions.items;
    assert_int_equal(lr[0].error_code, KERR_NONE);
    assert_int_equal(lr[0].offset, 0);
    assert_int_equal(lr[0].timestamp, -1);
    assert_int_equal(lr[0].leader_epoch, epoch);
    assert_int_equal(lr[1].offset, 4);
    assert_int_equal(lr[1].leader_epoch, epoch);
    assert_int_equal(lr[2].offset, 0);
    assert_int_equal(lr[2].timestamp, 1700000000000LL);
    assert_int_equal(lr[3].offset, -1);
    assert_int_equal(lr[3].timestamp, -1);
    assert_int_equal(lr[3].leader_epoch, -1);
    done(req);

    /* OffsetForLeaderEpoch: the current epoch ends at the log end */
    offset_for_leader_epoch_request *oe = proto_arena_alloc(&a, sizeof *oe);
    oe->replica_id = -1;
    const proto_struct *oe_topic = api_offset_for_leader_epoch.request->fields[1].element;
    assert_int_equal(proto_array_alloc(&a, &oe->topics, oe_topic, 1), 0);
    offset_for_leader_topic *ot = oe->topics.items;
    ot->topic = proto_str_c("t");
    assert_int_equal(proto_array_alloc(&a, &ot->partitions, oe_topic->fields[1].element, 2), 0);
    offset_for_leader_partition *op = ot->partitions.items;
    op[0] = (offset_for_leader_partition){.partition = 0, .current_leader_epoch = epoch, .leader_epoch = epoch};
    op[1] = (offset_for_leader_partition){.partition = 9, .current_leader_epoch = -1, .leader_epoch = epoch};
    req = run(h, &api_offset_for_leader_epoch, 3, oe, PROTO_RESPOND);
    const offset_for_leader_partition_result *or_ =
        ((const offset_for_leader_topic_result *)((const offset_for_leader_epoch_response *)req->response)->topics.items)->partitions.items;
    assert_int_equal(or_[0].error_code, KERR_NONE);
    assert_int_equal(or_[0].leader_epoch, epoch);
    assert_int_equal(or_[0].end_offset, 4);
    assert_int_equal(or_[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(or_[1].end_offset, -1);
    done(req);

    /* DeleteRecords: 2, then beyond the HW, then -1 (= HW) */
    int64_t targets[3] = {2, 5, -1};
    int16_t errors[3] = {KERR_NONE, KERR_OFFSET_OUT_OF_RANGE, KERR_NONE};
    int64_t low[3] = {2, -1, 4};
    for (int i = 0; i < 3; i++) {
        delete_records_request *dr = proto_arena_alloc(&a, sizeof *dr);
        const proto_struct *dr_topic = api_delete_records.request->fields[0].element;
        assert_int_equal(proto_array_alloc(&a, &dr->topics, dr_topic, 1), 0);
        delete_records_topic *dt = dr->topics.items;
        dt->name = proto_str_c("t");
        assert_int_equal(proto_array_alloc(&a, &dt->partitions, dr_topic->fields[1].element, 1), 0);
        ((delete_records_partition *)dt->partitions.items)->offset = targets[i];
        req = run(h, &api_delete_records, 1, dr, PROTO_RESPOND);
        const delete_records_partition_result *dres =
            ((const delete_records_topic_result *)((const delete_records_response *)req->response)->topics.items)->partitions.items;
        assert_int_equal(dres->error_code, errors[i]);
        assert_int_equal(dres->low_watermark, low[i]);
        done(req);
        if (i == 0) { /* below the new start: OFFSET_OUT_OF_RANGE */
            int64_t one[1] = {1};
            req = run(h, &api_fetch, 11, fetch_of(&a, "t", 1, one, 1 << 20, 1 << 20), PROTO_RESPOND);
            assert_int_equal(fetch_partition_at(req, 0)->error_code, KERR_OFFSET_OUT_OF_RANGE);
            done(req);
        }
    }
    proto_arena_free(&a);
    harness_close(h);
}

/* ListOffsets by time answers the first record at or after the time, inside
 * a batch, with that record's timestamp (as Kafka does). */
static void list_offsets_record_exact(void **state)
{
    (void)state;
    harness *h = harness_open(1);
    produce_n(h, "t", 1); /* offset 0, timestamp 1700000000000 */
    batch_record records[3];
    memset(records, 0, sizeof records);
    for (int i = 0; i < 3; i++) {
        records[i].key_len = -1;
        records[i].value = (const uint8_t *)"v";
        records[i].value_len = 1;
        records[i].timestamp = 1700000001000LL + 10 * i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    params.codec = BATCH_CODEC_GZIP;
    buf b;
    buf_init(&b, 4096);
    assert_int_equal(batch_build(&b, &params, records, 3), 0); /* offsets 1-3 */
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    broker_request *req = run(h, &api_produce, 8, produce_of(&a, "t", 0, b.data, (int32_t)b.len, -1),
                              PROTO_RESPOND);
    assert_int_equal(produce_result(req)->error_code, KERR_NONE);
    assert_int_equal(produce_result(req)->base_offset, 1);
    done(req);

    int64_t stamps[3] = {1700000001005LL, 1700000001020LL, 1700000001021LL};
    int64_t offsets[3] = {2, 3, -1};
    int64_t found[3] = {1700000001010LL, 1700000001020LL, -1};
    for (int i = 0; i < 3; i++) {
        list_offsets_request *lo = proto_arena_alloc(&a, sizeof *lo);
        const proto_struct *lo_topic = api_list_offsets.request->fields[2].element;
        assert_int_equal(proto_array_alloc(&a, &lo->topics, lo_topic, 1), 0);
        list_offsets_topic *lt = lo->topics.items;
        lt->name = proto_str_c("t");
        assert_int_equal(proto_array_alloc(&a, &lt->partitions, lo_topic->fields[1].element, 1), 0);
        list_offsets_partition *lp = lt->partitions.items;
        lp->current_leader_epoch = -1;
        lp->timestamp = stamps[i];
        req = run(h, &api_list_offsets, 1, lo, PROTO_RESPOND);
        const list_offsets_partition_response *lr =
            ((const list_offsets_topic_response *)((const list_offsets_response *)req->response)->topics.items)->partitions.items;
        assert_int_equal(lr->error_code, KERR_NONE);
        assert_int_equal(lr->offset, offsets[i]);
        assert_int_equal(lr->timestamp, found[i]);
        done(req);
    }
    buf_free(&b);
    proto_arena_free(&a);
    harness_close(h);
}

static void fetch_sessions(void **state)
{
    (void)state;
    harness *h = harness_open(1);
    produce_n(h, "t", 1);
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    int64_t zero[1] = {0};

    /* epoch 0: new session, full response */
    fetch_request *in = fetch_of(&a, "t", 1, zero, 1 << 20, 1 << 20);
    in->session_epoch = 0;
    broker_request *req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    const fetch_response *out = req->response;
    int32_t id = out->session_id;
    assert_true(id > 0);
    assert_int_equal(out->error_code, KERR_NONE);
    assert_int_equal(fetch_partition_at(req, 0)->records.len, 73);
    done(req);

    /* epoch 1, position moved to 1: nothing new, so no partitions */
    int64_t one[1] = {1};
    in = fetch_of(&a, "t", 1, one, 1 << 20, 1 << 20);
    in->session_id = id;
    in->session_epoch = 1;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    out = req->response;
    assert_int_equal(out->session_id, id);
    assert_int_equal(out->responses.count, 0);
    done(req);

    /* new data: epoch 2 with no partitions listed still reports it */
    produce_n(h, "t", 1);
    in = fetch_of(&a, "t", 0, one, 1 << 20, 1 << 20);
    in->topics.count = 0;
    in->session_id = id;
    in->session_epoch = 2;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(fetch_partition_at(req, 0)->high_watermark, 2);
    assert_int_equal(fetch_partition_at(req, 0)->records.len, 73);
    done(req);

    /* wrong epoch, unknown id */
    in->session_epoch = 7;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(((const fetch_response *)req->response)->error_code, KERR_INVALID_FETCH_SESSION_EPOCH);
    assert_int_equal(((const fetch_response *)req->response)->responses.count, 0);
    done(req);
    in->session_id = id ^ 0x5555;
    in->session_epoch = 3;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(((const fetch_response *)req->response)->error_code, KERR_FETCH_SESSION_ID_NOT_FOUND);
    done(req);

    /* forget the partition (epoch 3): nothing left to report even with data */
    produce_n(h, "t", 1);
    in->session_id = id;
    in->session_epoch = 3;
    const proto_struct *forgotten_schema = api_fetch.request->fields[8].element;
    assert_int_equal(proto_array_alloc(&a, &in->forgotten_topics_data, forgotten_schema, 1), 0);
    fetch_forgotten_topic *ft = in->forgotten_topics_data.items;
    ft->topic = proto_str_c("t");
    assert_int_equal(proto_array_alloc(&a, &ft->partitions, forgotten_schema->fields[1].element, 1), 0);
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(((const fetch_response *)req->response)->responses.count, 0);
    done(req);

    /* epoch -1 closes the session; it is gone afterwards */
    in->forgotten_topics_data.count = 0;
    in->session_epoch = -1;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(((const fetch_response *)req->response)->session_id, 0);
    done(req);
    in->session_epoch = 4;
    req = run(h, &api_fetch, 11, in, PROTO_RESPOND);
    assert_int_equal(((const fetch_response *)req->response)->error_code, KERR_FETCH_SESSION_ID_NOT_FOUND);
    done(req);

    proto_arena_free(&a);
    harness_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(produce_and_fetch),
        cmocka_unit_test(produce_refusals),
        cmocka_unit_test(offsets_epochs_and_deletion),
        cmocka_unit_test(list_offsets_record_exact),
        cmocka_unit_test(fetch_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
