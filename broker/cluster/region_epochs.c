/*
 * region_epochs.c - raising leader epochs to the region epoch on the active
 * region (see region_epochs.h).
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/cluster/region_epochs.h"

#include "broker/log/log_producers.h"

#include <string.h>

#include "common/error.h"
#include "common/log.h"

/* The region that holds (or is taking over) the mirrored topics: its leader
 * epochs must be the newest any region ever reported (DESIGN.md §8). The
 * stored role: an active region whose lease lapsed still owns them (it is
 * fenced for writes, not demoted), and raising again on renewal is a no-op. */
static bool region_epochs_owner(const region_state *rs)
{
    enum region_role role = region_state_role(rs);
    return role == REGION_ROLE_ACTIVE || role == REGION_ROLE_PROMOTING;
}

int region_epochs_raise_topic(const region_state *rs, topic *t)
{
    if (!region_epochs_owner(rs) || t == NULL ||
        !region_state_topic_matches(rs, t->name, strlen(t->name)))
        return 0;
    int32_t epoch = region_state_epoch(rs);
    int raised = 0, failed = 0;
    for (int32_t i = 0; i < t->partition_count; i++) {
        plog *log = t->partitions[i].log;
        if (log == NULL || plog_leader_epoch(log) >= epoch)
            continue;
        /* taking the partition over: producers come with sequences of the
         * other region (see plog_forget_producers) */
        plog_forget_producers(log);
        if (plog_set_leader_epoch(log, epoch) != 0) {
            log_error("cluster", "cannot raise leader epoch topic=%s partition=%d epoch=%d",
                      t->name, (int)i, (int)epoch);
            failed++;
            continue;
        }
        raised++;
    }
    return failed ? ST_EIO : raised;
}

int region_epochs_raise_all(const region_state *rs, topic_registry *reg)
{
    if (!region_epochs_owner(rs))
        return 0;
    int raised = 0, rc = 0;
    for (int i = 0; i < topic_registry_count(reg); i++) {
        int n = region_epochs_raise_topic(rs, topic_registry_at(reg, i));
        if (n < 0)
            rc = n;
        else
            raised += n;
    }
    if (raised > 0)
        log_info("cluster", "leader epochs raised to the region epoch epoch=%d partitions=%d",
                 (int)region_state_epoch(rs), raised);
    return rc != 0 ? rc : raised;
}
