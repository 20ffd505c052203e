/*
 * resume.h - where a flow (re)starts a partition, and the offset-map repair
 * that goes with it. Reads the target tail (tail_scan.h); then, if the
 * checkpoint store's map of the partition ends before that tail (the process
 * was killed after the target acknowledged records but before their pairs
 * reached SQLite), re-reads the provenance headers between the map's end and
 * the tail and extends the map, so translation stays exact after a crash.
 *
 * Runs on the flow's thread, on the flow's tail consumer (blocking).
 */
#ifndef STRAIT_MIRROR_RESUME_H
#define STRAIT_MIRROR_RESUME_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "checkpoints/checkpoint_store.h"

typedef struct mirror_resume_request {
    rd_kafka_t *tail_consumer;  /* on the target cluster */
    checkpoint_store *store;
    const char *flow_name;      /* "east->west" */
    const char *source_region;
    const char *source_topic;   /* map key */
    const char *target_topic;
    int32_t partition;
    int timeout_ms;             /* per broker round trip */
} mirror_resume_request;

/* *start_offset: source offset to consume from next, or
 * RD_KAFKA_OFFSET_BEGINNING when the target holds nothing of this partition. */
int mirror_resume_partition(const mirror_resume_request *req, int64_t *start_offset);

#endif
