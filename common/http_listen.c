/*
 * http_listen.c - an evhttp listener with strait's HTTP limits (see
 * http_listen.h).
 *
 * libevent 2.1's evhttp has neither a connection cap nor a deadline for a
 * whole request (its timeout restarts at every byte), and no hook when it
 * accepts a connection. It does let us make each connection's bufferevent
 * (evhttp_set_bevcb), and evhttp hands its connection to that
 * bufferevent's callbacks as their argument. So each connection gets a
 * state (http_connection), counted at once against LIMIT_HTTP_CONNECTIONS
 * (past it, refused and logged at most once a second), and a timer of 0 s:
 * at the next turn of the loop the timer finds the evhttp connection
 * through the bufferevent (or its first request does, when it comes in that
 * same turn) and
 *   - frees a refused one (the client sees the connection closed, or a 503
 *     for a request that came first);
 *   - for a counted one, asks evhttp to call us when it frees the
 *     connection (its close callback), and starts the deadline:
 *     LIMIT_HTTP_REQUEST_SECONDS for a whole request, stopped when a
 *     request is handed to the callback and started again once its
 *     response is written (evhttp's on-complete hook). A request that has
 *     not arrived whole by then ends the connection.
 * If evhttp freed the connection before that turn (the client closed at
 * once), its bufferevent has no callbacks left: libevent frees the
 * bufferevent later in that same turn, after the timer, so the state is
 * simply dropped.
 *
 * The listener's state (http_server) lives until the listener and every
 * one of its connections are gone (evhttp_free calls the close callbacks);
 * http_listen_free finds it in a short process-wide list.
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
    int references;           /* the listener (until http_listen_free) + each state */
    int connections;          /* states holding a slot (counted) */
    struct http_connection *states; /* every connection state alive */
    int64_t refusal_logged_ms; /* -1 = never */
    uint64_t refusals_unlogged;
} http_server;

typedef struct http_connection {
    struct http_connection *prev, *next; /* in server->states */
    http_server *server;
    struct bufferevent *bev;              /* until the first timer turn */
    struct evhttp_connection *connection; /* once admitted, until evhttp frees it */
    struct event *timer;                  /* first 0 s, then the deadline */
    bool counted;                         /* holds one of LIMIT_HTTP_CONNECTIONS */
    bool in_deadline;                     /* evhttp frees it from our timer */
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

static void state_free(http_connection *c)
{
    http_server *s = c->server;
    if (c->counted)
        s->connections--;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->states = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->timer);
    free(c);
    server_unref(s);
}

static void timer_start(http_connection *c, int seconds)
{
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    evtimer_add(c->timer, &tv);
}

/* evhttp frees the connection (its close callback). */
static void connection_closed(struct evhttp_connection *connection, void *arg)
{
    (void)connection;
    http_connection *c = arg;
    if (c->in_deadline) { /* deadline_cb frees the state when evhttp returns */
        c->connection = NULL;
        return;
    }
    state_free(c);
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

/* The deadline passed without a whole request: evhttp frees the
 * connection (and its request, never handed to the callback while the
 * deadline runs). */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_connection *c = arg;
    log_info("http", "closing connection: no whole request within %d s",
             LIMIT_HTTP_REQUEST_SECONDS);
    c->in_deadline = true;
    evhttp_connection_free(c->connection); /* calls connection_closed */
    state_free(c);
}

/* Takes over c's evhttp connection: for a counted one, asks evhttp for its
 * close callback and starts the deadline; a refused one (past
 * LIMIT_HTTP_CONNECTIONS when it was accepted) is freed and false returned
 * (the caller ends the connection). */
static bool admit(http_connection *c, struct evhttp_connection *connection)
{
    c->bev = NULL; /* evhttp owns it; never touched again */
    evtimer_del(c->timer);
    if (!c->counted) {
        state_free(c);
        return false;
    }
    c->connection = connection;
    evhttp_connection_set_closecb(c->connection, connection_closed, c);
    event_assign(c->timer, event_get_base(c->timer), -1, 0, deadline_cb, c);
    timer_start(c, LIMIT_HTTP_REQUEST_SECONDS);
    return true;
}

/* The first turn of the loop after the accept: count or refuse. */
static void admit_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_connection *c = arg;
    void (*eventcb)(struct bufferevent *, short, void *) = NULL;
    void *connection = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, &eventcb, &connection);
    if (!eventcb || !connection) { /* evhttp let it go already */
        state_free(c);
        return;
    }
    if (!admit(c, connection))
        evhttp_connection_free(connection);
}

/* evhttp's bufferevent factory: a socket or TLS bufferevent, and its state. */
static struct bufferevent *connection_bufferevent(struct event_base *base, void *arg)
{
    http_server *s = arg;
    struct bufferevent *bev = NULL;
    if (s->tls) {
        SSL *ssl = SSL_new(s->tls);
        if (!ssl)
            return NULL;
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (!bev)
            SSL_free(ssl);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    http_connection *c = bev ? calloc(1, sizeof *c) : NULL;
    if (c)
        c->timer = evtimer_new(base, admit_cb, c);
    if (!c || !c->timer) {
        free(c);
        if (bev)
            bufferevent_free(bev);
        return NULL; /* evhttp makes a plain one: uncounted, as before the limits */
    }
    c->server = s;
    c->bev = bev;
    s->references++;
    /* counted at once: connections accepted in one burst all count before
     * the first of them is admitted */
    if (s->connections < LIMIT_HTTP_CONNECTIONS) {
        c->counted = true;
        s->connections++;
    } else {
        log_refusal(s);
    }
    c->next = s->states;
    if (s->states)
        s->states->prev = c;
    s->states = c;
    timer_start(c, 0); /* evhttp sets its callbacks before the loop turns */
    return bev;
}

/* The response is written: the next request gets a fresh deadline. */
static void request_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    http_connection *c = arg;
    timer_start(c, LIMIT_HTTP_REQUEST_SECONDS);
}

/* The state of the connection req arrived on: counted, or (when its
 * request came in the same turn of the loop as its accept) not yet
 * admitted; NULL if it has none (evhttp made its bufferevent). */
static http_connection *connection_of(http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *connection = evhttp_request_get_connection(req);
    struct bufferevent *bev = connection ? evhttp_connection_get_bufferevent(connection) : NULL;
    for (http_connection *c = s->states; connection && c; c = c->next)
        if (c->connection == connection || (c->bev && c->bev == bev))
            return c;
    return NULL;
}

/* A whole request arrived: its deadline stops while it is answered, and
 * starts again once the response is written. */
static void request_cb(struct evhttp_request *req, void *arg)
{
    http_server *s = arg;
    http_connection *c = connection_of(s, req);
    if (c && !c->connection && !admit(c, evhttp_request_get_connection(req))) {
        /* past the limit: evhttp closes it once this is written */
        evhttp_send_error(req, HTTP_SERVUNAVAIL, "too many connections");
        return;
    }
    if (c) {
        evtimer_del(c->timer);
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
    return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
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
    evhttp_free(http); /* frees its connections: their close callbacks drop their states */
    while (s && s->states) /* accepted in this turn of the loop, not yet admitted */
        state_free(s->states);
    if (s) {
        s->http = NULL;
        server_unref(s);
    }
}
