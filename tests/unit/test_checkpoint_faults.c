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
 *     ST_ECORRUPT (PRAGMA quick_check), not at the first translation;
 *   - the Nth allocation (the store's own and SQLite's, through
 *     SQLITE_CONFIG_MALLOC) or the Nth open, read, write, fsync or truncate
 *     of SQLite's files (through a VFS wrapping the default one) fails, in
 *     turn, while a store is opened, extended, given a group checkpoint and
 *     closed: each time an error value or success, no leak, and the file
 *     reopens (quick_check) with every acknowledged pair and checkpoint.
 *     SQLite's calls go through the hooks in main(); the store's own
 *     allocations through the wrapped functions (fault_injection.h).
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
#include "common/log.h"
#include "fault_injection.h"

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

/* In memory when /dev/shm exists: the fault loop opens and fsyncs the store
 * thousands of times. */
static int setup_memory(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/strait-ckptfault-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
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

/* ---- SQLite's allocator and files under faults ----------------------------------- */

static sqlite3_mem_methods sqlite_memory; /* SQLite's own, which the hooks call */

static void *faulty_malloc(int bytes)
{
    return fault_should_fail(FAULT_ALLOC) ? NULL : sqlite_memory.xMalloc(bytes);
}

static void *faulty_realloc(void *p, int bytes)
{
    return fault_should_fail(FAULT_ALLOC) ? NULL : sqlite_memory.xRealloc(p, bytes);
}

static void faulty_free(void *p) { sqlite_memory.xFree(p); }
static int faulty_size(void *p) { return sqlite_memory.xSize(p); }
static int faulty_roundup(int bytes) { return sqlite_memory.xRoundup(bytes); }
static int faulty_init(void *arg) { return sqlite_memory.xInit(arg); }
static void faulty_shutdown(void *arg) { sqlite_memory.xShutdown(arg); }

/* A file of the wrapping VFS: the default VFS's file follows it in memory. */
typedef struct faulty_file {
    sqlite3_file base;
    sqlite3_file *real;
} faulty_file;

static sqlite3_vfs *real_vfs;

static int faulty_close(sqlite3_file *f) { return ((faulty_file *)f)->real->pMethods->xClose(((faulty_file *)f)->real); }

static int faulty_read(sqlite3_file *f, void *data, int len, sqlite3_int64 position)
{
    sqlite3_file *real = ((faulty_file *)f)->real;
    return fault_should_fail(FAULT_READ) ? SQLITE_IOERR_READ : real->pMethods->xRead(real, data, len, position);
}

static int faulty_write(sqlite3_file *f, const void *data, int len, sqlite3_int64 position)
{
    sqlite3_file *real = ((faulty_file *)f)->real;
    return fault_should_fail(FAULT_WRITE) ? SQLITE_IOERR_WRITE : real->pMethods->xWrite(real, data, len, position);
}

static int faulty_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    sqlite3_file *real = ((faulty_file *)f)->real;
    return fault_should_fail(FAULT_TRUNCATE) ? SQLITE_IOERR_TRUNCATE : real->pMethods->xTruncate(real, size);
}

static int faulty_sync(sqlite3_file *f, int flags)
{
    sqlite3_file *real = ((faulty_file *)f)->real;
    return fault_should_fail(FAULT_SYNC) ? SQLITE_IOERR_FSYNC : real->pMethods->xSync(real, flags);
}

#define REAL(f) (((faulty_file *)(f))->real)
static int faulty_file_size(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int faulty_lock(sqlite3_file *f, int level) { return REAL(f)->pMethods->xLock(REAL(f), level); }
static int faulty_unlock(sqlite3_file *f, int level) { return REAL(f)->pMethods->xUnlock(REAL(f), level); }
static int faulty_check_lock(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int faulty_control(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int faulty_sector_size(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int faulty_device(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int faulty_shm_map(sqlite3_file *f, int page, int bytes, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), page, bytes, extend, out);
}
static int faulty_shm_lock(sqlite3_file *f, int offset, int n, int flags) { return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags); }
static void faulty_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int faulty_shm_unmap(sqlite3_file *f, int delete_flag) { return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag); }
static int faulty_fetch(sqlite3_file *f, sqlite3_int64 position, int len, void **out)
{
    return REAL(f)->pMethods->xFetch(REAL(f), position, len, out);
}
static int faulty_unfetch(sqlite3_file *f, sqlite3_int64 position, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), position, p); }

static const sqlite3_io_methods faulty_io = {
    3, faulty_close, faulty_read, faulty_write, faulty_truncate, faulty_sync, faulty_file_size,
    faulty_lock, faulty_unlock, faulty_check_lock, faulty_control, faulty_sector_size, faulty_device,
    faulty_shm_map, faulty_shm_lock, faulty_shm_barrier, faulty_shm_unmap, faulty_fetch, faulty_unfetch,
};

static int faulty_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    faulty_file *f = (faulty_file *)file;
    f->base.pMethods = NULL; /* SQLite closes only files that opened */
    f->real = (sqlite3_file *)(f + 1);
    if (fault_should_fail(FAULT_OPEN))
        return SQLITE_CANTOPEN;
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc == SQLITE_OK) {
        assert_true(f->real->pMethods->iVersion >= 3);
        f->base.pMethods = &faulty_io;
    }
    return rc;
}

static int faulty_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int faulty_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int faulty_full_pathname(sqlite3_vfs *vfs, const char *name, int len, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, len, out);
}

static int faulty_randomness(sqlite3_vfs *vfs, int len, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, len, out);
}

static int faulty_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, microseconds);
}

static int faulty_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int faulty_last_error(sqlite3_vfs *vfs, int len, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, len, out);
}

static int faulty_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs faulty_vfs;

/* Installs the allocator and the VFS; before SQLite initialises. */
static void sqlite_faults_install(void)
{
    sqlite3_mem_methods memory;
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_memory) != SQLITE_OK)
        abort();
    memory = sqlite_memory;
    memory.xMalloc = faulty_malloc;
    memory.xRealloc = faulty_realloc;
    memory.xFree = faulty_free;
    memory.xSize = faulty_size;
    memory.xRoundup = faulty_roundup;
    memory.xInit = faulty_init;
    memory.xShutdown = faulty_shutdown;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &memory) != SQLITE_OK)
        abort();
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL || real_vfs->iVersion < 2)
        abort();
    faulty_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(faulty_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = "strait-faulty",
        .xOpen = faulty_open,
        .xDelete = faulty_delete,
        .xAccess = faulty_access,
        .xFullPathname = faulty_full_pathname,
        .xRandomness = faulty_randomness,
        .xSleep = faulty_sleep,
        .xCurrentTime = faulty_current_time,
        .xGetLastError = faulty_last_error,
        .xCurrentTimeInt64 = faulty_current_time_int64,
    };
    if (sqlite3_vfs_register(&faulty_vfs, 1) != SQLITE_OK)
        abort();
}

/* Source offsets [from, from + count) at target from + 1000. */
static int extend_quiet(checkpoint_store *s, int64_t from, int count)
{
    checkpoint_pair pairs[100];
    assert_true(count <= 100);
    for (int i = 0; i < count; i++)
        pairs[i] = (checkpoint_pair){from + i, from + i + 1000};
    return checkpoint_map_extend(s, FLOW, "orders", 0, pairs, (size_t)count);
}

static int find_group(void *arg, const checkpoint_group_offset *g)
{
    checkpoint_group_offset *out = arg;
    if (strcmp(g->group, out->group) == 0)
        *out = *g;
    return 0;
}

static const enum fault_kind store_fault_kinds[] = {FAULT_ALLOC, FAULT_OPEN, FAULT_READ, FAULT_WRITE,
                                                    FAULT_SYNC, FAULT_TRUNCATE};

/* One run: a store with offsets 0..99 and group "billing" on disk is opened,
 * extended with 100..199, given group "audit" (metadata with a NUL byte) and
 * closed with call n of kind failing. */
static int store_run(const char *path, bool *extended, bool *put)
{
    checkpoint_store *s = NULL;
    int rc = checkpoint_store_open(path, &s);
    if (rc != 0)
        return rc;
    rc = extend_quiet(s, 100, 100);
    *extended = rc == 0;
    checkpoint_group_offset g = {.group = "audit", .topic = "orders", .source_offset = 150,
                                 .target_offset = 1150};
    int put_rc = checkpoint_group_put(s, FLOW, &g);
    *put = put_rc == 0;
    int64_t target = -1;
    bool found = false;
    int translate_rc = checkpoint_translate(s, FLOW, "orders", 0, 50, &target, &found);
    if (translate_rc == 0 && found)
        assert_int_equal(target, 1050); /* a read under faults answers right or not at all */
    checkpoint_store_close(s);
    return rc != 0 ? rc : put_rc;
}

/* Reopens without faults: every acknowledged pair and checkpoint is there. */
static void store_verify(const char *path, bool extended, bool put)
{
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(path, &s), 0); /* quick_check included */
    checkpoint_pair last;
    bool found = false;
    assert_int_equal(checkpoint_map_last(s, FLOW, "orders", 0, &last, &found), 0);
    assert_true(found);
    assert_true(last.source_offset == 99 || last.source_offset == 199);
    if (extended)
        assert_int_equal(last.source_offset, 199);
    assert_int_equal(translate(s, FLOW, 42, 0), 1042);
    if (last.source_offset == 199)
        assert_int_equal(translate(s, FLOW, 150, 0), 1150);
    checkpoint_group_offset billing = {.group = "billing"}, audit = {.group = "audit"};
    assert_int_equal(checkpoint_group_each(s, FLOW, NULL, find_group, &billing), 0);
    assert_int_equal(checkpoint_group_each(s, FLOW, NULL, find_group, &audit), 0);
    assert_int_equal(billing.source_offset, 5);
    if (put)
        assert_int_equal(audit.source_offset, 150);
    checkpoint_store_close(s);
}

static void test_store_under_faults(void **state)
{
    fixture *f = *state;
    for (size_t k = 0; k < sizeof store_fault_kinds / sizeof store_fault_kinds[0]; k++) {
        for (int persistent = 0; persistent <= 1; persistent++) {
            enum fault_kind kind = store_fault_kinds[k];
            long n = 1;
            for (;; n++) {
                assert_true(n < 100000);
                unlink(f->path);
                char side[200];
                snprintf(side, sizeof side, "%s-wal", f->path);
                unlink(side);
                snprintf(side, sizeof side, "%s-shm", f->path);
                unlink(side);
                checkpoint_store *s = NULL;
                assert_int_equal(checkpoint_store_open(f->path, &s), 0);
                assert_int_equal(extend_quiet(s, 0, 100), 0);
                checkpoint_group_offset g = {.group = "billing", .topic = "orders", .source_offset = 5,
                                             .target_offset = 1005};
                assert_int_equal(checkpoint_group_put(s, FLOW, &g), 0);
                checkpoint_store_close(s);
                bool extended = false, put = false;
                fault_arm(kind, n, persistent);
                int rc = store_run(f->path, &extended, &put);
                long failed = fault_failures(kind);
                fault_disarm();
                store_verify(f->path, extended, put);
                if (failed == 0) {
                    assert_int_equal(rc, 0);
                    break;
                }
            }
            print_message("  store: %s %s: %ld calls reached, each failed in turn\n", fault_kind_name(kind),
                          persistent ? "persistent" : "transient", n - 1);
        }
    }
}

int main(void)
{
    sqlite_faults_install();
    log_set_level(LOG_ERROR + 1); /* thousands of expected failures */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_busy_beyond_timeout_faults_the_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_reports_a_held_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file_is_refused_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_under_faults, setup_memory, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
