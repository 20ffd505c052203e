/*
 * test_config.c - the YAML loader (common/yaml_map), the broker config
 * (broker/broker_config) and topic configs (broker/log/topic_config): every
 * accepted shape, every refusal with its exact message, inheritance of topic
 * defaults from the broker and the persisted text form.
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

#include "broker/config/broker_config.h"
#include "broker/log/topic_config.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/yaml_map.h"

/* ---- helpers ---- */

static char temp_path[64];

/* Writes text to a fresh temporary file; its name is in temp_path. */
static const char *write_temp(const char *text)
{
    if (temp_path[0])
        unlink(temp_path);
    snprintf(temp_path, sizeof temp_path, "/tmp/strait-test-config-XXXXXX.yaml");
    int fd = mkstemps(temp_path, 5);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return temp_path;
}

static int teardown_temp(void **state)
{
    (void)state;
    if (temp_path[0])
        unlink(temp_path);
    temp_path[0] = '\0';
    return 0;
}

/* Loads text as a config file plus overrides; returns the result code. */
static int load_text(const char *text, const char *const *overrides, int count, broker_config *out,
                     char *err, size_t errlen)
{
    const char *path = text ? write_temp(text) : NULL;
    return broker_config_load(path, overrides, count, out, err, errlen);
}

/* Expects loading text to fail with "<file>:<line>: <message>", and *out untouched. */
static void expect_file_error(const char *text, int line, const char *message)
{
    broker_config c, before;
    memset(&c, 0x5a, sizeof c);
    before = c;
    char err[1024], want[1024];
    assert_int_equal(load_text(text, NULL, 0, &c, err, sizeof err), ST_ECONFIG);
    snprintf(want, sizeof want, "%s:%d: %s", temp_path, line, message);
    assert_string_equal(err, want);
    assert_memory_equal(&c, &before, sizeof c);
    unlink(temp_path);
}

static void expect_override_error(const char *override, const char *message)
{
    broker_config c, before;
    memset(&c, 0x5a, sizeof c);
    before = c;
    char err[1024];
    const char *overrides[] = {"node.id=2", override};
    assert_int_equal(broker_config_load(NULL, overrides, 2, &c, err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, message);
    assert_memory_equal(&c, &before, sizeof c);
}

/* ---- yaml_map ---- */

static void test_yaml_flat_nested_and_sequences(void **state)
{
    (void)state;
    const char *text = "a.b: 1\n"
                       "c:\n"
                       "  d: two\n"
                       "  e: {f: 'three'}\n"
                       "list: [x, \"y,z\", w]\n"
                       "empty:\n"
                       "none: []\n";
    yaml_map m;
    char err[256];
    assert_int_equal(yaml_map_parse("t.yaml", text, strlen(text), 0, &m, err, sizeof err), 0);
    assert_int_equal(m.count, 6);
    assert_string_equal(m.entries[0].key, "a.b");
    assert_string_equal(m.entries[0].value, "1");
    assert_int_equal(m.entries[0].line, 1);
    assert_string_equal(m.entries[1].key, "c.d");
    assert_int_equal(m.entries[1].line, 3);
    assert_string_equal(yaml_map_find(&m, "c.e.f")->value, "three");
    const yaml_map_entry *list = yaml_map_find(&m, "list");
    assert_true(list->is_sequence);
    assert_string_equal(list->value, "x,y,z,w");
    assert_int_equal(list->item_count, 3);
    assert_string_equal(list->items[1], "y,z"); /* items keep commas the join loses */
    assert_string_equal(yaml_map_find(&m, "empty")->value, "");
    assert_int_equal(yaml_map_find(&m, "none")->item_count, 0);
    assert_null(yaml_map_find(&m, "c"));
    yaml_map_free(&m);
}

static void test_yaml_indexed_sequences(void **state)
{
    (void)state;
    const char *text = "flows:\n  - source: east\n    target: west\n  - source: west\n";
    yaml_map m;
    char err[256];
    assert_int_equal(yaml_map_parse("t.yaml", text, strlen(text), 0, &m, err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "t.yaml:2: 'flows': only sequences of scalars are supported");
    assert_int_equal(m.count, 0);
    assert_int_equal(yaml_map_parse("t.yaml", text, strlen(text), YAML_MAP_INDEXED_SEQUENCES, &m,
                                    err, sizeof err), 0);
    assert_int_equal(m.count, 3);
    assert_string_equal(yaml_map_find(&m, "flows.1.source")->value, "west");
    assert_int_equal(yaml_map_find(&m, "flows.0.target")->line, 3);
    yaml_map_free(&m);
}

static void expect_yaml_error(const char *text, const char *message)
{
    yaml_map m;
    char err[256];
    assert_int_not_equal(yaml_map_parse("t.yaml", text, strlen(text), 0, &m, err, sizeof err), 0);
    assert_string_equal(err, message);
    assert_int_equal(m.count, 0);
}

static void test_yaml_refusals(void **state)
{
    (void)state;
    expect_yaml_error("a: 1\na: 2\n", "t.yaml:2: duplicate key 'a' (first at line 1)");
    expect_yaml_error("log.dirs: x\nlog:\n  dirs: y\n",
                      "t.yaml:3: duplicate key 'log.dirs' (first at line 1)");
    expect_yaml_error("log: {a: 1}\nlog: {b: 2}\n", "t.yaml:2: duplicate key 'log' (first at line 1)");
    expect_yaml_error("a: &x 1\nb: *x\n", "t.yaml:1: anchors (&x) are not supported");
    expect_yaml_error("a: 1\nb: *x\n", "t.yaml:2: aliases (*x) are not supported");
    expect_yaml_error("a: [[1]]\n", "t.yaml:1: 'a': nested sequences are not supported");
    expect_yaml_error("just a scalar\n", "t.yaml:1: expected a mapping of keys at the top level");
    expect_yaml_error("- a\n- b\n", "t.yaml:1: expected a mapping of keys at the top level");
    expect_yaml_error("a: 1\n---\nb: 2\n", "t.yaml:2: only one YAML document is allowed");
    expect_yaml_error("? [a]\n: 1\n", "t.yaml:1: keys must be scalars");
    expect_yaml_error("a: 1\nb: [1, 2\n", "t.yaml:3: invalid YAML: did not find expected ',' or "
                      "']' (while parsing a flow sequence started at line 2)");
    expect_yaml_error("a:\n  b: 1\n c: 2\n", "t.yaml:3: invalid YAML: did not find expected key "
                      "(while parsing a block mapping started at line 1)");
}

static void test_yaml_depth_and_size_limits(void **state)
{
    (void)state;
    char text[512] = "";
    for (int i = 0; i <= LIMIT_YAML_DEPTH; i++)
        strcat(text, "k: {");
    strcat(text, "v: 1");
    for (int i = 0; i <= LIMIT_YAML_DEPTH; i++)
        strcat(text, "}");
    char want[128];
    snprintf(want, sizeof want, "t.yaml:1: nesting deeper than %d levels", LIMIT_YAML_DEPTH);
    expect_yaml_error(text, want);

    size_t big = LIMIT_CONFIG_FILE_BYTES + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, '#', big);
    huge[big] = '\0';
    yaml_map m;
    char err[256];
    const char *path = write_temp(huge);
    assert_int_equal(yaml_map_load(path, 0, &m, err, sizeof err), ST_ETOOBIG);
    snprintf(want, sizeof want, "%s: larger than %d bytes", path, LIMIT_CONFIG_FILE_BYTES);
    assert_string_equal(err, want);
    free(huge);

    const char *empty = write_temp("");
    assert_int_equal(yaml_map_load(empty, 0, &m, err, sizeof err), 0);
    assert_int_equal(m.count, 0);
    yaml_map_free(&m);
}

/* ---- broker config: loading ---- */

static void test_broker_defaults(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    assert_int_equal(broker_config_load(NULL, NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.node_id, 1);
    assert_string_equal(c.listeners, "PLAINTEXT://127.0.0.1:9092");
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://127.0.0.1:9092");
    assert_string_equal(c.log_dirs, "./data");
    assert_int_equal(c.message_max_bytes, LIMIT_MESSAGE_BYTES_DEFAULT);
    assert_int_equal(c.socket_request_max_bytes, LIMIT_REQUEST_BYTES_DEFAULT);
    assert_true(c.log_flush_interval_messages == INT64_MAX);
    assert_true(c.log_retention_ms == INT64_C(604800000));
    assert_true(c.log_segment_bytes == INT64_C(1073741824));
    assert_true(c.auto_create_topics_enable);
    assert_string_equal(c.log_cleanup_policy, "delete");
    assert_string_equal(c.compression_type, "producer");
    char host[64];
    int port = 0;
    assert_int_equal(broker_config_listener(&c, true, host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9092);
}

static void test_broker_flat_file(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    assert_int_equal(load_text("node.id: 3\n"
                               "log.dirs: /var/lib/strait\n"
                               "listeners: PLAINTEXT://127.0.0.1:19092\n"
                               "auto.create.topics.enable: FALSE\n"
                               "log.retention.hours: 1\n"
                               "log.roll.hours: 2\n"
                               "log.cleanup.policy: delete, compact\n"
                               "compression.type: zstd\n",
                               NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.node_id, 3);
    assert_string_equal(c.log_dirs, "/var/lib/strait");
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://127.0.0.1:19092");
    assert_false(c.auto_create_topics_enable);
    assert_true(c.log_retention_ms == 3600000);
    assert_true(c.log_roll_ms == 7200000);
    assert_string_equal(c.log_cleanup_policy, "delete,compact");
    assert_string_equal(c.compression_type, "zstd");
    char value[64];
    assert_int_equal(broker_config_get(&c, "log.roll.hours", value, sizeof value), 0);
    assert_string_equal(value, "2");
    assert_int_equal(broker_config_get(&c, "log.roll.ms", value, sizeof value), 0);
    assert_string_equal(value, "7200000");
    assert_int_equal(broker_config_get(&c, "nope", value, sizeof value), ST_ENOTFOUND);
}

static void test_broker_nested_file_and_aliases(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    assert_int_equal(load_text("broker:\n"
                               "  id: 9\n"
                               "log:\n"
                               "  dir: /data/one\n"
                               "  retention: {minutes: 5, bytes: 1000}\n"
                               "flush.messages: 1\n"
                               "listeners: [\"[::1]:9093\"]\n"
                               "advertised.listeners: PLAINTEXT://broker-9.example:9093\n",
                               NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.node_id, 9);
    assert_string_equal(c.log_dirs, "/data/one");
    assert_true(c.log_retention_ms == 300000);
    assert_true(c.log_retention_bytes == 1000);
    assert_true(c.log_flush_interval_messages == 1);
    assert_string_equal(c.listeners, "PLAINTEXT://[::1]:9093");
    char host[64];
    int port = 0;
    assert_int_equal(broker_config_listener(&c, false, host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9093);
    assert_int_equal(broker_config_listener(&c, true, host, sizeof host, &port), 0);
    assert_string_equal(host, "broker-9.example");
    assert_int_equal(broker_config_listener(&c, true, host, 4, &port), ST_ETOOBIG);
}

static void test_broker_unknown_keys(void **state)
{
    (void)state;
    expect_file_error("node.id: 1\nlog.dirz: /x\n", 2,
                      "unknown key 'log.dirz' (did you mean 'log.dirs'?)");
    expect_file_error("nm.partitions: 2\n", 1,
                      "unknown key 'nm.partitions' (did you mean 'num.partitions'?)");
    expect_file_error("log:\n  flush: {every: {msgs: 1}}\n", 2,
                      "unknown key 'log.flush.every.msgs'");
    expect_file_error("zookeeper.connect: localhost:2181\n", 1,
                      "unknown key 'zookeeper.connect'");
}

static void test_broker_bad_values(void **state)
{
    (void)state;
    expect_file_error("node.id: abc\n", 1,
                      "node.id: expected an integer between 0 and 2147483647, got 'abc'");
    expect_file_error("node.id: -1\n", 1,
                      "node.id: expected an integer between 0 and 2147483647, got '-1'");
    expect_file_error("num.partitions: 0\n", 1,
                      "num.partitions: expected an integer between 1 and 10000, got '0'");
    expect_file_error("log.retention.ms: 99999999999999999999\n", 1,
                      "log.retention.ms: expected an integer >= -1, got '99999999999999999999'");
    expect_file_error("log.segment.bytes: 12k\n", 1,
                      "log.segment.bytes: expected an integer between 14 and 2147483647, got '12k'");
    expect_file_error("default.replication.factor: 40000\n", 1,
                      "default.replication.factor: expected an integer between 1 and 32767, "
                      "got '40000'");
    expect_file_error("auto.create.topics.enable: yes\n", 1,
                      "auto.create.topics.enable: expected true or false, got 'yes'");
    expect_file_error("compression.type: xz\n", 1,
                      "compression.type: expected one of producer, uncompressed, gzip, snappy, "
                      "lz4, zstd, got 'xz'");
    expect_file_error("log.cleanup.policy: [compact, purge]\n", 1,
                      "log.cleanup.policy: expected a comma-separated list of compact, delete, "
                      "got 'compact,purge'");
    expect_file_error("log.level: verbose\n", 1,
                      "log.level: expected one of debug, info, warn, error, got 'verbose'");
    expect_file_error("cluster.id: "
                      "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop\n", 1,
                      "cluster.id: expected at most 63 characters, got 68");
    expect_file_error("cluster.id: a b\n", 1,
                      "cluster.id: expected letters, digits, '-' and '_' only, got 'a b'");
    expect_file_error("log.dirs: /a,,/b\n", 1,
                      "log.dirs: expected a comma-separated list of directories, got '/a,,/b'");
    expect_file_error("node.id: [1, 2]\n", 1,
                      "node.id: expected an integer between 0 and 2147483647, got '1,2'");
}

static void test_broker_bad_listeners(void **state)
{
    (void)state;
    expect_file_error("listeners: PLAINTEXT://localhost:99999\n", 1,
                      "listeners: listener PLAINTEXT: expected PLAINTEXT://host:port with a port "
                      "between 0 and 65535, got 'PLAINTEXT://localhost:99999'");
    expect_file_error("listeners: localhost\n", 1,
                      "listeners: listener PLAINTEXT: expected PLAINTEXT://host:port with a port "
                      "between 0 and 65535, got 'localhost'");
    expect_file_error("listeners: IN TERNAL://:9093\n", 1,
                      "listeners: listener name in 'IN TERNAL://:9093' must be letters, digits, "
                      "'_' or '-'");
    expect_file_error("listeners: [a:1, b:2]\n", 1,
                      "listeners: listener name PLAINTEXT is used twice; each listener needs its "
                      "own name");
    expect_file_error("listeners: ''\n", 1,
                      "listeners: expected at least one listener (NAME://host:port)");
    expect_file_error("advertised.listeners: PLAINTEXT://0.0.0.0:9092\n", 1,
                      "advertised.listeners: listener PLAINTEXT: '0.0.0.0:9092': clients cannot "
                      "connect to 0.0.0.0 or port 0");
    expect_file_error("advertised.listeners: host:9092\n", 1,
                      "advertised.listeners: expected NAME://host:port, got 'host:9092'");
}

static void test_broker_file_errors(void **state)
{
    (void)state;
    expect_file_error("log.dirs: /a\nlisteners: x:1\nlog.dirs: /b\n", 3,
                      "duplicate key 'log.dirs' (first at line 1)");
    expect_file_error("node.id: 1\nbroker.id: 2\n", 2,
                      "'broker.id' and 'node.id' (line 1) both set node.id; keep one");
    expect_file_error("log.retention.ms: 1000\nlog.retention.hours: 1\n", 2,
                      "'log.retention.hours' and 'log.retention.ms' (line 1) both set "
                      "log.retention.ms; keep one");
    expect_file_error("node.id: 1\nlog.dirs: [a, b\n", 3,
                      "invalid YAML: did not find expected ',' or ']' (while parsing a flow "
                      "sequence started at line 2)");
    expect_file_error("socket.request.max.bytes: 1000\nmessage.max.bytes: 2000\nnode.id: 2\n", 2,
                      "message.max.bytes (2000) must not be larger than socket.request.max.bytes "
                      "(1000)");
    expect_file_error("socket.request.max.bytes: 2147483647\n", 1,
                      "socket.request.max.bytes: expected an integer between 1 and 1073741824, "
                      "got '2147483647'");

    broker_config c, before;
    memset(&c, 0x5a, sizeof c);
    before = c;
    char err[256];
    assert_int_equal(broker_config_load("/nonexistent/strait.yaml", NULL, 0, &c, err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "/nonexistent/strait.yaml: cannot read: No such file or directory");
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_broker_overrides(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    const char *overrides[] = {"num.partitions=4", "listeners=0.0.0.0:9200", "num.partitions=6",
                               "log.retention.hours=2", "broker.rack="};
    assert_int_equal(load_text("num.partitions: 2\nlog.retention.ms: 5\nbroker.rack: r1\n",
                               overrides, 5, &c, err, sizeof err), 0);
    assert_int_equal(c.num_partitions, 6);      /* last override wins */
    assert_true(c.log_retention_ms == 7200000); /* overrides beat the file */
    assert_string_equal(c.rack, "");
    assert_string_equal(c.listeners, "PLAINTEXT://0.0.0.0:9200");
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://0.0.0.0:9200");
    char host[256];
    int port = 0;
    assert_int_equal(broker_config_listener(&c, false, host, sizeof host, &port), 0);
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(broker_config_listener(&c, true, host, sizeof host, &port), 0);
    assert_string_not_equal(host, "0.0.0.0"); /* the host name instead of the wildcard */
    assert_int_equal(port, 9200);

    expect_override_error("node.id", "--override node.id: expected key=value");
    expect_override_error("=5", "--override =5: expected key=value");
    expect_override_error("log.dirz=/x",
                          "--override log.dirz=/x: unknown key 'log.dirz' (did you mean 'log.dirs'?)");
    expect_override_error("num.partitions=x",
                          "--override num.partitions=x: num.partitions: expected an integer between "
                          "1 and 10000, got 'x'");
    expect_override_error("message.max.bytes=200000000",
                          "--override message.max.bytes=200000000: message.max.bytes (200000000) "
                          "must not be larger than socket.request.max.bytes (104857600)");
}

static void test_broker_log_level(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    log_set_level(LOG_INFO);
    const char *bad[] = {"log.level=debug", "node.id=x"};
    assert_int_equal(broker_config_load(NULL, bad, 2, &c, err, sizeof err), ST_ECONFIG);
    assert_false(log_enabled(LOG_DEBUG)); /* a failed load changes nothing */
    assert_int_equal(broker_config_load(NULL, bad, 1, &c, err, sizeof err), 0);
    assert_true(log_enabled(LOG_DEBUG));
    assert_int_equal(broker_config_set(&c, "log.level", "warn", err, sizeof err), 0);
    assert_false(log_enabled(LOG_INFO));
    log_set_level(LOG_INFO);
}

/* The authorizer keys: Kafka's class names and "strait" all mean strait's
 * authorizer (normalised to "strait"); anything else is refused, and so is
 * a super user that is not <type>:<name>. */
static void test_broker_authorizer_keys(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    broker_config_default(&c);
    assert_string_equal(c.authorizer_class_name, "");
    assert_false(c.allow_everyone_if_no_acl_found);
    const char *accepted[] = {"strait", "kafka.security.authorizer.AclAuthorizer",
                              " org.apache.kafka.metadata.authorizer.StandardAuthorizer "};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(broker_config_set(&c, "authorizer.class.name", accepted[i], err,
                                           sizeof err), 0);
        assert_string_equal(c.authorizer_class_name, BROKER_AUTHORIZER_STRAIT);
    }
    assert_int_equal(broker_config_set(&c, "authorizer.class.name", "com.example.Mine", err,
                                       sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "unknown authorizer"));
    assert_int_equal(broker_config_set(&c, "authorizer.class.name", "", err, sizeof err), 0);
    assert_string_equal(c.authorizer_class_name, "");
    assert_int_equal(broker_config_set(&c, "super.users", "User:admin; User:CN=sidecar,O=x", err,
                                       sizeof err), 0);
    assert_int_equal(broker_config_set(&c, "super.users", "User:admin;bob", err, sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "'bob'"));
    assert_int_equal(broker_config_set(&c, "super.users", "User:", err, sizeof err), ST_ECONFIG);
    assert_int_equal(broker_config_set(&c, "allow.everyone.if.no.acl.found", "true", err,
                                       sizeof err), 0);
    assert_true(c.allow_everyone_if_no_acl_found);
}

static void test_broker_set_and_each(void **state)
{
    (void)state;
    broker_config c;
    char err[256];
    broker_config_default(&c);
    assert_int_equal(broker_config_set(&c, "listeners", "127.0.0.1:9300", err, sizeof err), 0);
    assert_string_equal(c.advertised_listeners, "PLAINTEXT://127.0.0.1:9300");
    assert_true(broker_config_is_default(&c, "advertised.listeners"));
    assert_int_equal(broker_config_set(&c, "node.id", "-4", err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, "node.id: expected an integer between 0 and 2147483647, got '-4'");
    assert_int_equal(broker_config_set(&c, "nod.id", "4", err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, "unknown key 'nod.id' (did you mean 'node.id'?)");
    assert_int_equal(broker_config_set(&c, "broker.id", "4", err, sizeof err), 0);
    assert_int_equal(c.node_id, 4);
    assert_false(broker_config_is_default(&c, "node.id"));
    assert_true(broker_config_is_default(&c, "num.partitions"));
}

typedef struct each_result {
    int count;
    int not_default;
    char last[64];
    bool sorted_unique;
    char node_id[32];
} each_result;

static void collect_broker(void *arg, const char *key, const char *value, bool is_default)
{
    each_result *r = arg;
    r->count++;
    r->not_default += !is_default;
    if (strcmp(key, "node.id") == 0)
        snprintf(r->node_id, sizeof r->node_id, "%s", value);
    assert_null(strstr(key, "hours")); /* aliases are not listed */
}

static void test_broker_each(void **state)
{
    (void)state;
    broker_config c;
    broker_config_default(&c);
    each_result r = {0};
    broker_config_each(&c, collect_broker, &r);
    assert_true(r.count >= 29);
    assert_int_equal(r.not_default, 0);
    char err[256];
    assert_int_equal(broker_config_set(&c, "node.id", "12", err, sizeof err), 0);
    memset(&r, 0, sizeof r);
    broker_config_each(&c, collect_broker, &r);
    assert_int_equal(r.not_default, 1);
    assert_string_equal(r.node_id, "12");
}

/* ---- topic configs ---- */

static void expect_topic_error(const char *key, const char *value, const char *message)
{
    char err[512];
    assert_int_equal(topic_config_validate(key, value, err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, message);
}

static void test_topic_validation(void **state)
{
    (void)state;
    char err[512];
    expect_topic_error("retention.mz", "1", "unknown topic config 'retention.mz' (did you mean "
                       "'retention.ms'?)");
    expect_topic_error("log.retention.ms", "1", "unknown topic config 'log.retention.ms'");
    expect_topic_error("retention.ms", "-2", "retention.ms: expected an integer >= -1, got '-2'");
    expect_topic_error("segment.bytes", "13",
                       "segment.bytes: expected an integer between 14 and 2147483647, got '13'");
    expect_topic_error("segment.ms", "0", "segment.ms: expected an integer >= 1, got '0'");
    expect_topic_error("min.cleanable.dirty.ratio", "1.5",
                       "min.cleanable.dirty.ratio: expected a number between 0 and 1, got '1.5'");
    expect_topic_error("min.cleanable.dirty.ratio", "nan",
                       "min.cleanable.dirty.ratio: expected a number between 0 and 1, got 'nan'");
    expect_topic_error("cleanup.policy", "compact,foo",
                       "cleanup.policy: expected a comma-separated list of compact, delete, got "
                       "'compact,foo'");
    expect_topic_error("cleanup.policy", "", "cleanup.policy: expected a comma-separated list of "
                       "compact, delete, got ''");
    expect_topic_error("message.timestamp.type", "createtime",
                       "message.timestamp.type: expected one of CreateTime, LogAppendTime, got "
                       "'createtime'");
    expect_topic_error("preallocate", "1", "preallocate: expected true or false, got '1'");
    expect_topic_error("flush.messages", "0", "flush.messages: expected an integer >= 1, got '0'");
    assert_int_equal(topic_config_validate("min.cleanable.dirty.ratio", "0.25", err, sizeof err), 0);
    assert_int_equal(topic_config_validate("flush.messages", "9223372036854775807", err,
                                           sizeof err), 0);
    assert_true(topic_config_known("unclean.leader.election.enable"));
    assert_false(topic_config_known("retention.hours"));

    topic_config tc, before;
    topic_config_init(&tc);
    assert_int_equal(topic_config_set(&tc, "max.compaction.lag.ms", "1000", err, sizeof err), 0);
    before = tc;
    assert_int_equal(topic_config_set(&tc, "min.compaction.lag.ms", "2000", err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "min.compaction.lag.ms (2000) must not be larger than "
                        "max.compaction.lag.ms (1000)");
    assert_memory_equal(&tc, &before, sizeof tc);
}

typedef struct topic_each {
    int count;
    char previous[64];
    int sources[8];
    char retention[64];
    int retention_source;
} topic_each;

static void collect_topic(void *arg, const char *key, const char *value, int source,
                          bool sensitive, bool read_only)
{
    topic_each *r = arg;
    assert_true(strcmp(r->previous, key) < 0); /* name order, no repeats */
    assert_true(strlen(key) < 64);
    assert_false(sensitive);
    assert_false(read_only);
    assert_true(source >= 0 && source < 8);
    snprintf(r->previous, sizeof r->previous, "%s", key);
    r->count++;
    r->sources[source]++;
    if (strcmp(key, "retention.ms") == 0) {
        snprintf(r->retention, sizeof r->retention, "%s", value);
        r->retention_source = source;
    }
}

static void test_topic_effective_values(void **state)
{
    (void)state;
    broker_config bc;
    broker_config_default(&bc);
    topic_config tc;
    topic_config_init(&tc);
    char value[TOPIC_CONFIG_VALUE_MAX], err[256];

    assert_int_equal(topic_config_get(&tc, &bc, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DEFAULT);
    assert_string_equal(value, "604800000");
    assert_int_equal(topic_config_get(&tc, &bc, "flush.messages", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DEFAULT);
    assert_string_equal(value, "9223372036854775807");
    assert_int_equal(topic_config_get(&tc, &bc, "delete.retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DEFAULT);
    assert_string_equal(value, "86400000");
    assert_int_equal(topic_config_get(&tc, &bc, "bogus", value, sizeof value), -1);

    assert_int_equal(broker_config_set(&bc, "log.retention.hours", "1", err, sizeof err), 0);
    assert_int_equal(broker_config_set(&bc, "message.max.bytes", "2000000", err, sizeof err), 0);
    assert_int_equal(topic_config_get(&tc, &bc, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_STATIC_BROKER);
    assert_string_equal(value, "3600000");
    assert_int_equal(topic_config_max_message_bytes(&tc, &bc), 2000000);

    assert_int_equal(topic_config_set(&tc, "retention.ms", "+1000", err, sizeof err), 0);
    assert_int_equal(topic_config_get(&tc, &bc, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_string_equal(value, "1000"); /* stored in normal form */

    topic_each r = {0};
    topic_config_each(&tc, &bc, collect_topic, &r);
    assert_true(r.count >= 23);
    assert_int_equal(r.sources[TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC], 1);
    assert_int_equal(r.sources[TOPIC_CONFIG_SOURCE_STATIC_BROKER], 1); /* max.message.bytes */
    assert_string_equal(r.retention, "1000");

    assert_int_equal(topic_config_set(&tc, "retention.ms", NULL, err, sizeof err), 0);
    assert_int_equal(tc.count, 0);
    assert_int_equal(topic_config_get(&tc, &bc, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_STATIC_BROKER);
}

static void test_topic_to_plog(void **state)
{
    (void)state;
    broker_config bc;
    broker_config_default(&bc);
    char err[256];
    assert_int_equal(broker_config_set(&bc, "log.flush.interval.messages", "1", err, sizeof err), 0);
    assert_int_equal(broker_config_set(&bc, "log.cleanup.policy", "compact", err, sizeof err), 0);
    topic_config tc;
    topic_config_init(&tc);
    assert_int_equal(topic_config_set(&tc, "segment.bytes", "1048576", err, sizeof err), 0);
    assert_int_equal(topic_config_set(&tc, "retention.bytes", "-1", err, sizeof err), 0);
    plog_config p;
    topic_config_to_plog(&tc, &bc, &p);
    assert_true(p.segment_bytes == 1048576);
    assert_true(p.segment_ms == 604800000);
    assert_true(p.retention_ms == 604800000);
    assert_true(p.retention_bytes == -1);
    assert_true(p.flush_messages == 1);
    assert_true(p.flush_ms == INT64_MAX);
    assert_int_equal(p.index_interval_bytes, 4096);
    assert_int_equal(p.segment_index_bytes, 10485760);
    assert_false(p.delete_policy);
    assert_true(topic_config_compact(&tc, &bc));
    assert_false(topic_config_log_append_time(&tc, &bc));

    assert_int_equal(topic_config_set(&tc, "cleanup.policy", "delete , compact,delete", err,
                                      sizeof err), 0);
    char value[TOPIC_CONFIG_VALUE_MAX];
    topic_config_get(&tc, &bc, "cleanup.policy", value, sizeof value);
    assert_string_equal(value, "delete,compact");
    assert_int_equal(topic_config_set(&tc, "message.timestamp.type", "LogAppendTime", err,
                                      sizeof err), 0);
    topic_config_to_plog(&tc, &bc, &p);
    assert_true(p.delete_policy);
    assert_true(topic_config_compact(&tc, &bc));
    assert_true(topic_config_log_append_time(&tc, &bc));
}

static void test_topic_serialize_round_trip(void **state)
{
    (void)state;
    topic_config tc, back;
    topic_config_init(&tc);
    char err[256], text[4096];
    assert_int_equal(topic_config_set(&tc, "cleanup.policy", "compact", err, sizeof err), 0);
    assert_int_equal(topic_config_set(&tc, "retention.ms", "-1", err, sizeof err), 0);
    assert_int_equal(topic_config_set(&tc, "preallocate", "TRUE", err, sizeof err), 0);
    assert_int_equal(topic_config_set(&tc, "min.cleanable.dirty.ratio", "0.1", err, sizeof err), 0);
    int len = topic_config_serialize(&tc, text, sizeof text);
    assert_string_equal(text, "cleanup.policy=compact\nretention.ms=-1\npreallocate=true\n"
                              "min.cleanable.dirty.ratio=0.1\n");
    assert_int_equal(len, (int)strlen(text));
    assert_int_equal(topic_config_parse(&back, text, (size_t)len, err, sizeof err), 0);
    assert_int_equal(back.count, tc.count);
    for (int i = 0; i < tc.count; i++) {
        assert_string_equal(back.keys[i], tc.keys[i]);
        assert_string_equal(back.values[i], tc.values[i]);
    }
    assert_int_equal(topic_config_serialize(&tc, text, 10), ST_ETOOBIG);

    const char *crlf = "# comment\r\n\r\nsegment.ms=100\r\n";
    assert_int_equal(topic_config_parse(&back, crlf, strlen(crlf), err, sizeof err), 0);
    assert_int_equal(back.count, 1);
    assert_string_equal(back.values[0], "100");

    topic_config untouched = back;
    const char *bad[][2] = {
        {"retention.ms=1\nretention.mz=2\n",
         "line 2: unknown topic config 'retention.mz' (did you mean 'retention.ms'?)"},
        {"retention.ms=1\n\nsegment.bytes=1\n",
         "line 3: segment.bytes: expected an integer between 14 and 2147483647, got '1'"},
        {"retention.ms\n", "line 1: expected key=value, got 'retention.ms'"},
        {"retention.ms=1\nretention.ms=2\n", "line 2: duplicate key 'retention.ms'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(topic_config_parse(&back, bad[i][0], strlen(bad[i][0]), err, sizeof err),
                         ST_ECONFIG);
        assert_string_equal(err, bad[i][1]);
        assert_memory_equal(&back, &untouched, sizeof back);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_flat_nested_and_sequences),
        cmocka_unit_test(test_yaml_indexed_sequences),
        cmocka_unit_test(test_yaml_refusals),
        cmocka_unit_test_teardown(test_yaml_depth_and_size_limits, teardown_temp),
        cmocka_unit_test(test_broker_defaults),
        cmocka_unit_test(test_broker_authorizer_keys),
        cmocka_unit_test_teardown(test_broker_flat_file, teardown_temp),
        cmocka_unit_test_teardown(test_broker_nested_file_and_aliases, teardown_temp),
        cmocka_unit_test_teardown(test_broker_unknown_keys, teardown_temp),
        cmocka_unit_test_teardown(test_broker_bad_values, teardown_temp),
        cmocka_unit_test_teardown(test_broker_bad_listeners, teardown_temp),
        cmocka_unit_test_teardown(test_broker_file_errors, teardown_temp),
        cmocka_unit_test_teardown(test_broker_overrides, teardown_temp),
        cmocka_unit_test(test_broker_log_level),
        cmocka_unit_test(test_broker_set_and_each),
        cmocka_unit_test(test_broker_each),
        cmocka_unit_test(test_topic_validation),
        cmocka_unit_test(test_topic_effective_values),
        cmocka_unit_test(test_topic_to_plog),
        cmocka_unit_test(test_topic_serialize_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
