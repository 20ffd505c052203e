/*
 * metrics.c - the broker's counters and their part of the /metrics page
 * (see metrics.h).
 *
 * Produce counters are kept per topic in a chained hash table keyed by the
 * topic name. An entry is created by the first append to a topic that
 * exists, so the table holds at most the topics the registry ever held
 * (LIMIT_TOPICS is its ceiling); metrics_prune_topics drops the entries of
 * topics that are gone (the page does, before rendering them).
 */
#include "broker/metrics/metrics.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/metrics_text.h"

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
    uint64_t connections_refused[METRICS_REFUSAL_COUNT];
    uint64_t connections_idle_closed;
    uint64_t connection_output_pauses;
    uint64_t authentications_succeeded;
    uint64_t authentications_failed;
    uint64_t fetch_bytes;
    topic_counters *topics[METRICS_TOPIC_BUCKETS];
    size_t topic_count;
};

static const char *const request_error_names[METRICS_REQUEST_ERROR_COUNT] = {
    [METRICS_REQUEST_ERROR_FRAME_SIZE] = "frame_size",
    [METRICS_REQUEST_ERROR_UNKNOWN_API] = "unknown_api",
    [METRICS_REQUEST_ERROR_UNSUPPORTED_VERSION] = "unsupported_version",
    [METRICS_REQUEST_ERROR_MALFORMED] = "malformed",
    [METRICS_REQUEST_ERROR_UNAUTHENTICATED] = "unauthenticated",
};

static const char *const refusal_names[METRICS_REFUSAL_COUNT] = {
    [METRICS_REFUSAL_MAX_CONNECTIONS] = "max_connections",
    [METRICS_REFUSAL_LISTENER] = "listener_max_connections",
    [METRICS_REFUSAL_PER_IP] = "max_connections_per_ip",
};

const char *metrics_connection_refusal_name(enum metrics_connection_refusal reason)
{
    return (unsigned)reason < METRICS_REFUSAL_COUNT ? refusal_names[reason] : "unknown";
}

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

void metrics_count_connection_accepted(metrics *m)
{
    if (m)
        m->connections_accepted++;
}

void metrics_count_connection_refused(metrics *m, enum metrics_connection_refusal reason)
{
    if (m && (unsigned)reason < METRICS_REFUSAL_COUNT)
        m->connections_refused[reason]++;
}

void metrics_count_connection_idle_closed(metrics *m)
{
    if (m)
        m->connections_idle_closed++;
}

void metrics_count_connection_output_pause(metrics *m)
{
    if (m)
        m->connection_output_pauses++;
}

void metrics_count_authentication(metrics *m, bool succeeded)
{
    if (!m)
        return;
    if (succeeded)
        m->authentications_succeeded++;
    else
        m->authentications_failed++;
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

void metrics_render_uptime(const metrics *m, buf *out)
{
    metrics_text_family(out, "strait_broker_uptime_seconds", "gauge",
                        "Seconds since the broker started.");
    metrics_text_sample_double(out, "strait_broker_uptime_seconds", NULL, 0,
                               (double)(clock_mono_ms() - m->started_mono_ms) / 1000.0);
}

void metrics_render_requests(const metrics *m, const char *(*api_name)(void *arg, int16_t key),
                             void *arg, buf *out)
{
    metrics_text_family(out, "strait_broker_requests_total", "counter",
                        "Requests decoded and handed to their API handler, by API.");
    for (int16_t key = 0; key < METRICS_API_KEYS; key++) {
        const char *name = api_name(arg, key);
        if (name == NULL)
            continue;
        metrics_label label = LABEL("api", name);
        metrics_text_sample_uint(out, "strait_broker_requests_total", &label, 1, m->requests[key]);
    }
    metrics_text_family(out, "strait_broker_request_errors_total", "counter",
                        "Frames refused before a handler ran (the connection is closed), by reason.");
    for (int i = 0; i < METRICS_REQUEST_ERROR_COUNT; i++) {
        metrics_label label = LABEL("reason", request_error_names[i]);
        metrics_text_sample_uint(out, "strait_broker_request_errors_total", &label, 1,
                                 m->request_errors[i]);
    }
}

void metrics_render_connections(const metrics *m, buf *out)
{
    metrics_text_family(out, "strait_broker_sasl_authentications_total", "counter",
                        "SASL authentications on SASL listeners, by outcome.");
    metrics_label ok = LABEL("outcome", "succeeded"), failed = LABEL("outcome", "failed");
    metrics_text_sample_uint(out, "strait_broker_sasl_authentications_total", &ok, 1,
                             m->authentications_succeeded);
    metrics_text_sample_uint(out, "strait_broker_sasl_authentications_total", &failed, 1,
                             m->authentications_failed);
    metrics_text_family(out, "strait_broker_connections_accepted_total", "counter",
                        "Kafka client connections accepted.");
    metrics_text_sample_uint(out, "strait_broker_connections_accepted_total", NULL, 0,
                             m->connections_accepted);
    metrics_text_family(out, "strait_broker_connections_refused_total", "counter",
                        "Kafka client connections closed at accept, by the limit that was reached.");
    for (int i = 0; i < METRICS_REFUSAL_COUNT; i++) {
        metrics_label label = LABEL("reason", refusal_names[i]);
        metrics_text_sample_uint(out, "strait_broker_connections_refused_total", &label, 1,
                                 m->connections_refused[i]);
    }
    metrics_text_family(out, "strait_broker_connections_idle_closed_total", "counter",
                        "Kafka client connections closed by connections.max.idle.ms.");
    metrics_text_sample_uint(out, "strait_broker_connections_idle_closed_total", NULL, 0,
                             m->connections_idle_closed);
    metrics_text_family(out, "strait_broker_connection_output_pauses_total", "counter",
                        "Times a connection's requests stopped being read because its unsent "
                        "responses passed the output limit.");
    metrics_text_sample_uint(out, "strait_broker_connection_output_pauses_total", NULL, 0,
                             m->connection_output_pauses);
}

void metrics_prune_topics(metrics *m, bool (*exists)(void *arg, const char *name, size_t name_len),
                          void *arg)
{
    for (size_t i = 0; i < METRICS_TOPIC_BUCKETS; i++) {
        topic_counters **link = &m->topics[i];
        while (*link) {
            topic_counters *e = *link;
            if (exists(arg, e->name, e->name_len)) {
                link = &e->next;
                continue;
            }
            *link = e->next;
            free(e);
            m->topic_count--;
        }
    }
}

void metrics_render_produce_fetch(const metrics *m, buf *out)
{
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
