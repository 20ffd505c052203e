/*
 * coordinator_internal.h - what coordinator.c (registry, timers, parked
 * requests, API entry points) and coordinator_store.c (__consumer_offsets
 * writes, the rebuild on start, offsets expiry) share. Not for use outside
 * broker/group/coordinator*.c.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_COORDINATOR_INTERNAL_H
#define STRAIT_COORDINATOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/group/coordinator.h"
#include "broker/log/batch_build.h"
#include "common/limits.h"

#define OFFSETS_SEGMENT_BYTES "104857600"   /* Kafka's offsets.topic.segment.bytes */
#define LOAD_READ_BYTES (1024 * 1024)        /* __consumer_offsets read per step on start */
#define RECORD_BUF_BYTES ((size_t)LIMIT_BATCH_DECOMPRESSED_BYTES)

typedef struct coord_group {
    coordinator *owner;
    group *g;
    offsets_table *offsets;
    struct event *timer;
    int32_t partition;         /* of __consumer_offsets */
    bool tombstoned;           /* load: the last group record was a tombstone */
    int64_t adoption_refused_ms; /* adoption window (opened at) whose refusal was logged */
    bool rejoin_awaited;       /* its members rejoin after an unplanned failover
                                  (coordinator_rejoin.c) */
    struct coord_group *next;  /* hash chain */
} coord_group;

struct coordinator {
    coordinator_deps deps;     /* what the broker handed over */
    coord_group **buckets;
    size_t bucket_count;       /* power of two */
    size_t group_count;
    group_callbacks callbacks;
    coordinator_waiter *current; /* request being handled now */
    bool current_done;           /* ... and already answered */
    coordinator_waiter **finish; /* answered parked requests to send */
    size_t finish_count, finish_capacity;
    struct event *finish_event;
    int64_t next_retention_check_ms;
    bool loading;              /* rebuilding: no writes, no timers */
    int64_t adoption_opened_ms; /* monotonic; 0 = closed (coordinator_adopt.c) */
    int64_t rejoin_hold_opened_ms; /* monotonic; 0 = no group awaited (coordinator_rejoin.c) */
};

typedef struct collect_ctx {
    coordinator_offset_item *items;
    int32_t count;
    int32_t capacity;
    bool all;                  /* take every offset */
    int64_t expire_before_ms;  /* else: commit timestamps before this */
} collect_ctx;

/* ---- coordinator.c ---- */
group_time coord_now(void);
coord_group *coord_lookup(const coordinator *c, const char *id);
/* The group's entry, created Empty if unknown; NULL when out of memory. */
coord_group *coord_get_or_create(coordinator *c, const char *id);
/* Unlinks and frees e. */
void coord_unlink(coordinator *c, coord_group *e);
/* Re-arms e's timer at the group's next deadline (not while loading). */
void coord_arm(coord_group *e);

/* ---- coordinator_store.c ---- */
/* __consumer_offsets, created when create and missing; NULL on failure. */
topic *coord_offsets_topic(coordinator *c, bool create);
/* Appends records as one batch to a partition of __consumer_offsets; 0 or ST_E*. */
int coord_append_records(coordinator *c, int32_t partition_index, const batch_record *records,
                         int32_t count);
/* group_callbacks.store: writes the group's metadata record. */
void coord_store_group(void *arg, group *g);
/* Tombstones for parts (and the group record when with_group). */
int coord_write_tombstones(coordinator *c, coord_group *e, const coordinator_offset_item *parts,
                           int32_t count, bool with_group);
/* offsets_table_fn collecting into a collect_ctx. */
void coord_collect_cb(void *arg, const char *topic, int32_t partition, const offset_value *v);
/* Rebuilds every group and offset from __consumer_offsets (start-up). */
void coord_load(coordinator *c);

#endif
