/*
 * ip_connections.c - per-address connection counts (see ip_connections.h).
 *
 * A chained hash table keyed by the address text, with a random seed so
 * that a client choosing addresses (IPv6 gives it many) cannot aim them at
 * one bucket. An entry exists while its address has a connection; the
 * overrides are a short list searched when an address first appears and
 * remembered in its entry.
 */
#include "broker/net/ip_connections.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/config/connection_limits.h"
#include "common/error.h"

typedef struct ip_entry {
    struct ip_entry *next;
    int32_t count;
    int32_t limit;
    char ip[CONNECTION_LIMITS_IP_MAX];
} ip_entry;

struct ip_connections {
    int32_t default_max;
    connection_ip_overrides overrides;
    uint32_t seed;
    size_t bucket_count; /* power of two */
    ip_entry **buckets;
};

int ip_connections_open(int32_t default_max, const char *overrides, int32_t expected_connections,
                        ip_connections **out)
{
    ip_connections *t = calloc(1, sizeof *t);
    if (!t)
        return ST_ENOMEM;
    char msg[256];
    if (connection_limits_parse_ip_overrides(overrides, &t->overrides, msg, sizeof msg) != 0) {
        free(t);
        return ST_ECONFIG;
    }
    t->default_max = default_max;
    t->bucket_count = 64;
    while (t->bucket_count < (size_t)expected_connections && t->bucket_count < 65536)
        t->bucket_count *= 2;
    t->buckets = calloc(t->bucket_count, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return ST_ENOMEM;
    }
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
        t->seed = (uint32_t)(uintptr_t)t; /* still differs between runs with ASLR */
    *out = t;
    return 0;
}

void ip_connections_close(ip_connections *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->bucket_count; i++) {
        while (t->buckets[i]) {
            ip_entry *e = t->buckets[i];
            t->buckets[i] = e->next;
            free(e);
        }
    }
    free(t->buckets);
    free(t);
}

/* FNV-1a over the seed then the address. */
static size_t bucket_of(const ip_connections *t, const char *ip)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((t->seed >> (8 * i)) & 0xff)) * 16777619u;
    for (const char *p = ip; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h & (t->bucket_count - 1);
}

static ip_entry *find(const ip_connections *t, const char *ip)
{
    for (ip_entry *e = t->buckets[bucket_of(t, ip)]; e; e = e->next)
        if (strcmp(e->ip, ip) == 0)
            return e;
    return NULL;
}

int32_t ip_connections_limit(const ip_connections *t, const char *ip)
{
    for (int i = 0; i < t->overrides.count; i++)
        if (strcmp(t->overrides.items[i].ip, ip) == 0)
            return t->overrides.items[i].max_connections;
    return t->default_max;
}

int32_t ip_connections_count(const ip_connections *t, const char *ip)
{
    const ip_entry *e = find(t, ip);
    return e ? e->count : 0;
}

int ip_connections_acquire(ip_connections *t, const char *ip)
{
    ip_entry *e = find(t, ip);
    if (e) {
        if (e->count >= e->limit)
            return ST_ETOOBIG;
        e->count++;
        return 0;
    }
    int32_t limit = ip_connections_limit(t, ip);
    if (limit <= 0)
        return ST_ETOOBIG;
    if (strlen(ip) >= sizeof e->ip)
        return ST_EINVAL; /* not an inet_ntop address: an invariant of the caller */
    e = calloc(1, sizeof *e);
    if (!e)
        return ST_ENOMEM;
    memcpy(e->ip, ip, strlen(ip) + 1);
    e->count = 1;
    e->limit = limit;
    size_t b = bucket_of(t, ip);
    e->next = t->buckets[b];
    t->buckets[b] = e;
    return 0;
}

void ip_connections_release(ip_connections *t, const char *ip)
{
    for (ip_entry **link = &t->buckets[bucket_of(t, ip)]; *link; link = &(*link)->next) {
        ip_entry *e = *link;
        if (strcmp(e->ip, ip) != 0)
            continue;
        assert(e->count > 0);
        if (--e->count == 0) {
            *link = e->next;
            free(e);
        }
        return;
    }
    assert(!"released an address that holds no connection");
}
