/* batch_header.c - record batch v2 header parsing, CRC and the broker's
 * header rewrites (layout in batch.h). */
#include "broker/log/batch.h"

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"

int batch_header_parse(const uint8_t *data, size_t len, batch_header *out)
{
    if (len < BATCH_OFFSET_MAGIC + 1)
        return ST_ETRUNCATED;
    out->base_offset = load_i64(data + BATCH_OFFSET_BASE_OFFSET);
    out->batch_length = load_i32(data + BATCH_OFFSET_LENGTH);
    out->partition_leader_epoch = load_i32(data + BATCH_OFFSET_LEADER_EPOCH);
    out->magic = (int8_t)data[BATCH_OFFSET_MAGIC];
    if (out->magic != 2)
        return out->magic == 0 || out->magic == 1 ? ST_EUNSUPPORTED : ST_ECORRUPT;
    if (out->batch_length < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD)
        return ST_ECORRUPT;
    if (len < BATCH_HEADER_BYTES || len - BATCH_LOG_OVERHEAD < (size_t)out->batch_length)
        return ST_ETRUNCATED;
    out->crc = (uint32_t)load_i32(data + BATCH_OFFSET_CRC);
    out->attributes = load_i16(data + BATCH_OFFSET_ATTRIBUTES);
    out->last_offset_delta = load_i32(data + BATCH_OFFSET_LAST_OFFSET_DELTA);
    out->base_timestamp = load_i64(data + BATCH_OFFSET_BASE_TIMESTAMP);
    out->max_timestamp = load_i64(data + BATCH_OFFSET_MAX_TIMESTAMP);
    out->producer_id = load_i64(data + BATCH_OFFSET_PRODUCER_ID);
    out->producer_epoch = load_i16(data + BATCH_OFFSET_PRODUCER_EPOCH);
    out->base_sequence = load_i32(data + BATCH_OFFSET_BASE_SEQUENCE);
    out->record_count = load_i32(data + BATCH_OFFSET_RECORD_COUNT);
    if (out->last_offset_delta < 0 || out->record_count < 0)
        return ST_ECORRUPT;
    return 0;
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
