/*
 * cli_status.c - `strait status --topology FILE [--json] [--history]`: every
 * region's role and epoch as its sidecar holds them, whether its brokers
 * accepted that epoch, each flow's state, lag and last checkpoint age, an
 * operation in progress, and (with --history) the audit trail.
 *
 * Exit: 0 when every sidecar answered with the same epoch and its brokers
 * accepted it; 1 otherwise (the table still says what is wrong); 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "failover/cli.h"
#include "failover/cli_common.h"

/* Value of key in a space-separated "k=v k=v ... error=rest" line. */
static void line_value(const char *line, const char *key, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t klen = strlen(key);
    for (const char *p = line; p && *p;) {
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = !strcmp(key, "error") ? strcspn(v, "\n") : strcspn(v, " \n");
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return;
        }
        p = strchr(p, ' ');
        if (p)
            p++;
    }
}

static void age(int64_t at_ms, char *out, size_t outlen)
{
    if (at_ms <= 0) {
        snprintf(out, outlen, "never");
        return;
    }
    int64_t ms = clock_wall_ms() - at_ms;
    snprintf(out, outlen, "%.1f s ago", (double)(ms < 0 ? 0 : ms) / 1000.0);
}

/* The sidecar's lease (automatic mode) and the brokers' lease, when there
 * is one, under the region's row. */
static void print_leases(const cli_region *r)
{
    if (r->lease[0] && strcmp(r->lease, "none") != 0)
        printf("  sidecar lease %s%s\n", r->lease,
               !strcmp(r->lease, "expired") ? ": no majority answers, its brokers are fenced"
                                            : "");
    if (r->broker_lease_ms <= 0)
        return;
    char renewed[32];
    age(r->broker_lease_renewed_at_ms, renewed, sizeof renewed);
    if (r->broker_lease_error[0])
        printf("  brokers' lease %" PRId64 " ms: renewal FAILING (%s); last accepted %s\n",
               r->broker_lease_ms, r->broker_lease_error, renewed);
    else if (r->broker_lease_renewing)
        printf("  brokers' lease %" PRId64 " ms: renewed %s\n", r->broker_lease_ms, renewed);
    else
        printf("  brokers' lease %" PRId64 " ms: not renewed (the region is not taking "
               "writes)\n", r->broker_lease_ms);
}

/* One line of GET /failover/flows. */
typedef struct flow_line {
    char flow[160], state[16], lag[32], lag_ms[32], checkpoint[32], copied[32], error[512];
    bool diverged;
} flow_line;

static void flow_line_parse(const char *line, flow_line *f)
{
    line_value(line, "flow", f->flow, sizeof f->flow);
    line_value(line, "state", f->state, sizeof f->state);
    line_value(line, "lag_records", f->lag, sizeof f->lag);
    line_value(line, "lag_ms", f->lag_ms, sizeof f->lag_ms);
    line_value(line, "last_checkpoint_ms", f->checkpoint, sizeof f->checkpoint);
    line_value(line, "copied", f->copied, sizeof f->copied);
    line_value(line, "error", f->error, sizeof f->error);
    f->diverged = strstr(f->flow, ".diverged") != NULL;
}

/* Prints every flow line of body as a table row or a JSON object. */
static void print_flows(const char *body, bool json)
{
    bool first = true;
    for (const char *line = body; line && *line;) {
        flow_line f;
        flow_line_parse(line, &f);
        if (f.flow[0] && json) {
            printf("%s{\"flow\": ", first ? "" : ", ");
            cli_json_string(f.flow);
            printf(", \"state\": ");
            cli_json_string(f.state);
            printf(", \"lag_records\": %lld, \"lag_ms\": %lld, \"last_checkpoint_ms\": %lld, "
                   "\"records_copied\": %lld, \"diverged\": %s, \"error\": ",
                   strtoll(f.lag, NULL, 10), strtoll(f.lag_ms, NULL, 10),
                   strtoll(f.checkpoint, NULL, 10), strtoll(f.copied, NULL, 10),
                   f.diverged ? "true" : "false");
            cli_json_string(f.error);
            putchar('}');
            first = false;
        } else if (f.flow[0]) {
            char when[32] = "-";
            if (!f.diverged)
                age(strtoll(f.checkpoint, NULL, 10), when, sizeof when);
            printf("  %-22s %-8s %12s %10s  %-14s %s%s%s\n", f.flow, f.state,
                   !strcmp(f.lag, "-1") ? "-" : f.lag, !strcmp(f.lag_ms, "-1") ? "-" : f.lag_ms,
                   when, f.diverged ? f.copied : "",
                   f.diverged ? " diverged records recovered " : "", f.error);
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
}

int failover_cli_status(const char *topology_path, bool json, bool history)
{
    cli_context ctx;
    int rc = cli_open(topology_path, "status", &ctx);
    if (rc != 0) {
        cli_close(&ctx);
        return rc;
    }
    const topology *t = ctx.topology;
    int reachable = cli_read_states(&ctx);
    int64_t epoch = 0;
    bool agree = reachable == t->region_count, pushed = true;
    for (int i = 0; i < t->region_count; i++) {
        const cli_region *r = &ctx.regions[i];
        if (!r->reachable)
            continue;
        if (epoch && r->state.epoch != epoch)
            agree = false;
        if (r->state.epoch > epoch)
            epoch = r->state.epoch;
        if (r->pushed_epoch != r->state.epoch)
            pushed = false;
    }
    if (json)
        printf("{\"topology\": ");
    if (json)
        cli_json_string(t->path);
    else
        printf("topology %s: %d of %d sidecars answer%s\n", t->path, reachable, t->region_count,
               agree ? "" : " (regions disagree or are unreachable: see below)");
    if (json)
        printf(", \"consistent\": %s, \"regions\": [", agree && pushed ? "true" : "false");
    else
        printf("\n%-12s %-10s %6s %-10s %-10s %-16s %s\n", "REGION", "ROLE", "EPOCH", "ACTIVE",
               "BROKERS", "OPERATION", "SIDECAR");
    for (int i = 0; i < t->region_count; i++) {
        const cli_region *r = &ctx.regions[i];
        char brokers[48], operation[96];
        snprintf(brokers, sizeof brokers, "%s",
                 !r->reachable                        ? "-"
                 : r->pushed_epoch == r->state.epoch ? "accepted"
                                                     : "PENDING");
        snprintf(operation, sizeof operation, "%s%s%s",
                 r->state.operation[0] ? r->state.operation : "-", r->state.step[0] ? ":" : "",
                 r->state.step);
        if (json) {
            printf("%s{\"name\": ", i ? ", " : "");
            cli_json_string(r->name);
            printf(", \"reachable\": %s, \"error\": ", r->reachable ? "true" : "false");
            cli_json_string(r->error);
            printf(", \"role\": ");
            cli_json_string(r->role);
            printf(", \"epoch\": %" PRId64 ", \"active\": ", r->state.epoch);
            cli_json_string(r->state.active);
            printf(", \"fenced\": ");
            cli_json_string(r->state.fenced);
            printf(", \"promoting\": ");
            cli_json_string(r->state.promoting);
            printf(", \"operation\": ");
            cli_json_string(r->state.operation);
            printf(", \"target\": ");
            cli_json_string(r->state.target);
            printf(", \"step\": ");
            cli_json_string(r->state.step);
            printf(", \"updated_at_ms\": %" PRId64 ", \"pushed_epoch\": %" PRId64
                   ", \"push_error\": ",
                   r->state.updated_at_ms, r->pushed_epoch);
            cli_json_string(r->push_error);
            printf(", \"lease\": ");
            cli_json_string(r->lease);
            printf(", \"effective_role\": ");
            cli_json_string(r->effective_role);
            printf(", \"fenced_reason\": ");
            cli_json_string(r->fenced_reason);
            printf(", \"broker_lease_ms\": %" PRId64 ", \"broker_lease_renewing\": %s"
                   ", \"broker_lease_renewed_at_ms\": %" PRId64 ", \"broker_lease_error\": ",
                   r->broker_lease_ms, r->broker_lease_renewing ? "true" : "false",
                   r->broker_lease_renewed_at_ms);
            cli_json_string(r->broker_lease_error);
            printf(", \"flows\": [");
        } else if (!r->reachable) {
            printf("%-12s %-10s %6s %-10s %-10s %-16s %s  (%s)\n", r->name, "UNREACHABLE", "-",
                   "-", "-", "-", r->sidecar, r->error);
        } else {
            printf("%-12s %-10s %6" PRId64 " %-10s %-10s %-16s %s\n", r->name, r->role,
                   r->state.epoch, r->state.active, brokers, operation, r->sidecar);
            if (r->push_error[0])
                printf("  brokers have not accepted epoch %" PRId64 ": %s\n", r->state.epoch,
                       r->push_error);
            if (r->fenced_reason[0])
                printf("  FENCED (its brokers refuse writes): %s\n", r->fenced_reason);
            print_leases(r);
        }
        int status = 0;
        char *body = NULL, err[512];
        if (r->reachable &&
            cli_call(&ctx, i, false, "/failover/flows", &status, &body, err, sizeof err) == 0 &&
            status == 200) {
            if (!json)
                printf("  %-22s %-8s %12s %10s  %-14s %s\n", "FLOW (into region)", "STATE",
                       "LAG RECORDS", "LAG MS", "CHECKPOINT", "ERROR");
            print_flows(body, json);
        }
        free(body);
        body = NULL;
        if (json)
            printf("]");
        if (history && r->reachable &&
            cli_call(&ctx, i, false, "/failover/history?limit=50", &status, &body, err,
                     sizeof err) == 0 &&
            status == 200) {
            if (json) {
                printf(", \"history\": ");
                cli_json_string(body);
            } else {
                printf("  history (as %s's sidecar recorded it):\n", r->name);
                for (char *line = body, *next; line && *line; line = next) {
                    next = strchr(line, '\n');
                    if (next)
                        *next++ = '\0';
                    printf("    %s\n", line);
                }
            }
        }
        free(body);
        if (json)
            printf("}");
    }
    if (json)
        printf("]}\n");
    cli_close(&ctx);
    return agree && pushed ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}
