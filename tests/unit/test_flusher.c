/*
 * test_flusher.c - the fsync workers (broker/log/flusher.c) and the
 * asynchronous durability of a partition log on them (log_flush.c):
 * completion on the loop, failing descriptors, cancel, group commit (many
 * waiters, few fsyncs), recovery point only after a completed fsync, a
 * failed fsync failing the log and its waiters, close with an fsync in
 * flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "broker/log/flusher.h"
#include "broker/log/partition_log_internal.h"
#include "log_test_helpers.h"

#define WAIT_LOOP_MS_MAX 10000

static struct event_base *make_base(void)
{
    assert_int_equal(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    assert_non_null(base);
    assert_int_equal(evthread_make_base_notifiable(base), 0);
    return base;
}

/* Runs the loop until *counter reaches target (bounded). */
static void run_until(struct event_base *base, const int *counter, int target)
{
    for (int i = 0; i < WAIT_LOOP_MS_MAX && *counter < target; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (*counter < target)
            usleep(1000);
    }
    assert_int_equal(*counter, target);
}

typedef struct job_result {
    int calls;
    int rc;
} job_result;

static void job_done(void *arg, int rc)
{
    job_result *r = arg;
    r->calls++;
    r->rc = rc;
}

static int temp_fd(void)
{
    char path[] = "/tmp/strait-flusher-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, "x", 1), 1);
    return fd;
}

static void test_jobs_complete_on_loop(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    enum { JOBS = 8 };
    job_result results[JOBS] = {0};
    int done = 0;
    for (int i = 0; i < JOBS; i++) {
        int fds[2] = {temp_fd(), temp_fd()};
        flusher_job *job;
        assert_int_equal(log_flusher_submit(f, fds, 2, job_done, &results[i], &job), 0);
    }
    for (int i = 0; i < WAIT_LOOP_MS_MAX && done < JOBS; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        done = 0;
        for (int j = 0; j < JOBS; j++)
            done += results[j].calls;
        usleep(1000);
    }
    for (int i = 0; i < JOBS; i++) {
        assert_int_equal(results[i].calls, 1); /* exactly once, on the loop */
        assert_int_equal(results[i].rc, 0);
    }
    assert_int_equal(log_flusher_jobs_done(f), JOBS);
    log_flusher_close(f);
    event_base_free(base);
}

static void test_failing_fd_reports_eio(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    close(pipe_fds[1]);
    int fds[2] = {temp_fd(), pipe_fds[0]}; /* fdatasync on a pipe: EINVAL */
    job_result r = {0};
    flusher_job *job;
    assert_int_equal(log_flusher_submit(f, fds, 2, job_done, &r, &job), 0);
    run_until(base, &r.calls, 1);
    assert_int_equal(r.rc, ST_EIO);
    log_flusher_close(f);
    event_base_free(base);
}

static void test_cancel_never_calls_done(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    job_result r = {0};
    for (int i = 0; i < 50; i++) { /* queued, running or finished: all three paths */
        int fds[1] = {temp_fd()};
        flusher_job *job;
        assert_int_equal(log_flusher_submit(f, fds, 1, job_done, &r, &job), 0);
        if (i % 2)
            usleep(200);
        assert_int_equal(log_flusher_cancel(f, job), 0);
    }
    for (int i = 0; i < 20; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(r.calls, 0);
    log_flusher_close(f);
    event_base_free(base);
}

/* ---- partition logs on the flusher ------------------------------------------ */

typedef struct waiter_result {
    plog_flush_waiter w;
    int calls;
    int rc;
    int *total;
} waiter_result;

static void waiter_done(plog_flush_waiter *w, int rc)
{
    waiter_result *r = (waiter_result *)w;
    r->calls++;
    r->rc = rc;
    ++*r->total;
}

static void test_group_commit(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    c.flush_messages = 1;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_set_flusher(log, f);
    enum { APPENDS = 20 };
    waiter_result waiters[APPENDS];
    memset(waiters, 0, sizeof waiters);
    int total = 0;
    for (int i = 0; i < APPENDS; i++) {
        plog_append_result r = test_append(log, 1, 100, 1000 + i);
        assert_false(r.flushed);     /* not fsynced on the loop any more */
        assert_true(r.needs_flush);  /* flush.messages=1: every append must be durable */
        waiters[i].total = &total;
        assert_int_equal(plog_flush_wait(log, r.last_offset + 1, &waiters[i].w, waiter_done, NULL), 0);
    }
    assert_int_equal(log->recovery_point, 0); /* nothing completed yet */
    run_until(base, &total, APPENDS);
    for (int i = 0; i < APPENDS; i++) {
        assert_int_equal(waiters[i].calls, 1);
        assert_int_equal(waiters[i].rc, 0);
    }
    /* the first append's fsync, then one covering the 19 made meanwhile */
    assert_int_equal(log_flusher_jobs_done(f), 2);
    assert_int_equal(log->recovery_point, APPENDS);
    waiter_result again = {.total = &total};
    assert_int_equal(plog_flush_wait(log, APPENDS, &again.w, waiter_done, NULL), 1); /* durable */
    plog_close(log);
    log_flusher_close(f);
    test_dir_remove(&d);
    event_base_free(base);
}

static void test_failed_fsync_fails_log_and_waiters(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_set_flusher(log, f);
    plog_append_result r = test_append(log, 1, 100, 1000);
    assert_false(r.needs_flush); /* default policy: page cache only */
    /* the segment's .log descriptor now refers to a pipe: fdatasync fails */
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    assert_true(dup2(pipe_fds[0], plog_active(log)->log_fd) >= 0);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    int total = 0;
    waiter_result w = {.total = &total};
    assert_int_equal(plog_flush_wait(log, r.last_offset + 1, &w.w, waiter_done, NULL), 0);
    run_until(base, &total, 1);
    assert_int_equal(w.rc, ST_EIO);
    assert_int_equal(log->recovery_point, 0); /* never advanced by a failed fsync */
    buf b;
    test_build_batch(&b, 1, 10, 2000);
    plog_append_result r2;
    assert_int_equal(plog_append(log, b.data, b.len, -1, &r2), ST_EIO); /* the log is offline */
    buf_free(&b);
    assert_int_equal(plog_flush_wait(log, 1, &w.w, waiter_done, NULL), ST_EIO);
    plog_close(log);
    log_flusher_close(f);
    test_dir_remove(&d);
    event_base_free(base);
}

static void test_close_and_cancel_with_fsync_in_flight(void **state)
{
    (void)state;
    struct event_base *base = make_base();
    log_flusher *f;
    assert_int_equal(log_flusher_open(base, &f), 0);
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(300, 4096); /* rolls every few appends */
    c.flush_messages = 1;
    plog *log;
    assert_int_equal(plog_open(d.log, &c, &log), 0);
    plog_set_flusher(log, f);
    int total = 0;
    waiter_result kept = {.total = &total}, cancelled = {.total = &total};
    for (int i = 0; i < 10; i++)
        test_append(log, 1, 100, 1000 + i); /* rolls with an fsync in flight */
    assert_true(log->segment_count > 1);
    int64_t end = plog_log_end_offset(log);
    assert_int_equal(plog_flush_wait(log, end, &kept.w, waiter_done, NULL), 0);
    assert_int_equal(plog_flush_wait(log, end, &cancelled.w, waiter_done, NULL), 0);
    plog_flush_cancel(&cancelled.w);
    plog_flush_cancel(&cancelled.w); /* twice is harmless */
    /* close settles the fsync in flight, flushes the rest inline and tells
     * the waiters before returning; the flusher never calls back for it */
    plog_close(log);
    assert_int_equal(kept.calls, 1);
    assert_int_equal(kept.rc, 0);
    assert_int_equal(cancelled.calls, 0);
    for (int i = 0; i < 20; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(total, 1);
    assert_int_equal(plog_open(d.log, &c, &log), 0); /* everything is there */
    assert_int_equal(plog_log_end_offset(log), end);
    plog_close(log);
    log_flusher_close(f);
    test_dir_remove(&d);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_complete_on_loop),
        cmocka_unit_test(test_failing_fd_reports_eio),
        cmocka_unit_test(test_cancel_never_calls_done),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_failed_fsync_fails_log_and_waiters),
        cmocka_unit_test(test_close_and_cancel_with_fsync_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
