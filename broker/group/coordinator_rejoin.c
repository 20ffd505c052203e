/*
 * coordinator_rejoin.c - the coordinator's half of an unplanned failover:
 * the members of a group arriving from the old active region rejoin here
 * BEFORE they read anything from this region, so the batch a member reads
 * here is never read again (issue 12, nemesis finding N8).
 *
 * When. An unplanned failover (`strait failover`, an automatic promotion)
 * moves this region from standby straight to active; the AlterConfigs
 * handover then calls coordinator_rejoin_hold_open(c, ...): every group the
 * handover selects (the redirected groups) that holds a commit synced from
 * another region (the origin marker "strait.src=", checkpoints/group_sync.h)
 * is awaited. Until an awaited group has formed a generation of this
 * region's own (it is Stable here again), a client's Fetch of a partition
 * the group has a commit for gets no records (broker/proto/fetch.c: the
 * request long-polls as on an idle partition, no error, no reset). The
 * members meanwhile send their heartbeat or commit with the member id of
 * the old region, are told UNKNOWN_MEMBER_ID, rejoin, and start from the
 * group's commits here: the last checkpoint, never beyond what was mirrored.
 * So a member re-reads at most what it consumed since that checkpoint, in
 * the old region; what it reads here it commits here.
 *
 * Why not adoption, as after a switchover (coordinator_adopt.c). A member's
 * position comes from the old region's log. After an unplanned failover
 * that log may hold records the mirror never copied; the member may have
 * read them. Here, new records take those offsets: kept at its position, the
 * member would skip the new records up to it (or, past the log end, reset
 * to its auto.offset.reset), and nothing the coordinator sees (a heartbeat,
 * a commit made after reading here) tells a safe position from a lost one.
 * The origin marker only says the offsets agreed up to the mirrored tail.
 * A rejoin from the checkpoint is always safe.
 *
 * Bounds. The hold ends for a group when it is Stable here, for every group
 * when the handover is followed by another one, and after
 * REJOIN_HOLD_WINDOW_MS in any case: a group whose members never come back
 * (or come late) delays the partitions it has commits for by that much,
 * once; a member arriving after the window or after its group's first
 * generation here is back to a rejoin after its first failed commit. Fetches
 * of the sidecar (the mirror out of this region) are never held.
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/group/coordinator.h"
#include "broker/group/coordinator_internal.h"

#include <string.h>

#include "common/clock.h"
#include "common/log.h"

/* Long enough for a member to find the new coordinator and rejoin (a session
 * timeout or two), short enough that an abandoned group delays its
 * partitions' readers only once, briefly. */
#define REJOIN_HOLD_WINDOW_MS (20 * 1000)
#define ORIGIN_MARKER "strait.src="

static void find_marker(void *arg, const char *topic, int32_t partition, const offset_value *v)
{
    (void)topic;
    (void)partition;
    bool *marked = arg;
    size_t prefix = strlen(ORIGIN_MARKER);
    if (v->metadata && v->metadata_len >= prefix && memcmp(v->metadata, ORIGIN_MARKER, prefix) == 0)
        *marked = true;
}

int coordinator_rejoin_hold_open(coordinator *c, bool open,
                                 bool (*match)(void *arg, const char *group_id), void *arg)
{
    int awaited = 0;
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b]; e; e = e->next) {
            e->rejoin_awaited = false;
            if (!open || !match(arg, group_id(e->g)))
                continue;
            bool marked = false;
            offsets_table_each(e->offsets, find_marker, &marked);
            if (!marked || group_current_state(e->g) == GROUP_STABLE)
                continue;
            e->rejoin_awaited = true;
            awaited++;
        }
    c->rejoin_hold_opened_ms = awaited > 0 ? clock_mono_ms() : 0;
    if (awaited > 0)
        log_info("group", "rejoin hold open: %d groups synced from the old region; their "
                 "partitions are read here once they rejoined (at most %d s)",
                 awaited, REJOIN_HOLD_WINDOW_MS / 1000);
    return awaited;
}

bool coordinator_rejoin_holds(coordinator *c, const char *topic, size_t topic_len,
                              int32_t partition)
{
    if (c->rejoin_hold_opened_ms == 0 || c->loading)
        return false;
    bool over = clock_mono_ms() - c->rejoin_hold_opened_ms > REJOIN_HOLD_WINDOW_MS;
    bool holds = false;
    int awaited = 0;
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b]; e; e = e->next) {
            if (!e->rejoin_awaited)
                continue;
            if (group_current_state(e->g) == GROUP_STABLE || over) {
                e->rejoin_awaited = false;
                log_info("group", "rejoin hold over group=%s reason=%s", group_id(e->g),
                         over ? "window over" : "rejoined here");
                continue;
            }
            awaited++;
            if (!holds && offsets_table_get(e->offsets, topic, topic_len, partition))
                holds = true;
        }
    if (awaited == 0)
        c->rejoin_hold_opened_ms = 0;
    return holds;
}
