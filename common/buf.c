/* buf.c - growable buffer with a ceiling (see buf.h). */
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->err = 0;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    b->err = 0;
}

uint8_t *buf_reserve(buf *b, size_t extra)
{
    if (b->err != 0)
        return NULL;
    if (extra > b->max - b->len) {
        b->err = ST_ETOOBIG;
        return NULL;
    }
    size_t need = b->len + extra;
    if (need > b->cap || b->data == NULL) {
        /* first allocation: 256 bytes, never beyond the ceiling; at least 1
         * so that an empty buffer still has a valid data pointer */
        size_t cap = b->cap ? b->cap : (b->max < 256 ? (b->max ? b->max : 1) : 256);
        while (cap < need)
            cap = cap > b->max / 2 ? b->max : cap * 2;
        uint8_t *data = realloc(b->data, cap);
        if (!data) {
            b->err = ST_ENOMEM;
            return NULL;
        }
        b->data = data;
        b->cap = cap;
    }
    return b->data + b->len;
}

void buf_put(buf *b, const void *data, size_t len)
{
    uint8_t *p = buf_reserve(b, len);
    if (!p)
        return;
    if (len)
        memcpy(p, data, len);
    b->len += len;
}

void store_i16(uint8_t *p, int16_t v)
{
    p[0] = (uint8_t)((uint16_t)v >> 8);
    p[1] = (uint8_t)v;
}

void store_i32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

void store_i64(uint8_t *p, int64_t v)
{
    store_i32(p, (int32_t)((uint64_t)v >> 32));
    store_i32(p + 4, (int32_t)(uint32_t)v);
}

int16_t load_i16(const uint8_t *p) { return (int16_t)(((uint16_t)p[0] << 8) | p[1]); }

int32_t load_i32(const uint8_t *p)
{
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]);
}

int64_t load_i64(const uint8_t *p)
{
    return (int64_t)(((uint64_t)(uint32_t)load_i32(p) << 32) | (uint32_t)load_i32(p + 4));
}

void buf_put_i8(buf *b, int8_t v) { buf_put(b, &v, 1); }

void buf_put_i16(buf *b, int16_t v)
{
    uint8_t tmp[2];
    store_i16(tmp, v);
    buf_put(b, tmp, 2);
}

void buf_put_i32(buf *b, int32_t v)
{
    uint8_t tmp[4];
    store_i32(tmp, v);
    buf_put(b, tmp, 4);
}

void buf_put_i64(buf *b, int64_t v)
{
    uint8_t tmp[8];
    store_i64(tmp, v);
    buf_put(b, tmp, 8);
}

void buf_put_f64(buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    buf_put_i64(b, (int64_t)bits);
}

void buf_put_uvarint(buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    buf_put(b, tmp, n);
}

void buf_put_varint(buf *b, int64_t v)
{
    buf_put_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void buf_patch_i32(buf *b, size_t pos, int32_t v)
{
    if (b->err == 0 && pos + 4 <= b->len)
        store_i32(b->data + pos, v);
}

size_t uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t varint_size(int64_t v) { return uvarint_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }
