/*
 * cli_acls_args.h - the command line of `strait acls` (failover/cli_acls.c),
 * private to failover/: kafka-acls' options parsed and checked into one
 * struct, and Kafka's names of operations and pattern types.
 */
#ifndef STRAIT_FAILOVER_CLI_ACLS_ARGS_H
#define STRAIT_FAILOVER_CLI_ACLS_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

/* Bounds on what one command line may ask for (resources x principals x
 * hosts x operations bindings). */
#define ACLS_ARGS_MAX 64

/* The cluster resource's only name in Kafka's model. */
#define ACLS_CLUSTER_NAME "kafka-cluster"

enum acls_verb { VERB_ADD, VERB_LIST, VERB_REMOVE };

typedef struct resource {
    rd_kafka_ResourceType_t type;
    const char *name;
} resource;

typedef struct principal_entry {
    const char *principal;
    rd_kafka_AclPermissionType_t permission;
} principal_entry;

/* The command line, checked. */
typedef struct acls_args {
    enum acls_verb verb;
    const char *bootstrap, *command_config;
    resource resources[ACLS_ARGS_MAX];
    int resource_count;
    principal_entry principals[ACLS_ARGS_MAX];
    int principal_count;
    const char *allow_hosts[ACLS_ARGS_MAX], *deny_hosts[ACLS_ARGS_MAX];
    int allow_host_count, deny_host_count;
    rd_kafka_AclOperation_t operations[ACLS_ARGS_MAX];
    int operation_count;
    const char *list_principal;
    int pattern_type; /* -1: not given */
    bool force, dry_run, json;
} acls_args;


/* "add", "list" or "remove". */
const char *acls_verb_name(enum acls_verb verb);

/* The help of `strait acls`. */
void acls_usage(FILE *out);

/* The options after the verb (a->verb set, a->pattern_type -1) and the rules
 * between them. 0, or CLI_EXIT_USAGE after printing the flag and why. */
int acls_args_parse(acls_args *a, int argc, char **argv);

/* Kafka's upper-case names: "CLUSTER_ACTION", "PREFIXED"; "UNKNOWN" else. */
const char *acls_operation_name(int operation);
const char *acls_pattern_name(int pattern_type);

#endif
