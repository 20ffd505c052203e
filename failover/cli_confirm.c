/*
 * cli_confirm.c - `strait unfence REGION --topology FILE
 * --i-know-the-other-regions-are-down [--json]`: the operator lifts the
 * restart fence of manual mode (failover/agent.h failover_agent_open) on a
 * region that came back as `active` and has not heard from its peers.
 *
 * What it risks is in its name: the region takes writes on the role it had
 * before it went down, without having learnt whether another region was
 * promoted meanwhile. If one was, both take writes until the links heal;
 * then the region with the older epoch adopts the newer one and becomes a
 * standby, and the writes it took in between are not in the active region.
 * The command therefore refuses without the long flag, refuses when any
 * other region's sidecar answers (then there is nothing to confirm: the
 * fence lifts by itself, or the region adopts the newer state), and sends
 * the region name and the risk to the sidecar, which checks both
 * (POST /failover/unfence, sidecar/sidecar_failover.c) and records the
 * operator in its audit history.
 *
 * Exit codes as the other failover verbs (cli_common.h): 0 lifted, 1 the
 * sidecar failed or its brokers did not accept it yet, 2 usage, 3 refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/http_client.h"
#include "failover/agent.h"
#include "failover/cli.h"
#include "failover/cli_common.h"

#define UNFENCE_FLAG "--i-know-the-other-regions-are-down"

static int usage(const char *why)
{
    fprintf(stderr, "strait unfence: %s\n"
            "usage: strait unfence REGION --topology FILE " UNFENCE_FLAG " [--json]\n"
            "  lifts the fence a manual-mode region holds after a restart until it has heard\n"
            "  from a peer. If another region was promoted while REGION was down, both take\n"
            "  writes until the links heal (split brain): run it only when you know every\n"
            "  other region is down, not merely unreachable from here.\n", why);
    return CLI_EXIT_USAGE;
}

static void report(bool json, const char *region, const char *outcome, const char *message)
{
    if (json) {
        printf("{\"operation\": \"unfence\", \"region\": ");
        cli_json_string(region);
        printf(", \"outcome\": ");
        cli_json_string(outcome);
        printf(", \"message\": ");
        cli_json_string(message);
        printf("}\n");
    } else {
        printf("%s\n", message);
    }
}

/* Refuses when another region's sidecar answers: then the fence is not the
 * operator's to lift (it lifts by itself once that answer is seen). */
static int refuse_if_peers_answer(cli_context *ctx, int region, bool json)
{
    cli_read_states(ctx);
    for (int i = 0; i < ctx->topology->region_count; i++) {
        if (i == region || !ctx->regions[i].reachable)
            continue;
        char message[512];
        snprintf(message, sizeof message, "refused: the sidecar of %s answers (epoch %lld, "
                 "active %s), so %s learns the current state from it and needs no "
                 "confirmation", ctx->regions[i].name, (long long)ctx->regions[i].state.epoch,
                 ctx->regions[i].state.active, ctx->regions[region].name);
        report(json, ctx->regions[region].name, "refused", message);
        return CLI_EXIT_REFUSED;
    }
    if (!ctx->regions[region].reachable) {
        char message[768];
        snprintf(message, sizeof message, "the sidecar of %s is unreachable: %s",
                 ctx->regions[region].name, ctx->regions[region].error);
        report(json, ctx->regions[region].name, "failed", message);
        return CLI_EXIT_FAILED;
    }
    return 0;
}

static int unfence(cli_context *ctx, int region, bool json)
{
    int rc = refuse_if_peers_answer(ctx, region, json);
    if (rc != 0)
        return rc;
    char path[512], name[160], actor[3 * FAILOVER_ACTOR_MAX + 1];
    name[0] = actor[0] = '\0';
    if (!http_client_escape(ctx->regions[region].name, name, sizeof name) ||
        !http_client_escape(ctx->actor, actor, sizeof actor))
        return usage("region or actor name too long");
    snprintf(path, sizeof path, "/failover/unfence?region=%s&risk=%s&actor=%s", name,
             FAILOVER_UNFENCE_RISK, actor);
    int status = 0;
    char *body = NULL, err[512], message[1024];
    if (cli_call(ctx, region, true, path, &status, &body, err, sizeof err) != 0) {
        snprintf(message, sizeof message, "the sidecar of %s did not answer: %s",
                 ctx->regions[region].name, err);
        report(json, ctx->regions[region].name, "failed", message);
        return CLI_EXIT_FAILED;
    }
    char error[512];
    cli_kv(body, "error", error, sizeof error);
    free(body);
    if (status == 200) {
        snprintf(message, sizeof message, "%s is unfenced: it takes writes as the active region "
                 "without having heard from a peer (recorded in its history as %s)",
                 ctx->regions[region].name, ctx->actor);
        report(json, ctx->regions[region].name, "unfenced", message);
        return CLI_EXIT_OK;
    }
    snprintf(message, sizeof message, "%s: %s", status == 409 ? "refused" : "failed",
             error[0] ? error : "no reason given");
    report(json, ctx->regions[region].name, status == 409 ? "refused" : "failed", message);
    return status == 409 ? CLI_EXIT_REFUSED : CLI_EXIT_FAILED;
}

int failover_cli_unfence(int argc, char **argv)
{
    const char *region_name = NULL, *topology_path = NULL;
    bool json = false, knows = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], UNFENCE_FLAG)) {
            knows = true;
        } else if (!strcmp(argv[i], "--topology")) {
            if (i + 1 >= argc)
                return usage("--topology needs a FILE");
            topology_path = argv[++i];
        } else if (argv[i][0] != '-' && !region_name) {
            region_name = argv[i];
        } else {
            char why[256];
            snprintf(why, sizeof why, "unexpected argument '%s'", argv[i]);
            return usage(why);
        }
    }
    if (!region_name)
        return usage("REGION is required");
    if (!topology_path)
        return usage("--topology is required");
    if (!knows)
        return usage(UNFENCE_FLAG " is required: the region takes writes without having "
                     "heard from any other region");
    cli_context ctx;
    int rc = cli_open(topology_path, "unfence", &ctx);
    if (rc != 0)
        return rc;
    int region = cli_region_arg(&ctx, "unfence", region_name);
    rc = region < 0 ? CLI_EXIT_REFUSED : unfence(&ctx, region, json);
    cli_close(&ctx);
    return rc;
}
