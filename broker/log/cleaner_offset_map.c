/*
 * cleaner_offset_map.c - exact key -> latest offset hash map for the log
 * cleaner (contract in cleaner_offset_map.h). Linear probing, load factor at
 * most one half, keys copied into one growing arena.
 */
#include "broker/log/cleaner_offset_map.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

#define OFFSET_MAP_INITIAL_SLOTS 1024

void cleaner_offset_map_init(cleaner_offset_map *map, size_t memory_bytes_max)
{
    memset(map, 0, sizeof *map);
    map->memory_bytes_max = memory_bytes_max;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    map->seed = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)map;
}

void cleaner_offset_map_free(cleaner_offset_map *map)
{
    free(map->slots);
    free(map->arena);
    memset(map, 0, sizeof *map);
}

/* A seeded 64-bit hash (FNV-1a over the bytes, then a murmur finaliser);
 * never 0, which marks an empty slot. */
static uint64_t key_hash(uint64_t seed, const uint8_t *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static size_t memory_used(const cleaner_offset_map *map)
{
    return map->slot_count * sizeof *map->slots + map->arena_capacity;
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t find_slot(const cleaner_offset_map *map, uint64_t hash, const uint8_t *key, size_t len)
{
    size_t mask = map->slot_count - 1;
    size_t i = (size_t)hash & mask;
    for (;;) {
        const cleaner_offset_slot *s = &map->slots[i];
        if (s->hash == 0)
            return i;
        if (s->hash == hash && s->key_len == len &&
            (len == 0 || memcmp(map->arena + s->key_position, key, len) == 0))
            return i;
        i = (i + 1) & mask;
    }
}

static int grow_table(cleaner_offset_map *map)
{
    size_t count = map->slot_count ? map->slot_count * 2 : OFFSET_MAP_INITIAL_SLOTS;
    size_t bytes = count * sizeof(cleaner_offset_slot);
    if (memory_used(map) - map->slot_count * sizeof *map->slots + bytes > map->memory_bytes_max)
        return ST_ETOOBIG;
    cleaner_offset_slot *slots = calloc(count, sizeof *slots);
    if (slots == NULL)
        return ST_ENOMEM;
    cleaner_offset_map old = *map;
    map->slots = slots;
    map->slot_count = count;
    for (size_t i = 0; i < old.slot_count; i++) {
        const cleaner_offset_slot *s = &old.slots[i];
        if (s->hash == 0)
            continue;
        size_t at = (size_t)s->hash & (count - 1);
        while (slots[at].hash != 0)
            at = (at + 1) & (count - 1);
        slots[at] = *s;
    }
    free(old.slots);
    return 0;
}

static int reserve_arena(cleaner_offset_map *map, size_t len)
{
    if (map->arena_capacity - map->arena_len >= len)
        return 0;
    size_t capacity = map->arena_capacity ? map->arena_capacity : 64 * 1024;
    while (capacity - map->arena_len < len)
        capacity *= 2;
    if (memory_used(map) - map->arena_capacity + capacity > map->memory_bytes_max) {
        /* the doubling overshoots: try exactly what is needed */
        capacity = map->arena_len + len;
        if (memory_used(map) - map->arena_capacity + capacity > map->memory_bytes_max)
            return ST_ETOOBIG;
    }
    uint8_t *arena = realloc(map->arena, capacity);
    if (arena == NULL)
        return ST_ENOMEM;
    map->arena = arena;
    map->arena_capacity = capacity;
    return 0;
}

int cleaner_offset_map_put(cleaner_offset_map *map, const uint8_t *key, size_t key_len, int64_t offset)
{
    int rc;
    if ((map->used + 1) * 2 > map->slot_count && (rc = grow_table(map)) != 0)
        return rc;
    uint64_t hash = key_hash(map->seed, key, key_len);
    size_t at = find_slot(map, hash, key, key_len);
    cleaner_offset_slot *s = &map->slots[at];
    if (s->hash != 0) {
        if (offset > s->offset)
            s->offset = offset;
        return 0;
    }
    if ((rc = reserve_arena(map, key_len)) != 0)
        return rc;
    if (key_len > 0)
        memcpy(map->arena + map->arena_len, key, key_len);
    *s = (cleaner_offset_slot){.hash = hash, .offset = offset, .key_position = map->arena_len,
                               .key_len = key_len};
    map->arena_len += key_len;
    map->used++;
    return 0;
}

int64_t cleaner_offset_map_get(const cleaner_offset_map *map, const uint8_t *key, size_t key_len)
{
    if (map->slot_count == 0)
        return -1;
    uint64_t hash = key_hash(map->seed, key, key_len);
    const cleaner_offset_slot *s = &map->slots[find_slot(map, hash, key, key_len)];
    return s->hash != 0 ? s->offset : -1;
}
