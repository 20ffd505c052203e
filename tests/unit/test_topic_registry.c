/*
 * test_topic_registry.c - the topic registry and meta.properties: create,
 * find, delete, grow and reconfigure topics; everything persisted across a
 * close and reopen; bad names, counts and configs refused with exact
 * messages and no change; the cluster id generated once and kept; a data
 * directory of another cluster or node refused.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/cluster/cluster_meta.h"
#include "broker/cluster/topic_registry.h"
#include "broker/config/broker_config.h"
#include "broker/log/topic_config.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fixture {
    char root[64];
    broker_config config;
    topic_registry *reg;
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
    snprintf(f->root, sizeof f->root, "/tmp/strait-registry-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    broker_config_default(&f->config);
    /* a nested path: the registry creates the missing directories */
    snprintf(f->config.log_dirs, sizeof f->config.log_dirs, "%s/data,%s/other", f->root, f->root);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    topic_registry_close(f->reg);
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    topic_registry_close(f->reg);
    f->reg = NULL;
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
}

static bool exists(const fixture *f, const char *relative)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", f->root, relative);
    struct stat st;
    return stat(path, &st) == 0;
}

static topic *create(fixture *f, const char *name, int32_t partitions)
{
    char err[512] = "";
    topic *t = NULL;
    int rc = topic_registry_create(f->reg, name, strlen(name), partitions, NULL, NULL, 0, false,
                                   &t, err, sizeof err);
    if (rc != 0)
        fail_msg("create %s: %s (%s)", name, strait_error_name(rc), err);
    assert_non_null(t);
    return t;
}

static void assert_effective(fixture *f, topic *t, const char *key, const char *expected,
                             int expected_source)
{
    char value[TOPIC_CONFIG_VALUE_MAX];
    int source = topic_config_get(&t->config, &f->config, key, value, sizeof value);
    assert_string_equal(value, expected);
    assert_int_equal(source, expected_source);
}

/* ---- names ----------------------------------------------------------------- */

static void name_rules(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(topic_name_validate("orders", 6, err, sizeof err), 0);
    assert_int_equal(topic_name_validate("a.b_c-D9", 8, err, sizeof err), 0);
    assert_int_equal(topic_name_validate("", 0, err, sizeof err), ST_EINVAL);
    assert_string_equal(err, "topic name is empty");
    assert_int_equal(topic_name_validate(".", 1, err, sizeof err), ST_EINVAL);
    assert_string_equal(err, "topic name cannot be '.' or '..'");
    assert_int_equal(topic_name_validate("..", 2, err, sizeof err), ST_EINVAL);
    assert_string_equal(err, "topic name cannot be '.' or '..'");
    assert_int_equal(topic_name_validate("...", 3, err, sizeof err), 0);
    assert_int_equal(topic_name_validate("a/b", 3, err, sizeof err), ST_EINVAL);
    assert_string_equal(err, "topic name 'a/b' is invalid: only ASCII letters, digits, '.', '_' "
                             "and '-' are allowed");
    assert_int_equal(topic_name_validate("a\nb", 3, err, sizeof err), ST_EINVAL);
    assert_string_equal(err, "topic name 'a?b' is invalid: only ASCII letters, digits, '.', '_' "
                             "and '-' are allowed");
    char longest[LIMIT_TOPIC_NAME_LENGTH + 2];
    memset(longest, 'x', sizeof longest);
    assert_int_equal(topic_name_validate(longest, LIMIT_TOPIC_NAME_LENGTH, err, sizeof err), 0);
    assert_int_equal(topic_name_validate(longest, LIMIT_TOPIC_NAME_LENGTH + 1, err, sizeof err),
                     ST_EINVAL);
    char expected[512];
    snprintf(expected, sizeof expected,
             "topic name '%.61s...' is 250 characters long; the maximum is 249", longest);
    assert_string_equal(err, expected);
}

/* ---- create / find ------------------------------------------------------------ */

static void create_and_find(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"retention.ms", "cleanup.policy"};
    const char *values[] = {"1000", "compact"};
    char err[512] = "";
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->reg, "orders", 6, 3, keys, values, 2, false, &t,
                                           err, sizeof err),
                     0);
    assert_non_null(t);
    assert_string_equal(t->name, "orders");
    assert_int_equal(t->partition_count, 3);
    assert_false(t->internal);
    assert_int_equal(t->id[6] >> 4, 4);          /* UUID v4 */
    assert_int_equal(t->id[8] & 0xc0, 0x80);     /* RFC 4122 variant */
    for (int32_t i = 0; i < 3; i++) {
        partition *p = topic_partition(t, i);
        assert_non_null(p);
        assert_ptr_equal(p->topic, t);
        assert_int_equal(p->index, i);
        assert_non_null(p->log);
    }
    assert_null(topic_partition(t, 3));
    assert_null(topic_partition(t, -1));
    assert_true(exists(f, "orders-0"));
    assert_true(exists(f, "orders-2"));
    assert_false(exists(f, "orders-3"));
    assert_true(exists(f, "__strait_topics/orders.topic"));
    assert_false(exists(f, "__strait_topics/orders.topic.tmp"));
    assert_effective(f, t, "retention.ms", "1000", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_effective(f, t, "cleanup.policy", "compact", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);

    assert_ptr_equal(topic_registry_find(f->reg, "orders", 6), t);
    assert_ptr_equal(topic_registry_find(f->reg, "orders-and-more", 6), t); /* by length */
    assert_null(topic_registry_find(f->reg, "order", 5));
    assert_null(topic_registry_find(f->reg, "ordersx", 7));

    /* name order, internal flag, default partition count (num.partitions) */
    topic *internal = create(f, "__consumer_offsets", 2);
    assert_true(internal->internal);
    topic *a = create(f, "alpha", -1);
    assert_int_equal(a->partition_count, f->config.num_partitions);
    assert_int_equal(topic_registry_count(f->reg), 3);
    assert_ptr_equal(topic_registry_at(f->reg, 0), internal);
    assert_ptr_equal(topic_registry_at(f->reg, 1), a);
    assert_ptr_equal(topic_registry_at(f->reg, 2), t);
    assert_null(topic_registry_at(f->reg, 3));
}

static void create_refusals(void **state)
{
    fixture *f = *state;
    char err[512];
    topic *t = NULL;
    create(f, "orders", 1);

    assert_int_equal(topic_registry_create(f->reg, "orders", 6, 1, NULL, NULL, 0, false, &t, err,
                                           sizeof err),
                     ST_EEXISTS);
    assert_string_equal(err, "topic 'orders' already exists");
    assert_null(t);

    assert_int_equal(topic_registry_create(f->reg, "bad name", 8, 1, NULL, NULL, 0, false, &t,
                                           err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "topic name 'bad name' is invalid: only ASCII letters, digits, '.', "
                             "'_' and '-' are allowed");

    create(f, "web.clicks", 1);
    assert_int_equal(topic_registry_create(f->reg, "web_clicks", 10, 1, NULL, NULL, 0, false, &t,
                                           err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "topic 'web_clicks' collides with existing topic 'web.clicks': names "
                             "may not differ only in '.' versus '_'");

    assert_int_equal(topic_registry_create(f->reg, "zero", 4, 0, NULL, NULL, 0, false, &t, err,
                                           sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "number of partitions must be between 1 and 10000, got 0");
    assert_int_equal(topic_registry_create(f->reg, "huge", 4, LIMIT_PARTITIONS_PER_TOPIC + 1, NULL,
                                           NULL, 0, false, &t, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "number of partitions must be between 1 and 10000, got 10001");

    const char *bad_key[] = {"retention.mz"};
    const char *value[] = {"1000"};
    assert_int_equal(topic_registry_create(f->reg, "cfg", 3, 1, bad_key, value, 1, false, &t, err,
                                           sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "unknown topic config 'retention.mz'"));
    const char *key[] = {"retention.ms"};
    const char *bad_value[] = {"soon"};
    assert_int_equal(topic_registry_create(f->reg, "cfg", 3, 1, key, bad_value, 1, false, &t, err,
                                           sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "retention.ms"));
    const char *null_value[] = {NULL};
    assert_int_equal(topic_registry_create(f->reg, "cfg", 3, 1, key, null_value, 1, false, &t,
                                           err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "config 'retention.ms' has a null value");

    /* nothing of the refused topics exists */
    assert_int_equal(topic_registry_count(f->reg), 2);
    assert_false(exists(f, "cfg-0"));
    assert_false(exists(f, "__strait_topics/cfg.topic"));
    assert_false(exists(f, "zero-0"));
}

static void validate_only_creates_nothing(void **state)
{
    fixture *f = *state;
    char err[512];
    topic *t = (topic *)1;
    const char *keys[] = {"retention.ms"};
    const char *values[] = {"5000"};
    assert_int_equal(topic_registry_create(f->reg, "dry", 3, 4, keys, values, 1, true, &t, err,
                                           sizeof err),
                     0);
    assert_null(t);
    assert_int_equal(topic_registry_count(f->reg), 0);
    assert_false(exists(f, "dry-0"));
    assert_false(exists(f, "__strait_topics/dry.topic"));
    /* and validate_only still refuses what a real create would */
    assert_int_equal(topic_registry_create(f->reg, "..", 2, 4, NULL, NULL, 0, true, &t, err,
                                           sizeof err),
                     ST_EINVAL);
}

/* ---- persistence --------------------------------------------------------------- */

static void persisted_across_reopen(void **state)
{
    fixture *f = *state;
    const char *keys[] = {"retention.ms"};
    const char *values[] = {"86400000"};
    char err[512];
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->reg, "orders", 6, 4, keys, values, 1, false, &t, err,
                                           sizeof err),
                     0);
    uint8_t id[16];
    memcpy(id, t->id, sizeof id);
    create(f, "payments", 2);
    char cluster_id[64];
    snprintf(cluster_id, sizeof cluster_id, "%s", topic_registry_cluster_id(f->reg));
    assert_int_equal(strlen(cluster_id), 22);
    assert_true(cluster_id_valid(cluster_id));

    reopen(f);
    assert_string_equal(topic_registry_cluster_id(f->reg), cluster_id);
    assert_int_equal(topic_registry_count(f->reg), 2);
    t = topic_registry_find(f->reg, "orders", 6);
    assert_non_null(t);
    assert_int_equal(t->partition_count, 4);
    assert_memory_equal(t->id, id, sizeof id);
    assert_effective(f, t, "retention.ms", "86400000", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    for (int32_t i = 0; i < 4; i++)
        assert_non_null(topic_partition(t, i)->log);
    assert_int_equal(topic_registry_find(f->reg, "payments", 8)->partition_count, 2);
}

static void cluster_id_rules(void **state)
{
    fixture *f = *state;
    char stored[64];
    snprintf(stored, sizeof stored, "%s", topic_registry_cluster_id(f->reg));
    topic_registry_close(f->reg);
    f->reg = NULL;

    /* the same id in the config is fine */
    snprintf(f->config.cluster_id, sizeof f->config.cluster_id, "%s", stored);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
    topic_registry_close(f->reg);
    f->reg = NULL;

    /* another cluster's id is refused */
    snprintf(f->config.cluster_id, sizeof f->config.cluster_id, "AnotherClusterId123456");
    assert_int_equal(topic_registry_open(&f->config, &f->reg), ST_ECONFIG);
    assert_null(f->reg);

    /* the node id is fixed too */
    f->config.cluster_id[0] = '\0';
    f->config.node_id += 1;
    assert_int_equal(topic_registry_open(&f->config, &f->reg), ST_ECONFIG);
    f->config.node_id -= 1;
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
    assert_string_equal(topic_registry_cluster_id(f->reg), stored);

    /* a configured id is used for a new data directory */
    char dir[128], err[512];
    snprintf(dir, sizeof dir, "%s/fresh", f->root);
    assert_int_equal(file_mkdirs(dir), 0);
    cluster_meta meta;
    assert_int_equal(cluster_meta_load_or_create(dir, "east-west-1", 7, &meta, err, sizeof err), 0);
    assert_string_equal(meta.cluster_id, "east-west-1");
    assert_int_equal(meta.node_id, 7);
    assert_int_equal(cluster_meta_load_or_create(dir, "", 7, &meta, err, sizeof err), 0);
    assert_string_equal(meta.cluster_id, "east-west-1");
    assert_int_equal(cluster_meta_load_or_create(dir, "other", 7, &meta, err, sizeof err),
                     ST_ECONFIG);
    char expected[512];
    snprintf(expected, sizeof expected,
             "cluster.id mismatch: the broker config says 'other' but %s/meta.properties says "
             "'east-west-1'; this data directory belongs to another cluster (use another "
             "log.dirs, or fix cluster.id)",
             dir);
    assert_string_equal(err, expected);
    assert_int_equal(cluster_meta_load_or_create(dir, "bad id!", 7, &meta, err, sizeof err),
                     ST_ECONFIG);

    /* generated ids: 22 chars of base64url, never starting with '-', all different */
    char a[23], b[23];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(cluster_id_generate(a), 0);
        assert_int_equal(strlen(a), 22);
        assert_true(cluster_id_valid(a));
        assert_true(a[0] != '-');
    }
    assert_int_equal(cluster_id_generate(b), 0);
    assert_string_not_equal(a, b);
}

static void corrupt_topic_file_refused(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    topic_registry_close(f->reg);
    f->reg = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/data/__strait_topics/orders.topic", f->root);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("id=not-a-uuid\npartitions=1\n", file);
    fclose(file);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), ST_ECORRUPT);
    file = fopen(path, "w");
    fputs("id=0123456789abcdef0123456789abcdef\npartitions=1\nretention.mz=5\n", file);
    fclose(file);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), ST_ECORRUPT);
    file = fopen(path, "w");
    fputs("id=0123456789abcdef0123456789abcdef\npartitions=0\n", file);
    fclose(file);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), ST_ECORRUPT);
    /* a valid one loads, and a leftover .tmp is cleaned up */
    file = fopen(path, "w");
    fputs("id=01234567-89ab-4def-8123-456789abcdef\npartitions=2\nretention.ms=5\n", file);
    fclose(file);
    snprintf(path, sizeof path, "%s/data/__strait_topics/orders.topic.tmp", f->root);
    file = fopen(path, "w");
    fputs("garbage", file);
    fclose(file);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
    topic *t = topic_registry_find(f->reg, "orders", 6);
    assert_non_null(t);
    assert_int_equal(t->partition_count, 2);
    assert_int_equal(t->id[0], 0x01);
    assert_int_equal(t->id[15], 0xef);
    assert_false(exists(f, "__strait_topics/orders.topic.tmp"));
}

/* ---- delete ------------------------------------------------------------------ */

static void delete_topic(void **state)
{
    fixture *f = *state;
    create(f, "orders", 3);
    create(f, "keep", 1);
    assert_int_equal(topic_registry_delete(f->reg, "orders", 6), 0);
    assert_null(topic_registry_find(f->reg, "orders", 6));
    assert_int_equal(topic_registry_count(f->reg), 1);
    assert_false(exists(f, "orders-0"));
    assert_false(exists(f, "orders-2"));
    assert_false(exists(f, "__strait_topics/orders.topic"));
    assert_false(exists(f, "__strait_topics/orders.topic.deleting"));
    assert_int_equal(topic_registry_delete(f->reg, "orders", 6), ST_ENOTFOUND);
    reopen(f);
    assert_null(topic_registry_find(f->reg, "orders", 6));
    assert_non_null(topic_registry_find(f->reg, "keep", 4));
    /* the name is free again, and the new topic starts empty with a new id */
    topic *again = create(f, "orders", 1);
    assert_int_equal(again->partition_count, 1);
}

static void interrupted_delete_finishes_at_open(void **state)
{
    fixture *f = *state;
    create(f, "orders", 2);
    topic_registry_close(f->reg);
    f->reg = NULL;
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/data/__strait_topics/orders.topic", f->root);
    snprintf(to, sizeof to, "%s/data/__strait_topics/orders.topic.deleting", f->root);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(topic_registry_open(&f->config, &f->reg), 0);
    assert_null(topic_registry_find(f->reg, "orders", 6));
    assert_false(exists(f, "orders-0"));
    assert_false(exists(f, "orders-1"));
    assert_false(exists(f, "__strait_topics/orders.topic.deleting"));
}

/* ---- add partitions ----------------------------------------------------------- */

static void add_partitions(void **state)
{
    fixture *f = *state;
    char err[512];
    topic *t = create(f, "orders", 2);
    partition *first = topic_partition(t, 0);
    plog *first_log = first->log;

    assert_int_equal(topic_registry_add_partitions(f->reg, t, 2, false, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "topic 'orders' has 2 partitions; the new count (2) must be greater");
    assert_int_equal(topic_registry_add_partitions(f->reg, t, 1, false, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "topic 'orders' has 2 partitions; the new count (1) must be greater");
    assert_int_equal(topic_registry_add_partitions(f->reg, t, 5, true, err, sizeof err), 0);
    assert_int_equal(t->partition_count, 2);
    assert_false(exists(f, "orders-2"));

    assert_int_equal(topic_registry_add_partitions(f->reg, t, 5, false, err, sizeof err), 0);
    assert_int_equal(t->partition_count, 5);
    assert_true(exists(f, "orders-4"));
    assert_ptr_equal(topic_partition(t, 0)->log, first_log);
    /* a partition pointer taken before the growth still reads the same log */
    assert_ptr_equal(first->log, first_log);
    assert_int_equal(topic_partition(t, 4)->index, 4);
    assert_ptr_equal(topic_partition(t, 4)->topic, t);

    assert_int_equal(topic_registry_add_partitions(f->reg, t, LIMIT_PARTITIONS_PER_TOPIC + 1,
                                                   false, err, sizeof err),
                     ST_EINVAL);
    reopen(f);
    assert_int_equal(topic_registry_find(f->reg, "orders", 6)->partition_count, 5);
}

/* ---- configs ------------------------------------------------------------------ */

static void alter_config_incremental(void **state)
{
    fixture *f = *state;
    char err[512];
    topic *t = create(f, "orders", 1);
    const char *keys[] = {"retention.ms", "cleanup.policy"};
    const char *values[] = {"2000", "compact"};
    const int8_t ops[] = {0, 2}; /* SET, APPEND */
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, keys, values, ops, 2, false, err,
                                                 sizeof err),
                     0);
    assert_effective(f, t, "retention.ms", "2000", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_effective(f, t, "cleanup.policy", "delete,compact", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);

    const char *sub_keys[] = {"cleanup.policy"};
    const char *sub_values[] = {"delete"};
    const int8_t sub_ops[] = {3}; /* SUBTRACT */
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, sub_keys, sub_values, sub_ops, 1,
                                                 false, err, sizeof err),
                     0);
    assert_effective(f, t, "cleanup.policy", "compact", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);

    /* APPEND to a non-list config: refused, nothing changes (the valid SET
     * before it in the same request is not applied either) */
    const char *mixed_keys[] = {"retention.ms", "segment.ms"};
    const char *mixed_values[] = {"3000", "10"};
    const int8_t mixed_ops[] = {0, 2};
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, mixed_keys, mixed_values,
                                                 mixed_ops, 2, false, err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "cannot APPEND to 'segment.ms': it is not a list config");
    assert_effective(f, t, "retention.ms", "2000", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);

    /* DELETE goes back to the default; validate_only changes nothing */
    const char *del_keys[] = {"retention.ms"};
    const int8_t del_ops[] = {1};
    const char *no_values[] = {NULL};
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, del_keys, no_values, del_ops, 1,
                                                 true, err, sizeof err),
                     0);
    assert_effective(f, t, "retention.ms", "2000", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, del_keys, no_values, del_ops, 1,
                                                 false, err, sizeof err),
                     0);
    char value[TOPIC_CONFIG_VALUE_MAX];
    assert_int_equal(topic_config_get(&t->config, &f->config, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DEFAULT);

    /* SET without a value, unknown operations and repeated keys are bad requests */
    const int8_t set_op[] = {0};
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, del_keys, no_values, set_op, 1,
                                                 false, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "SET of 'retention.ms' needs a value");
    const int8_t bad_op[] = {9};
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, del_keys, values, bad_op, 1,
                                                 false, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "unknown config operation 9 for 'retention.ms'");
    const char *twice[] = {"retention.ms", "retention.ms"};
    const int8_t two_sets[] = {0, 0};
    assert_int_equal(topic_registry_alter_config(f->reg, t, true, twice, values, two_sets, 2,
                                                 false, err, sizeof err),
                     ST_EINVAL);
    assert_string_equal(err, "config 'retention.ms' appears more than once");

    reopen(f);
    t = topic_registry_find(f->reg, "orders", 6);
    assert_effective(f, t, "cleanup.policy", "compact", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    assert_int_equal(t->config.count, 1);
}

static void alter_config_replace(void **state)
{
    fixture *f = *state;
    char err[512];
    const char *keys[] = {"retention.ms", "segment.bytes"};
    const char *values[] = {"1000", "1048576"};
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->reg, "orders", 6, 1, keys, values, 2, false, &t, err,
                                           sizeof err),
                     0);
    /* AlterConfigs replaces the whole set of overrides */
    const char *new_keys[] = {"retention.bytes"};
    const char *new_values[] = {"4096"};
    assert_int_equal(topic_registry_alter_config(f->reg, t, false, new_keys, new_values, NULL, 1,
                                                 false, err, sizeof err),
                     0);
    assert_int_equal(t->config.count, 1);
    assert_effective(f, t, "retention.bytes", "4096", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    char value[TOPIC_CONFIG_VALUE_MAX];
    assert_int_equal(topic_config_get(&t->config, &f->config, "retention.ms", value, sizeof value),
                     TOPIC_CONFIG_SOURCE_DEFAULT);

    /* a bad value anywhere: refused, the overrides stay as they were */
    const char *bad_keys[] = {"retention.ms", "segment.bytes"};
    const char *bad_values[] = {"5", "tiny"};
    assert_int_equal(topic_registry_alter_config(f->reg, t, false, bad_keys, bad_values, NULL, 2,
                                                 false, err, sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "segment.bytes"));
    assert_int_equal(t->config.count, 1);
    assert_effective(f, t, "retention.bytes", "4096", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
    const char *unknown[] = {"retention.mz"};
    const char *nothing[] = {NULL};
    assert_int_equal(topic_registry_alter_config(f->reg, t, false, unknown, nothing, NULL, 1,
                                                 false, err, sizeof err),
                     ST_ECONFIG);
    assert_non_null(strstr(err, "unknown topic config 'retention.mz'"));
    reopen(f);
    t = topic_registry_find(f->reg, "orders", 6);
    assert_int_equal(t->config.count, 1);
    assert_effective(f, t, "retention.bytes", "4096", TOPIC_CONFIG_SOURCE_DYNAMIC_TOPIC);
}

static void tick_runs(void **state)
{
    fixture *f = *state;
    create(f, "orders", 2);
    topic_registry_tick(f->reg, 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_rules),
        cmocka_unit_test_setup_teardown(create_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(validate_only_creates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(persisted_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(cluster_id_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_topic_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_delete_finishes_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(add_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(alter_config_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(alter_config_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(tick_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
