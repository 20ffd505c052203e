/*
 * broker_config.h - the broker's static configuration: Kafka broker config
 * names, loaded from YAML (--config FILE) with --override key=value on top.
 *
 * Keys are Kafka's where Kafka has one (node.id, listeners, log.dirs, ...).
 * Unknown keys and bad values are refused with a message naming them.
 */
#ifndef STRAIT_BROKER_CONFIG_H
#define STRAIT_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

#define BROKER_CONFIG_STRING_MAX 1024

typedef struct broker_config {
    int32_t node_id;                               /* node.id (alias broker.id), default 1 */
    char listeners[BROKER_CONFIG_STRING_MAX];      /* listeners, default PLAINTEXT://127.0.0.1:9092 */
    char advertised_listeners[BROKER_CONFIG_STRING_MAX]; /* advertised.listeners, default = listeners */
    char listener_security_protocol_map[BROKER_CONFIG_STRING_MAX]; /* "" = each protocol maps to itself */
    char inter_broker_listener_name[64];           /* inter.broker.listener.name, "" = first listener */
    char ssl_keystore_type[8];                     /* ssl.keystore.type: PEM */
    char ssl_keystore_location[BROKER_CONFIG_STRING_MAX];   /* PEM: certificate chain, then key */
    char ssl_truststore_type[8];                   /* ssl.truststore.type: PEM */
    char ssl_truststore_location[BROKER_CONFIG_STRING_MAX]; /* PEM CA certificates */
    char ssl_client_auth[16];                      /* ssl.client.auth: none|requested|required */
    char ssl_enabled_protocols[64];                /* ssl.enabled.protocols, default TLSv1.2,TLSv1.3 */
    char ssl_cipher_suites[BROKER_CONFIG_STRING_MAX]; /* ssl.cipher.suites, "" = OpenSSL defaults */
    char ssl_principal_mapping_rules[BROKER_CONFIG_STRING_MAX]; /* default DEFAULT */
    /* listener.name.<name>.<key> settings, one "NAME key=value" a line
     * (broker/config/listeners.h) */
    char listener_overrides[4 * BROKER_CONFIG_STRING_MAX];
    char sasl_enabled_mechanisms[128];             /* sasl.enabled.mechanisms, default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512 */
    char sasl_users_file[BROKER_CONFIG_STRING_MAX]; /* sasl.users.file (strait): "user mechanism password" lines */
    int64_t connection_failed_authentication_delay_ms; /* connection.failed.authentication.delay.ms, default 100 */
    char log_dirs[BROKER_CONFIG_STRING_MAX];       /* log.dirs (alias log.dir), default ./data */
    char cluster_id[64];                           /* cluster.id; default generated once and stored in log.dirs/meta.properties */
    char rack[256];                                /* broker.rack, default empty */
    int32_t num_partitions;                        /* num.partitions, default 1 */
    int16_t default_replication_factor;            /* default.replication.factor, default 1 */
    bool auto_create_topics_enable;                /* auto.create.topics.enable, default true */
    bool delete_topic_enable;                      /* delete.topic.enable, default true */
    int32_t message_max_bytes;                     /* message.max.bytes, default 1048588 */
    int32_t socket_request_max_bytes;              /* socket.request.max.bytes, default 104857600 */
    int32_t max_connections;                       /* max.connections, default 10000 */
    int32_t max_connections_per_ip;                /* max.connections.per.ip, default 2147483647 */
    char max_connections_per_ip_overrides[LIMIT_CONFIG_VALUE_LENGTH + 1]; /* "ip:count,..." */
    int64_t connections_max_idle_ms;               /* connections.max.idle.ms, default 600000 */
    int64_t fetch_wait_limit_ms;                   /* fetch.wait.limit.ms (strait), default 300000 */
    int64_t log_segment_bytes;                     /* log.segment.bytes, default 1 GiB */
    int64_t log_roll_ms;                           /* log.roll.ms (log.roll.hours), default 7 days */
    int64_t log_retention_ms;                      /* log.retention.ms (.minutes/.hours), default 7 days */
    int64_t log_retention_bytes;                   /* log.retention.bytes, default -1 */
    int64_t log_retention_check_interval_ms;       /* log.retention.check.interval.ms, default 300000 */
    int64_t log_flush_interval_messages;           /* log.flush.interval.messages (alias flush.messages), default INT64_MAX */
    int64_t log_flush_interval_ms;                 /* log.flush.interval.ms (alias flush.ms), default INT64_MAX */
    int32_t log_index_interval_bytes;              /* log.index.interval.bytes, default 4096 */
    int32_t log_index_size_max_bytes;              /* log.index.size.max.bytes, default 10 MiB */
    char log_cleanup_policy[64];                   /* log.cleanup.policy, default delete */
    char log_message_timestamp_type[32];           /* log.message.timestamp.type: CreateTime | LogAppendTime */
    char compression_type[32];                     /* compression.type, default producer */
    int32_t num_network_threads;                   /* accepted for compatibility; strait uses one loop */
    int64_t group_initial_rebalance_delay_ms;      /* group.initial.rebalance.delay.ms, default 3000 */
    int32_t offsets_topic_num_partitions;          /* offsets.topic.num.partitions, default 50 */
    int64_t offsets_retention_minutes;             /* offsets.retention.minutes, default 10080 */
    int64_t offsets_retention_check_interval_ms;   /* offsets.retention.check.interval.ms, default 600000 */
    int32_t offset_metadata_max_bytes;             /* offset.metadata.max.bytes, default 4096 */
    int32_t group_min_session_timeout_ms;          /* group.min.session.timeout.ms, default 6000 */
    int32_t group_max_session_timeout_ms;          /* group.max.session.timeout.ms, default 1800000 */
    int32_t group_max_size;                        /* group.max.size, default 2147483647 */
    int64_t producer_id_expiration_ms;             /* producer.id.expiration.ms, default 86400000 */
    char log_level[16];                            /* log.level (strait): debug|info|warn|error */
    char metrics_listener[300];                    /* metrics.listener (strait): host:port of /metrics, "" = off */
    char authorizer_class_name[128];               /* authorizer.class.name: "" = no ACLs, else "strait" (normalised) */
    char super_users[BROKER_CONFIG_STRING_MAX];    /* super.users: "User:a;User:b" */
    bool allow_everyone_if_no_acl_found;           /* allow.everyone.if.no.acl.found, default false */
} broker_config;

/* The normalised authorizer.class.name when ACLs are on. */
#define BROKER_AUTHORIZER_STRAIT "strait"


/* Fills c with the embedded defaults (single node on 127.0.0.1:9092, ./data). */
void broker_config_default(broker_config *c);

/*
 * Loads path (NULL = defaults only) then applies overrides[0..count) of the
 * form "key=value". On error returns ST_ECONFIG and writes into err a message
 * naming the file, line and key, e.g.
 *   "broker.yaml:4: unknown key 'log.dirz'" or
 *   "--override num.partitions=x: expected an integer".
 * Nothing is changed in *out on error.
 */
int broker_config_load(const char *path, const char *const *overrides, int override_count,
                       broker_config *out, char *err, size_t errlen);

/* Sets one key from its string value (same validation as the loader).
 * Returns 0 or ST_ECONFIG with err filled. */
int broker_config_set(broker_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Calls fn for every broker config key with its current value as a string
 * (DescribeConfigs on the broker resource). is_default tells whether it still
 * holds the embedded default. */
void broker_config_each(const broker_config *c,
                        void (*fn)(void *arg, const char *key, const char *value, bool is_default),
                        void *arg);

/* First host and port of listeners / advertised.listeners (every listener:
 * listeners_resolve in broker/config/listeners.h). An empty bind
 * host is returned as "0.0.0.0" (all interfaces); an advertised host that is
 * empty or a wildcard is replaced by this machine's host name. Returns 0,
 * ST_EINVAL (no listener) or ST_ETOOBIG (host does not fit). */
int broker_config_listener(const broker_config *c, bool advertised, char *host, size_t hostlen,
                           int *port);

/* Host and port of metrics.listener ("[::1]" comes back as "::1"; an empty
 * host as "0.0.0.0"). Returns 0, ST_ENOTFOUND when metrics.listener is empty
 * (the endpoint is off) or ST_ETOOBIG (host does not fit). */
int broker_config_metrics_listener(const broker_config *c, char *host, size_t hostlen, int *port);

/* Current value of key (a name or an alias, e.g. log.retention.hours gives
 * hours) as broker_config_each shows it. Returns 0, ST_ENOTFOUND or ST_ETOOBIG. */
int broker_config_get(const broker_config *c, const char *key, char *out, size_t outlen);

/* True if key (name or alias) holds its embedded default in c. */
bool broker_config_is_default(const broker_config *c, const char *key);

#endif
