/*
 * create_topics.c - CreateTopics (key 19): advertised v2-4, never flexible
 * there (flexible from v5).
 *
 * Request:
 *   FIELD                   VERSIONS  TYPE
 *   topics[]                0+
 *     name                  0+        string
 *     num_partitions        0+        int32, -1 = num.partitions
 *     replication_factor    0+        int16, -1 = default.replication.factor
 *     assignments[]         0+        partition_index int32, broker_ids []int32
 *     configs[]             0+        name string, value nullable string
 *   timeout_ms              0+        int32
 *   validate_only           1+        bool
 * Response:
 *   throttle_time_ms        2+        int32
 *   topics[]                0+
 *     name                  0+        string
 *     topic_id              7+        uuid
 *     error_code            0+        int16
 *     error_message         1+        nullable string
 *     topic_config_error_code 5+      int16, tagged (tag 0)
 *     num_partitions        5+        int32
 *     replication_factor    5+        int16
 *     configs[]             5+        nullable: name, value (nullable), read_only,
 *                                     config_source int8, is_sensitive
 *
 * Per topic, checked in this order, first failure wins (nothing is created
 * for a topic that fails; other topics are unaffected):
 *   name listed twice in the request   INVALID_REQUEST
 *   name invalid                       INVALID_TOPIC_EXCEPTION
 *   assignments with counts != -1      INVALID_REQUEST
 *   assignments not 0..n-1 or replicas != [node.id]   INVALID_REPLICA_ASSIGNMENT
 *   replication factor not 1 / -1      INVALID_REPLICATION_FACTOR
 *   partitions not -1 / 1..limit       INVALID_PARTITIONS
 *   config name/value not text, or a config listed twice
 *                                      INVALID_CONFIG / INVALID_REQUEST
 *   topic exists                       TOPIC_ALREADY_EXISTS
 *   name collides ('.' vs '_')         INVALID_TOPIC_EXCEPTION
 *   config unknown or bad value        INVALID_CONFIG (message names the key)
 * validate_only runs every check and creates nothing.
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
#include "common/limits.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field assignment_fields[] = {
    PF_I32(create_topics_assignment, partition_index, 0, PV_MAX, 0),
    PF_ARRAY(create_topics_assignment, broker_ids, 0, PV_MAX, proto_int32_element),
};
static PROTO_STRUCT(assignment_schema, create_topics_assignment, assignment_fields);

static const proto_field config_fields[] = {
    PF_STR(create_topics_config, name, 0, PV_MAX),
    PF_NSTR(create_topics_config, value, 0, PV_MAX, 0),
};
static PROTO_STRUCT(config_schema, create_topics_config, config_fields);

static const proto_field topic_fields[] = {
    PF_STR(create_topics_topic, name, 0, PV_MAX),
    PF_I32(create_topics_topic, num_partitions, 0, PV_MAX, 0),
    PF_I16(create_topics_topic, replication_factor, 0, PV_MAX, 0),
    PF_ARRAY(create_topics_topic, assignments, 0, PV_MAX, assignment_schema),
    PF_ARRAY(create_topics_topic, configs, 0, PV_MAX, config_schema),
};
static PROTO_STRUCT(topic_schema, create_topics_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(create_topics_request, topics, 0, PV_MAX, topic_schema),
    PF_I32(create_topics_request, timeout_ms, 0, PV_MAX, 60000),
    PF_BOOL(create_topics_request, validate_only, 1, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, create_topics_request, request_fields);

static const proto_field result_config_fields[] = {
    PF_STR(create_topics_result_config, name, 5, PV_MAX),
    PF_NSTR(create_topics_result_config, value, 5, PV_MAX, 5),
    PF_BOOL(create_topics_result_config, read_only, 5, PV_MAX, 0),
    PF_I8(create_topics_result_config, config_source, 5, PV_MAX, -1),
    PF_BOOL(create_topics_result_config, is_sensitive, 5, PV_MAX, 0),
};
static PROTO_STRUCT(result_config_schema, create_topics_result_config, result_config_fields);

static const proto_field result_fields[] = {
    PF_STR(create_topics_result, name, 0, PV_MAX),
    PF_UUID(create_topics_result, topic_id, 7, PV_MAX),
    PF_I16(create_topics_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(create_topics_result, error_message, 1, PV_MAX, 0),
    PF_TAGGED(create_topics_result, topic_config_error_code, PT_INT16, 0, 5, PV_MAX, PV_NEVER,
              NULL, 0),
    PF_I32(create_topics_result, num_partitions, 5, PV_MAX, -1),
    PF_I16(create_topics_result, replication_factor, 5, PV_MAX, -1),
    PF_NARRAY(create_topics_result, configs, 5, PV_MAX, 5, result_config_schema),
};
static PROTO_STRUCT(result_schema, create_topics_result, result_fields);

static const proto_field response_fields[] = {
    PF_I32(create_topics_response, throttle_time_ms, 2, PV_MAX, 0),
    PF_ARRAY(create_topics_response, topics, 0, PV_MAX, result_schema),
};
static PROTO_STRUCT(response_schema, create_topics_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

static void fail(create_topics_result *out, int16_t code, proto_str message)
{
    out->error_code = code;
    out->error_message = message;
}

/* Copies the configs of in into NUL-terminated arrays; false with out's
 * error set when a name or value is unusable. */
static bool collect_configs(broker_request *req, const create_topics_topic *in,
                            create_topics_result *out, const char ***keys, const char ***values)
{
    int32_t n = in->configs.count > 0 ? in->configs.count : 0;
    *keys = proto_arena_alloc(&req->arena, (size_t)(n ? n : 1) * sizeof(char *));
    *values = proto_arena_alloc(&req->arena, (size_t)(n ? n : 1) * sizeof(char *));
    if (!*keys || !*values) {
        fail(out, KERR_UNKNOWN_SERVER_ERROR, proto_str_null());
        return false;
    }
    const create_topics_config *cfg = in->configs.items;
    for (int32_t i = 0; i < n; i++) {
        (*keys)[i] = admin_cstr(req, cfg[i].name, LIMIT_CONFIG_VALUE_LENGTH);
        (*values)[i] = cfg[i].value.len < 0
                           ? NULL
                           : admin_cstr(req, cfg[i].value, LIMIT_CONFIG_VALUE_LENGTH);
        if (!(*keys)[i] || (cfg[i].value.len >= 0 && !(*values)[i])) {
            fail(out, KERR_INVALID_CONFIG,
                 admin_message(req, "config '%.*s': name or value too long or not text",
                               ADMIN_STR_ARGS(cfg[i].name)));
            return false;
        }
        for (int32_t j = 0; j < i; j++) {
            if (strcmp((*keys)[i], (*keys)[j]) == 0) {
                fail(out, KERR_INVALID_REQUEST,
                     admin_message(req, "config '%.64s' is given more than once", (*keys)[i]));
                return false;
            }
        }
    }
    return true;
}

static int16_t error_for(int rc)
{
    switch (rc) {
    case 0: return KERR_NONE;
    case ST_EEXISTS: return KERR_TOPIC_ALREADY_EXISTS;
    case ST_EINVAL: return KERR_INVALID_TOPIC_EXCEPTION; /* name checks; counts are checked here */
    case ST_ECONFIG: return KERR_INVALID_CONFIG;
    default: return KERR_UNKNOWN_SERVER_ERROR;
    }
}

static void create_one(broker_request *req, const create_topics_topic *in,
                       create_topics_result *out, bool duplicate, bool validate_only)
{
    broker *b = req->broker;
    char err[ADMIN_ERROR_MESSAGE_BYTES];
    out->name = in->name;
    out->num_partitions = -1;
    out->replication_factor = -1;
    out->configs = (proto_array){NULL, -1};
    out->error_message = proto_str_null();
    if (duplicate) {
        fail(out, KERR_INVALID_REQUEST,
             admin_message(req, "topic '%.*s' is listed more than once in the request",
                           ADMIN_STR_ARGS(in->name)));
        return;
    }
    if (!authorize_topic_create(req, in->name.ptr ? in->name.ptr : "",
                                in->name.len > 0 ? (size_t)in->name.len : 0)) {
        fail(out, KERR_TOPIC_AUTHORIZATION_FAILED,
             admin_message(req, "not authorized to create topic '%.*s' (CREATE on the cluster "
                                "or the topic)", ADMIN_STR_ARGS(in->name)));
        return;
    }
    if (topic_name_validate(in->name.ptr, (size_t)in->name.len, err, sizeof err) != 0) {
        fail(out, KERR_INVALID_TOPIC_EXCEPTION, admin_message(req, "%s", err));
        return;
    }
    int32_t partitions = in->num_partitions == -1 ? b->config.num_partitions : in->num_partitions;
    int32_t replication = in->replication_factor == -1 ? b->config.default_replication_factor
                                                        : in->replication_factor;
    if (in->assignments.count > 0) {
        /* Manual placement, as Kafka: counts must then be -1, indexes 0..n-1,
         * and each replica list must name only this node. */
        if (in->num_partitions != -1 || in->replication_factor != -1) {
            fail(out, KERR_INVALID_REQUEST,
                 admin_message(req, "num_partitions and replication_factor must be -1 when "
                                    "assignments are given"));
            return;
        }
        const create_topics_assignment *as = in->assignments.items;
        for (int32_t i = 0; i < in->assignments.count; i++) {
            char why[160];
            bool index_ok = false;
            for (int32_t j = 0; j < in->assignments.count && !index_ok; j++)
                index_ok = as[j].partition_index == i;
            if (!index_ok) {
                fail(out, KERR_INVALID_REPLICA_ASSIGNMENT,
                     admin_message(req, "assignments must cover partitions 0..%d exactly once, "
                                        "partition %d is missing",
                                   (int)in->assignments.count - 1, (int)i));
                return;
            }
            if (!admin_replicas_valid(&as[i].broker_ids, b->config.node_id, why, sizeof why)) {
                fail(out, KERR_INVALID_REPLICA_ASSIGNMENT,
                     admin_message(req, "partition %d: %s", (int)as[i].partition_index, why));
                return;
            }
        }
        partitions = in->assignments.count;
        replication = 1;
    }
    if (replication != 1) {
        fail(out, KERR_INVALID_REPLICATION_FACTOR,
             admin_message(req, "replication factor must be 1 (or -1 for the default) on this "
                                "single-node cluster, got %d",
                           (int)replication));
        return;
    }
    if (partitions < 1 || partitions > LIMIT_PARTITIONS_PER_TOPIC) {
        fail(out, KERR_INVALID_PARTITIONS,
             admin_message(req, "number of partitions must be between 1 and %d (or -1 for the "
                                "default), got %d",
                           LIMIT_PARTITIONS_PER_TOPIC, (int)in->num_partitions));
        return;
    }
    const char **keys = NULL, **values = NULL;
    if (!collect_configs(req, in, out, &keys, &values))
        return;
    topic *t = NULL;
    err[0] = '\0';
    int rc = topic_registry_create(b->topics, in->name.ptr, (size_t)in->name.len, partitions,
                                   keys, values, in->configs.count > 0 ? in->configs.count : 0,
                                   validate_only, &t, err, sizeof err);
    if (rc != 0) {
        fail(out, error_for(rc), admin_message(req, "%s", err));
        return;
    }
    out->error_code = KERR_NONE;
    out->num_partitions = partitions;
    out->replication_factor = 1;
    if (t) {
        memcpy(out->topic_id.bytes, t->id, sizeof out->topic_id.bytes);
        broker_topic_created(b, t); /* starts at the region epoch when active */
    }
}

static int create_topics_handle(broker_request *req)
{
    const create_topics_request *rq = req->request;
    create_topics_response *rs = req->response;
    int32_t count = rq->topics.count > 0 ? rq->topics.count : 0;
    const create_topics_topic *in = rq->topics.items;
    bool *duplicate = admin_duplicates(req, in, count, sizeof *in,
                                       offsetof(create_topics_topic, name), -1);
    if (!duplicate || !admin_array(req, &rs->topics, &result_schema, count))
        return PROTO_CLOSE;
    create_topics_result *out = rs->topics.items;
    for (int32_t i = 0; i < count; i++)
        create_one(req, &in[i], &out[i], duplicate[i], rq->validate_only);
    rs->throttle_time_ms = 0;
    return PROTO_RESPOND;
}

const proto_api api_create_topics = {
    .key = 19,
    .name = "CreateTopics",
    .min_version = 2,
    .max_version = 4,
    .flexible_min = 5,
    .request = &request_schema,
    .response = &response_schema,
    .handle = create_topics_handle,
};
