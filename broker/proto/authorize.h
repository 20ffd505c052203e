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

/* True when an authorizer is configured (ACLs are checked). */
bool authorize_enabled(const broker_request *req);

/* The principal and host the request is authorized as. */
const char *authorize_principal(const broker_request *req);
const char *authorize_host(const broker_request *req);

/* May the request's principal do operation (enum acl_operation) on the
 * resource of resource_type (enum acl_resource_type) named name[0..len)?
 * Always true without an authorizer. A name too long for any ACL is
 * checked as-is up to its length limit (and denied unless a wildcard or a
 * prefix matches it). */
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

/* As authorize, without the denial log line (probes: "is this the sidecar",
 * "may it see this topic" in a listing). */
bool authorize_quiet(const broker_request *req, int8_t operation, int8_t resource_type,
                     const char *name, size_t len);

/* KIP-430 authorized operations of a resource: bit n set = operation n
 * allowed, over the candidate operations in `candidates` (a bit set). */
int32_t authorize_operations(const broker_request *req, int8_t resource_type, const char *name,
                             size_t len, int32_t candidates);

#endif
