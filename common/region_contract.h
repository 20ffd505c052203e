/*
 * region_contract.h - the one contract between a region's brokers and its
 * sidecar (DESIGN.md §8): the dynamic broker config keys the sidecar sets on
 * the BROKER resource (IncrementalAlterConfigs / AlterConfigs), the role
 * names those keys carry, and how the broker recognises the sidecar's own
 * clients. The broker (broker/cluster/region_state.c, which parses and
 * persists the keys) and the sidecar (failover/broker_push.c, which sends
 * them; mirror/flow.c, whose clients carry the identity) both include this
 * header, so a rename on one side cannot drift from the other.
 *
 *   KEY                       VALUE
 *   strait.region.role        active | standby | fenced | promoting; absent = no
 *                             failover state (a plain broker)
 *   strait.region.epoch       decimal 1..2147483647 (it becomes a Kafka leader
 *                             epoch, an int32); never lowered
 *   strait.region.lease.ms    decimal 0..LIMIT_REGION_LEASE_MS_MAX (common/limits.h);
 *                             0 or absent = no lease
 *   strait.region.active      name of the active region (informational)
 *   strait.redirect.brokers   id@host:port,... of the active region's brokers
 *   strait.redirect.topics    comma-separated POSIX extended regexes, anchored
 *   strait.redirect.topics.exclude
 *                             the same; topics matching one are not redirected
 *                             even when they match strait.redirect.topics
 *   strait.redirect.groups    the same, for consumer group ids
 *
 * Two keys are not state (never stored, never listed as set):
 *   strait.region.clock.ms    read-only, DescribeConfigs of the BROKER
 *                             resource: the broker's monotonic clock (ms) at
 *                             the moment it answers
 *   strait.region.lease.anchor.ms
 *                             in a change: a strait.region.clock.ms value this
 *                             broker reported BEFORE the sender decided to send
 *                             the change; the lease the change renews runs from
 *                             it, not from when the change arrives (a renewal
 *                             delayed in flight or behind a busy loop can only
 *                             shorten the lease; the argument is in
 *                             broker/cluster/region_state.h)
 *
 * The rules a change must follow (a role needs an epoch, epochs never go
 * down, the lease, the confirmation of a role read back at start) are the
 * broker's, in broker/cluster/region_state.h.
 */
#ifndef STRAIT_COMMON_REGION_CONTRACT_H
#define STRAIT_COMMON_REGION_CONTRACT_H

#define REGION_KEY_ROLE "strait.region.role"
#define REGION_KEY_EPOCH "strait.region.epoch"
/* The range of a region epoch wherever it is parsed (the broker's config,
 * the sidecars' and the witness's HTTP routes): it becomes a Kafka leader
 * epoch, an int32, so a larger value could never be pushed to a broker. */
#define REGION_EPOCH_MIN 1
#define REGION_EPOCH_MAX 2147483647
#define REGION_KEY_LEASE_MS "strait.region.lease.ms"
#define REGION_KEY_ACTIVE "strait.region.active"
#define REGION_KEY_BROKERS "strait.redirect.brokers"
#define REGION_KEY_TOPICS "strait.redirect.topics"
#define REGION_KEY_TOPICS_EXCLUDE "strait.redirect.topics.exclude"
#define REGION_KEY_GROUPS "strait.redirect.groups"
#define REGION_KEY_CLOCK_MS "strait.region.clock.ms"
#define REGION_KEY_LEASE_ANCHOR_MS "strait.region.lease.anchor.ms"

/* Values of strait.region.role. */
#define REGION_ROLE_NAME_ACTIVE "active"
#define REGION_ROLE_NAME_STANDBY "standby"
#define REGION_ROLE_NAME_FENCED "fenced"
#define REGION_ROLE_NAME_PROMOTING "promoting"

/*
 * Every client a sidecar opens on a region's brokers has a client.id that
 * starts with this prefix ("strait-sidecar-<region>-<purpose>", and
 * "strait-sidecar-mirror-<source>-<target>-<role>" for the mirror's), so that
 * a standby or fenced broker lets it read and write. That is identity, NOT
 * a security boundary: any client can claim it, until authenticated
 * principals (SASL) replace it.
 */
#define REGION_SIDECAR_CLIENT_ID_PREFIX "strait-sidecar"

#endif
