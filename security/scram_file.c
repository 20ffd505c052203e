/*
 * scram_file.c - the SASL users on disk (scram_file.h).
 *
 * Format (all integers big-endian):
 *
 *   OFFSET  SIZE  FIELD
 *   0       4     magic "SSCR"
 *   4       2     version, 1
 *   6       4     count of credentials that follow
 *   10      ...   count credentials, each:
 *                   2  user name length n (1..SCRAM_USER_MAX), then n bytes
 *                   1  mechanism (0 SCRAM-SHA-256, 1 SCRAM-SHA-512)
 *                   4  iterations (SCRAM_ITERATIONS_MIN..SCRAM_ITERATIONS_MAX)
 *                   1  salt length s (1..SCRAM_SALT_MAX), then s bytes
 *                   k  StoredKey, k = 32 (SHA-256) or 64 (SHA-512)
 *                   k  ServerKey
 *   end-4   4     CRC-32C of every byte before it
 *
 * No password is in the file. A file that is short, has trailing bytes, a
 * bad CRC or a field outside its range is corrupt: the load fails and the
 * store is left as it was.
 */
#include "security/scram_file.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"
#include "common/reader.h"

#define SCRAM_FILE_MAGIC "SSCR"
#define SCRAM_FILE_VERSION 1
#define SCRAM_FILE_HEADER_BYTES 10
#define SCRAM_FILE_CRC_BYTES 4
/* Smallest credential: a 1-byte name, a 1-byte salt, SHA-256 keys. */
#define SCRAM_FILE_CREDENTIAL_BYTES_MIN (2 + 1 + 1 + 4 + 1 + 1 + 2 * 32)

typedef struct encode_state {
    buf *out;
    int32_t count;
} encode_state;

static void encode_one(void *arg, const char *user, const scram_credential *c)
{
    encode_state *st = arg;
    size_t name_len = strlen(user), key_bytes = scram_mechanism_key_bytes(c->mechanism);
    buf_put_i16(st->out, (int16_t)name_len);
    buf_put(st->out, user, name_len);
    buf_put_i8(st->out, (int8_t)c->mechanism);
    buf_put_i32(st->out, c->iterations);
    buf_put_i8(st->out, (int8_t)c->salt_len);
    buf_put(st->out, c->salt, c->salt_len);
    buf_put(st->out, c->stored_key, key_bytes);
    buf_put(st->out, c->server_key, key_bytes);
    st->count++;
}

int scram_file_encode(const scram_store *s, buf *out)
{
    size_t start = out->len;
    buf_put(out, SCRAM_FILE_MAGIC, 4);
    buf_put_i16(out, SCRAM_FILE_VERSION);
    size_t count_at = out->len;
    buf_put_i32(out, 0);
    encode_state st = {out, 0};
    scram_store_each(s, encode_one, &st);
    if (!buf_ok(out))
        return out->err;
    store_i32(out->data + count_at, st.count);
    buf_put_i32(out, (int32_t)crc32c(0, out->data + start, out->len - start));
    return buf_ok(out) ? 0 : out->err;
}

/* One credential at r into loaded; false with why when it is refused. */
static bool decode_one(reader *r, int32_t index, scram_store *loaded, char *why, size_t whylen)
{
    char user[SCRAM_USER_MAX + 1];
    int16_t name_len = reader_i16(r);
    if (reader_ok(r) && (name_len < 1 || name_len > SCRAM_USER_MAX))
        reader_fail(r, ST_ECORRUPT, "user name length");
    const uint8_t *name = reader_ok(r) ? reader_bytes(r, (size_t)name_len) : NULL;
    int8_t mechanism = reader_i8(r);
    int32_t iterations = reader_i32(r);
    int8_t salt_len = reader_i8(r);
    if (reader_ok(r) && (mechanism < 0 || mechanism >= SCRAM_MECHANISM_COUNT))
        reader_fail(r, ST_ECORRUPT, "mechanism");
    if (reader_ok(r) && (iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX))
        reader_fail(r, ST_ECORRUPT, "iterations");
    if (reader_ok(r) && (salt_len < 1 || salt_len > SCRAM_SALT_MAX))
        reader_fail(r, ST_ECORRUPT, "salt length");
    if (!reader_ok(r)) {
        snprintf(why, whylen, "credential %d: %s at byte %zu", (int)index,
                 r->what ? r->what : "truncated", reader_offset(r));
        return false;
    }
    scram_credential c;
    memset(&c, 0, sizeof c);
    c.mechanism = (scram_mechanism)mechanism;
    c.iterations = iterations;
    c.salt_len = (size_t)salt_len;
    size_t key_bytes = scram_mechanism_key_bytes(c.mechanism);
    const uint8_t *salt = reader_bytes(r, c.salt_len);
    const uint8_t *stored = reader_bytes(r, key_bytes);
    const uint8_t *server = reader_bytes(r, key_bytes);
    if (!reader_ok(r)) {
        snprintf(why, whylen, "credential %d: truncated at byte %zu", (int)index,
                 reader_offset(r));
        return false;
    }
    memcpy(user, name, (size_t)name_len);
    user[name_len] = '\0';
    if (memchr(user, '\0', (size_t)name_len)) {
        snprintf(why, whylen, "credential %d: a NUL in the user name", (int)index);
        return false;
    }
    memcpy(c.salt, salt, c.salt_len);
    memcpy(c.stored_key, stored, key_bytes);
    memcpy(c.server_key, server, key_bytes);
    int rc = scram_store_set(loaded, user, &c);
    OPENSSL_cleanse(&c, sizeof c);
    if (rc != 0) {
        snprintf(why, whylen, "credential %d: %s", (int)index, strait_strerror(rc));
        return false;
    }
    return true;
}

int scram_file_decode(const void *data, size_t len, scram_store *into, char *why, size_t whylen)
{
    if (len < SCRAM_FILE_HEADER_BYTES + SCRAM_FILE_CRC_BYTES) {
        snprintf(why, whylen, "%zu bytes, shorter than a header and a checksum", len);
        return ST_ECORRUPT;
    }
    const uint8_t *bytes = data;
    reader crc_reader;
    reader_init(&crc_reader, bytes + len - SCRAM_FILE_CRC_BYTES, SCRAM_FILE_CRC_BYTES);
    if (crc32c(0, bytes, len - SCRAM_FILE_CRC_BYTES) != reader_u32(&crc_reader)) {
        snprintf(why, whylen, "checksum mismatch");
        return ST_ECRC;
    }
    reader r;
    reader_init(&r, bytes, len - SCRAM_FILE_CRC_BYTES);
    const uint8_t *magic = reader_bytes(&r, 4);
    int16_t version = reader_i16(&r);
    int32_t count = reader_i32(&r);
    if (!reader_ok(&r) || memcmp(magic, SCRAM_FILE_MAGIC, 4) != 0) {
        snprintf(why, whylen, "not a SCRAM users file (bad magic)");
        return ST_ECORRUPT;
    }
    if (version != SCRAM_FILE_VERSION) {
        snprintf(why, whylen, "version %d, this build reads %d", version, SCRAM_FILE_VERSION);
        return ST_EUNSUPPORTED;
    }
    if (count < 0 || (size_t)count > reader_remaining(&r) / SCRAM_FILE_CREDENTIAL_BYTES_MIN) {
        snprintf(why, whylen, "credential count %d does not fit the file", (int)count);
        return ST_ECORRUPT;
    }
    scram_store *loaded = scram_store_new();
    if (!loaded) {
        snprintf(why, whylen, "out of memory");
        return ST_ENOMEM;
    }
    int rc = 0;
    for (int32_t i = 0; rc == 0 && i < count; i++)
        if (!decode_one(&r, i, loaded, why, whylen))
            rc = ST_ECORRUPT;
    if (rc == 0 && reader_remaining(&r) != 0) {
        snprintf(why, whylen, "%zu bytes after the last credential", reader_remaining(&r));
        rc = ST_ECORRUPT;
    }
    if (rc == 0)
        scram_store_swap(into, loaded);
    scram_store_free(loaded);
    return rc;
}

int scram_file_save(const scram_store *s, const char *dir)
{
    buf out;
    buf_init(&out, LIMIT_SCRAM_FILE_BYTES);
    int rc = scram_file_encode(s, &out);
    if (rc == 0)
        rc = file_write_atomic(dir, SCRAM_FILE_NAME, out.data, out.len);
    OPENSSL_cleanse(out.data, out.len);
    buf_free(&out);
    return rc;
}

int scram_file_load(const char *dir, scram_store *into, bool *found, char *why, size_t whylen)
{
    char path[4096];
    *found = false;
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_in_dir(dir, SCRAM_FILE_NAME, LIMIT_SCRAM_FILE_BYTES, &data, &len, path,
                              sizeof path, why, whylen);
    if (rc == ST_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *found = true;
    char reason[512];
    rc = scram_file_decode(data, len, into, reason, sizeof reason);
    if (rc != 0)
        snprintf(why, whylen, "%s: %s", path, reason);
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}
