/*
 * produce.c - Produce (key 0): advertised v0-8, implemented v3-8.
 *
 * Request (never flexible in this range):
 *   FIELD              VERSIONS  TYPE
 *   transactional_id   3+        nullable string
 *   acks               0+        int16: 0, 1 or -1
 *   timeout_ms         0+        int32
 *   topics[]           0+        name string, partitions[]:
 *     partition_index  0+        int32
 *     records          0+        nullable bytes: v3+ record batches v2, back to back
 * Response:
 *   responses[]        0+        name string, partitions[]:
 *     partition_index  0+        int32
 *     error_code       0+        int16
 *     base_offset      0+        int64
 *     log_append_time_ms 2+      int64, -1 unless LogAppendTime
 *     log_start_offset 5+        int64
 *     record_errors[]  8+        batch_index int32, batch_index_error_message nullable string
 *     error_message    8+        nullable string
 *   throttle_time_ms   1+        int32
 *
 * v0-2 carry message sets of magic 0/1. They are advertised only because
 * librdkafka's feature checks test Produce [0,0] (KAFKA-18659); every
 * partition is answered UNSUPPORTED_FOR_MESSAGE_FORMAT (or CORRUPT_MESSAGE
 * when the bytes are not even a message set) and nothing is written.
 *
 * Per partition, every batch is validated before any is appended (all or
 * nothing). Batches are stored byte for byte; the log rewrites only the base
 * offset, the partition leader epoch and, on LogAppendTime topics, the max
 * timestamp (with the CRC). The exception, as in Kafka: a topic whose
 * compression.type names a codec stores batches re-encoded with that codec
 * (batch_recompress.c).
 *
 * Decisions where strait differs from, or picks among, Kafka behaviours:
 * - Unknown topics are auto-created when auto.create.topics.enable is on
 *   (broker_topic_get_or_create); Kafka only does this from Metadata.
 * - strait has no transactions yet, so no partition can be part of an
 *   ongoing transaction: a request with a transactional_id, or a batch with
 *   the transactional bit, gets INVALID_TXN_STATE per partition - what Kafka
 *   answers when a transactional write is not in a verified transaction
 *   (KIP-890). Kafka answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED for
 *   transactional batches without a transactional_id; that code (53) is not
 *   in kafka_error.h yet, so INVALID_TXN_STATE stands in.
 * - Idempotent batches (producer id >= 0) are checked against the
 *   partition's producer state after validation and before the append
 *   (produce_idempotence.c): a duplicate of one of the producer's last five
 *   batches is answered with its original base offset and not written again;
 *   a sequence gap, a fenced epoch or an idempotent batch that is not alone
 *   in its partition is refused and nothing is written.
 * - Region roles (region_redirect.h): on a standby or fenced broker, a topic
 *   matching strait.redirect.topics takes no writes but the sidecar's; every
 *   partition gets NOT_LEADER_OR_FOLLOWER (retriable: the client refreshes
 *   metadata, which on a standby points at the active region) and nothing
 *   is appended or auto-created. A refused idempotent batch also closes the
 *   connection after the answer, so the batches the client pipelined behind
 *   it are never read: when the region turns active between two of them (a
 *   promotion), the later one would be the first this region sees of a
 *   producer it knows nothing of (its state stayed in the old region), be
 *   accepted at its sequence (KIP-360), and librdkafka would then count the
 *   refused one as delivered (an implicit ack): an acknowledged record that
 *   is nowhere. Closed, both are retried in order.
 * - Records refused one by one (KIP-467, Produce v8): a compacted topic
 *   refuses records without a key. The partition's batches are refused
 *   whole with INVALID_RECORD, error_message sums up, and record_errors
 *   names the unkeyed records of the first batch that has any (index in the
 *   batch, as Kafka), so a client fails just those records and reports the
 *   rest of the batch as failed because of them.
 * - acks=0: nothing is sent back; when any partition failed the connection
 *   is closed, as Kafka does, so the producer notices and refreshes metadata.
 * - Decompression is bounded per batch (LIMIT_BATCH_DECOMPRESSED_BYTES) and
 *   per request (LIMIT_PRODUCE_DECOMPRESSED_BYTES, which Kafka does not
 *   have): validation inflates each compressed batch once and counts its
 *   size against the request's budget, in request order. A partition whose
 *   batch would take the request past the budget gets MESSAGE_TOO_LARGE
 *   (10) and nothing of it is written; the partitions before it are served.
 *   MESSAGE_TOO_LARGE rather than CORRUPT_MESSAGE (retriable: a client would
 *   send the same bytes again) or INVALID_RECORD (nothing is wrong with any
 *   record): the request is too big once inflated, and the Java producer
 *   answers that code by splitting its batches and retrying; librdkafka
 *   fails the messages with MSG_SIZE_TOO_LARGE. The key check of compacted
 *   topics and recompression re-inflate batches already counted, so one
 *   request inflates at most three times the budget.
 *
 * Runs on the broker's event-loop thread.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/log/batch_recompress.h"
#include "broker/log/cleaner.h"
#include "broker/metrics/metrics.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/produce_wait.h"
#include "broker/proto/producer_apis.h"
#include "broker/proto/region_redirect.h"
#include "broker/proto/request_park.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

#define PRODUCE_MESSAGE_BYTES 200 /* room for one v8 error_message text */

/* ---- field tables ------------------------------------------------------ */

static const proto_field partition_data_fields[] = {
    PF_I32(produce_partition_data, partition_index, 0, PV_MAX, 0),
    PF_RECORDS(produce_partition_data, records, 0, PV_MAX),
};
static PROTO_STRUCT(partition_data_schema, produce_partition_data, partition_data_fields);

static const proto_field topic_data_fields[] = {
    PF_STR(produce_topic_data, name, 0, PV_MAX),
    PF_ARRAY(produce_topic_data, partitions, 0, PV_MAX, partition_data_schema),
};
static PROTO_STRUCT(topic_data_schema, produce_topic_data, topic_data_fields);

static const proto_field request_fields[] = {
    PF_NSTR(produce_request, transactional_id, 3, PV_MAX, 0),
    PF_I16(produce_request, acks, 0, PV_MAX, 0),
    PF_I32(produce_request, timeout_ms, 0, PV_MAX, 0),
    PF_ARRAY(produce_request, topics, 0, PV_MAX, topic_data_schema),
};
static PROTO_STRUCT(request_schema, produce_request, request_fields);

static const proto_field record_error_fields[] = {
    PF_I32(produce_record_error, batch_index, 8, PV_MAX, 0),
    PF_NSTR(produce_record_error, batch_index_error_message, 8, PV_MAX, 8),
};
static PROTO_STRUCT(record_error_schema, produce_record_error, record_error_fields);

static const proto_field partition_response_fields[] = {
    PF_I32(produce_partition_response, partition_index, 0, PV_MAX, 0),
    PF_I16(produce_partition_response, error_code, 0, PV_MAX, 0),
    PF_I64(produce_partition_response, base_offset, 0, PV_MAX, 0),
    PF_I64(produce_partition_response, log_append_time_ms, 2, PV_MAX, -1),
    PF_I64(produce_partition_response, log_start_offset, 5, PV_MAX, -1),
    PF_ARRAY(produce_partition_response, record_errors, 8, PV_MAX, record_error_schema),
    PF_NSTR(produce_partition_response, error_message, 8, PV_MAX, 8),
};
static PROTO_STRUCT(partition_response_schema, produce_partition_response, partition_response_fields);

static const proto_field topic_response_fields[] = {
    PF_STR(produce_topic_response, name, 0, PV_MAX),
    PF_ARRAY(produce_topic_response, partitions, 0, PV_MAX, partition_response_schema),
};
static PROTO_STRUCT(topic_response_schema, produce_topic_response, topic_response_fields);

static const proto_field response_fields[] = {
    PF_ARRAY(produce_response, responses, 0, PV_MAX, topic_response_schema),
    PF_I32(produce_response, throttle_time_ms, 1, PV_MAX, 0),
};
static PROTO_STRUCT(response_schema, produce_response, response_fields);

/* ---- validation -------------------------------------------------------- */

/* What went wrong with a partition's records: a Kafka code and a text. */
typedef struct produce_failure {
    int16_t error_code;
    char message[PRODUCE_MESSAGE_BYTES];
} produce_failure;

static int16_t fail(produce_failure *f, int16_t code, int batch_index, size_t position,
                    const char *detail)
{
    f->error_code = code;
    snprintf(f->message, sizeof f->message, "batch %d at byte %zu: %s", batch_index, position, detail);
    return code;
}

/* Maps a batch_header_parse / batch_validate error to Kafka's code. */
static int16_t batch_error_code(int rc)
{
    switch (rc) {
    case ST_EUNSUPPORTED: return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case ST_ETOOBIG: return KERR_RECORD_LIST_TOO_LARGE;
    default: return KERR_CORRUPT_MESSAGE; /* ST_ECRC, ST_ECORRUPT, ST_ECODEC, ST_ETRUNCATED */
    }
}

/* The request's decompression budget is spent: the batch at position is
 * refused (see the top of this file). */
static int16_t fail_budget(produce_failure *f, int index, size_t position)
{
    char detail[120];
    snprintf(detail, sizeof detail, "the request inflates to more than %d bytes of records; "
             "send fewer or smaller batches per request", LIMIT_PRODUCE_DECOMPRESSED_BYTES);
    return fail(f, KERR_MESSAGE_TOO_LARGE, index, position, detail);
}

/*
 * Checks every batch in data[0..len) without writing to it; *batch_count
 * gets the number of batches. Each compressed batch's inflated size is taken
 * from *budget (the request's decompression budget). Returns KERR_NONE or
 * the first failure.
 */
static int16_t validate_batches(const uint8_t *data, size_t len, int16_t version,
                                int32_t max_message_bytes, size_t *budget, int *batch_count,
                                produce_failure *f)
{
    *batch_count = 0;
    if (len == 0)
        return fail(f, KERR_CORRUPT_MESSAGE, 0, 0, "no record batch");
    size_t position = 0;
    for (int index = 0; position < len; index++) {
        batch_header header;
        int rc = batch_header_parse(data + position, len - position, &header);
        if (rc != 0)
            return fail(f, batch_error_code(rc), index, position,
                        rc == ST_EUNSUPPORTED ? "message format v0/v1 is not supported, use v2"
                                              : strait_strerror(rc));
        size_t total = batch_total_bytes(&header);
        if (max_message_bytes >= 0 && total > (size_t)max_message_bytes) {
            char detail[96];
            snprintf(detail, sizeof detail, "%zu bytes exceed max.message.bytes %d", total,
                     max_message_bytes);
            return fail(f, KERR_MESSAGE_TOO_LARGE, index, position, detail);
        }
        int codec = batch_codec_of(&header);
        if (codec > BATCH_CODEC_ZSTD)
            return fail(f, KERR_UNSUPPORTED_COMPRESSION_TYPE, index, position,
                        "unknown compression codec");
        if (codec == BATCH_CODEC_ZSTD && version < 7) /* KIP-110: zstd needs Produce v7 */
            return fail(f, KERR_UNSUPPORTED_COMPRESSION_TYPE, index, position,
                        "zstd needs Produce v7 or later");
        if (header.attributes & BATCH_ATTR_CONTROL)
            return fail(f, KERR_CORRUPT_MESSAGE, index, position,
                        "clients may not write control batches");
        if (header.attributes & BATCH_ATTR_TRANSACTIONAL)
            return fail(f, KERR_INVALID_TXN_STATE, index, position,
                        "transactions are not supported yet");
        if (codec != BATCH_CODEC_NONE && *budget == 0)
            return fail_budget(f, index, position);
        /* a batch gets its own cap or what is left of the request's, the lower */
        bool capped_by_request = *budget < LIMIT_BATCH_DECOMPRESSED_BYTES;
        const batch_limits limits = {
            .max_decompressed_bytes = capped_by_request ? *budget : LIMIT_BATCH_DECOMPRESSED_BYTES};
        batch_info info;
        rc = batch_validate(data + position, total, &limits, &info);
        *budget -= info.decompressed_bytes <= *budget ? info.decompressed_bytes : *budget;
        if (rc == ST_ETOOBIG && codec != BATCH_CODEC_NONE && capped_by_request) {
            *budget = 0; /* what was inflated before the cap stopped it is spent too */
            return fail_budget(f, index, position);
        }
        if (rc != 0)
            return fail(f, batch_error_code(rc), index, position, strait_strerror(rc));
        position += total;
        ++*batch_count;
    }
    return KERR_NONE;
}

/* ---- handler ----------------------------------------------------------- */

static void set_message(broker_request *req, produce_partition_response *pr, const char *text)
{
    char *copy = broker_request_alloc(req, PRODUCE_MESSAGE_BYTES);
    if (!copy)
        return;
    snprintf(copy, PRODUCE_MESSAGE_BYTES, "%s", text);
    pr->error_message = proto_str_c(copy);
}

/* The text of each record_errors entry for a record without a key. */
#define UNKEYED_RECORD_MESSAGE "record has no key: a compacted topic keeps the latest value per key"

/*
 * KIP-467: names in pr->record_errors the records of the batch at
 * data[0..len) (batch batch_index of the partition, at byte position) that
 * have no key, by their index in the batch, so that a client fails just
 * those and reports the others as failed because of them. At most
 * LIMIT_PRODUCE_RECORD_ERRORS are named. Returns INVALID_RECORD with a
 * summary in f, or the batch's decoding error.
 */
static int16_t name_unkeyed_records(broker_request *req, const uint8_t *data, size_t len,
                                    int batch_index, size_t position, produce_failure *f,
                                    produce_partition_response *pr)
{
    batch_iter *it;
    int rc = batch_iter_open(data, len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it);
    if (rc != 0)
        return fail(f, batch_error_code(rc), batch_index, position, strait_strerror(rc));
    int32_t record_count = batch_iter_header(it)->record_count;
    int32_t capacity = record_count < LIMIT_PRODUCE_RECORD_ERRORS ? record_count
                                                                  : LIMIT_PRODUCE_RECORD_ERRORS;
    produce_record_error *errors =
        capacity > 0 ? broker_request_alloc(req, (size_t)capacity * sizeof *errors) : NULL;
    int32_t named = 0, unkeyed = 0, index = 0;
    batch_record record;
    while ((rc = batch_iter_next(it, &record)) == 1) {
        if (record.key_len < 0) {
            if (errors && named < capacity) {
                errors[named].batch_index = index;
                errors[named].batch_index_error_message = proto_str_c(UNKEYED_RECORD_MESSAGE);
                named++;
            }
            unkeyed++;
        }
        index++;
    }
    batch_iter_close(it);
    if (rc < 0)
        return fail(f, batch_error_code(rc), batch_index, position, strait_strerror(rc));
    assert(unkeyed > 0); /* cleaner_check_keys found one */
    assert(named <= unkeyed && named <= capacity);
    pr->record_errors = (proto_array){errors, named};
    char detail[128];
    snprintf(detail, sizeof detail, "%d of %d records have no key; a compacted topic needs a "
             "key on every record", (int)unkeyed, (int)index);
    return fail(f, KERR_INVALID_RECORD, batch_index, position, detail);
}

/* Compacted topics need a key on every record (Kafka's LogValidator): the
 * cleaner keeps the latest value per key, an unkeyed record has none. Kafka
 * answers INVALID_RECORD (87) at every Produce version, and so do we; from
 * v8 the response also names the unkeyed records of the first batch that
 * has any (name_unkeyed_records). Batches were validated. */
static int16_t check_compacted_keys(broker_request *req, const uint8_t *data, size_t len,
                                    produce_failure *f, produce_partition_response *pr)
{
    size_t position = 0;
    for (int index = 0; position < len; index++) {
        batch_header header;
        if (batch_header_parse(data + position, len - position, &header) != 0)
            return fail(f, KERR_CORRUPT_MESSAGE, index, position, "batch does not parse");
        size_t total = batch_total_bytes(&header);
        int rc = cleaner_check_keys(data + position, total);
        if (rc == ST_EINVAL)
            return name_unkeyed_records(req, data + position, total, index, position, f, pr);
        if (rc != 0)
            return fail(f, batch_error_code(rc), index, position, strait_strerror(rc));
        position += total;
    }
    return KERR_NONE;
}

/* Validates then appends one partition's batches; fills pr. budget: the
 * request's decompression budget left. */
static void produce_partition(broker_request *req, topic *t, const produce_partition_data *pd,
                              size_t *budget, produce_partition_response *pr)
{
    broker *b = req->broker;
    partition *p = topic_partition(t, pd->partition_index);
    if (!p || !p->log) {
        pr->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    if (t->internal && !authorize_internal_write(req)) {
        pr->error_code = KERR_INVALID_TOPIC_EXCEPTION;
        set_message(req, pr, "cannot append to an internal topic");
        return;
    }
    produce_failure failure;
    int batch_count = 0;
    size_t len = pd->records.len > 0 ? (size_t)pd->records.len : 0;
    int16_t code = validate_batches(pd->records.ptr, len, req->api_version,
                                    t->produce.max_message_bytes, budget,
                                    &batch_count, &failure);
    if (code == KERR_NONE && t->produce.compact)
        code = check_compacted_keys(req, pd->records.ptr, len, &failure, pr);
    if (code != KERR_NONE) {
        pr->error_code = code;
        set_message(req, pr, failure.message);
        log_debug("produce", "rejected topic=%s partition=%d error=%s detail=%s", t->name,
                  pd->partition_index, kafka_error_name(code), failure.message);
        return;
    }
    produce_idempotence idempotence;
    produce_idempotence_check(p->log, pd->records.ptr, len, batch_count, &idempotence);
    if (idempotence.error_code != KERR_NONE || idempotence.duplicate) {
        pr->error_code = idempotence.error_code;
        if (idempotence.error_code != KERR_NONE) {
            set_message(req, pr, idempotence.message);
        } else { /* a retry of a batch already in the log: its original offsets */
            pr->base_offset = idempotence.base_offset;
            if (t->produce.log_append_time)
                pr->log_append_time_ms = idempotence.timestamp_ms;
            pr->log_start_offset = plog_log_start_offset(p->log);
            /* the original's fsync may still be in flight: not acked before it */
            if (req->handler_state && plog_flush_pending(p->log, idempotence.base_offset + 1))
                produce_wait_add(req->handler_state, p->log, idempotence.base_offset + 1, pr);
        }
        log_debug("produce", "idempotence topic=%s partition=%d error=%s duplicate=%d detail=%s",
                  t->name, pd->partition_index, kafka_error_name(pr->error_code),
                  idempotence.duplicate, idempotence.error_code ? idempotence.message : "");
        return;
    }
    /* The batches are rewritten in place (base offset, leader epoch,
     * LogAppendTime). records.ptr points into req->frame, a malloc'ed
     * buffer the request owns and frees after the response; the codec only
     * types it const because decoding never writes. Nothing reads these
     * bytes again, so writing through the cast is defined and safe. */
    uint8_t *data = (uint8_t *)(uintptr_t)pd->records.ptr;
    int64_t append_time = t->produce.log_append_time ? clock_wall_ms() : -1;
    int topic_codec = t->produce.compression_codec;
    size_t position = 0;
    int appended = 0;
    int64_t durable_end = -1; /* the flush policy wants offsets below durable before the ack */
    buf recompressed;
    buf_init(&recompressed, (size_t)LIMIT_BATCH_DECOMPRESSED_BYTES + BATCH_HEADER_BYTES);
    for (int i = 0; i < batch_count; i++) {
        batch_header header;
        int rc = batch_header_parse(data + position, len - position, &header);
        size_t total = batch_total_bytes(&header);
        uint8_t *stored = data + position;
        size_t stored_len = total;
        if (rc == 0 && topic_codec >= 0 && topic_codec != batch_codec_of(&header)) {
            /* compression.type names a codec: store the batch with it, as Kafka */
            buf_reset(&recompressed);
            rc = batch_recompress(stored, total, topic_codec, LIMIT_BATCH_DECOMPRESSED_BYTES,
                                  &recompressed);
            stored = recompressed.data;
            stored_len = recompressed.len;
        }
        plog_append_result result;
        if (rc == 0)
            rc = plog_append(p->log, stored, stored_len, append_time, &result);
        if (rc != 0) {
            /* Only an I/O failure gets here (everything was validated); the
             * batches before this one stay appended. v3 clients do not know
             * KAFKA_STORAGE_ERROR: Kafka sends them NOT_LEADER_OR_FOLLOWER. */
            pr->error_code = req->api_version >= 4 ? KERR_KAFKA_STORAGE_ERROR : KERR_NOT_LEADER_OR_FOLLOWER;
            set_message(req, pr, strait_strerror(rc));
            log_error("produce", "append failed topic=%s partition=%d batch=%d appended=%d error=%s",
                      t->name, pd->partition_index, i, appended, strait_strerror(rc));
            break;
        }
        if (appended++ == 0)
            pr->base_offset = result.base_offset;
        if (result.needs_flush)
            durable_end = result.last_offset + 1;
        metrics_count_produce(b->metrics, t->name, result.last_offset - result.base_offset + 1,
                              (int64_t)total);
        position += total;
    }
    buf_free(&recompressed);
    if (appended > 0) {
        if (pr->error_code == KERR_NONE)
            pr->log_append_time_ms = append_time;
        broker_notify_append(b, p);
    }
    if (durable_end >= 0 && pr->error_code == KERR_NONE && req->handler_state)
        produce_wait_add(req->handler_state, p->log, durable_end, pr); /* acks=1/all */
    pr->log_start_offset = plog_log_start_offset(p->log);
}

/* Whether the partition's records start with a batch of an idempotent
 * producer (one is alone in its partition: produce_idempotence.c). */
static bool holds_idempotent_batch(const produce_partition_data *pd)
{
    batch_header h;
    return pd->records.len > 0 && !pd->records.in_file &&
           batch_header_parse(pd->records.ptr, (size_t)pd->records.len, &h) == 0 &&
           h.producer_id >= 0;
}

/* The answer for a v0-2 partition: no magic 0/1 support, nothing written. */
static void refuse_legacy(const produce_partition_data *pd, produce_partition_response *pr)
{
    batch_header header;
    size_t len = pd->records.len > 0 ? (size_t)pd->records.len : 0;
    int rc = batch_header_parse(pd->records.ptr, len, &header);
    /* Magic 2 in a v0-2 request is refused too: Kafka requires v3+ for it. */
    bool message_set = rc == ST_EUNSUPPORTED || rc == 0;
    pr->error_code = message_set ? KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT : KERR_CORRUPT_MESSAGE;
}

static int handle_produce(broker_request *req)
{
    const produce_request *in = req->request;
    produce_response *out = req->response;
    int16_t request_error = KERR_NONE;
    const char *request_message = NULL;
    if (in->acks != 0 && in->acks != 1 && in->acks != -1) {
        request_error = KERR_INVALID_REQUIRED_ACKS;
        request_message = "acks must be -1, 0 or 1";
    } else if (req->api_version >= 3 && in->transactional_id.len >= 0 &&
               !authorize_str(req, ACL_OP_WRITE, ACL_RESOURCE_TRANSACTIONAL_ID,
                              in->transactional_id)) {
        request_error = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        request_message = "not authorized to write with this transactional id";
    } else if (req->api_version >= 3 && in->transactional_id.len >= 0) {
        request_error = KERR_INVALID_TXN_STATE;
        request_message = "transactions are not supported yet";
    }
    if (proto_array_alloc(&req->arena, &out->responses, &topic_response_schema, in->topics.count))
        return PROTO_CLOSE;
    if (in->acks != 0 && request_error == KERR_NONE) {
        /* appends the flush policy wants durable are answered after their
         * fsync (produce_wait.c); acks=0 answers nothing, so waits for nothing */
        int32_t partitions = 0;
        for (int32_t i = 0; i < in->topics.count; i++)
            partitions += ((const produce_topic_data *)in->topics.items + i)->partitions.count;
        req->handler_state = produce_wait_new(req, partitions);
        if (!req->handler_state)
            return PROTO_CLOSE; /* nothing written yet */
    }
    bool any_error = false;
    size_t decompress_budget = LIMIT_PRODUCE_DECOMPRESSED_BYTES;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const produce_topic_data *td = (const produce_topic_data *)in->topics.items + i;
        produce_topic_response *tr = (produce_topic_response *)out->responses.items + i;
        tr->name = td->name;
        if (proto_array_alloc(&req->arena, &tr->partitions, &partition_response_schema,
                              td->partitions.count))
            return PROTO_CLOSE;
        topic *t = NULL;
        /* a standby or fenced region takes writes to mirrored topics only
         * from its sidecar (region_redirect.h); nothing is auto-created */
        bool denied = request_error == KERR_NONE &&
                      !authorize_str(req, ACL_OP_WRITE, ACL_RESOURCE_TOPIC, td->name);
        bool fenced = request_error == KERR_NONE && !denied && td->name.len > 0 &&
                      region_fences_produce(req, td->name.ptr, (size_t)td->name.len);
        if (request_error == KERR_NONE && req->api_version >= 3 && td->name.len > 0 && !fenced &&
            !denied) {
            bool may_create = !authorize_enabled(req) ||
                              topic_registry_find(req->broker->topics, td->name.ptr,
                                                  (size_t)td->name.len) ||
                              authorize_topic_create(req, td->name.ptr, (size_t)td->name.len);
            t = broker_topic_get_or_create(req->broker, td->name.ptr, (size_t)td->name.len,
                                           may_create);
        }
        for (int32_t j = 0; j < td->partitions.count; j++) {
            const produce_partition_data *pd = (const produce_partition_data *)td->partitions.items + j;
            produce_partition_response *pr = (produce_partition_response *)tr->partitions.items + j;
            pr->partition_index = pd->partition_index;
            pr->base_offset = -1;
            pr->log_append_time_ms = -1;
            pr->log_start_offset = -1;
            pr->error_message = proto_str_null();
            if (request_error != KERR_NONE) {
                pr->error_code = request_error;
                set_message(req, pr, request_message);
            } else if (denied) {
                pr->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (fenced) {
                pr->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
                set_message(req, pr, "this region is not active for this topic: refresh "
                                     "metadata and produce to the active region");
                if (holds_idempotent_batch(pd))
                    req->close_after_response = true;
            } else if (req->api_version < 3) {
                refuse_legacy(pd, pr);
            } else if (!t) {
                pr->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                produce_partition(req, t, pd, &decompress_budget, pr);
            }
            any_error |= pr->error_code != KERR_NONE;
        }
    }
    if (in->acks == 0)
        return any_error ? PROTO_CLOSE : PROTO_NO_RESPONSE;
    return produce_wait_start(req->handler_state);
}

const proto_api api_produce = {
    .key = 0,
    .name = "Produce",
    .min_version = 0,
    .max_version = 8,
    .flexible_min = PV_NEVER,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_produce,
};
