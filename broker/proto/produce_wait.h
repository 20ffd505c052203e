/*
 * produce_wait.h - the durability step of the Produce handler (private to
 * broker/proto): a request whose appends the flush policy wants durable is
 * parked until the flusher's fsyncs covering them completed, so no ack is
 * ever sent before the data is durable (DESIGN.md §4), while the loop keeps
 * serving other connections (§5).
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PROTO_PRODUCE_WAIT_H
#define STRAIT_PROTO_PRODUCE_WAIT_H

#include <stdint.h>

#include "broker/log/partition_log.h"
#include "broker/proto/api.h"
#include "broker/proto/data_apis.h"

typedef struct produce_wait produce_wait;

/* A wait for at most capacity partitions, in req's arena; NULL without memory. */
produce_wait *produce_wait_new(broker_request *req, int32_t capacity);

/* pr's data below end_offset in log must be durable before the answer. */
void produce_wait_add(produce_wait *w, plog *log, int64_t end_offset, produce_partition_response *pr);

/* Registers every wait. Returns PROTO_PARKED when some fsync is still to
 * complete (the request is finished from a deferred loop event when all
 * did; a partition whose fsync failed is answered KAFKA_STORAGE_ERROR, or
 * NOT_LEADER_OR_FOLLOWER before v4), else PROTO_RESPOND (with any failure
 * already filled in). */
int produce_wait_start(produce_wait *w);

#endif
