/*
 * cli_ops.c - `strait switchover`, `strait failover`, `strait failback`
 * (cli.h). Each step is a new state (a higher epoch) sent to the sidecars,
 * which store it before pushing the roles to their brokers, so an operation
 * interrupted anywhere leaves a state `strait status` shows and the next
 * command resumes or rolls back.
 *
 * Switchover, from active A to B at epoch E:
 *   E+1  fenced     A refuses client writes (no redirect yet: its consumers
 *                   drain); the flow A->B copies what is left
 *        drain      B's sidecar: every partition of A->B copied up to A's end
 *                   offset as of now, nothing in flight, the map written
 *   E+2  promoting  A is standby (redirects to B, refuses group APIs, so its
 *                   commits are final); B holds writes and groups while its
 *                   sidecar takes the final group checkpoints of A
 *        checkpoint B's sidecar: one group-sync round of A->B
 *   E+3  done       B is active, A standby; the flows turn round
 * A drain that does not finish within --timeout sets E+2 = A active again.
 *
 * Consumers cross without a failed commit or a re-read: B's brokers, made
 * promoting from standby, adopt the members arriving from A with the ids
 * and generation they hold (broker/group/coordinator_adopt.c), at once,
 * while promoting, so the commit a member sends after A refused it
 * (NOT_COORDINATOR) lands in B before the client's few retries run out.
 * The final checkpoint then leaves the adopted groups alone (their own
 * commits are newer) and applies A's last commits to every other group,
 * which B holds until then. broadcast() pushes to every region and waits
 * for the brokers to accept, so A refuses group calls before the final
 * checkpoint reads A's commits: no commit A accepted is missed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "failover/cli.h"
#include "failover/cli_demote.h"
#include "failover/cli_common.h"
#include "failover/roles.h"
#include "failover/rpo.h"

#define DRAIN_POLL_MS 200
/* Sidecars adopt a newer state from a peer within about a second. */
#define AGREE_WAIT_MS 3000

typedef struct op_result {
    const char *operation;
    const char *outcome;
    char from[FAILOVER_NAME_MAX];
    char to[FAILOVER_NAME_MAX];
    int64_t epoch;
    int64_t lag_records;
    int64_t last_checkpoint_ms;
    int64_t started_ms;
    int64_t read_started_ms;   /* monotonic start of the last read of every state */
    int64_t demotion_wait_ms;  /* failover: the wait for the old active's lease */
    char groups_kept[1024];
    char message[1024];
} op_result;

static bool quiet; /* --json: no step lines */

__attribute__((format(printf, 1, 2))) static void step(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}


static int finish(const op_result *r, int code, bool json)
{
    if (json) {
        printf("{\"operation\": \"%s\", \"outcome\": \"%s\", \"exit\": %d, \"from\": ",
               r->operation, r->outcome, code);
        cli_json_string(r->from);
        printf(", \"to\": ");
        cli_json_string(r->to);
        printf(", \"epoch\": %" PRId64 ", \"lag_records\": %" PRId64
               ", \"last_checkpoint_ms\": %" PRId64 ", \"duration_ms\": %" PRId64
               ", \"demotion_wait_ms\": %" PRId64 ", \"groups_kept\": ",
               r->epoch, r->lag_records, r->last_checkpoint_ms, clock_mono_ms() - r->started_ms,
               r->demotion_wait_ms);
        cli_json_string(r->groups_kept);
        printf(", \"message\": ");
        cli_json_string(r->message);
        printf("}\n");
    } else if (r->message[0]) {
        fprintf(code == CLI_EXIT_OK ? stdout : stderr, "%s%s\n",
                code == CLI_EXIT_OK ? "" : code == CLI_EXIT_REFUSED ? "refused: " : "failed: ",
                r->message);
    }
    return code;
}

/* Reads states until every region answers with the same epoch (or the wait
 * ends). Returns the index of a region holding the newest state, or -1. */
static int read_agreed(cli_context *ctx, bool need_all, op_result *r)
{
    int64_t deadline = clock_mono_ms() + AGREE_WAIT_MS;
    for (;;) {
        r->read_started_ms = clock_mono_ms();
        int reachable = cli_read_states(ctx);
        int newest = -1;
        bool agree = true;
        for (int i = 0; i < ctx->topology->region_count; i++) {
            if (!ctx->regions[i].reachable)
                continue;
            if (newest >= 0 && ctx->regions[i].state.epoch != ctx->regions[newest].state.epoch)
                agree = false;
            if (newest < 0 || ctx->regions[i].state.epoch > ctx->regions[newest].state.epoch)
                newest = i;
        }
        bool all = reachable == ctx->topology->region_count;
        if ((agree && (all || !need_all)) || clock_mono_ms() >= deadline) {
            for (int i = 0; need_all && i < ctx->topology->region_count; i++) {
                if (!ctx->regions[i].reachable) {
                    snprintf(r->message, sizeof r->message,
                             "the sidecar of %s is unreachable (%s); a %s needs every region "
                             "(for an unplanned promotion: strait failover)",
                             ctx->regions[i].name, ctx->regions[i].error, r->operation);
                    return -1;
                }
            }
            if (!agree) {
                snprintf(r->message, sizeof r->message,
                         "the sidecars disagree on the epoch and did not converge within %d ms; "
                         "see strait status",
                         AGREE_WAIT_MS);
                return -1;
            }
            if (newest < 0)
                snprintf(r->message, sizeof r->message, "no sidecar answers");
            return newest;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Sends st to every reachable region, `first` first. Returns 0 or the
 * first failure (r->message says which). */
static int broadcast(cli_context *ctx, int first, const failover_state *st, const char *from,
                     int64_t lag, const char *outcome, const char *detail, op_result *r)
{
    int order[TOPOLOGY_REGIONS_MAX], n = 0, failed = 0;
    order[n++] = first;
    for (int i = 0; i < ctx->topology->region_count; i++)
        if (i != first)
            order[n++] = i;
    for (int k = 0; k < n; k++) {
        int i = order[k];
        if (!ctx->regions[i].reachable)
            continue;
        char err[1024];
        int rc = cli_send_state(ctx, i, st, from, lag, outcome, detail, err, sizeof err);
        if (rc != 0) {
            if (!failed)
                snprintf(r->message, sizeof r->message, "epoch %" PRId64 " (%s) on %s: %s",
                         st->epoch, outcome, ctx->regions[i].name, err);
            failed = rc;
        }
    }
    r->epoch = st->epoch;
    return failed;
}

/* Sends st to every reachable region but skip, `last` after all the
 * others: an unplanned promotion reaches the promoted region only once the
 * old active was demoted (cli_demote.h) and the other standbys know the
 * epoch. 0 or the first failure (r->message says which). */
static int broadcast_last(cli_context *ctx, int last, int skip, const failover_state *st,
                          const char *from, int64_t lag, const char *outcome, const char *detail,
                          op_result *r)
{
    int failed = 0;
    for (int k = 0; k <= ctx->topology->region_count; k++) {
        int i = k < ctx->topology->region_count ? k : last;
        if ((k < ctx->topology->region_count && i == last) || i == skip ||
            !ctx->regions[i].reachable)
            continue;
        char err[1024];
        int rc = cli_send_state(ctx, i, st, from, lag, outcome, detail, err, sizeof err);
        if (rc != 0) {
            if (!failed)
                snprintf(r->message, sizeof r->message, "epoch %" PRId64 " (%s) on %s: %s",
                         st->epoch, outcome, ctx->regions[i].name, err);
            failed = rc;
        }
    }
    r->epoch = st->epoch;
    return failed;
}

static void step_line(const char *line) { step("%s", line); }

static void state_next(const failover_state *from, failover_state *next, const char *active,
                       const char *fenced, const char *promoting, const char *operation,
                       const char *target, const char *step_name)
{
    char previous[FAILOVER_NAME_MAX];
    snprintf(previous, sizeof previous, "%s", operation[0] ? (from->operation[0] ? from->previous : from->active) : "");
    memset(next, 0, sizeof *next);
    next->epoch = from->epoch + 1;
    snprintf(next->active, sizeof next->active, "%s", active);
    snprintf(next->fenced, sizeof next->fenced, "%s", fenced);
    snprintf(next->promoting, sizeof next->promoting, "%s", promoting);
    snprintf(next->operation, sizeof next->operation, "%s", operation);
    snprintf(next->target, sizeof next->target, "%s", target);
    snprintf(next->step, sizeof next->step, "%s", step_name);
    snprintf(next->previous, sizeof next->previous, "%s", previous);
}

/* Polls B's drain of flow A->B until drained or the deadline. */
static int wait_drained(cli_context *ctx, int b, const char *a, bool diverged, int64_t timeout_ms,
                        op_result *r)
{
    char path[256];
    snprintf(path, sizeof path, "/failover/drain?from=%s%s", a, diverged ? "&diverged=1" : "");
    int64_t deadline = clock_mono_ms() + timeout_ms;
    char last[512] = "";
    for (;;) {
        int status = 0;
        char *body = NULL, err[512];
        if (cli_call(ctx, b, false, path, &status, &body, err, sizeof err) == 0 && status == 200) {
            r->lag_records = cli_kv_int(body, "lag_records", -1);
            if (cli_kv_int(body, "drained", 0) == 1) {
                free(body);
                return 0;
            }
            char undrained[256], error[256];
            cli_kv(body, "undrained", undrained, sizeof undrained);
            cli_kv(body, "last_error", error, sizeof error);
            snprintf(last, sizeof last,
                     "%" PRId64 " records behind, %" PRId64 " in flight, %" PRId64
                     " unmapped on %s%s%s",
                     r->lag_records, cli_kv_int(body, "in_flight", -1),
                     cli_kv_int(body, "pending_pairs", -1), undrained[0] ? undrained : "-",
                     error[0] ? "; flow error: " : "", error);
        } else {
            snprintf(last, sizeof last, "%s", status ? "drain query failed" : err);
        }
        free(body);
        if (clock_mono_ms() >= deadline) {
            snprintf(r->message, sizeof r->message, "%s %s->%s did not drain within %" PRId64
                     " ms (%s)", diverged ? "the diverged copy" : "mirror lag", a,
                     ctx->regions[b].name, timeout_ms, last);
            return ST_EIO;
        }
        struct timespec ts = {0, DRAIN_POLL_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int final_checkpoint(cli_context *ctx, int b, const char *a, op_result *r)
{
    char path[256];
    snprintf(path, sizeof path, "/failover/checkpoint?from=%s", a);
    int status = 0;
    char *body = NULL, err[512];
    int rc = cli_call(ctx, b, true, path, &status, &body, err, sizeof err);
    if (rc != 0 || status != 200 || cli_kv_int(body, "ok", 0) != 1) {
        char why[512] = "";
        if (body)
            cli_kv(body, status == 200 ? "last_error" : "error", why, sizeof why);
        snprintf(r->message, sizeof r->message, "final group checkpoint of %s->%s failed: %s", a,
                 ctx->regions[b].name, rc != 0 ? err : why);
        free(body);
        return ST_EIO;
    }
    cli_kv(body, "skipped_active", r->groups_kept, sizeof r->groups_kept);
    step("final checkpoint: %" PRId64 " group partitions applied to %s",
         cli_kv_int(body, "applied", 0), ctx->regions[b].name);
    if (r->groups_kept[0])
        step("groups with members in %s (adopted from %s, or its own) keep their own commits "
             "there: %s",
             ctx->regions[b].name, a, r->groups_kept);
    free(body);
    return 0;
}

static int switchover_run(cli_context *ctx, int b, int64_t timeout_ms, bool json, op_result *r)
{
    const char *to = ctx->regions[b].name;
    int newest = read_agreed(ctx, true, r);
    if (newest < 0)
        return finish(r, CLI_EXIT_REFUSED, json);
    failover_state st = ctx->regions[newest].state;
    snprintf(r->from, sizeof r->from, "%s", st.operation[0] ? st.previous : st.active);
    r->epoch = st.epoch;
    bool resume = !strcmp(st.operation, "switchover") && !strcmp(st.target, to);
    if (st.operation[0] && !resume) {
        bool rollback = !strcmp(st.operation, "switchover") && !strcmp(st.step, "fenced") &&
                        !strcmp(st.active, to);
        if (!rollback) {
            snprintf(r->message, sizeof r->message,
                     "a %s to %s is in progress (epoch %" PRId64 ", step %s); complete it with "
                     "strait %s --to %s",
                     st.operation, st.target, st.epoch, st.step, st.operation, st.target);
            return finish(r, CLI_EXIT_REFUSED, json);
        }
        failover_state next;
        state_next(&st, &next, st.active, "", "", "", "", "");
        step("rolling back the switchover to %s: un-fencing %s (epoch %" PRId64 ")", st.target,
             st.active, next.epoch);
        if (broadcast(ctx, b, &next, st.target, -1, "aborted", "rolled back by the operator", r))
            return finish(r, CLI_EXIT_FAILED, json);
        r->outcome = "rolled-back";
        snprintf(r->message, sizeof r->message, "switchover rolled back; %s is active again", to);
        return finish(r, CLI_EXIT_OK, json);
    }
    if (!st.operation[0] && !strcmp(st.active, to)) {
        snprintf(r->message, sizeof r->message, "%s is already active (epoch %" PRId64 ")", to,
                 st.epoch);
        return finish(r, CLI_EXIT_REFUSED, json);
    }
    const char *a_name = r->from;
    int a = topology_region_index(ctx->topology, a_name);
    if (!st.operation[0]) {
        failover_state next;
        state_next(&st, &next, a_name, a_name, "", "switchover", to, "fenced");
        step("fencing %s: clients can no longer write to it (epoch %" PRId64 ")", a_name,
             next.epoch);
        if (broadcast(ctx, a, &next, a_name, -1, "fenced", "", r) != 0) {
            failover_state back;
            state_next(&next, &back, a_name, "", "", "", "", "");
            broadcast(ctx, a, &back, a_name, -1, "aborted", r->message, r);
            return finish(r, CLI_EXIT_FAILED, json);
        }
        st = next;
    }
    if (!strcmp(st.step, "fenced")) {
        step("waiting for the mirror %s->%s to drain (at most %" PRId64 " ms)", a_name, to,
             timeout_ms);
        if (wait_drained(ctx, b, a_name, false, timeout_ms, r) != 0) {
            failover_state back;
            state_next(&st, &back, a_name, "", "", "", "", "");
            step("aborting: un-fencing %s (epoch %" PRId64 ")", a_name, back.epoch);
            char detail[1024];
            snprintf(detail, sizeof detail, "%s", r->message);
            op_result ignored = *r;
            broadcast(ctx, a, &back, a_name, r->lag_records, "aborted", detail, &ignored);
            r->epoch = back.epoch;
            r->outcome = "aborted";
            return finish(r, CLI_EXIT_FAILED, json);
        }
        step("mirror drained: every record of %s is in %s", a_name, to);
        failover_state next;
        state_next(&st, &next, to, "", to, "switchover", to, "promoting");
        step("promoting %s: %s redirects clients to it (epoch %" PRId64 ")", to, a_name,
             next.epoch);
        if (broadcast(ctx, b, &next, a_name, 0, "promoting", "", r) != 0)
            return finish(r, CLI_EXIT_FAILED, json);
        st = next;
    }
    if (final_checkpoint(ctx, b, a_name, r) != 0)
        return finish(r, CLI_EXIT_FAILED, json);
    failover_state done;
    state_next(&st, &done, to, "", "", "", "", "");
    if (broadcast(ctx, b, &done, a_name, 0, "completed", "switchover", r) != 0)
        return finish(r, CLI_EXIT_FAILED, json);
    r->outcome = "completed";
    snprintf(r->message, sizeof r->message,
             "switchover complete: %s is active at epoch %" PRId64 ", %s is standby", to,
             done.epoch, a_name);
    return finish(r, CLI_EXIT_OK, json);
}

/* The start of every verb: quiet for --json, the topology, the result
 * record and the target region. 0 with *region set, or the exit code. */
static int op_begin(const char *verb, const char *topology_path, const char *to, bool json,
                    cli_context *ctx, op_result *r, int *region)
{
    quiet = json;
    *r = (op_result){.operation = verb, .outcome = "refused", .lag_records = -1,
                     .started_ms = clock_mono_ms()};
    snprintf(r->to, sizeof r->to, "%s", to);
    int rc = cli_open(topology_path, verb, ctx);
    if (rc != 0)
        return rc;
    *region = cli_region_arg(ctx, verb, to);
    return *region < 0 ? CLI_EXIT_REFUSED : 0;
}

int failover_cli_switchover(const char *topology_path, const char *to, int64_t timeout_ms,
                            bool json)
{
    cli_context ctx;
    op_result r;
    int b = -1;
    int rc = op_begin("switchover", topology_path, to, json, &ctx, &r, &b);
    if (rc == 0)
        rc = switchover_run(&ctx, b, timeout_ms, json, &r);
    cli_close(&ctx);
    return rc;
}

/* The flow a->b's line of b's /failover/flows. */
static void flow_figures(cli_context *ctx, int b, const char *a, op_result *r)
{
    int status = 0;
    char *body = NULL, err[512], name[160];
    snprintf(name, sizeof name, "flow=%s->%s ", a, ctx->regions[b].name);
    if (cli_call(ctx, b, false, "/failover/flows", &status, &body, err, sizeof err) != 0)
        return;
    const char *line = status == 200 ? strstr(body, name) : NULL;
    if (line) {
        const char *lag = strstr(line, " lag_records=");
        const char *checkpoint = strstr(line, " last_checkpoint_ms=");
        if (lag)
            r->lag_records = strtoll(lag + 13, NULL, 10);
        if (checkpoint)
            r->last_checkpoint_ms = strtoll(checkpoint + 20, NULL, 10);
    }
    free(body);
}

int failover_cli_failover(const char *topology_path, const char *to, bool force, bool json)
{
    cli_context ctx;
    op_result r;
    int b = -1;
    int rc = op_begin("failover", topology_path, to, json, &ctx, &r, &b);
    if (rc != 0) {
        cli_close(&ctx);
        return rc;
    }
    int newest = read_agreed(&ctx, false, &r);
    if (newest < 0 || !ctx.regions[b].reachable) {
        if (newest >= 0)
            snprintf(r.message, sizeof r.message, "the sidecar of %s is unreachable (%s): it must "
                     "answer to be promoted", to, ctx.regions[b].error);
        rc = finish(&r, CLI_EXIT_REFUSED, json);
        cli_close(&ctx);
        return rc;
    }
    failover_state st = ctx.regions[newest].state;
    snprintf(r.from, sizeof r.from, "%s", st.active);
    r.epoch = st.epoch;
    int a = topology_region_index(ctx.topology, st.active);
    if (!strcmp(st.active, to) && !st.promoting[0]) {
        snprintf(r.message, sizeof r.message, "%s is already active (epoch %" PRId64 ")", to,
                 st.epoch);
        rc = finish(&r, CLI_EXIT_REFUSED, json);
    } else if (ctx.regions[a].reachable && !force) {
        snprintf(r.message, sizeof r.message,
                 "the sidecar of the active region %s still answers (role %s): use strait "
                 "switchover --to %s, which loses nothing, or --force to promote %s anyway",
                 st.active, ctx.regions[a].role, to, to);
        rc = finish(&r, CLI_EXIT_REFUSED, json);
    } else {
        flow_figures(&ctx, b, st.active, &r);
        failover_state next;
        state_next(&st, &next, to, "", "", "", "", "");
        /* marks the demoted region for the diverged copy (sidecar.c) */
        snprintf(next.step, sizeof next.step, "unplanned");
        snprintf(next.previous, sizeof next.previous, "%s", st.active);
        /* the lag is the flow's last reading: only a lower bound when the
         * old active cannot be asked (rpo.h) */
        failover_rpo rpo = {.lag_records = r.lag_records,
                            .lower_bound = !ctx.regions[a].reachable};
        char detail[FAILOVER_DETAIL_MAX] = "unplanned; ";
        size_t used = strlen(detail);
        failover_rpo_format(&rpo, st.active, detail + used, sizeof detail - used);
        step("promoting %s (epoch %" PRId64 ") once %s takes no more writes", to, next.epoch,
             st.active);
        cli_demotion demotion;
        char why[1024];
        int demoted = cli_demote_old_active(&ctx, a, &next, st.active, r.lag_records, detail,
                                            r.read_started_ms, step_line, &demotion, why,
                                            sizeof why);
        if (demoted == ST_EUNSUPPORTED && force) {
            step("promoting anyway (--force): %s", why);
            demoted = 0;
        }
        int skip = demotion.how && strcmp(demotion.how, "sidecar") == 0 ? a : -1;
        if (demoted != 0) {
            snprintf(r.message, sizeof r.message, "%s%s", why,
                     demoted == ST_EUNSUPPORTED ? "; --force promotes anyway" : "");
            rc = finish(&r, demoted == ST_EUNSUPPORTED ? CLI_EXIT_REFUSED : CLI_EXIT_FAILED,
                        json);
        } else if (broadcast_last(&ctx, b, skip, &next, st.active, r.lag_records, "completed",
                                  detail, &r) != 0) {
            rc = finish(&r, CLI_EXIT_FAILED, json);
        } else {
            char when[64] = "never";
            if (r.last_checkpoint_ms > 0)
                snprintf(when, sizeof when, "%.1f s before the promotion",
                         (double)(clock_wall_ms() - r.last_checkpoint_ms) / 1000.0);
            r.outcome = "completed";
            r.demotion_wait_ms = demotion.waited_ms;
            snprintf(r.message, sizeof r.message,
                     "failover complete: %s is active at epoch %" PRId64 ".\n"
                     "old active %s: %s\n"
                     "expected loss: %s%" PRId64 " records (the last known lag of %s->%s)%s%s%s\n"
                     "duplicate window: records consumed since the last group checkpoint (%s)",
                     to, next.epoch, st.active, demotion.detail,
                     rpo.lower_bound ? "at least " : "",
                     r.lag_records < 0 ? 0 : r.lag_records, st.active, to,
                     rpo.lower_bound ? "; " : "", rpo.lower_bound ? st.active : "",
                     rpo.lower_bound ? " does not answer: what it acknowledged after the flow "
                                       "last read it is not counted, and is copied into "
                                       "<topic>.diverged in the new active region when it "
                                       "answers again" : "", when);
            rc = finish(&r, CLI_EXIT_OK, json);
        }
    }
    cli_close(&ctx);
    return rc;
}

int failover_cli_failback(const char *topology_path, const char *to, int64_t timeout_ms,
                          bool json)
{
    cli_context ctx;
    op_result r;
    int a = -1;
    int rc = op_begin("failback", topology_path, to, json, &ctx, &r, &a);
    if (rc != 0) {
        cli_close(&ctx);
        return rc;
    }
    int newest = read_agreed(&ctx, true, &r);
    if (newest >= 0 && strcmp(ctx.regions[a].role, "standby") != 0 &&
        !ctx.regions[newest].state.operation[0]) {
        snprintf(r.message, sizeof r.message, "%s is %s, not a standby that can be failed back to",
                 to, ctx.regions[a].role);
        newest = -1;
    }
    if (newest < 0) {
        rc = finish(&r, CLI_EXIT_REFUSED, json);
        cli_close(&ctx);
        return rc;
    }
    const failover_state *cur = &ctx.regions[newest].state;
    int b = topology_region_index(ctx.topology, cur->active);
    if (!strcmp(cur->step, "unplanned") && !strcmp(cur->previous, to)) {
        /* records `to` accepted but never mirrored go to <topic>.diverged in
         * the active region first (its sidecar runs that copy) */
        if (wait_drained(&ctx, b, to, true, timeout_ms, &r) != 0) {
            rc = finish(&r, CLI_EXIT_FAILED, json);
            cli_close(&ctx);
            return rc;
        }
        step("records %s accepted but never mirrored are in %s as <topic>.diverged", to,
             cur->active);
    }
    step("%s answers as a standby; switching over to it once it has caught up", to);
    r.operation = "switchover";
    rc = switchover_run(&ctx, a, timeout_ms, json, &r);
    cli_close(&ctx);
    return rc;
}
