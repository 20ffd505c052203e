/*
 * metadata.c - Metadata (key 3): advertised v0-8, never flexible there
 * (flexible from v9).
 *
 * Request:
 *   FIELD                                  VERSIONS  TYPE
 *   topics[]                               0+        nullable from v1:
 *     topic_id                             10+       uuid
 *     name                                 0+        string (nullable from v10)
 *   allow_auto_topic_creation              4+        bool, true below v4
 *   include_cluster_authorized_operations  8-10      bool
 *   include_topic_authorized_operations    8+        bool
 * Response:
 *   throttle_time_ms                       3+        int32
 *   brokers[]                              0+        node_id int32, host string,
 *                                                    port int32, rack (1+, nullable string)
 *   cluster_id                             2+        nullable string
 *   controller_id                          1+        int32
 *   topics[]                               0+
 *     error_code                           0+        int16
 *     name                                 0+        string (nullable from v12)
 *     topic_id                             10+       uuid
 *     is_internal                          1+        bool
 *     partitions[]                         0+
 *       error_code                         0+        int16
 *       partition_index                    0+        int32
 *       leader_id                          0+        int32
 *       leader_epoch                       7+        int32
 *       replica_nodes[]                    0+        int32
 *       isr_nodes[]                        0+        int32
 *       offline_replicas[]                 5+        int32
 *     topic_authorized_operations          8+        int32
 *   cluster_authorized_operations          8-10      int32
 *
 * Which topics: v0 with an empty list, or v1+ with a null list, means every
 * topic; v1+ with an empty list means none (only brokers and cluster id).
 * Named topics that do not exist are auto-created when the request allows it
 * (v4+ flag, always allowed below v4) and auto.create.topics.enable is on;
 * otherwise UNKNOWN_TOPIC_OR_PARTITION. Names Kafka would refuse get
 * INVALID_TOPIC_EXCEPTION.
 *
 * This node is the only broker, the controller, and the leader and only
 * replica of every partition. The leader epoch is the partition log's
 * current one; it only grows (DESIGN.md §8).
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/kafka_error.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field request_topic_fields[] = {
    PF_UUID(metadata_request_topic, topic_id, 10, PV_MAX),
    PF_NSTR(metadata_request_topic, name, 0, PV_MAX, 10),
};
static PROTO_STRUCT(request_topic_schema, metadata_request_topic, request_topic_fields);

static const proto_field request_fields[] = {
    PF_NARRAY(metadata_request, topics, 0, PV_MAX, 1, request_topic_schema),
    PF_BOOL(metadata_request, allow_auto_topic_creation, 4, PV_MAX, 1),
    PF_BOOL(metadata_request, include_cluster_authorized_operations, 8, 10, 0),
    PF_BOOL(metadata_request, include_topic_authorized_operations, 8, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, metadata_request, request_fields);

static const proto_field broker_fields[] = {
    PF_I32(metadata_response_broker, node_id, 0, PV_MAX, 0),
    PF_STR(metadata_response_broker, host, 0, PV_MAX),
    PF_I32(metadata_response_broker, port, 0, PV_MAX, 0),
    PF_NSTR(metadata_response_broker, rack, 1, PV_MAX, 1),
};
static PROTO_STRUCT(broker_schema, metadata_response_broker, broker_fields);

static const proto_field partition_fields[] = {
    PF_I16(metadata_response_partition, error_code, 0, PV_MAX, 0),
    PF_I32(metadata_response_partition, partition_index, 0, PV_MAX, 0),
    PF_I32(metadata_response_partition, leader_id, 0, PV_MAX, 0),
    PF_I32(metadata_response_partition, leader_epoch, 7, PV_MAX, -1),
    PF_ARRAY(metadata_response_partition, replica_nodes, 0, PV_MAX, proto_int32_element),
    PF_ARRAY(metadata_response_partition, isr_nodes, 0, PV_MAX, proto_int32_element),
    PF_ARRAY(metadata_response_partition, offline_replicas, 5, PV_MAX, proto_int32_element),
};
static PROTO_STRUCT(partition_schema, metadata_response_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_I16(metadata_response_topic, error_code, 0, PV_MAX, 0),
    PF_NSTR(metadata_response_topic, name, 0, PV_MAX, 12),
    PF_UUID(metadata_response_topic, topic_id, 10, PV_MAX),
    PF_BOOL(metadata_response_topic, is_internal, 1, PV_MAX, 0),
    PF_ARRAY(metadata_response_topic, partitions, 0, PV_MAX, partition_schema),
    PF_I32(metadata_response_topic, topic_authorized_operations, 8, PV_MAX, INT32_MIN),
};
static PROTO_STRUCT(topic_schema, metadata_response_topic, topic_fields);

static const proto_field response_fields[] = {
    PF_I32(metadata_response, throttle_time_ms, 3, PV_MAX, 0),
    PF_ARRAY(metadata_response, brokers, 0, PV_MAX, broker_schema),
    PF_NSTR(metadata_response, cluster_id, 2, PV_MAX, 2),
    PF_I32(metadata_response, controller_id, 1, PV_MAX, -1),
    PF_ARRAY(metadata_response, topics, 0, PV_MAX, topic_schema),
    PF_I32(metadata_response, cluster_authorized_operations, 8, 10, INT32_MIN),
};
static PROTO_STRUCT(response_schema, metadata_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

/* Fills out with t's partitions. node points at a one-element proto_int32
 * array shared by every partition's replica and ISR lists (read-only). */
static bool fill_topic(broker_request *req, metadata_response_topic *out, topic *t,
                       const metadata_request *rq, proto_int32 *node)
{
    out->error_code = KERR_NONE;
    out->name = proto_str_c(t->name);
    memcpy(out->topic_id.bytes, t->id, sizeof out->topic_id.bytes);
    out->is_internal = t->internal;
    out->topic_authorized_operations = rq->include_topic_authorized_operations
                                           ? ADMIN_TOPIC_OPERATIONS
                                           : ADMIN_ACL_OPERATIONS_NOT_REQUESTED;
    if (!admin_array(req, &out->partitions, &partition_schema, t->partition_count))
        return false;
    metadata_response_partition *parts = out->partitions.items;
    for (int32_t i = 0; i < t->partition_count; i++) {
        partition *p = &t->partitions[i];
        parts[i].error_code = p->log ? KERR_NONE : KERR_LEADER_NOT_AVAILABLE;
        parts[i].partition_index = i;
        parts[i].leader_id = node->value;
        parts[i].leader_epoch = p->log ? plog_leader_epoch(p->log) : -1;
        parts[i].replica_nodes = (proto_array){node, 1};
        parts[i].isr_nodes = (proto_array){node, 1};
        parts[i].offline_replicas = (proto_array){NULL, 0};
    }
    return true;
}

/* One requested name: the topic, auto-created if allowed, or an error. */
static bool fill_named_topic(broker_request *req, metadata_response_topic *out, proto_str name,
                             const metadata_request *rq, proto_int32 *node)
{
    broker *b = req->broker;
    out->name = name;
    out->partitions = (proto_array){NULL, 0};
    out->topic_authorized_operations = ADMIN_ACL_OPERATIONS_NOT_REQUESTED;
    char err[ADMIN_ERROR_MESSAGE_BYTES];
    if (name.len < 0 || topic_name_validate(name.ptr, (size_t)name.len, err, sizeof err) != 0) {
        out->error_code = KERR_INVALID_TOPIC_EXCEPTION;
        if (name.len < 0)
            out->name = (proto_str){"", 0};
        return true;
    }
    /* Below v4 the request cannot say no: auto-creation is allowed. The
     * codec gives the field its default (true) there. */
    topic *t = broker_topic_get_or_create(b, name.ptr, (size_t)name.len,
                                          rq->allow_auto_topic_creation);
    if (!t) {
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return true;
    }
    return fill_topic(req, out, t, rq, node);
}

static int metadata_handle(broker_request *req)
{
    broker *b = req->broker;
    const metadata_request *rq = req->request;
    metadata_response *rs = req->response;
    int16_t version = req->api_version;

    proto_int32 *node = proto_arena_alloc(&req->arena, sizeof *node);
    if (!node || !admin_array(req, &rs->brokers, &broker_schema, 1))
        return PROTO_CLOSE;
    node->value = b->config.node_id;
    metadata_response_broker *me = rs->brokers.items;
    me->node_id = b->config.node_id;
    me->host = proto_str_c(b->advertised_host);
    me->port = b->advertised_port;
    me->rack = b->config.rack[0] ? proto_str_c(b->config.rack) : proto_str_null();

    rs->throttle_time_ms = 0;
    rs->cluster_id = proto_str_c(topic_registry_cluster_id(b->topics));
    rs->controller_id = b->config.node_id;
    rs->cluster_authorized_operations = rq->include_cluster_authorized_operations
                                            ? ADMIN_CLUSTER_OPERATIONS
                                            : ADMIN_ACL_OPERATIONS_NOT_REQUESTED;

    bool all = rq->topics.count < 0 || (version == 0 && rq->topics.count == 0);
    if (all) {
        int count = topic_registry_count(b->topics);
        if (!admin_array(req, &rs->topics, &topic_schema, count))
            return PROTO_CLOSE;
        metadata_response_topic *out = rs->topics.items;
        for (int i = 0; i < count; i++)
            if (!fill_topic(req, &out[i], topic_registry_at(b->topics, i), rq, node))
                return PROTO_CLOSE;
        return PROTO_RESPOND;
    }

    /* Duplicated names are answered once each time they are asked (the
     * client maps by name; Kafka answers a set). Auto-creation may insert
     * into the registry while we go, which is fine: we hold topic pointers,
     * not registry positions. */
    if (!admin_array(req, &rs->topics, &topic_schema, rq->topics.count))
        return PROTO_CLOSE;
    const metadata_request_topic *in = rq->topics.items;
    metadata_response_topic *out = rs->topics.items;
    for (int32_t i = 0; i < rq->topics.count; i++)
        if (!fill_named_topic(req, &out[i], in[i].name, rq, node))
            return PROTO_CLOSE;
    return PROTO_RESPOND;
}

const proto_api api_metadata = {
    .key = 3,
    .name = "Metadata",
    .min_version = 0,
    .max_version = 8,
    .flexible_min = 9,
    .request = &request_schema,
    .response = &response_schema,
    .handle = metadata_handle,
};
