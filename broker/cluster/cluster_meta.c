/*
 * cluster_meta.c - meta.properties (cluster id and node id of a data
 * directory; format in cluster_meta.h), random ids and their text form.
 */
#include "broker/cluster/cluster_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_io.h"
#include "common/error.h"
#include "common/log.h"

/* ---- uuid text ------------------------------------------------------------------ */

void cluster_uuid_format(const uint8_t id[16], char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool cluster_uuid_parse(const char *text, uint8_t id[16])
{
    int n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-')
            continue;
        int v = hex_value(*p);
        if (v < 0 || n >= 32)
            return false;
        if (n % 2 == 0)
            id[n / 2] = (uint8_t)(v << 4);
        else
            id[n / 2] |= (uint8_t)v;
        n++;
    }
    return n == 32;
}

/* ---- ids -------------------------------------------------------------------- */

static int random_bytes(uint8_t *out, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(out + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ST_EIO;
        got += (size_t)n;
    }
    return 0;
}

int cluster_uuid_v4(uint8_t out[16])
{
    if (random_bytes(out, 16) != 0)
        return ST_EIO;
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* version 4 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return 0;
}

static const char base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 16 bytes -> 22 chars of unpadded base64url + NUL. */
static void encode_base64url16(const uint8_t in[16], char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t have = 16 - i >= 3 ? 3 : 16 - i;
        if (have > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (have > 2)
            v |= in[i + 2];
        out[o++] = base64url[(v >> 18) & 63];
        out[o++] = base64url[(v >> 12) & 63];
        if (have > 1)
            out[o++] = base64url[(v >> 6) & 63];
        if (have > 2)
            out[o++] = base64url[v & 63];
    }
    out[o] = '\0';
}

int cluster_id_generate(char *out)
{
    /* Kafka's Uuid.randomUuid also avoids ids starting with '-'; the loop
     * ends after a couple of tries on average (1/64 chance per try). */
    for (int attempt = 0; attempt < 1000; attempt++) {
        uint8_t bytes[16];
        if (cluster_uuid_v4(bytes) != 0)
            return ST_EIO;
        encode_base64url16(bytes, out);
        if (out[0] != '-')
            return 0;
    }
    return ST_EIO;
}

bool cluster_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > CLUSTER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- meta.properties ---------------------------------------------------------- */

/* Parses text into out; ST_ECORRUPT with err naming path and line. */
static int parse_meta(const char *path, char *text, cluster_meta *out, char *err, size_t errlen)
{
    bool have_cluster = false, have_node = false;
    int line_no = 0;
    char *next = text;
    while (next && *next) {
        char *line = next;
        char *newline = strchr(line, '\n');
        if (newline)
            *newline = '\0';
        next = newline ? newline + 1 : NULL;
        line_no++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#' || line[0] == '!')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected key=value", path, line_no);
            return ST_ECORRUPT;
        }
        *eq = '\0';
        const char *key = line, *value = eq + 1;
        if (strcmp(key, "cluster.id") == 0) {
            if (!cluster_id_valid(value)) {
                snprintf(err, errlen, "%s:%d: invalid cluster.id", path, line_no);
                return ST_ECORRUPT;
            }
            snprintf(out->cluster_id, sizeof out->cluster_id, "%s", value);
            have_cluster = true;
        } else if (strcmp(key, "node.id") == 0 || strcmp(key, "broker.id") == 0) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || v < 0 || v > INT32_MAX) {
                snprintf(err, errlen, "%s:%d: invalid node.id", path, line_no);
                return ST_ECORRUPT;
            }
            out->node_id = (int32_t)v;
            have_node = true;
        } else if (strcmp(key, "version") == 0) {
            if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
                snprintf(err, errlen, "%s:%d: unsupported version %s", path, line_no, value);
                return ST_ECORRUPT;
            }
        }
        /* other keys (directory.id, ...) are ignored */
    }
    if (!have_cluster || !have_node) {
        snprintf(err, errlen, "%s: missing %s", path, have_cluster ? "node.id" : "cluster.id");
        return ST_ECORRUPT;
    }
    return 0;
}

static int create_meta(const char *dir, const char *configured_cluster_id, int32_t node_id,
                       cluster_meta *out, char *err, size_t errlen)
{
    if (configured_cluster_id[0] != '\0') {
        snprintf(out->cluster_id, sizeof out->cluster_id, "%s", configured_cluster_id);
    } else if (cluster_id_generate(out->cluster_id) != 0) {
        snprintf(err, errlen, "cannot generate a cluster id: no randomness available");
        return ST_EIO;
    }
    out->node_id = node_id;
    char text[256];
    int n = snprintf(text, sizeof text,
                     "# written by strait on the first start of this data directory\n"
                     "version=1\ncluster.id=%s\nnode.id=%d\n",
                     out->cluster_id, (int)node_id);
    if (n < 0 || (size_t)n >= sizeof text)
        return ST_EINVAL;
    int rc = file_write_atomic(dir, CLUSTER_META_FILE, text, (size_t)n);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s/%s", dir, CLUSTER_META_FILE);
        return rc;
    }
    log_info("cluster", "initialised data directory dir=%s cluster_id=%s node_id=%d", dir,
             out->cluster_id, (int)node_id);
    return 0;
}

int cluster_meta_load_or_create(const char *dir, const char *configured_cluster_id,
                                int32_t node_id, cluster_meta *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (configured_cluster_id[0] != '\0' && !cluster_id_valid(configured_cluster_id)) {
        snprintf(err, errlen,
                 "cluster.id '%.64s' is invalid: expected 1..%d characters of [A-Za-z0-9_-]",
                 configured_cluster_id, CLUSTER_ID_MAX);
        return ST_ECONFIG;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, CLUSTER_META_FILE);
    if (n < 0 || (size_t)n >= sizeof path)
        return ST_EINVAL;

    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, CLUSTER_META_FILE_BYTES_MAX, &text, &len);
    if (rc == ST_ENOTFOUND)
        return create_meta(dir, configured_cluster_id, node_id, out, err, errlen);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strait_strerror(rc));
        return rc == ST_ETOOBIG ? ST_ECORRUPT : ST_EIO;
    }
    if (memchr(text, '\0', len) != NULL) {
        free(text);
        snprintf(err, errlen, "%s: contains a NUL byte", path);
        return ST_ECORRUPT;
    }
    rc = parse_meta(path, text, out, err, errlen);
    free(text);
    if (rc != 0)
        return rc;
    if (configured_cluster_id[0] != '\0' && strcmp(configured_cluster_id, out->cluster_id) != 0) {
        snprintf(err, errlen,
                 "cluster.id mismatch: the broker config says '%s' but %s says '%s'; this data "
                 "directory belongs to another cluster (use another log.dirs, or fix cluster.id)",
                 configured_cluster_id, path, out->cluster_id);
        return ST_ECONFIG;
    }
    if (out->node_id != node_id) {
        snprintf(err, errlen,
                 "node.id mismatch: the broker config says %d but %s says %d; this data "
                 "directory belongs to another node (use another log.dirs, or fix node.id)",
                 (int)node_id, path, (int)out->node_id);
        return ST_ECONFIG;
    }
    return 0;
}
