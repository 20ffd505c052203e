/*
 * cli_common.c - sidecar calls and helpers of the operator verbs
 * (cli_common.h). Sidecar answers are `key=value` lines (sidecar_failover.c).
 */
#include "failover/cli_common.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "failover/roles.h"
#include "common/http_client.h"
#include "failover/control_plane.h"

int cli_open(const char *topology_path, const char *verb, cli_context *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->topology = calloc(1, sizeof *ctx->topology);
    if (!ctx->topology) {
        fprintf(stderr, "strait %s: out of memory\n", verb);
        return CLI_EXIT_FAILED;
    }
    char err[1024];
    if (topology_load(topology_path, ctx->topology, err, sizeof err) != 0) {
        fprintf(stderr, "strait %s: %s\n", verb, err);
        return CLI_EXIT_USAGE;
    }
    if (!ctx->topology->failover_configured) {
        fprintf(stderr,
                "strait %s: %s has no failover: section, so regions have no roles "
                "(docs/topology.md#failover)\n",
                verb, topology_path);
        return CLI_EXIT_USAGE;
    }
    if (control_plane_open(ctx->topology, CONTROL_PLANE_OPERATOR, -1, &ctx->control, err,
                           sizeof err) != 0) {
        fprintf(stderr, "strait %s: %s\n", verb, err);
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < ctx->topology->region_count; i++) {
        ctx->regions[i].name = ctx->topology->regions[i].name;
        ctx->regions[i].sidecar = ctx->topology->regions[i].sidecar;
    }
    char host[256] = "localhost";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    const struct passwd *pw = getpwuid(getuid());
    snprintf(ctx->actor, sizeof ctx->actor, "%s@%s", pw ? pw->pw_name : "unknown", host);
    return 0;
}

void cli_close(cli_context *ctx)
{
    control_plane_close(ctx->control);
    ctx->control = NULL;
    free(ctx->topology);
    ctx->topology = NULL;
}

void cli_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

void cli_kv(const char *body, const char *key, char *out, size_t outlen)
{
    failover_kv_get(body, key, out, outlen); /* too long: shown truncated */
}

int64_t cli_kv_int(const char *body, const char *key, int64_t fallback)
{
    char value[32];
    cli_kv(body, key, value, sizeof value);
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    return value[0] && end && !*end ? v : fallback;
}

int cli_call(cli_context *ctx, int region, bool post, const char *path, int *status, char **body,
             char *err, size_t errlen)
{
    size_t len = 0;
    const char *address = ctx->regions[region].sidecar;
    const http_client_auth *auth = control_plane_to_sidecar(ctx->control, region);
    int rc = post ? http_client_post(auth, address, path, CLI_SIDECAR_TIMEOUT_MS, status, body,
                                     &len, err, errlen)
                  : http_client_get(auth, address, path, CLI_SIDECAR_TIMEOUT_MS, status, body,
                                    &len, err, errlen);
    if (rc == 0 && *status == 401) {
        cli_unauthorized(ctx->control, address, *body, err, errlen);
        free(*body);
        *body = NULL;
        return ST_EINVAL;
    }
    return rc;
}

void cli_unauthorized(const struct control_plane *control, const char *address,
                      const char *body, char *err, size_t errlen)
{
    char reason[256] = "";
    failover_kv_get(body ? body : "", "error", reason, sizeof reason);
    const char *problem = control_plane_token_problem(control);
    snprintf(err, errlen, "sidecar %s refused this CLI's credentials (HTTP 401: %s)%s%s", address,
             reason[0] ? reason : "unauthorized", problem[0] ? "; " : "", problem);
}

int cli_read_states(cli_context *ctx)
{
    int reachable = 0;
    for (int i = 0; i < ctx->topology->region_count; i++) {
        cli_region *r = &ctx->regions[i];
        memset(&r->state, 0, sizeof r->state);
        r->reachable = false;
        r->role[0] = r->push_error[0] = r->error[0] = r->lease[0] = '\0';
        r->broker_lease_error[0] = r->effective_role[0] = r->fenced_reason[0] = '\0';
        r->broker_lease_ms = r->broker_lease_renewed_at_ms = 0;
        r->broker_lease_renewing = false;
        int status = 0;
        char *body = NULL;
        if (cli_call(ctx, i, false, "/failover/state", &status, &body, r->error,
                     sizeof r->error) != 0)
            continue;
        if (status != 200) {
            cli_kv(body, "error", r->error, sizeof r->error);
            free(body);
            continue;
        }
        for (char *line = body, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char *eq = strchr(line, '=');
            if (!eq)
                continue;
            *eq = '\0';
            const char *value = eq + 1;
            if (!strcmp(line, "role"))
                snprintf(r->role, sizeof r->role, "%s", value);
            else if (!strcmp(line, "pushed_epoch"))
                r->pushed_epoch = strtoll(value, NULL, 10);
            else if (!strcmp(line, "push_error"))
                snprintf(r->push_error, sizeof r->push_error, "%s", value);
            else if (!strcmp(line, "lease"))
                snprintf(r->lease, sizeof r->lease, "%s", value);
            else if (!strcmp(line, "broker_lease_ms"))
                r->broker_lease_ms = strtoll(value, NULL, 10);
            else if (!strcmp(line, "broker_lease_renewing"))
                r->broker_lease_renewing = !strcmp(value, "1");
            else if (!strcmp(line, "broker_lease_renewed_at_ms"))
                r->broker_lease_renewed_at_ms = strtoll(value, NULL, 10);
            else if (!strcmp(line, "effective_role"))
                snprintf(r->effective_role, sizeof r->effective_role, "%s", value);
            else if (!strcmp(line, "fenced_reason"))
                snprintf(r->fenced_reason, sizeof r->fenced_reason, "%s", value);
            else if (!strcmp(line, "broker_lease_error"))
                snprintf(r->broker_lease_error, sizeof r->broker_lease_error, "%s", value);
            else
                failover_state_set_field(&r->state, line, value);
        }
        free(body);
        r->reachable = r->state.epoch > 0;
        if (!r->reachable)
            snprintf(r->error, sizeof r->error, "sidecar %s answered without a state", r->sidecar);
        reachable += r->reachable;
    }
    return reachable;
}

int cli_region_arg(cli_context *ctx, const char *verb, const char *name)
{
    int index = topology_region_index(ctx->topology, name);
    if (index >= 0)
        return index;
    char names[TOPOLOGY_REGIONS_MAX * (TOPOLOGY_NAME_MAX + 2)] = "";
    for (int i = 0; i < ctx->topology->region_count; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 ctx->topology->regions[i].name);
    fprintf(stderr, "strait %s: refused: '%s' is not a region of %s (regions: %s)\n", verb, name,
            ctx->topology->path, names);
    return -1;
}

/* Appends &key=escaped(value) to path. */
static bool add_param(char *path, size_t len, const char *key, const char *value)
{
    size_t used = strlen(path);
    int n = snprintf(path + used, len - used, "%s%s=", strchr(path, '?') ? "&" : "?", key);
    if (n < 0 || (size_t)n >= len - used)
        return false;
    return http_client_escape(value, path, len) != 0;
}

int cli_send_state(cli_context *ctx, int region, const failover_state *st, const char *event_from,
                   int64_t lag_records, const char *outcome, const char *detail, char *err,
                   size_t errlen)
{
    char path[8192] = "/failover/state", number[32], lag_text[32];
    snprintf(number, sizeof number, "%" PRId64, st->epoch);
    snprintf(lag_text, sizeof lag_text, "%" PRId64, lag_records);
    bool ok = add_param(path, sizeof path, "epoch", number) &&
              add_param(path, sizeof path, "active", st->active) &&
              add_param(path, sizeof path, "fenced", st->fenced) &&
              add_param(path, sizeof path, "promoting", st->promoting) &&
              add_param(path, sizeof path, "operation", st->operation) &&
              add_param(path, sizeof path, "target", st->target) &&
              add_param(path, sizeof path, "previous", st->previous) &&
              add_param(path, sizeof path, "step", st->step) &&
              add_param(path, sizeof path, "actor", ctx->actor) &&
              add_param(path, sizeof path, "event_from", event_from) &&
              add_param(path, sizeof path, "lag", lag_text) &&
              add_param(path, sizeof path, "outcome", outcome) &&
              add_param(path, sizeof path, "detail", detail);
    if (!ok) {
        snprintf(err, errlen, "request too long");
        return ST_ETOOBIG;
    }
    int status = 0;
    char *body = NULL;
    int rc = cli_call(ctx, region, true, path, &status, &body, err, errlen);
    if (rc != 0)
        return rc;
    if (status != 200) {
        char why[512];
        cli_kv(body, "error", why, sizeof why);
        snprintf(err, errlen, "sidecar of %s: %s (HTTP %d)", ctx->regions[region].name,
                 why[0] ? why : "no reason given", status);
        rc = status == 409 ? ST_EINVAL : ST_EIO;
    }
    free(body);
    return rc;
}

const char *cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}
