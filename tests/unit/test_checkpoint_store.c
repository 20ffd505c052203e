/*
 * test_checkpoint_store.c - the checkpoint store (checkpoints/checkpoint_store.h):
 * translation exactly as defined (source gaps, target gaps, before and past
 * the map), contiguous ranges merging, persistence across reopen, idempotent
 * re-extend, prune, schema migration and refusals (future version, foreign
 * file, garbage bytes), two threads at once, group checkpoints, and the size
 * of the file per million mirrored records (printed; docs/benchmarks.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoints/checkpoint_store.h"
#include "common/error.h"

#define FLOW "east->west"

typedef struct fixture {
    char dir[64];
    char path[128];
    checkpoint_store *store;
} fixture;

static void remove_store_files(const char *path)
{
    char side[160];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/strait-ckpt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/checkpoints.db", f->dir);
    assert_int_equal(checkpoint_store_open(f->path, &f->store), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    checkpoint_store_close(f->store);
    remove_store_files(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    checkpoint_store_close(f->store);
    f->store = NULL;
    assert_int_equal(checkpoint_store_open(f->path, &f->store), 0);
}

static int64_t translate(checkpoint_store *s, const char *topic, int64_t o)
{
    int64_t t = -2;
    bool found = false;
    assert_int_equal(checkpoint_translate(s, FLOW, topic, 0, o, &t, &found), 0);
    assert_true(found);
    return t;
}

static int64_t range_count(checkpoint_store *s)
{
    int64_t n = -1;
    assert_int_equal(checkpoint_map_range_count(s, FLOW, &n), 0);
    return n;
}

/* source 0..4 -> target 10..14; source 5..7 compacted away; 8..9 -> 15..16;
 * target 17..19 hold other records (a target gap); 10 -> 20. */
static const checkpoint_pair gappy[] = {
    {0, 10}, {1, 11}, {2, 12}, {3, 13}, {4, 14}, {8, 15}, {9, 16}, {10, 20},
};
#define GAPPY_COUNT (sizeof gappy / sizeof gappy[0])

static void fill_gappy(checkpoint_store *s)
{
    /* two deliveries, split inside the first range */
    assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, gappy, 3), 0);
    assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, gappy + 3, GAPPY_COUNT - 3), 0);
}

static void check_gappy(checkpoint_store *s)
{
    static const int64_t expected[][2] = {
        {0, 10}, {2, 12}, {4, 14},            /* inside the first range */
        {5, 15}, {6, 15}, {7, 15},            /* source gap: the next mirrored record, source 8 */
        {8, 15}, {9, 16},
        {10, 20},                             /* after a target gap */
        {11, 21}, {1000, 21},                 /* past the map: the mapped end */
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int64_t got = translate(s, "orders", expected[i][0]);
        if (got != expected[i][1])
            fail_msg("translate(%lld) = %lld, expected %lld", (long long)expected[i][0], (long long)got,
                     (long long)expected[i][1]);
    }
    assert_int_equal(range_count(s), 3);
    checkpoint_pair last;
    bool found = false;
    assert_int_equal(checkpoint_map_last(s, FLOW, "orders", 0, &last, &found), 0);
    assert_true(found);
    assert_int_equal(last.source_offset, 10);
    assert_int_equal(last.target_offset, 20);
}

static void test_translate_empty(void **state)
{
    fixture *f = *state;
    int64_t t = 0;
    bool found = true;
    assert_int_equal(checkpoint_translate(f->store, FLOW, "orders", 0, 5, &t, &found), 0);
    assert_false(found);
    assert_int_equal(t, -1);
    checkpoint_pair last;
    assert_int_equal(checkpoint_map_last(f->store, FLOW, "orders", 0, &last, &found), 0);
    assert_false(found);
    assert_int_equal(range_count(f->store), 0);
}

static void test_translate_with_gaps(void **state)
{
    fixture *f = *state;
    fill_gappy(f->store);
    check_gappy(f->store);
    /* other partitions, topics and flows are separate maps */
    int64_t t = 0;
    bool found = true;
    assert_int_equal(checkpoint_translate(f->store, FLOW, "orders", 1, 0, &t, &found), 0);
    assert_false(found);
    assert_int_equal(checkpoint_translate(f->store, "west->east", "orders", 0, 0, &t, &found), 0);
    assert_false(found);
    /* a map that starts late: an offset before it translates to its first record */
    const checkpoint_pair late[] = {{500, 7}, {501, 8}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "payments", 0, late, 2), 0);
    assert_int_equal(translate(f->store, "payments", 0), 7);
    assert_int_equal(translate(f->store, "payments", 501), 8);
    assert_int_equal(translate(f->store, "payments", 502), 9);
}

static void test_persists_across_reopen(void **state)
{
    fixture *f = *state;
    fill_gappy(f->store);
    reopen(f);
    check_gappy(f->store);
}

static void test_idempotent_extend(void **state)
{
    fixture *f = *state;
    fill_gappy(f->store);
    /* the same delivery again (a retried batch): accepted, nothing changes */
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, gappy, GAPPY_COUNT), 0);
    /* overlapping the end and extending past it: accepted */
    const checkpoint_pair overlap[] = {{9, 16}, {10, 20}, {11, 21}, {12, 22}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, overlap, 4), 0);
    assert_int_equal(range_count(f->store), 3);
    assert_int_equal(translate(f->store, "orders", 12), 22);
    assert_int_equal(translate(f->store, "orders", 13), 23);
    /* disagreeing with a mapped pair */
    const checkpoint_pair moved[] = {{3, 99}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, moved, 1), ST_ECORRUPT);
    /* claiming a source offset the map records as not mirrored (gap) */
    const checkpoint_pair in_gap[] = {{6, 15}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, in_gap, 1), ST_ECORRUPT);
    /* a new source offset at a target offset already given to an earlier record */
    const checkpoint_pair reused[] = {{13, 21}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, reused, 1), ST_ECORRUPT);
    /* pairs not increasing on both sides are refused before anything is read */
    const checkpoint_pair unordered[] = {{13, 23}, {14, 24}, {3, 5}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, unordered, 3), ST_EINVAL);
    const checkpoint_pair target_backwards[] = {{13, 23}, {14, 22}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, target_backwards, 2), ST_EINVAL);
    /* the refusals changed nothing: same map, still usable */
    assert_int_equal(range_count(f->store), 3);
    assert_int_equal(translate(f->store, "orders", 6), 15);
    assert_int_equal(translate(f->store, "orders", 13), 23);
    const checkpoint_pair next[] = {{13, 23}, {14, 30}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, next, 2), 0);
    assert_int_equal(range_count(f->store), 4);
    assert_int_equal(translate(f->store, "orders", 14), 30);
    /* invalid arguments */
    const checkpoint_pair negative[] = {{-1, 0}};
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, negative, 1), ST_EINVAL);
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, NULL, 0), 0);
}

static void test_contiguous_merge(void **state)
{
    fixture *f = *state;
    enum { TOTAL = 1000000, BATCH = 1000 };
    checkpoint_pair *pairs = malloc(BATCH * sizeof *pairs);
    for (int64_t base = 0; base < TOTAL; base += BATCH) {
        for (int i = 0; i < BATCH; i++)
            pairs[i] = (checkpoint_pair){base + i, 5000 + base + i};
        assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, pairs, BATCH), 0);
    }
    free(pairs);
    assert_int_equal(range_count(f->store), 1);
    assert_int_equal(translate(f->store, "orders", 0), 5000);
    assert_int_equal(translate(f->store, "orders", 999999), 5000 + 999999);
    assert_int_equal(translate(f->store, "orders", TOTAL), 5000 + TOTAL);
}

static void test_prune(void **state)
{
    fixture *f = *state;
    fill_gappy(f->store);
    assert_int_equal(checkpoint_map_prune(f->store, FLOW, "orders", 0, 3), 0); /* inside the first: kept */
    assert_int_equal(range_count(f->store), 3);
    assert_int_equal(checkpoint_map_prune(f->store, FLOW, "orders", 0, 6), 0); /* in the gap */
    assert_int_equal(range_count(f->store), 2);
    assert_int_equal(translate(f->store, "orders", 8), 15);
    assert_int_equal(translate(f->store, "orders", 2), 15); /* below the map: its first record */
    assert_int_equal(checkpoint_map_prune(f->store, FLOW, "orders", 0, 1000), 0);
    assert_int_equal(range_count(f->store), 1); /* the last range holds the mapped end */
    assert_int_equal(translate(f->store, "orders", 1000), 21);
    /* re-extending pruned pairs is accepted unchecked, the rest still checked */
    assert_int_equal(checkpoint_map_extend(f->store, FLOW, "orders", 0, gappy, GAPPY_COUNT), 0);
    assert_int_equal(range_count(f->store), 1);
    assert_int_equal(checkpoint_map_prune(f->store, FLOW, "nothing", 0, 10), 0);
}

static int sqlite_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static void sqlite_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_migrations(void **state)
{
    fixture *f = *state;
    char path[160];
    /* an empty (0-byte) file is a new store */
    snprintf(path, sizeof path, "%s/empty.db", f->dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(path, &s), 0);
    checkpoint_store_close(s);
    assert_int_equal(sqlite_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(sqlite_int(path, "PRAGMA application_id"), 0x53545254);
    assert_int_equal(sqlite_int(path, "SELECT count(*) FROM map_ranges"), 0);
    /* opening again applies nothing and keeps the data */
    assert_int_equal(checkpoint_store_open(path, &s), 0);
    fill_gappy(s);
    checkpoint_store_close(s);
    assert_int_equal(checkpoint_store_open(path, &s), 0);
    check_gappy(s);
    checkpoint_store_close(s);
    /* a schema from the future is refused, the file left as it was */
    sqlite_exec(path, "PRAGMA user_version = 99");
    s = (checkpoint_store *)1;
    assert_int_equal(checkpoint_store_open(path, &s), ST_ECORRUPT);
    assert_null(s);
    assert_int_equal(sqlite_int(path, "PRAGMA user_version"), 99);
    remove_store_files(path);
    /* someone else's SQLite file is refused, not migrated */
    sqlite_exec(path, "CREATE TABLE accounts (id INTEGER)");
    assert_int_equal(checkpoint_store_open(path, &s), ST_ECORRUPT);
    assert_int_equal(sqlite_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    remove_store_files(path);
    /* a directory that does not exist */
    assert_int_equal(checkpoint_store_open("/nonexistent-dir/strait/ckpt.db", &s), ST_EIO);
}

static void write_garbage(const char *path, off_t from, size_t bytes)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    unsigned char *junk = malloc(bytes);
    uint32_t x = 12345;
    for (size_t i = 0; i < bytes; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    assert_int_equal(pwrite(fd, junk, bytes, from), (ssize_t)bytes);
    free(junk);
    close(fd);
}

static void test_corrupt_file(void **state)
{
    fixture *f = *state;
    char path[160];
    checkpoint_store *s = NULL;
    /* garbage bytes from the start: not a database */
    snprintf(path, sizeof path, "%s/garbage.db", f->dir);
    write_garbage(path, 0, 65536);
    assert_int_equal(checkpoint_store_open(path, &s), ST_ECORRUPT);
    assert_null(s);
    remove_store_files(path);
    /* a valid header with damaged pages: an error on open or on the first
     * read, never a translation, and the store then refuses every call */
    snprintf(path, sizeof path, "%s/damaged.db", f->dir);
    assert_int_equal(checkpoint_store_open(path, &s), 0);
    checkpoint_pair pairs[100];
    for (int64_t base = 0; base < 200000; base += 200) {
        for (int i = 0; i < 100; i++)
            pairs[i] = (checkpoint_pair){base + i, base / 2 + i}; /* a gap every 100: many ranges */
        assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, pairs, 100), 0);
    }
    checkpoint_store_close(s);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    write_garbage(path, 4096, (size_t)st.st_size - 4096);
    int err = checkpoint_store_open(path, &s);
    if (err == 0) {
        int64_t t = 0;
        bool found = false;
        err = checkpoint_translate(s, FLOW, "orders", 0, 150000, &t, &found);
        assert_false(found);
        assert_int_equal(t, -1);
        assert_int_equal(checkpoint_translate(s, FLOW, "orders", 0, 10, &t, &found), ST_ECORRUPT);
        assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, pairs, 1), ST_ECORRUPT);
        checkpoint_store_close(s);
    }
    assert_int_equal(err, ST_ECORRUPT);
    remove_store_files(path);
}

typedef struct worker {
    checkpoint_store *store;
    int32_t partition;
    int err;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    checkpoint_pair pairs[100];
    for (int64_t base = 0; base < 20000 && !w->err; base += 100) {
        for (int i = 0; i < 100; i++) /* a target gap every batch: a range per batch */
            pairs[i] = (checkpoint_pair){base + i, 2 * base + i};
        w->err = checkpoint_map_extend(w->store, FLOW, "orders", w->partition, pairs, 100);
        int64_t t = -1;
        bool found = false;
        if (!w->err)
            w->err = checkpoint_translate(w->store, FLOW, "orders", w->partition, base + 50, &t, &found);
        if (!w->err && (!found || t != 2 * base + 50))
            w->err = -1000;
        checkpoint_group_offset g = {.partition = w->partition, .source_offset = base, .target_offset = 2 * base};
        snprintf(g.group, sizeof g.group, "group-%d", (int)w->partition);
        snprintf(g.topic, sizeof g.topic, "orders");
        if (!w->err)
            w->err = checkpoint_group_put(w->store, FLOW, &g);
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    fixture *f = *state;
    worker w[2] = {{f->store, 0, 0}, {f->store, 1, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(w[i].err, 0);
    }
    assert_int_equal(range_count(f->store), 400);
}

typedef struct collected {
    int count;
    checkpoint_group_offset rows[8];
} collected;

static int collect(void *arg, const checkpoint_group_offset *g)
{
    collected *c = arg;
    if (c->count == 8)
        return 1;
    c->rows[c->count++] = *g;
    return 0;
}

static void test_group_checkpoints(void **state)
{
    fixture *f = *state;
    checkpoint_group_offset g = {.partition = 1, .source_offset = 42, .target_offset = 40, .checkpointed_at_ms = 7};
    strcpy(g.group, "billing");
    strcpy(g.topic, "orders");
    strcpy(g.metadata, "consumer-3 meta");
    assert_int_equal(checkpoint_group_put(f->store, FLOW, &g), 0);
    g.partition = 0;
    g.source_offset = 5;
    g.target_offset = 6;
    assert_int_equal(checkpoint_group_put(f->store, FLOW, &g), 0);
    strcpy(g.group, "audit");
    assert_int_equal(checkpoint_group_put(f->store, FLOW, &g), 0);
    assert_int_equal(checkpoint_group_put(f->store, "west->east", &g), 0);
    collected c = {0};
    assert_int_equal(checkpoint_group_each(f->store, FLOW, NULL, collect, &c), 0);
    assert_int_equal(c.count, 3);
    assert_string_equal(c.rows[0].group, "audit");
    assert_string_equal(c.rows[1].group, "billing");
    assert_int_equal(c.rows[1].partition, 0);
    assert_int_equal(c.rows[2].partition, 1);
    assert_int_equal(c.rows[2].source_offset, 42);
    assert_int_equal(c.rows[2].target_offset, 40);
    assert_string_equal(c.rows[2].metadata, "consumer-3 meta");
    assert_int_equal(c.rows[2].checkpointed_at_ms, 7);
    assert_false(c.rows[2].applied);
    assert_int_equal(checkpoint_group_mark_applied(f->store, FLOW, "billing", "orders", 1, true), 0);
    assert_int_equal(checkpoint_group_mark_applied(f->store, FLOW, "billing", "orders", 9, true), ST_ENOTFOUND);
    reopen(f);
    memset(&c, 0, sizeof c);
    assert_int_equal(checkpoint_group_each(f->store, FLOW, "billing", collect, &c), 0);
    assert_int_equal(c.count, 2);
    assert_false(c.rows[0].applied);
    assert_true(c.rows[1].applied);
    /* upsert replaces */
    g = c.rows[1];
    g.source_offset = 50;
    g.target_offset = 48;
    g.applied = false;
    assert_int_equal(checkpoint_group_put(f->store, FLOW, &g), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(checkpoint_group_each(f->store, FLOW, "billing", collect, &c), 0);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.rows[1].source_offset, 50);
    assert_false(c.rows[1].applied);
    /* fields that do not fit are refused */
    memset(g.metadata, 'x', sizeof g.metadata);
    assert_int_equal(checkpoint_group_put(f->store, FLOW, &g), ST_EINVAL);
}

/* The size figure of docs/benchmarks.md: a million mirrored records in
 * deliveries of 500, contiguous and with a source gap every 100 records. */
static int64_t million_file_bytes(const char *dir, const char *name, int gap_every)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    checkpoint_store *s = NULL;
    assert_int_equal(checkpoint_store_open(path, &s), 0);
    enum { TOTAL = 1000000, BATCH = 500 };
    checkpoint_pair pairs[BATCH];
    int64_t source = 0, target = 0;
    struct timespec started, ended;
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (int64_t done = 0; done < TOTAL; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            pairs[i] = (checkpoint_pair){source++, target++};
            if (gap_every && target % gap_every == 0)
                source += 3; /* three compacted-away records */
        }
        assert_int_equal(checkpoint_map_extend(s, FLOW, "orders", 0, pairs, BATCH), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &ended);
    long long elapsed_ms = (long long)(ended.tv_sec - started.tv_sec) * 1000 + (ended.tv_nsec - started.tv_nsec) / 1000000;
    int64_t ranges = 0;
    assert_int_equal(checkpoint_map_range_count(s, FLOW, &ranges), 0);
    assert_int_equal(ranges, gap_every ? TOTAL / gap_every : 1);
    checkpoint_store_close(s); /* the last close checkpoints the WAL into the file */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char wal[192];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat wal_st;
    int64_t bytes = (int64_t)st.st_size + (stat(wal, &wal_st) == 0 ? (int64_t)wal_st.st_size : 0);
    printf("checkpoint store size: %lld bytes per million mirrored records (%s, %lld ranges; "
           "2,000 extends of 500 pairs in %lld ms)\n",
           (long long)bytes, gap_every ? "gap every 100 records" : "contiguous", (long long)ranges, elapsed_ms);
    remove_store_files(path);
    return bytes;
}

static void test_size_per_million(void **state)
{
    fixture *f = *state;
    int64_t contiguous = million_file_bytes(f->dir, "size-contiguous.db", 0);
    int64_t gappy_bytes = million_file_bytes(f->dir, "size-gaps.db", 100);
    assert_true(contiguous <= 64 * 1024);       /* a few pages */
    assert_true(gappy_bytes <= 1024 * 1024);    /* 10,000 ranges well under 100 bytes each */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_translate_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_with_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_extend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contiguous_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_per_million, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
