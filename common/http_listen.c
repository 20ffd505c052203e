/*
 * http_listen.c - an evhttp listener with strait's HTTP limits (see
 * http_listen.h).
 */
#include "common/http_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/limits.h"

/* evhttp's bufferevent factory for HTTPS: a server session per connection. */
static struct bufferevent *tls_bufferevent(struct event_base *base, void *arg)
{
    SSL *ssl = SSL_new(arg);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl,
                                                             BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        SSL_free(ssl);
    return bev;
}

int http_listen(struct event_base *base, const char *host, int port, int methods,
                void (*cb)(struct evhttp_request *, void *), void *arg, struct evhttp **out,
                int *bound_port)
{
    return http_listen_tls(base, host, port, methods, NULL, cb, arg, out, bound_port);
}

void *http_listen_request_tls(struct evhttp_request *req)
{
    struct evhttp_connection *connection = evhttp_request_get_connection(req);
    struct bufferevent *bev = connection ? evhttp_connection_get_bufferevent(connection) : NULL;
    return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

int http_listen_tls(struct event_base *base, const char *host, int port, int methods,
                    struct ssl_ctx_st *tls, void (*cb)(struct evhttp_request *, void *), void *arg,
                    struct evhttp **out, int *bound_port)
{
    *out = NULL;
    struct evhttp *http = evhttp_new(base);
    if (!http)
        return ST_ENOMEM;
    evhttp_set_max_headers_size(http, LIMIT_METRICS_REQUEST_HEADER_BYTES);
    evhttp_set_max_body_size(http, LIMIT_METRICS_REQUEST_BODY_BYTES);
    evhttp_set_timeout(http, LIMIT_METRICS_HTTP_TIMEOUT_SECONDS);
    evhttp_set_allowed_methods(http, (ev_uint16_t)methods);
    evhttp_set_gencb(http, cb, arg);
    if (tls)
        evhttp_set_bevcb(http, tls_bufferevent, tls);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
    if (!bound) {
        int saved = errno;
        evhttp_free(http);
        errno = saved;
        return ST_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *bound_port = port;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len) == 0)
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = http;
    return 0;
}
