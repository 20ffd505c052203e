/*
 * broker_config.c - the broker's static configuration (see broker_config.h).
 *
 * One table describes every key: name, the key it is an alias of (broker.id
 * for node.id, log.retention.hours for log.retention.ms, ...), type, the
 * field it sets (offset and size), bounds, unit scale, default, and a
 * one-line doc. Loading, overrides, DescribeConfigs and docs/configuration.md
 * all follow the table.
 *
 * Loading works on a copy of the defaults and copies it out only when every
 * key and every relation between keys is valid, so a bad file changes
 * nothing. Within the file two spellings of one setting (log.retention.ms and
 * log.retention.hours) are refused as ambiguous; overrides apply in order on
 * top of the file, the last one winning.
 */
#include "broker/config/broker_config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config/connection_limits.h"
#include "broker/config/listeners.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/yaml_map.h"

enum key_type { KEY_INT, KEY_BOOL, KEY_STRING, KEY_ENUM };

/* Validates value and writes its normal form (KEY_STRING keys). */
typedef int (*key_check_fn)(const char *value, char *normal, size_t normallen, char *msg,
                            size_t msglen);

typedef struct key_def {
    const char *name;
    const char *alias_of;      /* NULL for a key of its own, else the key it is a spelling of */
    enum key_type type;
    size_t offset;             /* field in broker_config */
    size_t size;               /* sizeof the field: 2/4/8 for integers, capacity for strings */
    int64_t min, max;          /* KEY_INT bounds, in this key's unit */
    int64_t scale;             /* KEY_INT: field = value * scale (hours -> ms); negatives kept */
    const char *choices;       /* KEY_ENUM: "a|b|c" */
    key_check_fn check;        /* KEY_STRING: optional validation */
    const char *default_value; /* keys of their own only */
    const char *doc;
} key_def;

static int check_listeners(const char *, char *, size_t, char *, size_t);
static int check_advertised_listeners(const char *, char *, size_t, char *, size_t);
static int check_log_dirs(const char *, char *, size_t, char *, size_t);
static int check_cluster_id(const char *, char *, size_t, char *, size_t);
static int check_cleanup_policy(const char *, char *, size_t, char *, size_t);
static int check_metrics_listener(const char *, char *, size_t, char *, size_t);
static int check_authorizer(const char *, char *, size_t, char *, size_t);
static int check_super_users(const char *, char *, size_t, char *, size_t);

#define FIELD(f) .offset = offsetof(broker_config, f), .size = sizeof(((broker_config *)0)->f)
#define INT(n, f, lo, hi, def, d) \
    {.name = n, .type = KEY_INT, FIELD(f), .min = lo, .max = hi, .scale = 1, .default_value = def, .doc = d}
#define BOOL(n, f, def, d) {.name = n, .type = KEY_BOOL, FIELD(f), .default_value = def, .doc = d}
#define STRING(n, f, fn, def, d) \
    {.name = n, .type = KEY_STRING, FIELD(f), .check = fn, .default_value = def, .doc = d}
#define ENUM(n, f, ch, def, d) \
    {.name = n, .type = KEY_ENUM, FIELD(f), .choices = ch, .default_value = def, .doc = d}
#define ALIAS(n, of, f, lo, hi, sc, d) \
    {.name = n, .alias_of = of, .type = KEY_INT, FIELD(f), .min = lo, .max = hi, .scale = sc, .doc = d}
#define ALIAS_STRING(n, of, f, fn, d) \
    {.name = n, .alias_of = of, .type = KEY_STRING, FIELD(f), .check = fn, .doc = d}

#define HOUR_MS INT64_C(3600000)
#define MINUTE_MS INT64_C(60000)

static const key_def keys[] = {
    INT("node.id", node_id, 0, INT32_MAX, "1", "id of this broker, unique across all regions"),
    ALIAS("broker.id", "node.id", node_id, 0, INT32_MAX, 1, "older name of node.id"),
    STRING("listeners", listeners, check_listeners, "PLAINTEXT://127.0.0.1:9092",
           "comma-separated NAME://host:port to listen on (host:port alone = PLAINTEXT; empty "
           "host: all interfaces); each listener its own name and port"),
    STRING("advertised.listeners", advertised_listeners, check_advertised_listeners, "",
           "NAME://host:port given in Metadata to clients connected to listener NAME; a listener "
           "not named here advertises its own address"),
    STRING("listener.security.protocol.map", listener_security_protocol_map,
           listeners_check_protocol_map, "",
           "NAME:PROTOCOL,... (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL); empty = "
           "PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL map to themselves"),
    STRING("inter.broker.listener.name", inter_broker_listener_name, listeners_check_name, "",
           "listener other brokers use (checked now, used by the cluster to come); empty = the "
           "first listener"),
    ENUM("ssl.keystore.type", ssl_keystore_type, "PEM", "PEM", "format of ssl.keystore.location"),
    STRING("ssl.keystore.location", ssl_keystore_location, NULL, "",
           "PEM file with the certificate chain (leaf first) and the unencrypted private key of "
           "SSL listeners; reread on SIGHUP"),
    ENUM("ssl.truststore.type", ssl_truststore_type, "PEM", "PEM",
         "format of ssl.truststore.location"),
    STRING("ssl.truststore.location", ssl_truststore_location, NULL, "",
           "PEM file of the CA certificates client certificates must chain to; reread on SIGHUP"),
    ENUM("ssl.client.auth", ssl_client_auth, "none|requested|required", "none",
         "client certificates on SSL listeners: none, requested (verified if sent) or required"),
    STRING("ssl.enabled.protocols", ssl_enabled_protocols, listeners_check_tls_protocols,
           "TLSv1.2,TLSv1.3", "TLS versions offered: TLSv1.2 and/or TLSv1.3"),
    STRING("ssl.cipher.suites", ssl_cipher_suites, NULL, "",
           "OpenSSL cipher names (TLS 1.2) and TLS_* suites (TLS 1.3), comma-separated; empty = "
           "OpenSSL's defaults"),
    STRING("ssl.principal.mapping.rules", ssl_principal_mapping_rules,
           listeners_check_mapping_rules, "DEFAULT",
           "DEFAULT and RULE:pattern/replacement/[L|U] turning a client certificate's subject "
           "into the principal User:<name>"),
    STRING("sasl.enabled.mechanisms", sasl_enabled_mechanisms, listeners_check_sasl_mechanisms,
           "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
           "SASL mechanisms offered on SASL_PLAINTEXT and SASL_SSL listeners: PLAIN, "
           "SCRAM-SHA-256, SCRAM-SHA-512 (per listener: listener.name.<name>.sasl.enabled.mechanisms)"),
    STRING("sasl.users.file", sasl_users_file, NULL, "",
           "file of 'user mechanism password' lines read at every start: each line sets that "
           "user's SCRAM credential (a fresh salt, 4096 iterations); the password is never kept"),
    INT("connection.failed.authentication.delay.ms", connection_failed_authentication_delay_ms, 0,
        60000, "100", "a failed SASL authentication is answered after this delay"),
    STRING("log.dirs", log_dirs, check_log_dirs, "./data",
           "comma-separated data directories; topic metadata lives in the first"),
    ALIAS_STRING("log.dir", "log.dirs", log_dirs, check_log_dirs, "single-directory form of log.dirs"),
    STRING("cluster.id", cluster_id, check_cluster_id, "",
           "cluster id; empty = generated once and kept in meta.properties"),
    STRING("broker.rack", rack, NULL, "", "rack of this broker, reported in Metadata"),
    INT("num.partitions", num_partitions, 1, LIMIT_PARTITIONS_PER_TOPIC, "1",
        "partitions of an auto-created topic or a CreateTopics request without a count"),
    INT("default.replication.factor", default_replication_factor, 1, INT16_MAX, "1",
        "replication factor of auto-created topics"),
    BOOL("auto.create.topics.enable", auto_create_topics_enable, "true",
         "create a topic when a client asks for Metadata or produces to an unknown one"),
    BOOL("delete.topic.enable", delete_topic_enable, "true", "allow DeleteTopics"),
    INT("message.max.bytes", message_max_bytes, 0, INT32_MAX, "1048588",
        "largest record batch accepted (topic: max.message.bytes)"),
    INT("socket.request.max.bytes", socket_request_max_bytes, 1, LIMIT_REQUEST_BYTES_CEILING,
        "104857600", "largest request accepted; larger frames are refused before allocating"),
    INT("max.connections", max_connections, 0, LIMIT_CONNECTIONS_CEILING, "10000",
        "open Kafka connections over all listeners; a new one past it is closed at accept "
        "(per listener: listener.name.<name>.max.connections)"),
    INT("max.connections.per.ip", max_connections_per_ip, 0, INT32_MAX, "2147483647",
        "open Kafka connections from one IP address; a new one past it is closed at accept"),
    STRING("max.connections.per.ip.overrides", max_connections_per_ip_overrides,
           connection_limits_check_ip_overrides, "",
           "ip:count,ip:count: max.connections.per.ip for these addresses (IP addresses, not "
           "host names)"),
    INT("connections.max.idle.ms", connections_max_idle_ms, 1, INT32_MAX, "600000",
        "a connection with no request in flight that neither sends nor reads for this long is "
        "closed"),
    INT("fetch.wait.limit.ms", fetch_wait_limit_ms, 0, LIMIT_FETCH_WAIT_MS_CEILING, "300000",
        "strait: longest a Fetch waits for fetch.min.bytes; a larger max_wait_ms is clamped to "
        "it"),
    INT("log.segment.bytes", log_segment_bytes, 14, INT32_MAX, "1073741824",
        "segment file size at which the log rolls (topic: segment.bytes)"),
    INT("log.roll.ms", log_roll_ms, 1, INT64_MAX, "604800000",
        "age at which the active segment rolls (topic: segment.ms)"),
    ALIAS("log.roll.hours", "log.roll.ms", log_roll_ms, 1, INT32_MAX, HOUR_MS, "log.roll.ms in hours"),
    INT("log.retention.ms", log_retention_ms, -1, INT64_MAX, "604800000",
        "age after which segments are deleted, -1 = forever (topic: retention.ms)"),
    ALIAS("log.retention.minutes", "log.retention.ms", log_retention_ms, -1, INT32_MAX, MINUTE_MS,
          "log.retention.ms in minutes"),
    ALIAS("log.retention.hours", "log.retention.ms", log_retention_ms, -1, INT32_MAX, HOUR_MS,
          "log.retention.ms in hours"),
    INT("log.retention.bytes", log_retention_bytes, -1, INT64_MAX, "-1",
        "partition size above which old segments are deleted, -1 = no limit (topic: retention.bytes)"),
    INT("log.retention.check.interval.ms", log_retention_check_interval_ms, 1, INT64_MAX, "300000",
        "how often retention is checked"),
    INT("log.flush.interval.messages", log_flush_interval_messages, 1, INT64_MAX,
        "9223372036854775807", "fsync after this many records (topic: flush.messages)"),
    ALIAS("flush.messages", "log.flush.interval.messages", log_flush_interval_messages, 1, INT64_MAX,
          1, "topic-style name of log.flush.interval.messages"),
    INT("log.flush.interval.ms", log_flush_interval_ms, 0, INT64_MAX, "9223372036854775807",
        "fsync when unflushed data is older than this (topic: flush.ms)"),
    ALIAS("flush.ms", "log.flush.interval.ms", log_flush_interval_ms, 0, INT64_MAX, 1,
          "topic-style name of log.flush.interval.ms"),
    INT("log.index.interval.bytes", log_index_interval_bytes, 0, INT32_MAX, "4096",
        "log bytes between offset index entries (topic: index.interval.bytes)"),
    INT("log.index.size.max.bytes", log_index_size_max_bytes, 4, INT32_MAX, "10485760",
        "largest offset or time index file (topic: segment.index.bytes)"),
    STRING("log.cleanup.policy", log_cleanup_policy, check_cleanup_policy, "delete",
           "delete, compact or compact,delete (topic: cleanup.policy)"),
    ENUM("log.message.timestamp.type", log_message_timestamp_type, "CreateTime|LogAppendTime",
         "CreateTime", "timestamp kept in batches (topic: message.timestamp.type)"),
    ENUM("compression.type", compression_type, "producer|uncompressed|gzip|snappy|lz4|zstd",
         "producer", "codec batches are stored with; producer = as sent (topic: compression.type)"),
    INT("num.network.threads", num_network_threads, 1, INT32_MAX, "3",
        "accepted for compatibility; strait serves the network from one event loop"),
    INT("group.initial.rebalance.delay.ms", group_initial_rebalance_delay_ms, 0, INT32_MAX, "3000",
        "wait for more members before the first rebalance of an empty group"),
    INT("offsets.topic.num.partitions", offsets_topic_num_partitions, 1, LIMIT_PARTITIONS_PER_TOPIC,
        "50", "partitions of __consumer_offsets (fixed once the topic exists)"),
    INT("offsets.retention.minutes", offsets_retention_minutes, 1, INT32_MAX, "10080",
        "committed offsets of an empty group are kept this long"),
    INT("offsets.retention.check.interval.ms", offsets_retention_check_interval_ms, 1, INT64_MAX,
        "600000", "how often expired committed offsets are removed"),
    INT("offset.metadata.max.bytes", offset_metadata_max_bytes, 0, INT32_MAX, "4096",
        "longest metadata string accepted with a committed offset"),
    INT("group.min.session.timeout.ms", group_min_session_timeout_ms, 0, INT32_MAX, "6000",
        "shortest session timeout a group member may ask for"),
    INT("group.max.session.timeout.ms", group_max_session_timeout_ms, 0, INT32_MAX, "1800000",
        "longest session timeout a group member may ask for"),
    INT("group.max.size", group_max_size, 1, INT32_MAX, "2147483647",
        "most members (joined or pending) one consumer group may have"),
    INT("producer.id.expiration.ms", producer_id_expiration_ms, 1, INT32_MAX, "86400000",
        "a partition forgets an idempotent producer idle this long"),
    ENUM("log.level", log_level, "debug|info|warn|error", "info",
         "strait: log threshold (STRAIT_LOG_LEVEL applies when this is not set)"),
    STRING("metrics.listener", metrics_listener, check_metrics_listener, "127.0.0.1:0",
           "strait: host:port serving /metrics (Prometheus) and /healthz over HTTP; port 0 = a "
           "free port, logged at start; empty = off"),
    STRING("authorizer.class.name", authorizer_class_name, check_authorizer, "",
           "empty = no ACLs (every client may do everything); strait, "
           "kafka.security.authorizer.AclAuthorizer or "
           "org.apache.kafka.metadata.authorizer.StandardAuthorizer = strait's ACL authorizer"),
    STRING("super.users", super_users, check_super_users, "",
           "principals allowed everything when the authorizer is on, separated by ';' "
           "(User:admin;User:sidecar)"),
    BOOL("allow.everyone.if.no.acl.found", allow_everyone_if_no_acl_found, "false",
         "with the authorizer on, allow a request on a resource no ACL names"),
};

#define KEY_COUNT ((int)(sizeof keys / sizeof keys[0]))

/* ---- string checks ---- */

static int check_listeners(const char *value, char *normal, size_t normallen, char *msg,
                           size_t msglen)
{
    return listeners_check_list(value, false, normal, normallen, msg, msglen);
}

static int check_advertised_listeners(const char *value, char *normal, size_t normallen, char *msg,
                                      size_t msglen)
{
    return listeners_check_list(value, true, normal, normallen, msg, msglen);
}

static int check_log_dirs(const char *value, char *normal, size_t normallen, char *msg,
                          size_t msglen)
{
    normal[0] = '\0';
    for (const char *c = value;; c++) {
        size_t n = strcspn(c, ",");
        const char *dir = c; /* c += n below, then c++ skips the comma */
        size_t len = config_value_trim(&dir, n);
        if (len == 0 || !config_value_list_append(normal, normallen, dir, len)) {
            char q[80];
            snprintf(msg, msglen, "expected a comma-separated list of directories%s, got '%s'",
                     len == 0 ? "" : " that fits the limit", config_value_quoted(value, q, sizeof q));
            return ST_ECONFIG;
        }
        if (c[n] == '\0')
            break;
        c += n;
    }
    return 0;
}

static int check_cluster_id(const char *value, char *normal, size_t normallen, char *msg,
                            size_t msglen)
{
    for (const char *p = value; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            char q[80];
            snprintf(msg, msglen, "expected letters, digits, '-' and '_' only, got '%s'",
                     config_value_quoted(value, q, sizeof q));
            return ST_ECONFIG;
        }
    }
    snprintf(normal, normallen, "%s", value);
    return 0;
}

static int check_cleanup_policy(const char *value, char *normal, size_t normallen, char *msg,
                                size_t msglen)
{
    return config_value_parse_list(value, "compact|delete", normal, normallen, msg, msglen);
}

/* "host:port" split in place: host is an IPv4 or [IPv6] literal, localhost
 * or empty (all interfaces); brackets are removed from *host. */
static int split_host_port(char *text, const char **host, int64_t *port)
{
    char *colon = strrchr(text, ':');
    if (!colon)
        return ST_EINVAL;
    *colon = '\0';
    char msg[8];
    if (config_value_parse_int(colon + 1, 0, 65535, port, msg, sizeof msg) != 0)
        return ST_EINVAL;
    char *h = text;
    size_t len = strlen(h);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h[len - 1] = '\0';
        h++;
        struct in6_addr a6;
        if (inet_pton(AF_INET6, h, &a6) != 1)
            return ST_EINVAL;
    } else if (h[0] != '\0' && strcmp(h, "localhost") != 0) {
        struct in_addr a4;
        if (inet_pton(AF_INET, h, &a4) != 1)
            return ST_EINVAL;
    }
    *host = h;
    return 0;
}

static int check_metrics_listener(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen)
{
    char text[300], q[80];
    const char *start = value;
    size_t len = config_value_trim(&start, strlen(value));
    if (len == 0) { /* the endpoint is off */
        normal[0] = '\0';
        return 0;
    }
    const char *host = NULL;
    int64_t port = 0;
    if (len < sizeof text) {
        memcpy(text, start, len);
        text[len] = '\0';
    }
    if (len >= sizeof text || split_host_port(text, &host, &port) != 0) {
        snprintf(msg, msglen, "expected host:port (an IP address, [IPv6] or localhost, and a "
                 "port between 0 and 65535), or empty for off, got '%s'",
                 config_value_quoted(value, q, sizeof q));
        return ST_ECONFIG;
    }
    snprintf(normal, normallen, "%.*s", (int)len, start);
    return 0;
}

static int check_authorizer(const char *value, char *normal, size_t normallen, char *msg,
                            size_t msglen)
{
    static const char *const accepted[] = {
        BROKER_AUTHORIZER_STRAIT,
        "kafka.security.authorizer.AclAuthorizer",
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    };
    const char *start = value;
    size_t len = config_value_trim(&start, strlen(value));
    if (len == 0) {
        normal[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        if (strlen(accepted[i]) == len && memcmp(accepted[i], start, len) == 0) {
            snprintf(normal, normallen, "%s", BROKER_AUTHORIZER_STRAIT);
            return 0;
        }
    }
    char q[80];
    snprintf(msg, msglen, "unknown authorizer '%s' (expected empty for none, strait, "
             "kafka.security.authorizer.AclAuthorizer or "
             "org.apache.kafka.metadata.authorizer.StandardAuthorizer)",
             config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

/* "Type:name;Type:name": every entry has a type before a ':' and a name. */
static int check_super_users(const char *value, char *normal, size_t normallen, char *msg,
                             size_t msglen)
{
    const char *p = value;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *entry = p;
        size_t entry_len = config_value_trim(&entry, len);
        const char *colon = entry_len ? memchr(entry, ':', entry_len) : NULL;
        if (entry_len > 0 && (!colon || colon == entry || colon == entry + entry_len - 1)) {
            snprintf(msg, msglen, "super.users entry '%.*s' is not a principal <type>:<name> "
                     "(User:admin)", (int)(entry_len > 64 ? 64 : entry_len), entry);
            return ST_ECONFIG;
        }
        p = end ? end + 1 : p + len;
    }
    snprintf(normal, normallen, "%s", value);
    return 0;
}

/* ---- the table at work ---- */

static const key_def *find_key(const char *name)
{
    for (int i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* The key that owns def's field (def itself unless it is an alias). */
static int own_index(const key_def *def)
{
    const key_def *own = def->alias_of ? find_key(def->alias_of) : def;
    assert(own != NULL);
    return (int)(own - keys);
}

static void unknown_key(const char *key, char *msg, size_t msglen)
{
    const char *names[KEY_COUNT];
    for (int i = 0; i < KEY_COUNT; i++)
        names[i] = keys[i].name;
    const char *near = config_value_closest(key, names, KEY_COUNT);
    char q[80];
    if (near)
        snprintf(msg, msglen, "unknown key '%s' (did you mean '%s'?)", config_value_quoted(key, q, sizeof q), near);
    else
        snprintf(msg, msglen, "unknown key '%s'", config_value_quoted(key, q, sizeof q));
}

static void store_int(broker_config *c, const key_def *def, int64_t v)
{
    char *field = (char *)c + def->offset;
    if (def->size == sizeof(int16_t)) {
        int16_t x = (int16_t)v;
        memcpy(field, &x, sizeof x);
    } else if (def->size == sizeof(int32_t)) {
        int32_t x = (int32_t)v;
        memcpy(field, &x, sizeof x);
    } else {
        memcpy(field, &v, sizeof v);
    }
}

static int64_t load_int(const broker_config *c, const key_def *def)
{
    const char *field = (const char *)c + def->offset;
    if (def->size == sizeof(int16_t)) {
        int16_t x;
        memcpy(&x, field, sizeof x);
        return x;
    }
    if (def->size == sizeof(int32_t)) {
        int32_t x;
        memcpy(&x, field, sizeof x);
        return x;
    }
    int64_t x;
    memcpy(&x, field, sizeof x);
    return x;
}

/* Parses value for def into c; on error msg holds the reason (no key prefix). */
static int apply_value(broker_config *c, const key_def *def, const char *value, char *msg,
                       size_t msglen)
{
    char normal[LIMIT_CONFIG_VALUE_LENGTH + 1];
    int64_t v = 0;
    bool b = false;
    int rc = 0;
    switch (def->type) {
    case KEY_INT:
        rc = config_value_parse_int(value, def->min, def->max, &v, msg, msglen);
        if (rc == 0)
            store_int(c, def, v < 0 ? v : v * def->scale);
        return rc;
    case KEY_BOOL:
        rc = config_value_parse_bool(value, &b, msg, msglen);
        if (rc == 0)
            memcpy((char *)c + def->offset, &b, sizeof b);
        return rc;
    case KEY_ENUM:
        rc = config_value_parse_choice(value, def->choices, msg, msglen);
        snprintf(normal, sizeof normal, "%s", value);
        break;
    case KEY_STRING:
        if (def->check)
            rc = def->check(value, normal, sizeof normal, msg, msglen);
        else
            snprintf(normal, sizeof normal, "%s", value);
        break;
    }
    if (rc == 0 && strlen(normal) >= def->size) {
        snprintf(msg, msglen, "expected at most %zu characters, got %zu", def->size - 1,
                 strlen(normal));
        rc = ST_ECONFIG;
    }
    if (rc == 0)
        memcpy((char *)c + def->offset, normal, strlen(normal) + 1);
    return rc;
}

static void format_value(const broker_config *c, const key_def *def, char *out, size_t outlen)
{
    const char *field = (const char *)c + def->offset;
    if (def->type == KEY_INT) {
        int64_t v = load_int(c, def);
        snprintf(out, outlen, "%" PRId64, v < 0 ? v : v / def->scale);
    } else if (def->type == KEY_BOOL) {
        bool b;
        memcpy(&b, field, sizeof b);
        snprintf(out, outlen, "%s", b ? "true" : "false");
    } else {
        snprintf(out, outlen, "%s", field);
    }
}

void broker_config_default(broker_config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < KEY_COUNT; i++) {
        if (keys[i].alias_of)
            continue;
        char msg[256];
        int rc = apply_value(c, &keys[i], keys[i].default_value, msg, sizeof msg);
        assert(rc == 0 && "every default in the table is valid");
        (void)rc;
    }
    memcpy(c->advertised_listeners, c->listeners, sizeof c->listeners);
}

/* message.max.bytes <= socket.request.max.bytes: a batch must fit a request. */
static int check_sizes(const broker_config *c, char *msg, size_t msglen)
{
    if (c->message_max_bytes > c->socket_request_max_bytes) {
        snprintf(msg, msglen, "message.max.bytes (%" PRId32 ") must not be larger than "
                 "socket.request.max.bytes (%" PRId32 ")", c->message_max_bytes,
                 c->socket_request_max_bytes);
        return ST_ECONFIG;
    }
    return 0;
}

/* max.connections.per.ip=0 refuses every address but the overrides: Kafka
 * requires overrides then, or no client could ever connect. */
static int check_connection_relations(const broker_config *c, char *msg, size_t msglen)
{
    if (c->max_connections_per_ip == 0 && c->max_connections_per_ip_overrides[0] == '\0') {
        snprintf(msg, msglen, "max.connections.per.ip is 0 and max.connections.per.ip.overrides "
                 "is empty: no client could connect (name the addresses allowed in the "
                 "overrides)");
        return ST_ECONFIG;
    }
    return 0;
}

/* The listener keys agree with each other (listeners_resolve). */
static int check_listener_relations(const broker_config *c, char *msg, size_t msglen)
{
    listener_set *set = malloc(sizeof *set);
    if (!set) {
        snprintf(msg, msglen, "out of memory");
        return ST_ENOMEM;
    }
    int rc = listeners_resolve(c, set, msg, msglen);
    free(set);
    return rc;
}

/* Sets key in c (no relations checked); err gets "key: reason". */
static int set_key(broker_config *c, const char *key, const char *value, const key_def **out_def,
                   char *err, size_t errlen)
{
    char msg[512];
    if (strncmp(key, "listener.name.", 14) == 0) { /* per-listener settings: no table entry */
        *out_def = NULL;
        if (listeners_override_set(c->listener_overrides, sizeof c->listener_overrides, key + 14,
                                   value, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: %s", key, msg);
            return ST_ECONFIG;
        }
        return 0;
    }
    const key_def *def = find_key(key);
    if (!def && listeners_unsupported_key(key)) {
        snprintf(err, errlen, "%s: %s", key, listeners_unsupported_key(key));
        return ST_ECONFIG;
    }
    if (!def) {
        unknown_key(key, err, errlen);
        return ST_ECONFIG;
    }
    *out_def = def;
    if (strlen(value) > LIMIT_CONFIG_VALUE_LENGTH) {
        snprintf(err, errlen, "%s: value longer than %d bytes", key, LIMIT_CONFIG_VALUE_LENGTH);
        return ST_ECONFIG;
    }
    if (apply_value(c, def, value, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", key, msg);
        return ST_ECONFIG;
    }
    return 0;
}

int broker_config_set(broker_config *c, const char *key, const char *value, char *err,
                      size_t errlen)
{
    broker_config next = *c;
    const key_def *def = NULL;
    int rc = set_key(&next, key, value, &def, err, errlen);
    if (rc != 0)
        return rc;
    /* advertised.listeners that followed listeners keeps following it */
    if (def && def->offset == offsetof(broker_config, listeners) &&
        strcmp(c->advertised_listeners, c->listeners) == 0)
        memcpy(next.advertised_listeners, next.listeners, sizeof next.listeners);
    if (def && def->offset == offsetof(broker_config, advertised_listeners) &&
        !next.advertised_listeners[0])
        memcpy(next.advertised_listeners, next.listeners, sizeof next.listeners);
    if (check_sizes(&next, err, errlen) != 0 || check_listener_relations(&next, err, errlen) != 0 ||
        check_connection_relations(&next, err, errlen) != 0)
        return ST_ECONFIG;
    *c = next;
    if (def && def->offset == offsetof(broker_config, log_level))
        log_set_level((enum log_level)log_level_parse(c->log_level));
    return 0;
}

/* Where each field was last set during a load, for messages. */
typedef struct load_origin {
    int line[KEY_COUNT];               /* file line, 0 if not set in the file */
    const char *file_key[KEY_COUNT];   /* spelling used in the file */
    int override[KEY_COUNT];           /* index of the last override setting it, -1 if none */
} load_origin;

static int load_file(broker_config *c, const char *path, load_origin *origin, char *err,
                     size_t errlen)
{
    yaml_map map;
    int rc = yaml_map_load(path, 0, &map, err, errlen);
    if (rc != 0)
        return rc == ST_ENOMEM ? rc : ST_ECONFIG;
    char msg[768];
    for (int i = 0; i < map.count && rc == 0; i++) {
        const yaml_map_entry *e = &map.entries[i];
        const key_def *def = NULL;
        rc = set_key(c, e->key, e->value, &def, msg, sizeof msg);
        if (rc != 0) {
            snprintf(err, errlen, "%s:%d: %s", path, e->line, msg);
            break;
        }
        if (!def)
            continue; /* listener.name.*: yaml_map refuses a key given twice */
        int own = own_index(def);
        if (origin->line[own] > 0) {
            snprintf(err, errlen, "%s:%d: '%s' and '%s' (line %d) both set %s; keep one", path,
                     e->line, e->key, origin->file_key[own], origin->line[own], keys[own].name);
            rc = ST_ECONFIG;
            break;
        }
        origin->line[own] = e->line;
        origin->file_key[own] = e->key;
    }
    if (rc != 0 && origin) { /* file_key points into map, which goes now */
        for (int i = 0; i < KEY_COUNT; i++)
            origin->file_key[i] = NULL;
    }
    yaml_map_free(&map);
    return rc;
}

static int apply_override(broker_config *c, const char *arg, int index, load_origin *origin,
                          char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char q[80];
    if (!eq || eq == arg) {
        snprintf(err, errlen, "--override %s: expected key=value", config_value_quoted(arg, q, sizeof q));
        return ST_ECONFIG;
    }
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    const key_def *def = NULL;
    char msg[768];
    int rc = set_key(c, key, eq + 1, &def, msg, sizeof msg);
    if (rc != 0)
        snprintf(err, errlen, "--override %s: %s", config_value_quoted(arg, q, sizeof q), msg);
    else if (def)
        origin->override[own_index(def)] = index;
    free(key);
    return rc;
}

/* Prefix for a relation error: the origin of whichever of the two keys was set last. */
static void relation_origin(const load_origin *o, const char *path,
                            const char *const *overrides, char *out, size_t outlen)
{
    const int a = own_index(find_key("message.max.bytes"));
    const int b = own_index(find_key("socket.request.max.bytes"));
    char q[80];
    out[0] = '\0';
    if (o->override[a] >= 0 || o->override[b] >= 0) {
        int i = o->override[a] > o->override[b] ? o->override[a] : o->override[b];
        snprintf(out, outlen, "--override %s: ", config_value_quoted(overrides[i], q, sizeof q));
    } else if (o->line[a] > 0 || o->line[b] > 0) {
        snprintf(out, outlen, "%s:%d: ", path, o->line[a] > o->line[b] ? o->line[a] : o->line[b]);
    }
}

int broker_config_load(const char *path, const char *const *overrides, int override_count,
                       broker_config *out, char *err, size_t errlen)
{
    broker_config next;
    broker_config_default(&next);
    next.advertised_listeners[0] = '\0'; /* filled from listeners at the end unless set */
    load_origin origin;
    memset(&origin, 0, sizeof origin);
    for (int i = 0; i < KEY_COUNT; i++)
        origin.override[i] = -1;
    int rc = path ? load_file(&next, path, &origin, err, errlen) : 0;
    for (int i = 0; rc == 0 && i < override_count; i++)
        rc = apply_override(&next, overrides[i], i, &origin, err, errlen);
    if (rc != 0)
        return rc;
    if (!next.advertised_listeners[0])
        memcpy(next.advertised_listeners, next.listeners, sizeof next.listeners);
    char msg[512], where[160];
    if (check_sizes(&next, msg, sizeof msg) != 0) {
        relation_origin(&origin, path, overrides, where, sizeof where);
        snprintf(err, errlen, "%s%s", where, msg);
        return ST_ECONFIG;
    }
    if (check_listener_relations(&next, msg, sizeof msg) != 0 ||
        check_connection_relations(&next, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s%s%s", path ? path : "", path ? ": " : "", msg);
        return ST_ECONFIG;
    }
    int level = own_index(find_key("log.level"));
    *out = next;
    if (origin.line[level] > 0 || origin.override[level] >= 0)
        log_set_level((enum log_level)log_level_parse(out->log_level));
    return 0;
}

void broker_config_each(const broker_config *c,
                        void (*fn)(void *arg, const char *key, const char *value, bool is_default),
                        void *arg)
{
    char value[LIMIT_CONFIG_VALUE_LENGTH + 1];
    for (int i = 0; i < KEY_COUNT; i++) {
        if (keys[i].alias_of)
            continue;
        format_value(c, &keys[i], value, sizeof value);
        fn(arg, keys[i].name, value, broker_config_is_default(c, keys[i].name));
    }
}

int broker_config_get(const broker_config *c, const char *key, char *out, size_t outlen)
{
    const key_def *def = find_key(key);
    if (!def)
        return ST_ENOTFOUND;
    char value[LIMIT_CONFIG_VALUE_LENGTH + 1];
    format_value(c, def, value, sizeof value);
    if (strlen(value) >= outlen)
        return ST_ETOOBIG;
    memcpy(out, value, strlen(value) + 1);
    return 0;
}

bool broker_config_is_default(const broker_config *c, const char *key)
{
    const key_def *def = find_key(key);
    if (!def)
        return false;
    if (def->offset == offsetof(broker_config, advertised_listeners))
        return strcmp(c->advertised_listeners, c->listeners) == 0;
    broker_config defaults;
    broker_config_default(&defaults);
    char now[LIMIT_CONFIG_VALUE_LENGTH + 1], initial[LIMIT_CONFIG_VALUE_LENGTH + 1];
    format_value(c, def, now, sizeof now);
    format_value(&defaults, def, initial, sizeof initial);
    return strcmp(now, initial) == 0;
}

/* Splits the first "PLAINTEXT://host:port" of list (normalised by the checks). */
static int first_listener(const char *list, char *host, size_t hostlen, int *port)
{
    const char *start = strstr(list, "://");
    if (!start)
        return ST_EINVAL;
    start += 3;
    size_t len = strcspn(start, ",");
    const char *colon = start + len;
    while (colon > start && *colon != ':')
        colon--;
    if (*colon != ':')
        return ST_EINVAL;
    const char *h = start;
    size_t hl = (size_t)(colon - start);
    if (hl >= 2 && h[0] == '[') /* [IPv6] */
        h++, hl -= 2;
    if (hl >= hostlen)
        return ST_ETOOBIG;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)strtol(colon + 1, NULL, 10);
    return 0;
}

int broker_config_metrics_listener(const broker_config *c, char *host, size_t hostlen, int *port)
{
    char text[sizeof c->metrics_listener];
    memcpy(text, c->metrics_listener, sizeof text);
    if (text[0] == '\0')
        return ST_ENOTFOUND;
    const char *h = NULL;
    int64_t p = 0;
    if (split_host_port(text, &h, &p) != 0)
        return ST_EINVAL; /* not after check_metrics_listener */
    if (h[0] == '\0')
        h = "0.0.0.0";
    if (strlen(h) >= hostlen)
        return ST_ETOOBIG;
    memcpy(host, h, strlen(h) + 1);
    *port = (int)p;
    return 0;
}

int broker_config_listener(const broker_config *c, bool advertised, char *host, size_t hostlen,
                           int *port)
{
    const char *list = advertised && c->advertised_listeners[0] ? c->advertised_listeners
                                                                : c->listeners;
    int rc = first_listener(list, host, hostlen, port);
    if (rc != 0)
        return rc;
    bool wildcard = !host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
    if (advertised && wildcard) {
        char name[256];
        if (gethostname(name, sizeof name) != 0)
            snprintf(name, sizeof name, "localhost");
        name[sizeof name - 1] = '\0';
        if (strlen(name) >= hostlen)
            return ST_ETOOBIG;
        memcpy(host, name, strlen(name) + 1);
    } else if (!advertised && !host[0]) {
        if (hostlen < sizeof "0.0.0.0")
            return ST_ETOOBIG;
        memcpy(host, "0.0.0.0", sizeof "0.0.0.0");
    }
    return 0;
}
