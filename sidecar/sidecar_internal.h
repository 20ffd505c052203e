/*
 * sidecar_internal.h - what sidecar.c, sidecar_http.c and sidecar_status.c
 * share. Private to sidecar/.
 */
#ifndef STRAIT_SIDECAR_INTERNAL_H
#define STRAIT_SIDECAR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoints/checkpoint_store.h"
#include "checkpoints/group_sync.h"
#include "common/buf.h"
#include "mirror/flow.h"
#include "sidecar/sidecar.h"
#include "topology/topology.h"

/* Largest /status, /metrics or /offsets/translate page built in memory. */
#define SIDECAR_PAGE_BYTES_MAX (64 * 1024 * 1024)
/* Checkpoints one /offsets/translate answer lists (a group of 10k partitions fits). */
#define SIDECAR_TRANSLATE_ROWS_MAX 100000

struct event_base;
struct event;
struct evhttp;
struct evhttp_request;

typedef struct sidecar_flow {
    int flow_index;            /* into topology.flows */
    char name[160];            /* "east->west" */
    mirror_flow *flow;         /* NULL if it is not running */
    group_sync *sync;          /* the flow's group checkpoints; NULL if not running */
} sidecar_flow;

struct failover_agent;
struct control_plane;

struct sidecar {
    topology *topology;        /* heap: the struct is large */
    int region;                /* index of this sidecar's region */
    char store_path[1200];
    checkpoint_store *store;
    sidecar_flow flows[TOPOLOGY_FLOWS_MAX];
    int flow_count;
    /* diverged[i]: the diverged copy of flows[i] (mirror_flow_start_diverged),
     * run while flows[i] is paused; only with a failover section */
    sidecar_flow diverged[TOPOLOGY_FLOWS_MAX];
    int64_t started_ms;        /* wall clock */
    struct event_base *base;   /* main thread's loop: HTTP and signals */
    struct evhttp *http;
    struct control_plane *control; /* who may use the routes (failover/control_plane.h) */
    int http_port;
    struct event *sigterm, *sigint;
    struct failover_agent *agent;  /* NULL without a `failover:` section */
    struct event *failover_timer;
    struct event *gate_event;      /* re-gates the flows after a POSTed state change */
};

/* Flows (sidecar.c): starts or stops flows so that exactly those that should
 * run under the failover state run (all of them without an agent). */
int sidecar_gate_flows(sidecar *sc, char *err, size_t errlen);

/* Failover endpoints and timer (sidecar_failover.c). */
int sidecar_failover_open(sidecar *sc, char *err, size_t errlen);
void sidecar_failover_close(sidecar *sc);
/* The failover state as one JSON object (also "failover" in /status). */
void sidecar_failover_state_json(sidecar *sc, buf *page);
/* Serves /failover/...; false if path is not one of its routes. */
bool sidecar_failover_serve(sidecar *sc, struct evhttp_request *req, const char *path);

/* Status pages (sidecar_status.c); run on the loop thread, flow status under each flow's lock. */
void sidecar_status_json(sidecar *sc, buf *out);
void sidecar_status_metrics(sidecar *sc, buf *out);
/* /offsets/translate for flow "from->region". Returns 200, 400 or 404 with the body in out
 * (JSON, or a table for people when text is true). */
int sidecar_status_translate(sidecar *sc, const char *group, const char *from, bool text,
                             buf *out);

/* HTTP endpoint (sidecar_http.c). */
/* Sends body with code (200, 400, 404, 405, 409, 503 or 500) and
 * Cache-Control: no-store; a page over its limit becomes a 500. */
void sidecar_http_reply(struct evhttp_request *req, int code, const char *content_type,
                        const buf *body);
int sidecar_http_open(sidecar *sc, char *err, size_t errlen);
void sidecar_http_close(sidecar *sc);

/* Appends a NUL-free string (buf_put of strlen). */
void sidecar_puts(buf *out, const char *s);
/* printf into out (bounded by its ceiling). */
void sidecar_printf(buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal with quotes, escaping per RFC 8259. */
void sidecar_json_string(buf *out, const char *s);

#endif
