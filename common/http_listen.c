/*
 * http_listen.c - an evhttp listener with strait's HTTP limits (see
 * http_listen.h).
 *
 * libevent 2.1's evhttp has neither a connection cap nor a deadline for a
 * whole request (its timeout restarts at every byte), and no hook when it
 * accepts or frees a connection. It does let us make each connection's
 * bufferevent (evhttp_set_bevcb): ours is a pass-through filter
 * (bufferevent_filter) over the socket or TLS bufferevent, whose context
 * (http_connection) is freed by libevent when evhttp frees the connection.
 * That gives both ends of a connection's life, so:
 * - at most LIMIT_HTTP_CONNECTIONS are counted open; a connection past it
 *   gets its bufferevent all the same (evhttp would make one otherwise) and
 *   a timer of 0 s that ends it at the next turn of the loop, logged at
 *   most once a second;
 * - each connection has a deadline timer, LIMIT_HTTP_REQUEST_SECONDS from
 *   its accept, stopped when a request is handed to the callback and
 *   started again when its response is sent (evhttp's on-complete hook):
 *   a request that does not arrive whole in time ends the connection, as
 *   evhttp's own timeout does (a timeout event on its bufferevent).
 *
 * The listener's state (http_server) lives until the listener and every
 * one of its connections are gone: libevent frees a connection's filter
 * context after evhttp_free returns, at the next turn of the loop or at
 * event_base_free. http_listen_free finds it in a short process-wide list.
 */
#include "common/http_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

typedef struct http_server {
    struct http_server *next; /* in servers */
    struct evhttp *http;      /* NULL once http_listen_free ran */
    SSL_CTX *tls;             /* NULL for plain HTTP */
    void (*cb)(struct evhttp_request *, void *);
    void *arg;
    int references;           /* the listener (until http_listen_free) + each connection */
    int connections;          /* counted open (not the refused ones) */
    struct http_connection *open; /* every connection whose filter is alive */
    int64_t refusal_logged_ms; /* -1 = never */
    uint64_t refusals_unlogged;
} http_server;

typedef struct http_connection {
    struct http_connection *prev, *next; /* in server->open */
    http_server *server;
    struct bufferevent *bev; /* the filter evhttp reads through */
    struct event *deadline;
    bool counted;
} http_connection;

/* Every listener open in the process, for http_listen_free. Several loops
 * (threads) may open and free listeners, hence the lock; it is never taken
 * on a request's path. */
static pthread_mutex_t servers_lock = PTHREAD_MUTEX_INITIALIZER;
static http_server *servers;

static void server_unref(http_server *s)
{
    if (--s->references == 0)
        free(s);
}

/* Ends the connection as evhttp's own timeout would. Deferred, so that
 * evhttp frees it from the loop and never under our feet. */
static void connection_end(http_connection *c)
{
    void (*eventcb)(struct bufferevent *, short, void *) = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
    if (eventcb) /* NULL once evhttp has let the connection go */
        bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
                                  BEV_OPT_DEFER_CALLBACKS);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_connection *c = arg;
    if (c->counted)
        log_info("http", "closing connection: no whole request within %d s",
                 LIMIT_HTTP_REQUEST_SECONDS);
    connection_end(c);
}

static void deadline_start(http_connection *c, int seconds)
{
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    evtimer_add(c->deadline, &tv);
}

/* libevent frees the filter: evhttp has freed the connection. */
static void connection_free(void *arg)
{
    http_connection *c = arg;
    event_free(c->deadline);
    http_server *s = c->server;
    if (c->counted)
        s->connections--;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->open = c->next;
    if (c->next)
        c->next->prev = c->prev;
    server_unref(s);
    free(c);
}

static void log_refusal(http_server *s)
{
    int64_t now = clock_mono_ms();
    if (s->refusal_logged_ms >= 0 && now - s->refusal_logged_ms < LIMIT_CONNECTION_REFUSAL_LOG_MS) {
        s->refusals_unlogged++;
        return;
    }
    log_warn("http", "refusing connection: %d connections open, the limit "
             "refused_unlogged=%llu", s->connections, (unsigned long long)s->refusals_unlogged);
    s->refusal_logged_ms = now;
    s->refusals_unlogged = 0;
}

/* evhttp's bufferevent factory: the filter over a socket or TLS session. */
static struct bufferevent *connection_bufferevent(struct event_base *base, void *arg)
{
    http_server *s = arg;
    struct bufferevent *transport = NULL;
    if (s->tls) {
        SSL *ssl = SSL_new(s->tls);
        if (!ssl)
            return NULL;
        transport = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                   BEV_OPT_CLOSE_ON_FREE);
        if (!transport)
            SSL_free(ssl);
    } else {
        transport = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    http_connection *c = transport ? calloc(1, sizeof *c) : NULL;
    if (c)
        c->deadline = evtimer_new(base, deadline_cb, c);
    if (c && c->deadline)
        c->bev = bufferevent_filter_new(transport, NULL, NULL, BEV_OPT_CLOSE_ON_FREE,
                                        connection_free, c);
    if (!c || !c->bev) {
        if (c && c->deadline)
            event_free(c->deadline);
        free(c);
        if (transport)
            bufferevent_free(transport);
        return NULL; /* evhttp falls back to a plain bufferevent: no worse than before */
    }
    c->server = s;
    s->references++;
    c->next = s->open;
    if (s->open)
        s->open->prev = c;
    s->open = c;
    if (s->connections >= LIMIT_HTTP_CONNECTIONS) {
        log_refusal(s);
        deadline_start(c, 0); /* evhttp has not set its callbacks yet: end it next turn */
        return c->bev;
    }
    c->counted = true;
    s->connections++;
    deadline_start(c, LIMIT_HTTP_REQUEST_SECONDS);
    return c->bev;
}

/* The response is written: the next request gets a fresh deadline. */
static void request_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    http_connection *c = arg;
    deadline_start(c, LIMIT_HTTP_REQUEST_SECONDS);
}

/* The connection req arrived on: its filter is in the server's list. */
static http_connection *connection_of(http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *connection = evhttp_request_get_connection(req);
    struct bufferevent *bev = connection ? evhttp_connection_get_bufferevent(connection) : NULL;
    for (http_connection *c = s->open; bev && c; c = c->next)
        if (c->bev == bev)
            return c;
    return NULL;
}

/* A whole request arrived: its deadline stops while it is answered, and
 * starts again once the response is written. */
static void request_cb(struct evhttp_request *req, void *arg)
{
    http_server *s = arg;
    http_connection *c = connection_of(s, req);
    if (c) {
        evtimer_del(c->deadline);
        evhttp_request_set_on_complete_cb(req, request_complete, c);
    }
    s->cb(req, s->arg);
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
    struct bufferevent *transport = bev ? bufferevent_get_underlying(bev) : NULL;
    /* the filter over the TLS session; a plain bufferevent if the filter could not be made */
    return bufferevent_openssl_get_ssl(transport ? transport : bev);
}

int http_listen_tls(struct event_base *base, const char *host, int port, int methods,
                    struct ssl_ctx_st *tls, void (*cb)(struct evhttp_request *, void *), void *arg,
                    struct evhttp **out, int *bound_port)
{
    *out = NULL;
    http_server *s = calloc(1, sizeof *s);
    struct evhttp *http = s ? evhttp_new(base) : NULL;
    if (!http) {
        free(s);
        return ST_ENOMEM;
    }
    s->http = http;
    s->tls = tls;
    s->cb = cb;
    s->arg = arg;
    s->references = 1;
    s->refusal_logged_ms = -1;
    evhttp_set_max_headers_size(http, LIMIT_METRICS_REQUEST_HEADER_BYTES);
    evhttp_set_max_body_size(http, LIMIT_METRICS_REQUEST_BODY_BYTES);
    evhttp_set_timeout(http, LIMIT_METRICS_HTTP_TIMEOUT_SECONDS);
    evhttp_set_allowed_methods(http, (ev_uint16_t)methods);
    evhttp_set_gencb(http, request_cb, s);
    evhttp_set_bevcb(http, connection_bufferevent, s);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
    if (!bound) {
        int saved = errno;
        evhttp_free(http);
        free(s);
        errno = saved;
        return ST_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *bound_port = port;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len) == 0)
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    pthread_mutex_lock(&servers_lock);
    s->next = servers;
    servers = s;
    pthread_mutex_unlock(&servers_lock);
    *out = http;
    return 0;
}

void http_listen_free(struct evhttp *http)
{
    if (!http)
        return;
    pthread_mutex_lock(&servers_lock);
    http_server *s = NULL;
    for (http_server **link = &servers; *link; link = &(*link)->next) {
        if ((*link)->http == http) {
            s = *link;
            *link = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&servers_lock);
    evhttp_free(http); /* frees its connections; libevent frees their filters later */
    if (s) {
        s->http = NULL;
        server_unref(s);
    }
}
