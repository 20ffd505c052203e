/*
 * witness.h - `strait witness`: the third vote of automatic failover
 * (DESIGN.md §8, issue 6 item 5), a tiny process for a third site. It holds
 * no data and no region state, only
 *   - when it last heard from each region's sidecar: it probes every sidecar
 *     once a second (GET /failover/state) on its own thread, and a sidecar's
 *     heartbeat (GET /witness/state?from=R&epoch=E) counts as hearing from it;
 *   - the highest epoch it has heard of (epoch_seen): from the sidecars'
 *     heartbeats and probe answers, from what they report having seen, and
 *     from the operator's `strait failover`; a heartbeat at an older epoch
 *     does not count towards that region's majority (auto_failover.c);
 *   - its last vote, durable in DIR/witness.vote (failover/vote.h), so a
 *     restarted witness never grants a second candidate the same epoch.
 *
 * HTTP (kv answers, `key=value` lines):
 *   GET  /healthz                            "ok"
 *   GET  /witness/state[?from=R&epoch=E&seen=S]
 *                                            last contact per region, epoch seen,
 *                                            last vote; from= records a heartbeat,
 *                                            seen= the highest epoch the sender knows
 *                                            of from anywhere (raises epoch_seen)
 *   POST /witness/epoch?epoch=E&active=R     the operator's failover created epoch E,
 *                                            which makes R active (raises epoch_seen and
 *                                            epoch_seen_active; 200 epoch_seen=)
 *   POST /witness/vote?candidate=R&epoch=E&suspect=A
 *                                            200 granted=1, or 409 granted=0 error=
 *                                            (rules in vote.h; a suspect that looks
 *                                            silent is probed once more first)
 *
 * Every route but /healthz needs credentials (failover/control_plane.h):
 * the control plane's token or, over HTTPS, a sidecar's certificate; 401
 * otherwise. Epochs are 1..2147483647 (REGION_EPOCH_MAX).
 *
 * Threads: the HTTP loop (main thread) and one probe thread; the contact
 * table is shared under the witness's lock, the vote belongs to the loop.
 */
#ifndef STRAIT_FAILOVER_WITNESS_H
#define STRAIT_FAILOVER_WITNESS_H

#include <stddef.h>

/* How often every sidecar is probed. */
#define WITNESS_PROBE_INTERVAL_MS 1000
/* One probe's timeout: a sidecar's loop may be busy pushing a role for a
 * moment; a missed probe only delays the witness's view, never a grant. */
#define WITNESS_PROBE_TIMEOUT_MS 1000
/* The re-probe of a silent suspect before a grant. */
#define WITNESS_RECHECK_TIMEOUT_MS 1000
/* File name of the durable vote inside --state-dir. */
#define WITNESS_VOTE_FILE "witness.vote"
#define WITNESS_STATE_DIR_DEFAULT "./strait-witness"

typedef struct witness witness;

/* Loads the topology (it needs failover.mode automatic), the vote file
 * (a corrupt one refuses to start: err says which line), binds listen.
 * ST_ECONFIG for bad configuration, ST_EIO when it cannot listen. */
int witness_open(const char *listen, const char *topology_path, const char *state_dir,
                 witness **out, char *err, size_t errlen);
/* Serves until SIGTERM or SIGINT. 0 on a clean stop. */
int witness_run(witness *w);
void witness_close(witness *w);

#endif
