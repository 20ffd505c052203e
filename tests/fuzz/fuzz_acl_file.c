/*
 * fuzz_acl_file.c - libFuzzer target for the broker's ACL file
 * (`strait-acls`, format in security/acl_file.c), decoded by
 * acl_file_decode.
 *
 * Input: one mode byte, then the file's bytes. Mode odd: the last four bytes
 * are replaced by the right CRC-32C first, so the fuzzer reaches the
 * bindings instead of stopping at the checksum; mode even: the bytes as
 * they are. Checked: a refused file is ST_ECORRUPT, ST_ECRC
 * or ST_EUNSUPPORTED with a reason and leaves the store it was loaded into
 * exactly as it was; a decoded store holds only bindings acl_binding_check
 * accepts, and encoded again and decoded again it is the same store.
 * Seeds: tests/fuzz/corpus/acl_file/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/limits.h"
#include "security/acl.h"
#include "security/acl_file.h"
#include "support.h"

/* A store holding one binding, to see that a refused file changes nothing. */
static acl_store *store_with_one_binding(void)
{
    acl_store *s = acl_store_new();
    FUZZ_CHECK(s != NULL, "memory for a store");
    acl_binding b;
    memset(&b, 0, sizeof b);
    b.resource_type = ACL_RESOURCE_TOPIC;
    b.pattern_type = ACL_PATTERN_LITERAL;
    b.operation = ACL_OP_READ;
    b.permission = ACL_PERMISSION_ALLOW;
    snprintf(b.resource_name, sizeof b.resource_name, "before");
    snprintf(b.principal, sizeof b.principal, "User:before");
    snprintf(b.host, sizeof b.host, "*");
    char why[256];
    FUZZ_CHECK(acl_store_add(s, &b, why, sizeof why) == 0, "the fixture binding is valid");
    return s;
}

static bool same_store(const acl_store *a, const acl_store *b)
{
    if (acl_store_count(a) != acl_store_count(b))
        return false;
    for (size_t i = 0; i < acl_store_count(a); i++)
        if (memcmp(acl_store_get(a, i), acl_store_get(b, i), sizeof(acl_binding)) != 0)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t input_size)
{
    if (input_size < 1 || input_size - 1 > LIMIT_ACL_FILE_BYTES)
        return 0; /* acl_file_load refuses a file that large before decoding */
    size_t size = input_size - 1;
    uint8_t *data = malloc(size ? size : 1);
    FUZZ_CHECK(data != NULL, "memory for the input");
    memcpy(data, input + 1, size);
    if ((input[0] & 1) && size >= 4) {
        uint32_t crc = crc32c(0, data, size - 4);
        data[size - 4] = (uint8_t)(crc >> 24);
        data[size - 3] = (uint8_t)(crc >> 16);
        data[size - 2] = (uint8_t)(crc >> 8);
        data[size - 1] = (uint8_t)crc;
    }
    acl_store *into = store_with_one_binding();
    char why[512] = "";
    int rc = acl_file_decode(data, size, into, why, sizeof why);
    free(data);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT || rc == ST_ECRC || rc == ST_EUNSUPPORTED,
                   "a bad ACL file is corrupt, a checksum mismatch or another version");
        FUZZ_CHECK(why[0] != '\0', "a refusal says why");
        FUZZ_CHECK(acl_store_count(into) == 1 &&
                       strcmp(acl_store_get(into, 0)->principal, "User:before") == 0,
                   "a refused file changes nothing");
        acl_store_free(into);
        return 0;
    }
    for (size_t i = 0; i < acl_store_count(into); i++)
        FUZZ_CHECK(acl_binding_check(acl_store_get(into, i), why, sizeof why) == 0,
                   "every decoded binding is one a store accepts");
    buf again;
    buf_init(&again, LIMIT_ACL_FILE_BYTES);
    FUZZ_CHECK(acl_file_encode(into, &again) == 0, "a decoded store encodes");
    acl_store *back = acl_store_new();
    FUZZ_CHECK(back != NULL, "memory for a store");
    FUZZ_CHECK(acl_file_decode(again.data, again.len, back, why, sizeof why) == 0,
               "an encoded store decodes");
    FUZZ_CHECK(same_store(into, back), "the same bindings after encode and decode");
    acl_store_free(back);
    buf_free(&again);
    acl_store_free(into);
    return 0;
}
