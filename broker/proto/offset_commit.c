/*
 * offset_commit.c - OffsetCommit (key 8) v2-7.
 *
 * Request (never flexible in this range):
 *   FIELD                    VERSIONS  TYPE
 *   group_id                 0+        string
 *   generation_id            1+        int32, -1 = simple commit (no group membership)
 *   member_id                1+        string
 *   group_instance_id        7+        nullable string
 *   retention_time_ms        2-4       int64 (ignored: offsets.retention.minutes rules)
 *   topics[]                 0+        name string, partitions[]:
 *     partition_index        0+        int32
 *     committed_offset       0+        int64
 *     committed_leader_epoch 6+        int32
 *     commit_timestamp       1         int64 (outside our range)
 *     committed_metadata     0+        nullable string
 * Response:
 *   throttle_time_ms         3+        int32
 *   topics[]                 0+        name string, partitions[]:
 *     partition_index        0+        int32
 *     error_code             0+        int16
 *
 * The group checks membership and generation first (one error for every
 * partition); partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION,
 * metadata over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE; the
 * rest are written to __consumer_offsets as one batch and acknowledged only
 * once written (broker/group/coordinator.h).
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"

static const proto_field partition_fields[] = {
    PF_I32(offset_commit_partition, partition_index, 0, PV_MAX, 0),
    PF_I64(offset_commit_partition, committed_offset, 0, PV_MAX, 0),
    PF_I32(offset_commit_partition, committed_leader_epoch, 6, PV_MAX, -1),
    PF_I64(offset_commit_partition, commit_timestamp, 1, 1, -1),
    PF_NSTR(offset_commit_partition, committed_metadata, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_schema, offset_commit_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_STR(offset_commit_topic, name, 0, PV_MAX),
    PF_ARRAY(offset_commit_topic, partitions, 0, PV_MAX, partition_schema),
};
static PROTO_STRUCT(topic_schema, offset_commit_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_STR(offset_commit_request, group_id, 0, PV_MAX),
    PF_I32(offset_commit_request, generation_id, 1, PV_MAX, -1),
    PF_STR(offset_commit_request, member_id, 1, PV_MAX),
    PF_NSTR(offset_commit_request, group_instance_id, 7, PV_MAX, 7),
    PF_I64(offset_commit_request, retention_time_ms, 2, 4, -1),
    PF_ARRAY(offset_commit_request, topics, 0, PV_MAX, topic_schema),
};
static PROTO_STRUCT(request_schema, offset_commit_request, request_fields);

static const proto_field partition_response_fields[] = {
    PF_I32(offset_commit_partition_response, partition_index, 0, PV_MAX, 0),
    PF_I16(offset_commit_partition_response, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_response_schema, offset_commit_partition_response,
                    partition_response_fields);

static const proto_field topic_response_fields[] = {
    PF_STR(offset_commit_topic_response, name, 0, PV_MAX),
    PF_ARRAY(offset_commit_topic_response, partitions, 0, PV_MAX, partition_response_schema),
};
static PROTO_STRUCT(topic_response_schema, offset_commit_topic_response, topic_response_fields);

static const proto_field response_fields[] = {
    PF_I32(offset_commit_response, throttle_time_ms, 3, PV_MAX, 0),
    PF_ARRAY(offset_commit_response, topics, 0, PV_MAX, topic_response_schema),
};
static PROTO_STRUCT(response_schema, offset_commit_response, response_fields);

/* The error of one partition before the group is asked. */
static int16_t partition_error(broker_request *req, const offset_commit_topic *t,
                               const offset_commit_partition *p)
{
    broker *b = req->broker;
    if (!authorize_str(req, ACL_OP_READ, ACL_RESOURCE_TOPIC, t->name))
        return KERR_TOPIC_AUTHORIZATION_FAILED;
    topic *tp = topic_registry_find(b->topics, t->name.ptr, t->name.len > 0 ? (size_t)t->name.len : 0);
    if (!tp || p->partition_index < 0 || p->partition_index >= tp->partition_count)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (p->committed_metadata.len > b->config.offset_metadata_max_bytes)
        return KERR_OFFSET_METADATA_TOO_LARGE;
    return KERR_NONE;
}

static int handle_offset_commit(broker_request *req)
{
    const offset_commit_request *in = req->request;
    offset_commit_response *out = req->response;
    broker *b = req->broker;
    bool ok = true;
    int32_t total = 0;
    if (proto_array_alloc(&req->arena, &out->topics, &topic_response_schema, in->topics.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_commit_topic *t = (const offset_commit_topic *)in->topics.items + i;
        offset_commit_topic_response *to = (offset_commit_topic_response *)out->topics.items + i;
        to->name = t->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_response_schema,
                              t->partitions.count))
            return PROTO_CLOSE;
        total += t->partitions.count;
    }
    char *group_id = group_api_cstr(req, in->group_id, &ok);
    char *member_id = group_api_cstr(req, in->member_id, &ok);
    char *instance_id = group_api_cstr(req, in->group_instance_id, &ok);
    coordinator_offset_item *commits = broker_request_alloc(req, sizeof *commits * (size_t)(total ? total : 1));
    /* Kafka errors decided here, before the group is asked (KERR_NONE: ask it) */
    int16_t *edge_errors = broker_request_alloc(req, sizeof *edge_errors * (size_t)(total ? total : 1));
    int16_t group_error = KERR_NONE;
    if (!ok || !commits || !edge_errors)
        group_error = KERR_UNKNOWN_SERVER_ERROR;
    else if (!group_id)
        group_error = KERR_INVALID_GROUP_ID;
    else if ((group_error = group_api_member_error(req, group_id, member_id, instance_id,
                                                   in->generation_id)) == KERR_NONE)
        group_error = group_api_kafka_error(coordinator_commit_check(
            b->coordinator, group_id, member_id ? member_id : "", instance_id, in->generation_id));
    int32_t n = 0;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_commit_topic *t = (const offset_commit_topic *)in->topics.items + i;
        for (int32_t j = 0; j < t->partitions.count; j++) {
            const offset_commit_partition *p = (const offset_commit_partition *)t->partitions.items + j;
            int16_t error = group_error != KERR_NONE ? group_error : partition_error(req, t, p);
            if (!commits || !edge_errors)
                continue;
            edge_errors[n] = error;
            commits[n++] = (coordinator_offset_item){
                .topic = t->name.ptr, .topic_len = t->name.len > 0 ? (size_t)t->name.len : 0,
                .partition = p->partition_index, .offset = p->committed_offset,
                .leader_epoch = p->committed_leader_epoch,
                .metadata = p->committed_metadata.len >= 0 ? p->committed_metadata.ptr : NULL,
                .metadata_len = p->committed_metadata.len > 0 ? (size_t)p->committed_metadata.len : 0,
                .skip = error != KERR_NONE};
        }
    }
    if (group_error == KERR_NONE)
        coordinator_commit(b->coordinator, group_id, commits, n);
    n = 0;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_commit_topic *t = (const offset_commit_topic *)in->topics.items + i;
        offset_commit_topic_response *to = (offset_commit_topic_response *)out->topics.items + i;
        for (int32_t j = 0; j < t->partitions.count; j++) {
            offset_commit_partition_response *po =
                (offset_commit_partition_response *)to->partitions.items + j;
            po->partition_index = ((const offset_commit_partition *)t->partitions.items + j)->partition_index;
            if (!commits || !edge_errors) {
                po->error_code = group_error;
                continue;
            }
            po->error_code = edge_errors[n] != KERR_NONE ? edge_errors[n]
                                                         : group_api_kafka_error(commits[n].error);
            n++;
        }
    }
    return PROTO_RESPOND;
}

const proto_api api_offset_commit = {
    .key = 8,
    .name = "OffsetCommit",
    .min_version = 2,
    .max_version = 7,
    .flexible_min = 8,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_offset_commit,
};
