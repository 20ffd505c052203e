/*
 * test_region_state.c - the broker's failover state (broker/cluster/
 * region_state.h): validation of a change as a whole, the epoch rule,
 * persistence and corrupt files, topic/group matching and pattern splitting,
 * strait.redirect.topics.exclude (an exclude wins);
 * and the handlers that apply it (region_redirect.h): AlterConfigs /
 * IncrementalAlterConfigs and DescribeConfigs on the broker resource,
 * Metadata redirect with the region epoch, FindCoordinator and the group
 * APIs on a standby, leader epochs raised when active; the lease on the
 * active role (strait.region.lease.ms): lapse, renewal, restart, and a
 * renewal that leaves the file alone.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/log/batch_build.h"
#include "broker/cluster/region_epochs.h"
#include "broker/cluster/region_state.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"

/* ---- fixture ------------------------------------------------------------------ */

typedef struct fixture {
    char root[64];
    broker b;
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
    snprintf(f->root, sizeof f->root, "/tmp/strait-region-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    broker_config_default(&f->b.config);
    f->b.config.node_id = 101;
    snprintf(f->b.config.log_dirs, sizeof f->b.config.log_dirs, "%s", f->root);
    snprintf(f->b.advertised_host, sizeof f->b.advertised_host, "west.example");
    f->b.advertised_port = 9192;
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

/* Runs api's handler as client_id; checks the response encodes. */
static void *call_as(fixture *f, const char *client_id, const proto_api *api, int16_t version,
                     const void *request)
{
    broker_request *req = proto_arena_alloc(&f->arena, sizeof *req);
    req->broker = &f->b;
    req->api = api;
    req->api_version = version;
    req->flexible = version >= api->flexible_min;
    req->client_id = proto_str_c(client_id);
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
    proto_out_free(&o);
    return req->response;
}

static void *call(fixture *f, const proto_api *api, int16_t version, const void *request)
{
    return call_as(f, "rdkafka", api, version, request);
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

/* IncrementalAlterConfigs SET of pairs (key, value, key, value, ..., NULL)
 * on broker resource name; returns the resource's answer. validate_only is
 * an int, not a bool: the parameter before "..." must keep its type under
 * the default promotions (C11 7.16.1.4; clang's -Wvarargs). */
static const alter_configs_resource_response *set_keys(fixture *f, const char *name,
                                                       int validate_only, ...)
{
    incremental_alter_configs_entry *entries =
        proto_arena_alloc(&f->arena, 8 * sizeof *entries);
    int n = 0;
    va_list ap;
    va_start(ap, validate_only);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL && n < 8; n++) {
        const char *value = va_arg(ap, const char *);
        entries[n] = (incremental_alter_configs_entry){
            proto_str_c(key), value ? ADMIN_CONFIG_OP_SET : ADMIN_CONFIG_OP_DELETE,
            value ? proto_str_c(value) : proto_str_null()};
    }
    va_end(ap);
    incremental_alter_configs_resource *res = proto_arena_alloc(&f->arena, sizeof *res);
    *res = (incremental_alter_configs_resource){ADMIN_RESOURCE_BROKER, proto_str_c(name),
                                                {entries, n}};
    incremental_alter_configs_request *rq = proto_arena_alloc(&f->arena, sizeof *rq);
    *rq = (incremental_alter_configs_request){{res, 1}, validate_only != 0};
    alter_configs_response *rs = call_as(f, "strait-sidecar-west", &api_incremental_alter_configs,
                                         0, rq);
    assert_int_equal(rs->responses.count, 1);
    return rs->responses.items;
}

static bool message_has(const alter_configs_resource_response *r, const char *text)
{
    return r->error_message.len > 0 && strstr(r->error_message.ptr, text) != NULL;
}

static void make_standby(fixture *f, const char *epoch)
{
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "standby", REGION_KEY_EPOCH, epoch,
                 REGION_KEY_ACTIVE, "east", REGION_KEY_BROKERS, "1@east1:9092, 2@[::1]:9093",
                 REGION_KEY_TOPICS, "orders,payments\\..*", REGION_KEY_GROUPS, "app-.*", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
}

/* ---- the module ------------------------------------------------------------------- */

static void validation_names_key_and_reason(void **state)
{
    fixture *f = *state;
    struct {
        const char *key, *value, *expected;
        int16_t code;
    } cases[] = {
        {REGION_KEY_ROLE, "bogus",
         "strait.region.role: expected active, standby, fenced or promoting, got 'bogus'",
         KERR_INVALID_CONFIG},
        {REGION_KEY_EPOCH, "0", "strait.region.epoch: expected an integer between 1 and", KERR_INVALID_CONFIG},
        {REGION_KEY_EPOCH, "2147483648", "strait.region.epoch", KERR_INVALID_CONFIG},
        {REGION_KEY_TOPICS, "orders,(", "strait.redirect.topics: bad regex '('", KERR_INVALID_CONFIG},
        {REGION_KEY_TOPICS, "a,,b", "empty pattern", KERR_INVALID_CONFIG},
        {REGION_KEY_GROUPS, "[x", "strait.redirect.groups: bad regex", KERR_INVALID_CONFIG},
        {REGION_KEY_TOPICS_EXCLUDE, "local\\..*,(",
         "strait.redirect.topics.exclude: bad regex '('", KERR_INVALID_CONFIG},
        {REGION_KEY_TOPICS_EXCLUDE, "a,,b", "strait.redirect.topics.exclude: empty pattern",
         KERR_INVALID_CONFIG},
        {REGION_KEY_TOPICS_EXCLUDE, "a,", "strait.redirect.topics.exclude: empty pattern",
         KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "east1:9092", "expected id@host:port, got 'east1:9092'", KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "x@east1:9092", "item 'x@east1:9092'", KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "1@east1:0", "between 1 and 65535", KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "1@:9092", "bad host", KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "1@a:1,1@b:2", "broker id 1 is listed twice", KERR_INVALID_CONFIG},
        {REGION_KEY_BROKERS, "1@a:1,", "empty item", KERR_INVALID_CONFIG},
        {REGION_KEY_LEASE_MS, "-1", "strait.region.lease.ms: expected an integer between 0 and "
         "3600000, got '-1'", KERR_INVALID_CONFIG},
        {REGION_KEY_LEASE_MS, "3600001", "strait.region.lease.ms: expected an integer between",
         KERR_INVALID_CONFIG},
        {REGION_KEY_LEASE_MS, "soon", "strait.region.lease.ms: expected an integer", KERR_INVALID_CONFIG},
        {REGION_KEY_LEASE_MS, "1.5", "strait.region.lease.ms: expected an integer", KERR_INVALID_CONFIG},
        {REGION_KEY_LEASE_MS, "", "strait.region.lease.ms: expected an integer", KERR_INVALID_CONFIG},
        {REGION_KEY_ACTIVE, "east west", "strait.region.active", KERR_INVALID_CONFIG},
        {REGION_KEY_ACTIVE, "east\nx", "control character", KERR_INVALID_CONFIG},
        {"log.retention.ms", "1", "'log.retention.ms' cannot be changed dynamically", KERR_INVALID_REQUEST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const alter_configs_resource_response *r = set_keys(f, "101", false, cases[i].key,
                                                            cases[i].value, NULL);
        if (r->error_code != cases[i].code || !message_has(r, cases[i].expected))
            fail_msg("case %zu: code %d message '%.*s', expected %d '%s'", i, r->error_code,
                     r->error_message.len, r->error_message.ptr, cases[i].code, cases[i].expected);
    }
    /* more than LIMIT_REGION_PATTERNS excludes */
    char many[LIMIT_REGION_PATTERNS * 4 + 8] = "";
    for (int i = 0; i <= LIMIT_REGION_PATTERNS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sx%d", i ? "," : "", i);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_TOPICS_EXCLUDE, many, NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_true(message_has(r, "strait.redirect.topics.exclude: more than 64 patterns"));
    /* rules that need several keys */
    r = set_keys(f, "", false, REGION_KEY_ROLE, "active", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_true(message_has(r, "strait.region.role active needs strait.region.epoch"));
    r = set_keys(f, "", false, REGION_KEY_ROLE, "standby", REGION_KEY_EPOCH, "3", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_true(message_has(r, "strait.redirect.brokers must name the active region's brokers"));
    /* another node, a key twice, APPEND */
    r = set_keys(f, "1", false, REGION_KEY_EPOCH, "3", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_REQUEST);
    assert_true(message_has(r, "unexpected broker id '1': this is node 101"));
    r = set_keys(f, "", false, REGION_KEY_EPOCH, "3", REGION_KEY_EPOCH, "4", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_REQUEST);
    assert_true(message_has(r, "given more than once"));
    /* nothing of the above changed anything */
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_NONE);
    assert_int_equal(region_state_epoch(f->b.region), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

static void epoch_never_goes_back(void **state)
{
    fixture *f = *state;
    make_standby(f, "4");
    const alter_configs_resource_response *r =
        set_keys(f, "101", false, REGION_KEY_ROLE, "active", REGION_KEY_EPOCH, "3", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_true(message_has(r, "strait.region.epoch 3 is older than the stored epoch 4"));
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_STANDBY);
    assert_int_equal(region_state_epoch(f->b.region), 4);
    /* equal: idempotent re-apply */
    make_standby(f, "4");
    /* validate_only changes nothing */
    r = set_keys(f, "", true, REGION_KEY_ROLE, "fenced", REGION_KEY_EPOCH, "5", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_STANDBY);
    r = set_keys(f, "", false, REGION_KEY_ROLE, "fenced", REGION_KEY_EPOCH, "5", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_FENCED);
    assert_int_equal(region_state_epoch(f->b.region), 5);
    /* DELETE of one key keeps the others (incremental) */
    r = set_keys(f, "", false, REGION_KEY_GROUPS, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_false(region_state_group_matches(f->b.region, "app-1", 5));
    assert_true(region_state_topic_matches(f->b.region, "orders", 6));
}

static void persisted_and_reloaded(void **state)
{
    fixture *f = *state;
    make_standby(f, "7");
    region_state *again = NULL;
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_int_equal(region_state_role(again), REGION_ROLE_STANDBY);
    assert_int_equal(region_state_epoch(again), 7);
    assert_string_equal(region_state_active_region(again), "east");
    assert_int_equal(region_state_broker_count(again), 2);
    assert_string_equal(region_state_broker(again, 1)->host, "::1");
    assert_int_equal(region_state_broker(again, 1)->port, 9093);
    assert_true(region_state_topic_matches(again, "payments.eu", 11));
    region_state_close(again);

    /* the exclude list is persisted and read back too */
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_TOPICS_EXCLUDE, "payments\\.eu", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    char path[128], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    assert_int_equal(file_read_all(path, LIMIT_REGION_STATE_FILE_BYTES, &text, &len), 0);
    assert_non_null(strstr(text, "\nstrait.redirect.topics.exclude=payments\\.eu\n"));
    free(text);
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_false(region_state_topic_matches(again, "payments.eu", 11));
    assert_true(region_state_topic_matches(again, "payments.us", 11));
    assert_true(region_state_topic_matches(again, "orders", 6));
    region_state_close(again);
    /* ... and a bad one in the file makes it corrupt */
    const char bad_exclude[] = "strait.redirect.topics=.*\nstrait.redirect.topics.exclude=(\n";
    assert_int_equal(file_write_atomic(f->root, REGION_STATE_FILE_NAME, bad_exclude,
                                       sizeof bad_exclude - 1),
                     0);
    assert_int_equal(region_state_open(f->root, &again), ST_ECORRUPT);
    assert_null(again);

    /* corrupt files refuse to load */
    const char *bad[] = {
        "strait.region.role=standby\n",                       /* rule: no epoch */
        "strait.region.epoch=1\nstrait.region.epoch=2\n",      /* repeated */
        "strait.region.bogus=1\n",                             /* unknown key */
        "no equals sign\n",
        "strait.region.role=sideways\nstrait.region.epoch=1\n", /* bad value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(file_write_atomic(f->root, REGION_STATE_FILE_NAME, bad[i], strlen(bad[i])),
                         0);
        assert_int_equal(region_state_open(f->root, &again), ST_ECORRUPT);
        assert_null(again);
    }
    const char nul[] = "strait.region.epoch=1\0\n";
    assert_int_equal(file_write_atomic(f->root, REGION_STATE_FILE_NAME, nul, sizeof nul - 1), 0);
    assert_int_equal(region_state_open(f->root, &again), ST_ECORRUPT);
}

static void patterns_split_outside_groups(void **state)
{
    (void)state;
    region_state *rs = NULL;
    char dir[] = "/tmp/strait-region-pat-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(region_state_new(dir, &rs), 0);
    const char *keys[] = {REGION_KEY_TOPICS, REGION_KEY_GROUPS};
    const char *values[] = {"a{1,3}, b[,]c ,(x|y),z\\,w", ".*"};
    char err[256] = "";
    assert_int_equal(region_state_apply(rs, keys, values, NULL, 2, true, false, err, sizeof err), 0);
    assert_true(region_state_topic_matches(rs, "aaa", 3));
    assert_false(region_state_topic_matches(rs, "aaaa", 4)); /* anchored */
    assert_true(region_state_topic_matches(rs, "b,c", 3));
    assert_true(region_state_topic_matches(rs, "y", 1));
    assert_true(region_state_topic_matches(rs, "z,w", 3));
    assert_false(region_state_topic_matches(rs, "xorders", 7));
    assert_false(region_state_topic_matches(rs, "a\0", 2)); /* a NUL never matches */
    assert_true(region_state_group_matches(rs, "anything", 8));
    const char *all[] = {REGION_KEY_TOPICS};
    const char *any[] = {".*"};
    assert_int_equal(region_state_apply(rs, all, any, NULL, 1, false, false, err, sizeof err), 0);
    assert_true(region_state_topic_matches(rs, "_x", 2));
    assert_false(region_state_topic_matches(rs, "__consumer_offsets", 18)); /* internal */
    /* AlterConfigs semantics: replace drops what is not given */
    const char *k2[] = {REGION_KEY_GROUPS};
    const char *v2[] = {"g"};
    assert_int_equal(region_state_apply(rs, k2, v2, NULL, 1, true, false, err, sizeof err), 0);
    assert_false(region_state_topic_matches(rs, "aaa", 3));
    region_state_close(rs);
    char path[96];
    snprintf(path, sizeof path, "%s/%s", dir, REGION_STATE_FILE_NAME);
    remove(path);
    rmdir(dir);
}

/* strait.redirect.topics.exclude: an exclude wins over an include, both
 * anchored; internal topics never match; no include, nothing matches. */
static void topics_exclude_wins(void **state)
{
    (void)state;
    region_state *rs = NULL;
    char dir[] = "/tmp/strait-region-excl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(region_state_new(dir, &rs), 0);
    const char *keys[] = {REGION_KEY_TOPICS, REGION_KEY_TOPICS_EXCLUDE};
    const char *values[] = {".*", "local\\..*, a{1,3},orders"};
    char err[256] = "";
    assert_int_equal(region_state_apply(rs, keys, values, NULL, 2, true, false, err, sizeof err), 0);
    assert_false(region_state_topic_matches(rs, "local.metrics", 13));
    assert_true(region_state_topic_matches(rs, "xlocal.metrics", 14)); /* anchored */
    assert_true(region_state_topic_matches(rs, "local", 5));
    assert_false(region_state_topic_matches(rs, "orders", 6)); /* exclude wins */
    assert_true(region_state_topic_matches(rs, "orders2", 7));
    assert_false(region_state_topic_matches(rs, "aaa", 3)); /* "a{1,3}" is one pattern */
    assert_true(region_state_topic_matches(rs, "aaaa", 4));
    assert_true(region_state_topic_matches(rs, "payments", 8));
    assert_false(region_state_topic_matches(rs, "__consumer_offsets", 18)); /* internal */
    /* an empty exclude list excludes nothing */
    const char *empty[] = {".*", ""};
    assert_int_equal(region_state_apply(rs, keys, empty, NULL, 2, true, false, err, sizeof err), 0);
    assert_true(region_state_topic_matches(rs, "local.metrics", 13));
    assert_false(region_state_topic_matches(rs, "__consumer_offsets", 18));
    /* excludes alone redirect nothing */
    const char *only[] = {REGION_KEY_TOPICS_EXCLUDE};
    const char *local[] = {"local\\..*"};
    assert_int_equal(region_state_apply(rs, only, local, NULL, 1, true, false, err, sizeof err), 0);
    assert_false(region_state_topic_matches(rs, "orders", 6));
    assert_false(region_state_topic_matches(rs, "local.metrics", 13));
    /* a bad exclude changes nothing and names its key */
    assert_int_equal(region_state_apply(rs, keys, values, NULL, 2, true, false, err, sizeof err), 0);
    const char *bad[] = {"[x"};
    assert_int_equal(region_state_apply(rs, only, bad, NULL, 1, false, false, err, sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "strait.redirect.topics.exclude: bad regex '[x'"));
    assert_false(region_state_topic_matches(rs, "local.metrics", 13));
    assert_true(region_state_topic_matches(rs, "payments", 8));
    region_state_close(rs);
    char path[96];
    snprintf(path, sizeof path, "%s/%s", dir, REGION_STATE_FILE_NAME);
    remove(path);
    rmdir(dir);
}

static void group_broker_is_stable(void **state)
{
    fixture *f = *state;
    make_standby(f, "2");
    const region_broker *a = region_state_group_broker(f->b.region, "app-1", 5);
    const region_broker *b = region_state_group_broker(f->b.region, "app-1", 5);
    assert_ptr_equal(a, b);
    int seen[2] = {0, 0};
    for (int i = 0; i < 32; i++) {
        char name[16];
        int n = snprintf(name, sizeof name, "app-%d", i);
        seen[region_state_group_broker(f->b.region, name, (size_t)n)->node_id == 1 ? 0 : 1]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0); /* spread over the list */
    assert_true(region_client_is_sidecar("strait-sidecar-west", 19));
    assert_false(region_client_is_sidecar("strait-side", 11));
    assert_false(region_client_is_sidecar(NULL, -1));
}

/* ---- handlers -------------------------------------------------------------------- */

static metadata_response *metadata(fixture *f, const char *client_id, const char *topic_name)
{
    metadata_request_topic *topics = proto_arena_alloc(&f->arena, sizeof *topics);
    topics->name = proto_str_c(topic_name);
    metadata_request *rq = proto_arena_alloc(&f->arena, sizeof *rq);
    *rq = (metadata_request){.topics = {topics, 1}, .allow_auto_topic_creation = true};
    return call_as(f, client_id, &api_metadata, 8, rq);
}

static void metadata_redirects_on_standby(void **state)
{
    fixture *f = *state;
    create(f, "orders", 3);
    create(f, "local", 1);
    make_standby(f, "9");
    metadata_response *rs = metadata(f, "rdkafka", "orders");
    assert_int_equal(rs->brokers.count, 3); /* this node + the two redirect brokers */
    const metadata_response_broker *br = rs->brokers.items;
    assert_int_equal(br[0].node_id, 101);
    assert_int_equal(br[1].node_id, 1);
    assert_true(proto_str_eq(br[1].host, "east1"));
    assert_int_equal(br[2].port, 9093);
    const metadata_response_topic *t = rs->topics.items;
    assert_int_equal(t->error_code, KERR_NONE);
    const metadata_response_partition *p = t->partitions.items;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].leader_id, i % 2 == 0 ? 1 : 2);
        assert_int_equal(p[i].leader_epoch, 9);
        assert_int_equal(((proto_int32 *)p[i].replica_nodes.items)[0].value, p[i].leader_id);
    }
    /* a topic that does not match: local */
    rs = metadata(f, "rdkafka", "local");
    p = ((const metadata_response_topic *)rs->topics.items)->partitions.items;
    assert_int_equal(p[0].leader_id, 101);
    assert_int_equal(p[0].leader_epoch, 0);
    /* a topic that matches an include and an exclude: local and writable */
    create(f, "local.metrics", 1);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_TOPICS, ".*", REGION_KEY_TOPICS_EXCLUDE, "local\\..*",
                 NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    rs = metadata(f, "rdkafka", "local.metrics");
    p = ((const metadata_response_topic *)rs->topics.items)->partitions.items;
    assert_int_equal(p[0].leader_id, 101);
    assert_int_equal(p[0].leader_epoch, 0);
    broker_request plain = {.broker = &f->b, .client_id = proto_str_c("rdkafka")};
    assert_false(region_fences_produce(&plain, "local.metrics", 13));
    assert_false(region_redirects_topic(&plain, "local.metrics", 13));
    assert_true(region_fences_produce(&plain, "local", 5)); /* ".*" now */
    r = set_keys(f, "", false, REGION_KEY_TOPICS, "orders,payments\\..*",
                 REGION_KEY_TOPICS_EXCLUDE, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    /* the sidecar: local truth, only this broker */
    rs = metadata(f, "strait-sidecar-west", "orders");
    assert_int_equal(rs->brokers.count, 1);
    p = ((const metadata_response_topic *)rs->topics.items)->partitions.items;
    assert_int_equal(p[0].leader_id, 101);
    /* a redirected name that does not exist here is not auto-created */
    rs = metadata(f, "rdkafka", "payments.new");
    assert_int_equal(((const metadata_response_topic *)rs->topics.items)->error_code,
                     KERR_LEADER_NOT_AVAILABLE);
    assert_null(topic_registry_find(f->b.topics, "payments.new", 12));
    /* fenced: no redirect */
    r = set_keys(f, "", false, REGION_KEY_ROLE, "fenced", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    rs = metadata(f, "rdkafka", "orders");
    assert_int_equal(rs->brokers.count, 1);
    p = ((const metadata_response_topic *)rs->topics.items)->partitions.items;
    assert_int_equal(p[0].leader_id, 101);
}

static void groups_move_on_standby(void **state)
{
    fixture *f = *state;
    make_standby(f, "3");
    find_coordinator_request fc = {proto_str_c("app-orders"), 0};
    find_coordinator_response *c = call(f, &api_find_coordinator, 2, &fc);
    assert_int_equal(c->error_code, KERR_NONE);
    const region_broker *rb = region_state_group_broker(f->b.region, "app-orders", 10);
    assert_int_equal(c->node_id, rb->node_id);
    assert_true(proto_str_eq(c->host, rb->host));
    assert_int_equal(c->port, rb->port);

    join_group_request join = {.group_id = proto_str_c("app-orders"), .session_timeout_ms = 10000,
                               .member_id = proto_str_c(""), .protocol_type = proto_str_c("consumer")};
    join_group_response *j = call(f, &api_join_group, 5, &join);
    assert_int_equal(j->error_code, KERR_NOT_COORDINATOR);
    heartbeat_request hb = {.group_id = proto_str_c("app-orders"), .member_id = proto_str_c("m")};
    group_error_response *h = call(f, &api_heartbeat, 3, &hb);
    assert_int_equal(h->error_code, KERR_NOT_COORDINATOR);
    sync_group_request sync = {.group_id = proto_str_c("app-orders"), .member_id = proto_str_c("m")};
    sync_group_response *s = call(f, &api_sync_group, 3, &sync);
    assert_int_equal(s->error_code, KERR_NOT_COORDINATOR);
    leave_group_request leave = {.group_id = proto_str_c("app-orders"), .member_id = proto_str_c("m")};
    h = call(f, &api_leave_group, 1, &leave);
    assert_int_equal(h->error_code, KERR_NOT_COORDINATOR);

    proto_int32 parts[2] = {{0}, {1}};
    offset_fetch_topic ft = {proto_str_c("orders"), {parts, 2}};
    offset_fetch_request fetch = {proto_str_c("app-orders"), {&ft, 1}};
    offset_fetch_response *of = call(f, &api_offset_fetch, 1, &fetch); /* v1: per partition */
    const offset_fetch_topic_response *oft = of->topics.items;
    assert_int_equal(oft->partitions.count, 2);
    assert_int_equal(((offset_fetch_partition_response *)oft->partitions.items)[1].error_code,
                     KERR_NOT_COORDINATOR);
    of = call(f, &api_offset_fetch, 5, &(offset_fetch_request){proto_str_c("app-orders"), {NULL, -1}});
    assert_int_equal(of->error_code, KERR_NOT_COORDINATOR);

    offset_commit_partition cp = {.partition_index = 0, .committed_offset = 5,
                                  .committed_leader_epoch = -1,
                                  .committed_metadata = proto_str_c("")};
    offset_commit_topic ct = {proto_str_c("orders"), {&cp, 1}};
    offset_commit_request commit = {.group_id = proto_str_c("app-orders"), .generation_id = -1,
                                    .member_id = proto_str_c(""), .topics = {&ct, 1}};
    create(f, "orders", 1);
    offset_commit_response *oc = call(f, &api_offset_commit, 7, &commit);
    const offset_commit_topic_response *oct = oc->topics.items;
    assert_int_equal(((offset_commit_partition_response *)oct->partitions.items)[0].error_code,
                     KERR_NOT_COORDINATOR);
}

static void active_raises_leader_epochs(void **state)
{
    fixture *f = *state;
    topic *orders = create(f, "orders", 2);
    topic *local = create(f, "local", 1);
    assert_int_equal(plog_set_leader_epoch(orders->partitions[1].log, 12), 0);
    const alter_configs_resource_response *r =
        set_keys(f, "101", false, REGION_KEY_ROLE, "active", REGION_KEY_EPOCH, "8",
                 REGION_KEY_TOPICS, "orders|later", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(plog_leader_epoch(orders->partitions[0].log), 8);
    assert_int_equal(plog_leader_epoch(orders->partitions[1].log), 12); /* never lowered */
    assert_int_equal(plog_leader_epoch(local->partitions[0].log), 0);   /* not mirrored */
    /* a topic created later while active starts at the region epoch */
    topic *later = create(f, "later", 1);
    broker_topic_created(&f->b, later);
    assert_int_equal(plog_leader_epoch(later->partitions[0].log), 8);
    /* OffsetForLeaderEpoch-style lookup: epoch 0 ends where 8 began (offset 0 here) */
    int32_t found = -2;
    int64_t end = -2;
    plog_end_offset_for_epoch(orders->partitions[0].log, 8, &found, &end);
    assert_int_equal(found, 8);
    /* KIP-320 check of Fetch / ListOffsets / OffsetForLeaderEpoch agrees:
     * a client that saw epoch 8 (here or redirected by a standby) passes */
    assert_int_equal(data_leader_epoch_check(orders->partitions[0].log, 8), KERR_NONE);
    assert_int_equal(data_leader_epoch_check(orders->partitions[0].log, 7), KERR_FENCED_LEADER_EPOCH);
    assert_int_equal(data_leader_epoch_check(orders->partitions[0].log, 9), KERR_UNKNOWN_LEADER_EPOCH);
}

/* promoting (the region taking over): writes and groups held, epochs raised */
static void promoting_holds_groups(void **state)
{
    fixture *f = *state;
    topic *orders = create(f, "orders", 1);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "promoting", REGION_KEY_EPOCH, "4",
                 REGION_KEY_TOPICS, "orders", REGION_KEY_GROUPS, "app-.*", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(plog_leader_epoch(orders->partitions[0].log), 4);
    heartbeat_request hb = {.group_id = proto_str_c("app-1"), .member_id = proto_str_c("m")};
    group_error_response *h = call(f, &api_heartbeat, 3, &hb);
    assert_int_equal(h->error_code, KERR_COORDINATOR_LOAD_IN_PROGRESS);
    metadata_response *rs = metadata(f, "rdkafka", "orders"); /* no redirect */
    assert_int_equal(rs->brokers.count, 1);
    assert_int_equal(((const metadata_response_partition *)((const metadata_response_topic *)
                                                                rs->topics.items)->partitions.items)
                         ->leader_epoch,
                     4);
}

/* ---- the lease ------------------------------------------------------------------ */

static void make_active(fixture *f, const char *epoch, const char *lease_ms)
{
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "active", REGION_KEY_EPOCH, epoch,
                 REGION_KEY_LEASE_MS, lease_ms, REGION_KEY_ACTIVE, "west", REGION_KEY_TOPICS,
                 "orders", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void lease_bounds_accepted(void **state)
{
    fixture *f = *state;
    make_active(f, "1", "3600000");
    make_active(f, "1", "0");
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_ACTIVE);
}

/* A renewal is at a time r with before <= r <= after (clock_mono_ms around
 * the apply); the lease lapses once now - r > lease.ms. Checks only at times
 * whose answer does not depend on where r falls. */
static void lease_lapses_and_apply_renews(void **state)
{
    fixture *f = *state;
    const int64_t lease_ms = 10000;
    make_active(f, "3", "10000");
    int64_t after = clock_mono_ms();
    region_state *rs = f->b.region;
    assert_int_equal(region_state_effective_role_at(rs, after), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, after));
    assert_int_equal(region_state_effective_role_at(rs, after + lease_ms + 1), REGION_ROLE_FENCED);
    assert_true(region_state_lease_lapsed_at(rs, after + lease_ms + 1));
    /* the stored role is untouched: a lapsed lease is no change of state */
    assert_int_equal(region_state_role(rs), REGION_ROLE_ACTIVE);
    region_state_lease_check(rs, after + lease_ms + 1); /* logs the lapse; changes no answer */
    assert_int_equal(region_state_role(rs), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role_at(rs, after), REGION_ROLE_ACTIVE);

    /* an apply renews: the same state re-applied (the sidecar's renewal) */
    sleep_ms(3);
    int64_t before = clock_mono_ms(); /* >= first renewal + 3 */
    int64_t probe = before + lease_ms - 1;
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    make_active(f, "3", "10000");
    assert_int_equal(region_state_effective_role_at(rs, probe), REGION_ROLE_ACTIVE);
    /* so does an incremental change of another key */
    sleep_ms(3);
    before = clock_mono_ms();
    probe = before + lease_ms - 1;
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_GROUPS, "app-.*", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, probe), REGION_ROLE_ACTIVE);
    /* validate_only and refused changes do not renew */
    sleep_ms(3);
    before = clock_mono_ms();
    probe = before + lease_ms - 1;
    r = set_keys(f, "", true, REGION_KEY_EPOCH, "4", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    r = set_keys(f, "", false, REGION_KEY_EPOCH, "2", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    /* other roles are never changed by the lease */
    r = set_keys(f, "", false, REGION_KEY_ROLE, "promoting", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_PROMOTING);
    assert_true(region_state_lease_lapsed_at(rs, INT64_MAX / 2));
}

static void lease_zero_never_lapses(void **state)
{
    fixture *f = *state;
    make_active(f, "2", "0");
    region_state *rs = f->b.region;
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, INT64_MAX / 2));
    /* nor does a state without the key */
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_LEASE_MS, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    /* reopened without a lease: never lapsed, but fenced until confirmed */
    region_state *again = NULL;
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_false(region_state_lease_lapsed(again));
    assert_int_equal(region_state_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    assert_int_equal(region_state_effective_role_at(again, 0), REGION_ROLE_FENCED);
    const char *keys[] = {REGION_KEY_ROLE};
    const char *values[] = {"active"};
    const int8_t ops[] = {REGION_OP_SET};
    char err[256];
    assert_int_equal(region_state_apply(again, keys, values, ops, 1, false, true, err, sizeof err),
                     0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED); /* validate_only */
    assert_int_equal(region_state_apply(again, keys, values, ops, 1, false, false, err, sizeof err),
                     0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role_at(again, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    region_state_close(again);
}

/* A restarted broker must not take writes before its sidecar checked that
 * no other region was promoted meanwhile. */
static void reopened_lease_starts_lapsed(void **state)
{
    fixture *f = *state;
    make_active(f, "5", "3600000");
    assert_int_equal(region_state_effective_role(f->b.region), REGION_ROLE_ACTIVE);
    region_state *again = NULL;
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_int_equal(region_state_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_epoch(again), 5);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    assert_true(region_state_lease_lapsed(again));
    assert_int_equal(region_state_effective_role_at(again, 0), REGION_ROLE_FENCED);
    /* validate_only is no renewal */
    char err[256];
    const char *keys[] = {REGION_KEY_EPOCH};
    const char *values[] = {"5"};
    assert_int_equal(region_state_apply(again, keys, values, NULL, 1, false, true, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    /* an apply that changes nothing is one */
    assert_int_equal(region_state_apply(again, keys, values, NULL, 1, false, false, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed(again));
    region_state_close(again);
}

static char *read_state_file(fixture *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(file_read_all(path, LIMIT_REGION_STATE_FILE_BYTES, &text, &len), 0);
    return text;
}

/* The sidecar renews every few hundred ms: no fsync for that. The file is
 * replaced by the same state plus a marker comment; a renewal leaves the
 * marker, a real change rewrites the file. */
static void unchanged_apply_keeps_the_file(void **state)
{
    fixture *f = *state;
    make_active(f, "6", "1500");
    char *text = read_state_file(f);
    assert_non_null(strstr(text, "strait.region.lease.ms=1500\n"));
    char marked[LIMIT_REGION_STATE_FILE_BYTES];
    int n = snprintf(marked, sizeof marked, "%s# marker\n", text);
    free(text);
    assert_int_equal(file_write_atomic(f->root, REGION_STATE_FILE_NAME, marked, (size_t)n), 0);

    make_active(f, "6", "1500"); /* IncrementalAlterConfigs, same values */
    const char *keys[] = {REGION_KEY_ROLE,   REGION_KEY_EPOCH,  REGION_KEY_LEASE_MS,
                          REGION_KEY_ACTIVE, REGION_KEY_TOPICS};
    const char *values[] = {"active", "6", "1500", "west", "orders"};
    char err[256];
    assert_int_equal(region_state_apply(f->b.region, keys, values, NULL, 5, true, false, err,
                                        sizeof err),
                     0); /* AlterConfigs (replace), the same set */
    assert_int_equal(region_state_apply(f->b.region, NULL, NULL, NULL, 0, false, false, err,
                                        sizeof err),
                     0); /* an empty incremental change */
    text = read_state_file(f);
    assert_string_equal(text, marked);
    free(text);

    /* a real change is persisted */
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_EPOCH, "7", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    text = read_state_file(f);
    assert_null(strstr(text, "# marker"));
    assert_non_null(strstr(text, "strait.region.epoch=7\n"));
    free(text);
    /* so is the removal of a key: the same others, one fewer */
    r = set_keys(f, "", false, REGION_KEY_LEASE_MS, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    text = read_state_file(f);
    assert_null(strstr(text, "lease"));
    free(text);
}

/* Produce from a plain client is refused once the lease lapsed, as on a
 * fenced region; the sidecar still writes; metadata stays local. */
static void lapsed_lease_fences_produce(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    make_active(f, "4", "50");
    broker_request plain = {.broker = &f->b, .client_id = proto_str_c("rdkafka")};
    broker_request sidecar = {.broker = &f->b, .client_id = proto_str_c("strait-sidecar-west")};
    int64_t deadline = clock_mono_ms() + 10000;
    while (!region_state_lease_lapsed(f->b.region) && clock_mono_ms() < deadline)
        sleep_ms(10);
    assert_true(region_state_lease_lapsed(f->b.region));
    assert_int_equal(region_request_role(&plain), REGION_ROLE_FENCED);
    assert_true(region_fences_produce(&plain, "orders", 6));
    assert_false(region_fences_produce(&plain, "local", 5));
    assert_false(region_fences_produce(&sidecar, "orders", 6));
    assert_false(region_redirects_topic(&plain, "orders", 6));
    assert_int_equal(region_group_error(&plain, "app-1", 5), 0);
    /* the leader epochs stay raised: the region still owns the topic */
    assert_int_equal(plog_leader_epoch(topic_registry_find(f->b.topics, "orders", 6)
                                           ->partitions[0].log),
                     4);
}

/* One Produce v8 (acks=all) of a single batch to orders[0] as a plain
 * client: producer_id -1 for a plain batch. Returns the request. */
static broker_request *produce_one(fixture *f, int64_t producer_id, int32_t sequence,
                                   int16_t *error_code)
{
    static const uint8_t value[] = "seq-1124";
    batch_record rec = {.key_len = -1, .value = value, .value_len = (int32_t)sizeof value - 1};
    batch_build_params params;
    batch_build_params_default(&params);
    params.producer_id = producer_id;
    params.producer_epoch = producer_id >= 0 ? 0 : -1;
    params.base_sequence = producer_id >= 0 ? sequence : -1;
    buf batch;
    buf_init(&batch, 1 << 16);
    assert_int_equal(batch_build(&batch, &params, &rec, 1), 0);
    uint8_t *copy = proto_arena_alloc(&f->arena, batch.len);
    memcpy(copy, batch.data, batch.len);
    produce_partition_data *pd = proto_arena_alloc(&f->arena, sizeof *pd);
    pd->records = (proto_records){.ptr = copy, .len = (int32_t)batch.len, .fd = -1};
    buf_free(&batch);
    produce_topic_data *td = proto_arena_alloc(&f->arena, sizeof *td);
    td->name = proto_str_c("orders");
    td->partitions = (proto_array){.items = pd, .count = 1};
    produce_request *in = proto_arena_alloc(&f->arena, sizeof *in);
    *in = (produce_request){.transactional_id = proto_str_null(), .acks = 1, .timeout_ms = 1000,
                            .topics = {.items = td, .count = 1}};
    produce_response *out = call(f, &api_produce, 8, in);
    *error_code = ((produce_partition_response *)((produce_topic_response *)out->responses.items)
                       ->partitions.items)
                      ->error_code;
    return f->calls[f->call_count - 1];
}

/* The promotion race of test_failover_secure: an idempotent producer
 * pipelines R1 (sequence 395) and R2 (396) to a promoting region; R1 is
 * refused, the region turns active, and R2 would be the first batch it sees
 * of a producer whose state stayed in the old region: accepted at 396
 * (KIP-360), after which librdkafka counts R1 as delivered. The refusal of
 * an idempotent batch must close the connection so R2 is never read. */
static void refused_idempotent_produce_closes(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "promoting", REGION_KEY_EPOCH, "4",
                 REGION_KEY_TOPICS, "orders", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    int16_t code;
    broker_request *r1 = produce_one(f, 433791696897LL, 395, &code);
    assert_int_equal(code, KERR_NOT_LEADER_OR_FOLLOWER);
    assert_true(r1->close_after_response);
    broker_request *plain = produce_one(f, -1, -1, &code); /* no sequence to keep in order */
    assert_int_equal(code, KERR_NOT_LEADER_OR_FOLLOWER);
    assert_false(plain->close_after_response);
    make_active(f, "5", "0");
    broker_request *retried = produce_one(f, 433791696897LL, 395, &code); /* R1 again, first */
    assert_int_equal(code, KERR_NONE);
    assert_false(retried->close_after_response);
}

static void describe_lists_region_keys(void **state)
{
    fixture *f = *state;
    make_standby(f, "6");
    assert_int_equal(set_keys(f, "", false, REGION_KEY_TOPICS_EXCLUDE, "local\\..*", NULL)->error_code,
                     KERR_NONE);
    for (int by_id = 0; by_id < 2; by_id++) {
        describe_configs_resource res = {ADMIN_RESOURCE_BROKER, proto_str_c(by_id ? "101" : ""),
                                         {NULL, -1}};
        describe_configs_request rq = {{&res, 1}, false, false};
        describe_configs_response *rs = call(f, &api_describe_configs, 1, &rq);
        const describe_configs_result *out = rs->results.items;
        assert_int_equal(out->error_code, KERR_NONE);
        int found = 0;
        for (int32_t i = 0; i < out->configs.count; i++) {
            const describe_configs_entry *e = (const describe_configs_entry *)out->configs.items + i;
            if (proto_str_eq(e->name, REGION_KEY_EPOCH)) {
                assert_true(proto_str_eq(e->value, "6"));
                assert_false(e->read_only);
                assert_int_equal(e->config_source, by_id ? ADMIN_CONFIG_SOURCE_DYNAMIC_BROKER
                                                         : ADMIN_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER);
                found++;
            }
            if (proto_str_eq(e->name, REGION_KEY_ROLE) && proto_str_eq(e->value, "standby"))
                found++;
            /* in the order of the key table: topics, topics.exclude, groups */
            if (proto_str_eq(e->name, REGION_KEY_TOPICS_EXCLUDE)) {
                assert_true(proto_str_eq(e->value, "local\\..*"));
                assert_true(i > 0 && proto_str_eq(e[-1].name, REGION_KEY_TOPICS));
                assert_true(i + 1 < out->configs.count && proto_str_eq(e[1].name, REGION_KEY_GROUPS));
                found++;
            }
        }
        assert_int_equal(found, 3);
    }
}


/* ---- the lease anchor (strait.region.lease.anchor.ms) ------------------------- */

/* Applies the active state with lease_ms and, unless anchor_ms is 0, that
 * anchor: region_state_apply's answer (err filled). */
static int apply_anchored(region_state *rs, int64_t lease_ms, int64_t anchor_ms, bool validate_only,
                          char *err, size_t errlen)
{
    char lease[32], anchor[32];
    snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
    snprintf(anchor, sizeof anchor, "%lld", (long long)anchor_ms);
    const char *keys[] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_ACTIVE, REGION_KEY_TOPICS,
                          REGION_KEY_LEASE_MS, REGION_KEY_LEASE_ANCHOR_MS};
    const char *values[] = {"active", "3", "west", "orders", lease, anchor};
    err[0] = '\0';
    return region_state_apply(rs, keys, values, NULL, anchor_ms ? 6 : 5, true, validate_only, err,
                              errlen);
}

/* The lease runs from the anchor, a time the broker read before the sender
 * decided to renew, not from when the renewal arrives: a renewal that took
 * `delay` ms to arrive leaves delay ms less of lease, never more. */
static void lease_runs_from_the_anchor(void **state)
{
    fixture *f = *state;
    region_state *rs = f->b.region;
    char err[512];
    const int64_t lease_ms = 10000;
    int64_t anchor = clock_mono_ms(); /* the broker's clock.ms, as the sidecar read it */
    sleep_ms(40);                     /* the renewal is delayed in flight */
    int64_t arrived = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, lease_ms, anchor, false, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role_at(rs, anchor + lease_ms), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, anchor + lease_ms));
    /* measured from the arrival it would still hold here: it must not */
    assert_true(anchor + lease_ms + 1 < arrived + lease_ms);
    assert_true(region_state_lease_lapsed_at(rs, anchor + lease_ms + 1));
    assert_int_equal(region_state_effective_role_at(rs, anchor + lease_ms + 1), REGION_ROLE_FENCED);

    /* a renewal delayed for longer than the lease renews nothing, but a
     * change it carries applies (a demotion is never refused for its age),
     * and it confirms nothing beyond what it says */
    region_state *late = NULL;
    char dir[] = "/tmp/strait-region-anchor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(region_state_new(dir, &late), 0);
    int64_t old_anchor = clock_mono_ms();
    sleep_ms(60);
    assert_int_equal(apply_anchored(late, 300, old_anchor, false, err, sizeof err), 0);
    assert_int_equal(region_state_role(late), REGION_ROLE_ACTIVE);
    int64_t now = clock_mono_ms();
    if (now - old_anchor > 300) /* always, unless the machine stalled for the whole test */
        assert_true(region_state_lease_lapsed_at(late, now));
    assert_true(region_state_lease_lapsed_at(late, old_anchor + 301));
    region_state_close(late);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Changes are refused with an anchor this broker cannot have reported (from
 * the future, from before it started) or older than the anchor of a change
 * already applied: a delayed renewal of `active` never overtakes a later
 * `fenced` at the same epoch. */
static void anchor_order_and_range(void **state)
{
    fixture *f = *state;
    region_state *rs = f->b.region;
    char err[512];
    int64_t first = clock_mono_ms();
    sleep_ms(5);
    int64_t second = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* the same anchor again: accepted (one read can carry one change) */
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* an older anchor: a change decided before the one applied */
    assert_int_equal(apply_anchored(rs, 10000, first, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "older than the anchor of the last change applied"));
    assert_false(region_state_lease_lapsed_at(rs, second + 10000));
    assert_true(region_state_lease_lapsed_at(rs, second + 10001));
    /* from the future */
    int64_t ahead = clock_mono_ms() + 3600000;
    assert_int_equal(apply_anchored(rs, 10000, ahead, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "ahead of this broker's clock"));
    /* from before this broker (state) was opened */
    assert_int_equal(apply_anchored(rs, 10000, 1, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "before this broker started"));
    /* validate_only checks the anchor and moves nothing */
    sleep_ms(5);
    int64_t third = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, 10000, third, true, err, sizeof err), 0);
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* malformed anchors name the key */
    const char *bad[] = {"0", "-5", "soon", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *keys[] = {REGION_KEY_EPOCH, REGION_KEY_LEASE_ANCHOR_MS};
        const char *values[] = {"3", bad[i]};
        assert_int_equal(region_state_apply(rs, keys, values, NULL, 2, false, false, err,
                                            sizeof err),
                         ST_ECONFIG);
        assert_non_null(strstr(err, REGION_KEY_LEASE_ANCHOR_MS));
    }
    const char *keys[] = {REGION_KEY_LEASE_ANCHOR_MS};
    const char *values[] = {"5"};
    const int8_t del[] = {REGION_OP_DELETE};
    assert_int_equal(region_state_apply(rs, keys, values, del, 1, false, false, err, sizeof err),
                     ST_EINVAL);
    /* the anchor is not state: neither stored nor listed; the clock is listed */
    char path[256], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    assert_int_equal(file_read_all(path, 1 << 16, &text, &len), 0);
    assert_null(strstr(text, "anchor"));
    assert_null(strstr(text, "clock"));
    free(text);
}

static void count_key(void *arg, const char *key, const char *value)
{
    int *found = arg;
    (void)value;
    if (!strcmp(key, REGION_KEY_LEASE_ANCHOR_MS))
        found[0]++;
    if (!strcmp(key, REGION_KEY_CLOCK_MS) && atoll(value) > 0)
        found[1]++;
}

static void clock_is_described(void **state)
{
    fixture *f = *state;
    char err[512];
    assert_int_equal(apply_anchored(f->b.region, 10000, clock_mono_ms(), false, err, sizeof err),
                     0);
    int found[2] = {0, 0};
    region_state_describe(f->b.region, count_key, found);
    assert_int_equal(found[0], 0);
    assert_int_equal(found[1], 1);
    /* the state itself never lists it (it is not state) */
    found[0] = found[1] = 0;
    region_state_each(f->b.region, count_key, found);
    assert_int_equal(found[0] + found[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(validation_names_key_and_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(epoch_never_goes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(persisted_and_reloaded, setup, teardown),
        cmocka_unit_test(patterns_split_outside_groups),
        cmocka_unit_test(topics_exclude_wins),
        cmocka_unit_test_setup_teardown(group_broker_is_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_redirects_on_standby, setup, teardown),
        cmocka_unit_test_setup_teardown(groups_move_on_standby, setup, teardown),
        cmocka_unit_test_setup_teardown(active_raises_leader_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(promoting_holds_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(describe_lists_region_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_bounds_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_lapses_and_apply_renews, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_zero_never_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(reopened_lease_starts_lapsed, setup, teardown),
        cmocka_unit_test_setup_teardown(unchanged_apply_keeps_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(lapsed_lease_fences_produce, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_runs_from_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(anchor_order_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(clock_is_described, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_idempotent_produce_closes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
