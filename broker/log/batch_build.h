/*
 * batch_build.h - builds record batches v2 (layout in batch.h) from records,
 * with any codec, and iterates the records of a stored batch.
 *
 * The broker needs this for batches it writes itself (__consumer_offsets,
 * control records, compaction rewrites); tests need it to make input.
 */
#ifndef STRAIT_BATCH_BUILD_H
#define STRAIT_BATCH_BUILD_H

#include <stdint.h>

#include "broker/log/batch.h"
#include "common/buf.h"

typedef struct batch_record_header {
    const uint8_t *key;
    int32_t key_len;       /* header keys are never null */
    const uint8_t *value;
    int32_t value_len;     /* -1 = null */
} batch_record_header;

typedef struct batch_record {
    const uint8_t *key;
    int32_t key_len;       /* -1 = null */
    const uint8_t *value;
    int32_t value_len;     /* -1 = null (tombstone) */
    int64_t timestamp;     /* ms */
    int32_t offset_delta;  /* position in the batch; builders use the index when building */
    const batch_record_header *headers;
    int32_t header_count;
} batch_record;

typedef struct batch_build_params {
    int codec;               /* enum batch_codec */
    int64_t base_offset;
    int64_t producer_id;     /* -1 when not idempotent */
    int16_t producer_epoch;  /* -1 when not idempotent */
    int32_t base_sequence;   /* -1 when not idempotent */
    int16_t extra_attributes; /* BATCH_ATTR_TRANSACTIONAL / _CONTROL / _LOG_APPEND_TIME */
    int32_t partition_leader_epoch;
} batch_build_params;

/* Sets params to: no codec, base offset 0, no producer id, epoch 0. */
void batch_build_params_default(batch_build_params *p);

/* Appends one complete batch holding records[0..count) to out (CRC set).
 * Offset deltas are the record indexes. Returns 0 or ST_E*. */
int batch_build(buf *out, const batch_build_params *params, const batch_record *records,
                int32_t count);

/* Iterates the records of a validated batch (decompressing if needed). */
typedef struct batch_iter batch_iter;
int batch_iter_open(const uint8_t *data, size_t len, size_t max_decompressed_bytes, batch_iter **out);
/* Returns 1 and fills rec (pointers into the iterator's memory, valid until
 * the next call) while records remain, 0 at the end, or ST_E* on corruption.
 * rec->headers points to an internal array valid until the next call. */
int batch_iter_next(batch_iter *it, batch_record *rec);
const batch_header *batch_iter_header(const batch_iter *it);
void batch_iter_close(batch_iter *it);

#endif
