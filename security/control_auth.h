/*
 * control_auth.h - who may use a control-plane route (a sidecar's admin
 * HTTP, the witness): the check every authenticated route runs before it
 * reads a parameter (docs/security.md, "control plane").
 *
 * A request is admitted when it carries one of:
 *   - `Authorization: Bearer <token>` with the deployment's token
 *     (control_token.h), the operator's credential (the CLI);
 *   - over HTTPS, a client certificate that verified against the
 *     control plane's CA and names one of the accepted identities
 *     ("sidecar-<region>", "witness"; control_tls.h), the credential of
 *     the sidecars and the witness between themselves (mTLS).
 * With `insecure` (control_plane.insecure: true) every request is admitted.
 * Anything else gets 401, changes nothing, and one warning audit line with
 * the peer address, the method and route, and the reason:
 *
 *   WARN audit: control-plane request refused principal=- peer=10.0.0.9:41234
 *        service=sidecar method=POST route=/failover/state outcome=401
 *        reason=no credentials [certificate=/CN=mallory]
 *
 * and every admitted request that changes (or tries to change) state is
 * logged by its route with control_auth_audit:
 *
 *   INFO audit: control-plane request principal=token peer=10.0.0.7:52210
 *        service=sidecar method=POST route=/failover/state outcome=200
 *        result=changed=1
 */
#ifndef STRAIT_SECURITY_CONTROL_AUTH_H
#define STRAIT_SECURITY_CONTROL_AUTH_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "security/control_token.h"

#define CONTROL_AUTH_IDENTITIES_MAX 32  /* every region's sidecar and the witness */
#define CONTROL_AUTH_IDENTITY_MAX 80    /* "sidecar-" + a region name */

struct evhttp_request;

typedef struct control_auth {
    bool insecure;                      /* admit everything (logged at every start) */
    bool have_token;
    control_token token;
    int identity_count;                 /* certificate names accepted */
    char identities[CONTROL_AUTH_IDENTITIES_MAX][CONTROL_AUTH_IDENTITY_MAX];
    const char *service;                /* "sidecar" or "witness", in log lines */
} control_auth;

/*
 * The decision without HTTP: authorization is the Authorization header's
 * value (NULL if absent), tls the request's TLS session (NULL over plain
 * HTTP). True when admitted, with *principal naming the credential ("token",
 * "certificate:sidecar-west" or "insecure"); false with *reason set.
 * principal is written as "" on a refusal.
 */
bool control_auth_decide(const control_auth *auth, const char *authorization, SSL *tls,
                         char *principal, size_t principal_len, const char **reason);

/*
 * Runs control_auth_decide on req. True: serve it. False: a 401 (body
 * "error=unauthorized: REASON", header WWW-Authenticate: Bearer) was sent
 * and the refusal logged; the caller must do nothing more with req.
 * Runs on the listener's loop thread.
 */
bool control_auth_admit(const control_auth *auth, struct evhttp_request *req, const char *route);

/*
 * The audit line of an admitted request on route answered with HTTP code:
 * the caller's credential ("token", "certificate:sidecar-west",
 * "insecure"), its address, and result (the first line of the answer, e.g.
 * "changed=1" or "error=..."; NULL for none). Info level for 2xx, warning
 * otherwise. Runs on the listener's loop thread.
 */
void control_auth_audit(const control_auth *auth, struct evhttp_request *req, const char *route,
                        int code, const char *result);

#endif
