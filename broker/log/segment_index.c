/*
 * segment_index.c - the in-memory vectors of a segment's offset and time
 * indexes, their files (formats in segment.h): append, load with consistency
 * checks, rewrite after a rebuild, and binary-search lookups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/segment.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/invariant.h"
#include "common/log.h"
#include "common/reader.h"

static int grow(void **items, size_t *capacity, size_t needed, size_t item_bytes)
{
    if (needed <= *capacity)
        return 0;
    size_t new_capacity = *capacity ? *capacity * 2 : 64;
    if (new_capacity < needed)
        new_capacity = needed;
    void *grown = realloc(*items, new_capacity * item_bytes);
    if (grown == NULL)
        return ST_ENOMEM;
    *items = grown;
    *capacity = new_capacity;
    return 0;
}

static void encode_offset_entry(uint8_t *out, const segment_offset_entry *e)
{
    store_i32(out, e->relative_offset);
    store_i32(out + 4, e->position);
}

static void encode_time_entry(uint8_t *out, const segment_time_entry *e)
{
    store_i64(out, e->timestamp_ms);
    store_i32(out + 8, e->relative_offset);
}

int segment_index_push_offset(segment *seg, int32_t relative_offset, int32_t position, bool write)
{
    if (seg->offset_count >= seg->offset_entries_max)
        return 0; /* full: the index stays sparser; appends roll before this */
    /* strictly increasing in both fields (segment.h): load_offsets refuses a
     * file that is not, and appends only add entries after the last one */
    INVARIANT(relative_offset >= 0 && position >= 0);
    INVARIANT(seg->offset_count == 0 ||
              (seg->offset_entries[seg->offset_count - 1].relative_offset < relative_offset &&
               seg->offset_entries[seg->offset_count - 1].position < position));
    int rc = grow((void **)&seg->offset_entries, &seg->offset_capacity, seg->offset_count + 1,
                  sizeof *seg->offset_entries);
    if (rc != 0)
        return rc;
    segment_offset_entry *e = &seg->offset_entries[seg->offset_count];
    e->relative_offset = relative_offset;
    e->position = position;
    if (write) {
        uint8_t bytes[SEGMENT_OFFSET_ENTRY_BYTES];
        encode_offset_entry(bytes, e);
        rc = file_pwrite_all(seg->index_fd, bytes, sizeof bytes,
                        (int64_t)seg->offset_count * SEGMENT_OFFSET_ENTRY_BYTES);
        if (rc != 0)
            return rc;
        seg->index_dirty = true;
    }
    seg->offset_count++;
    return 0;
}

int segment_index_push_time(segment *seg, int64_t timestamp_ms, int32_t relative_offset, bool write)
{
    if (seg->time_count >= seg->time_entries_max)
        return 0;
    if (seg->time_count > 0 && seg->time_entries[seg->time_count - 1].timestamp_ms >= timestamp_ms)
        return 0; /* entries only when the maximum grows */
    INVARIANT(relative_offset >= 0);
    int rc = grow((void **)&seg->time_entries, &seg->time_capacity, seg->time_count + 1,
                  sizeof *seg->time_entries);
    if (rc != 0)
        return rc;
    segment_time_entry *e = &seg->time_entries[seg->time_count];
    e->timestamp_ms = timestamp_ms;
    e->relative_offset = relative_offset;
    if (write) {
        uint8_t bytes[SEGMENT_TIME_ENTRY_BYTES];
        encode_time_entry(bytes, e);
        rc = file_pwrite_all(seg->time_index_fd, bytes, sizeof bytes,
                        (int64_t)seg->time_count * SEGMENT_TIME_ENTRY_BYTES);
        if (rc != 0)
            return rc;
        seg->time_index_dirty = true;
    }
    seg->time_count++;
    return 0;
}

bool segment_index_ordered(const segment *seg)
{
    for (size_t i = 1; i < seg->offset_count; i++)
        if (seg->offset_entries[i - 1].relative_offset >= seg->offset_entries[i].relative_offset ||
            seg->offset_entries[i - 1].position >= seg->offset_entries[i].position)
            return false;
    for (size_t i = 1; i < seg->time_count; i++)
        if (seg->time_entries[i - 1].timestamp_ms >= seg->time_entries[i].timestamp_ms)
            return false;
    return seg->offset_count == 0 ||
           seg->offset_entries[seg->offset_count - 1].position < seg->size_bytes;
}

void segment_index_clear(segment *seg)
{
    seg->offset_count = 0;
    seg->time_count = 0;
}

/* Replaces a file's contents with the encoded entries. */
static int rewrite_file(int fd, const buf *bytes)
{
    if (ftruncate(fd, 0) != 0)
        return ST_EIO;
    return file_pwrite_all(fd, bytes->data, bytes->len, 0);
}

int segment_index_rewrite(segment *seg)
{
    INVARIANT(seg->offset_count <= seg->offset_entries_max && seg->time_count <= seg->time_entries_max);
    buf offsets, times;
    buf_init(&offsets, seg->offset_count * SEGMENT_OFFSET_ENTRY_BYTES);
    buf_init(&times, seg->time_count * SEGMENT_TIME_ENTRY_BYTES);
    uint8_t *o = seg->offset_count ? buf_reserve(&offsets, seg->offset_count * SEGMENT_OFFSET_ENTRY_BYTES) : NULL;
    uint8_t *t = seg->time_count ? buf_reserve(&times, seg->time_count * SEGMENT_TIME_ENTRY_BYTES) : NULL;
    int rc = buf_ok(&offsets) && buf_ok(&times) ? 0 : ST_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < seg->offset_count; i++)
            encode_offset_entry(o + i * SEGMENT_OFFSET_ENTRY_BYTES, &seg->offset_entries[i]);
        for (size_t i = 0; i < seg->time_count; i++)
            encode_time_entry(t + i * SEGMENT_TIME_ENTRY_BYTES, &seg->time_entries[i]);
        offsets.len = seg->offset_count * SEGMENT_OFFSET_ENTRY_BYTES;
        times.len = seg->time_count * SEGMENT_TIME_ENTRY_BYTES;
        INVARIANT(offsets.len <= offsets.cap && times.len <= times.cap);
        rc = rewrite_file(seg->index_fd, &offsets);
        if (rc == 0)
            rc = rewrite_file(seg->time_index_fd, &times);
    }
    seg->index_dirty = true;
    seg->time_index_dirty = true;
    buf_free(&offsets);
    buf_free(&times);
    return rc;
}

/* Reads a whole index file of entry_bytes entries, at most entries_max.
 * ST_ECORRUPT when its size is not a whole number of entries or too big. */
static int read_index_file(int fd, size_t entry_bytes, size_t entries_max, uint8_t **out,
                           size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ST_EIO;
    if (st.st_size < 0 || (uint64_t)st.st_size % entry_bytes != 0 ||
        (uint64_t)st.st_size / entry_bytes > entries_max)
        return ST_ECORRUPT;
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (data == NULL)
        return ST_ENOMEM;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, data + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(data);
            return n == 0 ? ST_ECORRUPT : ST_EIO;
        }
        got += (size_t)n;
    }
    *out = data;
    *len = size;
    return 0;
}

/* Offset entries must increase strictly in both fields and stay inside the
 * log, and base + relative offset must be an int64 (a file named for a base
 * near INT64_MAX): anything else (garbage, zero fill, a stale index after
 * truncation) sends the segment to a rebuild. */
static int load_offsets(segment *seg, const uint8_t *data, size_t len)
{
    reader r;
    reader_init(&r, data, len);
    int64_t previous_relative = -1, previous_position = -1;
    while (reader_remaining(&r) > 0) {
        int32_t relative = reader_i32(&r);
        int32_t position = reader_i32(&r);
        if (!reader_ok(&r) || relative <= previous_relative || position <= previous_position ||
            position >= seg->size_bytes || relative > INT64_MAX - seg->base_offset)
            return ST_ECORRUPT;
        int rc = segment_index_push_offset(seg, relative, position, false);
        if (rc != 0)
            return rc;
        previous_relative = relative;
        previous_position = position;
    }
    return 0;
}

static int load_times(segment *seg, const uint8_t *data, size_t len)
{
    reader r;
    reader_init(&r, data, len);
    int64_t previous_timestamp = INT64_MIN, previous_relative = -1;
    while (reader_remaining(&r) > 0) {
        int64_t timestamp = reader_i64(&r);
        int32_t relative = reader_i32(&r);
        if (!reader_ok(&r) || timestamp <= previous_timestamp || relative < previous_relative ||
            relative < 0 || relative > INT64_MAX - seg->base_offset)
            return ST_ECORRUPT;
        int rc = segment_index_push_time(seg, timestamp, relative, false);
        if (rc != 0)
            return rc;
        previous_timestamp = timestamp;
        previous_relative = relative;
    }
    return 0;
}

int segment_index_load(segment *seg)
{
    segment_index_clear(seg);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_index_file(seg->index_fd, SEGMENT_OFFSET_ENTRY_BYTES, seg->offset_entries_max,
                             &data, &len);
    if (rc == 0)
        rc = load_offsets(seg, data, len);
    free(data);
    data = NULL;
    if (rc == 0)
        rc = read_index_file(seg->time_index_fd, SEGMENT_TIME_ENTRY_BYTES, seg->time_entries_max,
                             &data, &len);
    if (rc == 0)
        rc = load_times(seg, data, len);
    free(data);
    if (rc != 0)
        segment_index_clear(seg);
    /* what was read back is what the appends keep: ordered, inside the log */
    INVARIANT_EXPENSIVE(rc != 0 || segment_index_ordered(seg));
    return rc;
}

int64_t segment_index_lookup_offset(const segment *seg, int64_t relative_offset)
{
    INVARIANT(relative_offset >= 0);
    size_t low = 0, high = seg->offset_count;
    while (low < high) { /* first entry with relative offset > target */
        size_t mid = low + (high - low) / 2;
        if (seg->offset_entries[mid].relative_offset <= relative_offset)
            low = mid + 1;
        else
            high = mid;
    }
    INVARIANT(low == 0 || seg->offset_entries[low - 1].relative_offset <= relative_offset);
    INVARIANT(low == seg->offset_count || seg->offset_entries[low].relative_offset > relative_offset);
    return low == 0 ? 0 : seg->offset_entries[low - 1].position;
}

int64_t segment_index_lookup_time(const segment *seg, int64_t timestamp_ms)
{
    size_t low = 0, high = seg->time_count;
    while (low < high) { /* first entry with timestamp > target */
        size_t mid = low + (high - low) / 2;
        if (seg->time_entries[mid].timestamp_ms <= timestamp_ms)
            low = mid + 1;
        else
            high = mid;
    }
    INVARIANT(low == 0 || seg->time_entries[low - 1].timestamp_ms <= timestamp_ms);
    INVARIANT(low == seg->time_count || seg->time_entries[low].timestamp_ms > timestamp_ms);
    return low == 0 ? 0 : seg->time_entries[low - 1].relative_offset;
}
