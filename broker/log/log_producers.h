/*
 * log_producers.h - the idempotent-producer state of a partition log, as the
 * Produce handler sees it: the check of one batch before it is appended.
 * plog_append records every idempotent batch it writes, the log snapshots the
 * state at segment roll and clean close, and rebuilds it on open
 * (log_producers.c, file format in producer_snapshot.h).
 *
 * Runs on the broker's event-loop thread like the rest of the log.
 */
#ifndef STRAIT_LOG_PRODUCERS_H
#define STRAIT_LOG_PRODUCERS_H

#include <stddef.h>

#include "broker/log/batch.h"
#include "broker/log/partition_log.h"
#include "broker/log/producer_state.h"

/* What to do with batch h (as a client sent it) given the producer state of
 * the partition: append, answer as a duplicate, or refuse. Changes nothing. */
void plog_producer_check(const plog *log, const batch_header *h, producer_check_result *out);

/* Forgets every producer of the partition and snapshots the empty state at
 * the log end, so a restart does not bring them back. Called when the region
 * takes over the partition (broker/cluster/region_epochs.c): producers then
 * continue with the sequence numbers they used in the other region, which
 * this log never saw, and are accepted as unknown producers (KIP-360). */
void plog_forget_producers(plog *log);

/* Producers currently known by the partition (tests, metrics). */
size_t plog_producer_count(const plog *log);

/* The producer's entry, or NULL (tests). Valid until the next append. */
const producer_entry *plog_producer_find(const plog *log, int64_t producer_id);

#endif
