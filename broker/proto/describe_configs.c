/*
 * describe_configs.c - DescribeConfigs (key 32): advertised v1-2, never
 * flexible there (flexible from v4).
 *
 * Request:
 *   FIELD                   VERSIONS  TYPE
 *   resources[]             0+
 *     resource_type         0+        int8: 2 topic, 4 broker
 *     resource_name         0+        string
 *     configuration_keys[]  0+        nullable string array (null or empty = all)
 *   include_synonyms        1+        bool
 *   include_documentation   3+        bool
 * Response:
 *   throttle_time_ms        0+        int32
 *   results[]               0+
 *     error_code            0+        int16
 *     error_message         0+        nullable string
 *     resource_type         0+        int8
 *     resource_name         0+        string
 *     configs[]             0+
 *       name                0+        string
 *       value               0+        nullable string
 *       read_only           0+        bool
 *       is_default          0         bool
 *       config_source       1+        int8 (1 topic, 2 dynamic broker, 3 dynamic
 *                                         default broker, 4 static broker, 5 default)
 *       is_sensitive        0+        bool
 *       synonyms[]          1+        name string, value nullable string, source int8
 *       config_type         3+        int8
 *       documentation       3+        nullable string
 *
 * Topic resources list every topic config (topic_config_each) with its
 * effective value and source. With include_synonyms each entry lists, most
 * specific first, the topic override, the broker's static setting of the
 * matching broker key (when it differs from the default), and the default.
 * Broker resources are named by this node's id (or "", as Kafka allows) and
 * list broker_config_each, read-only (static), then the region state keys
 * that are set (strait.region.*, strait.redirect.*: cluster/region_state.h),
 * read_only false, with source DYNAMIC_BROKER_CONFIG (2) when described by
 * node id and DYNAMIC_DEFAULT_BROKER_CONFIG (3) when described by "" (one
 * state serves both names). Errors: unknown topic -> UNKNOWN_TOPIC_OR_PARTITION;
 * another broker id or another resource type -> INVALID_REQUEST.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/region_state.h"
#include "broker/log/topic_config.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field resource_fields[] = {
    PF_I8(describe_configs_resource, resource_type, 0, PV_MAX, 0),
    PF_STR(describe_configs_resource, resource_name, 0, PV_MAX),
    PF_NARRAY(describe_configs_resource, configuration_keys, 0, PV_MAX, 0, proto_string_element),
};
static PROTO_STRUCT(resource_schema, describe_configs_resource, resource_fields);

static const proto_field request_fields[] = {
    PF_ARRAY(describe_configs_request, resources, 0, PV_MAX, resource_schema),
    PF_BOOL(describe_configs_request, include_synonyms, 1, PV_MAX, 0),
    PF_BOOL(describe_configs_request, include_documentation, 3, PV_MAX, 0),
};
static PROTO_STRUCT(request_schema, describe_configs_request, request_fields);

static const proto_field synonym_fields[] = {
    PF_STR(describe_configs_synonym, name, 1, PV_MAX),
    PF_NSTR(describe_configs_synonym, value, 1, PV_MAX, 0),
    PF_I8(describe_configs_synonym, source, 1, PV_MAX, 0),
};
static PROTO_STRUCT(synonym_schema, describe_configs_synonym, synonym_fields);

static const proto_field entry_fields[] = {
    PF_STR(describe_configs_entry, name, 0, PV_MAX),
    PF_NSTR(describe_configs_entry, value, 0, PV_MAX, 0),
    PF_BOOL(describe_configs_entry, read_only, 0, PV_MAX, 0),
    PF_BOOL(describe_configs_entry, is_default, 0, 0, 0),
    PF_I8(describe_configs_entry, config_source, 1, PV_MAX, -1),
    PF_BOOL(describe_configs_entry, is_sensitive, 0, PV_MAX, 0),
    PF_ARRAY(describe_configs_entry, synonyms, 1, PV_MAX, synonym_schema),
    PF_I8(describe_configs_entry, config_type, 3, PV_MAX, 0),
    PF_NSTR(describe_configs_entry, documentation, 3, PV_MAX, 0),
};
static PROTO_STRUCT(entry_schema, describe_configs_entry, entry_fields);

static const proto_field result_fields[] = {
    PF_I16(describe_configs_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(describe_configs_result, error_message, 0, PV_MAX, 0),
    PF_I8(describe_configs_result, resource_type, 0, PV_MAX, 0),
    PF_STR(describe_configs_result, resource_name, 0, PV_MAX),
    PF_ARRAY(describe_configs_result, configs, 0, PV_MAX, entry_schema),
};
static PROTO_STRUCT(result_schema, describe_configs_result, result_fields);

static const proto_field response_fields[] = {
    PF_I32(describe_configs_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(describe_configs_response, results, 0, PV_MAX, result_schema),
};
static PROTO_STRUCT(response_schema, describe_configs_response, response_fields);

/* ---- synonyms ------------------------------------------------------------- */

/* The broker config each topic config inherits from (its synonym), where
 * topic_config.c resolves one; other topic configs default to Kafka's own
 * value and have no broker synonym. Keep in step with topic_config.c. */
static const struct {
    const char *topic_key;
    const char *broker_key;
} broker_synonyms[] = {
    {"cleanup.policy", "log.cleanup.policy"},
    {"compression.type", "compression.type"},
    {"flush.messages", "log.flush.interval.messages"},
    {"flush.ms", "log.flush.interval.ms"},
    {"index.interval.bytes", "log.index.interval.bytes"},
    {"max.message.bytes", "message.max.bytes"},
    {"message.timestamp.type", "log.message.timestamp.type"},
    {"retention.bytes", "log.retention.bytes"},
    {"retention.ms", "log.retention.ms"},
    {"segment.bytes", "log.segment.bytes"},
    {"segment.index.bytes", "log.index.size.max.bytes"},
    {"segment.ms", "log.roll.ms"},
};

static const char *broker_synonym(const char *topic_key)
{
    for (size_t i = 0; i < sizeof broker_synonyms / sizeof broker_synonyms[0]; i++)
        if (strcmp(broker_synonyms[i].topic_key, topic_key) == 0)
            return broker_synonyms[i].broker_key;
    return NULL;
}

/* ---- collecting entries --------------------------------------------------- */

/* State for the topic_config_each / broker_config_each callbacks. They run
 * twice: once to count the matching keys, once to fill the entries. */
typedef struct describe_ctx {
    broker_request *req;
    const describe_configs_resource *resource;
    const broker_config *broker_config;
    bool include_synonyms;
    bool filling;
    int32_t count;
    describe_configs_entry *entries;
    bool failed; /* arena exhausted */
    int8_t region_source; /* config_source of the region state keys */
} describe_ctx;

static bool wanted(const describe_ctx *c, const char *key)
{
    const proto_array *keys = &c->resource->configuration_keys;
    if (keys->count <= 0) /* null or empty: every key, as Kafka does */
        return true;
    const proto_string *names = keys->items;
    for (int32_t i = 0; i < keys->count; i++)
        if (proto_str_eq(names[i].value, key))
            return true;
    return false;
}

static void add_synonym(describe_ctx *c, describe_configs_entry *e, const char *name,
                        const char *value, int source)
{
    describe_configs_synonym *s = (describe_configs_synonym *)e->synonyms.items + e->synonyms.count;
    s->name = broker_request_strdup(c->req, name, &c->failed);
    s->value = broker_request_strdup(c->req, value, &c->failed);
    s->source = (int8_t)source;
    e->synonyms.count++;
}

/* Next entry to fill, with room for max_synonyms; NULL when counting or
 * failed. */
static describe_configs_entry *next_entry(describe_ctx *c, const char *key, int max_synonyms)
{
    if (!wanted(c, key))
        return NULL;
    if (!c->filling) {
        c->count++;
        return NULL;
    }
    describe_configs_entry *e = &c->entries[c->count++];
    e->synonyms = (proto_array){NULL, 0};
    if (c->include_synonyms) {
        size_t bytes = (size_t)max_synonyms * sizeof(describe_configs_synonym);
        e->synonyms.items = proto_arena_alloc(&c->req->arena, bytes);
        if (!e->synonyms.items)
            c->failed = true;
    }
    return e;
}

static void topic_entry(void *arg, const char *key, const char *value, int source,
                        bool sensitive, bool read_only)
{
    describe_ctx *c = arg;
    describe_configs_entry *e = next_entry(c, key, 3);
    if (!e)
        return;
    e->name = broker_request_strdup(c->req, key, &c->failed);
    e->value = sensitive ? proto_str_null() : broker_request_strdup(c->req, value, &c->failed);
    e->read_only = read_only;
    e->is_sensitive = sensitive;
    e->config_source = (int8_t)source;
    e->is_default = source == ADMIN_CONFIG_SOURCE_DEFAULT;
    if (!c->include_synonyms || c->failed)
        return;
    const char *broker_key = broker_synonym(key);
    char inherited[TOPIC_CONFIG_VALUE_MAX], fallback[TOPIC_CONFIG_VALUE_MAX];
    if (source == ADMIN_CONFIG_SOURCE_DYNAMIC_TOPIC)
        add_synonym(c, e, key, sensitive ? NULL : value, source);
    int broker_source = topic_config_get(NULL, c->broker_config, key, inherited, sizeof inherited);
    if (broker_source == ADMIN_CONFIG_SOURCE_STATIC_BROKER && broker_key)
        add_synonym(c, e, broker_key, sensitive ? NULL : inherited, broker_source);
    if (topic_config_get(NULL, NULL, key, fallback, sizeof fallback) >= 0)
        add_synonym(c, e, broker_key ? broker_key : key, sensitive ? NULL : fallback,
                    ADMIN_CONFIG_SOURCE_DEFAULT);
}

/* Broker configs holding secrets are shown without their value. */
static bool broker_key_sensitive(const char *key)
{
    return strstr(key, "password") != NULL || strstr(key, "secret") != NULL ||
           strstr(key, "sasl.jaas") != NULL;
}

static void broker_entry(void *arg, const char *key, const char *value, bool is_default)
{
    describe_ctx *c = arg;
    describe_configs_entry *e = next_entry(c, key, 1);
    if (!e)
        return;
    bool sensitive = broker_key_sensitive(key);
    int source = is_default ? ADMIN_CONFIG_SOURCE_DEFAULT : ADMIN_CONFIG_SOURCE_STATIC_BROKER;
    e->name = broker_request_strdup(c->req, key, &c->failed);
    e->value = sensitive ? proto_str_null() : broker_request_strdup(c->req, value, &c->failed);
    e->read_only = true; /* no dynamic broker configs yet */
    e->is_sensitive = sensitive;
    e->config_source = (int8_t)source;
    e->is_default = is_default;
    if (c->include_synonyms && !c->failed)
        add_synonym(c, e, key, sensitive ? NULL : value, source);
}

/* A region state key (cluster/region_state.h): dynamic, so not read-only. */
static void region_entry(void *arg, const char *key, const char *value)
{
    describe_ctx *c = arg;
    describe_configs_entry *e = next_entry(c, key, 1);
    if (!e)
        return;
    e->name = broker_request_strdup(c->req, key, &c->failed);
    e->value = broker_request_strdup(c->req, value, &c->failed);
    e->read_only = false;
    e->is_sensitive = false;
    e->config_source = c->region_source;
    e->is_default = false;
    if (c->include_synonyms && !c->failed)
        add_synonym(c, e, key, value, c->region_source);
}

/* Runs each twice (count, then fill) into out->configs. */
static bool collect(describe_ctx *c, describe_configs_result *out, const topic_config *tc)
{
    for (int pass = 0; pass < 2; pass++) {
        c->filling = pass == 1;
        c->count = 0;
        if (c->filling) {
            if (!admin_array(c->req, &out->configs, &entry_schema, out->configs.count))
                return false;
            c->entries = out->configs.items;
        }
        if (tc)
            topic_config_each(tc, c->broker_config, topic_entry, c);
        else {
            broker_config_each(c->broker_config, broker_entry, c);
            region_state_describe(c->req->broker->region, region_entry, c);
        }
        if (!c->filling)
            out->configs.count = c->count;
    }
    return !c->failed;
}

/* ---- handler ------------------------------------------------------------ */

/* Checks a broker resource name: "" or this node's id. */
static bool broker_name_ok(broker_request *req, proto_str name, describe_configs_result *out)
{
    int32_t node_id = req->broker->config.node_id;
    if (admin_broker_name_ok(name, node_id))
        return true;
    out->error_code = KERR_INVALID_REQUEST;
    out->error_message = admin_message(req, "unexpected broker id '%.*s': this is node %d",
                                       ADMIN_STR_ARGS(name), (int)node_id);
    return false;
}

static bool describe_one(broker_request *req, const describe_configs_resource *in,
                         bool include_synonyms, describe_configs_result *out)
{
    broker *b = req->broker;
    out->resource_type = in->resource_type;
    out->resource_name = in->resource_name;
    out->error_code = KERR_NONE;
    out->error_message = proto_str_null();
    out->configs = (proto_array){NULL, 0};
    describe_ctx c = {.req = req, .resource = in, .broker_config = &b->config,
                      .include_synonyms = include_synonyms};
    if (in->resource_type == ADMIN_RESOURCE_TOPIC &&
        !authorize_str(req, ACL_OP_DESCRIBE_CONFIGS, ACL_RESOURCE_TOPIC, in->resource_name)) {
        out->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        out->error_message = admin_message(req, "not authorized to describe the configs of "
                                                "topic '%.*s'", ADMIN_STR_ARGS(in->resource_name));
        return true;
    }
    if (in->resource_type == ADMIN_RESOURCE_BROKER &&
        !authorize_cluster(req, ACL_OP_DESCRIBE_CONFIGS)) {
        out->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
        out->error_message = admin_message(req, "not authorized to describe broker configs "
                                                "(DESCRIBE_CONFIGS on the cluster)");
        return true;
    }
    if (in->resource_type == ADMIN_RESOURCE_TOPIC) {
        topic *t = in->resource_name.len > 0
                       ? topic_registry_find(b->topics, in->resource_name.ptr,
                                             (size_t)in->resource_name.len)
                       : NULL;
        if (!t) {
            out->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            out->error_message = admin_message(req, "topic '%.*s' does not exist",
                                               ADMIN_STR_ARGS(in->resource_name));
            return true;
        }
        return collect(&c, out, &t->config);
    }
    if (in->resource_type == ADMIN_RESOURCE_BROKER) {
        if (!broker_name_ok(req, in->resource_name, out))
            return true;
        c.region_source = in->resource_name.len == 0 ? ADMIN_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER
                                                     : ADMIN_CONFIG_SOURCE_DYNAMIC_BROKER;
        return collect(&c, out, NULL);
    }
    out->error_code = KERR_INVALID_REQUEST;
    out->error_message = admin_message(req, "unsupported resource type %d: strait describes "
                                            "topics (2) and brokers (4)",
                                       (int)in->resource_type);
    return true;
}

static int describe_configs_handle(broker_request *req)
{
    const describe_configs_request *rq = req->request;
    describe_configs_response *rs = req->response;
    rs->throttle_time_ms = 0;
    int32_t count = rq->resources.count > 0 ? rq->resources.count : 0;
    if (!admin_array(req, &rs->results, &result_schema, count))
        return PROTO_CLOSE;
    const describe_configs_resource *in = rq->resources.items;
    describe_configs_result *out = rs->results.items;
    for (int32_t i = 0; i < count; i++)
        if (!describe_one(req, &in[i], rq->include_synonyms, &out[i]))
            return PROTO_CLOSE;
    return PROTO_RESPOND;
}

const proto_api api_describe_configs = {
    .key = 32,
    .name = "DescribeConfigs",
    .min_version = 1,
    .max_version = 2,
    .flexible_min = 4,
    .request = &request_schema,
    .response = &response_schema,
    .handle = describe_configs_handle,
};
