/*
 * producer_state.c - the per-partition producer map and the idempotence
 * rules (contract and rules in producer_state.h).
 *
 * The map is an open-addressing hash table with linear probing, keyed by
 * producer id (empty slot: producer_id -1), kept at most half full, deletion
 * by backward shift so no tombstones accumulate. Entries are stored inline.
 *
 * Runs on the event-loop thread of the owning partition log.
 */
#include "broker/log/producer_state.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"

#define EMPTY_PRODUCER_ID (-1)
#define INITIAL_CAPACITY 8

struct producer_state {
    producer_entry *slots; /* capacity slots, producer_id -1 when empty; NULL until the first */
    size_t capacity;       /* 0, or a power of two >= 2 * count */
    size_t count;
    size_t max_producers;
};

int32_t producer_sequence_add(int32_t sequence, int32_t delta)
{
    INVARIANT(sequence >= 0 && delta >= 0);
    int32_t sum = sequence > INT32_MAX - delta ? delta - (INT32_MAX - sequence) - 1 : sequence + delta;
    INVARIANT(sum >= 0);
    return sum;
}

bool producer_sequence_follows(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

/* splitmix64 finaliser: producer ids are sequential within a node, so mix. */
static size_t hash_id(int64_t producer_id)
{
    uint64_t x = (uint64_t)producer_id;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (size_t)x;
}

/* The table's invariants (top of file), for INVARIANT_EXPENSIVE: count
 * occupied slots, each found where probe looks for it, at most half full. */
static bool table_consistent(const producer_state *ps)
{
    size_t occupied = 0;
    for (size_t i = 0; i < ps->capacity; i++) {
        int64_t id = ps->slots[i].producer_id;
        if (id == EMPTY_PRODUCER_ID)
            continue;
        occupied++;
        size_t mask = ps->capacity - 1, at = hash_id(id) & mask;
        while (ps->slots[at].producer_id != id) {
            if (ps->slots[at].producer_id == EMPTY_PRODUCER_ID)
                return false; /* a hole in its probe run: lookups would miss it */
            at = (at + 1) & mask;
        }
    }
    return occupied == ps->count && 2 * ps->count <= ps->capacity &&
           (ps->capacity & (ps->capacity - 1)) == 0 && ps->count <= ps->max_producers;
}

static void clear_slots(producer_entry *slots, size_t capacity)
{
    for (size_t i = 0; i < capacity; i++)
        slots[i].producer_id = EMPTY_PRODUCER_ID;
}

int producer_state_create(size_t max_producers, producer_state **out)
{
    *out = NULL;
    if (max_producers == 0)
        return ST_EINVAL;
    producer_state *ps = calloc(1, sizeof *ps);
    if (!ps)
        return ST_ENOMEM;
    ps->max_producers = max_producers; /* slots come with the first producer: most partitions have none */
    *out = ps;
    return 0;
}

void producer_state_free(producer_state *ps)
{
    if (!ps)
        return;
    free(ps->slots);
    free(ps);
}

void producer_state_clear(producer_state *ps)
{
    clear_slots(ps->slots, ps->capacity);
    ps->count = 0;
}

size_t producer_state_count(const producer_state *ps) { return ps->count; }

/* Slot of producer_id, or the empty slot where it would go. */
static size_t probe(const producer_state *ps, int64_t producer_id)
{
    /* a power of two, never full (at most half): the loop ends */
    INVARIANT(ps->capacity >= INITIAL_CAPACITY && 2 * ps->count <= ps->capacity && producer_id >= 0);
    size_t mask = ps->capacity - 1;
    size_t i = hash_id(producer_id) & mask;
    while (ps->slots[i].producer_id != EMPTY_PRODUCER_ID && ps->slots[i].producer_id != producer_id)
        i = (i + 1) & mask;
    return i;
}

const producer_entry *producer_state_find(const producer_state *ps, int64_t producer_id)
{
    if (producer_id < 0 || ps->capacity == 0)
        return NULL;
    const producer_entry *e = &ps->slots[probe(ps, producer_id)];
    return e->producer_id == producer_id ? e : NULL;
}

void producer_state_each(const producer_state *ps, void (*fn)(void *arg, const producer_entry *e),
                         void *arg)
{
    for (size_t i = 0; i < ps->capacity; i++)
        if (ps->slots[i].producer_id != EMPTY_PRODUCER_ID)
            fn(arg, &ps->slots[i]);
}

/* Removes the entry at slot i, shifting later entries of its probe run back
 * (no tombstones). */
static void remove_at(producer_state *ps, size_t i)
{
    INVARIANT(i < ps->capacity && ps->slots[i].producer_id != EMPTY_PRODUCER_ID && ps->count > 0);
    size_t mask = ps->capacity - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; ps->slots[j].producer_id != EMPTY_PRODUCER_ID; j = (j + 1) & mask) {
        size_t home = hash_id(ps->slots[j].producer_id) & mask;
        /* j may move to the hole unless its home lies cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            ps->slots[hole] = ps->slots[j];
            hole = j;
        }
    }
    ps->slots[hole].producer_id = EMPTY_PRODUCER_ID;
    ps->count--;
}

static int grow(producer_state *ps)
{
    size_t capacity = ps->capacity ? ps->capacity * 2 : INITIAL_CAPACITY;
    producer_entry *slots = malloc(capacity * sizeof *slots);
    if (!slots)
        return ST_ENOMEM;
    clear_slots(slots, capacity);
    producer_entry *old = ps->slots;
    size_t old_capacity = ps->capacity;
    ps->slots = slots;
    ps->capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].producer_id != EMPTY_PRODUCER_ID)
            ps->slots[probe(ps, old[i].producer_id)] = old[i];
    free(old);
    INVARIANT_EXPENSIVE(table_consistent(ps));
    return 0;
}

/* Forgets the least recently active producer (the map is full). */
static void evict_oldest(producer_state *ps)
{
    size_t oldest = ps->capacity;
    for (size_t i = 0; i < ps->capacity; i++) {
        if (ps->slots[i].producer_id == EMPTY_PRODUCER_ID)
            continue;
        if (oldest == ps->capacity || ps->slots[i].last_activity_ms < ps->slots[oldest].last_activity_ms)
            oldest = i;
    }
    INVARIANT(oldest < ps->capacity);
    log_warn("log", "producer state full, forgetting least recently active producer "
             "producer_id=%lld max=%zu", (long long)ps->slots[oldest].producer_id, ps->max_producers);
    remove_at(ps, oldest);
}

/* The entry slot for producer_id, inserted empty (batch_count 0) if new. */
static int slot_for(producer_state *ps, int64_t producer_id, producer_entry **out)
{
    size_t i = ps->capacity ? probe(ps, producer_id) : 0;
    if (ps->capacity && ps->slots[i].producer_id == producer_id) {
        *out = &ps->slots[i];
        return 0;
    }
    if (ps->count >= ps->max_producers)
        evict_oldest(ps);
    if (2 * (ps->count + 1) > ps->capacity) {
        int rc = grow(ps);
        if (rc != 0)
            return rc;
    }
    i = probe(ps, producer_id);
    INVARIANT(ps->slots[i].producer_id == EMPTY_PRODUCER_ID && ps->count < ps->max_producers);
    memset(&ps->slots[i], 0, sizeof ps->slots[i]);
    ps->slots[i].producer_id = producer_id;
    ps->count++;
    *out = &ps->slots[i];
    return 0;
}

void producer_state_check(const producer_state *ps, const batch_header *h,
                          producer_check_result *out)
{
    memset(out, 0, sizeof *out);
    out->outcome = PRODUCER_APPEND;
    out->known_epoch = -1;
    out->expected_sequence = -1;
    if (h->producer_id < 0)
        return;
    if (h->producer_epoch < 0 || h->base_sequence < 0) {
        out->outcome = PRODUCER_INVALID;
        return;
    }
    const producer_entry *e = producer_state_find(ps, h->producer_id);
    if (!e)
        return; /* unknown producer: accepted whatever its sequence (KIP-360) */
    /* an entry always holds its last batch (update adds one, put checks) */
    INVARIANT(e->batch_count >= 1 && e->batch_count <= PRODUCER_BATCHES_CACHED);
    const producer_batch *last = &e->batches[e->batch_count - 1];
    out->known_epoch = e->producer_epoch;
    out->expected_sequence = last->last_sequence == INT32_MAX ? 0 : last->last_sequence + 1;
    if (h->producer_epoch < e->producer_epoch) {
        out->outcome = PRODUCER_FENCED;
        return;
    }
    if (h->producer_epoch > e->producer_epoch) {
        if (h->base_sequence != 0)
            out->outcome = PRODUCER_OUT_OF_ORDER; /* a new epoch starts at sequence 0 */
        return;
    }
    int32_t last_sequence = producer_sequence_add(h->base_sequence, h->last_offset_delta);
    for (int i = 0; i < e->batch_count; i++) {
        if (e->batches[i].first_sequence == h->base_sequence &&
            e->batches[i].last_sequence == last_sequence) {
            out->outcome = PRODUCER_DUPLICATE;
            out->duplicate = e->batches[i];
            return;
        }
    }
    if (!producer_sequence_follows(last->last_sequence, h->base_sequence))
        out->outcome = PRODUCER_OUT_OF_ORDER;
}

int producer_state_update(producer_state *ps, const batch_header *h, int64_t activity_ms)
{
    if (h->producer_id < 0)
        return 0;
    INVARIANT(h->last_offset_delta >= 0 && h->base_offset >= 0); /* batch_header_decode */
    producer_entry *e = NULL;
    int rc = slot_for(ps, h->producer_id, &e);
    if (rc != 0)
        return rc;
    if (e->batch_count > 0 && e->producer_epoch != h->producer_epoch)
        e->batch_count = 0; /* a new epoch: the old one's batches can no longer be retried */
    e->producer_epoch = h->producer_epoch;
    if (e->batch_count == PRODUCER_BATCHES_CACHED) {
        memmove(e->batches, e->batches + 1, (PRODUCER_BATCHES_CACHED - 1) * sizeof e->batches[0]);
        e->batch_count--;
    }
    int32_t first = h->base_sequence >= 0 ? h->base_sequence : 0;
    e->batches[e->batch_count++] = (producer_batch){
        .first_sequence = first,
        .last_sequence = producer_sequence_add(first, h->last_offset_delta),
        .first_offset = h->base_offset,
        .last_offset = batch_last_offset(h),
        .timestamp_ms = h->max_timestamp,
    };
    if (activity_ms > e->last_activity_ms)
        e->last_activity_ms = activity_ms;
    INVARIANT(e->batch_count >= 1 && e->batch_count <= PRODUCER_BATCHES_CACHED &&
              e->producer_id == h->producer_id &&
              e->batches[e->batch_count - 1].last_offset == batch_last_offset(h));
    return 0;
}

bool producer_entry_valid(const producer_entry *e, int64_t end_offset)
{
    if (e->producer_id < 0 || e->producer_epoch < 0 || e->batch_count < 1 ||
        e->batch_count > PRODUCER_BATCHES_CACHED)
        return false;
    int64_t previous_last = -1;
    for (int i = 0; i < e->batch_count; i++) {
        const producer_batch *b = &e->batches[i];
        if (b->first_sequence < 0 || b->last_sequence < 0 || b->first_offset <= previous_last ||
            b->last_offset < b->first_offset || b->last_offset >= end_offset ||
            b->last_offset - b->first_offset > INT32_MAX)
            return false;
        int32_t span = (int32_t)(b->last_offset - b->first_offset);
        if (producer_sequence_add(b->first_sequence, span) != b->last_sequence)
            return false;
        previous_last = b->last_offset;
    }
    return true;
}

int producer_state_put(producer_state *ps, const producer_entry *e)
{
    if (!producer_entry_valid(e, INT64_MAX))
        return ST_EINVAL;
    producer_entry *slot = NULL;
    int rc = slot_for(ps, e->producer_id, &slot);
    if (rc == 0)
        *slot = *e;
    return rc;
}

size_t producer_state_expire(producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
    size_t removed = 0;
    for (size_t i = 0; i < ps->capacity;) {
        producer_entry *e = &ps->slots[i];
        if (e->producer_id != EMPTY_PRODUCER_ID && now_ms - e->last_activity_ms >= expiration_ms) {
            log_debug("log", "producer expired producer_id=%lld epoch=%d", (long long)e->producer_id,
                      e->producer_epoch);
            remove_at(ps, i); /* an entry may have shifted into i: look at it again */
            removed++;
            continue;
        }
        i++;
    }
    INVARIANT_EXPENSIVE(ps->capacity == 0 || table_consistent(ps));
    return removed;
}
