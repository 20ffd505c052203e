/*
 * connection_limits.h - the syntax of the broker's connection limit keys
 * that are more than one integer:
 *
 *   max.connections.per.ip.overrides:  ip:count,ip:count   (Kafka's form)
 *
 * A host is an IPv4 or IPv6 address (an IPv6 one may be written in
 * brackets, [::1]:5; without them the count is after the last ':', as Kafka
 * splits it). Host names are refused: resolving them would block the loop
 * and their addresses can change under the broker. Used by the config
 * table (the check) and by broker/net (the parsed list).
 */
#ifndef STRAIT_BROKER_CONFIG_CONNECTION_LIMITS_H
#define STRAIT_BROKER_CONFIG_CONNECTION_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

/* Longest textual IP address (INET6_ADDRSTRLEN). */
#define CONNECTION_LIMITS_IP_MAX 46

typedef struct connection_ip_override {
    char ip[CONNECTION_LIMITS_IP_MAX]; /* as inet_ntop writes it */
    int32_t max_connections;
} connection_ip_override;

typedef struct connection_ip_overrides {
    connection_ip_override items[LIMIT_CONNECTION_IP_OVERRIDES];
    int count;
} connection_ip_overrides;

/*
 * Parses value ("" = no overrides) into out. Every entry needs an address,
 * a ':' and a count in [0, LIMIT_CONNECTIONS_CEILING]; an address given
 * twice, or more than LIMIT_CONNECTION_IP_OVERRIDES entries, is refused.
 * Returns 0 or ST_ECONFIG with msg naming the entry.
 */
int connection_limits_parse_ip_overrides(const char *value, connection_ip_overrides *out,
                                         char *msg, size_t msglen);

/* The config table's check: parses value and writes its normal form
 * ("127.0.0.1:5,[::1]:7"). */
int connection_limits_check_ip_overrides(const char *value, char *normal, size_t normallen,
                                         char *msg, size_t msglen);

/* A connection count of a per-listener key (listener.name.<name>.max.connections). */
int connection_limits_check_count(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen);

#endif
