/*
 * cli.h - the operator verbs of DESIGN.md §8, run by cmd/strait.c. Each
 * talks only to the sidecars named in the topology (their /failover/ routes)
 * and returns an exit code of cli_common.h (0 done, 1 failed mid-way, 2
 * usage, 3 refused with nothing changed). Human output on stdout, one line
 * per step; with json, one JSON object at the end instead.
 */
#ifndef STRAIT_FAILOVER_CLI_H
#define STRAIT_FAILOVER_CLI_H

#include <stdbool.h>
#include <stdint.h>

int failover_cli_status(const char *topology_path, bool json, bool history);

/* Planned: fence the active region, wait until every flow into `to` has
 * drained (at most timeout_ms, else un-fence and fail), take the final group
 * checkpoints, promote `to`. Re-running it after an interruption completes
 * the switchover; `--to <old active>` while it is still fenced rolls back. */
int failover_cli_switchover(const char *topology_path, const char *to, int64_t timeout_ms,
                            bool json);

/* Unplanned: the active region is gone; promote `to` now on the last
 * checkpoints. Refused while the active region's sidecar still answers,
 * unless force. */
int failover_cli_failover(const char *topology_path, const char *to, bool force, bool json);

/* The old active `to` is back as a standby: check it has caught up through
 * the reverse flow, then switch over to it. */
int failover_cli_failback(const char *topology_path, const char *to, int64_t timeout_ms,
                          bool json);

/* `strait unfence REGION --topology FILE --i-know-the-other-regions-are-down
 * [--json]` (argv after "unfence", failover/cli_confirm.c): lifts the restart
 * fence of a manual-mode region that has not heard from a peer. */
int failover_cli_unfence(int argc, char **argv);

/* `strait acls add|list|remove ...` (argv after "acls"): the broker's ACLs
 * through librdkafka's admin API (failover/cli_acls.c). 0 done, 1 the broker
 * refused or was not reached, 2 bad command line or command config. */
int failover_cli_acls(int argc, char **argv);

/* `strait users add|list|delete ...` (argv after "users"): the brokers'
 * SASL/SCRAM users through strait's own Kafka client (failover/cli_users.c).
 * 0 done, 1 the broker refused or was not reached, 2 bad command line,
 * command config or password file. */
int failover_cli_users(int argc, char **argv);

#endif
