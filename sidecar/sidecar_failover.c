/*
 * sidecar_failover.c - the sidecar's failover endpoints and timer (DESIGN.md
 * §8), over the agent in failover/agent.h. The CLI drives every operation
 * through these; values are `key=value` lines (kv) for scripts and the CLI,
 * JSON where asked.
 *
 *   GET  /failover/state[?format=json]   this sidecar's state, role, push status
 *   POST /failover/state?epoch=E&active=R[&fenced=&promoting=&operation=
 *        &target=&step=&actor=][&event_from=&lag=&outcome=&detail=]
 *                                        store and apply a new state (409 + error=
 *                                        when refused, 503 when stored but the
 *                                        brokers did not accept it yet)
 *   GET  /failover/drain?from=R[&diverged=1]  is flow R->here (or its diverged
 *                                        copy) drained: fresh source end offsets vs
 *                                        copied, in flight, unmapped
 *   POST /failover/checkpoint?from=R     one group-sync round of flow R->here now
 *   GET  /failover/flows                 one line per flow into this region (and
 *                                        per running diverged copy, "east->west.diverged"):
 *                                        flow= state= lag_records= lag_ms=
 *                                        last_checkpoint_ms= copied= error=
 *   GET  /failover/history[?limit=N]     the audit trail, kv lines per event
 *   GET  /failover/heartbeat?from=R&epoch=E   a peer's heartbeat (automatic mode:
 *                                        counts as hearing from R); answers as
 *                                        GET /failover/state
 *   POST /failover/vote?candidate=R&epoch=E&suspect=A
 *                                        this sidecar's vote (failover/vote.h):
 *                                        200 granted=1, or 409 granted=0 error=
 *   POST /failover/unfence?region=R&risk=other-regions-down[&actor=A]
 *                                        lifts the restart fence of manual mode
 *                                        (failover_agent_unfence): R must be this
 *                                        sidecar's region and risk= must say what
 *                                        the operator accepts; 409 error= when it
 *                                        is not fenced that way, 503 when the
 *                                        brokers did not accept the push yet
 *
 * The state answers (GET /failover/state, and "failover" in /status) carry
 * effective_role (the role the brokers are told: `fenced` while the restart
 * fence or the automatic lease holds an active region back) and
 * fenced_reason (why, "" otherwise).
 *
 * Every route here has passed the credential check of sidecar_http.c
 * before it is served. Every epoch parameter is 1..2147483647
 * (REGION_EPOCH_MAX: the brokers store it as an int32), parsed strictly and
 * refused by name (400 error=... epoch: ...).
 *
 * Runs on the sidecar's loop thread; state changes re-gate the flows.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/region_contract.h"
#include "common/log.h"
#include "failover/agent.h"
#include "failover/auto_failover.h"
#include "failover/broker_push.h"
#include "failover/control_plane.h"
#include "failover/roles.h"
#include "failover/route_params.h"
#include "sidecar/sidecar_internal.h"

#define KV_TYPE "text/plain; charset=utf-8"
#define HISTORY_DEFAULT 50
#define HISTORY_MAX 10000
/* Partitions listed by name in a drain answer that is not drained yet. */
#define DRAIN_LISTED_MAX 8

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sidecar *sc = arg;
    bool changed = false;
    failover_agent_tick(sc->agent, &changed);
    if (changed) {
        char err[512];
        if (sidecar_gate_flows(sc, err, sizeof err) != 0)
            log_error("sidecar", "flows not re-gated after a state change: %s", err);
    }
}

/* Last known lag (records) of the flow source -> this region, for the
 * audit record of an automatic failover; -1 when unknown. */
static int64_t flow_lag(void *arg, int source)
{
    sidecar *sc = arg;
    for (int i = 0; i < sc->flow_count; i++) {
        sidecar_flow *f = &sc->flows[i];
        mirror_flow_status st;
        memset(&st, 0, sizeof st);
        if (sc->topology->flows[f->flow_index].source != source || !f->flow ||
            mirror_flow_status_get(f->flow, &st) != 0)
            continue;
        int64_t lag = 0, lag_ms = 0;
        mirror_flow_status_lag(&st, &lag, &lag_ms);
        mirror_flow_status_free(&st);
        return lag;
    }
    return -1;
}

static void on_gate(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sidecar *sc = arg;
    char err[512];
    if (sidecar_gate_flows(sc, err, sizeof err) != 0)
        log_error("sidecar", "flows not re-gated after a state change: %s", err);
}

int sidecar_failover_open(sidecar *sc, char *err, size_t errlen)
{
    int rc = failover_agent_open(sc->topology, sc->region, sc->store_path, sc->control,
                                 &sc->agent, err, errlen);
    if (rc != 0)
        return rc;
    auto_failover_set_lag_source(failover_agent_automatic(sc->agent), flow_lag, sc);
    sc->gate_event = event_new(sc->base, -1, 0, on_gate, sc);
    if (!sc->gate_event) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    sc->failover_timer = event_new(sc->base, -1, EV_PERSIST, on_timer, sc);
    struct timeval tick = {FAILOVER_TICK_MS / 1000, (FAILOVER_TICK_MS % 1000) * 1000};
    if (!sc->failover_timer || event_add(sc->failover_timer, &tick) != 0) {
        snprintf(err, errlen, "cannot start the failover timer");
        return ST_ENOMEM;
    }
    event_active(sc->failover_timer, EV_TIMEOUT, 0); /* push the role at once */
    return 0;
}

void sidecar_failover_close(sidecar *sc)
{
    if (sc->failover_timer)
        event_free(sc->failover_timer);
    sc->failover_timer = NULL;
    if (sc->gate_event)
        event_free(sc->gate_event);
    sc->gate_event = NULL;
    failover_agent_close(sc->agent);
    sc->agent = NULL;
}

/* The role the brokers are told, and why it is not the stored one. */
static const char *effective_role(sidecar *sc, const failover_agent_info *info, char *reason,
                                  size_t reasonlen)
{
    const char *region = sc->topology->regions[sc->region].name;
    enum failover_role role = failover_role_of(&info->state, region);
    snprintf(reason, reasonlen, "%s", info->fenced_reason);
    if (role == FAILOVER_ROLE_ACTIVE && !reason[0] && !info->state.operation[0] &&
        !strcmp(auto_failover_lease(failover_agent_automatic(sc->agent)), "expired"))
        snprintf(reason, reasonlen, "automatic mode: fewer than a majority of voters answer "
                 "(the lease expired)");
    return reason[0] ? failover_role_name(FAILOVER_ROLE_FENCED) : failover_role_name(role);
}

static void state_kv(sidecar *sc, buf *page)
{
    failover_agent_info info;
    failover_agent_info_get(sc->agent, &info);
    const char *region = sc->topology->regions[sc->region].name;
    char text[2048], reason[512];
    failover_state_format(&info.state, text, sizeof text);
    const char *effective = effective_role(sc, &info, reason, sizeof reason);
    sidecar_printf(page, "region=%s\nrole=%s\neffective_role=%s\nfenced_reason=%s\n", region,
                   failover_role_name(failover_role_of(&info.state, region)), effective,
                   reason);
    sidecar_puts(page, text);
    sidecar_printf(page, "pushed_epoch=%" PRId64 "\npushed_at_ms=%" PRId64 "\npush_error=%s\n",
                   info.pushed_epoch, info.pushed_at_ms, info.push_error);
    sidecar_printf(page, "lease=%s\n", auto_failover_lease(failover_agent_automatic(sc->agent)));
    sidecar_printf(page, "broker_lease_ms=%" PRId64 "\nbroker_lease_renewing=%d\n"
                   "broker_lease_renewed_at_ms=%" PRId64 "\nbroker_lease_error=%s\n",
                   info.lease.lease_ms, info.lease.renewing ? 1 : 0, info.lease.renewed_at_ms,
                   info.lease.error);
}

void sidecar_failover_state_json(sidecar *sc, buf *page)
{
    failover_agent_info info;
    failover_agent_info_get(sc->agent, &info);
    const failover_state *st = &info.state;
    const char *region = sc->topology->regions[sc->region].name;
    char reason[512];
    const char *effective = effective_role(sc, &info, reason, sizeof reason);
    sidecar_puts(page, "{\"region\": ");
    sidecar_json_string(page, region);
    sidecar_printf(page, ", \"role\": \"%s\", \"effective_role\": \"%s\", \"fenced_reason\": ",
                   failover_role_name(failover_role_of(st, region)), effective);
    sidecar_json_string(page, reason);
    sidecar_printf(page, ", \"epoch\": %" PRId64 ", \"active\": ", st->epoch);
    sidecar_json_string(page, st->active);
    sidecar_puts(page, ", \"fenced\": ");
    sidecar_json_string(page, st->fenced);
    sidecar_puts(page, ", \"promoting\": ");
    sidecar_json_string(page, st->promoting);
    sidecar_puts(page, ", \"operation\": ");
    sidecar_json_string(page, st->operation);
    sidecar_puts(page, ", \"target\": ");
    sidecar_json_string(page, st->target);
    sidecar_puts(page, ", \"step\": ");
    sidecar_json_string(page, st->step);
    sidecar_puts(page, ", \"actor\": ");
    sidecar_json_string(page, st->actor);
    sidecar_printf(page, ", \"updated_at_ms\": %" PRId64 ", \"pushed_epoch\": %" PRId64
                   ", \"pushed_at_ms\": %" PRId64 ", \"push_error\": ",
                   st->updated_at_ms, info.pushed_epoch, info.pushed_at_ms);
    sidecar_json_string(page, info.push_error);
    sidecar_printf(page, ", \"lease\": \"%s\", \"broker_lease_ms\": %" PRId64
                   ", \"broker_lease_renewing\": %s, \"broker_lease_renewed_at_ms\": %" PRId64
                   ", \"broker_lease_error\": ",
                   auto_failover_lease(failover_agent_automatic(sc->agent)), info.lease.lease_ms,
                   info.lease.renewing ? "true" : "false", info.lease.renewed_at_ms);
    sidecar_json_string(page, info.lease.error);
    sidecar_puts(page, "}\n");
}

/* POST /failover/unfence: the operator lifts manual mode's restart fence.
 * The region is named, and the risk spelt out, so that a call meant for
 * another sidecar or made without reading what it does changes nothing. */
static int post_unfence(sidecar *sc, struct evkeyvalq *query, buf *page)
{
    const char *self = sc->topology->regions[sc->region].name;
    const char *region = evhttp_find_header(query, "region");
    const char *risk = evhttp_find_header(query, "risk");
    const char *actor = evhttp_find_header(query, "actor");
    if (!region || strcmp(region, self) != 0) {
        sidecar_printf(page, "error=region= must name this sidecar's region (%s)\n", self);
        return 400;
    }
    if (!risk || strcmp(risk, FAILOVER_UNFENCE_RISK) != 0) {
        sidecar_printf(page, "error=risk=%s is required: %s takes writes without having heard "
                       "from a peer, and if another region was promoted meanwhile both take "
                       "writes until the links heal\n", FAILOVER_UNFENCE_RISK, self);
        return 400;
    }
    char who[FAILOVER_ACTOR_MAX];
    snprintf(who, sizeof who, "%s", actor && actor[0] ? actor : "operator");
    char why[512] = "";
    int rc = failover_agent_unfence(sc->agent, who, why, sizeof why);
    if (rc == ST_EINVAL) {
        sidecar_printf(page, "error=%s\n", why);
        return 409;
    }
    state_kv(sc, page);
    if (rc != 0) {
        sidecar_printf(page, "error=%s\n", why);
        return 503;
    }
    return 200;
}

/* POST /failover/state */
static int post_state(sidecar *sc, struct evkeyvalq *query, buf *page)
{
    failover_state next;
    memset(&next, 0, sizeof next);
    failover_event ev;
    memset(&ev, 0, sizeof ev);
    ev.lag_records = -1;
    char msg[128] = "";
    for (struct evkeyval *kv = query->tqh_first; kv; kv = kv->next.tqe_next) {
        bool ok;
        if (!strcmp(kv->key, "event_from"))
            ok = snprintf(ev.from, sizeof ev.from, "%s", kv->value) < (int)sizeof ev.from;
        else if (!strcmp(kv->key, "outcome"))
            ok = snprintf(ev.outcome, sizeof ev.outcome, "%s", kv->value) < (int)sizeof ev.outcome;
        else if (!strcmp(kv->key, "detail"))
            ok = snprintf(ev.detail, sizeof ev.detail, "%s", kv->value) < (int)sizeof ev.detail;
        else if (!strcmp(kv->key, "epoch"))
            ok = config_value_parse_int(kv->value, REGION_EPOCH_MIN, REGION_EPOCH_MAX, &next.epoch,
                                        msg, sizeof msg) == 0;
        else if (!strcmp(kv->key, "lag"))
            ok = config_value_parse_int(kv->value, -1, INT64_MAX, &ev.lag_records, msg,
                                        sizeof msg) == 0;
        else
            ok = failover_state_set_field(&next, kv->key, kv->value);
        if (!ok) {
            sidecar_printf(page, "error=bad parameter %s%s%s\n", kv->key, msg[0] ? ": " : "",
                           msg);
            return 400;
        }
    }
    if (!next.epoch || !next.active[0]) {
        sidecar_puts(page, "error=epoch= and active= are required\n");
        return 400;
    }
    next.updated_at_ms = clock_wall_ms();
    ev.at_ms = next.updated_at_ms;
    ev.epoch = next.epoch;
    snprintf(ev.actor, sizeof ev.actor, "%s", next.actor);
    snprintf(ev.operation, sizeof ev.operation, "%s", next.operation);
    snprintf(ev.to, sizeof ev.to, "%s", next.target[0] ? next.target : next.active);
    if (!ev.outcome[0])
        snprintf(ev.outcome, sizeof ev.outcome, "%s", next.step[0] ? next.step : "applied");
    char why[512] = "";
    bool changed = false;
    int rc = failover_agent_apply(sc->agent, &next, &ev, &changed, why, sizeof why);
    if (rc == ST_EINVAL) {
        sidecar_printf(page, "error=%s\n", why);
        return 409;
    }
    if (rc != 0 && rc != ST_EIO) {
        sidecar_printf(page, "error=%s\n", why[0] ? why : strait_strerror(rc));
        return 503;
    }
    /* Flows are started and stopped after this answer is sent: stopping a
     * flow whose source is down can take seconds, and the CLI must not time
     * out on a state the sidecar already stored and pushed. */
    if (changed)
        event_active(sc->gate_event, EV_TIMEOUT, 0);
    sidecar_printf(page, "changed=%d\n", changed ? 1 : 0);
    state_kv(sc, page);
    if (rc == ST_EIO) {
        sidecar_printf(page, "error=%s\n", why);
        return 503;
    }
    return 200;
}

static sidecar_flow *flow_from(sidecar *sc, const char *from, bool diverged)
{
    for (int i = 0; i < sc->flow_count; i++) {
        const topology_flow *tf = &sc->topology->flows[sc->flows[i].flow_index];
        if (!strcmp(sc->topology->regions[tf->source].name, from))
            return diverged ? &sc->diverged[i] : &sc->flows[i];
    }
    return NULL;
}

static rd_kafka_t *source_client(sidecar *sc, int source)
{
    char err[512];
    return failover_sidecar_client(sc->topology, source,
                                   sc->topology->regions[sc->region].name, "drain",
                                   RD_KAFKA_CONSUMER, "3", err, sizeof err);
}

/* GET /failover/drain?from=R */
static int get_drain(sidecar *sc, const char *from, bool diverged, buf *page)
{
    sidecar_flow *f = flow_from(sc, from, diverged);
    if (!f) {
        sidecar_printf(page, "error=no flow %s->%s in %s\n", from,
                       sc->topology->regions[sc->region].name, sc->topology->path);
        return 404;
    }
    mirror_flow_status st;
    memset(&st, 0, sizeof st);
    if (!f->flow || mirror_flow_status_get(f->flow, &st) != 0) {
        sidecar_printf(page, "flow=%s\nrunning=0\ndrained=0\nerror=the flow is not running\n",
                       f->name);
        return 200;
    }
    int source = sc->topology->flows[f->flow_index].source;
    rd_kafka_t *rk = source_client(sc, source);
    int64_t lag = 0, pending = 0;
    int undrained = 0, unknown = 0;
    buf listed;
    buf_init(&listed, 4096);
    for (int i = 0; i < st.partition_count; i++) {
        const mirror_partition_status *p = &st.partitions[i];
        int64_t low = -1, high = -1;
        if (!rk || rd_kafka_query_watermark_offsets(rk, p->source_topic, p->partition, &low, &high,
                                                    FAILOVER_PUSH_TIMEOUT_MS) !=
                       RD_KAFKA_RESP_ERR_NO_ERROR) {
            unknown++;
            continue;
        }
        int64_t behind = high > p->next_source_offset ? high - p->next_source_offset : 0;
        lag += behind;
        pending += p->pending_pairs;
        if ((behind > 0 || p->pending_pairs > 0) && undrained++ < DRAIN_LISTED_MAX)
            sidecar_printf(&listed, "%s%s:%" PRId32, undrained > 1 ? "," : "", p->source_topic,
                           p->partition);
    }
    if (rk)
        rd_kafka_destroy(rk);
    bool drained = st.running && unknown == 0 && lag == 0 && pending == 0 && st.in_flight == 0;
    sidecar_printf(page,
                   "flow=%s\nrunning=%d\npartitions=%d\nlag_records=%" PRId64
                   "\nin_flight=%" PRId64 "\npending_pairs=%" PRId64
                   "\nunknown_partitions=%d\ndrained=%d\nundrained=",
                   f->name, st.running ? 1 : 0, st.partition_count, lag, st.in_flight, pending,
                   unknown, drained ? 1 : 0);
    buf_put(page, listed.data, listed.len);
    sidecar_printf(page, "\nlast_error=%s\n", st.last_error);
    buf_free(&listed);
    mirror_flow_status_free(&st);
    return 200;
}

/* POST /failover/checkpoint?from=R */
static int post_checkpoint(sidecar *sc, const char *from, buf *page)
{
    sidecar_flow *f = flow_from(sc, from, false);
    if (!f || !f->sync) {
        sidecar_printf(page, "error=%s\n", f ? "the flow's group sync is not running"
                                              : "no such flow into this region");
        return f ? 409 : 404;
    }
    int rc = group_sync_run_once(f->sync);
    group_sync_status gs;
    group_sync_status_get(f->sync, &gs);
    sidecar_printf(page, "flow=%s\nok=%d\nchecked_at_ms=%" PRId64 "\ngroups_seen=%" PRId64
                   "\ncheckpoints_stored=%" PRId64 "\napplied=%" PRId64
                   "\nskipped_active_count=%d\nskipped_active=",
                   f->name, rc == 0 && !gs.last_error[0] ? 1 : 0, gs.last_run_ms, gs.groups_seen,
                   gs.checkpoints_stored, gs.applied, gs.skipped_active_count);
    int listed = gs.skipped_active_count < GROUP_SYNC_SKIPPED_LIST_MAX
                     ? gs.skipped_active_count
                     : GROUP_SYNC_SKIPPED_LIST_MAX;
    for (int i = 0; i < listed; i++)
        sidecar_printf(page, "%s%s", i ? "," : "", gs.skipped_active[i]);
    sidecar_printf(page, "\nlast_error=%s\n", rc != 0 ? strait_strerror(rc) : gs.last_error);
    return 200;
}

static int newest_checkpoint(void *arg, const checkpoint_group_offset *g)
{
    int64_t *newest = arg;
    if (g->checkpointed_at_ms > *newest)
        *newest = g->checkpointed_at_ms;
    return 0;
}

/* GET /failover/flows */
static void get_flows(sidecar *sc, buf *page)
{
    for (int k = 0; k < 2 * sc->flow_count; k++) {
        /* every flow, then every diverged copy (listed only while it runs) */
        bool diverged = k >= sc->flow_count;
        sidecar_flow *f = diverged ? &sc->diverged[k - sc->flow_count] : &sc->flows[k];
        if (diverged && !f->flow)
            continue;
        mirror_flow_status st;
        memset(&st, 0, sizeof st);
        bool have = f->flow && mirror_flow_status_get(f->flow, &st) == 0;
        int64_t lag = 0, lag_ms = 0, newest = 0;
        if (have)
            mirror_flow_status_lag(&st, &lag, &lag_ms);
        checkpoint_group_each(sc->store, f->name, NULL, newest_checkpoint, &newest);
        const char *state = !have ? "paused" : st.running ? "running" : "failed";
        sidecar_printf(page,
                       "flow=%s state=%s lag_records=%" PRId64 " lag_ms=%" PRId64
                       " last_checkpoint_ms=%" PRId64 " copied=%" PRId64 " error=%s\n",
                       f->name, state, have ? lag : -1, have ? lag_ms : -1, newest,
                       have ? st.records_copied : 0, have ? st.last_error : "");
        if (have)
            mirror_flow_status_free(&st);
    }
}

static int history_line(void *arg, const failover_event *ev)
{
    buf *page = arg;
    sidecar_printf(page,
                   "id=%" PRId64 " at_ms=%" PRId64 " epoch=%" PRId64 " operation=%s from=%s "
                   "to=%s lag=%" PRId64 " outcome=%s actor=%s detail=%s\n",
                   ev->id, ev->at_ms, ev->epoch, ev->operation[0] ? ev->operation : "-",
                   ev->from[0] ? ev->from : "-", ev->to[0] ? ev->to : "-", ev->lag_records,
                   ev->outcome, ev->actor[0] ? ev->actor : "-", ev->detail);
    return 0;
}

/* A region= style parameter: its index, or -1 with the refusal in page. */
static int region_param(sidecar *sc, struct evkeyvalq *query, const char *key, buf *page)
{
    char why[256];
    int index = route_param_region(sc->topology, query, key, why, sizeof why);
    if (index < 0)
        sidecar_printf(page, "granted=0\nerror=%s\n", why);
    return index;
}

static bool epoch_param(struct evkeyvalq *query, bool required, int64_t *out, buf *page)
{
    char why[256];
    bool ok = route_param_epoch(query, required, out, why, sizeof why);
    if (!ok)
        sidecar_printf(page, "granted=0\nerror=%s\n", why);
    return ok;
}

/* GET /failover/heartbeat?from=R&epoch=E */
static int get_heartbeat(sidecar *sc, struct evkeyvalq *query, buf *page)
{
    int64_t epoch = 0;
    int from = region_param(sc, query, "from", page);
    if (from < 0 || !epoch_param(query, false, &epoch, page))
        return 400;
    auto_failover_heard(failover_agent_automatic(sc->agent), from, epoch);
    state_kv(sc, page);
    return 200;
}

/* POST /failover/vote?candidate=R&epoch=E&suspect=A */
static int post_vote(sidecar *sc, struct evkeyvalq *query, buf *page)
{
    int64_t epoch = 0;
    int candidate = region_param(sc, query, "candidate", page);
    int suspect = candidate < 0 ? -1 : region_param(sc, query, "suspect", page);
    if (suspect < 0 || !epoch_param(query, true, &epoch, page))
        return 400;
    char why[512];
    int rc = auto_failover_vote(failover_agent_automatic(sc->agent), candidate, suspect, epoch,
                                why, sizeof why);
    if (rc != 0) {
        log_warn("failover", "vote refused candidate=%s epoch=%" PRId64 " suspect=%s reason=%s",
                 sc->topology->regions[candidate].name, epoch,
                 sc->topology->regions[suspect].name, why);
        sidecar_printf(page, "granted=0\nerror=%s\n", why);
        return rc == ST_EINVAL ? 409 : 503;
    }
    sidecar_printf(page, "granted=1\ncandidate=%s\nepoch=%" PRId64 "\nsuspect=%s\n",
                   sc->topology->regions[candidate].name, epoch,
                   sc->topology->regions[suspect].name);
    return 200;
}

bool sidecar_failover_serve(sidecar *sc, struct evhttp_request *req, const char *path)
{
    if (strncmp(path, "/failover/", 10) != 0)
        return false;
    buf page;
    buf_init(&page, SIDECAR_PAGE_BYTES_MAX);
    struct evkeyvalq query;
    query.tqh_first = NULL;
    query.tqh_last = &query.tqh_first;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri ? evhttp_uri_get_query(uri) : NULL;
    bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    int code = 200;
    const char *type = KV_TYPE;
    if (!sc->agent) {
        sidecar_puts(&page, "error=failover is not configured (no failover: section in the topology)\n");
        code = 404;
    } else if (raw && evhttp_parse_query_str(raw, &query) != 0) {
        sidecar_puts(&page, "error=malformed query string\n");
        code = 400;
    } else if (!strcmp(path, "/failover/state")) {
        const char *format = evhttp_find_header(&query, "format");
        if (post) {
            code = post_state(sc, &query, &page);
        } else if (format && !strcmp(format, "json")) {
            sidecar_failover_state_json(sc, &page);
            type = "application/json";
        } else {
            state_kv(sc, &page);
        }
    } else if (!strcmp(path, "/failover/drain") || !strcmp(path, "/failover/checkpoint")) {
        const char *from = evhttp_find_header(&query, "from");
        bool checkpoint = !strcmp(path, "/failover/checkpoint");
        if (!from || !from[0]) {
            sidecar_puts(&page, "error=missing from= parameter\n");
            code = 400;
        } else if (checkpoint != post) {
            sidecar_printf(&page, "error=%s %s expected\n", checkpoint ? "POST" : "GET", path);
            code = 405;
        } else {
            const char *diverged = evhttp_find_header(&query, "diverged");
            code = checkpoint ? post_checkpoint(sc, from, &page)
                              : get_drain(sc, from, diverged && !strcmp(diverged, "1"), &page);
        }
    } else if (!strcmp(path, "/failover/heartbeat") && !post) {
        code = get_heartbeat(sc, &query, &page);
    } else if (!strcmp(path, "/failover/vote") && post) {
        code = post_vote(sc, &query, &page);
    } else if (!strcmp(path, "/failover/unfence") && post) {
        code = post_unfence(sc, &query, &page);
    } else if (!strcmp(path, "/failover/heartbeat") || !strcmp(path, "/failover/vote") ||
               !strcmp(path, "/failover/unfence")) {
        bool wants_get = !strcmp(path, "/failover/heartbeat");
        sidecar_printf(&page, "error=%s %s expected\n", wants_get ? "GET" : "POST", path);
        code = 405;
    } else if (!strcmp(path, "/failover/flows")) {
        get_flows(sc, &page);
    } else if (!strcmp(path, "/failover/history")) {
        const char *limit_text = evhttp_find_header(&query, "limit");
        int64_t limit = HISTORY_DEFAULT;
        char msg[128];
        if (limit_text &&
            config_value_parse_int(limit_text, 1, HISTORY_MAX, &limit, msg, sizeof msg) != 0) {
            sidecar_printf(&page, "error=limit: %s\n", msg);
            code = 400;
        } else if (failover_agent_history(sc->agent, (int)limit, history_line, &page) != 0) {
            buf_reset(&page);
            sidecar_puts(&page, "error=cannot read the failover history\n");
            code = 503;
        }
    } else {
        sidecar_puts(&page, "error=unknown failover route (state, drain, checkpoint, flows, history, "
                            "heartbeat, vote, unfence)\n");
        code = 404;
    }
    if (post) { /* the state-changing routes: one audit line, whatever the outcome */
        char result[320];
        snprintf(result, sizeof result, "%.*s", (int)(page.len < 319 ? page.len : 319),
                 page.data ? (const char *)page.data : "");
        control_auth_audit(control_plane_auth(sc->control), req, path, code, result);
    }
    sidecar_http_reply(req, code, type, &page);
    buf_free(&page);
    evhttp_clear_headers(&query);
    return true;
}
