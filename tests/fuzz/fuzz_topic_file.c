/*
 * fuzz_topic_file.c - libFuzzer target for a topic file
 * (<log dir>/__strait_topics/<topic>.topic; format in
 * broker/cluster/topic_registry.c), decoded by topic_file_parse, whose config
 * lines go to topic_config_parse (broker/log/topic_config.c).
 *
 * Input: the file's bytes. Checked: a refused file is ST_ECORRUPT; a decoded
 * one has 1..LIMIT_PARTITIONS_PER_TOPIC partitions and at most
 * TOPIC_CONFIG_MAX_KEYS known, valid overrides; the overrides serialised
 * (topic_config_serialize, what the registry writes) parse back to the same
 * overrides; the id formatted as text parses back to the same bytes.
 * Seeds: tests/fuzz/corpus/topic_file/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/cluster_meta.h"
#include "broker/cluster/topic_registry.h"
#include "common/error.h"
#include "common/limits.h"
#include "support.h"

/* Two header lines and every override at its longest. */
#define FUZZ_SERIALIZED_BYTES (TOPIC_CONFIG_MAX_KEYS * (64 + TOPIC_CONFIG_VALUE_MAX + 2) + 1)

static char serialized[FUZZ_SERIALIZED_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exactly size bytes: no terminator to lean on */
    FUZZ_CHECK(text != NULL, "memory for the input");
    memcpy(text, data, size);
    uint8_t id[16];
    int32_t partitions = 0;
    topic_config tc;
    int rc = topic_file_parse("fuzz.topic", text, size, id, &partitions, &tc);
    free(text);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT, "a bad topic file is ST_ECORRUPT");
        return 0;
    }
    FUZZ_CHECK(partitions >= 1 && partitions <= LIMIT_PARTITIONS_PER_TOPIC,
               "a partition count in range");
    FUZZ_CHECK(tc.count >= 0 && tc.count <= TOPIC_CONFIG_MAX_KEYS, "an override count in range");
    char err[512];
    for (int i = 0; i < tc.count; i++) {
        FUZZ_CHECK(topic_config_known(tc.keys[i]), "only known topic configs");
        FUZZ_CHECK(topic_config_validate(tc.keys[i], tc.values[i], err, sizeof err) == 0,
                   "only valid override values");
    }

    int n = topic_config_serialize(&tc, serialized, sizeof serialized);
    FUZZ_CHECK(n >= 0, "decoded overrides serialise");
    topic_config again;
    FUZZ_CHECK(topic_config_parse(&again, serialized, (size_t)n, err, sizeof err) == 0,
               "serialised overrides parse");
    FUZZ_CHECK(again.count == tc.count, "the same overrides after a round trip");
    for (int i = 0; i < tc.count; i++)
        FUZZ_CHECK(strcmp(again.keys[i], tc.keys[i]) == 0 &&
                       strcmp(again.values[i], tc.values[i]) == 0,
                   "the same override after a round trip");

    char uuid[37];
    uint8_t id_again[16];
    cluster_uuid_format(id, uuid);
    FUZZ_CHECK(cluster_uuid_parse(uuid, id_again) && memcmp(id, id_again, 16) == 0,
               "the topic id round-trips through its text");
    return 0;
}
