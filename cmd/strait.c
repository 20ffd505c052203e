/*
 * strait.c - the one main(): reads the subcommand and hands over to its
 * module. Nothing depends on this file.
 *
 *   strait broker [--config FILE] [--override key=value]...
 *   strait version | help
 *
 * Exit status: 0 success, 1 the role failed at run time, 2 bad command line
 * or configuration (the message says which argument, file line or key).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/broker_config.h"
#include "common/error.h"

#ifndef STRAIT_VERSION
#define STRAIT_VERSION "0.1.0"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Subcommands of DESIGN.md §1 whose modules are not in this build yet. */
static const char *const not_built[] = {
    "sidecar", "status", "failover", "switchover", "failback", "topics", "groups", "offsets",
};

static void usage(FILE *out)
{
    fputs("usage: strait <command> [options]\n"
          "\n"
          "commands:\n"
          "  broker [--config FILE] [--override key=value]...\n"
          "                 run one broker node; without --config, a single node on\n"
          "                 127.0.0.1:9092 with data in ./data\n"
          "  version        print the version\n"
          "  help           print this help\n"
          "\n"
          "not available in this build yet:\n"
          "  sidecar, status, failover, switchover, failback, topics, groups, offsets\n"
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
    broker *b = NULL;
    int rc = broker_open(&config, &b);
    if (rc != 0) {
        fprintf(stderr, "strait broker: cannot start: %s\n", strait_strerror(rc));
        return EXIT_RUNTIME;
    }
    rc = broker_run(b);
    broker_close(b);
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

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command");
    const char *command = argv[1];
    if (!strcmp(command, "broker"))
        return cmd_broker(argc - 2, argv + 2);
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
