/*
 * fuzz_segment_index.c - libFuzzer target for opening a log segment from its
 * three files (broker/log/segment.h): loading and checking the .index and
 * .timeindex (segment_index.c), the tail scan behind the last index entry,
 * the rebuild when an index is inconsistent (segment_recover), and the index
 * lookups over whatever was loaded (segment_find_offset,
 * segment_find_timestamp).
 *
 * Input (all integers big-endian):
 *
 *   OFFSET SIZE FIELD
 *        0    1 flags: bit 0 check the tail's CRCs (the last segment), bit 1
 *               no index files (rebuild), bits 2-3 index.interval.bytes
 *               (intervals[] below), bit 4 a 96-byte segment.index.bytes
 *               instead of 10 MiB
 *        1    8 base offset (the file name's; the sign bit is dropped)
 *        9    2 I, bytes of .index
 *       11    2 T, bytes of .timeindex
 *       13    I .index, then T .timeindex (each cut short by the input's
 *               end), then the rest: .log
 *
 * segment_open only takes a directory, so the three files are written to the
 * target's temporary directory (tmpfs) first. Checked: load and lookups end
 * in 0 or a precise error (ST_ECORRUPT, ST_ENOTFOUND), never a crash; a
 * loaded segment's in-memory indexes keep the segment.h invariants
 * (strictly increasing, inside the log) and its counters are in range; a
 * found batch contains or follows the offset asked for and lies inside the
 * log.
 * Seeds: tests/fuzz/corpus/segment_index/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/segment.h"
#include "common/error.h"
#include "support.h"

static const int32_t intervals[4] = {4096, 1, 100, 65536};

static void check_loaded(const segment *seg)
{
    FUZZ_CHECK(seg->size_bytes >= 0, "size is not negative");
    FUZZ_CHECK(seg->next_offset >= seg->base_offset, "next offset at or after the base");
    for (size_t i = 0; i < seg->offset_count; i++) {
        const segment_offset_entry *e = &seg->offset_entries[i];
        FUZZ_CHECK(e->relative_offset >= 0 && e->position >= 0 && e->position < seg->size_bytes,
                   "offset index entry inside the log");
        FUZZ_CHECK(i == 0 || (e->relative_offset > e[-1].relative_offset &&
                              e->position > e[-1].position),
                   "offset index strictly increasing");
    }
    FUZZ_CHECK(seg->offset_count <= seg->offset_entries_max, "offset index within its maximum");
    FUZZ_CHECK(seg->time_count <= seg->time_entries_max, "time index within its maximum");
    for (size_t i = 0; i < seg->time_count; i++) {
        const segment_time_entry *e = &seg->time_entries[i];
        FUZZ_CHECK(e->relative_offset >= 0, "time index entry not negative");
        FUZZ_CHECK(seg->base_offset + e->relative_offset < seg->next_offset,
                   "time index entry inside the segment's offsets");
        FUZZ_CHECK(i == 0 || (e->timestamp_ms > e[-1].timestamp_ms &&
                              e->relative_offset >= e[-1].relative_offset),
                   "time index increasing");
    }
}

static void check_find_offset(const segment *seg, int64_t offset)
{
    int64_t position = -1;
    batch_header h;
    int rc = segment_find_offset(seg, offset, &position, &h);
    FUZZ_CHECK(rc == 0 || rc == ST_ENOTFOUND || rc == ST_ECORRUPT,
               "find offset: found, not found or corrupt");
    if (rc == 0) {
        FUZZ_CHECK(position >= 0 && position < seg->size_bytes, "found batch inside the log");
        FUZZ_CHECK(batch_last_offset(&h) >= offset, "found batch reaches the offset");
        FUZZ_CHECK(position + (int64_t)batch_total_bytes(&h) <= seg->size_bytes,
                   "found batch ends inside the log");
    }
}

static void check_find_timestamp(const segment *seg, int64_t timestamp_ms)
{
    batch_header h;
    int rc = segment_find_timestamp(seg, timestamp_ms, seg->base_offset, &h);
    FUZZ_CHECK(rc == 0 || rc == ST_ENOTFOUND || rc == ST_ECORRUPT,
               "find timestamp: found, not found or corrupt");
    if (rc == 0)
        FUZZ_CHECK(h.max_timestamp >= timestamp_ms, "found batch reaches the timestamp");
}

static void lookups(const segment *seg)
{
    check_find_offset(seg, seg->base_offset);
    if (seg->next_offset > seg->base_offset)
        check_find_offset(seg, seg->next_offset - 1);
    check_find_offset(seg, seg->next_offset);
    for (size_t i = 0; i < seg->offset_count; i++) {
        int64_t offset = seg->base_offset + seg->offset_entries[i].relative_offset;
        check_find_offset(seg, offset);
        check_find_offset(seg, offset + 1);
    }
    for (size_t i = 0; i < seg->time_count; i++) {
        check_find_timestamp(seg, seg->time_entries[i].timestamp_ms);
        if (seg->time_entries[i].timestamp_ms < INT64_MAX)
            check_find_timestamp(seg, seg->time_entries[i].timestamp_ms + 1);
    }
    check_find_timestamp(seg, INT64_MIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags = (uint8_t)fuzz_take(&data, &size, 1);
    int64_t base_offset = (int64_t)(fuzz_take(&data, &size, 8) & (uint64_t)INT64_MAX);
    size_t index_len = (size_t)fuzz_take(&data, &size, 2);
    size_t time_index_len = (size_t)fuzz_take(&data, &size, 2);
    if (index_len > size)
        index_len = size;
    const uint8_t *index = data;
    data += index_len;
    size -= index_len;
    if (time_index_len > size)
        time_index_len = size;
    const uint8_t *time_index = data;
    data += time_index_len;
    size -= time_index_len;

    const char *dir = fuzz_temp_dir();
    char log_name[SEGMENT_FILE_NAME_BYTES], index_name[SEGMENT_FILE_NAME_BYTES],
        time_index_name[SEGMENT_FILE_NAME_BYTES];
    segment_file_name(log_name, base_offset, ".log");
    segment_file_name(index_name, base_offset, ".index");
    segment_file_name(time_index_name, base_offset, ".timeindex");
    fuzz_write_file(dir, log_name, data, size);
    if (flags & 2) {
        fuzz_remove_file(dir, index_name);
        fuzz_remove_file(dir, time_index_name);
    } else {
        fuzz_write_file(dir, index_name, index, index_len);
        fuzz_write_file(dir, time_index_name, time_index, time_index_len);
    }

    int32_t index_bytes_max = flags & 16 ? 96 : 10 * 1024 * 1024;
    segment *seg = NULL;
    FUZZ_CHECK(segment_open(dir, base_offset, index_bytes_max, 0, &seg) == 0,
               "the segment's files open");
    int64_t truncated = -1;
    int rc = segment_load(seg, flags & 1, intervals[(flags >> 2) & 3], &truncated);
    FUZZ_CHECK(rc == 0, "loading a segment rebuilds what it cannot trust");
    FUZZ_CHECK(truncated >= 0 && truncated <= (int64_t)size, "truncated bytes within the log");
    FUZZ_CHECK(seg->size_bytes + truncated == (int64_t)size, "size plus truncated is the file");
    check_loaded(seg);
    lookups(seg);
    FUZZ_CHECK(segment_delete(dir, seg) == 0, "the segment's files are removed");
    return 0;
}
