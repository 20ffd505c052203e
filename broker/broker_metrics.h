/*
 * broker_metrics.h - the whole /metrics page of a broker node: the counters
 * (broker/metrics/metrics.h) and the gauges read from the node's modules at
 * scrape time (connections, topics and partitions, groups by state, the
 * region role), in the Prometheus text format. Every metric is listed in
 * docs/metrics.md.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_BROKER_METRICS_H
#define STRAIT_BROKER_METRICS_H

#include "broker/broker.h"
#include "broker/metrics/metrics.h"
#include "common/buf.h"

/*
 * Appends every metric to out in the exposition format: the counters, the
 * log flush totals and uptime, and when node is not NULL the gauges read
 * from it (its server, topic registry, group coordinator and region state).
 * Topics deleted from node's registry lose their produce counters here. The
 * caller checks buf_ok(out) (the page may exceed out's ceiling).
 */
void broker_metrics_render(metrics *m, broker_node *node, buf *out);

#endif
