/*
 * route_params.c - region and epoch query parameters of the vote and
 * heartbeat routes (route_params.h).
 */
#include "failover/route_params.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>

#include "common/config_value.h"
#include "common/region_contract.h"

int route_param_region(const topology *t, struct evkeyvalq *query, const char *key, char *why,
                       size_t whylen)
{
    const char *value = evhttp_find_header(query, key);
    int index = value ? topology_region_index(t, value) : -1;
    if (!value || !value[0])
        snprintf(why, whylen, "missing %s= parameter", key);
    else if (index < 0)
        snprintf(why, whylen, "%s=%.64s is not a region of %s", key, value, t->path);
    return value && value[0] ? index : -1;
}

bool route_param_epoch(struct evkeyvalq *query, bool required, int64_t *out, char *why,
                       size_t whylen)
{
    const char *value = evhttp_find_header(query, "epoch");
    *out = 0;
    if (!value && !required)
        return true;
    if (!value) {
        snprintf(why, whylen, "missing epoch= parameter");
        return false;
    }
    char msg[160];
    if (config_value_parse_int(value, REGION_EPOCH_MIN, REGION_EPOCH_MAX, out, msg, sizeof msg) !=
        0) {
        snprintf(why, whylen, "epoch: %s", msg);
        return false;
    }
    return true;
}
