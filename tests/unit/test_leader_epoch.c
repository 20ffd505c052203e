/*
 * test_leader_epoch.c - unit tests of the leader-epoch cache: assignment
 * rules, truncation at both ends, OffsetForLeaderEpoch answers, the entry
 * cap, and checkpoint round trips including files that break the invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/leader_epoch.h"
#include "common/limits.h"
#include "common/error.h"

static void expect_end(const leader_epoch_cache *c, int32_t epoch, int64_t log_end,
                       int32_t want_epoch, int64_t want_offset)
{
    int32_t found;
    int64_t end;
    leader_epoch_end_offset(c, epoch, log_end, &found, &end);
    assert_int_equal(found, want_epoch);
    assert_int_equal(end, want_offset);
}

static void test_assign_and_lookup(void **state)
{
    (void)state;
    leader_epoch_cache c;
    leader_epoch_init(&c);
    assert_int_equal(leader_epoch_latest(&c), -1);
    expect_end(&c, 0, 10, -1, -1);
    assert_int_equal(leader_epoch_assign(&c, 2, 0), 1);
    assert_int_equal(leader_epoch_assign(&c, 2, 5), 0);  /* same epoch */
    assert_int_equal(leader_epoch_assign(&c, 1, 5), 0);  /* lower epoch */
    assert_int_equal(leader_epoch_assign(&c, 4, 10), 1);
    assert_int_equal(leader_epoch_assign(&c, 5, 10), 1); /* nothing written in 4 */
    assert_int_equal(leader_epoch_assign(&c, 7, 3), ST_EINVAL); /* offset going back */
    assert_int_equal(leader_epoch_assign(&c, -1, 30), ST_EINVAL);
    assert_int_equal(leader_epoch_latest(&c), 5);
    expect_end(&c, 1, 20, -1, -1);
    expect_end(&c, 2, 20, 2, 10);
    expect_end(&c, 3, 20, 2, 10);
    expect_end(&c, 4, 20, 4, 10);
    expect_end(&c, 5, 20, 5, 20);
    expect_end(&c, 6, 20, -1, -1);
    leader_epoch_free(&c);
}

static void test_truncation(void **state)
{
    (void)state;
    leader_epoch_cache c;
    leader_epoch_init(&c);
    leader_epoch_assign(&c, 0, 0);
    leader_epoch_assign(&c, 1, 10);
    leader_epoch_assign(&c, 2, 20);
    leader_epoch_assign(&c, 3, 30);
    assert_false(leader_epoch_truncate_end(&c, 30)); /* epoch 3 starts at the end: kept */
    assert_true(leader_epoch_truncate_end(&c, 25));
    assert_int_equal(leader_epoch_latest(&c), 2);
    assert_false(leader_epoch_truncate_start(&c, 0));
    assert_true(leader_epoch_truncate_start(&c, 15));
    assert_int_equal(c.count, 2);
    assert_int_equal(c.entries[0].epoch, 1);
    assert_int_equal(c.entries[0].start_offset, 15);
    assert_true(leader_epoch_truncate_start(&c, 20));
    assert_int_equal(c.count, 1);
    assert_int_equal(c.entries[0].epoch, 2);
    expect_end(&c, 1, 25, -1, -1);
    expect_end(&c, 2, 25, 2, 25);
    leader_epoch_free(&c);
}

static void test_cap_drops_oldest(void **state)
{
    (void)state;
    leader_epoch_cache c;
    leader_epoch_init(&c);
    for (int32_t e = 0; e < LIMIT_LEADER_EPOCH_ENTRIES + 5; e++)
        assert_int_equal(leader_epoch_assign(&c, e, e), 1);
    assert_int_equal(c.count, LIMIT_LEADER_EPOCH_ENTRIES);
    assert_int_equal(c.entries[0].epoch, 5);
    leader_epoch_free(&c);
}

static void write_text(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, LEADER_EPOCH_CHECKPOINT_NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/strait-epoch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    leader_epoch_cache c, back;
    leader_epoch_init(&c);
    leader_epoch_init(&back);
    assert_int_equal(leader_epoch_load(&back, dir), ST_ENOTFOUND);
    leader_epoch_assign(&c, 0, 0);
    leader_epoch_assign(&c, 3, 100);
    leader_epoch_assign(&c, 9, 100);
    assert_int_equal(leader_epoch_save(&c, dir), 0);
    assert_int_equal(leader_epoch_load(&back, dir), 0);
    assert_int_equal(back.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(back.entries[i].epoch, c.entries[i].epoch);
        assert_int_equal(back.entries[i].start_offset, c.entries[i].start_offset);
    }
    static const char *bad[] = {"0\n2\n3 0\n1 5\n",   /* epochs not increasing */
                                "0\n2\n1 50\n3 5\n",  /* offsets going back */
                                "0\n1\n-1 0\n",       /* negative epoch */
                                "0\n1\n4294967296 0\n", /* epoch beyond int32 */
                                "0\n1\n1 -5\n",       /* negative offset */
                                "0\n1\n1 5\n2 6\n"};  /* more lines than counted */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(dir, bad[i]);
        assert_int_equal(leader_epoch_load(&back, dir), ST_ECORRUPT);
        assert_int_equal(back.count, 0);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, LEADER_EPOCH_CHECKPOINT_NAME);
    unlink(path);
    rmdir(dir);
    leader_epoch_free(&c);
    leader_epoch_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign_and_lookup),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_cap_drops_oldest),
        cmocka_unit_test(test_checkpoint_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
