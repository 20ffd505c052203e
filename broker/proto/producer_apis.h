/*
 * producer_apis.h - the producer-side APIs beyond Produce: InitProducerId
 * (22), and the idempotence step of the Produce handler (produce_idempotence.c).
 *
 * Message structs are here so tests can build and inspect requests and
 * responses; field names follow the Kafka protocol guide in snake_case.
 * Runs on the broker's event-loop thread like every handler.
 */
#ifndef STRAIT_PROTO_PRODUCER_APIS_H
#define STRAIT_PROTO_PRODUCER_APIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"
#include "broker/log/partition_log.h"
#include "broker/proto/api.h"
#include "broker/proto/codec.h"

extern const proto_api api_init_producer_id; /* key 22, v0-4, flexible from v2 */

/* ---- InitProducerId (key 22) ------------------------------------------- */

typedef struct init_producer_id_request {
    proto_str transactional_id;     /* v0+, nullable */
    int32_t transaction_timeout_ms; /* v0+ */
    int64_t producer_id;            /* v3+, default -1 */
    int16_t producer_epoch;         /* v3+, default -1 */
} init_producer_id_request;

typedef struct init_producer_id_response {
    int32_t throttle_time_ms; /* v0+ */
    int16_t error_code;       /* v0+ */
    int64_t producer_id;      /* v0+, -1 on error */
    int16_t producer_epoch;   /* v0+, -1 on error */
} init_producer_id_response;

/* ---- Produce: the idempotence step -------------------------------------- */

/* What to do with one partition's records after validation. */
typedef struct produce_idempotence {
    bool duplicate;          /* answer success with the offsets below, append nothing */
    int64_t base_offset;     /* duplicate: the original batch's first offset */
    int64_t timestamp_ms;    /* duplicate: the original batch's max timestamp */
    int16_t error_code;      /* KERR_*: refuse the partition's records, append nothing */
    char message[160];       /* for error_code != 0 (Produce v8 error_message) */
} produce_idempotence;

/*
 * Checks the validated batches data[0..len) (batch_count of them) of one
 * partition against its producer state. Idempotent batches must come alone,
 * as Kafka requires of every v3+ partition (INVALID_RECORD otherwise); a
 * non-idempotent set passes unchecked. Fills out; changes nothing.
 */
void produce_idempotence_check(const plog *log, const uint8_t *data, size_t len, int batch_count,
                               produce_idempotence *out);

#endif
