/*
 * test_acl.c - ACLs as Kafka decides them (security/acl.h): what a binding
 * may be, the decision for one request (super users, literal, wildcard and
 * prefixed patterns, DENY over ALLOW, implied DESCRIBE and DESCRIBE_CONFIGS,
 * no ACL found), the filters of DescribeAcls / DeleteAcls (ANY, MATCH,
 * exact pattern types), the names kafka-acls uses, and the file the store
 * persists to (round trip, and every corrupt form refused with the store
 * unchanged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "security/acl.h"
#include "security/acl_file.h"

static acl_binding binding(int8_t type, const char *name, int8_t pattern, const char *principal,
                           int8_t op, int8_t permission)
{
    acl_binding b;
    memset(&b, 0, sizeof b);
    b.resource_type = type;
    b.pattern_type = pattern;
    b.operation = op;
    b.permission = permission;
    snprintf(b.resource_name, sizeof b.resource_name, "%s", name);
    snprintf(b.principal, sizeof b.principal, "%s", principal);
    snprintf(b.host, sizeof b.host, "*");
    return b;
}

static void add(acl_store *s, acl_binding b)
{
    char why[256] = "";
    int rc = acl_store_add(s, &b, why, sizeof why);
    if (rc != 0)
        fail_msg("add failed: %s", why);
}

static bool allowed(const acl_store *s, const char *principal, int8_t op, int8_t type,
                    const char *name)
{
    acl_authorizer_config config = {"User:admin;User:CN=sidecar-east", false};
    return acl_authorize(s, &config, principal, "10.0.0.1", op, type, name).allowed;
}

static void test_binding_check(void **state)
{
    (void)state;
    char why[256];
    acl_binding ok = binding(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice",
                             ACL_OP_WRITE, ACL_PERMISSION_ALLOW);
    assert_int_equal(acl_binding_check(&ok, why, sizeof why), 0);

    acl_binding b = ok;
    b.resource_type = ACL_RESOURCE_ANY;
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "resource type ANY"));
    b = ok;
    b.pattern_type = ACL_PATTERN_MATCH;
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "MATCH"));
    b = ok;
    b.operation = ACL_OP_ANY;
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    b = ok;
    b.operation = 15;
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    b = ok;
    b.permission = ACL_PERMISSION_ANY;
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    b = ok;
    b.resource_name[0] = '\0';
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    b = ok;
    snprintf(b.principal, sizeof b.principal, "alice");
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "User:alice"));
    b = ok;
    b.host[0] = '\0';
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    b = binding(ACL_RESOURCE_CLUSTER, "mycluster", ACL_PATTERN_LITERAL, "User:alice",
                ACL_OP_ALTER, ACL_PERMISSION_ALLOW);
    assert_int_equal(acl_binding_check(&b, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "kafka-cluster"));
    snprintf(b.resource_name, sizeof b.resource_name, "kafka-cluster");
    assert_int_equal(acl_binding_check(&b, why, sizeof why), 0);

    /* a refused binding changes nothing; a duplicate is accepted once */
    acl_store *s = acl_store_new();
    b = ok;
    b.permission = 0;
    assert_int_equal(acl_store_add(s, &b, why, sizeof why), ST_EINVAL);
    assert_int_equal(acl_store_count(s), 0);
    add(s, ok);
    add(s, ok);
    assert_int_equal(acl_store_count(s), 1);
    acl_store_free(s);
}

static void test_literal_prefixed_and_wildcard(void **state)
{
    (void)state;
    acl_store *s = acl_store_new();
    add(s, binding(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_WRITE,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_TOPIC, "pay.", ACL_PATTERN_PREFIXED, "User:bob", ACL_OP_READ,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_GROUP, "*", ACL_PATTERN_LITERAL, "User:bob", ACL_OP_READ,
                   ACL_PERMISSION_ALLOW));

    assert_true(allowed(s, "User:alice", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "orders"));
    assert_false(allowed(s, "User:alice", ACL_OP_READ, ACL_RESOURCE_TOPIC, "orders"));
    assert_false(allowed(s, "User:alice", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "orders2"));
    assert_false(allowed(s, "User:bob", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "orders"));
    /* the literal name is not a prefix */
    assert_false(allowed(s, "User:alice", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "order"));

    assert_true(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_TOPIC, "pay."));
    assert_true(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_TOPIC, "pay.eu"));
    assert_false(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_TOPIC, "pay"));
    assert_false(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_TOPIC, "xpay.eu"));

    /* the literal "*" matches every name of its type, not of other types */
    assert_true(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_GROUP, "any-group"));
    assert_false(allowed(s, "User:bob", ACL_OP_READ, ACL_RESOURCE_TRANSACTIONAL_ID, "any"));

    /* User:* and host "*" */
    add(s, binding(ACL_RESOURCE_TOPIC, "public", ACL_PATTERN_LITERAL, "User:*", ACL_OP_READ,
                   ACL_PERMISSION_ALLOW));
    assert_true(allowed(s, "User:carol", ACL_OP_READ, ACL_RESOURCE_TOPIC, "public"));
    acl_binding from_host = binding(ACL_RESOURCE_TOPIC, "local", ACL_PATTERN_LITERAL, "User:carol",
                                    ACL_OP_READ, ACL_PERMISSION_ALLOW);
    snprintf(from_host.host, sizeof from_host.host, "10.0.0.2");
    add(s, from_host);
    assert_false(allowed(s, "User:carol", ACL_OP_READ, ACL_RESOURCE_TOPIC, "local"));
    acl_store_free(s);
}

static void test_deny_wins_and_implied_operations(void **state)
{
    (void)state;
    acl_store *s = acl_store_new();
    add(s, binding(ACL_RESOURCE_TOPIC, "*", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_ALL,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_TOPIC, "secret.", ACL_PATTERN_PREFIXED, "User:alice",
                   ACL_OP_READ, ACL_PERMISSION_DENY));
    assert_true(allowed(s, "User:alice", ACL_OP_READ, ACL_RESOURCE_TOPIC, "orders"));
    assert_false(allowed(s, "User:alice", ACL_OP_READ, ACL_RESOURCE_TOPIC, "secret.keys"));
    /* a DENY covers its own operation (and ALL) only: WRITE still allowed */
    assert_true(allowed(s, "User:alice", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "secret.keys"));

    acl_authorizer_config config = {NULL, false};
    acl_decision d = acl_authorize(s, &config, "User:alice", "h", ACL_OP_READ,
                                   ACL_RESOURCE_TOPIC, "secret.keys");
    assert_false(d.allowed);
    assert_non_null(d.binding);
    assert_int_equal(d.binding->permission, ACL_PERMISSION_DENY);

    /* implied: READ/WRITE/DELETE/ALTER grant DESCRIBE, ALTER_CONFIGS grants
     * DESCRIBE_CONFIGS; nothing else is implied */
    acl_store *t = acl_store_new();
    const int8_t implies_describe[] = {ACL_OP_READ, ACL_OP_WRITE, ACL_OP_DELETE, ACL_OP_ALTER};
    for (size_t i = 0; i < sizeof implies_describe; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%zu", i);
        add(t, binding(ACL_RESOURCE_TOPIC, name, ACL_PATTERN_LITERAL, "User:u",
                       implies_describe[i], ACL_PERMISSION_ALLOW));
        assert_true(allowed(t, "User:u", ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, name));
    }
    add(t, binding(ACL_RESOURCE_TOPIC, "c", ACL_PATTERN_LITERAL, "User:u", ACL_OP_ALTER_CONFIGS,
                   ACL_PERMISSION_ALLOW));
    assert_true(allowed(t, "User:u", ACL_OP_DESCRIBE_CONFIGS, ACL_RESOURCE_TOPIC, "c"));
    assert_false(allowed(t, "User:u", ACL_OP_ALTER, ACL_RESOURCE_TOPIC, "c"));
    add(t, binding(ACL_RESOURCE_TOPIC, "d", ACL_PATTERN_LITERAL, "User:u", ACL_OP_DESCRIBE,
                   ACL_PERMISSION_ALLOW));
    assert_false(allowed(t, "User:u", ACL_OP_READ, ACL_RESOURCE_TOPIC, "d"));
    /* a DENY of READ does not deny DESCRIBE granted by WRITE */
    add(t, binding(ACL_RESOURCE_TOPIC, "t1", ACL_PATTERN_LITERAL, "User:u", ACL_OP_READ,
                   ACL_PERMISSION_DENY));
    assert_true(allowed(t, "User:u", ACL_OP_DESCRIBE, ACL_RESOURCE_TOPIC, "t1"));
    acl_store_free(t);
    acl_store_free(s);
}

static void test_super_users_and_no_acl_found(void **state)
{
    (void)state;
    acl_store *s = acl_store_new();
    assert_true(allowed(s, "User:admin", ACL_OP_ALTER, ACL_RESOURCE_CLUSTER, "kafka-cluster"));
    assert_true(allowed(s, "User:CN=sidecar-east", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "x"));
    assert_false(allowed(s, "User:adm", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "x"));
    assert_false(allowed(s, "User:admin2", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "x"));
    /* a DENY does not bind a super user */
    add(s, binding(ACL_RESOURCE_TOPIC, "x", ACL_PATTERN_LITERAL, "User:admin", ACL_OP_ALL,
                   ACL_PERMISSION_DENY));
    assert_true(allowed(s, "User:admin", ACL_OP_WRITE, ACL_RESOURCE_TOPIC, "x"));

    acl_authorizer_config open = {" User:root ; User:ops ", true};
    assert_true(acl_authorize(s, &open, "User:ops", "h", ACL_OP_READ, ACL_RESOURCE_TOPIC, "x")
                    .allowed);
    /* no ACL on "y": everyone; an ACL on "x" for somebody else: not everyone */
    acl_decision d = acl_authorize(s, &open, "User:eve", "h", ACL_OP_READ, ACL_RESOURCE_TOPIC, "y");
    assert_true(d.allowed);
    assert_null(d.binding);
    assert_false(
        acl_authorize(s, &open, "User:eve", "h", ACL_OP_READ, ACL_RESOURCE_TOPIC, "x").allowed);
    acl_authorizer_config closed = {NULL, false};
    assert_false(
        acl_authorize(s, &closed, "User:eve", "h", ACL_OP_READ, ACL_RESOURCE_TOPIC, "y").allowed);
    acl_store_free(s);
}

static void count_removed(void *arg, const acl_binding *b)
{
    (void)b;
    (*(int *)arg)++;
}

static void test_filters(void **state)
{
    (void)state;
    acl_store *s = acl_store_new();
    add(s, binding(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_WRITE,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_TOPIC, "ord", ACL_PATTERN_PREFIXED, "User:bob", ACL_OP_READ,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_TOPIC, "*", ACL_PATTERN_LITERAL, "User:carol", ACL_OP_READ,
                   ACL_PERMISSION_DENY));
    add(s, binding(ACL_RESOURCE_GROUP, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_READ,
                   ACL_PERMISSION_ALLOW));

    acl_filter all = {ACL_RESOURCE_ANY, ACL_PATTERN_ANY, ACL_OP_ANY, ACL_PERMISSION_ANY,
                      NULL, NULL, NULL};
    char why[128];
    assert_int_equal(acl_filter_check(&all, why, sizeof why), 0);
    int n = 0;
    for (size_t i = 0; i < acl_store_count(s); i++)
        n += acl_filter_matches(&all, acl_store_get(s, i));
    assert_int_equal(n, 4);

    /* MATCH: every binding that applies to the topic "orders" */
    acl_filter match = {ACL_RESOURCE_TOPIC, ACL_PATTERN_MATCH, ACL_OP_ANY, ACL_PERMISSION_ANY,
                        "orders", NULL, NULL};
    n = 0;
    for (size_t i = 0; i < acl_store_count(s); i++)
        n += acl_filter_matches(&match, acl_store_get(s, i));
    assert_int_equal(n, 3);
    /* LITERAL "orders" is only the literal binding; ANY with a name is any
     * pattern type with exactly that name */
    acl_filter literal = match;
    literal.pattern_type = ACL_PATTERN_LITERAL;
    acl_filter prefixed = match;
    prefixed.pattern_type = ACL_PATTERN_PREFIXED;
    prefixed.resource_name = "ord";
    acl_filter any_named = {ACL_RESOURCE_ANY, ACL_PATTERN_ANY, ACL_OP_ANY, ACL_PERMISSION_ANY,
                            "orders", NULL, NULL};
    int lit = 0, pre = 0, named = 0;
    for (size_t i = 0; i < acl_store_count(s); i++) {
        lit += acl_filter_matches(&literal, acl_store_get(s, i));
        pre += acl_filter_matches(&prefixed, acl_store_get(s, i));
        named += acl_filter_matches(&any_named, acl_store_get(s, i));
    }
    assert_int_equal(lit, 1);
    assert_int_equal(pre, 1);
    assert_int_equal(named, 2);

    acl_filter unknown = all;
    unknown.operation = ACL_OP_UNKNOWN;
    assert_int_equal(acl_filter_check(&unknown, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "operation"));

    /* remove alice's bindings: two go, the others stay in order */
    acl_filter alice = all;
    alice.principal = "User:alice";
    int removed = 0;
    assert_int_equal(acl_store_remove(s, &alice, count_removed, &removed), 2);
    assert_int_equal(removed, 2);
    assert_int_equal(acl_store_count(s), 2);
    assert_string_equal(acl_store_get(s, 0)->principal, "User:bob");
    assert_string_equal(acl_store_get(s, 1)->principal, "User:carol");
    acl_store_free(s);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(acl_operation_parse("DescribeConfigs"), ACL_OP_DESCRIBE_CONFIGS);
    assert_int_equal(acl_operation_parse("describe-configs"), ACL_OP_DESCRIBE_CONFIGS);
    assert_int_equal(acl_operation_parse("IDEMPOTENT_WRITE"), ACL_OP_IDEMPOTENT_WRITE);
    assert_int_equal(acl_operation_parse("Write"), ACL_OP_WRITE);
    assert_int_equal(acl_operation_parse("Writes"), -1);
    assert_int_equal(acl_operation_parse(""), -1);
    assert_int_equal(acl_resource_type_parse("TransactionalId"), ACL_RESOURCE_TRANSACTIONAL_ID);
    assert_int_equal(acl_pattern_type_parse("prefixed"), ACL_PATTERN_PREFIXED);
    assert_int_equal(acl_permission_parse("Deny"), ACL_PERMISSION_DENY);
    assert_string_equal(acl_operation_name(ACL_OP_CLUSTER_ACTION), "CLUSTER_ACTION");
    assert_string_equal(acl_resource_type_name(99), "UNKNOWN");
}

static acl_store *sample_store(void)
{
    acl_store *s = acl_store_new();
    add(s, binding(ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_WRITE,
                   ACL_PERMISSION_ALLOW));
    add(s, binding(ACL_RESOURCE_GROUP, "app-", ACL_PATTERN_PREFIXED, "User:CN=app,O=corp",
                   ACL_OP_READ, ACL_PERMISSION_DENY));
    return s;
}

static void test_file_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/strait-test-acl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    acl_store *s = sample_store();
    assert_int_equal(acl_file_save(s, dir), 0);
    acl_store *back = acl_store_new();
    char why[512] = "";
    assert_int_equal(acl_file_load(dir, back, why, sizeof why), 0);
    assert_int_equal(acl_store_count(back), 2);
    for (size_t i = 0; i < 2; i++)
        assert_memory_equal(acl_store_get(back, i), acl_store_get(s, i), sizeof(acl_binding));

    /* a missing file is an empty store */
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, ACL_FILE_NAME);
    assert_int_equal(unlink(path), 0);
    acl_store *none = acl_store_new();
    assert_int_equal(acl_file_load(dir, none, why, sizeof why), 0);
    assert_int_equal(acl_store_count(none), 0);
    assert_int_equal(rmdir(dir), 0);
    acl_store_free(none);
    acl_store_free(back);
    acl_store_free(s);
}

/* Re-seals bytes with a correct CRC, so the decoder meets the damage itself. */
static void reseal(uint8_t *bytes, size_t len)
{
    uint32_t crc = crc32c(0, bytes, len - 4);
    bytes[len - 4] = (uint8_t)(crc >> 24);
    bytes[len - 3] = (uint8_t)(crc >> 16);
    bytes[len - 2] = (uint8_t)(crc >> 8);
    bytes[len - 1] = (uint8_t)crc;
}

static void expect_refused(const uint8_t *bytes, size_t len, int expected, const char *words)
{
    acl_store *into = sample_store();
    char why[512] = "";
    assert_int_equal(acl_file_decode(bytes, len, into, why, sizeof why), expected);
    if (!strstr(why, words))
        fail_msg("expected '%s' in: %s", words, why);
    assert_int_equal(acl_store_count(into), 2); /* unchanged */
    acl_store_free(into);
}

static void test_file_corrupt(void **state)
{
    (void)state;
    acl_store *s = sample_store();
    buf good;
    buf_init(&good, 1 << 20);
    assert_int_equal(acl_file_encode(s, &good), 0);
    size_t len = good.len;
    uint8_t *b = malloc(len + 8);
    assert_non_null(b);

    expect_refused(good.data, 6, ST_ECORRUPT, "shorter");
    memcpy(b, good.data, len);
    b[12] ^= 1;
    expect_refused(b, len, ST_ECRC, "checksum");
    memcpy(b, good.data, len);
    b[0] = 'X';
    reseal(b, len);
    expect_refused(b, len, ST_ECORRUPT, "magic");
    memcpy(b, good.data, len);
    b[5] = 2;
    reseal(b, len);
    expect_refused(b, len, ST_EUNSUPPORTED, "version 2");
    memcpy(b, good.data, len);
    b[6] = 0x7f; /* count 2^31-ish: refused before anything is allocated */
    reseal(b, len);
    expect_refused(b, len, ST_ECORRUPT, "count");
    memcpy(b, good.data, len);
    b[10] = ACL_RESOURCE_ANY; /* first binding's resource type */
    reseal(b, len);
    expect_refused(b, len, ST_ECORRUPT, "binding 0");
    memcpy(b, good.data, len);
    b[14] = 0x7f; /* first name's length far past the end */
    reseal(b, len);
    expect_refused(b, len, ST_ECORRUPT, "binding 0");
    /* trailing bytes after the last binding */
    memcpy(b, good.data, len - 4);
    memset(b + len - 4, 0, 4);
    reseal(b, len + 4);
    expect_refused(b, len + 4, ST_ECORRUPT, "after the last binding");
    /* a string with a NUL inside */
    memcpy(b, good.data, len);
    b[16] = 0;
    reseal(b, len);
    expect_refused(b, len, ST_ECORRUPT, "resource name");

    free(b);
    buf_free(&good);
    acl_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binding_check),
        cmocka_unit_test(test_literal_prefixed_and_wildcard),
        cmocka_unit_test(test_deny_wins_and_implied_operations),
        cmocka_unit_test(test_super_users_and_no_acl_found),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_file_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
