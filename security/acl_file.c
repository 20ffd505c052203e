/*
 * acl_file.c - the ACL store on disk (acl_file.h): one file, rewritten
 * atomically on every change, read back at start through the bounded reader.
 *
 * Format (all integers big-endian):
 *
 *   OFFSET  SIZE  FIELD
 *   0       4     magic "SACL"
 *   4       2     version, 1
 *   6       4     count of bindings that follow
 *   10      ...   count bindings, each:
 *                   1  resource type    (acl.h, Kafka's values)
 *                   1  pattern type
 *                   1  operation
 *                   1  permission
 *                   2  name length n, then n bytes (no NUL)
 *                   2  principal length, then its bytes
 *                   2  host length, then its bytes
 *   end-4   4     CRC-32C of every byte before it
 *
 * A file that is short, has trailing bytes, a bad CRC, a string longer than
 * its field in acl_binding, or a binding acl_binding_check refuses is
 * corrupt: the load fails and the store is left as it was.
 */
#include "security/acl_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"
#include "common/reader.h"

#define ACL_FILE_MAGIC "SACL"
#define ACL_FILE_VERSION 1
#define ACL_FILE_HEADER_BYTES 10
#define ACL_FILE_CRC_BYTES 4
/* Smallest binding: four bytes of enums and three empty strings. */
#define ACL_FILE_BINDING_BYTES_MIN 10

static void put_string(buf *b, const char *s)
{
    size_t len = strlen(s);
    buf_put_i16(b, (int16_t)len);
    buf_put(b, s, len);
}

int acl_file_encode(const acl_store *s, buf *out)
{
    buf_put(out, ACL_FILE_MAGIC, 4);
    buf_put_i16(out, ACL_FILE_VERSION);
    buf_put_i32(out, (int32_t)acl_store_count(s));
    for (size_t i = 0; i < acl_store_count(s); i++) {
        const acl_binding *b = acl_store_get(s, i);
        buf_put_i8(out, b->resource_type);
        buf_put_i8(out, b->pattern_type);
        buf_put_i8(out, b->operation);
        buf_put_i8(out, b->permission);
        put_string(out, b->resource_name);
        put_string(out, b->principal);
        put_string(out, b->host);
    }
    if (!buf_ok(out))
        return out->err;
    buf_put_i32(out, (int32_t)crc32c(0, out->data, out->len));
    return buf_ok(out) ? 0 : out->err;
}

/* Reads a length-prefixed string into field (size bytes with its NUL). */
static void read_string(reader *r, char *field, size_t size, const char *what)
{
    int16_t len = reader_i16(r);
    if (!reader_ok(r))
        return;
    if (len < 0 || (size_t)len >= size) {
        reader_fail(r, ST_ECORRUPT, what);
        return;
    }
    const uint8_t *bytes = reader_bytes(r, (size_t)len);
    if (!reader_ok(r))
        return;
    memcpy(field, bytes, (size_t)len);
    field[len] = '\0';
    if (memchr(field, '\0', (size_t)len))
        reader_fail(r, ST_ECORRUPT, what);
}

int acl_file_decode(const void *data, size_t len, acl_store *into, char *why, size_t whylen)
{
    if (len < ACL_FILE_HEADER_BYTES + ACL_FILE_CRC_BYTES) {
        snprintf(why, whylen, "%zu bytes, shorter than a header and a checksum", len);
        return ST_ECORRUPT;
    }
    const uint8_t *bytes = data;
    reader crc_reader;
    reader_init(&crc_reader, bytes + len - ACL_FILE_CRC_BYTES, ACL_FILE_CRC_BYTES);
    uint32_t stored_crc = reader_u32(&crc_reader);
    if (crc32c(0, bytes, len - ACL_FILE_CRC_BYTES) != stored_crc) {
        snprintf(why, whylen, "checksum mismatch");
        return ST_ECRC;
    }
    reader r;
    reader_init(&r, bytes, len - ACL_FILE_CRC_BYTES);
    const uint8_t *magic = reader_bytes(&r, 4);
    int16_t version = reader_i16(&r);
    int32_t count = reader_i32(&r);
    if (!reader_ok(&r) || memcmp(magic, ACL_FILE_MAGIC, 4) != 0) {
        snprintf(why, whylen, "not an ACL file (bad magic)");
        return ST_ECORRUPT;
    }
    if (version != ACL_FILE_VERSION) {
        snprintf(why, whylen, "version %d, this build reads %d", version, ACL_FILE_VERSION);
        return ST_EUNSUPPORTED;
    }
    if (count < 0 || count > LIMIT_ACL_BINDINGS ||
        (size_t)count > reader_remaining(&r) / ACL_FILE_BINDING_BYTES_MIN) {
        snprintf(why, whylen, "binding count %d does not fit the file", count);
        return ST_ECORRUPT;
    }
    acl_store *loaded = acl_store_new();
    if (!loaded) {
        snprintf(why, whylen, "out of memory");
        return ST_ENOMEM;
    }
    int rc = 0;
    acl_binding b;
    for (int32_t i = 0; rc == 0 && i < count; i++) {
        memset(&b, 0, sizeof b);
        b.resource_type = reader_i8(&r);
        b.pattern_type = reader_i8(&r);
        b.operation = reader_i8(&r);
        b.permission = reader_i8(&r);
        read_string(&r, b.resource_name, sizeof b.resource_name, "resource name");
        read_string(&r, b.principal, sizeof b.principal, "principal");
        read_string(&r, b.host, sizeof b.host, "host");
        char reason[256];
        if (!reader_ok(&r)) {
            snprintf(why, whylen, "binding %d: %s at byte %zu", i, r.what ? r.what : "truncated",
                     reader_offset(&r));
            rc = ST_ECORRUPT;
        } else if ((rc = acl_store_add(loaded, &b, reason, sizeof reason)) != 0) {
            snprintf(why, whylen, "binding %d: %s", i, reason);
            rc = rc == ST_EINVAL ? ST_ECORRUPT : rc;
        }
    }
    if (rc == 0 && reader_remaining(&r) != 0) {
        snprintf(why, whylen, "%zu bytes after the last binding", reader_remaining(&r));
        rc = ST_ECORRUPT;
    }
    if (rc == 0)
        acl_store_swap(into, loaded);
    acl_store_free(loaded);
    return rc;
}

int acl_file_save(const acl_store *s, const char *dir)
{
    buf out;
    buf_init(&out, LIMIT_ACL_FILE_BYTES);
    int rc = acl_file_encode(s, &out);
    if (rc == 0)
        rc = file_write_atomic(dir, ACL_FILE_NAME, out.data, out.len);
    buf_free(&out);
    return rc;
}

int acl_file_load(const char *dir, acl_store *into, char *why, size_t whylen)
{
    char path[4096];
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_in_dir(dir, ACL_FILE_NAME, LIMIT_ACL_FILE_BYTES, &data, &len, path,
                              sizeof path, why, whylen);
    if (rc == ST_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    char reason[512];
    rc = acl_file_decode(data, len, into, reason, sizeof reason);
    if (rc != 0)
        snprintf(why, whylen, "%s: %s", path, reason);
    free(data);
    return rc;
}
