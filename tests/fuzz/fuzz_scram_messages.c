/*
 * fuzz_scram_messages.c - libFuzzer target for the SCRAM messages strait
 * reads itself (security/scram_exchange.h): the client-first-message parser
 * and the client-final-message check of librdkafka's doubled nonce and
 * proof.
 *
 * Input: one mode byte, then the message bytes. Mode 0: a client-first-
 * message for scram_client_first_parse. Mode 1 (SCRAM-SHA-256) and 2
 * (SCRAM-SHA-512): a server-first-message, a NUL byte, then a client-final-
 * message, for scram_final_is_doubled_nonce and scram_final_verify against
 * a fixed credential. Checked: parse results are 0 or ST_ECORRUPT, a parsed
 * user and nonce are non-empty NUL-terminated strings inside their buffers;
 * the verification answers 0 (then "v=" and base64), ST_EINVAL or
 * ST_ECORRUPT, never anything else.
 * Seeds: tests/fuzz/corpus/scram_messages/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "security/scram_exchange.h"
#include "security/scram_store.h"
#include "support.h"

static const scram_credential *credential(scram_mechanism mechanism)
{
    static scram_credential made[SCRAM_MECHANISM_COUNT];
    static bool ready[SCRAM_MECHANISM_COUNT];
    if (!ready[mechanism]) {
        static const uint8_t salt[] = "fuzz-salt";
        FUZZ_CHECK(scram_credential_derive(mechanism, "pencil", 6, salt, sizeof salt - 1, 4096,
                                           &made[mechanism]) == 0,
                   "a credential");
        ready[mechanism] = true;
    }
    return &made[mechanism];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3;
    const char *message = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        char user[SCRAM_USER_MAX + 1], nonce[256];
        size_t bare = 0;
        int rc = scram_client_first_parse(message, len, user, sizeof user, &bare, nonce,
                                          sizeof nonce);
        FUZZ_CHECK(rc == 0 || rc == ST_ECORRUPT, "client-first: 0 or ST_ECORRUPT");
        if (rc == 0) {
            FUZZ_CHECK(user[0] != '\0' && strlen(user) < sizeof user, "a user name");
            FUZZ_CHECK(nonce[0] != '\0' && strlen(nonce) < sizeof nonce, "a nonce");
            FUZZ_CHECK(bare == 3, "the bare message after the GS2 header");
        }
        return 0;
    }
    const char *split = memchr(message, '\0', len);
    if (!split)
        return 0;
    size_t server_first_len = (size_t)(split - message);
    const char *client_final = split + 1;
    size_t client_final_len = len - server_first_len - 1;
    (void)scram_final_is_doubled_nonce("rOprNGfwEbeRWgbNEkqO", message, server_first_len,
                                       client_final, client_final_len);
    const scram_credential *c = credential(mode == 1 ? SCRAM_SHA_256 : SCRAM_SHA_512);
    char server_final[256];
    static const char bare[] = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    int rc = scram_final_verify(c, bare, sizeof bare - 1, message, server_first_len, client_final,
                                client_final_len, server_final, sizeof server_final);
    FUZZ_CHECK(rc == 0 || rc == ST_EINVAL || rc == ST_ECORRUPT,
               "client-final: 0, ST_EINVAL or ST_ECORRUPT");
    if (rc == 0)
        FUZZ_CHECK(strncmp(server_final, "v=", 2) == 0, "a server signature");
    return 0;
}
