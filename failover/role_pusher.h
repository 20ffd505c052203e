/*
 * role_pusher.h - every push of the region's role to its brokers, and the
 * renewals of the brokers' lease on `active` (DESIGN.md §8).
 *
 * The brokers' lease (strait.region.lease.ms, broker/cluster/region_state.h)
 * makes an active region's brokers refuse client writes to the mirrored
 * topics when nobody has renewed their role for lease_ms: a region whose
 * sidecar died stops taking writes by itself. Any accepted push renews it;
 * between pushes a thread of this module re-sends the last accepted state
 * every lease_ms / 3 (every ROLE_PUSHER_CONFIRM_MS without a lease: a
 * broker restarted from its stored `active` role waits for that
 * confirmation before it takes writes, lease or not), and only while that
 * state makes this region active, is the state of the latest push (a
 * demotion whose push failed must let the lease run out, never renew the
 * old `active`: issue 12), and the sidecar's own lease holds (automatic
 * mode: auto_failover_lease_valid_now). That decision is taken after the
 * brokers' clocks were read for the renewal's anchor (broker_push.h
 * `proceed`), so each broker's lease ends within lease_ms of it by the
 * broker's own clock, however late the renewal arrives
 * (broker/cluster/region_state.h). Pushes and renewals take one lock, so a
 * renewal never re-sends a state older than the last push (a push at the
 * same epoch may fence the region: the brokers accept equal epochs, and
 * refuse a change anchored before one they applied).
 *
 * The lease length (failover.broker_lease):
 *   automatic mode  default and maximum detect_after/2 - FAILOVER_TICK_MS:
 *                   the sidecar stops renewing at the latest when its own
 *                   lease lapses (S + d/2 - tick, S = its last majority
 *                   contact), so its brokers stop taking writes before
 *                   S + d - 2 ticks, and no standby is granted a promotion
 *                   before S + d (auto_failover.c has the whole argument)
 *   manual mode     default ROLE_PUSHER_MANUAL_LEASE_MS: a region whose
 *                   sidecar died, or was stopped, stops taking writes by
 *                   itself, so `strait failover` can wait it out when it
 *                   cannot confirm the old active's demotion (cli_demote.c
 *                   has the argument); the wait, L(1 + rho) + 1 s after the
 *                   sidecar was found silent, is what that costs in RTO
 *   "0s"            none (writes continue without a live sidecar; manual
 *                   mode's failover then needs the old active's brokers, or
 *                   --force)
 *
 * Threads: role_pusher_push and _info from the sidecar's loop; the renewal
 * thread is internal.
 */
#ifndef STRAIT_FAILOVER_ROLE_PUSHER_H
#define STRAIT_FAILOVER_ROLE_PUSHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"
#include "topology/topology.h"

struct auto_failover;
typedef struct role_pusher role_pusher;

/* Without a broker lease, how often an active region's state is re-sent
 * (confirms the role to a broker that restarted). */
#define ROLE_PUSHER_CONFIRM_MS 2000

/* Manual mode's broker lease when failover.broker_lease is not given:
 * renewed every 2 s (as often as the confirmation without a lease), and
 * short enough that a failover waiting it out costs a few seconds. */
#define ROLE_PUSHER_MANUAL_LEASE_MS 6000

/* Shortest broker lease: renewals every lease/3 must stay well above the
 * time one AlterConfigs round trip to the local brokers takes. */
#define ROLE_PUSHER_LEASE_MIN_MS 300

/* The broker lease of t in ms (0 = none). ST_ECONFIG with err when
 * failover.broker_lease is below ROLE_PUSHER_LEASE_MIN_MS or, in
 * automatic mode, above detect_after/2 - FAILOVER_TICK_MS. */
int role_pusher_lease_ms(const topology *t, int64_t *out, char *err, size_t errlen);

/* Starts the pusher of t->regions[region] with t's broker lease, and its
 * renewal thread. af: automatic mode's lease, NULL in
 * manual mode; it must outlive the pusher. 0, ST_ECONFIG or ST_ENOMEM. */
int role_pusher_start(const topology *t, int region, struct auto_failover *af, role_pusher **out,
                      char *err, size_t errlen);
/* Stops the renewals (joins the thread). NULL ok. */
void role_pusher_stop(role_pusher *p);

/* The lease length, 0 = none. */
int64_t role_pusher_lease(const role_pusher *p);

/* Pushes st to the region's brokers now (blocking, FAILOVER_PUSH_TIMEOUT_MS
 * per request); once accepted, it is the state the renewals re-send.
 * 0 or ST_EIO / ST_EINVAL with err (failover_push_roles). */
int role_pusher_push(role_pusher *p, const failover_state *st, char *err, size_t errlen);

typedef struct role_pusher_lease_info {
    int64_t lease_ms;        /* 0 = no broker lease */
    int64_t renewed_at_ms;   /* wall clock of the last accepted push or renewal; 0 = none */
    bool renewing;           /* the last accepted state makes this region active */
    char error[256];         /* the last renewal's failure, "" after a success */
} role_pusher_lease_info;

void role_pusher_info(role_pusher *p, role_pusher_lease_info *out);

/* Manual mode: true when the last accepted state makes the region active
 * and the brokers' lease on it may have run out unrenewed (about a lease
 * since the last accepted push or renewal began): the renewals have
 * stopped, and only a new push (after the agent's fence was lifted)
 * confirms the role again. Never waits for a push or renewal. */
bool role_pusher_lease_lapsed(role_pusher *p);

#endif
