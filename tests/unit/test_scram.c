/*
 * test_scram.c - SCRAM users (security/scram_store.h, scram_exchange.h) and
 * the Cyrus SASL server over them (security/sasl_server.h): the RFC 7677
 * SCRAM-SHA-256 example checked on the server side (keys derived from the
 * example's password, salt and iterations; its client proof accepted and
 * its server signature produced over its own messages - Cyrus's nonce is
 * random, so the example's messages cannot be replayed through Cyrus);
 * PLAIN over a SCRAM credential; the RFC 5803 text; the users file and its
 * refusals; and whole exchanges through Cyrus with a client computed here
 * (strict nonce, and librdkafka's doubled nonce); the users file in the data
 * dir (round trip, every corrupt form refused with the store unchanged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "security/sasl_server.h"
#include "security/scram_exchange.h"
#include "security/scram_file.h"
#include "security/scram_store.h"

/* RFC 7677 section 3 */
static const char rfc_password[] = "pencil";
static const char rfc_salt_b64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
static const char rfc_client_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc_server_first[] =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
static const char rfc_client_final[] =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
static const char rfc_server_final[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

static size_t decode_b64(const char *text, uint8_t *out)
{
    size_t len = strlen(text);
    int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
    assert_true(n >= 0);
    size_t pad = (len >= 1 && text[len - 1] == '=') + (len >= 2 && text[len - 2] == '=');
    return (size_t)n - pad;
}

static scram_credential rfc_credential(void)
{
    uint8_t salt[32];
    size_t salt_len = decode_b64(rfc_salt_b64, salt);
    scram_credential c;
    assert_int_equal(scram_credential_derive(SCRAM_SHA_256, rfc_password, strlen(rfc_password),
                                             salt, salt_len, 4096, &c), 0);
    return c;
}

static void test_rfc7677_server_side(void **state)
{
    (void)state;
    scram_credential c = rfc_credential();
    char server_final[128];
    const char *bare = rfc_client_first + 3;
    assert_int_equal(scram_final_verify(&c, bare, strlen(bare), rfc_server_first,
                                        strlen(rfc_server_first), rfc_client_final,
                                        strlen(rfc_client_final), server_final,
                                        sizeof server_final), 0);
    assert_string_equal(server_final, rfc_server_final);
    /* a wrong password gives other keys: the example's proof is refused */
    uint8_t salt[32];
    size_t salt_len = decode_b64(rfc_salt_b64, salt);
    scram_credential other;
    assert_int_equal(scram_credential_derive(SCRAM_SHA_256, "pencil2", 7, salt, salt_len, 4096,
                                             &other), 0);
    assert_int_equal(scram_final_verify(&other, bare, strlen(bare), rfc_server_first,
                                        strlen(rfc_server_first), rfc_client_final,
                                        strlen(rfc_client_final), server_final,
                                        sizeof server_final), ST_EINVAL);
    /* malformed: no proof, wrong proof length, wrong channel binding */
    const char *bad[] = {"c=biws,r=abc", "c=biws,r=abc,p=AAAA", "c=eSws,r=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(scram_final_verify(&c, bare, strlen(bare), rfc_server_first,
                                            strlen(rfc_server_first), bad[i], strlen(bad[i]),
                                            server_final, sizeof server_final), ST_ECORRUPT);
}

static void test_auth_password_text(void **state)
{
    (void)state;
    scram_credential c = rfc_credential();
    char text[512];
    assert_int_equal(scram_credential_auth_password(&c, text, sizeof text), 0);
    /* StoredKey and ServerKey of the RFC 7677 example (computed from it) */
    assert_true(strncmp(text, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$", 44) == 0);
    assert_non_null(strchr(text + 44, ':'));
    assert_int_equal(scram_credential_auth_password(&c, text, 40), ST_ETOOBIG);
}

static void test_client_first_parse(void **state)
{
    (void)state;
    char user[64], nonce[64];
    size_t bare;
    const char *m = "n,,n=a=2Cb=3Dc,r=xyz,ext=1";
    assert_int_equal(scram_client_first_parse(m, strlen(m), user, sizeof user, &bare, nonce,
                                              sizeof nonce), 0);
    assert_string_equal(user, "a,b=c");
    assert_string_equal(nonce, "xyz");
    assert_int_equal(bare, 3);
    const char *bad[] = {"", "p=tls,,n=a,r=x", "n,,n=,r=x", "n,,n=a=2X,r=x", "n,,n=a", "n,,n=a,r=",
                         "n,a=z,n=a,r=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(scram_client_first_parse(bad[i], strlen(bad[i]), user, sizeof user,
                                                  &bare, nonce, sizeof nonce), ST_ECORRUPT);
    /* the librdkafka doubled nonce, and only it */
    const char *sf = "r=abcXYZ,s=c2FsdA==,i=4096";
    assert_true(scram_final_is_doubled_nonce("abc", sf, strlen(sf), "c=biws,r=abcabcXYZ,p=x", 22));
    assert_false(scram_final_is_doubled_nonce("abc", sf, strlen(sf), "c=biws,r=abcXYZ,p=x", 19));
    assert_false(scram_final_is_doubled_nonce("abc", sf, strlen(sf), "c=biws,r=zzzabcXYZ,p=x", 22));
}

static void test_store_and_plain(void **state)
{
    (void)state;
    scram_store *s = scram_store_new();
    scram_credential c;
    assert_int_equal(scram_credential_make(SCRAM_SHA_512, "secret", 6, 4096, &c), 0);
    assert_int_equal(scram_store_set(s, "alice", &c), 0);
    assert_non_null(scram_store_find(s, "alice", SCRAM_SHA_512));
    assert_null(scram_store_find(s, "alice", SCRAM_SHA_256));
    assert_null(scram_store_find(s, "bob", SCRAM_SHA_512));
    assert_true(scram_store_check_password(s, "alice", "secret", 6));
    assert_false(scram_store_check_password(s, "alice", "secreT", 6));
    assert_false(scram_store_check_password(s, "bob", "secret", 6));
    assert_int_equal(scram_store_set(s, "", &c), ST_EINVAL);
    /* replacing keeps one user */
    assert_int_equal(scram_credential_make(SCRAM_SHA_512, "other", 5, 4096, &c), 0);
    assert_int_equal(scram_store_set(s, "alice", &c), 0);
    assert_int_equal(scram_store_user_count(s), 1);
    assert_true(scram_store_check_password(s, "alice", "other", 5));
    assert_false(scram_store_check_password(s, "alice", "secret", 6));
    scram_store_free(s);
}

static void test_users_file(void **state)
{
    (void)state;
    scram_store *s = scram_store_new();
    char why[256];
    const char *text = "# users\n\nalice SCRAM-SHA-256 pass with spaces\r\nbob SCRAM-SHA-512 b\n";
    assert_int_equal(scram_store_parse_users(s, text, strlen(text), 4096, why, sizeof why), 0);
    assert_int_equal(scram_store_user_count(s), 2);
    assert_true(scram_store_check_password(s, "alice", "pass with spaces", 16));
    assert_true(scram_store_check_password(s, "bob", "b", 1));
    const struct {
        const char *text, *why;
    } bad[] = {
        {"alice\n", "line 1: expected 'user mechanism password'"},
        {"alice SCRAM-SHA-256\n", "line 1: expected 'user mechanism password'"},
        {"\nalice SCRAM-SHA-1 pw\n", "line 2: mechanism 'SCRAM-SHA-1' is not SCRAM-SHA-256 or SCRAM-SHA-512"},
        {"alice PLAIN pw\n", "line 1: mechanism 'PLAIN' is not SCRAM-SHA-256 or SCRAM-SHA-512"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(scram_store_parse_users(s, bad[i].text, strlen(bad[i].text), 4096, why,
                                                 sizeof why), ST_ECONFIG);
        assert_string_equal(why, bad[i].why);
        assert_null(strstr(why, "pw"));
    }
    assert_int_equal(scram_store_parse_users(s, "a\0b SCRAM-SHA-256 x", 19, 4096, why, sizeof why),
                     ST_ECONFIG);
    assert_int_equal(scram_store_parse_users(s, "", 0, 10, why, sizeof why), ST_ECONFIG);
    scram_store_free(s);
}

/* A SCRAM client computed here against Cyrus (sasl_server.h). */
static int scram_login(const char *mechanism, const char *user, const char *password,
                       bool doubled_nonce)
{
    const EVP_MD *md = strcmp(mechanism, "SCRAM-SHA-512") == 0 ? EVP_sha512() : EVP_sha256();
    size_t key_bytes = (size_t)EVP_MD_size(md);
    sasl_session *s = sasl_session_new("127.0.0.1:1");
    assert_non_null(s);
    char first[128], why[256];
    const char *nonce = "fyko+d2lbbFgONRv9qkxdawL";
    snprintf(first, sizeof first, "n,,n=%s,r=%s", user, nonce);
    const uint8_t *out;
    size_t outlen;
    int rc = sasl_session_step(s, mechanism, (const uint8_t *)first, strlen(first), &out, &outlen,
                               why, sizeof why);
    if (rc != SASL_STEP_CONTINUE) {
        sasl_session_free(s);
        return rc;
    }
    char server_first[256];
    assert_true(outlen < sizeof server_first);
    memcpy(server_first, out, outlen);
    server_first[outlen] = '\0';
    const char *r = strstr(server_first, "r=") + 2, *salt_at = strstr(server_first, ",s=") + 3;
    const char *iter_at = strstr(server_first, ",i=") + 3;
    char server_nonce[128], salt_b64[128];
    snprintf(server_nonce, sizeof server_nonce, "%.*s", (int)(strchr(r, ',') - r), r);
    snprintf(salt_b64, sizeof salt_b64, "%.*s", (int)(strchr(salt_at, ',') - salt_at), salt_at);
    uint8_t salt[96], salted[64], client_key[64], stored[64], signature[64], proof[64];
    size_t salt_len = decode_b64(salt_b64, salt);
    unsigned n;
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, atoi(iter_at), md,
                      (int)key_bytes, salted);
    HMAC(md, salted, (int)key_bytes, (const uint8_t *)"Client Key", 10, client_key, &n);
    EVP_Digest(client_key, key_bytes, stored, &n, md, NULL);
    char without_proof[256], auth_message[768], final[512];
    snprintf(without_proof, sizeof without_proof, "c=biws,r=%s%s", doubled_nonce ? nonce : "",
             server_nonce);
    snprintf(auth_message, sizeof auth_message, "%s,%s,%s", first + 3, server_first,
             without_proof);
    HMAC(md, stored, (int)key_bytes, (const uint8_t *)auth_message, strlen(auth_message),
         signature, &n);
    for (size_t i = 0; i < key_bytes; i++)
        proof[i] = client_key[i] ^ signature[i];
    char proof_b64[128];
    EVP_EncodeBlock((unsigned char *)proof_b64, proof, (int)key_bytes);
    snprintf(final, sizeof final, "%s,p=%s", without_proof, proof_b64);
    rc = sasl_session_step(s, NULL, (const uint8_t *)final, strlen(final), &out, &outlen, why,
                           sizeof why);
    if (rc == SASL_STEP_DONE) {
        assert_true(outlen > 2 && memcmp(out, "v=", 2) == 0);
        assert_string_equal(sasl_session_user(s), user);
    }
    sasl_session_free(s);
    return rc;
}

static int plain_login(const char *user, const char *password)
{
    sasl_session *s = sasl_session_new("127.0.0.1:1");
    char token[128], why[256];
    int len = snprintf(token, sizeof token, "%c%s%c%s", 0, user, 0, password);
    const uint8_t *out;
    size_t outlen;
    int rc = sasl_session_step(s, "PLAIN", (const uint8_t *)token, (size_t)len, &out, &outlen,
                               why, sizeof why);
    sasl_session_free(s);
    return rc;
}

static void test_cyrus_exchanges(void **state)
{
    (void)state;
    scram_store *store = scram_store_new();
    char why[256];
    const char *users = "alice SCRAM-SHA-256 alice-pw\nalice SCRAM-SHA-512 alice-pw\n"
                        "bob SCRAM-SHA-512 bob-pw\n";
    assert_int_equal(scram_store_parse_users(store, users, strlen(users), 4096, why, sizeof why), 0);
    assert_int_equal(sasl_server_setup(store, why, sizeof why), 0);
    assert_int_equal(scram_login("SCRAM-SHA-256", "alice", "alice-pw", false), SASL_STEP_DONE);
    assert_int_equal(scram_login("SCRAM-SHA-512", "alice", "alice-pw", false), SASL_STEP_DONE);
    assert_int_equal(scram_login("SCRAM-SHA-512", "bob", "bob-pw", true), SASL_STEP_DONE);
    assert_int_equal(scram_login("SCRAM-SHA-512", "bob", "wrong", false), SASL_STEP_FAILED);
    assert_int_equal(scram_login("SCRAM-SHA-512", "bob", "wrong", true), SASL_STEP_FAILED);
    assert_int_equal(scram_login("SCRAM-SHA-256", "bob", "bob-pw", false), SASL_STEP_FAILED);
    assert_int_equal(scram_login("SCRAM-SHA-256", "carol", "x", false), SASL_STEP_FAILED);
    assert_int_equal(plain_login("alice", "alice-pw"), SASL_STEP_DONE);
    assert_int_equal(plain_login("bob", "bob-pw"), SASL_STEP_DONE);
    assert_int_equal(plain_login("bob", "alice-pw"), SASL_STEP_FAILED);
    assert_int_equal(plain_login("carol", "x"), SASL_STEP_FAILED);
    scram_store_free(store);
}

static void fix_crc(uint8_t *data, size_t len)
{
    store_i32(data + len - 4, (int32_t)crc32c(0, data, len - 4));
}

static void test_file(void **state)
{
    (void)state;
    scram_store *s = scram_store_new();
    char why[256];
    const char *text = "alice SCRAM-SHA-256 a\nalice SCRAM-SHA-512 a\nbob SCRAM-SHA-512 b\n";
    assert_int_equal(scram_store_parse_users(s, text, strlen(text), 4096, why, sizeof why), 0);
    buf file;
    buf_init(&file, 1 << 20);
    assert_int_equal(scram_file_encode(s, &file), 0);
    scram_store *back = scram_store_new();
    assert_int_equal(scram_file_decode(file.data, file.len, back, why, sizeof why), 0);
    assert_int_equal(scram_store_user_count(back), 2);
    assert_true(scram_store_check_password(back, "alice", "a", 1));
    assert_true(scram_store_check_password(back, "bob", "b", 1));
    const scram_credential *x = scram_store_find(s, "alice", SCRAM_SHA_512);
    const scram_credential *y = scram_store_find(back, "alice", SCRAM_SHA_512);
    assert_memory_equal(x, y, sizeof *x);
    /* delete: one credential, then the user */
    assert_int_equal(scram_store_delete(back, "alice", SCRAM_SHA_256), 0);
    assert_true(scram_store_has_user(back, "alice"));
    assert_int_equal(scram_store_delete(back, "alice", SCRAM_SHA_256), ST_ENOTFOUND);
    assert_int_equal(scram_store_delete(back, "alice", SCRAM_SHA_512), 0);
    assert_false(scram_store_has_user(back, "alice"));
    assert_int_equal(scram_store_user_count(back), 1);
    /* corrupt forms leave the store as it was (bob only) */
    uint8_t *copy = malloc(file.len + 8);
    struct {
        size_t len;
        size_t flip; /* byte to change, or SIZE_MAX */
        bool crc;    /* fix the CRC after the change */
        int rc;
    } bad[] = {
        {8, SIZE_MAX, false, ST_ECORRUPT},        /* shorter than a header */
        {0, 20, false, ST_ECRC},                  /* a flipped byte */
        {0, 0, true, ST_ECORRUPT},                /* magic */
        {0, 5, true, ST_EUNSUPPORTED},            /* version */
        {0, 9, true, ST_ECORRUPT},                /* count */
        {0, 11, true, ST_ECORRUPT},               /* first name's length low byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : file.len;
        memcpy(copy, file.data, file.len);
        if (bad[i].flip != SIZE_MAX)
            copy[bad[i].flip] ^= 0x7F;
        if (bad[i].crc)
            fix_crc(copy, len);
        assert_int_equal(scram_file_decode(copy, len, back, why, sizeof why), bad[i].rc);
        assert_int_equal(scram_store_user_count(back), 1);
        assert_true(scram_store_has_user(back, "bob"));
    }
    /* trailing bytes (CRC fixed) */
    memcpy(copy, file.data, file.len - 4);
    memset(copy + file.len - 4, 0, 4);
    fix_crc(copy, file.len + 4);
    assert_int_equal(scram_file_decode(copy, file.len + 4, back, why, sizeof why), ST_ECORRUPT);
    assert_string_equal(why, "4 bytes after the last credential");
    free(copy);
    buf_free(&file);
    scram_store_free(back);
    scram_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_server_side),
        cmocka_unit_test(test_auth_password_text),
        cmocka_unit_test(test_client_first_parse),
        cmocka_unit_test(test_store_and_plain),
        cmocka_unit_test(test_users_file),
        cmocka_unit_test(test_cyrus_exchanges),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
