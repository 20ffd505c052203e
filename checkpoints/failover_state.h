/*
 * failover_state.h - the sidecar's durable copy of the deployment's region
 * state (DESIGN.md §8): the region epoch, which region is active, which one
 * is fenced or promoting during an operation, the operation in progress, and
 * the audit history of every change. Kept in the sidecar's SQLite file next
 * to the checkpoints (tables in checkpoint_schema.c, version 2).
 *
 * The one rule: the epoch only grows. A state with a lower epoch than the
 * stored one is refused; the same epoch is accepted only if it is the same
 * state (re-applying is idempotent), so two different states never share an
 * epoch on any sidecar.
 *
 * Thread-safety: calls are serialised internally; any thread.
 */
#ifndef STRAIT_FAILOVER_STATE_H
#define STRAIT_FAILOVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILOVER_NAME_MAX 64     /* region names (TOPOLOGY_NAME_MAX) */
#define FAILOVER_WORD_MAX 32     /* operation, step, outcome */
#define FAILOVER_ACTOR_MAX 128
#define FAILOVER_DETAIL_MAX 512

typedef struct failover_state {
    int64_t epoch;                      /* >= 1 */
    char active[FAILOVER_NAME_MAX];
    char fenced[FAILOVER_NAME_MAX];     /* "" when none */
    char promoting[FAILOVER_NAME_MAX];  /* "" when none */
    char operation[FAILOVER_WORD_MAX];  /* "" | switchover | failover | failback */
    char target[FAILOVER_NAME_MAX];
    char previous[FAILOVER_NAME_MAX];   /* active when the operation began; "" when none */
    char step[FAILOVER_WORD_MAX];
    char actor[FAILOVER_ACTOR_MAX];
    int64_t updated_at_ms;
} failover_state;

typedef struct failover_event {
    int64_t id;
    int64_t at_ms;
    char actor[FAILOVER_ACTOR_MAX];
    char operation[FAILOVER_WORD_MAX];
    char from[FAILOVER_NAME_MAX];
    char to[FAILOVER_NAME_MAX];
    int64_t epoch;
    int64_t lag_records;                /* -1 when unknown */
    char outcome[FAILOVER_WORD_MAX];
    char detail[FAILOVER_DETAIL_MAX];
} failover_event;

typedef struct failover_store failover_store;

/* Opens path (the sidecar's checkpoint store file; migrates it if needed). */
int failover_store_open(const char *path, failover_store **out);
void failover_store_close(failover_store *s);

/* The stored state; *found false when none was ever stored. */
int failover_state_load(failover_store *s, failover_state *out, bool *found);

/* Stores next (and appends ev to the history, in the same transaction; ev
 * may be NULL). ST_EINVAL: next.epoch < 1 or below the stored epoch, or
 * equal to it with a different state (why says which, for the refusal);
 * *changed false (and nothing written) when next equals the stored state. */
int failover_state_store(failover_store *s, const failover_state *next, const failover_event *ev,
                         bool *changed, char *why, size_t whylen);

/* Appends an event without changing the state (refusals, aborts). */
int failover_event_add(failover_store *s, const failover_event *ev);

/* Calls fn for the last `limit` events, oldest first. fn returns non-zero
 * to stop; it runs with the store's lock held and must not call back. */
int failover_event_each(failover_store *s, int limit,
                        int (*fn)(void *arg, const failover_event *ev), void *arg);

/* True if a and b are the same state (updated_at_ms and actor ignored). */
bool failover_state_same(const failover_state *a, const failover_state *b);

#endif
