/*
 * server.h - the broker's listeners (broker/config/listeners.h: one socket
 * per named listener, TLS on SSL ones) and their set of connections.
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_NET_SERVER_H
#define STRAIT_NET_SERVER_H

#include <stdbool.h>

struct broker;
struct server;
struct listener_set;

/* Binds every listener of set (port 0 picks a free port), loads the TLS of
 * the SSL ones from b's configuration, and starts accepting. */
int server_open(struct broker *b, const struct listener_set *set, struct server **out);
int server_listener_count(const struct server *s);
/* The port actually bound by listener index listener (as in set). */
int server_port(const struct server *s, int listener);
/* Rereads the certificates of every SSL listener (SIGHUP); a listener whose
 * files fail keeps its current ones. 0 or the last error. */
int server_reload_tls(struct server *s);
/* Stops accepting and closes every connection (parked requests are dropped). */
void server_close(struct server *s);
int server_connection_count(const struct server *s);
/* Connections whose socket is not being read now: for_output, because
 * their unsent responses passed LIMIT_CONNECTION_OUTPUT_BYTES; otherwise
 * because a request of theirs is in flight (handled or parked). */
int server_paused_connection_count(const struct server *s, bool for_output);

#endif
