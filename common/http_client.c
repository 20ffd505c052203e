/*
 * http_client.c - blocking HTTP/1.0 GET and POST for the control plane (http_client.h).
 * Non-blocking connect and poll() bound every step by timeout_ms, so an
 * unreachable or hung sidecar fails in seconds instead of hanging the CLI.
 */
#include "common/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int send_all(int fd, const char *data, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_ready(fd, POLLOUT, timeout_ms) != 0)
                return ST_EIO;
            continue;
        }
        if (n <= 0)
            return ST_EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until EOF into a malloc'ed buffer (NUL-terminated). */
static int read_all(int fd, int timeout_ms, char **out, size_t *out_len)
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
        ssize_t n = recv(fd, data + len, cap - 1 - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_ready(fd, POLLIN, timeout_ms) != 0) {
                free(data);
                return ST_EIO;
            }
            continue;
        }
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

static int request(const char *method, const char *address, const char *path, int timeout_ms,
                   int *status, char **body, size_t *body_len, char *err, size_t errlen)
{
    *body = NULL;
    *body_len = 0;
    int fd = -1;
    int rc = connect_to(address, timeout_ms, &fd, err, errlen);
    if (rc != 0)
        return rc;
    char request[8192];
    int n = snprintf(request, sizeof request,
                     "%s %s HTTP/1.0\r\nHost: %s\r\nAccept: */*\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     method, path, address);
    char *answer = NULL;
    size_t len = 0;
    if (n < 0 || (size_t)n >= sizeof request) {
        snprintf(err, errlen, "%s: request too long", address);
        rc = ST_EINVAL;
    } else if ((rc = send_all(fd, request, (size_t)n, timeout_ms)) != 0) {
        snprintf(err, errlen, "sidecar %s: cannot send: %s", address, strerror(errno));
    } else if ((rc = read_all(fd, timeout_ms, &answer, &len)) != 0) {
        snprintf(err, errlen, "sidecar %s: %s", address,
                 rc == ST_ETOOBIG ? "answer too large" : strerror(errno));
    }
    close(fd);
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
    memmove(answer, answer + offset, len - offset + 1);
    *status = code;
    *body = answer;
    *body_len = len - offset;
    return 0;
}

int http_client_get(const char *address, const char *path, int timeout_ms, int *status,
                       char **body, size_t *body_len, char *err, size_t errlen)
{
    return request("GET", address, path, timeout_ms, status, body, body_len, err, errlen);
}

int http_client_post(const char *address, const char *path, int timeout_ms, int *status,
                        char **body, size_t *body_len, char *err, size_t errlen)
{
    return request("POST", address, path, timeout_ms, status, body, body_len, err, errlen);
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
