/*
 * sidecar_http.c - the sidecar's HTTP endpoint on evhttp (routes in
 * sidecar.h). Runs on the sidecar's loop thread. Requests are bounded like
 * the broker's metrics endpoint (LIMIT_METRICS_* in common/limits.h); pages
 * are built whole in memory up to SIDECAR_PAGE_BYTES_MAX.
 *
 * Every route but the open reads (/healthz, /status, /metrics, unless
 * control_plane.open_reads is false) first passes the control plane's
 * credential check (security/control_auth.h): a refused request gets 401
 * and reaches no route. Over HTTPS when control_plane.ca is set.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/http_listen.h"
#include "common/log.h"
#include "common/metrics_text.h"
#include "failover/control_plane.h"
#include "sidecar/sidecar_internal.h"

#define CONTENT_JSON "application/json"
#define CONTENT_TEXT "text/plain; charset=utf-8"

void sidecar_http_reply(struct evhttp_request *req, int code, const char *content_type,
                        const buf *body)
{
    if (!buf_ok(body)) {
        log_warn("sidecar", "page exceeds its limit max_bytes=%d", SIDECAR_PAGE_BYTES_MAX);
        evhttp_send_error(req, HTTP_INTERNAL, "page exceeds its limit");
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (!out || evbuffer_add(out, body->data, body->len) != 0) {
        if (out)
            evbuffer_free(out);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", content_type);
    evhttp_add_header(headers, "Cache-Control", "no-store");
    const char *reason = code == 200   ? "OK"
                         : code == 400 ? "Bad Request"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 409 ? "Conflict"
                         : code == 503 ? "Service Unavailable"
                                       : "Internal Server Error";
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void serve_translate(sidecar *sc, struct evhttp_request *req, const struct evhttp_uri *uri)
{
    struct evkeyvalq query;
    query.tqh_first = NULL; /* TAILQ_INIT without <sys/queue.h> */
    query.tqh_last = &query.tqh_first;
    const char *raw = evhttp_uri_get_query(uri);
    buf page;
    buf_init(&page, SIDECAR_PAGE_BYTES_MAX);
    int code;
    bool text = false;
    if (raw && evhttp_parse_query_str(raw, &query) != 0) {
        sidecar_puts(&page, "{\"error\": \"malformed query string\"}\n");
        code = 400;
    } else {
        const char *group = evhttp_find_header(&query, "group");
        const char *from = evhttp_find_header(&query, "from");
        const char *format = evhttp_find_header(&query, "format");
        text = format && !strcmp(format, "text");
        if (!group || !from || !group[0] || !from[0]) {
            sidecar_puts(&page, text ? "missing group= or from= parameter\n"
                                     : "{\"error\": \"missing group= or from= parameter\"}\n");
            code = 400;
        } else {
            code = sidecar_status_translate(sc, group, from, text, &page);
        }
    }
    sidecar_http_reply(req, code, text ? CONTENT_TEXT : CONTENT_JSON, &page);
    buf_free(&page);
    evhttp_clear_headers(&query);
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    sidecar *sc = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!control_plane_route_open(sc->control, path ? path : "") &&
        !control_auth_admit(control_plane_auth(sc->control), req, path ? path : "?"))
        return; /* 401 sent and logged */
    buf page;
    buf_init(&page, SIDECAR_PAGE_BYTES_MAX);
    if (path && sidecar_failover_serve(sc, req, path)) {
        buf_free(&page);
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        sidecar_puts(&page, "POST is only for /failover/ routes\n");
        sidecar_http_reply(req, 404, CONTENT_TEXT, &page);
    } else if (path && !strcmp(path, "/status")) {
        sidecar_status_json(sc, &page);
        sidecar_http_reply(req, 200, CONTENT_JSON, &page);
    } else if (path && !strcmp(path, "/metrics")) {
        sidecar_status_metrics(sc, &page);
        sidecar_http_reply(req, 200, METRICS_TEXT_CONTENT_TYPE, &page);
    } else if (path && !strcmp(path, "/healthz")) {
        sidecar_puts(&page, "ok\n");
        sidecar_http_reply(req, 200, CONTENT_TEXT, &page);
    } else if (path && !strcmp(path, "/offsets/translate")) {
        serve_translate(sc, req, uri);
    } else {
        sidecar_puts(&page, "not found: try /status, /metrics, /healthz or "
                            "/offsets/translate?group=G&from=REGION\n");
        sidecar_http_reply(req, 404, CONTENT_TEXT, &page);
    }
    buf_free(&page);
}

/* Splits "host:port" or "[v6]:port" (validated by the topology). */
static void split_address(const char *address, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(address, ':');
    size_t n = (size_t)(colon - address);
    if (address[0] == '[') {
        address++;
        n -= 2;
    }
    snprintf(host, hostlen, "%.*s", (int)n, address);
    *port = (int)strtol(colon + 1, NULL, 10);
}

int sidecar_http_open(sidecar *sc, char *err, size_t errlen)
{
    const char *address = sc->topology->regions[sc->region].sidecar;
    char host[256];
    int port = 0;
    split_address(address, host, sizeof host, &port);
    int rc = http_listen_tls(sc->base, host, port,
                             EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST,
                             control_plane_server_tls(sc->control), request_cb, sc, &sc->http,
                             &sc->http_port);
    if (rc == ST_ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (rc != 0)
        snprintf(err, errlen, "cannot listen on %s (regions.%s.sidecar): %s", address,
                 sc->topology->regions[sc->region].name, strerror(errno));
    return rc;
}

void sidecar_http_close(sidecar *sc)
{
    if (sc->http)
        http_listen_free(sc->http);
    sc->http = NULL;
}
