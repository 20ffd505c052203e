/*
 * fuzz_yaml_map.c - libFuzzer target for the YAML reader under the broker
 * config and the topology file (common/yaml_map.h: libyaml events flattened
 * to dotted keys), through yaml_map_parse.
 *
 * Input: bit 0 of byte 0 sets YAML_MAP_INDEXED_SEQUENCES (the topology's
 * mode), the rest is the text. Checked: a refusal is ST_ECONFIG or
 * ST_ETOOBIG with a message that starts with the file name, and leaves the
 * map empty; an accepted map holds unique, non-empty keys and values within
 * LIMIT_CONFIG_VALUE_LENGTH without NUL bytes, a positive line per entry, a
 * sequence's value is its items joined with ',', and yaml_map_find finds
 * every key at its entry.
 * Seeds: tests/fuzz/corpus/yaml_map/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "common/limits.h"
#include "common/yaml_map.h"
#include "support.h"

static void check_entry(const yaml_map *map, int i)
{
    const yaml_map_entry *e = &map->entries[i];
    FUZZ_CHECK(e->key && e->value, "an entry has a key and a value");
    size_t key_len = strlen(e->key), value_len = strlen(e->value);
    FUZZ_CHECK(key_len > 0 && key_len <= LIMIT_CONFIG_VALUE_LENGTH, "a key of a sane length");
    FUZZ_CHECK(value_len <= LIMIT_CONFIG_VALUE_LENGTH, "a value within the limit");
    FUZZ_CHECK(e->line >= 1, "an entry has a line");
    FUZZ_CHECK(yaml_map_find(map, e->key) == e, "keys are unique and found at their entry");
    if (!e->is_sequence) {
        FUZZ_CHECK(e->items == NULL && e->item_count == 0, "a scalar has no items");
        return;
    }
    FUZZ_CHECK(e->item_count >= 0, "an item count");
    size_t at = 0;
    for (int j = 0; j < e->item_count; j++) {
        size_t n = strlen(e->items[j]);
        if (j > 0) {
            FUZZ_CHECK(e->value[at] == ',', "items are joined with commas");
            at++;
        }
        FUZZ_CHECK(at + n <= value_len && memcmp(e->value + at, e->items[j], n) == 0,
                   "the value holds the items in order");
        at += n;
    }
    FUZZ_CHECK(at == value_len, "the value is exactly the joined items");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0] & 1 ? YAML_MAP_INDEXED_SEQUENCES : 0;
    data++;
    size--;
    yaml_map map;
    char err[512];
    int rc = yaml_map_parse("fuzz.yaml", (const char *)data, size, flags, &map, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECONFIG || rc == ST_ETOOBIG, "a refused file is ST_ECONFIG");
        FUZZ_CHECK(strncmp(err, "fuzz.yaml:", 10) == 0, "the message names the file");
        FUZZ_CHECK(map.count == 0 && map.entries == NULL, "a refusal leaves the map empty");
        yaml_map_free(&map);
        return 0;
    }
    FUZZ_CHECK(map.count >= 0 && map.count <= map.capacity, "a count within capacity");
    for (int i = 0; i < map.count; i++)
        check_entry(&map, i);
    yaml_map_free(&map);
    return 0;
}
