/*
 * flow_copy.c - the copy loop of a flow: consume a batch from the source,
 * produce each record to the same partition of the target topic with its key,
 * value, timestamp and headers plus strait.src; under identity naming skip
 * records whose provenance is the target region (cycle prevention). Delivery
 * reports turn into (source offset -> target offset) pairs for the
 * checkpoint store. Also lag per partition and the heartbeat record.
 *
 * Runs on the flow's thread. The delivery callback runs inside rd_kafka_poll
 * / rd_kafka_flush, which this thread only calls with flow->lock held.
 *
 * No per-record copy of values: a copy's value points into its source record
 * (RD_KAFKA_MSG_F_COPY not set) and the source record is kept until the
 * copy's delivery report, which librdkafka makes exactly once per copy, also
 * when purged (every path that drops the producer purges, then polls). The
 * throughput figures and what each change bought are in docs/benchmarks.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "mirror/flow_internal.h"
#include "mirror/provenance.h"

/* Lock held. Pairs go to SQLite in one call per partition. */
static void flush_partition(mirror_flow *f, flow_topic *topic, int32_t partition)
{
    flow_partition *fp = topic->partitions[partition];
    if (fp->pending_count == 0)
        return;
    if (f->failed || f->store_recovering) { /* re-derived from the target tail by the resume */
        fp->pending_count = 0;
        return;
    }
    int rc = checkpoint_map_extend(f->store, f->name, topic->source, partition, fp->pending,
                                   fp->pending_count);
    fp->pending_count = 0;
    if (rc != 0) {
        /* Never translate from a map we could not write: stop the flow. */
        flow_set_error(f, "checkpoint store: extending the offset map of %s[%d] failed: %s",
                       topic->source, (int)partition, strait_strerror(rc));
        f->failed = true;
    }
}

void flow_flush_pending(mirror_flow *f)
{
    for (int i = 0; i < f->topic_count; i++)
        for (int p = 0; p < f->topics[i]->partition_count; p++)
            flush_partition(f, f->topics[i], p);
}

/* One copy's delivery report (success or failure). Lock held. */
static void delivered(mirror_flow *f, flow_topic *topic, const rd_kafka_message_t *m,
                      int64_t source_offset)
{
    if (m->partition >= 0 && m->partition < topic->partition_count &&
        topic->partitions[m->partition]->in_flight > 0)
        topic->partitions[m->partition]->in_flight--;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Ordering after a failed record is unknown: re-resume from the tail. */
        if (!f->resync_needed)
            flow_set_error(f, "delivery to %s[%d] failed: %s; resuming from the target tail",
                           topic->target, (int)m->partition, rd_kafka_err2str(m->err));
        f->resync_needed = true;
        return;
    }
    if (m->partition < 0 || m->partition >= topic->partition_count)
        return;
    flow_partition *fp = topic->partitions[m->partition];
    if (fp->pending_count > 0 &&
        (fp->pending[fp->pending_count - 1].source_offset >= source_offset ||
         fp->pending[fp->pending_count - 1].target_offset >= m->offset)) {
        flow_set_error(f, "out-of-order delivery on %s[%d]; resuming from the target tail",
                       topic->target, (int)m->partition);
        f->resync_needed = true;
        return;
    }
    fp->pending[fp->pending_count].source_offset = source_offset;
    fp->pending[fp->pending_count].target_offset = m->offset;
    fp->pending_count++;
    rd_kafka_timestamp_type_t type;
    fp->last_delivered_timestamp_ms = rd_kafka_message_timestamp(m, &type);
    fp->last_produce_ms = clock_wall_ms();
    fp->records_copied++;
    f->records_copied++;
    if (fp->pending_count == FLOW_PENDING_PAIRS)
        flush_partition(f, topic, m->partition);
}

/* Every copy gets exactly one report, also when purged (flow_producer_destroy
 * purges, then polls) or timed out; only then is its source record, whose
 * value the copy points into, released. */
void flow_delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    mirror_flow *f = opaque;
    flow_topic *topic = rd_kafka_topic_opaque(m->rkt);
    if (topic == NULL) { /* a heartbeat: its own copied value, no source record */
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_debug("mirror", "flow=%s heartbeat not delivered: %s", f->name,
                      rd_kafka_err2str(m->err));
        return;
    }
    rd_kafka_message_t *source = m->_private;
    delivered(f, topic, m, source->offset);
    rd_kafka_message_destroy(source);
}

/* The record's strait.src chain, read for a flow into the flow's target. */
static void read_chain(const mirror_flow *f, rd_kafka_headers_t *headers,
                       mirror_provenance_chain *chain)
{
    mirror_provenance_chain_init(chain);
    if (headers == NULL)
        return;
    const void *value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get(headers, i, MIRROR_PROVENANCE_HEADER, &value, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         i++)
        mirror_provenance_chain_add(chain, value, size, f->target_region);
}

/* The highest offset of origin's partition the target holds through the
 * origin's own flow into it (that flow's offset map in this sidecar's store:
 * a region's flows into it all run here, one at a time, since the gate stops
 * a flow before it starts another), or -1. Lock held; one store read per
 * partition and origin between resumes. */
static int64_t held_from_origin(mirror_flow *f, flow_topic *topic, flow_partition *fp,
                                const mirror_provenance *origin, int32_t partition)
{
    const topology *t = f->topology;
    int origin_index = topology_region_index(t, origin->region);
    int target_index = topology_region_index(t, f->target_region);
    if (origin_index < 0 || target_index < 0 || origin_index >= TOPOLOGY_REGIONS_MAX ||
        origin->partition != partition)
        return -1;
    if (fp->held_known[origin_index])
        return fp->held_offset[origin_index];
    int64_t held = -1;
    for (int i = 0; i < t->flow_count; i++) {
        if (t->flows[i].source != origin_index || t->flows[i].target != target_index ||
            t->flows[i].naming != TOPOLOGY_NAMING_IDENTITY)
            continue;
        char name[sizeof f->name];
        topology_flow_name(t, &t->flows[i], name, sizeof name);
        checkpoint_pair last;
        bool found = false;
        if (checkpoint_map_last(f->store, name, topic->source, partition, &last, &found) == 0 &&
            found)
            held = last.source_offset;
        break;
    }
    fp->held_known[origin_index] = true;
    fp->held_offset[origin_index] = held;
    return held;
}

/* Identity naming: the verdict on one record (mirror_identity_verdict). A
 * relayed record that is copied raises what the target holds of its origin. */
static enum mirror_identity_verdict identity_verdict(mirror_flow *f, flow_topic *topic,
                                                     flow_partition *fp, int32_t partition,
                                                     rd_kafka_headers_t *headers)
{
    mirror_provenance_chain chain;
    read_chain(f, headers, &chain);
    bool relayed = chain.has_origin && strcmp(chain.origin.region, f->source_region) != 0;
    int64_t held = relayed && !chain.names_target
                       ? held_from_origin(f, topic, fp, &chain.origin, partition)
                       : -1;
    enum mirror_identity_verdict verdict = mirror_identity_verdict(&chain, f->source_region, held);
    if (verdict == MIRROR_IDENTITY_COPY && relayed) {
        int origin_index = topology_region_index(f->topology, chain.origin.region);
        if (origin_index >= 0 && origin_index < TOPOLOGY_REGIONS_MAX &&
            fp->held_known[origin_index] && chain.origin.partition == partition)
            fp->held_offset[origin_index] = chain.origin.offset;
    }
    return verdict;
}

static flow_topic *find_topic(mirror_flow *f, const char *source)
{
    for (int i = 0; i < f->topic_count; i++)
        if (strcmp(f->topics[i]->source, source) == 0)
            return f->topics[i];
    return NULL;
}

/* Produces one copy; waits while the producer queue is full. Lock held.
 * Returns true when the producer took it: the copy's value then points into
 * m (no RD_KAFKA_MSG_F_COPY), and m belongs to the delivery report, which
 * destroys it. The source headers are detached and reused for the copy (one
 * header set built per record instead of a parse plus a deep copy). */
static bool copy_record(mirror_flow *f, flow_topic *topic, rd_kafka_message_t *m, int64_t now_ms)
{
    flow_partition *fp = topic->partitions[m->partition];
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_detach_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
        headers = NULL;
    fp->last_poll_ms = now_ms;
    enum mirror_identity_verdict verdict =
        f->config->naming == TOPOLOGY_NAMING_IDENTITY
            ? identity_verdict(f, topic, fp, m->partition, headers)
            : MIRROR_IDENTITY_COPY;
    if (verdict != MIRROR_IDENTITY_COPY) {
        if (verdict == MIRROR_IDENTITY_SKIP_LOOP)
            f->records_skipped_loop++;
        else
            f->records_skipped_held++;
        fp->next_offset = m->offset + 1;
        if (headers != NULL)
            rd_kafka_headers_destroy(headers);
        return false;
    }
    char provenance[MIRROR_PROVENANCE_VALUE_MAX + 1];
    int length = mirror_provenance_format(f->source_region, m->partition, m->offset, provenance,
                                          sizeof provenance);
    if (length < 0) {
        if (headers != NULL)
            rd_kafka_headers_destroy(headers);
        return false;
    }
    if (headers == NULL)
        headers = rd_kafka_headers_new(1);
    rd_kafka_header_add(headers, MIRROR_PROVENANCE_HEADER, -1, provenance, length);
    rd_kafka_timestamp_type_t type;
    int64_t timestamp = rd_kafka_message_timestamp(m, &type);
    while (!f->failed) {
        /* On success the copy owns `headers`; on failure they stay ours. */
        rd_kafka_resp_err_t err = rd_kafka_producev(
            f->producer, RD_KAFKA_V_RKT(topic->rkt), RD_KAFKA_V_PARTITION(m->partition),
            RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_VALUE(m->payload, m->len),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(m),
            RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            fp->next_offset = m->offset + 1;
            fp->in_flight++;
            return true;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || atomic_load(&f->producer_fatal)) {
            flow_set_error(f, "produce to %s[%d] failed: %s", topic->target, (int)m->partition,
                           rd_kafka_err2str(err));
            f->resync_needed = true;
            break;
        }
        /* Target slow or down: wait for deliveries (backpressure on the source). */
        rd_kafka_poll(f->producer, 100);
        if (atomic_load(&f->stopping) || f->resync_needed)
            break;
    }
    rd_kafka_headers_destroy(headers);
    return false;
}

/* Takes up to FLOW_POLL_BATCH records: waits up to timeout_ms for the first,
 * then takes what is already queued (never waits for a full batch, so a slow
 * source adds no latency). One queue lock per record either way, but one
 * poll-interval bookkeeping per batch instead of per record. */
static int take_batch(mirror_flow *f, rd_kafka_message_t **batch, int timeout_ms)
{
    rd_kafka_message_t *first = rd_kafka_consumer_poll(f->source, timeout_ms);
    if (first == NULL)
        return 0;
    batch[0] = first;
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(f->source);
    if (queue == NULL)
        return 1;
    ssize_t more = rd_kafka_consume_batch_queue(queue, 0, batch + 1, FLOW_POLL_BATCH - 1);
    rd_kafka_queue_destroy(queue);
    return 1 + (more > 0 ? (int)more : 0);
}

void flow_copy_poll(mirror_flow *f, int timeout_ms)
{
    static __thread rd_kafka_message_t *batch[FLOW_POLL_BATCH];
    static __thread bool produced[FLOW_POLL_BATCH]; /* now owned by its delivery report */
    int count = take_batch(f, batch, timeout_ms);
    int64_t now_ms = clock_wall_ms();
    pthread_mutex_lock(&f->lock);
    flow_topic *topic = NULL;
    for (int i = 0; i < count; i++) {
        rd_kafka_message_t *m = batch[i];
        produced[i] = false;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            flow_set_error(f, "source: %s", rd_kafka_message_errstr(m));
            continue;
        }
        if (f->resync_needed || f->failed || atomic_load(&f->producer_fatal))
            continue; /* these will be read again after the resume */
        const char *name = rd_kafka_topic_name(m->rkt);
        if (topic == NULL || strcmp(topic->source, name) != 0)
            topic = find_topic(f, name);
        if (topic == NULL || topic->rkt == NULL || m->partition < 0 ||
            m->partition >= topic->partition_count || !topic->partitions[m->partition]->assigned)
            continue;
        produced[i] = copy_record(f, topic, m, now_ms);
    }
    if (f->producer != NULL)
        rd_kafka_poll(f->producer, 0);
    pthread_mutex_unlock(&f->lock);
    for (int i = 0; i < count; i++)
        if (!produced[i])
            rd_kafka_message_destroy(batch[i]);
}

void flow_update_lag(mirror_flow *f)
{
    int64_t now = clock_wall_ms();
    pthread_mutex_lock(&f->lock);
    if (f->producer != NULL)
        rd_kafka_poll(f->producer, 0);
    flow_flush_pending(f);
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++) {
            flow_partition *fp = topic->partitions[p];
            if (!fp->assigned)
                continue;
            int64_t low = -1, high = -1;
            if (rd_kafka_get_watermark_offsets(f->source, topic->source, p, &low, &high) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR || high < 0)
                continue;
            fp->source_end_offset = high;
            if (low >= 0)
                fp->source_log_start = low;
            int64_t next = fp->next_offset >= 0 ? fp->next_offset : fp->source_log_start;
            /* Produced but unacknowledged records are lag too (target down). */
            fp->lag_records = (high > next ? high - next : 0) + fp->in_flight;
            if (fp->lag_records == 0) {
                fp->lag_started_ms = 0;
                fp->lag_ms = 0;
                continue;
            }
            /* The oldest uncopied record is younger than both the last copied
             * one and the moment lag was first seen after being zero. */
            if (fp->lag_started_ms == 0)
                fp->lag_started_ms = now;
            int64_t since = fp->last_delivered_timestamp_ms > fp->lag_started_ms
                                ? fp->last_delivered_timestamp_ms
                                : fp->lag_started_ms;
            fp->lag_ms = now > since ? now - since : 0;
        }
    }
    pthread_mutex_unlock(&f->lock);
}

void flow_heartbeat(mirror_flow *f)
{
    if (f->producer == NULL || f->heartbeat_rkt == NULL)
        return;
    char value[512];
    int length = snprintf(value, sizeof value,
                          "{\"flow\":\"%s\",\"source\":\"%s\",\"target\":\"%s\",\"time_ms\":%lld}",
                          f->name, f->source_region, f->target_region,
                          (long long)clock_wall_ms());
    if (length < 0 || (size_t)length >= sizeof value)
        return;
    pthread_mutex_lock(&f->lock);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        f->producer, RD_KAFKA_V_RKT(f->heartbeat_rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(f->name, strlen(f->name)), RD_KAFKA_V_VALUE(value, (size_t)length),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_debug("mirror", "flow=%s heartbeat not queued: %s", f->name, rd_kafka_err2str(err));
    rd_kafka_poll(f->producer, 0);
    pthread_mutex_unlock(&f->lock);
}
