/*
 * metrics.c - the broker's counters and the /metrics page (see metrics.h).
 *
 * Produce counters are kept per topic in a chained hash table keyed by the
 * topic name. An entry is created by the first append to a topic that
 * exists, so the table holds at most the topics the registry ever held
 * (LIMIT_TOPICS is its ceiling); rendering with a broker drops the entries
 * of topics that are gone.
 */
#include "broker/metrics.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/cluster/region_state.h"
#include "broker/group/coordinator.h"
#include "broker/log/partition_log.h"
#include "broker/net/server.h"
#include "broker/proto/api.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/metrics_text.h"

/* Kafka API keys are int16 but the ones defined stay far below 128; a key
 * outside the table is an invariant broken in the API table. */
#define METRICS_API_KEYS 128
#define METRICS_TOPIC_BUCKETS 1024 /* power of two */

typedef struct topic_counters {
    struct topic_counters *next;
    uint64_t records;
    uint64_t bytes;
    size_t name_len;
    char name[]; /* name_len bytes + NUL */
} topic_counters;

struct metrics {
    int64_t started_mono_ms;
    uint64_t requests[METRICS_API_KEYS];
    uint64_t request_errors[METRICS_REQUEST_ERROR_COUNT];
    uint64_t connections_accepted;
    uint64_t connections_refused;
    uint64_t fetch_bytes;
    topic_counters *topics[METRICS_TOPIC_BUCKETS];
    size_t topic_count;
};

static const char *const request_error_names[METRICS_REQUEST_ERROR_COUNT] = {
    [METRICS_REQUEST_ERROR_FRAME_SIZE] = "frame_size",
    [METRICS_REQUEST_ERROR_UNKNOWN_API] = "unknown_api",
    [METRICS_REQUEST_ERROR_UNSUPPORTED_VERSION] = "unsupported_version",
    [METRICS_REQUEST_ERROR_MALFORMED] = "malformed",
};

const char *metrics_request_error_name(enum metrics_request_error reason)
{
    return (unsigned)reason < METRICS_REQUEST_ERROR_COUNT ? request_error_names[reason] : "unknown";
}

int metrics_open(metrics **out)
{
    metrics *m = calloc(1, sizeof *m);
    if (!m)
        return ST_ENOMEM;
    m->started_mono_ms = clock_mono_ms();
    *out = m;
    return 0;
}

void metrics_close(metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < METRICS_TOPIC_BUCKETS; i++) {
        while (m->topics[i]) {
            topic_counters *e = m->topics[i];
            m->topics[i] = e->next;
            free(e);
        }
    }
    free(m);
}

void metrics_count_request(metrics *m, int16_t api_key)
{
    if (!m)
        return;
    assert(api_key >= 0 && api_key < METRICS_API_KEYS);
    if (api_key >= 0 && api_key < METRICS_API_KEYS)
        m->requests[api_key]++;
}

void metrics_count_request_error(metrics *m, enum metrics_request_error reason)
{
    if (m && (unsigned)reason < METRICS_REQUEST_ERROR_COUNT)
        m->request_errors[reason]++;
}

void metrics_count_connection(metrics *m, bool accepted)
{
    if (!m)
        return;
    if (accepted)
        m->connections_accepted++;
    else
        m->connections_refused++;
}

/* FNV-1a: topic names are short and chosen by clients, not adversarial
 * enough to matter here (a bad spread only costs scrape time). */
static size_t topic_bucket(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h & (METRICS_TOPIC_BUCKETS - 1);
}

static topic_counters *topic_entry(metrics *m, const char *name)
{
    size_t len = strlen(name);
    size_t bucket = topic_bucket(name, len);
    for (topic_counters *e = m->topics[bucket]; e; e = e->next)
        if (e->name_len == len && memcmp(e->name, name, len) == 0)
            return e;
    if (m->topic_count >= LIMIT_TOPICS)
        return NULL; /* only after deleted topics piled up unscraped: drop the count */
    topic_counters *e = calloc(1, sizeof *e + len + 1);
    if (!e)
        return NULL;
    e->name_len = len;
    memcpy(e->name, name, len + 1);
    e->next = m->topics[bucket];
    m->topics[bucket] = e;
    m->topic_count++;
    return e;
}

void metrics_count_produce(metrics *m, const char *topic, int64_t records, int64_t bytes)
{
    if (!m)
        return;
    topic_counters *e = topic_entry(m, topic);
    if (!e)
        return;
    e->records += records > 0 ? (uint64_t)records : 0;
    e->bytes += bytes > 0 ? (uint64_t)bytes : 0;
}

void metrics_count_fetch(metrics *m, int64_t bytes)
{
    if (m && bytes > 0)
        m->fetch_bytes += (uint64_t)bytes;
}

/* ---- rendering ----------------------------------------------------------- */

#define LABEL(n, v) ((metrics_label){.name = (n), .value = (v), .value_len = strlen(v)})

static void render_requests(const metrics *m, buf *out)
{
    metrics_text_family(out, "strait_broker_requests_total", "counter",
                        "Requests decoded and handed to their API handler, by API.");
    for (int i = 0; i < proto_api_count; i++) {
        const proto_api *api = proto_apis[i];
        assert(api->key >= 0 && api->key < METRICS_API_KEYS);
        metrics_label label = LABEL("api", api->name);
        metrics_text_sample_uint(out, "strait_broker_requests_total", &label, 1,
                                 m->requests[api->key]);
    }
    metrics_text_family(out, "strait_broker_request_errors_total", "counter",
                        "Frames refused before a handler ran (the connection is closed), by reason.");
    for (int i = 0; i < METRICS_REQUEST_ERROR_COUNT; i++) {
        metrics_label label = LABEL("reason", request_error_names[i]);
        metrics_text_sample_uint(out, "strait_broker_request_errors_total", &label, 1,
                                 m->request_errors[i]);
    }
}

static void render_connections(const metrics *m, struct broker *b, buf *out)
{
    if (b && b->server) {
        metrics_text_family(out, "strait_broker_connections_open", "gauge",
                            "Kafka client connections open now.");
        metrics_text_sample_int(out, "strait_broker_connections_open", NULL, 0,
                                server_connection_count(b->server));
    }
    metrics_text_family(out, "strait_broker_connections_accepted_total", "counter",
                        "Kafka client connections accepted.");
    metrics_text_sample_uint(out, "strait_broker_connections_accepted_total", NULL, 0,
                             m->connections_accepted);
    metrics_text_family(out, "strait_broker_connections_refused_total", "counter",
                        "Kafka client connections closed at once: the connection limit was reached.");
    metrics_text_sample_uint(out, "strait_broker_connections_refused_total", NULL, 0,
                             m->connections_refused);
}

/* Drops the counters of topics no longer in b's registry. */
static void prune_topics(metrics *m, struct broker *b)
{
    for (size_t i = 0; i < METRICS_TOPIC_BUCKETS; i++) {
        topic_counters **link = &m->topics[i];
        while (*link) {
            topic_counters *e = *link;
            if (topic_registry_find(b->topics, e->name, e->name_len)) {
                link = &e->next;
                continue;
            }
            *link = e->next;
            free(e);
            m->topic_count--;
        }
    }
}

static void render_produce_fetch(metrics *m, struct broker *b, buf *out)
{
    if (b && b->topics)
        prune_topics(m, b);
    static const char *const names[2] = {"strait_broker_produce_records_total",
                                         "strait_broker_produce_bytes_total"};
    static const char *const helps[2] = {
        "Records appended by Produce, by topic.",
        "Record batch bytes appended by Produce as received (before any recompression), by topic."};
    for (int k = 0; k < 2; k++) {
        metrics_text_family(out, names[k], "counter", helps[k]);
        for (size_t i = 0; i < METRICS_TOPIC_BUCKETS; i++) {
            for (const topic_counters *e = m->topics[i]; e; e = e->next) {
                metrics_label label = {.name = "topic", .value = e->name, .value_len = e->name_len};
                metrics_text_sample_uint(out, names[k], &label, 1, k == 0 ? e->records : e->bytes);
            }
        }
    }
    metrics_text_family(out, "strait_broker_fetch_bytes_total", "counter",
                        "Record bytes sent in Fetch responses.");
    metrics_text_sample_uint(out, "strait_broker_fetch_bytes_total", NULL, 0, m->fetch_bytes);
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

static void render_partition_family(struct broker *b, buf *out, const char *name, const char *help,
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

static void render_topics(struct broker *b, buf *out)
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

static void render_groups(struct broker *b, buf *out)
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
static void render_region(struct broker *b, buf *out)
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

static void render_process(const metrics *m, struct broker *b, buf *out)
{
    if (b && b->topics) {
        char node_id[16];
        snprintf(node_id, sizeof node_id, "%d", (int)b->config.node_id);
        metrics_label labels[2] = {LABEL("node_id", node_id),
                                   LABEL("cluster_id", topic_registry_cluster_id(b->topics))};
        metrics_text_family(out, "strait_broker_info", "gauge",
                            "Always 1; the labels name this broker.");
        metrics_text_sample_int(out, "strait_broker_info", labels, 2, 1);
    }
    metrics_text_family(out, "strait_broker_uptime_seconds", "gauge",
                        "Seconds since the broker started.");
    metrics_text_sample_double(out, "strait_broker_uptime_seconds", NULL, 0,
                               (double)(clock_mono_ms() - m->started_mono_ms) / 1000.0);
}

void metrics_render(metrics *m, struct broker *b, buf *out)
{
    assert(m != NULL);
    render_process(m, b, out);
    render_requests(m, out);
    render_connections(m, b, out);
    render_produce_fetch(m, b, out);
    render_flushes(out);
    if (b && b->topics)
        render_topics(b, out);
    if (b && b->coordinator)
        render_groups(b, out);
    if (b)
        render_region(b, out);
}
