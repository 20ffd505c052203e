/*
 * sidecar.h - `strait sidecar --topology FILE --region NAME`: the per-region
 * process that runs every mirror flow whose target is its region, the
 * group-offset sync of each, and the region's HTTP admin endpoint on the
 * region's `sidecar` address (DESIGN.md §7):
 *
 *   GET /healthz                             "ok\n"
 *   GET /status                              JSON: flows, partitions, lag, errors, checkpoints
 *   GET /metrics                             Prometheus text (strait_mirror_*, strait_sidecar_*)
 *   GET /offsets/translate?group=G&from=R    JSON (or &format=text: a table) of G's
 *                                            checkpoints on flow R->this region
 *   GET|POST /failover/...                   the failover agent (sidecar_failover.c),
 *                                            with a `failover:` section only
 *
 * Every route but /healthz, /status and /metrics needs credentials (those
 * three too with control_plane.open_reads: false): the control plane's
 * bearer token or, over HTTPS, a peer's certificate (failover/control_plane.h,
 * docs/security.md); 401 otherwise.
 *
 * State lives in <sidecar.state_dir>/<region>.sqlite (checkpoints/), next to
 * the generated control-plane.token (mode 0600) unless control_plane.token_file
 * names another.
 * SIGTERM or SIGINT stops the flows (in-flight batches drain) and returns.
 */
#ifndef STRAIT_SIDECAR_H
#define STRAIT_SIDECAR_H

#include <stddef.h>

typedef struct sidecar sidecar;

/*
 * Loads the topology, opens the checkpoint store, binds the HTTP address and
 * starts the flows. Returns 0; ST_ECONFIG for a bad topology or a region it
 * does not name (err: "FILE:LINE: reason" or the reason); ST_EIO / ST_E* when
 * the store, the address or a flow cannot start (err says which).
 */
int sidecar_open(const char *topology_path, const char *region, sidecar **out, char *err,
                 size_t errlen);
/* Serves until SIGTERM/SIGINT (or sidecar_stop). Returns 0 or ST_E*. Main thread. */
int sidecar_run(sidecar *sc);
/* Asks sidecar_run to return; safe from any thread. */
void sidecar_stop(sidecar *sc);
/* Stops the flows (draining them), closes the store and the endpoint. NULL is allowed. */
void sidecar_close(sidecar *sc);
/* The HTTP port actually bound (tests). */
int sidecar_http_port(const sidecar *sc);

#endif
