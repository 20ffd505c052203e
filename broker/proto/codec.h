/*
 * codec.h - the Kafka message codec driven by field descriptions.
 *
 * Every request and response of every API is described once, as a table of
 * fields (type, versions present, nullable-from version, tag, offset into a C
 * struct). One generic decoder and one generic encoder walk the table, so the
 * classic encoding (int16 string lengths, int32 array counts) and the flexible
 * encoding (KIP-482: compact lengths as unsigned varint N+1, tagged fields)
 * both come from the same description, as DESIGN.md §3 asks.
 *
 * Decoding points strings, bytes and record sets into the frame (no copies);
 * arrays are allocated from a per-request arena with a ceiling, and every
 * array count is checked against the bytes that remain before allocating.
 *
 * Encoding writes into a proto_out: a memory buffer plus file ranges spliced
 * in at given points, so Fetch responses send log data with sendfile.
 */
#ifndef STRAIT_PROTO_CODEC_H
#define STRAIT_PROTO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/reader.h"

#define PV_MAX INT16_MAX   /* "and every later version" */
#define PV_NEVER INT16_MAX /* nullable_min / flexible_min: never */

/* Field value types in C structs. */
typedef struct proto_str {
    const char *ptr; /* not NUL-terminated */
    int32_t len;     /* -1 = null */
} proto_str;

typedef struct proto_bytes {
    const uint8_t *ptr;
    int32_t len; /* -1 = null */
} proto_bytes;

/* Record set: decoded as bytes in the frame; encoded from memory, or from a
 * file range when in_file (then ptr is unused and the len bytes at
 * file_position of fd are sent with sendfile). Zero-initialised = empty. */
typedef struct proto_records {
    const uint8_t *ptr;
    int32_t len; /* -1 = null */
    bool in_file;
    int fd;
    int64_t file_position;
} proto_records;

typedef struct proto_array {
    void *items;   /* count elements of the element struct's size */
    int32_t count; /* -1 = null */
} proto_array;

typedef struct proto_uuid {
    uint8_t bytes[16];
} proto_uuid;

enum proto_type {
    PT_BOOL,    /* bool */
    PT_INT8,    /* int8_t */
    PT_INT16,   /* int16_t */
    PT_UINT16,  /* uint16_t */
    PT_INT32,   /* int32_t */
    PT_UINT32,  /* uint32_t */
    PT_INT64,   /* int64_t */
    PT_FLOAT64, /* double */
    PT_UUID,    /* proto_uuid */
    PT_STRING,  /* proto_str */
    PT_BYTES,   /* proto_bytes */
    PT_RECORDS, /* proto_records */
    PT_ARRAY,   /* proto_array of `element` structs */
    PT_STRUCT,  /* an inline `element` struct (no count) */
};

struct proto_struct;

typedef struct proto_field {
    const char *name;
    uint8_t type;            /* enum proto_type */
    int16_t min_version;     /* present in [min_version, max_version] */
    int16_t max_version;
    int16_t nullable_min;    /* null allowed from this version; PV_NEVER = never */
    int16_t tag;             /* >= 0: tagged field (flexible versions only); -1 otherwise */
    size_t offset;           /* offsetof() into the C struct */
    const struct proto_struct *element; /* PT_ARRAY / PT_STRUCT */
    int64_t default_value;   /* integer/bool value when absent at this version */
} proto_field;

typedef struct proto_struct {
    const char *name;
    size_t size;             /* sizeof the C struct */
    const proto_field *fields;
    int field_count;
    bool primitive;          /* element of a primitive array ([]int32, []string):
                                one field and no tagged section when flexible */
} proto_struct;

/* Elements of primitive arrays: use proto_int32_element / proto_string_element
 * as the element schema of a PF_ARRAY whose items are proto_int32 / proto_string. */
typedef struct proto_int32 {
    int32_t value;
} proto_int32;

typedef struct proto_string {
    proto_str value;
} proto_string;

extern const proto_struct proto_int32_element;
extern const proto_struct proto_string_element;

/* Shorthands for tables. S is the C struct type, m its member. */
#define PF_(S, m, t, vmin, vmax, nullmin, tagv, elem, def)                                   \
    {.name = #m, .type = (t), .min_version = (vmin), .max_version = (vmax),                 \
     .nullable_min = (nullmin), .tag = (tagv), .offset = offsetof(S, m), .element = (elem), \
     .default_value = (def)}
#define PF_BOOL(S, m, vmin, vmax, def) PF_(S, m, PT_BOOL, vmin, vmax, PV_NEVER, -1, NULL, def)
#define PF_I8(S, m, vmin, vmax, def) PF_(S, m, PT_INT8, vmin, vmax, PV_NEVER, -1, NULL, def)
#define PF_I16(S, m, vmin, vmax, def) PF_(S, m, PT_INT16, vmin, vmax, PV_NEVER, -1, NULL, def)
#define PF_I32(S, m, vmin, vmax, def) PF_(S, m, PT_INT32, vmin, vmax, PV_NEVER, -1, NULL, def)
#define PF_I64(S, m, vmin, vmax, def) PF_(S, m, PT_INT64, vmin, vmax, PV_NEVER, -1, NULL, def)
#define PF_F64(S, m, vmin, vmax) PF_(S, m, PT_FLOAT64, vmin, vmax, PV_NEVER, -1, NULL, 0)
#define PF_UUID(S, m, vmin, vmax) PF_(S, m, PT_UUID, vmin, vmax, PV_NEVER, -1, NULL, 0)
#define PF_STR(S, m, vmin, vmax) PF_(S, m, PT_STRING, vmin, vmax, PV_NEVER, -1, NULL, 0)
#define PF_NSTR(S, m, vmin, vmax, nullmin) PF_(S, m, PT_STRING, vmin, vmax, nullmin, -1, NULL, 0)
#define PF_BYTES(S, m, vmin, vmax) PF_(S, m, PT_BYTES, vmin, vmax, PV_NEVER, -1, NULL, 0)
#define PF_NBYTES(S, m, vmin, vmax, nullmin) PF_(S, m, PT_BYTES, vmin, vmax, nullmin, -1, NULL, 0)
#define PF_RECORDS(S, m, vmin, vmax) PF_(S, m, PT_RECORDS, vmin, vmax, 0, -1, NULL, 0)
#define PF_ARRAY(S, m, vmin, vmax, elem) PF_(S, m, PT_ARRAY, vmin, vmax, PV_NEVER, -1, &(elem), 0)
#define PF_NARRAY(S, m, vmin, vmax, nullmin, elem) PF_(S, m, PT_ARRAY, vmin, vmax, nullmin, -1, &(elem), 0)
#define PF_STRUCT(S, m, vmin, vmax, elem) PF_(S, m, PT_STRUCT, vmin, vmax, PV_NEVER, -1, &(elem), 0)
/* Tagged fields: present only in flexible versions within [vmin, vmax]. */
#define PF_TAGGED(S, m, t, tagv, vmin, vmax, nullmin, elem, def) PF_(S, m, t, vmin, vmax, nullmin, tagv, elem, def)

#define PROTO_STRUCT(var, S, fieldsarr) \
    const proto_struct var = {.name = #S, .size = sizeof(S), .fields = (fieldsarr), \
                              .field_count = (int)(sizeof(fieldsarr) / sizeof((fieldsarr)[0]))}

/* Per-request allocation arena: bump allocator with a ceiling; freed whole. */
typedef struct proto_arena {
    struct proto_arena_block *blocks;
    size_t used;  /* bytes handed out, over all blocks */
    size_t max;   /* ceiling (LIMIT_DECODE_ARENA_BYTES) */
} proto_arena;

void proto_arena_init(proto_arena *a, size_t max);
/* Zeroed memory, 8-byte aligned; NULL when over the ceiling or out of memory. */
void *proto_arena_alloc(proto_arena *a, size_t size);
void proto_arena_free(proto_arena *a);

/*
 * Decodes a struct of schema s at version into out (s->size bytes, zeroed by
 * the caller or by proto_arena_alloc). Fields absent at this version get
 * their default. Returns 0 or ST_E*; on error the reader names the failure.
 */
int proto_decode(reader *r, const proto_struct *s, int16_t version, bool flexible, void *out,
                 proto_arena *arena);

/* Output: memory plus spliced file ranges. */
typedef struct proto_file_range {
    size_t buf_position;   /* the range is sent after this many memory bytes */
    int fd;                /* a dup() owned by the proto_out; closed by proto_out_free */
    int64_t file_position;
    int32_t length;
} proto_file_range;

typedef struct proto_out {
    buf mem;
    proto_file_range *files;
    int file_count;
    int file_capacity;
    int64_t file_bytes;    /* total length of all file ranges */
} proto_out;

void proto_out_init(proto_out *o, size_t max_memory_bytes);
void proto_out_free(proto_out *o);
/* Total encoded length (memory + files). */
static inline int64_t proto_out_length(const proto_out *o) { return (int64_t)o->mem.len + o->file_bytes; }
/* Appends a file range at the current memory position; dup()s fd. */
int proto_out_add_file(proto_out *o, int fd, int64_t file_position, int32_t length);

/* Encodes in (a struct of schema s) at version. Errors are sticky in o->mem. */
void proto_encode(proto_out *o, const proto_struct *s, int16_t version, bool flexible, const void *in);

/* Minimum wire bytes of one s at version: bounds array counts. */
size_t proto_min_size(const proto_struct *s, int16_t version, bool flexible);

/* Helpers for handlers. */
static inline proto_str proto_str_null(void) { return (proto_str){NULL, -1}; }
proto_str proto_str_c(const char *s); /* NULL -> null string */
bool proto_str_eq(proto_str a, const char *b);
/* Copies into dst (size dstlen, NUL-terminated); returns false if it does not fit or is null. */
bool proto_str_copy(proto_str s, char *dst, size_t dstlen);
/* Allocates an array of count zeroed elements of schema elem from the arena. */
int proto_array_alloc(proto_arena *a, proto_array *arr, const proto_struct *elem, int32_t count);

#endif
