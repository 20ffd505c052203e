/*
 * responder.h - how proto reaches the connection a request came on, without
 * knowing what a connection is: the transport (broker/net/) embeds one
 * proto_responder per connection and fills in its operations; dispatch.c
 * sends responses through it and tells it when a request is finished.
 *
 * The transport reads the next frame only while current is NULL; proto sets
 * current while a request is being handled or parked and clears it before
 * calling request_done or close_after_flush. When the transport closes a
 * connection whose current is set, it hands the request back with
 * proto_dispatch_abandon (dispatch.h).
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_RESPONDER_H
#define STRAIT_PROTO_RESPONDER_H

#include "broker/proto/codec.h"

struct broker_request;
struct proto_responder;
struct proto_sasl;

typedef struct proto_responder_ops {
    /* Queues a response frame: int32 size, then out's memory and file ranges
     * in order. File descriptors in out move to the transport and are set to
     * -1. Returns 0 or an ST_E* error. */
    int (*send)(struct proto_responder *responder, proto_out *out);
    /* The current request is answered (or dropped): read the next frame. */
    void (*request_done)(struct proto_responder *responder);
    /* Closes after pending output is written (reply, then close). */
    void (*close_after_flush)(struct proto_responder *responder);
} proto_responder_ops;

/* The principal of a connection nobody authenticated (Kafka's name). */
#define PROTO_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"
/* Longest principal ("User:" and a user name or a certificate subject). */
#define PROTO_PRINCIPAL_MAX 512
/* Longest client address without its port (an IPv6 address in text). */
#define PROTO_CLIENT_HOST_MAX 64

typedef struct proto_responder {
    const proto_responder_ops *ops;
    const char *peer;                 /* "ip:port" of the client, for logs */
    struct broker_request *current;   /* request being handled or parked, or NULL */
    /* Who the client is, as the ACLs (security/acl.h) see it: the transport
     * sets PROTO_PRINCIPAL_ANONYMOUS at accept and the authenticated
     * principal once a TLS client certificate or SASL says who it is. */
    char principal[PROTO_PRINCIPAL_MAX];
    /* The client's address without the port: the host an ACL matches. */
    char client_host[PROTO_CLIENT_HOST_MAX];
    /* Index of the listener the client connected to (broker.advertised[]):
     * Metadata and FindCoordinator answer with that listener's address. */
    int listener;
    /* SASL state on a SASL_PLAINTEXT / SASL_SSL listener (sasl_apis.h): the
     * transport creates and frees it; NULL on other listeners. */
    struct proto_sasl *sasl;
} proto_responder;

#endif
