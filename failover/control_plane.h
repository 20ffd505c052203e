/*
 * control_plane.h - the credentials of the control plane's HTTP (a sidecar's
 * admin routes, the witness) as the topology's `control_plane` section sets
 * them up, for each party that speaks it (docs/security.md, "control plane"):
 *
 *   party      serves             presents when calling
 *   sidecar    token, mTLS peers  its certificate with control_plane.ca, else the token
 *   witness    token, mTLS peers  its certificate with control_plane.ca, else the token
 *   operator   -                  the token (and checks the server against the CA)
 *
 * The token: control_plane.token_file, or <sidecar.state_dir>/control-plane.token
 * which a sidecar or the witness generates at its first start; the CLI
 * reads it (run from the same working directory it finds the sidecars').
 * With control_plane.insecure nothing is loaded and nothing is checked.
 */
#ifndef STRAIT_FAILOVER_CONTROL_PLANE_H
#define STRAIT_FAILOVER_CONTROL_PLANE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/http_client.h"
#include "security/control_auth.h"
#include "topology/topology.h"

enum control_plane_party {
    CONTROL_PLANE_SIDECAR,   /* region: its region */
    CONTROL_PLANE_WITNESS,
    CONTROL_PLANE_OPERATOR,  /* the CLI */
};

typedef struct control_plane control_plane;

/*
 * Sets up party's credentials from t (which must outlive it). A sidecar or
 * the witness that cannot read its token, certificate or key refuses to
 * start (ST_ECONFIG / ST_EIO, err names the file and the key); the operator
 * goes on without a token (control_plane_token_problem says why, for the
 * message of a 401). Logs the mode once for a sidecar and the witness, and
 * a warning at every start when control_plane.insecure is true.
 */
int control_plane_open(const topology *t, enum control_plane_party party, int region,
                       control_plane **out, char *err, size_t errlen);
void control_plane_close(control_plane *cp);

/* The server side: the credential check, and the TLS context of the
 * listener (NULL: plain HTTP). */
const control_auth *control_plane_auth(const control_plane *cp);
struct ssl_ctx_st *control_plane_server_tls(const control_plane *cp);
/* True when path is served without credentials: /healthz, /status and
 * /metrics with control_plane.open_reads (the default), or everything
 * with control_plane.insecure. */
bool control_plane_route_open(const control_plane *cp, const char *path);

/* The client side: what a call to region's sidecar, or to the witness,
 * presents and verifies. Points into cp. */
const http_client_auth *control_plane_to_sidecar(const control_plane *cp, int region);
const http_client_auth *control_plane_to_witness(const control_plane *cp);

/* Why the operator has no token ("" when it has one or needs none). */
const char *control_plane_token_problem(const control_plane *cp);

/* "https" or "http": the scheme of the control plane's URLs. */
const char *control_plane_scheme(const control_plane *cp);

#endif
