/*
 * producer_state.h - what one partition knows about its idempotent producers
 * (Kafka's ProducerStateManager, learnt from its semantics): per producer id
 * the current epoch, the sequence and offset ranges of its last five batches,
 * and when it was last active. From this the broker decides, for each batch
 * an idempotent producer sends, whether to append it, to answer it as a
 * duplicate with the offsets it got the first time, or to refuse it.
 *
 * Rules (client appends; producer_state_check):
 *   - producer id < 0: not idempotent, always appended.
 *   - base sequence < 0 or epoch < 0 with a producer id: invalid batch.
 *   - unknown producer id: appended whatever its sequence. This is Kafka's
 *     behaviour since KIP-360 (2.5) and what DESIGN.md §8 needs: a producer
 *     whose id was allocated in another region, or whose state expired,
 *     resumes without a fatal error.
 *   - epoch older than the one known: fenced (INVALID_PRODUCER_EPOCH).
 *   - same epoch, same first and last sequence as one of the cached batches:
 *     duplicate; nothing is appended and the client is told the original
 *     offsets.
 *   - same epoch: the first sequence must follow the last one known
 *     (INT32_MAX is followed by 0), else out of order.
 *   - newer epoch: the first sequence must be 0, else out of order; appending
 *     it forgets the batches of the older epoch.
 *
 * Sequence numbers are int32 and wrap: a batch whose base sequence is s and
 * whose last offset delta is d covers s .. s+d modulo 2^31.
 *
 * A producer's last activity is the broker's wall clock when its batch was
 * appended (not the batch timestamp, which a mirror may carry from long ago);
 * for batches re-read from the log during recovery it is the recovery time,
 * so that recovery never expires a producer early. A producer inactive for
 * producer.id.expiration.ms is forgotten.
 *
 * Not thread-safe: owned by one partition log on the event-loop thread.
 */
#ifndef STRAIT_PRODUCER_STATE_H
#define STRAIT_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"

/* Batches remembered per producer: Kafka's value, matching the clients'
 * max.in.flight.requests.per.connection <= 5 for idempotence. */
#define PRODUCER_BATCHES_CACHED 5

typedef struct producer_batch {
    int32_t first_sequence;
    int32_t last_sequence;   /* first_sequence + last offset delta, wrapped */
    int64_t first_offset;
    int64_t last_offset;
    int64_t timestamp_ms;    /* the batch's max timestamp as stored */
} producer_batch;

typedef struct producer_entry {
    int64_t producer_id;       /* >= 0 */
    int64_t last_activity_ms;  /* wall clock of the last append (see above) */
    int16_t producer_epoch;    /* >= 0 */
    uint8_t batch_count;       /* 1 .. PRODUCER_BATCHES_CACHED */
    producer_batch batches[PRODUCER_BATCHES_CACHED]; /* oldest first */
} producer_entry;

typedef struct producer_state producer_state;

/* An empty map holding at most max_producers producers (beyond that the
 * least recently active one is forgotten). Returns 0 or ST_ENOMEM/ST_EINVAL. */
int producer_state_create(size_t max_producers, producer_state **out);
void producer_state_free(producer_state *ps);
/* Forgets every producer. */
void producer_state_clear(producer_state *ps);
size_t producer_state_count(const producer_state *ps);
/* The entry of producer_id, or NULL. Valid until the next change. */
const producer_entry *producer_state_find(const producer_state *ps, int64_t producer_id);
/* Calls fn for every entry, in no particular order. */
void producer_state_each(const producer_state *ps, void (*fn)(void *arg, const producer_entry *e),
                         void *arg);

/* Sequence arithmetic with the int32 wrap: seq + delta (delta >= 0). */
int32_t producer_sequence_add(int32_t sequence, int32_t delta);
/* True when next follows last (last + 1, or 0 after INT32_MAX). */
bool producer_sequence_follows(int32_t last, int32_t next);

enum producer_check_outcome {
    PRODUCER_APPEND = 0,       /* append it (also: not idempotent, unknown producer) */
    PRODUCER_DUPLICATE = 1,    /* already in the log: answer with `duplicate` */
    PRODUCER_FENCED = 2,       /* epoch older than known: INVALID_PRODUCER_EPOCH */
    PRODUCER_OUT_OF_ORDER = 3, /* sequence gap or bad first sequence: OUT_OF_ORDER_SEQUENCE_NUMBER */
    PRODUCER_INVALID = 4,      /* producer id with a negative epoch or sequence: INVALID_RECORD */
};

typedef struct producer_check_result {
    int outcome;                /* enum producer_check_outcome */
    producer_batch duplicate;   /* PRODUCER_DUPLICATE: the original batch */
    int16_t known_epoch;        /* epoch the broker knows, -1 when the producer is unknown */
    int32_t expected_sequence;  /* next sequence expected in known_epoch, -1 when unknown */
} producer_check_result;

/* Decides what to do with a batch a client sent (h as received: base offset
 * not yet assigned). Changes nothing. */
void producer_state_check(const producer_state *ps, const batch_header *h,
                          producer_check_result *out);

/* Records a batch that is now in the log (h with its assigned base offset);
 * no checks (recovery replays the log through this too). Batches without a
 * producer id are ignored. activity_ms is the producer's last activity.
 * Returns 0 or ST_ENOMEM. */
int producer_state_update(producer_state *ps, const batch_header *h, int64_t activity_ms);

/* Inserts (or replaces) a whole entry, as a snapshot load does. The entry
 * must be valid (producer_entry_valid). Returns 0 or ST_ENOMEM/ST_EINVAL. */
int producer_state_put(producer_state *ps, const producer_entry *e);

/* Forgets producers with now_ms - last_activity_ms >= expiration_ms.
 * Returns how many were forgotten. */
size_t producer_state_expire(producer_state *ps, int64_t now_ms, int64_t expiration_ms);

/* Internal consistency of one entry (ids, counts, ordered offsets, wrapped
 * sequences matching the offset span), all below end_offset. */
bool producer_entry_valid(const producer_entry *e, int64_t end_offset);

#endif
