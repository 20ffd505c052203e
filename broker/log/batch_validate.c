/*
 * batch_validate.c - full validation of one record batch v2 as a producer
 * sends it (layout in batch.h), and batch_decompress.
 *
 * Order of checks, each with its error:
 *   header parses, and len is exactly one batch     ST_ECORRUPT (magic 0/1: ST_EUNSUPPORTED)
 *   CRC-32C over [21, end)                           ST_ECRC
 *   codec 0..4                                       ST_ECODEC
 *   recordCount >= 1, == lastOffsetDelta + 1, and
 *   within LIMIT_BATCH_RECORDS                       ST_ECORRUPT
 *   records section decompresses within the cap      ST_ETOOBIG / ST_ECODEC
 *   every record's framing, offset deltas strictly
 *   increasing and ending at lastOffsetDelta, no
 *   bytes after the last record                      ST_ECORRUPT
 *
 * The record walk allocates nothing (unlike the iterator, which collects
 * headers), so a hostile batch costs at most its decompressed size.
 */
#include "broker/log/batch.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/compression.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/reader.h"

/* Smallest record and smallest header in a record (see batch_build.c). */
#define VALIDATE_RECORD_MIN_BYTES 7
#define VALIDATE_HEADER_MIN_BYTES 2

/* What the walk has learnt so far. */
typedef struct validate_walk {
    int64_t base_timestamp;
    int32_t last_offset_delta;
    int64_t previous_offset_delta; /* -1 before the first record */
    int32_t records_seen;
    int64_t first_timestamp;
    int64_t max_timestamp;
} validate_walk;

int batch_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_bytes, uint8_t **out,
                     size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!compression_codec_known(codec))
        return ST_ECODEC;
    buf b;
    int rc = compression_decompress(codec, in, in_len, max_bytes, &b);
    if (rc == 0 && b.data == NULL)
        rc = buf_reserve(&b, 1) ? 0 : b.err; /* never hand out NULL for empty output */
    if (rc != 0) {
        buf_free(&b);
        return rc;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

/* Skips a length-prefixed byte string (-1 = null) whose length must be at
 * least min_len; failures stick in r. */
static void validate_skip_bytes(reader *r, int32_t min_len)
{
    int32_t len = reader_varint(r);
    if (!reader_ok(r))
        return;
    if (len < min_len)
        reader_fail(r, ST_ECORRUPT, "byte string length below minimum");
    else if (len > 0)
        reader_skip(r, (size_t)len);
}

static void validate_skip_headers(reader *body)
{
    int32_t count = reader_varint(body);
    count = reader_check_count(body, count, INT32_MAX, VALIDATE_HEADER_MIN_BYTES);
    for (int32_t i = 0; i < count && reader_ok(body); i++) {
        validate_skip_bytes(body, 0); /* header keys are never null */
        validate_skip_bytes(body, -1);
    }
}

/* Walks one record and checks its framing and offset delta. */
static int validate_record(reader *records, validate_walk *w)
{
    int32_t length = reader_varint(records);
    if (!reader_ok(records) || length < 0)
        return ST_ECORRUPT;
    reader body = reader_sub(records, (size_t)length);
    (void)reader_i8(&body); /* record attributes: unused by Kafka */
    int64_t timestamp_delta = reader_varlong(&body);
    int32_t offset_delta = reader_varint(&body);
    validate_skip_bytes(&body, -1); /* key */
    validate_skip_bytes(&body, -1); /* value */
    validate_skip_headers(&body);
    if (!reader_ok(&body) || reader_remaining(&body) != 0)
        return ST_ECORRUPT;
    if (offset_delta <= w->previous_offset_delta || offset_delta > w->last_offset_delta)
        return ST_ECORRUPT;
    /* Wrapping addition, as Kafka's long arithmetic does. */
    int64_t timestamp = (int64_t)((uint64_t)w->base_timestamp + (uint64_t)timestamp_delta);
    if (w->records_seen == 0) {
        w->first_timestamp = timestamp;
        w->max_timestamp = timestamp;
    } else if (timestamp > w->max_timestamp) {
        w->max_timestamp = timestamp;
    }
    w->previous_offset_delta = offset_delta;
    w->records_seen++;
    return 0;
}

static int validate_records(const uint8_t *section, size_t section_len, const batch_header *h,
                            batch_info *out)
{
    if ((uint64_t)h->record_count > section_len / VALIDATE_RECORD_MIN_BYTES)
        return ST_ECORRUPT; /* cannot hold that many records */
    validate_walk w = {
        .base_timestamp = h->base_timestamp,
        .last_offset_delta = h->last_offset_delta,
        .previous_offset_delta = -1,
    };
    reader records;
    reader_init(&records, section, section_len);
    for (int32_t i = 0; i < h->record_count; i++) {
        int rc = validate_record(&records, &w);
        if (rc != 0)
            return rc;
    }
    if (reader_remaining(&records) != 0 || w.previous_offset_delta != h->last_offset_delta)
        return ST_ECORRUPT;
    out->records_seen = w.records_seen;
    out->first_timestamp = w.first_timestamp;
    out->max_timestamp = w.max_timestamp;
    return 0;
}

/* Checks the header fields that need no records: CRC, codec, counts. */
static int validate_header(const uint8_t *data, size_t len, batch_header *h)
{
    int rc = batch_header_parse(data, len, h);
    if (rc == ST_EUNSUPPORTED)
        return rc;
    if (rc != 0 || batch_total_bytes(h) != len)
        return ST_ECORRUPT; /* truncated, or bytes beyond the one batch */
    if (!batch_crc_ok(data, len))
        return ST_ECRC;
    if (batch_codec_of(h) > BATCH_CODEC_ZSTD)
        return ST_ECODEC;
    /* Producers send offset deltas 0..count-1 (Kafka: "Inconsistent batch
     * offset range and record count"); an empty batch is invalid. */
    if (h->record_count < 1 || h->record_count > LIMIT_BATCH_RECORDS ||
        (int64_t)h->last_offset_delta + 1 != h->record_count)
        return ST_ECORRUPT;
    return 0;
}

static size_t validate_cap(const batch_limits *limits)
{
    size_t cap = LIMIT_BATCH_DECOMPRESSED_BYTES;
    if (limits && limits->max_decompressed_bytes > 0 && limits->max_decompressed_bytes < cap)
        cap = limits->max_decompressed_bytes;
    return cap;
}

int batch_validate(const uint8_t *data, size_t len, const batch_limits *limits, batch_info *out)
{
    memset(out, 0, sizeof *out);
    int rc = validate_header(data, len, &out->header);
    if (rc != 0)
        return rc;
    const uint8_t *section = data + BATCH_HEADER_BYTES;
    size_t section_len = len - BATCH_HEADER_BYTES;
    int codec = batch_codec_of(&out->header);
    if (codec == BATCH_CODEC_NONE)
        return validate_records(section, section_len, &out->header, out);
    buf decompressed;
    rc = compression_decompress(codec, section, section_len, validate_cap(limits), &decompressed);
    out->decompressed_bytes = decompressed.len;
    if (rc == 0) {
        static const uint8_t empty[1];
        rc = validate_records(decompressed.data ? decompressed.data : empty, decompressed.len, &out->header, out);
    }
    buf_free(&decompressed);
    return rc;
}
