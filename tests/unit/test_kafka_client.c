/*
 * test_kafka_client.c - strait's own Kafka client (kafka_client/) and the
 * client side of SCRAM (security/scram_client.h), without a network:
 *
 * - the RFC 7677 SCRAM-SHA-256 example computed by the client (its
 *   client-first and client-final messages byte for byte, its server
 *   signature accepted, a wrong one and an "e=" refused), saslname escapes,
 *   a hostile server-first-message refused part by part, and a whole
 *   SCRAM-SHA-512 exchange against the broker's own proof check;
 * - AlterUserScramCredentials and DescribeUserScramCredentials requests
 *   encoded by the client and decoded with the broker's tables: names,
 *   mechanism codes, iterations, a 24-byte salt, and a salted password that
 *   the broker turns into a credential the password (and only it) logs in to;
 * - responses encoded with the broker's tables and parsed by the client;
 *   every truncation of them and a trailing byte refused, a foreign
 *   correlation id refused; ApiVersions v0;
 * - the fuzz target's seeds decode (they reach the success paths);
 * - HOST:PORT splitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/proto/api.h"
#include "broker/proto/api_versions.h"
#include "broker/proto/scram_apis.h"
#include "common/error.h"
#include "common/reader.h"
#include "kafka_client/kafka_client.h"
#include "kafka_client/scram_users.h"
#include "security/scram_client.h"
#include "security/scram_exchange.h"
#include "security/scram_store.h"

/* RFC 7677 section 3 */
static const char rfc_client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc_server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char rfc_client_final[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char rfc_server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/* The RFC's exchange up to the client-final-message. */
static void rfc_exchange(scram_client *c)
{
    char out[SCRAM_CLIENT_MESSAGE_MAX], why[256];
    size_t len = 0;
    assert_int_equal(scram_client_first(c, SCRAM_SHA_256, "user", "rOprNGfwEbeRWgbNEkqO", out,
                                        sizeof out, &len), 0);
    assert_string_equal(out, rfc_client_first);
    assert_int_equal(len, strlen(rfc_client_first));
    assert_int_equal(scram_client_final(c, "pencil", 6, rfc_server_first,
                                        strlen(rfc_server_first), out, sizeof out, &len, why,
                                        sizeof why), 0);
    assert_string_equal(out, rfc_client_final);
}

static void test_scram_client_rfc7677(void **state)
{
    (void)state;
    scram_client c;
    char why[256];
    rfc_exchange(&c);
    assert_int_equal(scram_client_verify(&c, rfc_server_final, strlen(rfc_server_final), why,
                                         sizeof why), 0);
    /* one character of the signature changed */
    char forged[sizeof rfc_server_final];
    memcpy(forged, rfc_server_final, sizeof forged);
    forged[5] = forged[5] == 'A' ? 'B' : 'A';
    assert_int_equal(scram_client_verify(&c, forged, strlen(forged), why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "signature is wrong"));
    assert_int_equal(scram_client_verify(&c, "e=invalid-proof", 15, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "invalid-proof"));
    assert_int_equal(scram_client_verify(&c, "x=1", 3, why, sizeof why), ST_ECORRUPT);
    assert_int_equal(scram_client_verify(&c, "v=AAAA", 6, why, sizeof why), ST_ECORRUPT);
    scram_client_clear(&c);
}

static void test_scram_client_escapes_and_random_nonce(void **state)
{
    (void)state;
    scram_client c;
    char out[SCRAM_CLIENT_MESSAGE_MAX];
    size_t len = 0;
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "a,b=c", "nonce", out, sizeof out,
                                        &len), 0);
    assert_string_equal(out, "n,,n=a=2Cb=3Dc,r=nonce");
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "alice", NULL, out, sizeof out, &len),
                     0);
    assert_true(strncmp(out, "n,,n=alice,r=", 13) == 0);
    assert_int_equal(strlen(out + 13), 32); /* 24 random bytes in base64 */
    char first_nonce[64];
    snprintf(first_nonce, sizeof first_nonce, "%s", out + 13);
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "alice", NULL, out, sizeof out, &len),
                     0);
    assert_string_not_equal(out + 13, first_nonce);
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "", NULL, out, sizeof out, &len),
                     ST_EINVAL);
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "alice", "a,b", out, sizeof out, &len),
                     ST_EINVAL);
}

static void test_scram_client_hostile_server_first(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",     /* not extended */
        "r=someoneelse1234567890,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",    /* not the client's */
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",     /* too few */
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4O96",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=***,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOxyz,i=4096",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scram_client c;
        char out[SCRAM_CLIENT_MESSAGE_MAX], why[256] = "";
        size_t len = 0;
        assert_int_equal(scram_client_first(&c, SCRAM_SHA_256, "user", "rOprNGfwEbeRWgbNEkqO",
                                            out, sizeof out, &len), 0);
        int rc = scram_client_final(&c, "pencil", 6, bad[i], strlen(bad[i]), out, sizeof out,
                                    &len, why, sizeof why);
        if (rc != ST_ECORRUPT)
            fail_msg("server-first %zu '%s' gave %d", i, bad[i], rc);
        assert_true(why[0] != '\0');
    }
    /* 4096..16384 are accepted, 16385 is not */
    scram_client c;
    char out[SCRAM_CLIENT_MESSAGE_MAX], why[256];
    size_t len = 0;
    scram_client_first(&c, SCRAM_SHA_256, "user", "abc", out, sizeof out, &len);
    const char *high = "r=abcdef,s=c2FsdA==,i=16385";
    assert_int_equal(scram_client_final(&c, "pw", 2, high, strlen(high), out, sizeof out, &len,
                                        why, sizeof why), ST_ECORRUPT);
    const char *top = "r=abcdef,s=c2FsdA==,i=16384,x=extension";
    assert_int_equal(scram_client_final(&c, "pw", 2, top, strlen(top), out, sizeof out, &len, why,
                                        sizeof why), 0);
}

/* The client against the broker's own check (scram_exchange.h) with SHA-512. */
static void test_scram_client_against_server_check(void **state)
{
    (void)state;
    scram_credential stored;
    assert_int_equal(scram_credential_make(SCRAM_SHA_512, "s3cret", 6, 4096, &stored), 0);
    scram_client c;
    char first[SCRAM_CLIENT_MESSAGE_MAX], final[SCRAM_CLIENT_MESSAGE_MAX];
    char server_first[512], server_final[256], why[256];
    size_t first_len = 0, final_len = 0;
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "carol", NULL, first, sizeof first,
                                        &first_len), 0);
    char salt[128];
    EVP_EncodeBlock((unsigned char *)salt, stored.salt, (int)stored.salt_len);
    snprintf(server_first, sizeof server_first, "r=%sSERVERNONCE,s=%s,i=4096", first + 13, salt);
    assert_int_equal(scram_client_final(&c, "s3cret", 6, server_first, strlen(server_first),
                                        final, sizeof final, &final_len, why, sizeof why), 0);
    assert_int_equal(scram_final_verify(&stored, first + 3, first_len - 3, server_first,
                                        strlen(server_first), final, final_len, server_final,
                                        sizeof server_final), 0);
    assert_int_equal(scram_client_verify(&c, server_final, strlen(server_final), why, sizeof why),
                     0);
    /* the wrong password: the server refuses the proof */
    assert_int_equal(scram_client_first(&c, SCRAM_SHA_512, "carol", NULL, first, sizeof first,
                                        &first_len), 0);
    snprintf(server_first, sizeof server_first, "r=%sSERVERNONCE,s=%s,i=4096", first + 13, salt);
    assert_int_equal(scram_client_final(&c, "guess", 5, server_first, strlen(server_first),
                                        final, sizeof final, &final_len, why, sizeof why), 0);
    assert_int_equal(scram_final_verify(&stored, first + 3, first_len - 3, server_first,
                                        strlen(server_first), final, final_len, server_final,
                                        sizeof server_final), ST_EINVAL);
}

/* ---- requests: client encodes, broker tables decode ------------------------------- */

/* Decodes a request frame as the broker's dispatch does: header v2, body. */
static void decode_request(const proto_out *o, int16_t key, void *body, proto_arena *arena)
{
    reader r;
    reader_init(&r, o->mem.data, o->mem.len);
    assert_int_equal(reader_i32(&r), (int32_t)o->mem.len - 4);
    assert_int_equal(reader_i16(&r), key);
    assert_int_equal(reader_i16(&r), 0);
    assert_int_equal(reader_i32(&r), 77);
    int16_t id_len = reader_i16(&r);
    const uint8_t *id = reader_bytes(&r, (size_t)id_len);
    assert_non_null(id);
    assert_memory_equal(id, "strait-test", 11);
    assert_int_equal(reader_uvarint(&r), 0); /* no header tags */
    const proto_api *api = proto_api_find(key);
    assert_int_equal(proto_decode(&r, api->request, 0, true, body, arena), 0);
    assert_true(reader_ok(&r));
    assert_int_equal(reader_remaining(&r), 0);
}

static void test_alter_request_round_trip(void **state)
{
    (void)state;
    static const char password[] = "alice's pass";
    kafka_user_change changes[] = {
        {.user = "alice", .mechanism = SCRAM_SHA_512, .iterations = 8192, .password = password,
         .password_len = strlen(password)},
        {.user = "bob", .mechanism = SCRAM_SHA_256, .deletion = true},
    };
    proto_arena arena;
    proto_arena_init(&arena, 1 << 20);
    alter_request request;
    assert_int_equal(kafka_users_alter_request(changes, 2, &arena, &request), 0);
    proto_out o;
    proto_out_init(&o, 1 << 20);
    assert_int_equal(kafka_client_encode_request(&o, 51, 0, 77, "strait-test", &request), 0);
    alter_request decoded = {0};
    decode_request(&o, 51, &decoded, &arena);
    assert_int_equal(decoded.deletions.count, 1);
    const deletion *d = decoded.deletions.items;
    assert_true(proto_str_eq(d->name, "bob"));
    assert_int_equal(d->mechanism, 1);
    assert_int_equal(decoded.upsertions.count, 1);
    const upsertion *u = decoded.upsertions.items;
    assert_true(proto_str_eq(u->name, "alice"));
    assert_int_equal(u->mechanism, 2);
    assert_int_equal(u->iterations, 8192);
    assert_int_equal(u->salt.len, SCRAM_SALT_DEFAULT_BYTES);
    assert_int_equal(u->salted_password.len, 64);
    /* the broker's side: the credential it stores logs alice in with her password */
    scram_credential c;
    assert_int_equal(scram_credential_from_salted(SCRAM_SHA_512, u->salted_password.ptr, 64,
                                                  u->salt.ptr, (size_t)u->salt.len, 8192, &c), 0);
    scram_store *store = scram_store_new();
    assert_int_equal(scram_store_set(store, "alice", &c), 0);
    assert_true(scram_store_check_password(store, "alice", password, strlen(password)));
    assert_false(scram_store_check_password(store, "alice", "alice's pasS", strlen(password)));
    scram_store_free(store);
    /* the password itself is nowhere in the frame */
    assert_null(memmem(o.mem.data, o.mem.len, password, strlen(password)));
    proto_out_free(&o);
    /* refused before anything is built */
    kafka_user_change bad = changes[0];
    bad.iterations = 100;
    assert_int_equal(kafka_users_alter_request(&bad, 1, &arena, &request), ST_EINVAL);
    bad = changes[0];
    bad.user = "";
    assert_int_equal(kafka_users_alter_request(&bad, 1, &arena, &request), ST_EINVAL);
    proto_arena_free(&arena);
}

static void test_describe_request_round_trip(void **state)
{
    (void)state;
    proto_arena arena;
    proto_arena_init(&arena, 1 << 20);
    describe_request every = {{NULL, -1}};
    proto_out o;
    proto_out_init(&o, 1 << 20);
    assert_int_equal(kafka_client_encode_request(&o, 50, 0, 77, "strait-test", &every), 0);
    describe_request decoded = {0};
    decode_request(&o, 50, &decoded, &arena);
    assert_int_equal(decoded.users.count, -1);
    proto_out_free(&o);
    /* an API or version strait has no table for */
    proto_out_init(&o, 1 << 20);
    assert_int_equal(kafka_client_encode_request(&o, 50, 1, 77, "x", &every), ST_EUNSUPPORTED);
    assert_int_equal(kafka_client_encode_request(&o, 999, 0, 77, "x", &every), ST_EUNSUPPORTED);
    proto_out_free(&o);
    proto_arena_free(&arena);
}

/* ---- responses: broker tables encode, client parses -------------------------------- */

/* A response frame (without size) as the broker writes it: header v1. */
static void encode_response(proto_out *o, int16_t key, int32_t correlation_id, const void *body)
{
    const proto_api *api = proto_api_find(key);
    proto_out_init(o, 1 << 20);
    buf_put_i32(&o->mem, correlation_id);
    buf_put_uvarint(&o->mem, 0);
    proto_encode(o, api->response, 0, true, body);
    assert_true(buf_ok(&o->mem));
}

static void test_describe_response_parse(void **state)
{
    (void)state;
    credential_info alice_infos[] = {{1, 8192}, {2, 4096}};
    describe_result results[] = {
        {.user = proto_str_c("alice"), .credential_infos = {alice_infos, 2}},
        {.user = proto_str_c("nobody"), .error_code = 91,
         .error_message = proto_str_c("Attempt to describe a user credential that does not "
                                      "exist: nobody"),
         .credential_infos = {NULL, 0}},
    };
    describe_response response = {.error_message = proto_str_null(), .results = {results, 2}};
    proto_out o;
    encode_response(&o, 50, 5, &response);
    kafka_users_description d;
    char err[256];
    assert_int_equal(kafka_users_describe_parse(0, 5, o.mem.data, o.mem.len, &d, err, sizeof err),
                     0);
    assert_int_equal(d.error_code, 0);
    assert_int_equal(d.count, 2);
    assert_string_equal(d.users[0].user, "alice");
    assert_int_equal(d.users[0].credential_count, 2);
    assert_string_equal(kafka_users_mechanism_name(d.users[0].credentials[0].mechanism_code),
                        "SCRAM-SHA-256");
    assert_int_equal(d.users[0].credentials[0].iterations, 8192);
    assert_int_equal(d.users[0].credentials[1].iterations, 4096);
    assert_string_equal(d.users[1].user, "nobody");
    assert_int_equal(d.users[1].error_code, 91);
    assert_non_null(strstr(d.users[1].error_message, "does not exist: nobody"));
    kafka_users_description_free(&d);
    /* another request's answer */
    assert_int_equal(kafka_users_describe_parse(0, 6, o.mem.data, o.mem.len, &d, err, sizeof err),
                     ST_ECORRUPT);
    assert_non_null(strstr(err, "request 5, not 6"));
    /* every truncation is refused, never read past */
    for (size_t cut = 0; cut < o.mem.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, o.mem.data, cut);
        int rc = kafka_users_describe_parse(0, 5, copy, cut, &d, err, sizeof err);
        if (rc == 0)
            fail_msg("a response cut at %zu of %zu bytes was accepted", cut, o.mem.len);
        free(copy);
    }
    /* a byte after the end */
    uint8_t *longer = malloc(o.mem.len + 1);
    memcpy(longer, o.mem.data, o.mem.len);
    longer[o.mem.len] = 0;
    assert_int_equal(kafka_users_describe_parse(0, 5, longer, o.mem.len + 1, &d, err, sizeof err),
                     ST_ECORRUPT);
    assert_non_null(strstr(err, "1 bytes after the end"));
    free(longer);
    proto_out_free(&o);
    /* the whole request refused */
    describe_response refused = {.error_code = 31,
                                 .error_message = proto_str_c("principal User:bob may not "
                                                              "describe the cluster"),
                                 .results = {NULL, 0}};
    encode_response(&o, 50, 9, &refused);
    assert_int_equal(kafka_users_describe_parse(0, 9, o.mem.data, o.mem.len, &d, err, sizeof err),
                     0);
    assert_int_equal(d.error_code, 31);
    assert_string_equal(d.error_message, "principal User:bob may not describe the cluster");
    assert_int_equal(d.count, 0);
    kafka_users_description_free(&d);
    proto_out_free(&o);
}

static void test_alter_response_parse(void **state)
{
    (void)state;
    alter_result results[] = {
        {.user = proto_str_c("alice"), .error_message = proto_str_null()},
        {.user = {"mal\0ory", 7}, .error_code = 31,
         .error_message = proto_str_c("principal User:bob may not alter the cluster")},
    };
    alter_response response = {.results = {results, 2}};
    proto_out o;
    encode_response(&o, 51, 3, &response);
    kafka_users_alteration a;
    char err[256];
    assert_int_equal(kafka_users_alter_parse(0, 3, o.mem.data, o.mem.len, &a, err, sizeof err), 0);
    assert_int_equal(a.count, 2);
    assert_string_equal(a.results[0].user, "alice");
    assert_int_equal(a.results[0].error_code, 0);
    assert_string_equal(a.results[0].error_message, "");
    assert_string_equal(a.results[1].user, "mal?ory"); /* a NUL cannot hide the name's tail */
    assert_int_equal(a.results[1].error_code, 31);
    assert_string_equal(a.results[1].error_message,
                        "principal User:bob may not alter the cluster");
    kafka_users_alteration_free(&a);
    for (size_t cut = 0; cut < o.mem.len; cut++)
        assert_int_not_equal(kafka_users_alter_parse(0, 3, o.mem.data, cut, &a, err, sizeof err),
                             0);
    proto_out_free(&o);
}

static void test_api_versions_response(void **state)
{
    (void)state;
    /* v0: header v0 (no tags), int16 error, int32 count, (key, min, max) each */
    proto_out o;
    proto_out_init(&o, 1024);
    buf_put_i32(&o.mem, 1);
    buf_put_i16(&o.mem, 0);
    buf_put_i32(&o.mem, 2);
    int16_t rows[2][3] = {{50, 0, 0}, {51, 0, 0}};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++)
            buf_put_i16(&o.mem, rows[i][k]);
    api_versions_response r = {0};
    proto_arena arena;
    proto_arena_init(&arena, 1 << 16);
    char err[256];
    assert_int_equal(kafka_client_decode_response(18, 0, 1, o.mem.data, o.mem.len, &r, &arena,
                                                  err, sizeof err), 0);
    assert_int_equal(r.api_keys.count, 2);
    assert_int_equal(((api_versions_key *)r.api_keys.items)[1].api_key, 51);
    /* a count beyond the bytes that remain */
    store_i32(o.mem.data + 6, 1000000);
    assert_int_not_equal(kafka_client_decode_response(18, 0, 1, o.mem.data, o.mem.len, &r, &arena,
                                                      err, sizeof err), 0);
    proto_arena_free(&arena);
    proto_out_free(&o);
}

/* The fuzz target's committed seeds (tests/fuzz/seeds.c) decode: they reach
 * the parsers' success paths, not only their refusals. */
static void test_fuzz_seeds_decode(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int16_t key, version;
        int skip; /* mode byte, and the version byte of SaslAuthenticate */
    } seeds[] = {
        {"api-versions", 18, 0, 1},           {"sasl-handshake-refused", 17, 1, 1},
        {"sasl-authenticate-v0", 36, 0, 2},   {"sasl-authenticate-v1", 36, 1, 2},
        {"sasl-authenticate-v2", 36, 2, 2},   {"sasl-authenticate-failed", 36, 2, 2},
        {"describe-users", 50, 0, 1},         {"describe-refused", 50, 0, 1},
        {"alter-users", 51, 0, 1},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/kafka_client/seed-%s",
                 STRAIT_SOURCE_DIR, seeds[i].name);
        FILE *f = fopen(path, "rb");
        if (!f)
            fail_msg("%s is missing (tests/fuzz/make-seeds.sh)", path);
        uint8_t data[4096];
        size_t len = fread(data, 1, sizeof data, f);
        fclose(f);
        assert_true(len > (size_t)seeds[i].skip);
        uint8_t response[256];
        memset(response, 0, sizeof response);
        proto_arena arena;
        proto_arena_init(&arena, 1 << 20);
        char err[256] = "";
        int rc = kafka_client_decode_response(seeds[i].key, seeds[i].version, 7,
                                              data + seeds[i].skip, len - (size_t)seeds[i].skip,
                                              response, &arena, err, sizeof err);
        if (rc != 0)
            fail_msg("seed-%s: %s", seeds[i].name, err);
        proto_arena_free(&arena);
    }
}

static void test_split_address(void **state)
{
    (void)state;
    char host[64], port[8];
    const char *ok[][3] = {{"127.0.0.1:9092", "127.0.0.1", "9092"},
                           {"broker-1.example.com:1", "broker-1.example.com", "1"},
                           {"[::1]:65535", "::1", "65535"}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(kafka_client_split_address(ok[i][0], strlen(ok[i][0]), host, sizeof host,
                                                    port, sizeof port), 0);
        assert_string_equal(host, ok[i][1]);
        assert_string_equal(port, ok[i][2]);
    }
    const char *bad[] = {"", "host", "host:", ":9092", "host:0", "host:65536", "host:9o92",
                         "::1:9092", "[::1]", "[::1]9092", "host:123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(kafka_client_split_address(bad[i], strlen(bad[i]), host, sizeof host,
                                                    port, sizeof port), ST_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_client_rfc7677),
        cmocka_unit_test(test_scram_client_escapes_and_random_nonce),
        cmocka_unit_test(test_scram_client_hostile_server_first),
        cmocka_unit_test(test_scram_client_against_server_check),
        cmocka_unit_test(test_alter_request_round_trip),
        cmocka_unit_test(test_describe_request_round_trip),
        cmocka_unit_test(test_describe_response_parse),
        cmocka_unit_test(test_alter_response_parse),
        cmocka_unit_test(test_api_versions_response),
        cmocka_unit_test(test_fuzz_seeds_decode),
        cmocka_unit_test(test_split_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
