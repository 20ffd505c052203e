/*
 * test_file_faults.c - the files strait writes whole (file_write_atomic):
 * a producer snapshot, a checkpoint file and the region state, written with
 * the Nth allocation, write, fsync, rename, open, ftruncate or read failing
 * in turn (fault_loop.h), and with the power lost right after the write
 * (fault_power_*). Each time the write returns an error or 0, nothing leaks,
 * no .tmp is left, and the file reads back whole: the old contents or the
 * new ones, the new ones whenever the write returned 0; the region state in
 * memory changes only with the file.
 *
 * Runs only in a program linked with the wrapped functions (CMakeLists.txt,
 * FAULT_INJECTION_TESTS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/cluster/region_state.h"
#include "broker/log/checkpoint_file.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/producer_snapshot.h"
#include "broker/log/producer_state.h"
#include "common/log.h"
#include "log_test_helpers.h"
#include "fault_loop.h"

#define NOW_MS 1700000000000LL

/* ---- scenario: producer snapshot write ------------------------------------------- */

typedef struct snapshot_ctx {
    test_dir dir;
    producer_state *before; /* what the file holds before the write */
    producer_state *after;  /* what the write writes */
} snapshot_ctx;

static void add_producer(producer_state *ps, int64_t producer_id, int64_t offset)
{
    batch_header h;
    memset(&h, 0, sizeof h);
    h.producer_id = producer_id;
    h.producer_epoch = 1;
    h.base_sequence = 0;
    h.base_offset = offset;
    h.last_offset_delta = 2;
    assert_int_equal(producer_state_update(ps, &h, NOW_MS), 0);
}

static void snapshot_prepare(void *arg)
{
    snapshot_ctx *x = arg;
    fault_dir_make(&x->dir);
    assert_int_equal(mkdir(x->dir.log, 0755), 0);
    assert_int_equal(producer_state_create(100, &x->before), 0);
    assert_int_equal(producer_state_create(100, &x->after), 0);
    for (int i = 0; i < 3; i++)
        add_producer(x->before, 100 + i, 10 * i);
    for (int i = 0; i < 5; i++)
        add_producer(x->after, 200 + i, 10 * i);
    assert_int_equal(producer_snapshot_write(x->before, x->dir.log, 100), 0);
}

static int snapshot_run(void *arg)
{
    snapshot_ctx *x = arg;
    return producer_snapshot_write(x->after, x->dir.log, 100);
}

static void snapshot_verify(void *arg, int rc, bool faulted)
{
    (void)faulted;
    snapshot_ctx *x = arg;
    producer_state *back = NULL;
    assert_int_equal(producer_state_create(100, &back), 0);
    assert_int_equal(producer_snapshot_read(x->dir.log, 100, back), 0);
    /* the old snapshot or the new one, whole; the new one when the write said so */
    bool is_new = producer_state_find(back, 200) != NULL;
    assert_int_equal(producer_state_count(back), is_new ? 5 : 3);
    if (rc == 0)
        assert_true(is_new);
    assert_int_equal(test_count_files(&x->dir, ".tmp"), 0);
    producer_state_free(back);
}

static void snapshot_cleanup(void *arg)
{
    snapshot_ctx *x = arg;
    producer_state_free(x->before);
    producer_state_free(x->after);
    test_dir_remove(&x->dir);
}

static void test_producer_snapshot_write_under_faults(void **state)
{
    (void)state;
    snapshot_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"snapshot", snapshot_prepare, snapshot_run, snapshot_verify, snapshot_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: checkpoint file write ---------------------------------------------- */

typedef struct checkpoint_ctx {
    test_dir dir;
} checkpoint_ctx;

static const int64_t checkpoint_old[4] = {1, 100, 2, 200};
static const int64_t checkpoint_new[6] = {1, 100, 2, 200, 3, 300};

static void checkpoint_prepare(void *arg)
{
    checkpoint_ctx *x = arg;
    fault_dir_make(&x->dir);
    assert_int_equal(mkdir(x->dir.log, 0755), 0);
    assert_int_equal(checkpoint_write(x->dir.log, LEADER_EPOCH_CHECKPOINT_NAME, checkpoint_old, 2, 2), 0);
}

static int checkpoint_run(void *arg)
{
    checkpoint_ctx *x = arg;
    return checkpoint_write(x->dir.log, LEADER_EPOCH_CHECKPOINT_NAME, checkpoint_new, 3, 2);
}

static void checkpoint_verify(void *arg, int rc, bool faulted)
{
    (void)faulted;
    checkpoint_ctx *x = arg;
    int64_t values[8];
    size_t entries = 0;
    assert_int_equal(checkpoint_read(x->dir.log, LEADER_EPOCH_CHECKPOINT_NAME, 2, values, 4, &entries), 0);
    assert_true(entries == 2 || entries == 3);
    if (rc == 0)
        assert_int_equal(entries, 3);
    assert_memory_equal(values, entries == 3 ? checkpoint_new : checkpoint_old, entries * 2 * sizeof values[0]);
    assert_int_equal(test_count_files(&x->dir, ".tmp"), 0);
}

static void checkpoint_cleanup(void *arg)
{
    checkpoint_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_checkpoint_file_write_under_faults(void **state)
{
    (void)state;
    checkpoint_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"checkpoint", checkpoint_prepare, checkpoint_run, checkpoint_verify, checkpoint_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* With the power lost after the write: old or new contents, the new ones
 * whenever the write returned 0 (file_write_atomic: tmp fsynced, renamed,
 * directory fsynced). */
static void checkpoint_power_prepare(void *arg)
{
    checkpoint_ctx *x = arg;
    checkpoint_prepare(x);
    fault_power_track(x->dir.log);
}

static int checkpoint_power_run(void *arg)
{
    int rc = checkpoint_run(arg);
    fault_power_cut();
    return rc;
}

static void checkpoint_power_verify(void *arg, int rc, bool faulted)
{
    fault_power_restore();
    checkpoint_verify(arg, rc, faulted);
}

static void test_checkpoint_file_write_power_loss(void **state)
{
    (void)state;
    checkpoint_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"checkpoint-power", checkpoint_power_prepare, checkpoint_power_run, checkpoint_power_verify,
                   checkpoint_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: region state change ------------------------------------------------ */

typedef struct region_ctx {
    test_dir dir;
    region_state *rs;
} region_ctx;

static int region_apply(region_state *rs, const char *role, const char *epoch)
{
    const char *keys[3] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_TOPICS};
    const char *values[3] = {role, epoch, "orders,payments\\..*"};
    char err[256];
    return region_state_apply(rs, keys, values, NULL, 3, false, false, err, sizeof err);
}

static void region_prepare(void *arg)
{
    region_ctx *x = arg;
    fault_dir_make(&x->dir);
    assert_int_equal(region_state_open(x->dir.root, &x->rs), 0);
    assert_int_equal(region_apply(x->rs, "active", "4"), 0);
}

static int region_run(void *arg)
{
    region_ctx *x = arg;
    return region_apply(x->rs, "fenced", "5");
}

static void region_verify(void *arg, int rc, bool faulted)
{
    (void)faulted;
    region_ctx *x = arg;
    /* in memory: unchanged unless the change was persisted */
    assert_int_equal(region_state_epoch(x->rs), rc == 0 ? 5 : 4);
    region_state *back = NULL;
    assert_int_equal(region_state_open(x->dir.root, &back), 0);
    int32_t epoch = region_state_epoch(back);
    assert_true(epoch == 4 || epoch == 5);
    assert_int_equal(region_state_role(back), epoch == 5 ? REGION_ROLE_FENCED : REGION_ROLE_ACTIVE);
    if (rc == 0)
        assert_int_equal(epoch, 5);
    region_state_close(back);
}

static void region_cleanup(void *arg)
{
    region_ctx *x = arg;
    region_state_close(x->rs);
    x->rs = NULL;
    test_dir_remove(&x->dir);
}

static void region_power_prepare(void *arg)
{
    region_ctx *x = arg;
    region_prepare(x);
    fault_power_track(x->dir.root);
}

static int region_power_run(void *arg)
{
    int rc = region_run(arg);
    fault_power_cut();
    return rc;
}

static void region_power_verify(void *arg, int rc, bool faulted)
{
    fault_power_restore();
    region_verify(arg, rc, faulted);
}

static void test_region_state_change_power_loss(void **state)
{
    (void)state;
    region_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"region-power", region_power_prepare, region_power_run, region_power_verify, region_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

static void test_region_state_change_under_faults(void **state)
{
    (void)state;
    region_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"region", region_prepare, region_run, region_verify, region_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

int main(void)
{
    log_set_level(LOG_ERROR + 1); /* thousands of expected failures: keep the output short */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producer_snapshot_write_under_faults),
        cmocka_unit_test(test_checkpoint_file_write_under_faults),
        cmocka_unit_test(test_checkpoint_file_write_power_loss),
        cmocka_unit_test(test_region_state_change_under_faults),
        cmocka_unit_test(test_region_state_change_power_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
