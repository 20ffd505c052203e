/*
 * cli_common.h - what the operator verbs (`strait status`, `switchover`,
 * `failover`, `failback`) share: reading every region's failover state from
 * its sidecar, sending a new state to the sidecars, `key=value` answers, the
 * actor name, and the documented exit codes.
 */
#ifndef STRAIT_FAILOVER_CLI_COMMON_H
#define STRAIT_FAILOVER_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"
#include "topology/topology.h"

/* Exit codes of the failover verbs (documented in docs/dr-runbook.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,   /* a sidecar or broker failed mid-way; `strait status` explains */
    CLI_EXIT_USAGE = 2,    /* bad command line or topology */
    CLI_EXIT_REFUSED = 3,  /* a precondition does not hold; nothing was changed */
};

/* Timeout of one request to a sidecar. Pushing a role to the brokers is part
 * of a POST, so it is longer than the push timeout (broker_push.h). */
#define CLI_SIDECAR_TIMEOUT_MS 15000

typedef struct cli_region {
    const char *name;
    const char *sidecar;
    bool reachable;
    char error[512];               /* why not reachable */
    failover_state state;
    char role[16];
    int64_t pushed_epoch;
    char push_error[512];
    char lease[16];                /* the sidecar's lease: valid | expired | none */
    int64_t broker_lease_ms;       /* the brokers' lease, 0 = none */
    bool broker_lease_renewing;
    int64_t broker_lease_renewed_at_ms;
    char broker_lease_error[256];
    char effective_role[16];       /* what the brokers are told ("" from an older sidecar) */
    char fenced_reason[256];       /* why effective_role is `fenced` when role is not */
} cli_region;

struct control_plane;

typedef struct cli_context {
    topology *topology;            /* heap */
    struct control_plane *control; /* the operator's credentials (the token) */
    cli_region regions[TOPOLOGY_REGIONS_MAX];
    char actor[FAILOVER_ACTOR_MAX];
} cli_context;

/* Loads the topology (message on stderr, CLI_EXIT_USAGE) and refuses one
 * without a failover section (CLI_EXIT_USAGE). */
/* The value of "--name VALUE" or "--name=VALUE" at argv[*i] (advancing *i
 * past a separate value); NULL when argv[*i] is not that option, and
 * *missing set when it is but has no value. */
const char *cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing);

int cli_open(const char *topology_path, const char *verb, cli_context *ctx);
void cli_close(cli_context *ctx);
/* Reads every region's state; returns the number reachable. */
int cli_read_states(cli_context *ctx);
/* Index of the region called name, or prints a refusal naming the regions
 * and returns -1. */
int cli_region_arg(cli_context *ctx, const char *verb, const char *name);

/* s as a JSON string literal on stdout (RFC 8259 escapes). */
void cli_json_string(const char *s);

/* One "key=value\n" value out of a kv body into out ("" when absent). */
void cli_kv(const char *body, const char *key, char *out, size_t outlen);
int64_t cli_kv_int(const char *body, const char *key, int64_t fallback);

/* GET or POST path on region's sidecar with the operator's credentials; on
 * 0 *body is malloc'ed. A 401 is an error (ST_EINVAL) whose err says the
 * sidecar refused the credentials, why, and why the CLI has no token. */
int cli_call(cli_context *ctx, int region, bool post, const char *path, int *status, char **body,
             char *err, size_t errlen);

/* err = why a sidecar at address answered 401 to the CLI (body: its answer). */
void cli_unauthorized(const struct control_plane *control, const char *address,
                      const char *body, char *err, size_t errlen);

/* Sends st (with the event fields: lag_records is the mirror lag in records
 * when the event happened, -1 when unknown) to one region's sidecar. 0 when
 * stored and pushed to its brokers; otherwise err says why (refused or
 * failed). */
int cli_send_state(cli_context *ctx, int region, const failover_state *st, const char *event_from,
                   int64_t lag_records, const char *outcome, const char *detail, char *err,
                   size_t errlen);

#endif
