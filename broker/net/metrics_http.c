/*
 * metrics_http.c - GET /metrics and /healthz over evhttp on the broker's
 * loop (contract in metrics_http.h).
 */
#include "broker/net/metrics_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/http_listen.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/metrics_text.h"

struct metrics_http {
    metrics_http_render_fn render;
    void *render_arg;
    struct evhttp *http;
    int port;
};

static void reply_text(struct evhttp_request *req, int code, const char *reason,
                       const char *content_type, const void *body, size_t len)
{
    struct evbuffer *reply = evbuffer_new();
    if (!reply) {
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", content_type);
    evhttp_add_header(headers, "Cache-Control", "no-store");
    if (evbuffer_add(reply, body, len) != 0) {
        evbuffer_free(reply);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_send_reply(req, code, reason, reply);
    evbuffer_free(reply);
}

static void serve_metrics(struct metrics_http *h, struct evhttp_request *req)
{
    buf page;
    buf_init(&page, LIMIT_METRICS_RESPONSE_BYTES);
    h->render(h->render_arg, &page);
    if (!buf_ok(&page)) {
        log_warn("metrics", "cannot render /metrics error=%s max_bytes=%d",
                 strait_strerror(page.err), LIMIT_METRICS_RESPONSE_BYTES);
        evhttp_send_error(req, HTTP_INTERNAL, "metrics page exceeds its limit");
    } else {
        reply_text(req, HTTP_OK, "OK", METRICS_TEXT_CONTENT_TYPE, page.data, page.len);
    }
    buf_free(&page);
}

static void request_cb(struct evhttp_request *req, void *arg)
{
    struct metrics_http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (path && strcmp(path, "/metrics") == 0) {
        serve_metrics(h, req);
    } else if (path && strcmp(path, "/healthz") == 0) {
        reply_text(req, HTTP_OK, "OK", "text/plain; charset=utf-8", "ok\n", 3);
    } else {
        static const char not_found[] = "not found: try /metrics or /healthz\n";
        reply_text(req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8", not_found,
                   sizeof not_found - 1);
    }
}

int metrics_http_open(struct event_base *base, const char *host, int port,
                      metrics_http_render_fn render, void *render_arg, struct metrics_http **out)
{
    struct metrics_http *h = calloc(1, sizeof *h);
    if (!h)
        return ST_ENOMEM;
    h->render = render;
    h->render_arg = render_arg;
    int rc = http_listen(base, host, port, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, request_cb, h,
                         &h->http, &h->port);
    if (rc != 0) {
        if (rc == ST_EIO)
            log_error("metrics", "cannot listen metrics.listener host=%s port=%d error=%s", host,
                      port, strerror(errno));
        metrics_http_close(h);
        return rc;
    }
    *out = h;
    return 0;
}

int metrics_http_port(const struct metrics_http *h) { return h->port; }

void metrics_http_close(struct metrics_http *h)
{
    if (!h)
        return;
    if (h->http)
        http_listen_free(h->http);
    free(h);
}
