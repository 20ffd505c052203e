/*
 * auto_failover.h - automatic failover inside each sidecar (DESIGN.md §8,
 * issue 6 item 5), for `failover.mode: automatic`: heartbeats to the other
 * sidecars and the witness, detection of a dead active region and the vote
 * that promotes the configured standby, and the active region's lease (it
 * fences its own brokers when it loses contact with a majority). The
 * reasoning that keeps two regions from ever accepting writes together is
 * at the top of auto_failover.c.
 *
 * Owned by the failover agent (agent.c), which calls auto_failover_tick
 * from its timer and consults auto_failover_pushed_state before every push.
 * Every function accepts NULL (manual mode) and then does nothing.
 *
 * Threads: heartbeats run on one thread per voter and record what they
 * hear under the module's lock; everything else runs on the sidecar's loop
 * thread. A tick blocks only while it collects votes, each request for at
 * most the timeouts below.
 */
#ifndef STRAIT_FAILOVER_AUTO_FAILOVER_H
#define STRAIT_FAILOVER_AUTO_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"
#include "topology/topology.h"

/* Heartbeats to each peer sidecar and the witness, each voter on its own
 * thread. Often: the active's lease (detect_after / 2) is checked once per
 * 1 s tick and must see an answer younger than lease - tick, which is
 * 500 ms at the shortest detect_after. */
#define AUTO_HEARTBEAT_INTERVAL_MS 250
/* One heartbeat's timeout: a voter that takes longer is as good as silent. */
#define AUTO_PROBE_TIMEOUT_MS 1000
/* Metadata probe of a silent peer's brokers (from its heartbeat thread,
 * once the peer has been silent for detect_after / 2): a live broker
 * answers in milliseconds. */
#define AUTO_BROKER_PROBE_TIMEOUT_MS 1500
/* A failed broker probe older than this is not evidence (two probes). */
#define AUTO_BROKER_CHECK_FRESH_MS 4000
/* A vote request: the witness may re-probe the suspect for up to 1 s and
 * fsyncs its vote before answering. */
#define AUTO_VOTE_TIMEOUT_MS 4000
/* Posting the promoted state to the other sidecars (each pushes it to its
 * brokers before answering: FAILOVER_PUSH_TIMEOUT_MS plus a margin). */
#define AUTO_STATE_POST_TIMEOUT_MS 8000
/* Shortest detect_after for automatic mode: the active's lease is half of
 * it and is checked once per 1 s tick, one tick early, so below 3 s an
 * active region would fence itself between two heartbeats. */
#define AUTO_DETECT_AFTER_MIN_MS 3000
/* File name (next to the sidecar's store) of the sidecar's durable vote. */
#define AUTO_VOTE_FILE_SUFFIX ".vote"

struct failover_agent;
typedef struct auto_failover auto_failover;

/* Last known mirror lag (records) of the flow source_region -> this
 * region, -1 when unknown; supplied by the sidecar for the audit record. */
typedef int64_t (*auto_failover_lag_fn)(void *arg, int source_region);

/*
 * *out stays NULL in manual mode. store_path is the sidecar's SQLite file;
 * the vote is kept next to it (<region>.vote). ST_ECONFIG (err says why)
 * for a detect_after below AUTO_DETECT_AFTER_MIN_MS or a corrupt vote file.
 */
struct control_plane;
/* control: credentials of the heartbeats, votes and announcements; it must
 * outlive af. */
int auto_failover_open(const topology *t, int region, struct failover_agent *agent,
                       const char *store_path, const struct control_plane *control,
                       auto_failover **out, char *err, size_t errlen);
void auto_failover_close(auto_failover *af);
void auto_failover_set_lag_source(auto_failover *af, auto_failover_lag_fn fn, void *arg);

/*
 * One round, after the agent adopted peers' states: heartbeats, then the
 * lease (active region) or detection and vote (the designated standby).
 * Returns true when the role the brokers should hear changed (the lease
 * lapsed or came back): the agent pushes at once. *changed is set when a
 * promotion changed the stored state.
 */
bool auto_failover_tick(auto_failover *af, bool *changed);

/* The state to push: st itself, or st with this region fenced while its
 * lease has lapsed (same epoch, stored state untouched). */
void auto_failover_pushed_state(const auto_failover *af, failover_state *st);

/* Whether the active region's lease holds now (true in manual mode: af
 * NULL). Any thread: the broker-lease renewer asks before each renewal. */
bool auto_failover_lease_valid_now(auto_failover *af);

/* "valid", "expired" (the active region fenced itself), or "none" (not the
 * active region, or manual mode). */
const char *auto_failover_lease(const auto_failover *af);

/* A peer's heartbeat arrived (GET /failover/heartbeat?from=R&epoch=E). */
void auto_failover_heard(auto_failover *af, int region, int64_t epoch);

/* POST /failover/vote on this sidecar: 0 granted (stored durably), or
 * ST_EINVAL / ST_EIO with why. */
int auto_failover_vote(auto_failover *af, int candidate, int suspect, int64_t epoch, char *why,
                       size_t whylen);

/* Pure rules, for the tests. */

/* The region that takes over from st->active: the lowest-index standby
 * with a flow from the active region; -1 if none. */
int auto_failover_candidate(const topology *t, const failover_state *st);

/* True while the lease holds: at least `needed` of the other voters
 * answered a heartbeat sent at or after now - lease_ms + margin_ms (the
 * margin is the time until the next check, one tick, so the lease never
 * runs out between two checks on time; a check the loop delays beyond it
 * eats into the d/2 between the lease's end and the earliest grant).
 * contact_sent_ms[i] is 0 for a voter never reached. */
bool auto_failover_lease_holds(const int64_t *contact_sent_ms, int count, int needed,
                               int64_t now_ms, int64_t lease_ms, int64_t margin_ms);

#endif
