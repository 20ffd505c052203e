/*
 * topology_control.h - the topology's control-plane keys (private to
 * topology/): `control_plane.*` and `regions.<name>.sidecar_certificate` /
 * `sidecar_key`, parsed and checked here so topology.c stays about the
 * deployment's shape. Reference: docs/topology.md#control_plane.
 */
#ifndef STRAIT_TOPOLOGY_CONTROL_H
#define STRAIT_TOPOLOGY_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/yaml_map.h"
#include "topology/topology.h"

/* The defaults: authentication on, reads open, no TLS. */
void topology_control_defaults(topology *t);

/* One control_plane.<field> entry into t. 0, or ST_ECONFIG with msg naming
 * the key and the reason (without file:line). */
int topology_control_key(topology *t, const yaml_map_entry *e, const char *field, char *msg,
                         size_t msglen);

/* regions.<name>.<field> when field is sidecar_certificate or sidecar_key:
 * 0 or ST_ECONFIG with msg; 1 when field is neither (not handled here). */
int topology_control_region_key(topology_region *r, const yaml_map_entry *e, const char *field,
                                char *msg, size_t msglen);

/* Relations once everything is read: with control_plane.ca every region's
 * sidecar needs a certificate and a key (and the witness, when
 * failover.witness is set); without it, no certificate may be given.
 * 0, or ST_ECONFIG with msg and *line. */
int topology_control_check(const topology *t, char *msg, size_t msglen, int *line);

#endif
