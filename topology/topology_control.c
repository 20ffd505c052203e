/*
 * topology_control.c - the control-plane keys of the topology
 * (topology_control.h):
 *
 *   control_plane:
 *     insecure: false            true turns authentication off (warned at every start)
 *     open_reads: true           GET /status, /metrics, /healthz without credentials
 *     token_file: PATH           default <sidecar.state_dir>/control-plane.token (generated)
 *     ca: PATH                   PEM CA bundle: HTTPS and mTLS on every control-plane listener
 *     witness_certificate: PATH  the witness's certificate and key (with ca and a witness)
 *     witness_key: PATH
 *   regions:
 *     east:
 *       sidecar_certificate: PATH  its sidecar's certificate and key (with ca)
 *       sidecar_key: PATH
 */
#include "topology/topology_control.h"

#include <stdio.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"

void topology_control_defaults(topology *t)
{
    t->control_insecure = false;
    t->control_open_reads = true;
}

/* A path value: one non-empty scalar that fits. */
static int set_path(const yaml_map_entry *e, const char *shown, char *field, size_t size,
                    char *msg, size_t msglen)
{
    if (e->is_sequence || e->value[0] == '\0') {
        snprintf(msg, msglen, "%s: expected a file path", shown);
        return ST_ECONFIG;
    }
    if (strlen(e->value) >= size) {
        snprintf(msg, msglen, "%s: path longer than %zu bytes", shown, size - 1);
        return ST_ECONFIG;
    }
    snprintf(field, size, "%s", e->value);
    return 0;
}

static int set_bool(const yaml_map_entry *e, const char *shown, bool *field, char *msg,
                    size_t msglen)
{
    char why[160];
    if (e->is_sequence || config_value_parse_bool(e->value, field, why, sizeof why) != 0) {
        snprintf(msg, msglen, "%s: %s", shown,
                 e->is_sequence ? "expected true or false, got a list" : why);
        return ST_ECONFIG;
    }
    return 0;
}

int topology_control_key(topology *t, const yaml_map_entry *e, const char *field, char *msg,
                         size_t msglen)
{
    static const char *const fields[] = {"insecure",   "open_reads",          "token_file",
                                         "ca",         "witness_certificate", "witness_key"};
    char shown[96];
    snprintf(shown, sizeof shown, "control_plane.%.60s", field);
    if (!t->control_line || e->line < t->control_line)
        t->control_line = e->line;
    if (!strcmp(field, "insecure"))
        return set_bool(e, shown, &t->control_insecure, msg, msglen);
    if (!strcmp(field, "open_reads"))
        return set_bool(e, shown, &t->control_open_reads, msg, msglen);
    if (!strcmp(field, "token_file"))
        return set_path(e, shown, t->control_token_file, sizeof t->control_token_file, msg,
                        msglen);
    if (!strcmp(field, "ca"))
        return set_path(e, shown, t->control_ca, sizeof t->control_ca, msg, msglen);
    if (!strcmp(field, "witness_certificate"))
        return set_path(e, shown, t->witness_certificate, sizeof t->witness_certificate, msg,
                        msglen);
    if (!strcmp(field, "witness_key"))
        return set_path(e, shown, t->witness_key, sizeof t->witness_key, msg, msglen);
    const char *near =
        config_value_closest(field, fields, (int)(sizeof fields / sizeof fields[0]));
    char q[80];
    if (near)
        snprintf(msg, msglen, "unknown key '%s' (did you mean '%s'?)",
                 config_value_quoted(shown, q, sizeof q), near);
    else
        snprintf(msg, msglen, "unknown key '%s' (control_plane keys: insecure, open_reads, "
                 "token_file, ca, witness_certificate, witness_key)",
                 config_value_quoted(shown, q, sizeof q));
    return ST_ECONFIG;
}

int topology_control_region_key(topology_region *r, const yaml_map_entry *e, const char *field,
                                char *msg, size_t msglen)
{
    char shown[128];
    snprintf(shown, sizeof shown, "regions.%s.%s", r->name, field);
    if (!strcmp(field, "sidecar_certificate")) {
        r->sidecar_certificate_line = e->line;
        return set_path(e, shown, r->sidecar_certificate, sizeof r->sidecar_certificate, msg,
                        msglen);
    }
    if (!strcmp(field, "sidecar_key"))
        return set_path(e, shown, r->sidecar_key, sizeof r->sidecar_key, msg, msglen);
    return 1;
}

int topology_control_check(const topology *t, char *msg, size_t msglen, int *line)
{
    bool tls = t->control_ca[0] != '\0';
    for (int i = 0; i < t->region_count; i++) {
        const topology_region *r = &t->regions[i];
        bool certificate = r->sidecar_certificate[0], key = r->sidecar_key[0];
        *line = r->sidecar_certificate_line ? r->sidecar_certificate_line : r->line;
        if (tls && (!certificate || !key)) {
            snprintf(msg, msglen, "regions.%s: control_plane.ca is set, so its sidecar needs "
                     "sidecar_certificate and sidecar_key (HTTPS)", r->name);
            return ST_ECONFIG;
        }
        if (!tls && (certificate || key)) {
            snprintf(msg, msglen, "regions.%s.%s: needs control_plane.ca (the CA that signs the "
                     "control plane's certificates)", r->name,
                     certificate ? "sidecar_certificate" : "sidecar_key");
            return ST_ECONFIG;
        }
    }
    bool witness_files = t->witness_certificate[0] || t->witness_key[0];
    *line = t->control_line ? t->control_line : 1;
    if (!tls && witness_files) {
        snprintf(msg, msglen, "control_plane.witness_certificate: needs control_plane.ca");
        return ST_ECONFIG;
    }
    if (tls && t->failover_witness[0] && (!t->witness_certificate[0] || !t->witness_key[0])) {
        snprintf(msg, msglen, "control_plane: ca is set and failover.witness names a witness, "
                 "so witness_certificate and witness_key are required");
        return ST_ECONFIG;
    }
    if (tls && witness_files && (!t->witness_certificate[0] || !t->witness_key[0])) {
        snprintf(msg, msglen, "control_plane: witness_certificate and witness_key go together");
        return ST_ECONFIG;
    }
    return 0;
}

const char *topology_control_token_path(const topology *t, char *out, size_t outlen,
                                        bool *generated)
{
    *generated = t->control_token_file[0] == '\0';
    if (*generated)
        snprintf(out, outlen, "%s/%s", t->state_dir, TOPOLOGY_TOKEN_FILE_DEFAULT);
    else
        snprintf(out, outlen, "%s", t->control_token_file);
    return out;
}

const char *topology_sidecar_identity(const topology *t, int region, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", TOPOLOGY_SIDECAR_IDENTITY_PREFIX, t->regions[region].name);
    return out;
}
