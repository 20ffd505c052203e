/*
 * test_codec.c - the generic codec: every API in proto_apis round-trips its
 * request and response at every implemented version (values generated from
 * the schema itself), known byte vectors decode as the clients send them,
 * and hostile input fails cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "broker/proto/api.h"
#include "broker/proto/codec.h"
#include "broker/proto/dispatch.h"
#include "common/error.h"
#include "common/limits.h"

/* Fills every field present at version with a value derived from *seed. */
static void fill_struct(const proto_struct *s, int16_t version, bool flexible, void *out,
                        proto_arena *a, int *seed, int depth);

static void fill_field(const proto_field *f, int16_t version, bool flexible, void *base,
                       proto_arena *a, int *seed, int depth)
{
    void *p = (uint8_t *)base + f->offset;
    int v = ++*seed;
    switch (f->type) {
    case PT_BOOL: *(bool *)p = (v & 1) != 0; break;
    case PT_INT8: *(int8_t *)p = (int8_t)v; break;
    case PT_INT16: *(int16_t *)p = (int16_t)(v * 3); break;
    case PT_UINT16: *(uint16_t *)p = (uint16_t)(v * 5); break;
    case PT_INT32: *(int32_t *)p = v * 1000003; break;
    case PT_UINT32: *(uint32_t *)p = (uint32_t)v * 2654435761u; break;
    case PT_INT64: *(int64_t *)p = (int64_t)v * 1000000007LL; break;
    case PT_FLOAT64: *(double *)p = v / 4.0; break;
    case PT_UUID: memset(p, v, sizeof(proto_uuid)); break;
    case PT_STRING:
    case PT_BYTES:
    case PT_RECORDS: {
        char *text = proto_arena_alloc(a, 32);
        int n = snprintf(text, 32, "value-%d", v);
        if (f->type == PT_STRING)
            *(proto_str *)p = (proto_str){text, n};
        else if (f->type == PT_BYTES)
            *(proto_bytes *)p = (proto_bytes){(uint8_t *)text, n};
        else
            *(proto_records *)p = (proto_records){.ptr = (uint8_t *)text, .len = n};
        break;
    }
    case PT_ARRAY: {
        proto_array *arr = p;
        assert_int_equal(proto_array_alloc(a, arr, f->element, depth < 3 ? 2 : 1), 0);
        for (int32_t i = 0; i < arr->count; i++)
            fill_struct(f->element, version, flexible,
                        (uint8_t *)arr->items + (size_t)i * f->element->size, a, seed, depth + 1);
        break;
    }
    case PT_STRUCT: fill_struct(f->element, version, flexible, p, a, seed, depth + 1); break;
    }
}

static void fill_struct(const proto_struct *s, int16_t version, bool flexible, void *out,
                        proto_arena *a, int *seed, int depth)
{
    for (int i = 0; i < s->field_count; i++) {
        const proto_field *f = &s->fields[i];
        if (version < f->min_version || version > f->max_version)
            continue;
        if (f->tag >= 0 && !flexible)
            continue;
        fill_field(f, version, flexible, out, a, seed, depth);
    }
}

/* encode(x) == encode(decode(encode(x))) and decode consumes every byte. */
static void round_trip(const proto_struct *s, int16_t version, bool flexible, const char *what)
{
    proto_arena a;
    proto_arena_init(&a, LIMIT_DECODE_ARENA_BYTES);
    void *value = proto_arena_alloc(&a, s->size);
    int seed = 0;
    fill_struct(s, version, flexible, value, &a, &seed, 0);

    proto_out first, second;
    proto_out_init(&first, 1 << 20);
    proto_out_init(&second, 1 << 20);
    proto_encode(&first, s, version, flexible, value);
    assert_true(buf_ok(&first.mem));

    void *decoded = proto_arena_alloc(&a, s->size);
    reader r;
    reader_init(&r, first.mem.data, first.mem.len);
    int rc = proto_decode(&r, s, version, flexible, decoded, &a);
    if (rc != 0 || reader_remaining(&r) != 0)
        fail_msg("%s v%d: decode rc=%d field=%s remaining=%zu", what, version, rc,
                 r.what ? r.what : "-", reader_remaining(&r));
    proto_encode(&second, s, version, flexible, decoded);
    if (first.mem.len != second.mem.len ||
        (first.mem.len > 0 && memcmp(first.mem.data, second.mem.data, first.mem.len) != 0))
        fail_msg("%s v%d: re-encoding differs (%zu vs %zu bytes)", what, version, first.mem.len,
                 second.mem.len);

    /* Every strict prefix must fail to decode or leave fields unread: never crash. */
    for (size_t cut = 0; cut < first.mem.len; cut += 1 + first.mem.len / 64) {
        proto_arena scratch;
        proto_arena_init(&scratch, 1 << 20);
        void *partial = proto_arena_alloc(&scratch, s->size);
        reader_init(&r, first.mem.data, cut);
        proto_decode(&r, s, version, flexible, partial, &scratch);
        assert_true(!reader_ok(&r) || reader_remaining(&r) == 0);
        proto_arena_free(&scratch);
    }
    proto_out_free(&first);
    proto_out_free(&second);
    proto_arena_free(&a);
}

static void every_api_round_trips(void **state)
{
    (void)state;
    for (int i = 0; i < proto_api_count; i++) {
        const proto_api *api = proto_apis[i];
        for (int16_t v = api->min_version; v <= api->max_version; v++) {
            bool flexible = v >= api->flexible_min;
            char what[96];
            snprintf(what, sizeof what, "%s request", api->name);
            round_trip(api->request, v, flexible, what);
            snprintf(what, sizeof what, "%s response", api->name);
            round_trip(api->response, v, flexible, what);
        }
    }
}

static void api_table_sorted_and_sane(void **state)
{
    (void)state;
    for (int i = 0; i < proto_api_count; i++) {
        const proto_api *api = proto_apis[i];
        assert_true(api->min_version <= api->max_version);
        assert_non_null(api->handle);
        if (i > 0)
            assert_true(proto_apis[i - 1]->key < api->key);
        assert_ptr_equal(proto_api_find(api->key), api);
    }
    assert_null(proto_api_find(9999));
}

/* ApiVersions v3 request body as librdkafka 2.0.2 sends it (after header v2):
 * compact string "librdkafka", compact string "2.0.2", no tags. */
static void api_versions_v3_known_bytes(void **state)
{
    (void)state;
    const proto_api *api = proto_api_find(18);
    assert_non_null(api);
    static const uint8_t body[] = {11, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a',
                                   6,  '2', '.', '0', '.', '2', 0};
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    void *req = proto_arena_alloc(&a, api->request->size);
    reader r;
    reader_init(&r, body, sizeof body);
    assert_int_equal(proto_decode(&r, api->request, 3, true, req, &a), 0);
    assert_int_equal(reader_remaining(&r), 0);
    const proto_str *name = req; /* first field: client_software_name */
    assert_true(proto_str_eq(name[0], "librdkafka"));
    assert_true(proto_str_eq(name[1], "2.0.2"));
    proto_arena_free(&a);
}

/* Hostile counts and lengths: rejected before any allocation they imply. */
static void hostile_lengths(void **state)
{
    (void)state;
    const proto_api *api = proto_api_find(3); /* Metadata: topics array first */
    assert_non_null(api);
    static const uint8_t huge_count[] = {0x7f, 0xff, 0xff, 0xff, 0, 1, 'a'};
    static const uint8_t negative_count[] = {0xff, 0xff, 0xff, 0xf0};
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    void *req = proto_arena_alloc(&a, api->request->size);
    reader r;
    reader_init(&r, huge_count, sizeof huge_count);
    assert_int_not_equal(proto_decode(&r, api->request, 1, false, req, &a), 0);
    assert_true(a.used < 4096);
    reader_init(&r, negative_count, sizeof negative_count);
    assert_int_not_equal(proto_decode(&r, api->request, 1, false, req, &a), 0);
    /* Flexible: compact length with a 5-byte varint claiming 2^32-2 bytes. */
    static const uint8_t compact_huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};
    const proto_api *av = proto_api_find(18);
    void *avreq = proto_arena_alloc(&a, av->request->size);
    reader_init(&r, compact_huge, sizeof compact_huge);
    assert_int_not_equal(proto_decode(&r, av->request, 3, true, avreq, &a), 0);
    proto_arena_free(&a);
}

/* docs/api-support.md lists exactly the advertised table. */
static void api_support_doc_matches_table(void **state)
{
    (void)state;
    FILE *f = fopen(STRAIT_SOURCE_DIR "/docs/api-support.md", "r");
    assert_non_null(f);
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        int key, min, max;
        char name[64];
        int fields = sscanf(line, "| %d | %63s | %d-%d |", &key, name, &min, &max);
        if (fields < 3)
            continue;
        if (fields == 3)
            max = min; /* a single version: "| 60 | DescribeCluster | 0 |" */
        const proto_api *api = proto_api_find((int16_t)key);
        if (!api)
            fail_msg("docs/api-support.md lists key %d (%s) which the broker does not offer", key, name);
        if (strcmp(api->name, name) != 0 || api->min_version != min || api->max_version != max)
            fail_msg("docs/api-support.md says %s %d-%d, table says %s %d-%d", name, min, max,
                     api->name, api->min_version, api->max_version);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, proto_api_count);
}

/* The request header's client_id: -1 is null, a length below -1 is
 * malformed (as every other string, codec.c), and the failure names the
 * field and the byte offset where decoding stopped. */
static void request_header_client_id(void **state)
{
    (void)state;
    proto_arena a;
    proto_arena_init(&a, 1 << 20);
    proto_request_header h;
    const proto_api *api;
    void *body;
    proto_decode_failure failure;
    /* ApiVersions v0, correlation id 7, then the client_id length */
    uint8_t frame[] = {0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff};
    assert_int_equal(proto_request_decode(frame, sizeof frame, &a, &h, &api, &body, &failure),
                     PROTO_DECODE_OK);
    assert_null(h.client_id.ptr);
    assert_int_equal(h.client_id.len, -1);

    static const int16_t below[] = {-2, -100, INT16_MIN};
    for (size_t i = 0; i < sizeof below / sizeof below[0]; i++) {
        frame[8] = (uint8_t)((uint16_t)below[i] >> 8);
        frame[9] = (uint8_t)((uint16_t)below[i] & 0xff);
        assert_int_equal(proto_request_decode(frame, sizeof frame, &a, &h, &api, &body, &failure),
                         PROTO_DECODE_MALFORMED);
        assert_string_equal(failure.field, "client_id");
        assert_int_equal(failure.error, ST_ECORRUPT);
        assert_int_equal(failure.offset_bytes, 10); /* just after the length */
    }

    /* client_id longer than the frame: stops where the client_id bytes start */
    static const uint8_t cut_client_id[] = {0, 18, 0, 0, 0, 0, 0, 7, 0, 200, 'a', 'b'};
    assert_int_equal(proto_request_decode(cut_client_id, sizeof cut_client_id, &a, &h, &api,
                                          &body, &failure),
                     PROTO_DECODE_MALFORMED);
    assert_string_equal(failure.field, "client_id");
    assert_int_equal(failure.error, ST_ETRUNCATED);
    assert_int_equal(failure.offset_bytes, 10);

    /* Metadata v1 whose one topic name claims 50 bytes and has 5: the body
     * starts at 12 (client_id "ab"), the name's bytes at 12 + 4 + 2 = 18 */
    static const uint8_t cut_topic[] = {0, 3, 0, 1, 0, 0, 0, 1, 0, 2, 'a', 'b',
                                        0, 0, 0, 1, 0, 50, 's', 'h', 'o', 'r', 't'};
    assert_int_equal(proto_request_decode(cut_topic, sizeof cut_topic, &a, &h, &api, &body,
                                          &failure),
                     PROTO_DECODE_MALFORMED);
    assert_non_null(failure.field);
    assert_int_equal(failure.offset_bytes, 18);
    proto_arena_free(&a);
}

static void arena_ceiling(void **state)
{
    (void)state;
    proto_arena a;
    proto_arena_init(&a, 1000);
    assert_non_null(proto_arena_alloc(&a, 500));
    assert_null(proto_arena_alloc(&a, 600));
    assert_non_null(proto_arena_alloc(&a, 400));
    proto_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_table_sorted_and_sane), cmocka_unit_test(every_api_round_trips),
        cmocka_unit_test(api_versions_v3_known_bytes), cmocka_unit_test(hostile_lengths),
        cmocka_unit_test(arena_ceiling), cmocka_unit_test(api_support_doc_matches_table),
        cmocka_unit_test(request_header_client_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
