/*
 * scram_apis.h - the message structs of DescribeUserScramCredentials (50)
 * and AlterUserScramCredentials (51), v0 (flexible), and their API
 * descriptors. The field tables are in scram_apis.c; the structs are here
 * so the CLI's Kafka client (kafka_client/scram_users.c) builds requests and
 * reads responses with the same tables the broker decodes and encodes them
 * with. Mechanism codes are Kafka's: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
 */
#ifndef STRAIT_PROTO_SCRAM_APIS_H
#define STRAIT_PROTO_SCRAM_APIS_H

#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/codec.h"

extern const proto_api api_describe_user_scram_credentials; /* key 50, v0 */
extern const proto_api api_alter_user_scram_credentials;    /* key 51, v0 */

typedef struct describe_user {
    proto_str name;
} describe_user;

typedef struct describe_request {
    proto_array users; /* describe_user; null = every user */
} describe_request;

typedef struct credential_info {
    int8_t mechanism;
    int32_t iterations;
} credential_info;

typedef struct describe_result {
    proto_str user;
    int16_t error_code;
    proto_str error_message;
    proto_array credential_infos; /* credential_info */
} describe_result;

typedef struct describe_response {
    int32_t throttle_time_ms;
    int16_t error_code;
    proto_str error_message;
    proto_array results; /* describe_result */
} describe_response;

typedef struct deletion {
    proto_str name;
    int8_t mechanism;
} deletion;

typedef struct upsertion {
    proto_str name;
    int8_t mechanism;
    int32_t iterations;
    proto_bytes salt;
    proto_bytes salted_password;
} upsertion;

typedef struct alter_request {
    proto_array deletions;  /* deletion */
    proto_array upsertions; /* upsertion */
} alter_request;

typedef struct alter_result {
    proto_str user;
    int16_t error_code;
    proto_str error_message;
} alter_result;

typedef struct alter_response {
    int32_t throttle_time_ms;
    proto_array results; /* alter_result */
} alter_response;

#endif
