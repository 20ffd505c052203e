/*
 * test_acl_apis.c - the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) and
 * the authorizer as handlers apply it (broker/proto/authorize.h), against a
 * real topic registry and region state in a temporary directory: errors
 * without an authorizer and without the cluster permission, malformed
 * bindings and filters, the durable file, Metadata hiding topics, and the
 * region state's permission and removal rules. Every response is also
 * encoded and decoded at its version, flexible ones included.
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
#include "broker/cluster/producer_ids.h"
#include "broker/cluster/region_state.h"
#include "broker/proto/acl_apis.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/producer_apis.h"
#include "broker/proto/responder.h"
#include "common/limits.h"
#include "security/acl.h"
#include "security/acl_file.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    char root[64];
    broker b;
    proto_responder connection; /* the client: User:ANONYMOUS from 127.0.0.1 */
    proto_arena arena;
    broker_request *calls[64];
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
    snprintf(f->root, sizeof f->root, "/tmp/strait-acl-apis-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    broker_config_default(&f->b.config);
    snprintf(f->b.config.log_dirs, sizeof f->b.config.log_dirs, "%s", f->root);
    snprintf(f->b.advertised_host, sizeof f->b.advertised_host, "broker.example");
    f->b.advertised_port = 9092;
    assert_int_equal(topic_registry_open(&f->b.config, &f->b.topics), 0);
    assert_int_equal(region_state_open(f->root, &f->b.region), 0);
    f->connection.peer = "127.0.0.1:50000";
    snprintf(f->connection.principal, sizeof f->connection.principal, "%s",
             PROTO_PRINCIPAL_ANONYMOUS);
    snprintf(f->connection.client_host, sizeof f->connection.client_host, "127.0.0.1");
    proto_arena_init(&f->arena, LIMIT_DECODE_ARENA_BYTES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    topic_registry_close(f->b.topics);
    region_state_close(f->b.region);
    acl_store_free(f->b.acls);
    producer_ids_close(f->b.producer_ids);
    for (int i = 0; i < f->call_count; i++)
        proto_arena_free(&f->calls[i]->arena);
    proto_arena_free(&f->arena);
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The producer-id allocator InitProducerId draws from. */
static void cluster_producer_ids_open(fixture *f)
{
    assert_int_equal(producer_ids_open(f->root, f->b.config.node_id, &f->b.producer_ids), 0);
}

/* Turns the authorizer on (an empty store), with super.users. */
static void authorizer_on(fixture *f, const char *super_users)
{
    f->b.acls = acl_store_new();
    assert_non_null(f->b.acls);
    snprintf(f->b.config.authorizer_class_name, sizeof f->b.config.authorizer_class_name, "%s",
             BROKER_AUTHORIZER_STRAIT);
    snprintf(f->b.config.super_users, sizeof f->b.config.super_users, "%s", super_users);
}

static void grant(fixture *f, int8_t type, const char *name, int8_t pattern, int8_t operation,
                  int8_t permission)
{
    acl_binding b = {.resource_type = type, .pattern_type = pattern, .operation = operation,
                     .permission = permission};
    snprintf(b.resource_name, sizeof b.resource_name, "%s", name);
    snprintf(b.principal, sizeof b.principal, "%s", PROTO_PRINCIPAL_ANONYMOUS);
    snprintf(b.host, sizeof b.host, "*");
    char why[256];
    assert_int_equal(acl_store_add(f->b.acls, &b, why, sizeof why), 0);
}

/* Runs api's handler at version; checks the response encodes and decodes. */
static void *call(fixture *f, const proto_api *api, int16_t version, const void *request)
{
    broker_request *req = proto_arena_alloc(&f->arena, sizeof *req);
    req->broker = &f->b;
    req->responder = &f->connection;
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

static create_acls_creation creation(int8_t type, const char *name, int8_t pattern,
                                     const char *principal, int8_t operation, int8_t permission)
{
    return (create_acls_creation){.resource_type = type, .resource_name = proto_str_c(name),
                                  .resource_pattern_type = pattern,
                                  .principal = proto_str_c(principal), .host = proto_str_c("*"),
                                  .operation = operation, .permission_type = permission};
}

static const describe_acls_request describe_all = {
    .resource_type_filter = ACL_RESOURCE_ANY, .resource_name_filter = {NULL, -1},
    .pattern_type_filter = ACL_PATTERN_ANY, .principal_filter = {NULL, -1},
    .host_filter = {NULL, -1}, .operation = ACL_OP_ANY, .permission_type = ACL_PERMISSION_ANY};

/* ---- the ACL APIs -------------------------------------------------------------- */

static void no_authorizer_is_security_disabled(void **state)
{
    fixture *f = *state;
    describe_acls_response *d = call(f, &api_describe_acls, 1, &describe_all);
    assert_int_equal(d->error_code, KERR_SECURITY_DISABLED);
    assert_non_null(strstr(d->error_message.ptr, "authorizer.class.name"));
    create_acls_creation c = creation(ACL_RESOURCE_TOPIC, "t", ACL_PATTERN_LITERAL, "User:a",
                                      ACL_OP_READ, ACL_PERMISSION_ALLOW);
    create_acls_request cr = {.creations = {&c, 1}};
    create_acls_response *cs = call(f, &api_create_acls, 2, &cr);
    assert_int_equal(cs->results.count, 1);
    assert_int_equal(((create_acls_result *)cs->results.items)->error_code, KERR_SECURITY_DISABLED);
    delete_acls_filter filter = {.resource_type_filter = ACL_RESOURCE_ANY,
                                 .pattern_type_filter = ACL_PATTERN_ANY,
                                 .operation = ACL_OP_ANY, .permission_type = ACL_PERMISSION_ANY,
                                 .resource_name_filter = {NULL, -1},
                                 .principal_filter = {NULL, -1}, .host_filter = {NULL, -1}};
    delete_acls_request dr = {.filters = {&filter, 1}};
    delete_acls_response *ds = call(f, &api_delete_acls, 3, &dr);
    assert_int_equal(((delete_acls_filter_result *)ds->filter_results.items)->error_code,
                     KERR_SECURITY_DISABLED);
}

static void create_describe_delete_persist(void **state)
{
    fixture *f = *state;
    authorizer_on(f, "User:admin;User:ANONYMOUS");
    create_acls_creation c[] = {
        creation(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_WRITE,
                 ACL_PERMISSION_ALLOW),
        creation(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:bob", ACL_OP_READ,
                 ACL_PERMISSION_DENY),
        creation(ACL_RESOURCE_TOPIC, "ord", ACL_PATTERN_PREFIXED, "User:alice", ACL_OP_READ,
                 ACL_PERMISSION_ALLOW),
        creation(ACL_RESOURCE_CLUSTER, "other", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_ALTER,
                 ACL_PERMISSION_ALLOW),
        creation(ACL_RESOURCE_TOPIC, "x", ACL_PATTERN_MATCH, "User:alice", ACL_OP_READ,
                 ACL_PERMISSION_ALLOW),
        creation(ACL_RESOURCE_TOPIC, "x", ACL_PATTERN_LITERAL, "alice", ACL_OP_READ,
                 ACL_PERMISSION_ALLOW),
        creation(ACL_RESOURCE_USER, "x", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_ALTER,
                 ACL_PERMISSION_ALLOW),
    };
    create_acls_request cr = {.creations = {c, 7}};
    create_acls_response *cs = call(f, &api_create_acls, 2, &cr);
    const create_acls_result *res = cs->results.items;
    assert_int_equal(cs->results.count, 7);
    for (int i = 0; i < 3; i++)
        assert_int_equal(res[i].error_code, KERR_NONE);
    for (int i = 3; i < 7; i++)
        assert_int_equal(res[i].error_code, KERR_INVALID_REQUEST);
    assert_non_null(strstr(res[3].error_message.ptr, "kafka-cluster"));
    assert_non_null(strstr(res[4].error_message.ptr, "LITERAL or PREFIXED"));
    assert_non_null(strstr(res[5].error_message.ptr, "<type>:<name>"));
    assert_non_null(strstr(res[6].error_message.ptr, "version 3"));
    assert_int_equal(acl_store_count(f->b.acls), 3);

    /* creating one again changes nothing */
    create_acls_request again = {.creations = {c, 1}};
    cs = call(f, &api_create_acls, 0, &again);
    assert_int_equal(((create_acls_result *)cs->results.items)->error_code, KERR_NONE);
    assert_int_equal(acl_store_count(f->b.acls), 3);

    /* on disk before the answer */
    acl_store *loaded = acl_store_new();
    char why[256] = "";
    assert_int_equal(acl_file_load(f->root, loaded, why, sizeof why), 0);
    assert_int_equal(acl_store_count(loaded), 3);

    /* grouped by resource: orders (2 bindings), ord* (1) */
    describe_acls_response *d = call(f, &api_describe_acls, 2, &describe_all);
    assert_int_equal(d->error_code, KERR_NONE);
    assert_int_equal(d->resources.count, 2);
    const describe_acls_resource *r = d->resources.items;
    assert_true(proto_str_eq(r[0].resource_name, "orders"));
    assert_int_equal(r[0].acls.count, 2);
    assert_int_equal(r[1].pattern_type, ACL_PATTERN_PREFIXED);
    assert_int_equal(r[1].acls.count, 1);
    /* MATCH: every binding that applies to "orders", prefixed ones included */
    describe_acls_request match = describe_all;
    match.resource_type_filter = ACL_RESOURCE_TOPIC;
    match.pattern_type_filter = ACL_PATTERN_MATCH;
    match.resource_name_filter = proto_str_c("orders");
    match.permission_type = ACL_PERMISSION_ALLOW;
    d = call(f, &api_describe_acls, 1, &match);
    assert_int_equal(d->resources.count, 2);
    /* an unknown filter value is INVALID_REQUEST */
    describe_acls_request bad = describe_all;
    bad.operation = ACL_OP_UNKNOWN;
    d = call(f, &api_describe_acls, 1, &bad);
    assert_int_equal(d->error_code, KERR_INVALID_REQUEST);
    assert_non_null(strstr(d->error_message.ptr, "operation"));

    /* delete alice's: two bindings answered under the one filter, the file follows */
    delete_acls_filter filter = {.resource_type_filter = ACL_RESOURCE_ANY,
                                 .pattern_type_filter = ACL_PATTERN_ANY,
                                 .operation = ACL_OP_ANY, .permission_type = ACL_PERMISSION_ANY,
                                 .resource_name_filter = {NULL, -1},
                                 .principal_filter = proto_str_c("User:alice"),
                                 .host_filter = {NULL, -1}};
    delete_acls_filter bad_filter = filter;
    bad_filter.resource_type_filter = ACL_RESOURCE_UNKNOWN;
    delete_acls_filter filters[] = {filter, bad_filter};
    delete_acls_request dr = {.filters = {filters, 2}};
    delete_acls_response *ds = call(f, &api_delete_acls, 3, &dr);
    const delete_acls_filter_result *fr = ds->filter_results.items;
    assert_int_equal(fr[0].error_code, KERR_NONE);
    assert_int_equal(fr[0].matching_acls.count, 2);
    assert_true(proto_str_eq(((delete_acls_matching_acl *)fr[0].matching_acls.items)[0].principal,
                             "User:alice"));
    assert_int_equal(fr[1].error_code, KERR_INVALID_REQUEST);
    assert_int_equal(acl_store_count(f->b.acls), 1);
    assert_int_equal(acl_file_load(f->root, loaded, why, sizeof why), 0);
    assert_int_equal(acl_store_count(loaded), 1);
    assert_true(strcmp(acl_store_get(loaded, 0)->principal, "User:bob") == 0);
    acl_store_free(loaded);
}

static void cluster_permission_needed(void **state)
{
    fixture *f = *state;
    authorizer_on(f, "User:admin");
    create_acls_creation c = creation(ACL_RESOURCE_TOPIC, "t", ACL_PATTERN_LITERAL, "User:a",
                                      ACL_OP_READ, ACL_PERMISSION_ALLOW);
    create_acls_request cr = {.creations = {&c, 1}};
    create_acls_response *cs = call(f, &api_create_acls, 1, &cr);
    assert_int_equal(((create_acls_result *)cs->results.items)->error_code,
                     KERR_CLUSTER_AUTHORIZATION_FAILED);
    describe_acls_response *d = call(f, &api_describe_acls, 1, &describe_all);
    assert_int_equal(d->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
    /* DESCRIBE on the cluster lets it list, not create */
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_DESCRIBE,
          ACL_PERMISSION_ALLOW);
    d = call(f, &api_describe_acls, 1, &describe_all);
    assert_int_equal(d->error_code, KERR_NONE);
    assert_int_equal(d->resources.count, 1);
    cs = call(f, &api_create_acls, 1, &cr);
    assert_int_equal(((create_acls_result *)cs->results.items)->error_code,
                     KERR_CLUSTER_AUTHORIZATION_FAILED);
    /* ALTER implies DESCRIBE and allows creating */
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_ALTER,
          ACL_PERMISSION_ALLOW);
    cs = call(f, &api_create_acls, 1, &cr);
    assert_int_equal(((create_acls_result *)cs->results.items)->error_code, KERR_NONE);
    assert_int_equal(acl_store_count(f->b.acls), 3);
}

/* ---- the authorizer in other APIs ----------------------------------------------- */

static void metadata_hides_topics(void **state)
{
    fixture *f = *state;
    char err[256];
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->b.topics, "orders", 6, 1, NULL, NULL, 0, false, &t,
                                           err, sizeof err), 0);
    assert_int_equal(topic_registry_create(f->b.topics, "secret", 6, 1, NULL, NULL, 0, false, &t,
                                           err, sizeof err), 0);
    authorizer_on(f, "");
    grant(f, ACL_RESOURCE_TOPIC, "ord", ACL_PATTERN_PREFIXED, ACL_OP_READ, ACL_PERMISSION_ALLOW);
    metadata_request all = {.topics = {NULL, -1}, .allow_auto_topic_creation = true,
                            .include_topic_authorized_operations = true};
    metadata_response *rs = call(f, &api_metadata, 8, &all);
    assert_int_equal(rs->topics.count, 1);
    const metadata_response_topic *listed = rs->topics.items;
    assert_true(proto_str_eq(listed[0].name, "orders"));
    /* READ implies DESCRIBE; nothing else was granted */
    assert_int_equal(listed[0].topic_authorized_operations, (1 << ACL_OP_READ) | (1 << ACL_OP_DESCRIBE));
    /* asked by name: the hidden one is TOPIC_AUTHORIZATION_FAILED, and an unknown
     * topic it may describe is not auto-created without CREATE */
    grant(f, ACL_RESOURCE_TOPIC, "fresh", ACL_PATTERN_LITERAL, ACL_OP_DESCRIBE,
          ACL_PERMISSION_ALLOW);
    metadata_request_topic names[] = {{.name = proto_str_c("secret")},
                                      {.name = proto_str_c("fresh")}};
    metadata_request named = {.topics = {names, 2}, .allow_auto_topic_creation = true};
    rs = call(f, &api_metadata, 4, &named);
    listed = rs->topics.items;
    assert_int_equal(listed[0].error_code, KERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(listed[1].error_code, KERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(topic_registry_find(f->b.topics, "fresh", 5));
    /* CREATE on the cluster: auto-created */
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_CREATE,
          ACL_PERMISSION_ALLOW);
    rs = call(f, &api_metadata, 4, &named);
    assert_int_equal(((metadata_response_topic *)rs->topics.items)[1].error_code, KERR_NONE);
    assert_non_null(topic_registry_find(f->b.topics, "fresh", 5));
}

/* AlterConfigs of the BROKER resource: the region state. */
static int16_t alter_region(fixture *f, alter_configs_entry *entries, int32_t count)
{
    alter_configs_resource resource = {.resource_type = ADMIN_RESOURCE_BROKER,
                                       .resource_name = proto_str_c(""),
                                       .configs = {entries, count}};
    alter_configs_request rq = {.resources = {&resource, 1}};
    alter_configs_response *rs = call(f, &api_alter_configs, 0, &rq);
    return ((alter_configs_resource_response *)rs->responses.items)->error_code;
}

static void region_state_needs_cluster_action(void **state)
{
    fixture *f = *state;
    authorizer_on(f, "");
    alter_configs_entry standby[] = {
        {proto_str_c(REGION_KEY_ROLE), proto_str_c("standby")},
        {proto_str_c(REGION_KEY_EPOCH), proto_str_c("5")},
        {proto_str_c(REGION_KEY_BROKERS), proto_str_c("7@127.0.0.1:1")},
        {proto_str_c(REGION_KEY_TOPICS), proto_str_c("orders")},
    };
    assert_int_equal(alter_region(f, standby, 4), KERR_CLUSTER_AUTHORIZATION_FAILED);
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_ALTER_CONFIGS,
          ACL_PERMISSION_ALLOW);
    assert_int_equal(alter_region(f, standby, 4), KERR_CLUSTER_AUTHORIZATION_FAILED);
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_CLUSTER_ACTION,
          ACL_PERMISSION_ALLOW);
    assert_int_equal(alter_region(f, standby, 4), KERR_NONE);
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_STANDBY);
    /* the empty list and the list without the role: refused, state kept */
    assert_int_equal(alter_region(f, NULL, 0), KERR_INVALID_CONFIG);
    assert_int_equal(alter_region(f, standby + 1, 3), KERR_INVALID_CONFIG);
    alter_configs_entry lower[] = {standby[0], {proto_str_c(REGION_KEY_EPOCH), proto_str_c("4")},
                                   standby[2], standby[3]};
    assert_int_equal(alter_region(f, lower, 4), KERR_INVALID_CONFIG);
    alter_configs_entry huge[] = {standby[0],
                                  {proto_str_c(REGION_KEY_EPOCH), proto_str_c("2147483648")},
                                  standby[2], standby[3]};
    assert_int_equal(alter_region(f, huge, 4), KERR_INVALID_CONFIG);
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_STANDBY);
    assert_int_equal(region_state_epoch(f->b.region), 5);
}

/* InitProducerId: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic
 * (KIP-679) unless a DENY takes that topic back; a transactional id needs
 * WRITE on it. DescribeCluster: DESCRIBE on the cluster. */
static void producer_and_cluster_permissions(void **state)
{
    fixture *f = *state;
    cluster_producer_ids_open(f);
    authorizer_on(f, "");
    init_producer_id_request idempotent = {.transactional_id = {NULL, -1}, .producer_id = -1,
                                           .producer_epoch = -1};
    init_producer_id_response *rs = call(f, &api_init_producer_id, 4, &idempotent);
    assert_int_equal(rs->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(rs->producer_id, -1);
    grant(f, ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_PREFIXED, ACL_OP_WRITE,
          ACL_PERMISSION_ALLOW);
    rs = call(f, &api_init_producer_id, 4, &idempotent);
    assert_int_equal(rs->error_code, KERR_NONE);
    assert_true(rs->producer_id >= 0);
    grant(f, ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_PREFIXED, ACL_OP_WRITE,
          ACL_PERMISSION_DENY);
    rs = call(f, &api_init_producer_id, 2, &idempotent);
    assert_int_equal(rs->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_IDEMPOTENT_WRITE,
          ACL_PERMISSION_ALLOW);
    rs = call(f, &api_init_producer_id, 2, &idempotent);
    assert_int_equal(rs->error_code, KERR_NONE);
    init_producer_id_request transactional = idempotent;
    transactional.transactional_id = proto_str_c("tx-1");
    rs = call(f, &api_init_producer_id, 2, &transactional);
    assert_int_equal(rs->error_code, KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

    describe_cluster_request dc = {.include_cluster_authorized_operations = true};
    describe_cluster_response *d = call(f, &api_describe_cluster, 0, &dc);
    assert_int_equal(d->error_code, KERR_CLUSTER_AUTHORIZATION_FAILED);
    assert_int_equal(d->brokers.count, 0);
    assert_int_equal(d->cluster_authorized_operations, 1 << ACL_OP_IDEMPOTENT_WRITE);
    grant(f, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL, ACL_OP_DESCRIBE,
          ACL_PERMISSION_ALLOW);
    d = call(f, &api_describe_cluster, 0, &dc);
    assert_int_equal(d->error_code, KERR_NONE);
    assert_int_equal(d->brokers.count, 1);
    assert_int_equal(d->cluster_authorized_operations,
                     (1 << ACL_OP_IDEMPOTENT_WRITE) | (1 << ACL_OP_DESCRIBE));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(no_authorizer_is_security_disabled),
        T(create_describe_delete_persist),
        T(cluster_permission_needed),
        T(metadata_hides_topics),
        T(region_state_needs_cluster_action),
        T(producer_and_cluster_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
