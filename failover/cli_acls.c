/*
 * cli_acls.c - `strait acls add|list|remove`: the broker's ACLs managed with
 * kafka-acls' words (--allow-principal, --operation, --topic,
 * --resource-pattern-type ...) through librdkafka's admin API (CreateAcls,
 * DescribeAcls, DeleteAcls). The connection takes a --command-config of
 * client properties (client_properties.h).
 *
 * Exit status: 0 done, 1 the broker refused or could not be reached (its
 * error name and message are printed), 2 bad command line or command config
 * (nothing was sent), 3 a remove not confirmed on the terminal.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "failover/cli.h"
#include "failover/cli_common.h"
#include "failover/cli_acls_args.h"
#include "failover/client_properties.h"

/* How long one admin request may take, and how long the CLI waits for it. */
#define ACLS_REQUEST_TIMEOUT_MS 15000
#define ACLS_WAIT_MS (ACLS_REQUEST_TIMEOUT_MS + 5000)
/* How many bindings one command may make or select. */
#define ACLS_BINDINGS_MAX 4096

static const char *resource_type_name(rd_kafka_ResourceType_t type)
{
    switch (type) {
    case RD_KAFKA_RESOURCE_TOPIC: return "TOPIC";
    case RD_KAFKA_RESOURCE_GROUP: return "GROUP";
    case RD_KAFKA_RESOURCE_BROKER: return "CLUSTER"; /* Kafka's CLUSTER is librdkafka's BROKER (4) */
    default: return "UNKNOWN";
    }
}

/* ---- the connection -------------------------------------------------------- */

static rd_kafka_t *connect_admin(const acls_args *a, char *err, size_t errlen)
{
    client_properties props;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    if (a->command_config &&
        client_properties_load(a->command_config, &props, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!a->command_config)
        memset(&props, 0, sizeof props);
    int rc = client_properties_apply(&props, conf, why, sizeof why);
    client_properties_clear(&props);
    if (rc != 0) {
        snprintf(err, errlen, "command config %s: %s", a->command_config, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (rd_kafka_conf_set(conf, "bootstrap.servers", a->bootstrap, why, sizeof why) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "strait-acls", why, sizeof why) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "--bootstrap %s: %s", a->bootstrap, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        snprintf(err, errlen, "cannot create the admin client: %s", why);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Waits for the result event of one admin call; NULL after a timeout.
 * Lifetime (ACL requests go to the controller, no coordinator lookup): the
 * request timeout (ACLS_REQUEST_TIMEOUT_MS) produces a result before this
 * wait ends; a later one is dropped with the queue the caller destroys. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *queue)
{
    return rd_kafka_queue_poll(queue, ACLS_WAIT_MS);
}

/* Prints a broker or client error precisely: its Kafka name and message. */
static void print_error(const acls_args *a, const char *what, rd_kafka_resp_err_t code,
                        const char *message)
{
    fprintf(stderr, "strait acls %s: %s: %s", acls_verb_name(a->verb), what, rd_kafka_err2name(code));
    if (message && message[0] && strcmp(message, rd_kafka_err2str(code)) != 0)
        fprintf(stderr, ": %s", message);
    else
        fprintf(stderr, " (%s)", rd_kafka_err2str(code));
    fputc('\n', stderr);
}

/* 0 when the event holds no request-level error; otherwise prints it. */
static int event_failed(const acls_args *a, rd_kafka_event_t *ev, const char *what)
{
    if (!ev) {
        fprintf(stderr, "strait acls %s: %s: no answer from %s within %d ms\n",
                acls_verb_name(a->verb), what, a->bootstrap, ACLS_WAIT_MS);
        return 1;
    }
    if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    print_error(a, what, rd_kafka_event_error(ev), rd_kafka_event_error_string(ev));
    return 1;
}

/* ---- printing -------------------------------------------------------------- */

static void binding_text(const rd_kafka_AclBinding_t *b, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s %s %s: %s %s %s from host %s", resource_type_name(
                 rd_kafka_AclBinding_restype(b)),
             acls_pattern_name(rd_kafka_AclBinding_resource_pattern_type(b)),
             rd_kafka_AclBinding_name(b), rd_kafka_AclBinding_principal(b),
             rd_kafka_AclBinding_permission_type(b) == RD_KAFKA_ACL_PERMISSION_TYPE_DENY
                 ? "DENY" : "ALLOW",
             acls_operation_name(rd_kafka_AclBinding_operation(b)),
             rd_kafka_AclBinding_host(b));
}

static int compare_bindings(const void *x, const void *y)
{
    const rd_kafka_AclBinding_t *a = *(const rd_kafka_AclBinding_t *const *)x;
    const rd_kafka_AclBinding_t *b = *(const rd_kafka_AclBinding_t *const *)y;
    char ta[1024], tb[1024];
    binding_text(a, ta, sizeof ta);
    binding_text(b, tb, sizeof tb);
    return strcmp(ta, tb);
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* The seven fields of a binding as text, in the table's order. */
static void binding_cells(const rd_kafka_AclBinding_t *b, const char *cells[7])
{
    cells[0] = resource_type_name(rd_kafka_AclBinding_restype(b));
    cells[1] = rd_kafka_AclBinding_name(b);
    cells[2] = acls_pattern_name(rd_kafka_AclBinding_resource_pattern_type(b));
    cells[3] = rd_kafka_AclBinding_principal(b);
    cells[4] = rd_kafka_AclBinding_host(b);
    cells[5] = acls_operation_name(rd_kafka_AclBinding_operation(b));
    cells[6] = rd_kafka_AclBinding_permission_type(b) == RD_KAFKA_ACL_PERMISSION_TYPE_DENY
                   ? "DENY" : "ALLOW";
}

/* The bindings as a table (kafka-acls' fields, one binding a row). */
static void print_table(const rd_kafka_AclBinding_t **bindings, size_t count)
{
    const char *heads[7] = {"RESOURCE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION",
                            "PERMISSION"};
    const char *cells[7];
    size_t width[7];
    for (int c = 0; c < 7; c++)
        width[c] = strlen(heads[c]);
    for (size_t i = 0; i < count; i++) {
        binding_cells(bindings[i], cells);
        for (int c = 0; c < 7; c++)
            width[c] = max_size(width[c], strlen(cells[c]));
    }
    for (int c = 0; c < 7; c++)
        printf("%-*s%s", c < 6 ? (int)width[c] : 0, heads[c], c < 6 ? "  " : "\n");
    for (size_t i = 0; i < count; i++) {
        binding_cells(bindings[i], cells);
        for (int c = 0; c < 7; c++)
            printf("%-*s%s", c < 6 ? (int)width[c] : 0, cells[c], c < 6 ? "  " : "\n");
    }
}

static void print_json(const rd_kafka_AclBinding_t **bindings, size_t count)
{
    fputs("{\"acls\":[", stdout);
    for (size_t i = 0; i < count; i++) {
        const rd_kafka_AclBinding_t *b = bindings[i];
        printf("%s{\"resource_type\":\"%s\",\"resource_name\":", i ? "," : "",
               resource_type_name(rd_kafka_AclBinding_restype(b)));
        cli_json_string(rd_kafka_AclBinding_name(b));
        printf(",\"pattern_type\":\"%s\",\"principal\":",
               acls_pattern_name(rd_kafka_AclBinding_resource_pattern_type(b)));
        cli_json_string(rd_kafka_AclBinding_principal(b));
        fputs(",\"host\":", stdout);
        cli_json_string(rd_kafka_AclBinding_host(b));
        printf(",\"operation\":\"%s\",\"permission\":\"%s\"}",
               acls_operation_name(rd_kafka_AclBinding_operation(b)),
               rd_kafka_AclBinding_permission_type(b) == RD_KAFKA_ACL_PERMISSION_TYPE_DENY
                   ? "DENY" : "ALLOW");
    }
    printf("],\"count\":%zu}\n", count);
}

/* ---- the verbs --------------------------------------------------------------- */

/* A binding (add) or filter (list, remove) per combination the arguments
 * name. Filters leave principal, host and operation open where not given. */
typedef struct binding_set {
    rd_kafka_AclBinding_t *items[ACLS_BINDINGS_MAX];
    size_t count;
} binding_set;

static void binding_set_free(binding_set *s)
{
    for (size_t i = 0; i < s->count; i++)
        rd_kafka_AclBinding_destroy(s->items[i]);
    free(s);
}

static int push(binding_set *s, rd_kafka_AclBinding_t *b, const char *why)
{
    if (!b) {
        fprintf(stderr, "strait acls: librdkafka refused a binding: %s\n", why);
        return CLI_EXIT_USAGE;
    }
    if (s->count == ACLS_BINDINGS_MAX) {
        rd_kafka_AclBinding_destroy(b);
        fprintf(stderr, "strait acls: more than %d combinations of resource, principal, host and "
                "operation in one command\n", ACLS_BINDINGS_MAX);
        return CLI_EXIT_USAGE;
    }
    s->items[s->count++] = b;
    return 0;
}

/* Every combination of resource x principal x host x operation. */
static int build_set(const acls_args *a, binding_set *s)
{
    char why[512];
    const resource any_resource = {RD_KAFKA_RESOURCE_ANY, NULL};
    int resource_count = a->resource_count ? a->resource_count : 1;
    int principal_count = a->principal_count ? a->principal_count : 1;
    int operation_count = a->operation_count ? a->operation_count : 1;
    bool filter = a->verb != VERB_ADD;
    for (int r = 0; r < resource_count; r++) {
        const resource *res = a->resource_count ? &a->resources[r] : &any_resource;
        /* a named resource: the pattern given, else literal (kafka-acls); none: all */
        rd_kafka_ResourcePatternType_t pattern =
            !a->resource_count      ? RD_KAFKA_RESOURCE_PATTERN_ANY
            : a->pattern_type >= 0  ? (rd_kafka_ResourcePatternType_t)a->pattern_type
                                    : RD_KAFKA_RESOURCE_PATTERN_LITERAL;
        for (int p = 0; p < principal_count; p++) {
            const principal_entry *entry = a->principal_count ? &a->principals[p] : NULL;
            const char *principal = entry ? entry->principal : a->list_principal;
            rd_kafka_AclPermissionType_t permission =
                entry ? entry->permission : RD_KAFKA_ACL_PERMISSION_TYPE_ANY;
            bool deny = permission == RD_KAFKA_ACL_PERMISSION_TYPE_DENY;
            const char *const *hosts = deny ? a->deny_hosts : a->allow_hosts;
            int host_count = deny ? a->deny_host_count : a->allow_host_count;
            const char *default_host = filter ? NULL : "*";
            for (int h = 0; h < (host_count ? host_count : 1); h++) {
                const char *host = host_count ? hosts[h] : default_host;
                for (int o = 0; o < operation_count; o++) {
                    rd_kafka_AclOperation_t op =
                        a->operation_count ? a->operations[o] : RD_KAFKA_ACL_OPERATION_ANY;
                    rd_kafka_AclBinding_t *b =
                        filter ? rd_kafka_AclBindingFilter_new(res->type, res->name, pattern,
                                                               principal, host, op, permission,
                                                               why, sizeof why)
                               : rd_kafka_AclBinding_new(res->type, res->name, pattern, principal,
                                                         host, op, permission, why, sizeof why);
                    int rc = push(s, b, why);
                    if (rc != 0)
                        return rc;
                }
            }
        }
    }
    return 0;
}

static int run_add(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue, binding_set *s)
{
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATEACLS);
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(options, ACLS_REQUEST_TIMEOUT_MS, why, sizeof why);
    rd_kafka_CreateAcls(rk, s->items, s->count, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_event_t *ev = wait_result(queue);
    int exit_code = CLI_EXIT_OK;
    if (event_failed(a, ev, "CreateAcls")) {
        exit_code = CLI_EXIT_FAILED;
    } else {
        size_t count = 0;
        const rd_kafka_acl_result_t **results =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &count);
        for (size_t i = 0; i < count && i < s->count; i++) {
            char text[1024];
            binding_text(s->items[i], text, sizeof text);
            const rd_kafka_error_t *error = rd_kafka_acl_result_error(results[i]);
            if (error && rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                print_error(a, text, rd_kafka_error_code(error), rd_kafka_error_string(error));
                exit_code = CLI_EXIT_FAILED;
            } else {
                printf("added: %s\n", text);
            }
        }
        if (count != s->count) {
            fprintf(stderr, "strait acls add: the broker answered %zu results for %zu bindings\n",
                    count, s->count);
            exit_code = CLI_EXIT_FAILED;
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    return exit_code;
}

/* Describes every filter of s; the matches (copies owned by *found) sorted.
 * 0, or CLI_EXIT_FAILED after printing the broker's error. */
static int describe(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue,
                    const binding_set *s, binding_set *found)
{
    char why[256];
    size_t unknown = 0;
    for (size_t f = 0; f < s->count; f++) {
        rd_kafka_AdminOptions_t *options =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
        rd_kafka_AdminOptions_set_request_timeout(options, ACLS_REQUEST_TIMEOUT_MS, why,
                                                  sizeof why);
        rd_kafka_DescribeAcls(rk, s->items[f], options, queue);
        rd_kafka_AdminOptions_destroy(options);
        rd_kafka_event_t *ev = wait_result(queue);
        if (event_failed(a, ev, "DescribeAcls")) {
            if (ev)
                rd_kafka_event_destroy(ev);
            return CLI_EXIT_FAILED;
        }
        size_t count = 0;
        const rd_kafka_AclBinding_t **acls =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &count);
        int rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
            const rd_kafka_AclBinding_t *b = acls[i];
            rd_kafka_AclBinding_t *copy = rd_kafka_AclBinding_new(
                rd_kafka_AclBinding_restype(b), rd_kafka_AclBinding_name(b),
                rd_kafka_AclBinding_resource_pattern_type(b), rd_kafka_AclBinding_principal(b),
                rd_kafka_AclBinding_host(b), rd_kafka_AclBinding_operation(b),
                rd_kafka_AclBinding_permission_type(b), why, sizeof why);
            /* a type librdkafka does not know (a transactional id): it
             * decodes as UNKNOWN and cannot be copied; said, not shown */
            if (!copy)
                unknown++;
            else
                rc = push(found, copy, why);
        }
        rd_kafka_event_destroy(ev);
        if (rc != 0)
            return CLI_EXIT_FAILED;
    }
    if (unknown > 0)
        fprintf(stderr, "strait acls %s: %zu ACL%s of a resource type, operation or pattern "
                "librdkafka %s does not know (a transactional id?) not shown; kafka-acls.sh "
                "lists them\n", acls_verb_name(a->verb), unknown, unknown == 1 ? "" : "s",
                rd_kafka_version_str());
    qsort(found->items, found->count, sizeof found->items[0], compare_bindings);
    /* several filters may match one binding: keep it once */
    size_t kept = 0;
    for (size_t i = 0; i < found->count; i++) {
        if (kept > 0 && compare_bindings(&found->items[kept - 1], &found->items[i]) == 0)
            rd_kafka_AclBinding_destroy(found->items[i]);
        else
            found->items[kept++] = found->items[i];
    }
    found->count = kept;
    return 0;
}

/* librdkafka (2.0.2, and still 2.8) drops the error of a DescribeAcls
 * response: a broker without an authorizer (SECURITY_DISABLED) or a
 * principal without DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED)
 * look like an empty list. So an empty answer is checked with a DeleteAcls
 * whose filter matches nothing (host "": every binding has a host), whose
 * errors librdkafka does pass on. It needs ALTER on the cluster: a principal
 * with DESCRIBE but not ALTER gets CLUSTER_AUTHORIZATION_FAILED here even
 * where the list is really empty (docs/security.md says so). 0 when the
 * empty answer is real; otherwise prints the error, CLI_EXIT_FAILED. */
static int check_empty_answer(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue)
{
    char why[256];
    rd_kafka_AclBindingFilter_t *nothing = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, "",
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, why, sizeof why);
    if (!nothing) {
        fprintf(stderr, "strait acls %s: librdkafka refused a filter: %s\n", acls_verb_name(a->verb),
                why);
        return CLI_EXIT_FAILED;
    }
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETEACLS);
    rd_kafka_AdminOptions_set_request_timeout(options, ACLS_REQUEST_TIMEOUT_MS, why, sizeof why);
    rd_kafka_DeleteAcls(rk, &nothing, 1, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_AclBinding_destroy(nothing);
    rd_kafka_event_t *ev = wait_result(queue);
    int rc = event_failed(a, ev, "DescribeAcls") ? CLI_EXIT_FAILED : 0;
    size_t count = 0;
    const rd_kafka_DeleteAcls_result_response_t **responses =
        rc == 0 ? rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &count)
                : NULL;
    for (size_t i = 0; i < count; i++) {
        const rd_kafka_error_t *error = rd_kafka_DeleteAcls_result_response_error(responses[i]);
        if (error && rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            print_error(a, "DescribeAcls", rd_kafka_error_code(error),
                        rd_kafka_error_string(error));
            if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
                fprintf(stderr, "strait acls %s: (librdkafka drops DescribeAcls errors, so the "
                        "empty answer was checked with a DeleteAcls that matches nothing, which "
                        "needs ALTER on the cluster; listing alone needs DESCRIBE)\n",
                        acls_verb_name(a->verb));
            rc = CLI_EXIT_FAILED;
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    return rc;
}

static int run_list(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue, binding_set *s)
{
    binding_set *found = calloc(1, sizeof *found);
    if (!found) {
        fputs("strait acls list: out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    int rc = describe(a, rk, queue, s, found);
    if (rc == 0 && found->count == 0)
        rc = check_empty_answer(a, rk, queue);
    if (rc == 0 && a->json)
        print_json((const rd_kafka_AclBinding_t **)found->items, found->count);
    else if (rc == 0 && found->count == 0)
        printf("no ACLs match\n");
    else if (rc == 0)
        print_table((const rd_kafka_AclBinding_t **)found->items, found->count);
    binding_set_free(found);
    return rc;
}

/* Asks on the terminal; false when the answer is not yes. */
static bool confirmed(size_t count)
{
    fprintf(stderr, "delete the %zu ACL%s above? [y/N] ", count, count == 1 ? "" : "s");
    char answer[16];
    if (!fgets(answer, sizeof answer, stdin))
        return false;
    return answer[0] == 'y' || answer[0] == 'Y';
}

static int delete_matching(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue,
                           binding_set *s)
{
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETEACLS);
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(options, ACLS_REQUEST_TIMEOUT_MS, why, sizeof why);
    rd_kafka_DeleteAcls(rk, s->items, s->count, options, queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_event_t *ev = wait_result(queue);
    if (event_failed(a, ev, "DeleteAcls")) {
        if (ev)
            rd_kafka_event_destroy(ev);
        return CLI_EXIT_FAILED;
    }
    size_t count = 0, deleted = 0;
    int exit_code = CLI_EXIT_OK;
    const rd_kafka_DeleteAcls_result_response_t **responses =
        rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &count);
    for (size_t i = 0; i < count; i++) {
        const rd_kafka_error_t *error = rd_kafka_DeleteAcls_result_response_error(responses[i]);
        if (error && rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            print_error(a, "DeleteAcls", rd_kafka_error_code(error), rd_kafka_error_string(error));
            exit_code = CLI_EXIT_FAILED;
            continue;
        }
        size_t matched = 0;
        const rd_kafka_AclBinding_t **acls =
            rd_kafka_DeleteAcls_result_response_matching_acls(responses[i], &matched);
        for (size_t k = 0; k < matched; k++) {
            char text[1024];
            binding_text(acls[k], text, sizeof text);
            printf("removed: %s\n", text);
        }
        deleted += matched;
    }
    printf("%zu ACL%s removed\n", deleted, deleted == 1 ? "" : "s");
    rd_kafka_event_destroy(ev);
    return exit_code;
}

static int run_remove(const acls_args *a, rd_kafka_t *rk, rd_kafka_queue_t *queue,
                      binding_set *s)
{
    binding_set *found = calloc(1, sizeof *found);
    if (!found) {
        fputs("strait acls remove: out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    int rc = describe(a, rk, queue, s, found);
    if (rc == 0 && found->count == 0)
        rc = check_empty_answer(a, rk, queue);
    if (rc == 0 && found->count == 0) {
        printf("no ACLs match; nothing removed\n");
    } else if (rc == 0) {
        printf("%s %zu ACL%s:\n", a->dry_run ? "would remove" : "will remove", found->count,
               found->count == 1 ? "" : "s");
        print_table((const rd_kafka_AclBinding_t **)found->items, found->count);
        fflush(stdout);
        if (a->dry_run) {
            printf("dry run: nothing removed\n");
        } else if (!a->force && !isatty(STDIN_FILENO)) {
            fprintf(stderr, "strait acls remove: refusing to remove without confirmation: "
                    "standard input is not a terminal (add --force); nothing removed\n");
            rc = CLI_EXIT_USAGE;
        } else if (!a->force && !confirmed(found->count)) {
            printf("not confirmed; nothing removed\n");
            rc = CLI_EXIT_REFUSED;
        } else {
            rc = delete_matching(a, rk, queue, s);
        }
    }
    binding_set_free(found);
    return rc;
}

int failover_cli_acls(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
        !strcmp(argv[0], "help")) {
        acls_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    acls_args *a = calloc(1, sizeof *a);
    binding_set *s = calloc(1, sizeof *s);
    if (!a || !s) {
        free(a);
        free(s);
        fputs("strait acls: out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    a->pattern_type = -1;
    int rc = CLI_EXIT_OK;
    if (!strcmp(argv[0], "add")) {
        a->verb = VERB_ADD;
    } else if (!strcmp(argv[0], "list")) {
        a->verb = VERB_LIST;
    } else if (!strcmp(argv[0], "remove")) {
        a->verb = VERB_REMOVE;
    } else {
        fprintf(stderr, "strait acls: unknown verb '%s': expected add, list or remove "
                "(strait acls --help)\n", argv[0]);
        rc = CLI_EXIT_USAGE;
    }
    for (int i = 1; rc == 0 && i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            acls_usage(stdout);
            free(a);
            free(s);
            return CLI_EXIT_OK;
        }
    }
    if (rc == 0)
        rc = acls_args_parse(a, argc - 1, argv + 1);
    if (rc == 0)
        rc = build_set(a, s);
    char err[1024];
    rd_kafka_t *rk = NULL;
    if (rc == 0 && !(rk = connect_admin(a, err, sizeof err))) {
        fprintf(stderr, "strait acls %s: %s\n", acls_verb_name(a->verb), err);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == 0) {
        rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
        rc = a->verb == VERB_ADD    ? run_add(a, rk, queue, s)
             : a->verb == VERB_LIST ? run_list(a, rk, queue, s)
                                    : run_remove(a, rk, queue, s);
        rd_kafka_queue_destroy(queue);
    }
    if (rk)
        rd_kafka_destroy(rk);
    binding_set_free(s);
    free(a);
    return rc;
}
