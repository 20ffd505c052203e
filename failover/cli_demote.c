/*
 * cli_demote.c - the old active's demotion before an unplanned promotion
 * (contract in cli_demote.h).
 *
 * Why `strait failover` never lets two regions take writes at once
 * ----------------------------------------------------------------
 * Let A be the old active at epoch E, B the region promoted at E+1. B's
 * brokers take writes only once B's sidecar pushed `active` at E+1, and the
 * CLI sends E+1 to B last, after one of these held:
 *
 * (a) A's sidecar answered the new state with success: it stored E+1 and
 *     every broker of A accepted `standby` or `fenced` at E+1. A broker
 *     refuses any change at an epoch below the one it holds (region_state.h),
 *     so no renewal of A's old `active` at E is accepted afterwards.
 * (b) The CLI itself pushed `fenced` at E+1 to every broker of A (the same
 *     AlterConfigs a sidecar sends; the operator reaches the brokers as the
 *     clients do): the same epoch rule makes it final. A sidecar of A that
 *     returns on its stored role learns E+1 from a peer, or stays refused.
 * (c) Neither answered. A's brokers take writes only while their lease
 *     (failover.broker_lease, L; in manual mode too: role_pusher.h) is
 *     renewed by A's sidecar, and each renewal is decided by a running
 *     sidecar at some t_d; the broker's lease then ends by its own clock
 *     no later than t_d + L(1 + rho) in real time (the anchored lease,
 *     region_state.h). A request from the CLI to A's sidecar that started
 *     at t_s went unanswered: a sidecar that was running at t_s answers
 *     within the timeout, so it was dead, stopped (SIGSTOP) or hung from
 *     t_s on, and decided no renewal after t_s. The CLI waits until
 *     t_s + L(1 + rho) + margin: A's brokers stop taking writes by then
 *     whoever renewed them last. A sidecar that was stopped, not dead,
 *     does not renew on its own when it resumes: once its brokers' lease
 *     may have run out it is fenced as after a restart (agent.c), until a
 *     peer answers, and B's answer carries E+1.
 *
 * (c) assumes what the failover design assumes: the operator reaches every
 * region whose processes run (docs/architecture.md). A sidecar that runs and
 * renews but that the operator cannot reach is a partition of the operator,
 * not a dead region; in automatic mode its majority lease still bounds it
 * once the voters know E+1 (step 1 tells the witness; the sidecars learn it
 * from B and announce it in their heartbeats).
 *
 * With no lease at all (failover.broker_lease: 0s) (c) has nothing to wait
 * for: the CLI refuses unless --force, and says so.
 */
#include "failover/cli_demote.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/http_client.h"
#include "failover/broker_push.h"
#include "failover/control_plane.h"
#include "failover/role_pusher.h"
#include "failover/roles.h"

/* Per request to the witness: it answers from memory. */
#define WITNESS_TELL_TIMEOUT_MS 3000

int64_t cli_demote_wait_ms(int64_t broker_lease_ms)
{
    if (broker_lease_ms <= 0)
        return 0;
    return broker_lease_ms + broker_lease_ms / CLI_DEMOTE_RHO_DIVISOR + 1 + CLI_DEMOTE_MARGIN_MS;
}

__attribute__((format(printf, 2, 3))) static void say(void (*step_fn)(const char *line), const char *fmt, ...)
{
    if (!step_fn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    step_fn(line);
}

/* Step 1: the witness learns epoch (POST /witness/epoch). 0 or ST_EIO. */
static int tell_witness(cli_context *ctx, int64_t epoch, const char *active, char *err,
                        size_t errlen)
{
    char path[256];
    snprintf(path, sizeof path, "/witness/epoch?epoch=%" PRId64 "&active=%s", epoch, active);
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    int rc = http_client_post(control_plane_to_witness(ctx->control),
                              ctx->topology->failover_witness, path, WITNESS_TELL_TIMEOUT_MS,
                              &status, &body, &len, err, errlen);
    if (rc == 0 && status != 200) {
        char why[256] = "";
        cli_kv(body ? body : "", "error", why, sizeof why);
        snprintf(err, errlen, "HTTP %d: %s", status, why[0] ? why : "no reason given");
        rc = ST_EIO;
    }
    free(body);
    return rc;
}

/* Step 3: `fenced` at next's epoch, pushed by the CLI to a's brokers. */
static int fence_brokers(cli_context *ctx, int a, const failover_state *next, char *err,
                         size_t errlen)
{
    failover_state fenced = *next;
    snprintf(fenced.fenced, sizeof fenced.fenced, "%s", ctx->topology->regions[a].name);
    fenced.promoting[0] = '\0';
    int64_t lease = 0;
    char why[256];
    if (role_pusher_lease_ms(ctx->topology, &lease, why, sizeof why) != 0)
        lease = 0; /* the sidecars refuse such a topology anyway; fenced needs none */
    /* log level 0: a region that does not answer is the expected case here,
     * and the CLI's own line says so (librdkafka would print to stderr) */
    rd_kafka_t *rk = failover_sidecar_client(ctx->topology, a, ctx->topology->regions[a].name,
                                             "roles", RD_KAFKA_PRODUCER, "0", err, errlen);
    if (!rk)
        return ST_EIO;
    failover_push_options opt = {.lease_ms = lease, .client = rk, .quiet = true};
    int rc = failover_push_roles(ctx->topology, a, &fenced, &opt, err, errlen);
    rd_kafka_destroy(rk);
    return rc;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int cli_demote_old_active(cli_context *ctx, int a, const failover_state *next,
                          const char *event_from, int64_t lag, const char *detail,
                          int64_t silent_since_ms, void (*step_fn)(const char *line),
                          cli_demotion *out, char *err, size_t errlen)
{
    const topology *t = ctx->topology;
    const char *name = t->regions[a].name;
    bool automatic = t->failover_mode == TOPOLOGY_FAILOVER_AUTOMATIC;
    memset(out, 0, sizeof *out);
    out->how = "none";
    err[0] = '\0';
    char why[512] = "";
    size_t used = 0;

    if (automatic && t->failover_witness[0]) {
        if (tell_witness(ctx, next->epoch, next->active, why, sizeof why) == 0)
            say(step_fn, "the witness knows epoch %" PRId64 ": it no longer counts towards %s's "
                "majority", next->epoch, name);
        else
            say(step_fn, "the witness did not learn epoch %" PRId64 " (%s); it learns it from "
                "the sidecars' heartbeats", next->epoch, why);
    }

    if (ctx->regions[a].reachable) {
        int rc = cli_send_state(ctx, a, next, event_from, lag, "completed", detail, why,
                                sizeof why);
        if (rc == 0) {
            out->confirmed = true;
            out->how = "sidecar";
            snprintf(out->detail, sizeof out->detail, "%s's sidecar demoted it; its brokers "
                     "accepted epoch %" PRId64, name, next->epoch);
            say(step_fn, "%s demoted first: its brokers accepted epoch %" PRId64
                " and take no more writes", name, next->epoch);
            return 0;
        }
        if (rc == ST_EINVAL) { /* refused: an epoch conflict, nothing to promote over */
            snprintf(err, errlen, "%s's sidecar refused epoch %" PRId64 ": %s", name,
                     next->epoch, why);
            return ST_EINVAL;
        }
        /* stored (or not) but not confirmed by its brokers: no later renewal of
         * its old role is decided from now on (role_pusher.h) */
        silent_since_ms = clock_mono_ms();
        used += (size_t)snprintf(out->detail + used, sizeof out->detail - used,
                                 "%s's sidecar did not confirm the demotion (%s); ", name, why);
    } else {
        used += (size_t)snprintf(out->detail + used, sizeof out->detail - used,
                                 "%s's sidecar does not answer (%s); ", name,
                                 ctx->regions[a].error);
    }

    if (fence_brokers(ctx, a, next, why, sizeof why) == 0) {
        out->confirmed = true;
        out->how = "brokers";
        snprintf(out->detail + used, sizeof out->detail - used,
                 "the CLI fenced %s's brokers at epoch %" PRId64 " itself", name, next->epoch);
        say(step_fn, "%s's brokers fenced by this CLI at epoch %" PRId64 " (its sidecar did "
            "not confirm the demotion): they take no more writes", name, next->epoch);
        return 0;
    }
    used += (size_t)snprintf(out->detail + used, sizeof out->detail - used,
                             "its brokers could not be fenced (%s); ", why);

    int64_t lease = 0;
    if (role_pusher_lease_ms(t, &lease, why, sizeof why) != 0)
        lease = 0;
    int64_t wait = cli_demote_wait_ms(lease);
    if (wait == 0) {
        snprintf(err, errlen, "%s's demotion cannot be confirmed (%s) and its brokers hold no "
                 "lease to wait out (failover.broker_lease: 0s): they may keep taking writes "
                 "until %s's sidecar returns", name, out->detail, name);
        return ST_EUNSUPPORTED;
    }
    int64_t until = silent_since_ms + wait;
    int64_t left = until - clock_mono_ms();
    out->how = "lease";
    out->waited_ms = left > 0 ? left : 0;
    snprintf(out->detail + used, sizeof out->detail - used,
             "waited out the brokers' lease: %" PRId64 " ms (lease) + %" PRId64
             " ms (clock rate) + %d ms (margin) after %s was last found silent, %" PRId64
             " ms of it here", lease, lease / CLI_DEMOTE_RHO_DIVISOR + 1, CLI_DEMOTE_MARGIN_MS,
             name, out->waited_ms);
    say(step_fn, "%s's demotion cannot be confirmed: waiting %.1f s for its brokers' lease "
        "(%" PRId64 " ms + clock-rate and margin) to run out before promoting; this adds "
        "%.1f s to the RTO", name, (double)out->waited_ms / 1000.0, lease,
        (double)out->waited_ms / 1000.0);
    if (left > 0)
        sleep_ms(left);
    return 0;
}
