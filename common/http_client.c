/*
 * http_client.c - blocking HTTP/1.0 GET and POST for the control plane (http_client.h).
 * Non-blocking connect and poll() bound every step by timeout_ms, so an
 * unreachable or hung sidecar fails in seconds instead of hanging the CLI.
 * HTTPS runs OpenSSL on the same non-blocking socket: each WANT_READ /
 * WANT_WRITE waits in poll() under the same timeout.
 */
#include "common/http_client.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"

/* Waits until fd is ready for events; ST_EIO on timeout or error. */
static int wait_ready(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        errno = ETIMEDOUT;
    return n == 1 ? 0 : ST_EIO;
}

static int connect_to(const char *address, int timeout_ms, int *out, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon) {
        snprintf(err, errlen, "%s: expected host:port", address);
        return ST_EINVAL;
    }
    size_t n = (size_t)(colon - address);
    const char *start = address;
    if (start[0] == '[' && n >= 2) {
        start++;
        n -= 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)n, start);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &list);
    if (gai != 0) {
        snprintf(err, errlen, "%s: %s", address, gai_strerror(gai));
        return ST_EIO;
    }
    int rc = ST_EIO, saved = ECONNREFUSED;
    for (struct addrinfo *a = list; a && rc != 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
        if (!ok && errno == EINPROGRESS && wait_ready(fd, POLLOUT, timeout_ms) == 0) {
            int so_error = 0;
            socklen_t len = sizeof so_error;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
            ok = so_error == 0;
            errno = so_error;
        }
        if (ok) {
            *out = fd;
            rc = 0;
        } else {
            saved = errno;
            close(fd);
        }
    }
    freeaddrinfo(list);
    if (rc != 0)
        snprintf(err, errlen, "cannot connect to sidecar %s: %s", address, strerror(saved));
    return rc;
}

/* One connection: the socket and, for HTTPS, its TLS session. */
typedef struct connection {
    int fd;
    SSL *ssl;
    int timeout_ms;
} connection;

/* After a TLS call returned n <= 0: waits for what OpenSSL needs and returns
 * 1 to retry, 0 for a clean end of stream, ST_EIO otherwise. */
static int tls_wait(connection *c, int n)
{
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ:
        return wait_ready(c->fd, POLLIN, c->timeout_ms) == 0 ? 1 : ST_EIO;
    case SSL_ERROR_WANT_WRITE:
        return wait_ready(c->fd, POLLOUT, c->timeout_ms) == 0 ? 1 : ST_EIO;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        if (errno == 0)
            errno = ECONNRESET;
        return ST_EIO;
    }
}

/* The TLS handshake; the server's certificate must verify and name identity. */
static int tls_start(connection *c, SSL_CTX *ctx, const char *identity, const char *address,
                     char *err, size_t errlen)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set1_host(c->ssl, identity) != 1) {
        snprintf(err, errlen, "%s: cannot set up TLS", address);
        return ST_ENOMEM;
    }
    /* evhttp closes without close_notify: the end of an answer is its
     * Content-Length (checked in request()), not the TLS close. */
    SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_connect(c->ssl);
        if (n == 1)
            return 0;
        int rc = tls_wait(c, n);
        if (rc == 1)
            continue;
        long verify = SSL_get_verify_result(c->ssl);
        unsigned long code = ERR_peek_last_error();
        char reason[256];
        if (verify != X509_V_OK)
            snprintf(reason, sizeof reason, "certificate of %s refused: %s", identity,
                     X509_verify_cert_error_string(verify));
        else if (code)
            ERR_error_string_n(code, reason, sizeof reason);
        else
            snprintf(reason, sizeof reason, "%s", strerror(errno ? errno : ECONNRESET));
        ERR_clear_error();
        snprintf(err, errlen, "TLS handshake with %s failed: %s", address, reason);
        return ST_EIO;
    }
}

static int send_all(connection *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            errno = 0;
            n = SSL_write(c->ssl, data, (int)len);
            if (n <= 0) {
                int rc = tls_wait(c, (int)n);
                if (rc == 1)
                    continue;
                return ST_EIO;
            }
        } else {
            n = send(c->fd, data, len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (wait_ready(c->fd, POLLOUT, c->timeout_ms) != 0)
                    return ST_EIO;
                continue;
            }
            if (n <= 0)
                return ST_EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Up to len bytes: > 0 read, 0 at the end, ST_EIO. */
static ssize_t receive(connection *c, char *data, size_t len)
{
    for (;;) {
        if (c->ssl) {
            errno = 0;
            int n = SSL_read(c->ssl, data, (int)len);
            if (n > 0)
                return n;
            int rc = tls_wait(c, n);
            if (rc == 1)
                continue;
            return rc;
        }
        ssize_t n = recv(c->fd, data, len, 0);
        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EINTR)
            return ST_EIO;
        if (wait_ready(c->fd, POLLIN, c->timeout_ms) != 0)
            return ST_EIO;
    }
}

/* Reads until EOF into a malloc'ed buffer (NUL-terminated). */
static int read_all(connection *c, char **out, size_t *out_len)
{
    size_t cap = 16384, len = 0;
    char *data = malloc(cap);
    if (!data)
        return ST_ENOMEM;
    for (;;) {
        if (len + 1 == cap) {
            if (cap > HTTP_CLIENT_BODY_BYTES_MAX) {
                free(data);
                return ST_ETOOBIG;
            }
            char *grown = realloc(data, cap * 2);
            if (!grown) {
                free(data);
                return ST_ENOMEM;
            }
            data = grown;
            cap *= 2;
        }
        ssize_t n = receive(c, data + len, cap - 1 - len);
        if (n < 0) {
            free(data);
            return ST_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    return 0;
}

/* The Content-Length of the head [answer, head_end), -1 when absent. */
static long long content_length(const char *answer, const char *head_end)
{
    static const char name[] = "\r\ncontent-length:";
    for (const char *p = answer; p + sizeof name - 1 <= head_end; p++) {
        if (strncasecmp(p, name, sizeof name - 1) != 0)
            continue;
        p += sizeof name - 1;
        while (*p == ' ')
            p++;
        char *end = NULL;
        long long value = strtoll(p, &end, 10);
        return end != p && value >= 0 ? value : -1;
    }
    return -1;
}

static int request(const http_client_auth *auth, const char *method, const char *address,
                   const char *path, int timeout_ms, int *status, char **body, size_t *body_len,
                   char *err, size_t errlen)
{
    *body = NULL;
    *body_len = 0;
    connection c = {.fd = -1, .ssl = NULL, .timeout_ms = timeout_ms};
    int rc = connect_to(address, timeout_ms, &c.fd, err, errlen);
    if (rc != 0)
        return rc;
    if (auth && auth->tls) {
        assert(auth->peer_identity);
        rc = tls_start(&c, auth->tls, auth->peer_identity, address, err, errlen);
    }
    char request[8192];
    int n = snprintf(request, sizeof request,
                     "%s %s HTTP/1.0\r\nHost: %s\r\nAccept: */*\r\nContent-Length: 0\r\n"
                     "%s%s%sConnection: close\r\n\r\n",
                     method, path, address, auth && auth->bearer_token ? "Authorization: Bearer " : "",
                     auth && auth->bearer_token ? auth->bearer_token : "",
                     auth && auth->bearer_token ? "\r\n" : "");
    char *answer = NULL;
    size_t len = 0;
    if (rc != 0) {
        /* err says why */
    } else if (n < 0 || (size_t)n >= sizeof request) {
        snprintf(err, errlen, "%s: request too long", address);
        rc = ST_EINVAL;
    } else if ((rc = send_all(&c, request, (size_t)n)) != 0) {
        snprintf(err, errlen, "sidecar %s: cannot send: %s", address, strerror(errno));
    } else if ((rc = read_all(&c, &answer, &len)) != 0) {
        snprintf(err, errlen, "sidecar %s: %s", address,
                 rc == ST_ETOOBIG ? "answer too large" : strerror(errno));
    }
    OPENSSL_cleanse(request, sizeof request); /* it may hold the token */
    if (c.ssl)
        SSL_free(c.ssl);
    close(c.fd);
    if (rc != 0)
        return rc;
    int code = 0;
    char *head_end = strstr(answer, "\r\n\r\n");
    if (!head_end || sscanf(answer, "HTTP/1.%*1[01] %3d", &code) != 1 || code < 100) {
        snprintf(err, errlen, "sidecar %s: not an HTTP answer", address);
        free(answer);
        return ST_ECORRUPT;
    }
    size_t offset = (size_t)(head_end + 4 - answer);
    long long expected = content_length(answer, head_end + 2);
    if (expected >= 0 && (size_t)expected != len - offset) {
        snprintf(err, errlen, "sidecar %s: answer of %zu bytes where Content-Length says %lld",
                 address, len - offset, expected);
        free(answer);
        return ST_ECORRUPT;
    }
    memmove(answer, answer + offset, len - offset + 1);
    *status = code;
    *body = answer;
    *body_len = len - offset;
    return 0;
}

int http_client_get(const http_client_auth *auth, const char *address, const char *path,
                    int timeout_ms, int *status, char **body, size_t *body_len, char *err,
                    size_t errlen)
{
    return request(auth, "GET", address, path, timeout_ms, status, body, body_len, err, errlen);
}

int http_client_post(const http_client_auth *auth, const char *address, const char *path,
                     int timeout_ms, int *status, char **body, size_t *body_len, char *err,
                     size_t errlen)
{
    return request(auth, "POST", address, path, timeout_ms, status, body, body_len, err, errlen);
}

int http_client_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t at = strlen(out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (at + (keep ? 1 : 3) >= outlen)
            return 0;
        if (keep) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    out[at] = '\0';
    return 1;
}
