/*
 * group.h - one consumer group's membership state machine (Kafka's classic
 * group protocol): members, generations, the leader, protocol selection,
 * static members (KIP-345), member ids required on first join (KIP-394),
 * session, rebalance and initial-delay timeouts, and generation fencing.
 *
 * States (Kafka's names):
 *   Empty               no members (offsets may still be kept)
 *   PreparingRebalance  waiting for members to (re)join until every member
 *                       has joined or the rebalance timeout passes
 *   CompletingRebalance joins answered; waiting for the leader's SyncGroup
 *   Stable              assignment distributed; heartbeats keep members
 *   Dead                deleted (DeleteGroups, expiry); never reused
 *
 * The module is pure: no sockets, no event loop, no storage. Time comes in
 * as arguments (group_time), parked requests are opaque waiter pointers, and
 * outcomes leave through callbacks, so unit tests drive it with a fake clock.
 * A caller arms one timer per group at group_next_deadline() and calls
 * group_on_time() when it fires.
 *
 * Callbacks run synchronously inside group_* calls; they must copy what they
 * need from the group and must not call back into it (the coordinator fills
 * responses at once and finishes the requests later, from the event loop).
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#ifndef STRAIT_GROUP_H
#define STRAIT_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/group/group_error.h"

enum group_state {
    GROUP_EMPTY = 0,
    GROUP_PREPARING_REBALANCE = 1,
    GROUP_COMPLETING_REBALANCE = 2,
    GROUP_STABLE = 3,
    GROUP_DEAD = 4,
};

/* "Empty", "PreparingRebalance", ... as DescribeGroups reports them. */
const char *group_state_name(enum group_state s);

typedef struct group group;

/* Both clocks: monotonic for timeouts, wall for persisted timestamps. */
typedef struct group_time {
    int64_t mono_ms;
    int64_t wall_ms;
} group_time;

typedef struct group_config {
    int32_t min_session_timeout_ms;  /* group.min.session.timeout.ms */
    int32_t max_session_timeout_ms;  /* group.max.session.timeout.ms */
    int32_t max_size;                /* group.max.size: members + pending members */
    int64_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
} group_config;

typedef struct group_protocol {
    char *name;
    uint8_t *metadata;
    int32_t metadata_len;
} group_protocol;

typedef struct group_member_info {
    char *id;
    char *instance_id;          /* group.instance.id, NULL for a dynamic member */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    group_protocol *protocols;  /* in the member's order of preference */
    int32_t protocol_count;
    uint8_t *assignment;        /* from the leader's SyncGroup */
    int32_t assignment_len;
    bool awaiting_join;         /* has joined the next generation */
    bool awaiting_sync;         /* sent SyncGroup, waits for the leader */
    bool needs_sync;            /* joined the current generation, no SyncGroup yet */
    void *join_waiter;          /* parked JoinGroup (NULL if answered or dropped) */
    void *sync_waiter;          /* parked SyncGroup */
    int64_t session_deadline_ms;
} group_member_info;

/* What a JoinGroup is answered with. */
typedef struct group_join_outcome {
    int error;                  /* GROUP_OK or GROUP_E* (group_error.h) */
    const char *member_id;      /* the member's id (a new one with GROUP_EMEMBER_ID_REQUIRED) */
    int32_t generation;         /* -1 on error */
    const char *protocol_name;  /* "" on error */
    const char *leader_id;      /* "" on error */
    bool with_members;          /* the leader: list every member's metadata */
} group_join_outcome;

typedef struct group_callbacks {
    /* A JoinGroup (parked or the current one) is answered. */
    void (*join_done)(void *arg, group *g, void *waiter, const group_join_outcome *outcome);
    /* A SyncGroup is answered: error, or the member's assignment. */
    void (*sync_done)(void *arg, group *g, void *waiter, int error, const uint8_t *assignment,
                      int32_t assignment_len);
    /* Group metadata changed in a way that must be persisted (new assignment,
     * group emptied, static member replaced). */
    void (*store)(void *arg, group *g);
    void *arg;
} group_callbacks;

/* A new group in state Empty, generation 0. NULL when out of memory. */
group *group_new(const char *id, const group_config *config, const group_callbacks *callbacks);
/* Frees g; waiters still parked are forgotten (the caller answers or drops them). */
void group_free(group *g);

typedef struct group_join_params {
    const char *member_id;      /* "" for a first join */
    const char *instance_id;    /* NULL when not static */
    const char *client_id;
    const char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    const char *protocol_type;
    const group_protocol *protocols; /* borrowed; copied when kept */
    int32_t protocol_count;
    bool require_known_member_id; /* JoinGroup v4+ (KIP-394) */
} group_join_params;

/* JoinGroup. Always ends in join_done for waiter, now or later. */
void group_join(group *g, const group_join_params *p, void *waiter, group_time now);

typedef struct group_assignment {
    const char *member_id;
    const uint8_t *data;
    int32_t len;
} group_assignment;

/* SyncGroup. Always ends in sync_done for waiter, now or later. */
void group_sync(group *g, const char *member_id, const char *instance_id, int32_t generation,
                const group_assignment *assignments, int32_t assignment_count, void *waiter,
                group_time now);

/* Heartbeat; returns GROUP_OK or GROUP_E*. */
int group_heartbeat(group *g, const char *member_id, const char *instance_id,
                    int32_t generation, group_time now);

/* LeaveGroup of one member (v0-2); returns GROUP_OK or GROUP_E*. */
int group_leave(group *g, const char *member_id, group_time now);

/* May this OffsetCommit go ahead? (generation -1 and no member id on an
 * Empty group is a simple commit.) Counts as a heartbeat. GROUP_OK or GROUP_E*. */
int group_commit_check(group *g, const char *member_id, const char *instance_id,
                       int32_t generation, group_time now);

/* Timers: session expiry, pending-member expiry, end of the join phase
 * (initial delay / rebalance timeout), end of the sync phase. */
void group_on_time(group *g, group_time now);
/* Monotonic time of the next timer, INT64_MAX when none. */
int64_t group_next_deadline(const group *g);

/* The request behind waiter went away (connection closed): forget it. The
 * member keeps its place, as in Kafka. */
void group_forget_waiter(group *g, void *waiter);

/* Marks g Dead (DeleteGroups, expiry). Only for a group without members. */
void group_set_dead(group *g);

/* Rebuild from __consumer_offsets: replaces the whole state with a stored
 * generation. Members come back Stable (or the group Empty when none) with a
 * fresh session timeout, so consumers that return keep their assignment. */
typedef struct group_stored_member {
    const char *member_id;
    const char *instance_id;    /* NULL */
    const char *client_id;
    const char *client_host;
    int32_t rebalance_timeout_ms;
    int32_t session_timeout_ms;
    const uint8_t *subscription;
    int32_t subscription_len;
    const uint8_t *assignment;
    int32_t assignment_len;
} group_stored_member;

int group_restore(group *g, const char *protocol_type, int32_t generation,
                  const char *protocol_name, const char *leader_id, int64_t state_wall_ms,
                  const group_stored_member *members, int32_t member_count, group_time now);

/* Adoption after a planned switchover (coordinator_adopt.c): a member of
 * this group in the old active region arrives with its member id and
 * generation, unknown here. */
typedef struct group_adoptee {
    const char *member_id;
    const char *instance_id;    /* static members are not adopted: NULL */
    const char *client_id;      /* NULL ok */
    const char *client_host;    /* NULL ok */
    int32_t generation;         /* the member's generation in the old region */
    int32_t session_timeout_ms; /* unknown here: a default, clamped to the config */
} group_adoptee;

/* Takes the member in as Stable without a rebalance: into an Empty group
 * (which then runs the member's generation and is marked adopted), or into
 * a group already adopted at that same generation. The member keeps the
 * assignment it holds (the group does not know it) and brings no protocols
 * until its next JoinGroup; the next rebalance (a new member, a member
 * gone) ends the adoption as any generation does. GROUP_OK (also when the
 * member is known), GROUP_EUNKNOWN_MEMBER when the group cannot take it. */
int group_adopt(group *g, const group_adoptee *a, group_time now);
/* The current generation came by group_adopt. */
bool group_is_adopted(const group *g);

/* ---- read access (DescribeGroups, persistence, responses) ---- */

const char *group_id(const group *g);
enum group_state group_current_state(const group *g);
int32_t group_generation(const group *g);
const char *group_protocol_type(const group *g);   /* NULL when none */
const char *group_protocol_name(const group *g);   /* NULL when none */
const char *group_leader_id(const group *g);       /* NULL when none */
int64_t group_state_timestamp(const group *g);     /* wall ms of the last state change */
int32_t group_member_count(const group *g);
const group_member_info *group_member_at(const group *g, int32_t i);
int32_t group_pending_count(const group *g);
/* The member's metadata for protocol name (NULL/0 when it has none). */
const uint8_t *group_member_metadata(const group_member_info *m, const char *protocol_name,
                                     int32_t *len);

#endif
