/*
 * broker.h - one broker node: its configuration, event loop, topics, the
 * network server, and the requests parked for long polls.
 *
 * Everything here runs on the single libevent loop thread (DESIGN.md §5).
 */
#ifndef STRAIT_BROKER_H
#define STRAIT_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker_config.h"
#include "broker/cluster/topic_registry.h"

struct event_base;
struct broker_request;
struct server;
struct producer_ids;
struct coordinator;
struct log_cleaner;
struct log_flusher;
struct metrics;
struct metrics_http;
struct region_state;

typedef struct broker {
    broker_config config;
    struct event_base *base;
    topic_registry *topics;
    struct producer_ids *producer_ids; /* InitProducerId allocator (cluster/producer_ids.h) */
    struct server *server;
    struct coordinator *coordinator; /* consumer groups (broker/group/coordinator.h) */
    struct log_cleaner *cleaner;     /* compaction worker (broker/log/cleaner.h) */
    struct log_flusher *flusher;     /* fsync workers of the flush policy (broker/log/flusher.h) */
    struct metrics *metrics;         /* counters behind /metrics (broker/metrics.h) */
    struct metrics_http *metrics_http; /* metrics.listener, NULL when off (net/metrics_http.h) */
    struct region_state *region;     /* failover role and redirect (cluster/region_state.h) */
    char advertised_host[256];
    int advertised_port;
    struct broker_request *parked; /* doubly linked list of parked requests */
    struct event *tick_event;      /* once a second: plog_tick, flush.ms, retention */
    struct event *wake_event;      /* wakes parked requests after appends (deferred) */
    bool wake_pending;
    struct event *signal_events[2];
    bool stopping;
} broker;

/* Opens the data dir, recovers every log, binds the listener. */
int broker_open(const broker_config *config, broker **out);
/* Runs the loop until SIGTERM/SIGINT or broker_stop; returns 0 on a clean stop. */
int broker_run(broker *b);
void broker_stop(broker *b);
/* Flushes and closes everything. */
void broker_close(broker *b);

/* Called after records are appended to p: wakes parked requests (Fetch
 * long-polls) so they re-check their partitions. */
void broker_notify_append(broker *b, partition *p);

/* Runs the deferred wake-up of parked requests (the loop calls it). */
void broker_wake_parked(broker *b);

/* Auto-creates topic name when auto.create.topics.enable is on (Metadata,
 * Produce); returns the topic or NULL (unknown and not created). */
topic *broker_topic_get_or_create(broker *b, const char *name, size_t len, bool allow_create);

/* A topic was created or grew while this broker may be its region's active
 * one: raises its leader epochs to the region epoch (cluster/region_epochs.h). */
void broker_topic_created(broker *b, topic *t);

#endif
