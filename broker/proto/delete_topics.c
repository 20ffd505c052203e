/*
 * delete_topics.c - DeleteTopics (key 20): advertised v1-3, never flexible
 * there (flexible from v4).
 *
 * Request:
 *   FIELD             VERSIONS  TYPE
 *   topics[]          6+        name (nullable string), topic_id uuid
 *   topic_names[]     0-5       string
 *   timeout_ms        0+        int32
 * Response:
 *   throttle_time_ms  1+        int32
 *   responses[]       0+
 *     name            0+        string (nullable from v6)
 *     topic_id        6+        uuid
 *     error_code      0+        int16
 *     error_message   5+        nullable string
 *
 * Per name: listed twice -> INVALID_REQUEST; unknown -> UNKNOWN_TOPIC_OR_PARTITION;
 * the coordinators' internal topics (__consumer_offsets, __transaction_state)
 * -> INVALID_REQUEST, because the group and transaction coordinators hold
 * their partitions open. With delete.topic.enable=false every name gets
 * INVALID_REQUEST below v3 and TOPIC_DELETION_DISABLED from v3, as Kafka
 * answers. Deletion is synchronous: when the response is sent the logs are
 * gone.
 *
 * Runs on the broker's event-loop thread. A deleted topic's topic* and
 * partition* pointers are freed: code holding them across requests (parked
 * fetches) must look the topic up again by name.
 */
#include <stdint.h>
#include <string.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "common/error.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field state_fields[] = {
    PF_NSTR(delete_topics_state, name, 6, PV_MAX, 6),
    PF_UUID(delete_topics_state, topic_id, 6, PV_MAX),
};
static PROTO_STRUCT(state_schema, delete_topics_state, state_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(delete_topics_request, topics, 6, PV_MAX, state_schema),
    PF_ARRAY(delete_topics_request, topic_names, 0, 5, proto_string_element),
    PF_I32(delete_topics_request, timeout_ms, 0, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, delete_topics_request, request_fields);

static const proto_field result_fields[] = {
    PF_NSTR(delete_topics_result, name, 0, PV_MAX, 6),
    PF_UUID(delete_topics_result, topic_id, 6, PV_MAX),
    PF_I16(delete_topics_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(delete_topics_result, error_message, 5, PV_MAX, 5),
};
static PROTO_STRUCT(result_schema, delete_topics_result, result_fields);

static const proto_field response_fields[] = {
    PF_I32(delete_topics_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_ARRAY(delete_topics_response, responses, 0, PV_MAX, result_schema),
};
static PROTO_STRUCT(response_schema, delete_topics_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

static bool coordinator_topic(proto_str name)
{
    return proto_str_eq(name, "__consumer_offsets") || proto_str_eq(name, "__transaction_state");
}

static void delete_one(broker_request *req, proto_str name, bool duplicate,
                       delete_topics_result *out)
{
    broker *b = req->broker;
    out->name = name;
    out->error_message = proto_str_null();
    if (!b->config.delete_topic_enable) {
        out->error_code =
            req->api_version < 3 ? KERR_INVALID_REQUEST : KERR_TOPIC_DELETION_DISABLED;
        out->error_message =
            admin_message(req, "topic deletion is disabled (delete.topic.enable=false)");
        return;
    }
    if (duplicate) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = admin_message(req, "topic '%.*s' is listed more than once",
                                           ADMIN_STR_ARGS(name));
        return;
    }
    if (!authorize_str(req, ACL_OP_DELETE, ACL_RESOURCE_TOPIC, name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        out->error_message = admin_message(req, "not authorized to delete topic '%.*s'",
                                           ADMIN_STR_ARGS(name));
        return;
    }
    topic *t = name.len > 0 ? topic_registry_find(b->topics, name.ptr, (size_t)name.len) : NULL;
    if (!t) {
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message =
            admin_message(req, "topic '%.*s' does not exist", ADMIN_STR_ARGS(name));
        return;
    }
    if (coordinator_topic(name)) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message =
            admin_message(req, "internal topic '%.*s' cannot be deleted", ADMIN_STR_ARGS(name));
        return;
    }
    memcpy(out->topic_id.bytes, t->id, sizeof out->topic_id.bytes);
    int rc = topic_registry_delete(b->topics, name.ptr, (size_t)name.len);
    if (rc == ST_ENOTFOUND)
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
    else if (rc != 0)
        out->error_code = KERR_KAFKA_STORAGE_ERROR;
    else
        out->error_code = KERR_NONE;
    if (rc != 0)
        out->error_message = admin_message(req, "cannot delete topic: %s", strait_strerror(rc));
}

static int delete_topics_handle(broker_request *req)
{
    const delete_topics_request *rq = req->request;
    delete_topics_response *rs = req->response;
    rs->throttle_time_ms = 0;
    /* Versions we advertise (1-3) carry names only; v6+ topics[] would be
     * resolved here by name or id. */
    int32_t count = rq->topic_names.count > 0 ? rq->topic_names.count : 0;
    const proto_string *names = rq->topic_names.items;
    bool *duplicate = admin_duplicates(req, names, count, sizeof *names,
                                       offsetof(proto_string, value), -1);
    if (!duplicate || !admin_array(req, &rs->responses, &result_schema, count))
        return PROTO_CLOSE;
    delete_topics_result *out = rs->responses.items;
    for (int32_t i = 0; i < count; i++)
        delete_one(req, names[i].value, duplicate[i], &out[i]);
    return PROTO_RESPOND;
}

const proto_api api_delete_topics = {
    .key = 20,
    .name = "DeleteTopics",
    .min_version = 1,
    .max_version = 3,
    .flexible_min = 4,
    .request = &request_schema,
    .response = &response_schema,
    .handle = delete_topics_handle,
};
