/*
 * witness.c - `strait witness` (contract in witness.h): the contact table
 * fed by a probe thread and by sidecars' heartbeats, the durable vote, and
 * the HTTP routes on evhttp.
 */
#include "failover/witness.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/region_contract.h"
#include "common/http_listen.h"
#include "common/file_io.h"
#include "common/log.h"
#include "failover/control_plane.h"
#include "failover/route_params.h"
#include "failover/vote.h"
#include "common/http_client.h"
#include "topology/topology.h"

/* Largest answer the witness builds (a few lines per region). */
#define WITNESS_PAGE_BYTES_MAX 16384

typedef struct witness_contact {
    int64_t heard_mono_ms;   /* last probe answer or heartbeat; 0: never */
    int64_t heard_wall_ms;
    int64_t epoch;           /* the epoch it reported then; 0: unknown */
    bool silent_logged;      /* "lost contact" logged since the last contact */
} witness_contact;

struct witness {
    topology *topology;                  /* heap: the struct is large */
    char listen[TOPOLOGY_ADDRESS_MAX];
    char state_dir[1024];
    struct event_base *base;
    struct evhttp *http;
    control_plane *control;              /* who may call it, how it calls the sidecars */
    struct event *sigterm, *sigint;
    int64_t started_mono_ms;
    pthread_t prober;
    bool prober_started;
    pthread_mutex_t lock;                /* guards everything below it */
    pthread_cond_t wake;
    bool stopping;
    witness_contact contacts[TOPOLOGY_REGIONS_MAX];
    int64_t epoch_seen;
    char epoch_seen_active[TOPOLOGY_NAME_MAX]; /* the region epoch_seen makes active when
                                                  whoever told it said so (the operator's
                                                  failover, a vote); "" when unknown */
    failover_vote vote;                  /* written by the loop thread only */
};

/* "host:port" (or "[v6]:port") into its parts; false if malformed. */
static bool split_listen(const char *address, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address)
        return false;
    const char *start = address;
    size_t n = (size_t)(colon - address);
    if (address[0] == '[') {
        if (n < 3 || colon[-1] != ']')
            return false;
        start++;
        n -= 2;
    }
    int64_t value = 0;
    char msg[128];
    if (n >= hostlen || config_value_parse_int(colon + 1, 1, 65535, &value, msg, sizeof msg) != 0)
        return false;
    snprintf(host, hostlen, "%.*s", (int)n, start);
    *port = (int)value;
    return true;
}

/* Raises epoch_seen to epoch; active: the region that epoch promotes, ""
 * when the teller does not say (lock held). */
static void saw_epoch(witness *w, int64_t epoch, const char *active)
{
    if (epoch > w->epoch_seen) {
        log_info("witness", "epoch %" PRId64 " seen (was %" PRId64 ") active=%s: heartbeats at "
                 "an older epoch no longer count towards a majority", epoch, w->epoch_seen,
                 active[0] ? active : "-");
        w->epoch_seen = epoch;
        snprintf(w->epoch_seen_active, sizeof w->epoch_seen_active, "%s", active);
    } else if (epoch == w->epoch_seen && active[0] && !w->epoch_seen_active[0]) {
        snprintf(w->epoch_seen_active, sizeof w->epoch_seen_active, "%s", active);
    }
}

/* A sidecar's heartbeat or probe answer: its own epoch, and (seen, 0 when
 * not sent) the highest epoch it knows of from anywhere. */
static void heard(witness *w, int region, int64_t epoch, int64_t seen)
{
    pthread_mutex_lock(&w->lock);
    witness_contact *c = &w->contacts[region];
    if (c->silent_logged)
        log_info("witness", "contact with the sidecar of %s again",
                 w->topology->regions[region].name);
    c->heard_mono_ms = clock_mono_ms();
    c->heard_wall_ms = clock_wall_ms();
    c->silent_logged = false;
    if (epoch > 0) {
        c->epoch = epoch;
        saw_epoch(w, epoch, "");
    }
    saw_epoch(w, seen, "");
    pthread_mutex_unlock(&w->lock);
}

/* One probe of region's sidecar (any thread, no lock held). True if it answered. */
static bool probe(witness *w, int region, int timeout_ms)
{
    int status = 0;
    char *body = NULL, err[512];
    size_t len = 0;
    const char *address = w->topology->regions[region].sidecar;
    if (http_client_get(control_plane_to_sidecar(w->control, region), address,
                        "/failover/state?format=kv", timeout_ms, &status, &body, &len, err,
                        sizeof err) != 0) {
        pthread_mutex_lock(&w->lock);
        witness_contact *c = &w->contacts[region];
        if (!c->silent_logged)
            log_warn("witness", "sidecar of %s does not answer: %s",
                     w->topology->regions[region].name, err);
        c->silent_logged = true;
        pthread_mutex_unlock(&w->lock);
        return false;
    }
    /* Any answer is contact, even a refusal of the witness's credentials
     * (logged by the sidecar): a live region must never look silent. */
    int64_t epoch = 0;
    const char *line = status == 200 ? strstr(body, "\nepoch=") : NULL;
    if (line) {
        char text[32] = "", msg[64];
        sscanf(line + 7, "%31[0-9]", text);
        if (config_value_parse_int(text, REGION_EPOCH_MIN, REGION_EPOCH_MAX, &epoch, msg,
                                   sizeof msg) != 0)
            epoch = 0;
    }
    free(body);
    heard(w, region, epoch, 0);
    return true;
}

static void *probe_loop(void *arg)
{
    witness *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        pthread_mutex_unlock(&w->lock);
        for (int i = 0; i < w->topology->region_count; i++)
            probe(w, i, WITNESS_PROBE_TIMEOUT_MS);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += WITNESS_PROBE_INTERVAL_MS / 1000;
        until.tv_nsec += (long)(WITNESS_PROBE_INTERVAL_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&w->lock);
        if (!w->stopping)
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

typedef struct page {
    char text[WITNESS_PAGE_BYTES_MAX];
    size_t used;
} page;

__attribute__((format(printf, 2, 3))) static void page_printf(page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->text + p->used, sizeof p->text - p->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->used += (size_t)n < sizeof p->text - p->used ? (size_t)n : sizeof p->text - p->used - 1;
}

static void send_page(struct evhttp_request *req, int code, const page *p)
{
    struct evbuffer *out = evbuffer_new();
    if (!out || evbuffer_add(out, p->text, p->used) != 0) {
        if (out)
            evbuffer_free(out);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(headers, "Cache-Control", "no-store");
    const char *reason = code == 200   ? "OK"
                         : code == 400 ? "Bad Request"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 409 ? "Conflict"
                                       : "Service Unavailable";
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

/* Milliseconds since the witness last heard from region (since it started
 * if never). Caller holds the lock. */
static int64_t silent_ms(const witness *w, int region, int64_t now)
{
    int64_t since = w->contacts[region].heard_mono_ms;
    return now - (since ? since : w->started_mono_ms);
}

static void state_page(witness *w, page *p)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&w->lock);
    page_printf(p, "witness=%s\ndetect_after_ms=%" PRId64 "\nepoch_seen=%" PRId64
                "\nepoch_seen_active=%s\n", w->listen, w->topology->failover_detect_after_ms,
                w->epoch_seen, w->epoch_seen_active);
    for (int i = 0; i < w->topology->region_count; i++) {
        const witness_contact *c = &w->contacts[i];
        const char *name = w->topology->regions[i].name;
        page_printf(p, "contact.%s.at_ms=%" PRId64 "\ncontact.%s.silent_ms=%" PRId64
                    "\ncontact.%s.epoch=%" PRId64 "\n",
                    name, c->heard_mono_ms ? c->heard_wall_ms : -1, name,
                    c->heard_mono_ms ? now - c->heard_mono_ms : -1, name, c->epoch);
    }
    page_printf(p, "vote_candidate=%s\nvote_suspect=%s\nvote_epoch=%" PRId64
                "\nvote_at_ms=%" PRId64 "\n",
                w->vote.candidate, w->vote.suspect, w->vote.epoch, w->vote.at_ms);
    pthread_mutex_unlock(&w->lock);
}

/* A region name parameter: its index, or -1 with the refusal in p. */
static int region_param(witness *w, struct evkeyvalq *query, const char *key, page *p)
{
    char why[256];
    int index = route_param_region(w->topology, query, key, why, sizeof why);
    if (index < 0)
        page_printf(p, "granted=0\nerror=%s\n", why);
    return index;
}

static bool epoch_param(struct evkeyvalq *query, bool required, int64_t *out, page *p)
{
    char why[256];
    bool ok = route_param_epoch(query, required, out, why, sizeof why);
    if (!ok)
        page_printf(p, "granted=0\nerror=%s\n", why);
    return ok;
}

/* POST /witness/vote */
static int vote(witness *w, struct evkeyvalq *query, page *p)
{
    int candidate = region_param(w, query, "candidate", p);
    if (candidate < 0)
        return 400;
    int suspect = region_param(w, query, "suspect", p);
    if (suspect < 0)
        return 400;
    int64_t epoch = 0;
    if (!epoch_param(query, true, &epoch, p))
        return 400;
    const char *cname = w->topology->regions[candidate].name;
    const char *sname = w->topology->regions[suspect].name;
    int64_t detect = w->topology->failover_detect_after_ms;
    pthread_mutex_lock(&w->lock);
    bool looks_silent = silent_ms(w, suspect, clock_mono_ms()) >= detect;
    pthread_mutex_unlock(&w->lock);
    if (looks_silent && candidate != suspect)
        probe(w, suspect, WITNESS_RECHECK_TIMEOUT_MS); /* answering now counts as heard */
    failover_vote_view view;
    pthread_mutex_lock(&w->lock);
    view.suspect_silent_ms = silent_ms(w, suspect, clock_mono_ms());
    view.epoch_seen = w->epoch_seen;
    view.detect_after_ms = detect;
    view.last = w->vote;
    pthread_mutex_unlock(&w->lock);
    char why[512];
    int rc = failover_vote_decide(&view, cname, sname, epoch, why, sizeof why);
    if (rc != 0) {
        log_warn("witness", "vote refused candidate=%s epoch=%" PRId64 " suspect=%s reason=%s",
                 cname, epoch, sname, why);
        page_printf(p, "granted=0\nepoch_seen=%" PRId64 "\nerror=%s\n", view.epoch_seen, why);
        return 409;
    }
    failover_vote granted = {.epoch = epoch, .at_ms = clock_wall_ms()};
    snprintf(granted.candidate, sizeof granted.candidate, "%s", cname);
    snprintf(granted.suspect, sizeof granted.suspect, "%s", sname);
    bool again = view.last.epoch == epoch && !strcmp(view.last.candidate, cname);
    if (!again && (rc = failover_vote_store(w->state_dir, WITNESS_VOTE_FILE, &granted)) != 0) {
        log_error("witness", "vote not stored in %s/%s: %s", w->state_dir, WITNESS_VOTE_FILE,
                  strait_strerror(rc));
        page_printf(p, "granted=0\nerror=the vote could not be stored durably: %s\n",
                    strait_strerror(rc));
        return 503;
    }
    pthread_mutex_lock(&w->lock);
    if (!again)
        w->vote = granted;
    saw_epoch(w, epoch, cname);
    pthread_mutex_unlock(&w->lock);
    log_info("witness", "vote granted candidate=%s epoch=%" PRId64 " suspect=%s silent_ms=%" PRId64
             "%s", cname, epoch, sname, view.suspect_silent_ms, again ? " (asked again)" : "");
    page_printf(p, "granted=1\ncandidate=%s\nepoch=%" PRId64 "\nsuspect=%s\n", cname, epoch,
                sname);
    return 200;
}

/* The optional seen=E of a heartbeat; false with the refusal in p. */
static bool seen_param(struct evkeyvalq *query, int64_t *out, page *p)
{
    *out = 0;
    const char *text = evhttp_find_header(query, "seen");
    if (!text)
        return true;
    char msg[128];
    if (config_value_parse_int(text, REGION_EPOCH_MIN, REGION_EPOCH_MAX, out, msg,
                               sizeof msg) != 0) {
        page_printf(p, "granted=0\nerror=seen: %s\n", msg);
        return false;
    }
    return true;
}

/* POST /witness/epoch?epoch=E&active=R: the operator's `strait failover`
 * tells the witness of the epoch it creates, and the region it promotes,
 * before that region takes writes (failover/cli_demote.h), so the witness
 * never again counts towards the majority of a region at an older epoch
 * (its answers carry epoch_seen, which the heartbeat's sender compares with
 * its own: auto_failover.c), except the promoted region's own, whose
 * heartbeats carry the new epoch only a tick later. */
static int learn_epoch(witness *w, struct evkeyvalq *query, page *p)
{
    int64_t epoch = 0;
    if (!epoch_param(query, true, &epoch, p))
        return 400;
    int active = region_param(w, query, "active", p);
    if (active < 0)
        return 400;
    pthread_mutex_lock(&w->lock);
    saw_epoch(w, epoch, w->topology->regions[active].name);
    int64_t seen = w->epoch_seen;
    pthread_mutex_unlock(&w->lock);
    page_printf(p, "epoch_seen=%" PRId64 "\n", seen);
    return 200;
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    witness *w = arg;
    static page p; /* loop thread only */
    p.used = 0;
    p.text[0] = '\0';
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *raw = uri ? evhttp_uri_get_query(uri) : NULL;
    bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    struct evkeyvalq query;
    query.tqh_first = NULL; /* TAILQ_INIT without <sys/queue.h> */
    query.tqh_last = &query.tqh_first;
    int code = 200;
    if (!control_plane_route_open(w->control, path ? path : "") &&
        !control_auth_admit(control_plane_auth(w->control), req, path ? path : "?"))
        return; /* 401 sent and logged */
    if (!path) {
        page_printf(&p, "error=no path\n");
        code = 400;
    } else if (raw && evhttp_parse_query_str(raw, &query) != 0) {
        page_printf(&p, "error=malformed query string\n");
        code = 400;
    } else if (!strcmp(path, "/healthz")) {
        page_printf(&p, "ok\n");
    } else if (!strcmp(path, "/witness/state") && !post) {
        const char *from = evhttp_find_header(&query, "from");
        int64_t epoch = 0;
        if (!epoch_param(&query, false, &epoch, &p)) {
            code = 400;
        } else if (from) {
            int region = region_param(w, &query, "from", &p);
            int64_t seen = 0;
            if (region < 0)
                code = 400;
            else if (!seen_param(&query, &seen, &p))
                code = 400;
            else
                heard(w, region, epoch, seen);
        }
        if (code == 200)
            state_page(w, &p);
    } else if (!strcmp(path, "/witness/vote") && post) {
        code = vote(w, &query, &p);
    } else if (!strcmp(path, "/witness/epoch") && post) {
        code = learn_epoch(w, &query, &p);
    } else if (!strcmp(path, "/witness/vote") || !strcmp(path, "/witness/state") ||
               !strcmp(path, "/witness/epoch")) {
        page_printf(&p, "error=%s %s expected\n", post ? "GET" : "POST", path);
        code = 405;
    } else {
        page_printf(&p, "error=not found: try GET /healthz, GET /witness/state or "
                        "POST /witness/vote?candidate=R&epoch=E&suspect=A\n");
        code = 404;
    }
    if (post) /* the vote: one audit line, whatever the outcome */
        control_auth_audit(control_plane_auth(w->control), req, path ? path : "?", code, p.text);
    send_page(req, code, &p);
    evhttp_clear_headers(&query);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    witness *w = arg;
    log_info("witness", "stopping on a signal");
    event_base_loopbreak(w->base);
}

static int open_http(witness *w, char *err, size_t errlen)
{
    char host[256];
    int port = 0;
    if (!split_listen(w->listen, host, sizeof host, &port)) {
        snprintf(err, errlen, "--listen '%s': expected HOST:PORT with a port 1..65535", w->listen);
        return ST_ECONFIG;
    }
    int bound = 0;
    int rc = http_listen_tls(w->base, host, port,
                             EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST,
                             control_plane_server_tls(w->control), request_cb, w, &w->http,
                             &bound);
    if (rc == ST_ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc != 0)
        snprintf(err, errlen, "cannot listen on %s: %s", w->listen, strerror(errno));
    return rc;
}

int witness_open(const char *listen, const char *topology_path, const char *state_dir,
                 witness **out, char *err, size_t errlen)
{
    *out = NULL;
    witness *w = calloc(1, sizeof *w);
    topology *t = calloc(1, sizeof *t);
    if (!w || !t) {
        free(w);
        free(t);
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    w->topology = t;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->started_mono_ms = clock_mono_ms();
    snprintf(w->listen, sizeof w->listen, "%s", listen);
    snprintf(w->state_dir, sizeof w->state_dir, "%s", state_dir);
    char why[1024];
    int rc = topology_load(topology_path, t, err, errlen);
    if (rc == 0 && (!t->failover_configured || t->failover_mode != TOPOLOGY_FAILOVER_AUTOMATIC)) {
        snprintf(err, errlen, "%s: a witness needs failover.mode: automatic", topology_path);
        rc = ST_ECONFIG;
    }
    if (rc == 0 && file_mkdirs(state_dir) != 0) {
        snprintf(err, errlen, "cannot create --state-dir %s: %s", state_dir, strerror(errno));
        rc = ST_EIO;
    }
    if (rc == 0 && (rc = failover_vote_load(state_dir, WITNESS_VOTE_FILE, &w->vote, why,
                                            sizeof why)) != 0)
        snprintf(err, errlen, "cannot read the witness's vote: %s (a witness that cannot tell "
                 "what it voted must not vote again; fix or remove the file)", why);
    w->epoch_seen = w->vote.epoch;
    if (rc == 0)
        rc = control_plane_open(t, CONTROL_PLANE_WITNESS, -1, &w->control, err, errlen);
    if (rc == 0 && !(w->base = event_base_new())) {
        snprintf(err, errlen, "cannot create the event loop");
        rc = ST_ENOMEM;
    }
    if (rc == 0)
        rc = open_http(w, err, errlen);
    if (rc == 0) {
        w->sigterm = evsignal_new(w->base, SIGTERM, on_signal, w);
        w->sigint = evsignal_new(w->base, SIGINT, on_signal, w);
        if (!w->sigterm || !w->sigint || evsignal_add(w->sigterm, NULL) != 0 ||
            evsignal_add(w->sigint, NULL) != 0) {
            snprintf(err, errlen, "cannot install signal handlers");
            rc = ST_ENOMEM;
        }
    }
    if (rc == 0 && pthread_create(&w->prober, NULL, probe_loop, w) != 0) {
        snprintf(err, errlen, "cannot start the probe thread");
        rc = ST_ENOMEM;
    }
    if (rc != 0) {
        witness_close(w);
        return rc;
    }
    w->prober_started = true;
    log_info("witness", "listening on %s topology=%s regions=%d detect_after_ms=%" PRId64
             " vote=%s@%" PRId64, w->listen, t->path, t->region_count,
             t->failover_detect_after_ms, w->vote.epoch ? w->vote.candidate : "-", w->vote.epoch);
    *out = w;
    return 0;
}

int witness_run(witness *w)
{
    return event_base_dispatch(w->base) < 0 ? ST_EIO : 0;
}

void witness_close(witness *w)
{
    if (!w)
        return;
    if (w->prober_started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->prober, NULL);
    }
    if (w->sigterm)
        event_free(w->sigterm);
    if (w->sigint)
        event_free(w->sigint);
    if (w->http)
        http_listen_free(w->http);
    if (w->base)
        event_base_free(w->base);
    control_plane_close(w->control);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->topology);
    free(w);
}
