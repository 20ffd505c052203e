/*
 * fuzz_scram_file.c - libFuzzer target for the broker's SASL users file
 * (`strait-scram-users`, format in security/scram_file.c), decoded by
 * scram_file_decode.
 *
 * Input: one mode byte, then the file's bytes. Mode odd: the last four bytes
 * are replaced by the right CRC-32C first, so the fuzzer reaches the
 * credentials instead of stopping at the checksum; mode even: the bytes as
 * they are. Checked: a refused file is ST_ECORRUPT, ST_ECRC or
 * ST_EUNSUPPORTED with a reason and leaves the store it was loaded into as
 * it was; a decoded store encodes to exactly the bytes decoded (the format
 * has one encoding per store).
 * Seeds: tests/fuzz/corpus/scram_file/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/limits.h"
#include "security/scram_file.h"
#include "security/scram_store.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t len = size - 1;
    uint8_t *file = malloc(len ? len : 1);
    FUZZ_CHECK(file != NULL, "memory for the input");
    memcpy(file, data + 1, len);
    if ((mode & 1) && len >= 4)
        store_i32(file + len - 4, (int32_t)crc32c(0, file, len - 4));
    scram_store *into = scram_store_new();
    FUZZ_CHECK(into != NULL, "memory for a store");
    scram_credential before;
    static const uint8_t salt[] = "before";
    memset(&before, 0, sizeof before);
    before.mechanism = SCRAM_SHA_256;
    before.iterations = 4096;
    before.salt_len = sizeof salt - 1;
    memcpy(before.salt, salt, before.salt_len);
    FUZZ_CHECK(scram_store_set(into, "before", &before) == 0, "a store with one user");
    char why[512] = "";
    int rc = scram_file_decode(file, len, into, why, sizeof why);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT || rc == ST_ECRC || rc == ST_EUNSUPPORTED || rc == ST_ENOMEM,
                   "a refusal is ST_ECORRUPT, ST_ECRC or ST_EUNSUPPORTED");
        FUZZ_CHECK(why[0] != '\0', "a refusal says why");
        FUZZ_CHECK(scram_store_user_count(into) == 1 && scram_store_has_user(into, "before"),
                   "a refused file changes nothing");
    } else {
        buf again;
        buf_init(&again, LIMIT_SCRAM_FILE_BYTES);
        FUZZ_CHECK(scram_file_encode(into, &again) == 0, "a decoded store encodes");
        scram_store *back = scram_store_new();
        FUZZ_CHECK(back != NULL, "memory for a store");
        FUZZ_CHECK(scram_file_decode(again.data, again.len, back, why, sizeof why) == 0,
                   "an encoded store decodes");
        FUZZ_CHECK(scram_store_user_count(back) == scram_store_user_count(into),
                   "the same users after encode and decode");
        scram_store_free(back);
        buf_free(&again);
    }
    scram_store_free(into);
    free(file);
    return 0;
}
