/*
 * offsets_store.h - committed offsets and group metadata in the internal
 * compacted topic __consumer_offsets, in Kafka's own key/value layout (so
 * Kafka tools that read the topic understand it), and the in-memory table of
 * one group's committed offsets.
 *
 * Records (every integer big-endian; strings int16 length + bytes, nullable
 * strings -1 for null, bytes int32 length + bytes):
 *
 *   offset commit key    version int16 = 1 (0 also read)
 *                        group string, topic string, partition int32
 *   offset commit value  version int16 = 3 (0, 1, 4 also read)
 *                        offset int64, leader_epoch int32 (v3+),
 *                        metadata string, commit_timestamp int64,
 *                        expire_timestamp int64 (v1 only)
 *   group metadata key   version int16 = 2, group string
 *   group metadata value version int16 = 3 (0-2, 4 also read)
 *                        protocol_type string, generation int32,
 *                        protocol nullable string, leader nullable string,
 *                        current_state_timestamp int64 (v2+),
 *                        members[]: member_id string, group_instance_id
 *                        nullable string (v3+), client_id string,
 *                        client_host string, rebalance_timeout int32 (v1+),
 *                        session_timeout int32, subscription bytes,
 *                        assignment bytes
 *   A null value is a tombstone (offset deleted / group deleted).
 *   Version 4 values are flexible: strings and bytes carry an unsigned
 *   varint length + 1 (0 = null), arrays a varint count + 1, and every
 *   struct (the value, each member) ends with tagged fields (a varint count,
 *   then tag, size, bytes each), which are skipped.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_OFFSETS_STORE_H
#define STRAIT_OFFSETS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/group/group.h"
#include "common/buf.h"

#define OFFSETS_TOPIC "__consumer_offsets"

/* ---- encoding ------------------------------------------------------------ */

void offsets_key_commit(buf *out, const char *group_id, const char *topic, size_t topic_len,
                        int32_t partition);
void offsets_value_commit(buf *out, int64_t offset, int32_t leader_epoch, const char *metadata,
                          size_t metadata_len, int64_t commit_timestamp_ms);
void offsets_key_group(buf *out, const char *group_id);
/* The group's current generation as a group metadata value (v3). */
void offsets_value_group(buf *out, const group *g);

/* ---- decoding ------------------------------------------------------------ */

enum offsets_record_kind {
    OFFSETS_RECORD_UNKNOWN = 0, /* a key version we do not know: skipped */
    OFFSETS_RECORD_COMMIT = 1,
    OFFSETS_RECORD_GROUP = 2,
};

/* A string or bytes field of a record: points into the record, not
 * NUL-terminated; len -1 = null. */
typedef struct offsets_span {
    const char *ptr;
    int32_t len;
} offsets_span;

typedef struct offsets_stored_member {
    offsets_span member_id;
    offsets_span group_instance_id;
    offsets_span client_id;
    offsets_span client_host;
    int32_t rebalance_timeout;   /* -1 before value v1 */
    int32_t session_timeout;
    offsets_span subscription;
    offsets_span assignment;
} offsets_stored_member;

typedef struct offsets_stored_group {
    offsets_span protocol_type;
    int32_t generation;
    offsets_span protocol;
    offsets_span leader;
    int64_t current_state_timestamp; /* -1 before value v2 */
    offsets_stored_member *members;  /* member_count, owned by the record */
    int32_t member_count;
} offsets_stored_group;

typedef struct offsets_record {
    int kind;              /* enum offsets_record_kind */
    bool tombstone;        /* null value */
    offsets_span group_id;
    offsets_span topic;    /* commit */
    int32_t partition;     /* commit */
    int64_t offset;        /* commit */
    int32_t leader_epoch;  /* commit */
    offsets_span metadata; /* commit */
    int64_t commit_timestamp; /* commit */
    offsets_stored_group group; /* group metadata */
} offsets_record;

/* Decodes one record of __consumer_offsets (value NULL or value_len < 0: a
 * tombstone). Strings point into key/value; the members of a group record
 * are allocated: free them with offsets_record_clear. Returns 0, ST_ECORRUPT
 * (nothing to clear) or ST_ENOMEM. */
int offsets_record_decode(const uint8_t *key, int32_t key_len, const uint8_t *value,
                          int32_t value_len, offsets_record *out);
/* Frees what offsets_record_decode allocated in r (safe to call twice). */
void offsets_record_clear(offsets_record *r);

/* ---- one group's committed offsets ---------------------------------------- */

typedef struct offset_value {
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;              /* metadata_len bytes (any bytes, NUL too) + a NUL; owned */
    size_t metadata_len;
    int64_t commit_timestamp_ms;
} offset_value;

typedef struct offsets_table offsets_table;

offsets_table *offsets_table_new(void);
void offsets_table_free(offsets_table *t);
/* NULL when nothing is committed for (topic, partition). */
const offset_value *offsets_table_get(const offsets_table *t, const char *topic, size_t topic_len,
                                      int32_t partition);
/* Sets (topic, partition). ST_EINVAL for a partition outside
 * [0, LIMIT_PARTITIONS_PER_TOPIC), ST_ENOMEM. */
int offsets_table_put(offsets_table *t, const char *topic, size_t topic_len, int32_t partition,
                      int64_t offset, int32_t leader_epoch, const char *metadata,
                      size_t metadata_len, int64_t commit_timestamp_ms);
/* Removes (topic, partition); false when it was not there. */
bool offsets_table_delete(offsets_table *t, const char *topic, size_t topic_len, int32_t partition);
int32_t offsets_table_count(const offsets_table *t);

/* Calls fn for each committed offset, topics in first-commit order,
 * partitions ascending. fn must not change t. */
typedef void (*offsets_table_fn)(void *arg, const char *topic, int32_t partition,
                                 const offset_value *v);
void offsets_table_each(const offsets_table *t, offsets_table_fn fn, void *arg);

#endif
