/*
 * delete_groups.c - DeleteGroups (key 42) v0-1 and OffsetDelete (key 47) v0.
 *
 * DeleteGroups request (never flexible in this range):
 *   FIELD                VERSIONS  TYPE
 *   groups_names         0+        []string
 * Response:
 *   throttle_time_ms     0+        int32
 *   results[]            0+        group_id string, error_code int16
 *                                  (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...)
 * OffsetDelete request:
 *   group_id             0+        string
 *   topics[]             0+        name string, partitions[]: partition_index int32
 * Response:
 *   error_code           0+        int16 (group-level)
 *   throttle_time_ms     0+        int32
 *   topics[]             0+        name string, partitions[]: partition_index
 *                                  int32, error_code int16
 *                                  (GROUP_SUBSCRIBED_TO_TOPIC while a member
 *                                  consumes the topic)
 *
 * Both write tombstones to __consumer_offsets before answering.
 *
 * Runs on the broker's event-loop thread.
 */
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"

static const proto_field delete_request_fields[] = {
    PF_ARRAY(delete_groups_request, groups_names, 0, PV_MAX, proto_string_element),
};
static PROTO_STRUCT(delete_request_schema, delete_groups_request, delete_request_fields);

static const proto_field result_fields[] = {
    PF_STR(delete_groups_result, group_id, 0, PV_MAX),
    PF_I16(delete_groups_result, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(result_schema, delete_groups_result, result_fields);

static const proto_field delete_response_fields[] = {
    PF_I32(delete_groups_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(delete_groups_response, results, 0, PV_MAX, result_schema),
};
static PROTO_STRUCT(delete_response_schema, delete_groups_response, delete_response_fields);

static const proto_field od_partition_fields[] = {
    PF_I32(offset_delete_partition, partition_index, 0, PV_MAX, 0),
};
static PROTO_STRUCT(od_partition_schema, offset_delete_partition, od_partition_fields);

static const proto_field od_topic_fields[] = {
    PF_STR(offset_delete_topic, name, 0, PV_MAX),
    PF_ARRAY(offset_delete_topic, partitions, 0, PV_MAX, od_partition_schema),
};
static PROTO_STRUCT(od_topic_schema, offset_delete_topic, od_topic_fields);

static const proto_field od_request_fields[] = {
    PF_STR(offset_delete_request, group_id, 0, PV_MAX),
    PF_ARRAY(offset_delete_request, topics, 0, PV_MAX, od_topic_schema),
};
static PROTO_STRUCT(od_request_schema, offset_delete_request, od_request_fields);

static const proto_field od_partition_response_fields[] = {
    PF_I32(offset_delete_partition_response, partition_index, 0, PV_MAX, 0),
    PF_I16(offset_delete_partition_response, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(od_partition_response_schema, offset_delete_partition_response,
                    od_partition_response_fields);

static const proto_field od_topic_response_fields[] = {
    PF_STR(offset_delete_topic_response, name, 0, PV_MAX),
    PF_ARRAY(offset_delete_topic_response, partitions, 0, PV_MAX, od_partition_response_schema),
};
static PROTO_STRUCT(od_topic_response_schema, offset_delete_topic_response,
                    od_topic_response_fields);

static const proto_field od_response_fields[] = {
    PF_I16(offset_delete_response, error_code, 0, PV_MAX, 0),
    PF_I32(offset_delete_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(offset_delete_response, topics, 0, PV_MAX, od_topic_response_schema),
};
static PROTO_STRUCT(od_response_schema, offset_delete_response, od_response_fields);

static int handle_delete_groups(broker_request *req)
{
    const delete_groups_request *in = req->request;
    delete_groups_response *out = req->response;
    if (proto_array_alloc(&req->arena, &out->results, &result_schema, in->groups_names.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->groups_names.count; i++) {
        proto_str name = ((const proto_string *)in->groups_names.items)[i].value;
        delete_groups_result *r = (delete_groups_result *)out->results.items + i;
        bool ok = true;
        char *group_id = group_api_cstr(req, name, &ok);
        r->group_id = name;
        if (!ok)
            r->error_code = KERR_UNKNOWN_SERVER_ERROR;
        else if (!group_id || !group_id[0])
            r->error_code = KERR_INVALID_GROUP_ID;
        else if (!authorize(req, ACL_OP_DELETE, ACL_RESOURCE_GROUP, group_id, strlen(group_id)))
            r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
        else
            r->error_code =
                group_api_kafka_error(coordinator_delete_group(req->broker->coordinator, group_id));
    }
    return PROTO_RESPOND;
}

static int handle_offset_delete(broker_request *req)
{
    const offset_delete_request *in = req->request;
    offset_delete_response *out = req->response;
    broker *b = req->broker;
    bool ok = true;
    char *group_id = group_api_cstr(req, in->group_id, &ok);
    if (!ok || !group_id || !group_id[0]) {
        out->error_code = ok ? KERR_INVALID_GROUP_ID : KERR_UNKNOWN_SERVER_ERROR;
        return PROTO_RESPOND;
    }
    if (!authorize(req, ACL_OP_DELETE, ACL_RESOURCE_GROUP, group_id, strlen(group_id))) {
        out->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
        return PROTO_RESPOND;
    }
    int32_t total = 0;
    for (int32_t i = 0; i < in->topics.count; i++)
        total += ((const offset_delete_topic *)in->topics.items + i)->partitions.count;
    coordinator_offset_item *parts = broker_request_alloc(req, sizeof *parts * (size_t)(total ? total : 1));
    bool *denied = broker_request_alloc(req, sizeof *denied * (size_t)(total ? total : 1));
    if (!parts || !denied)
        return PROTO_CLOSE;
    int32_t n = 0;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_delete_topic *t = (const offset_delete_topic *)in->topics.items + i;
        size_t len = t->name.len > 0 ? (size_t)t->name.len : 0;
        topic *tp = topic_registry_find(b->topics, t->name.ptr, len);
        bool readable = authorize_str(req, ACL_OP_READ, ACL_RESOURCE_TOPIC, t->name);
        for (int32_t j = 0; j < t->partitions.count; j++) {
            int32_t p = ((const offset_delete_partition *)t->partitions.items + j)->partition_index;
            bool known = tp && p >= 0 && p < tp->partition_count;
            denied[n] = !readable;
            parts[n++] = (coordinator_offset_item){.topic = t->name.ptr, .topic_len = len,
                                                   .partition = p, .skip = !known || !readable};
        }
    }
    out->error_code =
        group_api_kafka_error(coordinator_offset_delete(b->coordinator, group_id, parts, n));
    if (out->error_code != KERR_NONE)
        return PROTO_RESPOND;
    if (proto_array_alloc(&req->arena, &out->topics, &od_topic_response_schema, in->topics.count))
        return PROTO_CLOSE;
    n = 0;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_delete_topic *t = (const offset_delete_topic *)in->topics.items + i;
        offset_delete_topic_response *to = (offset_delete_topic_response *)out->topics.items + i;
        to->name = t->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &od_partition_response_schema,
                              t->partitions.count))
            return PROTO_CLOSE;
        for (int32_t j = 0; j < t->partitions.count; j++, n++) {
            offset_delete_partition_response *po =
                (offset_delete_partition_response *)to->partitions.items + j;
            po->partition_index = parts[n].partition;
            po->error_code = denied[n]       ? KERR_TOPIC_AUTHORIZATION_FAILED
                             : parts[n].skip ? KERR_UNKNOWN_TOPIC_OR_PARTITION
                                             : group_api_kafka_error(parts[n].error);
        }
    }
    return PROTO_RESPOND;
}

const proto_api api_delete_groups = {
    .key = 42,
    .name = "DeleteGroups",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = 2,
    .request = &delete_request_schema,
    .response = &delete_response_schema,
    .handle = handle_delete_groups,
};

const proto_api api_offset_delete = {
    .key = 47,
    .name = "OffsetDelete",
    .min_version = 0,
    .max_version = 0,
    .flexible_min = PV_NEVER,
    .request = &od_request_schema,
    .response = &od_response_schema,
    .handle = handle_offset_delete,
};
