/*
 * flow.c - a mirror flow's lifecycle: the thread, librdkafka handles, the
 * main loop (discover -> resume -> copy -> deliveries -> lag/heartbeats),
 * fatal-producer recovery, stop with a bounded flush, and the status
 * snapshot. The copy loop is in flow_copy.c, discovery and resume in
 * flow_sync.c.
 */
#include "mirror/flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/region_contract.h"
#include "common/log.h"
#include "mirror/flow_internal.h"
#include "mirror/topic_sync.h"
#include "topology/region_client.h"

void flow_set_error(mirror_flow *f, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_warn("mirror", "flow=%s %s", f->name, message);
    pthread_mutex_lock(&f->lock);
    snprintf(f->last_error, sizeof f->last_error, "%s", message);
    f->last_error_ms = clock_wall_ms();
    pthread_mutex_unlock(&f->lock);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        log_error("mirror", "librdkafka config %s=%s refused: %s", name, value, errstr);
        return ST_ECONFIG;
    }
    return 0;
}

/* Called by librdkafka from rd_kafka_poll on the flow thread (producer) or
 * from its own threads (consumers): touches only atomics and the lock. */
static void error_callback(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    mirror_flow *f = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[256];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        atomic_store(&f->producer_fatal, true);
        flow_set_error(f, "fatal producer error: %s", fatal);
        return;
    }
    /* Transient (broker down, resolve failure): librdkafka retries; report it
     * with the region it is about. */
    bool source = rk == f->source;
    const char *region = source ? f->source_region : f->target_region;
    /* a TLS or SASL refusal is a configuration matter: name the keys; an
     * ordinary disconnect of a TLS connection ("SSL transport error") is
     * not one, so only a handshake failure, a TLS alert of the peer (its
     * refusal of our certificate) or our refusal of its certificate counts */
    bool link = err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                strstr(reason, "SSL handshake failed") != NULL ||
                strstr(reason, "SSL alert") != NULL ||
                strstr(reason, "certificate verify failed") != NULL;
    flow_set_error(f, "%s region %s: %s: %s%s%s%s", source ? "source" : "target", region,
                   rd_kafka_err2name((rd_kafka_resp_err_t)err), reason,
                   link ? " (region link security refused: check regions." : "",
                   link ? region : "", link ? ".security in the topology)" : "");
}

static rd_kafka_conf_t *base_conf(mirror_flow *f, int region, const char *role)
{
    char client_id[200], err[512];
    /* the sidecar's prefix: a standby or fenced broker lets these clients
     * write and read (common/region_contract.h) */
    snprintf(client_id, sizeof client_id, REGION_SIDECAR_CLIENT_ID_PREFIX "-mirror-%s-%s-%s",
             f->source_region, f->target_region, role);
    /* the region's address and link security (TLS, SASL) */
    rd_kafka_conf_t *conf = region_client_conf_new(f->topology, region, client_id, err, sizeof err);
    if (conf == NULL) {
        flow_set_error(f, "cannot configure %s client: %s", role, err);
        return NULL;
    }
    if (conf_set(conf, "reconnect.backoff.max.ms", "2000") != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, f);
    rd_kafka_conf_set_error_cb(conf, error_callback);
    return conf;
}

static rd_kafka_t *consumer_create(mirror_flow *f, int region, const char *role,
                                   bool partition_eof)
{
    rd_kafka_conf_t *conf = base_conf(f, region, role);
    if (conf == NULL)
        return NULL;
    /* Source prefetch: librdkafka 2.0 stops fetching a partition once the
     * consumer queue holds queued.max.messages.kbytes or queued.min.messages,
     * and looks again only ~1 s later (later librdkafka versions added
     * fetch.queue.backoff.ms). A queue the copy drains in less than 1 s
     * starved it for the rest of the second (a third of a catch-up copy's
     * time, docs/benchmarks.md), so the source queue holds ~1 s of copying
     * at ~250 MB/s: up to 256 MiB per flow while it catches up, near
     * nothing once it has. Bigger fetches (8 MiB per partition) mean fewer
     * round trips. The tail consumer only reads a partition's last records
     * and keeps the small defaults.
     * librdkafka 2.0 wants a group.id for assign(); this group is never
     * joined (no subscribe) and never committed to, so manual assignment
     * does not disturb any group of the source. */
    char group[200];
    snprintf(group, sizeof group, "strait-mirror-%s-%s-%s", f->source_region, f->target_region,
             role);
    if (conf_set(conf, "group.id", group) != 0 ||
        conf_set(conf, "enable.auto.commit", "false") != 0 ||
        conf_set(conf, "enable.auto.offset.store", "false") != 0 ||
        conf_set(conf, "auto.offset.reset", "earliest") != 0 ||
        conf_set(conf, "isolation.level", "read_uncommitted") != 0 ||
        conf_set(conf, "enable.partition.eof", partition_eof ? "true" : "false") != 0 ||
        conf_set(conf, "queued.max.messages.kbytes", partition_eof ? "65536" : "262144") != 0 ||
        conf_set(conf, "queued.min.messages", partition_eof ? "100000" : "1000000") != 0 ||
        conf_set(conf, "max.partition.fetch.bytes", partition_eof ? "1048576" : "8388608") != 0 ||
        conf_set(conf, "fetch.wait.max.ms", partition_eof ? "10" : "100") != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        flow_set_error(f, "cannot create %s consumer: %s", role, errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int flow_producer_create(mirror_flow *f)
{
    const topology_flow *c = f->config;
    rd_kafka_conf_t *conf =
        base_conf(f, c->target, "producer");
    if (conf == NULL)
        return ST_ECONFIG;
    char batch[32], linger[32];
    snprintf(batch, sizeof batch, "%lld", (long long)c->batch_bytes);
    snprintf(linger, sizeof linger, "%lld", (long long)c->linger_ms);
    if (conf_set(conf, "enable.idempotence", "true") != 0 || conf_set(conf, "acks", "all") != 0 ||
        conf_set(conf, "max.in.flight.requests.per.connection", "5") != 0 ||
        conf_set(conf, "compression.type", c->compression[0] ? c->compression : "none") != 0 ||
        (c->batch_bytes > 0 && conf_set(conf, "batch.size", batch) != 0) ||
        (c->linger_ms >= 0 && conf_set(conf, "linger.ms", linger) != 0) ||
        conf_set(conf, "message.timeout.ms", "300000") != 0) {
        rd_kafka_conf_destroy(conf);
        return ST_ECONFIG;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, flow_delivery_report);
    char errstr[512];
    f->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (f->producer == NULL) {
        rd_kafka_conf_destroy(conf);
        flow_set_error(f, "cannot create producer: %s", errstr);
        return ST_ECONFIG;
    }
    f->heartbeat_rkt = rd_kafka_topic_new(f->producer, MIRROR_HEARTBEATS_TOPIC, NULL);
    for (int i = 0; i < f->topic_count; i++) {
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_opaque(tconf, f->topics[i]);
        f->topics[i]->rkt = rd_kafka_topic_new(f->producer, f->topics[i]->target, tconf);
    }
    atomic_store(&f->producer_fatal, false);
    return 0;
}

/* Drops whatever the producer still holds (its deliveries are re-derived
 * from the target tail) and destroys it. Lock held. */
void flow_producer_destroy(mirror_flow *f)
{
    if (f->producer == NULL)
        return;
    rd_kafka_purge(f->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(f->producer, 0);
    for (int i = 0; i < f->topic_count; i++) {
        for (int p = 0; p < f->topics[i]->partition_count; p++)
            f->topics[i]->partitions[p]->in_flight = 0;
        if (f->topics[i]->rkt != NULL)
            rd_kafka_topic_destroy(f->topics[i]->rkt);
        f->topics[i]->rkt = NULL;
    }
    if (f->heartbeat_rkt != NULL)
        rd_kafka_topic_destroy(f->heartbeat_rkt);
    f->heartbeat_rkt = NULL;
    rd_kafka_destroy(f->producer);
    f->producer = NULL;
}

static void flow_recover_producer(mirror_flow *f)
{
    log_warn("mirror", "flow=%s recreating the producer after a fatal error", f->name);
    pthread_mutex_lock(&f->lock);
    flow_flush_pending(f);
    flow_producer_destroy(f);
    f->resync_needed = true;
    pthread_mutex_unlock(&f->lock);
    if (flow_producer_create(f) != 0)
        f->failed = true;
}

/* Sleeps up to ms in slices, returning early on stop. */
static void nap(mirror_flow *f, int64_t ms)
{
    int64_t until = clock_mono_ms() + ms;
    struct timespec slice = {0, 50 * 1000 * 1000};
    while (!atomic_load(&f->stopping) && clock_mono_ms() < until)
        nanosleep(&slice, NULL);
}

/*
 * The checkpoint store failed a write of this flow's offset map (or the flow
 * failed otherwise). Copying stops: the source is unassigned, the producer is
 * left alone (its deliveries are re-derived from the target tail later) and
 * /status shows the flow failed with the error. A damaged store, or a failure
 * that is not the store's, stops the flow for good (returns false). A store
 * that is only busy or failed an I/O is probed every FLOW_RETRY_BACKOFF_MS;
 * once it takes a write again every partition is re-resumed from the target
 * tail, which re-adds the missing pairs to the map, and only then are the
 * flow's translations allowed again and copying resumed (flow_check_repaired;
 * pairs delivered meanwhile are dropped by flush_partition, the repair reads
 * them back from the target). Returns true to keep looping.
 */
static bool flow_store_fault(mirror_flow *f)
{
    int fault = checkpoint_flow_fault(f->store, f->name);
    if (fault == ST_ECORRUPT)
        flow_set_error(f, "checkpoint store is damaged (%s); flow stopped, translations refused; "
                       "restore or move the file away and restart", strait_strerror(fault));
    if (fault == 0 || fault == ST_ECORRUPT)
        return false;
    pthread_mutex_lock(&f->lock);
    bool first = f->running;
    f->running = false;
    f->store_recovering = false;
    for (int i = 0; i < f->topic_count; i++)
        for (int p = 0; p < f->topics[i]->partition_count; p++) {
            f->topics[i]->partitions[p]->assigned = false;
            f->topics[i]->partitions[p]->needs_resume = true;
        }
    pthread_mutex_unlock(&f->lock);
    if (first) {
        rd_kafka_assign(f->source, NULL);
        flow_set_error(f, "checkpoint store: writing the offset map failed (%s); copying stopped, "
                       "translations refused; retrying every %d ms", strait_strerror(fault),
                       FLOW_RETRY_BACKOFF_MS);
    }
    nap(f, FLOW_RETRY_BACKOFF_MS);
    if (atomic_load(&f->stopping) || checkpoint_store_probe(f->store) != 0)
        return true;
    log_info("mirror", "flow=%s checkpoint store writable again; re-resuming every partition from "
             "the target tail", f->name);
    pthread_mutex_lock(&f->lock);
    f->failed = false;
    f->resync_needed = true;
    f->store_recovering = true;
    f->running = true;
    pthread_mutex_unlock(&f->lock);
    return true;
}

/* After a store fault: once every partition has been resumed (its map
 * repaired from the target tail), translations are allowed again. */
static void flow_check_repaired(mirror_flow *f)
{
    if (!f->store_recovering || f->resync_needed)
        return;
    for (int i = 0; i < f->topic_count; i++)
        for (int p = 0; p < f->topics[i]->partition_count; p++)
            if (f->topics[i]->present && f->topics[i]->partitions[p]->needs_resume)
                return;
    f->store_recovering = false;
    checkpoint_flow_fault_clear(f->store, f->name);
    pthread_mutex_lock(&f->lock);
    f->last_error[0] = '\0';
    pthread_mutex_unlock(&f->lock);
    log_info("mirror", "flow=%s offset map repaired; copying and translating again", f->name);
}

/* Discovery, retried with a doubling backoff while a region fails. */
static void flow_refresh(mirror_flow *f)
{
    int rc = flow_discover(f);
    int64_t now = clock_mono_ms();
    if (rc == 0) {
        f->discover_failures = 0;
        f->last_discover_ok_ms = clock_wall_ms();
        f->next_refresh_ms = now + f->config->refresh_interval_ms;
        return;
    }
    int64_t backoff = FLOW_RETRY_BACKOFF_MS;
    for (int i = 0; i < f->discover_failures && backoff < FLOW_RETRY_BACKOFF_MAX_MS; i++)
        backoff *= 2;
    if (backoff > FLOW_RETRY_BACKOFF_MAX_MS)
        backoff = FLOW_RETRY_BACKOFF_MAX_MS;
    if (backoff > f->config->refresh_interval_ms && f->config->refresh_interval_ms > 0 &&
        f->discover_failures == 0)
        backoff = f->config->refresh_interval_ms;
    f->discover_failures++;
    f->next_refresh_ms = now + backoff;
}

/* Clears last_error (last_error_ms stays) once both regions answered a
 * discovery after it and the flow delivered since, or has nothing in flight. */
static void flow_clear_recovered_error(mirror_flow *f)
{
    pthread_mutex_lock(&f->lock);
    if (f->last_error[0] != '\0' && !f->failed && !f->store_recovering &&
        f->last_discover_ok_ms > f->last_error_ms) {
        int64_t delivered_ms = 0;
        for (int i = 0; i < f->topic_count; i++)
            for (int p = 0; p < f->topics[i]->partition_count; p++)
                if (f->topics[i]->partitions[p]->last_produce_ms > delivered_ms)
                    delivered_ms = f->topics[i]->partitions[p]->last_produce_ms;
        if (delivered_ms > f->last_error_ms ||
            (f->producer != NULL && rd_kafka_outq_len(f->producer) == 0)) {
            log_info("mirror", "flow=%s recovered from: %s", f->name, f->last_error);
            f->last_error[0] = '\0';
        }
    }
    pthread_mutex_unlock(&f->lock);
}

/* Copies a batch, unless the target is not keeping up: then only serves the
 * producer's deliveries (backpressure; the source is not consumed further). */
static void flow_copy_or_wait(mirror_flow *f)
{
    if (f->producer != NULL && rd_kafka_outq_len(f->producer) >= FLOW_IN_FLIGHT_MAX) {
        pthread_mutex_lock(&f->lock);
        rd_kafka_poll(f->producer, 100);
        pthread_mutex_unlock(&f->lock);
        return;
    }
    flow_copy_poll(f, 100);
}

static void flow_loop(mirror_flow *f)
{
    while (!atomic_load(&f->stopping)) {
        if (f->failed || (!f->store_recovering && checkpoint_flow_fault(f->store, f->name) != 0)) {
            if (!flow_store_fault(f))
                break;
            continue;
        }
        /* Error events of the consumers (a region down) reach error_callback here. */
        rd_kafka_poll(f->source, 0);
        rd_kafka_poll(f->tail, 0);
        if (atomic_load(&f->producer_fatal))
            flow_recover_producer(f);
        if (clock_mono_ms() >= f->next_refresh_ms)
            flow_refresh(f);
        flow_resume_and_assign(f);
        flow_check_repaired(f);
        if (f->store_recovering) {
            /* No new pairs before the map is repaired up to the target tail:
             * they would leave a hole that translate() skips. */
            nap(f, 100);
            continue;
        }
        flow_copy_or_wait(f);
        int64_t now = clock_mono_ms();
        if (now >= f->next_map_flush_ms) {
            pthread_mutex_lock(&f->lock);
            flow_flush_pending(f);
            pthread_mutex_unlock(&f->lock);
            f->next_map_flush_ms = now + FLOW_MAP_FLUSH_INTERVAL_MS;
        }
        if (now >= f->next_lag_ms) {
            flow_update_lag(f);
            flow_clear_recovered_error(f);
            f->next_lag_ms = now + FLOW_LAG_INTERVAL_MS;
        }
        if (now >= f->next_heartbeat_ms) {
            flow_heartbeat(f);
            f->next_heartbeat_ms = now + FLOW_HEARTBEAT_INTERVAL_MS;
        }
    }
}

static void *flow_thread(void *arg)
{
    mirror_flow *f = arg;
    const topology *t = f->topology;
    log_info("mirror", "flow=%s starting source=%s target=%s naming=%s", f->name,
             t->regions[f->config->source].bootstrap, t->regions[f->config->target].bootstrap,
             f->config->naming == TOPOLOGY_NAMING_PREFIX ? "prefix" : "identity");
    f->source = consumer_create(f, f->config->source, "source", false);
    f->tail = consumer_create(f, f->config->target, "tail", true);
    if (f->source != NULL && f->tail != NULL && flow_producer_create(f) == 0)
        flow_loop(f);
    else
        f->failed = true;

    /* Stop: let in-flight batches finish, record their pairs, close. */
    pthread_mutex_lock(&f->lock);
    if (f->producer != NULL) {
        rd_kafka_resp_err_t err = rd_kafka_flush(f->producer, FLOW_STOP_FLUSH_MS);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_warn("mirror", "flow=%s stop: %d records still in flight after %d ms", f->name,
                     rd_kafka_outq_len(f->producer), FLOW_STOP_FLUSH_MS);
    }
    flow_flush_pending(f);
    flow_producer_destroy(f);
    f->running = false;
    pthread_mutex_unlock(&f->lock);
    if (f->source != NULL) {
        rd_kafka_assign(f->source, NULL);
        rd_kafka_consumer_close(f->source);
        rd_kafka_destroy(f->source);
    }
    if (f->tail != NULL) {
        rd_kafka_consumer_close(f->tail);
        rd_kafka_destroy(f->tail);
    }
    log_info("mirror", "flow=%s stopped records_copied=%lld skipped_loop=%lld skipped_held=%lld",
             f->name, (long long)f->records_copied, (long long)f->records_skipped_loop,
             (long long)f->records_skipped_held);
    return NULL;
}

static int flow_start(const topology *t, int flow_index, checkpoint_store *store, bool diverged,
                      mirror_flow **out)
{
    if (t == NULL || store == NULL || out == NULL || flow_index < 0 || flow_index >= t->flow_count)
        return ST_EINVAL;
    mirror_flow *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ST_ENOMEM;
    f->topology = t;
    f->config = &t->flows[flow_index];
    f->store = store;
    f->source_region = t->regions[f->config->source].name;
    f->target_region = t->regions[f->config->target].name;
    snprintf(f->name, sizeof f->name, "%s->%s%s", f->source_region, f->target_region,
             diverged ? MIRROR_DIVERGED_SUFFIX : "");
    f->diverged = diverged;
    atomic_init(&f->stopping, false);
    atomic_init(&f->producer_fatal, false);
    /* Recursive: flow_set_error is also called from callbacks that run while
     * the flow thread holds the lock (rd_kafka_poll on the producer). */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&f->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    f->running = true;
    int rc = diverged ? 0
                      : mirror_acl_sync_open(t, f->config, f->name, checkpoint_store_path(store),
                                             &f->acl_sync);
    if (rc != 0 || pthread_create(&f->thread, NULL, flow_thread, f) != 0) {
        mirror_acl_sync_close(f->acl_sync);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return rc != 0 ? rc : ST_ENOMEM;
    }
    f->thread_started = true;
    *out = f;
    return 0;
}

int mirror_flow_start(const topology *t, int flow_index, checkpoint_store *store, mirror_flow **out)
{
    return flow_start(t, flow_index, store, false, out);
}

int mirror_flow_start_diverged(const topology *t, int flow_index, checkpoint_store *store,
                               mirror_flow **out)
{
    return flow_start(t, flow_index, store, true, out);
}

void mirror_flow_stop(mirror_flow *f)
{
    if (f == NULL)
        return;
    atomic_store(&f->stopping, true);
    if (f->thread_started)
        pthread_join(f->thread, NULL);
    flow_topics_free(f);
    mirror_acl_sync_close(f->acl_sync);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void mirror_flow_set_source_active(mirror_flow *f, bool active)
{
    if (f->acl_sync)
        mirror_acl_sync_set_source_active(f->acl_sync, active);
}

int mirror_flow_status_get(mirror_flow *f, mirror_flow_status *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = clock_wall_ms();
    pthread_mutex_lock(&f->lock);
    snprintf(out->name, sizeof out->name, "%s", f->name);
    out->running = f->running;
    snprintf(out->last_error, sizeof out->last_error, "%s", f->last_error);
    out->last_error_ms = f->last_error_ms;
    out->records_copied = f->records_copied;
    out->records_skipped_loop = f->records_skipped_loop;
    out->records_skipped_held = f->records_skipped_held;
    out->in_flight = f->producer != NULL ? rd_kafka_outq_len(f->producer) : 0;
    int count = 0;
    for (int i = 0; i < f->topic_count; i++)
        count += f->topics[i]->partition_count;
    out->partitions = count > 0 ? calloc((size_t)count, sizeof *out->partitions) : NULL;
    if (count > 0 && out->partitions == NULL) {
        pthread_mutex_unlock(&f->lock);
        return ST_ENOMEM;
    }
    int n = 0;
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++, n++) {
            const flow_partition *fp = topic->partitions[p];
            mirror_partition_status *s = &out->partitions[n];
            snprintf(s->source_topic, sizeof s->source_topic, "%s", topic->source);
            snprintf(s->target_topic, sizeof s->target_topic, "%s", topic->target);
            s->partition = p;
            s->source_end_offset = fp->source_end_offset;
            s->next_source_offset = fp->next_offset >= 0 ? fp->next_offset : fp->source_log_start;
            s->lag_records = fp->lag_records;
            s->lag_ms = fp->lag_ms;
            /* The records lag grows between lag updates too: the flow loop
             * may be blocked on a region (a metadata call to a target that
             * is down), while the source consumer's fetcher still learns the
             * source's end offset (cached by librdkafka, read without I/O). */
            int64_t low = -1, high = -1;
            if (fp->assigned &&
                rd_kafka_get_watermark_offsets(f->source, topic->source, p, &low, &high) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
                high > fp->source_end_offset) {
                int64_t fresh = (high > s->next_source_offset ? high - s->next_source_offset : 0) +
                                fp->in_flight;
                s->source_end_offset = high;
                if (fresh > s->lag_records)
                    s->lag_records = fresh;
            }
            if (fp->lag_records > 0 && fp->lag_started_ms > 0) {
                /* Grows between lag updates too (the loop may be blocked on a region). */
                int64_t since = fp->last_delivered_timestamp_ms > fp->lag_started_ms
                                    ? fp->last_delivered_timestamp_ms
                                    : fp->lag_started_ms;
                if (now - since > s->lag_ms)
                    s->lag_ms = now - since;
            }
            s->last_poll_ms = fp->last_poll_ms;
            s->last_produce_ms = fp->last_produce_ms;
            s->records_copied = fp->records_copied;
            s->pending_pairs = (int64_t)fp->pending_count;
        }
    }
    out->partition_count = n;
    pthread_mutex_unlock(&f->lock);
    out->has_acl_sync = f->acl_sync != NULL;
    if (f->acl_sync)
        mirror_acl_sync_status_get(f->acl_sync, &out->acl_sync);
    return 0;
}

void mirror_flow_status_lag(const mirror_flow_status *s, int64_t *records, int64_t *max_ms)
{
    *records = 0;
    *max_ms = 0;
    for (int p = 0; p < s->partition_count; p++) {
        *records += s->partitions[p].lag_records;
        if (s->partitions[p].lag_ms > *max_ms)
            *max_ms = s->partitions[p].lag_ms;
    }
}

void mirror_flow_status_free(mirror_flow_status *s)
{
    if (s == NULL)
        return;
    free(s->partitions);
    s->partitions = NULL;
    s->partition_count = 0;
}
