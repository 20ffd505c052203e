/*
 * batch.h - Kafka record batches (magic v2): the header layout, header parsing
 * and CRC, the fields the broker rewrites, and full validation.
 *
 * Record batch v2 on the wire and on disk (all integers big-endian):
 *
 *   OFFSET SIZE FIELD
 *        0    8 baseOffset            assigned by the broker on append
 *        8    4 batchLength           bytes after this field (total = 12 + batchLength)
 *       12    4 partitionLeaderEpoch  assigned by the broker on append
 *       16    1 magic                 must be 2
 *       17    4 crc                   CRC-32C of bytes [21, end)
 *       21    2 attributes            bits 0-2 codec, 3 timestamp type (1 = LogAppendTime),
 *                                     4 transactional, 5 control, 6 has delete horizon
 *       23    4 lastOffsetDelta
 *       27    8 baseTimestamp
 *       35    8 maxTimestamp          rewritten by the broker for LogAppendTime topics
 *       43    8 producerId            -1 when not idempotent
 *       51    2 producerEpoch
 *       53    4 baseSequence
 *       57    4 recordCount
 *       61    - records (compressed as a whole when codec != 0)
 *
 * Record (inside the records section, after decompression):
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
 *   headerCount varint, headers: [keyLength varint, key, valueLength varint, value]
 */
#ifndef STRAIT_BATCH_H
#define STRAIT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_HEADER_BYTES 61
#define BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength precede the counted part */
#define BATCH_OFFSET_BASE_OFFSET 0
#define BATCH_OFFSET_LENGTH 8
#define BATCH_OFFSET_LEADER_EPOCH 12
#define BATCH_OFFSET_MAGIC 16
#define BATCH_OFFSET_CRC 17
#define BATCH_OFFSET_ATTRIBUTES 21
#define BATCH_OFFSET_LAST_OFFSET_DELTA 23
#define BATCH_OFFSET_BASE_TIMESTAMP 27
#define BATCH_OFFSET_MAX_TIMESTAMP 35
#define BATCH_OFFSET_PRODUCER_ID 43
#define BATCH_OFFSET_PRODUCER_EPOCH 51
#define BATCH_OFFSET_BASE_SEQUENCE 53
#define BATCH_OFFSET_RECORD_COUNT 57

#define BATCH_ATTR_CODEC_MASK 0x07
#define BATCH_ATTR_LOG_APPEND_TIME 0x08
#define BATCH_ATTR_TRANSACTIONAL 0x10
#define BATCH_ATTR_CONTROL 0x20
#define BATCH_ATTR_DELETE_HORIZON 0x40

enum batch_codec {
    BATCH_CODEC_NONE = 0,
    BATCH_CODEC_GZIP = 1,
    BATCH_CODEC_SNAPPY = 2,
    BATCH_CODEC_LZ4 = 3,
    BATCH_CODEC_ZSTD = 4,
};

typedef struct batch_header {
    int64_t base_offset;
    int32_t batch_length; /* total bytes = BATCH_LOG_OVERHEAD + batch_length */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} batch_header;

static inline int batch_codec_of(const batch_header *h) { return h->attributes & BATCH_ATTR_CODEC_MASK; }
static inline int64_t batch_last_offset(const batch_header *h) { return h->base_offset + h->last_offset_delta; }
static inline size_t batch_total_bytes(const batch_header *h) { return BATCH_LOG_OVERHEAD + (size_t)h->batch_length; }

/*
 * Decodes the fixed header from data[0..len) through the reader, where
 * available is how many bytes of the batch's container (frame, segment file)
 * lie from data on: len may be just the header (a pread of 61 bytes).
 * Checks what the header alone can prove: magic 2, batchLength >= 49, offsets
 * that cannot overflow, the whole batch within available. Returns 0,
 * ST_ETRUNCATED (short header or batch: a torn tail on disk), ST_EUNSUPPORTED
 * (magic 0/1) or ST_ECORRUPT.
 */
int batch_header_decode(const uint8_t *data, size_t len, uint64_t available, batch_header *out);
/* batch_header_decode where data[0..len) holds the whole container. */
int batch_header_parse(const uint8_t *data, size_t len, batch_header *out);

/* CRC-32C over [21, total) of a batch whose header parsed. */
uint32_t batch_crc_compute(const uint8_t *data, size_t total_bytes);
bool batch_crc_ok(const uint8_t *data, size_t total_bytes);

/* Broker-side header rewrites. The CRC does not cover the first 21 bytes, so
 * base offset and leader epoch need no CRC update; the max timestamp does. */
void batch_set_base_offset(uint8_t *data, int64_t base_offset);
void batch_set_leader_epoch(uint8_t *data, int32_t epoch);
/* Sets the LogAppendTime attribute and max timestamp, recomputes the CRC. */
void batch_set_log_append_time(uint8_t *data, size_t total_bytes, int64_t timestamp_ms);

/* Limits and policy for validating a batch received from a producer. */
typedef struct batch_limits {
    size_t max_decompressed_bytes; /* LIMIT_BATCH_DECOMPRESSED_BYTES or lower */
} batch_limits;

/* Facts learnt while validating, for the log and the idempotence checks. */
typedef struct batch_info {
    batch_header header;
    int32_t records_seen;     /* equals header.record_count when valid */
    int64_t max_timestamp;    /* from the records themselves */
    int64_t first_timestamp;
    size_t decompressed_bytes; /* records section once inflated; 0 when not compressed */
} batch_info;

/*
 * Full validation of one batch as received in a Produce request: header,
 * CRC, known codec, decompression (bounded by limits), every record's
 * framing, record count, strictly increasing offset deltas ending at
 * lastOffsetDelta. Returns 0 or: ST_EUNSUPPORTED (magic 0/1), ST_ECRC,
 * ST_ECODEC (unknown codec / decompression error), ST_ETOOBIG (decompressed
 * size over the cap), ST_ECORRUPT (anything else). Never writes to data.
 */
int batch_validate(const uint8_t *data, size_t len, const batch_limits *limits, batch_info *out);

/* Decompresses a batch's records section (codec != NONE) into a new buffer of
 * at most max_bytes; *out_len gets its size. Caller frees *out. */
int batch_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_bytes,
                     uint8_t **out, size_t *out_len);

#endif
