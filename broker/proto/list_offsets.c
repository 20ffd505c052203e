/*
 * list_offsets.c - ListOffsets (key 2) v1-5: the earliest offset, the latest
 * offset, or the first offset at or after a timestamp.
 *
 * Request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   replica_id             0+        int32 (-1 consumer; ignored on one node)
 *   isolation_level        2+        int8 (read_committed = read_uncommitted:
 *                                    no transactions yet, so LSO = HW)
 *   topics[]               0+        name string, partitions[]:
 *     partition_index      0+        int32
 *     current_leader_epoch 4+        int32, -1 = no fence
 *     timestamp            0+        int64: -2 earliest, -1 latest, >= 0 ms
 * Response:
 *   throttle_time_ms       2+        int32
 *   topics[]               0+        name string, partitions[]:
 *     partition_index      0+        int32
 *     error_code           0+        int16
 *     timestamp            1+        int64, -1 for earliest/latest/none
 *     offset               1+        int64, -1 when no record is that recent
 *     leader_epoch         4+        int32, epoch of the batch holding offset
 *
 * v0 (max_num_offsets, old_style_offsets) is outside our range. Sentinels
 * below -2 (-3 max timestamp, v7+; -4/-5 tiered storage, v8+/v9+) belong to
 * versions we do not implement and are refused with INVALID_REQUEST.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/region_redirect.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/limits.h"

#define LIST_OFFSETS_EARLIEST (-2)
#define LIST_OFFSETS_LATEST (-1)

/* ---- field tables ------------------------------------------------------ */

static const proto_field partition_fields[] = {
    PF_I32(list_offsets_partition, partition_index, 0, PV_MAX, 0),
    PF_I32(list_offsets_partition, current_leader_epoch, 4, PV_MAX, -1),
    PF_I64(list_offsets_partition, timestamp, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_schema, list_offsets_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_STR(list_offsets_topic, name, 0, PV_MAX),
    PF_ARRAY(list_offsets_topic, partitions, 0, PV_MAX, partition_schema),
};
static PROTO_STRUCT(topic_schema, list_offsets_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_I32(list_offsets_request, replica_id, 0, PV_MAX, -1),
    PF_I8(list_offsets_request, isolation_level, 2, PV_MAX, 0),
    PF_ARRAY(list_offsets_request, topics, 0, PV_MAX, topic_schema),
};
static PROTO_STRUCT(request_schema, list_offsets_request, request_fields);

static const proto_field partition_response_fields[] = {
    PF_I32(list_offsets_partition_response, partition_index, 0, PV_MAX, 0),
    PF_I16(list_offsets_partition_response, error_code, 0, PV_MAX, 0),
    PF_I64(list_offsets_partition_response, timestamp, 1, PV_MAX, -1),
    PF_I64(list_offsets_partition_response, offset, 1, PV_MAX, -1),
    PF_I32(list_offsets_partition_response, leader_epoch, 4, PV_MAX, -1),
};
static PROTO_STRUCT(partition_response_schema, list_offsets_partition_response,
                    partition_response_fields);

static const proto_field topic_response_fields[] = {
    PF_STR(list_offsets_topic_response, name, 0, PV_MAX),
    PF_ARRAY(list_offsets_topic_response, partitions, 0, PV_MAX, partition_response_schema),
};
static PROTO_STRUCT(topic_response_schema, list_offsets_topic_response, topic_response_fields);

static const proto_field response_fields[] = {
    PF_I32(list_offsets_response, throttle_time_ms, 2, PV_MAX, 0),
    PF_ARRAY(list_offsets_response, topics, 0, PV_MAX, topic_response_schema),
};
static PROTO_STRUCT(response_schema, list_offsets_response, response_fields);

/* ---- handler ----------------------------------------------------------- */

/* Leader epoch stamped on the batch that holds offset (read from its header,
 * as Kafka reports it); the current epoch at the log end; -1 if unreadable. */
static int32_t epoch_at_offset(plog *log, int64_t offset)
{
    if (offset >= plog_log_end_offset(log))
        return plog_leader_epoch(log);
    plog_slice slice;
    if (plog_read(log, offset, 1, &slice) != 0 || slice.length < BATCH_HEADER_BYTES)
        return -1;
    uint8_t header[BATCH_OFFSET_LEADER_EPOCH + 4];
    if (pread(slice.fd, header, sizeof header, slice.file_position) != (ssize_t)sizeof header)
        return -1;
    return load_i32(header + BATCH_OFFSET_LEADER_EPOCH);
}

/*
 * The log finds the first batch whose max timestamp reaches target; Kafka
 * answers the first *record* at or after target (and its timestamp), so this
 * reads that batch back and walks its records. On any failure the batch-level
 * answer stands. A blocking read of one batch on the loop thread: ListOffsets
 * by time is rare and the batch is usually in the page cache.
 */
static void refine_to_record(plog *log, int64_t target, int64_t *offset, int64_t *timestamp)
{
    plog_slice slice;
    if (plog_read(log, *offset, 1, &slice) != 0 || slice.length < BATCH_HEADER_BYTES ||
        slice.length > LIMIT_LIST_OFFSETS_BATCH_READ_BYTES)
        return;
    uint8_t *data = malloc((size_t)slice.length);
    batch_iter *it = NULL;
    batch_header header;
    if (!data || pread(slice.fd, data, (size_t)slice.length, slice.file_position) != slice.length ||
        batch_header_parse(data, (size_t)slice.length, &header) != 0 ||
        batch_iter_open(data, batch_total_bytes(&header), LIMIT_BATCH_DECOMPRESSED_BYTES, &it) != 0)
        goto out;
    batch_record record;
    while (batch_iter_next(it, &record) == 1) {
        int64_t record_offset = header.base_offset + record.offset_delta;
        if (record_offset >= *offset && record.timestamp >= target) {
            *offset = record_offset;
            *timestamp = record.timestamp;
            break;
        }
    }
out:
    batch_iter_close(it);
    free(data);
}

static void list_partition(broker_request *req, proto_str topic_name, const list_offsets_partition *in,
                           list_offsets_partition_response *out)
{
    out->partition_index = in->partition_index;
    out->timestamp = -1;
    out->offset = -1;
    out->leader_epoch = -1;
    partition *p;
    if (!authorize_str(req, ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, topic_name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        return;
    }
    out->error_code = data_partition_find(req->broker, topic_name, in->partition_index, &p);
    if (out->error_code == KERR_NONE &&
        region_redirects_topic(req, topic_name.ptr, (size_t)topic_name.len))
        out->error_code = KERR_NOT_LEADER_OR_FOLLOWER; /* led by the active region */
    if (out->error_code == KERR_NONE)
        out->error_code = data_leader_epoch_check(p->log, in->current_leader_epoch);
    if (out->error_code != KERR_NONE)
        return;
    if (in->timestamp == LIST_OFFSETS_EARLIEST) {
        out->offset = plog_log_start_offset(p->log);
    } else if (in->timestamp == LIST_OFFSETS_LATEST) {
        out->offset = plog_high_watermark(p->log); /* also the LSO: no transactions yet */
    } else if (in->timestamp < 0) {
        out->error_code = KERR_INVALID_REQUEST;
        return;
    } else {
        int64_t offset = -1, found_timestamp = -1;
        int rc = plog_offset_for_timestamp(p->log, in->timestamp, &offset, &found_timestamp);
        if (rc != 0) {
            out->error_code = KERR_KAFKA_STORAGE_ERROR;
            return;
        }
        if (offset < 0)
            return; /* no record that recent: offset -1, timestamp -1 */
        refine_to_record(p->log, in->timestamp, &offset, &found_timestamp);
        out->offset = offset;
        out->timestamp = found_timestamp;
    }
    out->leader_epoch = epoch_at_offset(p->log, out->offset);
}

static int handle_list_offsets(broker_request *req)
{
    const list_offsets_request *in = req->request;
    list_offsets_response *out = req->response;
    if (proto_array_alloc(&req->arena, &out->topics, &topic_response_schema, in->topics.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const list_offsets_topic *ti = (const list_offsets_topic *)in->topics.items + i;
        list_offsets_topic_response *to = (list_offsets_topic_response *)out->topics.items + i;
        to->name = ti->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_response_schema,
                              ti->partitions.count))
            return PROTO_CLOSE;
        for (int32_t j = 0; j < ti->partitions.count; j++)
            list_partition(req, ti->name, (const list_offsets_partition *)ti->partitions.items + j,
                           (list_offsets_partition_response *)to->partitions.items + j);
    }
    return PROTO_RESPOND;
}

const proto_api api_list_offsets = {
    .key = 2,
    .name = "ListOffsets",
    .min_version = 1,
    .max_version = 5,
    .flexible_min = PV_NEVER,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_list_offsets,
};
