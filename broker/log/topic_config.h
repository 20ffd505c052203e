/*
 * topic_config.h - topic-level configs (retention.ms, cleanup.policy, ...):
 * their definitions, defaults inherited from the broker's log.* configs,
 * validation, DescribeConfigs entries, and the persisted text form.
 */
#ifndef STRAIT_TOPIC_CONFIG_H
#define STRAIT_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/config/broker_config.h"
#include "broker/log/partition_log.h"

#define TOPIC_CONFIG_MAX_KEYS 48
#define TOPIC_CONFIG_VALUE_MAX 256

/* Where an entry's value comes from (Kafka's DescribeConfigs ConfigSource). */
enum topic_config_source {
    TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC = 1,   /* set on the topic */
    TOPIC_CONFIG_SOURCE_STATIC_BROKER = 4,   /* from the broker's config file */
    TOPIC_CONFIG_SOURCE_DEFAULT = 5,         /* Kafka's default */
};

/* Only explicitly set keys are stored; everything else resolves through the
 * broker config at read time, so a broker default change applies to topics. */
typedef struct topic_config {
    int count;
    char keys[TOPIC_CONFIG_MAX_KEYS][64];
    char values[TOPIC_CONFIG_MAX_KEYS][TOPIC_CONFIG_VALUE_MAX];
} topic_config;

void topic_config_init(topic_config *tc);

/* True if key is a known topic config name. */
bool topic_config_known(const char *key);

/* Validates and sets key=value (value NULL deletes the override, i.e. back to
 * default). Returns 0, or ST_ECONFIG with err naming the key and reason
 * ("unknown topic config 'retention.mz'", "retention.ms: expected an integer >= -1"). */
int topic_config_set(topic_config *tc, const char *key, const char *value, char *err, size_t errlen);

/* Validates key=value without changing anything. */
int topic_config_validate(const char *key, const char *value, char *err, size_t errlen);

/* Effective value of key (override, else from broker config, else default)
 * into out; returns the source, or -1 for an unknown key. */
int topic_config_get(const topic_config *tc, const broker_config *bc, const char *key, char *out,
                     size_t outlen);

/* Calls fn for every known topic config in name order with its effective value. */
void topic_config_each(const topic_config *tc, const broker_config *bc,
                       void (*fn)(void *arg, const char *key, const char *value, int source,
                                  bool sensitive, bool read_only),
                       void *arg);

/* Effective settings for the partition logs of the topic. */
void topic_config_to_plog(const topic_config *tc, const broker_config *bc, plog_config *out);
/* Effective message.timestamp.type == LogAppendTime. */
bool topic_config_log_append_time(const topic_config *tc, const broker_config *bc);
/* Effective max.message.bytes. */
int32_t topic_config_max_message_bytes(const topic_config *tc, const broker_config *bc);
/* Effective cleanup.policy contains compact. */
bool topic_config_compact(const topic_config *tc, const broker_config *bc);

/* What the produce path needs of a topic's effective config, resolved once
 * per config change (topic_registry) instead of parsed on every request. */
typedef struct topic_produce_settings {
    int32_t max_message_bytes; /* max.message.bytes */
    bool log_append_time;      /* message.timestamp.type == LogAppendTime */
    bool compact;              /* cleanup.policy contains compact */
    int compression_codec;     /* topic_config_compression_codec */
} topic_produce_settings;

void topic_config_produce_settings(const topic_config *tc, const broker_config *bc,
                                   topic_produce_settings *out);

/* Effective compression.type as a batch codec (enum batch_codec), or -1 for
 * "producer" (batches are stored with the producer's codec). */
int topic_config_compression_codec(const topic_config *tc, const broker_config *bc);

/* Text form "key=value\n" per override, for persistence; parse checks every
 * line (unknown keys and bad values are errors naming the line). */
int topic_config_serialize(const topic_config *tc, char *out, size_t outlen);
int topic_config_parse(topic_config *tc, const char *text, size_t len, char *err, size_t errlen);

#endif
