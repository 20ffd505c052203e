/*
 * vote.h - the vote of automatic failover (DESIGN.md §8, issue 6 item 5):
 * the rule by which a voter (the witness, or a sidecar) grants a candidate
 * region the right to take over from a suspect region at a new epoch, the
 * voter's durable record of its last vote, and the check a candidate makes
 * of a vote answer. The rule is a pure function, so the same code decides
 * on the witness and on every sidecar and the unit tests exercise it alone.
 *
 * A voter grants (candidate C, epoch E, suspect A) only if
 *   (a) it has not heard from A's sidecar for at least detect_after,
 *   (b) it has not granted a vote to a different candidate at an epoch >= E,
 *   (c) E is greater than every epoch it has seen, unless (C, E) is exactly
 *       its last vote (a candidate retrying after a lost answer).
 * A grant is stored durably before it is answered. Two candidates can
 * therefore never both collect a majority for the same epoch, and a
 * candidate behind the deployment's epoch collects nothing.
 */
#ifndef STRAIT_FAILOVER_VOTE_H
#define STRAIT_FAILOVER_VOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoints/failover_state.h"

/* A vote file is a few short lines; anything larger is not one. */
#define FAILOVER_VOTE_FILE_BYTES_MAX 1024

typedef struct failover_vote {
    char candidate[FAILOVER_NAME_MAX];
    char suspect[FAILOVER_NAME_MAX];
    int64_t epoch;                 /* 0: never voted */
    int64_t at_ms;                 /* wall clock of the grant */
} failover_vote;

/* What a voter knows when it is asked. */
typedef struct failover_vote_view {
    int64_t suspect_silent_ms;     /* since it last heard from the suspect's sidecar
                                      (since the voter started if never) */
    int64_t epoch_seen;            /* highest epoch seen from anyone, its votes included */
    int64_t detect_after_ms;
    failover_vote last;            /* its durable last vote (epoch 0: none) */
} failover_vote_view;

/*
 * Decides one request. 0: granted (the caller stores {candidate, suspect,
 * epoch} as its vote before answering). ST_EINVAL: refused, why says why in
 * words an operator can act on, e.g. "east's sidecar answered 0.4 s ago
 * (detect_after 3.0 s)" or "already voted for west at epoch 5".
 */
int failover_vote_decide(const failover_vote_view *view, const char *candidate,
                         const char *suspect, int64_t epoch, char *why, size_t whylen);

/*
 * A candidate's check of a voter's kv answer to its request for epoch:
 * true only for `granted=1` naming this candidate and exactly this epoch (a
 * voter answering with another epoch, e.g. an older one, is refused). why
 * says what was wrong otherwise (the voter's error= when it gave one).
 */
bool failover_vote_answer_ok(const char *body, int status, const char *candidate, int64_t epoch,
                             char *why, size_t whylen);

/*
 * The vote file, dir/name, "key=value\n" lines, every key required once:
 *   candidate=<region>   suspect=<region>   epoch=<1..>   at_ms=<wall ms>
 * Load: *vote zeroed (epoch 0) when the file does not exist; ST_ECORRUPT
 * (why names the line) for anything else that is not exactly that form.
 * Store: written to a temporary file, fsynced, renamed over, dir fsynced.
 */
int failover_vote_load(const char *dir, const char *name, failover_vote *vote, char *why,
                       size_t whylen);
int failover_vote_store(const char *dir, const char *name, const failover_vote *vote);
/* Parses a vote file's text (what load reads); the same errors. */
int failover_vote_parse(const char *text, failover_vote *vote, char *why, size_t whylen);

#endif
