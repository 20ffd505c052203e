/*
 * test_region_state.c - the broker's failover state (broker/cluster/
 * region_state.h): validation of a change as a whole, the epoch rule,
 * persistence and corrupt files, topic/group matching and pattern splitting,
 * strait.redirect.topics.exclude (an exclude wins);
 * and the handlers that apply it (region_redirect.h): AlterConfigs /
 * IncrementalAlterConfigs and DescribeConfigs on the broker resource,
 * Metadata redirect with the region epoch, FindCoordinator and the group
 * APIs on a standby, leader epochs raised when active. The lease on the
 * active role is test_region_lease.c.
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

#include "region_state_fixture.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
