/*
 * topic_registry.h - the topics and partitions this node hosts: their
 * partition counts, ids and configs (persisted under log.dirs), and the open
 * partition logs. On a single node this is the whole cluster metadata; the
 * replicated metadata quorum will sit behind the same interface.
 *
 * Persisted layout under the first log dir:
 *   meta.properties                 cluster.id and node.id of this data dir
 *   __strait_topics/<topic>.topic   text: id, partitions, then config key=value lines
 *   <topic>-<partition>/            partition logs (partition_log.h)
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_TOPIC_REGISTRY_H
#define STRAIT_TOPIC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/config/broker_config.h"
#include "broker/log/partition_log.h"
#include "broker/log/topic_config.h"

typedef struct partition {
    struct topic *topic;
    int32_t index;
    plog *log;
} partition;

typedef struct topic {
    char name[256];
    uint8_t id[16];          /* topic id (UUID v4), fixed at creation */
    int32_t partition_count;
    partition *partitions;   /* partition_count entries */
    topic_config config;
    topic_produce_settings produce; /* derived from config; refreshed with it */
    bool internal;           /* name starts with "__" (e.g. __consumer_offsets) */
} topic;

typedef struct topic_registry topic_registry;

/* Loads every persisted topic and opens (recovers) its partition logs. */
int topic_registry_open(const broker_config *config, topic_registry **out);
/* Flushes and closes every log. */
void topic_registry_close(topic_registry *reg);
/* Attaches the broker's fsync workers (broker/log/flusher.h) to every log,
 * now and as logs are created: the flush policy's fsyncs then run off the
 * loop (plog_set_flusher). NULL detaches. */
struct log_flusher;
void topic_registry_set_flusher(topic_registry *reg, struct log_flusher *flusher);

/* Validates a topic name as Kafka does: 1..249 chars of [a-zA-Z0-9._-], not
 * "." or "..". Returns 0 or ST_EINVAL with err filled. */
int topic_name_validate(const char *name, size_t len, char *err, size_t errlen);

topic *topic_registry_find(topic_registry *reg, const char *name, size_t len);
int topic_registry_count(const topic_registry *reg);
/* i-th topic in name order, 0 <= i < count (stable until the next create/delete). */
topic *topic_registry_at(topic_registry *reg, int i);
partition *topic_partition(topic *t, int32_t index); /* NULL if out of range */

/*
 * Creates a topic with partition_count partitions and the given config
 * overrides (keys[i]=values[i]). partition_count -1 = num.partitions. With
 * validate_only nothing is created. Returns 0 or: ST_EEXISTS, ST_EINVAL (bad
 * name or count; err says which), ST_ECONFIG (bad config; err names it), ST_EIO.
 */
int topic_registry_create(topic_registry *reg, const char *name, size_t name_len,
                          int32_t partition_count, const char *const *keys,
                          const char *const *values, int config_count, bool validate_only,
                          topic **out, char *err, size_t errlen);

/* Deletes the topic and its logs. ST_ENOTFOUND if unknown. */
int topic_registry_delete(topic_registry *reg, const char *name, size_t name_len);

/* Grows the topic to new_count partitions (CreatePartitions). ST_EINVAL if
 * new_count <= current (err says so). */
int topic_registry_add_partitions(topic_registry *reg, topic *t, int32_t new_count,
                                  bool validate_only, char *err, size_t errlen);

/* Replaces (incremental=false: AlterConfigs) or edits (incremental=true)
 * the topic's config overrides. ops[i]: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
 * (IncrementalAlterConfigs). Validates all before changing anything; persists
 * and applies to the open logs. */
int topic_registry_alter_config(topic_registry *reg, topic *t, bool incremental,
                                const char *const *keys, const char *const *values,
                                const int8_t *ops, int count, bool validate_only, char *err,
                                size_t errlen);

/* Periodic work for every partition log (plog_tick). */
void topic_registry_tick(topic_registry *reg, int64_t now_ms);

/* The decoder of a topic file (format in topic_registry.c): len bytes of
 * text, changed in place (lines are cut at their newlines). Returns 0 with
 * the id, the partition count and the config overrides, or ST_ECORRUPT
 * (logged with path and the reason). */
int topic_file_parse(const char *path, char *text, size_t len, uint8_t id[16],
                     int32_t *partition_count, topic_config *tc);

const char *topic_registry_cluster_id(const topic_registry *reg);
/* The first log dir: where meta.properties and the node-wide files live. */
const char *topic_registry_data_dir(const topic_registry *reg);

#endif
