/*
 * test_storage_faults.c - the partition log with its allocations and I/O
 * failed in turn (fault_loop.h, fault_injection.h): for each kind of call
 * (allocation, write, fsync, rename, open, ftruncate, read) and n = 1, 2,
 * ..., the Nth call fails (transient) or it and every later one fail
 * (persistent) while an operation runs:
 *   - appends that roll segments, write producer snapshots, move the leader
 *     epoch and flush, then a close;
 *   - appends acknowledged only once the flusher's fsync completed, and the
 *     same with the power lost right after them (fault_power_*: what no
 *     fsync made durable, file contents and directory entries, is gone);
 *   - opening a directory that needs real recovery (no recovery point, a
 *     missing index, a torn tail, no leader-epoch checkpoint);
 *   - a reopen after DeleteRecords (regression: a read error is not damage);
 *   - retention and DeleteRecords; a compaction (plan, rewrite, swap,
 *     cleaner checkpoint) and a close.
 * Each time the operation must fail with an error value or succeed (no
 * crash, no failed invariant, no leak under ASan), and the directory must
 * then open without faults and hold every acknowledged batch, byte for byte
 * (CRC), at its offset, with leader epochs that never go back. The loop ends
 * when an operation runs without reaching call n. The files written whole
 * (snapshots, checkpoints, the region state) are in test_file_faults.c.
 *
 * Runs only in a program linked with the wrapped functions (CMakeLists.txt,
 * FAULT_INJECTION_TESTS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "broker/cluster/region_state.h"
#include "broker/log/cleaner.h"
#include "broker/log/flusher.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/log_producers.h"
#include "broker/log/partition_log_internal.h"
#include "common/log.h"
#include "log_test_helpers.h"
#include "fault_loop.h"

#define BATCHES_MAX 64
#define PRODUCER_ID 7
#define NOW_MS 1700000000000LL

/* ---- what was acknowledged ---------------------------------------------------- */

typedef struct acked_batch {
    int64_t base_offset;
    int64_t max_timestamp_ms;
    int32_t records;
} acked_batch;

typedef struct history {
    acked_batch batches[BATCHES_MAX];
    int count;
    int32_t next_sequence;
    int64_t producer_last_offset; /* last offset of the last acknowledged idempotent batch, -1 */
} history;

static void history_init(history *h)
{
    memset(h, 0, sizeof *h);
    h->producer_last_offset = -1;
}

/* Appends batch number index (1 to 3 records, its own timestamps, producer
 * PRODUCER_ID, the next sequence of h). Returns plog_append's rc. */
static int append_only(plog *log, const history *h, int index, plog_append_result *result)
{
    static uint8_t value[200];
    memset(value, 'a' + index % 26, sizeof value);
    int records = 1 + index % 3;
    batch_record recs[3];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < records; i++) {
        recs[i].key_len = -1;
        recs[i].value = value;
        recs[i].value_len = (int32_t)sizeof value;
        recs[i].timestamp = NOW_MS + 1000 * index + i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    params.producer_id = PRODUCER_ID;
    params.producer_epoch = 0;
    params.base_sequence = h->next_sequence;
    buf b;
    buf_init(&b, 1 << 16);
    int rc = batch_build(&b, &params, recs, records);
    if (rc != 0) { /* the allocation fault hit the test's own buffer */
        buf_free(&b);
        return rc;
    }
    rc = plog_append(log, b.data, b.len, -1, result);
    buf_free(&b);
    return rc;
}

/* Records batch number index, appended as result, as acknowledged. */
static void history_add(history *h, int index, const plog_append_result *result)
{
    int records = 1 + index % 3;
    assert_true(h->count < BATCHES_MAX);
    assert_int_equal(result->last_offset - result->base_offset + 1, records);
    h->batches[h->count++] = (acked_batch){result->base_offset, NOW_MS + 1000 * index + records - 1, records};
    h->next_sequence += records;
    h->producer_last_offset = result->last_offset;
}

/* append_only, and acknowledged when it returns 0 (no flush policy wait). */
static int append_batch(plog *log, history *h, int index)
{
    plog_append_result result;
    int rc = append_only(log, h, index, &result);
    if (rc == 0)
        history_add(h, index, &result);
    return rc;
}

/* Reads every batch of the log back (CRC, contiguous offsets) and checks that
 * the acknowledged ones are there, in order, unchanged; after them at most
 * `extra` batches (appends that wrote but failed after the write). */
static void check_acknowledged(plog *log, const history *h, int extra)
{
    int64_t offset = plog_log_start_offset(log);
    assert_int_equal(offset, 0);
    int seen = 0;
    int32_t epoch_max = -1;
    while (offset < plog_log_end_offset(log)) {
        plog_slice s;
        assert_int_equal(plog_read(log, offset, 1 << 20, &s), 0);
        assert_true(s.length > 0);
        uint8_t *data = malloc((size_t)s.length);
        assert_non_null(data);
        assert_int_equal(pread(s.fd, data, (size_t)s.length, s.file_position), s.length);
        for (size_t at = 0; at < (size_t)s.length;) {
            batch_header bh;
            assert_int_equal(batch_header_parse(data + at, (size_t)s.length - at, &bh), 0);
            assert_true(batch_crc_ok(data + at, batch_total_bytes(&bh)));
            assert_int_equal(bh.base_offset, offset);
            assert_true(bh.partition_leader_epoch >= epoch_max); /* epochs never go back */
            epoch_max = bh.partition_leader_epoch;
            if (seen < h->count) {
                const acked_batch *a = &h->batches[seen];
                assert_int_equal(bh.base_offset, a->base_offset);
                assert_int_equal(bh.max_timestamp, a->max_timestamp_ms);
                assert_int_equal(bh.record_count, a->records);
            }
            seen++;
            offset = batch_last_offset(&bh) + 1;
            at += batch_total_bytes(&bh);
        }
        free(data);
    }
    assert_true(seen >= h->count);
    assert_true(seen <= h->count + extra);
    /* the epoch cache knows every epoch the batches carry: the next append
     * cannot get an older one */
    assert_true(plog_leader_epoch(log) >= epoch_max);
    if (h->producer_last_offset >= 0) {
        const producer_entry *e = plog_producer_find(log, PRODUCER_ID);
        assert_non_null(e);
        assert_true(e->batches[e->batch_count - 1].last_offset >= h->producer_last_offset);
    }
}

static plog_config small_segments(void)
{
    plog_config c = test_config(1200, 64); /* a roll every few batches, index entries */
    c.flush_messages = 4;                  /* inline fsyncs from the appends too */
    return c;
}

/* ---- scenario: append, roll, snapshot, epoch, flush, close --------------------- */

typedef struct append_ctx {
    test_dir dir;
    plog *log;
    history acked;
    bool epoch_moved;  /* plog_set_leader_epoch(2) returned 0 */
    int failed_appends;
} append_ctx;

static void append_prepare(void *arg)
{
    append_ctx *x = arg;
    fault_dir_make(&x->dir);
    history_init(&x->acked);
    x->epoch_moved = false;
    x->failed_appends = 0;
    plog_config c = small_segments();
    assert_int_equal(plog_open(x->dir.log, &c, &x->log), 0);
    assert_int_equal(plog_set_leader_epoch(x->log, 1), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(append_batch(x->log, &x->acked, i), 0);
}

static int append_run(void *arg)
{
    append_ctx *x = arg;
    int rc = plog_set_leader_epoch(x->log, 2);
    x->epoch_moved = rc == 0;
    /* a client retries after an error: the appends go on (a failed log
     * refuses them; an allocation failure leaves it usable) */
    for (int i = 6; i < 14; i++) {
        int append_rc = append_batch(x->log, &x->acked, i);
        x->failed_appends += append_rc != 0;
        if (rc == 0)
            rc = append_rc;
    }
    int flush_rc = plog_flush(x->log);
    if (rc == 0)
        rc = flush_rc;
    plog_close(x->log); /* under the fault too: it seals, flushes, snapshots */
    x->log = NULL;
    return rc;
}

static void append_verify(void *arg, int rc, bool faulted)
{
    (void)rc;
    (void)faulted;
    append_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    /* an append whose write went through but whose flush failed is in the log */
    check_acknowledged(log, &x->acked, x->failed_appends);
    if (x->epoch_moved)
        assert_int_equal(plog_leader_epoch(log), 2);
    else
        assert_true(plog_leader_epoch(log) >= 1);
    /* the log takes appends again */
    history more = x->acked;
    assert_int_equal(append_batch(log, &more, 40), 0);
    plog_close(log);
}

static void append_cleanup(void *arg)
{
    append_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_append_roll_flush_close_under_faults(void **state)
{
    (void)state;
    append_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"append", append_prepare, append_run, append_verify, append_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: appends acknowledged after the flusher's fsync --------------------- */

typedef struct flusher_ctx {
    test_dir dir;
    struct event_base *base;
    log_flusher *flusher;
    plog *log;
    history acked;
    int not_acked; /* appends that may have written without being acknowledged */
} flusher_ctx;

typedef struct wait_state {
    plog_flush_waiter w;
    int calls;
    int rc;
} wait_state;

static void wait_done(plog_flush_waiter *w, int rc)
{
    wait_state *ws = w->arg;
    ws->calls++;
    ws->rc = rc;
}

static plog_config flush_every_append(void)
{
    plog_config c = small_segments();
    c.flush_messages = 1; /* acknowledged only once durable */
    return c;
}

static void flusher_prepare(void *arg)
{
    flusher_ctx *x = arg;
    fault_dir_make(&x->dir);
    history_init(&x->acked);
    x->not_acked = 0;
    plog_config c = small_segments(); /* the first batches are acknowledged when appended */
    assert_int_equal(plog_open(x->dir.log, &c, &x->log), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(append_batch(x->log, &x->acked, i), 0);
    assert_int_equal(plog_flush(x->log), 0);
    c = flush_every_append();
    plog_set_config(x->log, &c);
    plog_set_flusher(x->log, x->flusher);
}

/* True when the data below offset became durable (the loop runs until the
 * waiter is called, bounded). */
static bool wait_durable(flusher_ctx *x, int64_t offset)
{
    wait_state ws;
    memset(&ws, 0, sizeof ws);
    int rc = plog_flush_wait(x->log, offset, &ws.w, wait_done, &ws);
    if (rc == 1)
        return true;
    if (rc != 0)
        return false;
    for (int i = 0; i < 10000 && ws.calls == 0; i++) {
        event_base_loop(x->base, EVLOOP_NONBLOCK);
        if (ws.calls == 0)
            usleep(200);
    }
    assert_int_equal(ws.calls, 1);
    return ws.rc == 0;
}

/* Appends batches 4..11, each acknowledged once the flusher made it durable. */
static int flusher_appends(flusher_ctx *x)
{
    int rc = 0;
    for (int i = 4; i < 12; i++) {
        plog_append_result result;
        int append_rc = append_only(x->log, &x->acked, i, &result);
        bool durable = append_rc == 0 && (result.flushed || wait_durable(x, result.last_offset + 1));
        if (durable) {
            history_add(&x->acked, i, &result);
        } else {
            x->not_acked++;
            if (rc == 0)
                rc = append_rc != 0 ? append_rc : ST_EIO;
        }
    }
    return rc;
}

static int flusher_run(void *arg)
{
    flusher_ctx *x = arg;
    int rc = flusher_appends(x);
    plog_close(x->log); /* settles an fsync in flight */
    x->log = NULL;
    return rc;
}

static void flusher_verify(void *arg, int rc, bool faulted)
{
    (void)rc;
    (void)faulted;
    flusher_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    check_acknowledged(log, &x->acked, x->not_acked);
    plog_close(log);
}

static void flusher_cleanup(void *arg)
{
    flusher_ctx *x = arg;
    test_dir_remove(&x->dir);
}

/* The same with the power lost right after the appends (fault_power_*): an
 * acknowledged batch was fsynced, with the directory entries of its
 * segment, so it is there after the restart. */
static void power_prepare(void *arg)
{
    flusher_ctx *x = arg;
    flusher_prepare(x);
    fault_power_track(x->dir.log);
}

static int power_run(void *arg)
{
    flusher_ctx *x = arg;
    int rc = flusher_appends(x);
    fault_power_cut();
    plog_close(x->log); /* what it writes is lost with the power */
    x->log = NULL;
    return rc;
}

static void power_verify(void *arg, int rc, bool faulted)
{
    fault_power_restore();
    flusher_verify(arg, rc, faulted);
}

static void test_power_loss_keeps_acknowledged(void **state)
{
    (void)state;
    flusher_ctx x;
    memset(&x, 0, sizeof x);
    assert_int_equal(evthread_use_pthreads(), 0);
    x.base = event_base_new();
    assert_non_null(x.base);
    assert_int_equal(evthread_make_base_notifiable(x.base), 0);
    assert_int_equal(log_flusher_open(x.base, &x.flusher), 0);
    scenario sc = {"power", power_prepare, power_run, power_verify, flusher_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
    log_flusher_close(x.flusher);
    event_base_free(x.base);
}

static void test_flusher_acknowledgements_under_faults(void **state)
{
    (void)state;
    flusher_ctx x;
    memset(&x, 0, sizeof x);
    assert_int_equal(evthread_use_pthreads(), 0);
    x.base = event_base_new();
    assert_non_null(x.base);
    assert_int_equal(evthread_make_base_notifiable(x.base), 0);
    assert_int_equal(log_flusher_open(x.base, &x.flusher), 0);
    scenario sc = {"flusher", flusher_prepare, flusher_run, flusher_verify, flusher_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
    log_flusher_close(x.flusher);
    event_base_free(x.base);
}

/* ---- scenario: recovery on open --------------------------------------------------- */

typedef struct recover_ctx {
    test_dir dir;
    history acked;
} recover_ctx;

static void remove_file(const test_dir *d, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", d->log, name);
    assert_int_equal(unlink(path), 0);
}

static void recover_prepare(void *arg)
{
    recover_ctx *x = arg;
    fault_dir_make(&x->dir);
    history_init(&x->acked);
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    assert_int_equal(plog_set_leader_epoch(log, 3), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(append_batch(log, &x->acked, i), 0);
    plog_close(log);
    /* a directory that needs every step of recovery: no recovery point (all
     * segments scanned), no leader-epoch checkpoint (rebuilt from the
     * batches), the first segment's index gone (rebuilt), a torn tail */
    remove_file(&x->dir, PLOG_RECOVERY_POINT_CHECKPOINT_NAME);
    remove_file(&x->dir, LEADER_EPOCH_CHECKPOINT_NAME);
    remove_file(&x->dir, "00000000000000000000.index");
    char path[PATH_MAX];
    int64_t base = -1;
    for (int i = x->acked.count - 1; i >= 0; i--) { /* the segment holding the last batch */
        test_path(path, sizeof path, &x->dir, x->acked.batches[i].base_offset, ".log");
        if (access(path, F_OK) == 0) {
            base = x->acked.batches[i].base_offset;
            break;
        }
    }
    assert_true(base >= 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    static const uint8_t torn[40] = {0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 1, 0};
    assert_int_equal(write(fd, torn, sizeof torn), (ssize_t)sizeof torn);
    close(fd);
}

static int recover_run(void *arg)
{
    recover_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    int rc = plog_open(x->dir.log, &c, &log);
    if (rc == 0)
        plog_close(log);
    return rc;
}

static void recover_verify(void *arg, int rc, bool faulted)
{
    (void)rc;
    (void)faulted;
    recover_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    check_acknowledged(log, &x->acked, 0);
    assert_int_equal(plog_log_end_offset(log), x->acked.producer_last_offset + 1);
    assert_int_equal(plog_leader_epoch(log), 3);
    plog_close(log);
}

static void recover_cleanup(void *arg)
{
    recover_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_recovery_under_faults(void **state)
{
    (void)state;
    recover_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"recover", recover_prepare, recover_run, recover_verify, recover_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: reopen (regression: a read error is not a damaged file) ------ */

/* file_read_all used to take a read error for the end of the file: a
 * checkpoint or state file cut short that way can still parse (a line fewer,
 * a shorter number). Seen here as a log start checkpoint "damaged" by a
 * failed read(), so the log start fell back to the first segment's base and
 * records deleted by DeleteRecords came back; a region state file cut short
 * loses keys (a role, an epoch) and is believed. Now the open fails with
 * ST_EIO instead, or, when the read went through, sees the files whole. */

typedef struct reopen_ctx {
    test_dir dir;
    history acked;
    int64_t start_wanted;
    bool log_opened;
    int64_t opened_start;
    int32_t opened_epoch;
    bool region_opened;
    int32_t region_epoch;
    enum region_role region_role;
} reopen_ctx;

static int region_apply(region_state *rs, const char *role, const char *epoch)
{
    const char *keys[3] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_TOPICS};
    const char *values[3] = {role, epoch, "orders"};
    char err[256];
    return region_state_apply(rs, keys, values, NULL, 3, false, false, err, sizeof err);
}

static void reopen_prepare(void *arg)
{
    reopen_ctx *x = arg;
    fault_dir_make(&x->dir);
    history_init(&x->acked);
    x->log_opened = x->region_opened = false;
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    assert_int_equal(plog_set_leader_epoch(log, 3), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(append_batch(log, &x->acked, i), 0);
    x->start_wanted = x->acked.batches[4].base_offset;
    assert_int_equal(plog_delete_records(log, x->start_wanted), 0);
    plog_close(log);
    region_state *rs = NULL;
    assert_int_equal(region_state_open(x->dir.root, &rs), 0);
    assert_int_equal(region_apply(rs, "active", "12"), 0);
    region_state_close(rs);
}

static int reopen_run(void *arg)
{
    reopen_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    int rc = plog_open(x->dir.log, &c, &log);
    if (rc == 0) {
        x->log_opened = true;
        x->opened_start = plog_log_start_offset(log);
        x->opened_epoch = plog_leader_epoch(log);
        plog_close(log);
    }
    region_state *rs = NULL;
    int region_rc = region_state_open(x->dir.root, &rs);
    if (region_rc == 0) {
        x->region_opened = true;
        x->region_epoch = region_state_epoch(rs);
        x->region_role = region_state_role(rs);
        region_state_close(rs);
    }
    return rc != 0 ? rc : region_rc;
}

static void reopen_verify(void *arg, int rc, bool faulted)
{
    (void)rc;
    (void)faulted;
    reopen_ctx *x = arg;
    if (x->log_opened) {
        assert_int_equal(x->opened_start, x->start_wanted);
        assert_int_equal(x->opened_epoch, 3);
    }
    if (x->region_opened) {
        assert_int_equal(x->region_epoch, 12);
        assert_int_equal(x->region_role, REGION_ROLE_ACTIVE);
    }
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    assert_int_equal(plog_log_start_offset(log), x->start_wanted);
    assert_int_equal(plog_log_end_offset(log), x->acked.producer_last_offset + 1);
    plog_close(log);
}

static void reopen_cleanup(void *arg)
{
    reopen_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_reopen_read_error_is_not_damage(void **state)
{
    (void)state;
    reopen_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"reopen", reopen_prepare, reopen_run, reopen_verify, reopen_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: retention and DeleteRecords ------------------------------------ */

typedef struct retention_ctx {
    test_dir dir;
    plog *log;
    history acked;
    int64_t start_before;
    int64_t start_wanted;
} retention_ctx;

static plog_config retention_config(void)
{
    plog_config c = small_segments();
    c.retention_bytes = 2500; /* about two segments */
    return c;
}

static void retention_prepare(void *arg)
{
    retention_ctx *x = arg;
    fault_dir_make(&x->dir);
    history_init(&x->acked);
    plog_config c = small_segments(); /* retention.bytes comes with the operation */
    assert_int_equal(plog_open(x->dir.log, &c, &x->log), 0);
    assert_int_equal(plog_set_leader_epoch(x->log, 1), 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(append_batch(x->log, &x->acked, i), 0);
    x->start_before = plog_log_start_offset(x->log);
    x->start_wanted = x->acked.batches[2].base_offset;
}

static int retention_run(void *arg)
{
    retention_ctx *x = arg;
    int rc = plog_delete_records(x->log, x->start_wanted);
    plog_config c = retention_config();
    plog_set_config(x->log, &c);
    int tick_rc = plog_tick(x->log, NOW_MS + 1000);
    if (rc == 0)
        rc = tick_rc;
    plog_close(x->log);
    x->log = NULL;
    return rc;
}

/* The log start moved forward or stayed; every batch from it on is intact. */
static void retention_verify(void *arg, int rc, bool faulted)
{
    (void)faulted;
    retention_ctx *x = arg;
    plog_config c = small_segments();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    int64_t start = plog_log_start_offset(log);
    assert_true(start >= x->start_before);
    if (rc == 0)
        assert_true(start >= x->start_wanted);
    assert_int_equal(plog_log_end_offset(log), x->acked.producer_last_offset + 1);
    int first = 0;
    while (x->acked.batches[first].base_offset + x->acked.batches[first].records <= start)
        first++;
    int64_t offset = start;
    for (int i = first; i < x->acked.count; i++) {
        plog_slice s;
        assert_int_equal(plog_read(log, offset, 1, &s), 0);
        batch_header h = test_first_header(&s);
        assert_int_equal(h.base_offset, x->acked.batches[i].base_offset);
        assert_int_equal(h.max_timestamp, x->acked.batches[i].max_timestamp_ms);
        offset = batch_last_offset(&h) + 1;
    }
    plog_close(log);
}

static void retention_cleanup(void *arg)
{
    retention_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_retention_under_faults(void **state)
{
    (void)state;
    retention_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"retention", retention_prepare, retention_run, retention_verify, retention_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

/* ---- scenario: compaction -------------------------------------------------------- */

#define CLEANER_KEYS 6

typedef struct cleaner_ctx {
    test_dir dir;
    plog *log;
    char latest[CLEANER_KEYS][32]; /* latest value per key */
    int64_t log_end;
} cleaner_ctx;

static plog_config compact_config(void)
{
    plog_config c = test_config(700, 128);
    c.compact_policy = true;
    c.delete_policy = false;
    c.min_cleanable_dirty_ratio = 0.01;
    return c;
}

static void append_keyed(plog *log, cleaner_ctx *x, int round)
{
    char keys[CLEANER_KEYS][16], values[CLEANER_KEYS][32];
    batch_record recs[CLEANER_KEYS];
    memset(recs, 0, sizeof recs);
    for (int k = 0; k < CLEANER_KEYS; k++) {
        snprintf(keys[k], sizeof keys[k], "key-%d", k);
        snprintf(values[k], sizeof values[k], "round-%d-key-%d", round, k);
        recs[k].key = (const uint8_t *)keys[k];
        recs[k].key_len = (int32_t)strlen(keys[k]);
        recs[k].value = (const uint8_t *)values[k];
        recs[k].value_len = (int32_t)strlen(values[k]);
        recs[k].timestamp = NOW_MS + round;
        memcpy(x->latest[k], values[k], sizeof values[k]);
    }
    buf b;
    batch_build_params params;
    batch_build_params_default(&params);
    buf_init(&b, 1 << 16);
    assert_int_equal(batch_build(&b, &params, recs, CLEANER_KEYS), 0);
    plog_append_result r;
    assert_int_equal(plog_append(log, b.data, b.len, -1, &r), 0);
    buf_free(&b);
}

static void cleaner_prepare(void *arg)
{
    cleaner_ctx *x = arg;
    fault_dir_make(&x->dir);
    plog_config c = compact_config();
    assert_int_equal(plog_open(x->dir.log, &c, &x->log), 0);
    for (int round = 0; round < 8; round++)
        append_keyed(x->log, x, round);
    x->log_end = plog_log_end_offset(x->log);
    assert_true(test_count_files(&x->dir, ".log") >= 3);
}

static int cleaner_run(void *arg)
{
    cleaner_ctx *x = arg;
    int rc = cleaner_clean_now(x->log, NOW_MS + 100);
    plog_close(x->log);
    x->log = NULL;
    return rc;
}

/* Every key's latest value is still readable and the offsets are unchanged. */
static void cleaner_verify(void *arg, int rc, bool faulted)
{
    (void)rc;
    (void)faulted;
    cleaner_ctx *x = arg;
    plog_config c = compact_config();
    plog *log = NULL;
    assert_int_equal(plog_open(x->dir.log, &c, &log), 0);
    assert_int_equal(plog_log_end_offset(log), x->log_end);
    char found[CLEANER_KEYS][32];
    memset(found, 0, sizeof found);
    int64_t offset = plog_log_start_offset(log);
    while (offset < plog_log_end_offset(log)) {
        plog_slice s;
        assert_int_equal(plog_read(log, offset, 1 << 20, &s), 0);
        assert_true(s.length > 0);
        uint8_t *data = malloc((size_t)s.length);
        assert_non_null(data);
        assert_int_equal(pread(s.fd, data, (size_t)s.length, s.file_position), s.length);
        for (size_t at = 0; at < (size_t)s.length;) {
            batch_header h;
            assert_int_equal(batch_header_parse(data + at, (size_t)s.length - at, &h), 0);
            assert_true(batch_crc_ok(data + at, batch_total_bytes(&h)));
            batch_iter *it;
            assert_int_equal(batch_iter_open(data + at, batch_total_bytes(&h), 1 << 20, &it), 0);
            batch_record rec;
            int more;
            while ((more = batch_iter_next(it, &rec)) == 1) {
                char key[16];
                int k = -1;
                assert_true(rec.key_len > 0 && rec.key_len < (int32_t)sizeof key);
                memcpy(key, rec.key, (size_t)rec.key_len);
                key[rec.key_len] = '\0';
                assert_int_equal(sscanf(key, "key-%d", &k), 1);
                assert_true(k >= 0 && k < CLEANER_KEYS);
                snprintf(found[k], sizeof found[k], "%.*s", rec.value_len, (const char *)rec.value);
            }
            assert_int_equal(more, 0);
            batch_iter_close(it);
            offset = batch_last_offset(&h) + 1;
            at += batch_total_bytes(&h);
        }
        free(data);
    }
    for (int k = 0; k < CLEANER_KEYS; k++)
        assert_string_equal(found[k], x->latest[k]);
    plog_close(log);
}

static void cleaner_cleanup(void *arg)
{
    cleaner_ctx *x = arg;
    test_dir_remove(&x->dir);
}

static void test_compaction_under_faults(void **state)
{
    (void)state;
    cleaner_ctx x;
    memset(&x, 0, sizeof x);
    scenario sc = {"compact", cleaner_prepare, cleaner_run, cleaner_verify, cleaner_cleanup};
    assert_true(fault_loop(&sc, &x) > 14);
}

int main(void)
{
    log_set_level(LOG_ERROR + 1); /* thousands of expected failures: keep the output short */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_roll_flush_close_under_faults),
        cmocka_unit_test(test_flusher_acknowledgements_under_faults),
        cmocka_unit_test(test_power_loss_keeps_acknowledged),
        cmocka_unit_test(test_recovery_under_faults),
        cmocka_unit_test(test_reopen_read_error_is_not_damage),
        cmocka_unit_test(test_retention_under_faults),
        cmocka_unit_test(test_compaction_under_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
