/*
 * sidecar.c - the sidecar process (contract in sidecar.h): topology, store,
 * flows whose target is this region, HTTP endpoint, signals.
 *
 * Threads: the caller's thread runs the libevent loop (HTTP requests and the
 * SIGTERM/SIGINT events); each flow runs its own thread (mirror/flow.c) and
 * is read only through mirror_flow_status_get. Shutdown order: stop serving,
 * stop the flows (each drains its in-flight batches), close the store.
 */
#include "sidecar/sidecar.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "failover/agent.h"
#include "failover/control_plane.h"
#include "failover/roles.h"
#include "sidecar/sidecar_internal.h"

/* mkdir -p for the state directory. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create sidecar.state_dir %s: %s", copy, strerror(errno));
            return ST_EIO;
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

static int start_flow(sidecar *sc, sidecar_flow *f, bool diverged, char *err, size_t errlen)
{
    const topology *t = sc->topology;
    int rc = diverged ? mirror_flow_start_diverged(t, f->flow_index, sc->store, &f->flow)
                      : mirror_flow_start(t, f->flow_index, sc->store, &f->flow);
    if (rc != 0) {
        f->flow = NULL;
        snprintf(err, errlen, "cannot start flow %s: %s", f->name, strait_strerror(rc));
        return rc;
    }
    if (diverged) {
        log_info("sidecar", "diverged copy started flow=%s", f->name);
        return 0;
    }
    rc = group_sync_start(t, f->flow_index, sc->store, &f->sync);
    if (rc != 0) {
        f->sync = NULL;
        snprintf(err, errlen, "cannot start the group sync of flow %s: %s", f->name,
                 strait_strerror(rc));
        return rc;
    }
    log_info("sidecar", "flow started flow=%s topics=%d naming=%s", f->name,
             t->flows[f->flow_index].topic_count,
             t->flows[f->flow_index].naming == TOPOLOGY_NAMING_PREFIX ? "prefix" : "identity");
    return 0;
}

static void stop_flow(sidecar_flow *f)
{
    group_sync_stop(f->sync); /* first: it reads the map the flow extends */
    f->sync = NULL;
    if (!f->flow)
        return;
    int64_t started = clock_mono_ms();
    mirror_flow_stop(f->flow);
    f->flow = NULL;
    log_info("sidecar", "flow stopped flow=%s drain_ms=%lld", f->name,
             (long long)(clock_mono_ms() - started));
}

/* Every flow whose target is this region, not started yet. */
static void list_flows(sidecar *sc)
{
    const topology *t = sc->topology;
    for (int i = 0; i < t->flow_count; i++) {
        if (t->flows[i].target != sc->region)
            continue;
        sidecar_flow *f = &sc->flows[sc->flow_count];
        f->flow_index = i;
        topology_flow_name(t, &t->flows[i], f->name, sizeof f->name);
        sidecar_flow *d = &sc->diverged[sc->flow_count++];
        d->flow_index = i;
        topology_flow_name(t, &t->flows[i], d->name, sizeof d->name);
        strncat(d->name, MIRROR_DIVERGED_SUFFIX, sizeof d->name - strlen(d->name) - 1);
    }
}

/* The diverged copy of flows[i]: its rule is failover_diverged_runs
 * (failover/roles.h), into this region only when it is the promoted one. */
static bool diverged_runs(const sidecar *sc, const failover_agent_info *info, int i)
{
    if (!sc->agent)
        return false;
    const topology *t = sc->topology;
    const char *source = t->regions[t->flows[sc->flows[i].flow_index].source].name;
    return failover_diverged_runs(&info->state, source, t->regions[sc->region].name);
}

int sidecar_gate_flows(sidecar *sc, char *err, size_t errlen)
{
    failover_agent_info info;
    if (sc->agent)
        failover_agent_info_get(sc->agent, &info);
    bool run[TOPOLOGY_FLOWS_MAX];
    /* stops first: a flow and its diverged copy never run at once (each
     * starts after the other's offset map, flow_sync.c) */
    for (int i = 0; i < sc->flow_count; i++) {
        sidecar_flow *f = &sc->flows[i];
        const char *source = sc->topology->regions[sc->topology->flows[f->flow_index].source].name;
        const char *target = sc->topology->regions[sc->region].name;
        run[i] = !sc->agent || failover_flow_runs(&info.state, source, target);
        if (!run[i] && f->flow) {
            log_info("sidecar", "flow paused flow=%s reason=source region %s is %s", f->name,
                     source, failover_role_name(failover_role_of(&info.state, source)));
            stop_flow(f);
        }
        if (!diverged_runs(sc, &info, i) && sc->diverged[i].flow)
            stop_flow(&sc->diverged[i]);
    }
    for (int i = 0; i < sc->flow_count; i++) {
        int rc = 0;
        if (run[i] && !sc->flows[i].flow)
            rc = start_flow(sc, &sc->flows[i], false, err, errlen);
        else if (diverged_runs(sc, &info, i) && !sc->diverged[i].flow)
            rc = start_flow(sc, &sc->diverged[i], true, err, errlen);
        if (rc != 0)
            return rc;
        /* the ACL sync copies from the active region only (mirror/acl_sync.h) */
        const char *source =
            sc->topology->regions[sc->topology->flows[sc->flows[i].flow_index].source].name;
        if (sc->agent && sc->flows[i].flow)
            mirror_flow_set_source_active(sc->flows[i].flow, failover_role_of(&info.state, source) ==
                                                                 FAILOVER_ROLE_ACTIVE);
    }
    return 0;
}

static void stop_flows(sidecar *sc)
{
    for (int i = 0; i < sc->flow_count; i++) {
        stop_flow(&sc->flows[i]);
        stop_flow(&sc->diverged[i]);
    }
}

static void on_signal(evutil_socket_t signal_number, short what, void *arg)
{
    (void)what;
    sidecar *sc = arg;
    log_info("sidecar", "stopping signal=%s", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(sc->base);
}

int sidecar_open(const char *topology_path, const char *region, sidecar **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    sidecar *sc = calloc(1, sizeof *sc);
    topology *t = calloc(1, sizeof *t);
    if (!sc || !t) {
        free(sc);
        free(t);
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    sc->topology = t;
    sc->started_ms = clock_wall_ms();
    int rc = topology_load(topology_path, t, err, errlen);
    if (rc != 0)
        goto fail;
    sc->region = topology_region_index(t, region);
    if (sc->region < 0) {
        char names[TOPOLOGY_REGIONS_MAX * (TOPOLOGY_NAME_MAX + 2)] = "";
        for (int i = 0; i < t->region_count; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     t->regions[i].name);
        snprintf(err, errlen, "--region %s: not a region of %s (regions: %s)", region,
                 topology_path, names);
        rc = ST_ECONFIG;
        goto fail;
    }
    rc = make_dirs(t->state_dir, err, errlen);
    if (rc != 0)
        goto fail;
    snprintf(sc->store_path, sizeof sc->store_path, "%s/%s.sqlite", t->state_dir, region);
    rc = checkpoint_store_open(sc->store_path, &sc->store);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open checkpoint store %s: %s", sc->store_path,
                 strait_strerror(rc));
        goto fail;
    }
    sc->base = event_base_new();
    if (!sc->base) {
        snprintf(err, errlen, "out of memory");
        rc = ST_ENOMEM;
        goto fail;
    }
    sc->sigterm = evsignal_new(sc->base, SIGTERM, on_signal, sc);
    sc->sigint = evsignal_new(sc->base, SIGINT, on_signal, sc);
    if (!sc->sigterm || !sc->sigint || evsignal_add(sc->sigterm, NULL) != 0 ||
        evsignal_add(sc->sigint, NULL) != 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        rc = ST_EIO;
        goto fail;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = control_plane_open(t, CONTROL_PLANE_SIDECAR, sc->region, &sc->control, err, errlen);
    if (rc != 0)
        goto fail;
    rc = sidecar_http_open(sc, err, errlen); /* before the flows: a taken port fails fast */
    if (rc != 0)
        goto fail;
    list_flows(sc);
    if (t->failover_configured) {
        rc = sidecar_failover_open(sc, err, errlen);
        if (rc != 0)
            goto fail;
    }
    rc = sidecar_gate_flows(sc, err, errlen);
    if (rc != 0)
        goto fail;
    log_info("sidecar", "started region=%s topology=%s flows=%d %s=%s store=%s",
             region, topology_path, sc->flow_count, control_plane_scheme(sc->control),
             t->regions[sc->region].sidecar, sc->store_path);
    *out = sc;
    return 0;
fail:
    sidecar_close(sc);
    return rc;
}

int sidecar_run(sidecar *sc)
{
    if (event_base_dispatch(sc->base) < 0) {
        log_error("sidecar", "event loop failed");
        return ST_EIO;
    }
    return 0;
}

void sidecar_stop(sidecar *sc)
{
    /* event_base_loopbreak is not thread-safe without evthread; a signal to
     * ourselves goes through the loop's own signal event instead. */
    (void)sc;
    raise(SIGTERM);
}

int sidecar_http_port(const sidecar *sc) { return sc->http_port; }

void sidecar_close(sidecar *sc)
{
    if (!sc)
        return;
    sidecar_http_close(sc);
    sidecar_failover_close(sc);
    stop_flows(sc);
    if (sc->sigterm)
        event_free(sc->sigterm);
    if (sc->sigint)
        event_free(sc->sigint);
    if (sc->base)
        event_base_free(sc->base);
    if (sc->store)
        checkpoint_store_close(sc->store);
    control_plane_close(sc->control); /* after the agent, whose threads use it */
    if (sc->region >= 0 && sc->topology && sc->topology->region_count > 0 && sc->base)
        log_info("sidecar", "stopped region=%s", sc->topology->regions[sc->region].name);
    free(sc->topology);
    free(sc);
}
