/* test_mirror_config.c - which topic configs follow a topic across regions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "mirror/topic_config.h"

static void portable_names(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "cleanup.policy", "retention.ms", "retention.bytes", "segment.bytes", "segment.ms",
        "segment.index.bytes", "max.message.bytes", "compression.type",
        "message.timestamp.type", "min.compaction.lag.ms", "max.compaction.lag.ms",
        "delete.retention.ms", "min.cleanable.dirty.ratio",
    };
    static const char *const no[] = {
        "min.insync.replicas", "unclean.leader.election.enable", "leader.replication.throttled.replicas",
        "follower.replication.throttled.replicas", "flush.ms", "flush.messages", "retention.",
        "segment.", "retention", "cleanup.policyx", "", "preallocate",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!mirror_config_portable(yes[i]))
            fail_msg("%s should be portable", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (mirror_config_portable(no[i]))
            fail_msg("%s should not be portable", no[i]);
    assert_false(mirror_config_portable(NULL));
}

static void keep_filters_defaults_and_read_only(void **state)
{
    (void)state;
    assert_true(mirror_config_keep("cleanup.policy", "compact", false, false, false));
    assert_false(mirror_config_keep("cleanup.policy", "delete", true, false, false));
    assert_false(mirror_config_keep("retention.ms", "1000", false, true, false));
    assert_false(mirror_config_keep("retention.ms", "1000", false, false, true));
    assert_false(mirror_config_keep("retention.ms", NULL, false, false, false));
    assert_false(mirror_config_keep("min.insync.replicas", "2", false, false, false));
}

static void set_put_get_equal(void **state)
{
    (void)state;
    mirror_config_set a = {0}, b = {0};
    assert_int_equal(mirror_config_set_put(&a, "cleanup.policy", "compact"), 0);
    assert_int_equal(mirror_config_set_put(&a, "retention.ms", "1000"), 0);
    assert_int_equal(mirror_config_set_put(&b, "retention.ms", "1000"), 0);
    assert_false(mirror_config_set_equal(&a, &b));
    assert_int_equal(mirror_config_set_put(&b, "cleanup.policy", "compact"), 0);
    assert_true(mirror_config_set_equal(&a, &b)); /* order does not matter */
    assert_int_equal(mirror_config_set_put(&b, "retention.ms", "2000"), 0); /* replace */
    assert_int_equal(b.count, 2);
    assert_string_equal(mirror_config_set_get(&b, "retention.ms"), "2000");
    assert_false(mirror_config_set_equal(&a, &b));
    assert_null(mirror_config_set_get(&b, "segment.ms"));

    mirror_config_set full = {0};
    char name[32];
    for (int i = 0; i < MIRROR_TOPIC_CONFIGS_MAX; i++) {
        snprintf(name, sizeof name, "retention.x%d", i);
        assert_int_equal(mirror_config_set_put(&full, name, "1"), 0);
    }
    assert_int_equal(mirror_config_set_put(&full, "segment.ms", "1"), ST_ETOOBIG);
    char big[MIRROR_CONFIG_VALUE_MAX + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(mirror_config_set_put(&a, "retention.ms", big), ST_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(portable_names),
        cmocka_unit_test(keep_filters_defaults_and_read_only),
        cmocka_unit_test(set_put_get_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
