/*
 * ip_connections.h - open connections counted per client IP address, for
 * max.connections.per.ip and max.connections.per.ip.overrides
 * (broker/config/connection_limits.h). An address is counted from its
 * accept to its close; an address with no connection holds no memory.
 *
 * Runs on the broker's event-loop thread; no locks.
 */
#ifndef STRAIT_NET_IP_CONNECTIONS_H
#define STRAIT_NET_IP_CONNECTIONS_H

#include <stdint.h>

typedef struct ip_connections ip_connections;

/* A table whose limit is default_max for every address but those of
 * overrides (max.connections.per.ip.overrides text, already checked by the
 * config). expected_connections sizes the hash table. ST_ENOMEM or
 * ST_ECONFIG (overrides do not parse). */
int ip_connections_open(int32_t default_max, const char *overrides, int32_t expected_connections,
                        ip_connections **out);
void ip_connections_close(ip_connections *t);

/* The limit that applies to ip (as inet_ntop writes it). */
int32_t ip_connections_limit(const ip_connections *t, const char *ip);
/* Connections from ip counted now. */
int32_t ip_connections_count(const ip_connections *t, const char *ip);

/* Counts one more connection from ip if that stays within its limit.
 * Returns 0, ST_ETOOBIG (at the limit: nothing counted) or ST_ENOMEM. */
int ip_connections_acquire(ip_connections *t, const char *ip);
/* Uncounts one connection from ip (acquired before). */
void ip_connections_release(ip_connections *t, const char *ip);

#endif
