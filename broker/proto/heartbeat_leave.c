/*
 * heartbeat_leave.c - Heartbeat (key 12) v0-3 and LeaveGroup (key 13) v0-1.
 *
 * Heartbeat request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   group_id               0+        string
 *   generation_id          0+        int32
 *   member_id              0+        string
 *   group_instance_id      3+        nullable string
 * LeaveGroup request:
 *   group_id               0+        string
 *   member_id              0-2       string
 * Response of both:
 *   throttle_time_ms       1+        int32
 *   error_code             0+        int16
 *
 * A heartbeat keeps the member's session; during a rebalance it answers
 * REBALANCE_IN_PROGRESS, which tells the member to rejoin. LeaveGroup
 * removes the member at once and starts a rebalance for the others.
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

static const proto_field heartbeat_fields[] = {
    PF_STR(heartbeat_request, group_id, 0, PV_MAX),
    PF_I32(heartbeat_request, generation_id, 0, PV_MAX, 0),
    PF_STR(heartbeat_request, member_id, 0, PV_MAX),
    PF_NSTR(heartbeat_request, group_instance_id, 3, PV_MAX, 3),
};
static PROTO_STRUCT(heartbeat_schema, heartbeat_request, heartbeat_fields);

static const proto_field leave_fields[] = {
    PF_STR(leave_group_request, group_id, 0, PV_MAX),
    PF_STR(leave_group_request, member_id, 0, 2),
};
static PROTO_STRUCT(leave_schema, leave_group_request, leave_fields);

static const proto_field response_fields[] = {
    PF_I32(group_error_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_I16(group_error_response, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(response_schema, group_error_response, response_fields);

static int handle_heartbeat(broker_request *req)
{
    const heartbeat_request *in = req->request;
    group_error_response *out = req->response;
    bool ok = true;
    char *group_id = group_api_cstr(req, in->group_id, &ok);
    char *member_id = group_api_cstr(req, in->member_id, &ok);
    char *instance_id = group_api_cstr(req, in->group_instance_id, &ok);
    if (!ok)
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
    else if (!group_id || !group_id[0])
        out->error_code = KERR_INVALID_GROUP_ID;
    else if ((out->error_code = group_api_member_error(req, group_id, member_id, instance_id,
                                                       in->generation_id)) == KERR_NONE)
        out->error_code = group_api_kafka_error(
            coordinator_heartbeat(req->broker->coordinator, group_id, member_id ? member_id : "",
                                  instance_id, in->generation_id));
    return PROTO_RESPOND;
}

static int handle_leave_group(broker_request *req)
{
    const leave_group_request *in = req->request;
    group_error_response *out = req->response;
    bool ok = true;
    char *group_id = group_api_cstr(req, in->group_id, &ok);
    char *member_id = group_api_cstr(req, in->member_id, &ok);
    if (!ok)
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
    else if (!group_id || !group_id[0])
        out->error_code = KERR_INVALID_GROUP_ID;
    else if ((out->error_code = authorize_group_error(req, group_id, strlen(group_id))) ==
             KERR_NONE) /* else not authorized, or coordinated in the active region */
        out->error_code = group_api_kafka_error(
            coordinator_leave(req->broker->coordinator, group_id, member_id ? member_id : ""));
    return PROTO_RESPOND;
}

const proto_api api_heartbeat = {
    .key = 12,
    .name = "Heartbeat",
    .min_version = 0,
    .max_version = 3,
    .flexible_min = 4,
    .request = &heartbeat_schema,
    .response = &response_schema,
    .handle = handle_heartbeat,
};

const proto_api api_leave_group = {
    .key = 13,
    .name = "LeaveGroup",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = 4,
    .request = &leave_schema,
    .response = &response_schema,
    .handle = handle_leave_group,
};
