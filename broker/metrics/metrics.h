/*
 * metrics.h - the broker's counters and their rendering in the Prometheus
 * text format (common/metrics_text.h). The whole /metrics page (these
 * counters plus the gauges read from the broker at scrape time) is put
 * together by broker/broker_metrics.h and served by broker/net/metrics_http.h;
 * every metric is listed in docs/metrics.md.
 *
 * Counters are bumped with one call from the place where the event happens
 * (net/server.c, proto/dispatch.c, proto/produce.c, proto/fetch.c). Gauges
 * (connections open, topics, partitions, offsets and sizes, groups by state)
 * are not kept here: they are read from their owners when the page is
 * rendered, so they can never drift from the truth. This module includes
 * nothing of the broker's other folders, so every layer may count.
 *
 * Every count function accepts m == NULL and then does nothing, so code
 * driven by unit tests without a metrics object needs no special case.
 *
 * Runs on the broker's event-loop thread; no locks.
 */
#ifndef STRAIT_BROKER_METRICS_METRICS_H
#define STRAIT_BROKER_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct metrics metrics;

/* Kafka API keys are int16 but the ones defined stay far below 128; a key
 * outside [0, METRICS_API_KEYS) is an invariant broken in the API table. */
#define METRICS_API_KEYS 128

/* Why a request or frame was refused; each closes the connection (or, for
 * ApiVersions at an unknown version, is answered with an error). */
enum metrics_request_error {
    METRICS_REQUEST_ERROR_FRAME_SIZE = 0,      /* size prefix < 8 or > socket.request.max.bytes */
    METRICS_REQUEST_ERROR_UNKNOWN_API,         /* api key strait does not implement */
    METRICS_REQUEST_ERROR_UNSUPPORTED_VERSION, /* version outside the supported range */
    METRICS_REQUEST_ERROR_MALFORMED,           /* header or body does not decode */
    METRICS_REQUEST_ERROR_UNAUTHENTICATED,     /* not ApiVersions/Sasl* before SASL authentication */
    METRICS_REQUEST_ERROR_COUNT
};

/* Label value of a reason ("frame_size", ...). */
const char *metrics_request_error_name(enum metrics_request_error reason);

/* A zeroed set of counters; the uptime clock starts now. ST_ENOMEM. */
int metrics_open(metrics **out);
void metrics_close(metrics *m);

/* One decoded request of api_key (a key from the API table). */
void metrics_count_request(metrics *m, int16_t api_key);
void metrics_count_request_error(metrics *m, enum metrics_request_error reason);
/* Why a connection was closed at accept. */
enum metrics_connection_refusal {
    METRICS_REFUSAL_MAX_CONNECTIONS = 0,  /* max.connections over all listeners */
    METRICS_REFUSAL_LISTENER,             /* listener.name.<name>.max.connections */
    METRICS_REFUSAL_PER_IP,               /* max.connections.per.ip (or its override) */
    METRICS_REFUSAL_COUNT
};

/* Label value of a refusal reason ("max_connections", ...). */
const char *metrics_connection_refusal_name(enum metrics_connection_refusal reason);

/* A TCP connection accepted. */
void metrics_count_connection_accepted(metrics *m);
/* A TCP connection closed at accept, for reason. */
void metrics_count_connection_refused(metrics *m, enum metrics_connection_refusal reason);
/* A connection closed by connections.max.idle.ms. */
void metrics_count_connection_idle_closed(metrics *m);
/* A connection whose socket stopped being read because its unsent
 * responses passed LIMIT_CONNECTION_OUTPUT_BYTES. */
void metrics_count_connection_output_pause(metrics *m);
/* A SASL authentication that succeeded or failed. */
void metrics_count_authentication(metrics *m, bool succeeded);
/* records / bytes of batches appended to topic by Produce (bytes as received). */
void metrics_count_produce(metrics *m, const char *topic, int64_t records, int64_t bytes);
/* Record bytes sent in a Fetch response. */
void metrics_count_fetch(metrics *m, int64_t bytes);

/*
 * Rendering, one part of the page each (the caller checks buf_ok(out)):
 *   metrics_render_uptime       strait_broker_uptime_seconds
 *   metrics_render_requests     requests by API (api_name(arg, key) names a
 *                               key, NULL for a key the broker does not
 *                               serve; keys are rendered in ascending
 *                               order) and request errors by reason
 *   metrics_render_connections  SASL outcomes; connections accepted, refused
 *                               by reason, closed idle, paused for output
 *   metrics_render_produce_fetch  produce records and bytes by topic, fetch bytes
 */
void metrics_render_uptime(const metrics *m, buf *out);
void metrics_render_requests(const metrics *m, const char *(*api_name)(void *arg, int16_t key),
                             void *arg, buf *out);
void metrics_render_connections(const metrics *m, buf *out);
void metrics_render_produce_fetch(const metrics *m, buf *out);

/* Drops the produce counters of every topic for which exists(arg, name,
 * name_len) is false (topics deleted since they were counted). */
void metrics_prune_topics(metrics *m, bool (*exists)(void *arg, const char *name, size_t name_len),
                          void *arg);

#endif
