/*
 * admin_util.c - helpers shared by the metadata and admin API handlers
 * (admin_apis.h): arena strings and duplicate detection.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/proto/admin_apis.h"

proto_str admin_message(broker_request *req, const char *fmt, ...)
{
    char text[ADMIN_ERROR_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return proto_str_null();
    size_t len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    char *copy = proto_arena_alloc(&req->arena, len + 1);
    if (!copy)
        return proto_str_null();
    memcpy(copy, text, len);
    copy[len] = '\0';
    return (proto_str){copy, (int32_t)len};
}

char *admin_cstr(broker_request *req, proto_str s, size_t max_len)
{
    if (s.len < 0 || (size_t)s.len > max_len)
        return NULL;
    if (s.len > 0 && memchr(s.ptr, '\0', (size_t)s.len) != NULL)
        return NULL;
    char *copy = proto_arena_alloc(&req->arena, (size_t)s.len + 1);
    if (!copy)
        return NULL;
    if (s.len > 0)
        memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = '\0';
    return copy;
}

typedef struct named_index {
    int type;      /* discriminator compared first (0 when unused) */
    proto_str name;
    int32_t index;
} named_index;

static int compare_named(const void *a, const void *b)
{
    const named_index *p = a, *q = b;
    if (p->type != q->type)
        return p->type < q->type ? -1 : 1;
    const proto_str *x = &p->name, *y = &q->name;
    if (x->len < 0 || y->len < 0)
        return (x->len >= 0) - (y->len >= 0);
    size_t n = (size_t)(x->len < y->len ? x->len : y->len);
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

bool *admin_duplicates(broker_request *req, const void *items, int32_t count, size_t stride,
                       size_t name_offset, long type_offset)
{
    size_t n = count > 0 ? (size_t)count : 0;
    bool *dup = proto_arena_alloc(&req->arena, n ? n * sizeof(bool) : 1);
    if (!dup || n < 2)
        return dup;
    /* Sort (type, name, index) triples: O(n log n) even for a hostile
     * request with many thousands of names. */
    named_index *sorted = proto_arena_alloc(&req->arena, n * sizeof *sorted);
    if (!sorted)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *item = (const uint8_t *)items + i * stride;
        memcpy(&sorted[i].name, item + name_offset, sizeof(proto_str));
        sorted[i].type = type_offset >= 0 ? *(const int8_t *)(item + type_offset) : 0;
        sorted[i].index = (int32_t)i;
    }
    qsort(sorted, n, sizeof *sorted, compare_named);
    for (size_t i = 1; i < n; i++) {
        if (compare_named(&sorted[i - 1], &sorted[i]) == 0) {
            dup[sorted[i - 1].index] = true;
            dup[sorted[i].index] = true;
        }
    }
    return dup;
}

bool admin_array(broker_request *req, proto_array *arr, const proto_struct *elem, int32_t count)
{
    return proto_array_alloc(&req->arena, arr, elem, count) == 0;
}

bool admin_replicas_valid(const proto_array *broker_ids, int32_t node_id, char *why, size_t whylen)
{
    const proto_int32 *ids = broker_ids->items;
    if (broker_ids->count == 1 && ids[0].value == node_id)
        return true;
    snprintf(why, whylen, "replicas must be exactly [%d] on this single-node cluster, got %d "
                          "broker id(s)%s%d",
             (int)node_id, (int)(broker_ids->count < 0 ? 0 : broker_ids->count),
             broker_ids->count > 0 ? " starting with " : "",
             broker_ids->count > 0 ? (int)ids[0].value : 0);
    if (broker_ids->count <= 0)
        snprintf(why, whylen, "replicas must be exactly [%d] on this single-node cluster, got none",
                 (int)node_id);
    return false;
}

bool admin_broker_name_ok(proto_str name, int32_t node_id)
{
    if (name.len == 0)
        return true;
    char text[16];
    if (!proto_str_copy(name, text, sizeof text))
        return false;
    char *end = NULL;
    long long id = strtoll(text, &end, 10);
    return end != text && *end == '\0' && text[0] != '+' && text[0] != '-' && text[0] != ' ' &&
           id == node_id;
}
