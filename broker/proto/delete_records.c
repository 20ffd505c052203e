/*
 * delete_records.c - DeleteRecords (key 21) v0-1: advances a partition's log
 * start offset (the low watermark); whole segments below it are deleted.
 *
 * Request (never flexible in this range):
 *   FIELD              VERSIONS  TYPE
 *   topics[]           0+        name string, partitions[]:
 *     partition_index  0+        int32
 *     offset           0+        int64: new log start; -1 = the high watermark
 *   timeout_ms         0+        int32 (ignored: one node, nothing to wait for)
 * Response:
 *   throttle_time_ms   0+        int32
 *   topics[]           0+        name string, partitions[]:
 *     partition_index  0+        int32
 *     low_watermark    0+        int64: the log start offset after the call
 *     error_code       0+        int16
 *
 * As Kafka: an offset above the high watermark (or below -1) is
 * OFFSET_OUT_OF_RANGE; one at or below the current log start changes nothing
 * and reports it; topics whose cleanup.policy lacks "delete" answer
 * POLICY_VIOLATION; internal topics are refused (INVALID_TOPIC_EXCEPTION)
 * unless authorize_internal_write allows it (CLUSTER_ACTION on the cluster
 * with an authorizer, client.id "__admin_client" without). With an
 * authorizer, DELETE on the topic is needed (TOPIC_AUTHORIZATION_FAILED).
 *
 * Mirrored topics (docs/security.md, "DeleteRecords on mirrored topics"):
 * on a broker whose region does not take writes for the mirrored topics
 * (effective role standby, fenced or promoting: region_fences_produce) a
 * topic matching strait.redirect.topics is the mirror's copy or is being
 * drained into the other region, so deleting its records would destroy data
 * the region needs after a failover, or records not mirrored yet. Only the
 * sidecar may: CLUSTER_ACTION on the cluster with an authorizer (the
 * client.id prefix "strait-sidecar" without one, which is not a security
 * boundary); anyone else gets POLICY_VIOLATION (non-retriable: a client
 * does not loop on it), with an audit line. The active region's own
 * DeleteRecords cannot tell records the mirror has copied from those it has
 * not: the broker does not know how far the other region's mirror got.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <string.h>

#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/region_redirect.h"
#include "broker/proto/request_park.h"
#include "broker/proto/responder.h"
#include "common/error.h"
#include "common/log.h"

#define DELETE_RECORDS_HIGH_WATERMARK (-1)

/* ---- field tables ------------------------------------------------------ */

static const proto_field partition_fields[] = {
    PF_I32(delete_records_partition, partition_index, 0, PV_MAX, 0),
    PF_I64(delete_records_partition, offset, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_schema, delete_records_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_STR(delete_records_topic, name, 0, PV_MAX),
    PF_ARRAY(delete_records_topic, partitions, 0, PV_MAX, partition_schema),
};
static PROTO_STRUCT(topic_schema, delete_records_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(delete_records_request, topics, 0, PV_MAX, topic_schema),
    PF_I32(delete_records_request, timeout_ms, 0, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, delete_records_request, request_fields);

static const proto_field partition_result_fields[] = {
    PF_I32(delete_records_partition_result, partition_index, 0, PV_MAX, 0),
    PF_I64(delete_records_partition_result, low_watermark, 0, PV_MAX, -1),
    PF_I16(delete_records_partition_result, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_result_schema, delete_records_partition_result, partition_result_fields);

static const proto_field topic_result_fields[] = {
    PF_STR(delete_records_topic_result, name, 0, PV_MAX),
    PF_ARRAY(delete_records_topic_result, partitions, 0, PV_MAX, partition_result_schema),
};
static PROTO_STRUCT(topic_result_schema, delete_records_topic_result, topic_result_fields);

static const proto_field response_fields[] = {
    PF_I32(delete_records_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(delete_records_response, topics, 0, PV_MAX, topic_result_schema),
};
static PROTO_STRUCT(response_schema, delete_records_response, response_fields);

/* ---- handler ----------------------------------------------------------- */

static bool policy_allows_delete(const broker *b, const topic *t)
{
    char policy[128];
    if (topic_config_get(&t->config, &b->config, "cleanup.policy", policy, sizeof policy) < 0)
        return true; /* unknown key: the config module decides retention, not us */
    return strstr(policy, "delete") != NULL;
}

static void delete_partition(broker_request *req, proto_str topic_name,
                             const delete_records_partition *in, delete_records_partition_result *out)
{
    broker *b = req->broker;
    out->partition_index = in->partition_index;
    out->low_watermark = -1;
    partition *p;
    if (!authorize_str(req, ACL_OP_DELETE, ACL_RESOURCE_TOPIC, topic_name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        return;
    }
    out->error_code = data_partition_find(b, topic_name, in->partition_index, &p);
    if (out->error_code != KERR_NONE)
        return;
    if (p->topic->internal && !authorize_internal_write(req)) {
        out->error_code = KERR_INVALID_TOPIC_EXCEPTION;
        return;
    }
    if (region_fences_produce(req, topic_name.ptr, (size_t)topic_name.len)) {
        /* the roles that refuse writes to a mirrored topic also keep its records */
        log_info("audit", "delete records refused principal=%s peer=%s topic=%.*s partition=%d "
                 "region_role=%s outcome=POLICY_VIOLATION reason=a mirrored topic on a region "
                 "that is not active; only the sidecar (CLUSTER_ACTION on the cluster) may",
                 authorize_principal(req), req->responder ? req->responder->peer : "-",
                 (int)topic_name.len, topic_name.ptr, in->partition_index,
                 region_role_name(region_request_role(req)));
        out->error_code = KERR_POLICY_VIOLATION;
        return;
    }
    if (!policy_allows_delete(b, p->topic)) {
        out->error_code = KERR_POLICY_VIOLATION;
        return;
    }
    int64_t high_watermark = plog_high_watermark(p->log);
    int64_t offset = in->offset == DELETE_RECORDS_HIGH_WATERMARK ? high_watermark : in->offset;
    if (offset < 0 || offset > high_watermark) {
        out->error_code = KERR_OFFSET_OUT_OF_RANGE;
        return;
    }
    if (offset > plog_log_start_offset(p->log)) {
        int rc = plog_delete_records(p->log, offset);
        if (rc != 0) {
            out->error_code = rc == ST_ERANGE         ? KERR_OFFSET_OUT_OF_RANGE
                              : rc == ST_EUNSUPPORTED ? KERR_POLICY_VIOLATION
                                                      : KERR_KAFKA_STORAGE_ERROR;
            log_warn("delete_records", "failed topic=%s partition=%d offset=%lld error=%s",
                     p->topic->name, in->partition_index, (long long)offset, strait_strerror(rc));
            return;
        }
        log_debug("delete_records", "log start advanced topic=%s partition=%d log_start_offset=%lld",
                 p->topic->name, in->partition_index, (long long)plog_log_start_offset(p->log));
        /* Parked fetches below the new start should learn it now
         * (OFFSET_OUT_OF_RANGE), not at the end of their wait. */
        broker_notify_append(b, p);
    }
    out->low_watermark = plog_log_start_offset(p->log);
}

static int handle_delete_records(broker_request *req)
{
    const delete_records_request *in = req->request;
    delete_records_response *out = req->response;
    if (proto_array_alloc(&req->arena, &out->topics, &topic_result_schema, in->topics.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const delete_records_topic *ti = (const delete_records_topic *)in->topics.items + i;
        delete_records_topic_result *to = (delete_records_topic_result *)out->topics.items + i;
        to->name = ti->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_result_schema,
                              ti->partitions.count))
            return PROTO_CLOSE;
        for (int32_t j = 0; j < ti->partitions.count; j++)
            delete_partition(req, ti->name, (const delete_records_partition *)ti->partitions.items + j,
                             (delete_records_partition_result *)to->partitions.items + j);
    }
    return PROTO_RESPOND;
}

const proto_api api_delete_records = {
    .key = 21,
    .name = "DeleteRecords",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = PV_NEVER,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_delete_records,
};
