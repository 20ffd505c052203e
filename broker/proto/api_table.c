/*
 * api_table.c - every API the broker implements, in key order. ApiVersions
 * advertises exactly this table and the dispatcher accepts exactly it.
 */
#include <stddef.h>

#include "broker/proto/api.h"
#include "broker/proto/acl_apis.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/sasl_apis.h"

extern const proto_api api_produce;
extern const proto_api api_fetch;
extern const proto_api api_list_offsets;
extern const proto_api api_metadata;
extern const proto_api api_api_versions;
extern const proto_api api_create_topics;
extern const proto_api api_delete_topics;
extern const proto_api api_delete_records;
extern const proto_api api_init_producer_id;
extern const proto_api api_offset_for_leader_epoch;
extern const proto_api api_describe_configs;
extern const proto_api api_alter_configs;
extern const proto_api api_create_partitions;
extern const proto_api api_incremental_alter_configs;
extern const proto_api api_describe_cluster;
extern const proto_api api_describe_user_scram_credentials;
extern const proto_api api_alter_user_scram_credentials;

const proto_api *const proto_apis[] = {
    &api_produce,                   /* 0 */
    &api_fetch,                     /* 1 */
    &api_list_offsets,              /* 2 */
    &api_metadata,                  /* 3 */
    &api_offset_commit,             /* 8 */
    &api_offset_fetch,              /* 9 */
    &api_find_coordinator,          /* 10 */
    &api_join_group,                /* 11 */
    &api_heartbeat,                 /* 12 */
    &api_leave_group,               /* 13 */
    &api_sync_group,                /* 14 */
    &api_describe_groups,           /* 15 */
    &api_list_groups,               /* 16 */
    &api_sasl_handshake,            /* 17 */
    &api_api_versions,              /* 18 */
    &api_create_topics,             /* 19 */
    &api_delete_topics,             /* 20 */
    &api_delete_records,            /* 21 */
    &api_init_producer_id,          /* 22 */
    &api_offset_for_leader_epoch,   /* 23 */
    &api_describe_acls,             /* 29 */
    &api_create_acls,               /* 30 */
    &api_delete_acls,               /* 31 */
    &api_describe_configs,          /* 32 */
    &api_alter_configs,             /* 33 */
    &api_sasl_authenticate,         /* 36 */
    &api_create_partitions,         /* 37 */
    &api_delete_groups,             /* 42 */
    &api_incremental_alter_configs, /* 44 */
    &api_offset_delete,             /* 47 */
    &api_describe_user_scram_credentials, /* 50 */
    &api_alter_user_scram_credentials,    /* 51 */
    &api_describe_cluster,          /* 60 */
};

const int proto_api_count = (int)(sizeof proto_apis / sizeof proto_apis[0]);

const proto_api *proto_api_find(int16_t key)
{
    for (int i = 0; i < proto_api_count; i++)
        if (proto_apis[i]->key == key)
            return proto_apis[i];
    return NULL;
}
