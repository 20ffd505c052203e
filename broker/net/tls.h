/*
 * tls.h - TLS on a broker listener (SSL://): the listener's OpenSSL context
 * (security/tls_context.h) and principal rules, TLS bufferevents for its
 * connections (libevent's bufferevent_openssl), the principal of a client
 * certificate, log lines for refused handshakes, and reloading the
 * certificates (SIGHUP: connections accepted afterwards use the new files,
 * open ones keep theirs).
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_NET_TLS_H
#define STRAIT_NET_TLS_H

#include <stddef.h>

#include <event2/util.h>

struct broker_config;
struct bufferevent;
struct event_base;
typedef struct net_tls net_tls;

/* The TLS of listener name (upper case) from c's ssl.* keys and overrides. 0
 * or ST_ECONFIG / ST_ENOMEM, logged with the listener and the reason. */
int net_tls_open(const struct broker_config *c, const char *name, net_tls **out);
void net_tls_close(net_tls *tls);

/* Rereads the keystore and truststore; on failure logs why and keeps the
 * current ones. 0 or the error. */
int net_tls_reload(net_tls *tls);

/* A bufferevent running the server side of a TLS handshake on fd (closed
 * with it); peer ("ip:port", must outlive the bufferevent) names the client
 * in log lines. NULL on failure (fd is then closed). */
struct bufferevent *net_tls_accept(net_tls *tls, struct event_base *base, evutil_socket_t fd,
                                   const char *peer);

/* After the handshake: "User:<name>" of the client's verified certificate
 * through ssl.principal.mapping.rules, or User:ANONYMOUS without one.
 * 0, or ST_ENOTFOUND when no rule maps the subject (logged: the connection
 * must be closed). */
int net_tls_principal(net_tls *tls, struct bufferevent *bev, const char *peer, char *out,
                      size_t outlen);

/* Logs why the handshake on bev failed (OpenSSL's reason, at WARN); a
 * connection closed without a TLS error (a port probe) only at DEBUG. */
void net_tls_log_failure(struct bufferevent *bev, const char *peer);

#endif
