/*
 * codec.c - the generic Kafka message codec: decode and encode any struct
 * described by a proto_struct table (see codec.h), in classic or flexible
 * encoding.
 *
 * Wire encodings per type (classic | flexible):
 *   STRING   int16 length, -1 = null      | uvarint length+1, 0 = null
 *   BYTES    int32 length, -1 = null      | uvarint length+1, 0 = null
 *   RECORDS  as nullable BYTES
 *   ARRAY    int32 count, -1 = null       | uvarint count+1, 0 = null
 *   every struct in a flexible version ends with a tagged-field section:
 *            uvarint count, then per field: uvarint tag, uvarint size, data
 */
#include "broker/proto/codec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/limits.h"

/* ---- primitive array elements ------------------------------------------ */

static const proto_field int32_element_fields[] = {PF_I32(proto_int32, value, 0, PV_MAX, 0)};
const proto_struct proto_int32_element = {.name = "int32", .size = sizeof(proto_int32),
                                          .fields = int32_element_fields, .field_count = 1,
                                          .primitive = true};

static const proto_field string_element_fields[] = {PF_STR(proto_string, value, 0, PV_MAX)};
const proto_struct proto_string_element = {.name = "string", .size = sizeof(proto_string),
                                           .fields = string_element_fields, .field_count = 1,
                                           .primitive = true};

/* ---- arena ------------------------------------------------------------ */

typedef struct proto_arena_block {
    struct proto_arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) uint8_t data[];
} proto_arena_block;

#define ARENA_BLOCK_BYTES 8192

void proto_arena_init(proto_arena *a, size_t max)
{
    a->blocks = NULL;
    a->used = 0;
    a->max = max;
}

void *proto_arena_alloc(proto_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (size > a->max - a->used)
        return NULL;
    proto_arena_block *b = a->blocks;
    if (!b || b->size - b->used < size) {
        size_t block_size = size > ARENA_BLOCK_BYTES ? size : ARENA_BLOCK_BYTES;
        b = malloc(sizeof *b + block_size);
        if (!b)
            return NULL;
        b->size = block_size;
        b->used = 0;
        b->next = a->blocks;
        a->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void proto_arena_free(proto_arena *a)
{
    proto_arena_block *b = a->blocks;
    while (b) {
        proto_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->blocks = NULL;
    a->used = 0;
}

int proto_array_alloc(proto_arena *a, proto_array *arr, const proto_struct *elem, int32_t count)
{
    arr->items = NULL;
    arr->count = 0;
    if (count < 0)
        return ST_EINVAL;
    if (count == 0)
        return 0;
    if ((size_t)count > (a->max - a->used) / elem->size)
        return ST_ETOOBIG;
    arr->items = proto_arena_alloc(a, (size_t)count * elem->size);
    if (!arr->items)
        return ST_ENOMEM;
    arr->count = count;
    return 0;
}

/* ---- strings ---------------------------------------------------------- */

proto_str proto_str_c(const char *s)
{
    if (!s)
        return proto_str_null();
    return (proto_str){s, (int32_t)strlen(s)};
}

bool proto_str_eq(proto_str a, const char *b)
{
    if (a.len < 0 || !b)
        return false;
    size_t n = strlen(b);
    return (size_t)a.len == n && memcmp(a.ptr, b, n) == 0;
}

bool proto_str_copy(proto_str s, char *dst, size_t dstlen)
{
    if (s.len < 0 || (size_t)s.len >= dstlen)
        return false;
    if (s.len)
        memcpy(dst, s.ptr, (size_t)s.len);
    dst[s.len] = '\0';
    return true;
}

/* ---- field helpers ------------------------------------------------------ */

static bool field_present(const proto_field *f, int16_t version)
{
    return version >= f->min_version && version <= f->max_version;
}

static bool field_nullable(const proto_field *f, int16_t version)
{
    return f->nullable_min != PV_NEVER && version >= f->nullable_min;
}

static void *field_ptr(void *base, const proto_field *f) { return (uint8_t *)base + f->offset; }
static const void *field_cptr(const void *base, const proto_field *f)
{
    return (const uint8_t *)base + f->offset;
}

static size_t min_size_depth(const proto_struct *s, int16_t version, bool flexible, int depth);

static size_t field_min_size(const proto_field *f, int16_t version, bool flexible, int depth)
{
    switch (f->type) {
    case PT_BOOL:
    case PT_INT8: return 1;
    case PT_INT16:
    case PT_UINT16: return 2;
    case PT_INT32:
    case PT_UINT32: return 4;
    case PT_INT64:
    case PT_FLOAT64: return 8;
    case PT_UUID: return 16;
    case PT_STRING: return flexible ? 1 : 2;
    case PT_BYTES:
    case PT_RECORDS:
    case PT_ARRAY: return flexible ? 1 : 4;
    case PT_STRUCT: return min_size_depth(f->element, version, flexible, depth + 1);
    }
    return 1;
}

static size_t min_size_depth(const proto_struct *s, int16_t version, bool flexible, int depth)
{
    if (depth > LIMIT_SCHEMA_DEPTH)
        return 1;
    size_t total = flexible && !s->primitive ? 1 : 0;
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (f->tag >= 0 || !field_present(f, version))
            continue;
        total += field_min_size(f, version, flexible, depth);
    }
    return total;
}

size_t proto_min_size(const proto_struct *s, int16_t version, bool flexible)
{
    return min_size_depth(s, version, flexible, 0);
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct decode_ctx {
    int16_t version;
    bool flexible;
    proto_arena *arena;
} decode_ctx;

static int decode_struct(reader *r, const proto_struct *s, const decode_ctx *c, void *out, int depth);

/* Reads a length/count: classic int16/int32 (-1 = null) or flexible uvarint
 * N+1 (0 = null). Returns -1 for null, -2 for invalid. */
static int64_t read_length(reader *r, bool flexible, bool wide)
{
    if (flexible) {
        uint32_t n = reader_uvarint(r);
        return (int64_t)n - 1;
    }
    int64_t n = wide ? reader_i32(r) : reader_i16(r);
    return n < -1 ? -2 : n;
}

static void set_default(void *out, const proto_field *f, int16_t version)
{
    void *p = field_ptr(out, f);
    switch (f->type) {
    case PT_BOOL: *(bool *)p = f->default_value != 0; break;
    case PT_INT8: *(int8_t *)p = (int8_t)f->default_value; break;
    case PT_INT16: *(int16_t *)p = (int16_t)f->default_value; break;
    case PT_UINT16: *(uint16_t *)p = (uint16_t)f->default_value; break;
    case PT_INT32: *(int32_t *)p = (int32_t)f->default_value; break;
    case PT_UINT32: *(uint32_t *)p = (uint32_t)f->default_value; break;
    case PT_INT64: *(int64_t *)p = f->default_value; break;
    case PT_FLOAT64: *(double *)p = 0; break;
    case PT_UUID: memset(p, 0, sizeof(proto_uuid)); break;
    case PT_STRING: *(proto_str *)p = (proto_str){NULL, f->nullable_min != PV_NEVER ? -1 : 0}; break;
    case PT_BYTES: *(proto_bytes *)p = (proto_bytes){NULL, f->nullable_min != PV_NEVER ? -1 : 0}; break;
    case PT_RECORDS: *(proto_records *)p = (proto_records){.ptr = NULL, .len = -1}; break;
    case PT_ARRAY: *(proto_array *)p = (proto_array){NULL, f->nullable_min != PV_NEVER ? -1 : 0}; break;
    case PT_STRUCT: (void)version; break; /* zeroed by the allocator */
    }
}

static int decode_field(reader *r, const proto_field *f, const decode_ctx *c, void *out, int depth)
{
    void *p = field_ptr(out, f);
    bool flexible = c->flexible;
    switch (f->type) {
    case PT_BOOL: *(bool *)p = reader_i8(r) != 0; break;
    case PT_INT8: *(int8_t *)p = reader_i8(r); break;
    case PT_INT16: *(int16_t *)p = reader_i16(r); break;
    case PT_UINT16: *(uint16_t *)p = (uint16_t)reader_i16(r); break;
    case PT_INT32: *(int32_t *)p = reader_i32(r); break;
    case PT_UINT32: *(uint32_t *)p = reader_u32(r); break;
    case PT_INT64: *(int64_t *)p = reader_i64(r); break;
    case PT_FLOAT64: *(double *)p = reader_f64(r); break;
    case PT_UUID: {
        const uint8_t *b = reader_bytes(r, 16);
        if (b)
            memcpy(p, b, 16);
        break;
    }
    case PT_STRING:
    case PT_BYTES:
    case PT_RECORDS: {
        int64_t n = read_length(r, flexible, f->type != PT_STRING);
        if (!reader_ok(r))
            break;
        if (n == -2 || (n == -1 && !field_nullable(f, c->version))) {
            reader_fail(r, ST_ECORRUPT, f->name);
            break;
        }
        const uint8_t *data = n > 0 ? reader_bytes(r, (size_t)n) : NULL;
        if (!reader_ok(r)) {
            r->what = f->name;
            break;
        }
        if (f->type == PT_STRING)
            *(proto_str *)p = (proto_str){(const char *)data, (int32_t)n};
        else if (f->type == PT_BYTES)
            *(proto_bytes *)p = (proto_bytes){data, (int32_t)n};
        else
            *(proto_records *)p = (proto_records){.ptr = data, .len = (int32_t)n};
        break;
    }
    case PT_ARRAY: {
        int64_t n = read_length(r, flexible, true);
        if (!reader_ok(r))
            break;
        proto_array *arr = p;
        if (n == -1 && field_nullable(f, c->version)) {
            *arr = (proto_array){NULL, -1};
            break;
        }
        size_t elem_min = min_size_depth(f->element, c->version, flexible, depth + 1);
        if (n < 0 || reader_check_count(r, n, INT32_MAX, elem_min) < 0) {
            reader_fail(r, ST_ECORRUPT, f->name);
            r->what = f->name;
            break;
        }
        if (proto_array_alloc(c->arena, arr, f->element, (int32_t)n) != 0) {
            reader_fail(r, ST_ETOOBIG, "decode arena exhausted");
            break;
        }
        for (int32_t i = 0; i < arr->count && reader_ok(r); i++)
            decode_struct(r, f->element, c, (uint8_t *)arr->items + (size_t)i * f->element->size,
                          depth + 1);
        break;
    }
    case PT_STRUCT: decode_struct(r, f->element, c, p, depth + 1); break;
    }
    return r->err;
}

static const proto_field *find_tag(const proto_struct *s, uint32_t tag, int16_t version)
{
    for (int i = 0; i < s->field_count; i++)
        if (s->fields[i].tag >= 0 && (uint32_t)s->fields[i].tag == tag &&
            field_present(&s->fields[i], version))
            return &s->fields[i];
    return NULL;
}

static void decode_tagged(reader *r, const proto_struct *s, const decode_ctx *c, void *out, int depth)
{
    uint32_t count = reader_uvarint(r);
    if (reader_ok(r) && count > reader_remaining(r) / 2) {
        reader_fail(r, ST_ECORRUPT, "tagged field count");
        return;
    }
    for (uint32_t i = 0; i < count && reader_ok(r); i++) {
        uint32_t tag = reader_uvarint(r);
        uint32_t size = reader_uvarint(r);
        reader sub = reader_sub(r, size);
        const proto_field *f = find_tag(s, tag, c->version);
        if (!f || !reader_ok(r))
            continue; /* unknown tags are skipped, as Kafka does */
        decode_field(&sub, f, c, out, depth);
        if (!reader_ok(&sub)) {
            reader_fail(r, sub.err, f->name);
            r->error_offset = (size_t)(sub.start - r->start) + sub.error_offset; /* inside the tag */
        }
    }
}

static int decode_struct(reader *r, const proto_struct *s, const decode_ctx *c, void *out, int depth)
{
    if (depth > LIMIT_SCHEMA_DEPTH) {
        reader_fail(r, ST_ECORRUPT, "schema nesting too deep");
        return r->err;
    }
    for (int i = 0; i < s->field_count && reader_ok(r); i++) {
        const proto_field *f = &s->fields[i];
        if (!field_present(f, c->version) || (f->tag >= 0 && c->flexible)) {
            set_default(out, f, c->version);
            continue;
        }
        if (f->tag >= 0) { /* tagged field in a non-flexible version: absent */
            set_default(out, f, c->version);
            continue;
        }
        decode_field(r, f, c, out, depth);
    }
    if (c->flexible && !s->primitive && reader_ok(r))
        decode_tagged(r, s, c, out, depth);
    return r->err;
}

int proto_decode(reader *r, const proto_struct *s, int16_t version, bool flexible, void *out,
                 proto_arena *arena)
{
    decode_ctx c = {version, flexible, arena};
    return decode_struct(r, s, &c, out, 0);
}

/* ---- output -------------------------------------------------------------- */

void proto_out_init(proto_out *o, size_t max_memory_bytes)
{
    buf_init(&o->mem, max_memory_bytes);
    o->files = NULL;
    o->file_count = 0;
    o->file_capacity = 0;
    o->file_bytes = 0;
}

void proto_out_free(proto_out *o)
{
    for (int i = 0; i < o->file_count; i++)
        if (o->files[i].fd >= 0)
            close(o->files[i].fd);
    free(o->files);
    o->files = NULL;
    o->file_count = o->file_capacity = 0;
    o->file_bytes = 0;
    buf_free(&o->mem);
}

int proto_out_add_file(proto_out *o, int fd, int64_t file_position, int32_t length)
{
    if (length <= 0)
        return 0;
    if (o->file_count == o->file_capacity) {
        int cap = o->file_capacity ? o->file_capacity * 2 : 8;
        proto_file_range *files = realloc(o->files, (size_t)cap * sizeof *files);
        if (!files) {
            o->mem.err = ST_ENOMEM;
            return ST_ENOMEM;
        }
        o->files = files;
        o->file_capacity = cap;
    }
    int copy = dup(fd);
    if (copy < 0) {
        o->mem.err = ST_EIO;
        return ST_EIO;
    }
    o->files[o->file_count++] =
        (proto_file_range){o->mem.len, copy, file_position, length};
    o->file_bytes += length;
    return 0;
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct encode_ctx {
    int16_t version;
    bool flexible;
} encode_ctx;

static void encode_struct(proto_out *o, const proto_struct *s, const encode_ctx *c, const void *in,
                          int depth);

static void write_length(buf *b, bool flexible, bool wide, int64_t n)
{
    if (flexible)
        buf_put_uvarint(b, (uint64_t)(n + 1));
    else if (wide)
        buf_put_i32(b, (int32_t)n);
    else
        buf_put_i16(b, (int16_t)n);
}

static void encode_field(proto_out *o, const proto_field *f, const encode_ctx *c, const void *in,
                         int depth)
{
    const void *p = field_cptr(in, f);
    buf *b = &o->mem;
    bool nullable = field_nullable(f, c->version);
    switch (f->type) {
    case PT_BOOL: buf_put_i8(b, *(const bool *)p ? 1 : 0); break;
    case PT_INT8: buf_put_i8(b, *(const int8_t *)p); break;
    case PT_INT16: buf_put_i16(b, *(const int16_t *)p); break;
    case PT_UINT16: buf_put_i16(b, (int16_t) * (const uint16_t *)p); break;
    case PT_INT32: buf_put_i32(b, *(const int32_t *)p); break;
    case PT_UINT32: buf_put_i32(b, (int32_t) * (const uint32_t *)p); break;
    case PT_INT64: buf_put_i64(b, *(const int64_t *)p); break;
    case PT_FLOAT64: buf_put_f64(b, *(const double *)p); break;
    case PT_UUID: buf_put(b, p, 16); break;
    case PT_STRING: {
        proto_str s = *(const proto_str *)p;
        if (s.len < 0 && !nullable)
            s.len = 0; /* a non-nullable field never goes out as null */
        write_length(b, c->flexible, false, s.len);
        if (s.len > 0)
            buf_put(b, s.ptr, (size_t)s.len);
        break;
    }
    case PT_BYTES: {
        proto_bytes v = *(const proto_bytes *)p;
        if (v.len < 0 && !nullable)
            v.len = 0;
        write_length(b, c->flexible, true, v.len);
        if (v.len > 0)
            buf_put(b, v.ptr, (size_t)v.len);
        break;
    }
    case PT_RECORDS: {
        proto_records v = *(const proto_records *)p;
        if (v.len < 0 && !nullable)
            v.len = 0;
        write_length(b, c->flexible, true, v.len);
        if (v.len > 0) {
            if (v.in_file)
                proto_out_add_file(o, v.fd, v.file_position, v.len);
            else
                buf_put(b, v.ptr, (size_t)v.len);
        }
        break;
    }
    case PT_ARRAY: {
        proto_array arr = *(const proto_array *)p;
        if (arr.count < 0 && !nullable)
            arr.count = 0;
        write_length(b, c->flexible, true, arr.count);
        for (int32_t i = 0; i < arr.count; i++)
            encode_struct(o, f->element, c, (const uint8_t *)arr.items + (size_t)i * f->element->size,
                          depth + 1);
        break;
    }
    case PT_STRUCT: encode_struct(o, f->element, c, p, depth + 1); break;
    }
}

/* A tagged field is written only when it differs from its default. */
static bool tagged_is_default(const proto_field *f, const void *in)
{
    const void *p = field_cptr(in, f);
    switch (f->type) {
    case PT_BOOL: return (*(const bool *)p ? 1 : 0) == f->default_value;
    case PT_INT8: return *(const int8_t *)p == f->default_value;
    case PT_INT16: return *(const int16_t *)p == f->default_value;
    case PT_UINT16: return *(const uint16_t *)p == f->default_value;
    case PT_INT32: return *(const int32_t *)p == f->default_value;
    case PT_UINT32: return *(const uint32_t *)p == f->default_value;
    case PT_INT64: return *(const int64_t *)p == f->default_value;
    case PT_FLOAT64: return *(const double *)p == 0;
    case PT_UUID: {
        static const proto_uuid zero;
        return memcmp(p, &zero, sizeof zero) == 0;
    }
    case PT_STRING: return ((const proto_str *)p)->len <= 0 && ((const proto_str *)p)->ptr == NULL;
    case PT_BYTES: return ((const proto_bytes *)p)->len <= 0 && ((const proto_bytes *)p)->ptr == NULL;
    case PT_RECORDS: return ((const proto_records *)p)->len <= 0;
    case PT_ARRAY: return ((const proto_array *)p)->count <= 0 && ((const proto_array *)p)->items == NULL;
    case PT_STRUCT: return false;
    }
    return true;
}

static void encode_tagged(proto_out *o, const proto_struct *s, const encode_ctx *c, const void *in,
                          int depth)
{
    int count = 0;
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (f->tag >= 0 && field_present(f, c->version) && !tagged_is_default(f, in))
            count++;
    }
    buf_put_uvarint(&o->mem, (uint64_t)count);
    if (count == 0)
        return;
    /* Tagged fields are in ascending tag order in our tables. Each needs its
     * size first: encode into a scratch output, then copy. */
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (f->tag < 0 || !field_present(f, c->version) || tagged_is_default(f, in))
            continue;
        proto_out scratch;
        proto_out_init(&scratch, o->mem.max);
        encode_field(&scratch, f, c, in, depth);
        buf_put_uvarint(&o->mem, (uint64_t)f->tag);
        buf_put_uvarint(&o->mem, scratch.mem.len);
        buf_put(&o->mem, scratch.mem.data, scratch.mem.len);
        if (scratch.mem.err)
            o->mem.err = scratch.mem.err;
        proto_out_free(&scratch); /* tagged fields never carry file ranges */
    }
}

static void encode_struct(proto_out *o, const proto_struct *s, const encode_ctx *c, const void *in,
                          int depth)
{
    if (depth > LIMIT_SCHEMA_DEPTH) {
        o->mem.err = ST_ECORRUPT;
        return;
    }
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (f->tag >= 0 || !field_present(f, c->version))
            continue;
        encode_field(o, f, c, in, depth);
    }
    if (c->flexible && !s->primitive)
        encode_tagged(o, s, c, in, depth);
}

void proto_encode(proto_out *o, const proto_struct *s, int16_t version, bool flexible, const void *in)
{
    encode_ctx c = {version, flexible};
    encode_struct(o, s, &c, in, 0);
}
