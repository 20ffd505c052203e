/*
 * segment.c - one log segment (formats in segment.h): create and open its
 * files, append a batch, read batch headers from disk through the reader,
 * recover (full CRC scan, truncate a torn tail, rebuild indexes), load a
 * trusted segment, find offsets and timestamps, seal, flush, close, delete.
 */
#include "broker/log/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/invariant.h"
#include "common/log.h"
#include "common/reader.h"

/* Bytes read per pread when checking a batch's CRC in recovery: large enough
 * for few syscalls, small enough that recovery memory does not depend on the
 * batch size a corrupt header claims. */
#define SEGMENT_CRC_CHUNK_BYTES (256 * 1024)

void segment_file_name(char *name, int64_t base_offset, const char *suffix)
{
    snprintf(name, SEGMENT_FILE_NAME_BYTES, "%020" PRId64 "%s", base_offset, suffix);
}

bool segment_name_digits(const char *text, int64_t *offset)
{
    int64_t value = 0;
    for (int i = 0; i < 20; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        int digit = text[i] - '0';
        if (value > (INT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *offset = value;
    return true;
}

bool segment_file_name_parse(const char *name, const char *suffix, int64_t *offset)
{
    size_t len = strlen(name);
    if (len != 20 + strlen(suffix) || strcmp(name + 20, suffix) != 0)
        return false;
    return segment_name_digits(name, offset);
}

static int segment_path(char *path, const char *dir, int64_t base_offset, const char *suffix)
{
    char name[SEGMENT_FILE_NAME_BYTES];
    segment_file_name(name, base_offset, suffix);
    int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);
    return n < 0 || n >= PATH_MAX ? ST_EINVAL : 0;
}

static segment *segment_alloc(int64_t base_offset, int32_t index_bytes_max, int64_t now_ms)
{
    INVARIANT(base_offset >= 0);
    segment *seg = calloc(1, sizeof *seg);
    if (seg == NULL)
        return NULL;
    seg->base_offset = base_offset;
    seg->next_offset = base_offset;
    seg->max_timestamp_ms = -1;
    seg->max_timestamp_offset = base_offset;
    seg->created_ms = now_ms;
    seg->log_fd = seg->index_fd = seg->time_index_fd = -1;
    int64_t bytes = index_bytes_max > 0 ? index_bytes_max : 0;
    seg->offset_entries_max = (size_t)(bytes / SEGMENT_OFFSET_ENTRY_BYTES);
    seg->time_entries_max = (size_t)(bytes / SEGMENT_TIME_ENTRY_BYTES);
    if (seg->offset_entries_max == 0)
        seg->offset_entries_max = 1;
    if (seg->time_entries_max == 0)
        seg->time_entries_max = 1;
    return seg;
}

/* Opens the three files; log_flags decide whether the .log must be new. */
static int segment_open_files(segment *seg, const char *dir, int log_flags, int index_flags)
{
    static const char *const suffixes[3] = {".log", ".index", ".timeindex"};
    int *fds[3] = {&seg->log_fd, &seg->index_fd, &seg->time_index_fd};
    for (int i = 0; i < 3; i++) {
        char path[PATH_MAX];
        if (segment_path(path, dir, seg->base_offset, suffixes[i]) != 0)
            return ST_EINVAL;
        int flags = (i == 0 ? log_flags : index_flags) | O_RDWR | O_CLOEXEC;
        if (i > 0 && !(flags & O_TRUNC)) {
            /* an index file that did not exist must be rebuilt */
            *fds[i] = open(path, flags | O_CREAT | O_EXCL, 0644);
            if (*fds[i] >= 0)
                seg->index_missing = true;
            else if (errno == EEXIST)
                *fds[i] = open(path, flags, 0644);
        } else {
            *fds[i] = open(path, flags, 0644);
        }
        if (*fds[i] < 0) {
            int saved = errno;
            log_error("log", "open failed path=%s errno=%d", path, saved);
            return saved == EEXIST ? ST_EEXISTS : ST_EIO;
        }
    }
    return 0;
}

int segment_create(const char *dir, int64_t base_offset, int32_t index_bytes_max, int64_t now_ms,
                   segment **out)
{
    segment *seg = segment_alloc(base_offset, index_bytes_max, now_ms);
    if (seg == NULL)
        return ST_ENOMEM;
    int rc = segment_open_files(seg, dir, O_CREAT | O_EXCL, O_CREAT | O_TRUNC);
    if (rc != 0) {
        segment_close(seg);
        return rc;
    }
    seg->log_dirty = seg->index_dirty = seg->time_index_dirty = true;
    *out = seg;
    return 0;
}

int segment_open(const char *dir, int64_t base_offset, int32_t index_bytes_max, int64_t now_ms,
                 segment **out)
{
    segment *seg = segment_alloc(base_offset, index_bytes_max, now_ms);
    if (seg == NULL)
        return ST_ENOMEM;
    int rc = segment_open_files(seg, dir, 0, 0);
    struct stat st;
    if (rc == 0 && fstat(seg->log_fd, &st) != 0)
        rc = ST_EIO;
    if (rc != 0) {
        segment_close(seg);
        return rc;
    }
    seg->size_bytes = st.st_size;
    *out = seg;
    return 0;
}

int segment_read_header(const segment *seg, int64_t position, batch_header *out)
{
    if (position < 0 || position >= seg->size_bytes)
        return ST_ETRUNCATED;
    int64_t available = seg->size_bytes - position;
    uint8_t bytes[BATCH_HEADER_BYTES];
    size_t len = available < BATCH_HEADER_BYTES ? (size_t)available : BATCH_HEADER_BYTES;
    int rc = file_pread_all(seg->log_fd, bytes, len, position);
    if (rc != 0)
        return rc;
    rc = batch_header_decode(bytes, len, (uint64_t)available, out);
    return rc == ST_EUNSUPPORTED ? ST_ECORRUPT : rc; /* magic 0/1 on disk is corruption */
}

/* CRC-32C of the batch at position, read in chunks, against its header. */
static int check_crc(const segment *seg, int64_t position, const batch_header *h, uint8_t *chunk)
{
    int64_t at = position + BATCH_OFFSET_ATTRIBUTES;
    int64_t end = position + (int64_t)batch_total_bytes(h);
    uint32_t crc = 0;
    while (at < end) {
        size_t len = end - at < SEGMENT_CRC_CHUNK_BYTES ? (size_t)(end - at) : SEGMENT_CRC_CHUNK_BYTES;
        int rc = file_pread_all(seg->log_fd, chunk, len, at);
        if (rc != 0)
            return rc;
        crc = crc32c(crc, chunk, len);
        at += (int64_t)len;
    }
    return crc == h->crc ? 0 : ST_ECRC;
}

/* Offsets and positions are stored relative to the segment as int32. */
static bool fits_segment(const segment *seg, int64_t position, const batch_header *h)
{
    return batch_last_offset(h) - seg->base_offset <= INT32_MAX &&
           position + (int64_t)batch_total_bytes(h) <= INT32_MAX;
}

/* Accounts one batch stored at position: maximum timestamp, index entries
 * (written to the files when write is set), next offset. */
static int account_batch(segment *seg, int64_t position, const batch_header *h,
                         int32_t index_interval_bytes, bool write)
{
    /* both callers checked the batch against the segment first (scan_batches,
     * segment_append): offsets only increase and fit the int32 index fields */
    INVARIANT(h->base_offset >= seg->next_offset && h->last_offset_delta >= 0);
    INVARIANT(position >= 0 && fits_segment(seg, position, h));
    if (h->max_timestamp > seg->max_timestamp_ms) {
        seg->max_timestamp_ms = h->max_timestamp;
        seg->max_timestamp_offset = h->base_offset;
    }
    if (seg->bytes_since_index_entry > index_interval_bytes) {
        int rc = segment_index_push_offset(seg, (int32_t)(h->base_offset - seg->base_offset),
                                           (int32_t)position, write);
        if (rc == 0 && seg->max_timestamp_ms >= 0)
            rc = segment_index_push_time(seg, seg->max_timestamp_ms,
                                         (int32_t)(seg->max_timestamp_offset - seg->base_offset), write);
        if (rc != 0)
            return rc;
        seg->bytes_since_index_entry = 0;
    }
    seg->bytes_since_index_entry += (int64_t)batch_total_bytes(h);
    seg->next_offset = batch_last_offset(h) + 1;
    INVARIANT(seg->max_timestamp_offset >= seg->base_offset &&
              seg->max_timestamp_offset < seg->next_offset);
    return 0;
}

static void reset_contents(segment *seg)
{
    segment_index_clear(seg);
    seg->next_offset = seg->base_offset;
    seg->max_timestamp_ms = -1;
    seg->max_timestamp_offset = seg->base_offset;
    seg->bytes_since_index_entry = 0;
}

/* Scans from position 0 checking every batch; returns the first position
 * that does not hold a good batch (the file size when all are good). */
static int scan_batches(segment *seg, int64_t expected_offset, int32_t index_interval_bytes,
                        int64_t *good_bytes)
{
    uint8_t *chunk = malloc(SEGMENT_CRC_CHUNK_BYTES);
    if (chunk == NULL)
        return ST_ENOMEM;
    int64_t position = 0;
    int rc = 0;
    while (position < seg->size_bytes) {
        batch_header h;
        rc = segment_read_header(seg, position, &h);
        bool first = position == 0;
        /* a compacted segment has offset gaps between batches: offsets
         * only have to increase (cleaner_internal.h) */
        if (rc == 0 && (h.base_offset < seg->base_offset ||
                        (!first && h.base_offset < expected_offset) ||
                        (first && expected_offset >= 0 && h.base_offset < expected_offset) ||
                        !fits_segment(seg, position, &h)))
            rc = ST_ECORRUPT;
        if (rc == 0)
            rc = check_crc(seg, position, &h, chunk);
        if (rc == 0)
            rc = account_batch(seg, position, &h, index_interval_bytes, false);
        if (rc != 0)
            break;
        position += (int64_t)batch_total_bytes(&h);
        expected_offset = batch_last_offset(&h) + 1;
    }
    free(chunk);
    INVARIANT(position <= seg->size_bytes);
    *good_bytes = position;
    /* damaged data ends the scan; only failures to read or allocate propagate */
    return rc == ST_EIO || rc == ST_ENOMEM ? rc : 0;
}

int segment_recover(segment *seg, int64_t expected_offset, int32_t index_interval_bytes,
                    int64_t *truncated_bytes)
{
    reset_contents(seg);
    int64_t good_bytes = 0;
    int rc = scan_batches(seg, expected_offset, index_interval_bytes, &good_bytes);
    if (rc != 0)
        return rc;
    /* the checked bytes may be only in the page cache: fsync them on the next flush */
    seg->log_dirty = true;
    *truncated_bytes = seg->size_bytes - good_bytes;
    if (good_bytes < seg->size_bytes) {
        log_warn("log", "truncating torn or corrupt segment tail base_offset=%" PRId64
                 " position=%" PRId64 " bytes_removed=%" PRId64,
                 seg->base_offset, good_bytes, seg->size_bytes - good_bytes);
        if (ftruncate(seg->log_fd, (off_t)good_bytes) != 0)
            return ST_EIO;
        seg->size_bytes = good_bytes;
        seg->log_dirty = true;
    }
    seg->index_missing = false;
    INVARIANT(seg->next_offset >= seg->base_offset && seg->size_bytes == good_bytes);
    INVARIANT((seg->size_bytes == 0) == (seg->next_offset == seg->base_offset));
    return segment_index_rewrite(seg);
}

/* Scan from the last index entry to the end of a trusted segment (headers,
 * and CRCs when verify_crc): sets next offset, maximum timestamp and index
 * spacing. Returns ST_ECORRUPT when the tail does not parse as contiguous
 * (valid) batches or when an index entry was due in it (a short index). */
static int scan_tail(segment *seg, bool verify_crc, int32_t index_interval_bytes)
{
    uint8_t *chunk = NULL;
    if (verify_crc && (chunk = malloc(SEGMENT_CRC_CHUNK_BYTES)) == NULL)
        return ST_ENOMEM;
    int rc = 0;
    int64_t position = 0, expected = -1;
    if (seg->offset_count > 0) {
        const segment_offset_entry *last = &seg->offset_entries[seg->offset_count - 1];
        position = last->position;
        expected = seg->base_offset + last->relative_offset;
    }
    if (seg->time_count > 0) {
        const segment_time_entry *last = &seg->time_entries[seg->time_count - 1];
        seg->max_timestamp_ms = last->timestamp_ms;
        seg->max_timestamp_offset = seg->base_offset + last->relative_offset;
    }
    bool at_index_entry = expected >= 0; /* that batch's base is exactly the entry's */
    while (position < seg->size_bytes) {
        batch_header h;
        rc = segment_read_header(seg, position, &h);
        /* later batches may follow an offset gap left by compaction */
        if (rc == 0 && ((at_index_entry && h.base_offset != expected) ||
                        (expected >= 0 && h.base_offset < expected) ||
                        h.base_offset < seg->base_offset || !fits_segment(seg, position, &h)))
            rc = ST_ECORRUPT;
        if (rc == 0 && verify_crc)
            rc = check_crc(seg, position, &h, chunk);
        if (rc != 0) {
            rc = rc == ST_EIO ? rc : ST_ECORRUPT;
            break;
        }
        /* an entry was due here but the index ends earlier: it is short */
        if (seg->bytes_since_index_entry > index_interval_bytes &&
            seg->offset_count < seg->offset_entries_max) {
            rc = ST_ECORRUPT;
            break;
        }
        if (h.max_timestamp > seg->max_timestamp_ms) {
            seg->max_timestamp_ms = h.max_timestamp;
            seg->max_timestamp_offset = h.base_offset;
        }
        seg->bytes_since_index_entry += (int64_t)batch_total_bytes(&h);
        seg->next_offset = batch_last_offset(&h) + 1;
        position += (int64_t)batch_total_bytes(&h);
        expected = seg->next_offset;
        at_index_entry = false;
    }
    free(chunk);
    return rc;
}

int segment_load(segment *seg, bool check_tail_crc, int32_t index_interval_bytes,
                 int64_t *truncated_bytes)
{
    reset_contents(seg);
    *truncated_bytes = 0;
    int rc = seg->index_missing ? ST_ECORRUPT : segment_index_load(seg);
    if (rc == 0)
        rc = scan_tail(seg, check_tail_crc, index_interval_bytes);
    /* time entries must point inside the segment's offsets */
    if (rc == 0 && seg->time_count > 0 &&
        seg->base_offset + seg->time_entries[seg->time_count - 1].relative_offset >= seg->next_offset)
        rc = ST_ECORRUPT;
    if (rc == ST_ECORRUPT) {
        log_warn("log", "segment index inconsistent, rebuilding base_offset=%" PRId64,
                 seg->base_offset);
        return segment_recover(seg, -1, index_interval_bytes, truncated_bytes);
    }
    INVARIANT(rc != 0 || seg->next_offset >= seg->base_offset);
    return rc;
}

/* Read back after the write (INVARIANT_EXPENSIVE): the header on disk at
 * position is the one appended. True when the read itself fails (an I/O
 * error is reported where the data is read for real). */
static bool header_reads_back(const segment *seg, int64_t position, const batch_header *h)
{
    batch_header back;
    int rc = segment_read_header(seg, position, &back);
    if (rc == ST_EIO)
        return true;
    return rc == 0 && back.base_offset == h->base_offset && back.batch_length == h->batch_length &&
           back.last_offset_delta == h->last_offset_delta && back.max_timestamp == h->max_timestamp;
}

int segment_append(segment *seg, const uint8_t *data, size_t len, const batch_header *header,
                   int32_t index_interval_bytes)
{
    if (len != batch_total_bytes(header) || !fits_segment(seg, seg->size_bytes, header))
        return ST_EINVAL;
    /* the cleaner appends batches it read from disk: offsets that go
     * backwards there are corrupt data, not a broken invariant */
    if (header->base_offset < seg->next_offset || header->base_offset < seg->base_offset)
        return ST_ECORRUPT;
    INVARIANT(seg->size_bytes >= 0 && seg->log_fd >= 0);
    /* what goes to disk is the batch the header describes */
    INVARIANT_EXPENSIVE(load_i64(data + BATCH_OFFSET_BASE_OFFSET) == header->base_offset &&
                        load_i32(data + BATCH_OFFSET_LAST_OFFSET_DELTA) == header->last_offset_delta &&
                        load_i32(data + BATCH_OFFSET_LENGTH) == header->batch_length);
    segment saved = *seg;
    int64_t position = seg->size_bytes;
    size_t written = 0;
    int rc = 0;
    while (written < len) {
        ssize_t n = pwrite(seg->log_fd, data + written, len - written, (off_t)(position + (int64_t)written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("log", "segment write failed base_offset=%" PRId64 " errno=%d",
                      seg->base_offset, errno);
            rc = ST_EIO;
            goto out;
        }
        written += (size_t)n;
    }
    seg->log_dirty = true;
    rc = account_batch(seg, position, header, index_interval_bytes, true);
    if (rc == 0) {
        seg->size_bytes = position + (int64_t)len;
        INVARIANT(seg->next_offset == batch_last_offset(header) + 1);
        INVARIANT_EXPENSIVE(header_reads_back(seg, position, header));
    }
out:
    if (rc != 0) {
        /* restore the counters and cut the files back to what they were */
        seg->offset_count = saved.offset_count;
        seg->time_count = saved.time_count;
        seg->next_offset = saved.next_offset;
        seg->max_timestamp_ms = saved.max_timestamp_ms;
        seg->max_timestamp_offset = saved.max_timestamp_offset;
        seg->bytes_since_index_entry = saved.bytes_since_index_entry;
        if (ftruncate(seg->log_fd, (off_t)position) != 0 ||
            ftruncate(seg->index_fd, (off_t)(seg->offset_count * SEGMENT_OFFSET_ENTRY_BYTES)) != 0 ||
            ftruncate(seg->time_index_fd, (off_t)(seg->time_count * SEGMENT_TIME_ENTRY_BYTES)) != 0)
            log_error("log", "could not cut back a failed append base_offset=%" PRId64, seg->base_offset);
        rc = rc == ST_ENOMEM ? rc : ST_EIO;
        INVARIANT(seg->next_offset == saved.next_offset && seg->size_bytes == saved.size_bytes);
    }
    return rc;
}

int segment_find_offset(const segment *seg, int64_t offset, int64_t *position, batch_header *header)
{
    INVARIANT(offset >= 0);
    *position = seg->size_bytes;
    if (offset >= seg->next_offset)
        return ST_ENOTFOUND;
    int64_t relative = offset > seg->base_offset ? offset - seg->base_offset : 0;
    int64_t at = segment_index_lookup_offset(seg, relative);
    INVARIANT(at >= 0 && (at < seg->size_bytes || seg->size_bytes == 0));
    while (at < seg->size_bytes) {
        int rc = segment_read_header(seg, at, header);
        if (rc != 0)
            return rc == ST_EIO ? rc : ST_ECORRUPT;
        if (batch_last_offset(header) >= offset) {
            INVARIANT(at < seg->size_bytes);
            *position = at;
            return 0;
        }
        at += (int64_t)batch_total_bytes(header);
    }
    return ST_ENOTFOUND;
}

int segment_find_timestamp(const segment *seg, int64_t timestamp_ms, int64_t min_offset,
                           batch_header *header)
{
    if (seg->max_timestamp_ms < timestamp_ms)
        return ST_ENOTFOUND;
    int64_t start = seg->base_offset + segment_index_lookup_time(seg, timestamp_ms);
    if (start < min_offset)
        start = min_offset;
    int64_t position;
    int rc = segment_find_offset(seg, start, &position, header);
    while (rc == 0) {
        if (header->max_timestamp >= timestamp_ms)
            return 0;
        position += (int64_t)batch_total_bytes(header);
        if (position >= seg->size_bytes)
            return ST_ENOTFOUND;
        rc = segment_read_header(seg, position, header);
        if (rc != 0 && rc != ST_EIO)
            rc = ST_ECORRUPT;
    }
    return rc;
}

bool segment_index_full(const segment *seg)
{
    return seg->offset_count >= seg->offset_entries_max || seg->time_count >= seg->time_entries_max;
}

int segment_seal(segment *seg)
{
    if (seg->max_timestamp_ms < 0)
        return 0;
    INVARIANT(seg->max_timestamp_offset >= seg->base_offset);
    return segment_index_push_time(seg, seg->max_timestamp_ms,
                                   (int32_t)(seg->max_timestamp_offset - seg->base_offset), true);
}

int segment_flush(segment *seg)
{
    int fds[3] = {seg->log_fd, seg->index_fd, seg->time_index_fd};
    bool *dirty[3] = {&seg->log_dirty, &seg->index_dirty, &seg->time_index_dirty};
    for (int i = 0; i < 3; i++) {
        if (!*dirty[i])
            continue;
        if (fdatasync(fds[i]) != 0) {
            log_error("log", "fsync failed base_offset=%" PRId64 " errno=%d", seg->base_offset, errno);
            return ST_EIO;
        }
        *dirty[i] = false;
    }
    INVARIANT(!seg->log_dirty && !seg->index_dirty && !seg->time_index_dirty);
    return 0;
}

void segment_close(segment *seg)
{
    if (seg == NULL)
        return;
    int fds[3] = {seg->log_fd, seg->index_fd, seg->time_index_fd};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(seg->offset_entries);
    free(seg->time_entries);
    free(seg);
}

int segment_delete(const char *dir, segment *seg)
{
    static const char *const suffixes[3] = {".log", ".index", ".timeindex"};
    int64_t base_offset = seg->base_offset;
    segment_close(seg);
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char path[PATH_MAX];
        if (segment_path(path, dir, base_offset, suffixes[i]) != 0)
            return ST_EINVAL;
        if (unlink(path) != 0 && errno != ENOENT) {
            log_error("log", "unlink failed path=%s errno=%d", path, errno);
            rc = ST_EIO;
        }
    }
    return rc;
}
