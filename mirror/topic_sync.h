/*
 * topic_sync.h - topic discovery and sync for a flow (issue 4 item 5), over
 * librdkafka's Admin API: list source topics with partition counts, read a
 * topic's portable configs, create the target copy with the same partition
 * count and configs, follow partition increases (CreatePartitions) and config
 * changes (AlterConfigs, keeping the target's own local settings). Target
 * topics are never deleted.
 *
 * Runs on the flow's thread; every call blocks up to timeout_ms.
 */
#ifndef STRAIT_MIRROR_TOPIC_SYNC_H
#define STRAIT_MIRROR_TOPIC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "mirror/topic_config.h"
#include "topology/topology.h"

#define MIRROR_HEARTBEATS_TOPIC "strait.heartbeats"

typedef struct mirror_topic_info {
    char name[256];
    int partition_count;
} mirror_topic_info;

/* Topics of a cluster (metadata for all topics); *out is malloc'ed. */
int mirror_list_topics(rd_kafka_t *rk, int timeout_ms, mirror_topic_info **out, int *count);

/* Pure: does flow copy this source topic? Skips "__*", strait.heartbeats,
 * and under prefix naming the remote copies of the target region
 * ("<target><separator>..."), then applies the flow's include/exclude. */
bool mirror_topic_selected(const topology *t, const topology_flow *flow, const char *topic);

/* Portable configs of topic (portable), and the other dynamic topic-level
 * settings (local, kept on the target when altering). local may be NULL. */
int mirror_describe_topic_configs(rd_kafka_t *rk, const char *topic, int timeout_ms,
                                  mirror_config_set *portable, mirror_config_set *local);

int mirror_create_topic(rd_kafka_t *rk, const char *topic, int partition_count,
                        const mirror_config_set *configs, int timeout_ms);
int mirror_create_partitions(rd_kafka_t *rk, const char *topic, int partition_count,
                             int timeout_ms);
/* Replaces the topic's dynamic configs with portable + local. */
int mirror_alter_topic_configs(rd_kafka_t *rk, const char *topic, const mirror_config_set *portable,
                               const mirror_config_set *local, int timeout_ms);

#endif
