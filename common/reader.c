/* reader.c - the bounds-checked reader (see reader.h for the contract). */
#include "common/reader.h"

#include <string.h>

#include "common/error.h"

void reader_init(reader *r, const void *data, size_t len)
{
    static const uint8_t empty[1];
    if (data == NULL) { /* an empty window; NULL + 0 is undefined in C */
        data = empty;
        len = 0;
    }
    r->start = data;
    r->pos = data;
    r->end = r->start + len;
    r->err = 0;
    r->what = NULL;
    r->error_offset = 0;
}

void reader_fail(reader *r, int err, const char *what)
{
    if (r->err == 0) {
        r->err = err;
        r->what = what;
        r->error_offset = (size_t)(r->pos - r->start);
    }
    r->pos = r->end;
}

static const uint8_t *take(reader *r, size_t len)
{
    if (r->err != 0)
        return NULL;
    if ((size_t)(r->end - r->pos) < len) {
        reader_fail(r, ST_ETRUNCATED, "fixed-size field");
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += len;
    return p;
}

int8_t reader_i8(reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t reader_i16(reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (int16_t)(((uint16_t)p[0] << 8) | p[1]) : 0;
}

uint32_t reader_u32(reader *r)
{
    const uint8_t *p = take(r, 4);
    if (!p)
        return 0;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int32_t reader_i32(reader *r) { return (int32_t)reader_u32(r); }

int64_t reader_i64(reader *r)
{
    uint64_t hi = reader_u32(r);
    uint64_t lo = reader_u32(r);
    return (int64_t)((hi << 32) | lo);
}

double reader_f64(reader *r)
{
    uint64_t bits = (uint64_t)reader_i64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

uint64_t reader_uvarlong(reader *r)
{
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const uint8_t *p = take(r, 1);
        if (!p)
            return 0;
        value |= (uint64_t)(p[0] & 0x7f) << shift;
        if ((p[0] & 0x80) == 0)
            return value;
    }
    reader_fail(r, ST_ECORRUPT, "varint longer than 10 bytes");
    return 0;
}

uint32_t reader_uvarint(reader *r)
{
    uint32_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        const uint8_t *p = take(r, 1);
        if (!p)
            return 0;
        if (shift == 28 && (p[0] & 0x70) != 0) {
            reader_fail(r, ST_ECORRUPT, "varint overflows 32 bits");
            return 0;
        }
        value |= (uint32_t)(p[0] & 0x7f) << shift;
        if ((p[0] & 0x80) == 0)
            return value;
    }
    reader_fail(r, ST_ECORRUPT, "varint longer than 5 bytes");
    return 0;
}

int32_t reader_varint(reader *r)
{
    uint32_t v = reader_uvarint(r);
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}

int64_t reader_varlong(reader *r)
{
    uint64_t v = reader_uvarlong(r);
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

const uint8_t *reader_bytes(reader *r, size_t len)
{
    if (r->err != 0)
        return NULL;
    if ((size_t)(r->end - r->pos) < len) {
        reader_fail(r, ST_ETRUNCATED, "length-prefixed field");
        return NULL;
    }
    const uint8_t *p = r->pos;
    r->pos += len;
    return p;
}

void reader_skip(reader *r, size_t len) { (void)reader_bytes(r, len); }

reader reader_sub(reader *r, size_t len)
{
    reader sub;
    const uint8_t *p = reader_bytes(r, len);
    if (!p) {
        reader_init(&sub, r->end, 0);
        sub.err = r->err;
        sub.what = r->what;
        return sub;
    }
    reader_init(&sub, p, len);
    return sub;
}

int32_t reader_check_count(reader *r, int64_t count, int64_t max, size_t min_element_bytes)
{
    if (r->err != 0)
        return -1;
    if (count < 0 || count > max) {
        reader_fail(r, ST_ETOOBIG, "array count out of range");
        return -1;
    }
    if (min_element_bytes == 0)
        min_element_bytes = 1;
    if ((uint64_t)count > reader_remaining(r) / min_element_bytes) {
        reader_fail(r, ST_ETRUNCATED, "array count exceeds remaining bytes");
        return -1;
    }
    return (int32_t)count;
}
