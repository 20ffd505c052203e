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
/* True once every peer has been asked at least once (answered or not): the
 * agent's first push waits for it, so a region whose peers answer learns of
 * a promotion elsewhere before it pushes anything. Being asked is NOT being
 * heard: a failed request says nothing about the peer's epoch.
 * @locality any thread. */
bool peer_poll_asked_all(peer_poll *p);
/* How many peers have answered with a state at least once since start (a
 * failed request, a timeout or an answer that is not a state does not
 * count). Every answer counted here is already reflected in
 * peer_poll_newer (both are updated under one lock), so a caller that reads
 * this count first and then adopts peer_poll_newer has adopted every epoch
 * those answers carried. @locality any thread. */
int peer_poll_answered(peer_poll *p);
/* From now on peer_poll_answered counts only answers to requests sent
 * after this call (the agent's fence raised again: an answer from before
 * cannot lift it). @locality any thread. */
void peer_poll_forget_answers(peer_poll *p);

#endif
