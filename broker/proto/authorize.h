/*
 * authorize.h - the authorizer as request handlers see it: may the client
 * behind this request do an operation on a resource (security/acl.h)?
 *
 * With no authorizer configured (authorizer.class.name empty, broker->acls
 * NULL) every check allows, as before ACLs existed. With one, the principal
 * and host come from the connection (proto_responder: User:ANONYMOUS until
 * TLS or SASL authenticates it); a request without a connection (unit
 * tests) is User:ANONYMOUS from host "". Every denial is logged at debug
 * level with the principal, peer, operation and resource.
 *
 * The operation each API needs is listed in docs/security.md.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_AUTHORIZE_H
#define STRAIT_PROTO_AUTHORIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/codec.h"
#include "security/acl.h"

/* The client.id Kafka's own tools use to write internal topics; honoured
 * only without an authorizer. */
#define AUTHORIZE_ADMIN_CLIENT_ID "__admin_client"

/* True when an authorizer is configured (ACLs are checked). */
bool authorize_enabled(const broker_request *req);

/* The principal and host the request is authorized as. */
const char *authorize_principal(const broker_request *req);
const char *authorize_host(const broker_request *req);

/* May the request's principal do operation (enum acl_operation) on the
 * resource of resource_type (enum acl_resource_type) named name[0..len)?
 * Always true without an authorizer. With one, a name too long for any ACL
 * (ACL_RESOURCE_NAME_MAX bytes or more) is denied. */
bool authorize(const broker_request *req, int8_t operation, int8_t resource_type,
               const char *name, size_t len);
static inline bool authorize_str(const broker_request *req, int8_t operation,
                                 int8_t resource_type, proto_str name)
{
    return authorize(req, operation, resource_type, name.ptr ? name.ptr : "",
                     name.len > 0 ? (size_t)name.len : 0);
}
/* operation on the cluster resource ("kafka-cluster"). */
bool authorize_cluster(const broker_request *req, int8_t operation);

/* CREATE on the cluster, or on the topic name[0..len): may the request
 * create that topic (CreateTopics, auto-creation by Metadata or Produce)? */
bool authorize_topic_create(const broker_request *req, const char *name, size_t len);

/* Is the client the region's sidecar (or another node's control plane)?
 * With an authorizer: CLUSTER_ACTION on the cluster. Without one: a
 * client.id starting with REGION_SIDECAR_CLIENT_ID_PREFIX, which any client
 * can claim (the remaining gap until SASL, docs/security.md). */
bool authorize_sidecar(const broker_request *req);

/* May the request write into an internal topic (__consumer_offsets...) or
 * delete its records? With an authorizer: CLUSTER_ACTION on the cluster.
 * Without one: the client.id "__admin_client", as Kafka's tools use it. */
bool authorize_internal_write(const broker_request *req);

/* The group APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch): GROUP_AUTHORIZATION_FAILED without READ on
 * the group, else the region's answer (region_redirect.h
 * region_group_error), 0 when the group is served here. */
int16_t authorize_group_error(const broker_request *req, const char *group_id, size_t len);

/* InitProducerId of an idempotent producer: IDEMPOTENT_WRITE on the
 * cluster, or WRITE on at least one topic (Kafka 3.x, KIP-679): some ALLOW
 * binding of the principal grants WRITE on a topic pattern and no DENY
 * overrides it on that pattern's own name. */
bool authorize_idempotent_write(const broker_request *req);

/* As authorize, without the denial log line (probes: "is this the sidecar",
 * "may it see this topic" in a listing). */
bool authorize_quiet(const broker_request *req, int8_t operation, int8_t resource_type,
                     const char *name, size_t len);

/* KIP-430 authorized operations of a resource: bit n set = operation n
 * allowed, over the candidate operations in `candidates` (a bit set). */
int32_t authorize_operations(const broker_request *req, int8_t resource_type, const char *name,
                             size_t len, int32_t candidates);

#endif
