/*
 * sync_group.c - SyncGroup (key 14) v0-3.
 *
 * Request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   group_id               0+        string
 *   generation_id          0+        int32
 *   member_id              0+        string
 *   group_instance_id      3+        nullable string
 *   assignments[]          0+        member_id string, assignment bytes
 *                                    (sent by the leader only)
 * Response:
 *   throttle_time_ms       1+        int32
 *   error_code             0+        int16
 *   assignment             0+        bytes: this member's assignment
 *
 * A member's SyncGroup parks until the leader's arrives (or the group
 * rebalances again: REBALANCE_IN_PROGRESS); in a Stable group it is
 * answered at once with the member's assignment.
 *
 * Runs on the broker's event-loop thread.
 */
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"

static const proto_field assignment_fields[] = {
    PF_STR(sync_group_assignment, member_id, 0, PV_MAX),
    PF_BYTES(sync_group_assignment, assignment, 0, PV_MAX),
};
static PROTO_STRUCT(assignment_schema, sync_group_assignment, assignment_fields);

static const proto_field request_fields[] = {
    PF_STR(sync_group_request, group_id, 0, PV_MAX),
    PF_I32(sync_group_request, generation_id, 0, PV_MAX, 0),
    PF_STR(sync_group_request, member_id, 0, PV_MAX),
    PF_NSTR(sync_group_request, group_instance_id, 3, PV_MAX, 3),
    PF_ARRAY(sync_group_request, assignments, 0, PV_MAX, assignment_schema),
};
static PROTO_STRUCT(request_schema, sync_group_request, request_fields);

static const proto_field response_fields[] = {
    PF_I32(sync_group_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_I16(sync_group_response, error_code, 0, PV_MAX, 0),
    PF_BYTES(sync_group_response, assignment, 0, PV_MAX),
};
static PROTO_STRUCT(response_schema, sync_group_response, response_fields);

static void sync_fill(coordinator_waiter *w, int error, const uint8_t *assignment, int32_t len)
{
    broker_request *req = w->request;
    sync_group_response *out = req->response;
    out->error_code = group_api_kafka_error(error);
    out->assignment = (proto_bytes){NULL, 0};
    if (error != GROUP_OK || !assignment || len <= 0)
        return;
    uint8_t *copy = broker_request_alloc(req, (size_t)len);
    if (!copy) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    memcpy(copy, assignment, (size_t)len);
    out->assignment = (proto_bytes){copy, len};
}

static int handle_sync_group(broker_request *req)
{
    const sync_group_request *in = req->request;
    sync_group_response *out = req->response;
    bool ok = true;
    if (in->group_id.len <= 0) {
        out->error_code = KERR_INVALID_GROUP_ID;
        return PROTO_RESPOND;
    }
    int16_t group_error = authorize_group_error(req, in->group_id.ptr, (size_t)in->group_id.len);
    if (group_error) {
        out->error_code = group_error;
        return PROTO_RESPOND;
    }
    int32_t count = in->assignments.count > 0 ? in->assignments.count : 0;
    coordinator_waiter *w = broker_request_alloc(req, sizeof *w);
    group_assignment *assignments = broker_request_alloc(req, sizeof *assignments * (size_t)(count ? count : 1));
    if (!w || !assignments) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return PROTO_RESPOND;
    }
    for (int32_t i = 0; i < count; i++) {
        const sync_group_assignment *a = (const sync_group_assignment *)in->assignments.items + i;
        assignments[i] = (group_assignment){.member_id = group_api_cstr(req, a->member_id, &ok),
                                            .data = a->assignment.ptr,
                                            .len = a->assignment.len > 0 ? a->assignment.len : 0};
    }
    char *member_id = group_api_cstr(req, in->member_id, &ok);
    char *instance_id = group_api_cstr(req, in->group_instance_id, &ok);
    group_api_waiter_init(req, w, group_api_cstr(req, in->group_id, &ok));
    w->sync_fill = sync_fill;
    if (!ok) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        return PROTO_RESPOND;
    }
    bool answered = coordinator_sync(req->broker->coordinator, w, member_id ? member_id : "",
                                     instance_id, in->generation_id, assignments, count);
    return group_api_parked_or_respond(req, answered);
}

const proto_api api_sync_group = {
    .key = 14,
    .name = "SyncGroup",
    .min_version = 0,
    .max_version = 3,
    .flexible_min = 4,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_sync_group,
};
