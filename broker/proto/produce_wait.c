/*
 * produce_wait.c - parks a Produce request until the fsyncs its appends need
 * completed (contract in produce_wait.h).
 *
 * Each partition to wait for holds a plog_flush_waiter (partition_log.h);
 * its callback fills a failure into the partition's response, and the last
 * one to complete activates a per-request event whose callback finishes the
 * request. Finishing is deferred because waiters complete from inside plog
 * calls (a flusher completion, another handler's plog_flush or plog_delete),
 * and a handler must never run inside another one. If the connection closes
 * meanwhile, on_abandon unregisters the waiters and frees the event; the
 * data stays in the log (it may still become durable) but nothing is sent.
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/proto/produce_wait.h"

#include <event2/event.h>
#include <stdio.h>

#include "broker/proto/broker_context.h"
#include "common/error.h"
#include "common/log.h"

#define PRODUCE_WAIT_MESSAGE_BYTES 96

typedef struct produce_wait_item {
    plog_flush_waiter waiter;          /* first: the callback casts back */
    plog *log;
    int64_t end_offset;
    produce_partition_response *pr;
    produce_wait *owner;
} produce_wait_item;

struct produce_wait {
    broker_request *req;
    struct event *finish_event;        /* deferred broker_request_finish */
    int32_t pending;                   /* waiters still registered */
    int32_t count;
    int32_t capacity;
    produce_wait_item *items;
};

produce_wait *produce_wait_new(broker_request *req, int32_t capacity)
{
    produce_wait *w = broker_request_alloc(req, sizeof *w);
    if (w == NULL)
        return NULL;
    w->req = req;
    w->capacity = capacity > 0 ? capacity : 0;
    if (w->capacity > 0) {
        w->items = broker_request_alloc(req, sizeof *w->items * (size_t)w->capacity);
        if (w->items == NULL)
            return NULL;
    }
    return w;
}

void produce_wait_add(produce_wait *w, plog *log, int64_t end_offset, produce_partition_response *pr)
{
    if (w->count >= w->capacity) /* one per partition of the request: cannot happen */
        return;
    w->items[w->count++] = (produce_wait_item){.log = log, .end_offset = end_offset, .pr = pr,
                                               .owner = w};
}

/* The partition's records are appended but must never be acknowledged. */
static void fail_partition(produce_wait *w, produce_partition_response *pr, int rc)
{
    broker_request *req = w->req;
    if (rc == ST_ENOTFOUND) /* the topic was deleted meanwhile */
        pr->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
    else /* as for a failed append: v3 clients do not know KAFKA_STORAGE_ERROR */
        pr->error_code = req->api_version >= 4 ? KERR_KAFKA_STORAGE_ERROR : KERR_NOT_LEADER_OR_FOLLOWER;
    pr->base_offset = -1;
    pr->log_append_time_ms = -1;
    char *text = broker_request_alloc(req, PRODUCE_WAIT_MESSAGE_BYTES);
    if (text) {
        snprintf(text, PRODUCE_WAIT_MESSAGE_BYTES, "fsync failed: %s", strait_strerror(rc));
        pr->error_message = proto_str_c(text);
    }
    log_error("produce", "not acknowledged, data not durable partition=%d error=%s",
              pr->partition_index, strait_strerror(rc));
}

static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    produce_wait *w = arg;
    broker_request *req = w->req;
    event_free(w->finish_event);
    w->finish_event = NULL;
    req->on_abandon = NULL;
    broker_request_finish(req); /* frees req and w (its arena) */
}

static void waiter_done(plog_flush_waiter *waiter, int rc)
{
    produce_wait_item *item = (produce_wait_item *)waiter;
    produce_wait *w = item->owner;
    if (rc != 0)
        fail_partition(w, item->pr, rc);
    if (--w->pending == 0)
        event_active(w->finish_event, EV_TIMEOUT, 0);
}

static void abandon(broker_request *req)
{
    produce_wait *w = req->handler_state;
    for (int32_t i = 0; i < w->count; i++)
        plog_flush_cancel(&w->items[i].waiter);
    if (w->finish_event)
        event_free(w->finish_event); /* also when already activated */
    w->finish_event = NULL;
}

int produce_wait_start(produce_wait *w)
{
    if (w == NULL || w->count == 0)
        return PROTO_RESPOND;
    broker_request *req = w->req;
    w->finish_event = event_new(req->broker->base, -1, 0, finish_cb, w);
    for (int32_t i = 0; i < w->count; i++) {
        produce_wait_item *item = &w->items[i];
        int rc = w->finish_event == NULL
                     ? plog_flush(item->log) /* no event: fsync inline rather than ack early */
                     : plog_flush_wait(item->log, item->end_offset, &item->waiter, waiter_done, item);
        if (rc == 0 && w->finish_event != NULL)
            w->pending++;
        else if (rc < 0)
            fail_partition(w, item->pr, rc);
    }
    if (w->pending == 0) {
        if (w->finish_event)
            event_free(w->finish_event);
        w->finish_event = NULL;
        return PROTO_RESPOND;
    }
    req->handler_state = w;
    req->on_abandon = abandon;
    return PROTO_PARKED;
}
