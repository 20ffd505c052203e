/*
 * provenance.h - the strait.src header every mirrored record carries
 * (mirror/flow.h): "<source region>:<source partition>:<source offset>",
 * ASCII decimal, no padding. It is how a restarted flow finds where to resume
 * (the last one in a target partition) and how identity naming breaks cycles
 * (a record whose origin is the flow's target region is never copied back).
 *
 *   FIELD            FORMAT                      LIMIT
 *   region           [a-z0-9-]{1,63}             TOPOLOGY_NAME_MAX - 1 bytes
 *   ':'
 *   partition        decimal, 0 .. INT32_MAX     no sign, no leading '+'
 *   ':'
 *   offset           decimal, 0 .. INT64_MAX     no sign
 *
 * The value comes from a record that anyone may have produced, so parsing is
 * strict and bounded: anything else is ST_ECORRUPT, never a guess.
 */
#ifndef STRAIT_MIRROR_PROVENANCE_H
#define STRAIT_MIRROR_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

/* Longest value: 63-byte region, two ':' , 10 + 19 digits. */
#define MIRROR_PROVENANCE_VALUE_MAX (TOPOLOGY_NAME_MAX - 1 + 2 + 10 + 19)

typedef struct mirror_provenance {
    char region[TOPOLOGY_NAME_MAX];
    int32_t partition;
    int64_t offset;
} mirror_provenance;

/* Writes the header value (not NUL-terminated in the record; out gets a NUL
 * for convenience). Returns its length, or ST_EINVAL / ST_ETOOBIG. */
int mirror_provenance_format(const char *region, int32_t partition, int64_t offset, char *out,
                             size_t outlen);

/* Parses size bytes of value. 0 or ST_ECORRUPT. */
int mirror_provenance_parse(const void *value, size_t size, mirror_provenance *out);

#endif
