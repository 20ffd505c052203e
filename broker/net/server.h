/*
 * server.h - the broker's TCP listener and its set of connections.
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_NET_SERVER_H
#define STRAIT_NET_SERVER_H

struct broker;
struct server;

/* Binds host:port (port 0 picks a free port) and starts accepting. */
int server_open(struct broker *b, const char *host, int port, struct server **out);
/* The port actually bound. */
int server_port(const struct server *s);
/* Stops accepting and closes every connection (parked requests are dropped). */
void server_close(struct server *s);
int server_connection_count(const struct server *s);

#endif
