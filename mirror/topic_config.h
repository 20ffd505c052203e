/*
 * topic_config.h - which topic configs follow a source topic to its target
 * copy (issue 4 item 5), and a small bounded set of them to compare.
 *
 * Portable: cleanup.policy, retention.*, segment.*, max.message.bytes,
 * compression.type, message.timestamp.type, min.compaction.lag.ms,
 * max.compaction.lag.ms, delete.retention.ms, min.cleanable.dirty.ratio.
 * Everything else (min.insync.replicas, leader/follower throttles, broker
 * defaults, read-only entries) is local to a cluster and never copied.
 */
#ifndef STRAIT_MIRROR_TOPIC_CONFIG_H
#define STRAIT_MIRROR_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* A Kafka topic has ~30 configs; 64 leaves room for vendor extensions. */
#define MIRROR_TOPIC_CONFIGS_MAX 64
#define MIRROR_CONFIG_NAME_MAX 128
#define MIRROR_CONFIG_VALUE_MAX 1024

typedef struct mirror_config_entry {
    char name[MIRROR_CONFIG_NAME_MAX];
    char value[MIRROR_CONFIG_VALUE_MAX];
} mirror_config_entry;

typedef struct mirror_config_set {
    int count;
    mirror_config_entry entries[MIRROR_TOPIC_CONFIGS_MAX];
} mirror_config_set;

/* True if a config of this name may be copied to another cluster. */
bool mirror_config_portable(const char *name);

/* True if a described entry is copied: portable, set on the topic itself
 * (not a default, not read-only, not sensitive), value present. */
bool mirror_config_keep(const char *name, const char *value, bool is_default, bool is_read_only,
                        bool is_sensitive);

/* Adds or replaces name=value. ST_ETOOBIG if full or too long. */
int mirror_config_set_put(mirror_config_set *set, const char *name, const char *value);
const char *mirror_config_set_get(const mirror_config_set *set, const char *name);
/* Same names with the same values, in any order. */
bool mirror_config_set_equal(const mirror_config_set *a, const mirror_config_set *b);

#endif
