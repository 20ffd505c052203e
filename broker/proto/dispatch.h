/*
 * dispatch.h - from a received frame to a handled request: header decoding,
 * API and version lookup, body decoding, the handler call, and the response.
 * The request lifecycle functions of api.h live here too.
 */
#ifndef STRAIT_PROTO_DISPATCH_H
#define STRAIT_PROTO_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "broker/proto/api.h"

struct broker;
struct proto_responder;
struct broker_request;

typedef struct proto_request_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    proto_str client_id;
    bool flexible;
} proto_request_header;

enum proto_decode_result {
    PROTO_DECODE_OK = 0,
    PROTO_DECODE_UNKNOWN_API = 1,         /* close the connection */
    PROTO_DECODE_UNSUPPORTED_VERSION = 2, /* ApiVersions: error 35; others: close */
    PROTO_DECODE_MALFORMED = 3,           /* close the connection */
};

/* Where and why a request frame did not decode (PROTO_DECODE_MALFORMED). */
typedef struct proto_decode_failure {
    const char *field;   /* the field that failed ("client_id", "topics", ...) */
    int error;           /* ST_E* reason */
    size_t offset_bytes; /* offset in the frame (after the size prefix) where
                            decoding stopped (common/reader.h error_offset) */
} proto_decode_failure;

/* Decodes a request frame: header, API lookup, version check, body into a
 * zeroed struct from the arena (*body). On MALFORMED, *failure says where
 * and why. A client_id length below -1 is malformed, as any other string
 * length below -1 (codec.c). Never reads outside frame[0..len). */
int proto_request_decode(const uint8_t *frame, size_t len, proto_arena *arena,
                         proto_request_header *header, const proto_api **api, void **body,
                         proto_decode_failure *failure);

/* Handles one request frame (without its size prefix) that came on the
 * connection behind responder; takes ownership of frame (malloc'ed).
 * Returns 0 to keep the connection, -1 to close it now. */
int proto_dispatch_frame(struct broker *b, struct proto_responder *responder, uint8_t *frame,
                         size_t len);

/* The connection of a parked or running request is closing: drop it. */
void proto_dispatch_abandon(struct broker_request *req);

#endif
