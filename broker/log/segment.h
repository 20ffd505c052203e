/*
 * segment.h - one log segment: the .log file of whole record batches, its
 * sparse offset index (.index) and time index (.timeindex). Private to the
 * broker/log module; partition_log.c drives it.
 *
 * Files are named by the segment's base offset, 20 digits zero-padded:
 * 00000000000000000000.log / .index / .timeindex.
 *
 * .log: record batches v2 exactly as appended (layout in batch.h), back to
 * back. Offsets within a segment increase: each batch's base offset is the
 * previous batch's last offset + 1 as appended, or larger in a segment the
 * log cleaner rewrote (removed batches leave gaps); the first is >= the
 * file's base.
 *
 * .index: fixed 8-byte entries, big-endian, strictly increasing in both
 * fields; an entry is added before a batch once more than
 * index.interval.bytes were written since the last one (Kafka's rule):
 *
 *   OFFSET SIZE FIELD
 *        0    4 relativeOffset  batch base offset - segment base offset
 *        4    4 position        byte position of that batch in the .log file
 *
 * .timeindex: fixed 12-byte entries, big-endian, added with an .index entry
 * (and when the segment is sealed or flushed) whenever the segment's maximum
 * timestamp grew past the last entry's:
 *
 *   OFFSET SIZE FIELD
 *        0    8 timestamp       largest batch maxTimestamp so far (ms)
 *        8    4 relativeOffset  base offset - segment base of the first
 *                               batch whose maxTimestamp equals it
 *
 * Meaning of a time entry (T, R): every batch before base+R has a max
 * timestamp < T, so a search for the first batch with maxTimestamp >= t may
 * start at the entry with the largest T <= t.
 *
 * The entries are kept in memory (vectors) for lookups and appended to the
 * files. An index file that is missing, not a whole number of entries, out of
 * order, or pointing past the log is rebuilt from the log.
 *
 * Runs on the event-loop thread of the owning partition log; not thread-safe.
 */
#ifndef STRAIT_SEGMENT_H
#define STRAIT_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"

#define SEGMENT_OFFSET_ENTRY_BYTES 8
#define SEGMENT_TIME_ENTRY_BYTES 12
/* "<20 digits>.timeindex" plus the terminator */
#define SEGMENT_FILE_NAME_BYTES 32

typedef struct segment_offset_entry {
    int32_t relative_offset;
    int32_t position;
} segment_offset_entry;

typedef struct segment_time_entry {
    int64_t timestamp_ms;
    int32_t relative_offset;
} segment_time_entry;

typedef struct segment {
    int64_t base_offset;          /* from the file name */
    int64_t next_offset;          /* last offset of the last batch + 1; base_offset when empty */
    int64_t size_bytes;           /* bytes of whole batches in .log; writes go here */
    int64_t max_timestamp_ms;     /* largest batch maxTimestamp, -1 when none */
    int64_t max_timestamp_offset; /* base offset of the first batch with it */
    int64_t created_ms;           /* wall clock at creation or open (segment.ms) */
    int64_t bytes_since_index_entry;
    int log_fd;
    int index_fd;
    int time_index_fd;
    bool log_dirty;               /* written since the last fsync */
    bool index_dirty;
    bool time_index_dirty;
    bool index_missing;           /* an index file did not exist at open: rebuild */
    size_t offset_entries_max;    /* from segment.index.bytes */
    size_t time_entries_max;
    segment_offset_entry *offset_entries; /* in memory copy of .index */
    size_t offset_count;
    size_t offset_capacity;
    segment_time_entry *time_entries;     /* in memory copy of .timeindex */
    size_t time_count;
    size_t time_capacity;
} segment;

/* Writes "<20-digit base offset><suffix>" into name (SEGMENT_FILE_NAME_BYTES). */
void segment_file_name(char *name, int64_t base_offset, const char *suffix);

/* Number of the 20 decimal digits at text[0..20) (no sign, no overflow). */
bool segment_name_digits(const char *text, int64_t *offset);

/* Parses exactly "<20 digits><suffix>" (segments, indexes, snapshots) into
 * *offset; false for any other name. */
bool segment_file_name_parse(const char *name, const char *suffix, int64_t *offset);

/* Creates a new empty segment (its files must not exist). index_bytes_max is
 * segment.index.bytes. Returns 0 or ST_EEXISTS / ST_EIO / ST_ENOMEM. */
int segment_create(const char *dir, int64_t base_offset, int32_t index_bytes_max, int64_t now_ms,
                   segment **out);

/* Opens an existing segment's files (index files are created if missing)
 * without reading them: size_bytes is the .log file size, next_offset the base
 * offset. Follow with segment_recover or segment_load. */
int segment_open(const char *dir, int64_t base_offset, int32_t index_bytes_max, int64_t now_ms,
                 segment **out);

/* Full scan: checks every batch (header, CRC, offsets increasing; the first
 * batch >= the file's base offset and >= expected_offset, the previous
 * segment's next offset, or -1 when unknown), truncates the file
 * at the first bad batch, and rebuilds both indexes in memory and on disk.
 * *truncated_bytes gets the bytes cut off (0 when the log was whole). */
int segment_recover(segment *seg, int64_t expected_offset, int32_t index_interval_bytes,
                    int64_t *truncated_bytes);

/* Trusts data below the recovery point: loads both index files, checks them,
 * and scans the batch headers after the last index entry (at most about
 * index.interval.bytes) to find the next offset and maximum timestamp, also
 * checking their CRCs when check_tail_crc (the last segment, where a torn or
 * damaged write would be). Falls back to segment_recover when an index is
 * missing or inconsistent or the tail does not parse. */
int segment_load(segment *seg, bool check_tail_crc, int32_t index_interval_bytes,
                 int64_t *truncated_bytes);

/* Appends one batch (already stamped with its offsets) at size_bytes, adding
 * index entries per index_interval_bytes. On a failed write the file is cut
 * back and ST_EIO returned; the segment is unchanged. */
int segment_append(segment *seg, const uint8_t *data, size_t len, const batch_header *header,
                   int32_t index_interval_bytes);

/* Reads and checks the batch header at position (pread of 61 bytes through
 * the reader): magic 2, sane lengths, batch within size_bytes. Returns 0,
 * ST_ECORRUPT / ST_ETRUNCATED, or ST_EIO. */
int segment_read_header(const segment *seg, int64_t position, batch_header *out);

/* Position of the first batch whose last offset >= offset (index lookup, then
 * a header scan). Returns 0 with *position and *header, or ST_ENOTFOUND when
 * no batch in the segment reaches offset (*position = size_bytes). */
int segment_find_offset(const segment *seg, int64_t offset, int64_t *position, batch_header *header);

/* First batch whose last offset >= min_offset and whose maxTimestamp >=
 * timestamp_ms (time index, then a header scan). Returns 0 with *header, or
 * ST_ENOTFOUND. */
int segment_find_timestamp(const segment *seg, int64_t timestamp_ms, int64_t min_offset,
                           batch_header *header);

/* True when another index entry cannot be added (the segment must roll). */
bool segment_index_full(const segment *seg);

/* Adds the final time index entry (on roll and close, Kafka's
 * onBecomeInactiveSegment) so the maximum timestamp survives a restart. */
int segment_seal(segment *seg);

/* fsyncs whichever of the three files were written since the last fsync.
 * Returns 0 or ST_EIO (the caller must treat the log as failed). */
int segment_flush(segment *seg);

/* Closes the files and frees the segment; NULL allowed. */
void segment_close(segment *seg);

/* Closes and unlinks the segment's files, frees it. Returns 0 or ST_EIO. */
int segment_delete(const char *dir, segment *seg);

/* Index internals shared by segment.c and segment_index.c. */
int segment_index_push_offset(segment *seg, int32_t relative_offset, int32_t position, bool write);
int segment_index_push_time(segment *seg, int64_t timestamp_ms, int32_t relative_offset, bool write);
int segment_index_rewrite(segment *seg);
int segment_index_load(segment *seg);
void segment_index_clear(segment *seg);
/* Both vectors strictly increasing (offsets in both fields, times in
 * timestamp) and the last offset entry inside the log: for assertions. */
bool segment_index_ordered(const segment *seg);
/* Position of the last offset index entry with relative offset <= rel, or 0. */
int64_t segment_index_lookup_offset(const segment *seg, int64_t relative_offset);
/* Relative offset of the last time entry with timestamp <= t, or 0. */
int64_t segment_index_lookup_time(const segment *seg, int64_t timestamp_ms);

#endif
