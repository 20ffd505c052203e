/*
 * metrics_http.h - the broker's HTTP endpoint (metrics.listener): libevent's
 * evhttp on the broker's loop, serving
 *
 *   GET /metrics   the Prometheus text page, 200 (rendered by the function
 *                  the opener gives: broker/broker_metrics.h for a broker)
 *   GET /healthz   "ok\n", 200 (the loop is alive and answering)
 *   anything else  404; methods other than GET and HEAD are refused by evhttp
 *
 * Requests are bounded: LIMIT_METRICS_REQUEST_HEADER_BYTES of request line
 * and headers, LIMIT_METRICS_REQUEST_BODY_BYTES of body, and
 * LIMIT_METRICS_HTTP_TIMEOUT_SECONDS per read or write (common/limits.h).
 * The page is built whole in memory, up to LIMIT_METRICS_RESPONSE_BYTES;
 * past that the scrape gets 500 and a warning is logged.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_NET_METRICS_HTTP_H
#define STRAIT_NET_METRICS_HTTP_H

#include "common/buf.h"

struct event_base;
struct metrics_http;

/* Appends the whole /metrics page to page; the endpoint checks buf_ok(page)
 * afterwards (500 when the page exceeded its ceiling). */
typedef void (*metrics_http_render_fn)(void *arg, buf *page);

/* Binds host:port (port 0 picks a free port) on base; each GET /metrics
 * calls render(render_arg, page). Returns 0, ST_ENOMEM, or ST_EIO when the
 * address cannot be bound (logged). */
int metrics_http_open(struct event_base *base, const char *host, int port,
                      metrics_http_render_fn render, void *render_arg, struct metrics_http **out);
/* The port actually bound. */
int metrics_http_port(const struct metrics_http *h);
/* Stops listening and closes every HTTP connection. NULL is allowed. */
void metrics_http_close(struct metrics_http *h);

#endif
