/*
 * request_park.c - the park list of long-poll requests and their wake-ups
 * (see request_park.h).
 */
#include "broker/proto/request_park.h"

#include <event2/event.h>

#include "common/error.h"

void broker_request_unpark(broker_request *req)
{
    broker *b = req->broker;
    if (req->timer) {
        event_free(req->timer);
        req->timer = NULL;
    }
    if (req->park_prev)
        req->park_prev->park_next = req->park_next;
    else if (b->parked == req)
        b->parked = req->park_next;
    if (req->park_next)
        req->park_next->park_prev = req->park_prev;
    req->park_prev = req->park_next = NULL;
}

static void park_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    broker_request *req = arg;
    broker_request_unpark(req);
    req->on_wake(req, true);
}

int broker_request_park(broker_request *req, int64_t timeout_ms, broker_request_wake_fn on_wake)
{
    broker *b = req->broker;
    broker_request_unpark(req);
    req->on_wake = on_wake;
    req->timer = evtimer_new(b->base, park_timeout_cb, req);
    if (!req->timer)
        return ST_ENOMEM;
    if (timeout_ms < 0)
        timeout_ms = 0;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    evtimer_add(req->timer, &tv);
    req->park_prev = NULL;
    req->park_next = b->parked;
    if (b->parked)
        b->parked->park_prev = req;
    b->parked = req;
    return 0;
}

void broker_wake_parked(broker *b)
{
    b->wake_pending = false;
    broker_request *list = b->parked;
    b->parked = NULL;
    for (broker_request *r = list; r; r = r->park_next)
        r->park_prev = NULL;
    while (list) {
        broker_request *req = list;
        list = req->park_next;
        if (list)
            list->park_prev = NULL;
        req->park_next = NULL;
        if (req->timer) {
            event_free(req->timer);
            req->timer = NULL;
        }
        req->on_wake(req, false);
    }
}

void broker_notify_append(broker *b, partition *p)
{
    (void)p; /* every parked request re-checks its own partitions */
    if (b->parked && !b->wake_pending && b->wake_event) {
        b->wake_pending = true;
        event_active(b->wake_event, EV_TIMEOUT, 0);
    }
}
