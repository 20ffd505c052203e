/*
 * test_cleaner.c - unit tests of log compaction (broker/log/cleaner*.c):
 * the latest value per key survives with its offset, tombstones live until
 * their delete horizon, a fetch from a removed offset gets the next record,
 * every codec is re-encoded with itself, the active segment is never
 * touched, min.compaction.lag.ms and min.cleanable.dirty.ratio are honoured,
 * producer batches stay as empty batches, the cleaned log reopens, and a
 * process killed at every step of a cleaning (fork + _exit at each crash
 * point) leaves a log that opens, reads cleanly and keeps every latest value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "broker/log/cleaner.h"
#include "broker/log/cleaner_internal.h"
#include "broker/log/cleaner_offset_map.h"
#include "log_test_helpers.h"

#define KEYS_MAX 64
#define RECORDS_MAX 4096
#define NOW_MS 1700000000000LL

/* One record as read back from the log. */
typedef struct seen {
    int64_t offset;
    char key[32];
    char value[64];
    bool tombstone;
    int codec;
    bool delete_horizon;
} seen;

/* What the test appended: the latest offset and value per key. */
typedef struct model {
    int64_t latest_offset[KEYS_MAX];
    char latest_value[KEYS_MAX][64];
    bool latest_tombstone[KEYS_MAX];
    int64_t appended[RECORDS_MAX];   /* offset -> key index */
    int64_t next_offset;
} model;

static plog_config compact_config(int64_t segment_bytes)
{
    plog_config c = test_config(segment_bytes, 256);
    c.compact_policy = true;
    c.delete_policy = false;
    c.min_cleanable_dirty_ratio = 0.01;
    c.delete_retention_ms = 1000;
    return c;
}

static plog *open_log(const test_dir *d, const plog_config *c)
{
    plog *log = NULL;
    assert_int_equal(plog_open(d->log, c, &log), 0);
    return log;
}

/* Appends one batch of count records for keys[i] (value "v<round>-<key>",
 * or a tombstone when tombstone[i]) with codec and producer id. */
static void append_keys(plog *log, model *m, const int *keys, const bool *tombstones, int count,
                        int round, int codec, int64_t producer_id, int64_t timestamp_ms)
{
    char key_text[16][32], value_text[16][64];
    batch_record recs[16];
    assert_true(count > 0 && count <= 16);
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < count; i++) {
        snprintf(key_text[i], sizeof key_text[i], "key-%d", keys[i]);
        snprintf(value_text[i], sizeof value_text[i], "v%d-%d", round, keys[i]);
        recs[i].key = (const uint8_t *)key_text[i];
        recs[i].key_len = (int32_t)strlen(key_text[i]);
        bool tomb = tombstones != NULL && tombstones[i];
        recs[i].value = tomb ? NULL : (const uint8_t *)value_text[i];
        recs[i].value_len = tomb ? -1 : (int32_t)strlen(value_text[i]);
        recs[i].timestamp = timestamp_ms + i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    params.codec = codec;
    if (producer_id >= 0) {
        params.producer_id = producer_id;
        params.producer_epoch = 0;
        params.base_sequence = (int32_t)m->next_offset;
    }
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(batch_build(&b, &params, recs, count), 0);
    plog_append_result r;
    assert_int_equal(plog_append(log, b.data, b.len, -1, &r), 0);
    buf_free(&b);
    assert_int_equal(r.base_offset, m->next_offset);
    for (int i = 0; i < count; i++) {
        int k = keys[i];
        m->latest_offset[k] = r.base_offset + i;
        bool tomb = tombstones != NULL && tombstones[i];
        m->latest_tombstone[k] = tomb;
        snprintf(m->latest_value[k], sizeof m->latest_value[k], "%s", tomb ? "" : value_text[i]);
        m->appended[r.base_offset + i] = k;
    }
    m->next_offset = r.last_offset + 1;
}

static void model_init(model *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < KEYS_MAX; i++)
        m->latest_offset[i] = -1;
}

/* Reads every record from the log start to the log end through plog_read,
 * checking CRCs and increasing offsets. Returns the number of records;
 * *batches gets the number of batches (empty ones included). */
static int read_all(plog *log, seen *out, int max, int *batches, int *empty_batches)
{
    int count = 0, batch_count = 0, empty = 0;
    int64_t offset = plog_log_start_offset(log), previous = -1;
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
            assert_true(h.base_offset > previous);
            batch_iter *it;
            assert_int_equal(batch_iter_open(data + at, batch_total_bytes(&h), 1 << 24, &it), 0);
            batch_record rec;
            int in_batch = 0, rc;
            while ((rc = batch_iter_next(it, &rec)) == 1) {
                assert_true(count < max);
                seen *r = &out[count++];
                memset(r, 0, sizeof *r);
                r->offset = h.base_offset + rec.offset_delta;
                assert_true(r->offset >= offset || h.base_offset < offset);
                snprintf(r->key, sizeof r->key, "%.*s", rec.key_len > 0 ? rec.key_len : 0,
                         rec.key ? (const char *)rec.key : "");
                r->tombstone = rec.value_len < 0;
                snprintf(r->value, sizeof r->value, "%.*s", rec.value_len > 0 ? rec.value_len : 0,
                         rec.value ? (const char *)rec.value : "");
                r->codec = batch_codec_of(&h);
                r->delete_horizon = (h.attributes & BATCH_ATTR_DELETE_HORIZON) != 0;
                in_batch++;
            }
            assert_int_equal(rc, 0);
            batch_iter_close(it);
            if (in_batch == 0)
                empty++;
            batch_count++;
            previous = batch_last_offset(&h);
            offset = previous + 1;
            at += batch_total_bytes(&h);
        }
        free(data);
    }
    if (batches)
        *batches = batch_count;
    if (empty_batches)
        *empty_batches = empty;
    return count;
}

static int key_index(const char *key)
{
    int k = -1;
    assert_int_equal(sscanf(key, "key-%d", &k), 1);
    return k;
}

/* Every record below `cleaned_below` is the latest of its key (and the key's
 * model value); every latest value of a live key is present. */
static void check_compacted(plog *log, const model *m, int64_t cleaned_below)
{
    static seen records[RECORDS_MAX];
    int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    bool found[KEYS_MAX] = {false};
    int64_t latest_below[KEYS_MAX]; /* what the cleaner saw as latest */
    for (int k = 0; k < KEYS_MAX; k++)
        latest_below[k] = -1;
    for (int64_t o = 0; o < cleaned_below && o < m->next_offset; o++)
        latest_below[m->appended[o]] = o;
    for (int i = 0; i < count; i++) {
        const seen *r = &records[i];
        int k = key_index(r->key);
        assert_int_equal(m->appended[r->offset], k); /* offsets kept */
        if (r->offset < cleaned_below)
            assert_int_equal(r->offset, latest_below[k]);
        if (r->offset == m->latest_offset[k]) {
            found[k] = true;
            assert_int_equal(r->tombstone, m->latest_tombstone[k]);
            if (!r->tombstone)
                assert_string_equal(r->value, m->latest_value[k]);
        }
    }
    for (int k = 0; k < KEYS_MAX; k++)
        if (m->latest_offset[k] >= 0 && !m->latest_tombstone[k])
            assert_true(found[k]);
}

/* Rounds of updates: round r writes keys 0..key_count-1, batch_size per batch. */
static void fill_rounds(plog *log, model *m, int rounds, int key_count, int batch_size, int codec)
{
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < key_count; k += batch_size) {
            int keys[16];
            int n = 0;
            for (int i = k; i < k + batch_size && i < key_count; i++)
                keys[n++] = i;
            append_keys(log, m, keys, NULL, n, r, codec, -1, NOW_MS - 100000 + r);
        }
    }
}

static void test_latest_value_per_key(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 10, 20, 4, BATCH_CODEC_NONE);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    assert_true(active_base > 0);
    int64_t size_before = plog_size_bytes(log);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    assert_true(plog_size_bytes(log) < size_before);
    assert_int_equal(cleaner_first_dirty_offset(log), active_base);
    check_compacted(log, &m, active_base);
    /* nothing dirty is left: not eligible again */
    assert_int_equal(cleaner_clean_now(log, NOW_MS), ST_ENOTFOUND);
    /* reopen: the cleaned segments (offset gaps) recover and read the same */
    plog_close(log);
    log = open_log(&d, &c);
    assert_int_equal(cleaner_first_dirty_offset(log), active_base);
    check_compacted(log, &m, active_base);
    plog_close(log);
    /* and after a full recovery scan (no recovery point) */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/recovery-point-checkpoint", d.log);
    unlink(path);
    log = open_log(&d, &c);
    check_compacted(log, &m, active_base);
    plog_close(log);
    test_dir_remove(&d);
}

/* Overwrites the base offset of the first batch of the first segment (the
 * CRC does not cover it). */
static void damage_first_base_offset(const test_dir *d, int64_t value)
{
    char path[PATH_MAX];
    test_path(path, sizeof path, d, 0, ".log");
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t bytes[8];
    store_i64(bytes, value);
    assert_int_equal(pwrite(fd, bytes, sizeof bytes, 0), (ssize_t)sizeof bytes);
    close(fd);
}

/* Damaged offsets below the recovery point are never scanned on open (the
 * first batch of a trusted segment precedes its first index entry) and so
 * reach the cleaner. It must refuse them with an error and mark the
 * partition uncleanable: an offset that goes backwards in the cleaned
 * segment (segment_append) or a batch outside its segment's range
 * (read_batch), which would otherwise break the swap's invariants. */
static void check_damaged_offsets_refused(int64_t damaged_base)
{
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 1, 60, 4, BATCH_CODEC_NONE); /* distinct keys: every batch is kept */
    assert_true(log->segment_count >= 3);
    int64_t first_next = log->segments[0]->next_offset;
    plog_close(log); /* saves the recovery point: the first segment is trusted on open */
    damage_first_base_offset(&d, damaged_base);
    log = open_log(&d, &c);
    assert_int_equal(log->segments[0]->next_offset, first_next);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), ST_ECORRUPT);
    assert_true(log->cleaner->uncleanable);
    assert_int_equal(plog_log_end_offset(log), m.next_offset);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_damaged_offset_out_of_order_refused(void **state)
{
    (void)state;
    check_damaged_offsets_refused(2); /* the first batch [0, 3] claims [2, 5]: over the second */
}

static void test_damaged_offset_outside_segment_refused(void **state)
{
    (void)state;
    check_damaged_offsets_refused(1000000);
}

static void test_second_cleaning_merges(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(2048);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 12, 10, 5, BATCH_CODEC_NONE);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    size_t segments_after_first = log->segment_count;
    fill_rounds(log, &m, 12, 10, 5, BATCH_CODEC_NONE);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    check_compacted(log, &m, active_base);
    assert_true(log->segment_count <= segments_after_first + 2);
    /* empty batches of the first cleaning went; at most the one ending the
     * cleaned range (and one per otherwise empty group) is there */
    int empty = 0;
    for (size_t i = 0; i < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        for (int64_t position = 0; position < seg->size_bytes;) {
            batch_header h;
            assert_int_equal(segment_read_header(seg, position, &h), 0);
            empty += h.record_count == 0;
            position += (int64_t)batch_total_bytes(&h);
        }
    }
    assert_true(empty <= 2);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_tombstones_after_delete_retention(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 3, 10, 5, BATCH_CODEC_NONE);
    int keys[2] = {3, 7};
    bool tombs[2] = {true, true};
    append_keys(log, &m, keys, tombs, 2, 9, BATCH_CODEC_NONE, -1, NOW_MS);
    for (int r = 0; r < 20; r++) { /* push the tombstones out of the active segment */
        int filler[4] = {40, 41, 42, 43};
        append_keys(log, &m, filler, NULL, 4, r, BATCH_CODEC_NONE, -1, NOW_MS);
    }
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    assert_true(active_base > m.latest_offset[3]);

    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    static seen records[RECORDS_MAX];
    int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    int tombstones = 0;
    for (int i = 0; i < count; i++) {
        if (records[i].tombstone) {
            tombstones++;
            assert_true(records[i].delete_horizon);
        }
        int k = key_index(records[i].key);
        if (k == 3 || k == 7)
            assert_true(records[i].tombstone); /* older values of deleted keys are gone */
    }
    assert_int_equal(tombstones, 2);
    /* before the horizon: nothing to do */
    assert_int_equal(cleaner_clean_now(log, NOW_MS + 999), ST_ENOTFOUND);
    /* the horizon (delete.retention.ms after the first cleaning) passed */
    assert_int_equal(cleaner_clean_now(log, NOW_MS + 1000), 0);
    count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    for (int i = 0; i < count; i++) {
        int k = key_index(records[i].key);
        assert_false(records[i].tombstone);
        assert_true(k != 3 && k != 7);
    }
    m.latest_offset[3] = m.latest_offset[7] = -1;
    check_compacted(log, &m, active_base);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_fetch_removed_offset_returns_next(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 8, 6, 3, BATCH_CODEC_NONE);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    static seen records[RECORDS_MAX];
    int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    assert_true(count > 0);
    /* offset 0 was key-0 round 0: superseded */
    assert_true(records[0].offset > 0);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    for (int64_t offset = 0; offset < active_base; offset++) {
        plog_slice s;
        assert_int_equal(plog_read(log, offset, 1, &s), 0);
        assert_true(s.length > 0);
        /* the first kept record at or after offset is in the returned batch */
        int64_t next = -1;
        for (int i = 0; i < count; i++)
            if (records[i].offset >= offset) {
                next = records[i].offset;
                break;
            }
        batch_header h = test_first_header(&s);
        assert_true(batch_last_offset(&h) >= offset);
        if (next >= 0 && next < active_base)
            assert_true(h.base_offset <= next && next <= batch_last_offset(&h));
    }
    plog_close(log);
    test_dir_remove(&d);
}

static void test_codecs_reencoded(void **state)
{
    (void)state;
    int codecs[] = {BATCH_CODEC_GZIP, BATCH_CODEC_SNAPPY, BATCH_CODEC_LZ4, BATCH_CODEC_ZSTD};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        test_dir d;
        test_dir_make(&d);
        plog_config c = compact_config(1024);
        plog *log = open_log(&d, &c);
        model m;
        model_init(&m);
        /* batches mixing keys so that most batches keep some records */
        for (int r = 0; r < 10; r++) {
            int keys[4] = {r % 7, (r + 3) % 11, 12 + r, 30};
            append_keys(log, &m, keys, NULL, 4, r, codecs[i], -1, NOW_MS - 10000);
        }
        int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
        assert_true(active_base > 0);
        assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
        check_compacted(log, &m, active_base);
        static seen records[RECORDS_MAX];
        int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
        for (int k = 0; k < count; k++)
            assert_int_equal(records[k].codec, codecs[i]);
        plog_close(log);
        test_dir_remove(&d);
    }
}

static uint8_t *read_file(const char *path, int64_t *len)
{
    *len = test_file_size(path);
    assert_true(*len >= 0);
    uint8_t *data = malloc((size_t)*len + 1);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, data, (size_t)*len, 0), *len);
    close(fd);
    return data;
}

static void test_active_segment_untouched(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(4096);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 30, 5, 5, BATCH_CODEC_NONE);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    assert_true(log->segments[log->segment_count - 1]->size_bytes > 0);
    char path[PATH_MAX];
    test_path(path, sizeof path, &d, active_base, ".log");
    int64_t len_before, len_after;
    uint8_t *before = read_file(path, &len_before);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    uint8_t *after = read_file(path, &len_after);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(before, after, (size_t)len_before);
    /* the active segment still has every key's superseded values */
    static seen records[RECORDS_MAX];
    int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    int in_active = 0;
    for (int i = 0; i < count; i++)
        in_active += records[i].offset >= active_base;
    assert_int_equal(in_active, (int)(m.next_offset - active_base));
    free(before);
    free(after);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_min_compaction_lag(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    c.min_compaction_lag_ms = 60000;
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    /* records written "now": all within the lag */
    for (int r = 0; r < 30; r++) {
        int keys[4] = {0, 1, 2, 3};
        append_keys(log, &m, keys, NULL, 4, r, BATCH_CODEC_NONE, -1, NOW_MS);
    }
    assert_true(log->segment_count > 2);
    assert_int_equal(cleaner_clean_now(log, NOW_MS + 1000), ST_ENOTFOUND);
    /* a minute later every sealed segment may be cleaned */
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    assert_int_equal(cleaner_clean_now(log, NOW_MS + 61000), 0);
    assert_int_equal(cleaner_first_dirty_offset(log), active_base);
    check_compacted(log, &m, active_base);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_min_compaction_lag_partial(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    c.min_compaction_lag_ms = 60000;
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    for (int r = 0; r < 30; r++) {
        int keys[4] = {0, 1, 2, 3};
        append_keys(log, &m, keys, NULL, 4, r, BATCH_CODEC_NONE, -1, NOW_MS - 120000);
    }
    size_t old_segments = log->segment_count; /* the last holds old records too */
    for (int r = 30; r < 60; r++) {
        int keys[4] = {0, 1, 2, 3};
        append_keys(log, &m, keys, NULL, 4, r, BATCH_CODEC_NONE, -1, NOW_MS);
    }
    (void)old_segments;
    /* find the first segment holding a recent record: the uncleanable bound */
    int64_t bound = -1;
    for (size_t i = 0; i + 1 < log->segment_count; i++)
        if (log->segments[i]->max_timestamp_ms > NOW_MS - 60000) {
            bound = log->segments[i]->base_offset;
            break;
        }
    assert_true(bound > 0);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    assert_int_equal(cleaner_first_dirty_offset(log), bound);
    /* every record at or after the bound is still there */
    static seen records[RECORDS_MAX];
    int count = read_all(log, records, RECORDS_MAX, NULL, NULL);
    int after = 0;
    for (int i = 0; i < count; i++)
        after += records[i].offset >= bound;
    assert_int_equal(after, (int)(m.next_offset - bound));
    plog_close(log);
    test_dir_remove(&d);
}

static void test_dirty_ratio_threshold(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    c.min_cleanable_dirty_ratio = 0.5;
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    /* distinct keys: cleaning keeps everything, so the clean part stays big */
    for (int r = 0; r < 40; r++) {
        int keys[1] = {r};
        append_keys(log, &m, keys, NULL, 1, 0, BATCH_CODEC_NONE, -1, NOW_MS - 100000);
    }
    assert_true(cleaner_dirty_ratio(log, NOW_MS) > 0.99);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    assert_true(cleaner_dirty_ratio(log, NOW_MS) < 0.01);
    /* a little more: one new sealed segment against many clean ones */
    int64_t end_before = plog_log_end_offset(log);
    while (log->segments[log->segment_count - 1]->base_offset <= end_before) {
        int keys[1] = {41};
        append_keys(log, &m, keys, NULL, 1, 1, BATCH_CODEC_NONE, -1, NOW_MS - 100000);
    }
    double ratio = cleaner_dirty_ratio(log, NOW_MS);
    assert_true(ratio > 0 && ratio < 0.5);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), ST_ENOTFOUND);
    /* max.compaction.lag.ms forces it */
    c.max_compaction_lag_ms = 1000;
    plog_set_config(log, &c);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    plog_close(log);
    test_dir_remove(&d);
}

/* The stored batch whose base offset is base, found by scanning the segment
 * files (plog_read skips empty batches). */
static bool find_stored_batch(plog *log, int64_t base, batch_header *out)
{
    for (size_t i = 0; i < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        for (int64_t position = 0; position < seg->size_bytes;) {
            assert_int_equal(segment_read_header(seg, position, out), 0);
            if (out->base_offset == base)
                return true;
            position += (int64_t)batch_total_bytes(out);
        }
    }
    return false;
}

static void test_producer_batch_kept_empty(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(512);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    int key0[1] = {0};
    append_keys(log, &m, key0, NULL, 1, 0, BATCH_CODEC_NONE, 77, NOW_MS - 5000); /* producer 77, last batch */
    int64_t producer_batch = m.latest_offset[0];
    append_keys(log, &m, key0, NULL, 1, 1, BATCH_CODEC_NONE, 88, NOW_MS - 5000); /* producer 88, superseded */
    append_keys(log, &m, key0, NULL, 1, 2, BATCH_CODEC_NONE, 88, NOW_MS - 5000);
    int64_t superseded_88 = producer_batch + 1;
    fill_rounds(log, &m, 8, 8, 4, BATCH_CODEC_NONE);
    assert_int_equal(cleaner_clean_now(log, NOW_MS), 0);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    check_compacted(log, &m, active_base);
    /* producer 77's only batch is still there, empty */
    batch_header h;
    assert_true(find_stored_batch(log, producer_batch, &h));
    assert_int_equal(h.record_count, 0);
    assert_int_equal(h.producer_id, 77);
    assert_int_equal(batch_last_offset(&h), producer_batch);
    /* producer 88's first batch is gone, its last kept (empty) */
    assert_false(find_stored_batch(log, superseded_88, &h));
    assert_true(find_stored_batch(log, superseded_88 + 1, &h));
    assert_int_equal(h.record_count, 0);
    assert_int_equal(h.producer_id, 88);
    /* reads skip the empty batches: the first batch served has records */
    plog_slice s;
    assert_int_equal(plog_read(log, producer_batch, 1, &s), 0);
    uint8_t header[BATCH_HEADER_BYTES];
    assert_int_equal(pread(s.fd, header, sizeof header, s.file_position), (ssize_t)sizeof header);
    assert_true(load_i32(header + BATCH_OFFSET_RECORD_COUNT) > 0);
    assert_true(load_i64(header + BATCH_OFFSET_BASE_OFFSET) > superseded_88 + 1);
    plog_close(log);
    test_dir_remove(&d);
}

static void test_null_keys(void **state)
{
    (void)state;
    buf b;
    test_build_batch(&b, 3, 10, NOW_MS); /* unkeyed records */
    assert_int_equal(cleaner_check_keys(b.data, b.len), ST_EINVAL);
    buf_free(&b);
    batch_record rec = {.key = (const uint8_t *)"k", .key_len = 1, .value = (const uint8_t *)"v",
                        .value_len = 1, .timestamp = NOW_MS};
    batch_build_params p;
    batch_build_params_default(&p);
    p.codec = BATCH_CODEC_ZSTD;
    buf_init(&b, 1 << 20);
    assert_int_equal(batch_build(&b, &p, &rec, 1), 0);
    assert_int_equal(cleaner_check_keys(b.data, b.len), 0);
    buf_free(&b);
}

static void test_offset_map(void **state)
{
    (void)state;
    cleaner_offset_map map;
    cleaner_offset_map_init(&map, 1 << 20);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i % 1000);
        assert_int_equal(cleaner_offset_map_put(&map, (const uint8_t *)key, strlen(key), i), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(cleaner_offset_map_get(&map, (const uint8_t *)key, strlen(key)), 4000 + i);
    }
    assert_int_equal(cleaner_offset_map_get(&map, (const uint8_t *)"nope", 4), -1);
    assert_int_equal(cleaner_offset_map_put(&map, (const uint8_t *)"", 0, 7), 0);
    assert_int_equal(cleaner_offset_map_get(&map, (const uint8_t *)"", 0), 7);
    cleaner_offset_map_free(&map);
    /* a tiny budget fills up and says so */
    cleaner_offset_map_init(&map, 64 * 1024);
    int rc = 0, i = 0;
    for (; rc == 0 && i < 100000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        rc = cleaner_offset_map_put(&map, (const uint8_t *)key, strlen(key), i);
    }
    assert_int_equal(rc, ST_ETOOBIG);
    cleaner_offset_map_free(&map);
}

/* The broker's way: the worker thread cleans, the loop swaps; closing a log
 * while its job runs cancels it and leaves no work files. */
static void test_worker_thread(void **state)
{
    (void)state;
    assert_int_equal(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    assert_non_null(base);
    assert_int_equal(evthread_make_base_notifiable(base), 0);
    log_cleaner *cleaner = NULL;
    assert_int_equal(log_cleaner_open(base, &cleaner), 0);
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(2048);
    plog *log = open_log(&d, &c);
    model m;
    model_init(&m);
    fill_rounds(log, &m, 20, 16, 4, BATCH_CODEC_ZSTD);
    int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
    log_cleaner_consider(cleaner, log, NOW_MS);
    log_cleaner_start(cleaner);
    assert_true(log_cleaner_busy(cleaner));
    for (int i = 0; i < 20000 && log_cleaner_busy(cleaner); i++) {
        event_base_loop(base, EVLOOP_NONBLOCK); /* runs the completion once posted */
        usleep(1000);
    }
    assert_false(log_cleaner_busy(cleaner));
    assert_int_equal(cleaner_first_dirty_offset(log), active_base);
    check_compacted(log, &m, active_base);

    /* dirty again; close the log right after the job started */
    fill_rounds(log, &m, 20, 16, 4, BATCH_CODEC_ZSTD);
    log_cleaner_consider(cleaner, log, NOW_MS);
    log_cleaner_start(cleaner);
    assert_true(log_cleaner_busy(cleaner));
    plog_close(log);
    assert_false(log_cleaner_busy(cleaner));
    for (int i = 0; i < 3; i++)
        event_base_loop(base, EVLOOP_NONBLOCK); /* a completion may still be pending: harmless */
    assert_int_equal(test_count_files(&d, ".cleaned"), 0);
    assert_int_equal(test_count_files(&d, ".swap"), 0);
    log = open_log(&d, &c);
    check_compacted(log, &m, active_base);
    plog_close(log);
    log_cleaner_close(cleaner);
    event_base_free(base);
    test_dir_remove(&d);
}

/* ---- crash safety ------------------------------------------------------- */

static const char *crash_step;

static void crash_here(const char *step)
{
    if (strcmp(step, crash_step) == 0)
        _exit(0); /* like kill -9: no close, no flush, no cleanup */
}

static void prepare_crash_log(const test_dir *d, const plog_config *c, model *m)
{
    plog *log = open_log(d, c);
    model_init(m);
    fill_rounds(log, m, 10, 12, 4, BATCH_CODEC_LZ4);
    int keys[1] = {5};
    bool tomb[1] = {true};
    append_keys(log, m, keys, tomb, 1, 99, BATCH_CODEC_NONE, -1, NOW_MS - 50000);
    fill_rounds(log, m, 3, 12, 4, BATCH_CODEC_LZ4);
    plog_close(log);
}

static void test_crash_at_every_step(void **state)
{
    (void)state;
    const char *steps[] = {"cleaned-written", "swap-committed", "swap-begin", "indexes-moved",
                           "old-unlinked", "log-moved", "swapped"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        test_dir d;
        test_dir_make(&d);
        plog_config c = compact_config(1024);
        model m;
        prepare_crash_log(&d, &c, &m);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            crash_step = steps[i];
            cleaner_crash_point = crash_here;
            plog *log = NULL;
            if (plog_open(d.log, &c, &log) != 0)
                _exit(2);
            cleaner_clean_now(log, NOW_MS);
            _exit(3); /* the crash point was never reached */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        plog *log = open_log(&d, &c);
        assert_int_equal(test_count_files(&d, ".cleaned"), 0);
        assert_int_equal(test_count_files(&d, ".swap"), 0);
        check_compacted(log, &m, 0); /* every latest value, offsets kept */
        int64_t active_base = log->segments[log->segment_count - 1]->base_offset;
        /* a cleaning after the crash brings the log to the compacted state */
        int rc = cleaner_clean_now(log, NOW_MS);
        assert_true(rc == 0 || rc == ST_ENOTFOUND);
        check_compacted(log, &m, active_base);
        plog_close(log);
        log = open_log(&d, &c);
        check_compacted(log, &m, active_base);
        plog_close(log);
        test_dir_remove(&d);
    }
}

/* Leftovers planted by hand: a .cleaned directory is thrown away, a .swap
 * directory whose .log is gone (swap complete) is just removed. */
static void test_planted_leftovers(void **state)
{
    (void)state;
    test_dir d;
    test_dir_make(&d);
    plog_config c = compact_config(1024);
    model m;
    prepare_crash_log(&d, &c, &m);
    char path[PATH_MAX], file[PATH_MAX];
    snprintf(path, sizeof path, "%s/00000000000000000000.cleaned", d.log);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(file, sizeof file, "%s/00000000000000000000.log", path);
    FILE *f = fopen(file, "w");
    fputs("garbage", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/00000000000000000000.00000000000000000005.swap", d.log);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(file, sizeof file, "%s/00000000000000000000.index", path);
    f = fopen(file, "w");
    fclose(f);
    plog *log = open_log(&d, &c);
    assert_int_equal(test_count_files(&d, ".cleaned"), 0);
    assert_int_equal(test_count_files(&d, ".swap"), 0);
    check_compacted(log, &m, 0);
    plog_close(log);
    test_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset_map),
        cmocka_unit_test(test_latest_value_per_key),
        cmocka_unit_test(test_second_cleaning_merges),
        cmocka_unit_test(test_tombstones_after_delete_retention),
        cmocka_unit_test(test_fetch_removed_offset_returns_next),
        cmocka_unit_test(test_codecs_reencoded),
        cmocka_unit_test(test_active_segment_untouched),
        cmocka_unit_test(test_min_compaction_lag),
        cmocka_unit_test(test_min_compaction_lag_partial),
        cmocka_unit_test(test_dirty_ratio_threshold),
        cmocka_unit_test(test_producer_batch_kept_empty),
        cmocka_unit_test(test_null_keys),
        cmocka_unit_test(test_worker_thread),
        cmocka_unit_test(test_crash_at_every_step),
        cmocka_unit_test(test_planted_leftovers),
        cmocka_unit_test(test_damaged_offset_out_of_order_refused),
        cmocka_unit_test(test_damaged_offset_outside_segment_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
