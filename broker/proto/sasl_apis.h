/*
 * sasl_apis.h - SASL on a connection of a SASL_PLAINTEXT or SASL_SSL
 * listener: SaslHandshake (17) v0-1, SaslAuthenticate (36) v0-2, the raw
 * token exchange that follows SaslHandshake v0, and what a connection may
 * send before it is authenticated (ApiVersions, SaslHandshake,
 * SaslAuthenticate; requests up to LIMIT_PREAUTH_REQUEST_BYTES).
 *
 * The transport creates a proto_sasl for each connection of a SASL listener
 * (proto_responder.sasl) and frees it when the connection closes; on other
 * listeners proto_responder.sasl is NULL and none of this applies.
 */
#ifndef STRAIT_PROTO_SASL_APIS_H
#define STRAIT_PROTO_SASL_APIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/api.h"

struct broker;
struct proto_responder;
typedef struct proto_sasl proto_sasl;

/* Message structs (field tables in sasl_apis.c; the CLI's Kafka client uses
 * them too, kafka_client/kafka_client.c). */
typedef struct sasl_handshake_request {
    proto_str mechanism;
} sasl_handshake_request;

typedef struct sasl_handshake_response {
    int16_t error_code;
    proto_array mechanisms; /* proto_string */
} sasl_handshake_response;

typedef struct sasl_authenticate_request {
    proto_bytes auth_bytes;
} sasl_authenticate_request;

typedef struct sasl_authenticate_response {
    int16_t error_code;
    proto_str error_message;
    proto_bytes auth_bytes;
    int64_t session_lifetime_ms;
} sasl_authenticate_response;

extern const proto_api api_sasl_handshake;
extern const proto_api api_sasl_authenticate;

/* SASL state of a connection whose listener enables mechanisms (a comma list
 * from sasl.enabled.mechanisms); NULL when out of memory. */
proto_sasl *proto_sasl_new(const char *mechanisms, const char *peer);
void proto_sasl_free(proto_sasl *sasl);

/* True when the connection may send any request (not a SASL connection, or
 * authenticated). */
bool proto_sasl_authenticated(const struct proto_responder *responder);
/* True for the APIs a SASL connection may send before authenticating. */
bool proto_sasl_allowed_before_authentication(int16_t api_key);
/* True when the next frame is a raw SASL token (after SaslHandshake v0). */
bool proto_sasl_expects_raw_token(const struct proto_responder *responder);
/* Handles one raw token frame: answers with the raw challenge, or closes.
 * Takes frame. 0, or -1 to close the connection now. */
int proto_sasl_raw_token(struct broker *b, struct proto_responder *responder, uint8_t *frame,
                         size_t len);

#endif
