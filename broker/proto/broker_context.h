/*
 * broker_context.h - what a request handler sees of its broker: the
 * configuration, the event loop, the topics, the group coordinator, the
 * producer-id allocator, the region state, the counters, and the requests
 * parked for long polls (proto/request_park.h). Every handler reaches it as
 * req->broker.
 *
 * The node's own wiring (listener, metrics endpoint, tick and signal events,
 * the log cleaner and flusher) is the root's (broker/broker.h) and not
 * visible here, so proto and the layers below never include the root.
 *
 * Everything here runs on the single libevent loop thread (DESIGN.md §5).
 */
#ifndef STRAIT_PROTO_BROKER_CONTEXT_H
#define STRAIT_PROTO_BROKER_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/cluster/topic_registry.h"
#include "broker/config/broker_config.h"
#include "common/limits.h"

struct event;
struct event_base;
struct broker_request;
struct producer_ids;
struct coordinator;
struct metrics;
struct region_state;
struct acl_store;
struct scram_store;

/* Where clients of one listener reach this broker (advertised.listeners). */
typedef struct broker_advertised_address {
    char host[256];
    int port;
} broker_advertised_address;

typedef struct broker {
    broker_config config;
    struct event_base *base;
    topic_registry *topics;
    struct producer_ids *producer_ids; /* InitProducerId allocator (cluster/producer_ids.h) */
    struct coordinator *coordinator; /* consumer groups (broker/group/coordinator.h) */
    struct metrics *metrics;         /* counters behind /metrics (broker/metrics/metrics.h) */
    struct region_state *region;     /* failover role and redirect (cluster/region_state.h) */
    struct acl_store *acls;          /* ACLs (security/acl.h), loaded from the data dir when
                                        authorizer.class.name is set; NULL = no authorizer */
    struct scram_store *users;       /* SASL users (security/scram_store.h), never NULL once open */
    /* The address of this broker on listener 0 (the one clients connected to
     * when no per-listener address applies); advertised[] has every listener's,
     * indexed like proto_responder.listener (broker_advertised). */
    char advertised_host[256];
    int advertised_port;
    broker_advertised_address advertised[LIMIT_LISTENERS];
    int advertised_count;
    struct broker_request *parked; /* doubly linked list of parked requests (request_park.h) */
    struct event *wake_event;      /* wakes parked requests after appends (deferred) */
    bool wake_pending;
} broker;

/* This broker's address for a client connected to listener index listener
 * (proto_responder.listener): advertised[listener], or advertised_host/port
 * when the listener is unknown (a broker without listeners, as in tests). */
static inline void broker_advertised(const broker *b, int listener, const char **host, int *port)
{
    if (listener >= 0 && listener < b->advertised_count) {
        *host = b->advertised[listener].host;
        *port = b->advertised[listener].port;
    } else {
        *host = b->advertised_host;
        *port = b->advertised_port;
    }
}

/* Auto-creates topic name when auto.create.topics.enable is on (Metadata,
 * Produce); returns the topic or NULL (unknown and not created). */
topic *broker_topic_get_or_create(broker *b, const char *name, size_t len, bool allow_create);

/* A topic was created or grew while this broker may be its region's active
 * one: raises its leader epochs to the region epoch (cluster/region_epochs.h). */
void broker_topic_created(broker *b, topic *t);

#endif
