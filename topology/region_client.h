/*
 * region_client.h - the one place a librdkafka client configuration for a
 * region's brokers is made: bootstrap.servers, client.id and the region's
 * link security (regions.<name>.security.*: TLS files, SASL mechanism,
 * username, and the password read from its file or environment variable at
 * this moment, so a rotated password reaches the next client). Every client
 * the sidecar and the CLI create starts here, so none forgets TLS or SASL.
 */
#ifndef STRAIT_REGION_CLIENT_H
#define STRAIT_REGION_CLIENT_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "topology/topology.h"

/* A new configuration for a client of region's brokers, or NULL with err
 * ("region east: security.password_file: cannot read ..."); err never holds
 * the password. The caller adds its own settings and hands it to
 * rd_kafka_new (or rd_kafka_conf_destroy). */
rd_kafka_conf_t *region_client_conf_new(const topology *t, int region, const char *client_id,
                                        char *err, size_t errlen);

#endif
