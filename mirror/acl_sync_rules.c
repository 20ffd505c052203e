/*
 * acl_sync_rules.c - the selection and translation rules of the ACL sync
 * and the sidecars' principals (acl_sync_rules.h). No I/O but reading the
 * sidecars' certificate files.
 */
#include "mirror/acl_sync_rules.h"

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mirror/topic_sync.h"

static void add_principal(acl_sync_principals *out, const char *name)
{
    char principal[ACL_RECORD_NAME_MAX];
    if (out->count >= ACL_SYNC_PRINCIPALS_MAX || name[0] == '\0' ||
        snprintf(principal, sizeof principal, "User:%s", name) >= (int)sizeof principal)
        return;
    for (int i = 0; i < out->count; i++)
        if (!strcmp(out->names[i], principal))
            return;
    snprintf(out->names[out->count++], ACL_RECORD_NAME_MAX, "%s", principal);
}

/* The subject (RFC 2253, as the broker prints it) and CN of a PEM certificate. */
static void add_certificate_principals(acl_sync_principals *out, const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return;
    X509 *cert = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    if (!cert)
        return;
    X509_NAME *subject = X509_get_subject_name(cert);
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && X509_NAME_print_ex(bio, subject, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char text[ACL_RECORD_NAME_MAX - 8];
        int n = BIO_read(bio, text, (int)sizeof text - 1);
        if (n > 0) {
            text[n] = '\0';
            add_principal(out, text);
        }
    }
    BIO_free(bio);
    char cn[256];
    if (X509_NAME_get_text_by_NID(subject, NID_commonName, cn, (int)sizeof cn) > 0)
        add_principal(out, cn);
    X509_free(cert);
}

void acl_sync_sidecar_principals(const topology *t, acl_sync_principals *out)
{
    memset(out, 0, sizeof *out);
    for (int r = 0; r < t->region_count; r++) {
        const topology_client_security *sec = &t->regions[r].security;
        if (!strncmp(sec->protocol, "SASL_", 5))
            add_principal(out, sec->username);
        else if (!strcmp(sec->protocol, "SSL") && sec->certificate[0])
            add_certificate_principals(out, sec->certificate);
    }
}

static bool excluded_principal(const acl_sync_principals *excluded, const char *principal)
{
    for (int i = 0; excluded && i < excluded->count; i++)
        if (!strcmp(excluded->names[i], principal))
            return true;
    return false;
}

/* A prefixed topic binding applies to the flow when a mirrored topic starts with it. */
static bool prefix_covers_a_topic(const char *prefix, const char *const *topics, int topic_count)
{
    size_t length = strlen(prefix);
    for (int i = 0; i < topic_count; i++)
        if (!strncmp(topics[i], prefix, length))
            return true;
    return false;
}

/* Prefix naming: the grants a replica keeps. */
static bool prefix_naming_operation(const acl_record_binding *in, int *operation)
{
    if (in->permission == RD_KAFKA_ACL_PERMISSION_TYPE_DENY) {
        *operation = in->operation; /* a DENY only ever takes away: copied as it is */
        return true;
    }
    switch (in->operation) {
    case RD_KAFKA_ACL_OPERATION_READ:
    case RD_KAFKA_ACL_OPERATION_DESCRIBE:
    case RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS:
        *operation = in->operation;
        return true;
    case RD_KAFKA_ACL_OPERATION_ALL:
        *operation = RD_KAFKA_ACL_OPERATION_READ;
        return true;
    default:
        return false; /* WRITE, CREATE, DELETE, ALTER, ALTER_CONFIGS, ...: never on a replica */
    }
}

static bool translate_topic(const topology *t, const topology_flow *flow,
                            const char *const *topics, int topic_count,
                            const acl_record_binding *in, acl_record_binding *out)
{
    if (in->pattern_type == RD_KAFKA_RESOURCE_PATTERN_LITERAL) {
        if (!mirror_topic_selected(t, flow, in->resource_name))
            return false;
    } else if (in->pattern_type == RD_KAFKA_RESOURCE_PATTERN_PREFIXED) {
        if (!prefix_covers_a_topic(in->resource_name, topics, topic_count))
            return false;
    } else {
        return false;
    }
    if (flow->naming == TOPOLOGY_NAMING_IDENTITY)
        return true;
    if (!prefix_naming_operation(in, &out->operation))
        return false;
    return topology_target_topic(t, flow, in->resource_name, out->resource_name,
                                 sizeof out->resource_name) == 0;
}

bool acl_sync_translate(const topology *t, const topology_flow *flow, const char *const *topics,
                        int topic_count, const acl_sync_principals *excluded,
                        const acl_record_binding *in, acl_record_binding *out)
{
    if (excluded_principal(excluded, in->principal) || !strcmp(in->resource_name, "*"))
        return false;
    if (in->permission != RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW &&
        in->permission != RD_KAFKA_ACL_PERMISSION_TYPE_DENY)
        return false;
    *out = *in;
    if (in->resource_type == RD_KAFKA_RESOURCE_TOPIC)
        return translate_topic(t, flow, topics, topic_count, in, out);
    if (in->resource_type == RD_KAFKA_RESOURCE_GROUP)
        return (in->pattern_type == RD_KAFKA_RESOURCE_PATTERN_LITERAL ||
                in->pattern_type == RD_KAFKA_RESOURCE_PATTERN_PREFIXED) &&
               topology_flow_matches_group(flow, in->resource_name);
    return false;
}

const char *acl_sync_binding_text(const acl_record_binding *b, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s %s %s %s host=%s %s %s",
             rd_kafka_ResourceType_name((rd_kafka_ResourceType_t)b->resource_type),
             rd_kafka_ResourcePatternType_name((rd_kafka_ResourcePatternType_t)b->pattern_type),
             b->resource_name, b->principal, b->host,
             rd_kafka_AclOperation_name((rd_kafka_AclOperation_t)b->operation),
             rd_kafka_AclPermissionType_name((rd_kafka_AclPermissionType_t)b->permission));
    return out;
}
