/*
 * produce_idempotence.c - the idempotent-producer step of Produce: after a
 * partition's batches are validated and before they are appended, the batch
 * of an idempotent producer is checked against the partition's producer
 * state (broker/log/producer_state.h has the rules) and mapped to Kafka's
 * answers:
 *
 *   outcome                 answer (Produce v3-8)
 *   append                  append; success with the new base offset
 *   duplicate               nothing appended; success (error 0) with the
 *                           original base offset, as Kafka answers a batch
 *                           found among the producer's last five
 *   fenced (older epoch)    INVALID_PRODUCER_EPOCH (47); Kafka >= 2.7 answers
 *                           this, not PRODUCER_FENCED, on the produce path
 *   sequence gap / new
 *   epoch not at 0          OUT_OF_ORDER_SEQUENCE_NUMBER (45)
 *   negative epoch or
 *   sequence                INVALID_RECORD (87)
 *   idempotent batch not
 *   alone in the partition  INVALID_RECORD (87): Kafka refuses any v3+
 *                           partition with more than one batch; strait still
 *                           takes several plain batches, but an idempotent
 *                           one must come alone so the check is all or nothing
 *
 * A producer the partition does not know is accepted at any sequence
 * (KIP-360, DESIGN.md §8): ids of another region, or expired state.
 *
 * Runs on the broker's event-loop thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/log/log_producers.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/producer_apis.h"

static void refuse(produce_idempotence *out, int16_t code, const batch_header *h, const char *what)
{
    out->error_code = code;
    snprintf(out->message, sizeof out->message, "producer_id %" PRId64 " epoch %d sequence %d: %s",
             h->producer_id, (int)h->producer_epoch, (int)h->base_sequence, what);
}

void produce_idempotence_check(const plog *log, const uint8_t *data, size_t len, int batch_count,
                               produce_idempotence *out)
{
    memset(out, 0, sizeof *out);
    out->base_offset = -1;
    out->timestamp_ms = -1;
    batch_header h;
    size_t position = 0;
    bool idempotent = false;
    for (int i = 0; i < batch_count && position < len; i++) {
        if (batch_header_parse(data + position, len - position, &h) != 0)
            return; /* cannot happen: validated; the append path reports it */
        idempotent |= h.producer_id >= 0;
        position += batch_total_bytes(&h);
    }
    if (!idempotent)
        return;
    if (batch_count != 1) {
        out->error_code = KERR_INVALID_RECORD;
        snprintf(out->message, sizeof out->message,
                 "an idempotent batch must be the only batch of its partition (%d batches)",
                 batch_count);
        return;
    }
    batch_header_parse(data, len, &h);
    producer_check_result result;
    plog_producer_check(log, &h, &result);
    char detail[96];
    switch (result.outcome) {
    case PRODUCER_APPEND:
        break;
    case PRODUCER_DUPLICATE:
        out->duplicate = true;
        out->base_offset = result.duplicate.first_offset;
        out->timestamp_ms = result.duplicate.timestamp_ms;
        break;
    case PRODUCER_FENCED:
        snprintf(detail, sizeof detail, "epoch is older than the current epoch %d",
                 (int)result.known_epoch);
        refuse(out, KERR_INVALID_PRODUCER_EPOCH, &h, detail);
        break;
    case PRODUCER_OUT_OF_ORDER:
        if (h.producer_epoch != result.known_epoch)
            snprintf(detail, sizeof detail, "a new epoch must start at sequence 0");
        else
            snprintf(detail, sizeof detail, "out of order, expected sequence %d",
                     (int)result.expected_sequence);
        refuse(out, KERR_OUT_OF_ORDER_SEQUENCE_NUMBER, &h, detail);
        break;
    default:
        refuse(out, KERR_INVALID_RECORD, &h, "an idempotent batch needs epoch and sequence >= 0");
        break;
    }
}
