/*
 * broker.h - one broker node, the top of the broker's layers: it opens the
 * data dir and every module, wires them together (the handlers' context of
 * proto/broker_context.h, the listener of net/server.h, the /metrics
 * endpoint, the once-a-second tick, the signals) and runs the event loop.
 *
 * Layers, each including only those below it:
 *   broker (this) -> net -> proto -> {group, cluster} -> log -> {config, metrics} -> common
 *
 * Everything here runs on the single libevent loop thread (DESIGN.md §5).
 */
#ifndef STRAIT_BROKER_H
#define STRAIT_BROKER_H

#include <stdbool.h>

#include "broker/config/broker_config.h"
#include "broker/proto/broker_context.h"

struct event;
struct server;
struct log_cleaner;
struct log_flusher;
struct metrics_http;

typedef struct broker_node {
    broker context;                    /* what the request handlers see */
    struct server *server;             /* the Kafka listeners (net/server.h) */
    struct metrics_http *metrics_http; /* metrics.listener, NULL when off (net/metrics_http.h) */
    struct log_cleaner *cleaner;       /* compaction worker (broker/log/cleaner.h) */
    struct log_flusher *flusher;       /* fsync workers of the flush policy (broker/log/flusher.h) */
    struct event *tick_event;          /* once a second: plog_tick, flush.ms, retention */
    struct event *signal_events[3];    /* SIGTERM, SIGINT, SIGHUP (reload certificates) */
    bool stopping;
} broker_node;

/* Opens the data dir, recovers every log, binds the listener. */
int broker_open(const broker_config *config, broker_node **out);
/* Runs the loop until SIGTERM/SIGINT or broker_stop; returns 0 on a clean stop. */
int broker_run(broker_node *node);
void broker_stop(broker_node *node);
/* Flushes and closes everything. */
void broker_close(broker_node *node);

#endif
