/*
 * group_sync.h - the periodic group checkpoint task of one mirror flow, on
 * its own thread (DESIGN.md §7). Every checkpoints.interval it
 *   1. lists the consumer groups on the SOURCE cluster that match the flow's
 *      `groups` patterns and reads their committed offsets (mirrored topics
 *      only: topology_flow_matches_topic),
 *   2. translates each with the flow's offset map (checkpoint_translate; a
 *      partition with nothing mapped yet is skipped, never guessed) and stores
 *      it (checkpoint_group_put; a stored checkpoint keeps `applied` while its
 *      source and target offsets are unchanged),
 *   3. for each group with unapplied checkpoints and NO active member on the
 *      TARGET cluster (DescribeConsumerGroups: member count 0), commits the
 *      translated offsets to the target topic names (topology_target_topic)
 *      with the source commit's metadata (AlterConsumerGroupOffsets), and
 *      marks them applied. A target commit already at or past the translated
 *      offset is left alone and marked applied (as MirrorMaker 2: syncing never
 *      moves a group backwards, so a group that consumed on the target after a
 *      move does not re-read when its old source commit is replayed). Groups
 *      with members on the target are left alone and listed in the status;
 *      so is a group whose commit the target refused because members
 *      arrived meanwhile (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 *      REBALANCE_IN_PROGRESS: a switchover's target adopts the old region's
 *      members while promoting), which is no error.
 *
 * Echo rule (identity naming both ways, east<->west): every commit this task
 * writes to a target carries an origin marker at the front of its metadata,
 * "strait.src=<region>;" followed by the source commit's own metadata, where
 * <region> is the region the group really committed in (the source region,
 * or the origin already marked on the source commit when it was itself a
 * translation: chains keep the first origin). A source commit whose marker
 * names the flow's TARGET region is skipped (not checkpointed, not applied,
 * counted in echoes_skipped): it is a translation of the target's own
 * commits, and translating it back would overwrite the group's real commits
 * there with a second-hand position. Commits without a marker are the
 * group's own and are synced as before.
 *
 * Same offsets: where the translated offset equals the source commit's and
 * the partition's mapped tail has equal source and target offsets too, the
 * marker says so: "strait.src=<region>@<source offset>;". A broker taking
 * over in a planned switchover adopts the group's members from the old
 * region only when every marked commit of the group carries "@" with its
 * own offset (broker/group/coordinator_adopt.c): the members' fetch
 * positions, numbered in the old region, then hold in the new one.
 *
 * Errors: a cluster that does not answer is reported in last_error and the
 * next round retries. A store error ST_ECORRUPT stops the task for good
 * (status.failed): no checkpoint is translated from a damaged map; ST_EIO
 * (busy beyond the timeout) is retried next round.
 */
#ifndef STRAIT_GROUP_SYNC_H
#define STRAIT_GROUP_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/checkpoint_store.h"
#include "topology/topology.h"

/* Group names kept in status.skipped_active: /status shows the first ones
 * and the count; a bounded struct can be copied under the lock. */
#define GROUP_SYNC_SKIPPED_LIST_MAX 32
/* Groups handled per round: librdkafka 2.0 fetches one group's offsets per
 * OffsetFetch request, so more than this would not finish within the default
 * 1 s interval on a loaded coordinator; the rest is logged and done next round. */
#define GROUP_SYNC_GROUPS_PER_ROUND_MAX 10000
/* How long a round waits for each admin request (list, describe, fetch,
 * commit); a coordinator request not answered by then is given up on with
 * its client (group_sync.c: the lifetime rule of the coordinator requests). */
#define GROUP_SYNC_REQUEST_TIMEOUT_MS 10000

/* Origin marker at the front of translated commits' metadata (the echo rule). */
#define GROUP_SYNC_ORIGIN_MARKER "strait.src="
#define GROUP_SYNC_ORIGIN_END ';'
/* Between the region and the end: "@<source offset>" (same offsets, above). */
#define GROUP_SYNC_SAME_AT '@'
/* Longest region name in a marker, with its NUL (TOPOLOGY_NAME_MAX). */
#define GROUP_SYNC_REGION_MAX 64

typedef struct group_sync group_sync;

typedef struct group_sync_status {
    char flow[160];                  /* "east->west" */
    bool running;                    /* thread alive and not failed */
    bool failed;                     /* stopped for good after a corrupt store */
    int64_t rounds;                  /* completed rounds */
    int64_t last_run_ms;             /* wall clock when the last round ended; 0 = none yet */
    int64_t last_run_duration_ms;
    int64_t groups_seen;             /* last round: source groups matching the patterns */
    int64_t checkpoints_stored;      /* last round: partitions translated and stored */
    int64_t checkpoints_stored_total;
    int64_t applied;                 /* last round: partitions committed to the target */
    int64_t applied_total;
    int64_t untranslatable;          /* last round: commits on partitions with nothing mapped yet */
    int64_t echoes_skipped;          /* last round: source commits translated from the target (echo rule) */
    int64_t echoes_skipped_total;
    int skipped_active_count;        /* last round: groups with unapplied checkpoints left alone because
                                        they have members on the target (a group with nothing to apply
                                        is not described, so not counted) */
    char skipped_active[GROUP_SYNC_SKIPPED_LIST_MAX][256]; /* the first of them, in order seen */
    char last_error[512];            /* "" when the last round was clean */
    int64_t last_error_ms;           /* wall clock of last_error; kept after recovery */
} group_sync_status;

/* True if metadata[0, size) starts with an origin marker: *region gets its
 * region (NUL-terminated, at most region_size - 1 bytes) and *body_offset
 * (if not NULL) where the commit's own metadata starts. */
bool group_sync_metadata_origin(const char *metadata, size_t size, char *region, size_t region_size,
                                size_t *body_offset);
/* Writes the metadata of a translated commit into out (NUL-terminated,
 * truncated to out_size - 1): the marker (the origin already marked on
 * metadata, else source_region; "@same_offset" when same_offset >= 0) and
 * metadata's own part (an "@<offset>" of a marker on metadata is dropped).
 * Returns the length the full text needs (>= out_size: truncated). */
size_t group_sync_metadata_mark(const char *source_region, int64_t same_offset, const char *metadata,
                                size_t size, char *out, size_t out_size);

/* Starts the task for t->flows[flow_index] (t is copied; the store must
 * outlive the task). The first round runs at once. 0 or ST_E*. */
int group_sync_start(const topology *t, int flow_index, checkpoint_store *store, group_sync **out);
/* Stops: the round in progress is abandoned at its next request boundary
 * (at most GROUP_SYNC_REQUEST_TIMEOUT_MS), joins the thread, frees. NULL ok. */
void group_sync_stop(group_sync *g);
/* Copies the status under the task's lock. @locality any thread. */
int group_sync_status_get(group_sync *g, group_sync_status *out);
/* Runs one round now on the calling thread and waits for it (tests, and the
 * sidecar's switchover: "groups are checkpointed" before promoting). Rounds
 * never overlap: this waits for a round in progress on the task's thread. */
int group_sync_run_once(group_sync *g);

#endif
