/*
 * alter_configs.c - AlterConfigs (key 33, advertised v0-1, flexible from v2)
 * and IncrementalAlterConfigs (key 44, advertised v0, flexible from v1).
 *
 * AlterConfigs request:
 *   FIELD               VERSIONS  TYPE
 *   resources[]         0+
 *     resource_type     0+        int8: 2 topic, 4 broker
 *     resource_name     0+        string
 *     configs[]         0+        name string, value nullable string
 *   validate_only       0+        bool
 * IncrementalAlterConfigs request: the same, with configs[] of
 *     name              0+        string
 *     config_operation  0+        int8: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
 *     value             0+        nullable string
 * Response (both):
 *   throttle_time_ms    0+        int32
 *   responses[]         0+        error_code int16, error_message nullable
 *                                 string, resource_type int8, resource_name string
 *
 * AlterConfigs replaces all overrides of a topic with the given set (a null
 * value leaves that key at its default); IncrementalAlterConfigs edits them.
 * Every change of one resource is validated before any is applied, and
 * validate_only applies none: a bad config answers INVALID_CONFIG with a
 * message naming the key and the reason, and the topic is unchanged.
 * Other answers: unknown topic UNKNOWN_TOPIC_OR_PARTITION; a resource listed
 * twice, a key given twice, an unknown operation, a missing value or another
 * resource type: INVALID_REQUEST.
 *
 * Broker resources (type 4), named "" (the cluster-wide default) or this
 * node's id, take only the region state keys strait.region.* and
 * strait.redirect.* (cluster/region_state.h): the failover role the sidecar
 * sets. AlterConfigs replaces the whole set (keys not given are removed),
 * IncrementalAlterConfigs edits it with SET and DELETE. Bad values and broken
 * rules (role without epoch, standby without brokers, an epoch older than
 * the stored one) answer INVALID_CONFIG naming the key and the reason; any
 * other key, APPEND/SUBTRACT, or another node's id answer INVALID_REQUEST.
 * All keys of a resource apply together or not at all, persisted before the
 * answer. Every change of the stored region state (a lease renewal that
 * changes no key is none) and every refusal is an `audit:` line with the
 * principal and the peer address (docs/security.md, "Audit").
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker/cluster/region_epochs.h"
#include "broker/cluster/region_state.h"
#include "broker/group/coordinator.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/responder.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field entry_fields[] = {
    PF_STR(alter_configs_entry, name, 0, PV_MAX),
    PF_NSTR(alter_configs_entry, value, 0, PV_MAX, 0),
};
static PROTO_STRUCT(entry_schema, alter_configs_entry, entry_fields);

static const proto_field resource_fields[] = {
    PF_I8(alter_configs_resource, resource_type, 0, PV_MAX, 0),
    PF_STR(alter_configs_resource, resource_name, 0, PV_MAX),
    PF_ARRAY(alter_configs_resource, configs, 0, PV_MAX, entry_schema),
};
static PROTO_STRUCT(resource_schema, alter_configs_resource, resource_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(alter_configs_request, resources, 0, PV_MAX, resource_schema),
    PF_BOOL(alter_configs_request, validate_only, 0, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, alter_configs_request, request_fields);

static const proto_field incremental_entry_fields[] = {
    PF_STR(incremental_alter_configs_entry, name, 0, PV_MAX),
    PF_I8(incremental_alter_configs_entry, config_operation, 0, PV_MAX, 0),
    PF_NSTR(incremental_alter_configs_entry, value, 0, PV_MAX, 0),
};
static PROTO_STRUCT(incremental_entry_schema, incremental_alter_configs_entry,
                    incremental_entry_fields);

static const proto_field incremental_resource_fields[] = {
    PF_I8(incremental_alter_configs_resource, resource_type, 0, PV_MAX, 0),
    PF_STR(incremental_alter_configs_resource, resource_name, 0, PV_MAX),
    PF_ARRAY(incremental_alter_configs_resource, configs, 0, PV_MAX, incremental_entry_schema),
};
static PROTO_STRUCT(incremental_resource_schema, incremental_alter_configs_resource,
                    incremental_resource_fields);

static const proto_field incremental_request_fields[] = {
    PF_ARRAY(incremental_alter_configs_request, resources, 0, PV_MAX,
             incremental_resource_schema),
    PF_BOOL(incremental_alter_configs_request, validate_only, 0, PV_MAX, 0),
};
static PROTO_STRUCT(incremental_request_schema, incremental_alter_configs_request,
                    incremental_request_fields);

static const proto_field resource_response_fields[] = {
    PF_I16(alter_configs_resource_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(alter_configs_resource_response, error_message, 0, PV_MAX, 0),
    PF_I8(alter_configs_resource_response, resource_type, 0, PV_MAX, 0),
    PF_STR(alter_configs_resource_response, resource_name, 0, PV_MAX),
};
static PROTO_STRUCT(resource_response_schema, alter_configs_resource_response,
                    resource_response_fields);

static const proto_field response_fields[] = {
    PF_I32(alter_configs_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(alter_configs_response, responses, 0, PV_MAX, resource_response_schema),
};
static PROTO_STRUCT(response_schema, alter_configs_response, response_fields);

/* ---- handler (both APIs) -------------------------------------------------- */

/* One resource of either request, seen through the same lens: configs
 * items are alter_configs_entry (ops NULL) or incremental_alter_configs_entry. */
typedef struct alter_input {
    int8_t resource_type;
    proto_str resource_name;
    bool incremental;
    const proto_array *configs;
} alter_input;

static void set_error(broker_request *req, alter_configs_resource_response *out, int16_t code,
                      const char *text)
{
    out->error_code = code;
    out->error_message = admin_message(req, "%s", text);
}

static int16_t error_for(int rc)
{
    switch (rc) {
    case ST_ECONFIG: return KERR_INVALID_CONFIG;
    case ST_EINVAL: return KERR_INVALID_REQUEST;
    default: return KERR_UNKNOWN_SERVER_ERROR;
    }
}

/* The entries of one resource as NUL-terminated arrays in the arena (ops[i]
 * is SET for AlterConfigs). False with out's error set when a name or value
 * is too long or not text, or the arena is exhausted. */
static bool collect_entries(broker_request *req, const alter_input *in, const char ***keys_out,
                            const char ***values_out, int8_t **ops_out, int32_t *count_out,
                            alter_configs_resource_response *out)
{
    int32_t n = in->configs->count > 0 ? in->configs->count : 0;
    const char **keys = proto_arena_alloc(&req->arena, (size_t)(n ? n : 1) * sizeof(char *));
    const char **values = proto_arena_alloc(&req->arena, (size_t)(n ? n : 1) * sizeof(char *));
    int8_t *ops = proto_arena_alloc(&req->arena, (size_t)(n ? n : 1));
    if (!keys || !values || !ops) {
        set_error(req, out, KERR_UNKNOWN_SERVER_ERROR, "request too large");
        return false;
    }
    for (int32_t i = 0; i < n; i++) {
        proto_str name, value;
        if (in->incremental) {
            const incremental_alter_configs_entry *e =
                (const incremental_alter_configs_entry *)in->configs->items + i;
            name = e->name;
            value = e->value;
            ops[i] = e->config_operation;
        } else {
            const alter_configs_entry *e = (const alter_configs_entry *)in->configs->items + i;
            name = e->name;
            value = e->value;
            ops[i] = ADMIN_CONFIG_OP_SET;
        }
        keys[i] = admin_cstr(req, name, LIMIT_CONFIG_VALUE_LENGTH);
        values[i] = value.len < 0 ? NULL : admin_cstr(req, value, LIMIT_CONFIG_VALUE_LENGTH);
        if (!keys[i] || (value.len >= 0 && !values[i])) {
            out->error_code = KERR_INVALID_CONFIG;
            out->error_message =
                admin_message(req, "config '%.*s': name or value too long or not text",
                              ADMIN_STR_ARGS(name));
            return false;
        }
    }
    *keys_out = keys;
    *values_out = values;
    *ops_out = ops;
    *count_out = n;
    return true;
}

static void alter_topic(broker_request *req, const alter_input *in, topic *t, bool validate_only,
                        alter_configs_resource_response *out)
{
    const char **keys, **values;
    int8_t *ops;
    int32_t n;
    if (!collect_entries(req, in, &keys, &values, &ops, &n, out))
        return;
    char err[ADMIN_ERROR_MESSAGE_BYTES];
    err[0] = '\0';
    int rc = topic_registry_alter_config(req->broker->topics, t, in->incremental, keys, values,
                                         in->incremental ? ops : NULL, n, validate_only, err,
                                         sizeof err);
    if (rc != 0)
        set_error(req, out, error_for(rc), err);
}

/* A broker resource: "" (every broker: the cluster-wide default) or this
 * node's id; the only dynamic broker configs are the region state keys
 * (cluster/region_state.h). Becoming active raises the leader epochs of the
 * redirected topics to the region epoch (cluster/region_epochs.h). */
static const char *peer_of(const broker_request *req)
{
    return req->responder ? req->responder->peer : "-";
}

/* The stored region keys as one text, to tell a change from a renewal. */
typedef struct region_text {
    char text[16384];
    size_t used;
} region_text;

static void append_region_key(void *arg, const char *key, const char *value)
{
    region_text *t = arg;
    if (t->used < sizeof t->text) {
        int n = snprintf(t->text + t->used, sizeof t->text - t->used, "%s=%s\n", key, value);
        t->used += n > 0 ? (size_t)n : 0;
    }
}

static bool group_matches_region(void *arg, const char *group_id)
{
    return region_state_group_matches(arg, group_id, strlen(group_id));
}

static void alter_broker(broker_request *req, const alter_input *in, bool validate_only,
                         alter_configs_resource_response *out)
{
    broker *b = req->broker;
    if (!admin_broker_name_ok(in->resource_name, b->config.node_id)) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = admin_message(req, "unexpected broker id '%.*s': this is node %d "
                                                "(use its id or \"\" for the cluster default)",
                                           ADMIN_STR_ARGS(in->resource_name),
                                           (int)b->config.node_id);
        return;
    }
    /* the broker's dynamic configs are the region state: the sidecar's
     * (ALTER_CONFIGS and CLUSTER_ACTION on the cluster) */
    if (!authorize_cluster(req, ACL_OP_ALTER_CONFIGS) ||
        !authorize_cluster(req, ACL_OP_CLUSTER_ACTION)) {
        set_error(req, out, KERR_CLUSTER_AUTHORIZATION_FAILED,
                  "the region state keys need ALTER_CONFIGS and CLUSTER_ACTION on the cluster");
        log_info("audit", "region state change refused principal=%s peer=%s api=%s "
                 "outcome=CLUSTER_AUTHORIZATION_FAILED", authorize_principal(req), peer_of(req),
                 req->api->name);
        return;
    }
    if (!b->region) {
        set_error(req, out, KERR_UNKNOWN_SERVER_ERROR, "region state is not loaded");
        return;
    }
    const char **keys, **values;
    int8_t *ops;
    int32_t n;
    if (!collect_entries(req, in, &keys, &values, &ops, &n, out))
        return;
    char err[ADMIN_ERROR_MESSAGE_BYTES];
    err[0] = '\0';
    /* stored roles, not effective ones: a lease that lapsed or is renewed
     * is no handover (region_redirect.h) */
    enum region_role before = region_state_role(b->region);
    int32_t epoch_before = region_state_epoch(b->region);
    char active_before[LIMIT_REGION_NAME_LENGTH + 1];
    snprintf(active_before, sizeof active_before, "%s", region_state_active_region(b->region));
    region_text text_before = {.used = 0}, text_after = {.used = 0};
    region_state_each(b->region, append_region_key, &text_before);
    int rc = region_state_apply(b->region, keys, values, in->incremental ? ops : NULL, n,
                                !in->incremental, validate_only, err, sizeof err);
    if (rc != 0) {
        set_error(req, out, error_for(rc), err);
        if (!validate_only)
            log_info("audit", "region state change refused principal=%s peer=%s api=%s "
                     "outcome=%s reason=%s", authorize_principal(req), peer_of(req),
                     req->api->name, kafka_error_name(error_for(rc)), err);
        return;
    }
    if (validate_only)
        return;
    region_state_each(b->region, append_region_key, &text_after);
    if (strcmp(text_before.text, text_after.text) != 0) /* a lease renewal is no change */
        log_info("audit", "region state change principal=%s peer=%s api=%s role=%s->%s "
                 "epoch=%d->%d active=%s outcome=ok", authorize_principal(req), peer_of(req),
                 req->api->name, region_role_name(before),
                 region_role_name(region_state_role(b->region)), (int)epoch_before,
                 (int)region_state_epoch(b->region),
                 region_state_active_region(b->region)[0] ? region_state_active_region(b->region)
                                                          : "-");
    region_epochs_raise_all(b->region, b->topics); /* failures are logged there */
    enum region_role after = region_state_role(b->region);
    /* members of redirected groups belong to the other region once this one
     * is a standby, and a region taking over from a standby role must not
     * wait for members it had before (they rejoin with new ids) */
    bool handover = (after == REGION_ROLE_STANDBY && before != REGION_ROLE_STANDBY &&
                     before != REGION_ROLE_NONE) ||
                    (before == REGION_ROLE_STANDBY &&
                     (after == REGION_ROLE_PROMOTING || after == REGION_ROLE_ACTIVE));
    if (handover && b->coordinator) {
        coordinator_evict_members(b->coordinator, group_matches_region, b->region);
        /* a planned switchover: members come over from the old active region
         * with their ids and commits in hand (coordinator_adopt.c) */
        coordinator_adoption_open(b->coordinator, before == REGION_ROLE_STANDBY &&
                                                      after == REGION_ROLE_PROMOTING);
    }
    /* an unplanned failover (manual or automatic; from standby, or from
     * fenced, as after a switchover cut short): this region takes the
     * active role from another one without promoting. Its members rejoin before
     * they read here (coordinator_rejoin.c); any other handover ends that. */
    bool takeover = after == REGION_ROLE_ACTIVE && before != REGION_ROLE_PROMOTING &&
                    before != REGION_ROLE_ACTIVE && before != REGION_ROLE_NONE &&
                    strcmp(active_before, region_state_active_region(b->region)) != 0;
    if ((handover || takeover) && b->coordinator)
        coordinator_rejoin_hold_open(b->coordinator, takeover, group_matches_region, b->region);
}

static void alter_one(broker_request *req, const alter_input *in, bool duplicate,
                      bool validate_only, alter_configs_resource_response *out)
{
    broker *b = req->broker;
    out->resource_type = in->resource_type;
    out->resource_name = in->resource_name;
    out->error_code = KERR_NONE;
    out->error_message = proto_str_null();
    if (duplicate) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = admin_message(req, "resource '%.*s' is listed more than once",
                                           ADMIN_STR_ARGS(in->resource_name));
        return;
    }
    if (in->resource_type == ADMIN_RESOURCE_BROKER) {
        alter_broker(req, in, validate_only, out);
        return;
    }
    if (in->resource_type == ADMIN_RESOURCE_TOPIC &&
        !authorize_str(req, ACL_OP_ALTER_CONFIGS, ACL_RESOURCE_TOPIC, in->resource_name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        out->error_message = admin_message(req, "not authorized to alter the configs of topic "
                                                "'%.*s'", ADMIN_STR_ARGS(in->resource_name));
        return;
    }
    if (in->resource_type != ADMIN_RESOURCE_TOPIC) {
        out->error_code = KERR_INVALID_REQUEST;
        out->error_message = admin_message(req, "unsupported resource type %d: strait alters "
                                                "topic (2) and broker (4) configs",
                                           (int)in->resource_type);
        return;
    }
    topic *t = in->resource_name.len > 0
                   ? topic_registry_find(b->topics, in->resource_name.ptr,
                                         (size_t)in->resource_name.len)
                   : NULL;
    if (!t) {
        out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message = admin_message(req, "topic '%.*s' does not exist",
                                           ADMIN_STR_ARGS(in->resource_name));
        return;
    }
    alter_topic(req, in, t, validate_only, out);
}

/* Both requests: resources (count items of stride bytes; the type, name and
 * configs fields at the given offsets). Resources are told apart by type and
 * name, so two with the same name and different types are not duplicates. */
static int alter_all(broker_request *req, const void *items, int32_t count, size_t stride,
                     bool incremental, bool validate_only)
{
    alter_configs_response *rs = req->response;
    rs->throttle_time_ms = 0;
    if (count < 0)
        count = 0;
    size_t name_offset = incremental ? offsetof(incremental_alter_configs_resource, resource_name)
                                     : offsetof(alter_configs_resource, resource_name);
    long type_offset = incremental
                           ? (long)offsetof(incremental_alter_configs_resource, resource_type)
                           : (long)offsetof(alter_configs_resource, resource_type);
    bool *duplicate = admin_duplicates(req, items, count, stride, name_offset, type_offset);
    if (!duplicate || !admin_array(req, &rs->responses, &resource_response_schema, count))
        return PROTO_CLOSE;
    alter_configs_resource_response *out = rs->responses.items;
    for (int32_t i = 0; i < count; i++) {
        alter_input in = {.incremental = incremental};
        if (incremental) {
            const incremental_alter_configs_resource *r =
                (const incremental_alter_configs_resource *)items + i;
            in.resource_type = r->resource_type;
            in.resource_name = r->resource_name;
            in.configs = &r->configs;
        } else {
            const alter_configs_resource *r = (const alter_configs_resource *)items + i;
            in.resource_type = r->resource_type;
            in.resource_name = r->resource_name;
            in.configs = &r->configs;
        }
        alter_one(req, &in, duplicate[i], validate_only, &out[i]);
    }
    return PROTO_RESPOND;
}

static int alter_configs_handle(broker_request *req)
{
    const alter_configs_request *rq = req->request;
    return alter_all(req, rq->resources.items, rq->resources.count,
                     sizeof(alter_configs_resource), false, rq->validate_only);
}

static int incremental_alter_configs_handle(broker_request *req)
{
    const incremental_alter_configs_request *rq = req->request;
    return alter_all(req, rq->resources.items, rq->resources.count,
                     sizeof(incremental_alter_configs_resource), true, rq->validate_only);
}

const proto_api api_alter_configs = {
    .key = 33,
    .name = "AlterConfigs",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = 2,
    .request = &request_schema,
    .response = &response_schema,
    .handle = alter_configs_handle,
};

const proto_api api_incremental_alter_configs = {
    .key = 44,
    .name = "IncrementalAlterConfigs",
    .min_version = 0,
    .max_version = 0,
    .flexible_min = 1,
    .request = &incremental_request_schema,
    .response = &response_schema,
    .handle = incremental_alter_configs_handle,
};
