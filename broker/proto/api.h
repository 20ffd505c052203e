/*
 * api.h - how an API is plugged into the broker: its schema (codec.h), the
 * version range strait implements, and its handler; and the lifecycle of one
 * request from decoded frame to encoded response.
 *
 * Lifecycle: the connection reads a whole frame, decodes the header, finds the
 * API, checks the version (an unsupported version closes the connection, as
 * Kafka does; ApiVersions answers UNSUPPORTED_VERSION instead), decodes the
 * body into req->request and zero-allocates req->response, then calls
 * handle(req). The handler fills req->response and returns PROTO_RESPOND; or
 * parks the request (long poll, request_park.h) and later calls
 * broker_request_finish; or
 * returns PROTO_NO_RESPONSE (Produce with acks=0) or PROTO_CLOSE.
 * A connection handles one request at a time, in order, as Kafka does.
 */
#ifndef STRAIT_PROTO_API_H
#define STRAIT_PROTO_API_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/proto/codec.h"

struct broker;
struct event;
struct broker_request;
struct proto_responder;

enum proto_handler_result {
    PROTO_RESPOND = 0,     /* response filled: encode and send now */
    PROTO_PARKED = 1,      /* handler will call broker_request_finish later */
    PROTO_NO_RESPONSE = 2, /* send nothing (acks=0) */
    PROTO_CLOSE = 3,       /* close the connection */
};

typedef int (*proto_handler)(struct broker_request *req);

typedef struct proto_api {
    int16_t key;
    const char *name;
    int16_t min_version;   /* what ApiVersions advertises, and what is accepted */
    int16_t max_version;
    int16_t flexible_min;  /* first flexible version, PV_NEVER if none */
    const proto_struct *request;
    const proto_struct *response;
    proto_handler handle;
} proto_api;

/* Every API the broker implements (api_table.c), in key order. */
extern const proto_api *const proto_apis[];
extern const int proto_api_count;
/* The API for key, or NULL. */
const proto_api *proto_api_find(int16_t key);

typedef void (*broker_request_wake_fn)(struct broker_request *req, bool timed_out);

typedef struct broker_request {
    struct broker *broker;
    struct proto_responder *responder; /* the connection it came on (responder.h); NULL in tests */
    const proto_api *api;
    int16_t api_version;
    int32_t correlation_id;
    proto_str client_id;
    bool flexible;
    void *request;           /* decoded body, api->request schema */
    void *response;          /* zeroed body to fill, api->response schema */
    proto_arena arena;       /* everything decoded or allocated for this request */
    uint8_t *frame;          /* the request bytes (owned); strings point into it */
    /* Parking (long polls): */
    struct event *timer;
    broker_request_wake_fn on_wake;
    struct broker_request *park_prev, *park_next;
    void *handler_state;     /* free for the handler (arena memory) */
    /* Called when the connection closes while the request is parked or
     * queued by its handler outside the broker's park list (the group
     * coordinator); the request is freed right after. NULL = nothing to do. */
    void (*on_abandon)(struct broker_request *req);
    /* Answer, then close the connection without reading the requests
     * pipelined behind this one (Produce refused by the region role). */
    bool close_after_response;
} broker_request;

/* Allocation from the request's arena (zeroed); NULL over the ceiling. */
void *broker_request_alloc(broker_request *req, size_t size);

/* Copies into the request's arena, for responses that outlive the state they
 * describe (a group may change before the response is encoded). s NULL gives
 * a null string. When the arena is exhausted the result is null/empty and
 * *failed (if not NULL) is set. */
proto_str broker_request_strdup(broker_request *req, const char *s, bool *failed);
proto_bytes broker_request_bytesdup(broker_request *req, const uint8_t *data, int32_t len,
                                    bool *failed);

/* Encodes and sends req->response, frees req, resumes the connection. */
void broker_request_finish(broker_request *req);

#endif
