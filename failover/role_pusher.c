/*
 * role_pusher.c - pushes of the region's role and renewals of the brokers'
 * lease, under one lock (contract and lease arithmetic in role_pusher.h).
 */
#include "failover/role_pusher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "failover/agent.h"
#include "failover/auto_failover.h"
#include "failover/broker_push.h"
#include "failover/roles.h"

struct role_pusher {
    const topology *topology;
    int region;
    struct auto_failover *automatic; /* NULL in manual mode */
    int64_t lease_ms;                /* 0 = no lease, no thread */
    bool thread_started;
    pthread_t thread;
    atomic_bool stopping;
    pthread_cond_t wake;             /* with lock: stop requests */
    pthread_mutex_t lock;            /* one push or renewal at a time; guards below */
    bool have;                       /* last is a state the brokers accepted */
    failover_state last;
    bool have_wanted;                /* wanted is the state of the latest push, accepted
                                        or not: what the sidecar holds now */
    failover_state wanted;
    int64_t held_from_ms;            /* monotonic start of the last accepted push or
                                        renewal of an active role (before its anchors
                                        were read: the brokers' lease runs at least
                                        from then); 0 = none */
    rd_kafka_t *client;              /* the renewals' client, made on first use */
    char error[256];                 /* the last renewal's failure */
    pthread_mutex_t info_lock;       /* guards info: never held across a request, so
                                        /status does not wait for a slow renewal */
    role_pusher_lease_info info;
    int64_t info_held_from_ms;       /* held_from_ms, and whether last makes the region */
    bool info_active;                /* active, as published (under info_lock) */
};

static bool makes_active(const role_pusher *p, const failover_state *st)
{
    return failover_role_of(st, p->topology->regions[p->region].name) == FAILOVER_ROLE_ACTIVE;
}

/* Publishes what role_pusher_info reports (lock held). */
static void publish(role_pusher *p, bool accepted)
{
    pthread_mutex_lock(&p->info_lock);
    if (accepted)
        p->info.renewed_at_ms = clock_wall_ms();
    p->info.renewing = p->lease_ms > 0 && p->have && p->have_wanted &&
                       makes_active(p, &p->last) && makes_active(p, &p->wanted) &&
                       p->wanted.epoch == p->last.epoch;
    snprintf(p->info.error, sizeof p->info.error, "%s", p->error);
    p->info_held_from_ms = p->held_from_ms;
    p->info_active = p->have && makes_active(p, &p->last);
    pthread_mutex_unlock(&p->info_lock);
}

int role_pusher_lease_ms(const topology *t, int64_t *out, char *err, size_t errlen)
{
    bool automatic = t->failover_mode == TOPOLOGY_FAILOVER_AUTOMATIC;
    int64_t most = t->failover_detect_after_ms / 2 - FAILOVER_TICK_MS;
    int64_t lease = t->failover_broker_lease_ms;
    if (lease < 0)
        lease = automatic ? most : ROLE_PUSHER_MANUAL_LEASE_MS;
    *out = 0;
    if (lease > 0 && lease < ROLE_PUSHER_LEASE_MIN_MS) {
        snprintf(err, errlen, "%s: failover.broker_lease %" PRId64 "ms is too short: at least "
                 "%dms (renewed every third of it), or 0s for none", t->path, lease,
                 ROLE_PUSHER_LEASE_MIN_MS);
        return ST_ECONFIG;
    }
    if (automatic && lease > most) {
        snprintf(err, errlen, "%s: failover.broker_lease %" PRId64 "ms is too long for automatic "
                 "mode with detect_after %" PRId64 "ms: at most %" PRId64 "ms (detect_after/2 "
                 "- %dms), so the active region's brokers stop taking writes before a standby "
                 "can be promoted", t->path, lease, t->failover_detect_after_ms, most,
                 FAILOVER_TICK_MS);
        return ST_ECONFIG;
    }
    *out = lease;
    return 0;
}

/* Manual mode: the brokers' lease may have run out since the last accepted
 * push or renewal (the sidecar was stopped, or its brokers did not answer,
 * for about a lease). Then `strait failover` may have waited it out and
 * promoted another region (failover/cli_demote.c), so this sidecar must not
 * renew the old role on its own: the renewals stop, and the agent fences
 * the region as after a restart until a peer answers (agent.c). A tenth of
 * the lease covers the two hosts' clock rates. Automatic mode needs none of
 * this: its own majority lease decides every renewal. Lock held. */
static bool lapsed_since(const role_pusher *p, int64_t held_from_ms)
{
    return !p->automatic && p->lease_ms > 0 && held_from_ms > 0 &&
           clock_mono_ms() - held_from_ms >= p->lease_ms - p->lease_ms / 10;
}

static bool lease_may_have_lapsed(const role_pusher *p)
{
    return lapsed_since(p, p->held_from_ms);
}

/* A renewal is due: the last accepted state makes this region active, it is
 * the state of the latest push (a renewal never renews a role the sidecar no
 * longer holds: a demotion whose push failed leaves `last` active, and must
 * let the brokers' lease run out, not renew it), and (automatic mode) the
 * sidecar's own lease holds right now. Lock held. */
static bool renewal_due(role_pusher *p)
{
    return p->have && p->have_wanted && makes_active(p, &p->last) &&
           p->wanted.epoch == p->last.epoch && makes_active(p, &p->wanted) &&
           auto_failover_lease_valid_now(p->automatic) && !lease_may_have_lapsed(p);
}

/* failover_push_options.proceed of a renewal: asked again once the brokers'
 * anchors are read, so the decision comes after them (lock held). */
static bool renewal_proceeds(void *arg)
{
    return renewal_due(arg);
}

/* ... and of a push: one that makes the region active goes out only while
 * (automatic mode) the sidecar's own lease holds; any other role always. */
static bool push_proceeds(void *arg)
{
    role_pusher *p = arg;
    return !makes_active(p, &p->wanted) || auto_failover_lease_valid_now(p->automatic);
}

static void renew(role_pusher *p)
{
    char err[512] = "";
    if (!p->client) {
        p->client = failover_sidecar_client(p->topology, p->region,
                                            p->topology->regions[p->region].name, "lease",
                                            RD_KAFKA_PRODUCER, "3", err, sizeof err);
        if (!p->client) {
            snprintf(p->error, sizeof p->error, "%s", err);
            publish(p, false);
            return;
        }
    }
    /* a renewal that cannot finish within the renewal interval is late anyway,
     * and a short timeout keeps role_pusher_stop quick when the brokers are gone */
    int64_t interval = p->lease_ms > 0 ? p->lease_ms / 3 : ROLE_PUSHER_CONFIRM_MS;
    failover_push_options opt = {.lease_ms = p->lease_ms,
                                 .client = p->client,
                                 .quiet = true,
                                 .timeout_ms = (int)(interval < 1000 ? 1000 : interval),
                                 .proceed = renewal_proceeds,
                                 .proceed_arg = p};
    int64_t started = clock_mono_ms();
    if (failover_push_roles(p->topology, p->region, &p->last, &opt, err, sizeof err) == 0) {
        p->held_from_ms = started; /* published below */
        if (p->error[0])
            log_info("failover", "broker lease renewed again region=%s",
                     p->topology->regions[p->region].name);
        p->error[0] = '\0';
        publish(p, true);
    } else {
        if (strcmp(p->error, err) != 0)
            log_warn("failover", "broker lease renewal failed region=%s lease_ms=%" PRId64
                     " error=%s", p->topology->regions[p->region].name, p->lease_ms, err);
        snprintf(p->error, sizeof p->error, "%s", err);
        publish(p, false);
    }
}

static void *renew_loop(void *arg)
{
    role_pusher *p = arg;
    int64_t interval = p->lease_ms > 0 ? p->lease_ms / 3 : ROLE_PUSHER_CONFIRM_MS;
    pthread_mutex_lock(&p->lock);
    while (!atomic_load(&p->stopping)) {
        if (renewal_due(p))
            renew(p);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(interval % 1000) * 1000000L;
        until.tv_sec += interval / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!atomic_load(&p->stopping) &&
               pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int role_pusher_start(const topology *t, int region, struct auto_failover *af, role_pusher **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    int64_t lease = 0;
    int rc = role_pusher_lease_ms(t, &lease, err, errlen);
    if (rc != 0)
        return rc;
    role_pusher *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    p->topology = t;
    p->region = region;
    p->automatic = af;
    p->lease_ms = lease;
    atomic_init(&p->stopping, false);
    p->info.lease_ms = lease;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->info_lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, renew_loop, p) != 0) {
        snprintf(err, errlen, "cannot start the broker lease renewals");
        role_pusher_stop(p);
        return ST_ENOMEM;
    }
    p->thread_started = true;
    if (lease > 0)
        log_info("failover", "broker lease region=%s lease_ms=%" PRId64 " renew_every_ms=%" PRId64,
                 t->regions[region].name, lease, lease / 3);
    else if (t->failover_mode == TOPOLOGY_FAILOVER_AUTOMATIC)
        log_warn("failover", "broker lease off (failover.broker_lease: 0s): if this sidecar dies "
                 "while its region is cut off, its brokers keep taking writes");
    else
        log_warn("failover", "broker lease off (failover.broker_lease: 0s): if this sidecar dies "
                 "while its brokers live, they keep taking writes, and strait failover cannot "
                 "promote another region without --force");
    *out = p;
    return 0;
}

void role_pusher_stop(role_pusher *p)
{
    if (!p)
        return;
    if (p->thread_started) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stopping, true);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    if (p->client)
        rd_kafka_destroy(p->client);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->info_lock);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int64_t role_pusher_lease(const role_pusher *p) { return p->lease_ms; }

int role_pusher_push(role_pusher *p, const failover_state *st, char *err, size_t errlen)
{
    failover_push_options opt = {.lease_ms = p->lease_ms, .proceed = push_proceeds,
                                 .proceed_arg = p};
    pthread_mutex_lock(&p->lock);
    p->wanted = *st; /* from now on only this state may be renewed */
    p->have_wanted = true;
    publish(p, false);
    int64_t started = clock_mono_ms();
    int rc = failover_push_roles(p->topology, p->region, st, &opt, err, errlen);
    if (rc == 0) {
        p->last = *st;
        p->have = true;
        p->held_from_ms = makes_active(p, st) ? started : 0;
        publish(p, true);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void role_pusher_info(role_pusher *p, role_pusher_lease_info *out)
{
    pthread_mutex_lock(&p->info_lock);
    *out = p->info;
    pthread_mutex_unlock(&p->info_lock);
}

bool role_pusher_lease_lapsed(role_pusher *p)
{
    pthread_mutex_lock(&p->info_lock);
    bool lapsed = p->info_active && lapsed_since(p, p->info_held_from_ms);
    pthread_mutex_unlock(&p->info_lock);
    return lapsed;
}
