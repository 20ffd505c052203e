/*
 * topic_sync.c - Admin API calls behind topic discovery and sync (see
 * topic_sync.h). Each call makes its own result queue and waits for the one
 * result event; errors are logged with the topic and returned as ST_EIO.
 */
#include "mirror/topic_sync.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"

bool mirror_topic_selected(const topology *t, const topology_flow *flow, const char *topic)
{
    if (strncmp(topic, "__", 2) == 0 || strcmp(topic, MIRROR_HEARTBEATS_TOPIC) == 0)
        return false;
    if (flow->naming == TOPOLOGY_NAMING_PREFIX) {
        const char *target = t->regions[flow->target].name;
        size_t target_len = strlen(target);
        size_t sep_len = strlen(flow->prefix_separator);
        if (strncmp(topic, target, target_len) == 0 &&
            strncmp(topic + target_len, flow->prefix_separator, sep_len) == 0)
            return false; /* a copy of the target's own topic: never mirror it back */
    }
    return topology_flow_matches_topic(flow, topic);
}

int mirror_list_topics(rd_kafka_t *rk, int timeout_ms, mirror_topic_info **out, int *count)
{
    /* Lifetime: rd_kafka_metadata waits on a reply queue of its own and drops a
     * reply that comes after timeout_ms; no coordinator lookup is involved (the
     * hazard described in checkpoints/group_sync.c does not apply). */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("mirror", "metadata failed error=%s", rd_kafka_err2str(err));
        return ST_EIO;
    }
    mirror_topic_info *topics = calloc((size_t)md->topic_cnt + 1, sizeof *topics);
    if (topics == NULL) {
        rd_kafka_metadata_destroy(md);
        return ST_ENOMEM;
    }
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[i];
        if (mt->err != RD_KAFKA_RESP_ERR_NO_ERROR || strlen(mt->topic) >= sizeof topics[n].name)
            continue;
        strcpy(topics[n].name, mt->topic);
        topics[n].partition_count = mt->partition_cnt;
        n++;
    }
    rd_kafka_metadata_destroy(md);
    *out = topics;
    *count = n;
    return 0;
}

/* Waits for the result event of an admin call on queue.
 * Lifetime (DescribeConfigs, CreateTopics, CreatePartitions, AlterConfigs:
 * sent to the controller or a named broker, no coordinator lookup):
 * librdkafka's own timeout, timeout_ms, produces a result before this wait
 * ends; one that comes later still is dropped with the queue, which every
 * caller destroys after this. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *queue, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    if (ev == NULL)
        log_warn("mirror", "admin request timed out after %d ms", timeout_ms);
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              int timeout_ms)
{
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, op);
    if (options != NULL)
        rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, NULL, 0);
    return options;
}

int mirror_describe_topic_configs(rd_kafka_t *rk, const char *topic, int timeout_ms,
                                  mirror_config_set *portable, mirror_config_set *local)
{
    portable->count = 0;
    if (local != NULL)
        local->count = 0;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t *resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *options = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
    rd_kafka_DescribeConfigs(rk, &resource, 1, options, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc = ST_EIO;
    if (ev == NULL)
        goto out;
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("mirror", "describe configs failed topic=%s error=%s", topic,
                 rd_kafka_event_error_string(ev));
        goto out;
    }
    const rd_kafka_DescribeConfigs_result_t *result = rd_kafka_event_DescribeConfigs_result(ev);
    size_t resource_count = 0;
    const rd_kafka_ConfigResource_t **resources =
        rd_kafka_DescribeConfigs_result_resources(result, &resource_count);
    if (resource_count != 1 || rd_kafka_ConfigResource_error(resources[0]) != 0) {
        log_warn("mirror", "describe configs failed topic=%s error=%s", topic,
                 resource_count == 1 ? rd_kafka_ConfigResource_error_string(resources[0]) : "?");
        goto out;
    }
    size_t entry_count = 0;
    const rd_kafka_ConfigEntry_t **entries =
        rd_kafka_ConfigResource_configs(resources[0], &entry_count);
    rc = 0;
    for (size_t i = 0; i < entry_count && rc == 0; i++) {
        const char *name = rd_kafka_ConfigEntry_name(entries[i]);
        const char *value = rd_kafka_ConfigEntry_value(entries[i]);
        bool is_default = rd_kafka_ConfigEntry_is_default(entries[i]) ||
                          rd_kafka_ConfigEntry_source(entries[i]) !=
                              RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
        bool read_only = rd_kafka_ConfigEntry_is_read_only(entries[i]);
        bool sensitive = rd_kafka_ConfigEntry_is_sensitive(entries[i]);
        if (mirror_config_keep(name, value, is_default, read_only, sensitive))
            rc = mirror_config_set_put(portable, name, value);
        else if (local != NULL && value != NULL && !is_default && !read_only && !sensitive)
            rc = mirror_config_set_put(local, name, value);
    }
out:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_ConfigResource_destroy(resource);
    rd_kafka_queue_destroy(queue);
    return rc;
}

/* The per-topic outcome of CreateTopics / CreatePartitions. */
static int topic_result(const rd_kafka_topic_result_t **results, size_t count, const char *what,
                        const char *topic)
{
    if (count != 1)
        return ST_EIO;
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[0]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        return 0;
    log_warn("mirror", "%s failed topic=%s error=%s", what, topic,
             rd_kafka_topic_result_error_string(results[0]));
    return ST_EIO;
}

int mirror_create_topic(rd_kafka_t *rk, const char *topic, int partition_count,
                        const mirror_config_set *configs, int timeout_ms)
{
    char errstr[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partition_count, -1, errstr, sizeof errstr);
    if (nt == NULL) {
        log_warn("mirror", "create topic failed topic=%s error=%s", topic, errstr);
        return ST_EINVAL;
    }
    for (int i = 0; configs != NULL && i < configs->count; i++)
        rd_kafka_NewTopic_set_config(nt, configs->entries[i].name, configs->entries[i].value);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    rd_kafka_CreateTopics(rk, &nt, 1, options, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc = ST_EIO;
    if (ev != NULL && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t count = 0;
        const rd_kafka_topic_result_t **results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &count);
        rc = topic_result(results, count, "create topic", topic);
    } else if (ev != NULL) {
        log_warn("mirror", "create topic failed topic=%s error=%s", topic,
                 rd_kafka_event_error_string(ev));
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(queue);
    return rc;
}

int mirror_create_partitions(rd_kafka_t *rk, const char *topic, int partition_count,
                             int timeout_ms)
{
    char errstr[256];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(topic, (size_t)partition_count, errstr, sizeof errstr);
    if (np == NULL)
        return ST_EINVAL;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options =
        admin_options(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout_ms);
    rd_kafka_CreatePartitions(rk, &np, 1, options, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc = ST_EIO;
    if (ev != NULL && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t count = 0;
        const rd_kafka_topic_result_t **results = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &count);
        rc = topic_result(results, count, "create partitions", topic);
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewPartitions_destroy(np);
    rd_kafka_queue_destroy(queue);
    return rc;
}

int mirror_alter_topic_configs(rd_kafka_t *rk, const char *topic, const mirror_config_set *portable,
                               const mirror_config_set *local, int timeout_ms)
{
    rd_kafka_ConfigResource_t *resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    for (int i = 0; i < portable->count; i++)
        rd_kafka_ConfigResource_set_config(resource, portable->entries[i].name,
                                           portable->entries[i].value);
    for (int i = 0; local != NULL && i < local->count; i++)
        rd_kafka_ConfigResource_set_config(resource, local->entries[i].name, local->entries[i].value);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms);
    rd_kafka_AlterConfigs(rk, &resource, 1, options, queue);
    rd_kafka_event_t *ev = wait_result(queue, timeout_ms);
    int rc = ST_EIO;
    if (ev != NULL && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t count = 0;
        const rd_kafka_ConfigResource_t **resources =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &count);
        if (count == 1 && rd_kafka_ConfigResource_error(resources[0]) == 0)
            rc = 0;
        else if (count == 1)
            log_warn("mirror", "alter configs failed topic=%s error=%s", topic,
                     rd_kafka_ConfigResource_error_string(resources[0]));
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_ConfigResource_destroy(resource);
    rd_kafka_queue_destroy(queue);
    return rc;
}
