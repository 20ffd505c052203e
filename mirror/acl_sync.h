/*
 * acl_sync.h - a flow's ACL sync (docs/security.md, "ACL sync between
 * regions"): on every topic refresh the source region's topic and group ACLs
 * that apply to what the flow mirrors are copied into the target region
 * (rules in acl_sync_rules.h), bindings the sync created and that are gone
 * from the source are deleted, bindings created locally in the target are
 * never touched (the sync's own record, checkpoints/acl_record.h, says which
 * are its own).
 *
 * It changes the target only while its source is the authoritative region:
 * the active region under a failover section (the sidecar says so through
 * mirror_acl_sync_set_source_active), or, without one, any source whose
 * reverse flow does not sync ACLs too (two syncs in both directions would
 * bring each other's removals back).
 *
 * A region that refuses (no authorizer, not authorized, no answer) stops
 * nothing: the cycle is skipped, the reason is logged once (again only when
 * it changes) and shown in /status.
 *
 * Runs on the flow's thread (mirror_acl_sync_run); status and
 * set_source_active from any thread.
 */
#ifndef STRAIT_MIRROR_ACL_SYNC_H
#define STRAIT_MIRROR_ACL_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "topology/topology.h"

typedef struct mirror_acl_sync mirror_acl_sync;

typedef struct mirror_acl_sync_status {
    bool enabled;                /* the flow's sync_acls */
    char state[16];              /* "" not run yet, "ok", "paused" (not the authority),
                                    "refused", "off" (sync_acls: false) */
    char reason[400];            /* why paused or refused; "" when ok */
    int64_t bindings;            /* bindings the sync created that exist in the target */
    int64_t created_total;       /* since the sidecar started */
    int64_t deleted_total;
    int64_t last_sync_ms;        /* wall clock of the last complete cycle, 0 never */
} mirror_acl_sync_status;

/* For flow (named flow_name), with its record in the SQLite file store_path
 * (a record that cannot be opened is reported by every run as a refusal). */
int mirror_acl_sync_open(const topology *t, const topology_flow *flow, const char *flow_name,
                         const char *store_path, mirror_acl_sync **out);
void mirror_acl_sync_close(mirror_acl_sync *s);

/* Whether the flow's source is the active region now (from the failover state). */
void mirror_acl_sync_set_source_active(mirror_acl_sync *s, bool active);

/* One cycle: source and target are clients of the two regions (any handle
 * type), topics the source topics the flow mirrors now. Blocks up to a few
 * timeout_ms. */
void mirror_acl_sync_run(mirror_acl_sync *s, rd_kafka_t *source, rd_kafka_t *target,
                         const char *const *topics, int topic_count, int timeout_ms);

void mirror_acl_sync_status_get(mirror_acl_sync *s, mirror_acl_sync_status *out);

#endif
