/*
 * metrics.h - the broker's counters, and the rendering of every broker
 * metric (counters plus gauges read from the broker at scrape time) in the
 * Prometheus text format (common/metrics_text.h). Served on /metrics by
 * broker/net/metrics_http.h; every metric is listed in docs/metrics.md.
 *
 * Counters are bumped with one call from the place where the event happens
 * (server.c, dispatch.c, produce.c, fetch.c). Gauges (connections open,
 * topics, partitions, offsets and sizes, groups by state) are not kept here:
 * they are read from their owners when the page is rendered, so they can
 * never drift from the truth.
 *
 * Every count function accepts m == NULL and then does nothing, so code
 * driven by unit tests without a metrics object needs no special case.
 *
 * Runs on the broker's event-loop thread; no locks.
 */
#ifndef STRAIT_BROKER_METRICS_H
#define STRAIT_BROKER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct broker;

typedef struct metrics metrics;

/* Why a request or frame was refused; each closes the connection (or, for
 * ApiVersions at an unknown version, is answered with an error). */
enum metrics_request_error {
    METRICS_REQUEST_ERROR_FRAME_SIZE = 0,      /* size prefix < 8 or > socket.request.max.bytes */
    METRICS_REQUEST_ERROR_UNKNOWN_API,         /* api key strait does not implement */
    METRICS_REQUEST_ERROR_UNSUPPORTED_VERSION, /* version outside the supported range */
    METRICS_REQUEST_ERROR_MALFORMED,           /* header or body does not decode */
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
/* A TCP connection accepted (accepted=true) or refused at the connection limit. */
void metrics_count_connection(metrics *m, bool accepted);
/* records / bytes of batches appended to topic by Produce (bytes as received). */
void metrics_count_produce(metrics *m, const char *topic, int64_t records, int64_t bytes);
/* Record bytes sent in a Fetch response. */
void metrics_count_fetch(metrics *m, int64_t bytes);

/*
 * Appends every metric to out in the exposition format: the counters, the
 * log flush totals and uptime, and when b is not NULL the gauges read from
 * b (its server, topic registry and group coordinator). Topics deleted from
 * b's registry lose their produce counters here. The caller checks
 * buf_ok(out) (the page may exceed out's ceiling).
 */
void metrics_render(metrics *m, struct broker *b, buf *out);

#endif
