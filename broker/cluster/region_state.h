/*
 * region_state.h - this broker's failover state (DESIGN.md §8, issue 6):
 * the role of its region for the mirrored topics and groups, the region
 * epoch, and where the active region's brokers are. The sidecar sets it with
 * IncrementalAlterConfigs / AlterConfigs on the BROKER resource; the broker
 * persists it and applies it to Metadata, FindCoordinator, the group APIs
 * and Produce (broker/proto/region_redirect.h).
 *
 * Keys (dynamic broker configs; strings on the wire): the table in
 * common/region_contract.h, which the sidecar's side includes too.
 *
 * Regex lists are split at the commas that are outside (), [] and {} and not
 * escaped, so "a{1,3},b" is two patterns. Rules checked together for one
 * change (any failure changes nothing): a role needs an epoch; standby needs
 * at least one redirect broker; an epoch lower than the stored one is
 * refused; equal is accepted (idempotent re-apply); once set, the role and
 * the epoch cannot be removed (an AlterConfigs with an empty list must not
 * turn a standby into a plain broker): the state is reset only offline, by
 * deleting strait-region-state while the broker is stopped.
 *
 * Lease (strait.region.lease.ms > 0): every successful change that is not
 * validate_only renews it, even one that leaves the state as it was: the
 * sidecar renews by re-applying the same state every third of the lease,
 * and such an apply neither rewrites the file nor logs a change. A state
 * loaded from the file at start has never been renewed: its lease is lapsed
 * until the first apply.
 *
 * When a renewal starts (strait.region.lease.anchor.ms). The sidecar first
 * reads this broker's monotonic clock (strait.region.clock.ms, DescribeConfigs,
 * read at real time r0), THEN decides to renew (its state still makes the
 * region active, and in automatic mode its own majority lease holds, at a
 * time t_d >= r0), then sends the change carrying r0's reading as the anchor.
 * The lease runs from the anchor: it ends when this broker's clock reads
 * anchor + lease.ms, i.e. no later than r0 + lease.ms * (1 + rho) in real
 * time, rho being the rate error of this host's monotonic clock (NTP slews
 * it by at most 500 ppm; an unsynchronised quartz is within ~100 ppm). So
 * the brokers stop taking writes no later than t_d + lease.ms * (1 + rho)
 * however long the change took to arrive: a renewal delayed in the network
 * or behind this busy loop only shortens the lease (one delayed for longer
 * than lease.ms renews nothing). Only readings of ONE clock are compared,
 * this broker's, so the sidecar's and the broker's hosts need no clock
 * agreement. Before the anchor a broker started its lease when it processed
 * the renewal, which a delay of D stretched to t_d + D + lease.ms, past the
 * bound auto_failover.c argues.
 * Checked for every change that carries an anchor (any failure changes
 * nothing, ST_ECONFIG): not ahead of this broker's clock (it must be a
 * reading this broker gave), not older than when this state was opened (a
 * reading of an earlier process), and not older than the anchor of the last
 * change applied with one: anchors order changes by the time they were
 * decided, so a delayed renewal of `active` never overtakes a later `fenced`
 * at the same epoch on another connection. A change without an anchor (an
 * operator's AlterConfigs) renews from when it is applied, as before; the
 * sidecar always sends one. The stored role is
 * what was set (region_state_role: handovers, leader epochs); the effective
 * role is what clients see (region_state_effective_role): the stored one,
 * except that an active region whose lease lapsed (no renewal within
 * lease.ms, or none since start) is fenced, so a region whose sidecar died
 * or that was cut off stops taking writes instead of risking a split brain
 * with a region promoted meanwhile. It is active again at the next renewal.
 *
 * Confirmation (with a lease or without): an `active` role read back from
 * the file at start is fenced for clients until the first successful apply
 * (the sidecar re-sends an active region's state every 2 s, or every third
 * of the lease): a broker that restarts while another region was promoted
 * never takes writes before its sidecar has learnt of it.
 *
 * Persisted as <first log dir>/strait-region-state (format in
 * region_state.c, where it is parsed), written atomically (fsync + rename).
 *
 * Without an authorizer the sidecar is recognised by its client.id starting
 * with REGION_SIDECAR_CLIENT_ID_PREFIX (common/region_contract.h), which any
 * client can claim; with one, by CLUSTER_ACTION on the cluster
 * (broker/proto/authorize.h authorize_sidecar).
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#ifndef STRAIT_REGION_STATE_H
#define STRAIT_REGION_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/region_contract.h"

#define REGION_STATE_FILE_NAME "strait-region-state"

enum region_role {
    REGION_ROLE_NONE = 0, /* no failover state: a plain broker */
    REGION_ROLE_ACTIVE,
    REGION_ROLE_STANDBY,
    REGION_ROLE_FENCED,
    REGION_ROLE_PROMOTING, /* taking over: writes refused, consumer groups held */
};

typedef struct region_broker {
    int32_t node_id;
    char host[256];
    int32_t port;
} region_broker;

typedef struct region_state region_state;

/* Operations of one change (IncrementalAlterConfigs' ConfigOperation). */
#define REGION_OP_SET 0
#define REGION_OP_DELETE 1

/* An empty state (role none) that persists into data_dir. ST_ENOMEM. */
int region_state_new(const char *data_dir, region_state **out);
/* region_state_new, then loads data_dir/strait-region-state when it exists.
 * Returns 0, ST_ECORRUPT (bad file: logged with the line and reason; the
 * broker refuses to start rather than forget it was fenced), ST_EIO or
 * ST_ENOMEM. */
int region_state_open(const char *data_dir, region_state **out);
void region_state_close(region_state *rs);

/* True if key is one of the keys above. */
bool region_state_key_known(const char *key);

/*
 * Applies one change: keys[i] / values[i] with ops[i] (REGION_OP_*; ops NULL
 * = every key SET). With replace (AlterConfigs) keys not listed are removed,
 * and a NULL value removes its key; otherwise (IncrementalAlterConfigs) the
 * change edits the stored state. Validated as a whole against the rules
 * above; with validate_only nothing changes. On success (not validate_only)
 * the new state is persisted first, then replaces the current one (a state
 * identical to the stored one, key for key, is neither persisted nor logged),
 * and the lease is renewed (from the change's anchor, or else from the time
 * of the call, before persisting).
 * Returns 0, ST_ECONFIG (bad value or rule broken; err names the key and the
 * reason), ST_EINVAL (unknown key, key given twice, unsupported operation),
 * ST_EIO (could not persist: nothing changed) or ST_ENOMEM.
 */
int region_state_apply(region_state *rs, const char *const *keys, const char *const *values,
                       const int8_t *ops, int count, bool replace, bool validate_only, char *err,
                       size_t errlen);

/* The stored role (strait.region.role), whatever the lease says. */
enum region_role region_state_role(const region_state *rs);
/* The role clients see: the stored one, except REGION_ROLE_FENCED for an
 * active region whose lease lapsed. _at takes the monotonic time now_ms
 * (clock_mono_ms) for tests; neither changes anything. */
enum region_role region_state_effective_role(const region_state *rs);
enum region_role region_state_effective_role_at(const region_state *rs, int64_t now_ms);
/* True if strait.region.lease.ms is set (> 0) and no apply renewed the lease
 * within that many ms before now_ms (or none did since the state was
 * opened), whatever the role. */
bool region_state_lease_lapsed(const region_state *rs);
bool region_state_lease_lapsed_at(const region_state *rs, int64_t now_ms);
/* Logs when the lease lapses (warn) and when a renewal ends a lapse (info),
 * once per transition. Called from the broker's tick and by apply; the
 * queries above do not need it to be called. */
void region_state_lease_check(region_state *rs, int64_t now_ms);
/* Label text of a role: "none", "active", "standby", "fenced", "promoting". */
const char *region_role_name(enum region_role role);
/* The region epoch, 0 when unset. */
int32_t region_state_epoch(const region_state *rs);
/* strait.region.active, "" when unset. */
const char *region_state_active_region(const region_state *rs);

/* Whether a topic / group id matches strait.redirect.topics / .groups.
 * A topic matches when some pattern of strait.redirect.topics matches it and
 * none of strait.redirect.topics.exclude does (the exclude wins). Internal
 * topics (names starting with "__") never match: each region's cluster has
 * its own, and they are never mirrored. */
bool region_state_topic_matches(const region_state *rs, const char *name, size_t len);
bool region_state_group_matches(const region_state *rs, const char *name, size_t len);

/* The redirect brokers, in the order given. */
int region_state_broker_count(const region_state *rs);
const region_broker *region_state_broker(const region_state *rs, int i);
/* The redirect broker that answers FindCoordinator for group id name: a
 * stable hash of the name modulo the list, so every standby broker names the
 * same one. NULL when the list is empty. */
const region_broker *region_state_group_broker(const region_state *rs, const char *name,
                                               size_t len);

/* Calls fn for every key that is set, in the order of the table above, with
 * its value as stored. */
void region_state_each(const region_state *rs,
                       void (*fn)(void *arg, const char *key, const char *value), void *arg);
/* What DescribeConfigs lists: region_state_each, then strait.region.clock.ms
 * with this broker's clock_mono_ms now (the sidecar's lease anchor; not
 * state, so never in region_state_each). */
void region_state_describe(const region_state *rs,
                           void (*fn)(void *arg, const char *key, const char *value), void *arg);

/* True if client_id (len bytes, len < 0 = null) names the sidecar: how the
 * sidecar is told apart when no authorizer is configured (not a security
 * boundary; broker/proto/authorize.h authorize_sidecar). */
bool region_client_is_sidecar(const char *client_id, int32_t len);

#endif
