/*
 * rpo.h - the recovery point an unplanned promotion reports (`strait
 * failover`, the automatic promotion): the mirror lag from the demoted
 * region at the promotion, and whether that figure is exact or only a lower
 * bound. It is written into the audit event's detail as one phrase (the
 * event's lag= field keeps the figure itself) and read back from there for
 * /status, so the history, the CLI and /status say the same thing.
 *
 * Why a lower bound: the figure is the flow's last reading of the demoted
 * region's end offsets. When the flow cannot reach that region at the
 * promotion (its brokers do not answer: always so for an automatic
 * promotion), the region may have acknowledged records after that reading,
 * until its lease ran out (automatic mode) or it learnt of its demotion
 * (manual mode). Those records are not lost: the promoted region's sidecar
 * copies them into `<topic>.diverged` once the demoted region answers again
 * (failover_diverged_runs, roles.h); until then nobody can count them.
 *
 * Pure functions, no I/O.
 */
#ifndef STRAIT_FAILOVER_RPO_H
#define STRAIT_FAILOVER_RPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct failover_rpo {
    int64_t lag_records; /* the flow's last reading; -1 when there is none */
    bool lower_bound;    /* the flow could not read the demoted region at the promotion */
    int64_t unknown_ms;  /* lower_bound: how far back before the promotion records may be
                          * uncounted: since the demoted region's sidecar last answered
                          * (the flow reads over the same link, so its last reading is
                          * from about then; a mirror stalled longer on its own, the
                          * brokers' link alone cut, starts the window earlier);
                          * 0 when not known */
} failover_rpo;

/* The phrase for an event's detail, e.g. "mirror lag 0 records" or "mirror
 * lag at least 12 records, unknown for the last 5400 ms (...)". 0, or
 * ST_ETOOBIG when it does not fit in outlen (out then holds a prefix). */
int failover_rpo_format(const failover_rpo *rpo, const char *demoted, char *out, size_t outlen);

/* The phrase found in detail (an event's detail, as stored): true with *out
 * filled, false when detail carries none (an older event, another verb). */
bool failover_rpo_parse(const char *detail, failover_rpo *out);

#endif
