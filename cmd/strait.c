/*
 * strait.c - the one main(): reads the subcommand and hands over to its
 * module. Nothing depends on this file.
 *
 *   strait broker [--config FILE] [--override key=value]...
 *   strait sidecar --topology FILE --region NAME
 *   strait offsets translate --topology FILE --group G --from A --to B [--json]
 *   strait status | switchover | failover | failback --topology FILE ... (failover/cli.h)
 *   strait witness --listen HOST:PORT --topology FILE [--state-dir DIR] (failover/witness.h)
 *   strait acls add|list|remove --bootstrap HOST:PORT ... (failover/cli_acls.c)
 *   strait users add|list|delete --bootstrap HOST:PORT ... (failover/cli_users.c)
 *   strait unfence REGION --topology FILE --i-know-... (failover/cli_confirm.c)
 *   strait version | help
 *
 * Exit status: 0 success, 1 the role failed at run time, 2 bad command line
 * or configuration (the message says which argument, file line or key).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/config/broker_config.h"
#include "common/error.h"
#include "failover/cli.h"
#include "failover/cli_common.h"
#include "failover/control_plane.h"
#include "failover/witness.h"
#include "sidecar/sidecar.h"
#include "common/http_client.h"
#include "topology/topology.h"

#ifndef STRAIT_VERSION
#define STRAIT_VERSION "0.1.0"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Subcommands of DESIGN.md §1 whose modules are not in this build yet. */
static const char *const not_built[] = {
    "topics", "groups",
};

static void usage(FILE *out)
{
    fputs("usage: strait <command> [options]\n"
          "\n"
          "commands:\n"
          "  broker [--config FILE] [--override key=value]...\n"
          "                 run one broker node; without --config, a single node on\n"
          "                 127.0.0.1:9092 with data in ./data\n"
          "  sidecar --topology FILE --region NAME\n"
          "                 run the region's sidecar: mirror flows into NAME, group\n"
          "                 checkpoints, HTTP /status /metrics (docs/topology.md)\n"
          "  offsets translate --topology FILE --group G --from A --to B [--json]\n"
          "                 group G's committed offsets on A translated to B, as B's\n"
          "                 sidecar checkpointed them (exit 1: sidecar unreachable)\n"
          "  status --topology FILE [--json] [--history]\n"
          "                 every region's role, epoch, flows, lag and checkpoint age\n"
          "  switchover --topology FILE --to REGION [--timeout 60s] [--json]\n"
          "                 planned: fence the active region, drain the mirror, promote\n"
          "                 REGION (nothing lost, nothing read twice)\n"
          "  failover --topology FILE --to REGION [--force] [--json]\n"
          "                 unplanned: the active region is gone; promote REGION now\n"
          "  failback --topology FILE --to REGION [--timeout 60s] [--json]\n"
          "                 switch back to a returned region once it has caught up\n"
          "                 (exit codes: 0 done, 1 failed mid-way, 2 usage, 3 refused;\n"
          "                 docs/dr-runbook.md)\n"
          "  unfence REGION --topology FILE --i-know-the-other-regions-are-down [--json]\n"
          "                 let a region that restarted as active take writes before it\n"
          "                 has heard from a peer (manual mode; split brain if another\n"
          "                 region was promoted meanwhile: docs/dr-runbook.md)\n"
          "  witness --listen HOST:PORT --topology FILE [--state-dir DIR]\n"
          "                 the third vote of automatic failover, for a third site\n"
          "                 (its vote is kept in DIR, default ./strait-witness)\n"
          "  acls add|list|remove --bootstrap HOST:PORT [--command-config FILE] ...\n"
          "                 the brokers' ACLs with kafka-acls' options (--allow-principal,\n"
          "                 --operation, --topic ...; strait acls --help)\n"
          "  users add|list|delete --bootstrap HOST:PORT [--command-config FILE] ...\n"
          "                 the brokers' SASL/SCRAM users (add NAME --mechanism\n"
          "                 SCRAM-SHA-512 --password-file FILE; strait users --help)\n"
          "  version        print the version\n"
          "  help           print this help\n"
          "\n"
          "not available in this build yet:\n"
          "  topics, groups\n"
          "\n"
          "broker options:\n"
          "  --config FILE          broker YAML (Kafka broker config names, see\n"
          "                         docs/configuration.md); at most once\n"
          "  --override key=value   set one config key on top of the file; repeatable\n",
          out);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("strait: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* Value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if this is not
 * the option, and *missing when it is but has no value. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int run_broker(const char *config_path, const char *const *overrides, int override_count)
{
    broker_config config;
    char err[1024];
    if (broker_config_load(config_path, overrides, override_count, &config, err, sizeof err) != 0) {
        fprintf(stderr, "strait broker: %s\n", err);
        return EXIT_USAGE;
    }
    broker_node *node = NULL;
    int rc = broker_open(&config, &node);
    if (rc != 0) {
        fprintf(stderr, "strait broker: cannot start: %s\n", strait_strerror(rc));
        return EXIT_RUNTIME;
    }
    rc = broker_run(node);
    broker_close(node);
    if (rc != 0) {
        fprintf(stderr, "strait broker: stopped on error: %s\n", strait_strerror(rc));
        return EXIT_RUNTIME;
    }
    return 0;
}

static int cmd_broker(int argc, char **argv)
{
    const char *config_path = NULL;
    const char **overrides = calloc((size_t)argc, sizeof *overrides);
    int override_count = 0, rc = -1;
    if (!overrides) {
        fputs("strait broker: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < argc && rc < 0; i++) {
        int missing = 0;
        const char *value;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            rc = 0;
        } else if ((value = option_value(argc, argv, &i, "--config", &missing)) || missing) {
            if (missing)
                rc = usage_error("broker: --config needs a FILE");
            else if (config_path)
                rc = usage_error("broker: --config given twice (at most one file)");
            else
                config_path = value;
        } else if ((value = option_value(argc, argv, &i, "--override", &missing)) || missing) {
            if (missing)
                rc = usage_error("broker: --override needs key=value");
            else
                overrides[override_count++] = value;
        } else if (argv[i][0] == '-') {
            rc = usage_error("broker: unknown option '%s'", argv[i]);
        } else {
            rc = usage_error("broker: unexpected argument '%s'", argv[i]);
        }
    }
    if (rc < 0)
        rc = run_broker(config_path, overrides, override_count);
    free(overrides);
    return rc;
}

static int cmd_sidecar(int argc, char **argv)
{
    const char *topology_path = NULL, *region = NULL;
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *value;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((value = option_value(argc, argv, &i, "--topology", &missing)) || missing) {
            if (missing)
                return usage_error("sidecar: --topology needs a FILE");
            topology_path = value;
        } else if ((value = option_value(argc, argv, &i, "--region", &missing)) || missing) {
            if (missing)
                return usage_error("sidecar: --region needs a NAME");
            region = value;
        } else {
            return usage_error("sidecar: unexpected argument '%s'", argv[i]);
        }
    }
    if (!topology_path || !region)
        return usage_error("sidecar: --topology FILE and --region NAME are required");
    sidecar *sc = NULL;
    char err[1024];
    int rc = sidecar_open(topology_path, region, &sc, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "strait sidecar: %s\n", err);
        return rc == ST_ECONFIG ? EXIT_USAGE : EXIT_RUNTIME;
    }
    rc = sidecar_run(sc);
    sidecar_close(sc);
    if (rc != 0) {
        fprintf(stderr, "strait sidecar: stopped on error: %s\n", strait_strerror(rc));
        return EXIT_RUNTIME;
    }
    return 0;
}

/* Asks region to's sidecar for group's checkpoints of flow from->to. */
static int offsets_translate(const char *topology_path, const char *group, const char *from,
                             const char *to, int json)
{
    topology *t = calloc(1, sizeof *t);
    char err[1024];
    if (!t) {
        fputs("strait offsets translate: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    int rc = topology_load(topology_path, t, err, sizeof err), exit_code = EXIT_RUNTIME;
    int source = rc == 0 ? topology_region_index(t, from) : -1;
    int target = rc == 0 ? topology_region_index(t, to) : -1;
    bool flow_found = false;
    for (int i = 0; rc == 0 && i < t->flow_count; i++)
        flow_found |= t->flows[i].source == source && t->flows[i].target == target;
    if (rc != 0) {
        fprintf(stderr, "strait offsets translate: %s\n", err);
        exit_code = EXIT_USAGE;
    } else if (source < 0 || target < 0) {
        fprintf(stderr, "strait offsets translate: '%s' is not a region of %s\n",
                source < 0 ? from : to, topology_path);
        exit_code = EXIT_USAGE;
    } else if (!flow_found) {
        fprintf(stderr, "strait offsets translate: %s has no flow %s -> %s\n", topology_path,
                from, to);
        exit_code = EXIT_USAGE;
    } else {
        char path[2048] = "/offsets/translate?group=";
        int fits = http_client_escape(group, path, sizeof path);
        size_t at = strlen(path);
        snprintf(path + at, sizeof path - at, "&from=%s%s", from, json ? "" : "&format=text");
        int status = 0;
        char *body = NULL;
        size_t len = 0;
        control_plane *control = NULL;
        if (!fits) {
            fprintf(stderr, "strait offsets translate: --group is too long\n");
            exit_code = EXIT_USAGE;
        } else if (control_plane_open(t, CONTROL_PLANE_OPERATOR, -1, &control, err,
                                      sizeof err) != 0 ||
                   http_client_get(control_plane_to_sidecar(control, target),
                                   t->regions[target].sidecar, path, 5000, &status, &body, &len,
                                   err, sizeof err) != 0) {
            fprintf(stderr, "strait offsets translate: %s\n", err);
        } else if (status == 401) {
            cli_unauthorized(control, t->regions[target].sidecar, body, err, sizeof err);
            fprintf(stderr, "strait offsets translate: %s\n", err);
        } else if (status != 200) {
            fprintf(stderr, "strait offsets translate: sidecar %s answered %d: %s",
                    t->regions[target].sidecar, status, body);
        } else {
            fwrite(body, 1, len, stdout);
            exit_code = 0;
        }
        free(body);
        control_plane_close(control);
    }
    free(t);
    return exit_code;
}

static int cmd_offsets(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "translate") != 0)
        return usage_error("offsets: expected 'translate'");
    const char *topology_path = NULL, *group = NULL, *from = NULL, *to = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *value;
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((value = option_value(argc, argv, &i, "--topology", &missing)) || missing) {
            topology_path = value;
        } else if ((value = option_value(argc, argv, &i, "--group", &missing)) || missing) {
            group = value;
        } else if ((value = option_value(argc, argv, &i, "--from", &missing)) || missing) {
            from = value;
        } else if ((value = option_value(argc, argv, &i, "--to", &missing)) || missing) {
            to = value;
        } else {
            return usage_error("offsets translate: unexpected argument '%s'", argv[i]);
        }
        if (missing)
            return usage_error("offsets translate: %s needs a value", argv[i]);
    }
    if (!topology_path || !group || !from || !to)
        return usage_error("offsets translate: --topology, --group, --from and --to are required");
    return offsets_translate(topology_path, group, from, to, json);
}

static int cmd_witness(int argc, char **argv)
{
    const char *listen = NULL, *topology_path = NULL, *state_dir = WITNESS_STATE_DIR_DEFAULT;
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *value;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((value = option_value(argc, argv, &i, "--listen", &missing)) || missing) {
            if (missing)
                return usage_error("witness: --listen needs HOST:PORT");
            listen = value;
        } else if ((value = option_value(argc, argv, &i, "--topology", &missing)) || missing) {
            if (missing)
                return usage_error("witness: --topology needs a FILE");
            topology_path = value;
        } else if ((value = option_value(argc, argv, &i, "--state-dir", &missing)) || missing) {
            if (missing)
                return usage_error("witness: --state-dir needs a DIR");
            state_dir = value;
        } else {
            return usage_error("witness: unexpected argument '%s'", argv[i]);
        }
    }
    if (!listen || !topology_path)
        return usage_error("witness: --listen HOST:PORT and --topology FILE are required");
    witness *w = NULL;
    char err[1024];
    int rc = witness_open(listen, topology_path, state_dir, &w, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "strait witness: %s\n", err);
        return rc == ST_ECONFIG ? EXIT_USAGE : EXIT_RUNTIME;
    }
    rc = witness_run(w);
    witness_close(w);
    if (rc != 0) {
        fprintf(stderr, "strait witness: stopped on error: %s\n", strait_strerror(rc));
        return EXIT_RUNTIME;
    }
    return 0;
}

/* status, switchover, failover, failback */
static int cmd_failover_verb(const char *verb, int argc, char **argv)
{
    const char *topology_path = NULL, *to = NULL, *timeout_text = NULL;
    bool json = false, history = false, force = false;
    bool is_status = !strcmp(verb, "status");
    bool has_timeout = !strcmp(verb, "switchover") || !strcmp(verb, "failback");
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *value;
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (is_status && !strcmp(argv[i], "--history")) {
            history = true;
        } else if (!strcmp(verb, "failover") && !strcmp(argv[i], "--force")) {
            force = true;
        } else if ((value = option_value(argc, argv, &i, "--topology", &missing)) || missing) {
            topology_path = value;
        } else if (!is_status && ((value = option_value(argc, argv, &i, "--to", &missing)) || missing)) {
            to = value;
        } else if (has_timeout &&
                   ((value = option_value(argc, argv, &i, "--timeout", &missing)) || missing)) {
            timeout_text = value;
        } else {
            return usage_error("%s: unexpected argument '%s'", verb, argv[i]);
        }
        if (missing)
            return usage_error("%s: %s needs a value", verb, argv[i]);
    }
    if (!topology_path)
        return usage_error("%s: --topology is required", verb);
    if (!is_status && !to)
        return usage_error("%s: --to REGION is required", verb);
    int64_t timeout_ms = 60000;
    char msg[256];
    if (timeout_text && topology_parse_duration(timeout_text, 100, &timeout_ms, msg, sizeof msg) != 0)
        return usage_error("%s: --timeout: %s", verb, msg);
    if (is_status)
        return failover_cli_status(topology_path, json, history);
    if (!strcmp(verb, "switchover"))
        return failover_cli_switchover(topology_path, to, timeout_ms, json);
    if (!strcmp(verb, "failback"))
        return failover_cli_failback(topology_path, to, timeout_ms, json);
    return failover_cli_failover(topology_path, to, force, json);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command");
    const char *command = argv[1];
    if (!strcmp(command, "broker"))
        return cmd_broker(argc - 2, argv + 2);
    if (!strcmp(command, "sidecar"))
        return cmd_sidecar(argc - 2, argv + 2);
    if (!strcmp(command, "offsets"))
        return cmd_offsets(argc - 2, argv + 2);
    if (!strcmp(command, "witness"))
        return cmd_witness(argc - 2, argv + 2);
    if (!strcmp(command, "status") || !strcmp(command, "switchover") ||
        !strcmp(command, "failover") || !strcmp(command, "failback"))
        return cmd_failover_verb(command, argc - 2, argv + 2);
    if (!strcmp(command, "acls"))
        return failover_cli_acls(argc - 2, argv + 2);
    if (!strcmp(command, "users"))
        return failover_cli_users(argc - 2, argv + 2);
    if (!strcmp(command, "unfence"))
        return failover_cli_unfence(argc - 2, argv + 2);
    if (!strcmp(command, "version") || !strcmp(command, "--version")) {
        printf("strait %s\n", STRAIT_VERSION);
        return 0;
    }
    if (!strcmp(command, "help") || !strcmp(command, "--help") || !strcmp(command, "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof not_built / sizeof not_built[0]; i++) {
        if (!strcmp(command, not_built[i])) {
            fprintf(stderr, "strait: '%s' is not available in this build\n", command);
            return EXIT_USAGE;
        }
    }
    if (command[0] == '-')
        return usage_error("unknown option '%s'", command);
    return usage_error("unknown command '%s'", command);
}
