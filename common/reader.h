/*
 * reader.h - the one bounds-checked reader for every byte that comes from a
 * socket or a file.
 *
 * A reader is a window [pos, end) over bytes it does not own, with a sticky
 * error: once a read fails (not enough bytes, bad varint, length beyond the
 * window) every later read returns zero/empty and reader_ok() is false, so a
 * decoder can read a whole structure and check once at the end. Reads never
 * pass the end. Integers are big-endian as in the Kafka protocol; varints are
 * protobuf-style zigzag (signed) or plain unsigned LEB128.
 */
#ifndef STRAIT_READER_H
#define STRAIT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reader {
    const uint8_t *start; /* first byte of the window (for offsets in errors) */
    const uint8_t *pos;   /* next byte to read; start <= pos <= end */
    const uint8_t *end;   /* one past the last readable byte */
    int err;              /* 0 or the first ST_E* error met */
    const char *what;     /* static text naming the failed read, or NULL */
    size_t error_offset;  /* once err != 0: bytes from start to where decoding
                             stopped (the start of a read that ran past the
                             end, or just after a value found invalid) */
} reader;

void reader_init(reader *r, const void *data, size_t len);

static inline bool reader_ok(const reader *r) { return r->err == 0; }
static inline size_t reader_remaining(const reader *r) { return (size_t)(r->end - r->pos); }
static inline size_t reader_offset(const reader *r) { return (size_t)(r->pos - r->start); }

/* Marks the reader failed with err (first failure wins), names the field and
 * records the offset reached (error_offset). */
void reader_fail(reader *r, int err, const char *what);

int8_t reader_i8(reader *r);
int16_t reader_i16(reader *r);
int32_t reader_i32(reader *r);
int64_t reader_i64(reader *r);
uint32_t reader_u32(reader *r);
double reader_f64(reader *r);
/* Unsigned LEB128, at most 5 bytes for 32 bits / 10 for 64 bits. */
uint32_t reader_uvarint(reader *r);
uint64_t reader_uvarlong(reader *r);
/* Zigzag signed varints (record fields). */
int32_t reader_varint(reader *r);
int64_t reader_varlong(reader *r);

/* Returns a pointer to the next len bytes and skips them, or NULL (and fails)
 * when fewer remain. len 0 returns the current position. */
const uint8_t *reader_bytes(reader *r, size_t len);
void reader_skip(reader *r, size_t len);

/* Splits off the next len bytes as a sub-reader; fails when fewer remain. */
reader reader_sub(reader *r, size_t len);

/* Reads an array count (already decoded as int32, -1 = null) and checks it
 * against max and against the bytes that remain: each element needs at least
 * min_element_bytes, so no count can make the caller allocate beyond what was
 * actually received. Returns the count, or -1 with the reader failed. */
int32_t reader_check_count(reader *r, int64_t count, int64_t max, size_t min_element_bytes);

#endif
