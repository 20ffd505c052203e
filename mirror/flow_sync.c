/*
 * flow_sync.c - discovery, topic sync and assignment of a flow: every
 * refresh interval list the source's topics, pick those the flow copies,
 * create missing target topics with the source's partition count and
 * portable configs, follow partition increases and config changes, never
 * delete a target topic; then resume new partitions from the target tail and
 * (re)assign the source consumer. After each discovery the ACL sync runs
 * (acl_sync.c).
 *
 * Runs on the flow's thread; admin calls and tail scans block without the
 * lock, state changes take it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "mirror/flow_internal.h"
#include "mirror/resume.h"
#include "mirror/topic_sync.h"

static const mirror_topic_info *find_info(const mirror_topic_info *topics, int count,
                                          const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(topics[i].name, name) == 0)
            return &topics[i];
    return NULL;
}

static flow_topic *find_flow_topic(mirror_flow *f, const char *source)
{
    for (int i = 0; i < f->topic_count; i++)
        if (strcmp(f->topics[i]->source, source) == 0)
            return f->topics[i];
    return NULL;
}

/* Grows topic to partition_count partitions, new ones waiting for resume. Lock held. */
static int grow_partitions(flow_topic *topic, int partition_count)
{
    if (partition_count <= topic->partition_count)
        return 0;
    flow_partition **grown = realloc(topic->partitions, (size_t)partition_count * sizeof *grown);
    if (grown == NULL)
        return ST_ENOMEM;
    topic->partitions = grown;
    for (int p = topic->partition_count; p < partition_count; p++) {
        flow_partition *fp = calloc(1, sizeof *fp);
        if (fp == NULL)
            return ST_ENOMEM;
        fp->next_offset = RD_KAFKA_OFFSET_BEGINNING;
        fp->needs_resume = true;
        grown[p] = fp;
        topic->partition_count = p + 1;
    }
    return 0;
}

/* Makes the target topic match the source: exists, enough partitions, same
 * portable configs. Returns 0 when the target is usable. */
static int sync_target(mirror_flow *f, const mirror_topic_info *source, const char *target_name,
                       const mirror_topic_info *target, flow_topic *topic)
{
    mirror_config_set *source_configs = calloc(2, sizeof *source_configs);
    if (source_configs == NULL)
        return ST_ENOMEM;
    mirror_config_set *target_local = &source_configs[1];
    int rc = mirror_describe_topic_configs(f->source, source->name, FLOW_ADMIN_TIMEOUT_MS,
                                           source_configs, NULL);
    if (rc != 0)
        goto out;
    if (target == NULL) {
        rc = mirror_create_topic(f->producer, target_name, source->partition_count, source_configs,
                                 FLOW_ADMIN_TIMEOUT_MS);
        if (rc == 0)
            log_info("mirror", "flow=%s created target topic=%s partitions=%d configs=%d", f->name,
                     target_name, source->partition_count, source_configs->count);
    } else if (target->partition_count < source->partition_count) {
        rc = mirror_create_partitions(f->producer, target_name, source->partition_count,
                                      FLOW_ADMIN_TIMEOUT_MS);
        if (rc == 0)
            log_info("mirror", "flow=%s target topic=%s partitions %d -> %d", f->name,
                     target_name, target->partition_count, source->partition_count);
    }
    if (rc != 0 || target == NULL)
        goto out;
    if (topic != NULL && mirror_config_set_equal(&topic->configs, source_configs))
        goto out; /* nothing changed on the source since the last sync */
    mirror_config_set *target_portable = calloc(1, sizeof *target_portable);
    if (target_portable == NULL) {
        rc = ST_ENOMEM;
        goto out;
    }
    rc = mirror_describe_topic_configs(f->producer, target_name, FLOW_ADMIN_TIMEOUT_MS,
                                       target_portable, target_local);
    if (rc == 0 && !mirror_config_set_equal(target_portable, source_configs)) {
        rc = mirror_alter_topic_configs(f->producer, target_name, source_configs, target_local,
                                        FLOW_ADMIN_TIMEOUT_MS);
        if (rc == 0)
            log_info("mirror", "flow=%s target topic=%s configs updated", f->name, target_name);
    }
    free(target_portable);
out:
    if (rc == 0 && topic != NULL)
        topic->configs = *source_configs;
    free(source_configs);
    return rc;
}

static flow_topic *add_flow_topic(mirror_flow *f, const char *source, const char *target)
{
    if (f->topic_count >= FLOW_TOPICS_MAX)
        return NULL;
    flow_topic *topic = calloc(1, sizeof *topic);
    if (topic == NULL)
        return NULL;
    snprintf(topic->source, sizeof topic->source, "%s", source);
    snprintf(topic->target, sizeof topic->target, "%s", target);
    rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
    rd_kafka_topic_conf_set_opaque(tconf, topic);
    topic->rkt = f->producer != NULL ? rd_kafka_topic_new(f->producer, target, tconf) : NULL;
    if (topic->rkt == NULL)
        rd_kafka_topic_conf_destroy(tconf);
    pthread_mutex_lock(&f->lock);
    f->topics[f->topic_count++] = topic;
    pthread_mutex_unlock(&f->lock);
    return topic;
}

static void sync_one(mirror_flow *f, const mirror_topic_info *source,
                     const mirror_topic_info *targets, int target_count)
{
    char target_name[256];
    if (topology_target_topic(f->topology, f->config, source->name, target_name,
                              sizeof target_name) != 0)
        return;
    if (f->diverged && (strlen(source->name) + strlen(MIRROR_DIVERGED_SUFFIX) >= sizeof target_name ||
                        strstr(source->name, MIRROR_DIVERGED_SUFFIX)))
        return; /* never a diverged copy of a diverged copy */
    if (f->diverged)
        strcat(target_name, MIRROR_DIVERGED_SUFFIX);
    flow_topic *topic = find_flow_topic(f, source->name);
    if (topic != NULL && !topic->present)
        log_info("mirror", "flow=%s source topic=%s is back", f->name, source->name);
    const mirror_topic_info *target = find_info(targets, target_count, target_name);
    if (sync_target(f, source, target_name, target, topic) != 0) {
        flow_set_error(f, "topic sync of %s -> %s failed; retrying in %lld ms", source->name,
                       target_name, (long long)f->config->refresh_interval_ms);
        return;
    }
    if (topic == NULL && (topic = add_flow_topic(f, source->name, target_name)) == NULL)
        return;
    topic->present = true;
    if (source->partition_count > topic->partition_count) {
        pthread_mutex_lock(&f->lock);
        if (topic->partition_count > 0)
            log_info("mirror", "flow=%s topic=%s partitions %d -> %d", f->name, source->name,
                     topic->partition_count, source->partition_count);
        grow_partitions(topic, source->partition_count);
        pthread_mutex_unlock(&f->lock);
    }
}

static void ensure_heartbeats_topic(mirror_flow *f, const mirror_topic_info *targets, int count)
{
    if (find_info(targets, count, MIRROR_HEARTBEATS_TOPIC) == NULL)
        mirror_create_topic(f->producer, MIRROR_HEARTBEATS_TOPIC, 1, NULL, FLOW_ADMIN_TIMEOUT_MS);
}

/* Drops offset-map ranges below each source partition's log start (the
 * watermarks come from the source consumer's fetches; flow_update_lag). */
static void prune_maps(mirror_flow *f)
{
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++) {
            int64_t log_start = topic->partitions[p]->source_log_start;
            if (log_start <= 0)
                continue;
            int rc = checkpoint_map_prune(f->store, f->name, topic->source, p, log_start);
            if (rc != 0)
                flow_set_error(f, "checkpoint store: pruning %s[%d] failed: %s", topic->source, p,
                               strait_strerror(rc));
        }
    }
}

/* The ACL sync, on the same cadence as the topic sync (acl_sync.h). */
static void sync_acls(mirror_flow *f, int timeout_ms)
{
    if (f->acl_sync == NULL || atomic_load(&f->stopping))
        return;
    const char **topics = f->topic_count ? calloc((size_t)f->topic_count, sizeof *topics) : NULL;
    if (f->topic_count && topics == NULL)
        return;
    int count = 0;
    for (int i = 0; i < f->topic_count; i++)
        if (f->topics[i]->present)
            topics[count++] = f->topics[i]->source;
    mirror_acl_sync_run(f->acl_sync, f->source, f->producer, topics, count, timeout_ms);
    free(topics);
}

int flow_discover(mirror_flow *f)
{
    if (f->producer == NULL)
        return ST_EIO;
    /* After a failure, or while librdkafka reports errors, a short timeout:
     * the loop must not block for long on a region that is down (a healthy
     * one answers in milliseconds). */
    pthread_mutex_lock(&f->lock);
    bool failing = f->discover_failures > 0 ||
                   (f->last_error[0] != '\0' &&
                    clock_wall_ms() - f->last_error_ms < FLOW_RETRY_BACKOFF_MAX_MS);
    pthread_mutex_unlock(&f->lock);
    int timeout_ms = failing ? FLOW_PROBE_TIMEOUT_MS : FLOW_ADMIN_TIMEOUT_MS;
    mirror_topic_info *sources = NULL, *targets = NULL;
    int source_count = 0, target_count = 0;
    if (mirror_list_topics(f->source, timeout_ms, &sources, &source_count) != 0) {
        flow_set_error(f, "source region %s: cannot list topics; retrying", f->source_region);
        return ST_EIO;
    }
    if (mirror_list_topics(f->producer, timeout_ms, &targets, &target_count) != 0) {
        flow_set_error(f, "target region %s: cannot list topics; retrying", f->target_region);
        free(sources);
        return ST_EIO;
    }
    ensure_heartbeats_topic(f, targets, target_count);
    for (int i = 0; i < source_count && !atomic_load(&f->stopping); i++)
        if (mirror_topic_selected(f->topology, f->config, sources[i].name))
            sync_one(f, &sources[i], targets, target_count);
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        if (topic->present && find_info(sources, source_count, topic->source) == NULL) {
            log_warn("mirror", "flow=%s source topic=%s disappeared; target topic=%s is kept",
                     f->name, topic->source, topic->target);
            topic->present = false;
        }
    }
    free(sources);
    free(targets);
    prune_maps(f);
    sync_acls(f, timeout_ms);
    return 0;
}

/*
 * The boundary between a flow and its diverged copy (mirror_flow_start_diverged):
 * the diverged copy of a partition whose .diverged topic holds nothing yet
 * starts after the normal flow's map; the normal flow starts after whatever
 * the diverged copy took (those records are in <topic>.diverged, not merged).
 */
static int diverged_boundary(mirror_flow *f, const char *source_topic, int32_t partition,
                             int64_t *start)
{
    char other[sizeof f->name];
    snprintf(other, sizeof other, "%s->%s%s", f->source_region, f->target_region,
             f->diverged ? "" : MIRROR_DIVERGED_SUFFIX);
    checkpoint_pair last;
    bool found = false;
    int rc = checkpoint_map_last(f->store, other, source_topic, partition, &last, &found);
    if (rc != 0 || !found)
        return rc;
    if (f->diverged ? *start == RD_KAFKA_OFFSET_BEGINNING
                    : *start == RD_KAFKA_OFFSET_BEGINNING || *start <= last.source_offset) {
        log_info("mirror", "flow=%s topic=%s partition=%d starts after %s's copy at %lld",
                 f->name, source_topic, (int)partition, other, (long long)last.source_offset);
        *start = last.source_offset + 1;
    }
    return 0;
}

/* Resumes one partition from the target tail (blocking, no lock). */
static int resume_one(mirror_flow *f, flow_topic *topic, int32_t partition)
{
    mirror_resume_request req = {.tail_consumer = f->tail,
                                 .store = f->store,
                                 .flow_name = f->name,
                                 .source_region = f->source_region,
                                 .source_topic = topic->source,
                                 .target_topic = topic->target,
                                 .partition = partition,
                                 .timeout_ms = FLOW_ADMIN_TIMEOUT_MS};
    int64_t start = RD_KAFKA_OFFSET_BEGINNING;
    int rc = mirror_resume_partition(&req, &start);
    if (rc == 0)
        rc = diverged_boundary(f, topic->source, partition, &start);
    if (rc != 0) {
        flow_set_error(f, "resume of %s[%d] from the target tail failed: %s; retrying",
                       topic->source, (int)partition, strait_strerror(rc));
        return rc;
    }
    pthread_mutex_lock(&f->lock);
    flow_partition *fp = topic->partitions[partition];
    fp->next_offset = start;
    fp->in_flight = 0; /* purged before the resume (prepare_resync) */
    fp->needs_resume = false;
    memset(fp->held_known, 0, sizeof fp->held_known); /* re-read from the store */
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* After a failed delivery: let in-flight records land (or fail), so the
 * target tail is final, then mark every partition for resume. */
static void prepare_resync(mirror_flow *f)
{
    /* In slices with the lock released in between, so /status is not held
     * for FLOW_STOP_FLUSH_MS while the target is down. */
    int64_t deadline = clock_mono_ms() + FLOW_STOP_FLUSH_MS;
    while (f->producer != NULL && clock_mono_ms() < deadline && !atomic_load(&f->stopping)) {
        pthread_mutex_lock(&f->lock);
        bool empty = rd_kafka_flush(f->producer, 100) == RD_KAFKA_RESP_ERR_NO_ERROR;
        pthread_mutex_unlock(&f->lock);
        if (empty)
            break;
    }
    pthread_mutex_lock(&f->lock);
    if (f->producer != NULL) {
        rd_kafka_purge(f->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(f->producer, 0);
    }
    flow_flush_pending(f);
    for (int i = 0; i < f->topic_count; i++)
        for (int p = 0; p < f->topics[i]->partition_count; p++)
            f->topics[i]->partitions[p]->needs_resume = true;
    f->resync_needed = false;
    pthread_mutex_unlock(&f->lock);
}

static int assign_all(mirror_flow *f)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(64);
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++) {
            flow_partition *fp = topic->partitions[p];
            fp->assigned = topic->present && !fp->needs_resume;
            if (fp->assigned)
                rd_kafka_topic_partition_list_add(list, topic->source, p)->offset = fp->next_offset;
        }
    }
    pthread_mutex_unlock(&f->lock);
    rd_kafka_resp_err_t err = rd_kafka_assign(f->source, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        flow_set_error(f, "assign failed: %s", rd_kafka_err2str(err));
        return ST_EIO;
    }
    return 0;
}

void flow_resume_and_assign(mirror_flow *f)
{
    static __thread int64_t retry_after_ms;
    if (f->resync_needed)
        prepare_resync(f);
    bool changed = false, pending = false;
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++) {
            flow_partition *fp = topic->partitions[p];
            if (topic->present && !fp->assigned && !fp->needs_resume)
                changed = true;
            if (!topic->present && fp->assigned)
                changed = true;
            if (topic->present && fp->needs_resume)
                pending = true;
        }
    }
    if (pending && clock_mono_ms() >= retry_after_ms) {
        for (int i = 0; i < f->topic_count && !atomic_load(&f->stopping); i++) {
            flow_topic *topic = f->topics[i];
            for (int p = 0; p < topic->partition_count; p++) {
                if (!topic->present || !topic->partitions[p]->needs_resume)
                    continue;
                if (topic->partitions[p]->assigned) {
                    /* Stop copying it before reading its tail. */
                    pthread_mutex_lock(&f->lock);
                    topic->partitions[p]->assigned = false;
                    pthread_mutex_unlock(&f->lock);
                }
                if (resume_one(f, topic, p) == 0)
                    changed = true;
                else
                    retry_after_ms = clock_mono_ms() + FLOW_RETRY_BACKOFF_MS;
            }
        }
    }
    if (changed)
        assign_all(f);
}

void flow_topics_free(mirror_flow *f)
{
    for (int i = 0; i < f->topic_count; i++) {
        flow_topic *topic = f->topics[i];
        for (int p = 0; p < topic->partition_count; p++)
            free(topic->partitions[p]);
        free(topic->partitions);
        free(topic);
    }
    f->topic_count = 0;
}
