/*
 * batch_recompress.h - re-encodes a producer's record batch with another
 * codec, for topics whose compression.type names one (Kafka recompresses on
 * the broker in that case; "producer" keeps the producer's bytes).
 */
#ifndef STRAIT_BATCH_RECOMPRESS_H
#define STRAIT_BATCH_RECOMPRESS_H

#include <stddef.h>

#include "common/buf.h"

/*
 * Appends to out a batch equal to data[0..len) (one validated batch) but
 * compressed with codec: same base offset, leader epoch, producer id, epoch,
 * base sequence, transactional/control bits, records (keys, values, headers,
 * timestamps, offset deltas). max_decompressed_bytes bounds the records
 * section. Returns 0 or ST_E*; out is unchanged on error.
 */
int batch_recompress(const uint8_t *data, size_t len, int codec, size_t max_decompressed_bytes,
                     buf *out);

#endif
