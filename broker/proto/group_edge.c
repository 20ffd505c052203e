/*
 * group_edge.c - where the group module meets the Kafka protocol: the Kafka
 * error code a client sees for each group_error value, and the parking of a
 * JoinGroup or SyncGroup request while its group decides (the coordinator
 * finishes it later through coordinator_waiter.finish; a request whose
 * connection closes first is forgotten by the coordinator), and the
 * adoption of members arriving from the old active region after a planned
 * switchover (group_api_adopt, broker/group/coordinator_adopt.c).
 *
 * Runs on the broker's event-loop thread like every handler.
 */
#include "broker/proto/broker_context.h"

#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"

/* An adopted member's session timeout (its own is in no request but
 * JoinGroup): long enough for any client's heartbeat interval; clamped to
 * group.min/max.session.timeout.ms. Its next JoinGroup sets its own. */
#define ADOPTED_SESSION_TIMEOUT_MS 30000

int16_t group_api_kafka_error(int error)
{
    switch ((enum group_error)error) {
    case GROUP_OK: return KERR_NONE;
    case GROUP_EUNAVAILABLE: return KERR_COORDINATOR_NOT_AVAILABLE;
    case GROUP_ESESSION_TIMEOUT: return KERR_INVALID_SESSION_TIMEOUT;
    case GROUP_EPROTOCOL: return KERR_INCONSISTENT_GROUP_PROTOCOL;
    case GROUP_EFULL: return KERR_GROUP_MAX_SIZE_REACHED;
    case GROUP_EINTERNAL: return KERR_UNKNOWN_SERVER_ERROR;
    case GROUP_EMEMBER_ID_REQUIRED: return KERR_MEMBER_ID_REQUIRED;
    case GROUP_EFENCED_INSTANCE: return KERR_FENCED_INSTANCE_ID;
    case GROUP_EUNKNOWN_MEMBER: return KERR_UNKNOWN_MEMBER_ID;
    case GROUP_EGENERATION: return KERR_ILLEGAL_GENERATION;
    case GROUP_EREBALANCING: return KERR_REBALANCE_IN_PROGRESS;
    case GROUP_ENOT_FOUND: return KERR_GROUP_ID_NOT_FOUND;
    case GROUP_ENOT_EMPTY: return KERR_NON_EMPTY_GROUP;
    case GROUP_ESUBSCRIBED: return KERR_GROUP_SUBSCRIBED_TO_TOPIC;
    }
    return KERR_UNKNOWN_SERVER_ERROR;
}

/* broker_request.on_abandon of a parked JoinGroup/SyncGroup. */
static void abandon(broker_request *req)
{
    coordinator_forget(req->broker->coordinator, req->handler_state);
}

/* coordinator_waiter.finish: the group answered a parked request. */
static void finish(coordinator_waiter *w)
{
    broker_request *req = w->request;
    req->on_abandon = NULL;
    broker_request_finish(req);
}

void group_api_waiter_init(broker_request *req, coordinator_waiter *w, const char *group_id)
{
    *w = (coordinator_waiter){.group_id = group_id, .request = req, .finish = finish};
    req->handler_state = w;
}

int group_api_parked_or_respond(broker_request *req, bool answered)
{
    if (answered)
        return PROTO_RESPOND;
    req->on_abandon = abandon;
    return PROTO_PARKED;
}

bool group_api_adopt(broker_request *req, const char *group_id, const char *member_id,
                     const char *instance_id, int32_t generation)
{
    enum region_role role = region_request_role(req);
    if (!member_id || !member_id[0] || instance_id || generation <= 0 ||
        region_request_from_sidecar(req) ||
        (role != REGION_ROLE_ACTIVE && role != REGION_ROLE_PROMOTING) ||
        !region_state_group_matches(req->broker->region, group_id, strlen(group_id)))
        return false;
    bool ok = true;
    const char *client_id = group_api_cstr(req, req->client_id, &ok);
    group_adoptee a = {.member_id = member_id, .client_id = client_id ? client_id : "",
                       .client_host = group_api_client_host(req), .generation = generation,
                       .session_timeout_ms = ADOPTED_SESSION_TIMEOUT_MS};
    return coordinator_adopt(req->broker->coordinator, group_id, &a) == GROUP_OK;
}

int16_t group_api_member_error(broker_request *req, const char *group_id, const char *member_id,
                               const char *instance_id, int32_t generation)
{
    int16_t error = authorize_group_error(req, group_id, strlen(group_id));
    if (error != KERR_NONE && error != KERR_COORDINATOR_LOAD_IN_PROGRESS)
        return error; /* not authorized, or coordinated in the active region */
    bool adopted = group_api_adopt(req, group_id, member_id, instance_id, generation);
    /* promoting holds groups, but not the members it adopted (coordinator_adopt.c) */
    return adopted ? KERR_NONE : error;
}
