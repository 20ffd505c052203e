/*
 * cli_demote.h - the first half of `strait failover` (cli_ops.c): the old
 * active region stops taking writes BEFORE the new one is pushed active
 * (issue 12, nemesis findings N1-N3). The safety argument is at the top of
 * cli_demote.c.
 *
 * In order:
 *   1. the witness (automatic mode) learns the new epoch, so it never again
 *      counts towards the old active's majority (failover/witness.c);
 *   2. the old active's sidecar, if it answers, stores the new state and
 *      pushes `standby` (or `fenced`) to its brokers: confirmed when they
 *      accepted it;
 *   3. otherwise the CLI pushes `fenced` at the new epoch to the old
 *      active's brokers itself (they refuse any older epoch afterwards, so
 *      a sidecar that returns on its stored role cannot undo it): confirmed
 *      when every broker accepted it;
 *   4. otherwise (nothing of the old region answers) the CLI waits until
 *      the brokers' lease has run out, whoever renewed it last: the lease
 *      plus the clock-rate margin of the anchored-lease argument, counted
 *      from the moment the old active's sidecar was last found silent, and
 *      says so (it is the price in RTO).
 *
 * Threads: the CLI's only thread; blocking (HTTP, Kafka admin, sleep).
 */
#ifndef STRAIT_FAILOVER_CLI_DEMOTE_H
#define STRAIT_FAILOVER_CLI_DEMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"
#include "failover/cli_common.h"

/* Clock-rate margin of the anchored lease (broker/cluster/region_state.h):
 * a broker's lease of L ms by its clock lasts at most L * (1 + rho) real
 * ms; rho below 1e-3 on any host, taken as 1/1000. */
#define CLI_DEMOTE_RHO_DIVISOR 1000
/* Added to every wait: the few ms a broker's lease check runs late (its
 * tick), and the request that found the sidecar silent. */
#define CLI_DEMOTE_MARGIN_MS 1000

typedef struct cli_demotion {
    bool confirmed;          /* the old active's brokers accepted a role that takes no writes */
    const char *how;         /* "sidecar", "brokers", "lease", "none" */
    int64_t waited_ms;       /* how long the CLI waited for the lease (0 when confirmed) */
    char detail[768];        /* what was tried and what answered, for the output */
} cli_demotion;

/*
 * Makes region a (the old active) stop taking writes under next (the state
 * that promotes another region at next->epoch), before that state reaches
 * the region it promotes. silent_since_ms: monotonic time at which the
 * request that found a's sidecar silent started (0 when it answered).
 * Prints its steps with step_fn (may be NULL). Returns 0 (see *out: a
 * confirmed demotion, or a wait served); ST_EINVAL with err when a's
 * sidecar refused the state (an epoch conflict); ST_EUNSUPPORTED with err
 * when nothing confirmed the demotion and no brokers' lease exists to wait
 * out (failover.broker_lease: 0s): the caller refuses unless forced.
 */
int cli_demote_old_active(cli_context *ctx, int a, const failover_state *next,
                          const char *event_from, int64_t lag, const char *detail,
                          int64_t silent_since_ms, void (*step_fn)(const char *line),
                          cli_demotion *out, char *err, size_t errlen);

/* The wait (ms) that lets the old active's brokers' lease run out, counted
 * from the moment its sidecar was last seen silent: L (1 + rho) + margin;
 * 0 when there is no lease. Pure, for the tests. */
int64_t cli_demote_wait_ms(int64_t broker_lease_ms);

#endif
