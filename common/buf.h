/*
 * buf.h - a growable byte buffer with a ceiling, and the big-endian / varint
 * writers that mirror reader.h.
 *
 * Every buffer is created with its maximum size; growing past it (or failing
 * to allocate) sets a sticky error, later writes do nothing, and buf_ok()
 * turns false. The caller checks once at the end.
 */
#ifndef STRAIT_BUF_H
#define STRAIT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* len never exceeds max */
    int err;    /* 0 or the first ST_E* error */
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
void buf_reset(buf *b);
static inline bool buf_ok(const buf *b) { return b->err == 0; }

/* Makes room for extra more bytes; returns a pointer to them or NULL. */
uint8_t *buf_reserve(buf *b, size_t extra);
/* Appends len bytes (reserve + copy). */
void buf_put(buf *b, const void *data, size_t len);
void buf_put_i8(buf *b, int8_t v);
void buf_put_i16(buf *b, int16_t v);
void buf_put_i32(buf *b, int32_t v);
void buf_put_i64(buf *b, int64_t v);
void buf_put_f64(buf *b, double v);
void buf_put_uvarint(buf *b, uint64_t v);
void buf_put_varint(buf *b, int64_t v); /* zigzag */

/* Overwrites 4 bytes at pos (already written) with v: length back-patching. */
void buf_patch_i32(buf *b, size_t pos, int32_t v);

/* Big-endian stores into raw memory the caller has bounds-checked. */
void store_i16(uint8_t *p, int16_t v);
void store_i32(uint8_t *p, int32_t v);
void store_i64(uint8_t *p, int64_t v);
int16_t load_i16(const uint8_t *p);
int32_t load_i32(const uint8_t *p);
int64_t load_i64(const uint8_t *p);

/* Bytes a value takes as an unsigned / zigzag varint. */
size_t uvarint_size(uint64_t v);
size_t varint_size(int64_t v);

#endif
