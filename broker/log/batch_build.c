/*
 * batch_build.c - writes record batches v2 (layout in batch.h) from records
 * with any codec, and iterates the records of a stored batch.
 *
 * The builder writes the 61-byte header, then the records section (each
 * record's length is computed before it is written, so nothing is moved):
 * straight into the output when uncompressed, else into a scratch buffer that
 * is compressed into the output. Finally it patches batchLength and the CRC. The iterator reads records through the bounds-
 * checked reader; it trusts nothing it reads, but it does not check what only
 * batch_validate checks (CRC, lastOffsetDelta of the last record).
 */
#include "broker/log/batch_build.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/compression.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/reader.h"

/* Smallest record: length, attributes, timestampDelta, offsetDelta, keyLength,
 * valueLength, headerCount, one byte each. */
#define BATCH_RECORD_MIN_BYTES 7
/* Smallest header inside a record: keyLength 0 and valueLength -1. */
#define BATCH_RECORD_HEADER_MIN_BYTES 2

/* Records section handed to the compressor: never more than a batch may hold
 * decompressed, so whatever we build we can also read back. */
#define BATCH_BUILD_SECTION_MAX ((size_t)LIMIT_BATCH_DECOMPRESSED_BYTES)

static const uint8_t batch_empty_bytes[1];

void batch_build_params_default(batch_build_params *p)
{
    memset(p, 0, sizeof *p);
    p->codec = BATCH_CODEC_NONE;
    p->base_offset = 0;
    p->producer_id = -1;
    p->producer_epoch = -1;
    p->base_sequence = -1;
    p->extra_attributes = 0;
    p->partition_leader_epoch = 0;
}

/* ---- builder ---------------------------------------------------------- */

static bool build_bytes_ok(const uint8_t *data, int32_t len, int32_t min_len)
{
    return len >= min_len && (len <= 0 || data != NULL);
}

/* Checks what the caller gave us: lengths in range, pointers where bytes are. */
static int build_record_check(const batch_record *rec)
{
    if (!build_bytes_ok(rec->key, rec->key_len, -1) || !build_bytes_ok(rec->value, rec->value_len, -1))
        return ST_EINVAL;
    if (rec->header_count < 0 || (rec->header_count > 0 && rec->headers == NULL))
        return ST_EINVAL;
    for (int32_t i = 0; i < rec->header_count; i++) {
        const batch_record_header *h = &rec->headers[i];
        if (!build_bytes_ok(h->key, h->key_len, 0) || !build_bytes_ok(h->value, h->value_len, -1))
            return ST_EINVAL;
    }
    return 0;
}

static size_t build_bytes_size(int32_t len) { return varint_size(len) + (len > 0 ? (size_t)len : 0); }

/* Bytes of a record after its length varint. */
static size_t build_record_body_size(const batch_record *rec, int64_t timestamp_delta, int32_t offset_delta)
{
    size_t size = 1 + varint_size(timestamp_delta) + varint_size(offset_delta);
    size += build_bytes_size(rec->key_len) + build_bytes_size(rec->value_len);
    size += varint_size(rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++)
        size += build_bytes_size(rec->headers[i].key_len) + build_bytes_size(rec->headers[i].value_len);
    return size;
}

static void build_put_bytes(buf *b, const uint8_t *data, int32_t len)
{
    buf_put_varint(b, len);
    if (len > 0)
        buf_put(b, data, (size_t)len);
}

static int build_record(buf *b, const batch_record *rec, int64_t base_timestamp, int32_t offset_delta)
{
    int rc = build_record_check(rec);
    if (rc != 0)
        return rc;
    /* Wrapping subtraction, as Kafka's long arithmetic does. */
    int64_t timestamp_delta = (int64_t)((uint64_t)rec->timestamp - (uint64_t)base_timestamp);
    size_t body = build_record_body_size(rec, timestamp_delta, offset_delta);
    if (body > INT32_MAX)
        return ST_ETOOBIG;
    buf_put_varint(b, (int64_t)body);
    buf_put_i8(b, 0); /* record attributes: unused by Kafka */
    buf_put_varint(b, timestamp_delta);
    buf_put_varint(b, offset_delta);
    build_put_bytes(b, rec->key, rec->key_len);
    build_put_bytes(b, rec->value, rec->value_len);
    buf_put_varint(b, rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++) {
        build_put_bytes(b, rec->headers[i].key, rec->headers[i].key_len);
        build_put_bytes(b, rec->headers[i].value, rec->headers[i].value_len);
    }
    return b->err;
}

static void build_header(buf *out, const batch_build_params *params, int32_t count, int64_t base_timestamp,
                         int64_t max_timestamp)
{
    int16_t attributes = (int16_t)((params->codec & BATCH_ATTR_CODEC_MASK) |
                                   (params->extra_attributes & ~BATCH_ATTR_CODEC_MASK));
    buf_put_i64(out, params->base_offset);
    buf_put_i32(out, 0); /* batchLength, patched when the size is known */
    buf_put_i32(out, params->partition_leader_epoch);
    buf_put_i8(out, 2);
    buf_put_i32(out, 0); /* crc, patched last */
    buf_put_i16(out, attributes);
    buf_put_i32(out, count > 0 ? count - 1 : 0);
    buf_put_i64(out, base_timestamp);
    buf_put_i64(out, max_timestamp);
    buf_put_i64(out, params->producer_id);
    buf_put_i16(out, params->producer_epoch);
    buf_put_i32(out, params->base_sequence);
    buf_put_i32(out, count);
}

/* Writes records[0..count) into section; offset deltas are the indexes. */
static int build_records(buf *section, const batch_record *records, int32_t count, int64_t base_timestamp)
{
    for (int32_t i = 0; i < count; i++) {
        int rc = build_record(section, &records[i], base_timestamp, i);
        if (rc != 0)
            return rc;
    }
    return section->err;
}

/* Patches batchLength and the CRC of the batch that starts at start. */
static int build_finish(buf *out, size_t start)
{
    size_t total = out->len - start;
    if (total - BATCH_LOG_OVERHEAD > INT32_MAX)
        return ST_ETOOBIG;
    buf_patch_i32(out, start + BATCH_OFFSET_LENGTH, (int32_t)(total - BATCH_LOG_OVERHEAD));
    buf_patch_i32(out, start + BATCH_OFFSET_CRC, (int32_t)batch_crc_compute(out->data + start, total));
    return 0;
}

int batch_build(buf *out, const batch_build_params *params, const batch_record *records, int32_t count)
{
    if (params->codec < BATCH_CODEC_NONE || params->codec > BATCH_CODEC_ZSTD || count < 0 ||
        count > LIMIT_BATCH_RECORDS || (count > 0 && records == NULL))
        return ST_EINVAL;
    if (!buf_ok(out))
        return out->err;
    int64_t base_timestamp = -1, max_timestamp = -1; /* Kafka's NO_TIMESTAMP for an empty batch */
    for (int32_t i = 0; i < count; i++) {
        if (i == 0 || records[i].timestamp > max_timestamp)
            max_timestamp = records[i].timestamp;
    }
    if (count > 0)
        base_timestamp = records[0].timestamp;

    size_t start = out->len;
    int rc;
    build_header(out, params, count, base_timestamp, max_timestamp);
    if (params->codec == BATCH_CODEC_NONE) {
        rc = build_records(out, records, count, base_timestamp); /* straight into out: no copy */
    } else {
        buf section;
        buf_init(&section, BATCH_BUILD_SECTION_MAX);
        rc = build_records(&section, records, count, base_timestamp);
        if (rc == 0)
            rc = compression_compress(params->codec, section.data ? section.data : batch_empty_bytes,
                                      section.len, out);
        buf_free(&section);
    }
    if (rc == 0)
        rc = out->err;
    if (rc == 0)
        rc = build_finish(out, start);
    if (rc != 0 && out->len > start)
        out->len = start; /* no half-written batch */
    return rc;
}

/* ---- iterator --------------------------------------------------------- */

struct batch_iter {
    batch_header header;
    buf decompressed;              /* owns the records when the batch is compressed */
    reader records;                /* the records section still to read */
    int32_t index;                 /* records returned so far */
    int64_t previous_offset_delta; /* -1 before the first record */
    int err;                       /* sticky: once corrupt, always corrupt */
    batch_record_header *headers;  /* grown to the largest header count met */
    int32_t headers_capacity;
};

int batch_iter_open(const uint8_t *data, size_t len, size_t max_decompressed_bytes, batch_iter **out)
{
    *out = NULL;
    batch_header header;
    int rc = batch_header_parse(data, len, &header);
    if (rc != 0)
        return rc;
    int codec = batch_codec_of(&header);
    if (codec > BATCH_CODEC_ZSTD)
        return ST_ECODEC;
    if (header.record_count > LIMIT_BATCH_RECORDS)
        return ST_ECORRUPT;
    batch_iter *it = calloc(1, sizeof *it);
    if (!it)
        return ST_ENOMEM;
    it->header = header;
    it->previous_offset_delta = -1;
    buf_init(&it->decompressed, 0);
    const uint8_t *section = data + BATCH_HEADER_BYTES;
    size_t section_len = batch_total_bytes(&header) - BATCH_HEADER_BYTES;
    if (codec == BATCH_CODEC_NONE) {
        reader_init(&it->records, section, section_len);
    } else {
        rc = compression_decompress(codec, section, section_len, max_decompressed_bytes, &it->decompressed);
        if (rc != 0) {
            batch_iter_close(it);
            return rc;
        }
        reader_init(&it->records, it->decompressed.data ? it->decompressed.data : batch_empty_bytes,
                    it->decompressed.len);
    }
    if ((uint64_t)header.record_count > reader_remaining(&it->records) / BATCH_RECORD_MIN_BYTES) {
        batch_iter_close(it); /* cannot hold that many records */
        return ST_ECORRUPT;
    }
    *out = it;
    return 0;
}

/* Reads a length-prefixed byte string (-1 = null) from r. */
static const uint8_t *iter_read_bytes(reader *r, int32_t *len_out, int32_t min_len)
{
    int32_t len = reader_varint(r);
    *len_out = len;
    if (!reader_ok(r))
        return NULL;
    if (len < min_len) {
        reader_fail(r, ST_ECORRUPT, "byte string length below minimum");
        return NULL;
    }
    return len >= 0 ? reader_bytes(r, (size_t)len) : NULL;
}

static int iter_reserve_headers(batch_iter *it, int32_t count)
{
    if (count <= it->headers_capacity)
        return 0;
    /* count was checked against the record's remaining bytes: no record can
     * make us allocate more than 16x its own size. */
    int32_t capacity = count;
    batch_record_header *headers = realloc(it->headers, (size_t)capacity * sizeof *headers);
    if (!headers)
        return ST_ENOMEM;
    it->headers = headers;
    it->headers_capacity = capacity;
    return 0;
}

static int iter_read_headers(batch_iter *it, reader *body, batch_record *rec)
{
    int32_t count = reader_varint(body);
    count = reader_check_count(body, count, INT32_MAX, BATCH_RECORD_HEADER_MIN_BYTES);
    if (count < 0)
        return ST_ECORRUPT;
    int rc = iter_reserve_headers(it, count);
    if (rc != 0)
        return rc;
    for (int32_t i = 0; i < count && reader_ok(body); i++) {
        batch_record_header *h = &it->headers[i];
        h->key = iter_read_bytes(body, &h->key_len, 0);
        h->value = iter_read_bytes(body, &h->value_len, -1);
    }
    rec->headers = count > 0 ? it->headers : NULL;
    rec->header_count = count;
    return 0;
}

/* Parses one record (framing described in batch.h) into rec. */
static int iter_parse_record(batch_iter *it, batch_record *rec)
{
    int32_t length = reader_varint(&it->records);
    if (!reader_ok(&it->records) || length < 0)
        return ST_ECORRUPT;
    reader body = reader_sub(&it->records, (size_t)length);
    (void)reader_i8(&body); /* record attributes: unused */
    int64_t timestamp_delta = reader_varlong(&body);
    rec->offset_delta = reader_varint(&body);
    rec->key = iter_read_bytes(&body, &rec->key_len, -1);
    rec->value = iter_read_bytes(&body, &rec->value_len, -1);
    int rc = iter_read_headers(it, &body, rec);
    if (rc != 0)
        return rc;
    if (!reader_ok(&body) || reader_remaining(&body) != 0)
        return ST_ECORRUPT;
    if (it->header.attributes & BATCH_ATTR_LOG_APPEND_TIME)
        rec->timestamp = it->header.max_timestamp; /* what Kafka consumers see */
    else
        rec->timestamp = (int64_t)((uint64_t)it->header.base_timestamp + (uint64_t)timestamp_delta);
    return 0;
}

int batch_iter_next(batch_iter *it, batch_record *rec)
{
    if (it->err != 0)
        return it->err;
    if (it->index >= it->header.record_count) {
        if (reader_remaining(&it->records) != 0)
            it->err = ST_ECORRUPT; /* bytes after the last counted record */
        return it->err;
    }
    memset(rec, 0, sizeof *rec);
    int rc = iter_parse_record(it, rec);
    if (rc == 0 && (rec->offset_delta <= it->previous_offset_delta ||
                    rec->offset_delta > it->header.last_offset_delta))
        rc = ST_ECORRUPT;
    if (rc != 0) {
        it->err = rc;
        return rc;
    }
    it->previous_offset_delta = rec->offset_delta;
    it->index++;
    return 1;
}

const batch_header *batch_iter_header(const batch_iter *it) { return &it->header; }

void batch_iter_close(batch_iter *it)
{
    if (!it)
        return;
    buf_free(&it->decompressed);
    free(it->headers);
    free(it);
}
