/*
 * test_log_recovery.c - unit tests of opening damaged partition logs: torn,
 * garbage and corrupted tails (after a clean close and after a process
 * death), a corrupt middle segment, hostile batch lengths, deleted or
 * garbage index files, leftovers (.tmp, index without log), empty segments,
 * damaged checkpoint files, a log start beyond the end, and the checkpoint
 * file format itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "broker/log/checkpoint_file.h"
#include "log_test_helpers.h"

typedef struct appended {
    int64_t base, last;
} appended;

static plog *open_log(const test_dir *d, const plog_config *c)
{
    plog *log = NULL;
    assert_int_equal(plog_open(d->log, c, &log), 0);
    return log;
}

static void fill(plog *log, appended *out, int count)
{
    for (int i = 0; i < count; i++) {
        plog_append_result r = test_append(log, 1 + i % 3, 50 + (i * 13) % 100, 1000 + i);
        out[i].base = r.base_offset;
        out[i].last = r.last_offset;
    }
}

/* Every batch in a[0..count) reads back whole at each of its offsets. */
static void check_readable(plog *log, const appended *a, int count)
{
    for (int i = 0; i < count; i++) {
        for (int64_t offset = a[i].base; offset <= a[i].last; offset++) {
            plog_slice s;
            assert_int_equal(plog_read(log, offset, 0, &s), 0);
            int64_t first, last;
            assert_int_equal(test_check_slice(&s, &first, &last), 1);
            assert_int_equal(first, a[i].base);
            assert_int_equal(last, a[i].last);
        }
    }
}

static void write_at(const char *path, int64_t position, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, position), (ssize_t)len);
    close(fd);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* Damage kinds applied to the end of the last segment's .log. */
enum damage { DAMAGE_TRUNCATE, DAMAGE_GARBAGE, DAMAGE_FLIP_CRC_COVERED, DAMAGE_HUGE_LENGTH };

static void damage_tail(const char *path, enum damage kind)
{
    int64_t size = test_file_size(path);
    assert_true(size > 100);
    if (kind == DAMAGE_TRUNCATE) {
        assert_int_equal(truncate(path, size - 10), 0);
    } else if (kind == DAMAGE_GARBAGE) {
        uint8_t garbage[300];
        for (size_t i = 0; i < sizeof garbage; i++)
            garbage[i] = (uint8_t)(i * 7 + 3);
        write_at(path, size, garbage, sizeof garbage);
    } else if (kind == DAMAGE_FLIP_CRC_COVERED) {
        uint8_t byte;
        int fd = open(path, O_RDWR);
        assert_int_equal(pread(fd, &byte, 1, size - 3), 1);
        byte ^= 0x40;
        assert_int_equal(pwrite(fd, &byte, 1, size - 3), 1);
        close(fd);
    } else {
        /* a whole fake batch header at the end claiming 2 GiB */
        uint8_t header[BATCH_HEADER_BYTES];
        memset(header, 0, sizeof header);
        store_i64(header, 1000000);
        store_i32(header + BATCH_OFFSET_LENGTH, INT32_MAX);
        header[BATCH_OFFSET_MAGIC] = 2;
        write_at(path, size, header, sizeof header);
    }
}

/* Clean close, then damage: the tail batch goes, everything else stays. */
static void run_damaged_tail(enum damage kind)
{
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 300);
    plog *log = open_log(&d, &c);
    appended a[60];
    fill(log, a, 60);
    plog_close(log);
    char path[256];
    test_path(path, sizeof path, &d, 0, ".log");
    damage_tail(path, kind);
    log = open_log(&d, &c);
    bool last_lost = kind == DAMAGE_TRUNCATE || kind == DAMAGE_FLIP_CRC_COVERED;
    int kept = last_lost ? 59 : 60;
    assert_int_equal(plog_log_end_offset(log), a[kept - 1].last + 1);
    check_readable(log, a, kept);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, a[kept - 1].last + 1);
    plog_close(log);
    log = open_log(&d, &c);
    assert_int_equal(plog_log_end_offset(log), r.last_offset + 1);
    check_readable(log, a, kept);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_truncated_tail(void **state) { (void)state; run_damaged_tail(DAMAGE_TRUNCATE); }
static void test_garbage_tail(void **state) { (void)state; run_damaged_tail(DAMAGE_GARBAGE); }
static void test_huge_length_tail(void **state) { (void)state; run_damaged_tail(DAMAGE_HUGE_LENGTH); }
static void test_flipped_byte_after_clean_close(void **state)
{
    (void)state;
    run_damaged_tail(DAMAGE_FLIP_CRC_COVERED);
}

/* A child process appends (flushing part of it) and dies without closing,
 * like kill -9: the parent damages the tail and reopens. */
static void run_after_crash(enum damage kind)
{
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(2000, 300);
    appended a[40];
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        plog *log;
        if (plog_open(d.log, &c, &log) != 0)
            _exit(1);
        fill(log, a, 30);
        if (plog_flush(log) != 0)
            _exit(2);
        fill(log, a + 30, 10);
        _exit(0); /* no close: nothing more is written or fsynced */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the child's offsets are deterministic: rebuild them here */
    int64_t next = 0;
    for (int i = 0; i < 40; i++) {
        a[i].base = next;
        a[i].last = next + i % 3;
        next = a[i].last + 1;
    }
    char path[256];
    test_path(path, sizeof path, &d, 0, ".log");
    int segments = test_count_files(&d, ".log");
    assert_true(segments > 3);
    /* find the last segment: the largest base among a[].base with a file */
    int64_t last_base = 0;
    for (int i = 0; i < 40; i++) {
        test_path(path, sizeof path, &d, a[i].base, ".log");
        if (test_file_size(path) >= 0)
            last_base = a[i].base;
    }
    test_path(path, sizeof path, &d, last_base, ".log");
    damage_tail(path, kind);
    plog *log = open_log(&d, &c);
    int kept = kind == DAMAGE_GARBAGE || kind == DAMAGE_HUGE_LENGTH ? 40 : 39;
    assert_int_equal(plog_log_end_offset(log), a[kept - 1].last + 1);
    check_readable(log, a, kept);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_crash_truncated(void **state) { (void)state; run_after_crash(DAMAGE_TRUNCATE); }
static void test_crash_flipped_byte(void **state) { (void)state; run_after_crash(DAMAGE_FLIP_CRC_COVERED); }
static void test_crash_garbage(void **state) { (void)state; run_after_crash(DAMAGE_GARBAGE); }

/* Corruption in a middle segment that recovery scans: the log ends there and
 * the later segments are dropped. */
static void test_corrupt_middle_segment(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1000, 300);
    plog *log = open_log(&d, &c);
    appended a[40];
    fill(log, a, 40);
    plog_close(log);
    assert_true(test_count_files(&d, ".log") > 4);
    /* find the second segment and corrupt its first batch's records */
    int second = -1;
    char path[256];
    for (int i = 1; i < 40 && second < 0; i++) {
        test_path(path, sizeof path, &d, a[i].base, ".log");
        if (test_file_size(path) >= 0)
            second = i;
    }
    assert_true(second > 0);
    uint8_t byte = 0x5a;
    write_at(path, BATCH_HEADER_BYTES + 2, &byte, 1);
    /* pretend a crash: the recovery point is back at 0, so all is scanned */
    char checkpoint[256];
    snprintf(checkpoint, sizeof checkpoint, "%s/recovery-point-checkpoint", d.log);
    assert_int_equal(unlink(checkpoint), 0);
    log = open_log(&d, &c);
    assert_int_equal(plog_log_end_offset(log), a[second].base);
    assert_int_equal(test_count_files(&d, ".log"), 2); /* first + the emptied second */
    check_readable(log, a, second);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, a[second].base);
    plog_close(log);
    test_dir_remove(&d);
}

static void copy_file(const char *from, const char *to)
{
    int64_t size = test_file_size(from);
    assert_true(size >= 0);
    uint8_t *data = malloc((size_t)size + 1);
    int fd = open(from, O_RDONLY);
    assert_int_equal(read(fd, data, (size_t)size), size);
    close(fd);
    write_file(to, data, (size_t)size);
    free(data);
}

static bool files_equal(const char *a, const char *b)
{
    int64_t size = test_file_size(a);
    if (size != test_file_size(b))
        return false;
    uint8_t *x = malloc((size_t)size + 1), *y = malloc((size_t)size + 1);
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    bool same = read(fa, x, (size_t)size) == size && read(fb, y, (size_t)size) == size &&
                memcmp(x, y, (size_t)size) == 0;
    close(fa);
    close(fb);
    free(x);
    free(y);
    return same;
}

/* Deleted, garbage and oversized index files are rebuilt identical. */
static void test_index_rebuild(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 200);
    plog *log = open_log(&d, &c);
    appended a[100];
    fill(log, a, 100);
    plog_close(log);
    char index[256], time_index[256], saved_index[300], saved_time[300];
    test_path(index, sizeof index, &d, 0, ".index");
    test_path(time_index, sizeof time_index, &d, 0, ".timeindex");
    snprintf(saved_index, sizeof saved_index, "%s/saved.idx", d.root);
    snprintf(saved_time, sizeof saved_time, "%s/saved.tidx", d.root);
    copy_file(index, saved_index);
    copy_file(time_index, saved_time);
    assert_true(test_file_size(index) > 16);

    for (int round = 0; round < 4; round++) {
        if (round == 0) {
            assert_int_equal(unlink(index), 0);
            assert_int_equal(unlink(time_index), 0);
        } else if (round == 1) {
            uint8_t garbage[64];
            for (size_t i = 0; i < sizeof garbage; i++)
                garbage[i] = (uint8_t)(i * 31 + 1);
            write_file(index, garbage, sizeof garbage);
            write_file(time_index, garbage, 60);
        } else if (round == 2) {
            uint8_t zeros[800] = {0}; /* preallocated-looking tail */
            write_at(index, test_file_size(index), zeros, sizeof zeros);
            write_at(time_index, test_file_size(time_index), zeros, 12 * 10);
        } else {
            uint8_t odd[3] = {1, 2, 3}; /* not a whole entry */
            write_at(index, test_file_size(index), odd, sizeof odd);
        }
        log = open_log(&d, &c);
        check_readable(log, a, 100);
        int64_t offset, ts;
        int first = 0; /* batch i's max timestamp is 1000 + i + i % 3 */
        while (1000 + first + first % 3 < 1050)
            first++;
        assert_int_equal(plog_offset_for_timestamp(log, 1050, &offset, &ts), 0);
        assert_int_equal(offset, a[first].base);
        assert_int_equal(ts, 1050);
        plog_close(log);
        assert_true(files_equal(index, saved_index));
        assert_true(files_equal(time_index, saved_time));
    }
    test_dir_remove(&d);
}

static void test_leftovers_and_empty_segments(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    c.segment_ms = 1000;
    c.retention_ms = -1;
    plog *log = open_log(&d, &c);
    appended a[5];
    fill(log, a, 5);
    assert_int_equal(plog_tick(log, 4102444800000LL), 0); /* far future: rolls */
    plog_close(log);
    assert_int_equal(test_count_files(&d, ".log"), 2); /* the active one is empty */
    char path[256];
    snprintf(path, sizeof path, "%s/leader-epoch-checkpoint.tmp", d.log);
    write_file(path, "junk", 4);
    test_path(path, sizeof path, &d, 999, ".index");
    write_file(path, "", 0);
    log = open_log(&d, &c);
    assert_int_equal(plog_log_end_offset(log), a[4].last + 1);
    check_readable(log, a, 5);
    assert_int_equal(test_count_files(&d, ".tmp"), 0);
    assert_int_equal(test_file_size(path), -1);
    plog_close(log);
    /* an empty .log left by a crash right after a roll, and a zero-length
     * log file in the middle */
    test_path(path, sizeof path, &d, a[4].last + 1, ".log");
    assert_true(test_file_size(path) == 0);
    log = open_log(&d, &c);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, a[4].last + 1);
    plog_close(log);
    test_path(path, sizeof path, &d, 2, ".log");
    write_file(path, "", 0); /* bogus empty segment inside the first one's range */
    log = open_log(&d, &c);
    assert_int_equal(plog_log_end_offset(log), r.last_offset + 1);
    check_readable(log, a, 5);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_damaged_checkpoints(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    appended a[10];
    fill(log, a, 10);
    assert_int_equal(plog_set_leader_epoch(log, 4), 0);
    plog_close(log);
    static const char *names[] = {"recovery-point-checkpoint", "log-start-offset-checkpoint",
                                  "leader-epoch-checkpoint"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", d.log, names[i]);
        write_file(path, "0\n99999999999999999999999\n1 2\n", 30);
    }
    log = open_log(&d, &c);
    assert_int_equal(plog_log_start_offset(log), 0);
    assert_int_equal(plog_log_end_offset(log), a[9].last + 1);
    check_readable(log, a, 10);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_log_start_beyond_end(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = test_config(1 << 20, 4096);
    plog *log = open_log(&d, &c);
    appended a[10];
    fill(log, a, 10);
    plog_close(log);
    int64_t start = 5000;
    assert_int_equal(checkpoint_write(d.log, "log-start-offset-checkpoint", &start, 1, 1), 0);
    log = open_log(&d, &c);
    assert_int_equal(plog_log_start_offset(log), 5000);
    assert_int_equal(plog_log_end_offset(log), 5000);
    plog_append_result r = test_append(log, 1, 10, 1000);
    assert_int_equal(r.base_offset, 5000);
    assert_int_equal(test_count_files(&d, ".log"), 1);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_checkpoint_file_format(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    int64_t values[6] = {0, 0, 3, 150, 7, -1};
    assert_int_equal(checkpoint_write(d.root, "cp", values, 3, 2), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/cp", d.root);
    int fd = open(path, O_RDONLY);
    char text[64] = {0};
    assert_true(read(fd, text, sizeof text - 1) > 0);
    close(fd);
    assert_string_equal(text, "0\n3\n0 0\n3 150\n7 -1\n");
    int64_t back[6];
    size_t entries = 0;
    assert_int_equal(checkpoint_read(d.root, "cp", 2, back, 3, &entries), 0);
    assert_int_equal(entries, 3);
    assert_memory_equal(back, values, sizeof values);
    assert_int_equal(checkpoint_read(d.root, "cp", 2, back, 2, &entries), ST_ECORRUPT);
    assert_int_equal(checkpoint_read(d.root, "missing", 2, back, 3, &entries), ST_ENOTFOUND);
    static const char *bad[] = {"", "1\n0\n", "0\n1\n", "0\n1\n5\n", "0\n1\n5 \n", "0\n-1\n",
                                "0\n1\n5 6", "0\n1\n5 6\nextra", "0\n1\n-\n", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i], strlen(bad[i]));
        assert_int_equal(checkpoint_read(d.root, "cp", 2, back, 3, &entries), ST_ECORRUPT);
    }
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_tail),
        cmocka_unit_test(test_garbage_tail),
        cmocka_unit_test(test_huge_length_tail),
        cmocka_unit_test(test_flipped_byte_after_clean_close),
        cmocka_unit_test(test_crash_truncated),
        cmocka_unit_test(test_crash_flipped_byte),
        cmocka_unit_test(test_crash_garbage),
        cmocka_unit_test(test_corrupt_middle_segment),
        cmocka_unit_test(test_index_rebuild),
        cmocka_unit_test(test_leftovers_and_empty_segments),
        cmocka_unit_test(test_damaged_checkpoints),
        cmocka_unit_test(test_log_start_beyond_end),
        cmocka_unit_test(test_checkpoint_file_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
