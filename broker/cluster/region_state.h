/*
 * region_state.h - this broker's failover state (DESIGN.md §8, issue 6):
 * the role of its region for the mirrored topics and groups, the region
 * epoch, and where the active region's brokers are. The sidecar sets it with
 * IncrementalAlterConfigs / AlterConfigs on the BROKER resource; the broker
 * persists it and applies it to Metadata, FindCoordinator, the group APIs
 * and Produce (broker/proto/region_redirect.h).
 *
 * Keys (dynamic broker configs; strings on the wire):
 *
 *   KEY                       VALUE
 *   strait.region.role        active | standby | fenced | promoting; absent = no failover
 *                             state (a plain broker)
 *   strait.region.epoch       decimal 1..2147483647 (it becomes a Kafka
 *                             leader epoch, an int32); never lowered
 *   strait.region.active      name of the active region (informational)
 *   strait.redirect.brokers   id@host:port,... of the active region's brokers
 *   strait.redirect.topics    comma-separated POSIX extended regexes, anchored
 *   strait.redirect.groups    the same, for consumer group ids
 *
 * Regex lists are split at the commas that are outside (), [] and {} and not
 * escaped, so "a{1,3},b" is two patterns. Removing the role and the epoch
 * together makes the broker a plain one again (an operator's reset); the
 * next epoch is then accepted whatever it is (leader epochs still never
 * go down: the partition logs keep theirs). Rules checked together for one
 * change (any failure changes nothing): a role needs an epoch; standby needs
 * at least one redirect broker; an epoch lower than the stored one is
 * refused; equal is accepted (idempotent re-apply).
 *
 * Persisted as <first log dir>/strait-region-state (format in
 * region_state.c, where it is parsed), written atomically (fsync + rename).
 *
 * The sidecar is recognised by its client.id starting with "strait-sidecar".
 * That is NOT a security boundary: any client can claim it. Authenticated
 * identity (SASL) will replace it.
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#ifndef STRAIT_REGION_STATE_H
#define STRAIT_REGION_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REGION_STATE_FILE_NAME "strait-region-state"
#define REGION_SIDECAR_CLIENT_ID_PREFIX "strait-sidecar"

#define REGION_KEY_ROLE "strait.region.role"
#define REGION_KEY_EPOCH "strait.region.epoch"
#define REGION_KEY_ACTIVE "strait.region.active"
#define REGION_KEY_BROKERS "strait.redirect.brokers"
#define REGION_KEY_TOPICS "strait.redirect.topics"
#define REGION_KEY_GROUPS "strait.redirect.groups"

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
 * the new state is persisted first, then replaces the current one.
 * Returns 0, ST_ECONFIG (bad value or rule broken; err names the key and the
 * reason), ST_EINVAL (unknown key, key given twice, unsupported operation),
 * ST_EIO (could not persist: nothing changed) or ST_ENOMEM.
 */
int region_state_apply(region_state *rs, const char *const *keys, const char *const *values,
                       const int8_t *ops, int count, bool replace, bool validate_only, char *err,
                       size_t errlen);

enum region_role region_state_role(const region_state *rs);
/* Label text of a role: "none", "active", "standby", "fenced", "promoting". */
const char *region_role_name(enum region_role role);
/* The region epoch, 0 when unset. */
int32_t region_state_epoch(const region_state *rs);
/* strait.region.active, "" when unset. */
const char *region_state_active_region(const region_state *rs);

/* Whether a topic / group id matches strait.redirect.topics / .groups.
 * Internal topics (names starting with "__") never match: each region's
 * cluster has its own, and they are never mirrored. */
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
 * its value as stored (DescribeConfigs). */
void region_state_each(const region_state *rs,
                       void (*fn)(void *arg, const char *key, const char *value), void *arg);

/* True if client_id (len bytes, len < 0 = null) names the sidecar. */
bool region_client_is_sidecar(const char *client_id, int32_t len);

#endif
