/*
 * acl.h - access control lists as Kafka has them (KIP-11, KIP-290 prefixed
 * patterns): the bindings an operator creates (CreateAcls), the filters that
 * find them (DescribeAcls, DeleteAcls), and the decision for one request.
 *
 * A binding says: <permission> <principal> from <host> may/may not do
 * <operation> on <resource type> resources whose name matches <pattern>.
 * The numeric values of every enum are the Kafka wire values, so the
 * protocol handlers pass them through unchanged.
 *
 * The decision (acl_authorize), as Kafka's StandardAuthorizer takes it:
 *   1. a super user is allowed everything;
 *   2. the bindings that apply are those on the resource type whose pattern
 *      matches the name: LITERAL equal to it, LITERAL "*", or PREFIXED with a
 *      prefix of it;
 *   3. no binding applies at all: allowed only with allow.everyone.if.no.acl.found;
 *   4. a DENY for the principal (or User:*), the host (or *) and the
 *      operation (or ALL) denies;
 *   5. an ALLOW likewise allows, where READ, WRITE, DELETE and ALTER imply
 *      DESCRIBE and ALTER_CONFIGS implies DESCRIBE_CONFIGS;
 *   6. anything else is denied.
 *
 * Not thread-safe: the broker's event loop owns its store.
 */
#ifndef STRAIT_SECURITY_ACL_H
#define STRAIT_SECURITY_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest resource name (a group id or transactional id can be long; a
 * topic name is at most 249 bytes). */
#define ACL_RESOURCE_NAME_MAX 1024
/* Longest principal ("User:" + a user name or a certificate's DN). */
#define ACL_PRINCIPAL_MAX 512
/* Longest host (an IPv6 address in text, or "*"). */
#define ACL_HOST_MAX 64

enum acl_resource_type {
    ACL_RESOURCE_UNKNOWN = 0,
    ACL_RESOURCE_ANY = 1, /* filters only */
    ACL_RESOURCE_TOPIC = 2,
    ACL_RESOURCE_GROUP = 3,
    ACL_RESOURCE_CLUSTER = 4,
    ACL_RESOURCE_TRANSACTIONAL_ID = 5,
    ACL_RESOURCE_DELEGATION_TOKEN = 6,
    ACL_RESOURCE_USER = 7,
};

enum acl_pattern_type {
    ACL_PATTERN_UNKNOWN = 0,
    ACL_PATTERN_ANY = 1,   /* filters only: any pattern type */
    ACL_PATTERN_MATCH = 2, /* filters only: every binding that would apply to the name */
    ACL_PATTERN_LITERAL = 3,
    ACL_PATTERN_PREFIXED = 4,
};

enum acl_operation {
    ACL_OP_UNKNOWN = 0,
    ACL_OP_ANY = 1, /* filters only */
    ACL_OP_ALL = 2,
    ACL_OP_READ = 3,
    ACL_OP_WRITE = 4,
    ACL_OP_CREATE = 5,
    ACL_OP_DELETE = 6,
    ACL_OP_ALTER = 7,
    ACL_OP_DESCRIBE = 8,
    ACL_OP_CLUSTER_ACTION = 9,
    ACL_OP_DESCRIBE_CONFIGS = 10,
    ACL_OP_ALTER_CONFIGS = 11,
    ACL_OP_IDEMPOTENT_WRITE = 12,
    ACL_OP_CREATE_TOKENS = 13,
    ACL_OP_DESCRIBE_TOKENS = 14,
};

enum acl_permission {
    ACL_PERMISSION_UNKNOWN = 0,
    ACL_PERMISSION_ANY = 1, /* filters only */
    ACL_PERMISSION_DENY = 2,
    ACL_PERMISSION_ALLOW = 3,
};

/* The literal resource name that matches every name, and the principal and
 * host that match every principal and host. */
#define ACL_WILDCARD "*"
#define ACL_WILDCARD_PRINCIPAL "User:*"
/* The one CLUSTER resource's name. */
#define ACL_CLUSTER_NAME "kafka-cluster"

typedef struct acl_binding {
    int8_t resource_type; /* enum acl_resource_type: a concrete type */
    int8_t pattern_type;  /* LITERAL or PREFIXED */
    int8_t operation;     /* enum acl_operation: not ANY or UNKNOWN */
    int8_t permission;    /* DENY or ALLOW */
    char resource_name[ACL_RESOURCE_NAME_MAX];
    char principal[ACL_PRINCIPAL_MAX]; /* "<type>:<name>", e.g. "User:alice" */
    char host[ACL_HOST_MAX];           /* an address or "*" */
} acl_binding;

/* A filter: ANY values match every value, a NULL string matches every string. */
typedef struct acl_filter {
    int8_t resource_type;
    int8_t pattern_type;
    int8_t operation;
    int8_t permission;
    const char *resource_name;
    const char *principal;
    const char *host;
} acl_filter;

typedef struct acl_store acl_store;

/* An empty store; NULL when out of memory. */
acl_store *acl_store_new(void);
void acl_store_free(acl_store *s);

/* Exchanges the bindings of a and b. */
void acl_store_swap(acl_store *a, acl_store *b);

/* How many bindings the store holds. */
size_t acl_store_count(const acl_store *s);

/* The binding at index i (0 <= i < count), in the order they were added. */
const acl_binding *acl_store_get(const acl_store *s, size_t i);

/*
 * 0 when b is a binding that can be stored; ST_EINVAL with why otherwise:
 * a type, pattern, operation or permission that is unknown or only valid in
 * a filter, an empty resource name, a CLUSTER resource not named
 * "kafka-cluster", a principal without "<type>:", an empty host.
 */
int acl_binding_check(const acl_binding *b, char *why, size_t whylen);

/* Adds b (checked as acl_binding_check). Adding a binding the store already
 * holds changes nothing and succeeds, as in Kafka. ST_ETOOBIG when the
 * store is full (LIMIT_ACL_BINDINGS), ST_ENOMEM. */
int acl_store_add(acl_store *s, const acl_binding *b, char *why, size_t whylen);

/* Whether filter f matches binding b (DescribeAcls, DeleteAcls). */
bool acl_filter_matches(const acl_filter *f, const acl_binding *b);

/* 0 when f is a well-formed filter; ST_EINVAL with why for an UNKNOWN value
 * (Kafka answers such a filter with INVALID_REQUEST). */
int acl_filter_check(const acl_filter *f, char *why, size_t whylen);

/* Removes every binding f matches; calls removed(arg, b) for each before it
 * goes (may be NULL). Returns how many were removed. */
size_t acl_store_remove(acl_store *s, const acl_filter *f,
                        void (*removed)(void *arg, const acl_binding *b), void *arg);

/* The context of one decision. super_users is a list of principals
 * separated by ';' (Kafka's super.users), may be NULL. */
typedef struct acl_authorizer_config {
    const char *super_users;
    bool allow_everyone_if_no_acl_found; /* allow.everyone.if.no.acl.found */
} acl_authorizer_config;

typedef struct acl_decision {
    bool allowed;
    const acl_binding *binding; /* the binding that decided, NULL when none did
                                   (super user, no ACL found, or no ALLOW) */
    const char *reason;         /* static text for the log line */
} acl_decision;

/* May principal, connected from host, do operation (concrete, not ANY/ALL)
 * on the resource of resource_type named name? */
acl_decision acl_authorize(const acl_store *s, const acl_authorizer_config *config,
                           const char *principal, const char *host, int8_t operation,
                           int8_t resource_type, const char *name);

/* Kafka's names ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW") for logs
 * and the CLI, and their inverse (case-insensitive, '-' or '_' between
 * words; -1 when unknown). */
const char *acl_resource_type_name(int8_t type);
const char *acl_pattern_type_name(int8_t type);
const char *acl_operation_name(int8_t op);
const char *acl_permission_name(int8_t permission);
int acl_resource_type_parse(const char *text);
int acl_pattern_type_parse(const char *text);
int acl_operation_parse(const char *text);
int acl_permission_parse(const char *text);

#endif
