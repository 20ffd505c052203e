/*
 * transport.c - TCP and TLS for strait's own Kafka client (transport.h):
 * getaddrinfo, a non-blocking connect bounded by poll, then blocking I/O
 * with SO_RCVTIMEO / SO_SNDTIMEO; OpenSSL's client side with peer
 * verification and host name (or IP address) checking.
 */
#include "kafka_client/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/error.h"

struct kafka_transport {
    int fd;
    SSL_CTX *ctx; /* NULL: plain TCP */
    SSL *ssl;
    char address[300]; /* host:port, for messages */
};

__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* OpenSSL's first queued reason, or fallback; empties the queue. */
static const char *openssl_reason(char *out, size_t outlen, const char *fallback)
{
    unsigned long code = ERR_get_error();
    if (code == 0)
        snprintf(out, outlen, "%s", fallback);
    else
        ERR_error_string_n(code, out, outlen);
    ERR_clear_error();
    return out;
}

/* One address: a connected socket within timeout_ms, or -1 with errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int ready;
        do
            ready = poll(&p, 1, timeout_ms);
        while (ready < 0 && errno == EINTR);
        int so_error = 0;
        socklen_t so_len = sizeof so_error;
        if (ready == 0) {
            so_error = ETIMEDOUT;
        } else if (ready > 0) {
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
        } else {
            so_error = errno;
        }
        rc = so_error == 0 ? 0 : -1;
        errno = so_error;
    }
    if (rc != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int tcp_connect(const char *host, const char *port, int timeout_ms, int *fd_out,
                       char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host, port, &hints, &list);
    if (gai != 0)
        return fail(ST_EIO, err, errlen, "%s:%s: cannot resolve: %s", host, port,
                    gai_strerror(gai));
    int fd = -1, last_errno = 0;
    for (const struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, timeout_ms);
        if (fd < 0)
            last_errno = errno;
    }
    freeaddrinfo(list);
    if (fd < 0)
        return fail(ST_EIO, err, errlen, "%s:%s: cannot connect: %s", host, port,
                    last_errno == ETIMEDOUT ? "no answer within the timeout"
                                            : strerror(last_errno));
    *fd_out = fd;
    return 0;
}

static int tls_context(const kafka_tls_settings *tls, SSL_CTX **out, char *err, size_t errlen)
{
    char reason[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return fail(ST_ENOMEM, err, errlen, "cannot create a TLS context: %s",
                    openssl_reason(reason, sizeof reason, "out of memory"));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int rc = 0;
    if (tls->ca_location && tls->ca_location[0]) {
        if (SSL_CTX_load_verify_locations(ctx, tls->ca_location, NULL) != 1)
            rc = fail(ST_ECONFIG, err, errlen, "ssl.ca.location %s: %s", tls->ca_location,
                      openssl_reason(reason, sizeof reason, "not a PEM CA file"));
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        rc = fail(ST_ECONFIG, err, errlen, "the system's CA certificates cannot be loaded: %s",
                  openssl_reason(reason, sizeof reason, "unknown reason"));
    }
    if (rc == 0 && tls->certificate_location && tls->certificate_location[0]) {
        if (SSL_CTX_use_certificate_chain_file(ctx, tls->certificate_location) != 1)
            rc = fail(ST_ECONFIG, err, errlen, "ssl.certificate.location %s: %s",
                      tls->certificate_location,
                      openssl_reason(reason, sizeof reason, "not a PEM certificate"));
        else if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_location, SSL_FILETYPE_PEM) != 1)
            rc = fail(ST_ECONFIG, err, errlen, "ssl.key.location %s: %s", tls->key_location,
                      openssl_reason(reason, sizeof reason, "not a PEM private key"));
        else if (SSL_CTX_check_private_key(ctx) != 1)
            rc = fail(ST_ECONFIG, err, errlen, "ssl.key.location %s does not belong to the "
                      "certificate %s", tls->key_location, tls->certificate_location);
    }
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

/* The TLS handshake on t->fd, checking the certificate names host. */
static int tls_handshake(kafka_transport *t, const char *host, char *err, size_t errlen)
{
    char reason[256];
    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
        return fail(ST_ENOMEM, err, errlen, "%s: cannot start TLS: %s", t->address,
                    openssl_reason(reason, sizeof reason, "out of memory"));
    unsigned char ip[sizeof(struct in6_addr)];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host);
    } else {
        SSL_set_tlsext_host_name(t->ssl, host);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(t->ssl, host);
    }
    if (SSL_connect(t->ssl) == 1)
        return 0;
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK)
        return fail(ST_EIO, err, errlen, "%s: TLS: the broker's certificate is not trusted: %s",
                    t->address, X509_verify_cert_error_string(verify));
    return fail(ST_EIO, err, errlen, "%s: TLS handshake failed: %s", t->address,
                openssl_reason(reason, sizeof reason,
                               errno ? strerror(errno) : "the broker closed the connection"));
}

int kafka_transport_open(const char *host, const char *port, const kafka_tls_settings *tls,
                         int timeout_ms, kafka_transport **out, char *err, size_t errlen)
{
    kafka_transport *t = calloc(1, sizeof *t);
    if (!t)
        return fail(ST_ENOMEM, err, errlen, "out of memory");
    t->fd = -1;
    snprintf(t->address, sizeof t->address, "%s:%s", host, port);
    int rc = tls ? tls_context(tls, &t->ctx, err, errlen) : 0;
    if (rc == 0)
        rc = tcp_connect(host, port, timeout_ms, &t->fd, err, errlen);
    if (rc == 0 && tls) {
        errno = 0;
        rc = tls_handshake(t, host, err, errlen);
    }
    if (rc != 0) {
        kafka_transport_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

static const char *io_reason(int saved_errno)
{
    return saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ? "no answer within the timeout"
           : saved_errno                                      ? strerror(saved_errno)
                                    : "the broker closed the connection";
}

int kafka_transport_write(kafka_transport *t, const void *data, size_t len, char *err,
                          size_t errlen)
{
    const uint8_t *p = data;
    while (len > 0) {
        errno = 0;
        ssize_t n;
        if (t->ssl) {
            int chunk = len > INT32_MAX ? INT32_MAX : (int)len;
            n = SSL_write(t->ssl, p, chunk);
            if (n <= 0) {
                ERR_clear_error();
                n = -1;
            }
        } else {
            n = send(t->fd, p, len, MSG_NOSIGNAL);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(ST_EIO, err, errlen, "%s: cannot send: %s", t->address, io_reason(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kafka_transport_read(kafka_transport *t, void *data, size_t len, char *err, size_t errlen)
{
    uint8_t *p = data;
    while (len > 0) {
        errno = 0;
        ssize_t n;
        if (t->ssl) {
            int chunk = len > INT32_MAX ? INT32_MAX : (int)len;
            n = SSL_read(t->ssl, p, chunk);
            if (n <= 0) {
                ERR_clear_error();
                n = n == 0 ? 0 : -1;
            }
        } else {
            n = recv(t->fd, p, len, 0);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(ST_EIO, err, errlen, "%s: cannot read the answer: %s", t->address,
                        io_reason(n == 0 ? 0 : errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void kafka_transport_close(kafka_transport *t)
{
    if (!t)
        return;
    if (t->ssl) {
        SSL_shutdown(t->ssl);
        SSL_free(t->ssl);
    }
    if (t->ctx)
        SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}
