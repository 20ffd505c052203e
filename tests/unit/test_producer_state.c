/*
 * test_producer_state.c - unit tests of the idempotent producer: the rules
 * (duplicates of each of the last five batches, gaps, fencing, epoch bump,
 * sequence wrap, unknown producers, invalid fields), the map (many producers,
 * expiry, eviction), the snapshot format (round trip, every kind of damage),
 * the log integration (snapshot at roll and close, rebuild after a process
 * death, damaged snapshots ignored, snapshots beyond a truncated end
 * deleted), the Produce idempotence step, and producer id allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "broker/cluster/producer_ids.h"
#include "broker/log/checkpoint_file.h"
#include "broker/log/log_producers.h"
#include "broker/log/producer_snapshot.h"
#include "broker/log/producer_state.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/producer_apis.h"
#include "common/crc32c.h"
#include "common/limits.h"
#include "log_test_helpers.h"

#define PID 4242
#define NOW_MS 1700000000000LL

/* ---- helpers ------------------------------------------------------------- */

/* One idempotent batch of `records` records into out (caller frees). */
static void build_idempotent(buf *out, int64_t producer_id, int16_t epoch, int32_t sequence, int records)
{
    static const uint8_t value[] = "value";
    batch_record recs[16];
    assert_true(records > 0 && records <= 16);
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < records; i++) {
        recs[i].key_len = -1;
        recs[i].value = value;
        recs[i].value_len = (int32_t)sizeof value - 1;
        recs[i].timestamp = NOW_MS + i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    params.producer_id = producer_id;
    params.producer_epoch = epoch;
    params.base_sequence = sequence;
    buf_init(out, 1 << 20);
    assert_int_equal(batch_build(out, &params, recs, records), 0);
}

/* A header as a client sends it (base offset 0). */
static batch_header header_of(int64_t producer_id, int16_t epoch, int32_t sequence, int records)
{
    batch_header h;
    memset(&h, 0, sizeof h);
    h.producer_id = producer_id;
    h.producer_epoch = epoch;
    h.base_sequence = sequence;
    h.last_offset_delta = records - 1;
    h.record_count = records;
    h.max_timestamp = NOW_MS;
    return h;
}

/* Records h at base_offset in ps, like an append. */
static void record(producer_state *ps, batch_header h, int64_t base_offset)
{
    h.base_offset = base_offset;
    assert_int_equal(producer_state_update(ps, &h, NOW_MS), 0);
}

static int check_outcome(const producer_state *ps, batch_header h)
{
    producer_check_result r;
    producer_state_check(ps, &h, &r);
    return r.outcome;
}

/* Checks then appends an idempotent batch to the log; returns the outcome and
 * (*base) the base offset of the append or of the original. */
static int produce(plog *log, int64_t producer_id, int16_t epoch, int32_t sequence, int records,
                   int64_t *base)
{
    buf b;
    build_idempotent(&b, producer_id, epoch, sequence, records);
    batch_header h;
    assert_int_equal(batch_header_parse(b.data, b.len, &h), 0);
    producer_check_result r;
    plog_producer_check(log, &h, &r);
    if (r.outcome == PRODUCER_APPEND) {
        plog_append_result result;
        assert_int_equal(plog_append(log, b.data, b.len, -1, &result), 0);
        *base = result.base_offset;
    } else if (r.outcome == PRODUCER_DUPLICATE) {
        *base = r.duplicate.first_offset;
    }
    buf_free(&b);
    return r.outcome;
}

static plog *open_log(const test_dir *d, const plog_config *c)
{
    plog *log = NULL;
    assert_int_equal(plog_open(d->log, c, &log), 0);
    return log;
}

/* ---- rules --------------------------------------------------------------- */

/* Seven batches of three records: each of the last five is a duplicate with
 * its own offsets; the two older ones are no longer known and are out of
 * order; a partial overlap is out of order too. */
static void test_duplicates_of_last_five(void **state)
{
    (void)state;
    producer_state *ps;
    assert_int_equal(producer_state_create(16, &ps), 0);
    for (int i = 0; i < 7; i++)
        record(ps, header_of(PID, 0, i * 3, 3), 100 + i * 3);
    for (int i = 0; i < 7; i++) {
        batch_header h = header_of(PID, 0, i * 3, 3);
        producer_check_result r;
        producer_state_check(ps, &h, &r);
        if (i < 2) {
            assert_int_equal(r.outcome, PRODUCER_OUT_OF_ORDER);
        } else {
            assert_int_equal(r.outcome, PRODUCER_DUPLICATE);
            assert_int_equal(r.duplicate.first_offset, 100 + i * 3);
            assert_int_equal(r.duplicate.last_offset, 100 + i * 3 + 2);
            assert_int_equal(r.duplicate.first_sequence, i * 3);
        }
    }
    /* same first sequence, different length: not the same batch */
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 18, 2)), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 21, 1)), PRODUCER_APPEND);
    producer_state_free(ps);
}

static void test_gap_and_next(void **state)
{
    (void)state;
    producer_state *ps;
    assert_int_equal(producer_state_create(16, &ps), 0);
    record(ps, header_of(PID, 3, 0, 5), 0);
    producer_check_result r;
    batch_header gap = header_of(PID, 3, 6, 1);
    producer_state_check(ps, &gap, &r);
    assert_int_equal(r.outcome, PRODUCER_OUT_OF_ORDER);
    assert_int_equal(r.expected_sequence, 5);
    assert_int_equal(r.known_epoch, 3);
    assert_int_equal(check_outcome(ps, header_of(PID, 3, 4, 1)), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(check_outcome(ps, header_of(PID, 3, 5, 1)), PRODUCER_APPEND);
    /* another producer is independent */
    assert_int_equal(check_outcome(ps, header_of(PID + 1, 0, 0, 1)), PRODUCER_APPEND);
    producer_state_free(ps);
}

static void test_fencing_and_epoch_bump(void **state)
{
    (void)state;
    producer_state *ps;
    assert_int_equal(producer_state_create(16, &ps), 0);
    record(ps, header_of(PID, 5, 0, 2), 0);
    record(ps, header_of(PID, 5, 2, 2), 2);
    /* an older epoch is fenced, even as a "duplicate" */
    assert_int_equal(check_outcome(ps, header_of(PID, 4, 0, 2)), PRODUCER_FENCED);
    assert_int_equal(check_outcome(ps, header_of(PID, 4, 4, 2)), PRODUCER_FENCED);
    /* a newer epoch must start at 0 */
    assert_int_equal(check_outcome(ps, header_of(PID, 6, 4, 1)), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(check_outcome(ps, header_of(PID, 6, 0, 1)), PRODUCER_APPEND);
    record(ps, header_of(PID, 6, 0, 1), 4);
    const producer_entry *e = producer_state_find(ps, PID);
    assert_non_null(e);
    assert_int_equal(e->producer_epoch, 6);
    assert_int_equal(e->batch_count, 1); /* the old epoch's batches are forgotten */
    assert_int_equal(check_outcome(ps, header_of(PID, 5, 2, 2)), PRODUCER_FENCED);
    assert_int_equal(check_outcome(ps, header_of(PID, 6, 0, 1)), PRODUCER_DUPLICATE);
    assert_int_equal(check_outcome(ps, header_of(PID, 6, 1, 1)), PRODUCER_APPEND);
    producer_state_free(ps);
}

static void test_sequence_wrap(void **state)
{
    (void)state;
    assert_int_equal(producer_sequence_add(INT32_MAX - 1, 3), 1);
    assert_int_equal(producer_sequence_add(INT32_MAX, 1), 0);
    assert_int_equal(producer_sequence_add(5, 0), 5);
    assert_true(producer_sequence_follows(INT32_MAX, 0));
    assert_false(producer_sequence_follows(INT32_MAX, 1));
    assert_true(producer_sequence_follows(41, 42));
    producer_state *ps;
    assert_int_equal(producer_state_create(16, &ps), 0);
    record(ps, header_of(PID, 0, INT32_MAX - 1, 3), 10); /* MAX-1, MAX, 0 */
    const producer_entry *e = producer_state_find(ps, PID);
    assert_int_equal(e->batches[0].last_sequence, 0);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, INT32_MAX - 1, 3)), PRODUCER_DUPLICATE);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 0, 1)), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 1, 1)), PRODUCER_APPEND);
    record(ps, header_of(PID, 0, 1, 1), 13);
    /* a batch ending exactly at INT32_MAX is followed by 0 */
    producer_state_clear(ps);
    record(ps, header_of(PID, 0, INT32_MAX - 1, 2), 20);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 0, 1)), PRODUCER_APPEND);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, 1, 1)), PRODUCER_OUT_OF_ORDER);
    producer_state_free(ps);
}

/* KIP-360 / DESIGN.md §8: an unknown producer is accepted at any sequence;
 * a non-idempotent batch is never checked; negative fields are invalid. */
static void test_unknown_and_invalid(void **state)
{
    (void)state;
    producer_state *ps;
    assert_int_equal(producer_state_create(16, &ps), 0);
    producer_check_result r;
    batch_header h = header_of(PID, 7, 123456, 4);
    producer_state_check(ps, &h, &r);
    assert_int_equal(r.outcome, PRODUCER_APPEND);
    assert_int_equal(r.known_epoch, -1);
    record(ps, h, 0);
    assert_int_equal(check_outcome(ps, header_of(PID, 7, 123460, 1)), PRODUCER_APPEND);
    assert_int_equal(check_outcome(ps, header_of(-1, -1, -1, 1)), PRODUCER_APPEND);
    assert_int_equal(check_outcome(ps, header_of(PID, -1, 0, 1)), PRODUCER_INVALID);
    assert_int_equal(check_outcome(ps, header_of(PID, 0, -1, 1)), PRODUCER_INVALID);
    batch_header plain = header_of(-1, -1, -1, 1);
    assert_int_equal(producer_state_update(ps, &plain, NOW_MS), 0);
    assert_int_equal(producer_state_count(ps), 1);
    producer_state_free(ps);
}

/* Many producers: lookups survive growth and backward-shift deletion; expiry
 * forgets exactly the idle ones; a full map forgets the least active. */
static void test_map_expiry_and_eviction(void **state)
{
    (void)state;
    producer_state *ps;
    assert_int_equal(producer_state_create(5000, &ps), 0);
    for (int64_t id = 0; id < 3000; id++) {
        batch_header h = header_of(id * 7919, 0, 0, 1);
        h.base_offset = id;
        assert_int_equal(producer_state_update(ps, &h, id % 2 ? NOW_MS : NOW_MS - 1000), 0);
    }
    assert_int_equal(producer_state_count(ps), 3000);
    assert_int_equal(producer_state_expire(ps, NOW_MS, 500), 1500);
    assert_int_equal(producer_state_count(ps), 1500);
    for (int64_t id = 0; id < 3000; id++) {
        const producer_entry *e = producer_state_find(ps, id * 7919);
        if (id % 2)
            assert_true(e != NULL && e->batches[0].first_offset == id);
        else
            assert_null(e);
    }
    assert_int_equal(producer_state_expire(ps, NOW_MS + 499, 500), 0);
    assert_int_equal(producer_state_expire(ps, NOW_MS + 500, 500), 1500);
    producer_state_free(ps);

    assert_int_equal(producer_state_create(3, &ps), 0);
    for (int64_t id = 1; id <= 4; id++) {
        batch_header h = header_of(id, 0, 0, 1);
        h.base_offset = id;
        assert_int_equal(producer_state_update(ps, &h, NOW_MS + (id == 1 ? 100 : id)), 0);
    }
    assert_int_equal(producer_state_count(ps), 3);
    assert_non_null(producer_state_find(ps, 1)); /* most active of the first three */
    assert_null(producer_state_find(ps, 2));     /* least active: forgotten */
    assert_non_null(producer_state_find(ps, 4));
    producer_state_free(ps);
}

/* ---- snapshot format ------------------------------------------------------ */

static producer_state *sample_state(void)
{
    producer_state *ps;
    assert_int_equal(producer_state_create(LIMIT_PRODUCERS_PER_PARTITION, &ps), 0);
    int64_t offset = 0;
    for (int64_t id = 1; id <= 20; id++)
        for (int i = 0; i < (int)(id % 7) + 1; i++) {
            record(ps, header_of(id << 32, (int16_t)id, i * 2, 2), offset);
            offset += 2;
        }
    return ps;
}

static void assert_same_entries(const producer_state *a, const producer_state *b)
{
    assert_int_equal(producer_state_count(a), producer_state_count(b));
    for (int64_t id = 1; id <= 20; id++) {
        const producer_entry *x = producer_state_find(a, id << 32), *y = producer_state_find(b, id << 32);
        assert_non_null(x);
        assert_non_null(y);
        assert_memory_equal(x, y, offsetof(producer_entry, batches) + x->batch_count * sizeof(producer_batch));
    }
}

static void test_snapshot_round_trip(void **state)
{
    (void)state;
    producer_state *ps = sample_state(), *back;
    assert_int_equal(producer_state_create(LIMIT_PRODUCERS_PER_PARTITION, &back), 0);
    buf b;
    buf_init(&b, PRODUCER_SNAPSHOT_BYTES_MAX);
    assert_int_equal(producer_snapshot_encode(ps, 1000, &b), 0);
    assert_int_equal(producer_snapshot_decode(b.data, b.len, 1000, back), 0);
    assert_same_entries(ps, back);
    /* an empty map encodes as the bare header */
    producer_state_clear(ps);
    buf_reset(&b);
    assert_int_equal(producer_snapshot_encode(ps, 7, &b), 0);
    assert_int_equal(b.len, PRODUCER_SNAPSHOT_HEADER_BYTES);
    assert_int_equal(producer_snapshot_decode(b.data, b.len, 7, back), 0);
    assert_int_equal(producer_state_count(back), 0);
    buf_free(&b);
    producer_state_free(ps);
    producer_state_free(back);
}

/* Every damage is refused and leaves the map empty: a flipped byte anywhere
 * (CRC), every truncation, trailing bytes, a wrong offset, and entries that
 * pass the CRC but break the invariants. */
static void test_snapshot_damage(void **state)
{
    (void)state;
    producer_state *ps = sample_state(), *back;
    assert_int_equal(producer_state_create(LIMIT_PRODUCERS_PER_PARTITION, &back), 0);
    buf b;
    buf_init(&b, PRODUCER_SNAPSHOT_BYTES_MAX);
    assert_int_equal(producer_snapshot_encode(ps, 1000, &b), 0);
    uint8_t *copy = malloc(b.len + 1);
    for (size_t i = 0; i < b.len; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= 0x40;
        assert_int_not_equal(producer_snapshot_decode(copy, b.len, 1000, back), 0);
        assert_int_equal(producer_state_count(back), 0);
    }
    for (size_t len = 0; len < b.len; len++)
        assert_int_not_equal(producer_snapshot_decode(b.data, len, 1000, back), 0);
    assert_int_equal(producer_snapshot_decode(b.data, b.len, 999, back), ST_ECORRUPT);
    memcpy(copy, b.data, b.len);
    copy[b.len] = 0;
    /* trailing byte: fix the CRC so only the length is wrong */
    store_i32(copy + 8, (int32_t)crc32c(0, copy + 12, b.len + 1 - 12));
    assert_int_equal(producer_snapshot_decode(copy, b.len + 1, 1000, back), ST_ECORRUPT);
    /* a batch offset at or above the snapshot offset, with a valid CRC */
    memcpy(copy, b.data, b.len);
    store_i64(copy + PRODUCER_SNAPSHOT_HEADER_BYTES + PRODUCER_SNAPSHOT_ENTRY_BYTES + 16, 5000);
    store_i32(copy + 8, (int32_t)crc32c(0, copy + 12, b.len - 12));
    assert_int_equal(producer_snapshot_decode(copy, b.len, 1000, back), ST_ECORRUPT);
    /* a hostile producer count */
    memcpy(copy, b.data, b.len);
    store_i32(copy + 20, INT32_MAX);
    store_i32(copy + 8, (int32_t)crc32c(0, copy + 12, b.len - 12));
    assert_int_not_equal(producer_snapshot_decode(copy, b.len, 1000, back), 0);
    free(copy);
    buf_free(&b);
    producer_state_free(ps);
    producer_state_free(back);
}

/* ---- log integration ------------------------------------------------------ */

/* Close writes a snapshot at the log end; reopening loads it and a retry of
 * each of the last five batches is still a duplicate with its offsets. */
static void test_snapshot_at_close_and_reopen(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    int64_t bases[8], base;
    for (int i = 0; i < 8; i++)
        assert_int_equal(produce(log, PID, 0, i * 2, 2, &bases[i]), PRODUCER_APPEND);
    assert_int_equal(produce(log, PID, 0, 14, 2, &base), PRODUCER_DUPLICATE);
    assert_int_equal(base, bases[7]);
    int64_t end = plog_log_end_offset(log);
    plog_close(log);
    char path[256];
    test_path(path, sizeof path, &d, end, PRODUCER_SNAPSHOT_SUFFIX);
    assert_true(test_file_size(path) > PRODUCER_SNAPSHOT_HEADER_BYTES);
    log = open_log(&d, &c);
    assert_int_equal(plog_producer_count(log), 1);
    for (int i = 3; i < 8; i++) {
        assert_int_equal(produce(log, PID, 0, i * 2, 2, &base), PRODUCER_DUPLICATE);
        assert_int_equal(base, bases[i]);
    }
    assert_int_equal(produce(log, PID, 0, 4, 2, &base), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(produce(log, PID, 0, 18, 2, &base), PRODUCER_OUT_OF_ORDER);
    assert_int_equal(produce(log, PID, 0, 16, 2, &base), PRODUCER_APPEND);
    assert_int_equal(base, end);
    /* clean close and reopen again: still one snapshot per segment + newest */
    plog_close(log);
    log = open_log(&d, &c);
    plog_close(log);
    assert_true(test_count_files(&d, PRODUCER_SNAPSHOT_SUFFIX) <= 2);
    test_dir_remove(&d);
}

/* A child appends across several segment rolls and dies without closing
 * (kill -9): the parent rebuilds from the newest roll snapshot plus the log
 * and recognises every retry among the last five as a duplicate. */
static void test_rebuild_after_kill(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1500, 300);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        plog *log;
        if (plog_open(d.log, &c, &log) != 0)
            _exit(1);
        int64_t base;
        for (int i = 0; i < 60; i++) {
            if (produce(log, PID, 2, i * 3, 3, &base) != PRODUCER_APPEND)
                _exit(2);
            if (produce(log, PID + 1, 0, i, 1, &base) != PRODUCER_APPEND)
                _exit(3);
        }
        _exit(0); /* no close: no snapshot at the end */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(test_count_files(&d, ".log") > 3);
    assert_true(test_count_files(&d, PRODUCER_SNAPSHOT_SUFFIX) >= 1);
    plog *log = open_log(&d, &c);
    assert_int_equal(plog_producer_count(log), 2);
    /* offsets: batches alternate 3 records (PID) and 1 record (PID+1) */
    int64_t base;
    for (int i = 55; i < 60; i++) {
        assert_int_equal(produce(log, PID, 2, i * 3, 3, &base), PRODUCER_DUPLICATE);
        assert_int_equal(base, (int64_t)i * 4);
        assert_int_equal(produce(log, PID + 1, 0, i, 1, &base), PRODUCER_DUPLICATE);
        assert_int_equal(base, (int64_t)i * 4 + 3);
    }
    assert_int_equal(produce(log, PID, 2, 180, 3, &base), PRODUCER_APPEND);
    assert_int_equal(produce(log, PID, 1, 183, 3, &base), PRODUCER_FENCED);
    plog_close(log);
    test_dir_remove(&d);
}

/* A damaged newest snapshot is deleted and the state rebuilt from an older
 * one (or the log): duplicates are still recognised. */
static void test_damaged_snapshot_ignored(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    int64_t bases[6], base;
    for (int i = 0; i < 6; i++)
        assert_int_equal(produce(log, PID, 0, i, 1, &bases[i]), PRODUCER_APPEND);
    int64_t end = plog_log_end_offset(log);
    plog_close(log);
    char path[256];
    test_path(path, sizeof path, &d, end, PRODUCER_SNAPSHOT_SUFFIX);
    int64_t size = test_file_size(path);
    assert_true(size > 30);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\xff\xff", 2, size - 10), 2);
    close(fd);
    log = open_log(&d, &c);
    assert_int_equal(test_file_size(path), -1); /* deleted */
    assert_int_equal(produce(log, PID, 0, 5, 1, &base), PRODUCER_DUPLICATE);
    assert_int_equal(base, bases[5]);
    assert_int_equal(produce(log, PID, 0, 1, 1, &base), PRODUCER_DUPLICATE);
    assert_int_equal(base, bases[1]);
    plog_close(log);
    test_dir_remove(&d);
}

/* A torn tail after the last snapshot was written: the snapshot beyond the
 * new end is deleted, and the lost batch may be sent again (it is not a
 * duplicate any more, and the sequence follows the surviving batch). */
static void test_snapshot_beyond_truncated_end(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    int64_t base;
    for (int i = 0; i < 4; i++)
        assert_int_equal(produce(log, PID, 0, i * 2, 2, &base), PRODUCER_APPEND);
    int64_t end = plog_log_end_offset(log);
    plog_close(log);
    char path[256];
    test_path(path, sizeof path, &d, 0, ".log");
    assert_int_equal(truncate(path, test_file_size(path) - 5), 0);
    log = open_log(&d, &c);
    assert_int_equal(plog_log_end_offset(log), end - 2);
    test_path(path, sizeof path, &d, end, PRODUCER_SNAPSHOT_SUFFIX);
    assert_int_equal(test_file_size(path), -1);
    assert_int_equal(produce(log, PID, 0, 4, 2, &base), PRODUCER_DUPLICATE);
    assert_int_equal(produce(log, PID, 0, 6, 2, &base), PRODUCER_APPEND);
    assert_int_equal(base, end - 2);
    plog_close(log);
    test_dir_remove(&d);
}

/* Retention drops segments: snapshots below the new first segment go. */
static void test_snapshots_pruned_with_segments(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1500, 300);
    plog *log = open_log(&d, &c);
    int64_t base;
    for (int i = 0; i < 80; i++)
        assert_int_equal(produce(log, PID, 0, i, 1, &base), PRODUCER_APPEND);
    int snapshots = test_count_files(&d, PRODUCER_SNAPSHOT_SUFFIX);
    assert_true(snapshots >= 3);
    assert_int_equal(plog_delete_records(log, plog_log_end_offset(log) - 1), 0);
    assert_true(test_count_files(&d, PRODUCER_SNAPSHOT_SUFFIX) < snapshots);
    assert_int_equal(produce(log, PID, 0, 79, 1, &base), PRODUCER_DUPLICATE);
    plog_close(log);
    log = open_log(&d, &c);
    assert_int_equal(produce(log, PID, 0, 79, 1, &base), PRODUCER_DUPLICATE);
    plog_close(log);
    test_dir_remove(&d);
}

/* ---- Produce step and producer ids ---------------------------------------- */

static void test_produce_idempotence_step(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    int64_t base;
    assert_int_equal(produce(log, PID, 0, 0, 2, &base), PRODUCER_APPEND);
    produce_idempotence out;
    buf one, two;
    build_idempotent(&one, PID, 0, 0, 2);
    produce_idempotence_check(log, one.data, one.len, 1, &out);
    assert_true(out.duplicate);
    assert_int_equal(out.error_code, KERR_NONE);
    assert_int_equal(out.base_offset, base);
    build_idempotent(&two, PID, 0, 5, 1);
    produce_idempotence_check(log, two.data, two.len, 1, &out);
    assert_int_equal(out.error_code, KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    buf_put(&one, two.data, two.len); /* two batches in one partition */
    produce_idempotence_check(log, one.data, one.len, 2, &out);
    assert_int_equal(out.error_code, KERR_INVALID_RECORD);
    buf_free(&one);
    buf_free(&two);
    test_build_batch(&one, 2, 10, NOW_MS); /* plain: never checked */
    produce_idempotence_check(log, one.data, one.len, 1, &out);
    assert_int_equal(out.error_code, KERR_NONE);
    assert_false(out.duplicate);
    buf_free(&one);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_producer_ids_durable_and_unique(void **state)
{
    (void)state;
    char dir[] = "/tmp/strait-pids-XXXXXX";
    assert_non_null(mkdtemp(dir));
    producer_ids *ids;
    assert_int_equal(producer_ids_open(dir, 7, &ids), 0);
    int64_t first, id = 0;
    assert_int_equal(producer_ids_next(ids, &first), 0);
    assert_int_equal(first >> 32, 7);
    assert_int_equal(first & 0xffffffff, 0);
    for (int i = 1; i < PRODUCER_ID_BLOCK_SIZE + 5; i++) {
        assert_int_equal(producer_ids_next(ids, &id), 0);
        assert_int_equal(id, first + i);
    }
    producer_ids_close(ids); /* like a kill -9: nothing is written at close */
    int64_t saved = 0;
    size_t entries = 0;
    assert_int_equal(checkpoint_read(dir, PRODUCER_ID_BLOCK_FILE, 1, &saved, 1, &entries), 0);
    assert_int_equal(saved, 2 * PRODUCER_ID_BLOCK_SIZE);
    assert_int_equal(producer_ids_open(dir, 7, &ids), 0);
    int64_t after;
    assert_int_equal(producer_ids_next(ids, &after), 0);
    assert_true(after > id);
    assert_int_equal(after, ((int64_t)7 << 32) | (2 * PRODUCER_ID_BLOCK_SIZE));
    producer_ids_close(ids);
    /* another node never overlaps */
    assert_int_equal(producer_ids_open(dir, 8, &ids), 0);
    assert_int_equal(producer_ids_next(ids, &after), 0);
    assert_int_equal(after >> 32, 8);
    producer_ids_close(ids);
    /* a damaged block file refuses to start rather than risk reuse */
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, PRODUCER_ID_BLOCK_FILE);
    FILE *f = fopen(path, "w");
    fputs("0\n1\nbogus\n", f);
    fclose(f);
    assert_int_equal(producer_ids_open(dir, 7, &ids), ST_ECORRUPT);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_of_last_five),
        cmocka_unit_test(test_gap_and_next),
        cmocka_unit_test(test_fencing_and_epoch_bump),
        cmocka_unit_test(test_sequence_wrap),
        cmocka_unit_test(test_unknown_and_invalid),
        cmocka_unit_test(test_map_expiry_and_eviction),
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_snapshot_damage),
        cmocka_unit_test(test_snapshot_at_close_and_reopen),
        cmocka_unit_test(test_rebuild_after_kill),
        cmocka_unit_test(test_damaged_snapshot_ignored),
        cmocka_unit_test(test_snapshot_beyond_truncated_end),
        cmocka_unit_test(test_snapshots_pruned_with_segments),
        cmocka_unit_test(test_produce_idempotence_step),
        cmocka_unit_test(test_producer_ids_durable_and_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
