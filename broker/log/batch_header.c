/* batch_header.c - record batch v2 header parsing, CRC and the broker's
 * header rewrites (layout in batch.h). */
#include "broker/log/batch.h"

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/reader.h"

int batch_header_decode(const uint8_t *data, size_t len, uint64_t available, batch_header *out)
{
    reader r;
    reader_init(&r, data, len);
    out->base_offset = reader_i64(&r);
    out->batch_length = reader_i32(&r);
    out->partition_leader_epoch = reader_i32(&r);
    out->magic = reader_i8(&r);
    if (reader_ok(&r) && out->magic != 2)
        return out->magic == 0 || out->magic == 1 ? ST_EUNSUPPORTED : ST_ECORRUPT;
    out->crc = reader_u32(&r);
    out->attributes = reader_i16(&r);
    out->last_offset_delta = reader_i32(&r);
    out->base_timestamp = reader_i64(&r);
    out->max_timestamp = reader_i64(&r);
    out->producer_id = reader_i64(&r);
    out->producer_epoch = reader_i16(&r);
    out->base_sequence = reader_i32(&r);
    out->record_count = reader_i32(&r);
    if (!reader_ok(&r))
        return ST_ETRUNCATED;
    if (out->batch_length < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD || out->last_offset_delta < 0 ||
        out->record_count < 0 || out->base_offset < 0 ||
        out->base_offset > INT64_MAX - out->last_offset_delta - 1)
        return ST_ECORRUPT;
    if (batch_total_bytes(out) > available)
        return ST_ETRUNCATED;
    return 0;
}

int batch_header_parse(const uint8_t *data, size_t len, batch_header *out)
{
    return batch_header_decode(data, len, len, out);
}

uint32_t batch_crc_compute(const uint8_t *data, size_t total_bytes)
{
    return crc32c(0, data + BATCH_OFFSET_ATTRIBUTES, total_bytes - BATCH_OFFSET_ATTRIBUTES);
}

bool batch_crc_ok(const uint8_t *data, size_t total_bytes)
{
    if (total_bytes < BATCH_HEADER_BYTES)
        return false;
    return batch_crc_compute(data, total_bytes) == (uint32_t)load_i32(data + BATCH_OFFSET_CRC);
}

void batch_set_base_offset(uint8_t *data, int64_t base_offset)
{
    store_i64(data + BATCH_OFFSET_BASE_OFFSET, base_offset);
}

void batch_set_leader_epoch(uint8_t *data, int32_t epoch)
{
    store_i32(data + BATCH_OFFSET_LEADER_EPOCH, epoch);
}

void batch_set_log_append_time(uint8_t *data, size_t total_bytes, int64_t timestamp_ms)
{
    int16_t attributes = load_i16(data + BATCH_OFFSET_ATTRIBUTES);
    store_i16(data + BATCH_OFFSET_ATTRIBUTES, (int16_t)(attributes | BATCH_ATTR_LOG_APPEND_TIME));
    store_i64(data + BATCH_OFFSET_MAX_TIMESTAMP, timestamp_ms);
    store_i32(data + BATCH_OFFSET_CRC, (int32_t)batch_crc_compute(data, total_bytes));
}
