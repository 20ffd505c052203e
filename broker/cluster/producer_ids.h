/*
 * producer_ids.h - allocation of idempotent producer ids (InitProducerId),
 * unique across every broker of every region and across restarts.
 *
 * Scheme: a producer id is a non-negative int64 made of the broker's node.id
 * and a per-node counter,
 *
 *   BITS   FIELD
 *     63   0 (producer ids are never negative)
 *   62-32  node.id (0 .. 2^31-1; node ids are unique across regions, DESIGN.md §8)
 *   31-0   counter, per node, never reused
 *
 * so two brokers can never hand out the same id, with no coordination
 * between them (Kafka coordinates blocks through its controller instead).
 * The counter is allocated in blocks of PRODUCER_ID_BLOCK_SIZE: before the
 * first id of a block is handed out, the end of the block is written durably
 * to <first log dir>/producer-id-block (checkpoint_file.h text format: one
 * entry, one column: the next counter value not yet reserved). After a
 * restart (clean or kill -9) allocation resumes at that value, so ids of a
 * block that were reserved but never handed out are skipped, never reused.
 * A node can hand out 2^32 ids (4.29 billion); after that InitProducerId
 * fails (logged) rather than wrap.
 *
 * Runs on the broker's event-loop thread.
 */
#ifndef STRAIT_PRODUCER_IDS_H
#define STRAIT_PRODUCER_IDS_H

#include <stdint.h>

#define PRODUCER_ID_BLOCK_SIZE 1000
#define PRODUCER_ID_BLOCK_FILE "producer-id-block"
#define PRODUCER_ID_COUNTER_BITS 32

typedef struct producer_ids producer_ids;

/* Reads data_dir/producer-id-block (a missing file starts the counter at 0).
 * Returns 0, ST_ECORRUPT (damaged file: refusing to start is the only safe
 * choice, since guessing could reuse ids), ST_EINVAL, ST_EIO or ST_ENOMEM. */
int producer_ids_open(const char *data_dir, int32_t node_id, producer_ids **out);
void producer_ids_close(producer_ids *ids);

/* The next producer id. Reserves a new block first when the current one is
 * used up (one atomic file write with fsync). Returns 0, ST_EIO (the block
 * could not be persisted: nothing is handed out) or ST_ETOOBIG (exhausted). */
int producer_ids_next(producer_ids *ids, int64_t *out);

#endif
