/*
 * describe_list_groups.c - DescribeGroups (key 15) v0-4 and ListGroups
 * (key 16) v0-2.
 *
 * DescribeGroups request (never flexible in this range):
 *   FIELD                          VERSIONS  TYPE
 *   groups                         0+        []string
 *   include_authorized_operations  3+        bool
 * Response:
 *   throttle_time_ms               1+        int32
 *   groups[]                       0+
 *     error_code                   0+        int16
 *     group_id                     0+        string
 *     group_state                  0+        string ("Stable", ..., "Dead" if unknown)
 *     protocol_type                0+        string
 *     protocol_data                0+        string: the selected protocol (Stable only)
 *     members[]                    0+        member_id string, group_instance_id
 *                                            nullable string (4+), client_id string,
 *                                            client_host string, member_metadata bytes,
 *                                            member_assignment bytes (both Stable only)
 *     authorized_operations        3+        int32 bit set, INT32_MIN = not asked
 * ListGroups request: no fields before v4.
 * Response:
 *   throttle_time_ms               1+        int32
 *   error_code                     0+        int16
 *   groups[]                       0+        group_id string, protocol_type string
 *
 * Runs on the broker's event-loop thread.
 */
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"

/* No ACLs yet: every client may READ, DELETE and DESCRIBE a group (the bits
 * of Kafka's AclOperation codes 3, 6 and 8). */
#define GROUP_AUTHORIZED_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

static const proto_field describe_request_fields[] = {
    PF_ARRAY(describe_groups_request, groups, 0, PV_MAX, proto_string_element),
    PF_BOOL(describe_groups_request, include_authorized_operations, 3, PV_MAX, 0),
};
static PROTO_STRUCT(describe_request_schema, describe_groups_request, describe_request_fields);

static const proto_field member_fields[] = {
    PF_STR(described_group_member, member_id, 0, PV_MAX),
    PF_NSTR(described_group_member, group_instance_id, 4, PV_MAX, 4),
    PF_STR(described_group_member, client_id, 0, PV_MAX),
    PF_STR(described_group_member, client_host, 0, PV_MAX),
    PF_BYTES(described_group_member, member_metadata, 0, PV_MAX),
    PF_BYTES(described_group_member, member_assignment, 0, PV_MAX),
};
static PROTO_STRUCT(member_schema, described_group_member, member_fields);

static const proto_field group_fields[] = {
    PF_I16(described_group, error_code, 0, PV_MAX, 0),
    PF_STR(described_group, group_id, 0, PV_MAX),
    PF_STR(described_group, group_state, 0, PV_MAX),
    PF_STR(described_group, protocol_type, 0, PV_MAX),
    PF_STR(described_group, protocol_data, 0, PV_MAX),
    PF_ARRAY(described_group, members, 0, PV_MAX, member_schema),
    PF_I32(described_group, authorized_operations, 3, PV_MAX, INT32_MIN),
};
static PROTO_STRUCT(group_schema, described_group, group_fields);

static const proto_field describe_response_fields[] = {
    PF_I32(describe_groups_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_ARRAY(describe_groups_response, groups, 0, PV_MAX, group_schema),
};
static PROTO_STRUCT(describe_response_schema, describe_groups_response, describe_response_fields);

static const proto_struct list_request_schema = {
    .name = "list_groups_request", .size = sizeof(list_groups_request), .fields = NULL,
    .field_count = 0};

static const proto_field listed_fields[] = {
    PF_STR(listed_group, group_id, 0, PV_MAX),
    PF_STR(listed_group, protocol_type, 0, PV_MAX),
};
static PROTO_STRUCT(listed_schema, listed_group, listed_fields);

static const proto_field list_response_fields[] = {
    PF_I32(list_groups_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_I16(list_groups_response, error_code, 0, PV_MAX, 0),
    PF_ARRAY(list_groups_response, groups, 0, PV_MAX, listed_schema),
};
static PROTO_STRUCT(list_response_schema, list_groups_response, list_response_fields);

static int describe_one(broker_request *req, proto_str id, bool with_operations, described_group *out)
{
    bool ok = true;
    char *group_id = group_api_cstr(req, id, &ok);
    out->group_id = id;
    out->authorized_operations = with_operations ? GROUP_AUTHORIZED_OPERATIONS : INT32_MIN;
    out->protocol_type = proto_str_c("");
    out->protocol_data = proto_str_c("");
    out->group_state = proto_str_c("");
    if (!authorize_str(req, ACL_OP_DESCRIBE, ACL_RESOURCE_GROUP, id)) {
        out->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
        return 0;
    }
    if (with_operations && group_id)
        out->authorized_operations = authorize_operations(req, ACL_RESOURCE_GROUP, group_id,
                                                          strlen(group_id),
                                                          GROUP_AUTHORIZED_OPERATIONS);
    const group *g = group_id ? coordinator_group(req->broker->coordinator, group_id) : NULL;
    if (!g) {
        out->error_code = ok ? KERR_NONE : KERR_UNKNOWN_SERVER_ERROR;
        out->group_state = proto_str_c(group_state_name(GROUP_DEAD));
        return 0;
    }
    enum group_state state = group_current_state(g);
    bool stable = state == GROUP_STABLE;
    out->group_state = proto_str_c(group_state_name(state));
    out->protocol_type = broker_request_strdup(req, group_protocol_type(g) ? group_protocol_type(g) : "", NULL);
    if (stable && group_protocol_name(g))
        out->protocol_data = broker_request_strdup(req, group_protocol_name(g), NULL);
    int32_t count = group_member_count(g);
    if (proto_array_alloc(&req->arena, &out->members, &member_schema, count))
        return -1;
    for (int32_t i = 0; i < count; i++) {
        const group_member_info *m = group_member_at(g, i);
        described_group_member *dm = (described_group_member *)out->members.items + i;
        dm->member_id = broker_request_strdup(req, m->id, NULL);
        dm->group_instance_id = broker_request_strdup(req, m->instance_id, NULL);
        dm->client_id = broker_request_strdup(req, m->client_id, NULL);
        dm->client_host = broker_request_strdup(req, m->client_host, NULL);
        if (stable) {
            int32_t len;
            const uint8_t *metadata = group_member_metadata(m, group_protocol_name(g), &len);
            dm->member_metadata = broker_request_bytesdup(req, metadata, len, NULL);
            dm->member_assignment = broker_request_bytesdup(req, m->assignment, m->assignment_len, NULL);
        }
    }
    return 0;
}

static int handle_describe_groups(broker_request *req)
{
    const describe_groups_request *in = req->request;
    describe_groups_response *out = req->response;
    if (proto_array_alloc(&req->arena, &out->groups, &group_schema, in->groups.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->groups.count; i++)
        if (describe_one(req, ((const proto_string *)in->groups.items)[i].value,
                         in->include_authorized_operations,
                         (described_group *)out->groups.items + i) != 0)
            return PROTO_CLOSE;
    return PROTO_RESPOND;
}

typedef struct list_ctx {
    broker_request *req;
    list_groups_response *out;
    int32_t capacity;
    bool counting;
    bool all; /* DESCRIBE on the cluster: every group */
} list_ctx;

static void list_one(void *arg, const group *g)
{
    list_ctx *x = arg;
    if (group_current_state(g) == GROUP_DEAD)
        return;
    /* without DESCRIBE on the cluster, only the groups it may describe */
    if (!x->all && !authorize_quiet(x->req, ACL_OP_DESCRIBE, ACL_RESOURCE_GROUP, group_id(g),
                                    strlen(group_id(g))))
        return;
    if (x->counting) {
        x->capacity++;
        return;
    }
    if (x->out->groups.count >= x->capacity)
        return;
    listed_group *lg = (listed_group *)x->out->groups.items + x->out->groups.count++;
    lg->group_id = broker_request_strdup(x->req, group_id(g), NULL);
    lg->protocol_type = broker_request_strdup(x->req, group_protocol_type(g) ? group_protocol_type(g) : "", NULL);
}

static int handle_list_groups(broker_request *req)
{
    list_groups_response *out = req->response;
    list_ctx x = {.req = req, .out = out, .counting = true,
                  .all = authorize_quiet(req, ACL_OP_DESCRIBE, ACL_RESOURCE_CLUSTER,
                                         ACL_CLUSTER_NAME, sizeof ACL_CLUSTER_NAME - 1)};
    coordinator_groups_each(req->broker->coordinator, list_one, &x);
    if (proto_array_alloc(&req->arena, &out->groups, &listed_schema, x.capacity))
        return PROTO_CLOSE;
    out->groups.count = 0;
    x.counting = false;
    coordinator_groups_each(req->broker->coordinator, list_one, &x);
    return PROTO_RESPOND;
}

const proto_api api_describe_groups = {
    .key = 15,
    .name = "DescribeGroups",
    .min_version = 0,
    .max_version = 4,
    .flexible_min = 5,
    .request = &describe_request_schema,
    .response = &describe_response_schema,
    .handle = handle_describe_groups,
};

const proto_api api_list_groups = {
    .key = 16,
    .name = "ListGroups",
    .min_version = 0,
    .max_version = 2,
    .flexible_min = 3,
    .request = &list_request_schema,
    .response = &list_response_schema,
    .handle = handle_list_groups,
};
