/*
 * test_admin_codec.c - the field tables of the metadata and admin APIs
 * (Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
 * AlterConfigs, IncrementalAlterConfigs, DescribeCluster): round trips at
 * the lowest and highest advertised version of every request and response,
 * and byte vectors written out by hand as the clients send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/proto/admin_apis.h"
#include "broker/proto/codec.h"
#include "common/buf.h"
#include "common/limits.h"

/* ---- helpers --------------------------------------------------------------- */

static bool flexible_at(const proto_api *api, int16_t version) { return version >= api->flexible_min; }

/* Gives every field present at version a distinct value; arrays get two
 * elements; nullable strings and arrays are sometimes null. */
static void fill(const proto_struct *s, int16_t version, bool flexible, void *out, proto_arena *a,
                 int *seed);

static void fill_field(const proto_field *f, int16_t version, bool flexible, void *base,
                       proto_arena *a, int *seed)
{
    void *p = (uint8_t *)base + f->offset;
    int v = ++*seed;
    bool nullable = f->nullable_min != PV_NEVER && version >= f->nullable_min;
    switch (f->type) {
    case PT_BOOL: *(bool *)p = (v % 2) == 1; break;
    case PT_INT8: *(int8_t *)p = (int8_t)v; break;
    case PT_INT16: *(int16_t *)p = (int16_t)(v * 7); break;
    case PT_INT32: *(int32_t *)p = v * 100003; break;
    case PT_INT64: *(int64_t *)p = (int64_t)v * 10000000019LL; break;
    case PT_UUID:
        for (int i = 0; i < 16; i++)
            ((proto_uuid *)p)->bytes[i] = (uint8_t)(v * 16 + i);
        break;
    case PT_STRING: {
        if (nullable && (v % 3) == 0) {
            *(proto_str *)p = proto_str_null();
            break;
        }
        char *text = proto_arena_alloc(a, 32);
        int n = snprintf(text, 32, "%s-%d", f->name, v % 1000);
        *(proto_str *)p = (proto_str){text, n};
        break;
    }
    case PT_ARRAY: {
        proto_array *arr = p;
        if (nullable && (v % 4) == 0) {
            *arr = (proto_array){NULL, -1};
            break;
        }
        assert_int_equal(proto_array_alloc(a, arr, f->element, 2), 0);
        for (int32_t i = 0; i < arr->count; i++)
            fill(f->element, version, flexible, (uint8_t *)arr->items + (size_t)i * f->element->size,
                 a, seed);
        break;
    }
    default: fail_msg("unexpected field type %d in %s", f->type, f->name);
    }
}

static void fill(const proto_struct *s, int16_t version, bool flexible, void *out, proto_arena *a,
                 int *seed)
{
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (version < f->min_version || version > f->max_version)
            continue;
        if (f->tag >= 0 && !flexible)
            continue;
        fill_field(f, version, flexible, out, a, seed);
    }
}

/* Encodes value, decodes it (must consume every byte), re-encodes: equal.
 * Returns the encoded length. */
static size_t assert_round_trip(const proto_struct *s, int16_t version, bool flexible,
                                const void *value, proto_arena *a, const char *what)
{
    proto_out first, second;
    proto_out_init(&first, 1 << 20);
    proto_out_init(&second, 1 << 20);
    proto_encode(&first, s, version, flexible, value);
    assert_true(buf_ok(&first.mem));
    void *decoded = proto_arena_alloc(a, s->size);
    reader r;
    reader_init(&r, first.mem.data, first.mem.len);
    int rc = proto_decode(&r, s, version, flexible, decoded, a);
    if (rc != 0 || reader_remaining(&r) != 0)
        fail_msg("%s v%d: decode rc=%d field=%s remaining=%zu", what, version, rc,
                 r.what ? r.what : "-", reader_remaining(&r));
    proto_encode(&second, s, version, flexible, decoded);
    if (first.mem.len != second.mem.len ||
        (first.mem.len > 0 && memcmp(first.mem.data, second.mem.data, first.mem.len) != 0))
        fail_msg("%s v%d: re-encoding differs (%zu vs %zu bytes)", what, version, first.mem.len,
                 second.mem.len);
    size_t len = first.mem.len;
    proto_out_free(&first);
    proto_out_free(&second);
    return len;
}

static void round_trip_api(const proto_api *api)
{
    int16_t versions[2] = {api->min_version, api->max_version};
    for (int i = 0; i < 2; i++) {
        proto_arena a;
        proto_arena_init(&a, LIMIT_DECODE_ARENA_BYTES);
        bool flexible = flexible_at(api, versions[i]);
        int seed = 0;
        void *request = proto_arena_alloc(&a, api->request->size);
        void *response = proto_arena_alloc(&a, api->response->size);
        fill(api->request, versions[i], flexible, request, &a, &seed);
        fill(api->response, versions[i], flexible, response, &a, &seed);
        char what[64];
        snprintf(what, sizeof what, "%s request", api->name);
        assert_true(assert_round_trip(api->request, versions[i], flexible, request, &a, what) > 0);
        snprintf(what, sizeof what, "%s response", api->name);
        assert_true(assert_round_trip(api->response, versions[i], flexible, response, &a, what) > 0);
        proto_arena_free(&a);
    }
}

/* Decodes bytes at version into a new struct; every byte must be used. */
static void *decode_all(const proto_api *api, bool request, int16_t version, const uint8_t *data,
                        size_t len, proto_arena *a)
{
    const proto_struct *s = request ? api->request : api->response;
    void *out = proto_arena_alloc(a, s->size);
    reader r;
    reader_init(&r, data, len);
    int rc = proto_decode(&r, s, version, flexible_at(api, version), out, a);
    if (rc != 0 || reader_remaining(&r) != 0)
        fail_msg("%s v%d: decode rc=%d field=%s remaining=%zu", s->name, version, rc,
                 r.what ? r.what : "-", reader_remaining(&r));
    return out;
}

/* Encodes value and compares with the expected bytes. */
static void assert_encodes_to(const proto_api *api, bool request, int16_t version,
                              const void *value, const uint8_t *expected, size_t len)
{
    proto_out o;
    proto_out_init(&o, 1 << 20);
    proto_encode(&o, request ? api->request : api->response, version, flexible_at(api, version),
                 value);
    assert_true(buf_ok(&o.mem));
    assert_int_equal(o.mem.len, len);
    assert_memory_equal(o.mem.data, expected, len);
    proto_out_free(&o);
}

static bool str_is(proto_str s, const char *text) { return proto_str_eq(s, text); }

/* ---- round trips and ranges -------------------------------------------------- */

static void round_trips(void **state)
{
    (void)state;
    const proto_api *apis[] = {&api_metadata,          &api_create_topics,
                               &api_delete_topics,     &api_create_partitions,
                               &api_describe_configs,  &api_alter_configs,
                               &api_incremental_alter_configs, &api_describe_cluster};
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
        round_trip_api(apis[i]);
}

static void api_ranges_as_advertised(void **state)
{
    (void)state;
    /* kafka-client-versions.md, column "strait: advertise" */
    const struct {
        const proto_api *api;
        int16_t key, min, max, flexible_min;
    } expected[] = {
        {&api_metadata, 3, 0, 8, 9},
        {&api_create_topics, 19, 2, 4, 5},
        {&api_delete_topics, 20, 1, 3, 4},
        {&api_describe_configs, 32, 1, 2, 4},
        {&api_alter_configs, 33, 0, 1, 2},
        {&api_create_partitions, 37, 0, 1, 2},
        {&api_incremental_alter_configs, 44, 0, 0, 1},
        {&api_describe_cluster, 60, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const proto_api *api = expected[i].api;
        assert_int_equal(api->key, expected[i].key);
        assert_int_equal(api->min_version, expected[i].min);
        assert_int_equal(api->max_version, expected[i].max);
        assert_int_equal(api->flexible_min, expected[i].flexible_min);
        assert_non_null(api->handle);
        assert_non_null(api->name);
    }
}

/* ---- Metadata ------------------------------------------------------------------ */

/* Metadata v1 for topic "orders", as kafka-python 2.0.2 sends it
 * (MetadataRequest_v1: one topic). */
static void metadata_v1_kafka_python_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01,                   /* topics: 1 */
        0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's', /* name "orders" */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const metadata_request *in = decode_all(&api_metadata, true, 1, bytes, sizeof bytes, &a);
    assert_int_equal(in->topics.count, 1);
    assert_true(str_is(((const metadata_request_topic *)in->topics.items)->name, "orders"));
    assert_true(in->allow_auto_topic_creation); /* absent below v4: default true */
    assert_false(in->include_topic_authorized_operations);
    assert_encodes_to(&api_metadata, true, 1, in, bytes, sizeof bytes);

    /* v1 null list = all topics; v0 empty list (the kafka-python probe) = all */
    static const uint8_t all_v1[] = {0xff, 0xff, 0xff, 0xff};
    in = decode_all(&api_metadata, true, 1, all_v1, sizeof all_v1, &a);
    assert_int_equal(in->topics.count, -1);
    static const uint8_t probe_v0[] = {0x00, 0x00, 0x00, 0x00};
    in = decode_all(&api_metadata, true, 0, probe_v0, sizeof probe_v0, &a);
    assert_int_equal(in->topics.count, 0);
    /* v0 cannot say null */
    metadata_request *bad = proto_arena_alloc(&a, sizeof *bad);
    reader r;
    reader_init(&r, all_v1, sizeof all_v1);
    assert_int_not_equal(proto_decode(&r, api_metadata.request, 0, false, bad, &a), 0);
    proto_arena_free(&a);
}

/* Metadata v8 request as librdkafka writes it with auto-create off and
 * authorized operations asked for. */
static void metadata_v8_request_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x02,                   /* topics: 2 */
        0x00, 0x01, 'a',                          /* "a" */
        0x00, 0x02, 'b', 'c',                     /* "bc" */
        0x00,                                     /* allow_auto_topic_creation false */
        0x01,                                     /* include_cluster_authorized_operations */
        0x01,                                     /* include_topic_authorized_operations */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const metadata_request *in = decode_all(&api_metadata, true, 8, bytes, sizeof bytes, &a);
    assert_int_equal(in->topics.count, 2);
    assert_true(str_is(((const metadata_request_topic *)in->topics.items)[1].name, "bc"));
    assert_false(in->allow_auto_topic_creation);
    assert_true(in->include_cluster_authorized_operations);
    assert_true(in->include_topic_authorized_operations);
    assert_encodes_to(&api_metadata, true, 8, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* A Metadata v8 response for one node and one single-partition topic,
 * written out field by field. */
static void metadata_v8_response_bytes(void **state)
{
    (void)state;
    static const uint8_t expected[] = {
        0x00, 0x00, 0x00, 0x00,                   /* throttle_time_ms */
        0x00, 0x00, 0x00, 0x01,                   /* brokers: 1 */
        0x00, 0x00, 0x00, 0x01,                   /*   node_id 1 */
        0x00, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
        0x00, 0x00, 0x23, 0x84,                   /*   port 9092 */
        0xff, 0xff,                               /*   rack null */
        0x00, 0x03, 'c', 'i', 'd',                /* cluster_id */
        0x00, 0x00, 0x00, 0x01,                   /* controller_id 1 */
        0x00, 0x00, 0x00, 0x01,                   /* topics: 1 */
        0x00, 0x00,                               /*   error_code */
        0x00, 0x01, 't',                          /*   name */
        0x00,                                     /*   is_internal */
        0x00, 0x00, 0x00, 0x01,                   /*   partitions: 1 */
        0x00, 0x00,                               /*     error_code */
        0x00, 0x00, 0x00, 0x00,                   /*     partition_index 0 */
        0x00, 0x00, 0x00, 0x01,                   /*     leader_id 1 */
        0x00, 0x00, 0x00, 0x05,                   /*     leader_epoch 5 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* replica_nodes [1] */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* isr_nodes [1] */
        0x00, 0x00, 0x00, 0x00,                   /*     offline_replicas [] */
        0x80, 0x00, 0x00, 0x00,                   /*   topic_authorized_operations not asked */
        0x80, 0x00, 0x00, 0x00,                   /* cluster_authorized_operations not asked */
    };
    proto_int32 node = {1};
    metadata_response_broker broker = {1, proto_str_c("localhost"), 9092, proto_str_null()};
    metadata_response_partition partition = {
        .leader_id = 1, .leader_epoch = 5, .replica_nodes = {&node, 1}, .isr_nodes = {&node, 1}};
    metadata_response_topic topic = {.name = proto_str_c("t"), .partitions = {&partition, 1},
                                     .topic_authorized_operations = INT32_MIN};
    metadata_response rs = {.brokers = {&broker, 1}, .cluster_id = proto_str_c("cid"),
                            .controller_id = 1, .topics = {&topic, 1},
                            .cluster_authorized_operations = INT32_MIN};
    assert_encodes_to(&api_metadata, false, 8, &rs, expected, sizeof expected);

    /* v0 of the same: no rack, cluster id, controller, is_internal, epoch,
     * offline replicas or authorized operations */
    static const uint8_t expected_v0[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0x00, 0x00, 0x23, 0x84,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 't',
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    };
    assert_encodes_to(&api_metadata, false, 0, &rs, expected_v0, sizeof expected_v0);
}

/* ---- CreateTopics / DeleteTopics / CreatePartitions --------------------------- */

/* CreateTopics v2: "orders", 3 partitions, replication 1, retention.ms=1000,
 * as kafka-python's admin client sends it (CreateTopicsRequest_v2). */
static void create_topics_v2_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01,                   /* topics: 1 */
        0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x03,                   /* num_partitions 3 */
        0x00, 0x01,                               /* replication_factor 1 */
        0x00, 0x00, 0x00, 0x00,                   /* assignments: 0 */
        0x00, 0x00, 0x00, 0x01,                   /* configs: 1 */
        0x00, 0x0c, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
        0x00, 0x04, '1', '0', '0', '0',
        0x00, 0x00, 0x75, 0x30,                   /* timeout_ms 30000 */
        0x01,                                     /* validate_only */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const create_topics_request *in = decode_all(&api_create_topics, true, 2, bytes, sizeof bytes, &a);
    assert_int_equal(in->topics.count, 1);
    const create_topics_topic *t = in->topics.items;
    assert_true(str_is(t->name, "orders"));
    assert_int_equal(t->num_partitions, 3);
    assert_int_equal(t->replication_factor, 1);
    assert_int_equal(t->assignments.count, 0);
    assert_int_equal(t->configs.count, 1);
    const create_topics_config *c = t->configs.items;
    assert_true(str_is(c->name, "retention.ms"));
    assert_true(str_is(c->value, "1000"));
    assert_int_equal(in->timeout_ms, 30000);
    assert_true(in->validate_only);
    assert_encodes_to(&api_create_topics, true, 2, in, bytes, sizeof bytes);

    /* the v4 response for it */
    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x00,                   /* throttle_time_ms */
        0x00, 0x00, 0x00, 0x01,                   /* topics: 1 */
        0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x24,                               /* error_code 36 TOPIC_ALREADY_EXISTS */
        0x00, 0x02, 'n', 'o',                     /* error_message */
    };
    create_topics_result result = {.name = proto_str_c("orders"), .error_code = 36,
                                   .error_message = proto_str_c("no")};
    create_topics_response rs = {.topics = {&result, 1}};
    assert_encodes_to(&api_create_topics, false, 4, &rs, response, sizeof response);
    proto_arena_free(&a);
}

/* DeleteTopics v1: two names, timeout 5000. */
static void delete_topics_v1_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x02,                   /* topic_names: 2 */
        0x00, 0x01, 'a',
        0x00, 0x03, 'b', '.', 'c',
        0x00, 0x00, 0x13, 0x88,                   /* timeout_ms 5000 */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const delete_topics_request *in = decode_all(&api_delete_topics, true, 1, bytes, sizeof bytes, &a);
    assert_int_equal(in->topic_names.count, 2);
    assert_true(str_is(((const proto_string *)in->topic_names.items)[1].value, "b.c"));
    assert_int_equal(in->timeout_ms, 5000);
    assert_int_equal(in->topics.count, 0); /* v6+ only */
    assert_encodes_to(&api_delete_topics, true, 1, in, bytes, sizeof bytes);

    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x07,                   /* throttle_time_ms 7 */
        0x00, 0x00, 0x00, 0x01,                   /* responses: 1 */
        0x00, 0x01, 'a', 0x00, 0x03,              /* "a", UNKNOWN_TOPIC_OR_PARTITION */
    };
    delete_topics_result result = {.name = proto_str_c("a"), .error_code = 3,
                                   .error_message = proto_str_c("not on the wire below v5")};
    delete_topics_response rs = {.throttle_time_ms = 7, .responses = {&result, 1}};
    assert_encodes_to(&api_delete_topics, false, 3, &rs, response, sizeof response);
    proto_arena_free(&a);
}

/* CreatePartitions v0: grow "orders" to 6, no assignments (null), validate only. */
static void create_partitions_v0_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01,                   /* topics: 1 */
        0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x06,                   /* count 6 */
        0xff, 0xff, 0xff, 0xff,                   /* assignments null */
        0x00, 0x00, 0x03, 0xe8,                   /* timeout_ms 1000 */
        0x01,                                     /* validate_only */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const create_partitions_request *in =
        decode_all(&api_create_partitions, true, 0, bytes, sizeof bytes, &a);
    const create_partitions_topic *t = in->topics.items;
    assert_true(str_is(t->name, "orders"));
    assert_int_equal(t->count, 6);
    assert_int_equal(t->assignments.count, -1);
    assert_int_equal(in->timeout_ms, 1000);
    assert_true(in->validate_only);
    assert_encodes_to(&api_create_partitions, true, 0, in, bytes, sizeof bytes);

    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00,                               /* error_code */
        0xff, 0xff,                               /* error_message null */
    };
    create_partitions_result result = {.name = proto_str_c("orders"),
                                       .error_message = proto_str_null()};
    create_partitions_response rs = {.results = {&result, 1}};
    assert_encodes_to(&api_create_partitions, false, 1, &rs, response, sizeof response);
    proto_arena_free(&a);
}

/* ---- configs ------------------------------------------------------------------- */

/* DescribeConfigs v1 for topic "orders", all keys, with synonyms. */
static void describe_configs_v1_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x02,                   /* resources: 2 */
        0x02, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0xff, 0xff, 0xff, 0xff,                   /*   configuration_keys null = all */
        0x04, 0x00, 0x01, '1',                    /* broker "1" */
        0x00, 0x00, 0x00, 0x01,                   /*   keys: 1 */
        0x00, 0x08, 'l', 'o', 'g', '.', 'd', 'i', 'r', 's',
        0x01,                                     /* include_synonyms */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const describe_configs_request *in =
        decode_all(&api_describe_configs, true, 1, bytes, sizeof bytes, &a);
    assert_int_equal(in->resources.count, 2);
    const describe_configs_resource *r = in->resources.items;
    assert_int_equal(r[0].resource_type, ADMIN_RESOURCE_TOPIC);
    assert_true(str_is(r[0].resource_name, "orders"));
    assert_int_equal(r[0].configuration_keys.count, -1);
    assert_int_equal(r[1].resource_type, ADMIN_RESOURCE_BROKER);
    assert_true(str_is(r[1].resource_name, "1"));
    assert_int_equal(r[1].configuration_keys.count, 1);
    assert_true(str_is(((const proto_string *)r[1].configuration_keys.items)->value, "log.dirs"));
    assert_true(in->include_synonyms);
    assert_encodes_to(&api_describe_configs, true, 1, in, bytes, sizeof bytes);

    /* one entry with one synonym, v1 */
    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x00,                   /* throttle_time_ms */
        0x00, 0x00, 0x00, 0x01,                   /* results: 1 */
        0x00, 0x00, 0xff, 0xff,                   /*   error_code, error_message null */
        0x02, 0x00, 0x01, 't',                    /*   topic "t" */
        0x00, 0x00, 0x00, 0x01,                   /*   configs: 1 */
        0x00, 0x02, 'k', 'k', 0x00, 0x01, 'v',    /*     name, value */
        0x00,                                     /*     read_only */
        0x01,                                     /*     config_source DYNAMIC_TOPIC */
        0x00,                                     /*     is_sensitive */
        0x00, 0x00, 0x00, 0x01,                   /*     synonyms: 1 */
        0x00, 0x02, 'k', 'k', 0x00, 0x01, 'v', 0x01,
    };
    describe_configs_synonym synonym = {proto_str_c("kk"), proto_str_c("v"), 1};
    describe_configs_entry entry = {.name = proto_str_c("kk"), .value = proto_str_c("v"),
                                    .config_source = 1, .synonyms = {&synonym, 1}};
    describe_configs_result result = {.error_message = proto_str_null(), .resource_type = 2,
                                      .resource_name = proto_str_c("t"), .configs = {&entry, 1}};
    describe_configs_response rs = {.results = {&result, 1}};
    assert_encodes_to(&api_describe_configs, false, 1, &rs, response, sizeof response);
    proto_arena_free(&a);
}

/* AlterConfigs v0: retention.ms=1000 and a null value on topic "orders". */
static void alter_configs_v0_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01,                   /* resources: 1 */
        0x02, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x02,                   /*   configs: 2 */
        0x00, 0x0c, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's',
        0x00, 0x04, '1', '0', '0', '0',
        0x00, 0x08, 'f', 'l', 'u', 's', 'h', '.', 'm', 's',
        0xff, 0xff,                               /*     value null */
        0x00,                                     /* validate_only */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const alter_configs_request *in = decode_all(&api_alter_configs, true, 0, bytes, sizeof bytes, &a);
    const alter_configs_resource *r = in->resources.items;
    assert_int_equal(r->resource_type, 2);
    assert_true(str_is(r->resource_name, "orders"));
    assert_int_equal(r->configs.count, 2);
    const alter_configs_entry *e = r->configs.items;
    assert_true(str_is(e[0].value, "1000"));
    assert_true(str_is(e[1].name, "flush.ms"));
    assert_int_equal(e[1].value.len, -1);
    assert_false(in->validate_only);
    assert_encodes_to(&api_alter_configs, true, 0, in, bytes, sizeof bytes);

    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x28,                               /* INVALID_CONFIG */
        0x00, 0x03, 'b', 'a', 'd',
        0x02, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
    };
    alter_configs_resource_response result = {40, proto_str_c("bad"), 2, proto_str_c("orders")};
    alter_configs_response rs = {.responses = {&result, 1}};
    assert_encodes_to(&api_alter_configs, false, 1, &rs, response, sizeof response);
    assert_encodes_to(&api_incremental_alter_configs, false, 0, &rs, response, sizeof response);
    proto_arena_free(&a);
}

/* IncrementalAlterConfigs v0: APPEND compact to cleanup.policy, validate only. */
static void incremental_alter_configs_v0_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {
        0x00, 0x00, 0x00, 0x01,                   /* resources: 1 */
        0x02, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x01,                   /*   configs: 1 */
        0x00, 0x0e, 'c', 'l', 'e', 'a', 'n', 'u', 'p', '.', 'p', 'o', 'l', 'i', 'c', 'y',
        0x02,                                     /*     APPEND */
        0x00, 0x07, 'c', 'o', 'm', 'p', 'a', 'c', 't',
        0x01,                                     /* validate_only */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const incremental_alter_configs_request *in =
        decode_all(&api_incremental_alter_configs, true, 0, bytes, sizeof bytes, &a);
    const incremental_alter_configs_resource *r = in->resources.items;
    assert_true(str_is(r->resource_name, "orders"));
    const incremental_alter_configs_entry *e = r->configs.items;
    assert_true(str_is(e->name, "cleanup.policy"));
    assert_int_equal(e->config_operation, ADMIN_CONFIG_OP_APPEND);
    assert_true(str_is(e->value, "compact"));
    assert_true(in->validate_only);
    assert_encodes_to(&api_incremental_alter_configs, true, 0, in, bytes, sizeof bytes);
    proto_arena_free(&a);
}

/* ---- DescribeCluster (flexible at v0) ------------------------------------------ */

static void describe_cluster_v0_bytes(void **state)
{
    (void)state;
    static const uint8_t request[] = {
        0x01,                                     /* include_cluster_authorized_operations */
        0x00,                                     /* no tagged fields */
    };
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    const describe_cluster_request *in =
        decode_all(&api_describe_cluster, true, 0, request, sizeof request, &a);
    assert_true(in->include_cluster_authorized_operations);
    assert_int_equal(in->endpoint_type, 1); /* v1+ only: default */
    assert_encodes_to(&api_describe_cluster, true, 0, in, request, sizeof request);

    static const uint8_t response[] = {
        0x00, 0x00, 0x00, 0x00,                   /* throttle_time_ms */
        0x00, 0x00,                               /* error_code */
        0x00,                                     /* error_message null (compact) */
        0x04, 'c', 'i', 'd',                      /* cluster_id (compact, length+1) */
        0x00, 0x00, 0x00, 0x01,                   /* controller_id 1 */
        0x02,                                     /* brokers: 1 (compact, count+1) */
        0x00, 0x00, 0x00, 0x01,                   /*   broker_id 1 */
        0x02, 'h',                                /*   host "h" */
        0x00, 0x00, 0x23, 0x84,                   /*   port 9092 */
        0x03, 'r', '1',                           /*   rack "r1" */
        0x00,                                     /*   no tagged fields */
        0x00, 0x00, 0x1f, 0xa0,                   /* cluster_authorized_operations */
        0x00,                                     /* no tagged fields */
    };
    describe_cluster_broker broker = {1, proto_str_c("h"), 9092, proto_str_c("r1")};
    describe_cluster_response rs = {.error_message = proto_str_null(),
                                    .endpoint_type = 1,
                                    .cluster_id = proto_str_c("cid"),
                                    .controller_id = 1,
                                    .brokers = {&broker, 1},
                                    .cluster_authorized_operations = ADMIN_CLUSTER_OPERATIONS};
    assert_int_equal(ADMIN_CLUSTER_OPERATIONS, 0x1fa0);
    assert_encodes_to(&api_describe_cluster, false, 0, &rs, response, sizeof response);
    const describe_cluster_response *back =
        decode_all(&api_describe_cluster, false, 0, response, sizeof response, &a);
    assert_true(str_is(back->cluster_id, "cid"));
    assert_int_equal(back->brokers.count, 1);
    assert_true(str_is(((const describe_cluster_broker *)back->brokers.items)->rack, "r1"));
    proto_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(api_ranges_as_advertised),
        cmocka_unit_test(metadata_v1_kafka_python_bytes),
        cmocka_unit_test(metadata_v8_request_bytes),
        cmocka_unit_test(metadata_v8_response_bytes),
        cmocka_unit_test(create_topics_v2_bytes),
        cmocka_unit_test(delete_topics_v1_bytes),
        cmocka_unit_test(create_partitions_v0_bytes),
        cmocka_unit_test(describe_configs_v1_bytes),
        cmocka_unit_test(alter_configs_v0_bytes),
        cmocka_unit_test(incremental_alter_configs_v0_bytes),
        cmocka_unit_test(describe_cluster_v0_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
