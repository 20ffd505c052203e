/*
 * fuzz_vote_file.c - libFuzzer target for the durable vote of automatic
 * failover (the witness's and every sidecar's vote file; format in
 * failover/vote.h), decoded by failover_vote_parse.
 *
 * Input: the file's bytes. failover_vote_load refuses a file with a NUL byte
 * before parsing, so such inputs stop there. Checked: a refused file is
 * ST_ECORRUPT with a reason; a decoded vote names a candidate and a suspect
 * and has an epoch >= 1; stored with failover_vote_store and loaded again it
 * is the same vote.
 * Seeds: tests/fuzz/corpus/vote_file/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "failover/vote.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FAILOVER_VOTE_FILE_BYTES_MAX || memchr(data, '\0', size) != NULL)
        return 0; /* failover_vote_load refuses these before parsing */
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "memory for the input");
    memcpy(text, data, size);
    text[size] = '\0';
    failover_vote vote;
    char why[512] = "";
    int rc = failover_vote_parse(text, &vote, why, sizeof why);
    free(text);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT, "a bad vote file is ST_ECORRUPT");
        FUZZ_CHECK(why[0] != '\0', "a refusal says why");
        FUZZ_CHECK(vote.epoch == 0 && vote.candidate[0] == '\0', "nothing half-read");
        return 0;
    }
    FUZZ_CHECK(vote.epoch >= 1, "a vote has an epoch");
    FUZZ_CHECK(vote.candidate[0] != '\0' && vote.suspect[0] != '\0',
               "a vote names a candidate and a suspect");
    const char *dir = fuzz_temp_dir();
    FUZZ_CHECK(failover_vote_store(dir, "vote", &vote) == 0, "a decoded vote stores");
    failover_vote again;
    FUZZ_CHECK(failover_vote_load(dir, "vote", &again, why, sizeof why) == 0,
               "a stored vote loads");
    FUZZ_CHECK(strcmp(again.candidate, vote.candidate) == 0 &&
                   strcmp(again.suspect, vote.suspect) == 0 && again.epoch == vote.epoch &&
                   again.at_ms == vote.at_ms,
               "the same vote after store and load");
    return 0;
}
