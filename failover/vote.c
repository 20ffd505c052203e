/*
 * vote.c - the automatic-failover vote rule, the durable vote file and the
 * candidate's check of an answer (contract and rules in vote.h).
 */
#include "failover/vote.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/region_contract.h"
#include "failover/roles.h"

/* Longest line of a vote file or of a vote answer we look at. */
#define VOTE_LINE_BYTES_MAX 600

int failover_vote_decide(const failover_vote_view *view, const char *candidate,
                         const char *suspect, int64_t epoch, char *why, size_t whylen)
{
    why[0] = '\0';
    if (!candidate[0] || !suspect[0] || epoch < 1) {
        snprintf(why, whylen, "candidate, suspect and an epoch >= 1 are required");
        return ST_EINVAL;
    }
    if (!strcmp(candidate, suspect)) {
        snprintf(why, whylen, "%s cannot take over from itself", candidate);
        return ST_EINVAL;
    }
    /* (a) the suspect must have been silent for the whole window */
    if (view->suspect_silent_ms < view->detect_after_ms) {
        snprintf(why, whylen, "%s's sidecar answered %.1f s ago (detect_after %.1f s)", suspect,
                 (double)view->suspect_silent_ms / 1000.0,
                 (double)view->detect_after_ms / 1000.0);
        return ST_EINVAL;
    }
    const failover_vote *last = &view->last;
    bool same_vote = last->epoch == epoch && !strcmp(last->candidate, candidate);
    /* (b) one candidate per epoch, and never back below a granted epoch */
    if (last->epoch >= epoch && strcmp(last->candidate, candidate) != 0) {
        snprintf(why, whylen, "already voted for %s at epoch %" PRId64, last->candidate,
                 last->epoch);
        return ST_EINVAL;
    }
    /* (c) only a newer epoch, except the same vote asked again */
    if (!same_vote && epoch <= view->epoch_seen) {
        snprintf(why, whylen, "epoch %" PRId64 " is not newer than epoch %" PRId64
                 " already seen", epoch, view->epoch_seen);
        return ST_EINVAL;
    }
    return 0;
}

/* The value of key in a kv body into out; false when absent or too long. */
static bool kv_value(const char *body, const char *key, char *out, size_t outlen)
{
    if (failover_kv_get(body, key, out, outlen) == 1)
        return true;
    out[0] = '\0';
    return false;
}

bool failover_vote_answer_ok(const char *body, int status, const char *candidate, int64_t epoch,
                             char *why, size_t whylen)
{
    char granted[8] = "", who[FAILOVER_NAME_MAX] = "", epoch_text[32] = "", error[512] = "";
    why[0] = '\0';
    if (!body) {
        snprintf(why, whylen, "no answer");
        return false;
    }
    kv_value(body, "granted", granted, sizeof granted);
    kv_value(body, "candidate", who, sizeof who);
    kv_value(body, "epoch", epoch_text, sizeof epoch_text);
    kv_value(body, "error", error, sizeof error);
    if (status != 200 || strcmp(granted, "1") != 0) {
        snprintf(why, whylen, "refused (HTTP %d): %s", status, error[0] ? error : "no reason given");
        return false;
    }
    int64_t answered = 0;
    char msg[128];
    if (config_value_parse_int(epoch_text, REGION_EPOCH_MIN, REGION_EPOCH_MAX, &answered, msg,
                               sizeof msg) != 0) {
        snprintf(why, whylen, "granted without a valid epoch (%s)", msg);
        return false;
    }
    if (answered != epoch) {
        snprintf(why, whylen, "granted epoch %" PRId64 ", not the requested epoch %" PRId64
                 ": ignored", answered, epoch);
        return false;
    }
    if (strcmp(who, candidate) != 0) {
        snprintf(why, whylen, "granted to '%s', not to %s: ignored", who, candidate);
        return false;
    }
    return true;
}

static int parse_lines(const char *text, failover_vote *vote, char *why, size_t whylen)
{
    bool seen[4] = {false, false, false, false};
    static const char *const keys[4] = {"candidate", "suspect", "epoch", "at_ms"};
    int number = 0;
    for (const char *line = text; *line;) {
        number++;
        const char *end = strchr(line, '\n');
        if (!end) {
            snprintf(why, whylen, "line %d: no newline at the end of the file", number);
            return ST_ECORRUPT;
        }
        size_t len = (size_t)(end - line);
        char copy[VOTE_LINE_BYTES_MAX];
        if (len >= sizeof copy) {
            snprintf(why, whylen, "line %d: longer than %d bytes", number, VOTE_LINE_BYTES_MAX);
            return ST_ECORRUPT;
        }
        memcpy(copy, line, len);
        copy[len] = '\0';
        line = end + 1;
        char *eq = strchr(copy, '=');
        if (!eq) {
            snprintf(why, whylen, "line %d: expected key=value", number);
            return ST_ECORRUPT;
        }
        *eq = '\0';
        const char *value = eq + 1;
        int k = 0;
        while (k < 4 && strcmp(copy, keys[k]) != 0)
            k++;
        if (k == 4 || seen[k]) {
            snprintf(why, whylen, "line %d: %s key '%s'", number, k == 4 ? "unknown" : "repeated",
                     copy);
            return ST_ECORRUPT;
        }
        seen[k] = true;
        char msg[160];
        int rc = 0;
        if (k == 0 || k == 1) {
            char *field = k == 0 ? vote->candidate : vote->suspect;
            if (!value[0] || strlen(value) >= FAILOVER_NAME_MAX) {
                snprintf(why, whylen, "line %d: %s must be a region name", number, copy);
                return ST_ECORRUPT;
            }
            snprintf(field, FAILOVER_NAME_MAX, "%s", value);
        } else {
            rc = config_value_parse_int(value, k == 2 ? REGION_EPOCH_MIN : 0,
                                        k == 2 ? REGION_EPOCH_MAX : INT64_MAX,
                                        k == 2 ? &vote->epoch : &vote->at_ms, msg, sizeof msg);
            if (rc != 0) {
                snprintf(why, whylen, "line %d: %s: %s", number, copy, msg);
                return ST_ECORRUPT;
            }
        }
    }
    for (int k = 0; k < 4; k++) {
        if (!seen[k]) {
            snprintf(why, whylen, "no %s= line", keys[k]);
            return ST_ECORRUPT;
        }
    }
    return 0;
}

int failover_vote_parse(const char *text, failover_vote *vote, char *why, size_t whylen)
{
    memset(vote, 0, sizeof *vote);
    int rc = parse_lines(text, vote, why, whylen);
    if (rc != 0)
        memset(vote, 0, sizeof *vote); /* nothing half-read */
    return rc;
}

int failover_vote_load(const char *dir, const char *name, failover_vote *vote, char *why,
                       size_t whylen)
{
    memset(vote, 0, sizeof *vote);
    why[0] = '\0';
    char path[2048];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        snprintf(why, whylen, "path too long");
        return ST_EINVAL;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, FAILOVER_VOTE_FILE_BYTES_MAX, &text, &len);
    if (rc == ST_ENOTFOUND)
        return 0;
    if (rc != 0) {
        snprintf(why, whylen, "%s: %s", path, strait_strerror(rc));
        return rc == ST_ETOOBIG ? ST_ECORRUPT : rc;
    }
    char inner[400];
    if (strlen(text) != len) {
        snprintf(why, whylen, "%s: contains a NUL byte", path);
        rc = ST_ECORRUPT;
    } else if ((rc = failover_vote_parse(text, vote, inner, sizeof inner)) != 0) {
        snprintf(why, whylen, "%s: %s", path, inner);
    }
    free(text);
    return rc;
}

int failover_vote_store(const char *dir, const char *name, const failover_vote *vote)
{
    char text[FAILOVER_VOTE_FILE_BYTES_MAX];
    int n = snprintf(text, sizeof text,
                     "candidate=%s\nsuspect=%s\nepoch=%" PRId64 "\nat_ms=%" PRId64 "\n",
                     vote->candidate, vote->suspect, vote->epoch, vote->at_ms);
    if (n < 0 || n >= (int)sizeof text || vote->epoch < 1 || !vote->candidate[0] ||
        !vote->suspect[0] || strchr(vote->candidate, '\n') || strchr(vote->suspect, '\n'))
        return ST_EINVAL;
    return file_write_atomic(dir, name, text, (size_t)n);
}
