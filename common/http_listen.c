/*
 * http_listen.c - an evhttp listener with strait's HTTP limits (see
 * http_listen.h).
 */
#include "common/http_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/limits.h"

int http_listen(struct event_base *base, const char *host, int port, int methods,
                void (*cb)(struct evhttp_request *, void *), void *arg, struct evhttp **out,
                int *bound_port)
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
