/*
 * broker_push.h - tells a region's brokers their failover role through the
 * Kafka admin path (DESIGN.md §8): AlterConfigs on each broker's BROKER
 * resource with the strait.region.* / strait.redirect.* dynamic configs,
 * which the brokers persist and act on (redirect, fencing, leader epochs):
 *
 *   strait.region.role       active | standby | fenced | promoting
 *   strait.region.epoch      the region epoch
 *   strait.region.active     the active region's name
 *   strait.redirect.brokers  the active region's brokers, "id@host:port,..."
 *                            (empty for the active region itself)
 *   strait.redirect.topics   mirrored topics: include patterns of every
 *                            identity-named flow into or out of the region
 *   strait.redirect.topics.exclude
 *                            the topics_exclude patterns that EVERY such flow
 *                            has (the intersection, exact strings; always sent,
 *                            "" when none): the broker matches one include and
 *                            one exclude list for the union of the flows, and
 *                            excluding a pattern only some flow excludes could
 *                            leave a topic another flow mirrors writable on a
 *                            standby (split brain), while excluding less only
 *                            costs availability
 *   strait.redirect.groups   the group patterns of those flows
 *   strait.region.lease.ms   the brokers' lease on `active` (failover.broker_lease;
 *                            only when one is configured)
 *   strait.region.lease.anchor.ms
 *                            each broker's own strait.region.clock.ms, read with
 *                            DescribeConfigs just before the change is decided and
 *                            sent: the lease runs from it (region_state.h)
 *
 * Blocking (librdkafka admin calls with a timeout); the sidecar calls it
 * through failover/role_pusher.h only, which serializes the agent's pushes
 * with the lease renewals.
 */
#ifndef STRAIT_FAILOVER_BROKER_PUSH_H
#define STRAIT_FAILOVER_BROKER_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "checkpoints/failover_state.h"
#include "common/region_contract.h"
#include "topology/topology.h"

/* A librdkafka client of sidecar `self` on region's brokers (its bootstrap
 * and link security, topology/region_client.h) with client.id
 * REGION_SIDECAR_CLIENT_ID_PREFIX "-<self>-<purpose>" (so standby and fenced brokers answer it
 * with the local truth); NULL with err on a config or creation error. */
rd_kafka_t *failover_sidecar_client(const topology *t, int region, const char *self,
                                    const char *purpose, rd_kafka_type_t type,
                                    const char *log_level, char *err, size_t errlen);

/* Per-call timeout of the admin and metadata requests. */
#define FAILOVER_PUSH_TIMEOUT_MS 5000

typedef struct failover_push_options {
    int64_t lease_ms;   /* strait.region.lease.ms (the brokers' lease on `active`,
                           renewed by every push); 0 = no lease */
    rd_kafka_t *client; /* a client of the region's brokers (failover_sidecar_client);
                           NULL = a fresh one for this call */
    bool quiet;         /* no info line on success (lease renewals) */
    int timeout_ms;     /* per request; 0 = FAILOVER_PUSH_TIMEOUT_MS */
    /* Asked after every broker's lease anchor was read and right before the
     * change is sent: false calls the push off (ST_EINVAL, nothing sent). The
     * lease renewals decide here whether they may still renew (role_pusher.c),
     * so the decision comes after the anchor, as the lease argument needs.
     * NULL = always proceed. */
    bool (*proceed)(void *arg);
    void *proceed_arg;
} failover_push_options;

/* Applies st's role for t->regions[region] to every broker of that region.
 * 0 when every broker accepted; ST_EIO with err naming the broker and the
 * reason otherwise (a broker that refuses an older epoch says so); ST_ETOOBIG
 * when the flows' patterns do not fit in one config value; ST_ENOTFOUND when
 * st makes the region a standby and the active region's brokers could not be
 * listed (the cross-region link is down): nothing was sent, and the caller
 * (failover/agent.c) pushes `fenced` instead, which needs nothing remote. */
int failover_push_roles(const topology *t, int region, const failover_state *st,
                        const failover_push_options *opt, char *err, size_t errlen);

/* The values of strait.redirect.topics (the union of the include patterns,
 * each once) and strait.redirect.topics.exclude (the intersection of the
 * topics_exclude lists, compared as exact strings) for t->regions[region],
 * over every identity-named flow into or out of it; both "" when no flow
 * touches it. Pure (no I/O). Returns 0, or ST_ETOOBIG with err when the
 * includes do not fit in topics_len bytes (an exclude that does not fit is
 * left out: excluding less is the safe side). */
int failover_redirect_patterns(const topology *t, int region, char *topics, size_t topics_len,
                               char *exclude, size_t exclude_len, char *err, size_t errlen);

/* "id@host:port,..." of the brokers of t->regions[region] (Metadata). */
int failover_region_brokers(const topology *t, int region, char *out, size_t outlen, char *err,
                            size_t errlen);

#endif
