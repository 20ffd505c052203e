/*
 * topology_client.h - the topology's region-link security keys (private to
 * topology/): `regions.<name>.security.*`, the settings every librdkafka
 * client of a region's brokers uses (topology/region_client.h applies them).
 * Reference: docs/topology.md#region-link-security.
 */
#ifndef STRAIT_TOPOLOGY_CLIENT_H
#define STRAIT_TOPOLOGY_CLIENT_H

#include <stddef.h>

#include "common/yaml_map.h"
#include "topology/topology.h"

/* PLAINTEXT and nothing else: the default of every region. */
void topology_client_defaults(topology_client_security *s);

/* regions.<name>.security.<field> into r: 0, or ST_ECONFIG with msg naming
 * the key and the reason (without file:line). */
int topology_client_key(topology_region *r, const yaml_map_entry *e, const char *field, char *msg,
                        size_t msglen);

/* Relations once the file is read, for every region: SASL needs a mechanism,
 * a username and exactly one of password_file / password_env; TLS files only
 * with SSL or SASL_SSL; certificate and key together; every file readable.
 * 0, or ST_ECONFIG with msg and *line. */
int topology_client_check(const topology *t, char *msg, size_t msglen, int *line);

#endif
