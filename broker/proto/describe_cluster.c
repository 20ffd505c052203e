/*
 * describe_cluster.c - DescribeCluster (key 60): advertised v0, flexible
 * from v0 (compact strings and arrays, tagged fields, request header v2 and
 * response header v1).
 *
 * Request:
 *   FIELD                                  VERSIONS  TYPE
 *   include_cluster_authorized_operations  0+        bool
 *   endpoint_type                          1+        int8, default 1 (brokers)
 * Response:
 *   throttle_time_ms                       0+        int32
 *   error_code                             0+        int16
 *   error_message                          0+        nullable string
 *   endpoint_type                          1+        int8
 *   cluster_id                             0+        string
 *   controller_id                          0+        int32
 *   brokers[]                              0+        broker_id int32, host string,
 *                                                    port int32, rack nullable string
 *   cluster_authorized_operations          0+        int32
 *
 * The cluster is this node: it is the only broker and the controller.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/responder.h"
#include "broker/proto/kafka_error.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field request_fields[] = {
    PF_BOOL(describe_cluster_request, include_cluster_authorized_operations, 0, PV_MAX, 0),
    PF_I8(describe_cluster_request, endpoint_type, 1, PV_MAX, 1),
};
static PROTO_STRUCT(request_schema, describe_cluster_request, request_fields);

static const proto_field broker_fields[] = {
    PF_I32(describe_cluster_broker, broker_id, 0, PV_MAX, 0),
    PF_STR(describe_cluster_broker, host, 0, PV_MAX),
    PF_I32(describe_cluster_broker, port, 0, PV_MAX, 0),
    PF_NSTR(describe_cluster_broker, rack, 0, PV_MAX, 0),
};
static PROTO_STRUCT(broker_schema, describe_cluster_broker, broker_fields);

static const proto_field response_fields[] = {
    PF_I32(describe_cluster_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_I16(describe_cluster_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(describe_cluster_response, error_message, 0, PV_MAX, 0),
    PF_I8(describe_cluster_response, endpoint_type, 1, PV_MAX, 1),
    PF_STR(describe_cluster_response, cluster_id, 0, PV_MAX),
    PF_I32(describe_cluster_response, controller_id, 0, PV_MAX, -1),
    PF_ARRAY(describe_cluster_response, brokers, 0, PV_MAX, broker_schema),
    PF_I32(describe_cluster_response, cluster_authorized_operations, 0, PV_MAX, INT32_MIN),
};
static PROTO_STRUCT(response_schema, describe_cluster_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

static int describe_cluster_handle(broker_request *req)
{
    broker *b = req->broker;
    const describe_cluster_request *rq = req->request;
    describe_cluster_response *rs = req->response;
    if (!admin_array(req, &rs->brokers, &broker_schema, 1))
        return PROTO_CLOSE;
    describe_cluster_broker *me = rs->brokers.items;
    me->broker_id = b->config.node_id;
    const char *host;
    broker_advertised(b, req->responder ? req->responder->listener : -1, &host, &me->port);
    me->host = proto_str_c(host); /* the address of the listener the client is on */
    me->rack = b->config.rack[0] ? proto_str_c(b->config.rack) : proto_str_null();
    rs->throttle_time_ms = 0;
    rs->error_code = KERR_NONE;
    rs->error_message = proto_str_null();
    rs->endpoint_type = 1;
    rs->cluster_id = proto_str_c(topic_registry_cluster_id(b->topics));
    rs->controller_id = b->config.node_id;
    rs->cluster_authorized_operations =
        rq->include_cluster_authorized_operations
            ? authorize_operations(req, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                                   sizeof ACL_CLUSTER_NAME - 1, ADMIN_CLUSTER_OPERATIONS)
            : ADMIN_ACL_OPERATIONS_NOT_REQUESTED;
    if (!authorize_cluster(req, ACL_OP_DESCRIBE)) {
        rs->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
        rs->error_message = admin_message(req, "not authorized to describe the cluster");
        rs->brokers.count = 0;
    }
    return PROTO_RESPOND;
}

const proto_api api_describe_cluster = {
    .key = 60,
    .name = "DescribeCluster",
    .min_version = 0,
    .max_version = 0,
    .flexible_min = 0,
    .request = &request_schema,
    .response = &response_schema,
    .handle = describe_cluster_handle,
};
