/*
 * group_internal.h - what group.c (the transitions) and group_members.c
 * (members, memory, rebuild, read access) share: the group struct and the
 * member helpers. Not for use outside broker/group/group*.c.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_GROUP_INTERNAL_H
#define STRAIT_GROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/group/group.h"

typedef struct group_pending_member {
    char *id;
    int64_t deadline_ms;
} group_pending_member;

struct group {
    char *id;
    enum group_state state;
    int32_t generation;
    char *protocol_type;          /* NULL before the first member */
    char *protocol_name;          /* NULL unless a generation is running */
    group_member_info *leader;         /* NULL when no members */
    group_member_info **members;       /* in join order */
    int32_t member_count;
    int32_t member_capacity;
    group_pending_member *pending; /* KIP-394: ids handed out, not joined yet */
    int32_t pending_count;
    int32_t pending_capacity;
    int64_t join_deadline_ms;     /* PreparingRebalance: end of the join phase */
    bool initial_delay;           /* the join phase is the initial delay */
    bool new_member_added;        /* a member joined during the current delay */
    int64_t initial_remaining_ms; /* how much longer the initial delay may grow */
    int64_t sync_deadline_ms;     /* CompletingRebalance: SyncGroup deadline */
    int64_t state_wall_ms;
    bool adopted;                 /* the generation came with members adopted from the old
                                     active region (group_adopt), not from a join here */
    group_config config;
    group_callbacks callbacks;
};

char *group_strdup_or_null(const char *s);
/* Both non-NULL and equal. */
bool group_str_eq(const char *a, const char *b);
/* "<prefix>-<uuid v4>" in new memory, or NULL. */
char *group_new_member_id(const char *prefix);

void group_protocols_free(group_protocol *p, int32_t count);
/* Deep copy; NULL when out of memory (or count 0). */
group_protocol *group_protocols_copy(const group_protocol *p, int32_t count);
/* m has exactly these protocols (names and metadata, in order). */
bool group_protocols_equal(const group_member_info *m, const group_protocol *p, int32_t count);
bool group_member_supports(const group_member_info *m, const char *protocol);

void group_member_free(group_member_info *m);
/* Replaces m's protocols, timeouts and client fields with those of p.
 * false: out of memory (m unchanged). */
bool group_member_update(group_member_info *m, const group_join_params *p);
/* Copies the assignment (len <= 0: none). */
void group_member_set_assignment(group_member_info *m, const uint8_t *data, int32_t len);

group_member_info *group_find_member(const group *g, const char *id);
group_member_info *group_find_static(const group *g, const char *instance_id);
/* KIP-345: a known instance id used with a member id that is not its own. */
bool group_static_fenced(const group *g, const char *member_id, const char *instance_id);
int32_t group_pending_find(const group *g, const char *id);
void group_pending_remove(group *g, int32_t i);
int32_t group_max_rebalance_timeout(const group *g);
/* Frees every member and pending member. */
void group_clear_members(group *g);

#endif
