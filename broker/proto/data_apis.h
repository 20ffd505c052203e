/*
 * data_apis.h - the data-path APIs: Produce (0), Fetch (1), ListOffsets (2),
 * DeleteRecords (21) and OffsetForLeaderEpoch (23).
 *
 * api_table.c references the api_* descriptors; the message structs are here
 * (not in the .c files) so tests can build and inspect requests and
 * responses. Field names follow the Kafka protocol guide in snake_case; the
 * version ranges in the comments are where a field is on the wire. Our own
 * tables, written from the protocol definitions: only the versions strait
 * implements are described (see each .c file for its field table).
 *
 * The two inline helpers at the end are shared by the handlers: partition
 * lookup and the KIP-320 leader-epoch fence. They run on the broker's
 * event-loop thread like every handler.
 */
#ifndef STRAIT_PROTO_DATA_APIS_H
#define STRAIT_PROTO_DATA_APIS_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/codec.h"
#include "broker/proto/kafka_error.h"

extern const proto_api api_produce;                 /* key 0,  v0-8 (v0-2 refused per partition) */
extern const proto_api api_fetch;                   /* key 1,  v4-11 */
extern const proto_api api_list_offsets;            /* key 2,  v1-5 */
extern const proto_api api_delete_records;          /* key 21, v0-1 */
extern const proto_api api_offset_for_leader_epoch; /* key 23, v2-3 */

/* Frees the incremental fetch sessions (KIP-227) of b; broker_close should
 * call it (sessions hold only names and numbers, never pointers into logs). */
void fetch_sessions_release(const struct broker *b);

/* How long a Fetch asking for max_wait_ms may be parked: 0 for a
 * non-positive wait, else max_wait_ms clamped to limit_ms
 * (fetch.wait.limit.ms). */
int64_t fetch_wait_ms(int32_t max_wait_ms, int64_t limit_ms);

/* ---- Produce (key 0) --------------------------------------------------- */

typedef struct produce_partition_data {
    int32_t partition_index;  /* v0+ */
    proto_records records;    /* v0+, nullable; v3+: record batches v2 back to back */
} produce_partition_data;

typedef struct produce_topic_data {
    proto_str name;           /* v0+ */
    proto_array partitions;   /* v0+, produce_partition_data */
} produce_topic_data;

typedef struct produce_request {
    proto_str transactional_id; /* v3+, nullable */
    int16_t acks;               /* v0+: 0, 1 or -1 */
    int32_t timeout_ms;         /* v0+ */
    proto_array topics;         /* v0+, produce_topic_data */
} produce_request;

typedef struct produce_record_error {
    int32_t batch_index;                 /* v8+ */
    proto_str batch_index_error_message; /* v8+, nullable */
} produce_record_error;

typedef struct produce_partition_response {
    int32_t partition_index;    /* v0+ */
    int16_t error_code;         /* v0+ */
    int64_t base_offset;        /* v0+ */
    int64_t log_append_time_ms; /* v2+, -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset;   /* v5+ */
    proto_array record_errors;  /* v8+, produce_record_error */
    proto_str error_message;    /* v8+, nullable */
} produce_partition_response;

typedef struct produce_topic_response {
    proto_str name;           /* v0+ */
    proto_array partitions;   /* v0+, produce_partition_response */
} produce_topic_response;

typedef struct produce_response {
    proto_array responses;    /* v0+, produce_topic_response */
    int32_t throttle_time_ms; /* v1+ */
} produce_response;

/* ---- Fetch (key 1) ----------------------------------------------------- */

typedef struct fetch_partition {
    int32_t partition;            /* v0+ */
    int32_t current_leader_epoch; /* v9+, -1 = no fence */
    int64_t fetch_offset;         /* v0+ */
    int64_t log_start_offset;     /* v5+, followers only */
    int32_t partition_max_bytes;  /* v0+ */
} fetch_partition;

typedef struct fetch_topic {
    proto_str topic;              /* v0+ */
    proto_array partitions;       /* v0+, fetch_partition */
} fetch_topic;

/* One element of the int32 array ForgottenPartitionIndexes: a struct of one
 * int32 has exactly the classic encoding of an int32 (Fetch <= 11 is never
 * flexible, so no tagged-field section follows it). */
typedef struct fetch_forgotten_topic {
    proto_str topic;              /* v7+ */
    proto_array partitions;       /* v7+, proto_int32 */
} fetch_forgotten_topic;

typedef struct fetch_request {
    int32_t replica_id;           /* v0+, -1 for consumers */
    int32_t max_wait_ms;          /* v0+ */
    int32_t min_bytes;            /* v0+ */
    int32_t max_bytes;            /* v3+ */
    int8_t isolation_level;       /* v4+: 0 read_uncommitted, 1 read_committed */
    int32_t session_id;           /* v7+, 0 = none */
    int32_t session_epoch;        /* v7+, -1 = final (sessionless), 0 = new session */
    proto_array topics;           /* v0+, fetch_topic */
    proto_array forgotten_topics_data; /* v7+, fetch_forgotten_topic */
    proto_str rack_id;            /* v11+ */
} fetch_request;

typedef struct fetch_aborted_transaction {
    int64_t producer_id;          /* v4+ */
    int64_t first_offset;         /* v4+ */
} fetch_aborted_transaction;

typedef struct fetch_partition_data {
    int32_t partition_index;      /* v0+ */
    int16_t error_code;           /* v0+ */
    int64_t high_watermark;       /* v0+ */
    int64_t last_stable_offset;   /* v4+ */
    int64_t log_start_offset;     /* v5+ */
    proto_array aborted_transactions; /* v4+, nullable, fetch_aborted_transaction */
    int32_t preferred_read_replica;   /* v11+, -1 = none */
    proto_records records;        /* v0+, nullable; in_file for log data */
} fetch_partition_data;

typedef struct fetch_topic_response {
    proto_str topic;              /* v0+ */
    proto_array partitions;       /* v0+, fetch_partition_data */
} fetch_topic_response;

typedef struct fetch_response {
    int32_t throttle_time_ms;     /* v1+ */
    int16_t error_code;           /* v7+, session errors */
    int32_t session_id;           /* v7+ */
    proto_array responses;        /* v0+, fetch_topic_response */
} fetch_response;

/* ---- ListOffsets (key 2) ----------------------------------------------- */

typedef struct list_offsets_partition {
    int32_t partition_index;      /* v0+ */
    int32_t current_leader_epoch; /* v4+, -1 = no fence */
    int64_t timestamp;            /* v0+: -2 earliest, -1 latest, else ms */
} list_offsets_partition;

typedef struct list_offsets_topic {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, list_offsets_partition */
} list_offsets_topic;

typedef struct list_offsets_request {
    int32_t replica_id;           /* v0+ */
    int8_t isolation_level;       /* v2+ */
    proto_array topics;           /* v0+, list_offsets_topic */
} list_offsets_request;

typedef struct list_offsets_partition_response {
    int32_t partition_index;      /* v0+ */
    int16_t error_code;           /* v0+ */
    int64_t timestamp;            /* v1+, -1 = none */
    int64_t offset;               /* v1+, -1 = none */
    int32_t leader_epoch;         /* v4+, -1 = unknown */
} list_offsets_partition_response;

typedef struct list_offsets_topic_response {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, list_offsets_partition_response */
} list_offsets_topic_response;

typedef struct list_offsets_response {
    int32_t throttle_time_ms;     /* v2+ */
    proto_array topics;           /* v0+, list_offsets_topic_response */
} list_offsets_response;

/* ---- DeleteRecords (key 21) -------------------------------------------- */

typedef struct delete_records_partition {
    int32_t partition_index;      /* v0+ */
    int64_t offset;               /* v0+, -1 = high watermark */
} delete_records_partition;

typedef struct delete_records_topic {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, delete_records_partition */
} delete_records_topic;

typedef struct delete_records_request {
    proto_array topics;           /* v0+, delete_records_topic */
    int32_t timeout_ms;           /* v0+ */
} delete_records_request;

typedef struct delete_records_partition_result {
    int32_t partition_index;      /* v0+ */
    int64_t low_watermark;        /* v0+ */
    int16_t error_code;           /* v0+ */
} delete_records_partition_result;

typedef struct delete_records_topic_result {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, delete_records_partition_result */
} delete_records_topic_result;

typedef struct delete_records_response {
    int32_t throttle_time_ms;     /* v0+ */
    proto_array topics;           /* v0+, delete_records_topic_result */
} delete_records_response;

/* ---- OffsetForLeaderEpoch (key 23) ------------------------------------- */

typedef struct offset_for_leader_partition {
    int32_t partition;            /* v0+ */
    int32_t current_leader_epoch; /* v2+, -1 = no fence */
    int32_t leader_epoch;         /* v0+: the epoch to look up */
} offset_for_leader_partition;

typedef struct offset_for_leader_topic {
    proto_str topic;              /* v0+ */
    proto_array partitions;       /* v0+, offset_for_leader_partition */
} offset_for_leader_topic;

typedef struct offset_for_leader_epoch_request {
    int32_t replica_id;           /* v3+, default -2 (debug consumer) */
    proto_array topics;           /* v0+, offset_for_leader_topic */
} offset_for_leader_epoch_request;

typedef struct offset_for_leader_partition_result {
    int16_t error_code;           /* v0+ */
    int32_t partition;            /* v0+ */
    int32_t leader_epoch;         /* v1+ */
    int64_t end_offset;           /* v0+ */
} offset_for_leader_partition_result;

typedef struct offset_for_leader_topic_result {
    proto_str topic;              /* v0+ */
    proto_array partitions;       /* v0+, offset_for_leader_partition_result */
} offset_for_leader_topic_result;

typedef struct offset_for_leader_epoch_response {
    int32_t throttle_time_ms;     /* v2+ */
    proto_array topics;           /* v0+, offset_for_leader_topic_result */
} offset_for_leader_epoch_response;

/* ---- helpers shared by the handlers ------------------------------------ */

/* Finds partition index of the named topic (no auto-creation). Returns
 * KERR_NONE with *out set, or KERR_UNKNOWN_TOPIC_OR_PARTITION. */
static inline int16_t data_partition_find(struct broker *b, proto_str topic_name, int32_t index,
                                          partition **out)
{
    *out = NULL;
    if (topic_name.len <= 0)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    topic *t = topic_registry_find(b->topics, topic_name.ptr, (size_t)topic_name.len);
    partition *p = t ? topic_partition(t, index) : NULL;
    if (!p || !p->log)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    *out = p;
    return KERR_NONE;
}

/* KIP-320 fence, as Kafka applies it to Fetch, ListOffsets and
 * OffsetForLeaderEpoch: -1 means "no check"; a client epoch above ours means
 * our metadata is behind (retriable UNKNOWN_LEADER_EPOCH), below ours means
 * the client's is stale (FENCED_LEADER_EPOCH: refresh metadata). */
static inline int16_t data_leader_epoch_check(const plog *log, int32_t current_leader_epoch)
{
    if (current_leader_epoch == -1)
        return KERR_NONE;
    int32_t ours = plog_leader_epoch(log);
    if (current_leader_epoch > ours)
        return KERR_UNKNOWN_LEADER_EPOCH;
    if (current_leader_epoch < ours)
        return KERR_FENCED_LEADER_EPOCH;
    return KERR_NONE;
}

#endif
