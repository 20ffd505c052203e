/*
 * server.c - the broker's listeners (one bound socket per named listener,
 * TLS on SSL ones through tls.c) and their connections: Kafka framing (int32
 * size prefix, checked against socket.request.max.bytes before anything is
 * allocated), one request at a time per connection, back-pressure when a
 * client does not read its responses, and response output with sendfile for
 * log data on plaintext connections (file ranges are read and encrypted on
 * TLS ones).
 *
 * Limits a client cannot exceed, authenticated or not (common/limits.h):
 * - the socket is read only while the connection has no request in flight
 *   (handled, or parked: a long-poll Fetch, a delayed SASL failure) and its
 *   unsent responses are under LIMIT_CONNECTION_OUTPUT_BYTES; otherwise
 *   reading stops, so a client that pipelines requests without reading the
 *   answers fills its own socket buffers, never the broker's memory;
 * - connections.max.idle.ms: libevent's read and write timeouts of each
 *   connection (reading is off while a request is in flight, so a long poll
 *   is never idle); a read timeout while responses are still being sent
 *   only resumes reading;
 * - max.connections, listener.name.<name>.max.connections and
 *   max.connections.per.ip(.overrides) (ip_connections.h): a connection past
 *   one is closed at accept, counted by reason and logged at most once a
 *   second per reason.
 *
 * Each connection hands its frames to proto (proto/dispatch.h) with a
 * proto_responder (proto/responder.h) that this file fills in: proto answers
 * through it and never sees a connection.
 */
#include "broker/net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/config/listeners.h"
#include "broker/metrics/metrics.h"
#include "broker/net/ip_connections.h"
#include "broker/net/tls.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/dispatch.h"
#include "broker/proto/responder.h"
#include "broker/proto/sasl_apis.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

/* One client connection: Kafka framing over a libevent bufferevent, one
 * request in flight at a time (as Kafka), back-pressure on slow readers,
 * responses written as memory plus sendfile file ranges. */
struct server_listener;

typedef struct conn {
    struct broker *broker;
    struct server *server;
    struct server_listener *listener; /* the listener it was accepted on */
    struct bufferevent *bev;
    proto_responder responder;      /* what proto sees; responder.current is the request
                                       being handled or parked, or NULL */
    char peer[64];                  /* "ip:port" for logs */
    uint64_t id;
    bool closing;                   /* close once the output is flushed */
    bool authenticated;             /* TLS: handshake done and principal set; plaintext: true */
    bool ip_counted;                /* counted in the server's per_ip table */
    bool output_full;               /* reading stopped: unsent responses over the limit */
    struct conn *prev, *next;       /* the server's list */
} conn;

/* One named listener: its socket and, on SSL listeners, its TLS. */
typedef struct server_listener {
    struct server *server;
    int index; /* in listeners and broker.advertised[] */
    char name[LISTENER_NAME_MAX];
    struct evconnlistener *listener;
    int port;
    net_tls *tls; /* NULL on PLAINTEXT and SASL_PLAINTEXT */
    bool sasl;    /* SASL_PLAINTEXT or SASL_SSL: clients authenticate first */
    char sasl_mechanisms[128]; /* sasl.enabled.mechanisms of this listener */
    int32_t max_connections;   /* listener.name.<name>.max.connections, -1 = none */
    int conn_count;            /* connections accepted on this listener and open */
} server_listener;

struct server {
    struct broker *broker;
    server_listener listeners[LIMIT_LISTENERS];
    int listener_count;
    conn *conns;
    int conn_count;
    uint64_t next_id;
    ip_connections *per_ip;             /* max.connections.per.ip(.overrides) */
    const struct timeval *idle_timeout; /* connections.max.idle.ms (a common timeout) */
    int64_t refusal_logged_ms[METRICS_REFUSAL_COUNT]; /* last log line per reason, -1 = none */
    uint64_t refusals_unlogged[METRICS_REFUSAL_COUNT]; /* refused since that line */
};

static void conn_free(conn *c);
static void conn_process(conn *c);
static void conn_update_reading(conn *c);
static int conn_send(proto_responder *responder, proto_out *o);
static void conn_request_done(proto_responder *responder);
static void conn_close_after_flush(proto_responder *responder);

static const proto_responder_ops conn_responder_ops = {
    .send = conn_send,
    .request_done = conn_request_done,
    .close_after_flush = conn_close_after_flush,
};

static conn *conn_of(proto_responder *responder)
{
    return (conn *)((char *)responder - offsetof(conn, responder));
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    struct evbuffer *out = bufferevent_get_output(bev);
    if (c->closing) {
        if (evbuffer_get_length(out) == 0)
            conn_free(c);
        return;
    }
    conn_process(c); /* output drained below the watermark: resume reading */
}

/* TLS handshake done: the principal of the client's certificate (or
 * User:ANONYMOUS), then requests may be read. */
static void conn_tls_connected(conn *c)
{
    if (net_tls_principal(c->listener->tls, c->bev, c->peer, c->responder.principal,
                          sizeof c->responder.principal) != 0) {
        conn_free(c);
        return;
    }
    c->authenticated = true;
    conn_process(c);
}

/* connections.max.idle.ms passed without a byte read (what has
 * BEV_EVENT_READING) or written (BEV_EVENT_WRITING). libevent has turned
 * that direction off. */
static void conn_timeout(conn *c, short what)
{
    bool output_pending = evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
    if ((what & BEV_EVENT_READING) && (c->responder.current != NULL || output_pending) &&
        !c->closing) {
        conn_update_reading(c); /* not idle: its answers are still being sent */
        return;
    }
    metrics_count_connection_idle_closed(c->broker->metrics);
    log_info("net", "closing idle connection peer=%s id=%llu idle_ms=%lld reason=%s", c->peer,
             (unsigned long long)c->id, (long long)c->broker->config.connections_max_idle_ms,
             !c->authenticated           ? "TLS handshake not finished"
             : (what & BEV_EVENT_WRITING) ? "its responses are not read"
                                          : "no request");
    conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    conn *c = arg;
    if (what & BEV_EVENT_TIMEOUT) {
        conn_timeout(c, what);
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        if (!c->authenticated)
            conn_tls_connected(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->listener->tls && !c->authenticated)
            net_tls_log_failure(bev, c->peer);
        else if (what & BEV_EVENT_ERROR)
            log_debug("net", "connection error peer=%s error=%s", c->peer, strerror(errno));
        conn_free(c);
    }
}

/* Reads the socket only while the connection can take a request: none in
 * flight and its unsent responses under the limit. Otherwise reading stops
 * (the client's requests wait in its socket buffers, then in its own
 * memory); conn_request_done and the write callback resume it. Before the
 * TLS handshake and while closing, reading is left as it is. */
static void conn_update_reading(conn *c)
{
    if (!c->authenticated || c->closing)
        return;
    bool output_full = evbuffer_get_length(bufferevent_get_output(c->bev)) >
                       LIMIT_CONNECTION_OUTPUT_BYTES;
    if (output_full && !c->output_full) {
        metrics_count_connection_output_pause(c->broker->metrics);
        log_debug("net", "pausing reads: unsent responses over the limit peer=%s bytes=%zu "
                  "limit=%d", c->peer, evbuffer_get_length(bufferevent_get_output(c->bev)),
                  LIMIT_CONNECTION_OUTPUT_BYTES);
    }
    c->output_full = output_full;
    bool want = c->responder.current == NULL && !output_full;
    bool reading = (bufferevent_get_enabled(c->bev) & EV_READ) != 0;
    if (want && !reading)
        bufferevent_enable(c->bev, EV_READ);
    else if (!want && reading)
        bufferevent_disable(c->bev, EV_READ);
}

/* Reads and handles complete frames while no request is in flight and the
 * client keeps up with its responses; then sets reading on or off. */
static void conn_process(conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (c->authenticated && !c->closing && c->responder.current == NULL) {
        int32_t max_request = c->broker->config.socket_request_max_bytes;
        if (!proto_sasl_authenticated(&c->responder) && max_request > LIMIT_PREAUTH_REQUEST_BYTES)
            max_request = LIMIT_PREAUTH_REQUEST_BYTES;
        if (evbuffer_get_length(out) > LIMIT_CONNECTION_OUTPUT_BYTES)
            break; /* resumed by the write callback */
        size_t available = evbuffer_get_length(in);
        if (available < 4)
            break;
        uint8_t prefix[4];
        evbuffer_copyout(in, prefix, 4);
        int32_t size = load_i32(prefix);
        if (size < 8 || size > max_request) {
            metrics_count_request_error(c->broker->metrics, METRICS_REQUEST_ERROR_FRAME_SIZE);
            log_warn("net", "closing connection: bad frame size peer=%s size=%d max=%d", c->peer,
                     size, max_request);
            conn_free(c);
            return;
        }
        if (available - 4 < (size_t)size) {
            /* wake only when the whole frame is here */
            bufferevent_setwatermark(c->bev, EV_READ, 4 + (size_t)size, 0);
            break;
        }
        bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
        uint8_t *frame = malloc((size_t)size);
        if (!frame) {
            log_error("net", "out of memory for a frame peer=%s size=%d", c->peer, size);
            conn_free(c);
            return;
        }
        evbuffer_drain(in, 4);
        evbuffer_remove(in, frame, (size_t)size);
        /* frame ownership passes to the dispatcher */
        if (proto_dispatch_frame(c->broker, &c->responder, frame, (size_t)size) != 0) {
            conn_free(c);
            return;
        }
    }
    conn_update_reading(c);
}

static void file_segment_cleanup(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
    (void)seg;
    (void)flags;
    (void)arg;
}

/* TLS: a file range read into memory for OpenSSL to encrypt (sendfile
 * cannot write through TLS); the fd is closed. */
static int add_file_range_read(struct evbuffer *out, proto_file_range *f)
{
    int rc = 0;
    uint8_t *data = f->length > 0 ? malloc((size_t)f->length) : NULL;
    if (f->length > 0 && !data)
        rc = ST_ENOMEM;
    for (int64_t done = 0; rc == 0 && done < f->length;) {
        ssize_t n = pread(f->fd, data + done, (size_t)(f->length - done), f->file_position + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = ST_EIO; /* the segment shrank under us: an error, never short data */
        else
            done += n;
    }
    close(f->fd);
    f->fd = -1;
    if (rc == 0 && f->length > 0 && evbuffer_add(out, data, (size_t)f->length) != 0)
        rc = ST_ENOMEM;
    free(data);
    return rc;
}

/* Queues a response frame: int32 size, then o's memory and file ranges in
 * order. File descriptors in o move to libevent (sendfile) and are set to -1. */
static int conn_send(proto_responder *responder, proto_out *o)
{
    conn *c = conn_of(responder);
    if (!buf_ok(&o->mem))
        return o->mem.err;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    int64_t total = proto_out_length(o);
    if (total > INT32_MAX)
        return ST_ETOOBIG;
    uint8_t prefix[4];
    store_i32(prefix, (int32_t)total);
    if (evbuffer_add(out, prefix, 4) != 0)
        return ST_ENOMEM;
    size_t written = 0;
    for (int i = 0; i < o->file_count; i++) {
        proto_file_range *f = &o->files[i];
        if (f->buf_position > written) {
            evbuffer_add(out, o->mem.data + written, f->buf_position - written);
            written = f->buf_position;
        }
        if (c->listener->tls) {
            int rc = add_file_range_read(out, f);
            if (rc != 0)
                return rc;
            continue;
        }
        struct evbuffer_file_segment *seg = evbuffer_file_segment_new(
            f->fd, f->file_position, f->length, EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_MMAP);
        if (!seg)
            return ST_EIO;
        f->fd = -1; /* owned by the segment now */
        evbuffer_file_segment_add_cleanup_cb(seg, file_segment_cleanup, NULL);
        int rc = evbuffer_add_file_segment(out, seg, 0, f->length);
        evbuffer_file_segment_free(seg); /* the evbuffer keeps its reference */
        if (rc != 0)
            return ST_EIO;
    }
    if (o->mem.len > written)
        evbuffer_add(out, o->mem.data + written, o->mem.len - written);
    return 0;
}

/* The current request is answered (or dropped): read the next frame. */
static void conn_request_done(proto_responder *responder)
{
    conn *c = conn_of(responder);
    c->responder.current = NULL;
    if (!c->closing)
        conn_process(c);
}

/* Closes after pending output is written (protocol errors: reply, then close). */
static void conn_close_after_flush(proto_responder *responder)
{
    conn *c = conn_of(responder);
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
}

static void conn_free(conn *c)
{
    struct server *s = c->server;
    if (c->responder.current) {
        proto_dispatch_abandon(c->responder.current);
        c->responder.current = NULL;
    }
    proto_sasl_free(c->responder.sasl);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->conn_count--;
    c->listener->conn_count--;
    if (c->ip_counted)
        ip_connections_release(s->per_ip, c->responder.client_host);
    log_debug("net", "connection closed peer=%s id=%llu", c->peer, (unsigned long long)c->id);
    bufferevent_free(c->bev);
    free(c);
}

/* peer gets "ip:port" ("[ip]:port" for IPv6), ip the address alone; an
 * IPv4-mapped address is written as IPv4, so that ACL hosts and
 * max.connections.per.ip.overrides name it one way. */
static void format_peer(const struct sockaddr *addr, char *peer, size_t peerlen, char *ip,
                        size_t iplen)
{
    snprintf(peer, peerlen, "?");
    snprintf(ip, iplen, "?");
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in4->sin_addr, ip, (socklen_t)iplen);
        snprintf(peer, peerlen, "%s:%d", ip, ntohs(in4->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* an IPv4 client of a "::" listener */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
            snprintf(peer, peerlen, "%s:%d", ip, ntohs(in6->sin6_port));
            return;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
        snprintf(peer, peerlen, "[%s]:%d", ip, ntohs(in6->sin6_port));
    }
}

/* One line per reason and LIMIT_CONNECTION_REFUSAL_LOG_MS at most, saying
 * how many went unlogged since the previous one: a flood of connections
 * must not become a flood of log lines. */
static void log_refusal(struct server *s, enum metrics_connection_refusal reason,
                        const server_listener *l, const char *peer, const char *ip)
{
    int64_t now = clock_mono_ms();
    if (s->refusal_logged_ms[reason] >= 0 &&
        now - s->refusal_logged_ms[reason] < LIMIT_CONNECTION_REFUSAL_LOG_MS) {
        s->refusals_unlogged[reason]++;
        return;
    }
    char limit[160];
    switch (reason) {
    case METRICS_REFUSAL_MAX_CONNECTIONS:
        snprintf(limit, sizeof limit, "max.connections=%d", (int)s->broker->config.max_connections);
        break;
    case METRICS_REFUSAL_LISTENER:
        snprintf(limit, sizeof limit, "listener.name.%s.max.connections=%d", l->name,
                 (int)l->max_connections);
        break;
    default:
        snprintf(limit, sizeof limit, "max.connections.per.ip=%d for %s",
                 (int)ip_connections_limit(s->per_ip, ip), ip);
        break;
    }
    log_warn("net", "refusing connection: %s reached peer=%s listener=%s open=%d "
             "refused_unlogged=%llu", limit, peer, l->name, s->conn_count,
             (unsigned long long)s->refusals_unlogged[reason]);
    s->refusal_logged_ms[reason] = now;
    s->refusals_unlogged[reason] = 0;
}

/* Whether a new connection from ip on l stays within every connection
 * limit; counts it in the per-IP table when it does (returns -1), else
 * returns the reason it is refused. */
static int admit(struct server *s, server_listener *l, const char *ip)
{
    if (s->conn_count >= s->broker->config.max_connections)
        return METRICS_REFUSAL_MAX_CONNECTIONS;
    if (l->max_connections >= 0 && l->conn_count >= l->max_connections)
        return METRICS_REFUSAL_LISTENER;
    if (ip_connections_acquire(s->per_ip, ip) != 0)
        return METRICS_REFUSAL_PER_IP; /* at its limit, or no memory to count it */
    return -1;
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                      int addrlen, void *arg)
{
    (void)listener;
    (void)addrlen;
    server_listener *l = arg;
    struct server *s = l->server;
    char peer[64], ip[INET6_ADDRSTRLEN];
    format_peer(addr, peer, sizeof peer, ip, sizeof ip);
    int refusal = admit(s, l, ip);
    if (refusal >= 0) {
        metrics_count_connection_refused(s->broker->metrics, (enum metrics_connection_refusal)refusal);
        log_refusal(s, (enum metrics_connection_refusal)refusal, l, peer, ip);
        evutil_closesocket(fd);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        ip_connections_release(s->per_ip, ip);
        evutil_closesocket(fd);
        return;
    }
    c->broker = s->broker;
    c->server = s;
    c->listener = l;
    c->ip_counted = true;
    c->responder.listener = l->index;
    c->responder.ops = &conn_responder_ops;
    c->responder.peer = c->peer;
    snprintf(c->responder.principal, sizeof c->responder.principal, "%s",
             PROTO_PRINCIPAL_ANONYMOUS);
    c->id = ++s->next_id;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->responder.client_host, sizeof c->responder.client_host, "%s", ip);
    if (l->sasl) {
        c->responder.sasl = proto_sasl_new(l->sasl_mechanisms, c->peer);
        if (!c->responder.sasl) {
            ip_connections_release(s->per_ip, ip);
            evutil_closesocket(fd);
            free(c);
            return;
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (l->tls) { /* requests are read once the handshake says who the client is */
        c->bev = net_tls_accept(l->tls, s->broker->base, fd, c->peer);
    } else {
        c->bev = bufferevent_socket_new(s->broker->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!c->bev)
            evutil_closesocket(fd);
        c->authenticated = true;
    }
    if (!c->bev) {
        ip_connections_release(s->per_ip, ip);
        proto_sasl_free(c->responder.sasl);
        free(c);
        return;
    }
    /* write callback fires when output drops to half the back-pressure limit */
    bufferevent_setwatermark(c->bev, EV_WRITE, LIMIT_CONNECTION_OUTPUT_BYTES / 2, 0);
    bufferevent_set_timeouts(c->bev, s->idle_timeout, s->idle_timeout);
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->conn_count++;
    l->conn_count++;
    metrics_count_connection_accepted(s->broker->metrics);
    log_debug("net", "connection accepted peer=%s id=%llu listener=%s", c->peer,
              (unsigned long long)c->id, l->name);
}

/* Binds l to host:port and starts accepting. */
static int listener_open(server_listener *l, const char *host, int port)
{
    struct broker *b = l->server->broker;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    const char *bind_host = (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0) ? "0.0.0.0" : host;
    if (inet_pton(AF_INET, bind_host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sslen = sizeof *in4;
    } else if (inet_pton(AF_INET6, bind_host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *in6;
    } else if (strcmp(bind_host, "localhost") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sslen = sizeof *in4;
    } else {
        log_error("net", "cannot bind listener %s: the host must be an IP address host=%s",
                  l->name, host);
        return ST_ECONFIG;
    }
    l->listener = evconnlistener_new_bind(b->base, accept_cb, l,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                          (struct sockaddr *)&ss, (int)sslen);
    if (!l->listener) {
        log_error("net", "cannot listen listener=%s host=%s port=%d error=%s", l->name, host, port,
                  strerror(errno));
        return ST_EIO;
    }
    struct sockaddr_storage bound;
    socklen_t boundlen = sizeof bound;
    getsockname(evconnlistener_get_fd(l->listener), (struct sockaddr *)&bound, &boundlen);
    l->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int server_open(struct broker *b, const listener_set *set, struct server **out)
{
    struct server *s = calloc(1, sizeof *s);
    if (!s)
        return ST_ENOMEM;
    s->broker = b;
    for (int i = 0; i < METRICS_REFUSAL_COUNT; i++)
        s->refusal_logged_ms[i] = -1;
    struct timeval idle = {
        .tv_sec = (time_t)(b->config.connections_max_idle_ms / 1000),
        .tv_usec = (suseconds_t)(b->config.connections_max_idle_ms % 1000) * 1000,
    };
    /* one shared timeout for every connection: libevent keeps them in a
     * queue instead of its heap, O(1) to re-arm at each read */
    s->idle_timeout = event_base_init_common_timeout(b->base, &idle);
    int rc = ip_connections_open(b->config.max_connections_per_ip,
                                 b->config.max_connections_per_ip_overrides,
                                 b->config.max_connections, &s->per_ip);
    if (rc != 0 || !s->idle_timeout) {
        ip_connections_close(s->per_ip);
        free(s);
        return rc != 0 ? rc : ST_ENOMEM;
    }
    for (int i = 0; rc == 0 && i < set->count; i++) {
        const listener_endpoint *e = &set->items[i];
        server_listener *l = &s->listeners[i];
        l->server = s;
        l->index = i;
        snprintf(l->name, sizeof l->name, "%s", e->name);
        s->listener_count = i + 1;
        l->sasl = e->protocol == LISTENER_SASL_PLAINTEXT || e->protocol == LISTENER_SASL_SSL;
        l->max_connections = listeners_max_connections(&b->config, e->name);
        if (l->sasl)
            listeners_sasl_mechanisms(&b->config, e->name, l->sasl_mechanisms,
                                      sizeof l->sasl_mechanisms);
        if (e->protocol == LISTENER_SSL || e->protocol == LISTENER_SASL_SSL)
            rc = net_tls_open(&b->config, e->name, &l->tls);
        if (rc == 0)
            rc = listener_open(l, e->host, e->port);
    }
    if (rc != 0) {
        server_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int server_listener_count(const struct server *s) { return s->listener_count; }

int server_port(const struct server *s, int listener) { return s->listeners[listener].port; }

int server_connection_count(const struct server *s) { return s->conn_count; }

int server_paused_connection_count(const struct server *s, bool for_output)
{
    int count = 0;
    for (const conn *c = s->conns; c; c = c->next) {
        if (!c->authenticated || c->closing)
            continue;
        if (for_output ? c->output_full : (c->responder.current != NULL && !c->output_full))
            count++;
    }
    return count;
}

int server_reload_tls(struct server *s)
{
    int rc = 0;
    for (int i = 0; i < s->listener_count; i++) {
        if (s->listeners[i].tls) {
            int one = net_tls_reload(s->listeners[i].tls);
            if (one != 0)
                rc = one;
        }
    }
    return rc;
}

void server_close(struct server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->listener_count; i++)
        if (s->listeners[i].listener)
            evconnlistener_free(s->listeners[i].listener);
    while (s->conns)
        conn_free(s->conns);
    for (int i = 0; i < s->listener_count; i++)
        net_tls_close(s->listeners[i].tls);
    ip_connections_close(s->per_ip);
    free(s);
}
