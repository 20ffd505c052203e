/*
 * cluster_meta.h - the identity of a data directory (meta.properties), and
 * the small file helpers the cluster module persists its state with.
 *
 * meta.properties is a Java-properties style text file, as Kafka writes it:
 *
 *   LINE      FIELD
 *   # ...     comment lines (ignored)
 *   version=1
 *   cluster.id=<id>   22-char base64url (no padding) of 16 random bytes when
 *                     generated here; any 1..63 chars of [A-Za-z0-9_-] when
 *                     set by the operator (cluster.id broker config)
 *   node.id=<int32>   the node.id this directory was first started with
 *
 * Unknown keys are ignored (forward compatibility); a missing or malformed
 * cluster.id / node.id makes the file corrupt. The file is written once, on
 * the first start, atomically (tmp + fsync + rename + fsync of the dir).
 *
 * Runs on the broker's event-loop thread during startup.
 */
#ifndef STRAIT_CLUSTER_META_H
#define STRAIT_CLUSTER_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_META_FILE "meta.properties"
#define CLUSTER_ID_MAX 63          /* longest cluster id we accept (chars) */
#define CLUSTER_META_FILE_BYTES_MAX 65536 /* a larger meta.properties is corrupt */

typedef struct cluster_meta {
    char cluster_id[CLUSTER_ID_MAX + 1];
    int32_t node_id;
} cluster_meta;

/*
 * Loads dir/meta.properties, or creates it on the first start. The stored
 * cluster id must equal configured_cluster_id when that is non-empty, and the
 * stored node id must equal node_id: otherwise ST_ECONFIG with err saying
 * which and what to do (the directory belongs to another cluster or node).
 * With no file: uses configured_cluster_id, or generates a new id. Returns 0,
 * ST_ECONFIG, ST_ECORRUPT (err names the file and line) or ST_EIO.
 */
int cluster_meta_load_or_create(const char *dir, const char *configured_cluster_id,
                                int32_t node_id, cluster_meta *out, char *err, size_t errlen);

/* True if id is 1..CLUSTER_ID_MAX chars of [A-Za-z0-9_-]. */
bool cluster_id_valid(const char *id);

/* A new cluster id: base64url of 16 random bytes (UUID v4 bits), 22 chars,
 * never starting with '-' (command lines would take it for an option).
 * out must hold 23 bytes. Returns 0 or ST_EIO (no randomness). */
int cluster_id_generate(char *out);

/* 16 random bytes with the UUID v4 version and variant bits. 0 or ST_EIO. */
int cluster_uuid_v4(uint8_t out[16]);

/* UUID text: 8-4-4-4-12 lowercase hex (out holds 37 bytes); parse also
 * takes it without dashes and in upper case. */
void cluster_uuid_format(const uint8_t id[16], char *out);
bool cluster_uuid_parse(const char *text, uint8_t id[16]);


#endif
