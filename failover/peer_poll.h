/*
 * peer_poll.h - asks every peer sidecar for its failover state once per
 * FAILOVER_TICK_MS on a thread of its own, and keeps the newest answer for
 * the agent (agent.c), which adopts it on the sidecar's loop. The requests
 * must not run on the loop: two sidecars asking each other synchronously
 * from their loops would each wait for the other to answer.
 */
#ifndef STRAIT_FAILOVER_PEER_POLL_H
#define STRAIT_FAILOVER_PEER_POLL_H

#include <stdbool.h>

#include "checkpoints/failover_state.h"
#include "topology/topology.h"

typedef struct peer_poll peer_poll;

struct control_plane;
/* Starts polling every region of t but self, with control's credentials
 * (which must outlive the poller). 0 or ST_ENOMEM. */
int peer_poll_start(const topology *t, int self, const struct control_plane *control,
                    peer_poll **out);
/* Stops and joins the thread (at most one request timeout). NULL ok. */
void peer_poll_stop(peer_poll *p);
/* The newest state a peer reported whose epoch is above min_epoch, and the
 * peer's region index; false when there is none. @locality any thread. */
bool peer_poll_newer(peer_poll *p, int64_t min_epoch, failover_state *out, int *from);
/* True once every peer has been asked at least once (answered or not): a
 * region that restarts as `active` waits for it before its brokers' lease
 * is renewed, so it learns of a promotion elsewhere first. @locality any thread. */
bool peer_poll_asked_all(peer_poll *p);

#endif
