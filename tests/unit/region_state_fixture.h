/*
 * region_state_fixture.h - a broker with a topic registry and a region state
 * in a temporary directory, and calls of its handlers, shared by the region
 * state tests (test_region_state.c, test_region_lease.c).
 */
#ifndef STRAIT_TEST_REGION_STATE_FIXTURE_H
#define STRAIT_TEST_REGION_STATE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/proto/admin_apis.h"

typedef struct fixture {
    char root[64];
    broker b;
    proto_arena arena;
    broker_request *calls[64];
    int call_count;
} fixture;

/* Removes dir and everything below it. */
void remove_tree(const char *dir);
int setup(void **state);
int teardown(void **state);
/* Runs api's handler as client_id; checks the response encodes. */
void *call_as(fixture *f, const char *client_id, const proto_api *api, int16_t version,
              const void *request);
void *call(fixture *f, const proto_api *api, int16_t version, const void *request);
topic *create(fixture *f, const char *name, int32_t partitions);
/* IncrementalAlterConfigs SET of pairs (key, value, key, value, ..., NULL)
 * on broker resource name, as the sidecar; returns the resource's answer. */
const alter_configs_resource_response *set_keys(fixture *f, const char *name, int validate_only,
                                                ...);
bool message_has(const alter_configs_resource_response *r, const char *text);
/* A standby of epoch with east active and a few patterns. */
void make_standby(fixture *f, const char *epoch);

#endif
