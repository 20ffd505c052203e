/*
 * route_params.h - the query parameters the vote and heartbeat routes share
 * (a sidecar's /failover/heartbeat and /failover/vote, the witness's
 * /witness/vote and /witness/heartbeat): a region named by the topology and
 * a region epoch, parsed strictly so both servers refuse the same input with
 * the same words.
 */
#ifndef STRAIT_FAILOVER_ROUTE_PARAMS_H
#define STRAIT_FAILOVER_ROUTE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

struct evkeyvalq;

/* The index in t of the region that parameter key names; -1 with why
 * ("missing from= parameter", "from=x is not a region of FILE"). */
int route_param_region(const topology *t, struct evkeyvalq *query, const char *key, char *why,
                       size_t whylen);

/* epoch= as a region epoch (REGION_EPOCH_MIN..REGION_EPOCH_MAX). True with
 * *out set (0 when absent and not required); false with why. */
bool route_param_epoch(struct evkeyvalq *query, bool required, int64_t *out, char *why,
                       size_t whylen);

#endif
