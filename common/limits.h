/*
 * limits.h - every hard limit of strait in one place, each with its reason.
 *
 * User-facing limits that Kafka also has carry the Kafka config name; those
 * are defaults that configuration may lower or raise within the bounds here.
 */
#ifndef STRAIT_LIMITS_H
#define STRAIT_LIMITS_H

/* socket.request.max.bytes default: Kafka's own default (100 MiB). A frame
 * larger than the configured value is refused before anything is allocated. */
#define LIMIT_REQUEST_BYTES_DEFAULT (100 * 1024 * 1024)

/* Absolute ceiling for socket.request.max.bytes: frame sizes are int32 on the
 * wire and we never want a single allocation near 2 GiB. */
#define LIMIT_REQUEST_BYTES_CEILING (1024 * 1024 * 1024)

/* Bytes the decoder may allocate for one request's parsed structures (arrays
 * of topics, partitions, ...). Strings and record sets point into the frame and
 * cost nothing; this bounds the amplification of small array elements. */
#define LIMIT_DECODE_ARENA_BYTES (64 * 1024 * 1024)

/* Nesting depth of schema structs; Kafka messages nest at most 4 deep. */
#define LIMIT_SCHEMA_DEPTH 8

/* message.max.bytes default (Kafka: 1048588 = 1 MiB + batch overhead). */
#define LIMIT_MESSAGE_BYTES_DEFAULT 1048588

/* Decompressed size cap per record batch: a compression bomb must not exhaust
 * memory. 64 MiB covers the largest sane batch at any compression ratio. */
#define LIMIT_BATCH_DECOMPRESSED_BYTES (64 * 1024 * 1024)

/* Records in one batch: the count is int32 on the wire; each record is at
 * least 7 bytes, so no batch within the decompressed cap can hold more. */
#define LIMIT_BATCH_RECORDS ((LIMIT_BATCH_DECOMPRESSED_BYTES) / 7)

/* Topic name length: Kafka's own limit (249 characters). */
#define LIMIT_TOPIC_NAME_LENGTH 249

/* Partitions per topic: keeps per-topic arrays and file descriptors bounded. */
#define LIMIT_PARTITIONS_PER_TOPIC 10000

/* Requests a connection may have read but not answered; Kafka handles one at
 * a time per connection and so do we: the rest wait in the socket buffer. */
#define LIMIT_INFLIGHT_PER_CONNECTION 1

/* Response bytes buffered for a slow reader before we stop reading its
 * requests (back-pressure instead of unbounded memory). */
#define LIMIT_CONNECTION_OUTPUT_BYTES (256 * 1024 * 1024)

/* Open connections per broker; beyond this new ones are accepted and closed. */
#define LIMIT_CONNECTIONS 10000

/* Bytes of a config value (topic or broker) we accept. */
#define LIMIT_CONFIG_VALUE_LENGTH 4096

/* Longest YAML config file accepted. */
#define LIMIT_CONFIG_FILE_BYTES (1024 * 1024)

_Static_assert(LIMIT_REQUEST_BYTES_DEFAULT <= LIMIT_REQUEST_BYTES_CEILING,
               "default request size must be under the ceiling");
_Static_assert(LIMIT_MESSAGE_BYTES_DEFAULT < LIMIT_REQUEST_BYTES_DEFAULT,
               "a maximal message must fit in a request");

#endif
