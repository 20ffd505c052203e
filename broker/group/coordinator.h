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
 * dropped through broker_request.on_abandon.
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

#include "broker/group/group.h"
#include "broker/group/offsets_store.h"

struct broker;
struct broker_request;

typedef struct coordinator coordinator;

/* Creates the coordinator of b and rebuilds groups and offsets from
 * __consumer_offsets if it exists. */
int coordinator_open(struct broker *b, coordinator **out);
/* Frees everything (call after the server closed its connections). */
void coordinator_close(coordinator *c);
/* Once a second: offsets.retention.minutes expiry of empty groups' offsets. */
void coordinator_tick(coordinator *c);

/* Java's String.hashCode over the UTF-16 code units of a UTF-8 string. */
int32_t coordinator_java_hash(const char *s, size_t len);
/* __consumer_offsets partition of a group id. */
int32_t coordinator_partition_for(const char *group_id, size_t len, int32_t partitions);

/* FindCoordinator for a group: makes sure __consumer_offsets exists.
 * Returns a Kafka error code. */
int16_t coordinator_find(coordinator *c);

/* A JoinGroup or SyncGroup request as the group sees it (lives in the
 * request's arena; req->handler_state points to it). */
typedef struct coordinator_waiter {
    struct broker_request *req;
    const char *group_id;
    void (*join_fill)(struct broker_request *req, const group *g, const group_join_outcome *o);
    void (*sync_fill)(struct broker_request *req, int16_t error, const uint8_t *assignment,
                      int32_t assignment_len);
} coordinator_waiter;

/* JoinGroup / SyncGroup. true: answered now (the handler responds);
 * false: parked (the coordinator finishes the request later). */
bool coordinator_join(coordinator *c, coordinator_waiter *w, const group_join_params *p);
bool coordinator_sync(coordinator *c, coordinator_waiter *w, const char *member_id,
                      const char *instance_id, int32_t generation,
                      const group_assignment *assignments, int32_t count);

int16_t coordinator_heartbeat(coordinator *c, const char *group_id, const char *member_id,
                              const char *instance_id, int32_t generation);
int16_t coordinator_leave(coordinator *c, const char *group_id, const char *member_id);

/* One partition of an OffsetCommit. error is in/out: entries that arrive
 * with an error are skipped; the rest get the outcome. */
typedef struct coordinator_offset_item {
    const char *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const char *metadata;      /* NULL = none */
    size_t metadata_len;
    int16_t error;
} coordinator_offset_item;

/* Group-level check of an OffsetCommit (creates the group for a simple
 * commit); KERR_NONE to go on. */
int16_t coordinator_commit_check(coordinator *c, const char *group_id, const char *member_id,
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

/* DeleteGroups of one group: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP or NONE
 * (offsets and group tombstoned in __consumer_offsets). */
/* Removes every member of the groups match() selects, as if each had left
 * (the group rebalances or becomes Empty; committed offsets stay). Used when
 * the region's role changes: the members of a redirected group are in the
 * other region now, and a group taking over must not wait for them.
 * Returns the number of members removed. */
int coordinator_evict_members(coordinator *c, bool (*match)(void *arg, const char *group_id),
                              void *arg);

int16_t coordinator_delete_group(coordinator *c, const char *group_id);

/* OffsetDelete: group-level error (GROUP_ID_NOT_FOUND, ...) or NONE; then
 * per partition: GROUP_SUBSCRIBED_TO_TOPIC for a topic an active consumer
 * member subscribes to, else the offset is tombstoned. */
int16_t coordinator_offset_delete(coordinator *c, const char *group_id,
                                  coordinator_offset_item *partitions, int32_t count);

#endif
