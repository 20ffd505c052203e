/*
 * agent.c - the sidecar's failover agent (contract in agent.h): durable
 * state, pushes to the brokers, adoption of newer states from peers, hooks.
 */
#include "failover/agent.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "failover/auto_failover.h"
#include "failover/broker_push.h"
#include "failover/peer_poll.h"
#include "failover/role_pusher.h"
#include "failover/roles.h"

extern char **environ;

struct failover_agent {
    const topology *topology;
    int region;
    failover_store *store;
    failover_agent_info info;
    int64_t next_push_ms;      /* monotonic */
    auto_failover *automatic;  /* NULL in manual mode */
    peer_poll *peers;          /* peers' states, polled on their own thread */
    role_pusher *pusher;       /* every push, and the brokers' lease renewals */
    bool peers_asked;          /* every peer was asked once since start: the timer's
                                  first push waits for it, so a region whose peers answer
                                  learns of a newer state before it pushes anything */
    /* Manual mode's restart fence (agent.h, failover_agent_open): while
     * restart_fenced, a state at restart_fence_epoch that makes this region
     * active is pushed as `fenced`. Asked was never enough: a region that was
     * failed over while it was down and returns while the links are cut has
     * asked every peer (and heard nothing), and must not take writes. */
    bool restart_fenced;
    int64_t restart_fence_epoch;
    int peers_needed;          /* answers (from distinct peers) that end the fence */
    bool lapse_fenced;         /* the fence was raised again because the brokers' lease
                                  may have run out; cleared once `active` is accepted */
};

/* Runs a hook command with {region} replaced, without waiting for it. */
static void run_hook(failover_agent *a, const char *what, const char *command)
{
    if (!command[0])
        return;
    const char *region = a->topology->regions[a->region].name;
    char line[2048] = "";
    size_t used = 0;
    for (const char *p = command; *p && used + 1 < sizeof line;) {
        if (!strncmp(p, "{region}", 8)) {
            used += (size_t)snprintf(line + used, sizeof line - used, "%s", region);
            p += 8;
        } else {
            line[used++] = *p++;
            line[used] = '\0';
        }
        if (used >= sizeof line)
            used = sizeof line - 1;
    }
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    if (rc != 0)
        log_error("failover", "hook %s could not start: %s command=%s", what, strerror(rc), line);
    else
        log_info("failover", "hook %s started pid=%d command=%s", what, (int)pid, line);
}

static void reap_hooks(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        log_info("failover", "hook pid=%d exited status=%d", (int)pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* True while the restart fence holds the stored `active` role back. A state
 * at a newer epoch (adopted from a peer, or posted by the CLI) ends it for
 * good: whoever made that state knew more than this region's stored one. */
static bool held_fenced(failover_agent *a)
{
    if (!a->restart_fenced)
        return false;
    const char *self = a->topology->regions[a->region].name;
    if (a->info.state.epoch != a->restart_fence_epoch ||
        failover_role_of(&a->info.state, self) != FAILOVER_ROLE_ACTIVE) {
        log_info("failover", "restart fence ended: the state is now epoch=%lld active=%s",
                 (long long)a->info.state.epoch, a->info.state.active);
        a->restart_fenced = false;
        a->info.fenced_reason[0] = '\0';
    }
    return a->restart_fenced;
}

/* st with this region fenced (same epoch; nothing else changes): what the
 * brokers hear while the region must not take writes on st's role. */
static void fence_self(const failover_agent *a, failover_state *st)
{
    snprintf(st->fenced, sizeof st->fenced, "%s", a->topology->regions[a->region].name);
    st->promoting[0] = '\0'; /* `fenced` wins in failover_role_of anyway */
}

static void push(failover_agent *a)
{
    char err[512] = "";
    failover_state pushed = a->info.state;
    auto_failover_pushed_state(a->automatic, &pushed); /* `fenced` while its lease lapsed */
    if (held_fenced(a))
        fence_self(a, &pushed);
    int rc = role_pusher_push(a->pusher, &pushed, err, sizeof err);
    if (rc == ST_ENOTFOUND) {
        /* A demotion that cannot be pushed fences instead: `standby` needs
         * the active region's broker list over the cross-region link, and a
         * region that holds on to its old role while another one is active
         * is a split brain. `fenced` needs nothing remote; the timer keeps
         * retrying `standby`, and the renewals never re-send the old
         * `active` (role_pusher.h: they renew only what was last asked). */
        failover_state fenced = pushed;
        fence_self(a, &fenced);
        char fence_err[512] = "";
        if (role_pusher_push(a->pusher, &fenced, fence_err, sizeof fence_err) == 0) {
            if (strcmp(err, a->info.push_error) != 0)
                log_warn("failover", "role %s not pushed epoch=%lld (%s): the brokers are "
                         "fenced meanwhile",
                         failover_role_name(failover_role_of(&pushed,
                                                             a->topology->regions[a->region].name)),
                         (long long)pushed.epoch, err);
            size_t used = strlen(err);
            snprintf(err + used, sizeof err - used, "; fenced meanwhile");
        } else {
            size_t used = strlen(err);
            snprintf(err + used, sizeof err - used, "; fencing failed too: %s", fence_err);
        }
        rc = ST_EIO;
    }
    int64_t now = clock_mono_ms();
    if (rc == 0 &&
        failover_role_of(&pushed, a->topology->regions[a->region].name) == FAILOVER_ROLE_ACTIVE)
        a->lapse_fenced = false;
    if (rc == 0) {
        a->info.pushed_epoch = a->info.state.epoch;
        a->info.pushed_at_ms = clock_wall_ms();
        a->info.push_error[0] = '\0';
        a->next_push_ms = now + FAILOVER_REPUSH_MS;
    } else {
        if (strcmp(err, a->info.push_error) != 0)
            log_warn("failover", "role push failed epoch=%lld error=%s",
                     (long long)a->info.state.epoch, err);
        snprintf(a->info.push_error, sizeof a->info.push_error, "%s", err);
        a->next_push_ms = now + FAILOVER_PUSH_RETRY_MS;
    }
}

/* The state became next (already stored): hooks on a role change, push. */
static void changed_to(failover_agent *a, const failover_state *previous, const failover_state *next)
{
    const char *region = a->topology->regions[a->region].name;
    enum failover_role before = failover_role_of(previous, region);
    enum failover_role after = failover_role_of(next, region);
    a->info.state = *next;
    log_info("failover", "state epoch=%lld active=%s role=%s (was %s) operation=%s step=%s",
             (long long)next->epoch, next->active, failover_role_name(after),
             failover_role_name(before), next->operation[0] ? next->operation : "-",
             next->step[0] ? next->step : "-");
    if (after == FAILOVER_ROLE_ACTIVE && before != FAILOVER_ROLE_ACTIVE)
        run_hook(a, "on_promote", a->topology->hook_on_promote);
    if (before == FAILOVER_ROLE_ACTIVE && after != FAILOVER_ROLE_ACTIVE)
        run_hook(a, "on_demote", a->topology->hook_on_demote);
    push(a);
}

/* At open, manual mode: an `active` role read back (or a fresh store's) is
 * not trusted until a majority of the regions (this one included) answered
 * with no newer epoch. Automatic mode needs no fence of its own: its lease
 * starts expired and holds only with a majority of voters (auto_failover.c). */
static void restart_fence_raise(failover_agent *a);

/* Manual mode: a region whose brokers' lease may have run out unrenewed
 * (its sidecar was stopped for about a lease, or its brokers did not
 * answer) is fenced as after a restart. `strait failover` may have waited
 * that lease out and promoted another region while this sidecar did not
 * answer (failover/cli_demote.c), so the stored role is no better than a
 * restarted one's: a peer's answer to a request sent from now on (B's
 * carries the new epoch, which is adopted instead) or the operator's
 * unfence lifts it. */
static bool lapse_fence_check(failover_agent *a)
{
    if (a->automatic || a->restart_fenced || a->lapse_fenced || !a->pusher ||
        !role_pusher_lease_lapsed(a->pusher))
        return false;
    const char *self = a->topology->regions[a->region].name;
    if (failover_role_of(&a->info.state, self) != FAILOVER_ROLE_ACTIVE)
        return false;
    restart_fence_raise(a);
    if (!a->restart_fenced)
        return false;
    a->lapse_fenced = true;
    peer_poll_forget_answers(a->peers);
    snprintf(a->info.fenced_reason, sizeof a->info.fenced_reason,
             "its brokers' lease on active at epoch %lld may have run out unrenewed (this "
             "sidecar was stopped or its brokers did not answer), and it has not heard from %d "
             "peer sidecar%s since (another region may have been promoted meanwhile)",
             (long long)a->info.state.epoch, a->peers_needed, a->peers_needed == 1 ? "" : "s");
    log_warn("failover", "%s fenced again: %s", self, a->info.fenced_reason);
    push(a);
    return true;
}

static void restart_fence_raise(failover_agent *a)
{
    const topology *t = a->topology;
    const char *self = t->regions[a->region].name;
    /* A single-region topology has no peer to split the brain with, and no
     * one whose answer could ever lift a fence: it comes up active. */
    if (a->automatic || t->region_count < 2 ||
        failover_role_of(&a->info.state, self) != FAILOVER_ROLE_ACTIVE)
        return;
    a->restart_fenced = true;
    a->restart_fence_epoch = a->info.state.epoch;
    a->peers_needed = t->region_count / 2; /* a majority of regions, minus this one */
    snprintf(a->info.fenced_reason, sizeof a->info.fenced_reason,
             "restarted as active at epoch %lld and has not heard from %d peer sidecar%s yet "
             "(another region may have been promoted meanwhile)",
             (long long)a->info.state.epoch, a->peers_needed, a->peers_needed == 1 ? "" : "s");
    log_warn("failover", "%s is fenced until %d peer sidecar%s answer%s with no newer epoch, "
             "or an operator runs strait unfence %s --i-know-the-other-regions-are-down",
             self, a->peers_needed, a->peers_needed == 1 ? "" : "s",
             a->peers_needed == 1 ? "s" : "", self);
}

int failover_agent_open(const topology *t, int region, const char *store_path,
                        const struct control_plane *control, failover_agent **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    failover_agent *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    a->topology = t;
    a->region = region;
    int rc = failover_store_open(store_path, &a->store);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open the failover state in %s: %s", store_path,
                 strait_strerror(rc));
        free(a);
        return rc;
    }
    bool found = false;
    rc = failover_state_load(a->store, &a->info.state, &found);
    char why[512];
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the failover state in %s: %s", store_path,
                 strait_strerror(rc));
    } else if (!found) {
        failover_state_initial(t, &a->info.state);
        a->info.state.updated_at_ms = clock_wall_ms();
        bool changed = false;
        failover_event ev = {.at_ms = a->info.state.updated_at_ms, .epoch = 1, .lag_records = -1};
        snprintf(ev.actor, sizeof ev.actor, "sidecar %s", t->regions[region].name);
        snprintf(ev.to, sizeof ev.to, "%s", a->info.state.active);
        snprintf(ev.outcome, sizeof ev.outcome, "initial");
        snprintf(ev.detail, sizeof ev.detail, "failover.active of %s", t->path);
        rc = failover_state_store(a->store, &a->info.state, &ev, &changed, why, sizeof why);
        if (rc != 0)
            snprintf(err, errlen, "cannot store the initial failover state in %s: %s",
                     store_path, why[0] ? why : strait_strerror(rc));
    } else if (failover_state_check(t, &a->info.state, why, sizeof why) != 0) {
        snprintf(err, errlen,
                 "the failover state stored in %s (epoch %lld) disagrees with %s: %s",
                 store_path, (long long)a->info.state.epoch, t->path, why);
        rc = ST_ECONFIG;
    }
    if (rc == 0)
        rc = auto_failover_open(t, region, a, store_path, control, &a->automatic, err,
                                errlen);
    if (rc == 0 && (rc = peer_poll_start(t, region, control, &a->peers)) != 0)
        snprintf(err, errlen, "cannot start the peer poller: %s", strait_strerror(rc));
    if (rc == 0)
        rc = role_pusher_start(t, region, a->automatic, &a->pusher, err, errlen);
    if (rc != 0) {
        failover_agent_close(a);
        return rc;
    }
    log_info("failover", "state loaded epoch=%lld active=%s role=%s", (long long)a->info.state.epoch,
             a->info.state.active,
             failover_role_name(failover_role_of(&a->info.state, t->regions[region].name)));
    restart_fence_raise(a);
    a->next_push_ms = 0; /* first tick pushes */
    *out = a;
    return 0;
}

void failover_agent_close(failover_agent *a)
{
    if (!a)
        return;
    role_pusher_stop(a->pusher); /* before the lease it asks about */
    peer_poll_stop(a->peers);
    auto_failover_close(a->automatic);
    failover_store_close(a->store);
    free(a);
}

void failover_agent_info_get(failover_agent *a, failover_agent_info *out)
{
    *out = a->info;
    if (a->pusher)
        role_pusher_info(a->pusher, &out->lease);
}

auto_failover *failover_agent_automatic(failover_agent *a) { return a->automatic; }

int failover_agent_apply(failover_agent *a, const failover_state *next, const failover_event *ev,
                         bool *changed, char *why, size_t whylen)
{
    *changed = false;
    why[0] = '\0';
    int rc = failover_state_check(a->topology, next, why, whylen);
    if (rc != 0)
        return rc;
    failover_state previous = a->info.state;
    rc = failover_state_store(a->store, next, ev, changed, why, whylen);
    if (rc != 0) {
        if (!why[0])
            snprintf(why, whylen, "cannot store the state: %s", strait_strerror(rc));
        return rc;
    }
    if (*changed)
        changed_to(a, &previous, next);
    else if (a->info.pushed_epoch != next->epoch)
        push(a);
    if (a->info.pushed_epoch != next->epoch) {
        snprintf(why, whylen, "stored, but the brokers have not accepted it yet: %s",
                 a->info.push_error);
        return ST_EIO;
    }
    return 0;
}

/* Adopts the newest state a peer reported (peer_poll.c) if it is newer. */
static void adopt_from_peers(failover_agent *a, bool *changed)
{
    const topology *t = a->topology;
    failover_state peer;
    int from = -1;
    if (!a->peers || !peer_poll_newer(a->peers, a->info.state.epoch, &peer, &from))
        return;
    char why[512] = "";
    bool stored = false;
    failover_event ev = {.at_ms = clock_wall_ms(), .epoch = peer.epoch, .lag_records = -1};
    snprintf(ev.actor, sizeof ev.actor, "sidecar %s", t->regions[a->region].name);
    snprintf(ev.operation, sizeof ev.operation, "%s", peer.operation);
    snprintf(ev.from, sizeof ev.from, "%s", a->info.state.active);
    /* the operator's record of a step names the operation's target (cli_ops.c):
     * an adopted step says the same, so every sidecar's history tells one story */
    snprintf(ev.to, sizeof ev.to, "%s", peer.operation[0] && peer.target[0] ? peer.target
                                                                            : peer.active);
    snprintf(ev.outcome, sizeof ev.outcome, "adopted");
    snprintf(ev.detail, sizeof ev.detail, "from the sidecar of %s", t->regions[from].name);
    int rc = failover_agent_apply(a, &peer, &ev, &stored, why, sizeof why);
    if (rc != 0 && rc != ST_EIO)
        log_warn("failover", "state of peer %s not adopted epoch=%lld reason=%s",
                 t->regions[from].name, (long long)peer.epoch, why);
    else
        log_info("failover", "adopted state of peer %s epoch=%lld active=%s",
                 t->regions[from].name, (long long)peer.epoch, peer.active);
    *changed = *changed || stored;
}

/* The restart fence ends once enough peers answered and none of them holds
 * an epoch above this region's (a newer one was adopted just before; one
 * that could not be adopted keeps the fence). True when it just ended. */
static bool restart_fence_check(failover_agent *a, int answered)
{
    if (!held_fenced(a))
        return false;
    failover_state newer;
    int from = -1;
    if (answered < a->peers_needed ||
        peer_poll_newer(a->peers, a->info.state.epoch, &newer, &from))
        return false;
    log_info("failover", "restart fence lifted: %d peer sidecar%s answered and none holds an "
             "epoch above %lld; %s takes writes again", answered, answered == 1 ? "" : "s",
             (long long)a->info.state.epoch, a->topology->regions[a->region].name);
    a->restart_fenced = false;
    a->info.fenced_reason[0] = '\0';
    return true;
}

int failover_agent_unfence(failover_agent *a, const char *actor, char *why, size_t whylen)
{
    const char *self = a->topology->regions[a->region].name;
    why[0] = '\0';
    if (!held_fenced(a)) {
        snprintf(why, whylen, "%s is not held fenced after a restart (role %s at epoch %lld): "
                 "nothing to lift", self,
                 failover_role_name(failover_role_of(&a->info.state, self)),
                 (long long)a->info.state.epoch);
        return ST_EINVAL;
    }
    failover_event ev = {.at_ms = clock_wall_ms(), .epoch = a->info.state.epoch,
                         .lag_records = -1};
    snprintf(ev.actor, sizeof ev.actor, "%s", actor && actor[0] ? actor : "operator");
    snprintf(ev.operation, sizeof ev.operation, "unfence");
    snprintf(ev.from, sizeof ev.from, "%s", self);
    snprintf(ev.to, sizeof ev.to, "%s", self);
    snprintf(ev.outcome, sizeof ev.outcome, "unfenced");
    snprintf(ev.detail, sizeof ev.detail, "the operator lifted the restart fence without an "
             "answer from a peer; it %s", a->info.fenced_reason);
    int rc = failover_event_add(a->store, &ev);
    if (rc != 0) {
        snprintf(why, whylen, "the audit record could not be stored: %s", strait_strerror(rc));
        return ST_EIO;
    }
    log_warn("failover", "restart fence lifted by %s: %s takes writes at epoch %lld without "
             "having heard from a peer", ev.actor, self, (long long)a->info.state.epoch);
    a->restart_fenced = false;
    a->info.fenced_reason[0] = '\0';
    push(a);
    if (a->info.push_error[0]) {
        snprintf(why, whylen, "unfenced, but the brokers have not accepted it yet: %s",
                 a->info.push_error);
        return ST_EIO;
    }
    return 0;
}

void failover_agent_tick(failover_agent *a, bool *changed)
{
    *changed = false;
    reap_hooks();
    /* both read before adopting what the peers said (peer_poll.h) */
    bool asked = a->peers && peer_poll_asked_all(a->peers);
    int answered = a->peers ? peer_poll_answered(a->peers) : 0;
    adopt_from_peers(a, changed);
    if (lapse_fence_check(a))
        answered = 0; /* the answers counted so far were forgotten */
    bool fence_lifted = restart_fence_check(a, answered);
    bool lease_changed = auto_failover_tick(a->automatic, changed);
    if (!a->peers_asked && !asked)
        return; /* no push before every peer was asked once (see peers_asked) */
    a->peers_asked = true;
    if (fence_lifted || lease_changed || clock_mono_ms() >= a->next_push_ms)
        push(a);
}

int failover_agent_history(failover_agent *a, int limit,
                           int (*fn)(void *arg, const failover_event *ev), void *arg)
{
    return failover_event_each(a->store, limit, fn, arg);
}
