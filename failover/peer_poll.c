/*
 * peer_poll.c - the peer sidecars' states, polled off the loop (peer_poll.h).
 * Answers are `key=value` lines of GET /failover/state?format=kv; fields that
 * are not state (region, role, push status, lease) are ignored, and an
 * answer without an epoch and an active region is not a state.
 */
#include "failover/peer_poll.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "failover/agent.h"
#include "failover/roles.h"
#include "common/http_client.h"
#include "failover/control_plane.h"

struct peer_poll {
    const topology *topology;
    const struct control_plane *control;
    int self;
    pthread_t thread;
    atomic_bool stopping;
    pthread_mutex_t lock;        /* guards the fields below */
    pthread_cond_t wake;
    bool have;
    bool asked_all;              /* one whole round is done (answered or not) */
    bool answered[TOPOLOGY_REGIONS_MAX]; /* this peer answered with a state at least once
                                            to a request sent in this generation */
    int64_t generation;          /* peer_poll_forget_answers starts a new one */
    failover_state newest;
    int newest_from;
};

static bool read_peer(const peer_poll *p, int region, failover_state *out)
{
    const topology *t = p->topology;
    int status = 0;
    char *body = NULL, err[512];
    size_t len = 0;
    if (http_client_get(control_plane_to_sidecar(p->control, region), t->regions[region].sidecar,
                        "/failover/state?format=kv", FAILOVER_PEER_TIMEOUT_MS, &status, &body,
                        &len, err, sizeof err) != 0)
        return false;
    memset(out, 0, sizeof *out);
    for (char *line = body, *next; status == 200 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = '\0';
            failover_state_set_field(out, line, eq + 1);
        }
    }
    free(body);
    return status == 200 && out->epoch > 0 && out->active[0];
}

static void *poll_thread(void *arg)
{
    peer_poll *p = arg;
    while (!atomic_load(&p->stopping)) {
        for (int i = 0; i < p->topology->region_count && !atomic_load(&p->stopping); i++) {
            failover_state st;
            if (i == p->self)
                continue;
            pthread_mutex_lock(&p->lock);
            int64_t generation = p->generation;
            pthread_mutex_unlock(&p->lock);
            if (!read_peer(p, i, &st))
                continue;
            pthread_mutex_lock(&p->lock);
            /* an answer to a request sent before the answers were forgotten
             * may describe the peer from before: its epoch still counts, the
             * answer does not */
            if (generation == p->generation)
                p->answered[i] = true; /* with newest updated under the same lock */
            if (!p->have || st.epoch > p->newest.epoch) {
                p->newest = st;
                p->newest_from = i;
                p->have = true;
            }
            pthread_mutex_unlock(&p->lock);
        }
        pthread_mutex_lock(&p->lock);
        p->asked_all = true;
        pthread_mutex_unlock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(FAILOVER_TICK_MS % 1000) * 1000000L;
        until.tv_sec += FAILOVER_TICK_MS / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&p->lock);
        while (!atomic_load(&p->stopping) &&
               pthread_cond_timedwait(&p->wake, &p->lock, &until) != ETIMEDOUT)
            ;
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

int peer_poll_start(const topology *t, int self, const struct control_plane *control,
                    peer_poll **out)
{
    peer_poll *p = calloc(1, sizeof *p);
    if (!p)
        return ST_ENOMEM;
    p->topology = t;
    p->self = self;
    p->control = control;
    atomic_init(&p->stopping, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, poll_thread, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return ST_ENOMEM;
    }
    *out = p;
    return 0;
}

void peer_poll_stop(peer_poll *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stopping, true);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

bool peer_poll_newer(peer_poll *p, int64_t min_epoch, failover_state *out, int *from)
{
    pthread_mutex_lock(&p->lock);
    bool newer = p->have && p->newest.epoch > min_epoch;
    if (newer) {
        *out = p->newest;
        *from = p->newest_from;
    }
    pthread_mutex_unlock(&p->lock);
    return newer;
}

bool peer_poll_asked_all(peer_poll *p)
{
    pthread_mutex_lock(&p->lock);
    bool done = p->asked_all;
    pthread_mutex_unlock(&p->lock);
    return done;
}

int peer_poll_answered(peer_poll *p)
{
    int count = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->topology->region_count; i++)
        count += p->answered[i] ? 1 : 0;
    pthread_mutex_unlock(&p->lock);
    return count;
}

void peer_poll_forget_answers(peer_poll *p)
{
    pthread_mutex_lock(&p->lock);
    p->generation++;
    memset(p->answered, 0, sizeof p->answered);
    pthread_mutex_unlock(&p->lock);
}
