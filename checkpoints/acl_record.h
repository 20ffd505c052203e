/*
 * acl_record.h - which ACL bindings a flow's ACL sync (mirror/acl_sync.c)
 * created in its target region, kept in the sidecar's SQLite file (table
 * acl_synced_bindings, checkpoint_schema.c version 3).
 *
 * Why a record at all: Kafka's ACL APIs keep no owner or creator per
 * binding, and CreateAcls of a binding that exists already succeeds without
 * saying so. A binding an operator created in the target looks exactly like
 * one the sync created. Removing "what is gone from the source" therefore
 * needs the sync's own list of what it created; only those rows are ever
 * deleted, so a binding made locally in the target is never touched. It
 * lives in the sidecar's state file because that file already survives
 * restarts and is per region: the sidecar of the target region is the only
 * writer of its flows' rows.
 *
 * Thread-safety: one store per flow thread; calls are serialised internally.
 */
#ifndef STRAIT_CHECKPOINTS_ACL_RECORD_H
#define STRAIT_CHECKPOINTS_ACL_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define ACL_RECORD_NAME_MAX 512      /* resource names, principals, hosts */

/* One binding, Kafka's codes (the same numbers librdkafka's enums use). */
typedef struct acl_record_binding {
    int resource_type;               /* 2 topic, 3 group */
    char resource_name[ACL_RECORD_NAME_MAX];
    int pattern_type;                /* 3 literal, 4 prefixed */
    char principal[ACL_RECORD_NAME_MAX];
    char host[ACL_RECORD_NAME_MAX];
    int operation;
    int permission;                  /* 2 deny, 3 allow */
} acl_record_binding;

typedef struct acl_record_store acl_record_store;

/* Its own connection to the sidecar's SQLite file at path (migrated). */
int acl_record_open(const char *path, acl_record_store **out);
void acl_record_close(acl_record_store *s);

/* Every binding recorded for flow; *out malloc'ed (NULL when none). */
int acl_record_list(acl_record_store *s, const char *flow, acl_record_binding **out,
                    size_t *count);
/* Records b (idempotent). */
int acl_record_add(acl_record_store *s, const char *flow, const acl_record_binding *b);
/* Forgets b (idempotent). */
int acl_record_remove(acl_record_store *s, const char *flow, const acl_record_binding *b);

/* Same binding, field by field. */
bool acl_record_equal(const acl_record_binding *a, const acl_record_binding *b);

#endif
