/*
 * connection_limits.c - syntax of max.connections.per.ip.overrides and of
 * per-listener connection counts (see connection_limits.h).
 */
#include "broker/config/connection_limits.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"

/* One "ip:count" entry of length len at entry; fills o. */
static int parse_entry(const char *entry, size_t len, connection_ip_override *o, char *msg,
                       size_t msglen)
{
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++)
        if (entry[i] == ':')
            colon = entry + i;
    char host[CONNECTION_LIMITS_IP_MAX + 2], count[32];
    const char *h = entry;
    size_t host_len = colon ? (size_t)(colon - entry) : 0;
    size_t count_len = colon ? len - host_len - 1 : 0;
    host_len = config_value_trim(&h, host_len);
    if (host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']') {
        h++;
        host_len -= 2;
    }
    if (!colon || host_len == 0 || host_len >= sizeof host || count_len == 0 ||
        count_len >= sizeof count) {
        snprintf(msg, msglen, "entry '%.*s' is not ip:count", (int)(len > 80 ? 80 : len), entry);
        return ST_ECONFIG;
    }
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    memcpy(count, colon + 1, count_len);
    count[count_len] = '\0';
    const char *c = count;
    size_t trimmed = config_value_trim(&c, count_len);
    count[(size_t)(c - count) + trimmed] = '\0';
    unsigned char address[sizeof(struct in6_addr)];
    int family = inet_pton(AF_INET, host, address) == 1    ? AF_INET
                 : inet_pton(AF_INET6, host, address) == 1 ? AF_INET6
                                                           : 0;
    if (family == 0) {
        snprintf(msg, msglen, "entry '%.*s': '%s' is not an IP address (host names are not "
                 "resolved; give the address)", (int)(len > 80 ? 80 : len), entry, host);
        return ST_ECONFIG;
    }
    inet_ntop(family, address, o->ip, sizeof o->ip);
    int64_t v = 0;
    char reason[160];
    if (config_value_parse_int(c, 0, LIMIT_CONNECTIONS_CEILING, &v, reason, sizeof reason) != 0) {
        snprintf(msg, msglen, "entry '%.*s': %s", (int)(len > 80 ? 80 : len), entry, reason);
        return ST_ECONFIG;
    }
    o->max_connections = (int32_t)v;
    return 0;
}

int connection_limits_parse_ip_overrides(const char *value, connection_ip_overrides *out,
                                         char *msg, size_t msglen)
{
    out->count = 0;
    const char *all = value;
    if (config_value_trim(&all, strlen(value)) == 0)
        return 0;
    for (const char *p = value;;) {
        size_t n = strcspn(p, ",");
        const char *entry = p;
        size_t len = config_value_trim(&entry, n);
        if (out->count == LIMIT_CONNECTION_IP_OVERRIDES) {
            snprintf(msg, msglen, "more than %d entries", LIMIT_CONNECTION_IP_OVERRIDES);
            return ST_ECONFIG;
        }
        connection_ip_override *o = &out->items[out->count];
        if (parse_entry(entry, len, o, msg, msglen) != 0)
            return ST_ECONFIG;
        for (int i = 0; i < out->count; i++) {
            if (strcmp(out->items[i].ip, o->ip) == 0) {
                snprintf(msg, msglen, "address %s is given twice", o->ip);
                return ST_ECONFIG;
            }
        }
        out->count++;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    return 0;
}

int connection_limits_check_ip_overrides(const char *value, char *normal, size_t normallen,
                                         char *msg, size_t msglen)
{
    connection_ip_overrides *list = malloc(sizeof *list);
    if (!list) {
        snprintf(msg, msglen, "out of memory");
        return ST_ECONFIG;
    }
    int rc = connection_limits_parse_ip_overrides(value, list, msg, msglen);
    size_t used = 0;
    if (normallen > 0)
        normal[0] = '\0';
    for (int i = 0; rc == 0 && i < list->count; i++) {
        const connection_ip_override *o = &list->items[i];
        bool v6 = strchr(o->ip, ':') != NULL;
        int n = snprintf(normal + used, normallen - used, "%s%s%s%s:%d", i ? "," : "",
                         v6 ? "[" : "", o->ip, v6 ? "]" : "", (int)o->max_connections);
        if (n < 0 || (size_t)n >= normallen - used) {
            snprintf(msg, msglen, "the list is too long");
            rc = ST_ECONFIG;
        } else {
            used += (size_t)n;
        }
    }
    free(list);
    return rc;
}

int connection_limits_check_count(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen)
{
    int64_t v = 0;
    if (config_value_parse_int(value, 0, LIMIT_CONNECTIONS_CEILING, &v, msg, msglen) != 0)
        return ST_ECONFIG;
    snprintf(normal, normallen, "%lld", (long long)v);
    return 0;
}
