/*
 * acl.c - the ACL store, its filters and the authorization decision
 * (acl.h says the rules). The store is an array in insertion order: a
 * decision scans it once, which is what a deployment of a few thousand
 * bindings needs; an index by resource name is for when that shows up in a
 * benchmark.
 */
#include "security/acl.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/limits.h"

struct acl_store {
    acl_binding *bindings;
    size_t count;
    size_t capacity;
};

#define RESOURCE_TYPES(X)                                                   \
    X(ACL_RESOURCE_UNKNOWN, "UNKNOWN") X(ACL_RESOURCE_ANY, "ANY")           \
    X(ACL_RESOURCE_TOPIC, "TOPIC") X(ACL_RESOURCE_GROUP, "GROUP")           \
    X(ACL_RESOURCE_CLUSTER, "CLUSTER")                                      \
    X(ACL_RESOURCE_TRANSACTIONAL_ID, "TRANSACTIONAL_ID")                    \
    X(ACL_RESOURCE_DELEGATION_TOKEN, "DELEGATION_TOKEN") X(ACL_RESOURCE_USER, "USER")

#define PATTERN_TYPES(X)                                                    \
    X(ACL_PATTERN_UNKNOWN, "UNKNOWN") X(ACL_PATTERN_ANY, "ANY")             \
    X(ACL_PATTERN_MATCH, "MATCH") X(ACL_PATTERN_LITERAL, "LITERAL")         \
    X(ACL_PATTERN_PREFIXED, "PREFIXED")

#define OPERATIONS(X)                                                       \
    X(ACL_OP_UNKNOWN, "UNKNOWN") X(ACL_OP_ANY, "ANY") X(ACL_OP_ALL, "ALL")  \
    X(ACL_OP_READ, "READ") X(ACL_OP_WRITE, "WRITE") X(ACL_OP_CREATE, "CREATE") \
    X(ACL_OP_DELETE, "DELETE") X(ACL_OP_ALTER, "ALTER")                     \
    X(ACL_OP_DESCRIBE, "DESCRIBE") X(ACL_OP_CLUSTER_ACTION, "CLUSTER_ACTION") \
    X(ACL_OP_DESCRIBE_CONFIGS, "DESCRIBE_CONFIGS")                          \
    X(ACL_OP_ALTER_CONFIGS, "ALTER_CONFIGS")                                \
    X(ACL_OP_IDEMPOTENT_WRITE, "IDEMPOTENT_WRITE")                          \
    X(ACL_OP_CREATE_TOKENS, "CREATE_TOKENS") X(ACL_OP_DESCRIBE_TOKENS, "DESCRIBE_TOKENS")

#define PERMISSIONS(X)                                                      \
    X(ACL_PERMISSION_UNKNOWN, "UNKNOWN") X(ACL_PERMISSION_ANY, "ANY")       \
    X(ACL_PERMISSION_DENY, "DENY") X(ACL_PERMISSION_ALLOW, "ALLOW")

typedef struct name_entry {
    int value;
    const char *name;
} name_entry;

#define NAME_ENTRY(value, name) {value, name},
static const name_entry resource_type_names[] = {RESOURCE_TYPES(NAME_ENTRY)};
static const name_entry pattern_type_names[] = {PATTERN_TYPES(NAME_ENTRY)};
static const name_entry operation_names[] = {OPERATIONS(NAME_ENTRY)};
static const name_entry permission_names[] = {PERMISSIONS(NAME_ENTRY)};
#undef NAME_ENTRY

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const name_entry *table, size_t n, int value)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].value == value)
            return table[i].name;
    return "UNKNOWN";
}

/* Compares text with a table name, ignoring case and taking '-' for '_'
 * (kafka-acls writes "describe-configs" and "DescribeConfigs" alike; the
 * latter is handled by also ignoring a missing '_'). */
static bool name_equals(const char *text, const char *name)
{
    while (*text && *name) {
        char t = *text == '-' ? '_' : *text;
        if (*name == '_' && t != '_') {
            name++;
            continue;
        }
        if (tolower((unsigned char)t) != tolower((unsigned char)*name))
            return false;
        text++;
        name++;
    }
    return *text == '\0' && *name == '\0';
}

static int parse_of(const name_entry *table, size_t n, const char *text)
{
    for (size_t i = 0; text && i < n; i++)
        if (name_equals(text, table[i].name))
            return table[i].value;
    return -1;
}

const char *acl_resource_type_name(int8_t type)
{
    return name_of(resource_type_names, COUNT_OF(resource_type_names), type);
}
const char *acl_pattern_type_name(int8_t type)
{
    return name_of(pattern_type_names, COUNT_OF(pattern_type_names), type);
}
const char *acl_operation_name(int8_t op)
{
    return name_of(operation_names, COUNT_OF(operation_names), op);
}
const char *acl_permission_name(int8_t permission)
{
    return name_of(permission_names, COUNT_OF(permission_names), permission);
}
int acl_resource_type_parse(const char *text)
{
    return parse_of(resource_type_names, COUNT_OF(resource_type_names), text);
}
int acl_pattern_type_parse(const char *text)
{
    return parse_of(pattern_type_names, COUNT_OF(pattern_type_names), text);
}
int acl_operation_parse(const char *text)
{
    return parse_of(operation_names, COUNT_OF(operation_names), text);
}
int acl_permission_parse(const char *text)
{
    return parse_of(permission_names, COUNT_OF(permission_names), text);
}

acl_store *acl_store_new(void)
{
    return calloc(1, sizeof(acl_store));
}

void acl_store_free(acl_store *s)
{
    if (!s)
        return;
    free(s->bindings);
    free(s);
}

void acl_store_swap(acl_store *a, acl_store *b)
{
    acl_store t = *a;
    *a = *b;
    *b = t;
}

size_t acl_store_count(const acl_store *s)
{
    return s->count;
}

const acl_binding *acl_store_get(const acl_store *s, size_t i)
{
    assert(i < s->count);
    return &s->bindings[i];
}

static bool concrete_resource_type(int type)
{
    return type >= ACL_RESOURCE_TOPIC && type <= ACL_RESOURCE_USER;
}

static bool concrete_operation(int op)
{
    return op >= ACL_OP_ALL && op <= ACL_OP_DESCRIBE_TOKENS;
}

int acl_binding_check(const acl_binding *b, char *why, size_t whylen)
{
    const char *colon = strchr(b->principal, ':');
    if (!concrete_resource_type(b->resource_type))
        snprintf(why, whylen, "resource type %s (%d) is not one a binding can have",
                 acl_resource_type_name(b->resource_type), b->resource_type);
    else if (b->pattern_type != ACL_PATTERN_LITERAL && b->pattern_type != ACL_PATTERN_PREFIXED)
        snprintf(why, whylen, "pattern type %s (%d): a binding is LITERAL or PREFIXED",
                 acl_pattern_type_name(b->pattern_type), b->pattern_type);
    else if (!concrete_operation(b->operation))
        snprintf(why, whylen, "operation %s (%d) is not one a binding can have",
                 acl_operation_name(b->operation), b->operation);
    else if (b->permission != ACL_PERMISSION_ALLOW && b->permission != ACL_PERMISSION_DENY)
        snprintf(why, whylen, "permission %s (%d): a binding is ALLOW or DENY",
                 acl_permission_name(b->permission), b->permission);
    else if (b->resource_name[0] == '\0')
        snprintf(why, whylen, "empty resource name");
    else if (b->resource_type == ACL_RESOURCE_CLUSTER &&
             (b->pattern_type != ACL_PATTERN_LITERAL ||
              strcmp(b->resource_name, ACL_CLUSTER_NAME) != 0))
        snprintf(why, whylen, "the CLUSTER resource is the literal name '%s', not '%s'",
                 ACL_CLUSTER_NAME, b->resource_name);
    else if (!colon || colon == b->principal)
        snprintf(why, whylen, "principal '%s' is not of the form <type>:<name> (User:alice)",
                 b->principal);
    else if (b->host[0] == '\0')
        snprintf(why, whylen, "empty host (use '*' for every host)");
    else
        return 0;
    return ST_EINVAL;
}

static bool binding_equal(const acl_binding *a, const acl_binding *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type &&
           a->operation == b->operation && a->permission == b->permission &&
           strcmp(a->resource_name, b->resource_name) == 0 &&
           strcmp(a->principal, b->principal) == 0 && strcmp(a->host, b->host) == 0;
}

int acl_store_add(acl_store *s, const acl_binding *b, char *why, size_t whylen)
{
    int rc = acl_binding_check(b, why, whylen);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < s->count; i++)
        if (binding_equal(&s->bindings[i], b))
            return 0;
    if (s->count >= LIMIT_ACL_BINDINGS) {
        snprintf(why, whylen, "the store holds %d bindings, its limit", LIMIT_ACL_BINDINGS);
        return ST_ETOOBIG;
    }
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 16;
        if (capacity > LIMIT_ACL_BINDINGS)
            capacity = LIMIT_ACL_BINDINGS;
        acl_binding *grown = realloc(s->bindings, capacity * sizeof *grown);
        if (!grown) {
            snprintf(why, whylen, "out of memory");
            return ST_ENOMEM;
        }
        s->bindings = grown;
        s->capacity = capacity;
    }
    s->bindings[s->count++] = *b;
    assert(s->count <= s->capacity && s->count <= LIMIT_ACL_BINDINGS);
    return 0;
}

/* Whether a stored pattern (LITERAL or PREFIXED) applies to name. */
static bool pattern_applies(const acl_binding *b, const char *name)
{
    if (b->pattern_type == ACL_PATTERN_LITERAL)
        return strcmp(b->resource_name, ACL_WILDCARD) == 0 || strcmp(b->resource_name, name) == 0;
    assert(b->pattern_type == ACL_PATTERN_PREFIXED);
    return strncmp(b->resource_name, name, strlen(b->resource_name)) == 0;
}

bool acl_filter_matches(const acl_filter *f, const acl_binding *b)
{
    if (f->resource_type != ACL_RESOURCE_ANY && f->resource_type != b->resource_type)
        return false;
    if (f->operation != ACL_OP_ANY && f->operation != b->operation)
        return false;
    if (f->permission != ACL_PERMISSION_ANY && f->permission != b->permission)
        return false;
    if (f->principal && strcmp(f->principal, b->principal) != 0)
        return false;
    if (f->host && strcmp(f->host, b->host) != 0)
        return false;
    switch (f->pattern_type) {
    case ACL_PATTERN_ANY:
        return !f->resource_name || strcmp(f->resource_name, b->resource_name) == 0;
    case ACL_PATTERN_MATCH:
        return !f->resource_name || pattern_applies(b, f->resource_name);
    default:
        return f->pattern_type == b->pattern_type &&
               (!f->resource_name || strcmp(f->resource_name, b->resource_name) == 0);
    }
}

int acl_filter_check(const acl_filter *f, char *why, size_t whylen)
{
    if (f->resource_type <= ACL_RESOURCE_UNKNOWN || f->resource_type > ACL_RESOURCE_USER)
        snprintf(why, whylen, "filter resource type %d is unknown", f->resource_type);
    else if (f->pattern_type <= ACL_PATTERN_UNKNOWN || f->pattern_type > ACL_PATTERN_PREFIXED)
        snprintf(why, whylen, "filter pattern type %d is unknown", f->pattern_type);
    else if (f->operation <= ACL_OP_UNKNOWN || f->operation > ACL_OP_DESCRIBE_TOKENS)
        snprintf(why, whylen, "filter operation %d is unknown", f->operation);
    else if (f->permission <= ACL_PERMISSION_UNKNOWN || f->permission > ACL_PERMISSION_ALLOW)
        snprintf(why, whylen, "filter permission %d is unknown", f->permission);
    else
        return 0;
    return ST_EINVAL;
}

size_t acl_store_remove(acl_store *s, const acl_filter *f,
                        void (*removed)(void *arg, const acl_binding *b), void *arg)
{
    size_t kept = 0, before = s->count;
    for (size_t i = 0; i < s->count; i++) {
        if (acl_filter_matches(f, &s->bindings[i])) {
            if (removed)
                removed(arg, &s->bindings[i]);
            continue;
        }
        if (kept != i)
            s->bindings[kept] = s->bindings[i];
        kept++;
    }
    s->count = kept;
    assert(s->count <= before);
    return before - kept;
}

/* Whether principal is one of the ';'-separated super users. */
static bool is_super_user(const char *super_users, const char *principal)
{
    size_t len = strlen(principal);
    for (const char *p = super_users; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == len && n > 0 && memcmp(p, principal, n) == 0)
            return true;
        p = end ? end + 1 : p + strlen(p);
    }
    return false;
}

/* Whether a binding's operation grants (or, for DENY, refuses) op. */
static bool operation_covers(int8_t bound, int8_t op, bool allow)
{
    if (bound == ACL_OP_ALL || bound == op)
        return true;
    if (!allow)
        return false;
    if (op == ACL_OP_DESCRIBE)
        return bound == ACL_OP_READ || bound == ACL_OP_WRITE || bound == ACL_OP_DELETE ||
               bound == ACL_OP_ALTER;
    if (op == ACL_OP_DESCRIBE_CONFIGS)
        return bound == ACL_OP_ALTER_CONFIGS;
    return false;
}

acl_decision acl_authorize(const acl_store *s, const acl_authorizer_config *config,
                           const char *principal, const char *host, int8_t operation,
                           int8_t resource_type, const char *name)
{
    assert(concrete_resource_type(resource_type));
    assert(concrete_operation(operation) && operation != ACL_OP_ALL);
    acl_decision d = {false, NULL, "no ALLOW binding matches"};
    if (is_super_user(config->super_users, principal)) {
        d.allowed = true;
        d.reason = "super user";
        return d;
    }
    bool any_applies = false;
    const acl_binding *allow = NULL;
    for (size_t i = 0; i < s->count; i++) {
        const acl_binding *b = &s->bindings[i];
        if (b->resource_type != resource_type || !pattern_applies(b, name))
            continue;
        any_applies = true;
        if ((strcmp(b->principal, principal) != 0 &&
             strcmp(b->principal, ACL_WILDCARD_PRINCIPAL) != 0) ||
            (strcmp(b->host, host) != 0 && strcmp(b->host, ACL_WILDCARD) != 0))
            continue;
        bool is_allow = b->permission == ACL_PERMISSION_ALLOW;
        if (!operation_covers(b->operation, operation, is_allow))
            continue;
        if (!is_allow) {
            d.binding = b;
            d.reason = "a DENY binding matches";
            return d;
        }
        if (!allow)
            allow = b;
    }
    if (allow) {
        d.allowed = true;
        d.binding = allow;
        d.reason = "an ALLOW binding matches";
    } else if (!any_applies && config->allow_everyone_if_no_acl_found) {
        d.allowed = true;
        d.reason = "no ACL on the resource (allow.everyone.if.no.acl.found)";
    } else if (!any_applies) {
        d.reason = "no ACL on the resource";
    }
    return d;
}
