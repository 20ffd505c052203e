/*
 * rpo.c - the recovery point phrase of an unplanned promotion's audit event
 * (contract in rpo.h).
 */
#include "failover/rpo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define LAG_PREFIX "mirror lag "
#define AT_LEAST "at least "
#define UNKNOWN_PREFIX ", unknown for the last "

int failover_rpo_format(const failover_rpo *rpo, const char *demoted, char *out, size_t outlen)
{
    int n;
    if (!rpo->lower_bound)
        n = snprintf(out, outlen, LAG_PREFIX "%" PRId64 " records", rpo->lag_records);
    else if (rpo->unknown_ms > 0)
        n = snprintf(out, outlen,
                     LAG_PREFIX AT_LEAST "%" PRId64 " records" UNKNOWN_PREFIX "%" PRId64
                     " ms (%s did not answer: what it acknowledged until its lease ran out is "
                     "copied into <topic>.diverged here when it answers again)",
                     rpo->lag_records < 0 ? 0 : rpo->lag_records, rpo->unknown_ms, demoted);
    else
        n = snprintf(out, outlen,
                     LAG_PREFIX AT_LEAST "%" PRId64 " records (%s did not answer: what it "
                     "acknowledged after the flow last read it is copied into <topic>.diverged "
                     "here when it answers again)",
                     rpo->lag_records < 0 ? 0 : rpo->lag_records, demoted);
    return n >= 0 && (size_t)n < outlen ? 0 : ST_ETOOBIG;
}

/* A non-negative decimal at text; false if there is none. */
static bool read_count(const char *text, int64_t *out, const char **end)
{
    char *stop = NULL;
    errno = 0;
    long long v = strtoll(text, &stop, 10);
    if (errno || stop == text || v < 0 || *text == '-' || *text == '+' || *text == ' ')
        return false;
    *out = v;
    *end = stop;
    return true;
}

bool failover_rpo_parse(const char *detail, failover_rpo *out)
{
    const char *at = strstr(detail, LAG_PREFIX);
    if (!at)
        return false;
    at += strlen(LAG_PREFIX);
    failover_rpo rpo = {.lag_records = -1};
    if (!strncmp(at, AT_LEAST, strlen(AT_LEAST))) {
        rpo.lower_bound = true;
        at += strlen(AT_LEAST);
    }
    const char *end = NULL;
    if (!read_count(at, &rpo.lag_records, &end) || strncmp(end, " records", 8) != 0)
        return false;
    end += 8;
    if (rpo.lower_bound && !strncmp(end, UNKNOWN_PREFIX, strlen(UNKNOWN_PREFIX)) &&
        !read_count(end + strlen(UNKNOWN_PREFIX), &rpo.unknown_ms, &end))
        return false;
    *out = rpo;
    return true;
}
