/*
 * authorize.c - the request-side authorizer (authorize.h): the connection's
 * principal and host, the broker's ACL store and authorizer configuration,
 * and the denial log line.
 */
#include "broker/proto/authorize.h"

#include <string.h>

#include "broker/cluster/region_state.h"

#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"
#include "broker/proto/responder.h"
#include "common/log.h"
#include "security/acl.h"

bool authorize_enabled(const broker_request *req)
{
    return req->broker->acls != NULL;
}

const char *authorize_principal(const broker_request *req)
{
    if (req->responder && req->responder->principal[0] != '\0')
        return req->responder->principal;
    return PROTO_PRINCIPAL_ANONYMOUS;
}

const char *authorize_host(const broker_request *req)
{
    return req->responder ? req->responder->client_host : "";
}

static bool decide(const broker_request *req, int8_t operation, int8_t resource_type,
                   const char *name, size_t len, bool log_denial)
{
    const broker *b = req->broker;
    if (!b->acls)
        return true;
    char text[ACL_RESOURCE_NAME_MAX];
    if (len >= sizeof text) {
        /* longer than any ACL's name: a truncated copy could match a literal
         * ACL of another resource, so it is denied */
        if (log_denial)
            log_debug("authorizer", "denied principal=%s peer=%s api=%s operation=%s "
                      "resource=%s reason=name of %zu bytes is longer than any ACL's",
                      authorize_principal(req), req->responder ? req->responder->peer : "-",
                      req->api ? req->api->name : "?", acl_operation_name(operation),
                      acl_resource_type_name(resource_type), len);
        return false;
    }
    memcpy(text, name, len);
    text[len] = '\0';
    acl_authorizer_config config = {
        .super_users = b->config.super_users,
        .allow_everyone_if_no_acl_found = b->config.allow_everyone_if_no_acl_found,
    };
    const char *principal = authorize_principal(req);
    acl_decision d = acl_authorize(b->acls, &config, principal, authorize_host(req), operation,
                                   resource_type, text);
    if (!d.allowed && log_denial)
        log_debug("authorizer", "denied principal=%s peer=%s api=%s operation=%s resource=%s:%s "
                  "reason=%s", principal, req->responder ? req->responder->peer : "-",
                  req->api ? req->api->name : "?", acl_operation_name(operation),
                  acl_resource_type_name(resource_type), text, d.reason ? d.reason : "");
    return d.allowed;
}

bool authorize(const broker_request *req, int8_t operation, int8_t resource_type,
               const char *name, size_t len)
{
    return decide(req, operation, resource_type, name, len, true);
}

bool authorize_quiet(const broker_request *req, int8_t operation, int8_t resource_type,
                     const char *name, size_t len)
{
    return decide(req, operation, resource_type, name, len, false);
}

bool authorize_cluster(const broker_request *req, int8_t operation)
{
    return authorize(req, operation, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                     sizeof ACL_CLUSTER_NAME - 1);
}

int32_t authorize_operations(const broker_request *req, int8_t resource_type, const char *name,
                             size_t len, int32_t candidates)
{
    if (!req->broker->acls)
        return candidates;
    int32_t allowed = 0;
    for (int op = ACL_OP_READ; op <= ACL_OP_DESCRIBE_TOKENS; op++)
        if ((candidates & (int32_t)(1u << op)) &&
            authorize_quiet(req, (int8_t)op, resource_type, name, len))
            allowed |= (int32_t)(1u << op);
    return allowed;
}

bool authorize_topic_create(const broker_request *req, const char *name, size_t len)
{
    return authorize_quiet(req, ACL_OP_CREATE, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                           sizeof ACL_CLUSTER_NAME - 1) ||
           authorize(req, ACL_OP_CREATE, ACL_RESOURCE_TOPIC, name, len);
}

bool authorize_sidecar(const broker_request *req)
{
    if (authorize_enabled(req))
        return authorize_quiet(req, ACL_OP_CLUSTER_ACTION, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                               sizeof ACL_CLUSTER_NAME - 1);
    return region_client_is_sidecar(req->client_id.ptr, req->client_id.len);
}

bool authorize_internal_write(const broker_request *req)
{
    if (authorize_enabled(req))
        return authorize_cluster(req, ACL_OP_CLUSTER_ACTION);
    return proto_str_eq(req->client_id, AUTHORIZE_ADMIN_CLIENT_ID);
}

int16_t authorize_group_error(const broker_request *req, const char *group_id, size_t len)
{
    if (!authorize(req, ACL_OP_READ, ACL_RESOURCE_GROUP, group_id, len))
        return KERR_GROUP_AUTHORIZATION_FAILED;
    return region_group_error(req, group_id, len);
}

bool authorize_idempotent_write(const broker_request *req)
{
    const acl_store *store = req->broker->acls;
    if (!store)
        return true;
    if (authorize_quiet(req, ACL_OP_IDEMPOTENT_WRITE, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                        sizeof ACL_CLUSTER_NAME - 1))
        return true;
    const char *principal = authorize_principal(req);
    for (size_t i = 0; i < acl_store_count(store); i++) {
        const acl_binding *b = acl_store_get(store, i);
        if (b->resource_type != ACL_RESOURCE_TOPIC || b->permission != ACL_PERMISSION_ALLOW ||
            (b->operation != ACL_OP_WRITE && b->operation != ACL_OP_ALL) ||
            (strcmp(b->principal, principal) != 0 &&
             strcmp(b->principal, ACL_WILDCARD_PRINCIPAL) != 0))
            continue;
        /* the pattern's own name is a topic it covers: the full decision
         * there (hosts, denials) says whether the grant holds */
        if (authorize_quiet(req, ACL_OP_WRITE, ACL_RESOURCE_TOPIC, b->resource_name,
                            strlen(b->resource_name)))
            return true;
    }
    return authorize(req, ACL_OP_IDEMPOTENT_WRITE, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME,
                     sizeof ACL_CLUSTER_NAME - 1); /* denied: logged once */
}
