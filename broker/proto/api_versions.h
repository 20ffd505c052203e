/*
 * api_versions.h - the message structs of ApiVersions (18), v0-4 (flexible
 * from v3). The field tables are in api_versions.c; the structs are here so
 * the CLI's Kafka client (kafka_client/kafka_client.c) asks and reads with
 * the same tables the broker answers with.
 */
#ifndef STRAIT_PROTO_API_VERSIONS_H
#define STRAIT_PROTO_API_VERSIONS_H

#include <stdint.h>

#include "broker/proto/codec.h"

typedef struct api_versions_request {
    proto_str client_software_name;
    proto_str client_software_version;
} api_versions_request;

typedef struct api_versions_key {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
} api_versions_key;

typedef struct api_versions_response {
    int16_t error_code;
    proto_array api_keys; /* api_versions_key */
    int32_t throttle_time_ms;
} api_versions_response;

#endif
