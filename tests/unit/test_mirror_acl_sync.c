/*
 * test_mirror_acl_sync.c - the ACL sync's rules (mirror/acl_sync_rules.c):
 * what an identity and a prefix flow copy and what each binding becomes,
 * the bindings never copied (sidecar principals, cluster, "*", topics and
 * groups the flow does not cover); the sidecars' principals taken from the
 * region-link security; the sync_acls flow key; and the sync's record in
 * the sidecar's SQLite file (checkpoints/acl_record.c); and when a cycle may
 * change the target at all (the authority: the active region).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "checkpoints/acl_record.h"
#include "common/error.h"
#include "mirror/acl_sync.h"
#include "mirror/acl_sync_rules.h"
#include "topology/topology.h"

static char temp_dir[64];
static char password_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(temp_dir, sizeof temp_dir, "/tmp/strait-test-aclsync-XXXXXX");
    assert_non_null(mkdtemp(temp_dir));
    snprintf(password_path, sizeof password_path, "%s/pw", temp_dir);
    FILE *f = fopen(password_path, "w");
    assert_non_null(f);
    fputs("secret\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", temp_dir);
    assert_int_equal(system(command), 0);
    return 0;
}

static topology *load(const char *flows_yaml, char *err, size_t errlen, int *rc)
{
    char path[128], text[4096];
    snprintf(path, sizeof path, "%s/topology.yaml", temp_dir);
    snprintf(text, sizeof text,
             "regions:\n"
             "  east:\n"
             "    bootstrap: 127.0.0.1:9092\n"
             "    sidecar: 127.0.0.1:8701\n"
             "    security: {protocol: SASL_PLAINTEXT, sasl_mechanism: SCRAM-SHA-512, "
             "username: link-east, password_file: %s}\n"
             "  west: {bootstrap: 127.0.0.1:9192, sidecar: 127.0.0.1:8702}\n"
             "%s",
             password_path, flows_yaml);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    topology *t = calloc(1, sizeof *t);
    assert_non_null(t);
    *rc = topology_load(path, t, err, errlen);
    return t;
}

static acl_record_binding binding(int type, const char *name, int pattern, const char *principal,
                                  int operation, int permission)
{
    acl_record_binding b;
    memset(&b, 0, sizeof b);
    b.resource_type = type;
    snprintf(b.resource_name, sizeof b.resource_name, "%s", name);
    b.pattern_type = pattern;
    snprintf(b.principal, sizeof b.principal, "%s", principal);
    snprintf(b.host, sizeof b.host, "*");
    b.operation = operation;
    b.permission = permission;
    return b;
}

#define TOPIC RD_KAFKA_RESOURCE_TOPIC
#define GROUP RD_KAFKA_RESOURCE_GROUP
#define LITERAL RD_KAFKA_RESOURCE_PATTERN_LITERAL
#define PREFIXED RD_KAFKA_RESOURCE_PATTERN_PREFIXED
#define ALLOW RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW
#define DENY RD_KAFKA_ACL_PERMISSION_TYPE_DENY

static const char *const mirrored[] = {"orders", "orders-eu"};

static bool copy(const topology *t, const acl_sync_principals *excluded, acl_record_binding in,
                 acl_record_binding *out)
{
    return acl_sync_translate(t, &t->flows[0], mirrored, 2, excluded, &in, out);
}

static void test_identity_flow(void **state)
{
    (void)state;
    char err[512];
    int rc;
    topology *t = load("flows:\n  - {source: east, target: west, topics: [\"orders.*\"], "
                       "groups: [\"billing-.*\"]}\n",
                       err, sizeof err, &rc);
    assert_int_equal(rc, 0);
    assert_true(t->flows[0].sync_acls); /* the default */
    acl_sync_principals sidecars;
    acl_sync_sidecar_principals(t, &sidecars);
    assert_int_equal(sidecars.count, 1);
    assert_string_equal(sidecars.names[0], "User:link-east");
    acl_record_binding out;
    /* as they are: WRITE and DENY included */
    acl_record_binding in = binding(TOPIC, "orders", LITERAL, "User:alice",
                                    RD_KAFKA_ACL_OPERATION_WRITE, ALLOW);
    assert_true(copy(t, &sidecars, in, &out));
    assert_true(acl_record_equal(&in, &out));
    in = binding(TOPIC, "orders", LITERAL, "User:bob", RD_KAFKA_ACL_OPERATION_READ, DENY);
    assert_true(copy(t, &sidecars, in, &out));
    assert_true(acl_record_equal(&in, &out));
    /* prefixed: copied when a mirrored topic starts with it */
    in = binding(TOPIC, "ord", PREFIXED, "User:bob", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_true(copy(t, &sidecars, in, &out));
    assert_string_equal(out.resource_name, "ord");
    in = binding(TOPIC, "pay", PREFIXED, "User:bob", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    /* never: a topic the flow does not select, "*", internal topics, the
     * cluster, a sidecar's principal, a group the flow does not checkpoint */
    in = binding(TOPIC, "payments", LITERAL, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    in = binding(TOPIC, "*", LITERAL, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    in = binding(TOPIC, "__consumer_offsets", LITERAL, "User:alice",
                 RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    in = binding(RD_KAFKA_RESOURCE_BROKER, "kafka-cluster", LITERAL, "User:alice",
                 RD_KAFKA_ACL_OPERATION_DESCRIBE, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    in = binding(TOPIC, "orders", LITERAL, "User:link-east", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    in = binding(GROUP, "billing-eu", LITERAL, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_true(copy(t, &sidecars, in, &out));
    assert_true(acl_record_equal(&in, &out));
    in = binding(GROUP, "billing-", PREFIXED, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_true(copy(t, &sidecars, in, &out));
    char text[256];
    acl_sync_binding_text(&out, text, sizeof text);
    assert_string_equal(text, "GROUP PREFIXED billing- User:alice host=* READ ALLOW");
    in = binding(GROUP, "audit", LITERAL, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_false(copy(t, &sidecars, in, &out));
    free(t);
}

static void test_prefix_flow(void **state)
{
    (void)state;
    char err[512];
    int rc;
    topology *t = load("flows:\n  - {source: east, target: west, topics: [\"orders.*\"], "
                       "naming: prefix, sync_acls: true}\n",
                       err, sizeof err, &rc);
    assert_int_equal(rc, 0);
    acl_record_binding out;
    /* WRITE dropped, READ / DESCRIBE / DESCRIBE_CONFIGS kept, ALL becomes READ */
    acl_record_binding in = binding(TOPIC, "orders", LITERAL, "User:alice",
                                    RD_KAFKA_ACL_OPERATION_WRITE, ALLOW);
    assert_false(copy(t, NULL, in, &out));
    in.operation = RD_KAFKA_ACL_OPERATION_ALTER;
    assert_false(copy(t, NULL, in, &out));
    in.operation = RD_KAFKA_ACL_OPERATION_READ;
    assert_true(copy(t, NULL, in, &out));
    assert_string_equal(out.resource_name, "east.orders");
    assert_int_equal(out.operation, RD_KAFKA_ACL_OPERATION_READ);
    in.operation = RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS;
    assert_true(copy(t, NULL, in, &out));
    in.operation = RD_KAFKA_ACL_OPERATION_ALL;
    assert_true(copy(t, NULL, in, &out));
    assert_int_equal(out.operation, RD_KAFKA_ACL_OPERATION_READ);
    /* a DENY only takes away: copied as it is, WRITE included */
    in = binding(TOPIC, "ord", PREFIXED, "User:bob", RD_KAFKA_ACL_OPERATION_WRITE, DENY);
    assert_true(copy(t, NULL, in, &out));
    assert_string_equal(out.resource_name, "east.ord");
    assert_int_equal(out.pattern_type, PREFIXED);
    assert_int_equal(out.operation, RD_KAFKA_ACL_OPERATION_WRITE);
    /* groups keep their names */
    in = binding(GROUP, "g1", LITERAL, "User:alice", RD_KAFKA_ACL_OPERATION_READ, ALLOW);
    assert_true(copy(t, NULL, in, &out));
    assert_string_equal(out.resource_name, "g1");
    free(t);
}

static void test_sync_acls_key(void **state)
{
    (void)state;
    char err[512];
    int rc;
    topology *t = load("flows:\n  - {source: east, target: west, topics: [a], sync_acls: false}\n",
                       err, sizeof err, &rc);
    assert_int_equal(rc, 0);
    assert_false(t->flows[0].sync_acls);
    free(t);
    t = load("flows:\n  - {source: east, target: west, topics: [a], sync_acls: maybe}\n", err,
             sizeof err, &rc);
    assert_int_equal(rc, ST_ECONFIG);
    assert_non_null(strstr(err, ":8: flows[0].sync_acls: expected true or false, got 'maybe'"));
    free(t);
}

static void test_record(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/west.sqlite", temp_dir);
    acl_record_store *s = NULL;
    assert_int_equal(acl_record_open(path, &s), 0);
    acl_record_binding a = binding(TOPIC, "orders", LITERAL, "User:alice",
                                   RD_KAFKA_ACL_OPERATION_WRITE, ALLOW);
    acl_record_binding b = binding(GROUP, "g", PREFIXED, "User:bob", RD_KAFKA_ACL_OPERATION_READ,
                                   DENY);
    assert_int_equal(acl_record_add(s, "east->west", &a), 0);
    assert_int_equal(acl_record_add(s, "east->west", &a), 0); /* idempotent */
    assert_int_equal(acl_record_add(s, "east->west", &b), 0);
    assert_int_equal(acl_record_add(s, "north->west", &b), 0);
    acl_record_close(s);
    /* durable, per flow */
    assert_int_equal(acl_record_open(path, &s), 0);
    acl_record_binding *rows = NULL;
    size_t count = 0;
    assert_int_equal(acl_record_list(s, "east->west", &rows, &count), 0);
    assert_int_equal(count, 2);
    assert_true((acl_record_equal(&rows[0], &a) && acl_record_equal(&rows[1], &b)) ||
                (acl_record_equal(&rows[0], &b) && acl_record_equal(&rows[1], &a)));
    free(rows);
    assert_int_equal(acl_record_remove(s, "east->west", &a), 0);
    assert_int_equal(acl_record_remove(s, "east->west", &a), 0);
    assert_int_equal(acl_record_list(s, "east->west", &rows, &count), 0);
    assert_int_equal(count, 1);
    assert_true(acl_record_equal(&rows[0], &b));
    free(rows);
    assert_int_equal(acl_record_list(s, "south->west", &rows, &count), 0);
    assert_int_equal(count, 0);
    assert_null(rows);
    acl_record_close(s);
}

/* The cycle's state before any region is asked: the sync changes a target
 * only while its source is the authority (no client handle is touched
 * otherwise, so NULL handles are safe here). */
static void run_state(const topology *t, int flow, int active, char *state, char *reason)
{
    char path[128];
    snprintf(path, sizeof path, "%s/authority.sqlite", temp_dir);
    mirror_acl_sync *s = NULL;
    assert_int_equal(mirror_acl_sync_open(t, &t->flows[flow], "east->west", path, &s), 0);
    if (active >= 0)
        mirror_acl_sync_set_source_active(s, active == 1);
    mirror_acl_sync_run(s, NULL, NULL, NULL, 0, 1000);
    mirror_acl_sync_status st;
    mirror_acl_sync_status_get(s, &st);
    strcpy(state, st.state);
    strcpy(reason, st.reason);
    mirror_acl_sync_close(s);
}

static void test_authority(void **state)
{
    (void)state;
    char err[512], st[16], reason[400];
    int rc;
    /* flows both ways and no failover section: nobody is the authority */
    topology *t = load("flows:\n  - {source: east, target: west, topics: [a]}\n"
                       "  - {source: west, target: east, topics: [a]}\n",
                       err, sizeof err, &rc);
    assert_int_equal(rc, 0);
    run_state(t, 0, -1, st, reason);
    assert_string_equal(st, "paused");
    assert_non_null(strstr(reason, "flows run both ways between east and west"));
    free(t);
    /* the same with a failover section: the active region is */
    t = load("flows:\n  - {source: east, target: west, topics: [a]}\n"
             "  - {source: west, target: east, topics: [a]}\n"
             "failover: {mode: manual, active: east}\n",
             err, sizeof err, &rc);
    assert_int_equal(rc, 0);
    run_state(t, 0, -1, st, reason);
    assert_string_equal(st, "paused");
    assert_string_equal(reason, "waiting for the failover state");
    run_state(t, 0, 0, st, reason);
    assert_string_equal(st, "paused");
    assert_non_null(strstr(reason, "source region east is not the active region"));
    free(t);
    /* sync_acls: false */
    t = load("flows:\n  - {source: east, target: west, topics: [a], sync_acls: false}\n", err,
             sizeof err, &rc);
    assert_int_equal(rc, 0);
    run_state(t, 0, 1, st, reason);
    assert_string_equal(st, "off");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_flow),
        cmocka_unit_test(test_prefix_flow),
        cmocka_unit_test(test_sync_acls_key),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_authority),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
