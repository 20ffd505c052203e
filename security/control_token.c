/*
 * control_token.c - the control plane's bearer token: load, generate once,
 * constant-time check (control_token.h).
 */
#include "security/control_token.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_io.h"

/* A file larger than this is not a token (a token and a newline fit). */
#define TOKEN_FILE_BYTES_MAX 1024

static bool token_char(char c)
{
    return c > ' ' && c < 127;
}

/* Checks and copies a file's content: one line of token characters. */
static int parse_token(const char *path, const char *data, size_t len, control_token *out,
                       char *err, size_t errlen)
{
    if (len > 0 && data[len - 1] == '\n')
        len--;
    if (len > 0 && data[len - 1] == '\r')
        len--;
    if (len < CONTROL_TOKEN_LENGTH_MIN || len > CONTROL_TOKEN_LENGTH_MAX) {
        snprintf(err, errlen, "control-plane token %s: expected one line of %d to %d characters, "
                 "got %zu", path, CONTROL_TOKEN_LENGTH_MIN, CONTROL_TOKEN_LENGTH_MAX, len);
        return ST_ECONFIG;
    }
    for (size_t i = 0; i < len; i++) {
        if (!token_char(data[i])) {
            snprintf(err, errlen, "control-plane token %s: character %zu is not printable ASCII "
                     "without blanks", path, i + 1);
            return ST_ECONFIG;
        }
    }
    memcpy(out->text, data, len);
    out->text[len] = '\0';
    out->length = len;
    return 0;
}

int control_token_load(const char *path, control_token *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        int saved = errno;
        snprintf(err, errlen, "control-plane token %s: %s", path, strerror(saved));
        return saved == ENOENT ? ST_ENOTFOUND : ST_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "control-plane token %s: not a regular file", path);
        return ST_ECONFIG;
    }
    if (st.st_mode & S_IROTH) {
        snprintf(err, errlen, "control-plane token %s: readable by every user (mode %04o); "
                 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
        return ST_ECONFIG;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_all(path, TOKEN_FILE_BYTES_MAX, &data, &len);
    if (rc != 0) {
        snprintf(err, errlen, "control-plane token %s: %s", path,
                 rc == ST_ETOOBIG ? "larger than a token" : strerror(errno));
        return rc == ST_ENOTFOUND ? ST_ENOTFOUND : rc == ST_ETOOBIG ? ST_ECONFIG : ST_EIO;
    }
    rc = parse_token(path, data, len, out, err, errlen);
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}

/* Fills text with 2 * CONTROL_TOKEN_RANDOM_BYTES hex digits and a newline. */
static int random_token(char *text, size_t textlen)
{
    unsigned char random[CONTROL_TOKEN_RANDOM_BYTES];
    size_t got = 0;
    while (got < sizeof random) {
        ssize_t n = getrandom(random + got, sizeof random - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ST_EIO;
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    if (textlen < 2 * sizeof random + 2)
        return ST_EINVAL;
    for (size_t i = 0; i < sizeof random; i++) {
        text[2 * i] = hex[random[i] >> 4];
        text[2 * i + 1] = hex[random[i] & 15];
    }
    text[2 * sizeof random] = '\n';
    text[2 * sizeof random + 1] = '\0';
    OPENSSL_cleanse(random, sizeof random);
    return 0;
}

/* Writes a new token to a private temporary file next to path and links it
 * to path. 0 when linked, ST_EEXISTS when path appeared meanwhile. */
static int create_token(const char *path, char *err, size_t errlen)
{
    char text[2 * CONTROL_TOKEN_RANDOM_BYTES + 2];
    char temporary[1200];
    if (snprintf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid()) >=
        (int)sizeof temporary) {
        snprintf(err, errlen, "control-plane token %s: path too long", path);
        return ST_EINVAL;
    }
    if (random_token(text, sizeof text) != 0) {
        snprintf(err, errlen, "control-plane token %s: no random bytes: %s", path,
                 strerror(errno));
        return ST_EIO;
    }
    unlink(temporary); /* a leftover of a crashed start of this pid */
    int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = fd < 0 ? ST_EIO : 0;
    if (rc == 0 && (file_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0))
        rc = ST_EIO;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && link(temporary, path) != 0) {
        saved = errno;
        rc = errno == EEXIST ? ST_EEXISTS : ST_EIO;
    }
    unlink(temporary);
    OPENSSL_cleanse(text, sizeof text);
    if (rc == ST_EIO)
        snprintf(err, errlen, "control-plane token %s: cannot write it: %s", path,
                 strerror(saved));
    return rc;
}

int control_token_load_or_create(const char *path, control_token *out, bool *created, char *err,
                                 size_t errlen)
{
    *created = false;
    int rc = control_token_load(path, out, err, errlen);
    if (rc != ST_ENOTFOUND)
        return rc;
    rc = create_token(path, err, errlen);
    if (rc != 0 && rc != ST_EEXISTS)
        return rc;
    *created = rc == 0;
    return control_token_load(path, out, err, errlen);
}

static void digest(const char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        memset(out, 0, 32); /* cannot happen with OpenSSL's own SHA-256 */
}

bool control_token_check_header(const control_token *token, const char *header,
                                const char **reason)
{
    static const char scheme[] = "Bearer ";
    if (!header || !header[0]) {
        *reason = "no credentials";
        return false;
    }
    if (strncasecmp(header, scheme, sizeof scheme - 1) != 0) {
        *reason = "not a Bearer token";
        return false;
    }
    const char *presented = header + sizeof scheme - 1;
    while (*presented == ' ')
        presented++;
    unsigned char expected_digest[32], presented_digest[32];
    digest(token->text, token->length, expected_digest);
    digest(presented, strlen(presented), presented_digest);
    bool equal = token->length > 0 &&
                 CRYPTO_memcmp(expected_digest, presented_digest, sizeof expected_digest) == 0;
    if (!equal)
        *reason = "wrong token";
    return equal;
}
