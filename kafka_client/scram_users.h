/*
 * scram_users.h - SASL/SCRAM users through the Kafka APIs
 * DescribeUserScramCredentials (50) and AlterUserScramCredentials (51) on a
 * kafka_client connection: what `strait users` runs.
 *
 * An upsertion carries a fresh random salt and SaltedPassword =
 * PBKDF2-HMAC-SHA-256/512(password, salt, iterations) computed here; the
 * password never leaves the process. Mechanism codes on the wire are
 * Kafka's: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
 */
#ifndef STRAIT_KAFKA_CLIENT_SCRAM_USERS_H
#define STRAIT_KAFKA_CLIENT_SCRAM_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/scram_apis.h"
#include "kafka_client/kafka_client.h"
#include "security/scram_store.h"

/* Longest broker error message kept, bytes (longer ones are cut). */
#define KAFKA_USERS_MESSAGE_MAX 512
/* Credentials kept per described user (Kafka has two mechanisms). */
#define KAFKA_USERS_CREDENTIALS_MAX 8

typedef struct kafka_user_credential {
    int8_t mechanism_code; /* Kafka's: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512, other = unknown */
    int32_t iterations;
} kafka_user_credential;

typedef struct kafka_user_description {
    char user[SCRAM_USER_MAX + 1];
    int16_t error_code;              /* Kafka's; 0 = described */
    char error_message[KAFKA_USERS_MESSAGE_MAX];
    int credential_count;
    kafka_user_credential credentials[KAFKA_USERS_CREDENTIALS_MAX];
} kafka_user_description;

typedef struct kafka_users_description {
    int16_t error_code;              /* for the whole request (CLUSTER_AUTHORIZATION_FAILED) */
    char error_message[KAFKA_USERS_MESSAGE_MAX];
    kafka_user_description *users;   /* malloc'ed, count of them */
    size_t count;
} kafka_users_description;

typedef struct kafka_user_result {
    char user[SCRAM_USER_MAX + 1];
    int16_t error_code;
    char error_message[KAFKA_USERS_MESSAGE_MAX];
} kafka_user_result;

typedef struct kafka_users_alteration {
    kafka_user_result *results;      /* malloc'ed, count of them, in the broker's order */
    size_t count;
} kafka_users_alteration;

/* One change: an upsertion (password set) or a deletion. */
typedef struct kafka_user_change {
    const char *user;
    scram_mechanism mechanism;
    bool deletion;
    int32_t iterations;              /* upsertion: SCRAM_ITERATIONS_MIN..MAX */
    const char *password;            /* upsertion */
    size_t password_len;
} kafka_user_change;

/* "SCRAM-SHA-512" for a Kafka mechanism code, "UNKNOWN" otherwise. */
const char *kafka_users_mechanism_name(int8_t code);

/* Describes users (count 0: every user). */
enum kafka_client_failure kafka_users_describe(kafka_client *c, const char *const *users,
                                               int count, kafka_users_description *out,
                                               char *err, size_t errlen);
/* Applies changes in one request. */
enum kafka_client_failure kafka_users_alter(kafka_client *c, const kafka_user_change *changes,
                                            int count, kafka_users_alteration *out, char *err,
                                            size_t errlen);

/* The request struct of changes (deletions, then upsertions, each in the
 * given order) with arrays, salts and salted passwords in arena. 0,
 * ST_EINVAL (a bad user, mechanism or iteration count), ST_ENOMEM or ST_EIO
 * (no randomness). */
int kafka_users_alter_request(const kafka_user_change *changes, int count, proto_arena *arena,
                              alter_request *out);

/* From a decoded response to the plain answers (strings copied and cut to
 * their buffers). 0 or ST_ENOMEM. */
int kafka_users_describe_answer(const describe_response *response, kafka_users_description *out);
int kafka_users_alter_answer(const alter_response *response, kafka_users_alteration *out);

/* Decodes a response frame (kafka_client_decode_response) of API 50 / 51 at
 * version and converts it: what the fuzz target feeds. 0, or an ST_E*
 * error with err saying why. */
int kafka_users_describe_parse(int16_t version, int32_t correlation_id, const uint8_t *frame,
                               size_t len, kafka_users_description *out, char *err,
                               size_t errlen);
int kafka_users_alter_parse(int16_t version, int32_t correlation_id, const uint8_t *frame,
                            size_t len, kafka_users_alteration *out, char *err, size_t errlen);

void kafka_users_description_free(kafka_users_description *d);
void kafka_users_alteration_free(kafka_users_alteration *a);

#endif
