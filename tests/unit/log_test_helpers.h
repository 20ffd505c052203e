/*
 * log_test_helpers.h - helpers shared by the partition-log unit tests
 * (test_partition_log.c, test_log_recovery.c): temporary directories, batch
 * building, appends, and reading back the batches of a slice.
 *
 * Header-only (static inline functions) because every tests/unit/test_*.c is its
 * own program. Include after <cmocka.h>.
 */
#ifndef STRAIT_LOG_TEST_HELPERS_H
#define STRAIT_LOG_TEST_HELPERS_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/log/partition_log.h"
#include "common/buf.h"
#include "common/error.h"

typedef struct test_dir {
    char root[64];      /* mkdtemp directory */
    char log[128];      /* root/topic-0, the partition directory */
} test_dir;

static inline void test_dir_make(test_dir *d)
{
    strcpy(d->root, "/tmp/strait-plog-XXXXXX");
    assert_non_null(mkdtemp(d->root));
    snprintf(d->log, sizeof d->log, "%s/topic-0", d->root);
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void test_dir_remove(test_dir *d) { nftw(d->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static inline void test_path(char *out, size_t len, const test_dir *d, int64_t base, const char *suffix)
{
    snprintf(out, len, "%s/%020lld%s", d->log, (long long)base, suffix);
}

static inline int64_t test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static inline int test_count_files(const test_dir *d, const char *suffix)
{
    int count = 0;
    DIR *dir = opendir(d->log);
    assert_non_null(dir);
    struct dirent *e;
    size_t suffix_len = strlen(suffix);
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len >= suffix_len && strcmp(e->d_name + len - suffix_len, suffix) == 0)
            count++;
    }
    closedir(dir);
    return count;
}

static inline plog_config test_config(int64_t segment_bytes, int32_t index_interval_bytes)
{
    plog_config c;
    plog_config_default(&c);
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = index_interval_bytes;
    return c;
}

/* One uncompressed batch of `records` records, each with value_bytes bytes
 * and timestamp timestamp_ms + index. */
static inline void test_build_batch(buf *out, int records, int value_bytes, int64_t timestamp_ms)
{
    static uint8_t value[4096];
    memset(value, 'v', sizeof value);
    batch_record recs[64];
    assert_true(records > 0 && records <= 64 && value_bytes <= (int)sizeof value);
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < records; i++) {
        recs[i].key = NULL;
        recs[i].key_len = -1;
        recs[i].value = value;
        recs[i].value_len = value_bytes;
        recs[i].timestamp = timestamp_ms + i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    buf_init(out, 1 << 20);
    assert_int_equal(batch_build(out, &params, recs, records), 0);
}

static inline plog_append_result test_append(plog *log, int records, int value_bytes, int64_t timestamp_ms)
{
    buf b;
    test_build_batch(&b, records, value_bytes, timestamp_ms);
    plog_append_result result;
    memset(&result, 0, sizeof result);
    assert_int_equal(plog_append(log, b.data, b.len, -1, &result), 0);
    buf_free(&b);
    return result;
}

/* Reads the slice's bytes and checks they are whole, CRC-valid batches with
 * contiguous offsets. Returns the number of batches; first/last offsets out. */
static inline int test_check_slice(const plog_slice *s, int64_t *first_offset, int64_t *last_offset)
{
    *first_offset = -1;
    *last_offset = -1;
    if (s->length == 0)
        return 0;
    uint8_t *data = malloc((size_t)s->length);
    assert_non_null(data);
    assert_int_equal(pread(s->fd, data, (size_t)s->length, s->file_position), s->length);
    int batches = 0;
    size_t at = 0;
    int64_t expected = -1;
    while (at < (size_t)s->length) {
        batch_header h;
        assert_int_equal(batch_header_parse(data + at, (size_t)s->length - at, &h), 0);
        assert_true(batch_crc_ok(data + at, batch_total_bytes(&h)));
        if (expected >= 0)
            assert_int_equal(h.base_offset, expected);
        else
            *first_offset = h.base_offset;
        expected = batch_last_offset(&h) + 1;
        *last_offset = batch_last_offset(&h);
        at += batch_total_bytes(&h);
        batches++;
    }
    assert_int_equal(at, (size_t)s->length);
    free(data);
    return batches;
}

/* Header of the first batch in the slice. */
static inline batch_header test_first_header(const plog_slice *s)
{
    uint8_t data[BATCH_HEADER_BYTES];
    assert_true(s->length >= BATCH_HEADER_BYTES);
    assert_int_equal(pread(s->fd, data, sizeof data, s->file_position), (ssize_t)sizeof data);
    batch_header h;
    memset(&h, 0, sizeof h);
    /* only the header bytes are at hand: parse the fields directly */
    h.base_offset = load_i64(data + BATCH_OFFSET_BASE_OFFSET);
    h.batch_length = load_i32(data + BATCH_OFFSET_LENGTH);
    h.partition_leader_epoch = load_i32(data + BATCH_OFFSET_LEADER_EPOCH);
    h.attributes = load_i16(data + BATCH_OFFSET_ATTRIBUTES);
    h.last_offset_delta = load_i32(data + BATCH_OFFSET_LAST_OFFSET_DELTA);
    h.max_timestamp = load_i64(data + BATCH_OFFSET_MAX_TIMESTAMP);
    return h;
}

#endif
