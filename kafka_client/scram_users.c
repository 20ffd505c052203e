/*
 * scram_users.c - DescribeUserScramCredentials and AlterUserScramCredentials
 * from the client side (scram_users.h): requests built into the broker's
 * message structs (broker/proto/scram_apis.h), the salted password derived
 * with security/scram_store.h, and the decoded answers copied into plain,
 * bounded C structs.
 */
#include "kafka_client/scram_users.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define API_KEY_DESCRIBE 50
#define API_KEY_ALTER 51

const char *kafka_users_mechanism_name(int8_t code)
{
    return code == 1 ? "SCRAM-SHA-256" : code == 2 ? "SCRAM-SHA-512" : "UNKNOWN";
}

static int8_t mechanism_code(scram_mechanism m) { return (int8_t)(m + 1); }

/* Copies a wire string into out (NUL-terminated, cut to outlen - 1; NUL
 * bytes inside become '?', so a hostile name cannot hide its tail). */
static void copy_text(proto_str s, char *out, size_t outlen)
{
    size_t len = s.len > 0 ? (size_t)s.len : 0;
    if (len >= outlen)
        len = outlen - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = s.ptr[i] == '\0' ? '?' : s.ptr[i];
    out[len] = '\0';
}

/* ---- requests -------------------------------------------------------------------- */

static int upsertion_of(const kafka_user_change *change, proto_arena *arena, upsertion *u)
{
    size_t key_bytes = scram_mechanism_key_bytes(change->mechanism);
    uint8_t *salt = proto_arena_alloc(arena, SCRAM_SALT_DEFAULT_BYTES);
    uint8_t *salted = proto_arena_alloc(arena, key_bytes);
    if (!salt || !salted)
        return ST_ENOMEM;
    if (RAND_bytes(salt, SCRAM_SALT_DEFAULT_BYTES) != 1)
        return ST_EIO;
    int rc = scram_salted_password(change->mechanism, change->password, change->password_len,
                                   salt, SCRAM_SALT_DEFAULT_BYTES, change->iterations, salted);
    if (rc != 0)
        return rc;
    u->name = proto_str_c(change->user);
    u->mechanism = mechanism_code(change->mechanism);
    u->iterations = change->iterations;
    u->salt = (proto_bytes){salt, SCRAM_SALT_DEFAULT_BYTES};
    u->salted_password = (proto_bytes){salted, (int32_t)key_bytes};
    return 0;
}

int kafka_users_alter_request(const kafka_user_change *changes, int count, proto_arena *arena,
                              alter_request *out)
{
    int deletions = 0;
    for (int i = 0; i < count; i++) {
        const kafka_user_change *ch = &changes[i];
        size_t user_len = ch->user ? strlen(ch->user) : 0;
        if (user_len == 0 || user_len > SCRAM_USER_MAX ||
            (unsigned)ch->mechanism >= SCRAM_MECHANISM_COUNT)
            return ST_EINVAL;
        if (!ch->deletion && (!ch->password || ch->iterations < SCRAM_ITERATIONS_MIN ||
                              ch->iterations > SCRAM_ITERATIONS_MAX))
            return ST_EINVAL;
        deletions += ch->deletion;
    }
    memset(out, 0, sizeof *out);
    const proto_struct *request = api_alter_user_scram_credentials.request;
    const proto_struct *deletion_schema = request->fields[0].element;
    const proto_struct *upsertion_schema = request->fields[1].element;
    if (proto_array_alloc(arena, &out->deletions, deletion_schema, deletions) != 0 ||
        proto_array_alloc(arena, &out->upsertions, upsertion_schema, count - deletions) != 0)
        return ST_ENOMEM;
    deletion *d = out->deletions.items;
    upsertion *u = out->upsertions.items;
    for (int i = 0; i < count; i++) {
        const kafka_user_change *ch = &changes[i];
        if (ch->deletion) {
            d->name = proto_str_c(ch->user);
            d->mechanism = mechanism_code(ch->mechanism);
            d++;
            continue;
        }
        int rc = upsertion_of(ch, arena, u++);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- answers ------------------------------------------------------------------------ */

int kafka_users_describe_answer(const describe_response *response, kafka_users_description *out)
{
    memset(out, 0, sizeof *out);
    out->error_code = response->error_code;
    copy_text(response->error_message, out->error_message, sizeof out->error_message);
    size_t count = response->results.count > 0 ? (size_t)response->results.count : 0;
    out->users = calloc(count ? count : 1, sizeof *out->users);
    if (!out->users)
        return ST_ENOMEM;
    const describe_result *results = response->results.items;
    for (size_t i = 0; i < count; i++) {
        kafka_user_description *d = &out->users[i];
        copy_text(results[i].user, d->user, sizeof d->user);
        d->error_code = results[i].error_code;
        copy_text(results[i].error_message, d->error_message, sizeof d->error_message);
        const credential_info *infos = results[i].credential_infos.items;
        for (int32_t k = 0; k < results[i].credential_infos.count &&
                            d->credential_count < KAFKA_USERS_CREDENTIALS_MAX; k++) {
            d->credentials[d->credential_count].mechanism_code = infos[k].mechanism;
            d->credentials[d->credential_count].iterations = infos[k].iterations;
            d->credential_count++;
        }
    }
    out->count = count;
    return 0;
}

int kafka_users_alter_answer(const alter_response *response, kafka_users_alteration *out)
{
    memset(out, 0, sizeof *out);
    size_t count = response->results.count > 0 ? (size_t)response->results.count : 0;
    out->results = calloc(count ? count : 1, sizeof *out->results);
    if (!out->results)
        return ST_ENOMEM;
    const alter_result *results = response->results.items;
    for (size_t i = 0; i < count; i++) {
        copy_text(results[i].user, out->results[i].user, sizeof out->results[i].user);
        out->results[i].error_code = results[i].error_code;
        copy_text(results[i].error_message, out->results[i].error_message,
                  sizeof out->results[i].error_message);
    }
    out->count = count;
    return 0;
}

int kafka_users_describe_parse(int16_t version, int32_t correlation_id, const uint8_t *frame,
                               size_t len, kafka_users_description *out, char *err, size_t errlen)
{
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    describe_response response = {0};
    int rc = kafka_client_decode_response(API_KEY_DESCRIBE, version, correlation_id, frame, len,
                                          &response, &arena, err, errlen);
    if (rc == 0 && (rc = kafka_users_describe_answer(&response, out)) != 0)
        snprintf(err, errlen, "out of memory");
    proto_arena_free(&arena);
    return rc;
}

int kafka_users_alter_parse(int16_t version, int32_t correlation_id, const uint8_t *frame,
                            size_t len, kafka_users_alteration *out, char *err, size_t errlen)
{
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    alter_response response = {0};
    int rc = kafka_client_decode_response(API_KEY_ALTER, version, correlation_id, frame, len,
                                          &response, &arena, err, errlen);
    if (rc == 0 && (rc = kafka_users_alter_answer(&response, out)) != 0)
        snprintf(err, errlen, "out of memory");
    proto_arena_free(&arena);
    return rc;
}

void kafka_users_description_free(kafka_users_description *d)
{
    free(d->users);
    d->users = NULL;
    d->count = 0;
}

void kafka_users_alteration_free(kafka_users_alteration *a)
{
    free(a->results);
    a->results = NULL;
    a->count = 0;
}

/* ---- calls ---------------------------------------------------------------------------- */

enum kafka_client_failure kafka_users_describe(kafka_client *c, const char *const *users,
                                               int count, kafka_users_description *out,
                                               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    describe_request request = {{NULL, -1}}; /* null: every user */
    enum kafka_client_failure f = KAFKA_CLIENT_OK;
    if (count > 0) {
        const proto_struct *schema = api_describe_user_scram_credentials.request->fields[0].element;
        if (proto_array_alloc(&arena, &request.users, schema, count) != 0)
            f = KAFKA_CLIENT_CONFIG;
        for (int i = 0; f == KAFKA_CLIENT_OK && i < count; i++)
            ((describe_user *)request.users.items)[i].name = proto_str_c(users[i]);
    }
    describe_response response = {0};
    if (f == KAFKA_CLIENT_OK)
        f = kafka_client_call(c, API_KEY_DESCRIBE, &request, &response, &arena, NULL, err,
                              errlen);
    else
        snprintf(err, errlen, "out of memory");
    if (f == KAFKA_CLIENT_OK && kafka_users_describe_answer(&response, out) != 0) {
        snprintf(err, errlen, "out of memory");
        f = KAFKA_CLIENT_CONFIG;
    }
    proto_arena_free(&arena);
    return f;
}

enum kafka_client_failure kafka_users_alter(kafka_client *c, const kafka_user_change *changes,
                                            int count, kafka_users_alteration *out, char *err,
                                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    alter_request request;
    enum kafka_client_failure f = KAFKA_CLIENT_OK;
    int rc = kafka_users_alter_request(changes, count, &arena, &request);
    if (rc != 0) {
        snprintf(err, errlen, "cannot build the request: %s", strait_strerror(rc));
        f = KAFKA_CLIENT_CONFIG;
    }
    alter_response response = {0};
    if (f == KAFKA_CLIENT_OK)
        f = kafka_client_call(c, API_KEY_ALTER, &request, &response, &arena, NULL, err, errlen);
    /* the salted passwords are as good as the passwords for a dictionary attack */
    upsertion *u = rc == 0 ? request.upsertions.items : NULL;
    for (int32_t i = 0; u && i < request.upsertions.count; i++)
        OPENSSL_cleanse((void *)u[i].salted_password.ptr, (size_t)u[i].salted_password.len);
    if (f == KAFKA_CLIENT_OK && kafka_users_alter_answer(&response, out) != 0) {
        snprintf(err, errlen, "out of memory");
        f = KAFKA_CLIENT_CONFIG;
    }
    proto_arena_free(&arena);
    return f;
}
