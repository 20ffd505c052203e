/*
 * producer_snapshot.h - producer-state snapshot files of a partition
 * directory: <20-digit offset>.snapshot holds the producer state
 * (producer_state.h) of every batch below that offset. Written when a segment
 * rolls (offset = the new segment's base) and when the log is closed cleanly
 * (offset = log end); on open the newest valid one at or below the recovered
 * log end is loaded and the batches after it are replayed from the log.
 *
 * File layout (our own, not Kafka's; integers big-endian):
 *
 *   OFFSET SIZE FIELD
 *        0    4 magic          "STPS"
 *        4    2 version        1
 *        6    2 reserved       0
 *        8    4 crc            CRC-32C of bytes [12, end of file)
 *       12    8 offset         equals the offset in the file name
 *       20    4 producer count N, 0 .. LIMIT_PRODUCERS_PER_PARTITION
 *       24    - N producers, each:
 *                 OFFSET SIZE FIELD
 *                      0    8 producer id        >= 0, unique in the file
 *                      8    8 last activity ms   broker wall clock
 *                     16    2 producer epoch     >= 0
 *                     18    2 batch count B      1 .. 5
 *                     20    - B batches, oldest first, 32 bytes each:
 *                              0  4 first sequence  >= 0
 *                              4  4 last sequence   first + (last offset - first offset), wrapped
 *                              8  8 first offset    > the previous batch's last offset
 *                             16  8 last offset     >= first offset, < the snapshot offset
 *                             24  8 timestamp ms    the batch's max timestamp
 *
 * The file must end exactly after the N-th producer. A file that fails any
 * of these checks is corrupt: recovery ignores it (and deletes it) and falls
 * back to an older snapshot or to the log itself.
 *
 * A write goes to <name>.tmp, is fsynced, renamed over <name>, and the
 * directory fsynced (a leftover .tmp is deleted when the log is opened).
 *
 * Runs on the event-loop thread of the log that owns the directory.
 */
#ifndef STRAIT_PRODUCER_SNAPSHOT_H
#define STRAIT_PRODUCER_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "broker/log/producer_state.h"
#include "common/buf.h"
#include "common/limits.h"

#define PRODUCER_SNAPSHOT_SUFFIX ".snapshot"
#define PRODUCER_SNAPSHOT_HEADER_BYTES 24
#define PRODUCER_SNAPSHOT_ENTRY_BYTES 20
#define PRODUCER_SNAPSHOT_BATCH_BYTES 32
#define PRODUCER_SNAPSHOT_BYTES_MAX                                 \
    (PRODUCER_SNAPSHOT_HEADER_BYTES +                               \
     (size_t)LIMIT_PRODUCERS_PER_PARTITION *                        \
         (PRODUCER_SNAPSHOT_ENTRY_BYTES + PRODUCER_BATCHES_CACHED * PRODUCER_SNAPSHOT_BATCH_BYTES))

/* Serialises ps as the snapshot at offset into out (created with a maximum of
 * at least PRODUCER_SNAPSHOT_BYTES_MAX). Returns 0 or ST_ETOOBIG/ST_ENOMEM. */
int producer_snapshot_encode(const producer_state *ps, int64_t offset, buf *out);

/* Parses a snapshot through the bounds-checked reader into ps (cleared
 * first; left empty on error). expected_offset is the file name's offset.
 * Returns 0 or ST_ECORRUPT (ST_ECRC for a checksum mismatch), ST_ENOMEM. */
int producer_snapshot_decode(const uint8_t *data, size_t len, int64_t expected_offset,
                             producer_state *ps);

/* Atomically writes dir/<offset>.snapshot. Returns 0 or ST_EIO/ST_ETOOBIG/ST_ENOMEM. */
int producer_snapshot_write(const producer_state *ps, const char *dir, int64_t offset);

/* Reads dir/<offset>.snapshot into ps. Returns 0, ST_ENOTFOUND, ST_ECORRUPT,
 * ST_ECRC, ST_EIO or ST_ENOMEM. */
int producer_snapshot_read(const char *dir, int64_t offset, producer_state *ps);

/* Offsets of the snapshot files in dir, ascending; *offsets is malloc'ed
 * (NULL when none). Returns 0 or ST_EIO/ST_ENOMEM/ST_ETOOBIG. */
int producer_snapshot_list(const char *dir, int64_t **offsets, size_t *count);

/* Unlinks dir/<offset>.snapshot (missing is fine). Returns 0 or ST_EIO. */
int producer_snapshot_delete(const char *dir, int64_t offset);

#endif
