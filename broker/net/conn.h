/*
 * conn.h - one client connection: Kafka framing over a libevent bufferevent,
 * one request in flight at a time (as Kafka), back-pressure on slow readers,
 * responses written as memory plus sendfile file ranges.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_NET_CONN_H
#define STRAIT_NET_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/proto/codec.h"

struct broker;
struct broker_request;
struct bufferevent;

typedef struct conn {
    struct broker *broker;
    struct bufferevent *bev;
    char peer[64];                  /* "ip:port" for logs */
    uint64_t id;
    struct broker_request *current; /* request being handled or parked, or NULL */
    bool closing;                   /* close once the output is flushed */
    struct conn *prev, *next;       /* the server's list */
} conn;

/* Queues a response frame: int32 size, then o's memory and file ranges in
 * order. File descriptors in o move to libevent (sendfile) and are set to -1. */
int conn_send(conn *c, proto_out *o);

/* The current request is answered (or dropped): read the next frame. */
void conn_request_done(conn *c);

/* Closes after pending output is written (protocol errors: reply, then close). */
void conn_close_after_flush(conn *c);

#endif
