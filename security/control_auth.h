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
 * Anything else gets 401, changes nothing, and one warning line with the
 * peer address, the method and route, and the reason.
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

#endif
