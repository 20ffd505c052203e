/*
 * flow.h - one mirror flow (source region -> target region) run by the
 * target region's sidecar: topic discovery and sync, the copy loop on
 * librdkafka (consume far with manual assignment, produce near with an
 * idempotent acks=all producer), provenance headers, exactly-once resume from
 * the target's tail, the offset map in the checkpoint store, heartbeats and
 * lag. Each flow runs on its own thread; status is read under a lock.
 */
#ifndef STRAIT_MIRROR_FLOW_H
#define STRAIT_MIRROR_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoints/checkpoint_store.h"
#include "mirror/acl_sync.h"
#include "topology/topology.h"

/* Provenance header on every mirrored record: key "strait.src", value
 * "<source region>:<source partition>:<source offset>" (ASCII decimal). */
#define MIRROR_PROVENANCE_HEADER "strait.src"
/* Suffix of a diverged copy: flow name "east->west.diverged", target topic
 * "orders.diverged" (mirror_flow_start_diverged). */
#define MIRROR_DIVERGED_SUFFIX ".diverged"

typedef struct mirror_flow mirror_flow;

typedef struct mirror_partition_status {
    char source_topic[256];
    char target_topic[256];
    int32_t partition;
    int64_t source_end_offset;   /* high watermark last seen on the source */
    int64_t next_source_offset;  /* next offset to copy */
    int64_t lag_records;         /* source_end_offset - next_source_offset */
    int64_t lag_ms;              /* now - timestamp of the oldest uncopied record (0 when caught up) */
    int64_t last_poll_ms;        /* wall clock of the last successful fetch */
    int64_t last_produce_ms;     /* wall clock of the last delivered record */
    int64_t records_copied;
    int64_t pending_pairs;       /* delivered, not yet in the offset map */
} mirror_partition_status;

typedef struct mirror_flow_status {
    char name[160];              /* "east->west" */
    bool running;
    char last_error[512];        /* "" when healthy */
    int64_t last_error_ms;
    int64_t records_copied;
    int64_t records_skipped_loop; /* identity naming: records whose provenance is the target */
    int64_t records_skipped_held; /* identity naming: relayed records the target held already */
    int64_t in_flight;           /* records handed to the producer, not yet acknowledged */
    int partition_count;
    mirror_partition_status *partitions; /* malloc'ed; mirror_flow_status_free */
    bool has_acl_sync;           /* false for a diverged copy */
    mirror_acl_sync_status acl_sync;
} mirror_flow_status;

/* Starts flow t->flows[flow_index] on its own thread. The store outlives the flow. */
int mirror_flow_start(const topology *t, int flow_index, checkpoint_store *store, mirror_flow **out);
/*
 * The diverged copy of flow t->flows[flow_index] (DESIGN.md §8, failback):
 * records the source region accepted but never mirrored before it was
 * demoted by an unplanned failover. It copies every record of the source
 * after the normal flow's offset map (those that did not come from the
 * target, as always) into "<target topic>.diverged", with provenance headers
 * and its own offset map under the flow name "<source>-><target>.diverged",
 * resuming exactly like a normal flow. The sidecar runs it while the normal
 * flow is paused (the source is a standby), so nothing is merged silently
 * into the active region's topics; the normal flow, when it runs again,
 * starts after what this copy took.
 */
int mirror_flow_start_diverged(const topology *t, int flow_index, checkpoint_store *store,
                               mirror_flow **out);
/* Stops: finishes in-flight produce requests (flush), joins the thread, frees. */
void mirror_flow_stop(mirror_flow *f);
int mirror_flow_status_get(mirror_flow *f, mirror_flow_status *out);
/* Whether the flow's source is the active region now (the ACL sync copies
 * from the active region only; acl_sync.h). Any thread. */
void mirror_flow_set_source_active(mirror_flow *f, bool active);
void mirror_flow_status_free(mirror_flow_status *s);
/* The flow's lag: records summed over its partitions, ms of the worst one. */
void mirror_flow_status_lag(const mirror_flow_status *s, int64_t *records, int64_t *max_ms);

#endif
