/*
 * test_partition_log.c - unit tests of the partition log's normal operation:
 * append/read round trips across segments, index lookups at every offset,
 * max_bytes (KIP-74), roll by size and time, retention by time and bytes,
 * DeleteRecords, offset for timestamp, leader epochs, reopen, flush policy,
 * LogAppendTime. Recovery from damage is in test_log_recovery.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "log_test_helpers.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

typedef struct appended {
    int64_t base, last;
} appended;

/* Appends count batches of 1..4 records with value sizes varying 10..300. */
static void fill(plog *log, appended *out, int count, int64_t timestamp_ms)
{
    for (int i = 0; i < count; i++) {
        plog_append_result r = test_append(log, 1 + i % 4, 10 + (i * 37) % 290, timestamp_ms + i * 10);
        if (out != NULL) {
            out[i].base = r.base_offset;
            out[i].last = r.last_offset;
        }
    }
}

static void test_round_trip_across_segments(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(2048, 256);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_log_end_offset(log), 0);
    appended a[300];
    fill(log, a, 300, 1000);
    int64_t end = plog_log_end_offset(log);
    assert_int_equal(end, a[299].last + 1);
    assert_true(test_count_files(&d, ".log") > 10);
    for (int i = 1; i < 300; i++)
        assert_int_equal(a[i].base, a[i - 1].last + 1);

    /* every offset: the first batch returned contains it */
    size_t batch = 0;
    for (int64_t offset = 0; offset < end; offset++) {
        while (a[batch].last < offset)
            batch++;
        plog_slice s;
        assert_int_equal(plog_read(log, offset, 1, &s), 0);
        int64_t first = -1, last = -1;
        assert_int_equal(test_check_slice(&s, &first, &last), 1);
        assert_int_equal(first, a[batch].base);
        assert_int_equal(last, a[batch].last);
        /* large max_bytes: contiguous whole batches, within one segment */
        assert_int_equal(plog_read(log, offset, 1 << 20, &s), 0);
        assert_true(test_check_slice(&s, &first, &last) >= 1);
        assert_int_equal(first, a[batch].base);
        assert_true(s.length <= 2048);
    }
    plog_slice s;
    assert_int_equal(plog_read(log, end, 1000, &s), 0);
    assert_int_equal(s.length, 0);
    assert_int_equal(plog_read(log, end + 1, 1000, &s), ST_ERANGE);
    assert_int_equal(plog_read(log, -1, 1000, &s), ST_ERANGE);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_max_bytes(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_append_result r[10];
    for (int i = 0; i < 10; i++)
        r[i] = test_append(log, 1, 200, 1000);
    plog_slice s;
    assert_int_equal(plog_read(log, 0, 10, &s), 0); /* smaller than one batch: still one */
    int64_t first, last;
    assert_int_equal(test_check_slice(&s, &first, &last), 1);
    int32_t one = s.length;
    assert_int_equal(plog_read(log, 0, one * 2 + one / 2, &s), 0);
    assert_int_equal(test_check_slice(&s, &first, &last), 2);
    assert_int_equal(plog_read(log, 3, one * 3, &s), 0);
    assert_int_equal(test_check_slice(&s, &first, &last), 3);
    assert_int_equal(first, 3);
    assert_int_equal(last, 5);
    assert_int_equal(plog_read(log, 0, INT32_MAX, &s), 0);
    assert_int_equal(test_check_slice(&s, &first, &last), 10);
    assert_int_equal(s.length, one * 10);
    assert_int_equal(last, r[9].last_offset);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_index_lookups(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 100); /* an index entry every ~1-2 batches */
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    appended a[500];
    fill(log, a, 500, 1000);
    char path[256];
    test_path(path, sizeof path, &d, 0, ".index");
    assert_true(test_file_size(path) >= 8 * 200);
    assert_int_equal(test_file_size(path) % 8, 0);
    test_path(path, sizeof path, &d, 0, ".timeindex");
    assert_true(test_file_size(path) >= 12 * 200);
    for (int i = 0; i < 500; i++) {
        for (int64_t offset = a[i].base; offset <= a[i].last; offset++) {
            plog_slice s;
            assert_int_equal(plog_read(log, offset, 0, &s), 0);
            batch_header h = test_first_header(&s);
            assert_int_equal(h.base_offset, a[i].base);
        }
    }
    plog_close(log);
    test_dir_remove(&d);
}

static void test_roll_by_size(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1000, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    /* ~470-byte batches: two fit in 1000 bytes, a third rolls */
    for (int i = 0; i < 6; i++)
        test_append(log, 1, 400, 1000);
    assert_int_equal(test_count_files(&d, ".log"), 3);
    /* a batch larger than segment.bytes goes alone into a fresh segment */
    test_append(log, 4, 1000, 1000);
    assert_int_equal(test_count_files(&d, ".log"), 4);
    test_append(log, 1, 10, 1000);
    assert_int_equal(test_count_files(&d, ".log"), 5);
    char path[256];
    test_path(path, sizeof path, &d, 6, ".log");
    assert_true(test_file_size(path) > 1000);
    test_path(path, sizeof path, &d, 10, ".log");
    assert_true(test_file_size(path) > 0);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_roll_by_time(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    c.segment_ms = 60000;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    int64_t now = clock_wall_ms();
    assert_int_equal(plog_tick(log, now + 120000), 0); /* empty active: no roll */
    assert_int_equal(test_count_files(&d, ".log"), 1);
    test_append(log, 2, 10, now);
    assert_int_equal(plog_tick(log, now + 1000), 0);
    assert_int_equal(test_count_files(&d, ".log"), 1);
    assert_int_equal(plog_tick(log, now + 120000), 0);
    assert_int_equal(test_count_files(&d, ".log"), 2);
    assert_int_equal(plog_tick(log, now + 240000), 0); /* new active is empty */
    assert_int_equal(test_count_files(&d, ".log"), 2);
    plog_append_result r = test_append(log, 1, 10, now);
    assert_int_equal(r.base_offset, 2);
    char path[256];
    test_path(path, sizeof path, &d, 2, ".log");
    assert_true(test_file_size(path) > 0);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_retention_by_time(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(600, 4096);
    c.retention_ms = 7 * DAY_MS;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    int64_t now = clock_wall_ms();
    for (int i = 0; i < 10; i++) /* ~470 bytes each: one batch per segment */
        test_append(log, 1, 400, now - 10 * DAY_MS);
    for (int i = 0; i < 5; i++)
        test_append(log, 1, 400, now - DAY_MS);
    assert_int_equal(test_count_files(&d, ".log"), 15);
    assert_int_equal(plog_tick(log, now), 0);
    assert_int_equal(test_count_files(&d, ".log"), 5);
    assert_int_equal(plog_log_start_offset(log), 10);
    plog_slice s;
    assert_int_equal(plog_read(log, 9, 100, &s), ST_ERANGE);
    assert_int_equal(plog_read(log, 10, 100, &s), 0);
    /* everything expired: the active segment stays */
    assert_int_equal(plog_tick(log, now + 30 * DAY_MS), 0);
    assert_true(test_count_files(&d, ".log") >= 1);
    assert_int_equal(plog_read(log, plog_log_start_offset(log), 100, &s), 0);
    assert_int_equal(plog_log_end_offset(log), 15);
    /* reopen: log start survives */
    int64_t start = plog_log_start_offset(log);
    plog_close(log);
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_log_start_offset(log), start);
    assert_int_equal(plog_log_end_offset(log), 15);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_retention_by_bytes(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1000, 4096);
    c.retention_bytes = 2500;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    for (int i = 0; i < 20; i++)
        test_append(log, 1, 400, clock_wall_ms());
    int64_t before = plog_size_bytes(log);
    assert_true(before > 9000);
    assert_int_equal(plog_tick(log, clock_wall_ms()), 0);
    int64_t after = plog_size_bytes(log);
    assert_true(after <= 2500 + 1000);
    assert_true(after >= 2500 - 1000);
    assert_true(plog_log_start_offset(log) > 0);
    /* nothing more to delete */
    assert_int_equal(plog_tick(log, clock_wall_ms()), 0);
    assert_int_equal(plog_size_bytes(log), after);
    /* cleanup.policy=compact: retention does not apply */
    c.delete_policy = false;
    c.retention_bytes = 0;
    plog_set_config(log, &c);
    assert_int_equal(plog_tick(log, clock_wall_ms()), 0);
    assert_int_equal(plog_size_bytes(log), after);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_delete_records(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1000, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    for (int i = 0; i < 10; i++)
        test_append(log, 2, 400, 1000); /* offsets 2i, 2i+1; ~2 batches per segment */
    int segments = test_count_files(&d, ".log");
    assert_int_equal(plog_delete_records(log, 21), ST_ERANGE);
    assert_int_equal(plog_delete_records(log, 7), 0);
    assert_int_equal(plog_log_start_offset(log), 7);
    assert_true(test_count_files(&d, ".log") < segments);
    plog_slice s;
    assert_int_equal(plog_read(log, 6, 100, &s), ST_ERANGE);
    assert_int_equal(plog_read(log, 7, 100, &s), 0);
    int64_t first, last;
    assert_true(test_check_slice(&s, &first, &last) >= 1);
    assert_int_equal(first, 6); /* the batch holding offset 7 */
    assert_int_equal(plog_delete_records(log, 3), 0); /* below start: no change */
    assert_int_equal(plog_log_start_offset(log), 7);
    plog_close(log);
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_log_start_offset(log), 7);
    assert_int_equal(plog_log_end_offset(log), 20);
    /* up to the end: log is empty but keeps its end */
    assert_int_equal(plog_delete_records(log, 20), 0);
    assert_int_equal(plog_log_start_offset(log), 20);
    assert_int_equal(plog_read(log, 20, 100, &s), 0);
    assert_int_equal(s.length, 0);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, 20);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_offset_for_timestamp(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1500, 200);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    /* batch i: 2 records with timestamps 1000*(i+1) and 1000*(i+1)+1 */
    for (int i = 0; i < 40; i++)
        test_append(log, 2, 100, 1000LL * (i + 1));
    /* one out-of-order batch at the end */
    test_append(log, 1, 100, 500);
    for (int round = 0; round < 2; round++) {
        int64_t offset, ts;
        assert_int_equal(plog_offset_for_timestamp(log, 0, &offset, &ts), 0);
        assert_int_equal(offset, 0);
        assert_int_equal(ts, 1001);
        for (int i = 0; i < 40; i++) {
            assert_int_equal(plog_offset_for_timestamp(log, 1000LL * (i + 1), &offset, &ts), 0);
            assert_int_equal(offset, 2 * i);
            assert_int_equal(ts, 1000LL * (i + 1) + 1);
            assert_int_equal(plog_offset_for_timestamp(log, 1000LL * (i + 1) + 1, &offset, &ts), 0);
            assert_int_equal(offset, 2 * i);
            assert_int_equal(plog_offset_for_timestamp(log, 1000LL * (i + 1) + 2, &offset, &ts), 0);
            assert_int_equal(offset, i == 39 ? -1 : 2 * (i + 1));
        }
        assert_int_equal(plog_offset_for_timestamp(log, 1000000, &offset, &ts), 0);
        assert_int_equal(offset, -1);
        assert_int_equal(ts, -1);
        /* the same answers after a reopen (time indexes from disk) */
        plog_close(log);
        assert_int_equal(plog_open(d.log, &c, &log), 0);
    }
    plog_close(log);
    test_dir_remove(&d);
}

static void test_leader_epochs(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_leader_epoch(log), 0);
    test_append(log, 5, 10, 1000);              /* 0..4 in epoch 0 */
    assert_int_equal(plog_set_leader_epoch(log, 3), 0);
    plog_append_result r = test_append(log, 5, 10, 1000); /* 5..9 in epoch 3 */
    assert_int_equal(plog_set_leader_epoch(log, 2), 0); /* lower: ignored */
    assert_int_equal(plog_leader_epoch(log), 3);
    plog_slice s;
    assert_int_equal(plog_read(log, r.base_offset, 0, &s), 0);
    assert_int_equal(test_first_header(&s).partition_leader_epoch, 3);
    assert_int_equal(plog_set_leader_epoch(log, 5), 0);
    test_append(log, 2, 10, 1000);              /* 10..11 in epoch 5 */
    for (int round = 0; round < 2; round++) {
        int32_t epoch;
        int64_t end;
        plog_end_offset_for_epoch(log, 0, &epoch, &end);
        assert_int_equal(epoch, 0);
        assert_int_equal(end, 5);
        plog_end_offset_for_epoch(log, 1, &epoch, &end);
        assert_int_equal(epoch, 0);
        assert_int_equal(end, 5);
        plog_end_offset_for_epoch(log, 3, &epoch, &end);
        assert_int_equal(epoch, 3);
        assert_int_equal(end, 10);
        plog_end_offset_for_epoch(log, 4, &epoch, &end);
        assert_int_equal(epoch, 3);
        assert_int_equal(end, 10);
        plog_end_offset_for_epoch(log, 5, &epoch, &end);
        assert_int_equal(epoch, 5);
        assert_int_equal(end, 12);
        plog_end_offset_for_epoch(log, 6, &epoch, &end);
        assert_int_equal(epoch, -1);
        assert_int_equal(end, -1);
        plog_end_offset_for_epoch(log, -1, &epoch, &end);
        assert_int_equal(epoch, -1);
        assert_int_equal(end, -1);
        plog_close(log);
        assert_int_equal(plog_open(d.log, &c, &log), 0);
        assert_int_equal(plog_leader_epoch(log), 5);
    }
    /* DeleteRecords past epoch 0: it is no longer known */
    assert_int_equal(plog_delete_records(log, 7), 0);
    int32_t epoch;
    int64_t end;
    plog_end_offset_for_epoch(log, 0, &epoch, &end);
    assert_int_equal(epoch, -1);
    assert_int_equal(end, -1);
    plog_end_offset_for_epoch(log, 3, &epoch, &end);
    assert_int_equal(epoch, 3);
    assert_int_equal(end, 10);
    /* a lost checkpoint is rebuilt from the batches */
    plog_close(log);
    char path[256];
    snprintf(path, sizeof path, "%s/leader-epoch-checkpoint", d.log);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_leader_epoch(log), 5);
    plog_end_offset_for_epoch(log, 3, &epoch, &end);
    assert_int_equal(epoch, 3);
    assert_int_equal(end, 10);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_reopen_keeps_everything(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(4096, 512);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    appended a[200];
    fill(log, a, 200, 5000);
    int64_t end = plog_log_end_offset(log), size = plog_size_bytes(log);
    plog_close(log);
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    assert_int_equal(plog_log_end_offset(log), end);
    assert_int_equal(plog_size_bytes(log), size);
    for (int i = 0; i < 200; i++) {
        plog_slice s;
        assert_int_equal(plog_read(log, a[i].last, 0, &s), 0);
        int64_t first, last;
        assert_int_equal(test_check_slice(&s, &first, &last), 1);
        assert_int_equal(first, a[i].base);
    }
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, end);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_flush_policy(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_false(r.flushed); /* Kafka default: page cache only */
    assert_int_equal(plog_flush(log), 0);
    plog_close(log);

    c.flush_messages = 1;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    for (int i = 0; i < 5; i++) {
        r = test_append(log, 3, 10, 1000);
        assert_true(r.flushed);
    }
    plog_close(log);

    c.flush_messages = 10;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    r = test_append(log, 4, 10, 1000);
    assert_false(r.flushed);
    r = test_append(log, 4, 10, 1000);
    assert_false(r.flushed);
    r = test_append(log, 4, 10, 1000); /* 12 unflushed >= 10 */
    assert_true(r.flushed);
    plog_close(log);

    c.flush_messages = INT64_MAX;
    c.flush_ms = 1000;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    r = test_append(log, 1, 10, 1000);
    assert_false(r.flushed);
    assert_int_equal(plog_tick(log, clock_wall_ms() + 5000), 0);
    r = test_append(log, 1, 10, 1000);
    assert_false(r.flushed);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_log_append_time_and_bad_input(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    buf b;
    test_build_batch(&b, 3, 10, 1000);
    plog_append_result r;
    assert_int_equal(plog_append(log, b.data, b.len, 777777, &r), 0);
    plog_slice s;
    assert_int_equal(plog_read(log, 0, 0, &s), 0);
    int64_t first, last;
    assert_int_equal(test_check_slice(&s, &first, &last), 1); /* CRC still valid */
    batch_header h = test_first_header(&s);
    assert_int_equal(h.max_timestamp, 777777);
    assert_true(h.attributes & BATCH_ATTR_LOG_APPEND_TIME);
    int64_t offset, ts;
    assert_int_equal(plog_offset_for_timestamp(log, 777777, &offset, &ts), 0);
    assert_int_equal(offset, 0);
    /* truncated and trailing bytes are refused, nothing is written */
    assert_int_not_equal(plog_append(log, b.data, b.len - 1, -1, &r), 0);
    uint8_t *longer = calloc(1, b.len + 5);
    memcpy(longer, b.data, b.len);
    assert_int_equal(plog_append(log, longer, b.len + 5, -1, &r), ST_EINVAL);
    free(longer);
    b.data[BATCH_OFFSET_MAGIC] = 7;
    assert_int_not_equal(plog_append(log, b.data, b.len, -1, &r), 0);
    assert_int_equal(plog_log_end_offset(log), 3);
    buf_free(&b);
    plog_config bad = c;
    bad.segment_bytes = 0;
    plog *other;
    assert_int_equal(plog_open(d.log, &bad, &other), ST_ECONFIG);
    assert_int_equal(plog_delete(log), 0);
    struct stat st;
    assert_int_not_equal(stat(d.log, &st), 0);
    test_dir_remove(&d);
}

/* The active segment's fd is swapped for /dev/null: writes succeed, fsync
 * fails. The append must report ST_EIO (never flushed), and the log refuses
 * appends and flushes from then on. */
static void test_fsync_failure_is_sticky(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    c.flush_messages = 1;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_true(r.flushed);
    plog_slice s;
    assert_int_equal(plog_read(log, plog_log_end_offset(log), 0, &s), 0);
    int null_fd = open("/dev/null", O_WRONLY);
    assert_true(null_fd >= 0);
    assert_int_equal(dup2(null_fd, s.fd), s.fd);
    close(null_fd);
    buf b;
    test_build_batch(&b, 1, 10, 1000);
    memset(&r, 0, sizeof r);
    assert_int_equal(plog_append(log, b.data, b.len, -1, &r), ST_EIO);
    assert_false(r.flushed);
    assert_int_equal(plog_append(log, b.data, b.len, -1, &r), ST_EIO);
    assert_int_equal(plog_flush(log), ST_EIO);
    assert_int_equal(plog_tick(log, clock_wall_ms()), ST_EIO);
    buf_free(&b);
    plog_close(log);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_across_segments),
        cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_index_lookups),
        cmocka_unit_test(test_roll_by_size),
        cmocka_unit_test(test_roll_by_time),
        cmocka_unit_test(test_retention_by_time),
        cmocka_unit_test(test_retention_by_bytes),
        cmocka_unit_test(test_delete_records),
        cmocka_unit_test(test_offset_for_timestamp),
        cmocka_unit_test(test_leader_epochs),
        cmocka_unit_test(test_reopen_keeps_everything),
        cmocka_unit_test(test_flush_policy),
        cmocka_unit_test(test_log_append_time_and_bad_input),
        cmocka_unit_test(test_fsync_failure_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
