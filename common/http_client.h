/*
 * http_client.h - a tiny blocking HTTP/1.0 GET or POST against the control
 * plane's HTTP endpoints (a sidecar's admin routes, the witness): used by the
 * CLI (`strait offsets translate`, `strait status`, the failover verbs), the
 * sidecars' peer polling and votes, and the witness.
 * One request per connection; the answer is read until the server closes
 * (and checked against its Content-Length when it has one).
 *
 * Every call takes the credentials of the control plane (http_client_auth,
 * built from the topology by failover/control_plane.h): a bearer token sent
 * as `Authorization: Bearer`, and/or HTTPS with a client context whose
 * server certificate must name the identity called ("sidecar-east").
 */
#ifndef STRAIT_COMMON_HTTP_CLIENT_H
#define STRAIT_COMMON_HTTP_CLIENT_H

#include <stddef.h>

struct ssl_ctx_st;

/* Largest answer accepted (a /status of many partitions fits). */
#define HTTP_CLIENT_BODY_BYTES_MAX (64 * 1024 * 1024)

typedef struct http_client_auth {
    const char *bearer_token;      /* sent as Authorization: Bearer; NULL: none */
    struct ssl_ctx_st *tls;        /* HTTPS with this client context; NULL: plain HTTP */
    const char *peer_identity;     /* with tls: the name the server's certificate must
                                      carry (control_tls.h); required with tls */
} http_client_auth;

/*
 * GET path (with its query, already escaped) from address ("host:port" or
 * "[v6]:port") with auth (NULL: plain HTTP, no credentials), waiting at
 * most timeout_ms for each step. On 0, *status is the HTTP status and *body
 * a malloc'ed NUL-terminated body (free it).
 * ST_EIO: cannot connect, reset, timed out or the TLS handshake failed (a
 * server certificate that does not verify or name peer_identity);
 * ST_ECORRUPT: not HTTP or shorter than its Content-Length;
 * ST_ETOOBIG: answer over the limit. err says which, naming the address.
 */
int http_client_get(const http_client_auth *auth, const char *address, const char *path,
                    int timeout_ms, int *status, char **body, size_t *body_len, char *err,
                    size_t errlen);

/* The same as a POST without a body (parameters in the query string). */
int http_client_post(const http_client_auth *auth, const char *address, const char *path,
                     int timeout_ms, int *status, char **body, size_t *body_len, char *err,
                     size_t errlen);

/* Appends s to out percent-encoded for a query value (RFC 3986 unreserved
 * characters kept). False if it does not fit. */
int http_client_escape(const char *s, char *out, size_t outlen);

#endif
