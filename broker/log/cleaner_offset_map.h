/*
 * cleaner_offset_map.h - the log cleaner's key -> latest offset map (Kafka's
 * SkimpyOffsetMap, but exact): an open-addressing hash table whose slots
 * point into an arena holding a copy of every key, so two different keys
 * never collide into one entry (a collision would drop a live value).
 *
 * The map has a memory budget (table + arena); a put that would exceed it
 * fails with ST_ETOOBIG and changes nothing, and the cleaner then stops its
 * dirty scan there (see cleaner_rewrite.c).
 *
 * Used by the cleaner's worker thread only; one map per cleaning job.
 */
#ifndef STRAIT_CLEANER_OFFSET_MAP_H
#define STRAIT_CLEANER_OFFSET_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct cleaner_offset_slot {
    uint64_t hash;       /* 0 = empty slot (real hashes are forced non-zero) */
    int64_t offset;      /* latest offset put for the key */
    size_t key_position; /* key bytes at arena[key_position .. + key_len) */
    size_t key_len;
} cleaner_offset_slot;

typedef struct cleaner_offset_map {
    cleaner_offset_slot *slots;
    size_t slot_count;       /* power of two, or 0 before the first put */
    size_t used;
    uint8_t *arena;
    size_t arena_len;
    size_t arena_capacity;
    size_t memory_bytes_max; /* slots + arena never exceed this */
    uint64_t seed;           /* per map, so crafted keys cannot force collisions */
} cleaner_offset_map;

void cleaner_offset_map_init(cleaner_offset_map *map, size_t memory_bytes_max);
void cleaner_offset_map_free(cleaner_offset_map *map);

/* Records offset as the latest for key (replacing a smaller one; a smaller
 * offset than the stored one is ignored). Returns 0, or ST_ETOOBIG when the
 * budget is exhausted / ST_ENOMEM, the map unchanged. */
int cleaner_offset_map_put(cleaner_offset_map *map, const uint8_t *key, size_t key_len, int64_t offset);

/* The latest offset stored for key, or -1. */
int64_t cleaner_offset_map_get(const cleaner_offset_map *map, const uint8_t *key, size_t key_len);

#endif
