/*
 * acl_apis.h - message structs of the ACL APIs: DescribeAcls (29),
 * CreateAcls (30) and DeleteAcls (31), advertised v0-3, flexible from v2
 * (v1 adds the pattern type, v3 the USER resource type). Field tables and
 * handlers are in acl_apis.c; the structs are here so tests can build
 * requests and read responses. Comments give the versions of each field.
 *
 * Handlers run on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_ACL_APIS_H
#define STRAIT_PROTO_ACL_APIS_H

#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/codec.h"

/* ---- DescribeAcls (key 29) -------------------------------------------- */

typedef struct describe_acls_request {
    int8_t resource_type_filter;    /* v0+ */
    proto_str resource_name_filter; /* v0+, nullable */
    int8_t pattern_type_filter;     /* v1+, default 3 (LITERAL) */
    proto_str principal_filter;     /* v0+, nullable */
    proto_str host_filter;          /* v0+, nullable */
    int8_t operation;               /* v0+ */
    int8_t permission_type;         /* v0+ */
} describe_acls_request;

typedef struct describe_acls_description {
    proto_str principal;            /* v0+ */
    proto_str host;                 /* v0+ */
    int8_t operation;               /* v0+ */
    int8_t permission_type;         /* v0+ */
} describe_acls_description;

typedef struct describe_acls_resource {
    int8_t resource_type;           /* v0+ */
    proto_str resource_name;        /* v0+ */
    int8_t pattern_type;            /* v1+, default 3 */
    proto_array acls;               /* v0+, describe_acls_description */
} describe_acls_resource;

typedef struct describe_acls_response {
    int32_t throttle_time_ms;       /* v0+ */
    int16_t error_code;             /* v0+ */
    proto_str error_message;        /* v0+, nullable */
    proto_array resources;          /* v0+, describe_acls_resource */
} describe_acls_response;

/* ---- CreateAcls (key 30) ---------------------------------------------- */

typedef struct create_acls_creation {
    int8_t resource_type;           /* v0+ */
    proto_str resource_name;        /* v0+ */
    int8_t resource_pattern_type;   /* v1+, default 3 */
    proto_str principal;            /* v0+ */
    proto_str host;                 /* v0+ */
    int8_t operation;               /* v0+ */
    int8_t permission_type;         /* v0+ */
} create_acls_creation;

typedef struct create_acls_request {
    proto_array creations;          /* v0+, create_acls_creation */
} create_acls_request;

typedef struct create_acls_result {
    int16_t error_code;             /* v0+ */
    proto_str error_message;        /* v0+, nullable */
} create_acls_result;

typedef struct create_acls_response {
    int32_t throttle_time_ms;       /* v0+ */
    proto_array results;            /* v0+, create_acls_result */
} create_acls_response;

/* ---- DeleteAcls (key 31) ---------------------------------------------- */

typedef struct delete_acls_filter {
    int8_t resource_type_filter;    /* v0+ */
    proto_str resource_name_filter; /* v0+, nullable */
    int8_t pattern_type_filter;     /* v1+, default 3 */
    proto_str principal_filter;     /* v0+, nullable */
    proto_str host_filter;          /* v0+, nullable */
    int8_t operation;               /* v0+ */
    int8_t permission_type;         /* v0+ */
} delete_acls_filter;

typedef struct delete_acls_request {
    proto_array filters;            /* v0+, delete_acls_filter */
} delete_acls_request;

typedef struct delete_acls_matching_acl {
    int16_t error_code;             /* v0+ */
    proto_str error_message;        /* v0+, nullable */
    int8_t resource_type;           /* v0+ */
    proto_str resource_name;        /* v0+ */
    int8_t pattern_type;            /* v1+, default 3 */
    proto_str principal;            /* v0+ */
    proto_str host;                 /* v0+ */
    int8_t operation;               /* v0+ */
    int8_t permission_type;         /* v0+ */
} delete_acls_matching_acl;

typedef struct delete_acls_filter_result {
    int16_t error_code;             /* v0+ */
    proto_str error_message;        /* v0+, nullable */
    proto_array matching_acls;      /* v0+, delete_acls_matching_acl */
} delete_acls_filter_result;

typedef struct delete_acls_response {
    int32_t throttle_time_ms;       /* v0+ */
    proto_array filter_results;     /* v0+, delete_acls_filter_result */
} delete_acls_response;

extern const proto_api api_describe_acls;
extern const proto_api api_create_acls;
extern const proto_api api_delete_acls;

#endif
