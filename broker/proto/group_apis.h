/*
 * group_apis.h - the consumer group APIs: OffsetCommit (8), OffsetFetch (9),
 * FindCoordinator (10), JoinGroup (11), Heartbeat (12), LeaveGroup (13),
 * SyncGroup (14), DescribeGroups (15), ListGroups (16), DeleteGroups (42),
 * OffsetDelete (47). None is flexible in the ranges strait implements.
 *
 * The message structs are here so tests can build and inspect requests and
 * responses; field names follow the Kafka protocol guide in snake_case, and
 * the comments give the versions in which a field is on the wire. The field
 * tables and handlers are in one file per API family (find_coordinator.c,
 * join_group.c, sync_group.c, heartbeat_leave.c, offset_commit.c,
 * offset_fetch.c, describe_list_groups.c, delete_groups.c); the state lives
 * in broker/group/coordinator.h.
 *
 * Runs on the broker's event-loop thread like every handler.
 */
#ifndef STRAIT_PROTO_GROUP_APIS_H
#define STRAIT_PROTO_GROUP_APIS_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/proto/api.h"
#include "broker/proto/codec.h"

extern const proto_api api_offset_commit;     /* key 8,  v2-7 */
extern const proto_api api_offset_fetch;      /* key 9,  v1-5 */
extern const proto_api api_find_coordinator;  /* key 10, v0-2 */
extern const proto_api api_join_group;        /* key 11, v0-5 */
extern const proto_api api_heartbeat;         /* key 12, v0-3 */
extern const proto_api api_leave_group;       /* key 13, v0-1 */
extern const proto_api api_sync_group;        /* key 14, v0-3 */
extern const proto_api api_describe_groups;   /* key 15, v0-4 */
extern const proto_api api_list_groups;       /* key 16, v0-2 */
extern const proto_api api_delete_groups;     /* key 42, v0-1 */
extern const proto_api api_offset_delete;     /* key 47, v0 */

/* A NUL-terminated copy of s in the request's arena; NULL for a null string
 * (or when the arena is exhausted: *ok turns false). */
char *group_api_cstr(broker_request *req, proto_str s, bool *ok);
/* "/ip" of the client, as Kafka reports a member's client host. */
const char *group_api_client_host(broker_request *req);

/* The Kafka error code a client sees for a group_error value (group_edge.c). */
int16_t group_api_kafka_error(int error);

struct coordinator_waiter;
/* w as the waiter of req in the coordinator (req->handler_state = w); the
 * caller sets the fill callbacks. */
void group_api_waiter_init(broker_request *req, struct coordinator_waiter *w, const char *group_id);
/* After coordinator_join/sync: PROTO_RESPOND when answered, else parks req
 * (PROTO_PARKED; a closed connection makes the coordinator forget it). */
int group_api_parked_or_respond(broker_request *req, bool answered);

/* Before a Heartbeat or OffsetCommit: a member of a redirected group that
 * comes from the old active region after a planned switchover, unknown
 * here, is adopted with its id and generation when the coordinator allows
 * it (broker/group/coordinator_adopt.c); otherwise nothing happens. True
 * when the member is in the group by adoption (now or before). */
bool group_api_adopt(broker_request *req, const char *group_id, const char *member_id,
                     const char *instance_id, int32_t generation);
/* The group-level error of a Heartbeat or OffsetCommit before the group is
 * asked: authorization and the region role (authorize_group_error), except
 * that a member adopted while the region is promoting goes through
 * (KERR_NONE). Adopts first (group_api_adopt). */
int16_t group_api_member_error(broker_request *req, const char *group_id, const char *member_id,
                               const char *instance_id, int32_t generation);

/* ---- FindCoordinator (key 10) ------------------------------------------- */

typedef struct find_coordinator_request {
    proto_str key;                /* v0+: group id (or transactional id) */
    int8_t key_type;              /* v1+: 0 group, 1 transaction */
} find_coordinator_request;

typedef struct find_coordinator_response {
    int32_t throttle_time_ms;     /* v1+ */
    int16_t error_code;           /* v0+ */
    proto_str error_message;      /* v1+, nullable */
    int32_t node_id;              /* v0+ */
    proto_str host;               /* v0+ */
    int32_t port;                 /* v0+ */
} find_coordinator_response;

/* ---- JoinGroup (key 11) --------------------------------------------------- */

typedef struct join_group_protocol {
    proto_str name;               /* v0+ */
    proto_bytes metadata;         /* v0+ */
} join_group_protocol;

typedef struct join_group_request {
    proto_str group_id;           /* v0+ */
    int32_t session_timeout_ms;   /* v0+ */
    int32_t rebalance_timeout_ms; /* v1+, v0: = session timeout */
    proto_str member_id;          /* v0+, "" on a first join */
    proto_str group_instance_id;  /* v5+, nullable */
    proto_str protocol_type;      /* v0+ */
    proto_array protocols;        /* v0+, join_group_protocol */
} join_group_request;

typedef struct join_group_member {
    proto_str member_id;          /* v0+ */
    proto_str group_instance_id;  /* v5+, nullable */
    proto_bytes metadata;         /* v0+ */
} join_group_member;

typedef struct join_group_response {
    int32_t throttle_time_ms;     /* v2+ */
    int16_t error_code;           /* v0+ */
    int32_t generation_id;        /* v0+ */
    proto_str protocol_name;      /* v0+ */
    proto_str leader;             /* v0+ */
    proto_str member_id;          /* v0+ */
    proto_array members;          /* v0+, join_group_member; the leader only */
} join_group_response;

/* ---- Heartbeat (key 12) / LeaveGroup (key 13) ----------------------------- */

typedef struct heartbeat_request {
    proto_str group_id;           /* v0+ */
    int32_t generation_id;        /* v0+ */
    proto_str member_id;          /* v0+ */
    proto_str group_instance_id;  /* v3+, nullable */
} heartbeat_request;

/* The response of Heartbeat and LeaveGroup (v0-1). */
typedef struct group_error_response {
    int32_t throttle_time_ms;     /* v1+ */
    int16_t error_code;           /* v0+ */
} group_error_response;

typedef struct leave_group_request {
    proto_str group_id;           /* v0+ */
    proto_str member_id;          /* v0-2 */
} leave_group_request;

/* ---- SyncGroup (key 14) --------------------------------------------------- */

typedef struct sync_group_assignment {
    proto_str member_id;          /* v0+ */
    proto_bytes assignment;       /* v0+ */
} sync_group_assignment;

typedef struct sync_group_request {
    proto_str group_id;           /* v0+ */
    int32_t generation_id;        /* v0+ */
    proto_str member_id;          /* v0+ */
    proto_str group_instance_id;  /* v3+, nullable */
    proto_array assignments;      /* v0+, sync_group_assignment; the leader only */
} sync_group_request;

typedef struct sync_group_response {
    int32_t throttle_time_ms;     /* v1+ */
    int16_t error_code;           /* v0+ */
    proto_bytes assignment;       /* v0+ */
} sync_group_response;

/* ---- OffsetCommit (key 8) --------------------------------------------------- */

typedef struct offset_commit_partition {
    int32_t partition_index;      /* v0+ */
    int64_t committed_offset;     /* v0+ */
    int32_t committed_leader_epoch; /* v6+, -1 = unknown */
    int64_t commit_timestamp;     /* v1 only */
    proto_str committed_metadata; /* v0+, nullable */
} offset_commit_partition;

typedef struct offset_commit_topic {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, offset_commit_partition */
} offset_commit_topic;

typedef struct offset_commit_request {
    proto_str group_id;           /* v0+ */
    int32_t generation_id;        /* v1+, -1 = simple commit */
    proto_str member_id;          /* v1+ */
    proto_str group_instance_id;  /* v7+, nullable */
    int64_t retention_time_ms;    /* v2-4 (ignored: offsets.retention.minutes rules) */
    proto_array topics;           /* v0+, offset_commit_topic */
} offset_commit_request;

typedef struct offset_commit_partition_response {
    int32_t partition_index;      /* v0+ */
    int16_t error_code;           /* v0+ */
} offset_commit_partition_response;

typedef struct offset_commit_topic_response {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, offset_commit_partition_response */
} offset_commit_topic_response;

typedef struct offset_commit_response {
    int32_t throttle_time_ms;     /* v3+ */
    proto_array topics;           /* v0+, offset_commit_topic_response */
} offset_commit_response;

/* ---- OffsetFetch (key 9) ---------------------------------------------------- */

typedef struct offset_fetch_topic {
    proto_str name;               /* v0+ */
    proto_array partition_indexes; /* v0+, proto_int32 */
} offset_fetch_topic;

typedef struct offset_fetch_request {
    proto_str group_id;           /* v0+ */
    proto_array topics;           /* v0+, nullable v2+ (null = all), offset_fetch_topic */
} offset_fetch_request;

typedef struct offset_fetch_partition_response {
    int32_t partition_index;      /* v0+ */
    int64_t committed_offset;     /* v0+, -1 = none */
    int32_t committed_leader_epoch; /* v5+ */
    proto_str metadata;           /* v0+, nullable */
    int16_t error_code;           /* v0+ */
} offset_fetch_partition_response;

typedef struct offset_fetch_topic_response {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, offset_fetch_partition_response */
} offset_fetch_topic_response;

typedef struct offset_fetch_response {
    int32_t throttle_time_ms;     /* v3+ */
    proto_array topics;           /* v0+, offset_fetch_topic_response */
    int16_t error_code;           /* v2+ */
} offset_fetch_response;

/* ---- DescribeGroups (key 15) / ListGroups (key 16) -------------------------- */

typedef struct describe_groups_request {
    proto_array groups;           /* v0+, proto_string */
    bool include_authorized_operations; /* v3+ */
} describe_groups_request;

typedef struct described_group_member {
    proto_str member_id;          /* v0+ */
    proto_str group_instance_id;  /* v4+, nullable */
    proto_str client_id;          /* v0+ */
    proto_str client_host;        /* v0+ */
    proto_bytes member_metadata;  /* v0+, Stable only */
    proto_bytes member_assignment; /* v0+, Stable only */
} described_group_member;

typedef struct described_group {
    int16_t error_code;           /* v0+ */
    proto_str group_id;           /* v0+ */
    proto_str group_state;        /* v0+ */
    proto_str protocol_type;      /* v0+ */
    proto_str protocol_data;      /* v0+: the selected protocol */
    proto_array members;          /* v0+, described_group_member */
    int32_t authorized_operations; /* v3+, INT32_MIN = not asked */
} described_group;

typedef struct describe_groups_response {
    int32_t throttle_time_ms;     /* v1+ */
    proto_array groups;           /* v0+, described_group */
} describe_groups_response;

typedef struct list_groups_request {
    int32_t unused;               /* no fields before v4 (states filter) */
} list_groups_request;

typedef struct listed_group {
    proto_str group_id;           /* v0+ */
    proto_str protocol_type;      /* v0+ */
} listed_group;

typedef struct list_groups_response {
    int32_t throttle_time_ms;     /* v1+ */
    int16_t error_code;           /* v0+ */
    proto_array groups;           /* v0+, listed_group */
} list_groups_response;

/* ---- DeleteGroups (key 42) / OffsetDelete (key 47) -------------------------- */

typedef struct delete_groups_request {
    proto_array groups_names;     /* v0+, proto_string */
} delete_groups_request;

typedef struct delete_groups_result {
    proto_str group_id;           /* v0+ */
    int16_t error_code;           /* v0+ */
} delete_groups_result;

typedef struct delete_groups_response {
    int32_t throttle_time_ms;     /* v0+ */
    proto_array results;          /* v0+, delete_groups_result */
} delete_groups_response;

typedef struct offset_delete_partition {
    int32_t partition_index;      /* v0+ */
} offset_delete_partition;

typedef struct offset_delete_topic {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, offset_delete_partition */
} offset_delete_topic;

typedef struct offset_delete_request {
    proto_str group_id;           /* v0+ */
    proto_array topics;           /* v0+, offset_delete_topic */
} offset_delete_request;

typedef struct offset_delete_partition_response {
    int32_t partition_index;      /* v0+ */
    int16_t error_code;           /* v0+ */
} offset_delete_partition_response;

typedef struct offset_delete_topic_response {
    proto_str name;               /* v0+ */
    proto_array partitions;       /* v0+, offset_delete_partition_response */
} offset_delete_topic_response;

typedef struct offset_delete_response {
    int16_t error_code;           /* v0+ */
    int32_t throttle_time_ms;     /* v0+ */
    proto_array topics;           /* v0+, offset_delete_topic_response */
} offset_delete_response;

#endif
