/*
 * acl_sync_rules.h - what the ACL sync copies (docs/security.md, "ACL sync
 * between regions"), as pure functions the unit tests call: which source
 * bindings a flow copies and what each becomes in the target, and the
 * sidecars' own principals, which are never copied.
 */
#ifndef STRAIT_MIRROR_ACL_SYNC_RULES_H
#define STRAIT_MIRROR_ACL_SYNC_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "checkpoints/acl_record.h"
#include "topology/topology.h"

/* Principals per region a sidecar may use: the SASL user, or a client
 * certificate's subject and its CN (the two forms principal mapping gives). */
#define ACL_SYNC_PRINCIPALS_MAX (TOPOLOGY_REGIONS_MAX * 2)

typedef struct acl_sync_principals {
    int count;
    char names[ACL_SYNC_PRINCIPALS_MAX][ACL_RECORD_NAME_MAX]; /* "User:sidecar-east" */
} acl_sync_principals;

/* The principals every region's sidecar uses on its region links
 * (regions.<name>.security): "User:<username>" under SASL; under SSL with a
 * client certificate "User:<subject in RFC 2253>" and "User:<CN>". A
 * certificate that cannot be read adds nothing (the link fails anyway).
 * PLAINTEXT links add nothing: their principal is User:ANONYMOUS, everyone's. */
void acl_sync_sidecar_principals(const topology *t, acl_sync_principals *out);

/*
 * What the flow makes of source binding `in`, given the source topics it
 * mirrors now (topics[0..topic_count)): true with the target binding in
 * *out, false when it is not synced:
 *  - never: a principal in `excluded`, resource types other than topic and
 *    group (cluster, transactional id), the literal name "*";
 *  - topic, literal: the flow selects the topic (mirror_topic_selected);
 *    topic, prefixed: one of `topics` starts with the prefix;
 *  - group, literal or prefixed: the name (prefix) matches the flow's
 *    `groups` patterns;
 *  - identity naming: copied as it is;
 *  - prefix naming: the topic name (or prefix) gets the source region's
 *    prefix; DENY copied as it is; ALLOW keeps READ, DESCRIBE and
 *    DESCRIBE_CONFIGS, ALL becomes READ, every other grant (WRITE first of
 *    all) is dropped. Group bindings keep their names.
 */
bool acl_sync_translate(const topology *t, const topology_flow *flow, const char *const *topics,
                        int topic_count, const acl_sync_principals *excluded,
                        const acl_record_binding *in, acl_record_binding *out);

/* "TOPIC LITERAL orders User:alice host=* WRITE ALLOW" for logs. Returns out. */
const char *acl_sync_binding_text(const acl_record_binding *b, char *out, size_t outlen);

#endif
