/*
 * roles.h - what a region state means (DESIGN.md §8): the role of each
 * region, which mirror flows run, whether a proposed state is well-formed for
 * a topology, and the `key=value` text form the sidecars and the CLI
 * exchange. Pure functions, no I/O.
 *
 * Roles, from one failover_state:
 *   active     the region named `active` (and not promoting): takes writes
 *   promoting  the region named `promoting` (always the active one): a
 *              takeover in progress; its brokers refuse client writes and
 *              hold consumer groups until the final checkpoints are applied
 *   fenced     the region named `fenced`: refuses client writes, no redirect
 *              (the old active while a switchover drains the mirror lag)
 *   standby    every other region: refuses client writes to mirrored topics
 *              and redirects clients to the active region's brokers
 * A flow runs only when its source region may hold records not yet mirrored
 * (the source is active, fenced or promoting) or while an operation moves
 * the active role to the flow's target: its final group checkpoints are
 * read through the flow's group sync after the source was demoted.
 */
#ifndef STRAIT_FAILOVER_ROLES_H
#define STRAIT_FAILOVER_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "checkpoints/failover_state.h"
#include "topology/topology.h"

enum failover_role {
    FAILOVER_ROLE_ACTIVE,
    FAILOVER_ROLE_STANDBY,
    FAILOVER_ROLE_FENCED,
    FAILOVER_ROLE_PROMOTING,
};

enum failover_role failover_role_of(const failover_state *st, const char *region);
const char *failover_role_name(enum failover_role role);
bool failover_flow_runs(const failover_state *st, const char *source_region,
                        const char *target_region);

/* The step an unplanned promotion leaves in the state (`strait failover`
 * and the automatic promotion alike), with previous = the demoted region. */
#define FAILOVER_STEP_UNPLANNED "unplanned"

/* Whether the diverged copy of the flow source_region -> target_region
 * runs (mirror_flow_start_diverged): after an unplanned promotion demoted
 * source_region (step unplanned, previous = source_region), while it stays
 * a standby, and only into the region that was promoted (the active one):
 * any other standby already gets, or will get, the new active's records
 * through the ordinary flows, so a diverged copy there would store the old
 * active's records a second time. */
bool failover_diverged_runs(const failover_state *st, const char *source_region,
                            const char *target_region);

/* The state a deployment starts in: epoch 1, topology's failover.active. */
void failover_state_initial(const topology *t, failover_state *out);

/* 0, or ST_EINVAL with why: a region that is not in the topology, fenced
 * or promoting naming a region other than allowed (promoting must be the
 * active region; fenced and promoting are never both set), an unknown
 * operation, or a target that is not a region. */
int failover_state_check(const topology *t, const failover_state *st, char *why, size_t whylen);

/* "key=value\n" lines (epoch, active, fenced, promoting, operation, target,
 * previous, step, actor, updated_at_ms), values without newlines. */
int failover_state_format(const failover_state *st, char *out, size_t outlen);
/* The value of key in a body of "key=value\n" lines into out: 1 when found,
 * 0 when absent (out ""), -1 when longer than outlen-1 (out truncated). */
int failover_kv_get(const char *body, const char *key, char *out, size_t outlen);

/* Reads one key of that form into st; false for an unknown key or a value
 * that does not parse or fit. */
bool failover_state_set_field(failover_state *st, const char *key, const char *value);

#endif
