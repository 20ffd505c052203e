/*
 * region_epochs.h - leader epochs that only grow across regions (DESIGN.md
 * §8): while this broker's region is active under region epoch E, every
 * local partition of a topic matching strait.redirect.topics runs at leader
 * epoch E or higher. A partition below E starts epoch E at its current log
 * end (as a Kafka leader change does: leader-epoch cache entry + checkpoint),
 * so Metadata, Fetch, ListOffsets and OffsetForLeaderEpoch all report E.
 *
 * Called when the state becomes active (region_state_apply), when the broker
 * starts active, and whenever a topic or partition is created while active.
 * Idempotent: a partition already at E or above is left alone.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_REGION_EPOCHS_H
#define STRAIT_REGION_EPOCHS_H

#include "broker/cluster/region_state.h"
#include "broker/cluster/topic_registry.h"

/* Raises t's partitions when rs is active and t matches. Returns the number
 * of partitions raised, or ST_EIO when a leader-epoch checkpoint could not
 * be written (the other partitions are still raised). */
int region_epochs_raise_topic(const region_state *rs, topic *t);

/* region_epochs_raise_topic for every topic of reg. */
int region_epochs_raise_all(const region_state *rs, topic_registry *reg);

#endif
