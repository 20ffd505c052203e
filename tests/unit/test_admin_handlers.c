/*
 * test_admin_handlers.c - the metadata and admin API handlers against a real
 * topic registry in a temporary directory: which topics Metadata lists per
 * version, auto-creation, and every error the admin APIs answer, with their
 * messages. Each response is also encoded and decoded at its version.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/cluster/region_state.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/kafka_error.h"
#include "common/buf.h"
#include "common/limits.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    char root[64];
    broker b;
    proto_arena arena; /* requests built by the tests */
    broker_request *calls[64]; /* their arenas hold the responses until teardown */
    int call_count;
} fixture;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/strait-admin-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    broker_config_default(&f->b.config);
    snprintf(f->b.config.log_dirs, sizeof f->b.config.log_dirs, "%s", f->root);
    snprintf(f->b.advertised_host, sizeof f->b.advertised_host, "broker.example");
    f->b.advertised_port = 9092;
    assert_int_equal(topic_registry_open(&f->b.config, &f->b.topics), 0);
    assert_int_equal(region_state_open(f->root, &f->b.region), 0);
    proto_arena_init(&f->arena, LIMIT_DECODE_ARENA_BYTES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    topic_registry_close(f->b.topics);
    region_state_close(f->b.region);
    for (int i = 0; i < f->call_count; i++)
        proto_arena_free(&f->calls[i]->arena);
    proto_arena_free(&f->arena);
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Runs api's handler on request at version; returns the response (in the
 * fixture's arena), after checking it encodes and decodes at that version. */
static void *call(fixture *f, const proto_api *api, int16_t version, const void *request)
{
    broker_request *req = proto_arena_alloc(&f->arena, sizeof *req);
    req->broker = &f->b;
    req->api = api;
    req->api_version = version;
    req->flexible = version >= api->flexible_min;
    proto_arena_init(&req->arena, LIMIT_DECODE_ARENA_BYTES);
    assert_true(f->call_count < (int)(sizeof f->calls / sizeof f->calls[0]));
    f->calls[f->call_count++] = req;
    req->request = (void *)request;
    req->response = proto_arena_alloc(&req->arena, api->response->size);
    assert_int_equal(api->handle(req), PROTO_RESPOND);
    proto_out o;
    proto_out_init(&o, 1 << 24);
    proto_encode(&o, api->response, version, req->flexible, req->response);
    assert_true(buf_ok(&o.mem));
    void *decoded = proto_arena_alloc(&f->arena, api->response->size);
    reader r;
    reader_init(&r, o.mem.data, o.mem.len);
    assert_int_equal(proto_decode(&r, api->response, version, req->flexible, decoded, &f->arena), 0);
    assert_int_equal(reader_remaining(&r), 0);
    proto_out_free(&o);
    return req->response;
}

static proto_array names_array(fixture *f, int count, const char *const *names, size_t elem_size,
                               size_t name_offset)
{
    proto_array arr = {proto_arena_alloc(&f->arena, elem_size * (size_t)(count ? count : 1)), count};
    for (int i = 0; i < count; i++)
        *(proto_str *)((uint8_t *)arr.items + (size_t)i * elem_size + name_offset) =
            proto_str_c(names[i]);
    return arr;
}

static topic *create(fixture *f, const char *name, int32_t partitions)
{
    char err[256];
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->b.topics, name, strlen(name), partitions, NULL, NULL,
                                           0, false, &t, err, sizeof err),
                     0);
    return t;
}

static bool str_is(proto_str s, const char *text) { return proto_str_eq(s, text); }

/* ---- Metadata ------------------------------------------------------------------ */

static void metadata_topic_lists(void **state)
{
    fixture *f = *state;
    create(f, "orders", 3);
    create(f, "__consumer_offsets", 1);

    /* v0 empty list = all topics */
    metadata_request all0 = {.topics = {NULL, 0}, .allow_auto_topic_creation = true};
    metadata_response *rs = call(f, &api_metadata, 0, &all0);
    assert_int_equal(rs->topics.count, 2);
    assert_int_equal(rs->brokers.count, 1);
    const metadata_response_broker *me = rs->brokers.items;
    assert_int_equal(me->node_id, f->b.config.node_id);
    assert_true(str_is(me->host, "broker.example"));
    assert_int_equal(me->port, 9092);
    assert_int_equal(me->rack.len, -1);
    assert_true(str_is(rs->cluster_id, topic_registry_cluster_id(f->b.topics)));
    assert_int_equal(rs->controller_id, f->b.config.node_id);

    /* v1: null = all, empty = none */
    metadata_request all1 = {.topics = {NULL, -1}, .allow_auto_topic_creation = true};
    rs = call(f, &api_metadata, 1, &all1);
    assert_int_equal(rs->topics.count, 2);
    const metadata_response_topic *t = rs->topics.items;
    assert_true(str_is(t[0].name, "__consumer_offsets"));
    assert_true(t[0].is_internal);
    assert_true(str_is(t[1].name, "orders"));
    assert_false(t[1].is_internal);
    assert_int_equal(t[1].partitions.count, 3);
    const metadata_response_partition *p = t[1].partitions.items;
    assert_int_equal(p[2].partition_index, 2);
    assert_int_equal(p[2].leader_id, f->b.config.node_id);
    assert_int_equal(p[2].replica_nodes.count, 1);
    assert_int_equal(((const proto_int32 *)p[2].isr_nodes.items)->value, f->b.config.node_id);
    assert_int_equal(p[2].leader_epoch,
                     plog_leader_epoch(topic_registry_find(f->b.topics, "orders", 6)->partitions[2].log));
    assert_int_equal(t[1].topic_authorized_operations, INT32_MIN);
    metadata_request none = {.topics = {NULL, 0}, .allow_auto_topic_creation = true};
    rs = call(f, &api_metadata, 1, &none);
    assert_int_equal(rs->topics.count, 0);
    assert_int_equal(rs->brokers.count, 1);
}

static void metadata_named_topics(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    const char *names[] = {"orders", "fresh", "bad/name"};
    metadata_request rq = {
        .topics = names_array(f, 3, names, sizeof(metadata_request_topic),
                              offsetof(metadata_request_topic, name)),
        .allow_auto_topic_creation = false,
        .include_topic_authorized_operations = true,
        .include_cluster_authorized_operations = true};
    /* v8 with auto-creation off: unknown stays unknown */
    metadata_response *rs = call(f, &api_metadata, 8, &rq);
    const metadata_response_topic *t = rs->topics.items;
    assert_int_equal(rs->topics.count, 3);
    assert_int_equal(t[0].error_code, KERR_NONE);
    assert_int_equal(t[0].topic_authorized_operations, ADMIN_TOPIC_OPERATIONS);
    assert_int_equal(rs->cluster_authorized_operations, ADMIN_CLUSTER_OPERATIONS);
    assert_int_equal(t[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_true(str_is(t[1].name, "fresh"));
    assert_int_equal(t[2].error_code, KERR_INVALID_TOPIC_EXCEPTION);
    assert_null(topic_registry_find(f->b.topics, "fresh", 5));

    /* v1 (no flag: allowed) auto-creates when the broker allows it */
    rq.allow_auto_topic_creation = true;
    rs = call(f, &api_metadata, 1, &rq);
    t = rs->topics.items;
    assert_int_equal(t[1].error_code, KERR_NONE);
    assert_int_equal(t[1].partitions.count, f->b.config.num_partitions);
    assert_non_null(topic_registry_find(f->b.topics, "fresh", 5));
    assert_int_equal(t[2].error_code, KERR_INVALID_TOPIC_EXCEPTION);

    /* and not when auto.create.topics.enable is off */
    f->b.config.auto_create_topics_enable = false;
    const char *other[] = {"other"};
    metadata_request rq2 = {.topics = names_array(f, 1, other, sizeof(metadata_request_topic),
                                                  offsetof(metadata_request_topic, name)),
                            .allow_auto_topic_creation = true};
    rs = call(f, &api_metadata, 4, &rq2);
    assert_int_equal(((const metadata_response_topic *)rs->topics.items)->error_code,
                     KERR_UNKNOWN_TOPIC_OR_PARTITION);
}

/* ---- CreateTopics ------------------------------------------------------------------ */

static create_topics_result *create_topics(fixture *f, int16_t version, create_topics_topic *topics,
                                           int count, bool validate_only)
{
    create_topics_request rq = {.topics = {topics, count}, .timeout_ms = 1000,
                                .validate_only = validate_only};
    create_topics_response *rs = call(f, &api_create_topics, version, &rq);
    assert_int_equal(rs->topics.count, count);
    return rs->topics.items;
}

static void create_topics_answers(void **state)
{
    fixture *f = *state;
    create_topics_config cfg[] = {{proto_str_c("retention.ms"), proto_str_c("1000")}};
    create_topics_config bad_cfg[] = {{proto_str_c("retention.ms"), proto_str_c("soon")}};
    proto_int32 node = {1};
    create_topics_assignment assignment = {0, {&node, 1}};
    create_topics_topic topics[] = {
        {proto_str_c("orders"), 3, 1, {NULL, 0}, {cfg, 1}},
        {proto_str_c("defaults"), -1, -1, {NULL, 0}, {NULL, 0}},
        {proto_str_c("bad name"), 1, 1, {NULL, 0}, {NULL, 0}},
        {proto_str_c("placed"), -1, -1, {&assignment, 1}, {NULL, 0}},
        {proto_str_c("replicated"), 1, 3, {NULL, 0}, {NULL, 0}},
        {proto_str_c("empty"), 0, 1, {NULL, 0}, {NULL, 0}},
        {proto_str_c("badcfg"), 1, 1, {NULL, 0}, {bad_cfg, 1}},
        {proto_str_c("twice"), 1, 1, {NULL, 0}, {NULL, 0}},
        {proto_str_c("twice"), 1, 1, {NULL, 0}, {NULL, 0}},
    };
    create_topics_result *r = create_topics(f, 4, topics, 9, false);
    assert_int_equal(r[0].error_code, KERR_NONE);
    assert_int_equal(r[0].error_message.len, -1);
    assert_int_equal(topic_registry_find(f->b.topics, "orders", 6)->partition_count, 3);
    assert_int_equal(r[1].error_code, KERR_NONE);
    assert_int_equal(r[2].error_code, KERR_INVALID_TOPIC_EXCEPTION);
    assert_true(str_is(r[2].error_message, "topic name 'bad name' is invalid: only ASCII letters, "
                                           "digits, '.', '_' and '-' are allowed"));
    assert_int_equal(r[3].error_code, KERR_NONE); /* placed on [node.id]: accepted */
    assert_int_equal(topic_registry_find(f->b.topics, "placed", 6)->partition_count, 1);
    assert_int_equal(r[4].error_code, KERR_INVALID_REPLICATION_FACTOR);
    assert_true(str_is(r[4].error_message, "replication factor must be 1 (or -1 for the default) "
                                           "on this single-node cluster, got 3"));
    assert_int_equal(r[5].error_code, KERR_INVALID_PARTITIONS);
    assert_true(str_is(r[5].error_message, "number of partitions must be between 1 and 10000 (or "
                                           "-1 for the default), got 0"));
    assert_int_equal(r[6].error_code, KERR_INVALID_CONFIG);
    assert_non_null(strstr(r[6].error_message.ptr, "retention.ms"));
    assert_int_equal(r[7].error_code, KERR_INVALID_REQUEST);
    assert_int_equal(r[8].error_code, KERR_INVALID_REQUEST);
    assert_true(str_is(r[8].error_message, "topic 'twice' is listed more than once in the request"));
    assert_null(topic_registry_find(f->b.topics, "twice", 5));

    /* Manual placement: counts must be -1, replicas exactly [node.id]. */
    proto_int32 other = {7};
    create_topics_assignment elsewhere = {0, {&other, 1}};
    create_topics_assignment gap = {1, {&node, 1}};
    create_topics_topic placed[] = {
        {proto_str_c("p-elsewhere"), -1, -1, {&elsewhere, 1}, {NULL, 0}},
        {proto_str_c("p-counts"), 1, -1, {&assignment, 1}, {NULL, 0}},
        {proto_str_c("p-gap"), -1, -1, {&gap, 1}, {NULL, 0}},
    };
    r = create_topics(f, 4, placed, 3, false);
    assert_int_equal(r[0].error_code, KERR_INVALID_REPLICA_ASSIGNMENT);
    assert_true(str_is(r[0].error_message, "partition 0: replicas must be exactly [1] on this "
                                           "single-node cluster, got 1 broker id(s) starting with 7"));
    assert_int_equal(r[1].error_code, KERR_INVALID_REQUEST);
    assert_int_equal(r[2].error_code, KERR_INVALID_REPLICA_ASSIGNMENT);
    assert_null(topic_registry_find(f->b.topics, "p-elsewhere", 11));
    assert_null(topic_registry_find(f->b.topics, "badcfg", 6));
    assert_int_equal(topic_registry_count(f->b.topics), 3); /* orders, defaults, placed */

    /* again: exists; validate_only creates nothing */
    create_topics_topic again[] = {{proto_str_c("orders"), 1, 1, {NULL, 0}, {NULL, 0}},
                                   {proto_str_c("dry"), 2, 1, {NULL, 0}, {NULL, 0}}};
    r = create_topics(f, 2, again, 2, true);
    assert_int_equal(r[0].error_code, KERR_TOPIC_ALREADY_EXISTS);
    assert_true(str_is(r[0].error_message, "topic 'orders' already exists"));
    assert_int_equal(r[1].error_code, KERR_NONE);
    assert_null(topic_registry_find(f->b.topics, "dry", 3));
}

/* ---- DeleteTopics -------------------------------------------------------------------- */

static void delete_topics_answers(void **state)
{
    fixture *f = *state;
    create(f, "orders", 2);
    create(f, "__consumer_offsets", 1);
    const char *names[] = {"orders", "missing", "__consumer_offsets"};
    delete_topics_request rq = {
        .topic_names = names_array(f, 3, names, sizeof(proto_string), offsetof(proto_string, value)),
        .timeout_ms = 1000};
    delete_topics_response *rs = call(f, &api_delete_topics, 3, &rq);
    const delete_topics_result *r = rs->responses.items;
    assert_int_equal(rs->responses.count, 3);
    assert_int_equal(r[0].error_code, KERR_NONE);
    assert_null(topic_registry_find(f->b.topics, "orders", 6));
    assert_int_equal(r[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(r[2].error_code, KERR_INVALID_REQUEST);
    assert_non_null(topic_registry_find(f->b.topics, "__consumer_offsets", 18));

    create(f, "orders", 1);
    f->b.config.delete_topic_enable = false;
    rs = call(f, &api_delete_topics, 1, &rq);
    assert_int_equal(((const delete_topics_result *)rs->responses.items)->error_code,
                     KERR_INVALID_REQUEST);
    rs = call(f, &api_delete_topics, 3, &rq);
    assert_int_equal(((const delete_topics_result *)rs->responses.items)->error_code,
                     KERR_TOPIC_DELETION_DISABLED);
    assert_non_null(topic_registry_find(f->b.topics, "orders", 6));
}

/* ---- CreatePartitions ---------------------------------------------------------------- */

static void create_partitions_answers(void **state)
{
    fixture *f = *state;
    create(f, "orders", 2);
    create(f, "small", 3);
    proto_int32 node = {1};
    create_partitions_assignment assignment = {{&node, 1}};
    create_partitions_topic topics[] = {
        {proto_str_c("orders"), 4, {NULL, -1}},
        {proto_str_c("small"), 2, {NULL, -1}},
        {proto_str_c("missing"), 2, {NULL, -1}},
        {proto_str_c("small"), 5, {&assignment, 1}},
    };
    create_partitions_request rq = {.topics = {topics, 3}, .timeout_ms = 1000};
    create_partitions_response *rs = call(f, &api_create_partitions, 1, &rq);
    const create_partitions_result *r = rs->results.items;
    assert_int_equal(r[0].error_code, KERR_NONE);
    assert_int_equal(r[0].error_message.len, -1);
    assert_int_equal(topic_registry_find(f->b.topics, "orders", 6)->partition_count, 4);
    assert_int_equal(r[1].error_code, KERR_INVALID_PARTITIONS);
    assert_true(str_is(r[1].error_message,
                       "topic 'small' has 3 partitions; the new count (2) must be greater"));
    assert_int_equal(r[2].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);

    create_partitions_request placed = {.topics = {&topics[3], 1}, .timeout_ms = 1000};
    rs = call(f, &api_create_partitions, 0, &placed);
    assert_int_equal(((const create_partitions_result *)rs->results.items)->error_code,
                     KERR_INVALID_REPLICA_ASSIGNMENT);
    topics[3].count = 4; /* one new partition, one assignment [node.id] */
    rs = call(f, &api_create_partitions, 0, &placed);
    assert_int_equal(((const create_partitions_result *)rs->results.items)->error_code, KERR_NONE);
    assert_int_equal(topic_registry_find(f->b.topics, "small", 5)->partition_count, 4);
    create_partitions_request dry = {.topics = {&topics[0], 1}, .validate_only = true};
    topics[0].count = 9;
    rs = call(f, &api_create_partitions, 0, &dry);
    assert_int_equal(((const create_partitions_result *)rs->results.items)->error_code, KERR_NONE);
    assert_int_equal(topic_registry_find(f->b.topics, "orders", 6)->partition_count, 4);
}

/* ---- DescribeConfigs ------------------------------------------------------------------ */

static const describe_configs_entry *find_entry(const describe_configs_result *r, const char *name)
{
    const describe_configs_entry *e = r->configs.items;
    for (int32_t i = 0; i < r->configs.count; i++)
        if (str_is(e[i].name, name))
            return &e[i];
    return NULL;
}

static void describe_configs_answers(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"retention.ms"};
    const char *values[] = {"1000"};
    char err[256];
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->b.topics, "orders", 6, 1, keys, values, 1, false, &t,
                                           err, sizeof err),
                     0);
    f->b.config.log_segment_bytes = 1 << 20; /* a static broker setting: source 4 */

    const char *only[] = {"log.dirs"};
    describe_configs_resource resources[] = {
        {ADMIN_RESOURCE_TOPIC, proto_str_c("orders"), {NULL, -1}},
        {ADMIN_RESOURCE_BROKER, proto_str_c("1"),
         names_array(f, 1, only, sizeof(proto_string), offsetof(proto_string, value))},
        {ADMIN_RESOURCE_BROKER, proto_str_c("2"), {NULL, -1}},
        {3, proto_str_c("group"), {NULL, -1}},
        {ADMIN_RESOURCE_TOPIC, proto_str_c("missing"), {NULL, -1}},
    };
    f->b.config.node_id = 1;
    describe_configs_request rq = {.resources = {resources, 5}, .include_synonyms = true};
    describe_configs_response *rs = call(f, &api_describe_configs, 2, &rq);
    const describe_configs_result *r = rs->results.items;
    assert_int_equal(rs->results.count, 5);

    assert_int_equal(r[0].error_code, KERR_NONE);
    assert_true(r[0].configs.count > 10);
    const describe_configs_entry *e = find_entry(&r[0], "retention.ms");
    assert_non_null(e);
    assert_true(str_is(e->value, "1000"));
    assert_int_equal(e->config_source, ADMIN_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_int_equal(e->synonyms.count, 2); /* the override, then the default */
    const describe_configs_synonym *s = e->synonyms.items;
    assert_true(str_is(s[0].name, "retention.ms"));
    assert_int_equal(s[0].source, ADMIN_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_true(str_is(s[1].name, "log.retention.ms"));
    assert_int_equal(s[1].source, ADMIN_CONFIG_SOURCE_DEFAULT);
    e = find_entry(&r[0], "segment.bytes");
    assert_int_equal(e->config_source, ADMIN_CONFIG_SOURCE_STATIC_BROKER);
    assert_true(str_is(e->value, "1048576"));
    s = e->synonyms.items;
    assert_int_equal(e->synonyms.count, 2); /* the broker's setting, then the default */
    assert_true(str_is(s[0].name, "log.segment.bytes"));
    assert_int_equal(s[0].source, ADMIN_CONFIG_SOURCE_STATIC_BROKER);
    assert_int_equal(s[1].source, ADMIN_CONFIG_SOURCE_DEFAULT);

    assert_int_equal(r[1].error_code, KERR_NONE);
    assert_int_equal(r[1].configs.count, 1);
    e = r[1].configs.items;
    assert_true(str_is(e->name, "log.dirs"));
    assert_true(str_is(e->value, f->root));
    assert_true(e->read_only);
    assert_int_equal(e->config_source, ADMIN_CONFIG_SOURCE_STATIC_BROKER);

    assert_int_equal(r[2].error_code, KERR_INVALID_REQUEST);
    assert_true(str_is(r[2].error_message, "unexpected broker id '2': this is node 1"));
    assert_int_equal(r[3].error_code, KERR_INVALID_REQUEST);
    assert_int_equal(r[4].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_true(str_is(r[4].error_message, "topic 'missing' does not exist"));

    /* without synonyms: none listed */
    rq.include_synonyms = false;
    rq.resources.count = 1;
    rs = call(f, &api_describe_configs, 1, &rq);
    e = find_entry(rs->results.items, "retention.ms");
    assert_int_equal(e->synonyms.count, 0);
}

/* ---- AlterConfigs / IncrementalAlterConfigs ------------------------------------------ */

static void alter_configs_answers(void **state)
{
    fixture *f = *state;
    topic *t = create(f, "orders", 1);
    alter_configs_entry good[] = {{proto_str_c("retention.ms"), proto_str_c("5000")}};
    alter_configs_entry bad[] = {{proto_str_c("segment.bytes"), proto_str_c("big")}};
    alter_configs_resource resources[] = {
        {ADMIN_RESOURCE_TOPIC, proto_str_c("orders"), {good, 1}},
        {ADMIN_RESOURCE_BROKER, proto_str_c("1"), {good, 1}},
        {ADMIN_RESOURCE_TOPIC, proto_str_c("missing"), {good, 1}},
    };
    alter_configs_request rq = {.resources = {resources, 3}};
    alter_configs_response *rs = call(f, &api_alter_configs, 1, &rq);
    const alter_configs_resource_response *r = rs->responses.items;
    assert_int_equal(r[0].error_code, KERR_NONE);
    assert_int_equal(r[0].resource_type, ADMIN_RESOURCE_TOPIC);
    assert_true(str_is(r[0].resource_name, "orders"));
    assert_int_equal(t->config.count, 1);
    assert_int_equal(r[1].error_code, KERR_INVALID_REQUEST); /* only strait.region.* is dynamic */
    assert_non_null(strstr(r[1].error_message.ptr, "'retention.ms' cannot be changed dynamically"));
    assert_int_equal(r[2].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);

    resources[0].configs = (proto_array){bad, 1};
    rq.resources.count = 1;
    rs = call(f, &api_alter_configs, 0, &rq);
    r = rs->responses.items;
    assert_int_equal(r[0].error_code, KERR_INVALID_CONFIG);
    assert_non_null(strstr(r[0].error_message.ptr, "segment.bytes"));
    char value[TOPIC_CONFIG_VALUE_MAX];
    topic_config_get(&t->config, &f->b.config, "retention.ms", value, sizeof value);
    assert_string_equal(value, "5000"); /* unchanged */

    /* incremental: APPEND compact, validate only first */
    incremental_alter_configs_entry append[] = {
        {proto_str_c("cleanup.policy"), ADMIN_CONFIG_OP_APPEND, proto_str_c("compact")}};
    incremental_alter_configs_resource inc[] = {
        {ADMIN_RESOURCE_TOPIC, proto_str_c("orders"), {append, 1}},
        {ADMIN_RESOURCE_TOPIC, proto_str_c("orders"), {append, 1}},
    };
    incremental_alter_configs_request irq = {.resources = {inc, 2}, .validate_only = true};
    rs = call(f, &api_incremental_alter_configs, 0, &irq);
    r = rs->responses.items;
    assert_int_equal(r[0].error_code, KERR_INVALID_REQUEST); /* the same resource twice */
    assert_int_equal(r[1].error_code, KERR_INVALID_REQUEST);
    irq.resources.count = 1;
    rs = call(f, &api_incremental_alter_configs, 0, &irq);
    assert_int_equal(((const alter_configs_resource_response *)rs->responses.items)->error_code,
                     KERR_NONE);
    topic_config_get(&t->config, &f->b.config, "cleanup.policy", value, sizeof value);
    assert_string_equal(value, "delete");
    irq.validate_only = false;
    rs = call(f, &api_incremental_alter_configs, 0, &irq);
    topic_config_get(&t->config, &f->b.config, "cleanup.policy", value, sizeof value);
    assert_string_equal(value, "delete,compact");
    incremental_alter_configs_entry wrong[] = {
        {proto_str_c("retention.ms"), ADMIN_CONFIG_OP_SUBTRACT, proto_str_c("5")}};
    inc[0].configs = (proto_array){wrong, 1};
    rs = call(f, &api_incremental_alter_configs, 0, &irq);
    r = rs->responses.items;
    assert_int_equal(r[0].error_code, KERR_INVALID_CONFIG);
    assert_true(str_is(r[0].error_message, "cannot SUBTRACT from 'retention.ms': it is not a list "
                                           "config"));
}

/* ---- DescribeCluster ------------------------------------------------------------------ */

static void describe_cluster_answer(void **state)
{
    fixture *f = *state;
    snprintf(f->b.config.rack, sizeof f->b.config.rack, "rack-a");
    describe_cluster_request rq = {.include_cluster_authorized_operations = false};
    describe_cluster_response *rs = call(f, &api_describe_cluster, 0, &rq);
    assert_int_equal(rs->error_code, KERR_NONE);
    assert_true(str_is(rs->cluster_id, topic_registry_cluster_id(f->b.topics)));
    assert_int_equal(rs->controller_id, f->b.config.node_id);
    assert_int_equal(rs->brokers.count, 1);
    const describe_cluster_broker *me = rs->brokers.items;
    assert_true(str_is(me->host, "broker.example"));
    assert_true(str_is(me->rack, "rack-a"));
    assert_int_equal(rs->cluster_authorized_operations, INT32_MIN);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(metadata_topic_lists),     T(metadata_named_topics),     T(create_topics_answers),
        T(delete_topics_answers),    T(create_partitions_answers), T(describe_configs_answers),
        T(alter_configs_answers),    T(describe_cluster_answer),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
