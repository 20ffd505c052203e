/*
 * fuzz_kafka_client.c - libFuzzer target for what strait's own Kafka client
 * (kafka_client/, `strait users`) reads from a broker: response frames
 * decoded with the broker's tables by kafka_client_decode_response, the
 * users answers of kafka_client/scram_users.h, and the server's SCRAM
 * messages (security/scram_client.h).
 *
 * Input: one mode byte, then the bytes. Modes (the byte modulo 6):
 *   0 an ApiVersions v0 response frame (correlation id 7, as every mode)
 *   1 a SaslHandshake v1 response frame
 *   2 a SaslAuthenticate response frame; the next byte picks v0, v1 or v2
 *   3 a DescribeUserScramCredentials v0 response -> kafka_users_describe_parse
 *   4 an AlterUserScramCredentials v0 response -> kafka_users_alter_parse
 *   5 a server-first-message, a NUL byte, a server-final-message, answered
 *     by a SCRAM-SHA-256 client whose nonce is "fuzznonce" (password "pw")
 * Checked: every answer is 0 or an ST_E* error with a message; a parsed
 * answer's strings are NUL-terminated inside their buffers and its counts
 * within their bounds; SCRAM answers 0, ST_ECORRUPT or ST_EINVAL, never
 * anything else.
 * Seeds: tests/fuzz/corpus/kafka_client/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <string.h>

#include "broker/proto/api_versions.h"
#include "broker/proto/sasl_apis.h"
#include "common/error.h"
#include "kafka_client/kafka_client.h"
#include "kafka_client/scram_users.h"
#include "security/scram_client.h"
#include "support.h"

#define CORRELATION_ID 7

static bool is_error(int rc)
{
    return rc == ST_ECORRUPT || rc == ST_ETRUNCATED || rc == ST_ENOMEM || rc == ST_ETOOBIG ||
           rc == ST_EUNSUPPORTED;
}

static void frame(int16_t key, int16_t version, const uint8_t *data, size_t size)
{
    union {
        api_versions_response versions;
        sasl_handshake_response handshake;
        sasl_authenticate_response authenticate;
    } response;
    memset(&response, 0, sizeof response);
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    char err[512] = "";
    int rc = kafka_client_decode_response(key, version, CORRELATION_ID, data, size, &response,
                                          &arena, err, sizeof err);
    FUZZ_CHECK(rc == 0 || (is_error(rc) && err[0] != '\0'), "a frame: 0 or an error with why");
    proto_arena_free(&arena);
}

static void users(int mode, const uint8_t *data, size_t size)
{
    char err[512] = "";
    if (mode == 3) {
        kafka_users_description d;
        int rc = kafka_users_describe_parse(0, CORRELATION_ID, data, size, &d, err, sizeof err);
        FUZZ_CHECK(rc == 0 || (is_error(rc) && err[0] != '\0'), "describe: 0 or an error");
        if (rc != 0)
            return;
        FUZZ_CHECK(strlen(d.error_message) < sizeof d.error_message, "describe message bounded");
        for (size_t i = 0; i < d.count; i++) {
            FUZZ_CHECK(strlen(d.users[i].user) < sizeof d.users[i].user, "a user bounded");
            FUZZ_CHECK(strlen(d.users[i].error_message) < sizeof d.users[i].error_message,
                       "a user's message bounded");
            FUZZ_CHECK(d.users[i].credential_count >= 0 &&
                           d.users[i].credential_count <= KAFKA_USERS_CREDENTIALS_MAX,
                       "credentials bounded");
            for (int k = 0; k < d.users[i].credential_count; k++)
                FUZZ_CHECK(kafka_users_mechanism_name(d.users[i].credentials[k].mechanism_code)
                               != NULL, "a mechanism name");
        }
        kafka_users_description_free(&d);
        return;
    }
    kafka_users_alteration a;
    int rc = kafka_users_alter_parse(0, CORRELATION_ID, data, size, &a, err, sizeof err);
    FUZZ_CHECK(rc == 0 || (is_error(rc) && err[0] != '\0'), "alter: 0 or an error");
    if (rc != 0)
        return;
    for (size_t i = 0; i < a.count; i++) {
        FUZZ_CHECK(strlen(a.results[i].user) < sizeof a.results[i].user, "a user bounded");
        FUZZ_CHECK(strlen(a.results[i].error_message) < sizeof a.results[i].error_message,
                   "a message bounded");
    }
    kafka_users_alteration_free(&a);
}

static void scram(const uint8_t *data, size_t size)
{
    const char *message = (const char *)data;
    const char *split = memchr(message, '\0', size);
    size_t first_len = split ? (size_t)(split - message) : size;
    scram_client c;
    char out[SCRAM_CLIENT_MESSAGE_MAX], why[256] = "";
    size_t len = 0;
    FUZZ_CHECK(scram_client_first(&c, SCRAM_SHA_256, "user", "fuzznonce", out, sizeof out,
                                  &len) == 0, "client-first");
    int rc = scram_client_final(&c, "pw", 2, message, first_len, out, sizeof out, &len, why,
                                sizeof why);
    FUZZ_CHECK(rc == 0 || (rc == ST_ECORRUPT && why[0] != '\0'),
               "server-first: 0 or ST_ECORRUPT with why");
    if (rc != 0 || !split)
        return;
    FUZZ_CHECK(len == strlen(out) && strncmp(out, "c=biws,r=fuzznonce", 18) == 0,
               "a client-final-message");
    rc = scram_client_verify(&c, split + 1, size - first_len - 1, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == ST_ECORRUPT || rc == ST_EINVAL,
               "server-final: 0, ST_ECORRUPT or ST_EINVAL");
    scram_client_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 6;
    data++;
    size--;
    switch (mode) {
    case 0: frame(18, 0, data, size); break;
    case 1: frame(17, 1, data, size); break;
    case 2:
        if (size >= 1)
            frame(36, (int16_t)(data[0] % 3), data + 1, size - 1);
        break;
    case 3:
    case 4: users(mode, data, size); break;
    default: scram(data, size); break;
    }
    return 0;
}
