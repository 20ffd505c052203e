/*
 * apis.h - the admin and metadata API descriptors (api_table.c lists them).
 * Message structs and shared helpers are in admin_apis.h.
 */
#ifndef STRAIT_PROTO_APIS_H
#define STRAIT_PROTO_APIS_H

#include "broker/proto/api.h"

extern const proto_api api_metadata;                  /* key 3,  v0-8 */
extern const proto_api api_create_topics;             /* key 19, v2-4 */
extern const proto_api api_delete_topics;             /* key 20, v1-3 */
extern const proto_api api_describe_configs;          /* key 32, v1-2 */
extern const proto_api api_alter_configs;             /* key 33, v0-1 */
extern const proto_api api_create_partitions;         /* key 37, v0-1 */
extern const proto_api api_incremental_alter_configs; /* key 44, v0 */
extern const proto_api api_describe_cluster;          /* key 60, v0 (flexible) */

#endif
