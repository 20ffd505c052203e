/*
 * tail_scan.h - exactly-once resume (issue 4 item 4): where a flow resumes a
 * partition is read from the TARGET partition itself, never from a saved
 * position. The target may also hold local records and records mirrored from
 * other regions, so the scan walks backwards from the high watermark in
 * chunks until it meets the last record one of whose strait.src values names
 * this flow's source region (and the same partition: the last value, or an
 * earlier one when another region relayed the source's record, see
 * docs/architecture.md "Mirroring between more than two regions"); the flow resumes the source
 * at that record's source offset + 1, or at the source's log start when the
 * target holds no such record.
 *
 * The scan is written against a reader callback so that unit tests drive it
 * with a fake record list; target_tail.c supplies the librdkafka reader.
 */
#ifndef STRAIT_MIRROR_TAIL_SCAN_H
#define STRAIT_MIRROR_TAIL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Records read per backward step at first; each further step doubles, up to
 * the maximum, so a target full of local records costs O(log n) round trips. */
#define MIRROR_TAIL_CHUNK_RECORDS 1000
#define MIRROR_TAIL_CHUNK_RECORDS_MAX 1000000

/* strait.src values before the last one a record's chain keeps for the scan
 * (one a region it went through). */
#define MIRROR_TAIL_EARLIER_MAX 16

typedef struct mirror_tail_record {
    int64_t offset;          /* target offset */
    const void *provenance;  /* the last strait.src value, NULL if the record has none */
    size_t provenance_size;
    /* Identity naming with three regions or more: a record relayed to this
     * target through another region also carries the values of the regions
     * before (its origin first). It holds the source's record as much as a
     * direct copy does, so it counts for the scan too. */
    int earlier_count;
    const void *earlier[MIRROR_TAIL_EARLIER_MAX];
    size_t earlier_size[MIRROR_TAIL_EARLIER_MAX];
} mirror_tail_record;

typedef void (*mirror_tail_visit_fn)(void *visit_arg, const mirror_tail_record *record);

/* Reads the target records with offsets in [start, end), in increasing offset
 * order (gaps allowed), calling visit for each. 0 or ST_E*. */
typedef int (*mirror_tail_read_fn)(void *read_arg, int64_t start, int64_t end,
                                   mirror_tail_visit_fn visit, void *visit_arg);

typedef struct mirror_tail_result {
    bool found;
    int64_t source_offset;   /* of the last record copied from the source partition */
    int64_t target_offset;   /* where it sits in the target */
} mirror_tail_result;

/* True (and *source_offset set) if record holds a record of source_region's
 * partition (its last strait.src value names it, or an earlier one). */
bool mirror_tail_match(const mirror_tail_record *record, const char *source_region,
                       int32_t partition, int64_t *source_offset);

/* Scans [log_start, high_watermark) of one target partition backwards. */
int mirror_tail_scan(int64_t log_start, int64_t high_watermark, const char *source_region,
                     int32_t partition, mirror_tail_read_fn read, void *read_arg,
                     mirror_tail_result *out);

/* ---- librdkafka reader (target_tail.c) ---- */

typedef struct mirror_target_reader {
    rd_kafka_t *consumer;    /* target cluster, no group, enable.partition.eof=true */
    const char *topic;
    int32_t partition;
    int timeout_ms;          /* per read call */
} mirror_target_reader;

/* mirror_tail_read_fn over a librdkafka consumer (arg: mirror_target_reader). */
int mirror_target_read(void *read_arg, int64_t start, int64_t end, mirror_tail_visit_fn visit,
                       void *visit_arg);

/* Low and high watermark of a target partition, asking the leader. */
int mirror_target_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                             int timeout_ms, int64_t *low, int64_t *high);

#endif
