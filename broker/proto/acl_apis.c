/*
 * acl_apis.c - DescribeAcls (29), CreateAcls (30) and DeleteAcls (31):
 * advertised v0-3, flexible from v2.
 *
 * DescribeAcls request: resource_type_filter int8, resource_name_filter
 *   nullable string, pattern_type_filter int8 (v1+, default LITERAL),
 *   principal_filter / host_filter nullable strings, operation int8,
 *   permission_type int8. Response: throttle_time_ms, error_code,
 *   error_message, resources[] {resource_type, resource_name, pattern_type
 *   (v1+), acls[] {principal, host, operation, permission_type}}.
 * CreateAcls request: creations[] {resource_type, resource_name,
 *   resource_pattern_type (v1+, default LITERAL), principal, host,
 *   operation, permission_type}. Response: throttle_time_ms, results[]
 *   {error_code, error_message}, one per creation in order.
 * DeleteAcls request: filters[] (the DescribeAcls filter fields).
 *   Response: throttle_time_ms, filter_results[] {error_code,
 *   error_message, matching_acls[] {error_code, error_message,
 *   resource_type, resource_name, pattern_type (v1+), principal, host,
 *   operation, permission_type}}.
 *
 * Errors as Kafka answers them: SECURITY_DISABLED without an authorizer
 * (authorizer.class.name empty); CLUSTER_AUTHORIZATION_FAILED when the
 * principal may not ALTER (create, delete) or DESCRIBE the cluster;
 * INVALID_REQUEST for a malformed binding or filter, with the reason in the
 * message. A change is written to the ACL file (security/acl_file.h)
 * before it is answered; when that write fails nothing changes and the
 * answer is UNKNOWN_SERVER_ERROR. Every change is audited at info level
 * with the principal, the peer and the outcome.
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/proto/acl_apis.h"

#include <stdlib.h>
#include <string.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/responder.h"
#include "common/error.h"
#include "common/log.h"
#include "security/acl.h"
#include "security/acl_file.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field describe_request_fields[] = {
    PF_I8(describe_acls_request, resource_type_filter, 0, PV_MAX, 0),
    PF_NSTR(describe_acls_request, resource_name_filter, 0, PV_MAX, 0),
    PF_I8(describe_acls_request, pattern_type_filter, 1, PV_MAX, ACL_PATTERN_LITERAL),
    PF_NSTR(describe_acls_request, principal_filter, 0, PV_MAX, 0),
    PF_NSTR(describe_acls_request, host_filter, 0, PV_MAX, 0),
    PF_I8(describe_acls_request, operation, 0, PV_MAX, 0),
    PF_I8(describe_acls_request, permission_type, 0, PV_MAX, 0),
};
static PROTO_STRUCT(describe_request_schema, describe_acls_request, describe_request_fields);

static const proto_field description_fields[] = {
    PF_STR(describe_acls_description, principal, 0, PV_MAX),
    PF_STR(describe_acls_description, host, 0, PV_MAX),
    PF_I8(describe_acls_description, operation, 0, PV_MAX, 0),
    PF_I8(describe_acls_description, permission_type, 0, PV_MAX, 0),
};
static PROTO_STRUCT(description_schema, describe_acls_description, description_fields);

static const proto_field describe_resource_fields[] = {
    PF_I8(describe_acls_resource, resource_type, 0, PV_MAX, 0),
    PF_STR(describe_acls_resource, resource_name, 0, PV_MAX),
    PF_I8(describe_acls_resource, pattern_type, 1, PV_MAX, ACL_PATTERN_LITERAL),
    PF_ARRAY(describe_acls_resource, acls, 0, PV_MAX, description_schema),
};
static PROTO_STRUCT(describe_resource_schema, describe_acls_resource, describe_resource_fields);

static const proto_field describe_response_fields[] = {
    PF_I32(describe_acls_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_I16(describe_acls_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(describe_acls_response, error_message, 0, PV_MAX, 0),
    PF_ARRAY(describe_acls_response, resources, 0, PV_MAX, describe_resource_schema),
};
static PROTO_STRUCT(describe_response_schema, describe_acls_response, describe_response_fields);

static const proto_field creation_fields[] = {
    PF_I8(create_acls_creation, resource_type, 0, PV_MAX, 0),
    PF_STR(create_acls_creation, resource_name, 0, PV_MAX),
    PF_I8(create_acls_creation, resource_pattern_type, 1, PV_MAX, ACL_PATTERN_LITERAL),
    PF_STR(create_acls_creation, principal, 0, PV_MAX),
    PF_STR(create_acls_creation, host, 0, PV_MAX),
    PF_I8(create_acls_creation, operation, 0, PV_MAX, 0),
    PF_I8(create_acls_creation, permission_type, 0, PV_MAX, 0),
};
static PROTO_STRUCT(creation_schema, create_acls_creation, creation_fields);

static const proto_field create_request_fields[] = {
    PF_ARRAY(create_acls_request, creations, 0, PV_MAX, creation_schema),
};
static PROTO_STRUCT(create_request_schema, create_acls_request, create_request_fields);

static const proto_field create_result_fields[] = {
    PF_I16(create_acls_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(create_acls_result, error_message, 0, PV_MAX, 0),
};
static PROTO_STRUCT(create_result_schema, create_acls_result, create_result_fields);

static const proto_field create_response_fields[] = {
    PF_I32(create_acls_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(create_acls_response, results, 0, PV_MAX, create_result_schema),
};
static PROTO_STRUCT(create_response_schema, create_acls_response, create_response_fields);

static const proto_field delete_filter_fields[] = {
    PF_I8(delete_acls_filter, resource_type_filter, 0, PV_MAX, 0),
    PF_NSTR(delete_acls_filter, resource_name_filter, 0, PV_MAX, 0),
    PF_I8(delete_acls_filter, pattern_type_filter, 1, PV_MAX, ACL_PATTERN_LITERAL),
    PF_NSTR(delete_acls_filter, principal_filter, 0, PV_MAX, 0),
    PF_NSTR(delete_acls_filter, host_filter, 0, PV_MAX, 0),
    PF_I8(delete_acls_filter, operation, 0, PV_MAX, 0),
    PF_I8(delete_acls_filter, permission_type, 0, PV_MAX, 0),
};
static PROTO_STRUCT(delete_filter_schema, delete_acls_filter, delete_filter_fields);

static const proto_field delete_request_fields[] = {
    PF_ARRAY(delete_acls_request, filters, 0, PV_MAX, delete_filter_schema),
};
static PROTO_STRUCT(delete_request_schema, delete_acls_request, delete_request_fields);

static const proto_field matching_fields[] = {
    PF_I16(delete_acls_matching_acl, error_code, 0, PV_MAX, 0),
    PF_NSTR(delete_acls_matching_acl, error_message, 0, PV_MAX, 0),
    PF_I8(delete_acls_matching_acl, resource_type, 0, PV_MAX, 0),
    PF_STR(delete_acls_matching_acl, resource_name, 0, PV_MAX),
    PF_I8(delete_acls_matching_acl, pattern_type, 1, PV_MAX, ACL_PATTERN_LITERAL),
    PF_STR(delete_acls_matching_acl, principal, 0, PV_MAX),
    PF_STR(delete_acls_matching_acl, host, 0, PV_MAX),
    PF_I8(delete_acls_matching_acl, operation, 0, PV_MAX, 0),
    PF_I8(delete_acls_matching_acl, permission_type, 0, PV_MAX, 0),
};
static PROTO_STRUCT(matching_schema, delete_acls_matching_acl, matching_fields);

static const proto_field filter_result_fields[] = {
    PF_I16(delete_acls_filter_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(delete_acls_filter_result, error_message, 0, PV_MAX, 0),
    PF_ARRAY(delete_acls_filter_result, matching_acls, 0, PV_MAX, matching_schema),
};
static PROTO_STRUCT(filter_result_schema, delete_acls_filter_result, filter_result_fields);

static const proto_field delete_response_fields[] = {
    PF_I32(delete_acls_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(delete_acls_response, filter_results, 0, PV_MAX, filter_result_schema),
};
static PROTO_STRUCT(delete_response_schema, delete_acls_response, delete_response_fields);

/* ---- shared ---------------------------------------------------------------- */

#define NO_AUTHORIZER_MESSAGE "no authorizer is configured (authorizer.class.name is empty)"

static const char *peer_of(const broker_request *req)
{
    return req->responder ? req->responder->peer : "-";
}

/* Kafka answers USER resources only from v3. */
static bool resource_type_in_version(const broker_request *req, int8_t type)
{
    return type != ACL_RESOURCE_USER || req->api_version >= 3;
}

/* 0 with the request's check of the cluster passed; else the error code
 * (SECURITY_DISABLED or CLUSTER_AUTHORIZATION_FAILED) and *message. */
static int16_t gate(broker_request *req, int8_t operation, proto_str *message)
{
    if (!authorize_enabled(req)) {
        *message = admin_message(req, NO_AUTHORIZER_MESSAGE);
        return KERR_SECURITY_DISABLED;
    }
    if (!authorize_cluster(req, operation)) {
        *message = admin_message(req, "principal %s may not %s the cluster",
                                 authorize_principal(req), acl_operation_name(operation));
        if (operation == ACL_OP_ALTER) /* a change refused; listing is not a change */
            log_info("audit", "acl change refused principal=%s peer=%s api=%s "
                     "outcome=CLUSTER_AUTHORIZATION_FAILED", authorize_principal(req),
                     peer_of(req), req->api->name);
        return KERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    return KERR_NONE;
}

/* A filter's nullable string as NUL-terminated text: *out NULL for null.
 * False when it is too long for an ACL or holds a NUL byte. */
static bool filter_text(broker_request *req, proto_str s, size_t max_len, const char **out)
{
    *out = NULL;
    if (s.len < 0)
        return true;
    *out = admin_cstr(req, s, max_len - 1);
    return *out != NULL;
}

/* The filter of DescribeAcls / DeleteAcls (same fields). 0, or
 * INVALID_REQUEST with *message. */
static int16_t build_filter(broker_request *req, int8_t type, proto_str name, int8_t pattern,
                            proto_str principal, proto_str host, int8_t operation,
                            int8_t permission, acl_filter *f, proto_str *message)
{
    *f = (acl_filter){.resource_type = type, .pattern_type = pattern, .operation = operation,
                      .permission = permission};
    char why[256];
    if (!filter_text(req, name, ACL_RESOURCE_NAME_MAX, &f->resource_name) ||
        !filter_text(req, principal, ACL_PRINCIPAL_MAX, &f->principal) ||
        !filter_text(req, host, ACL_HOST_MAX, &f->host)) {
        *message = admin_message(req, "a filter string is too long or holds a NUL byte");
        return KERR_INVALID_REQUEST;
    }
    if (acl_filter_check(f, why, sizeof why) != 0) {
        *message = admin_message(req, "%s", why);
        return KERR_INVALID_REQUEST;
    }
    if (!resource_type_in_version(req, type)) {
        *message = admin_message(req, "resource type USER needs version 3 or later");
        return KERR_INVALID_REQUEST;
    }
    return KERR_NONE;
}

static void audit_binding(const broker_request *req, const char *change, const acl_binding *b,
                          const char *outcome)
{
    log_info("audit", "acl %s principal=%s peer=%s binding=(%s %s:%s:%s %s from %s %s) outcome=%s",
             change, authorize_principal(req), peer_of(req), acl_permission_name(b->permission),
             acl_resource_type_name(b->resource_type), acl_pattern_type_name(b->pattern_type),
             b->resource_name, b->principal, b->host, acl_operation_name(b->operation), outcome);
}

/* The filter that matches exactly binding b (to take it back out). */
static acl_filter exact_filter(const acl_binding *b)
{
    return (acl_filter){.resource_type = b->resource_type, .pattern_type = b->pattern_type,
                        .operation = b->operation, .permission = b->permission,
                        .resource_name = b->resource_name, .principal = b->principal,
                        .host = b->host};
}

/* ---- DescribeAcls ---------------------------------------------------------- */

static int describe_acls_handle(broker_request *req)
{
    const describe_acls_request *rq = req->request;
    describe_acls_response *rs = req->response;
    rs->throttle_time_ms = 0;
    rs->error_message = proto_str_null();
    rs->resources = (proto_array){NULL, 0};
    rs->error_code = gate(req, ACL_OP_DESCRIBE, &rs->error_message);
    if (rs->error_code != KERR_NONE)
        return PROTO_RESPOND;
    acl_filter f;
    rs->error_code = build_filter(req, rq->resource_type_filter, rq->resource_name_filter,
                                  rq->pattern_type_filter, rq->principal_filter, rq->host_filter,
                                  rq->operation, rq->permission_type, &f, &rs->error_message);
    if (rs->error_code != KERR_NONE)
        return PROTO_RESPOND;
    const acl_store *store = req->broker->acls;
    size_t n = acl_store_count(store);
    /* group the matches by resource (type, name, pattern), in store order */
    int32_t *owner = proto_arena_alloc(&req->arena, (n ? n : 1) * sizeof *owner);
    int32_t *first = proto_arena_alloc(&req->arena, (n ? n : 1) * sizeof *first);
    int32_t *members = proto_arena_alloc(&req->arena, (n ? n : 1) * sizeof *members);
    if (!owner || !first || !members)
        return PROTO_CLOSE;
    int32_t resources = 0;
    for (size_t i = 0; i < n; i++) {
        const acl_binding *b = acl_store_get(store, i);
        owner[i] = -1;
        if (!acl_filter_matches(&f, b) || !resource_type_in_version(req, b->resource_type))
            continue;
        int32_t r = 0;
        for (; r < resources; r++) {
            const acl_binding *o = acl_store_get(store, (size_t)first[r]);
            if (o->resource_type == b->resource_type && o->pattern_type == b->pattern_type &&
                strcmp(o->resource_name, b->resource_name) == 0)
                break;
        }
        if (r == resources) {
            first[resources] = (int32_t)i;
            members[resources] = 0;
            resources++;
        }
        owner[i] = r;
        members[r]++;
    }
    if (!admin_array(req, &rs->resources, &describe_resource_schema, resources))
        return PROTO_CLOSE;
    describe_acls_resource *out = rs->resources.items;
    for (int32_t r = 0; r < resources; r++) {
        const acl_binding *b = acl_store_get(store, (size_t)first[r]);
        out[r].resource_type = b->resource_type;
        out[r].resource_name = proto_str_c(b->resource_name);
        out[r].pattern_type = b->pattern_type;
        if (!admin_array(req, &out[r].acls, &description_schema, members[r]))
            return PROTO_CLOSE;
        out[r].acls.count = 0; /* filled below */
    }
    for (size_t i = 0; i < n; i++) {
        if (owner[i] < 0)
            continue;
        const acl_binding *b = acl_store_get(store, i);
        describe_acls_resource *r = &out[owner[i]];
        describe_acls_description *d = (describe_acls_description *)r->acls.items + r->acls.count++;
        /* the store is not changed before the response is encoded: this
         * request is answered before the loop runs anything else */
        d->principal = proto_str_c(b->principal);
        d->host = proto_str_c(b->host);
        d->operation = b->operation;
        d->permission_type = b->permission;
    }
    return PROTO_RESPOND;
}

/* ---- CreateAcls ------------------------------------------------------------ */

/* The binding of one creation; 0 or INVALID_REQUEST with *message. */
static int16_t build_binding(broker_request *req, const create_acls_creation *c, acl_binding *b,
                             proto_str *message)
{
    memset(b, 0, sizeof *b);
    b->resource_type = c->resource_type;
    b->pattern_type = c->resource_pattern_type;
    b->operation = c->operation;
    b->permission = c->permission_type;
    char why[256];
    if (!proto_str_copy(c->resource_name, b->resource_name, sizeof b->resource_name) ||
        !proto_str_copy(c->principal, b->principal, sizeof b->principal) ||
        !proto_str_copy(c->host, b->host, sizeof b->host) ||
        strlen(b->resource_name) != (size_t)c->resource_name.len ||
        strlen(b->principal) != (size_t)c->principal.len ||
        strlen(b->host) != (size_t)c->host.len) {
        *message = admin_message(req, "resource name, principal or host too long or holds a NUL "
                                      "byte (limits %d, %d, %d bytes)",
                                 ACL_RESOURCE_NAME_MAX - 1, ACL_PRINCIPAL_MAX - 1,
                                 ACL_HOST_MAX - 1);
        return KERR_INVALID_REQUEST;
    }
    if (acl_binding_check(b, why, sizeof why) != 0) {
        *message = admin_message(req, "%s", why);
        return KERR_INVALID_REQUEST;
    }
    if (!resource_type_in_version(req, b->resource_type)) {
        *message = admin_message(req, "resource type USER needs version 3 or later");
        return KERR_INVALID_REQUEST;
    }
    return KERR_NONE;
}

static int create_acls_handle(broker_request *req)
{
    const create_acls_request *rq = req->request;
    create_acls_response *rs = req->response;
    rs->throttle_time_ms = 0;
    int32_t count = rq->creations.count > 0 ? rq->creations.count : 0;
    if (!admin_array(req, &rs->results, &create_result_schema, count))
        return PROTO_CLOSE;
    create_acls_result *out = rs->results.items;
    proto_str denied = proto_str_null();
    int16_t gated = gate(req, ACL_OP_ALTER, &denied);
    if (gated != KERR_NONE) {
        for (int32_t i = 0; i < count; i++) {
            out[i].error_code = gated;
            out[i].error_message = denied;
        }
        return PROTO_RESPOND;
    }
    acl_store *store = req->broker->acls;
    /* bindings added by this request (not already present), to take back
     * out when the file cannot be written */
    acl_binding *added = calloc((size_t)(count ? count : 1), sizeof *added);
    if (!added)
        return PROTO_CLOSE;
    int32_t added_count = 0;
    for (int32_t i = 0; i < count; i++) {
        const create_acls_creation *c = (const create_acls_creation *)rq->creations.items + i;
        acl_binding b;
        out[i].error_message = proto_str_null();
        out[i].error_code = build_binding(req, c, &b, &out[i].error_message);
        if (out[i].error_code != KERR_NONE) {
            log_info("audit", "acl create refused principal=%s peer=%s outcome=INVALID_REQUEST "
                     "reason=%.*s", authorize_principal(req), peer_of(req),
                     ADMIN_STR_ARGS(out[i].error_message));
            continue;
        }
        size_t before = acl_store_count(store);
        char why[256] = "";
        int rc = acl_store_add(store, &b, why, sizeof why);
        if (rc != 0) {
            out[i].error_code = rc == ST_EINVAL ? KERR_INVALID_REQUEST : KERR_UNKNOWN_SERVER_ERROR;
            out[i].error_message = admin_message(req, "%s", why);
            audit_binding(req, "create", &b, "refused");
            continue;
        }
        if (acl_store_count(store) > before)
            added[added_count++] = b;
        else
            audit_binding(req, "create", &b, "ok (already present)");
    }
    if (added_count > 0) {
        int rc = acl_file_save(store, topic_registry_data_dir(req->broker->topics));
        if (rc != 0) {
            for (int32_t k = 0; k < added_count; k++) {
                acl_filter f = exact_filter(&added[k]);
                acl_store_remove(store, &f, NULL, NULL);
                audit_binding(req, "create", &added[k], "failed: the ACL file was not written");
            }
            for (int32_t i = 0; i < count; i++) {
                if (out[i].error_code != KERR_NONE)
                    continue;
                out[i].error_code = KERR_UNKNOWN_SERVER_ERROR;
                out[i].error_message = admin_message(req, "cannot write the ACL file: %s",
                                                     strait_strerror(rc));
            }
        } else {
            for (int32_t k = 0; k < added_count; k++)
                audit_binding(req, "create", &added[k], "ok");
        }
    }
    free(added);
    return PROTO_RESPOND;
}

/* ---- DeleteAcls ------------------------------------------------------------ */

/* Collects the bindings one filter removes: copies into a growing array. */
typedef struct removed_list {
    acl_binding *items;
    size_t count, capacity;
    bool failed;
} removed_list;

static void collect_removed(void *arg, const acl_binding *b)
{
    removed_list *l = arg;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 8;
        acl_binding *grown = realloc(l->items, capacity * sizeof *grown);
        if (!grown) {
            l->failed = true;
            return;
        }
        l->items = grown;
        l->capacity = capacity;
    }
    l->items[l->count++] = *b;
}

static bool fill_matching(broker_request *req, delete_acls_filter_result *r,
                          const acl_binding *items, size_t count)
{
    if (!admin_array(req, &r->matching_acls, &matching_schema, (int32_t)count))
        return false;
    delete_acls_matching_acl *m = r->matching_acls.items;
    bool failed = false;
    for (size_t i = 0; i < count; i++) {
        const acl_binding *b = &items[i];
        m[i].error_code = KERR_NONE;
        m[i].error_message = proto_str_null();
        m[i].resource_type = b->resource_type;
        m[i].resource_name = broker_request_strdup(req, b->resource_name, &failed);
        m[i].pattern_type = b->pattern_type;
        m[i].principal = broker_request_strdup(req, b->principal, &failed);
        m[i].host = broker_request_strdup(req, b->host, &failed);
        m[i].operation = b->operation;
        m[i].permission_type = b->permission;
    }
    return !failed;
}

static int delete_acls_handle(broker_request *req)
{
    const delete_acls_request *rq = req->request;
    delete_acls_response *rs = req->response;
    rs->throttle_time_ms = 0;
    int32_t count = rq->filters.count > 0 ? rq->filters.count : 0;
    if (!admin_array(req, &rs->filter_results, &filter_result_schema, count))
        return PROTO_CLOSE;
    delete_acls_filter_result *out = rs->filter_results.items;
    proto_str denied = proto_str_null();
    int16_t gated = gate(req, ACL_OP_ALTER, &denied);
    for (int32_t i = 0; i < count; i++) {
        out[i].error_code = gated;
        out[i].error_message = gated != KERR_NONE ? denied : proto_str_null();
        out[i].matching_acls = (proto_array){NULL, 0};
    }
    if (gated != KERR_NONE)
        return PROTO_RESPOND;
    acl_store *store = req->broker->acls;
    /* every filter's removals, kept to put back when the file cannot be written */
    removed_list all = {0};
    size_t *ends = calloc((size_t)(count ? count : 1), sizeof *ends);
    if (!ends)
        return PROTO_CLOSE;
    for (int32_t i = 0; i < count; i++) {
        const delete_acls_filter *in = (const delete_acls_filter *)rq->filters.items + i;
        acl_filter f;
        out[i].error_code =
            build_filter(req, in->resource_type_filter, in->resource_name_filter,
                         in->pattern_type_filter, in->principal_filter, in->host_filter,
                         in->operation, in->permission_type, &f, &out[i].error_message);
        if (out[i].error_code == KERR_NONE)
            acl_store_remove(store, &f, collect_removed, &all);
        else
            log_info("audit", "acl delete refused principal=%s peer=%s outcome=INVALID_REQUEST "
                     "reason=%.*s", authorize_principal(req), peer_of(req),
                     ADMIN_STR_ARGS(out[i].error_message));
        ends[i] = all.count;
    }
    int rc = all.failed ? ST_ENOMEM : 0;
    if (rc == 0 && all.count > 0)
        rc = acl_file_save(store, topic_registry_data_dir(req->broker->topics));
    int result = PROTO_RESPOND;
    if (rc != 0) {
        char why[256];
        for (size_t k = 0; k < all.count; k++) {
            acl_store_add(store, &all.items[k], why, sizeof why); /* was in the store: fits */
            audit_binding(req, "delete", &all.items[k], "failed: the ACL file was not written");
        }
        for (int32_t i = 0; i < count; i++) {
            if (out[i].error_code != KERR_NONE)
                continue;
            out[i].error_code = KERR_UNKNOWN_SERVER_ERROR;
            out[i].error_message = admin_message(req, "cannot write the ACL file: %s",
                                                 strait_strerror(rc));
        }
    } else {
        size_t start = 0;
        for (int32_t i = 0; i < count; i++) {
            for (size_t k = start; k < ends[i]; k++)
                audit_binding(req, "delete", &all.items[k], "ok");
            if (!fill_matching(req, &out[i], all.items + start, ends[i] - start))
                result = PROTO_CLOSE;
            start = ends[i];
        }
    }
    free(all.items);
    free(ends);
    return result;
}

const proto_api api_describe_acls = {
    .key = 29,
    .name = "DescribeAcls",
    .min_version = 0,
    .max_version = 3,
    .flexible_min = 2,
    .request = &describe_request_schema,
    .response = &describe_response_schema,
    .handle = describe_acls_handle,
};

const proto_api api_create_acls = {
    .key = 30,
    .name = "CreateAcls",
    .min_version = 0,
    .max_version = 3,
    .flexible_min = 2,
    .request = &create_request_schema,
    .response = &create_response_schema,
    .handle = create_acls_handle,
};

const proto_api api_delete_acls = {
    .key = 31,
    .name = "DeleteAcls",
    .min_version = 0,
    .max_version = 3,
    .flexible_min = 2,
    .request = &delete_request_schema,
    .response = &delete_response_schema,
    .handle = delete_acls_handle,
};
