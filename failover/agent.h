/*
 * agent.h - the failover agent inside each sidecar (DESIGN.md §8): holds the
 * region's durable copy of the deployment state (checkpoints/failover_state),
 * accepts new states from the CLI, pushes the region's role to its brokers,
 * adopts a newer state from a peer sidecar (a sidecar that was down during a
 * change learns it when it returns), runs the on_promote / on_demote hooks.
 *
 * Only with a `failover:` section in the topology; without one there are no
 * roles and every region accepts writes (failover_agent_open is not called).
 *
 * Threads: the sidecar's loop thread only (HTTP handlers and its timer).
 * Calls block on the brokers and peers for at most a few seconds.
 */
#ifndef STRAIT_FAILOVER_AGENT_H
#define STRAIT_FAILOVER_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"
#include "failover/role_pusher.h"
#include "topology/topology.h"

/* How often the sidecar calls failover_agent_tick. */
#define FAILOVER_TICK_MS 1000
/* Re-push the role to the brokers this often even when nothing changed (a
 * broker replaced with an empty data directory learns its role again). */
#define FAILOVER_REPUSH_MS 30000
/* Retry of a push the brokers did not accept (each try may block the
 * sidecar's loop for FAILOVER_PUSH_TIMEOUT_MS on a region that is down). */
#define FAILOVER_PUSH_RETRY_MS 5000
/* Per-request timeout when asking a peer sidecar for its state. */
#define FAILOVER_PEER_TIMEOUT_MS 1000

typedef struct failover_agent failover_agent;

typedef struct failover_agent_info {
    failover_state state;
    /* Manual mode's restart fence (failover_agent_open): the stored role is
     * `active` but not trusted yet, so the brokers hear `fenced`. "" when
     * the region is not held fenced this way; otherwise why, for /status. */
    char fenced_reason[256];
    int64_t pushed_epoch;          /* epoch the brokers last accepted; 0 = not yet */
    int64_t pushed_at_ms;
    char push_error[512];          /* "" after a successful push */
    role_pusher_lease_info lease;  /* the brokers' lease (failover/role_pusher.h) */
} failover_agent_info;

/* Opens the state in store_path; a fresh store starts from the topology's
 * failover.active at epoch 1. ST_ECONFIG (err says why) when the stored
 * state names a region the topology does not have.
 *
 * A region never takes writes on its stored role alone. In automatic mode
 * its brokers hear `active` only while a majority of voters answers
 * (auto_failover.h: the lease starts expired). In manual mode a region whose
 * stored (or fresh) state makes it active starts behind a restart fence: its
 * brokers hear `fenced` at the stored epoch until answers from enough peers
 * arrived (a majority of the regions counting itself; a failed request is no
 * answer) and none of them holds a newer epoch (a newer one is adopted and
 * ends the fence), or until an operator lifts it with
 * failover_agent_unfence. Any state at a newer epoch (adopted, or posted by
 * the CLI) ends the fence too: whoever made it knew more. A topology with a
 * single region has no one to split with and no fence. */
struct control_plane;
/* control: the credentials of the calls to peers and the witness
 * (failover/control_plane.h); it must outlive the agent. */
int failover_agent_open(const topology *t, int region, const char *store_path,
                        const struct control_plane *control, failover_agent **out, char *err,
                        size_t errlen);
void failover_agent_close(failover_agent *a);

void failover_agent_info_get(failover_agent *a, failover_agent_info *out);

/* Automatic failover (failover/auto_failover.h); NULL in manual mode. */
struct auto_failover *failover_agent_automatic(failover_agent *a);

/*
 * A new state from the CLI: checked against the topology and the stored
 * epoch, stored with its history event, then pushed to the region's brokers.
 * Returns 0 (*changed says whether it was new), ST_EINVAL (refused: why),
 * or ST_EIO when it was stored but the brokers did not accept it yet (why;
 * the timer retries). ev may be NULL.
 */
int failover_agent_apply(failover_agent *a, const failover_state *next, const failover_event *ev,
                         bool *changed, char *why, size_t whylen);

/*
 * The operator lifts the restart fence (`strait unfence REGION
 * --i-know-the-other-regions-are-down`, failover/cli_confirm.c): the region
 * takes writes on its stored role without having heard from a peer. actor
 * and the fence's reason go to the audit history. 0 (lifted and pushed),
 * ST_EINVAL with why (not fenced that way: nothing to lift), or ST_EIO with
 * why when the brokers did not accept the push yet (the timer retries).
 */
int failover_agent_unfence(failover_agent *a, const char *actor, char *why, size_t whylen);
/* The risk= value POST /failover/unfence requires (the CLI sends it). */
#define FAILOVER_UNFENCE_RISK "other-regions-down"


/* Timer: retries a failed push, re-pushes now and then, adopts a newer
 * state from a peer. *changed when the state changed. */
void failover_agent_tick(failover_agent *a, bool *changed);

/* The history, oldest first (see failover_event_each). */
int failover_agent_history(failover_agent *a, int limit,
                           int (*fn)(void *arg, const failover_event *ev), void *arg);

#endif
