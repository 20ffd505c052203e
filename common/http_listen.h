/*
 * http_listen.h - the one way strait opens an HTTP listener (broker
 * /metrics, sidecar admin, witness): libevent's evhttp with the limits of
 * common/limits.h (header and body size, idle timeout, at most
 * LIMIT_HTTP_CONNECTIONS connections, LIMIT_HTTP_REQUEST_SECONDS for each
 * request to arrive whole), a set of allowed methods, one callback for
 * every path; over HTTPS (bufferevent_openssl) when given a TLS server
 * context. A listener is freed with http_listen_free, never evhttp_free.
 */
#ifndef STRAIT_COMMON_HTTP_LISTEN_H
#define STRAIT_COMMON_HTTP_LISTEN_H

#include <event2/event.h>
#include <event2/http.h>

/*
 * Binds host:port (port 0 = any free port) on base. methods: EVHTTP_REQ_*
 * bits. On success *out is the server and *bound_port the port it listens
 * on. Returns 0, ST_ENOMEM, or ST_EIO (bind failed: errno says why).
 */
int http_listen(struct event_base *base, const char *host, int port, int methods,
                void (*cb)(struct evhttp_request *, void *), void *arg, struct evhttp **out,
                int *bound_port);

struct ssl_ctx_st;

/*
 * The same over HTTPS when tls is not NULL: every accepted connection runs
 * a TLS server session of tls (libevent's bufferevent_openssl) before evhttp
 * reads a byte; a failed handshake closes the connection. tls must outlive
 * the listener. The session of a request: http_listen_request_tls.
 */
int http_listen_tls(struct event_base *base, const char *host, int port, int methods,
                    struct ssl_ctx_st *tls, void (*cb)(struct evhttp_request *, void *), void *arg,
                    struct evhttp **out, int *bound_port);

/* Frees a listener from http_listen or http_listen_tls and its
 * connections (NULL: nothing). Call it before freeing the event base. */
void http_listen_free(struct evhttp *http);

/* The TLS session req arrived on (an OpenSSL SSL *), NULL over plain HTTP. */
void *http_listen_request_tls(struct evhttp_request *req);

#endif
