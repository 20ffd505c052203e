/*
 * sidecar_status.c - the sidecar's pages: /status (JSON), /metrics
 * (Prometheus text) and /offsets/translate (JSON or a table). Runs on the
 * sidecar's loop thread; each flow's status is copied under the flow's lock
 * (mirror_flow_status_get) and the store serialises its own calls.
 *
 * /status shape (every flow of which this region is the target):
 *   {"region": "west", "topology": "...", "started_at_ms": N, "uptime_ms": N,
 *    "flows": [{"name": "east->west", "source": "east", "target": "west",
 *               "naming": "identity", "state": "running|stopped|failed",
 *               "last_error": "", "last_error_ms": 0, "records_copied": N,
 *               "records_skipped_loop": N, "lag_records": N, "lag_ms": N,
 *               "last_poll_ms": N, "last_produce_ms": N,
 *               "last_checkpoint_ms": N, "checkpoint_groups": N, "map_ranges": N,
 *               "group_sync": {...},
 *               "acl_sync": {"enabled", "state", "reason", "bindings",
 *                            "created_total", "deleted_total", "last_sync_ms"} or null,
 *               "partitions": [{"source_topic", "target_topic", "partition",
 *                               "source_end_offset", "next_source_offset",
 *                               "lag_records", "lag_ms", "last_poll_ms",
 *                               "last_produce_ms", "records_copied"}]}],
 *    with failover configured, also:
 *    "last_unplanned_failover": the newest unplanned promotion in the audit
 *        history (`strait failover` or automatic), null when none:
 *        {"epoch", "at_ms", "from", "to", "outcome", "lag_records",
 *         "lag_lower_bound": true when the old active could not be read at
 *         the promotion (lag_records is then its last reading, rpo.h),
 *         "lag_unknown_ms": how far back records may be uncounted (0: not
 *         known), "detail"},
 *    "diverged_copies": every diverged copy running into this region
 *        (failover_diverged_runs): [{"name": "east->west.diverged",
 *         "state", "records_copied", "lag_records", "last_error"}]}
 * Times are wall-clock milliseconds since the epoch, 0 for never.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/metrics_text.h"
#include "failover/agent.h"
#include "failover/rpo.h"
#include "sidecar/sidecar_internal.h"

/* Audit events read for "last_unplanned_failover": enough to reach back past
 * the switchovers and lease changes that follow a failover. */
#define SIDECAR_STATUS_HISTORY_SCANNED 500

void sidecar_puts(buf *out, const char *s) { buf_put(out, s, strlen(s)); }

void sidecar_printf(buf *out, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        buf_put(out, small, (size_t)n);
        return;
    }
    uint8_t *room = buf_reserve(out, (size_t)n + 1);
    if (!room)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)room, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->len += (size_t)n;
}

void sidecar_json_string(buf *out, const char *s)
{
    buf_put(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            buf_put(out, esc, 2);
        } else if (*p < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            buf_put(out, esc, 6);
        } else {
            buf_put(out, p, 1);
        }
    }
    buf_put(out, "\"", 1);
}

/* What one flow looks like right now, copied out of the flow and the store. */
typedef struct flow_view {
    bool have_status;
    mirror_flow_status status;
    int64_t last_checkpoint_ms;
    int64_t checkpoint_rows;
    int64_t map_ranges;
    const char *state;
    bool have_sync;
    group_sync_status sync;
} flow_view;

static int newest_checkpoint(void *arg, const checkpoint_group_offset *g)
{
    flow_view *v = arg;
    if (g->checkpointed_at_ms > v->last_checkpoint_ms)
        v->last_checkpoint_ms = g->checkpointed_at_ms;
    v->checkpoint_rows++;
    return 0;
}

static void flow_view_get(sidecar *sc, const sidecar_flow *f, flow_view *v)
{
    memset(v, 0, sizeof *v);
    if (f->flow && mirror_flow_status_get(f->flow, &v->status) == 0)
        v->have_status = true;
    if (sc->store) {
        checkpoint_group_each(sc->store, f->name, NULL, newest_checkpoint, v);
        checkpoint_map_range_count(sc->store, f->name, &v->map_ranges);
    }
    if (f->sync && group_sync_status_get(f->sync, &v->sync) == 0)
        v->have_sync = true;
    if (!v->have_status)
        v->state = "stopped";
    else if (v->status.running)
        v->state = "running";
    else
        v->state = v->status.last_error[0] ? "failed" : "stopped";
}

static void flow_view_free(flow_view *v)
{
    if (v->have_status)
        mirror_flow_status_free(&v->status);
}

static void json_partition(buf *out, const mirror_partition_status *p, bool first)
{
    sidecar_puts(out, first ? "\n      {" : ",\n      {");
    sidecar_puts(out, "\"source_topic\": ");
    sidecar_json_string(out, p->source_topic);
    sidecar_puts(out, ", \"target_topic\": ");
    sidecar_json_string(out, p->target_topic);
    sidecar_printf(out, ", \"partition\": %" PRId32 ", \"source_end_offset\": %" PRId64
                   ", \"next_source_offset\": %" PRId64 ", \"lag_records\": %" PRId64
                   ", \"lag_ms\": %" PRId64 ", \"last_poll_ms\": %" PRId64
                   ", \"last_produce_ms\": %" PRId64 ", \"records_copied\": %" PRId64 "}",
                   p->partition, p->source_end_offset, p->next_source_offset, p->lag_records,
                   p->lag_ms, p->last_poll_ms, p->last_produce_ms, p->records_copied);
}

static void json_group_sync(const flow_view *v, buf *out)
{
    const group_sync_status *g = &v->sync;
    if (!v->have_sync) {
        sidecar_puts(out, ", \"group_sync\": {\"state\": \"stopped\"}");
        return;
    }
    sidecar_printf(out, ", \"group_sync\": {\"state\": \"%s\", \"rounds\": %" PRId64
                   ", \"last_run_ms\": %" PRId64 ", \"last_run_duration_ms\": %" PRId64
                   ", \"groups_seen\": %" PRId64 ", \"checkpoints_stored\": %" PRId64
                   ", \"checkpoints_stored_total\": %" PRId64 ", \"applied\": %" PRId64
                   ", \"applied_total\": %" PRId64 ", \"untranslatable\": %" PRId64
                   ", \"skipped_active_count\": %d, \"skipped_active\": [",
                   g->failed ? "failed" : g->running ? "running" : "stopped", g->rounds,
                   g->last_run_ms, g->last_run_duration_ms, g->groups_seen,
                   g->checkpoints_stored, g->checkpoints_stored_total, g->applied,
                   g->applied_total, g->untranslatable, g->skipped_active_count);
    int listed = g->skipped_active_count < GROUP_SYNC_SKIPPED_LIST_MAX ? g->skipped_active_count
                                                                       : GROUP_SYNC_SKIPPED_LIST_MAX;
    for (int i = 0; i < listed; i++) {
        if (i)
            sidecar_puts(out, ", ");
        sidecar_json_string(out, g->skipped_active[i]);
    }
    sidecar_puts(out, "], \"last_error\": ");
    sidecar_json_string(out, g->last_error);
    sidecar_printf(out, ", \"last_error_ms\": %" PRId64 "}", g->last_error_ms);
}

/* "acl_sync": the flow's ACL sync (mirror/acl_sync.h); null while the flow is not running. */
static void json_acl_sync(const flow_view *v, buf *out)
{
    if (!v->have_status || !v->status.has_acl_sync) {
        sidecar_puts(out, ", \"acl_sync\": null");
        return;
    }
    const mirror_acl_sync_status *a = &v->status.acl_sync;
    sidecar_printf(out, ", \"acl_sync\": {\"enabled\": %s, \"state\": ", a->enabled ? "true" : "false");
    sidecar_json_string(out, a->state);
    sidecar_puts(out, ", \"reason\": ");
    sidecar_json_string(out, a->reason);
    sidecar_printf(out, ", \"bindings\": %" PRId64 ", \"created_total\": %" PRId64
                   ", \"deleted_total\": %" PRId64 ", \"last_sync_ms\": %" PRId64 "}",
                   a->bindings, a->created_total, a->deleted_total, a->last_sync_ms);
}

static void json_flow(sidecar *sc, const sidecar_flow *f, buf *out, bool first)
{
    const topology *t = sc->topology;
    const topology_flow *tf = &t->flows[f->flow_index];
    flow_view v;
    flow_view_get(sc, f, &v);
    int64_t lag_records = 0, lag_ms = 0, last_poll = 0, last_produce = 0;
    for (int i = 0; v.have_status && i < v.status.partition_count; i++) {
        const mirror_partition_status *p = &v.status.partitions[i];
        lag_records += p->lag_records;
        lag_ms = p->lag_ms > lag_ms ? p->lag_ms : lag_ms;
        last_poll = p->last_poll_ms > last_poll ? p->last_poll_ms : last_poll;
        last_produce = p->last_produce_ms > last_produce ? p->last_produce_ms : last_produce;
    }
    sidecar_puts(out, first ? "\n    {" : ",\n    {");
    sidecar_puts(out, "\"name\": ");
    sidecar_json_string(out, f->name);
    sidecar_puts(out, ", \"source\": ");
    sidecar_json_string(out, t->regions[tf->source].name);
    sidecar_puts(out, ", \"target\": ");
    sidecar_json_string(out, t->regions[tf->target].name);
    sidecar_printf(out, ", \"naming\": \"%s\", \"state\": \"%s\", \"last_error\": ",
                   tf->naming == TOPOLOGY_NAMING_PREFIX ? "prefix" : "identity", v.state);
    sidecar_json_string(out, v.have_status ? v.status.last_error : "");
    sidecar_printf(out, ", \"last_error_ms\": %" PRId64 ", \"records_copied\": %" PRId64
                   ", \"records_skipped_loop\": %" PRId64 ", \"lag_records\": %" PRId64
                   ", \"lag_ms\": %" PRId64 ", \"last_poll_ms\": %" PRId64
                   ", \"last_produce_ms\": %" PRId64 ", \"last_checkpoint_ms\": %" PRId64
                   ", \"checkpoint_rows\": %" PRId64 ", \"map_ranges\": %" PRId64,
                   v.have_status ? v.status.last_error_ms : 0,
                   v.have_status ? v.status.records_copied : 0,
                   v.have_status ? v.status.records_skipped_loop : 0, lag_records, lag_ms,
                   last_poll, last_produce, v.last_checkpoint_ms, v.checkpoint_rows,
                   v.map_ranges);
    json_group_sync(&v, out);
    json_acl_sync(&v, out);
    sidecar_puts(out, ", \"partitions\": [");
    for (int i = 0; v.have_status && i < v.status.partition_count; i++)
        json_partition(out, &v.status.partitions[i], i == 0);
    sidecar_puts(out, v.have_status && v.status.partition_count > 0 ? "\n    ]}" : "]}");
    flow_view_free(&v);
}

/* The newest unplanned promotion of the history (failover_agent_history):
 * an event that promoted a region and carries the recovery point phrase
 * (rpo.h; a switchover's events carry none). */
static int newest_unplanned(void *arg, const failover_event *ev)
{
    failover_event *newest = arg;
    failover_rpo rpo;
    if ((!strcmp(ev->outcome, "completed") || !strcmp(ev->outcome, "automatic")) &&
        failover_rpo_parse(ev->detail, &rpo))
        *newest = *ev;
    return 0;
}

/* "last_unplanned_failover": what the newest unplanned promotion reported. */
static void json_last_unplanned(sidecar *sc, buf *out)
{
    failover_event ev;
    memset(&ev, 0, sizeof ev);
    sidecar_puts(out, ", \"last_unplanned_failover\": ");
    if (failover_agent_history(sc->agent, SIDECAR_STATUS_HISTORY_SCANNED, newest_unplanned,
                               &ev) != 0 ||
        !ev.epoch) {
        sidecar_puts(out, "null");
        return;
    }
    failover_rpo rpo = {.lag_records = ev.lag_records};
    failover_rpo_parse(ev.detail, &rpo);
    sidecar_printf(out, "{\"epoch\": %" PRId64 ", \"at_ms\": %" PRId64 ", \"from\": ", ev.epoch,
                   ev.at_ms);
    sidecar_json_string(out, ev.from);
    sidecar_puts(out, ", \"to\": ");
    sidecar_json_string(out, ev.to);
    sidecar_puts(out, ", \"outcome\": ");
    sidecar_json_string(out, ev.outcome);
    sidecar_printf(out, ", \"lag_records\": %" PRId64 ", \"lag_lower_bound\": %s"
                   ", \"lag_unknown_ms\": %" PRId64 ", \"detail\": ",
                   ev.lag_records, rpo.lower_bound ? "true" : "false", rpo.unknown_ms);
    sidecar_json_string(out, ev.detail);
    sidecar_puts(out, "}");
}

/* "diverged_copies": the diverged copies running into this region. */
static void json_diverged(sidecar *sc, buf *out)
{
    sidecar_puts(out, ", \"diverged_copies\": [");
    bool first = true;
    for (int i = 0; i < sc->flow_count; i++) {
        const sidecar_flow *d = &sc->diverged[i];
        mirror_flow_status st;
        memset(&st, 0, sizeof st);
        if (!d->flow || mirror_flow_status_get(d->flow, &st) != 0)
            continue;
        int64_t lag = 0, lag_ms = 0;
        mirror_flow_status_lag(&st, &lag, &lag_ms);
        sidecar_puts(out, first ? "{\"name\": " : ", {\"name\": ");
        first = false;
        sidecar_json_string(out, d->name);
        sidecar_printf(out, ", \"state\": \"%s\", \"records_copied\": %" PRId64
                       ", \"lag_records\": %" PRId64 ", \"last_error\": ",
                       st.running ? "running" : "failed", st.records_copied, lag);
        sidecar_json_string(out, st.last_error);
        sidecar_puts(out, "}");
        mirror_flow_status_free(&st);
    }
    sidecar_puts(out, "]");
}

void sidecar_status_json(sidecar *sc, buf *out)
{
    const topology *t = sc->topology;
    int64_t now = clock_wall_ms();
    sidecar_puts(out, "{\"region\": ");
    sidecar_json_string(out, t->regions[sc->region].name);
    sidecar_puts(out, ", \"topology\": ");
    sidecar_json_string(out, t->path);
    sidecar_puts(out, ", \"store\": ");
    sidecar_json_string(out, sc->store_path);
    if (sc->agent) { /* role, effective role and why it is fenced (sidecar_failover.c) */
        sidecar_puts(out, ", \"failover\": ");
        sidecar_failover_state_json(sc, out);
        json_last_unplanned(sc, out);
        json_diverged(sc, out);
    }
    sidecar_printf(out, ", \"started_at_ms\": %" PRId64 ", \"uptime_ms\": %" PRId64
                   ", \"flows\": [", sc->started_ms, now - sc->started_ms);
    for (int i = 0; i < sc->flow_count; i++)
        json_flow(sc, &sc->flows[i], out, i == 0);
    sidecar_puts(out, sc->flow_count > 0 ? "\n  ]}\n" : "]}\n");
}

/* ---- /metrics ---- */

#define FLOW_LABEL(f) {.name = "flow", .value = (f), .value_len = strlen(f)}

static void metrics_flow_family(buf *out, sidecar *sc, flow_view *views, const char *name,
                                const char *type, const char *help, int which)
{
    metrics_text_family(out, name, type, help);
    for (int i = 0; i < sc->flow_count; i++) {
        const flow_view *v = &views[i];
        metrics_label labels[] = {FLOW_LABEL(sc->flows[i].name)};
        int64_t value = 0;
        switch (which) {
        case 0: value = v->have_status && v->status.running; break;
        case 1: value = v->have_status ? v->status.records_copied : 0; break;
        case 2: value = v->have_status ? v->status.records_skipped_loop : 0; break;
        case 3: value = v->have_status ? v->status.last_error_ms : 0; break;
        case 4: value = v->last_checkpoint_ms; break;
        case 5: value = v->map_ranges; break;
        case 6: value = v->checkpoint_rows; break;
        case 7: value = v->have_sync && v->sync.running && !v->sync.failed; break;
        case 8: value = v->have_sync ? v->sync.rounds : 0; break;
        case 9: value = v->have_sync ? v->sync.applied_total : 0; break;
        case 10: value = v->have_sync ? v->sync.checkpoints_stored_total : 0; break;
        case 11: value = v->have_sync ? v->sync.last_run_ms : 0; break;
        default: value = v->have_sync ? v->sync.skipped_active_count : 0; break;
        }
        metrics_text_sample_int(out, name, labels, 1, value);
    }
}

/* strait_mirror_acl_bindings_synced_total{flow, action="created|deleted"}. */
static void metrics_acl_sync(buf *out, sidecar *sc, flow_view *views)
{
    const char *name = "strait_mirror_acl_bindings_synced_total";
    metrics_text_family(out, name, "counter",
                        "ACL bindings the flow's ACL sync created in or deleted from the target.");
    for (int i = 0; i < sc->flow_count; i++) {
        const flow_view *v = &views[i];
        bool has = v->have_status && v->status.has_acl_sync;
        for (int created = 1; created >= 0; created--) {
            const char *action = created ? "created" : "deleted";
            metrics_label labels[] = {
                FLOW_LABEL(sc->flows[i].name),
                {.name = "action", .value = action, .value_len = strlen(action)}};
            int64_t value = !has ? 0
                            : created ? v->status.acl_sync.created_total
                                      : v->status.acl_sync.deleted_total;
            metrics_text_sample_int(out, name, labels, 2, value);
        }
    }
}

static void metrics_partition_family(buf *out, sidecar *sc, flow_view *views, const char *name,
                                     const char *type, const char *help, int which)
{
    metrics_text_family(out, name, type, help);
    for (int i = 0; i < sc->flow_count; i++) {
        const flow_view *v = &views[i];
        for (int j = 0; v->have_status && j < v->status.partition_count; j++) {
            const mirror_partition_status *p = &v->status.partitions[j];
            char partition[16];
            snprintf(partition, sizeof partition, "%" PRId32, p->partition);
            metrics_label labels[] = {
                FLOW_LABEL(sc->flows[i].name),
                {.name = "topic", .value = p->source_topic, .value_len = strlen(p->source_topic)},
                {.name = "target_topic", .value = p->target_topic,
                 .value_len = strlen(p->target_topic)},
                {.name = "partition", .value = partition, .value_len = strlen(partition)},
            };
            int64_t value;
            switch (which) {
            case 0: value = p->lag_records; break;
            case 1: value = p->lag_ms; break;
            case 2: value = p->records_copied; break;
            case 3: value = p->source_end_offset; break;
            case 4: value = p->next_source_offset; break;
            case 5: value = p->last_poll_ms; break;
            default: value = p->last_produce_ms; break;
            }
            metrics_text_sample_int(out, name, labels, 4, value);
        }
    }
}

void sidecar_status_metrics(sidecar *sc, buf *out)
{
    flow_view *views = calloc((size_t)(sc->flow_count ? sc->flow_count : 1), sizeof *views);
    if (!views) {
        out->err = ST_ENOMEM;
        return;
    }
    for (int i = 0; i < sc->flow_count; i++)
        flow_view_get(sc, &sc->flows[i], &views[i]);
    const char *region = sc->topology->regions[sc->region].name;
    metrics_label region_label[] = {{.name = "region", .value = region, .value_len = strlen(region)}};
    metrics_text_family(out, "strait_sidecar_up", "gauge", "1 while the sidecar serves, by region.");
    metrics_text_sample_int(out, "strait_sidecar_up", region_label, 1, 1);
    metrics_text_family(out, "strait_sidecar_start_time_ms", "gauge",
                        "Wall-clock start time of the sidecar, in ms since the epoch.");
    metrics_text_sample_int(out, "strait_sidecar_start_time_ms", region_label, 1, sc->started_ms);

    metrics_flow_family(out, sc, views, "strait_mirror_flow_running", "gauge",
                        "1 while the flow's copy loop runs.", 0);
    metrics_flow_family(out, sc, views, "strait_mirror_records_copied_total", "counter",
                        "Records copied into the target since start.", 1);
    metrics_flow_family(out, sc, views, "strait_mirror_records_skipped_loop_total", "counter",
                        "Records not copied because their provenance is the target region.", 2);
    metrics_flow_family(out, sc, views, "strait_mirror_last_error_time_ms", "gauge",
                        "Wall-clock time of the flow's last error, 0 for none.", 3);
    metrics_flow_family(out, sc, views, "strait_mirror_last_checkpoint_time_ms", "gauge",
                        "Wall-clock time of the newest group checkpoint stored, 0 for none.", 4);
    metrics_flow_family(out, sc, views, "strait_mirror_offset_map_ranges", "gauge",
                        "Ranges in the flow's source-to-target offset map.", 5);
    metrics_flow_family(out, sc, views, "strait_mirror_group_checkpoints", "gauge",
                        "Group checkpoints (group, topic, partition) stored for the flow.", 6);
    metrics_flow_family(out, sc, views, "strait_mirror_group_sync_running", "gauge",
                        "1 while the flow's group sync runs (0 after a corrupt store).", 7);
    metrics_flow_family(out, sc, views, "strait_mirror_group_sync_rounds_total", "counter",
                        "Group sync rounds completed.", 8);
    metrics_flow_family(out, sc, views, "strait_mirror_group_offsets_applied_total", "counter",
                        "Translated group offsets committed to the target.", 9);
    metrics_flow_family(out, sc, views, "strait_mirror_group_checkpoints_stored_total", "counter",
                        "Group offsets translated and stored.", 10);
    metrics_flow_family(out, sc, views, "strait_mirror_group_sync_last_run_time_ms", "gauge",
                        "Wall-clock time the last group sync round ended, 0 for none.", 11);
    metrics_flow_family(out, sc, views, "strait_mirror_group_sync_skipped_active_groups", "gauge",
                        "Groups left alone in the last round (members active on the target).", 12);
    metrics_acl_sync(out, sc, views);

    metrics_partition_family(out, sc, views, "strait_mirror_partition_lag_records", "gauge",
                             "Source records not yet copied.", 0);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_lag_ms", "gauge",
                             "Age of the oldest record not yet copied, 0 when caught up.", 1);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_records_copied_total",
                             "counter", "Records of the partition copied since start.", 2);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_source_end_offset", "gauge",
                             "High watermark last seen on the source.", 3);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_next_source_offset",
                             "gauge", "Next source offset to copy.", 4);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_last_poll_time_ms",
                             "gauge", "Wall-clock time of the last successful fetch.", 5);
    metrics_partition_family(out, sc, views, "strait_mirror_partition_last_produce_time_ms",
                             "gauge", "Wall-clock time of the last delivered record.", 6);
    for (int i = 0; i < sc->flow_count; i++)
        flow_view_free(&views[i]);
    free(views);
}

/* ---- /offsets/translate ---- */

typedef struct translate_rows {
    checkpoint_group_offset *rows;
    int count, capacity;
    bool truncated;
} translate_rows;

static int collect_row(void *arg, const checkpoint_group_offset *g)
{
    translate_rows *r = arg;
    if (r->count == SIDECAR_TRANSLATE_ROWS_MAX) {
        r->truncated = true;
        return 1;
    }
    if (r->count == r->capacity) {
        int capacity = r->capacity ? r->capacity * 2 : 64;
        checkpoint_group_offset *grown = realloc(r->rows, (size_t)capacity * sizeof *grown);
        if (!grown) {
            r->truncated = true;
            return 1;
        }
        r->rows = grown;
        r->capacity = capacity;
    }
    r->rows[r->count++] = *g;
    return 0;
}

static void translate_error(buf *out, bool text, const char *message)
{
    if (text) {
        sidecar_puts(out, message);
        sidecar_puts(out, "\n");
        return;
    }
    sidecar_puts(out, "{\"error\": ");
    sidecar_json_string(out, message);
    sidecar_puts(out, "}\n");
}

static void translate_text(const translate_rows *r, const topology *t, const topology_flow *tf,
                           const char *group, const char *flow, buf *out)
{
    if (r->count == 0) {
        sidecar_printf(out, "no checkpoints for group '%s' on flow %s\n", group, flow);
        return;
    }
    sidecar_printf(out, "%-24s %-24s %9s %14s %14s  %s\n", "TOPIC", "TARGET TOPIC", "PARTITION",
                   "SOURCE OFFSET", "TARGET OFFSET", "APPLIED");
    for (int i = 0; i < r->count; i++) {
        const checkpoint_group_offset *g = &r->rows[i];
        char target[300];
        if (topology_target_topic(t, tf, g->topic, target, sizeof target) != 0)
            snprintf(target, sizeof target, "?");
        sidecar_printf(out, "%-24s %-24s %9" PRId32 " %14" PRId64 " %14" PRId64 "  %s\n", g->topic,
                       target, g->partition, g->source_offset, g->target_offset,
                       g->applied ? "yes" : "no");
    }
}

static void translate_json(const translate_rows *r, const topology *t, const topology_flow *tf,
                           const char *group, const char *flow, buf *out)
{
    sidecar_puts(out, "{\"group\": ");
    sidecar_json_string(out, group);
    sidecar_puts(out, ", \"from\": ");
    sidecar_json_string(out, t->regions[tf->source].name);
    sidecar_puts(out, ", \"to\": ");
    sidecar_json_string(out, t->regions[tf->target].name);
    sidecar_puts(out, ", \"flow\": ");
    sidecar_json_string(out, flow);
    sidecar_printf(out, ", \"truncated\": %s, \"offsets\": [", r->truncated ? "true" : "false");
    for (int i = 0; i < r->count; i++) {
        const checkpoint_group_offset *g = &r->rows[i];
        char target[300];
        if (topology_target_topic(t, tf, g->topic, target, sizeof target) != 0)
            target[0] = '\0';
        sidecar_puts(out, i ? ",\n  {\"topic\": " : "\n  {\"topic\": ");
        sidecar_json_string(out, g->topic);
        sidecar_puts(out, ", \"target_topic\": ");
        sidecar_json_string(out, target);
        sidecar_printf(out, ", \"partition\": %" PRId32 ", \"source_offset\": %" PRId64
                       ", \"target_offset\": %" PRId64 ", \"checkpointed_at_ms\": %" PRId64
                       ", \"applied\": %s, \"metadata\": ", g->partition, g->source_offset,
                       g->target_offset, g->checkpointed_at_ms, g->applied ? "true" : "false");
        sidecar_json_string(out, g->metadata);
        sidecar_puts(out, "}");
    }
    sidecar_puts(out, r->count ? "\n]}\n" : "]}\n");
}

int sidecar_status_translate(sidecar *sc, const char *group, const char *from, bool text,
                             buf *out)
{
    const topology *t = sc->topology;
    char message[512];
    int source = topology_region_index(t, from);
    const sidecar_flow *f = NULL;
    for (int i = 0; source >= 0 && i < sc->flow_count; i++)
        if (t->flows[sc->flows[i].flow_index].source == source)
            f = &sc->flows[i];
    if (!f) {
        snprintf(message, sizeof message, "no flow %.64s -> %s in this sidecar's topology", from,
                 t->regions[sc->region].name);
        translate_error(out, text, message);
        return 404;
    }
    translate_rows rows = {0};
    int rc = checkpoint_group_each(sc->store, f->name, group, collect_row, &rows);
    if (rc != 0) {
        snprintf(message, sizeof message, "checkpoint store: %s", strait_strerror(rc));
        translate_error(out, text, message);
        free(rows.rows);
        return 500;
    }
    const topology_flow *tf = &t->flows[f->flow_index];
    if (text)
        translate_text(&rows, t, tf, group, f->name, out);
    else
        translate_json(&rows, t, tf, group, f->name, out);
    free(rows.rows);
    return 200;
}
