/*
 * request_park.h - requests parked for long polls (Fetch waiting for
 * fetch.min.bytes, Produce waiting for its fsyncs): the broker's park list,
 * the timer of each parked request, and the deferred wake-up after appends.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_REQUEST_PARK_H
#define STRAIT_PROTO_REQUEST_PARK_H

#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/broker_context.h"

/* Parks req until broker_notify_append wakes it (on_wake(req, false)) or
 * timeout_ms passes (on_wake(req, true)). on_wake either re-parks (call
 * broker_request_park again), or fills the response and calls
 * broker_request_finish. Returns 0 or ST_ENOMEM. */
int broker_request_park(broker_request *req, int64_t timeout_ms, broker_request_wake_fn on_wake);

/* Takes req off the park list and frees its timer; nothing when it is not
 * parked (dispatch.c calls it before freeing any request). */
void broker_request_unpark(broker_request *req);

/* Called after records are appended to p: wakes parked requests (Fetch
 * long-polls) so they re-check their partitions. The wake-up is deferred to
 * b->wake_event so that a handler never re-enters another connection's
 * request processing. */
void broker_notify_append(broker *b, partition *p);

/* Runs the deferred wake-up of parked requests (b->wake_event's callback,
 * set up by the root, calls it). */
void broker_wake_parked(broker *b);

#endif
