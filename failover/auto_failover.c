/*
 * auto_failover.c - automatic failover in the sidecar (contract in
 * auto_failover.h): heartbeats, the active region's lease, detection and
 * the vote of the designated standby, the promotion.
 *
 * Why a cut link never leaves two regions accepting writes
 * --------------------------------------------------------
 * Voters: every region's sidecar plus the witness if configured; N of them,
 * a majority is N/2 + 1. d = failover.detect_after.
 *
 * The standby promotes itself only with a majority of grants for epoch E+1
 * (itself included). A voter grants only if it has not heard from the
 * active region's sidecar for d: "heard" is the later of the voter's own
 * probe answers and the active's heartbeats arriving at the voter (vote.h).
 *
 * The active region holds a lease: it counts as alive only while a
 * majority (itself and majority-1 others) answered a heartbeat it sent
 * within the last d/2. The lease is checked once per tick and lapses one
 * tick early (the margin), so it never runs out between two checks; when
 * it lapses the sidecar pushes role `fenced` to its own brokers at the
 * same epoch (the stored state is untouched) and its brokers refuse
 * client writes. It pushes `active` again when majority contact returns,
 * counting only voters that have not moved on (a peer at a newer epoch,
 * a witness that voted for another region at a newer epoch do not count;
 * the agent adopts the newer state instead).
 *
 * Any majority that grants the standby's promotion and the majority the
 * active needs for its lease share at least one voter V other than the
 * active region (the active region never votes against itself). Say V last
 * answered the active's heartbeat sent at S. V received it after S, so V
 * grants no earlier than S + d; the active fences itself no later than
 * S + d/2 (lease) plus the few milliseconds a push to its local brokers
 * takes. So the old active's brokers refuse writes at least d/2 before the
 * new active can exist, whatever the cut: east<->west only (the witness
 * still hears east and refuses), the active isolated from everyone (it
 * fences, and the standby may promote), or no witness and a cut link (no
 * majority anywhere: the active fences, nobody promotes). The standby also
 * needs the active region's brokers not to answer Metadata, so a region
 * whose sidecar alone died is not failed over.
 *
 * An active region whose sidecar has died cannot push `fenced`: its brokers
 * hold a lease of their own for that (failover.broker_lease, L <= d/2 -
 * tick; failover/role_pusher.h). The sidecar decides each renewal only
 * while this lease holds, and decides it AFTER reading the brokers' clocks
 * (the anchor, broker/cluster/region_state.h), so the decision is at some
 * t_d <= S + d/2 - tick and each broker's lease ends by its own clock no
 * later than t_d + L(1 + rho), rho the broker host's clock rate error:
 * no later than S + d - 2 ticks + rho L, before any grant at S + d as long
 * as rho L < 2 ticks (2 s; rho is below 1e-3 on any host, L at most an
 * hour). How long the renewal then takes to arrive does not matter: it
 * can only shorten the brokers' lease. Clock rates on the voters matter the
 * same way for the d and d/2 above: each side measures only its own
 * intervals, and a voter's grant waits d by its clock while the active's
 * lease runs d/2 by its own, a margin of d/2 that drift cannot eat.
 *
 * A region restarted on a stale `active` (failed over while it was down)
 * starts with its lease expired and gets it only from voters that answer
 * at its epoch or below: a peer at a newer epoch does not count, nor does a
 * witness that voted for another region or heard a newer epoch from any
 * region (epoch_seen), so it cannot reach a majority before it adopts the
 * newer state from a peer.
 *
 * An operator's `strait failover` asks no vote, so the witness would not
 * know its epoch if the promoted region were cut off or stopped right after
 * the promotion (nemesis N2): the CLI tells the witness the new epoch and
 * the region it promotes before that region takes writes (POST
 * /witness/epoch, failover/cli_demote.c), and every sidecar's heartbeat
 * tells the witness the highest epoch it has heard of (seen=). A witness
 * whose epoch_seen is above the heartbeat's counts only for the region
 * that epoch promotes (its vote's candidate, or the operator's target),
 * whose heartbeats carry the new epoch a tick later; for every other
 * region it is a voter that has moved on. Manual mode has no majority: its restart fence
 * is in failover/agent.h. A standby still
 * promotes only if the active region's brokers do not answer Metadata, so
 * a region whose sidecar alone died is not failed over (its writes stop
 * until the sidecar is back: safety over availability; broker_lease: 0s
 * turns the brokers' lease off).
 */
#include "failover/auto_failover.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/log.h"
#include "common/region_contract.h"
#include "failover/agent.h"
#include "failover/broker_push.h"
#include "failover/cli_common.h"
#include "failover/roles.h"
#include "failover/rpo.h"
#include "failover/vote.h"
#include "common/http_client.h"
#include "failover/control_plane.h"

/* A voter: a peer sidecar (slot = region index) or the witness (last slot). */
typedef struct voter {
    int64_t sent_ok_ms;     /* monotonic send time of the last heartbeat it answered */
    int64_t heard_ms;       /* monotonic: last answer from it or heartbeat from it */
    int64_t epoch;          /* the epoch it reported */
    bool counts;            /* its last answer counts for the lease */
    bool lost_logged;
    /* a silent peer's brokers, probed by its heartbeat thread */
    int64_t brokers_checked_ms;  /* monotonic start of the last Metadata probe; 0: none */
    bool brokers_answered;
    char brokers_error[256];
} voter;

typedef struct heartbeat_thread {
    struct auto_failover *af;
    int slot;
    pthread_t thread;
    bool started;
} heartbeat_thread;

struct auto_failover {
    const topology *topology;
    const struct control_plane *control;       /* credentials of every call */
    int region;
    struct failover_agent *agent;
    char vote_dir[1200];
    char vote_name[TOPOLOGY_NAME_MAX + 8];
    failover_vote vote;                    /* this sidecar's durable vote */
    heartbeat_thread threads[TOPOLOGY_REGIONS_MAX + 1];
    pthread_mutex_t lock;                  /* guards voters, epoch, stopping */
    pthread_cond_t wake;
    bool stopping;
    int64_t epoch;                         /* this region's epoch, for the heartbeats */
    voter voters[TOPOLOGY_REGIONS_MAX + 1];
    int witness_slot;                      /* -1 without a witness */
    int voter_count;
    int majority;
    int64_t opened_ms;
    bool lease_expired;                    /* this (active) region fenced itself */
    bool suspecting;                       /* the active region looks dead */
    char last_report[512];                 /* log-once key of the last detection outcome */
    auto_failover_lag_fn lag_fn;
    void *lag_arg;
};

static void *heartbeat_loop(void *arg);

static const char *name_of(const auto_failover *af, int region)
{
    return af->topology->regions[region].name;
}

static const char *voter_name(const auto_failover *af, int slot)
{
    return slot == af->witness_slot ? "witness" : name_of(af, slot);
}

int auto_failover_candidate(const topology *t, const failover_state *st)
{
    int active = topology_region_index(t, st->active);
    if (active < 0)
        return -1;
    for (int i = 0; i < t->region_count; i++) {
        if (failover_role_of(st, t->regions[i].name) != FAILOVER_ROLE_STANDBY)
            continue;
        for (int f = 0; f < t->flow_count; f++)
            if (t->flows[f].source == active && t->flows[f].target == i)
                return i;
    }
    return -1;
}

bool auto_failover_lease_holds(const int64_t *contact_sent_ms, int count, int needed,
                               int64_t now_ms, int64_t lease_ms, int64_t margin_ms)
{
    int fresh = 0;
    for (int i = 0; i < count; i++)
        if (contact_sent_ms[i] > 0 && contact_sent_ms[i] >= now_ms - lease_ms + margin_ms)
            fresh++;
    return fresh >= needed;
}

int auto_failover_open(const topology *t, int region, struct failover_agent *agent,
                       const char *store_path, const struct control_plane *control,
                       auto_failover **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!t->failover_configured || t->failover_mode != TOPOLOGY_FAILOVER_AUTOMATIC)
        return 0;
    if (t->failover_detect_after_ms < AUTO_DETECT_AFTER_MIN_MS) {
        snprintf(err, errlen, "%s: failover.detect_after %" PRId64 "ms is too short for automatic "
                 "mode: at least %dms (the active region's lease is half of it, checked every "
                 "%d ms)", t->path, t->failover_detect_after_ms, AUTO_DETECT_AFTER_MIN_MS,
                 FAILOVER_TICK_MS);
        return ST_ECONFIG;
    }
    auto_failover *af = calloc(1, sizeof *af);
    if (!af) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    af->topology = t;
    af->region = region;
    af->agent = agent;
    af->control = control;
    const char *slash = strrchr(store_path, '/');
    snprintf(af->vote_dir, sizeof af->vote_dir, "%.*s", slash ? (int)(slash - store_path) : 1,
             slash ? store_path : ".");
    snprintf(af->vote_name, sizeof af->vote_name, "%s%s", t->regions[region].name,
             AUTO_VOTE_FILE_SUFFIX);
    char why[512];
    int rc = failover_vote_load(af->vote_dir, af->vote_name, &af->vote, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read this sidecar's failover vote: %s", why);
        free(af);
        return ST_ECONFIG;
    }
    af->witness_slot = t->failover_witness[0] ? t->region_count : -1;
    af->voter_count = t->region_count + (af->witness_slot >= 0 ? 1 : 0);
    af->majority = af->voter_count / 2 + 1;
    af->opened_ms = clock_mono_ms();
    af->lease_expired = true; /* an active region starts fenced until a majority answers */
    pthread_mutex_init(&af->lock, NULL);
    pthread_cond_init(&af->wake, NULL);
    failover_agent_info info;
    failover_agent_info_get(agent, &info);
    af->epoch = info.state.epoch;
    for (int slot = 0; slot < af->voter_count; slot++) {
        if (slot == region)
            continue;
        heartbeat_thread *h = &af->threads[slot];
        h->af = af;
        h->slot = slot;
        if (pthread_create(&h->thread, NULL, heartbeat_loop, h) != 0) {
            snprintf(err, errlen, "cannot start the heartbeat thread of %s",
                     voter_name(af, slot));
            auto_failover_close(af);
            return ST_ENOMEM;
        }
        h->started = true;
    }
    log_info("failover", "automatic mode: voters=%d majority=%d witness=%s detect_after_ms=%" PRId64
             " lease_ms=%" PRId64, af->voter_count, af->majority,
             t->failover_witness[0] ? t->failover_witness : "-", t->failover_detect_after_ms,
             t->failover_detect_after_ms / 2);
    *out = af;
    return 0;
}

void auto_failover_close(auto_failover *af)
{
    if (!af)
        return;
    pthread_mutex_lock(&af->lock);
    af->stopping = true;
    pthread_cond_broadcast(&af->wake);
    pthread_mutex_unlock(&af->lock);
    for (int slot = 0; slot < af->voter_count; slot++)
        if (af->threads[slot].started)
            pthread_join(af->threads[slot].thread, NULL);
    pthread_cond_destroy(&af->wake);
    pthread_mutex_destroy(&af->lock);
    free(af);
}

void auto_failover_set_lag_source(auto_failover *af, auto_failover_lag_fn fn, void *arg)
{
    if (!af)
        return;
    af->lag_fn = fn;
    af->lag_arg = arg;
}

const char *auto_failover_lease(const auto_failover *af)
{
    if (!af)
        return "none";
    failover_agent_info info;
    failover_agent_info_get(af->agent, &info);
    if (failover_role_of(&info.state, name_of(af, af->region)) != FAILOVER_ROLE_ACTIVE ||
        info.state.operation[0])
        return "none";
    return af->lease_expired ? "expired" : "valid";
}

void auto_failover_pushed_state(const auto_failover *af, failover_state *st)
{
    if (!af || !af->lease_expired || st->operation[0] ||
        failover_role_of(st, name_of(af, af->region)) != FAILOVER_ROLE_ACTIVE)
        return;
    snprintf(st->fenced, sizeof st->fenced, "%s", name_of(af, af->region));
}

/* The heartbeat threads record what they hear (lock held by the caller). */
static void contact(auto_failover *af, int slot, int64_t sent_ms, int64_t epoch, bool counts)
{
    voter *v = &af->voters[slot];
    if (v->lost_logged)
        log_info("failover", "contact with %s again", voter_name(af, slot));
    v->lost_logged = false;
    v->heard_ms = clock_mono_ms();
    v->sent_ok_ms = sent_ms;
    v->counts = counts;
    if (epoch > 0)
        v->epoch = epoch;
}

static void no_contact(auto_failover *af, int slot, const char *why)
{
    voter *v = &af->voters[slot];
    if (!v->lost_logged)
        log_warn("failover", "no answer from %s: %s", voter_name(af, slot), why);
    v->lost_logged = true;
}

void auto_failover_heard(auto_failover *af, int region, int64_t epoch)
{
    if (!af || region < 0 || region >= af->topology->region_count || region == af->region)
        return;
    pthread_mutex_lock(&af->lock);
    voter *v = &af->voters[region];
    v->heard_ms = clock_mono_ms();
    if (epoch > 0)
        v->epoch = epoch;
    pthread_mutex_unlock(&af->lock);
}

/* An epoch in a peer's or the witness's answer: 1..REGION_EPOCH_MAX, else 0
 * (unknown), so a forged answer cannot push epoch_seen out of range. */
static int64_t answer_epoch(const char *body, const char *key)
{
    char text[32], msg[128];
    int64_t epoch = 0;
    cli_kv(body, key, text, sizeof text);
    if (config_value_parse_int(text, REGION_EPOCH_MIN, REGION_EPOCH_MAX, &epoch, msg,
                               sizeof msg) != 0)
        return 0;
    return epoch;
}

/* The highest of epoch and every epoch a voter reported (any thread, no
 * lock held). */
static int64_t highest_epoch_heard(auto_failover *af, int64_t epoch)
{
    int64_t seen = epoch;
    pthread_mutex_lock(&af->lock);
    for (int slot = 0; slot < af->voter_count; slot++)
        if (af->voters[slot].epoch > seen)
            seen = af->voters[slot].epoch;
    pthread_mutex_unlock(&af->lock);
    return seen;
}

/* One heartbeat to a peer sidecar or the witness (its thread, no lock held). */
static void heartbeat(auto_failover *af, int slot, int64_t epoch)
{
    char path[256], err[512];
    const char *self = name_of(af, af->region);
    bool witness = slot == af->witness_slot;
    snprintf(path, sizeof path, "%s?from=%s&epoch=%" PRId64,
             witness ? "/witness/state" : "/failover/heartbeat", self, epoch);
    if (witness) {
        /* what this sidecar has heard of from anywhere: the witness learns
         * every epoch any sidecar knows, even one whose holder it never
         * reaches (issue 12, nemesis N2) */
        int64_t seen = highest_epoch_heard(af, epoch);
        size_t used = strlen(path);
        snprintf(path + used, sizeof path - used, "&seen=%" PRId64, seen);
    }
    const char *address = witness ? af->topology->failover_witness
                                  : af->topology->regions[slot].sidecar;
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    int64_t sent = clock_mono_ms();
    const http_client_auth *auth = witness ? control_plane_to_witness(af->control)
                                           : control_plane_to_sidecar(af->control, slot);
    if (http_client_get(auth, address, path, AUTO_PROBE_TIMEOUT_MS, &status, &body, &len, err,
                        sizeof err) != 0 || status != 200) {
        if (body)
            snprintf(err, sizeof err, "%s answered HTTP %d", path, status);
        pthread_mutex_lock(&af->lock);
        no_contact(af, slot, err);
        pthread_mutex_unlock(&af->lock);
        free(body);
        return;
    }
    pthread_mutex_lock(&af->lock);
    if (witness) {
        char candidate[FAILOVER_NAME_MAX];
        cli_kv(body, "vote_candidate", candidate, sizeof candidate);
        int64_t vote_epoch = answer_epoch(body, "vote_epoch");
        /* a witness that granted another region a newer epoch has moved on,
         * and so has one that heard of an epoch above ours from any region
         * (unless that epoch is its vote for us: our own promotion, before
         * our heartbeats carry it): a region restarted on a stale `active`
         * must not count it towards the majority that lets it take writes
         * (its lease stays expired until it learns the newer state) */
        int64_t seen = answer_epoch(body, "epoch_seen");
        char seen_active[FAILOVER_NAME_MAX];
        cli_kv(body, "epoch_seen_active", seen_active, sizeof seen_active);
        bool own_vote = vote_epoch >= seen && strcmp(candidate, self) == 0; /* our promotion */
        /* the operator's failover promoting us: the witness learnt its epoch
         * before our heartbeats carry it (failover/cli_demote.c) */
        bool own_failover = strcmp(seen_active, self) == 0;
        bool counts = !(vote_epoch > epoch && strcmp(candidate, self) != 0) &&
                      (seen <= epoch || own_vote || own_failover);
        contact(af, slot, sent, seen, counts);
    } else {
        int64_t peer_epoch = answer_epoch(body, "epoch");
        contact(af, slot, sent, peer_epoch, peer_epoch <= epoch);
    }
    pthread_mutex_unlock(&af->lock);
    free(body);
}

/* True if region's brokers answer Metadata within the probe timeout. */
static bool brokers_answer(const auto_failover *af, int region, char *err, size_t errlen)
{
    rd_kafka_t *rk = failover_sidecar_client(af->topology, region,
                                             name_of(af, af->region), "probe", RD_KAFKA_PRODUCER,
                                             "0", err, errlen);
    if (!rk)
        return true; /* cannot tell: assume alive, never promote on our own error */
    /* Lifetime: rd_kafka_metadata waits on a reply queue of its own and drops a
     * reply that comes after the probe timeout; no coordinator lookup is involved (the
     * hazard described in checkpoints/group_sync.c does not apply). */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, AUTO_BROKER_PROBE_TIMEOUT_MS);
    bool alive = e == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0;
    if (!alive)
        snprintf(err, errlen, "%s", rd_kafka_err2str(e));
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return alive;
}

/* A peer silent for half the detection window: are its brokers gone too?
 * (Its heartbeat thread, no lock held; the answer is read by detect.) */
static void check_brokers(auto_failover *af, int slot)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&af->lock);
    int64_t since = af->voters[slot].heard_ms ? af->voters[slot].heard_ms : af->opened_ms;
    bool silent = now - since >= af->topology->failover_detect_after_ms / 2;
    pthread_mutex_unlock(&af->lock);
    if (!silent)
        return;
    char err[256] = "";
    bool answered = brokers_answer(af, slot, err, sizeof err);
    pthread_mutex_lock(&af->lock);
    voter *v = &af->voters[slot];
    v->brokers_checked_ms = now;
    v->brokers_answered = answered;
    snprintf(v->brokers_error, sizeof v->brokers_error, "%s", err);
    pthread_mutex_unlock(&af->lock);
}

/* One thread per voter, so a voter that hangs delays no other voter and
 * never the sidecar's loop (which answers the peers' heartbeats). */
static void *heartbeat_loop(void *arg)
{
    heartbeat_thread *h = arg;
    auto_failover *af = h->af;
    pthread_mutex_lock(&af->lock);
    while (!af->stopping) {
        int64_t epoch = af->epoch;
        pthread_mutex_unlock(&af->lock);
        heartbeat(af, h->slot, epoch);
        if (h->slot != af->witness_slot)
            check_brokers(af, h->slot);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)AUTO_HEARTBEAT_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&af->lock);
        if (!af->stopping)
            pthread_cond_timedwait(&af->wake, &af->lock, &until);
    }
    pthread_mutex_unlock(&af->lock);
    return NULL;
}

/* The lease, kept up to date in every role (a region that becomes active
 * starts with what it knows); true when an active region's pushed role
 * must change. */
/* Whether the lease holds at now; ages (may be NULL) lists every other
 * voter's last answer for the log. Any thread. */
static bool lease_holds_now(auto_failover *af, int64_t now, char *ages, size_t ageslen)
{
    int64_t sent[TOPOLOGY_REGIONS_MAX + 1];
    int count = 0;
    pthread_mutex_lock(&af->lock);
    for (int slot = 0; slot < af->voter_count; slot++) {
        if (slot == af->region)
            continue;
        const voter *v = &af->voters[slot];
        sent[count++] = v->counts ? v->sent_ok_ms : 0;
        size_t used = ages ? strlen(ages) : 0;
        if (!ages)
            continue;
        if (v->counts && v->sent_ok_ms)
            snprintf(ages + used, ageslen - used, " %s=%" PRId64 "ms", voter_name(af, slot),
                     now - v->sent_ok_ms);
        else
            snprintf(ages + used, ageslen - used, " %s=none", voter_name(af, slot));
    }
    pthread_mutex_unlock(&af->lock);
    return auto_failover_lease_holds(sent, count, af->majority - 1, now,
                                     af->topology->failover_detect_after_ms / 2,
                                     FAILOVER_TICK_MS);
}

bool auto_failover_lease_valid_now(auto_failover *af)
{
    return !af || lease_holds_now(af, clock_mono_ms(), NULL, 0);
}

static bool lease_check(auto_failover *af, int64_t now, bool active)
{
    char ages[512] = "";
    int64_t lease_ms = af->topology->failover_detect_after_ms / 2;
    bool holds = lease_holds_now(af, now, ages, sizeof ages);
    bool was_expired = af->lease_expired;
    af->lease_expired = !holds;
    if (!active || was_expired == af->lease_expired)
        return false;
    if (!holds)
        log_warn("failover", "lease expired: fewer than %d of %d voters answered within %" PRId64
                 " ms (last answers:%s); fencing this region's brokers (epoch unchanged)",
                 af->majority, af->voter_count, lease_ms, ages);
    else
        log_info("failover", "lease held: a majority (%d of %d voters) answers; this region "
                 "takes writes again", af->majority, af->voter_count);
    return true;
}

/* Logs a detection outcome once per change of key. */
static void report(auto_failover *af, const char *key, const char *message)
{
    if (!strcmp(af->last_report, key))
        return;
    snprintf(af->last_report, sizeof af->last_report, "%s", key);
    log_warn("failover", "%s", message);
}

static int64_t epoch_seen(auto_failover *af, const failover_state *st)
{
    int64_t seen = st->epoch > af->vote.epoch ? st->epoch : af->vote.epoch;
    pthread_mutex_lock(&af->lock);
    for (int slot = 0; slot < af->voter_count; slot++)
        if (af->voters[slot].epoch > seen)
            seen = af->voters[slot].epoch;
    pthread_mutex_unlock(&af->lock);
    return seen;
}

static int64_t silent_ms(auto_failover *af, int region, int64_t now)
{
    pthread_mutex_lock(&af->lock);
    int64_t since = af->voters[region].heard_ms;
    pthread_mutex_unlock(&af->lock);
    return now - (since ? since : af->opened_ms);
}

/* Decides and stores this sidecar's own vote. */
static int own_vote(auto_failover *af, const failover_state *st, int candidate, int suspect,
                    int64_t epoch, char *why, size_t whylen)
{
    failover_vote_view view = {.suspect_silent_ms = silent_ms(af, suspect, clock_mono_ms()),
                               .epoch_seen = epoch_seen(af, st),
                               .detect_after_ms = af->topology->failover_detect_after_ms,
                               .last = af->vote};
    int rc = failover_vote_decide(&view, name_of(af, candidate), name_of(af, suspect), epoch, why,
                                  whylen);
    if (rc != 0)
        return rc;
    if (af->vote.epoch == epoch && af->vote.candidate[0] &&
        !strcmp(af->vote.candidate, name_of(af, candidate)))
        return 0; /* asked again */
    failover_vote granted = {.epoch = epoch, .at_ms = clock_wall_ms()};
    snprintf(granted.candidate, sizeof granted.candidate, "%s", name_of(af, candidate));
    snprintf(granted.suspect, sizeof granted.suspect, "%s", name_of(af, suspect));
    rc = failover_vote_store(af->vote_dir, af->vote_name, &granted);
    if (rc != 0) {
        snprintf(why, whylen, "the vote could not be stored in %s/%s: %s", af->vote_dir,
                 af->vote_name, strait_strerror(rc));
        return ST_EIO;
    }
    af->vote = granted;
    log_info("failover", "voted for %s at epoch %" PRId64 " (suspect %s)", granted.candidate,
             epoch, granted.suspect);
    return 0;
}

int auto_failover_vote(auto_failover *af, int candidate, int suspect, int64_t epoch, char *why,
                       size_t whylen)
{
    if (!af) {
        snprintf(why, whylen, "automatic failover is not enabled here (failover.mode is manual)");
        return ST_EINVAL;
    }
    if (suspect == af->region) {
        snprintf(why, whylen, "this is %s's sidecar, and it answers", name_of(af, suspect));
        return ST_EINVAL;
    }
    failover_agent_info info;
    failover_agent_info_get(af->agent, &info);
    return own_vote(af, &info.state, candidate, suspect, epoch, why, whylen);
}

/* Asks one voter (witness or sidecar) for its vote; true if granted. */
static bool ask(auto_failover *af, int slot, int suspect, int64_t epoch, char *why, size_t whylen)
{
    bool witness = slot == af->witness_slot;
    char path[256], err[512];
    snprintf(path, sizeof path, "%s?candidate=%s&epoch=%" PRId64 "&suspect=%s",
             witness ? "/witness/vote" : "/failover/vote", name_of(af, af->region), epoch,
             name_of(af, suspect));
    const char *address = witness ? af->topology->failover_witness
                                  : af->topology->regions[slot].sidecar;
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    const http_client_auth *auth = witness ? control_plane_to_witness(af->control)
                                           : control_plane_to_sidecar(af->control, slot);
    if (http_client_post(auth, address, path, AUTO_VOTE_TIMEOUT_MS, &status, &body, &len, err,
                         sizeof err) != 0) {
        snprintf(why, whylen, "%s", err);
        return false;
    }
    pthread_mutex_lock(&af->lock);
    af->voters[slot].heard_ms = clock_mono_ms();
    pthread_mutex_unlock(&af->lock);
    bool ok = failover_vote_answer_ok(body, status, name_of(af, af->region), epoch, why, whylen);
    free(body);
    return ok;
}

/* POSTs the promoted state to every other sidecar but the suspect's. */
static void announce(auto_failover *af, const failover_state *next, int suspect, int64_t lag,
                     const char *detail)
{
    char query[4096] = "", text[32];
    snprintf(text, sizeof text, "%" PRId64, next->epoch);
    /* the whole state: a peer stores exactly what the promoted region stored */
    const char *keys[] = {"epoch", "active", "step", "previous", "actor",
                          "event_from", "outcome", "detail", "lag"};
    char lag_text[32];
    snprintf(lag_text, sizeof lag_text, "%" PRId64, lag);
    const char *values[] = {text, next->active, next->step, next->previous, next->actor,
                            name_of(af, suspect), "automatic", detail, lag_text};
    size_t used = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        used += (size_t)snprintf(query + used, sizeof query - used, "%s%s=", k ? "&" : "/failover/state?",
                                 keys[k]);
        if (used >= sizeof query || !http_client_escape(values[k], query, sizeof query)) {
            log_error("failover", "promotion announcement too long; peers adopt it on their own");
            return;
        }
        used = strlen(query);
    }
    for (int i = 0; i < af->topology->region_count; i++) {
        if (i == af->region || i == suspect)
            continue;
        int status = 0;
        char *body = NULL, err[512];
        size_t len = 0;
        if (http_client_post(control_plane_to_sidecar(af->control, i),
                             af->topology->regions[i].sidecar, query, AUTO_STATE_POST_TIMEOUT_MS,
                             &status, &body, &len, err, sizeof err) != 0)
            log_warn("failover", "epoch %" PRId64 " not announced to %s (it adopts it when it "
                     "answers): %s", next->epoch, name_of(af, i), err);
        else if (status != 200)
            log_warn("failover", "epoch %" PRId64 " announced to %s: HTTP %d", next->epoch,
                     name_of(af, i), status);
        free(body);
    }
}

static void promote(auto_failover *af, const failover_state *st, int suspect, int64_t epoch,
                    const char *votes, int granted, bool *changed)
{
    const char *self = name_of(af, af->region);
    int64_t lag = af->lag_fn ? af->lag_fn(af->lag_arg, suspect) : -1;
    int64_t silent = silent_ms(af, suspect, clock_mono_ms());
    failover_state next;
    memset(&next, 0, sizeof next);
    next.epoch = epoch;
    snprintf(next.active, sizeof next.active, "%s", self);
    /* as `strait failover` marks it: the demoted region may hold records it
     * acknowledged but never mirrored, which this sidecar copies into
     * <topic>.diverged once that region answers (failover_diverged_runs) */
    snprintf(next.step, sizeof next.step, "%s", FAILOVER_STEP_UNPLANNED);
    snprintf(next.previous, sizeof next.previous, "%s", st->active);
    snprintf(next.actor, sizeof next.actor, "sidecar %s (automatic failover)", self);
    next.updated_at_ms = clock_wall_ms();
    failover_event ev = {.at_ms = next.updated_at_ms, .epoch = epoch, .lag_records = lag};
    snprintf(ev.actor, sizeof ev.actor, "%s", next.actor);
    snprintf(ev.operation, sizeof ev.operation, "failover");
    snprintf(ev.from, sizeof ev.from, "%s", st->active);
    snprintf(ev.to, sizeof ev.to, "%s", self);
    snprintf(ev.outcome, sizeof ev.outcome, "automatic");
    /* the lag is the flow's last reading, from before the active went
     * silent: its brokers do not answer now (detect), and it may have
     * acknowledged records until its lease ran out, within the silence */
    failover_rpo rpo = {.lag_records = lag, .lower_bound = true, .unknown_ms = silent};
    char rpo_text[320];
    failover_rpo_format(&rpo, st->active, rpo_text, sizeof rpo_text);
    snprintf(ev.detail, sizeof ev.detail,
             "%s silent %.1f s and its brokers do not answer; votes %s (%d of %d); %s",
             st->active, (double)silent / 1000.0, votes, granted, af->voter_count, rpo_text);
    af->lease_expired = false; /* a majority just answered */
    pthread_mutex_lock(&af->lock);
    af->epoch = epoch; /* the heartbeats carry it from now on, not at the next tick */
    pthread_mutex_unlock(&af->lock);
    char why[512];
    bool stored = false;
    int rc = failover_agent_apply(af->agent, &next, &ev, &stored, why, sizeof why);
    if (rc != 0 && rc != ST_EIO) {
        log_error("failover", "automatic promotion of %s at epoch %" PRId64 " refused: %s", self,
                  epoch, why);
        return;
    }
    *changed = *changed || stored;
    log_warn("failover", "AUTOMATIC FAILOVER: %s is active at epoch %" PRId64 " (was %s): %s%s%s",
             self, epoch, st->active, ev.detail, rc ? "; " : "", rc ? why : "");
    af->last_report[0] = '\0';
    af->suspecting = false;
    announce(af, &next, suspect, lag, ev.detail);
}

/* The designated standby: is the active region gone, and do we have a majority? */
static void detect(auto_failover *af, const failover_state *st, bool *changed)
{
    int active = topology_region_index(af->topology, st->active);
    int64_t now = clock_mono_ms();
    int64_t silent = silent_ms(af, active, now);
    char message[2048], key[512];
    if (silent < af->topology->failover_detect_after_ms) {
        if (af->suspecting)
            log_info("failover", "the sidecar of %s answers again", st->active);
        af->suspecting = false;
        af->last_report[0] = '\0';
        return;
    }
    af->suspecting = true;
    char err[256];
    pthread_mutex_lock(&af->lock);
    const voter *v = &af->voters[active];
    /* a probe begun after the last word from the sidecar, and recent */
    bool gone = v->brokers_checked_ms > v->heard_ms && !v->brokers_answered &&
                now - v->brokers_checked_ms <= AUTO_BROKER_CHECK_FRESH_MS;
    bool alive = v->brokers_checked_ms > v->heard_ms && v->brokers_answered;
    snprintf(err, sizeof err, "%s", v->brokers_error);
    pthread_mutex_unlock(&af->lock);
    if (!gone) {
        snprintf(message, sizeof message, "the sidecar of %s has been silent for %.1f s but its "
                 "brokers %s: no automatic failover", st->active, (double)silent / 1000.0,
                 alive ? "answer Metadata" : "have not been probed yet");
        report(af, alive ? "brokers-alive" : "brokers-unknown", message);
        return;
    }
    int64_t epoch = st->epoch + 1;
    char votes[512] = "", refusals[1024] = "", why[512];
    int granted = 0;
    if (own_vote(af, st, af->region, active, epoch, why, sizeof why) == 0) {
        granted++;
        snprintf(votes, sizeof votes, "%s", name_of(af, af->region));
    } else {
        snprintf(refusals, sizeof refusals, "%s: %s", name_of(af, af->region), why);
    }
    snprintf(key, sizeof key, "votes:");
    for (int slot = 0; slot < af->voter_count; slot++) {
        if (slot == af->region || slot == active)
            continue;
        size_t used;
        if (ask(af, slot, active, epoch, why, sizeof why)) {
            granted++;
            used = strlen(votes);
            snprintf(votes + used, sizeof votes - used, "%s%s", used ? ", " : "",
                     voter_name(af, slot));
        } else {
            used = strlen(refusals);
            snprintf(refusals + used, sizeof refusals - used, "%s%s: %s", used ? "; " : "",
                     voter_name(af, slot), why);
            used = strlen(key);
            snprintf(key + used, sizeof key - used, " -%s", voter_name(af, slot));
        }
    }
    if (granted >= af->majority) {
        promote(af, st, active, epoch, votes, granted, changed);
        return;
    }
    snprintf(message, sizeof message, "%s looks gone (sidecar silent %.1f s, brokers: %s) but "
             "there is no majority to promote %s at epoch %" PRId64 ": %d of %d votes, %d needed "
             "(%s)", st->active, (double)silent / 1000.0, err, name_of(af, af->region), epoch,
             granted, af->voter_count, af->majority, refusals);
    report(af, key, message);
}

bool auto_failover_tick(auto_failover *af, bool *changed)
{
    if (!af)
        return false;
    failover_agent_info info;
    failover_agent_info_get(af->agent, &info);
    const failover_state *st = &info.state;
    pthread_mutex_lock(&af->lock);
    af->epoch = st->epoch;
    pthread_mutex_unlock(&af->lock);
    enum failover_role role = failover_role_of(st, name_of(af, af->region));
    bool repush = lease_check(af, clock_mono_ms(),
                              role == FAILOVER_ROLE_ACTIVE && !st->operation[0]);
    if (st->operation[0])
        return false; /* an operator's switchover or failover is in charge */
    if (role == FAILOVER_ROLE_STANDBY && auto_failover_candidate(af->topology, st) == af->region)
        detect(af, st, changed);
    return repush;
}
