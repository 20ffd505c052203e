/*
 * fuzz_request.c - libFuzzer target over the request decoder: the input is a
 * request frame (without its size prefix). Whatever decodes is encoded again
 * and decoded again; both decodes must agree byte for byte when re-encoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/proto/api.h"
#include "broker/proto/dispatch.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_arena arena;
    proto_arena_init(&arena, LIMIT_DECODE_ARENA_BYTES);
    proto_request_header header;
    const proto_api *api;
    void *body;
    proto_decode_failure failure;
    if (proto_request_decode(data, size, &arena, &header, &api, &body, &failure) ==
        PROTO_DECODE_OK) {
        proto_out first, second;
        proto_out_init(&first, 64u << 20);
        proto_out_init(&second, 64u << 20);
        proto_encode(&first, api->request, header.api_version, header.flexible, body);
        if (buf_ok(&first.mem)) {
            void *again = proto_arena_alloc(&arena, api->request->size);
            reader r;
            reader_init(&r, first.mem.data, first.mem.len);
            if (again && proto_decode(&r, api->request, header.api_version, header.flexible, again,
                                      &arena) == 0) {
                proto_encode(&second, api->request, header.api_version, header.flexible, again);
                if (second.mem.len != first.mem.len ||
                    (first.mem.len > 0 &&
                     memcmp(second.mem.data, first.mem.data, first.mem.len) != 0))
                    abort(); /* the codec disagrees with itself */
            } else if (again) {
                abort(); /* our own encoding must decode */
            }
        }
        proto_out_free(&first);
        proto_out_free(&second);
    }
    proto_arena_free(&arena);
    return 0;
}
