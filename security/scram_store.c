/*
 * scram_store.c - SASL users as SCRAM credentials (scram_store.h): the
 * RFC 5802 key derivation with OpenSSL, the RFC 5803 text form, an in-memory
 * table of users, and the users file parser (a bounded scan of the file's
 * bytes, line by line).
 */
#include "security/scram_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/file_io.h"

/* Largest users file read, bytes: a few thousand users. */
#define USERS_FILE_MAX_BYTES (1024 * 1024)
/* Longest password in the users file, bytes. */
#define PASSWORD_MAX_BYTES 1024

typedef struct scram_user {
    char name[SCRAM_USER_MAX + 1];
    bool has[SCRAM_MECHANISM_COUNT];
    scram_credential credentials[SCRAM_MECHANISM_COUNT];
} scram_user;

struct scram_store {
    scram_user *users;
    size_t count, capacity;
};

static const char *const mechanism_names[SCRAM_MECHANISM_COUNT] = {"SCRAM-SHA-256",
                                                                   "SCRAM-SHA-512"};

int scram_mechanism_parse(const char *name)
{
    for (int i = 0; i < SCRAM_MECHANISM_COUNT; i++)
        if (strcmp(name, mechanism_names[i]) == 0)
            return i;
    return -1;
}

const char *scram_mechanism_name(scram_mechanism mechanism) { return mechanism_names[mechanism]; }

size_t scram_mechanism_key_bytes(scram_mechanism mechanism)
{
    return mechanism == SCRAM_SHA_512 ? 64 : 32;
}

static const EVP_MD *mechanism_md(scram_mechanism mechanism)
{
    return mechanism == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

int scram_salted_password(scram_mechanism mechanism, const char *password, size_t password_len,
                          const uint8_t *salt, size_t salt_len, int32_t iterations,
                          uint8_t *salted)
{
    if ((unsigned)mechanism >= SCRAM_MECHANISM_COUNT || salt_len == 0 ||
        salt_len > SCRAM_SALT_MAX || iterations < 1 || password_len > INT32_MAX)
        return ST_EINVAL;
    if (PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
                          mechanism_md(mechanism), (int)scram_mechanism_key_bytes(mechanism),
                          salted) != 1)
        return ST_EIO;
    return 0;
}

int scram_credential_derive(scram_mechanism mechanism, const char *password, size_t password_len,
                            const uint8_t *salt, size_t salt_len, int32_t iterations,
                            scram_credential *out)
{
    if ((unsigned)mechanism >= SCRAM_MECHANISM_COUNT || salt_len == 0 ||
        salt_len > SCRAM_SALT_MAX || iterations < 1 || password_len > INT32_MAX)
        return ST_EINVAL;
    size_t key_bytes = scram_mechanism_key_bytes(mechanism);
    uint8_t salted[SCRAM_KEY_MAX];
    int rc = scram_salted_password(mechanism, password, password_len, salt, salt_len, iterations,
                                   salted);
    if (rc != 0)
        return rc;
    rc = scram_credential_from_salted(mechanism, salted, key_bytes, salt, salt_len, iterations,
                                      out);
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

int scram_credential_from_salted(scram_mechanism mechanism, const uint8_t *salted,
                                 size_t salted_len, const uint8_t *salt, size_t salt_len,
                                 int32_t iterations, scram_credential *out)
{
    if ((unsigned)mechanism >= SCRAM_MECHANISM_COUNT || salt_len == 0 ||
        salt_len > SCRAM_SALT_MAX || iterations < 1 ||
        salted_len != scram_mechanism_key_bytes(mechanism))
        return ST_EINVAL;
    const EVP_MD *md = mechanism_md(mechanism);
    size_t key_bytes = salted_len;
    uint8_t client_key[SCRAM_KEY_MAX];
    unsigned int n = 0;
    memset(out, 0, sizeof *out);
    int ok = HMAC(md, salted, (int)key_bytes, (const uint8_t *)"Client Key", 10, client_key, &n) != NULL;
    ok = ok && EVP_Digest(client_key, key_bytes, out->stored_key, &n, md, NULL) == 1;
    ok = ok && HMAC(md, salted, (int)key_bytes, (const uint8_t *)"Server Key", 10, out->server_key,
                    &n);
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (!ok)
        return ST_EIO;
    out->mechanism = mechanism;
    out->iterations = iterations;
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    return 0;
}

int scram_credential_make(scram_mechanism mechanism, const char *password, size_t password_len,
                          int32_t iterations, scram_credential *out)
{
    uint8_t salt[SCRAM_SALT_DEFAULT_BYTES];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return ST_EIO;
    return scram_credential_derive(mechanism, password, password_len, salt, sizeof salt,
                                   iterations, out);
}

/* Appends base64 of data at *used; false when it does not fit. */
static bool put_base64(char *out, size_t outlen, size_t *used, const uint8_t *data, size_t len)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (outlen - *used < need)
        return false;
    int n = EVP_EncodeBlock((unsigned char *)out + *used, data, (int)len);
    *used += (size_t)n;
    return true;
}

static bool put_text(char *out, size_t outlen, size_t *used, const char *text)
{
    size_t len = strlen(text);
    if (outlen - *used < len + 1)
        return false;
    memcpy(out + *used, text, len + 1);
    *used += len;
    return true;
}

int scram_credential_auth_password(const scram_credential *c, char *out, size_t outlen)
{
    char head[64];
    snprintf(head, sizeof head, "%s$%d:", mechanism_names[c->mechanism], (int)c->iterations);
    size_t used = 0, key_bytes = scram_mechanism_key_bytes(c->mechanism);
    if (outlen == 0)
        return ST_ETOOBIG;
    out[0] = '\0';
    bool ok = put_text(out, outlen, &used, head) &&
              put_base64(out, outlen, &used, c->salt, c->salt_len) &&
              put_text(out, outlen, &used, "$") &&
              put_base64(out, outlen, &used, c->stored_key, key_bytes) &&
              put_text(out, outlen, &used, ":") &&
              put_base64(out, outlen, &used, c->server_key, key_bytes);
    return ok ? 0 : ST_ETOOBIG;
}

scram_store *scram_store_new(void) { return calloc(1, sizeof(scram_store)); }

void scram_store_free(scram_store *s)
{
    if (!s)
        return;
    if (s->users)
        OPENSSL_cleanse(s->users, s->capacity * sizeof *s->users);
    free(s->users);
    free(s);
}

size_t scram_store_user_count(const scram_store *s) { return s->count; }

static scram_user *find_user(const scram_store *s, const char *user)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->users[i].name, user) == 0)
            return &s->users[i];
    return NULL;
}

int scram_store_set(scram_store *s, const char *user, const scram_credential *c)
{
    size_t len = strlen(user);
    if (len == 0 || len > SCRAM_USER_MAX || (unsigned)c->mechanism >= SCRAM_MECHANISM_COUNT)
        return ST_EINVAL;
    scram_user *u = find_user(s, user);
    if (!u) {
        if (s->count == s->capacity) {
            size_t capacity = s->capacity ? 2 * s->capacity : 8;
            scram_user *grown = realloc(s->users, capacity * sizeof *grown);
            if (!grown)
                return ST_ENOMEM;
            s->users = grown;
            s->capacity = capacity;
        }
        u = &s->users[s->count++];
        memset(u, 0, sizeof *u);
        memcpy(u->name, user, len + 1);
    }
    u->credentials[c->mechanism] = *c;
    u->has[c->mechanism] = true;
    return 0;
}

int scram_store_delete(scram_store *s, const char *user, scram_mechanism mechanism)
{
    scram_user *u = find_user(s, user);
    if (!u || (unsigned)mechanism >= SCRAM_MECHANISM_COUNT || !u->has[mechanism])
        return ST_ENOTFOUND;
    u->has[mechanism] = false;
    OPENSSL_cleanse(&u->credentials[mechanism], sizeof u->credentials[mechanism]);
    for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++)
        if (u->has[m])
            return 0;
    size_t index = (size_t)(u - s->users);
    memmove(u, u + 1, (s->count - index - 1) * sizeof *u);
    s->count--;
    return 0;
}

void scram_store_each(const scram_store *s,
                      void (*fn)(void *arg, const char *user, const scram_credential *c),
                      void *arg)
{
    for (size_t i = 0; i < s->count; i++)
        for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++)
            if (s->users[i].has[m])
                fn(arg, s->users[i].name, &s->users[i].credentials[m]);
}

void scram_store_swap(scram_store *a, scram_store *b)
{
    scram_store keep = *a;
    *a = *b;
    *b = keep;
}

bool scram_store_has_user(const scram_store *s, const char *user)
{
    return find_user(s, user) != NULL;
}

const scram_credential *scram_store_find(const scram_store *s, const char *user,
                                         scram_mechanism mechanism)
{
    const scram_user *u = find_user(s, user);
    if (!u || (unsigned)mechanism >= SCRAM_MECHANISM_COUNT || !u->has[mechanism])
        return NULL;
    return &u->credentials[mechanism];
}

bool scram_store_check_password(const scram_store *s, const char *user, const char *password,
                                size_t password_len)
{
    const scram_user *u = find_user(s, user);
    if (!u)
        return false;
    for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++) {
        if (!u->has[m])
            continue;
        const scram_credential *stored = &u->credentials[m];
        scram_credential computed;
        if (scram_credential_derive(stored->mechanism, password, password_len, stored->salt,
                                    stored->salt_len, stored->iterations, &computed) != 0)
            return false;
        size_t key_bytes = scram_mechanism_key_bytes(stored->mechanism);
        bool same = CRYPTO_memcmp(computed.stored_key, stored->stored_key, key_bytes) == 0 &&
                    CRYPTO_memcmp(computed.server_key, stored->server_key, key_bytes) == 0;
        OPENSSL_cleanse(&computed, sizeof computed);
        return same; /* the first credential decides: every one was made from one password */
    }
    return false;
}

/* One "user mechanism password" line (line[0..len), no newline). */
static int parse_line(scram_store *s, const char *line, size_t len, int line_number,
                      int32_t iterations, char *why, size_t whylen)
{
    size_t user_end = 0;
    while (user_end < len && line[user_end] != ' ' && line[user_end] != '\t')
        user_end++;
    size_t mech_start = user_end + 1, mech_end = mech_start;
    while (mech_end < len && line[mech_end] != ' ' && line[mech_end] != '\t')
        mech_end++;
    if (user_end == 0 || user_end > SCRAM_USER_MAX || mech_start >= len || mech_end >= len) {
        snprintf(why, whylen, "line %d: expected 'user mechanism password'", line_number);
        return ST_ECONFIG;
    }
    char user[SCRAM_USER_MAX + 1], mechanism[32];
    size_t mech_len = mech_end - mech_start;
    if (mech_len >= sizeof mechanism) {
        snprintf(why, whylen, "line %d: unknown mechanism", line_number);
        return ST_ECONFIG;
    }
    memcpy(user, line, user_end);
    user[user_end] = '\0';
    memcpy(mechanism, line + mech_start, mech_len);
    mechanism[mech_len] = '\0';
    int m = scram_mechanism_parse(mechanism);
    if (m < 0) {
        snprintf(why, whylen, "line %d: mechanism '%s' is not SCRAM-SHA-256 or SCRAM-SHA-512",
                 line_number, mechanism);
        return ST_ECONFIG;
    }
    const char *password = line + mech_end + 1;
    size_t password_len = len - mech_end - 1;
    if (password_len == 0 || password_len > PASSWORD_MAX_BYTES) {
        snprintf(why, whylen, "line %d: user %s: a password of 1 to %d bytes expected",
                 line_number, user, PASSWORD_MAX_BYTES);
        return ST_ECONFIG;
    }
    scram_credential c;
    int rc = scram_credential_make((scram_mechanism)m, password, password_len, iterations, &c);
    if (rc == 0)
        rc = scram_store_set(s, user, &c);
    OPENSSL_cleanse(&c, sizeof c);
    if (rc != 0) {
        snprintf(why, whylen, "line %d: user %s: %s", line_number, user, strait_strerror(rc));
        return ST_ECONFIG;
    }
    return 0;
}

int scram_store_parse_users(scram_store *s, const char *text, size_t len, int32_t iterations,
                            char *why, size_t whylen)
{
    if (iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX) {
        snprintf(why, whylen, "iterations %d outside %d..%d", (int)iterations,
                 SCRAM_ITERATIONS_MIN, SCRAM_ITERATIONS_MAX);
        return ST_ECONFIG;
    }
    int line_number = 0;
    for (size_t start = 0; start < len;) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        line_number++;
        size_t line_len = end - start;
        if (line_len > 0 && text[start + line_len - 1] == '\r')
            line_len--;
        for (size_t i = 0; i < line_len; i++) {
            if (text[start + i] == '\0') {
                snprintf(why, whylen, "line %d: a NUL byte", line_number);
                return ST_ECONFIG;
            }
        }
        if (line_len > 0 && text[start] != '#') {
            int rc = parse_line(s, text + start, line_len, line_number, iterations, why, whylen);
            if (rc != 0)
                return rc;
        }
        start = end + 1;
    }
    return 0;
}

int scram_store_load_users_file(scram_store *s, const char *path, int32_t iterations, char *why,
                                size_t whylen)
{
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, USERS_FILE_MAX_BYTES, &text, &len);
    if (rc != 0) {
        snprintf(why, whylen, "cannot read %s: %s", path, strait_strerror(rc));
        return ST_ECONFIG;
    }
    rc = scram_store_parse_users(s, text, len, iterations, why, whylen);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}
