/*
 * cli_acls_args.c - the command line of `strait acls` (cli_acls_args.h):
 * kafka-acls' options, each checked with a message naming the flag, and
 * the rules between them (add needs a resource, a principal and an
 * operation; a host needs its principal; ...). Nothing here talks to a
 * broker.
 */
#include "failover/cli_acls_args.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "failover/cli_common.h"

typedef struct named_value {
    const char *name; /* Kafka's upper-case enum name, also what is printed */
    int value;
} named_value;

static const named_value operations[] = {
    {"ALL", RD_KAFKA_ACL_OPERATION_ALL},
    {"READ", RD_KAFKA_ACL_OPERATION_READ},
    {"WRITE", RD_KAFKA_ACL_OPERATION_WRITE},
    {"CREATE", RD_KAFKA_ACL_OPERATION_CREATE},
    {"DELETE", RD_KAFKA_ACL_OPERATION_DELETE},
    {"ALTER", RD_KAFKA_ACL_OPERATION_ALTER},
    {"DESCRIBE", RD_KAFKA_ACL_OPERATION_DESCRIBE},
    {"CLUSTER_ACTION", RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION},
    {"DESCRIBE_CONFIGS", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
    {"ALTER_CONFIGS", RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
    {"IDEMPOTENT_WRITE", RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE},
};

static const named_value pattern_types[] = {
    {"LITERAL", RD_KAFKA_RESOURCE_PATTERN_LITERAL},
    {"PREFIXED", RD_KAFKA_RESOURCE_PATTERN_PREFIXED},
    {"MATCH", RD_KAFKA_RESOURCE_PATTERN_MATCH},
    {"ANY", RD_KAFKA_RESOURCE_PATTERN_ANY},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "ClusterAction", "cluster_action" and "CLUSTER-ACTION" are one name:
 * letters compared without case, '_' and '-' skipped (kafka-acls takes the
 * camel-case words). */
static bool same_word(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_' || *a == '-')
            a++;
        while (*b == '_' || *b == '-')
            b++;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        if ((*a | 0x20) != (*b | 0x20))
            return false;
        a++;
        b++;
    }
}

static int lookup(const named_value *table, size_t count, const char *word)
{
    for (size_t i = 0; i < count; i++)
        if (same_word(table[i].name, word))
            return table[i].value;
    return -1;
}

static const char *name_of(const named_value *table, size_t count, int value)
{
    for (size_t i = 0; i < count; i++)
        if (table[i].value == value)
            return table[i].name;
    return "UNKNOWN";
}


const char *acls_operation_name(int operation)
{
    return name_of(operations, COUNT(operations), operation);
}

const char *acls_pattern_name(int pattern_type)
{
    return name_of(pattern_types, COUNT(pattern_types), pattern_type);
}

const char *acls_verb_name(enum acls_verb verb)
{
    return verb == VERB_ADD ? "add" : verb == VERB_LIST ? "list" : "remove";
}

void acls_usage(FILE *out)
{
    fputs("usage: strait acls add|list|remove [options]\n"
          "\n"
          "  add     create ACLs: every --topic/--group/--cluster x principal x host x\n"
          "          operation given is one binding\n"
          "  list    print the ACLs (a table, or --json), optionally only those of the\n"
          "          resources and --principal given\n"
          "  remove  delete the ACLs the selectors match: lists them first, then asks\n"
          "          (--force: no question; --dry-run: only list)\n"
          "\n"
          "connection:\n"
          "  --bootstrap HOST:PORT       a broker (also --bootstrap-server); required\n"
          "  --command-config FILE       client properties in librdkafka's names:\n"
          "                              security.protocol, ssl.ca.location,\n"
          "                              ssl.certificate.location, ssl.key.location,\n"
          "                              sasl.mechanism, sasl.username, sasl.password\n"
          "resources (repeatable, add and remove need one):\n"
          "  --topic T  --group G  --cluster  (--transactional-id: see below)\n"
          "  --resource-pattern-type literal|prefixed|match|any\n"
          "                              add: literal (default) or prefixed; list and\n"
          "                              remove: also match (every pattern that applies\n"
          "                              to the name) and any; default literal when a\n"
          "                              resource is named\n"
          "entries:\n"
          "  --allow-principal P  --deny-principal P   Type:name, e.g. User:alice\n"
          "  --allow-host H  --deny-host H             default * (add), any (remove)\n"
          "  --operation OP    Read Write Create Delete Alter Describe ClusterAction\n"
          "                    DescribeConfigs AlterConfigs IdempotentWrite All\n"
          "                    (repeatable; add needs one; remove: any when absent)\n"
          "  --principal P     list: only this principal's ACLs\n"
          "output:\n"
          "  --json (list)  --force, --dry-run (remove)\n"
          "\n"
          "exit: 0 done, 1 the broker refused or was not reached (its error is printed),\n"
          "2 bad command line or command config (nothing was sent), 3 a remove not\n"
          "confirmed (nothing removed).\n"
          "Transactional-id ACLs cannot be managed here: librdkafka 2.0 has no such\n"
          "resource type (use kafka-acls.sh). docs/security.md has examples.\n",
          out);
}

__attribute__((format(printf, 2, 3)))
static int bad_flag(const acls_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "strait acls %s: ", acls_verb_name(a->verb));
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (strait acls --help)\n", stderr);
    return CLI_EXIT_USAGE;
}


static int add_resource(acls_args *a, rd_kafka_ResourceType_t type, const char *name,
                        const char *flag)
{
    if (a->resource_count == ACLS_ARGS_MAX)
        return bad_flag(a, "more than %d resources", ACLS_ARGS_MAX);
    if (name[0] == '\0')
        return bad_flag(a, "%s needs a non-empty name", flag);
    a->resources[a->resource_count++] = (resource){type, name};
    return 0;
}

/* One option at argv[*i]; 0, or CLI_EXIT_USAGE after printing why. */
static int parse_option(acls_args *a, int argc, char **argv, int *i)
{
    bool missing = false;
    const char *v, *arg = argv[*i];
    if (!strcmp(arg, "--cluster"))
        return add_resource(a, RD_KAFKA_RESOURCE_BROKER, ACLS_CLUSTER_NAME, arg);
    if (!strcmp(arg, "--force") && a->verb == VERB_REMOVE)
        return a->force = true, 0;
    if (!strcmp(arg, "--dry-run") && a->verb == VERB_REMOVE)
        return a->dry_run = true, 0;
    if (!strcmp(arg, "--json") && a->verb == VERB_LIST)
        return a->json = true, 0;
    if ((v = cli_flag_value(argc, argv, i, "--bootstrap-server", &missing)) ||
        (!missing && (v = cli_flag_value(argc, argv, i, "--bootstrap", &missing)))) {
        if (a->bootstrap)
            return bad_flag(a, "--bootstrap given twice");
        a->bootstrap = v;
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--command-config", &missing))) {
        if (a->command_config)
            return bad_flag(a, "--command-config given twice");
        a->command_config = v;
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--topic", &missing))) {
        return add_resource(a, RD_KAFKA_RESOURCE_TOPIC, v, "--topic");
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--group", &missing))) {
        return add_resource(a, RD_KAFKA_RESOURCE_GROUP, v, "--group");
    } else if (!missing && cli_flag_value(argc, argv, i, "--transactional-id", &missing)) {
        return bad_flag(a, "--transactional-id: the librdkafka %s this strait is built with has "
                        "no transactional-id resource type; use kafka-acls.sh",
                        rd_kafka_version_str());
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--resource-pattern-type", &missing))) {
        int t = lookup(pattern_types, COUNT(pattern_types), v);
        if (t < 0)
            return bad_flag(a, "--resource-pattern-type '%s': expected literal, prefixed, match "
                            "or any", v);
        if (a->verb == VERB_ADD && t != RD_KAFKA_RESOURCE_PATTERN_LITERAL &&
            t != RD_KAFKA_RESOURCE_PATTERN_PREFIXED)
            return bad_flag(a, "--resource-pattern-type %s: an ACL is literal or prefixed (match "
                            "and any select ACLs in list and remove)", v);
        a->pattern_type = t;
    } else if (!missing && ((v = cli_flag_value(argc, argv, i, "--allow-principal", &missing)) ||
                            (!missing &&
                             (v = cli_flag_value(argc, argv, i, "--deny-principal", &missing))))) {
        if (a->verb == VERB_LIST)
            return bad_flag(a, "%s: list selects with --principal", arg);
        if (a->principal_count == ACLS_ARGS_MAX)
            return bad_flag(a, "more than %d principals", ACLS_ARGS_MAX);
        if (v[0] == '\0')
            return bad_flag(a, "%s needs a principal (User:alice)", arg);
        bool deny = !strncmp(arg, "--deny", 6);
        a->principals[a->principal_count++] = (principal_entry){
            v, deny ? RD_KAFKA_ACL_PERMISSION_TYPE_DENY : RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW};
    } else if (!missing && ((v = cli_flag_value(argc, argv, i, "--allow-host", &missing)) ||
                            (!missing && (v = cli_flag_value(argc, argv, i, "--deny-host", &missing))))) {
        bool deny = !strncmp(arg, "--deny", 6);
        int *count = deny ? &a->deny_host_count : &a->allow_host_count;
        if (a->verb == VERB_LIST)
            return bad_flag(a, "%s is for add and remove", arg);
        if (*count == ACLS_ARGS_MAX)
            return bad_flag(a, "more than %d hosts", ACLS_ARGS_MAX);
        if (v[0] == '\0')
            return bad_flag(a, "%s needs a host (an address, or * for every host)", arg);
        (deny ? a->deny_hosts : a->allow_hosts)[(*count)++] = v;
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--operation", &missing))) {
        int op = lookup(operations, COUNT(operations), v);
        if (a->verb == VERB_LIST)
            return bad_flag(a, "--operation is for add and remove");
        if (op < 0)
            return bad_flag(a, "--operation '%s': expected Read, Write, Create, Delete, Alter, "
                            "Describe, ClusterAction, DescribeConfigs, AlterConfigs, "
                            "IdempotentWrite or All", v);
        if (a->operation_count == ACLS_ARGS_MAX)
            return bad_flag(a, "more than %d operations", ACLS_ARGS_MAX);
        a->operations[a->operation_count++] = (rd_kafka_AclOperation_t)op;
    } else if (!missing && (v = cli_flag_value(argc, argv, i, "--principal", &missing))) {
        if (a->verb != VERB_LIST)
            return bad_flag(a, "--principal is for list (add and remove take --allow-principal "
                            "or --deny-principal)");
        if (a->list_principal)
            return bad_flag(a, "--principal given twice");
        a->list_principal = v;
    } else if (missing) {
        return bad_flag(a, "%s needs a value", arg);
    } else {
        return bad_flag(a, "unknown option '%s'", arg);
    }
    if (missing)
        return bad_flag(a, "%s needs a value", arg);
    return 0;
}

int acls_args_parse(acls_args *a, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int rc = parse_option(a, argc, argv, &i);
        if (rc != 0)
            return rc;
    }
    if (!a->bootstrap)
        return bad_flag(a, "--bootstrap HOST:PORT is required");
    if (a->verb != VERB_LIST && a->resource_count == 0)
        return bad_flag(a, "name a resource: --topic, --group or --cluster");
    if (a->verb == VERB_ADD && a->principal_count == 0)
        return bad_flag(a, "--allow-principal or --deny-principal is required");
    if (a->verb == VERB_ADD && a->operation_count == 0)
        return bad_flag(a, "--operation is required (kafka-acls' default All is not assumed)");
    bool any_allow = false, any_deny = false;
    for (int i = 0; i < a->principal_count; i++) {
        any_allow |= a->principals[i].permission == RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW;
        any_deny |= a->principals[i].permission == RD_KAFKA_ACL_PERMISSION_TYPE_DENY;
    }
    if (a->allow_host_count > 0 && !any_allow)
        return bad_flag(a, "--allow-host needs --allow-principal");
    if (a->deny_host_count > 0 && !any_deny)
        return bad_flag(a, "--deny-host needs --deny-principal");
    for (int i = 0; i < a->resource_count; i++) {
        if (a->resources[i].type == RD_KAFKA_RESOURCE_BROKER &&
            a->pattern_type == RD_KAFKA_RESOURCE_PATTERN_PREFIXED)
            return bad_flag(a, "--cluster is a literal resource; --resource-pattern-type "
                            "prefixed does not apply");
    }
    if (a->verb != VERB_LIST && a->force && a->dry_run)
        return bad_flag(a, "--force and --dry-run together: choose one");
    return 0;
}

