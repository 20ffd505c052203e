/*
 * scram_client.c - the client side of SCRAM (scram_client.h): message
 * building, the bounded parse of the server's two messages, and the proof
 * (RFC 5802 section 3) over scram_store.h's key derivation. Every scan is
 * bounded by the given length; nothing assumes NUL-terminated input.
 */
#include "security/scram_client.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

#define NONCE_RANDOM_BYTES 24

__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return rc;
}

/* RFC 5802 "printable": 0x21-0x7E except ','. */
static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return len > 0;
}

/* Base64 of data into out (NUL-terminated); the encoded length, 0 when it
 * does not fit. */
static size_t base64(const uint8_t *data, size_t len, char *out, size_t outlen)
{
    size_t need = 4 * ((len + 2) / 3);
    if (need + 1 > outlen)
        return 0;
    return (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

/* Decodes base64 text (a multiple of 4 characters) into out; the decoded
 * length, or -1 when malformed or longer than outlen. */
static int unbase64(const char *text, size_t len, uint8_t *out, size_t outlen)
{
    uint8_t decoded[3 * (SCRAM_CLIENT_MESSAGE_MAX / 4)];
    if (len == 0 || len % 4 != 0 || len > SCRAM_CLIENT_MESSAGE_MAX)
        return -1;
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)len);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the '=' padding as zero bytes */
    size_t size = (size_t)n - (text[len - 1] == '=') - (text[len - 2] == '=');
    if (size > outlen)
        return -1;
    memcpy(out, decoded, size);
    OPENSSL_cleanse(decoded, sizeof decoded);
    return (int)size;
}

int scram_client_first(scram_client *c, scram_mechanism mechanism, const char *user,
                       const char *nonce, char *out, size_t outlen, size_t *out_len)
{
    memset(c, 0, sizeof *c);
    size_t user_len = strlen(user);
    if ((unsigned)mechanism >= SCRAM_MECHANISM_COUNT || user_len == 0 || user_len > SCRAM_USER_MAX)
        return ST_EINVAL;
    c->mechanism = mechanism;
    if (nonce) {
        if (!printable(nonce, strlen(nonce)) || strlen(nonce) >= sizeof c->nonce)
            return ST_EINVAL;
        memcpy(c->nonce, nonce, strlen(nonce) + 1);
    } else {
        uint8_t random[NONCE_RANDOM_BYTES];
        if (RAND_bytes(random, sizeof random) != 1)
            return ST_EIO;
        base64(random, sizeof random, c->nonce, sizeof c->nonce);
    }
    char escaped[3 * SCRAM_USER_MAX + 1];
    size_t at = 0;
    for (size_t i = 0; i < user_len; i++) {
        const char *piece = user[i] == ',' ? "=2C" : user[i] == '=' ? "=3D" : NULL;
        if (piece) {
            memcpy(escaped + at, piece, 3);
            at += 3;
        } else {
            escaped[at++] = user[i];
        }
    }
    escaped[at] = '\0';
    int n = snprintf(c->client_first_bare, sizeof c->client_first_bare, "n=%s,r=%s", escaped,
                     c->nonce);
    if (n < 0 || (size_t)n >= sizeof c->client_first_bare)
        return ST_ETOOBIG;
    c->client_first_bare_len = (size_t)n;
    n = snprintf(out, outlen, "n,,%s", c->client_first_bare);
    if (n < 0 || (size_t)n >= outlen)
        return ST_ETOOBIG;
    *out_len = (size_t)n;
    c->step = 1;
    return 0;
}

/* The value of attribute name at position *at of s (a "x=value" item);
 * moves *at past it and its comma. False when the item there is not name. */
static bool next_attribute(const char *s, size_t len, size_t *at, char name, size_t *value_at,
                           size_t *value_len)
{
    if (len - *at < 2 || s[*at] != name || s[*at + 1] != '=')
        return false;
    size_t start = *at + 2, end = start;
    while (end < len && s[end] != ',')
        end++;
    *value_at = start;
    *value_len = end - start;
    *at = end < len ? end + 1 : end;
    return true;
}

/* The SCRAM keys of this exchange from SaltedPassword: ClientKey, and the
 * StoredKey / ServerKey that scram_store derives. */
static int keys(scram_mechanism mechanism, const uint8_t *salted, const uint8_t *salt,
                size_t salt_len, int32_t iterations, uint8_t *client_key, scram_credential *keys_out)
{
    const EVP_MD *md = mechanism == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    size_t key_bytes = scram_mechanism_key_bytes(mechanism);
    unsigned int n = 0;
    if (!HMAC(md, salted, (int)key_bytes, (const uint8_t *)"Client Key", 10, client_key, &n))
        return ST_EIO;
    return scram_credential_from_salted(mechanism, salted, key_bytes, salt, salt_len, iterations,
                                        keys_out);
}

int scram_client_final(scram_client *c, const char *password, size_t password_len,
                       const char *server_first, size_t len, char *out, size_t outlen,
                       size_t *out_len, char *why, size_t whylen)
{
    if (c->step != 1)
        return fail(ST_EINVAL, why, whylen, "the exchange is not at its second step");
    if (len >= SCRAM_CLIENT_MESSAGE_MAX)
        return fail(ST_ECORRUPT, why, whylen, "server-first-message longer than %d bytes",
                    SCRAM_CLIENT_MESSAGE_MAX);
    size_t at = 0, nonce_at, nonce_len, salt_at, salt_len, iter_at, iter_len;
    if (len >= 2 && server_first[0] == 'm' && server_first[1] == '=')
        return fail(ST_ECORRUPT, why, whylen, "the server requires an extension (m=)");
    if (!next_attribute(server_first, len, &at, 'r', &nonce_at, &nonce_len) ||
        !next_attribute(server_first, len, &at, 's', &salt_at, &salt_len) ||
        !next_attribute(server_first, len, &at, 'i', &iter_at, &iter_len))
        return fail(ST_ECORRUPT, why, whylen, "server-first-message is not r=...,s=...,i=...");
    size_t client_nonce_len = strlen(c->nonce);
    if (nonce_len <= client_nonce_len || !printable(server_first + nonce_at, nonce_len) ||
        memcmp(server_first + nonce_at, c->nonce, client_nonce_len) != 0)
        return fail(ST_ECORRUPT, why, whylen, "the server nonce does not extend the client's");
    uint8_t salt[SCRAM_SALT_MAX];
    int salt_bytes = unbase64(server_first + salt_at, salt_len, salt, sizeof salt);
    if (salt_bytes <= 0)
        return fail(ST_ECORRUPT, why, whylen, "the salt is not 1 to %d bytes of base64",
                    SCRAM_SALT_MAX);
    int64_t iterations = 0;
    for (size_t i = 0; i < iter_len && iterations <= SCRAM_ITERATIONS_MAX; i++) {
        char digit = server_first[iter_at + i];
        if (digit < '0' || digit > '9')
            return fail(ST_ECORRUPT, why, whylen, "the iteration count is not a number");
        iterations = iterations * 10 + (digit - '0');
    }
    if (iter_len == 0 || iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX)
        return fail(ST_ECORRUPT, why, whylen, "the iteration count is not within %d..%d",
                    SCRAM_ITERATIONS_MIN, SCRAM_ITERATIONS_MAX);
    /* client-final-message-without-proof, then AuthMessage */
    char without_proof[SCRAM_CLIENT_MESSAGE_MAX];
    int n = snprintf(without_proof, sizeof without_proof, "c=biws,r=%.*s", (int)nonce_len,
                     server_first + nonce_at);
    if (n < 0 || (size_t)n >= sizeof without_proof)
        return fail(ST_ETOOBIG, why, whylen, "the nonce is too long");
    char auth_message[3 * SCRAM_CLIENT_MESSAGE_MAX];
    n = snprintf(auth_message, sizeof auth_message, "%s,%.*s,%s", c->client_first_bare, (int)len,
                 server_first, without_proof);
    if (n < 0 || (size_t)n >= sizeof auth_message)
        return fail(ST_ETOOBIG, why, whylen, "the exchange is too long");
    size_t auth_len = (size_t)n;

    const EVP_MD *md = c->mechanism == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    size_t key_bytes = scram_mechanism_key_bytes(c->mechanism);
    uint8_t salted[SCRAM_KEY_MAX] = {0}, client_key[SCRAM_KEY_MAX] = {0};
    uint8_t signature[SCRAM_KEY_MAX] = {0};
    scram_credential derived = {0};
    unsigned int length = 0;
    int rc = scram_salted_password(c->mechanism, password, password_len, salt, (size_t)salt_bytes,
                                   (int32_t)iterations, salted);
    if (rc == 0)
        rc = keys(c->mechanism, salted, salt, (size_t)salt_bytes, (int32_t)iterations, client_key,
                  &derived);
    if (rc == 0 && !HMAC(md, derived.stored_key, (int)key_bytes, (const uint8_t *)auth_message,
                         auth_len, signature, &length))
        rc = ST_EIO;
    if (rc == 0 && !HMAC(md, derived.server_key, (int)key_bytes, (const uint8_t *)auth_message,
                         auth_len, c->server_signature, &length))
        rc = ST_EIO;
    uint8_t proof[SCRAM_KEY_MAX];
    for (size_t i = 0; i < key_bytes; i++)
        proof[i] = client_key[i] ^ signature[i];
    char proof_text[2 * SCRAM_KEY_MAX];
    if (rc == 0 && base64(proof, key_bytes, proof_text, sizeof proof_text) == 0)
        rc = ST_ETOOBIG;
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(&derived, sizeof derived);
    OPENSSL_cleanse(proof, sizeof proof);
    if (rc != 0)
        return fail(rc, why, whylen, "cannot compute the proof: %s", strait_strerror(rc));
    n = snprintf(out, outlen, "%s,p=%s", without_proof, proof_text);
    if (n < 0 || (size_t)n >= outlen)
        return fail(ST_ETOOBIG, why, whylen, "the client-final-message does not fit");
    *out_len = (size_t)n;
    c->step = 2;
    return 0;
}

int scram_client_verify(const scram_client *c, const char *server_final, size_t len, char *why,
                        size_t whylen)
{
    if (c->step != 2)
        return fail(ST_EINVAL, why, whylen, "the exchange is not at its last step");
    size_t at = 0, value_at, value_len;
    if (next_attribute(server_final, len, &at, 'e', &value_at, &value_len)) {
        int shown = value_len > 128 ? 128 : (int)value_len;
        if (!printable(server_final + value_at, (size_t)shown))
            return fail(ST_EINVAL, why, whylen, "the server refused the proof");
        return fail(ST_EINVAL, why, whylen, "the server refused the proof: %.*s", shown,
                    server_final + value_at);
    }
    if (!next_attribute(server_final, len, &at, 'v', &value_at, &value_len))
        return fail(ST_ECORRUPT, why, whylen, "server-final-message is neither v=... nor e=...");
    uint8_t signature[SCRAM_KEY_MAX];
    size_t key_bytes = scram_mechanism_key_bytes(c->mechanism);
    int n = unbase64(server_final + value_at, value_len, signature, sizeof signature);
    if (n < 0 || (size_t)n != key_bytes)
        return fail(ST_ECORRUPT, why, whylen, "the server signature is not %zu bytes of base64",
                    key_bytes);
    if (CRYPTO_memcmp(signature, c->server_signature, key_bytes) != 0)
        return fail(ST_EINVAL, why, whylen, "the server signature is wrong: this server does not "
                    "hold the user's credential");
    return 0;
}

void scram_client_clear(scram_client *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}
