/*
 * coordinator.h - the group coordinator of this node: every consumer group
 * (group.h state machines) by id, their committed offsets, and their
 * persistence in __consumer_offsets (offsets_store.h).
 *
 * A group lives in partition abs(hashCode(group.id)) % partitions of
 * __consumer_offsets, hashCode being Java's String.hashCode (as in Kafka, so
 * the layout matches Kafka's). On a single node every group is coordinated
 * here. The topic is created (cleanup.policy=compact,
 * offsets.topic.num.partitions partitions) on first use; on start every
 * partition is read back and the groups and offsets rebuilt.
 *
 * Parked requests: JoinGroup and SyncGroup wait inside their group (never in
 * the broker's long-poll list). When the group answers one, its response is
 * filled at once and the request is finished from the event loop shortly
 * after (a deferred event), so a handler never runs inside another
 * connection's handler. A request whose connection closes meanwhile is
 * forgotten (coordinator_forget).
 *
 * Commits are acknowledged only after plog_append of their records returned
 * (with the topic's flush policy), so an acknowledged commit survives a
 * broker kill -9.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_COORDINATOR_H
#define STRAIT_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/cluster/topic_registry.h"
#include "broker/group/group.h"
#include "broker/group/group_error.h"
#include "broker/group/offsets_store.h"

struct event_base;

typedef struct coordinator coordinator;

/* What the coordinator needs from the broker, handed over explicitly (the
 * group module does not know the broker). */
typedef struct coordinator_deps {
    struct event_base *base;       /* the broker's loop: group timers, deferred answers */
    topic_registry *topics;        /* where __consumer_offsets lives */
    group_config group;            /* group.min/max.session.timeout.ms, group.max.size, ... */
    int32_t offsets_topic_num_partitions;        /* offsets.topic.num.partitions */
    int64_t offsets_retention_minutes;           /* offsets.retention.minutes */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    /* Records were appended to p (wakes Fetch long-polls on it). */
    void (*notify_append)(void *arg, partition *p);
    void *notify_arg;
} coordinator_deps;

/* Creates the coordinator and rebuilds groups and offsets from
 * __consumer_offsets if it exists. 0 or ST_ENOMEM. */
int coordinator_open(const coordinator_deps *deps, coordinator **out);
/* Frees everything (call after the server closed its connections). */
void coordinator_close(coordinator *c);
/* Once a second: offsets.retention.minutes expiry of empty groups' offsets. */
void coordinator_tick(coordinator *c);

/* Java's String.hashCode over the UTF-16 code units of a UTF-8 string. */
int32_t coordinator_java_hash(const char *s, size_t len);
/* __consumer_offsets partition of a group id. */
int32_t coordinator_partition_for(const char *group_id, size_t len, int32_t partitions);

/* FindCoordinator for a group: makes sure __consumer_offsets exists.
 * GROUP_OK or GROUP_EUNAVAILABLE. */
int coordinator_find(coordinator *c);

/* A JoinGroup or SyncGroup request as the group sees it; the caller owns its
 * memory until the request is finished or forgotten. */
typedef struct coordinator_waiter coordinator_waiter;
struct coordinator_waiter {
    const char *group_id;
    void *request;             /* the caller's request; opaque here */
    /* Fill the response (called at once when the group answers). */
    void (*join_fill)(coordinator_waiter *w, const group *g, const group_join_outcome *o);
    void (*sync_fill)(coordinator_waiter *w, int error, const uint8_t *assignment,
                      int32_t assignment_len);
    /* A parked request was answered: send its response. Called later from
     * the loop (a deferred event), never inside another request's handler. */
    void (*finish)(coordinator_waiter *w);
};

/* JoinGroup / SyncGroup. true: answered now (the handler responds);
 * false: parked (the coordinator calls w->finish later, unless the caller
 * calls coordinator_forget first because its request went away). */
bool coordinator_join(coordinator *c, coordinator_waiter *w, const group_join_params *p);
bool coordinator_sync(coordinator *c, coordinator_waiter *w, const char *member_id,
                      const char *instance_id, int32_t generation,
                      const group_assignment *assignments, int32_t count);

/* The request behind a parked w went away (connection closed): never
 * finish it. The member keeps its place in the group, as in Kafka. */
void coordinator_forget(coordinator *c, coordinator_waiter *w);

int coordinator_heartbeat(coordinator *c, const char *group_id, const char *member_id,
                          const char *instance_id, int32_t generation);
int coordinator_leave(coordinator *c, const char *group_id, const char *member_id);

/* One partition of an OffsetCommit, OffsetDelete or expiry. Entries with
 * skip set (refused at the protocol edge) are left alone; the rest get
 * their outcome in error (GROUP_OK or GROUP_E*). */
typedef struct coordinator_offset_item {
    const char *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const char *metadata;      /* NULL = none */
    size_t metadata_len;
    bool skip;
    int error;
} coordinator_offset_item;

/* Group-level check of an OffsetCommit (creates the group for a simple
 * commit); GROUP_OK to go on. */
int coordinator_commit_check(coordinator *c, const char *group_id, const char *member_id,
                             const char *instance_id, int32_t generation);
/* Writes the commits to __consumer_offsets (one batch) and, once written,
 * to the group's table. */
void coordinator_commit(coordinator *c, const char *group_id, coordinator_offset_item *commits,
                        int32_t count);

/* Committed offset of (topic, partition), NULL if none (or no such group). */
const offset_value *coordinator_offset(coordinator *c, const char *group_id, const char *topic,
                                       size_t topic_len, int32_t partition);
/* Every committed offset of a group. */
void coordinator_offsets_each(coordinator *c, const char *group_id, offsets_table_fn fn, void *arg);

/* The group, or NULL. */
const group *coordinator_group(coordinator *c, const char *group_id);
/* Calls fn for every group. */
void coordinator_groups_each(coordinator *c, void (*fn)(void *arg, const group *g), void *arg);

/* Removes every member of the groups match() selects, as if each had left
 * (the group rebalances or becomes Empty; committed offsets stay). Used when
 * the region's role changes: the members of a redirected group are in the
 * other region now, and a group taking over must not wait for them.
 * Returns the number of members removed. */
int coordinator_evict_members(coordinator *c, bool (*match)(void *arg, const char *group_id),
                              void *arg);

/* A planned switchover made this region the one taking over (standby ->
 * promoting): open, for a while, the adoption of members that arrive from
 * the old active region with the ids and generation they hold there; any
 * other handover closes it (coordinator_adopt.c). */
void coordinator_adoption_open(coordinator *c, bool open);
/* Before a Heartbeat or OffsetCommit of a group this region coordinates for
 * the regions (the redirected groups): adopts a's member when the window is
 * open and the group qualifies (coordinator_adopt.c). GROUP_OK when the
 * member is now in the group by adoption (just now or before), else
 * GROUP_EUNKNOWN_MEMBER (nothing changed; the request then goes on as
 * usual). */
int coordinator_adopt(coordinator *c, const char *group_id, const group_adoptee *a);

/* An unplanned failover made this region active (standby -> active): with
 * open, every group match() selects that holds a commit synced from another
 * region is awaited until its members rejoin here; without, none is
 * (coordinator_rejoin.c). Returns the number of groups awaited. */
int coordinator_rejoin_hold_open(coordinator *c, bool open,
                                 bool (*match)(void *arg, const char *group_id), void *arg);
/* Fetch of (topic, partition) by a client: true while a group awaited after
 * an unplanned failover has a commit for it and has not rejoined here (the
 * fetch then gets no records), for REJOIN_HOLD_WINDOW_MS at most. */
bool coordinator_rejoin_holds(coordinator *c, const char *topic, size_t topic_len,
                              int32_t partition);

/* DeleteGroups of one group: GROUP_ENOT_FOUND, GROUP_ENOT_EMPTY,
 * GROUP_EUNAVAILABLE (not written) or GROUP_OK (offsets and group
 * tombstoned in __consumer_offsets). */
int coordinator_delete_group(coordinator *c, const char *group_id);

/* OffsetDelete: group-level error (GROUP_ENOT_FOUND, GROUP_ENOT_EMPTY,
 * GROUP_EUNAVAILABLE, GROUP_EINTERNAL) or GROUP_OK; then per partition:
 * GROUP_ESUBSCRIBED for a topic an active consumer member subscribes to,
 * else the offset is tombstoned. */
int coordinator_offset_delete(coordinator *c, const char *group_id,
                              coordinator_offset_item *partitions, int32_t count);

#endif
