/*
 * provenance.h - the strait.src header every mirrored record carries
 * (mirror/flow.h): "<source region>:<source partition>:<source offset>",
 * ASCII decimal, no padding. It is how a restarted flow finds where to resume
 * (the last one in a target partition) and how identity naming breaks cycles
 * (a record whose chain names the flow's target region is never copied back)
 * and duplicates (a record relayed from a region other than its origin is
 * copied only if the target does not hold it from the origin already).
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

#include <stdbool.h>
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

/*
 * A record's strait.src values, in header order: each flow appends its own,
 * so the first names the region that took the write (the record's origin)
 * and the others the regions it was relayed through. A record with none was
 * written in the region it is read from.
 */
typedef struct mirror_provenance_chain {
    bool has_origin;
    mirror_provenance origin; /* the first parseable value */
    bool names_target;        /* some value names the flow's target region */
} mirror_provenance_chain;

/* Starts an empty chain. */
void mirror_provenance_chain_init(mirror_provenance_chain *chain);
/* Adds the next value in header order; an unparseable one (someone else's
 * header under our name) is ignored. */
void mirror_provenance_chain_add(mirror_provenance_chain *chain, const void *value, size_t size,
                                 const char *target_region);

/* What a flow under identity naming does with one record (the rule and its
 * reason are in docs/architecture.md, "Mirroring between more than two
 * regions"). */
enum mirror_identity_verdict {
    MIRROR_IDENTITY_COPY,
    MIRROR_IDENTITY_SKIP_LOOP, /* the target is on its chain: it came from there */
    MIRROR_IDENTITY_SKIP_HELD, /* relayed, and the target holds it from its origin */
};

/* held_offset: the highest offset of the origin's partition the target holds
 * (the offset map of the origin's own flow into the target), -1 if none or
 * unknown; asked only for a record whose origin is not source_region. */
enum mirror_identity_verdict mirror_identity_verdict(const mirror_provenance_chain *chain,
                                                     const char *source_region,
                                                     int64_t held_offset);

#endif
