/*
 * admin_apis.h - message structs of the metadata and admin APIs: Metadata
 * (3), CreateTopics (19), DeleteTopics (20), DescribeConfigs (32),
 * AlterConfigs (33), CreatePartitions (37), IncrementalAlterConfigs (44) and
 * DescribeCluster (60); and the helpers their handlers share (admin_util.c).
 *
 * Structs are here (not in the .c files) so tests can build and inspect
 * requests and responses. Field names follow the Kafka protocol guide in
 * snake_case; the comment after each field gives the versions in which it is
 * on the wire. Fields of versions above what strait advertises are described
 * too where they cost nothing, so raising a maximum is a one-line change; the
 * field tables are in each API's .c file.
 *
 * Handlers run on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_ADMIN_APIS_H
#define STRAIT_PROTO_ADMIN_APIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/apis.h"
#include "broker/proto/codec.h"

/* ---- elements of primitive arrays ------------------------------------- */

/* []int32 and []string: a struct of one field has the classic encoding of
 * the bare value. In flexible versions the codec would add a tagged-field
 * section after each element, so these must only be used in versions that
 * are not flexible (true for every use below). */

/* ---- Metadata (key 3) ------------------------------------------------- */

typedef struct metadata_request_topic {
    proto_uuid topic_id;   /* v10+ */
    proto_str name;        /* v0+, nullable v10+ */
} metadata_request_topic;

typedef struct metadata_request {
    proto_array topics;               /* v0+, nullable v1+ (null = all), metadata_request_topic */
    bool allow_auto_topic_creation;   /* v4+, default true */
    bool include_cluster_authorized_operations; /* v8-10 */
    bool include_topic_authorized_operations;   /* v8+ */
} metadata_request;

typedef struct metadata_response_broker {
    int32_t node_id;       /* v0+ */
    proto_str host;        /* v0+ */
    int32_t port;          /* v0+ */
    proto_str rack;        /* v1+, nullable */
} metadata_response_broker;

typedef struct metadata_response_partition {
    int16_t error_code;         /* v0+ */
    int32_t partition_index;    /* v0+ */
    int32_t leader_id;          /* v0+ */
    int32_t leader_epoch;       /* v7+, default -1 */
    proto_array replica_nodes;  /* v0+, proto_int32 */
    proto_array isr_nodes;      /* v0+, proto_int32 */
    proto_array offline_replicas; /* v5+, proto_int32 */
} metadata_response_partition;

typedef struct metadata_response_topic {
    int16_t error_code;          /* v0+ */
    proto_str name;              /* v0+, nullable v12+ */
    proto_uuid topic_id;         /* v10+ */
    bool is_internal;            /* v1+ */
    proto_array partitions;      /* v0+, metadata_response_partition */
    int32_t topic_authorized_operations; /* v8+, INT32_MIN = not requested */
} metadata_response_topic;

typedef struct metadata_response {
    int32_t throttle_time_ms;    /* v3+ */
    proto_array brokers;         /* v0+, metadata_response_broker */
    proto_str cluster_id;        /* v2+, nullable */
    int32_t controller_id;       /* v1+, default -1 */
    proto_array topics;          /* v0+, metadata_response_topic */
    int32_t cluster_authorized_operations; /* v8-10, INT32_MIN = not requested */
} metadata_response;

/* ---- CreateTopics (key 19) ------------------------------------------- */

typedef struct create_topics_assignment {
    int32_t partition_index;   /* v0+ */
    proto_array broker_ids;    /* v0+, proto_int32 */
} create_topics_assignment;

typedef struct create_topics_config {
    proto_str name;            /* v0+ */
    proto_str value;           /* v0+, nullable */
} create_topics_config;

typedef struct create_topics_topic {
    proto_str name;              /* v0+ */
    int32_t num_partitions;      /* v0+, -1 = num.partitions */
    int16_t replication_factor;  /* v0+, -1 = default.replication.factor */
    proto_array assignments;     /* v0+, create_topics_assignment */
    proto_array configs;         /* v0+, create_topics_config */
} create_topics_topic;

typedef struct create_topics_request {
    proto_array topics;          /* v0+, create_topics_topic */
    int32_t timeout_ms;          /* v0+ */
    bool validate_only;          /* v1+ */
} create_topics_request;

typedef struct create_topics_result_config {
    proto_str name;              /* v5+ */
    proto_str value;             /* v5+, nullable */
    bool read_only;              /* v5+ */
    int8_t config_source;        /* v5+, default -1 */
    bool is_sensitive;           /* v5+ */
} create_topics_result_config;

typedef struct create_topics_result {
    proto_str name;              /* v0+ */
    proto_uuid topic_id;         /* v7+ */
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v1+, nullable */
    int16_t topic_config_error_code; /* v5+, tag 0 */
    int32_t num_partitions;      /* v5+, default -1 */
    int16_t replication_factor;  /* v5+, default -1 */
    proto_array configs;         /* v5+, nullable, create_topics_result_config */
} create_topics_result;

typedef struct create_topics_response {
    int32_t throttle_time_ms;    /* v2+ */
    proto_array topics;          /* v0+, create_topics_result */
} create_topics_response;

/* ---- DeleteTopics (key 20) ------------------------------------------- */

typedef struct delete_topics_state {
    proto_str name;              /* v6+, nullable */
    proto_uuid topic_id;         /* v6+ */
} delete_topics_state;

typedef struct delete_topics_request {
    proto_array topics;          /* v6+, delete_topics_state */
    proto_array topic_names;     /* v0-5, proto_string */
    int32_t timeout_ms;          /* v0+ */
} delete_topics_request;

typedef struct delete_topics_result {
    proto_str name;              /* v0+, nullable v6+ */
    proto_uuid topic_id;         /* v6+ */
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v5+, nullable */
} delete_topics_result;

typedef struct delete_topics_response {
    int32_t throttle_time_ms;    /* v1+ */
    proto_array responses;       /* v0+, delete_topics_result */
} delete_topics_response;

/* ---- CreatePartitions (key 37) --------------------------------------- */

typedef struct create_partitions_assignment {
    proto_array broker_ids;      /* v0+, proto_int32 */
} create_partitions_assignment;

typedef struct create_partitions_topic {
    proto_str name;              /* v0+ */
    int32_t count;               /* v0+: the new total partition count */
    proto_array assignments;     /* v0+, nullable, create_partitions_assignment */
} create_partitions_topic;

typedef struct create_partitions_request {
    proto_array topics;          /* v0+, create_partitions_topic */
    int32_t timeout_ms;          /* v0+ */
    bool validate_only;          /* v0+ */
} create_partitions_request;

typedef struct create_partitions_result {
    proto_str name;              /* v0+ */
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v0+, nullable */
} create_partitions_result;

typedef struct create_partitions_response {
    int32_t throttle_time_ms;    /* v0+ */
    proto_array results;         /* v0+, create_partitions_result */
} create_partitions_response;

/* ---- DescribeConfigs (key 32) ---------------------------------------- */

/* Resource types (Kafka's ConfigResource.Type). */
#define ADMIN_RESOURCE_TOPIC 2
#define ADMIN_RESOURCE_BROKER 4

/* ConfigSource values in DescribeConfigs v1+. */
#define ADMIN_CONFIG_SOURCE_DYNAMIC_TOPIC 1
#define ADMIN_CONFIG_SOURCE_DYNAMIC_BROKER 2
#define ADMIN_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER 3
#define ADMIN_CONFIG_SOURCE_STATIC_BROKER 4
#define ADMIN_CONFIG_SOURCE_DEFAULT 5

typedef struct describe_configs_resource {
    int8_t resource_type;        /* v0+ */
    proto_str resource_name;     /* v0+ */
    proto_array configuration_keys; /* v0+, nullable (null = all), proto_string */
} describe_configs_resource;

typedef struct describe_configs_request {
    proto_array resources;       /* v0+, describe_configs_resource */
    bool include_synonyms;       /* v1+ */
    bool include_documentation;  /* v3+ */
} describe_configs_request;

typedef struct describe_configs_synonym {
    proto_str name;              /* v1+ */
    proto_str value;             /* v1+, nullable */
    int8_t source;               /* v1+ */
} describe_configs_synonym;

typedef struct describe_configs_entry {
    proto_str name;              /* v0+ */
    proto_str value;             /* v0+, nullable */
    bool read_only;              /* v0+ */
    bool is_default;             /* v0 only */
    int8_t config_source;        /* v1+, default -1 */
    bool is_sensitive;           /* v0+ */
    proto_array synonyms;        /* v1+, describe_configs_synonym */
    int8_t config_type;          /* v3+ */
    proto_str documentation;     /* v3+, nullable */
} describe_configs_entry;

typedef struct describe_configs_result {
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v0+, nullable */
    int8_t resource_type;        /* v0+ */
    proto_str resource_name;     /* v0+ */
    proto_array configs;         /* v0+, describe_configs_entry */
} describe_configs_result;

typedef struct describe_configs_response {
    int32_t throttle_time_ms;    /* v0+ */
    proto_array results;         /* v0+, describe_configs_result */
} describe_configs_response;

/* ---- AlterConfigs (key 33) and IncrementalAlterConfigs (key 44) ------ */

typedef struct alter_configs_entry {
    proto_str name;              /* v0+ */
    proto_str value;             /* v0+, nullable */
} alter_configs_entry;

typedef struct alter_configs_resource {
    int8_t resource_type;        /* v0+ */
    proto_str resource_name;     /* v0+ */
    proto_array configs;         /* v0+, alter_configs_entry */
} alter_configs_resource;

typedef struct alter_configs_request {
    proto_array resources;       /* v0+, alter_configs_resource */
    bool validate_only;          /* v0+ */
} alter_configs_request;

/* ConfigOperation of IncrementalAlterConfigs. */
#define ADMIN_CONFIG_OP_SET 0
#define ADMIN_CONFIG_OP_DELETE 1
#define ADMIN_CONFIG_OP_APPEND 2
#define ADMIN_CONFIG_OP_SUBTRACT 3

typedef struct incremental_alter_configs_entry {
    proto_str name;              /* v0+ */
    int8_t config_operation;     /* v0+, ADMIN_CONFIG_OP_* */
    proto_str value;             /* v0+, nullable */
} incremental_alter_configs_entry;

typedef struct incremental_alter_configs_resource {
    int8_t resource_type;        /* v0+ */
    proto_str resource_name;     /* v0+ */
    proto_array configs;         /* v0+, incremental_alter_configs_entry */
} incremental_alter_configs_resource;

typedef struct incremental_alter_configs_request {
    proto_array resources;       /* v0+, incremental_alter_configs_resource */
    bool validate_only;          /* v0+ */
} incremental_alter_configs_request;

/* Both APIs answer with the same shape. */
typedef struct alter_configs_resource_response {
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v0+, nullable */
    int8_t resource_type;        /* v0+ */
    proto_str resource_name;     /* v0+ */
} alter_configs_resource_response;

typedef struct alter_configs_response {
    int32_t throttle_time_ms;    /* v0+ */
    proto_array responses;       /* v0+, alter_configs_resource_response */
} alter_configs_response;

/* ---- DescribeCluster (key 60, flexible from v0) ---------------------- */

typedef struct describe_cluster_request {
    bool include_cluster_authorized_operations; /* v0+ */
    int8_t endpoint_type;        /* v1+, default 1 (brokers) */
} describe_cluster_request;

typedef struct describe_cluster_broker {
    int32_t broker_id;           /* v0+ */
    proto_str host;              /* v0+ */
    int32_t port;                /* v0+ */
    proto_str rack;              /* v0+, nullable */
} describe_cluster_broker;

typedef struct describe_cluster_response {
    int32_t throttle_time_ms;    /* v0+ */
    int16_t error_code;          /* v0+ */
    proto_str error_message;     /* v0+, nullable */
    int8_t endpoint_type;        /* v1+, default 1 */
    proto_str cluster_id;        /* v0+ */
    int32_t controller_id;       /* v0+, default -1 */
    proto_array brokers;         /* v0+, describe_cluster_broker */
    int32_t cluster_authorized_operations; /* v0+, INT32_MIN = not requested */
} describe_cluster_response;

/* ---- helpers (admin_util.c) ------------------------------------------- */

/* Authorized-operation bitfields (KIP-430): bit n set = AclOperation n
 * allowed. Without ACLs everything applicable is allowed. Not requested:
 * INT32_MIN. */
#define ADMIN_ACL_OPERATIONS_NOT_REQUESTED INT32_MIN
/* READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11 */
#define ADMIN_TOPIC_OPERATIONS                                                          \
    ((int32_t)((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | \
               (1u << 10) | (1u << 11)))
/* CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
 * ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12 */
#define ADMIN_CLUSTER_OPERATIONS                                                          \
    ((int32_t)((1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | \
               (1u << 12)))

/* printf arguments for "%.*s" showing at most 64 chars of a proto_str
 * (null and empty strings show as ""). */
#define ADMIN_STR_ARGS(s) \
    ((s).len < 0 ? 0 : (s).len > 64 ? 64 : (int)(s).len), ((s).ptr ? (s).ptr : "")

/* Room for the error messages the registry writes. */
#define ADMIN_ERROR_MESSAGE_BYTES 512

/* A replica list for one partition is valid on this node only when it is
 * exactly [node.id]; otherwise fills why and returns false. */
bool admin_replicas_valid(const proto_array *broker_ids, int32_t node_id, char *why, size_t whylen);

/* A printf-formatted string in the request's arena; a null string when out
 * of arena memory (the error code still tells the client what happened). */
proto_str admin_message(broker_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A NUL-terminated copy of s in the arena, or NULL when s is null, longer
 * than max_len, contains a NUL byte, or the arena is exhausted. */
char *admin_cstr(broker_request *req, proto_str s, size_t max_len);

/* Marks (in an arena array of count bools) every item whose proto_str at
 * name_offset (items are stride bytes apart) occurs more than once; with
 * type_offset >= 0 the int8 there must match too (config resources). NULL
 * when the arena is exhausted; an empty array is returned for count <= 0. */
bool *admin_duplicates(broker_request *req, const void *items, int32_t count, size_t stride,
                       size_t name_offset, long type_offset);

/* A broker resource name that means this node: "" (the cluster-wide
 * default, as Kafka allows) or node_id in decimal. */
bool admin_broker_name_ok(proto_str name, int32_t node_id);

/* Zeroed response array of count elements; false when the arena is
 * exhausted (the handler then answers PROTO_CLOSE). */
bool admin_array(broker_request *req, proto_array *arr, const proto_struct *elem, int32_t count);

#endif
