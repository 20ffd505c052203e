/*
 * roles.c - roles of regions under a failover state, the flows that run,
 * the shape check of a proposed state and its text form (roles.h).
 */
#include "failover/roles.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"
#include "common/region_contract.h"

enum failover_role failover_role_of(const failover_state *st, const char *region)
{
    if (st->fenced[0] && !strcmp(st->fenced, region))
        return FAILOVER_ROLE_FENCED;
    if (st->promoting[0] && !strcmp(st->promoting, region))
        return FAILOVER_ROLE_PROMOTING;
    if (!strcmp(st->active, region))
        return FAILOVER_ROLE_ACTIVE;
    return FAILOVER_ROLE_STANDBY;
}

const char *failover_role_name(enum failover_role role)
{
    switch (role) {
    case FAILOVER_ROLE_ACTIVE:
        return REGION_ROLE_NAME_ACTIVE;
    case FAILOVER_ROLE_STANDBY:
        return REGION_ROLE_NAME_STANDBY;
    case FAILOVER_ROLE_FENCED:
        return REGION_ROLE_NAME_FENCED;
    case FAILOVER_ROLE_PROMOTING:
        return REGION_ROLE_NAME_PROMOTING;
    }
    return REGION_ROLE_NAME_STANDBY;
}

/* Besides every flow out of a non-standby region, an operation's old active
 * keeps its flow into the operation's target (the switchover's final group
 * checkpoint reads it after the old active turned standby). Only that one:
 * a standby third region's flow into the target would copy its copies of the
 * old active's records, which the target already holds from the old active
 * itself (docs/architecture.md, "Mirroring between more than two regions"). */
bool failover_flow_runs(const failover_state *st, const char *source_region,
                        const char *target_region)
{
    if (st->operation[0] && !strcmp(st->target, target_region) &&
        !strcmp(st->previous, source_region))
        return true;
    return failover_role_of(st, source_region) != FAILOVER_ROLE_STANDBY;
}

bool failover_diverged_runs(const failover_state *st, const char *source_region,
                            const char *target_region)
{
    return !strcmp(st->step, FAILOVER_STEP_UNPLANNED) && !strcmp(st->previous, source_region) &&
           failover_role_of(st, source_region) == FAILOVER_ROLE_STANDBY &&
           failover_role_of(st, target_region) == FAILOVER_ROLE_ACTIVE;
}

void failover_state_initial(const topology *t, failover_state *out)
{
    memset(out, 0, sizeof *out);
    out->epoch = 1;
    snprintf(out->active, sizeof out->active, "%s", t->regions[t->failover_active].name);
    snprintf(out->actor, sizeof out->actor, "topology");
}

static bool known_region(const topology *t, const char *name)
{
    return topology_region_index(t, name) >= 0;
}

int failover_state_check(const topology *t, const failover_state *st, char *why, size_t whylen)
{
    static const char *const operations[] = {"", "switchover", "failover", "failback"};
    if (st->epoch < REGION_EPOCH_MIN || st->epoch > REGION_EPOCH_MAX) {
        snprintf(why, whylen, "epoch must be between %d and %d", REGION_EPOCH_MIN,
                 REGION_EPOCH_MAX);
        return ST_EINVAL;
    }
    if (!known_region(t, st->active)) {
        snprintf(why, whylen, "active region '%s' is not a region of %s", st->active, t->path);
        return ST_EINVAL;
    }
    if (st->fenced[0] && !known_region(t, st->fenced)) {
        snprintf(why, whylen, "fenced region '%s' is not a region of %s", st->fenced, t->path);
        return ST_EINVAL;
    }
    if (st->promoting[0] && strcmp(st->promoting, st->active) != 0) {
        snprintf(why, whylen, "promoting region '%s' must be the active region '%s'",
                 st->promoting, st->active);
        return ST_EINVAL;
    }
    if (st->promoting[0] && st->fenced[0]) {
        snprintf(why, whylen, "a state cannot both fence '%s' and promote '%s'", st->fenced,
                 st->promoting);
        return ST_EINVAL;
    }
    if (st->previous[0] && !known_region(t, st->previous)) {
        snprintf(why, whylen, "previous region '%s' is not a region of %s", st->previous, t->path);
        return ST_EINVAL;
    }
    if (st->target[0] && !known_region(t, st->target)) {
        snprintf(why, whylen, "target region '%s' is not a region of %s", st->target, t->path);
        return ST_EINVAL;
    }
    for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
        if (!strcmp(st->operation, operations[i]))
            return 0;
    snprintf(why, whylen, "unknown operation '%s' (switchover, failover or failback)",
             st->operation);
    return ST_EINVAL;
}

int failover_state_format(const failover_state *st, char *out, size_t outlen)
{
    int n = snprintf(out, outlen,
                     "epoch=%" PRId64 "\nactive=%s\nfenced=%s\npromoting=%s\noperation=%s\n"
                     "target=%s\nprevious=%s\nstep=%s\nactor=%s\nupdated_at_ms=%" PRId64 "\n",
                     st->epoch, st->active, st->fenced, st->promoting, st->operation, st->target,
                     st->previous, st->step, st->actor, st->updated_at_ms);
    return n >= 0 && (size_t)n < outlen ? 0 : ST_ETOOBIG;
}

int failover_kv_get(const char *body, const char *key, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t klen = strlen(key);
    for (const char *line = body; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && !strncmp(line, key, klen) && line[klen] == '=') {
            size_t n = len - klen - 1, fit = n < outlen ? n : outlen - 1;
            memcpy(out, line + klen + 1, fit);
            out[fit] = '\0';
            return fit == n ? 1 : -1;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

static bool set_text(char *field, size_t size, const char *value)
{
    size_t n = strlen(value);
    if (n >= size || strpbrk(value, "\r\n"))
        return false;
    memcpy(field, value, n + 1);
    return true;
}

static bool set_int(int64_t *field, const char *value)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || !*value || *end || v < 0)
        return false;
    *field = v;
    return true;
}

bool failover_state_set_field(failover_state *st, const char *key, const char *value)
{
    if (!strcmp(key, "epoch")) {
        char msg[160];
        return config_value_parse_int(value, REGION_EPOCH_MIN, REGION_EPOCH_MAX, &st->epoch, msg,
                                      sizeof msg) == 0;
    }
    if (!strcmp(key, "updated_at_ms"))
        return set_int(&st->updated_at_ms, value);
    if (!strcmp(key, "active"))
        return set_text(st->active, sizeof st->active, value);
    if (!strcmp(key, "fenced"))
        return set_text(st->fenced, sizeof st->fenced, value);
    if (!strcmp(key, "promoting"))
        return set_text(st->promoting, sizeof st->promoting, value);
    if (!strcmp(key, "operation"))
        return set_text(st->operation, sizeof st->operation, value);
    if (!strcmp(key, "target"))
        return set_text(st->target, sizeof st->target, value);
    if (!strcmp(key, "previous"))
        return set_text(st->previous, sizeof st->previous, value);
    if (!strcmp(key, "step"))
        return set_text(st->step, sizeof st->step, value);
    if (!strcmp(key, "actor"))
        return set_text(st->actor, sizeof st->actor, value);
    return false;
}
