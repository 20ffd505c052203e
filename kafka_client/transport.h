/*
 * transport.h - the byte stream under strait's own Kafka client: a blocking
 * TCP connection to one broker address, with a connect timeout and a
 * per-read/per-write timeout, optionally wrapped in TLS (OpenSSL, TLS 1.2+,
 * the server certificate verified against a CA file or the system's
 * defaults and matched against the host name or IP address dialled, an
 * optional client certificate for mTLS).
 *
 * For a command-line tool: one connection, one request at a time, so
 * blocking I/O with timeouts is all it needs (no event loop).
 */
#ifndef STRAIT_KAFKA_CLIENT_TRANSPORT_H
#define STRAIT_KAFKA_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kafka_transport kafka_transport;

typedef struct kafka_tls_settings {
    const char *ca_location;          /* PEM CA file; NULL or "" = the system's defaults */
    const char *certificate_location; /* PEM client certificate (chain); NULL = none */
    const char *key_location;         /* PEM private key of that certificate */
} kafka_tls_settings;

/* Connects to host:port (a name or an IP address; IPv6 without brackets)
 * within timeout_ms, then TLS when tls is not NULL. 0, or ST_EIO (no
 * connection, TLS handshake or verification failed), ST_ECONFIG (a CA,
 * certificate or key file OpenSSL cannot load) or ST_ENOMEM; err says which
 * address and why. */
int kafka_transport_open(const char *host, const char *port, const kafka_tls_settings *tls,
                         int timeout_ms, kafka_transport **out, char *err, size_t errlen);

/* Writes len bytes. 0 or ST_EIO (err says why: closed, timed out, ...). */
int kafka_transport_write(kafka_transport *t, const void *data, size_t len, char *err,
                          size_t errlen);
/* Reads exactly len bytes. 0 or ST_EIO (closed by the peer, timed out). */
int kafka_transport_read(kafka_transport *t, void *data, size_t len, char *err, size_t errlen);

void kafka_transport_close(kafka_transport *t);

#endif
