/*
 * http_client.h - a tiny blocking HTTP/1.0 GET or POST against the control
 * plane's HTTP endpoints (a sidecar's admin routes, the witness): used by the
 * CLI (`strait offsets translate`, `strait status`, the failover verbs), the
 * sidecars' peer polling and votes, and the witness.
 * One request per connection; the answer is read until the server closes.
 */
#ifndef STRAIT_COMMON_HTTP_CLIENT_H
#define STRAIT_COMMON_HTTP_CLIENT_H

#include <stddef.h>

/* Largest answer accepted (a /status of many partitions fits). */
#define HTTP_CLIENT_BODY_BYTES_MAX (64 * 1024 * 1024)

/*
 * GET path (with its query, already escaped) from address ("host:port" or
 * "[v6]:port"), waiting at most timeout_ms for each step. On 0, *status is
 * the HTTP status and *body a malloc'ed NUL-terminated body (free it).
 * ST_EIO: cannot connect, reset or timed out; ST_ECORRUPT: not HTTP;
 * ST_ETOOBIG: answer over the limit. err says which, naming the address.
 */
int http_client_get(const char *address, const char *path, int timeout_ms, int *status,
                       char **body, size_t *body_len, char *err, size_t errlen);

/* The same as a POST without a body (parameters in the query string). */
int http_client_post(const char *address, const char *path, int timeout_ms, int *status,
                        char **body, size_t *body_len, char *err, size_t errlen);

/* Appends s to out percent-encoded for a query value (RFC 3986 unreserved
 * characters kept). False if it does not fit. */
int http_client_escape(const char *s, char *out, size_t outlen);

#endif
