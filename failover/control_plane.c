/*
 * control_plane.c - the control plane's credentials from the topology, per
 * party (control_plane.h).
 */
#include "failover/control_plane.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/log.h"
#include "security/control_tls.h"

struct control_plane {
    const topology *topology;
    enum control_plane_party party;
    control_auth auth;                         /* what a server accepts */
    SSL_CTX *server_tls;                       /* NULL without control_plane.ca */
    SSL_CTX *client_tls;
    char identities[TOPOLOGY_REGIONS_MAX][CONTROL_AUTH_IDENTITY_MAX];
    http_client_auth to_sidecar[TOPOLOGY_REGIONS_MAX];
    http_client_auth to_witness;
    char token_problem[1200];
};

/* Loads (or for a sidecar and the witness at the default path, creates)
 * the token into cp->auth. */
static int load_token(control_plane *cp, char *err, size_t errlen)
{
    char path[TOPOLOGY_PATH_MAX + 64];
    bool generated = false;
    topology_control_token_path(cp->topology, path, sizeof path, &generated);
    int rc;
    bool created = false;
    if (cp->party != CONTROL_PLANE_OPERATOR && generated) {
        if (file_mkdirs(cp->topology->state_dir) != 0) {
            snprintf(err, errlen, "cannot create sidecar.state_dir %s for the control-plane "
                     "token: %s", cp->topology->state_dir, strerror(errno));
            return ST_EIO;
        }
        rc = control_token_load_or_create(path, &cp->auth.token, &created, err, errlen);
    }
    else
        rc = control_token_load(path, &cp->auth.token, err, errlen);
    if (rc == 0) {
        cp->auth.have_token = true;
        if (created)
            log_info(cp->auth.service, "control-plane token generated file=%s mode=0600 "
                     "(the CLI run from this directory reads it)", path);
        return 0;
    }
    if (cp->party == CONTROL_PLANE_OPERATOR) {
        snprintf(cp->token_problem, sizeof cp->token_problem, "%s%s", err,
                 generated && rc == ST_ENOTFOUND
                     ? " (a sidecar writes it at its first start; run the CLI from the sidecars' "
                       "working directory or set control_plane.token_file)"
                     : "");
        err[0] = '\0';
        return 0;
    }
    if (rc == ST_ENOTFOUND)
        rc = ST_ECONFIG; /* an operator-named token file must exist */
    size_t used = strlen(err);
    snprintf(err + used, errlen - used, " (control_plane.token_file)");
    return rc;
}

static int open_tls(control_plane *cp, int region, char *err, size_t errlen)
{
    const topology *t = cp->topology;
    const char *certificate = NULL, *key = NULL;
    if (cp->party == CONTROL_PLANE_SIDECAR) {
        certificate = t->regions[region].sidecar_certificate;
        key = t->regions[region].sidecar_key;
    } else if (cp->party == CONTROL_PLANE_WITNESS) {
        certificate = t->witness_certificate;
        key = t->witness_key;
        if (!certificate[0] || !key[0]) {
            snprintf(err, errlen, "%s: control_plane.ca is set, so the witness needs "
                     "control_plane.witness_certificate and witness_key", t->path);
            return ST_ECONFIG;
        }
    }
    int rc = control_tls_client_context(t->control_ca, certificate, key, &cp->client_tls, err,
                                        errlen);
    if (rc == 0 && certificate)
        rc = control_tls_server_context(certificate, key, t->control_ca, &cp->server_tls, err,
                                        errlen);
    return rc;
}

/* The names whose verified certificate is a credential here: every
 * region's sidecar and, for a sidecar, the witness. */
static void accept_identities(control_plane *cp)
{
    const topology *t = cp->topology;
    for (int i = 0; i < t->region_count; i++)
        snprintf(cp->auth.identities[cp->auth.identity_count++], CONTROL_AUTH_IDENTITY_MAX,
                 "%s", cp->identities[i]);
    if (cp->party == CONTROL_PLANE_SIDECAR)
        snprintf(cp->auth.identities[cp->auth.identity_count++], CONTROL_AUTH_IDENTITY_MAX,
                 "%s", TOPOLOGY_WITNESS_IDENTITY);
}

static void client_credentials(control_plane *cp)
{
    /* between sidecars and the witness the certificate is the credential
     * when there is one; the operator always sends the token */
    bool certificate = cp->client_tls && cp->party != CONTROL_PLANE_OPERATOR;
    const char *token = !certificate && cp->auth.have_token ? cp->auth.token.text : NULL;
    for (int i = 0; i < cp->topology->region_count; i++)
        cp->to_sidecar[i] = (http_client_auth){.bearer_token = token, .tls = cp->client_tls,
                                               .peer_identity = cp->identities[i]};
    cp->to_witness = (http_client_auth){.bearer_token = token, .tls = cp->client_tls,
                                        .peer_identity = TOPOLOGY_WITNESS_IDENTITY};
}

static void log_mode(const control_plane *cp)
{
    const topology *t = cp->topology;
    if (cp->party == CONTROL_PLANE_OPERATOR)
        return;
    if (t->control_insecure) {
        log_warn(cp->auth.service, "control_plane.insecure is true in %s: the HTTP routes take "
                 "requests WITHOUT credentials; anyone who reaches this port can change the "
                 "failover state", t->path);
        return;
    }
    char path[TOPOLOGY_PATH_MAX + 64];
    bool generated = false;
    log_info(cp->auth.service, "control plane authenticated transport=%s credentials=%s "
             "token_file=%s open_reads=%s", cp->server_tls ? "https" : "http",
             cp->server_tls ? "token,mtls" : "token",
             topology_control_token_path(t, path, sizeof path, &generated),
             t->control_open_reads ? "true" : "false");
}

int control_plane_open(const topology *t, enum control_plane_party party, int region,
                       control_plane **out, char *err, size_t errlen)
{
    *out = NULL;
    control_plane *cp = calloc(1, sizeof *cp);
    if (!cp) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    cp->topology = t;
    cp->party = party;
    cp->auth.service = party == CONTROL_PLANE_WITNESS ? "witness" : "sidecar";
    cp->auth.insecure = t->control_insecure;
    for (int i = 0; i < t->region_count; i++)
        topology_sidecar_identity(t, i, cp->identities[i], sizeof cp->identities[i]);
    int rc = 0;
    if (!t->control_insecure)
        rc = load_token(cp, err, errlen);
    if (rc == 0 && t->control_ca[0])
        rc = open_tls(cp, region, err, errlen);
    if (rc != 0) {
        control_plane_close(cp);
        return rc;
    }
    accept_identities(cp);
    client_credentials(cp);
    log_mode(cp);
    *out = cp;
    return 0;
}

void control_plane_close(control_plane *cp)
{
    if (!cp)
        return;
    SSL_CTX_free(cp->server_tls);
    SSL_CTX_free(cp->client_tls);
    OPENSSL_cleanse(&cp->auth.token, sizeof cp->auth.token);
    free(cp);
}

const control_auth *control_plane_auth(const control_plane *cp) { return &cp->auth; }

struct ssl_ctx_st *control_plane_server_tls(const control_plane *cp) { return cp->server_tls; }

bool control_plane_route_open(const control_plane *cp, const char *path)
{
    if (cp->topology->control_insecure)
        return true;
    return cp->topology->control_open_reads &&
           (!strcmp(path, "/healthz") || !strcmp(path, "/status") || !strcmp(path, "/metrics"));
}

const http_client_auth *control_plane_to_sidecar(const control_plane *cp, int region)
{
    return &cp->to_sidecar[region];
}

const http_client_auth *control_plane_to_witness(const control_plane *cp)
{
    return &cp->to_witness;
}

const char *control_plane_token_problem(const control_plane *cp) { return cp->token_problem; }

const char *control_plane_scheme(const control_plane *cp)
{
    return cp->client_tls ? "https" : "http";
}
