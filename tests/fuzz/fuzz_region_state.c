/*
 * fuzz_region_state.c - libFuzzer target for the broker's region-state file
 * (<log dir>/strait-region-state; format in broker/cluster/region_state.c),
 * read back at start by region_state_open.
 *
 * Input: the file's bytes. region_state_open only takes a directory, so the
 * input is written to the target's temporary directory (tmpfs) first.
 * Checked: a refused file is ST_ECORRUPT; a loaded state satisfies the rules
 * a change from the wire must (region_state_apply with validate_only accepts
 * it as a whole); applied to an empty state in a second directory it is
 * persisted, and that file reads back as the same keys and values; the
 * queries (roles, topic and group matching, the group's redirect broker) run
 * on it.
 * Seeds: tests/fuzz/corpus/region_state/ (tests/fuzz/make-seeds.sh).
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/region_state.h"
#include "common/error.h"
#include "common/limits.h"
#include "support.h"

#define FUZZ_KEYS_MAX 16

typedef struct key_values {
    int count;
    char keys[FUZZ_KEYS_MAX][64];
    char *values[FUZZ_KEYS_MAX];
} key_values;

static void collect(void *arg, const char *key, const char *value)
{
    key_values *kv = arg;
    FUZZ_CHECK(kv->count < FUZZ_KEYS_MAX, "a known number of keys");
    snprintf(kv->keys[kv->count], sizeof kv->keys[0], "%s", key);
    kv->values[kv->count] = strdup(value);
    FUZZ_CHECK(kv->values[kv->count] != NULL, "memory for a value");
    kv->count++;
}

static void key_values_free(key_values *kv)
{
    for (int i = 0; i < kv->count; i++)
        free(kv->values[i]);
    kv->count = 0;
}

static void queries(const region_state *rs)
{
    static const char *const names[] = {"orders", "payments.eu", "__consumer_offsets", "a", ""};
    enum region_role role = region_state_effective_role_at(rs, 0);
    FUZZ_CHECK(role >= REGION_ROLE_NONE && role <= REGION_ROLE_PROMOTING, "a known role");
    FUZZ_CHECK(region_state_epoch(rs) >= 0, "epoch not negative");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len = strlen(names[i]);
        region_state_topic_matches(rs, names[i], len);
        region_state_group_matches(rs, names[i], len);
        const region_broker *b = region_state_group_broker(rs, names[i], len);
        FUZZ_CHECK((b == NULL) == (region_state_broker_count(rs) == 0),
                   "a group broker exactly when there are brokers");
        if (b)
            FUZZ_CHECK(b->port >= 1 && b->port <= 65535 && b->host[0] != '\0',
                       "a redirect broker has a host and a port");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_temp_dir();
    const char *copy_dir = fuzz_temp_dir_slot(1);
    fuzz_write_file(dir, REGION_STATE_FILE_NAME, data, size);

    region_state *rs = NULL;
    int rc = region_state_open(dir, &rs);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT, "a bad region-state file is ST_ECORRUPT");
        FUZZ_CHECK(rs == NULL, "no state from a bad file");
        return 0;
    }
    queries(rs);
    key_values loaded = {0};
    region_state_each(rs, collect, &loaded);
    const char *keys[FUZZ_KEYS_MAX];
    for (int i = 0; i < loaded.count; i++)
        keys[i] = loaded.keys[i];
    char err[1024];
    rc = region_state_apply(rs, keys, (const char *const *)loaded.values, NULL, loaded.count, true,
                            true, err, sizeof err);
    FUZZ_CHECK(rc == 0, "a state read back passes the checks of a change from the wire");

    /* persisted by the broker's own writer, it must read back the same */
    if (loaded.count > 0) {
        region_state *fresh = NULL;
        FUZZ_CHECK(region_state_new(copy_dir, &fresh) == 0, "an empty state");
        FUZZ_CHECK(region_state_apply(fresh, keys, (const char *const *)loaded.values, NULL,
                                      loaded.count, true, false, err, sizeof err) == 0,
                   "a loaded state applies to an empty one");
        region_state_close(fresh);
        region_state *reread = NULL;
        FUZZ_CHECK(region_state_open(copy_dir, &reread) == 0, "the persisted state loads");
        key_values again = {0};
        region_state_each(reread, collect, &again);
        FUZZ_CHECK(again.count == loaded.count, "the same keys after persisting");
        for (int i = 0; i < loaded.count; i++)
            FUZZ_CHECK(strcmp(again.keys[i], loaded.keys[i]) == 0 &&
                           strcmp(again.values[i], loaded.values[i]) == 0,
                       "the same values after persisting");
        key_values_free(&again);
        region_state_close(reread);
        fuzz_remove_file(copy_dir, REGION_STATE_FILE_NAME);
    }
    key_values_free(&loaded);
    region_state_close(rs);
    return 0;
}
