/*
 * find_coordinator.c - FindCoordinator (key 10) v0-2, and the small helpers
 * every group API handler shares (group_apis.h).
 *
 * Request (never flexible in this range):
 *   FIELD              VERSIONS  TYPE
 *   key                0+        string: group id (key_type 0) or transactional id (1)
 *   key_type           1+        int8
 * Response:
 *   throttle_time_ms   1+        int32
 *   error_code         0+        int16
 *   error_message      1+        nullable string
 *   node_id            0+        int32 (-1 on error)
 *   host               0+        string
 *   port               0+        int32 (-1 on error)
 *
 * Groups: this node coordinates every group (a single node is the whole
 * cluster), once __consumer_offsets exists - it is created here on first use.
 * On a standby broker, a group matching strait.redirect.groups asked by a
 * client other than the sidecar is answered with one of the active region's
 * brokers (the same one for a group on every standby broker:
 * region_state_group_broker); the group APIs answer NOT_COORDINATOR for it
 * here, so members move over (region_redirect.h).
 * strait has no transaction coordinator yet: key_type 1 answers
 * COORDINATOR_NOT_AVAILABLE, which clients treat as retriable.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdio.h>
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"
#include "broker/proto/responder.h"

#define KEY_TYPE_GROUP 0
#define KEY_TYPE_TRANSACTION 1

static const proto_field request_fields[] = {
    PF_STR(find_coordinator_request, key, 0, PV_MAX),
    PF_I8(find_coordinator_request, key_type, 1, PV_MAX, KEY_TYPE_GROUP),
};
static PROTO_STRUCT(request_schema, find_coordinator_request, request_fields);

static const proto_field response_fields[] = {
    PF_I32(find_coordinator_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_I16(find_coordinator_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(find_coordinator_response, error_message, 1, PV_MAX, 1),
    PF_I32(find_coordinator_response, node_id, 0, PV_MAX, 0),
    PF_STR(find_coordinator_response, host, 0, PV_MAX),
    PF_I32(find_coordinator_response, port, 0, PV_MAX, 0),
};
static PROTO_STRUCT(response_schema, find_coordinator_response, response_fields);

char *group_api_cstr(broker_request *req, proto_str s, bool *ok)
{
    if (s.len < 0)
        return NULL;
    char *out = broker_request_alloc(req, (size_t)s.len + 1);
    if (!out) {
        *ok = false;
        return NULL;
    }
    if (s.len > 0)
        memcpy(out, s.ptr, (size_t)s.len);
    return out;
}

const char *group_api_client_host(broker_request *req)
{
    const char *peer = req->responder ? req->responder->peer : "";
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') { /* [v6]:port */
        peer++;
        len -= 2;
    }
    char *out = broker_request_alloc(req, len + 2);
    if (!out)
        return "";
    out[0] = '/';
    memcpy(out + 1, peer, len);
    return out;
}

static int handle_find_coordinator(broker_request *req)
{
    const find_coordinator_request *in = req->request;
    find_coordinator_response *out = req->response;
    broker *b = req->broker;
    out->error_message = proto_str_null();
    out->node_id = -1;
    out->host = proto_str_c("");
    out->port = -1;
    /* DESCRIBE on the group, or on the transactional id (as Kafka asks) */
    if ((in->key_type == KEY_TYPE_GROUP || in->key_type == KEY_TYPE_TRANSACTION) &&
        !authorize_str(req, ACL_OP_DESCRIBE,
                       in->key_type == KEY_TYPE_GROUP ? ACL_RESOURCE_GROUP
                                                      : ACL_RESOURCE_TRANSACTIONAL_ID,
                       in->key)) {
        out->error_code = in->key_type == KEY_TYPE_GROUP
                              ? KERR_GROUP_AUTHORIZATION_FAILED
                              : KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        out->error_message = proto_str_c(kafka_error_name(out->error_code));
        return PROTO_RESPOND;
    }
    if (in->key_type == KEY_TYPE_GROUP && in->key.len > 0 &&
        region_redirects_group(req, in->key.ptr, (size_t)in->key.len)) {
        /* a standby names the active region's coordinator (region_redirect.h) */
        const region_broker *rb = region_state_group_broker(b->region, in->key.ptr,
                                                            (size_t)in->key.len);
        out->error_code = KERR_NONE;
        out->node_id = rb->node_id;
        out->host = proto_str_c(rb->host);
        out->port = rb->port;
        return PROTO_RESPOND;
    }
    if (in->key_type == KEY_TYPE_GROUP)
        out->error_code = group_api_kafka_error(coordinator_find(b->coordinator));
    else if (in->key_type == KEY_TYPE_TRANSACTION)
        out->error_code = KERR_COORDINATOR_NOT_AVAILABLE; /* no transaction coordinator yet */
    else
        out->error_code = KERR_INVALID_REQUEST;
    if (out->error_code != KERR_NONE) {
        out->error_message = proto_str_c(kafka_error_name(out->error_code));
        return PROTO_RESPOND;
    }
    out->node_id = b->config.node_id;
    const char *host;
    broker_advertised(b, req->responder ? req->responder->listener : -1, &host, &out->port);
    out->host = proto_str_c(host); /* the address of the listener the client is on */
    return PROTO_RESPOND;
}

const proto_api api_find_coordinator = {
    .key = 10,
    .name = "FindCoordinator",
    .min_version = 0,
    .max_version = 2,
    .flexible_min = 3,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_find_coordinator,
};
