/*
 * compression.h - the four Kafka compression codecs behind one interface:
 * gzip (zlib), snappy (libsnappy), lz4 (liblz4 frame API) and zstd (libzstd).
 *
 * Codec numbers are those of enum batch_codec (batch.h). The formats are the
 * ones Kafka clients put on the wire:
 *
 *   gzip    a gzip stream (RFC 1952); concatenated members are accepted.
 *   snappy  the xerial snappy-java framing the Java client writes:
 *             OFFSET SIZE FIELD
 *                  0    8 magic "\x82SNAPPY\0"
 *                  8    4 version (1)
 *                 12    4 minimum compatible version (1)
 *                 16    - blocks: int32 compressed length, raw snappy block
 *           Decompression also accepts one raw snappy block (no magic), as
 *           librdkafka does.
 *   lz4     LZ4 frames (lz4frame.h); concatenated frames are accepted.
 *   zstd    zstd frames; concatenated and skippable frames are accepted.
 *
 * Decompression is always bounded: the output grows only as real output
 * arrives (never sized from a length the input declares, except a snappy
 * block's length after the whole block was validated and checked against the
 * cap), and output beyond max_bytes is ST_ETOOBIG. Malformed input is
 * ST_ECODEC. Nothing here keeps state between calls; any thread may call.
 */
#ifndef STRAIT_COMPRESSION_H
#define STRAIT_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* True for the codecs this module implements (gzip, snappy, lz4, zstd). */
int compression_codec_known(int codec);

/* Short lower-case name ("gzip") of a codec number, "none" for 0, or
 * "unknown". */
const char *compression_codec_name(int codec);

/* Appends the compressed form of in[0..in_len) to out. Returns 0, ST_ECODEC
 * (unknown codec or library failure), or out's error (ST_ETOOBIG / ST_ENOMEM)
 * with out->len unchanged. */
int compression_compress(int codec, const uint8_t *in, size_t in_len, buf *out);

/* Decompresses in[0..in_len) into *out, which this function initialises (the
 * caller frees it with buf_free, also after an error). Returns 0, ST_ETOOBIG
 * when the output would exceed max_bytes, ST_ECODEC for an unknown codec or
 * malformed input, or ST_ENOMEM. */
int compression_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_bytes,
                           buf *out);

#endif
