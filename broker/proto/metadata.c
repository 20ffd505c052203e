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
 * Region redirect (region_redirect.h): on a standby broker, for clients
 * other than the sidecar, topics matching strait.redirect.topics are led by
 * the active region's brokers (strait.redirect.brokers, listed in brokers[]
 * after this node) at leader epoch = the region epoch, and such a name is
 * never auto-created here.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <string.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/responder.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"

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

/* The replica lists partitions point at (read-only, shared): this node, and
 * when the answer redirects (region_redirect.h) the active region's brokers
 * with the region epoch. */
typedef struct metadata_nodes {
    proto_int32 *self;         /* one element: this node */
    proto_int32 *redirect;     /* redirect_count elements, NULL when not redirecting */
    int redirect_count;
    int32_t region_epoch;
} metadata_nodes;

/* Fills out with t's partitions: led by this node, or for a redirected
 * topic by the active region's brokers (partition i by broker i mod n) at
 * the region epoch, so the client moves there (DESIGN.md §8). */
static bool fill_topic(broker_request *req, metadata_response_topic *out, topic *t,
                       const metadata_request *rq, const metadata_nodes *nodes)
{
    bool redirect = nodes->redirect && region_redirects_topic(req, t->name, strlen(t->name));
    out->error_code = KERR_NONE;
    out->name = proto_str_c(t->name);
    memcpy(out->topic_id.bytes, t->id, sizeof out->topic_id.bytes);
    out->is_internal = t->internal;
    out->topic_authorized_operations =
        rq->include_topic_authorized_operations
            ? authorize_operations(req, ACL_RESOURCE_TOPIC, t->name, strlen(t->name),
                                   ADMIN_TOPIC_OPERATIONS)
            : ADMIN_ACL_OPERATIONS_NOT_REQUESTED;
    if (!admin_array(req, &out->partitions, &partition_schema, t->partition_count))
        return false;
    metadata_response_partition *parts = out->partitions.items;
    for (int32_t i = 0; i < t->partition_count; i++) {
        partition *p = &t->partitions[i];
        proto_int32 *node = redirect ? &nodes->redirect[i % nodes->redirect_count] : nodes->self;
        parts[i].error_code = p->log || redirect ? KERR_NONE : KERR_LEADER_NOT_AVAILABLE;
        parts[i].partition_index = i;
        parts[i].leader_id = node->value;
        parts[i].leader_epoch = redirect ? nodes->region_epoch
                                : p->log ? plog_leader_epoch(p->log) : -1;
        parts[i].replica_nodes = (proto_array){node, 1};
        parts[i].isr_nodes = (proto_array){node, 1};
        parts[i].offline_replicas = (proto_array){NULL, 0};
    }
    return true;
}

/* One requested name: the topic, auto-created if allowed, or an error. */
static bool fill_named_topic(broker_request *req, metadata_response_topic *out, proto_str name,
                             const metadata_request *rq, const metadata_nodes *nodes)
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
     * codec gives the field its default (true) there. A redirected name is
     * never auto-created here: the mirror creates it with the active
     * region's partition count; until then it is LEADER_NOT_AVAILABLE
     * (retriable, as Kafka answers while a topic is being created). */
    if (!authorize_str(req, ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        return true;
    }
    bool redirect = nodes->redirect && region_redirects_topic(req, name.ptr, (size_t)name.len);
    bool create = rq->allow_auto_topic_creation && !redirect &&
                  (!authorize_enabled(req) ||
                   topic_registry_find(b->topics, name.ptr, (size_t)name.len) ||
                   authorize_topic_create(req, name.ptr, (size_t)name.len));
    topic *t = broker_topic_get_or_create(b, name.ptr, (size_t)name.len, create);
    if (!t) {
        out->error_code = redirect ? KERR_LEADER_NOT_AVAILABLE : KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return true;
    }
    return fill_topic(req, out, t, rq, nodes);
}

/* brokers[]: this node, then on a standby (for clients other than the
 * sidecar) the active region's brokers, so redirected leaders resolve;
 * this node stays listed so the client can still reach it. */
static bool fill_brokers(broker_request *req, metadata_response *rs, metadata_nodes *nodes)
{
    broker *b = req->broker;
    const region_state *region = b->region;
    int extra = 0;
    if (region_request_role(req) == REGION_ROLE_STANDBY && !region_request_from_sidecar(req))
        extra = region_state_broker_count(region);
    nodes->self->value = b->config.node_id;
    if (extra > 0) {
        nodes->redirect = proto_arena_alloc(&req->arena, (size_t)extra * sizeof *nodes->redirect);
        if (!nodes->redirect)
            return false;
        nodes->redirect_count = extra;
        nodes->region_epoch = region_state_epoch(region);
    }
    if (!admin_array(req, &rs->brokers, &broker_schema, 1 + extra))
        return false;
    metadata_response_broker *list = rs->brokers.items;
    list[0].node_id = b->config.node_id;
    const char *host;
    broker_advertised(b, req->responder ? req->responder->listener : -1, &host, &list[0].port);
    list[0].host = proto_str_c(host); /* the address of the listener the client is on */
    list[0].rack = b->config.rack[0] ? proto_str_c(b->config.rack) : proto_str_null();
    int listed = 1;
    for (int i = 0; i < extra; i++) {
        const region_broker *rb = region_state_broker(region, i);
        nodes->redirect[i].value = rb->node_id;
        if (rb->node_id == b->config.node_id)
            continue; /* ids are unique across regions: a misconfiguration, listed once */
        list[listed].node_id = rb->node_id;
        list[listed].host = proto_str_c(rb->host);
        list[listed].port = rb->port;
        list[listed].rack = proto_str_null();
        listed++;
    }
    rs->brokers.count = listed;
    return true;
}

static int metadata_handle(broker_request *req)
{
    broker *b = req->broker;
    const metadata_request *rq = req->request;
    metadata_response *rs = req->response;
    int16_t version = req->api_version;

    metadata_nodes nodes = {.self = proto_arena_alloc(&req->arena, sizeof *nodes.self)};
    if (!nodes.self || !fill_brokers(req, rs, &nodes))
        return PROTO_CLOSE;

    rs->throttle_time_ms = 0;
    rs->cluster_id = proto_str_c(topic_registry_cluster_id(b->topics));
    rs->controller_id = b->config.node_id;
    rs->cluster_authorized_operations =
        rq->include_cluster_authorized_operations
            ? authorize_operations(req, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                                   sizeof ACL_CLUSTER_NAME - 1, ADMIN_CLUSTER_OPERATIONS)
            : ADMIN_ACL_OPERATIONS_NOT_REQUESTED;

    bool all = rq->topics.count < 0 || (version == 0 && rq->topics.count == 0);
    if (all) {
        int count = topic_registry_count(b->topics);
        if (!admin_array(req, &rs->topics, &topic_schema, count))
            return PROTO_CLOSE;
        metadata_response_topic *out = rs->topics.items;
        int32_t listed = 0; /* topics the principal may not describe are left out */
        for (int i = 0; i < count; i++) {
            topic *t = topic_registry_at(b->topics, i);
            if (!authorize_quiet(req, ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, t->name, strlen(t->name)))
                continue;
            if (!fill_topic(req, &out[listed++], t, rq, &nodes))
                return PROTO_CLOSE;
        }
        rs->topics.count = listed;
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
        if (!fill_named_topic(req, &out[i], in[i].name, rq, &nodes))
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
