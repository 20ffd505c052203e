/*
 * broker_metrics.c - the /metrics page of a broker node (see
 * broker_metrics.h): the counters' parts from broker/metrics/metrics.c, in
 * between the gauges read from the node's modules.
 */
#include "broker/broker_metrics.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "broker/cluster/region_state.h"
#include "broker/group/coordinator.h"
#include "broker/log/partition_log.h"
#include "broker/net/server.h"
#include "broker/proto/api.h"
#include "common/clock.h"
#include "common/metrics_text.h"

#define LABEL(n, v) ((metrics_label){.name = (n), .value = (v), .value_len = strlen(v)})

static const char *api_name(void *arg, int16_t key)
{
    (void)arg;
    const proto_api *api = proto_api_find(key);
    return api ? api->name : NULL;
}

static bool topic_exists(void *arg, const char *name, size_t name_len)
{
    const broker *b = arg;
    return topic_registry_find(b->topics, name, name_len) != NULL;
}

static void render_info(const broker *b, buf *out)
{
    char node_id[16];
    snprintf(node_id, sizeof node_id, "%d", (int)b->config.node_id);
    metrics_label labels[2] = {LABEL("node_id", node_id),
                               LABEL("cluster_id", topic_registry_cluster_id(b->topics))};
    metrics_text_family(out, "strait_broker_info", "gauge", "Always 1; the labels name this broker.");
    metrics_text_sample_int(out, "strait_broker_info", labels, 2, 1);
}

static void render_flushes(buf *out)
{
    uint64_t count, nanoseconds;
    plog_flush_totals(&count, &nanoseconds);
    metrics_text_family(out, "strait_broker_log_flushes_total", "counter",
                        "Partition log flushes that fsynced appended data (flush.messages, "
                        "flush.ms, close).");
    metrics_text_sample_uint(out, "strait_broker_log_flushes_total", NULL, 0, count);
    metrics_text_family(out, "strait_broker_log_flush_seconds_total", "counter",
                        "Time spent in those flushes, in seconds.");
    metrics_text_sample_double(out, "strait_broker_log_flush_seconds_total", NULL, 0,
                               (double)nanoseconds / 1e9);
}

/* Which per-partition gauge render_partition_family writes. */
enum partition_gauge { GAUGE_LOG_END_OFFSET, GAUGE_LOG_START_OFFSET, GAUGE_SIZE_BYTES };

static void render_partition_family(const broker *b, buf *out, const char *name, const char *help,
                                    enum partition_gauge which)
{
    metrics_text_family(out, name, "gauge", help);
    for (int i = 0; i < topic_registry_count(b->topics); i++) {
        topic *t = topic_registry_at(b->topics, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            plog *log = t->partitions[p].log;
            if (!log)
                continue;
            char index[16];
            snprintf(index, sizeof index, "%d", (int)p);
            metrics_label labels[2] = {LABEL("topic", t->name), LABEL("partition", index)};
            int64_t value = which == GAUGE_LOG_END_OFFSET   ? plog_log_end_offset(log)
                            : which == GAUGE_LOG_START_OFFSET ? plog_log_start_offset(log)
                                                              : plog_size_bytes(log);
            metrics_text_sample_int(out, name, labels, 2, value);
        }
    }
}

static void render_topics(const broker *b, buf *out)
{
    int64_t partitions = 0;
    for (int i = 0; i < topic_registry_count(b->topics); i++)
        partitions += topic_registry_at(b->topics, i)->partition_count;
    metrics_text_family(out, "strait_broker_topics", "gauge",
                        "Topics on this node, internal ones (__consumer_offsets) included.");
    metrics_text_sample_int(out, "strait_broker_topics", NULL, 0, topic_registry_count(b->topics));
    metrics_text_family(out, "strait_broker_partitions", "gauge", "Partitions on this node.");
    metrics_text_sample_int(out, "strait_broker_partitions", NULL, 0, partitions);
    render_partition_family(b, out, "strait_broker_partition_log_end_offset",
                            "Next offset the partition will assign.", GAUGE_LOG_END_OFFSET);
    render_partition_family(b, out, "strait_broker_partition_log_start_offset",
                            "First offset still readable in the partition.", GAUGE_LOG_START_OFFSET);
    render_partition_family(b, out, "strait_broker_partition_size_bytes",
                            "Bytes of the partition's segment files.", GAUGE_SIZE_BYTES);
}

#define GROUP_STATES (GROUP_DEAD + 1)

static void count_group_state(void *arg, const group *g)
{
    int64_t *by_state = arg;
    enum group_state s = group_current_state(g);
    if ((unsigned)s < GROUP_STATES)
        by_state[s]++;
}

static void render_groups(const broker *b, buf *out)
{
    int64_t by_state[GROUP_STATES] = {0};
    coordinator_groups_each(b->coordinator, count_group_state, by_state);
    metrics_text_family(out, "strait_broker_groups", "gauge", "Consumer groups, by state.");
    for (int s = 0; s < GROUP_STATES; s++) {
        metrics_label label = LABEL("state", group_state_name((enum group_state)s));
        metrics_text_sample_int(out, "strait_broker_groups", &label, 1, by_state[s]);
    }
}

/* The failover state (cluster/region_state.h): the effective role as a
 * one-hot gauge so an alert can say "no region active" (an active region
 * whose lease lapsed is fenced: it takes no writes); whether the lease
 * lapsed; the active region's name as a label. */
static void render_region(const broker *b, buf *out)
{
    const region_state *rs = b->region;
    int64_t now_ms = clock_mono_ms();
    enum region_role role = region_state_effective_role_at(rs, now_ms);
    metrics_text_family(out, "strait_region_role", "gauge",
                        "1 for this broker's effective failover role (none = no failover state; "
                        "an active role whose lease lapsed is fenced).");
    for (int r = REGION_ROLE_NONE; r <= REGION_ROLE_PROMOTING; r++) {
        metrics_label label = LABEL("role", region_role_name((enum region_role)r));
        metrics_text_sample_int(out, "strait_region_role", &label, 1, role == (enum region_role)r);
    }
    metrics_text_family(out, "strait_region_lease_lapsed", "gauge",
                        "1 when strait.region.lease.ms is set and no change renewed the lease "
                        "within it (since start included), else 0.");
    metrics_text_sample_int(out, "strait_region_lease_lapsed", NULL, 0,
                            region_state_lease_lapsed_at(rs, now_ms));
    metrics_text_family(out, "strait_region_epoch", "gauge",
                        "Region epoch of the failover state; 0 when unset.");
    metrics_text_sample_int(out, "strait_region_epoch", NULL, 0, region_state_epoch(rs));
    metrics_text_family(out, "strait_region_active_info", "gauge",
                        "Always 1; the label names the active region (strait.region.active).");
    metrics_label active = LABEL("region", region_state_active_region(rs));
    metrics_text_sample_int(out, "strait_region_active_info", &active, 1, 1);
    metrics_text_family(out, "strait_region_redirect_brokers", "gauge",
                        "Brokers of the active region listed in strait.redirect.brokers.");
    metrics_text_sample_int(out, "strait_region_redirect_brokers", NULL, 0,
                            region_state_broker_count(rs));
}

void broker_metrics_render(metrics *m, broker_node *node, buf *out)
{
    assert(m != NULL);
    broker *b = node ? &node->context : NULL;
    for (int i = 0; i < proto_api_count; i++) /* every key has its counter */
        assert(proto_apis[i]->key >= 0 && proto_apis[i]->key < METRICS_API_KEYS);
    if (b && b->topics)
        render_info(b, out);
    metrics_render_uptime(m, out);
    metrics_render_requests(m, api_name, NULL, out);
    if (node && node->server) {
        metrics_text_family(out, "strait_broker_connections_open", "gauge",
                            "Kafka client connections open now.");
        metrics_text_sample_int(out, "strait_broker_connections_open", NULL, 0,
                                server_connection_count(node->server));
        metrics_text_family(out, "strait_broker_connections_reading_paused", "gauge",
                            "Kafka client connections whose socket is not read now, by reason.");
        metrics_label in_flight = {"reason", "request_in_flight", 17};
        metrics_label output = {"reason", "output_limit", 12};
        metrics_text_sample_int(out, "strait_broker_connections_reading_paused", &in_flight, 1,
                                server_paused_connection_count(node->server, false));
        metrics_text_sample_int(out, "strait_broker_connections_reading_paused", &output, 1,
                                server_paused_connection_count(node->server, true));
    }
    metrics_render_connections(m, out);
    if (b && b->topics)
        metrics_prune_topics(m, topic_exists, b);
    metrics_render_produce_fetch(m, out);
    render_flushes(out);
    if (b && b->topics)
        render_topics(b, out);
    if (b && b->coordinator)
        render_groups(b, out);
    if (b)
        render_region(b, out);
}
