/*
 * yaml_map.h - a YAML file read into a flat list of (dotted key, scalar
 * value, line) entries, for the broker config and the topology file.
 *
 * Accepted shapes, all flattened to the same entries:
 *   log.dirs: /var/lib/strait            key "log.dirs"
 *   log: {dirs: /var/lib/strait}         key "log.dirs" (nested mappings join with '.')
 *   listeners: [a, b]                    key "listeners", value "a,b", items {"a", "b"}
 *
 * Refused with "FILE:LINE: reason": invalid YAML, more than one document, a
 * top level that is not a mapping, anchors and aliases, non-scalar keys,
 * duplicate keys (also across the two spellings: "log.dirs" and "log: {dirs}"),
 * nested sequences, sequences of mappings (unless YAML_MAP_INDEXED_SEQUENCES),
 * nesting deeper than LIMIT_YAML_DEPTH, keys or values longer than
 * LIMIT_CONFIG_VALUE_LENGTH, and files over LIMIT_CONFIG_FILE_BYTES.
 *
 * Values are the scalar text as written (quotes removed, escapes decoded);
 * an empty or missing value is "". Not thread-safe per map; no global state.
 */
#ifndef STRAIT_YAML_MAP_H
#define STRAIT_YAML_MAP_H

#include <stdbool.h>
#include <stddef.h>


/* Flags for yaml_map_load / yaml_map_parse. */
enum {
    /* A sequence of mappings is flattened with the item index as a key part:
     * flows: [{source: east}] gives "flows.0.source". Off by default. */
    YAML_MAP_INDEXED_SEQUENCES = 1 << 0,
};

typedef struct yaml_map_entry {
    char *key;        /* dotted key, e.g. "log.dirs" */
    char *value;      /* scalar text, or the sequence items joined with ',' */
    char **items;     /* sequence items (item_count of them); NULL for a scalar */
    int item_count;
    bool is_sequence; /* written as a sequence (value is the joined items) */
    int line;         /* 1-based line of the key */
} yaml_map_entry;

typedef struct yaml_map {
    yaml_map_entry *entries; /* in file order */
    int count;
    int capacity;
} yaml_map;

/*
 * Reads path into *out (initialised here, empty on error; yaml_map_free it
 * after success, which is also harmless after an error). Returns 0, ST_EIO
 * ("FILE: cannot read: reason"), ST_ETOOBIG (over LIMIT_CONFIG_FILE_BYTES),
 * ST_ENOMEM, or ST_ECONFIG ("FILE:LINE: reason").
 */
int yaml_map_load(const char *path, int flags, yaml_map *out, char *err, size_t errlen);

/* Same for text already in memory; name is used in messages in place of FILE. */
int yaml_map_parse(const char *name, const char *text, size_t len, int flags, yaml_map *out,
                   char *err, size_t errlen);

void yaml_map_free(yaml_map *map);

/* The entry for key, or NULL (a linear scan: maps are small). */
const yaml_map_entry *yaml_map_find(const yaml_map *map, const char *key);

#endif
