/*
 * region_redirect.h - what the region role (cluster/region_state.h) means
 * for one request, in one place for every handler that applies it:
 *
 *   ROLE      Metadata / FindCoordinator   group APIs        Produce
 *   standby   active region's brokers      NOT_COORDINATOR   NOT_LEADER_OR_FOLLOWER
 *   fenced    local (as today)             as today          NOT_LEADER_OR_FOLLOWER
 *   promoting local (as today)             COORDINATOR_LOAD_ NOT_LEADER_OR_FOLLOWER
 *                                          IN_PROGRESS
 *   active    local (as today)             as today          as today
 *   active,   local (as today)             as today          NOT_LEADER_OR_FOLLOWER
 *   lease
 *   lapsed
 *
 * The role here is the EFFECTIVE role (region_state_effective_role): the
 * stored one, except that an active region whose strait.region.lease.ms
 * lapsed (its sidecar stopped renewing, or the broker restarted and was not
 * renewed yet) acts as fenced: it refuses writes to the mirrored topics and
 * keeps serving reads, metadata and groups locally, until the next renewal.
 * Every client-facing decision below reads the effective role; the lease
 * only ever turns active into fenced, and the two answer alike but for
 * Produce. The stored role (region_state_role) is for the state's own
 * transitions: the group handover in AlterConfigs and the leader epochs
 * raised on the active region (a lapsed lease is not a takeover).
 *
 * (promoting: the region taking over holds groups, which clients retry,
 * until its sidecar has applied the final translated commits, so no member
 * fetches from a stale offset; Heartbeat and OffsetCommit of members it
 * adopts from the old active region go through, group_api_member_error) and on a standby, Fetch, ListOffsets and OffsetForLeaderEpoch answer
 * NOT_LEADER_OR_FOLLOWER for redirected topics (a consumer that still reads
 * the old region refreshes metadata and moves; a fenced region keeps serving
 * reads so consumers drain it during a switchover).
 *
 * All of the above applies to topics that match strait.redirect.topics and
 * no pattern of strait.redirect.topics.exclude (region_state_topic_matches:
 * an excluded topic, never mirrored, stays local and writable on every
 * role) and to groups matching strait.redirect.groups, from any client but
 * the sidecar (with an authorizer: a principal with CLUSTER_ACTION on the
 * cluster; without one: client.id starting with "strait-sidecar", which is
 * not a security boundary). The sidecar
 * always gets the local truth and may produce: it is the mirror writing
 * into the standby.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_REGION_REDIRECT_H
#define STRAIT_PROTO_REGION_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/cluster/region_state.h"
#include "broker/proto/api.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"

/* The sidecar: CLUSTER_ACTION on the cluster with an authorizer, its
 * client.id without one (authorize.h). */
static inline bool region_request_from_sidecar(const broker_request *req)
{
    return authorize_sidecar(req);
}

/* The role a client request is answered by (see above). */
static inline enum region_role region_request_role(const broker_request *req)
{
    return region_state_effective_role(req->broker->region);
}

/* Metadata: answer topic name with the active region's brokers. */
static inline bool region_redirects_topic(const broker_request *req, const char *name, size_t len)
{
    const region_state *rs = req->broker->region;
    return region_request_role(req) == REGION_ROLE_STANDBY && !region_request_from_sidecar(req) &&
           region_state_topic_matches(rs, name, len);
}

/* Produce: refuse writes to topic name (standby, fenced, promoting, and
 * active with a lapsed lease). */
static inline bool region_fences_produce(const broker_request *req, const char *name, size_t len)
{
    const region_state *rs = req->broker->region;
    enum region_role role = region_request_role(req);
    return (role == REGION_ROLE_STANDBY || role == REGION_ROLE_FENCED ||
            role == REGION_ROLE_PROMOTING) &&
           !region_request_from_sidecar(req) && region_state_topic_matches(rs, name, len);
}

/* FindCoordinator and the group APIs: group id name lives in the active region. */
static inline bool region_redirects_group(const broker_request *req, const char *name, size_t len)
{
    const region_state *rs = req->broker->region;
    return region_request_role(req) == REGION_ROLE_STANDBY && !region_request_from_sidecar(req) &&
           region_state_group_matches(rs, name, len);
}

/* The group APIs (Join, Sync, Heartbeat, Leave, OffsetCommit, OffsetFetch):
 * 0, NOT_COORDINATOR on a standby (the group lives in the active region) or
 * COORDINATOR_LOAD_IN_PROGRESS while promoting. */
static inline int16_t region_group_error(const broker_request *req, const char *name, size_t len)
{
    const region_state *rs = req->broker->region;
    enum region_role role = region_request_role(req);
    if ((role != REGION_ROLE_STANDBY && role != REGION_ROLE_PROMOTING) ||
        region_request_from_sidecar(req) || !region_state_group_matches(rs, name, len))
        return 0;
    return role == REGION_ROLE_STANDBY ? KERR_NOT_COORDINATOR : KERR_COORDINATOR_LOAD_IN_PROGRESS;
}

#endif
