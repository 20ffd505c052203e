/*
 * flow_internal.h - a flow's state, shared by flow.c (thread, lifecycle,
 * status), flow_copy.c (copy loop, delivery reports, lag, heartbeats) and
 * flow_sync.c (discovery, topic sync, assignment, resume). Private to mirror/.
 *
 * Threads: everything here is owned by the flow's thread. The thread holds
 * flow->lock whenever it MUTATES state read by mirror_flow_status_get (and
 * whenever it serves the producer, whose delivery callback mutates state);
 * it may read without the lock. Only `stopping` is touched by other threads.
 */
#ifndef STRAIT_MIRROR_FLOW_INTERNAL_H
#define STRAIT_MIRROR_FLOW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "checkpoints/checkpoint_store.h"
#include "mirror/acl_sync.h"
#include "mirror/flow.h"
#include "mirror/topic_config.h"
#include "topology/topology.h"

/* Delivered pairs buffered per partition before one checkpoint_map_extend. */
#define FLOW_PENDING_PAIRS 1024
/* Topics one flow follows. */
#define FLOW_TOPICS_MAX 4096
/* Timeouts of admin/metadata calls and of tail reads. */
#define FLOW_ADMIN_TIMEOUT_MS 10000
/* SIGTERM: how long in-flight produce requests may take to finish. */
#define FLOW_STOP_FLUSH_MS 15000
#define FLOW_HEARTBEAT_INTERVAL_MS 1000
#define FLOW_LAG_INTERVAL_MS 1000
/* Delivered pairs reach the offset map at least this often: group
 * checkpoints translate through the map, so its lag behind delivery widens
 * the window a group re-reads after an unplanned failover (one small WAL
 * transaction per partition with new pairs, ~10 a second). */
#define FLOW_MAP_FLUSH_INTERVAL_MS 100
/* Records handled per wake-up before the producer is served again. */
#define FLOW_POLL_BATCH 2000
#define FLOW_RETRY_BACKOFF_MS 1000
/* A region that keeps failing is retried at doubling intervals up to this. */
#define FLOW_RETRY_BACKOFF_MAX_MS 16000
/* Metadata timeout while a region is known to be failing (a healthy one
 * answers in milliseconds): bounds how long the loop blocks per retry. */
#define FLOW_PROBE_TIMEOUT_MS 2000
/* Records handed to the producer and not yet acknowledged, for the whole
 * flow: past it the loop stops consuming (target slow or down) instead of
 * filling librdkafka's queue (100,000 messages) and blocking on it. */
#define FLOW_IN_FLIGHT_MAX 50000

typedef struct flow_topic flow_topic;

typedef struct flow_partition {
    bool assigned;             /* in the source consumer's assignment */
    bool needs_resume;         /* read the target tail before (re)assigning */
    int64_t next_offset;       /* next source offset to copy; RD_KAFKA_OFFSET_BEGINNING if unknown */
    int64_t source_end_offset; /* high watermark last seen */
    int64_t source_log_start;
    int64_t last_delivered_timestamp_ms; /* record timestamp of the last delivered copy */
    int64_t lag_started_ms;    /* wall clock when lag was first seen after being 0 */
    int64_t lag_records;
    int64_t lag_ms;
    int64_t last_poll_ms;
    int64_t last_produce_ms;
    int64_t records_copied;
    int64_t in_flight;         /* produced, delivery report not served yet (part of the lag) */
    size_t pending_count;
    checkpoint_pair pending[FLOW_PENDING_PAIRS];
    /* Identity naming: per origin region (topology index), the highest offset
     * of this partition the target holds from that region's own flow; read
     * from the store at the first relayed record, forgotten at each resume. */
    bool held_known[TOPOLOGY_REGIONS_MAX];
    int64_t held_offset[TOPOLOGY_REGIONS_MAX];
} flow_partition;

struct flow_topic {
    char source[256];
    char target[256];
    int partition_count;
    flow_partition **partitions; /* each malloc'ed (stable) */
    rd_kafka_topic_t *rkt;       /* target topic on the producer; opaque = this */
    mirror_config_set configs;   /* portable configs last applied */
    bool present;                /* seen in the source's last listing */
};

struct mirror_flow {
    const topology *topology;
    const topology_flow *config;
    checkpoint_store *store;
    char name[160];
    const char *source_region;
    const char *target_region;

    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    atomic_bool producer_fatal;
    bool resync_needed;          /* a delivery failed: re-resume every partition */
    bool failed;                 /* checkpoint store error: stop copying */
    bool diverged;               /* the diverged copy (mirror_flow_start_diverged) */
    bool store_recovering;       /* store writable again: re-resuming before translations resume */
    int discover_failures;       /* consecutive failed discoveries (backoff) */
    int64_t last_discover_ok_ms; /* wall clock: both regions last listed */

    rd_kafka_t *source;          /* consumer on the source, manual assignment */
    rd_kafka_t *producer;        /* idempotent producer on the target */
    rd_kafka_t *tail;            /* consumer on the target for resume scans */
    rd_kafka_topic_t *heartbeat_rkt;
    mirror_acl_sync *acl_sync;   /* NULL for a diverged copy */

    int topic_count;
    flow_topic *topics[FLOW_TOPICS_MAX];

    int64_t next_refresh_ms;
    int64_t next_heartbeat_ms;
    int64_t next_lag_ms;
    int64_t next_map_flush_ms;

    pthread_mutex_t lock;        /* guards the fields below and the status */
    bool running;
    char last_error[512];
    int64_t last_error_ms;
    int64_t records_copied;
    int64_t records_skipped_loop;
    int64_t records_skipped_held; /* relayed records the target held from their origin */
};

/* flow.c */
void flow_set_error(mirror_flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int flow_producer_create(mirror_flow *f);
void flow_producer_destroy(mirror_flow *f);

/* flow_copy.c */
void flow_delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* Consumes up to FLOW_POLL_BATCH records (waiting up to timeout_ms) and produces them. */
void flow_copy_poll(mirror_flow *f, int timeout_ms);
/* Hands buffered delivered pairs to the store. Lock held. */
void flow_flush_pending(mirror_flow *f);
void flow_update_lag(mirror_flow *f);
void flow_heartbeat(mirror_flow *f);

/* flow_sync.c */
/* 0, or ST_EIO when a region did not answer (retried with backoff). */
int flow_discover(mirror_flow *f);
/* Resumes partitions that need it (all of them after a failed delivery)
 * and reassigns the source consumer. */
void flow_resume_and_assign(mirror_flow *f);
void flow_topics_free(mirror_flow *f);

#endif
