/*
 * offset_for_leader_epoch.c - OffsetForLeaderEpoch (key 23) v2-3: where a
 * leader epoch ends, so a consumer (KIP-320) or a follower can tell whether
 * its position is still on the log after a leader change (DESIGN.md §8:
 * epochs only grow across regions, and this answer decides whether a
 * consumer keeps or resets its position after a failover).
 *
 * Request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   replica_id             3+        int32 (default -2, "debug consumer")
 *   topics[]               0+        topic string, partitions[]:
 *     partition            0+        int32
 *     current_leader_epoch 2+        int32, -1 = no fence
 *     leader_epoch         0+        int32: the epoch to look up
 * Response:
 *   throttle_time_ms       2+        int32
 *   topics[]               0+        topic string, partitions[]:
 *     error_code           0+        int16
 *     partition            0+        int32
 *     leader_epoch         1+        int32: the largest known epoch <= the one asked
 *     end_offset           0+        int64: where that epoch ends
 *
 * The answer comes from the log's leader-epoch cache: for the current epoch
 * the log end offset, for an older one the start of the next higher epoch,
 * and -1/-1 when the epoch is older than anything known. replica_id only
 * matters with followers, which a single node does not have.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>

#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/region_redirect.h"

/* ---- field tables ------------------------------------------------------ */

static const proto_field partition_fields[] = {
    PF_I32(offset_for_leader_partition, partition, 0, PV_MAX, 0),
    PF_I32(offset_for_leader_partition, current_leader_epoch, 2, PV_MAX, -1),
    PF_I32(offset_for_leader_partition, leader_epoch, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_schema, offset_for_leader_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_STR(offset_for_leader_topic, topic, 0, PV_MAX),
    PF_ARRAY(offset_for_leader_topic, partitions, 0, PV_MAX, partition_schema),
};
static PROTO_STRUCT(topic_schema, offset_for_leader_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_I32(offset_for_leader_epoch_request, replica_id, 3, PV_MAX, -2),
    PF_ARRAY(offset_for_leader_epoch_request, topics, 0, PV_MAX, topic_schema),
};
static PROTO_STRUCT(request_schema, offset_for_leader_epoch_request, request_fields);

static const proto_field partition_result_fields[] = {
    PF_I16(offset_for_leader_partition_result, error_code, 0, PV_MAX, 0),
    PF_I32(offset_for_leader_partition_result, partition, 0, PV_MAX, 0),
    PF_I32(offset_for_leader_partition_result, leader_epoch, 1, PV_MAX, -1),
    PF_I64(offset_for_leader_partition_result, end_offset, 0, PV_MAX, -1),
};
static PROTO_STRUCT(partition_result_schema, offset_for_leader_partition_result,
                    partition_result_fields);

static const proto_field topic_result_fields[] = {
    PF_STR(offset_for_leader_topic_result, topic, 0, PV_MAX),
    PF_ARRAY(offset_for_leader_topic_result, partitions, 0, PV_MAX, partition_result_schema),
};
static PROTO_STRUCT(topic_result_schema, offset_for_leader_topic_result, topic_result_fields);

static const proto_field response_fields[] = {
    PF_I32(offset_for_leader_epoch_response, throttle_time_ms, 2, PV_MAX, 0),
    PF_ARRAY(offset_for_leader_epoch_response, topics, 0, PV_MAX, topic_result_schema),
};
static PROTO_STRUCT(response_schema, offset_for_leader_epoch_response, response_fields);

/* ---- handler ----------------------------------------------------------- */

static void epoch_partition(broker_request *req, proto_str topic_name,
                            const offset_for_leader_partition *in,
                            offset_for_leader_partition_result *out)
{
    out->partition = in->partition;
    out->leader_epoch = -1;
    out->end_offset = -1;
    partition *p;
    if (!authorize_str(req, ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, topic_name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        return;
    }
    out->error_code = data_partition_find(req->broker, topic_name, in->partition, &p);
    if (out->error_code == KERR_NONE &&
        region_redirects_topic(req, topic_name.ptr, (size_t)topic_name.len))
        out->error_code = KERR_NOT_LEADER_OR_FOLLOWER; /* led by the active region */
    if (out->error_code == KERR_NONE)
        out->error_code = data_leader_epoch_check(p->log, in->current_leader_epoch);
    if (out->error_code != KERR_NONE)
        return;
    plog_end_offset_for_epoch(p->log, in->leader_epoch, &out->leader_epoch, &out->end_offset);
}

static int handle_offset_for_leader_epoch(broker_request *req)
{
    const offset_for_leader_epoch_request *in = req->request;
    offset_for_leader_epoch_response *out = req->response;
    if (proto_array_alloc(&req->arena, &out->topics, &topic_result_schema, in->topics.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_for_leader_topic *ti = (const offset_for_leader_topic *)in->topics.items + i;
        offset_for_leader_topic_result *to = (offset_for_leader_topic_result *)out->topics.items + i;
        to->topic = ti->topic;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_result_schema,
                              ti->partitions.count))
            return PROTO_CLOSE;
        for (int32_t j = 0; j < ti->partitions.count; j++)
            epoch_partition(req, ti->topic, (const offset_for_leader_partition *)ti->partitions.items + j,
                            (offset_for_leader_partition_result *)to->partitions.items + j);
    }
    return PROTO_RESPOND;
}

const proto_api api_offset_for_leader_epoch = {
    .key = 23,
    .name = "OffsetForLeaderEpoch",
    .min_version = 2,
    .max_version = 3,
    .flexible_min = PV_NEVER,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_offset_for_leader_epoch,
};
