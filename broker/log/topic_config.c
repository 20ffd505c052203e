/*
 * topic_config.c - topic-level configs (see topic_config.h).
 *
 * One table, in name order, gives every topic config its type, bounds, the
 * broker config it inherits its default from (Kafka's "server default
 * property": retention.ms <- log.retention.ms) or Kafka's own default when the
 * broker has no such key, and a one-line doc. A topic stores only the keys set
 * on it, in normal form ("compact,delete", "true", "604800000"); the effective
 * value of any other key is read from the broker config at the time it is
 * asked for, so DescribeConfigs reports DYNAMIC_TOPIC, STATIC_BROKER or
 * DEFAULT exactly as Kafka does.
 */
#include "broker/log/topic_config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"

enum topic_type { TOPIC_INT, TOPIC_BOOL, TOPIC_RATIO, TOPIC_ENUM, TOPIC_LIST };

typedef struct topic_key {
    const char *name;
    enum topic_type type;
    int64_t min, max;          /* TOPIC_INT bounds */
    const char *choices;       /* TOPIC_ENUM / TOPIC_LIST: "a|b|c" */
    const char *broker_key;    /* broker config holding the default, or NULL */
    const char *default_value; /* Kafka's default, used when broker_key is NULL */
    const char *doc;
} topic_key;

#define INT_KEY(n, lo, hi, bk, def, d) \
    {.name = n, .type = TOPIC_INT, .min = lo, .max = hi, .broker_key = bk, .default_value = def, .doc = d}
#define BOOL_KEY(n, def, d) {.name = n, .type = TOPIC_BOOL, .default_value = def, .doc = d}
#define LONG_MAX_TEXT "9223372036854775807"

/* In strcmp order of name: topic_config_each walks it as is. */
static const topic_key topic_keys[] = {
    {.name = "cleanup.policy", .type = TOPIC_LIST, .choices = "compact|delete",
     .broker_key = "log.cleanup.policy", .doc = "delete old segments, compact by key, or both"},
    {.name = "compression.type", .type = TOPIC_ENUM,
     .choices = "producer|uncompressed|gzip|snappy|lz4|zstd", .broker_key = "compression.type",
     .doc = "codec batches are stored with; producer = as sent"},
    INT_KEY("delete.retention.ms", 0, INT64_MAX, NULL, "86400000",
            "how long delete tombstones are kept in a compacted topic"),
    INT_KEY("file.delete.delay.ms", 0, INT64_MAX, NULL, "60000",
            "wait before a deleted segment's files are removed"),
    INT_KEY("flush.messages", 1, INT64_MAX, "log.flush.interval.messages", NULL,
            "fsync after this many records (1 = every append)"),
    INT_KEY("flush.ms", 0, INT64_MAX, "log.flush.interval.ms", NULL,
            "fsync when unflushed data is older than this"),
    INT_KEY("index.interval.bytes", 0, INT32_MAX, "log.index.interval.bytes", NULL,
            "log bytes between offset index entries"),
    INT_KEY("max.compaction.lag.ms", 1, INT64_MAX, NULL, LONG_MAX_TEXT,
            "longest a record may stay uncompacted"),
    INT_KEY("max.message.bytes", 0, INT32_MAX, "message.max.bytes", NULL,
            "largest record batch accepted"),
    BOOL_KEY("message.downconversion.enable", "true",
             "accepted for compatibility; batches are always served as stored"),
    INT_KEY("message.timestamp.after.max.ms", 0, INT64_MAX, NULL, LONG_MAX_TEXT,
            "CreateTime at most this far ahead of the broker's clock"),
    INT_KEY("message.timestamp.before.max.ms", 0, INT64_MAX, NULL, LONG_MAX_TEXT,
            "CreateTime at most this far behind the broker's clock"),
    INT_KEY("message.timestamp.difference.max.ms", 0, INT64_MAX, NULL, LONG_MAX_TEXT,
            "CreateTime at most this far from the broker's clock (older form)"),
    {.name = "message.timestamp.type", .type = TOPIC_ENUM, .choices = "CreateTime|LogAppendTime",
     .broker_key = "log.message.timestamp.type",
     .doc = "CreateTime keeps the producer's timestamp; LogAppendTime stamps the broker's"},
    {.name = "min.cleanable.dirty.ratio", .type = TOPIC_RATIO, .default_value = "0.5",
     .doc = "share of uncompacted log that makes a partition eligible for compaction"},
    INT_KEY("min.compaction.lag.ms", 0, INT64_MAX, NULL, "0",
            "shortest time a record stays uncompacted"),
    INT_KEY("min.insync.replicas", 1, INT32_MAX, NULL, "1",
            "replicas that must have a write for acks=all to succeed"),
    BOOL_KEY("preallocate", "false", "preallocate segment files"),
    INT_KEY("retention.bytes", -1, INT64_MAX, "log.retention.bytes", NULL,
            "partition size above which old segments are deleted, -1 = no limit"),
    INT_KEY("retention.ms", -1, INT64_MAX, "log.retention.ms", NULL,
            "age after which segments are deleted, -1 = forever"),
    INT_KEY("segment.bytes", 14, INT32_MAX, "log.segment.bytes", NULL,
            "segment file size at which the log rolls"),
    INT_KEY("segment.index.bytes", 4, INT32_MAX, "log.index.size.max.bytes", NULL,
            "largest offset or time index file"),
    INT_KEY("segment.jitter.ms", 0, INT64_MAX, NULL, "0",
            "random amount subtracted from segment.ms to spread rolls"),
    INT_KEY("segment.ms", 1, INT64_MAX, "log.roll.ms", NULL,
            "age at which the active segment rolls"),
    BOOL_KEY("unclean.leader.election.enable", "false",
             "allow an out-of-sync replica to become leader (data loss)"),
};

#define TOPIC_KEY_COUNT ((int)(sizeof topic_keys / sizeof topic_keys[0]))
_Static_assert(sizeof topic_keys / sizeof topic_keys[0] <= TOPIC_CONFIG_MAX_KEYS,
               "a topic_config must be able to hold every key");

static const topic_key *find_topic_key(const char *name)
{
    for (int i = 0; i < TOPIC_KEY_COUNT; i++)
        if (strcmp(topic_keys[i].name, name) == 0)
            return &topic_keys[i];
    return NULL;
}

void topic_config_init(topic_config *tc) { memset(tc, 0, sizeof *tc); }

bool topic_config_known(const char *key) { return find_topic_key(key) != NULL; }

static int parse_ratio(const char *value, char *normal, size_t normallen, char *msg, size_t msglen)
{
    char *end = NULL;
    double v = *value && !isspace((unsigned char)*value) ? strtod(value, &end) : NAN;
    if (end && *end == '\0' && isfinite(v) && v >= 0.0 && v <= 1.0) {
        snprintf(normal, normallen, "%s", value);
        return 0;
    }
    snprintf(msg, msglen, "expected a number between 0 and 1, got '%.64s'", value);
    return ST_ECONFIG;
}

/* Validates value for k and writes its normal form; msg gets the reason. */
static int normalise(const topic_key *k, const char *value, char *normal, size_t normallen,
                     char *msg, size_t msglen)
{
    int64_t n = 0;
    bool b = false;
    int rc = 0;
    switch (k->type) {
    case TOPIC_INT:
        rc = config_value_parse_int(value, k->min, k->max, &n, msg, msglen);
        if (rc == 0)
            snprintf(normal, normallen, "%" PRId64, n);
        return rc;
    case TOPIC_BOOL:
        rc = config_value_parse_bool(value, &b, msg, msglen);
        if (rc == 0)
            snprintf(normal, normallen, "%s", b ? "true" : "false");
        return rc;
    case TOPIC_RATIO:
        return parse_ratio(value, normal, normallen, msg, msglen);
    case TOPIC_ENUM:
        rc = config_value_parse_choice(value, k->choices, msg, msglen);
        if (rc == 0)
            snprintf(normal, normallen, "%s", value);
        return rc;
    case TOPIC_LIST:
        return config_value_parse_list(value, k->choices, normal, normallen, msg, msglen);
    }
    return ST_ECONFIG;
}

static void unknown_topic_key(const char *key, char *err, size_t errlen)
{
    const char *names[TOPIC_KEY_COUNT];
    for (int i = 0; i < TOPIC_KEY_COUNT; i++)
        names[i] = topic_keys[i].name;
    const char *near = config_value_closest(key, names, TOPIC_KEY_COUNT);
    if (near)
        snprintf(err, errlen, "unknown topic config '%.64s' (did you mean '%s'?)", key, near);
    else
        snprintf(err, errlen, "unknown topic config '%.64s'", key);
}

/* Checks key=value and writes the normal form; err gets "key: reason". */
static int check(const char *key, const char *value, const topic_key **out, char *normal,
                 char *err, size_t errlen)
{
    const topic_key *k = find_topic_key(key);
    if (!k) {
        unknown_topic_key(key, err, errlen);
        return ST_ECONFIG;
    }
    *out = k;
    if (!value)
        return 0;
    char msg[512];
    if (strlen(value) >= TOPIC_CONFIG_VALUE_MAX) {
        snprintf(err, errlen, "%s: value longer than %d bytes", key, TOPIC_CONFIG_VALUE_MAX - 1);
        return ST_ECONFIG;
    }
    if (normalise(k, value, normal, TOPIC_CONFIG_VALUE_MAX, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", key, msg);
        return ST_ECONFIG;
    }
    return 0;
}

int topic_config_validate(const char *key, const char *value, char *err, size_t errlen)
{
    const topic_key *k = NULL;
    char normal[TOPIC_CONFIG_VALUE_MAX];
    if (!value) {
        snprintf(err, errlen, "%s: a value is required", key);
        return ST_ECONFIG;
    }
    return check(key, value, &k, normal, err, errlen);
}

static int find_override(const topic_config *tc, const char *key)
{
    for (int i = 0; i < tc->count; i++)
        if (strcmp(tc->keys[i], key) == 0)
            return i;
    return -1;
}

/* Effective integer of a key without a broker default (overrides, else Kafka's). */
static int64_t own_int(const topic_config *tc, const char *key)
{
    int i = find_override(tc, key);
    const char *text = i >= 0 ? tc->values[i] : find_topic_key(key)->default_value;
    return strtoll(text, NULL, 10);
}

/* Relations between topic keys, as Kafka checks them. */
static int check_relations(const topic_config *tc, char *err, size_t errlen)
{
    int64_t min_lag = own_int(tc, "min.compaction.lag.ms");
    int64_t max_lag = own_int(tc, "max.compaction.lag.ms");
    if (min_lag > max_lag) {
        snprintf(err, errlen, "min.compaction.lag.ms (%" PRId64 ") must not be larger than "
                 "max.compaction.lag.ms (%" PRId64 ")", min_lag, max_lag);
        return ST_ECONFIG;
    }
    return 0;
}

int topic_config_set(topic_config *tc, const char *key, const char *value, char *err,
                     size_t errlen)
{
    const topic_key *k = NULL;
    char normal[TOPIC_CONFIG_VALUE_MAX];
    int rc = check(key, value, &k, normal, err, errlen);
    if (rc != 0)
        return rc;
    topic_config next = *tc;
    int i = find_override(&next, k->name);
    if (!value) { /* back to the default */
        if (i >= 0) {
            next.count--;
            memmove(next.keys[i], next.keys[next.count], sizeof next.keys[i]);
            memmove(next.values[i], next.values[next.count], sizeof next.values[i]);
        }
    } else {
        if (i < 0)
            i = next.count++;
        snprintf(next.keys[i], sizeof next.keys[i], "%s", k->name);
        snprintf(next.values[i], sizeof next.values[i], "%s", normal);
    }
    rc = check_relations(&next, err, errlen);
    if (rc == 0)
        *tc = next;
    return rc;
}

int topic_config_get(const topic_config *tc, const broker_config *bc, const char *key, char *out,
                     size_t outlen)
{
    const topic_key *k = find_topic_key(key);
    if (!k)
        return -1;
    int i = tc ? find_override(tc, key) : -1;
    if (i >= 0) {
        snprintf(out, outlen, "%s", tc->values[i]);
        return TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC;
    }
    if (!k->broker_key) {
        snprintf(out, outlen, "%s", k->default_value);
        return TOPIC_CONFIG_SOURCE_DEFAULT;
    }
    broker_config defaults;
    if (!bc) {
        broker_config_default(&defaults);
        bc = &defaults;
    }
    char value[TOPIC_CONFIG_VALUE_MAX];
    if (broker_config_get(bc, k->broker_key, value, sizeof value) != 0)
        value[0] = '\0'; /* cannot happen: every broker_key is a known broker key */
    snprintf(out, outlen, "%s", value);
    return broker_config_is_default(bc, k->broker_key) ? TOPIC_CONFIG_SOURCE_DEFAULT
                                                       : TOPIC_CONFIG_SOURCE_STATIC_BROKER;
}

void topic_config_each(const topic_config *tc, const broker_config *bc,
                       void (*fn)(void *arg, const char *key, const char *value, int source,
                                  bool sensitive, bool read_only),
                       void *arg)
{
    char value[TOPIC_CONFIG_VALUE_MAX];
    for (int i = 0; i < TOPIC_KEY_COUNT; i++) {
        int source = topic_config_get(tc, bc, topic_keys[i].name, value, sizeof value);
        fn(arg, topic_keys[i].name, value, source, false, false);
    }
}

static int64_t effective_int(const topic_config *tc, const broker_config *bc, const char *key)
{
    char value[TOPIC_CONFIG_VALUE_MAX];
    topic_config_get(tc, bc, key, value, sizeof value);
    return strtoll(value, NULL, 10);
}

/* True if the effective comma-separated value of key has word as an item. */
static bool effective_has(const topic_config *tc, const broker_config *bc, const char *key,
                          const char *word)
{
    char value[TOPIC_CONFIG_VALUE_MAX];
    topic_config_get(tc, bc, key, value, sizeof value);
    size_t len = strlen(word);
    for (const char *c = value; *c;) {
        size_t n = strcspn(c, ",");
        if (n == len && strncmp(c, word, len) == 0)
            return true;
        c += n + (c[n] == ',');
    }
    return false;
}

void topic_config_to_plog(const topic_config *tc, const broker_config *bc, plog_config *out)
{
    out->segment_bytes = effective_int(tc, bc, "segment.bytes");
    out->segment_ms = effective_int(tc, bc, "segment.ms");
    out->retention_ms = effective_int(tc, bc, "retention.ms");
    out->retention_bytes = effective_int(tc, bc, "retention.bytes");
    out->flush_messages = effective_int(tc, bc, "flush.messages");
    out->flush_ms = effective_int(tc, bc, "flush.ms");
    out->index_interval_bytes = (int32_t)effective_int(tc, bc, "index.interval.bytes");
    out->segment_index_bytes = (int32_t)effective_int(tc, bc, "segment.index.bytes");
    out->delete_policy = effective_has(tc, bc, "cleanup.policy", "delete");
    out->producer_id_expiration_ms = bc->producer_id_expiration_ms;
    out->compact_policy = effective_has(tc, bc, "cleanup.policy", "compact");
    out->delete_retention_ms = effective_int(tc, bc, "delete.retention.ms");
    char ratio[TOPIC_CONFIG_VALUE_MAX];
    topic_config_get(tc, bc, "min.cleanable.dirty.ratio", ratio, sizeof ratio);
    out->min_cleanable_dirty_ratio = strtod(ratio, NULL);
    out->min_compaction_lag_ms = effective_int(tc, bc, "min.compaction.lag.ms");
    out->max_compaction_lag_ms = effective_int(tc, bc, "max.compaction.lag.ms");
    /* Kafka's maxSegmentMs: the active segment is never cleaned, so it must
     * roll within max.compaction.lag.ms for the lag to be honoured */
    if (out->compact_policy && out->max_compaction_lag_ms < out->segment_ms)
        out->segment_ms = out->max_compaction_lag_ms;
}

bool topic_config_log_append_time(const topic_config *tc, const broker_config *bc)
{
    return effective_has(tc, bc, "message.timestamp.type", "LogAppendTime");
}

int32_t topic_config_max_message_bytes(const topic_config *tc, const broker_config *bc)
{
    return (int32_t)effective_int(tc, bc, "max.message.bytes");
}

bool topic_config_compact(const topic_config *tc, const broker_config *bc)
{
    return effective_has(tc, bc, "cleanup.policy", "compact");
}

int topic_config_compression_codec(const topic_config *tc, const broker_config *bc)
{
    static const char *const names[] = {"uncompressed", "gzip", "snappy", "lz4", "zstd"};
    char value[TOPIC_CONFIG_VALUE_MAX];
    if (topic_config_get(tc, bc, "compression.type", value, sizeof value) < 0)
        return -1;
    for (int codec = 0; codec < 5; codec++)
        if (strcmp(value, names[codec]) == 0)
            return codec;
    return -1; /* "producer": keep what the producer sent */
}

void topic_config_produce_settings(const topic_config *tc, const broker_config *bc,
                                   topic_produce_settings *out)
{
    out->max_message_bytes = topic_config_max_message_bytes(tc, bc);
    out->log_append_time = topic_config_log_append_time(tc, bc);
    out->compact = topic_config_compact(tc, bc);
    out->compression_codec = topic_config_compression_codec(tc, bc);
}

int topic_config_serialize(const topic_config *tc, char *out, size_t outlen)
{
    size_t at = 0;
    for (int i = 0; i < tc->count; i++) {
        int n = snprintf(out + at, outlen - at, "%s=%s\n", tc->keys[i], tc->values[i]);
        if (n < 0 || (size_t)n >= outlen - at)
            return ST_ETOOBIG;
        at += (size_t)n;
    }
    if (outlen == 0)
        return ST_ETOOBIG;
    out[at] = '\0';
    return (int)at;
}

/* One "key=value" line of the persisted form into tc. */
static int parse_line(topic_config *tc, const char *line, size_t len, int number, char *err,
                      size_t errlen)
{
    char text[64 + TOPIC_CONFIG_VALUE_MAX + 2];
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0 || line[0] == '#')
        return 0;
    if (len >= sizeof text) {
        snprintf(err, errlen, "line %d: longer than %zu bytes", number, sizeof text - 1);
        return ST_ECONFIG;
    }
    memcpy(text, line, len);
    text[len] = '\0';
    char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        snprintf(err, errlen, "line %d: expected key=value, got '%.64s'", number, text);
        return ST_ECONFIG;
    }
    *eq = '\0';
    if (find_override(tc, text) >= 0) {
        snprintf(err, errlen, "line %d: duplicate key '%.64s'", number, text);
        return ST_ECONFIG;
    }
    char msg[512];
    if (topic_config_set(tc, text, eq + 1, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "line %d: %s", number, msg);
        return ST_ECONFIG;
    }
    return 0;
}

int topic_config_parse(topic_config *tc, const char *text, size_t len, char *err, size_t errlen)
{
    topic_config next;
    topic_config_init(&next);
    size_t at = 0;
    for (int number = 1; at < len; number++) {
        const char *line = text + at;
        const char *newline = memchr(line, '\n', len - at);
        size_t n = newline ? (size_t)(newline - line) : len - at;
        if (memchr(line, '\0', n)) {
            snprintf(err, errlen, "line %d: NUL byte", number);
            return ST_ECONFIG;
        }
        int rc = parse_line(&next, line, n, number, err, errlen);
        if (rc != 0)
            return rc;
        at += n + (newline != NULL);
    }
    *tc = next;
    return 0;
}
