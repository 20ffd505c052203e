/*
 * create_partitions.c - CreatePartitions (key 37): advertised v0-1, never
 * flexible there (flexible from v2).
 *
 * Request:
 *   FIELD             VERSIONS  TYPE
 *   topics[]          0+
 *     name            0+        string
 *     count           0+        int32: the new total partition count
 *     assignments[]   0+        nullable: broker_ids []int32
 *   timeout_ms        0+        int32
 *   validate_only     0+        bool
 * Response:
 *   throttle_time_ms  0+        int32
 *   results[]         0+        name string, error_code int16,
 *                               error_message nullable string
 *
 * Per topic: listed twice -> INVALID_REQUEST; unknown ->
 * UNKNOWN_TOPIC_OR_PARTITION; assignments whose count is not the number of
 * new partitions, or whose replicas are not [node.id] -> INVALID_REPLICA_ASSIGNMENT
 * (one node: nothing to place); count <= current or above the limit ->
 * INVALID_PARTITIONS. validate_only checks and changes nothing.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <string.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "common/error.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field assignment_fields[] = {
    PF_ARRAY(create_partitions_assignment, broker_ids, 0, PV_MAX, proto_int32_element),
};
static PROTO_STRUCT(assignment_schema, create_partitions_assignment, assignment_fields);

static const proto_field topic_fields[] = {
    PF_STR(create_partitions_topic, name, 0, PV_MAX),
    PF_I32(create_partitions_topic, count, 0, PV_MAX, 0),
    PF_NARRAY(create_partitions_topic, assignments, 0, PV_MAX, 0, assignment_schema),
};
static PROTO_STRUCT(topic_schema, create_partitions_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(create_partitions_request, topics, 0, PV_MAX, topic_schema),
    PF_I32(create_partitions_request, timeout_ms, 0, PV_MAX, 0),
    PF_BOOL(create_partitions_request, validate_only, 0, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, create_partitions_request, request_fields);

static const proto_field result_fields[] = {
    PF_STR(create_partitions_result, name, 0, PV_MAX),
    PF_I16(create_partitions_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(create_partitions_result, error_message, 0, PV_MAX, 0),
};
static PROTO_STRUCT(result_schema, create_partitions_result, result_fields);

static const proto_field response_fields[] = {
    PF_I32(create_partitions_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(create_partitions_response, results, 0, PV_MAX, result_schema),
};
static PROTO_STRUCT(response_schema, create_partitions_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

static void grow_one(broker_request *req, const create_partitions_topic *in, bool duplicate,
                     bool validate_only, create_partitions_result *out)
{
    broker *b = req->broker;
    out->name = in->name;
    out->error_code = KERR_NONE;
    out->error_message = proto_str_null();
    if (duplicate) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = admin_message(req, "topic '%.*s' is listed more than once",
                                           ADMIN_STR_ARGS(in->name));
        return;
    }
    if (!authorize_str(req, ACL_OP_ALTER, ACL_RESOURCE_TOPIC, in->name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        out->error_message = admin_message(req, "not authorized to alter topic '%.*s'",
                                           ADMIN_STR_ARGS(in->name));
        return;
    }
    topic *t = in->name.len > 0 ? topic_registry_find(b->topics, in->name.ptr, (size_t)in->name.len)
                                : NULL;
    if (!t) {
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message =
            admin_message(req, "topic '%.*s' does not exist", ADMIN_STR_ARGS(in->name));
        return;
    }
    if (in->assignments.count > 0) {
        /* Manual placement of the new partitions: one replica list per new
         * partition, each exactly [node.id]. */
        const create_partitions_assignment *as = in->assignments.items;
        int32_t expected = in->count - t->partition_count;
        char why[160];
        if (in->assignments.count != expected) {
            out->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
            out->error_message = admin_message(
                req, "%d assignment(s) given for %d new partition(s)",
                (int)in->assignments.count, (int)(expected < 0 ? 0 : expected));
            return;
        }
        for (int32_t i = 0; i < in->assignments.count; i++) {
            if (!admin_replicas_valid(&as[i].broker_ids, b->config.node_id, why, sizeof why)) {
                out->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
                out->error_message = admin_message(req, "new partition %d: %s",
                                                   (int)(t->partition_count + i), why);
                return;
            }
        }
    }
    char err[ADMIN_ERROR_MESSAGE_BYTES];
    err[0] = '\0';
    int rc = topic_registry_add_partitions(b->topics, t, in->count, validate_only, err, sizeof err);
    if (rc == 0) {
        if (!validate_only)
            broker_topic_created(b, t); /* new partitions start at the region epoch */
        return;
    }
    out->error_code = rc == ST_EINVAL ? KERR_INVALID_PARTITIONS : KERR_UNKNOWN_SERVER_ERROR;
    out->error_message = admin_message(req, "%s", err);
}

static int create_partitions_handle(broker_request *req)
{
    const create_partitions_request *rq = req->request;
    create_partitions_response *rs = req->response;
    rs->throttle_time_ms = 0;
    int32_t count = rq->topics.count > 0 ? rq->topics.count : 0;
    const create_partitions_topic *in = rq->topics.items;
    bool *duplicate = admin_duplicates(req, in, count, sizeof *in,
                                       offsetof(create_partitions_topic, name), -1);
    if (!duplicate || !admin_array(req, &rs->results, &result_schema, count))
        return PROTO_CLOSE;
    create_partitions_result *out = rs->results.items;
    for (int32_t i = 0; i < count; i++)
        grow_one(req, &in[i], duplicate[i], rq->validate_only, &out[i]);
    return PROTO_RESPOND;
}

const proto_api api_create_partitions = {
    .key = 37,
    .name = "CreatePartitions",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = 2,
    .request = &request_schema,
    .response = &response_schema,
    .handle = create_partitions_handle,
};
