/*
 * join_group.c - JoinGroup (key 11) v0-5.
 *
 * Request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   group_id               0+        string
 *   session_timeout_ms     0+        int32
 *   rebalance_timeout_ms   1+        int32 (v0: the session timeout)
 *   member_id              0+        string, "" on a first join
 *   group_instance_id      5+        nullable string (KIP-345 static member)
 *   protocol_type          0+        string ("consumer" for consumers)
 *   protocols[]            0+        name string, metadata bytes
 * Response:
 *   throttle_time_ms       2+        int32
 *   error_code             0+        int16
 *   generation_id          0+        int32
 *   protocol_name          0+        string
 *   leader                 0+        string
 *   member_id              0+        string
 *   members[]              0+        member_id string, group_instance_id
 *                                    nullable string (5+), metadata bytes;
 *                                    filled for the leader only
 *
 * From v4 a first join without a member id is answered MEMBER_ID_REQUIRED
 * with the id to use (KIP-394). Otherwise the request parks in its group
 * until the join phase of the rebalance ends (broker/group/group.h).
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

#define JOIN_GROUP_KNOWN_MEMBER_ID_VERSION 4 /* KIP-394 */

static const proto_field protocol_fields[] = {
    PF_STR(join_group_protocol, name, 0, PV_MAX),
    PF_BYTES(join_group_protocol, metadata, 0, PV_MAX),
};
static PROTO_STRUCT(protocol_schema, join_group_protocol, protocol_fields);

static const proto_field request_fields[] = {
    PF_STR(join_group_request, group_id, 0, PV_MAX),
    PF_I32(join_group_request, session_timeout_ms, 0, PV_MAX, 0),
    PF_I32(join_group_request, rebalance_timeout_ms, 1, PV_MAX, -1),
    PF_STR(join_group_request, member_id, 0, PV_MAX),
    PF_NSTR(join_group_request, group_instance_id, 5, PV_MAX, 5),
    PF_STR(join_group_request, protocol_type, 0, PV_MAX),
    PF_ARRAY(join_group_request, protocols, 0, PV_MAX, protocol_schema),
};
static PROTO_STRUCT(request_schema, join_group_request, request_fields);

static const proto_field member_fields[] = {
    PF_STR(join_group_member, member_id, 0, PV_MAX),
    PF_NSTR(join_group_member, group_instance_id, 5, PV_MAX, 5),
    PF_BYTES(join_group_member, metadata, 0, PV_MAX),
};
static PROTO_STRUCT(member_schema, join_group_member, member_fields);

static const proto_field response_fields[] = {
    PF_I32(join_group_response, throttle_time_ms, 2, PV_MAX, 0),
    PF_I16(join_group_response, error_code, 0, PV_MAX, 0),
    PF_I32(join_group_response, generation_id, 0, PV_MAX, -1),
    PF_STR(join_group_response, protocol_name, 0, PV_MAX),
    PF_STR(join_group_response, leader, 0, PV_MAX),
    PF_STR(join_group_response, member_id, 0, PV_MAX),
    PF_ARRAY(join_group_response, members, 0, PV_MAX, member_schema),
};
static PROTO_STRUCT(response_schema, join_group_response, response_fields);

static void join_fill(coordinator_waiter *w, const group *g, const group_join_outcome *o)
{
    broker_request *req = w->request;
    join_group_response *out = req->response;
    out->error_code = group_api_kafka_error(o->error);
    out->generation_id = o->generation;
    out->protocol_name = broker_request_strdup(req, o->protocol_name, NULL);
    out->leader = broker_request_strdup(req, o->leader_id, NULL);
    out->member_id = broker_request_strdup(req, o->member_id, NULL);
    out->members = (proto_array){NULL, 0};
    if (!o->with_members || !g)
        return;
    int32_t count = group_member_count(g);
    if (proto_array_alloc(&req->arena, &out->members, &member_schema, count) != 0)
        return;
    for (int32_t i = 0; i < count; i++) {
        const group_member_info *m = group_member_at(g, i);
        join_group_member *jm = (join_group_member *)out->members.items + i;
        int32_t len;
        const uint8_t *metadata = group_member_metadata(m, group_protocol_name(g), &len);
        jm->member_id = broker_request_strdup(req, m->id, NULL);
        jm->group_instance_id = broker_request_strdup(req, m->instance_id, NULL);
        jm->metadata = broker_request_bytesdup(req, metadata, len, NULL);
    }
}

static int respond_error(broker_request *req, int16_t error)
{
    join_group_response *out = req->response;
    const join_group_request *in = req->request;
    out->error_code = error;
    out->generation_id = -1;
    out->protocol_name = proto_str_c("");
    out->leader = proto_str_c("");
    out->member_id = in->member_id;
    return PROTO_RESPOND;
}

static int handle_join_group(broker_request *req)
{
    const join_group_request *in = req->request;
    bool ok = true;
    if (in->group_id.len <= 0)
        return respond_error(req, KERR_INVALID_GROUP_ID);
    int16_t region_error = authorize_group_error(req, in->group_id.ptr, (size_t)in->group_id.len);
    if (region_error)
        return respond_error(req, region_error); /* coordinated in the active region, or held */
    coordinator_waiter *w = broker_request_alloc(req, sizeof *w);
    group_protocol *protocols =
        broker_request_alloc(req, sizeof *protocols * (size_t)(in->protocols.count > 0 ? in->protocols.count : 1));
    if (!w || !protocols)
        return respond_error(req, KERR_UNKNOWN_SERVER_ERROR);
    for (int32_t i = 0; i < in->protocols.count; i++) {
        const join_group_protocol *p = (const join_group_protocol *)in->protocols.items + i;
        char *name = group_api_cstr(req, p->name, &ok);
        protocols[i] = (group_protocol){.name = name ? name : "",
                                        .metadata = (uint8_t *)p->metadata.ptr,
                                        .metadata_len = p->metadata.len > 0 ? p->metadata.len : 0};
    }
    const char *client_id = group_api_cstr(req, req->client_id, &ok);
    group_join_params params = {
        .member_id = group_api_cstr(req, in->member_id, &ok),
        .instance_id = group_api_cstr(req, in->group_instance_id, &ok),
        .client_id = client_id ? client_id : "",
        .client_host = group_api_client_host(req),
        .session_timeout_ms = in->session_timeout_ms,
        .rebalance_timeout_ms = req->api_version >= 1 ? in->rebalance_timeout_ms
                                                      : in->session_timeout_ms,
        .protocol_type = group_api_cstr(req, in->protocol_type, &ok),
        .protocols = protocols,
        .protocol_count = in->protocols.count > 0 ? in->protocols.count : 0,
        .require_known_member_id = req->api_version >= JOIN_GROUP_KNOWN_MEMBER_ID_VERSION,
    };
    group_api_waiter_init(req, w, group_api_cstr(req, in->group_id, &ok));
    w->join_fill = join_fill;
    if (!ok)
        return respond_error(req, KERR_UNKNOWN_SERVER_ERROR);
    return group_api_parked_or_respond(req, coordinator_join(req->broker->coordinator, w, &params));
}

const proto_api api_join_group = {
    .key = 11,
    .name = "JoinGroup",
    .min_version = 0,
    .max_version = 5,
    .flexible_min = 6,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_join_group,
};
