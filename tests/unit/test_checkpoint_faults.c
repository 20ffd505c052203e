/*
 * test_checkpoint_faults.c - the checkpoint store under faults (issue 4 item
 * 8: "SQLite busy/corrupt -> clear error and stop rather than translate
 * wrongly"):
 *   - another connection holds the write lock past the busy timeout: extend
 *     fails with ST_EIO, the flow is faulted, its translations and group
 *     checkpoints fail (other flows are unaffected), the probe reports the
 *     lock; once it is gone, extend and probe work, translations stay refused
 *     until checkpoint_flow_fault_clear;
 *   - pages in the middle of a closed file overwritten: open refuses it with
 *     ST_ECORRUPT (PRAGMA quick_check), not at the first translation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoints/checkpoint_store.h"
#include "common/error.h"

#define FLOW "east->west"
#define OTHER_FLOW "south->west"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/strait-ckptfault-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/west.sqlite", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char command[200];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

/* Maps source offsets [from, from + count) of flow/orders-0 at target from + 100. */
static void extend_run(checkpoint_store *s, const char *flow, int64_t from, int count, int expect)
{
    checkpoint_pair pairs[512];
    assert_true(count <= 512);
    for (int i = 0; i < count; i++)
        pairs[i] = (checkpoint_pair){from + i, from + i + 100};
    assert_int_equal(checkpoint_map_extend(s, flow, "orders", 0, pairs, (size_t)count), expect);
}

static int64_t translate(checkpoint_store *s, const char *flow, int64_t offset, int expect)
{
    int64_t target = -2;
    bool found = false;
    assert_int_equal(checkpoint_translate(s, flow, "orders", 0, offset, &target, &found), expect);
    return target;
}

static int count_rows(void *arg, const checkpoint_group_offset *g)
{
    (void)g;
    (*(int *)arg)++;
    return 0;
}

static void test_busy_beyond_timeout_faults_the_flow(void **state)
{
    fixture *f = *state;
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(f->path, &s), 0);
    extend_run(s, FLOW, 0, 10, 0);
    extend_run(s, OTHER_FLOW, 0, 10, 0);
    checkpoint_group_offset g = {.group = "billing", .topic = "orders", .source_offset = 5, .target_offset = 105};
    assert_int_equal(checkpoint_group_put(s, FLOW, &g), 0);
    assert_int_equal(checkpoint_flow_fault(s, FLOW), 0);

    /* Another process (here: another connection) takes the write lock. */
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    extend_run(s, FLOW, 10, 5, ST_EIO); /* after the 5 s busy timeout */
    assert_int_equal(checkpoint_flow_fault(s, FLOW), ST_EIO);
    assert_int_equal(checkpoint_flow_fault(s, OTHER_FLOW), 0);
    /* Refused rather than answered from a map that is behind the target. */
    translate(s, FLOW, 3, ST_EIO);
    int rows = 0;
    assert_int_equal(checkpoint_group_each(s, FLOW, NULL, count_rows, &rows), ST_EIO);
    assert_int_equal(rows, 0);
    assert_int_equal(checkpoint_group_put(s, FLOW, &g), ST_EIO);
    /* Reads of another flow still work (WAL: the lock blocks writers only). */
    assert_int_equal(translate(s, OTHER_FLOW, 3, 0), 103);

    /* The lock goes away: writes work, translations wait for the repair. */
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
    assert_int_equal(checkpoint_store_probe(s), 0);
    extend_run(s, FLOW, 10, 5, 0);
    checkpoint_pair last;
    bool found = false;
    assert_int_equal(checkpoint_map_last(s, FLOW, "orders", 0, &last, &found), 0);
    assert_true(found);
    assert_int_equal(last.source_offset, 14);
    translate(s, FLOW, 12, ST_EIO);
    checkpoint_flow_fault_clear(s, FLOW);
    assert_int_equal(checkpoint_flow_fault(s, FLOW), 0);
    assert_int_equal(translate(s, FLOW, 12, 0), 112);
    rows = 0;
    assert_int_equal(checkpoint_group_each(s, FLOW, NULL, count_rows, &rows), 0);
    assert_int_equal(rows, 1);
    checkpoint_store_close(s);
}

static void test_probe_reports_a_held_lock(void **state)
{
    fixture *f = *state;
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(f->path, &s), 0);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(checkpoint_store_probe(s), ST_EIO);
    /* a probe is not a failed map write: nothing is faulted */
    assert_int_equal(checkpoint_flow_fault(s, FLOW), 0);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    assert_int_equal(checkpoint_store_probe(s), 0);
    checkpoint_store_close(s);
}

/* Overwrites pages [first, last) of the file with a byte pattern. */
static void damage_pages(const char *path, int first, int last)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    int page_size = 4096;
    assert_true(st.st_size >= (off_t)last * page_size);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(0xA5 ^ (i * 31));
    for (int page = first; page < last; page++)
        assert_int_equal(pwrite(fd, garbage, sizeof garbage, (off_t)page * page_size), (ssize_t)sizeof garbage);
    close(fd);
}

static void test_damaged_file_is_refused_at_open(void **state)
{
    fixture *f = *state;
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(f->path, &s), 0);
    /* enough ranges (a gap every record) to spread the map over many pages */
    for (int batch = 0; batch < 20; batch++) {
        checkpoint_pair pairs[500];
        for (int i = 0; i < 500; i++) {
            int64_t n = (int64_t)batch * 500 + i;
            pairs[i] = (checkpoint_pair){2 * n, 3 * n};
        }
        assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, pairs, 500), 0);
    }
    checkpoint_store_close(s); /* checkpoints the WAL into the file */
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    int pages = (int)(st.st_size / 4096);
    assert_true(pages > 8);
    damage_pages(f->path, pages / 2, pages / 2 + 2);
    assert_int_equal(checkpoint_store_open(f->path, &s), ST_ECORRUPT);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_busy_beyond_timeout_faults_the_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_reports_a_held_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file_is_refused_at_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
