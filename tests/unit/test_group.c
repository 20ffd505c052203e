/*
 * test_group.c - the consumer group state machine (broker/group/group.h)
 * with a fake clock and recorded callbacks: KIP-394 joins, the initial
 * rebalance delay, sync and assignment, heartbeats and fencing errors,
 * session and rebalance timeouts, static members (KIP-345), protocol
 * selection; and the __consumer_offsets record layout and partitioning
 * (broker/group/offsets_store.h, coordinator.h); and, against a real
 * coordinator, the rejoin hold after an unplanned failover
 * (coordinator_rejoin.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "broker/broker.h"
#include "broker/cluster/topic_registry.h"
#include "broker/group/coordinator.h"
#include "broker/group/group.h"
#include "broker/group/offsets_store.h"
#include "broker/group/group_error.h"
#include "common/error.h"
#include "common/limits.h"

/* ---- recorded outcomes ---------------------------------------------------- */

#define MAX_ANSWERS 64

typedef struct answer {
    int waiter;            /* the int the test passed as waiter */
    bool join;
    int error;
    char member_id[128];
    int32_t generation;
    char protocol[32];
    char leader[128];
    int member_count;      /* join: members listed (leader only) */
    char assignment[32];   /* sync */
} answer;

typedef struct world {
    group *g;
    group_time now;
    answer answers[MAX_ANSWERS];
    int count;
    int stores;
    int waiters[MAX_ANSWERS]; /* storage whose addresses are the waiters */
} world;

static void on_join(void *arg, group *g, void *waiter, const group_join_outcome *o)
{
    world *w = arg;
    assert_true(w->count < MAX_ANSWERS);
    answer *a = &w->answers[w->count++];
    memset(a, 0, sizeof *a);
    a->waiter = *(int *)waiter;
    a->join = true;
    a->error = o->error;
    strncpy(a->member_id, o->member_id, sizeof a->member_id - 1);
    a->generation = o->generation;
    strncpy(a->protocol, o->protocol_name, sizeof a->protocol - 1);
    strncpy(a->leader, o->leader_id, sizeof a->leader - 1);
    a->member_count = o->with_members ? group_member_count(g) : 0;
}

static void on_sync(void *arg, group *g, void *waiter, int error, const uint8_t *assignment,
                    int32_t len)
{
    (void)g;
    world *w = arg;
    assert_true(w->count < MAX_ANSWERS);
    answer *a = &w->answers[w->count++];
    memset(a, 0, sizeof *a);
    a->waiter = *(int *)waiter;
    a->error = error;
    if (assignment && len > 0)
        memcpy(a->assignment, assignment, (size_t)(len < 31 ? len : 31));
}

static void on_store(void *arg, group *g)
{
    (void)g;
    ((world *)arg)->stores++;
}

static world *world_new(int64_t initial_delay_ms)
{
    world *w = calloc(1, sizeof *w);
    for (int i = 0; i < MAX_ANSWERS; i++)
        w->waiters[i] = i;
    group_config config = {.min_session_timeout_ms = 6000, .max_session_timeout_ms = 1800000,
                           .max_size = 100, .initial_rebalance_delay_ms = initial_delay_ms};
    group_callbacks cb = {.join_done = on_join, .sync_done = on_sync, .store = on_store, .arg = w};
    w->g = group_new("g1", &config, &cb);
    w->now = (group_time){1000000, 1700000000000};
    return w;
}

static void world_free(world *w)
{
    group_free(w->g);
    free(w);
}

static void advance(world *w, int64_t ms)
{
    w->now.mono_ms += ms;
    w->now.wall_ms += ms;
    for (int i = 0; i < 10 && group_next_deadline(w->g) <= w->now.mono_ms; i++)
        group_on_time(w->g, w->now);
}

/* The last answer for waiter, or NULL. */
static const answer *answer_for(const world *w, int waiter)
{
    for (int i = w->count - 1; i >= 0; i--)
        if (w->answers[i].waiter == waiter)
            return &w->answers[i];
    return NULL;
}

static group_protocol range_rr[] = {{"range", (uint8_t *)"R", 1}, {"roundrobin", (uint8_t *)"RR", 2}};
static group_protocol rr_range[] = {{"roundrobin", (uint8_t *)"rr", 2}, {"range", (uint8_t *)"r", 1}};
static group_protocol rr_only[] = {{"roundrobin", (uint8_t *)"x", 1}};
static group_protocol sticky_only[] = {{"sticky", (uint8_t *)"s", 1}};

static void join(world *w, int waiter, const char *member_id, const char *instance_id,
                 group_protocol *protocols, int32_t count, bool v4)
{
    group_join_params p = {.member_id = member_id, .instance_id = instance_id,
                           .client_id = "client", .client_host = "/127.0.0.1",
                           .session_timeout_ms = 10000, .rebalance_timeout_ms = 30000,
                           .protocol_type = "consumer", .protocols = protocols,
                           .protocol_count = count, .require_known_member_id = v4};
    group_join(w->g, &p, &w->waiters[waiter], w->now);
}

static void sync_(world *w, int waiter, const char *member_id, int32_t generation,
                  const group_assignment *a, int32_t count)
{
    group_sync(w->g, member_id, NULL, generation, a, count, &w->waiters[waiter], w->now);
}

/* Two dynamic members joined and synced: returns their ids in a, b. */
static void stable_pair(world *w, char *a, char *b)
{
    join(w, 1, "", NULL, range_rr, 2, false);
    join(w, 2, "", NULL, range_rr, 2, false);
    assert_int_equal(w->count, 0);
    advance(w, 3000); /* initial delay, extended once for the second member */
    assert_int_equal(w->count, 0);
    advance(w, 3000);
    assert_int_equal(w->count, 2);
    strcpy(a, answer_for(w, 1)->member_id);
    strcpy(b, answer_for(w, 2)->member_id);
    assert_int_equal(group_current_state(w->g), GROUP_COMPLETING_REBALANCE);
    sync_(w, 4, b, 1, NULL, 0);
    assert_null(answer_for(w, 4));
    group_assignment as[] = {{a, (const uint8_t *)"A", 1}, {b, (const uint8_t *)"B", 1}};
    sync_(w, 3, a, 1, as, 2);
    assert_string_equal(answer_for(w, 3)->assignment, "A");
    assert_string_equal(answer_for(w, 4)->assignment, "B");
    assert_int_equal(group_current_state(w->g), GROUP_STABLE);
}

/* ---- tests ------------------------------------------------------------------- */

static void kip394_join_then_initial_delay(void **state)
{
    (void)state;
    world *w = world_new(3000);
    join(w, 1, "", NULL, range_rr, 2, true);
    const answer *a = answer_for(w, 1);
    assert_non_null(a);
    assert_int_equal(a->error, GROUP_EMEMBER_ID_REQUIRED);
    assert_non_null(strstr(a->member_id, "client-"));
    assert_int_equal(group_pending_count(w->g), 1);
    char id[128];
    strcpy(id, a->member_id);
    join(w, 2, id, NULL, range_rr, 2, true); /* parks: the initial delay runs */
    assert_null(answer_for(w, 2));
    assert_int_equal(group_current_state(w->g), GROUP_PREPARING_REBALANCE);
    advance(w, 2999);
    assert_null(answer_for(w, 2));
    advance(w, 1);
    a = answer_for(w, 2);
    assert_non_null(a);
    assert_int_equal(a->error, GROUP_OK);
    assert_int_equal(a->generation, 1);
    assert_string_equal(a->leader, id);
    assert_string_equal(a->protocol, "range");
    assert_int_equal(a->member_count, 1);
    /* an unknown member id */
    join(w, 3, "nobody", NULL, range_rr, 2, true);
    assert_int_equal(answer_for(w, 3)->error, GROUP_EUNKNOWN_MEMBER);
    world_free(w);
}

/* group.initial.rebalance.delay.ms as Kafka's InitialDelayedJoin: a new
 * group (generation 0) waits one more delay when a member arrived during
 * the last one; a group that emptied and is joined again waits one delay. */
static void initial_delay_extends_only_for_a_new_group(void **state)
{
    (void)state;
    world *w = world_new(3000);
    join(w, 1, "", NULL, range_rr, 2, false);
    advance(w, 1000);
    join(w, 2, "", NULL, range_rr, 2, false); /* during the first delay */
    advance(w, 2000);                         /* the first delay ends: one more */
    assert_null(answer_for(w, 1));
    advance(w, 2999);
    assert_null(answer_for(w, 1));
    advance(w, 1); /* 3000 + 3000 */
    assert_int_equal(answer_for(w, 1)->error, GROUP_OK);
    assert_int_equal(answer_for(w, 2)->generation, 1);
    char a[128], b[128];
    strcpy(a, answer_for(w, 1)->member_id);
    strcpy(b, answer_for(w, 2)->member_id);
    assert_int_equal(group_leave(w->g, a, w->now), GROUP_OK);
    assert_int_equal(group_leave(w->g, b, w->now), GROUP_OK);
    assert_int_equal(group_current_state(w->g), GROUP_EMPTY);
    int32_t generation = group_generation(w->g);
    assert_true(generation > 0);
    join(w, 3, "", NULL, range_rr, 2, false);
    advance(w, 1000);
    join(w, 4, "", NULL, range_rr, 2, false);
    advance(w, 1999);
    assert_null(answer_for(w, 3));
    advance(w, 1); /* one delay only */
    assert_int_equal(answer_for(w, 3)->error, GROUP_OK);
    assert_int_equal(answer_for(w, 4)->generation, generation + 1);
    world_free(w);
}

static void sync_heartbeat_and_fencing(void **state)
{
    (void)state;
    world *w = world_new(3000);
    char a[128], b[128];
    stable_pair(w, a, b);
    assert_true(w->stores >= 1);
    assert_int_equal(group_heartbeat(w->g, a, NULL, 1, w->now), GROUP_OK);
    assert_int_equal(group_heartbeat(w->g, a, NULL, 0, w->now), GROUP_EGENERATION);
    assert_int_equal(group_heartbeat(w->g, "ghost", NULL, 1, w->now), GROUP_EUNKNOWN_MEMBER);
    /* a stable follower rejoining with the same metadata gets the same generation */
    join(w, 5, b, NULL, range_rr, 2, true);
    assert_int_equal(answer_for(w, 5)->generation, 1);
    assert_int_equal(group_current_state(w->g), GROUP_STABLE);
    /* commits */
    assert_int_equal(group_commit_check(w->g, a, NULL, 1, w->now), GROUP_OK);
    assert_int_equal(group_commit_check(w->g, a, NULL, 7, w->now), GROUP_EGENERATION);
    assert_int_equal(group_commit_check(w->g, "", NULL, -1, w->now), GROUP_EUNKNOWN_MEMBER);
    /* sync with a stale generation */
    sync_(w, 6, a, 0, NULL, 0);
    assert_int_equal(answer_for(w, 6)->error, GROUP_EGENERATION);
    sync_(w, 7, b, 1, NULL, 0); /* stable: its assignment again */
    assert_string_equal(answer_for(w, 7)->assignment, "B");
    world_free(w);
}

static void session_expiry_moves_to_rebalance(void **state)
{
    (void)state;
    world *w = world_new(3000);
    char a[128], b[128];
    stable_pair(w, a, b);
    /* a keeps heartbeating, b goes silent */
    for (int i = 0; i < 3; i++) {
        advance(w, 3000);
        assert_int_equal(group_heartbeat(w->g, a, NULL, 1, w->now), GROUP_OK);
    }
    assert_int_equal(group_member_count(w->g), 2);
    advance(w, 3000); /* 12 s after the sync b's 10 s session is over */
    assert_int_equal(group_member_count(w->g), 1);
    assert_int_equal(group_current_state(w->g), GROUP_PREPARING_REBALANCE);
    assert_int_equal(group_heartbeat(w->g, a, NULL, 1, w->now), GROUP_EREBALANCING);
    assert_int_equal(group_commit_check(w->g, a, NULL, 1, w->now), GROUP_OK);
    join(w, 8, a, NULL, range_rr, 2, true); /* every member is back: completes now */
    const answer *x = answer_for(w, 8);
    assert_non_null(x);
    assert_int_equal(x->generation, 2);
    assert_int_equal(x->member_count, 1);
    assert_int_equal(group_commit_check(w->g, a, NULL, 2, w->now), GROUP_EREBALANCING);
    world_free(w);
}

static void rebalance_timeout_removes_laggards(void **state)
{
    (void)state;
    world *w = world_new(3000);
    char a[128], b[128];
    stable_pair(w, a, b);
    assert_int_equal(group_leave(w->g, a, w->now), GROUP_OK); /* the leader leaves */
    assert_int_equal(group_leave(w->g, a, w->now), GROUP_EUNKNOWN_MEMBER);
    assert_int_equal(group_current_state(w->g), GROUP_PREPARING_REBALANCE);
    assert_string_equal(group_leader_id(w->g), b);
    /* b keeps its session alive with heartbeats but never rejoins */
    for (int i = 0; i < 9; i++) {
        advance(w, 3000);
        assert_int_equal(group_heartbeat(w->g, b, NULL, 1, w->now), GROUP_EREBALANCING);
    }
    advance(w, 3000); /* 30 s rebalance timeout */
    assert_int_equal(group_member_count(w->g), 0);
    assert_int_equal(group_current_state(w->g), GROUP_EMPTY);
    assert_int_equal(group_generation(w->g), 2);
    world_free(w);
}

static void static_member_rejoins_without_rebalance(void **state)
{
    (void)state;
    world *w = world_new(0);
    join(w, 1, "", "instance-a", range_rr, 2, true); /* static: no MEMBER_ID_REQUIRED */
    const answer *x = answer_for(w, 1);
    assert_int_equal(x->error, GROUP_OK);
    char old_id[128];
    strcpy(old_id, x->member_id);
    assert_non_null(strstr(old_id, "instance-a-"));
    group_assignment as[] = {{old_id, (const uint8_t *)"P0", 2}};
    sync_(w, 2, old_id, 1, as, 1);
    assert_string_equal(answer_for(w, 2)->assignment, "P0");
    int stores = w->stores;
    /* restart: same instance id, no member id */
    join(w, 3, "", "instance-a", range_rr, 2, true);
    x = answer_for(w, 3);
    assert_int_equal(x->error, GROUP_OK);
    assert_int_equal(x->generation, 1);           /* no rebalance */
    assert_string_equal(x->leader, old_id);       /* old leader id: it must not assign */
    assert_string_not_equal(x->member_id, old_id);
    assert_int_equal(w->stores, stores + 1);
    assert_int_equal(group_current_state(w->g), GROUP_STABLE);
    char new_id[128];
    strcpy(new_id, x->member_id);
    sync_(w, 4, new_id, 1, NULL, 0);
    assert_string_equal(answer_for(w, 4)->assignment, "P0");
    /* the old instance is fenced */
    assert_int_equal(group_heartbeat(w->g, old_id, "instance-a", 1, w->now), GROUP_EFENCED_INSTANCE);
    assert_int_equal(group_commit_check(w->g, old_id, "instance-a", 1, w->now), GROUP_EFENCED_INSTANCE);
    assert_int_equal(group_heartbeat(w->g, new_id, "instance-a", 1, w->now), GROUP_OK);
    world_free(w);
}

static void protocol_selection_and_mismatch(void **state)
{
    (void)state;
    world *w = world_new(3000);
    join(w, 1, "", NULL, range_rr, 2, false);
    join(w, 2, "", NULL, rr_range, 2, false);
    join(w, 3, "", NULL, rr_only, 1, false);
    join(w, 4, "", NULL, sticky_only, 1, false); /* nothing in common */
    assert_int_equal(answer_for(w, 4)->error, GROUP_EPROTOCOL);
    advance(w, 3000);
    advance(w, 3000);
    assert_string_equal(answer_for(w, 1)->protocol, "roundrobin");
    assert_int_equal(answer_for(w, 1)->member_count, 3); /* leader */
    assert_int_equal(answer_for(w, 2)->member_count, 0);
    /* bad session timeouts */
    group_join_params p = {.member_id = "", .client_id = "c", .client_host = "h",
                           .session_timeout_ms = 10, .rebalance_timeout_ms = 10,
                           .protocol_type = "consumer", .protocols = rr_only, .protocol_count = 1};
    group_join(w->g, &p, &w->waiters[5], w->now);
    assert_int_equal(answer_for(w, 5)->error, GROUP_ESESSION_TIMEOUT);
    world_free(w);
}

static void rejoin_during_sync_restarts_the_round(void **state)
{
    (void)state;
    world *w = world_new(3000);
    join(w, 1, "", NULL, range_rr, 2, false);
    join(w, 2, "", NULL, range_rr, 2, false);
    advance(w, 3000);
    advance(w, 3000);
    char a[128], b[128];
    strcpy(a, answer_for(w, 1)->member_id);
    strcpy(b, answer_for(w, 2)->member_id);
    sync_(w, 3, b, 1, NULL, 0); /* follower waits for the leader */
    /* b rejoins with new metadata before the leader synced */
    join(w, 4, b, NULL, rr_only, 1, false);
    assert_int_equal(answer_for(w, 3)->error, GROUP_EREBALANCING);
    assert_int_equal(group_current_state(w->g), GROUP_PREPARING_REBALANCE);
    join(w, 5, a, NULL, range_rr, 2, false);
    assert_int_equal(answer_for(w, 5)->generation, 2);
    assert_string_equal(answer_for(w, 5)->protocol, "roundrobin");
    /* the leader never syncs: the sync deadline removes it and starts over */
    sync_(w, 6, b, 2, NULL, 0);
    advance(w, 30000);
    assert_int_equal(answer_for(w, 6)->error, GROUP_EREBALANCING);
    assert_int_equal(group_member_count(w->g), 1);
    world_free(w);
}

static void simple_commit_on_empty_group(void **state)
{
    (void)state;
    world *w = world_new(3000);
    assert_int_equal(group_commit_check(w->g, "", NULL, -1, w->now), GROUP_OK);
    assert_int_equal(group_commit_check(w->g, "x", NULL, 3, w->now), GROUP_EUNKNOWN_MEMBER);
    assert_int_equal(group_heartbeat(w->g, "x", NULL, 0, w->now), GROUP_EUNKNOWN_MEMBER);
    world_free(w);
}

/* A planned switchover: members of the old region's generation 7 arrive with
 * their ids; the Empty group takes them in as Stable without a rebalance. */
static void adoption_after_switchover(void **state)
{
    (void)state;
    world *w = world_new(3000);
    group_adoptee a = {.member_id = "app-1-old", .client_id = "app", .client_host = "/127.0.0.1",
                       .generation = 7, .session_timeout_ms = 1000 /* below the minimum */};
    /* refused: no id, a static member, no generation */
    group_adoptee bad = a;
    bad.member_id = "";
    assert_int_equal(group_adopt(w->g, &bad, w->now), GROUP_EUNKNOWN_MEMBER);
    bad = a;
    bad.instance_id = "static-1";
    assert_int_equal(group_adopt(w->g, &bad, w->now), GROUP_EUNKNOWN_MEMBER);
    bad = a;
    bad.generation = -1;
    assert_int_equal(group_adopt(w->g, &bad, w->now), GROUP_EUNKNOWN_MEMBER);
    assert_int_equal(group_current_state(w->g), GROUP_EMPTY);

    assert_int_equal(group_adopt(w->g, &a, w->now), GROUP_OK);
    assert_int_equal(group_current_state(w->g), GROUP_STABLE);
    assert_true(group_is_adopted(w->g));
    assert_int_equal(group_generation(w->g), 7);
    assert_string_equal(group_leader_id(w->g), "app-1-old");
    assert_int_equal(group_member_at(w->g, 0)->session_timeout_ms, 6000); /* clamped */
    assert_int_equal(group_adopt(w->g, &a, w->now), GROUP_OK); /* known: nothing changes */
    assert_int_equal(group_member_count(w->g), 1);
    /* its commits and heartbeats go through at its generation */
    assert_int_equal(group_commit_check(w->g, "app-1-old", NULL, 7, w->now), GROUP_OK);
    assert_int_equal(group_heartbeat(w->g, "app-1-old", NULL, 7, w->now), GROUP_OK);
    /* a second member of the same generation joins it; another generation does not */
    group_adoptee b = a;
    b.member_id = "app-2-old";
    assert_int_equal(group_adopt(w->g, &b, w->now), GROUP_OK);
    assert_int_equal(group_member_count(w->g), 2);
    group_adoptee stale = a;
    stale.member_id = "app-3-old";
    stale.generation = 6;
    assert_int_equal(group_adopt(w->g, &stale, w->now), GROUP_EUNKNOWN_MEMBER);

    /* a new member: the adopted ones rebalance with it, their protocols come
     * with their joins; the new generation is this region's own */
    join(w, 1, "", NULL, range_rr, 2, false);
    assert_int_equal(group_current_state(w->g), GROUP_PREPARING_REBALANCE);
    assert_int_equal(group_heartbeat(w->g, "app-1-old", NULL, 7, w->now), GROUP_EREBALANCING);
    join(w, 2, "app-1-old", NULL, range_rr, 2, false);
    join(w, 3, "app-2-old", NULL, rr_range, 2, false);
    assert_int_equal(answer_for(w, 1)->error, GROUP_OK);
    assert_int_equal(answer_for(w, 1)->generation, 8);
    assert_string_equal(answer_for(w, 1)->protocol, "range");
    assert_false(group_is_adopted(w->g));
    assert_int_equal(group_member_count(w->g), 3);
    /* no adoption into a group of this region's own */
    stale.generation = 8;
    assert_int_equal(group_adopt(w->g, &stale, w->now), GROUP_EUNKNOWN_MEMBER);
    world_free(w);
}

/* Adopted members that never come back expire like any member. */
static void adopted_member_expires(void **state)
{
    (void)state;
    world *w = world_new(0);
    group_adoptee a = {.member_id = "gone", .generation = 3, .session_timeout_ms = 10000};
    assert_int_equal(group_adopt(w->g, &a, w->now), GROUP_OK);
    advance(w, 10001);
    assert_int_equal(group_member_count(w->g), 0);
    assert_int_equal(group_current_state(w->g), GROUP_EMPTY);
    assert_false(group_is_adopted(w->g));
    world_free(w);
}

static void java_hash_partitioning(void **state)
{
    (void)state;
    /* values of Java's "...".hashCode() */
    assert_int_equal(coordinator_java_hash("", 0), 0);
    assert_int_equal(coordinator_java_hash("a", 1), 97);
    assert_int_equal(coordinator_java_hash("test-group", 10), 627841412);
    assert_int_equal(coordinator_java_hash("\xc3\xa9t\xc3\xa9", 5), 227742); /* "été" */
    assert_int_equal(coordinator_java_hash("\xf0\x9f\x98\x80", 4), 1772899); /* U+1F600 */
    assert_int_equal(coordinator_partition_for("test-group", 10, 50), 627841412 % 50);
    assert_int_equal(coordinator_partition_for("a", 1, 50), 97 % 50);
}

static void offsets_records_round_trip(void **state)
{
    (void)state;
    buf key, value;
    buf_init(&key, 1 << 20);
    buf_init(&value, 1 << 20);
    offsets_key_commit(&key, "grp", "orders", 6, 7);
    offsets_value_commit(&value, 12345, 3, "meta", 4, 1700000000000);
    /* Kafka's bytes: version 1, "grp", "orders", 7 */
    static const uint8_t expected_key[] = {0, 1, 0, 3, 'g', 'r', 'p', 0, 6, 'o', 'r', 'd', 'e',
                                           'r', 's', 0, 0, 0, 7};
    assert_int_equal(key.len, sizeof expected_key);
    assert_memory_equal(key.data, expected_key, sizeof expected_key);
    offsets_record r;
    assert_int_equal(offsets_record_decode(key.data, (int32_t)key.len, value.data,
                                           (int32_t)value.len, &r), 0);
    assert_int_equal(r.kind, OFFSETS_RECORD_COMMIT);
    assert_int_equal(r.partition, 7);
    assert_int_equal(r.offset, 12345);
    assert_int_equal(r.leader_epoch, 3);
    assert_int_equal(r.commit_timestamp, 1700000000000);
    assert_int_equal(r.metadata.len, 4);
    assert_int_equal(offsets_record_decode(key.data, (int32_t)key.len, NULL, -1, &r), 0);
    assert_true(r.tombstone);
    /* a group with two members */
    world *w = world_new(3000);
    char a[128], b[128];
    stable_pair(w, a, b);
    buf_reset(&key);
    buf_reset(&value);
    offsets_key_group(&key, "g1");
    offsets_value_group(&value, w->g);
    assert_true(buf_ok(&value));
    assert_int_equal(offsets_record_decode(key.data, (int32_t)key.len, value.data,
                                           (int32_t)value.len, &r), 0);
    assert_int_equal(r.kind, OFFSETS_RECORD_GROUP);
    assert_int_equal(r.group.generation, 1);
    assert_int_equal(r.group.member_count, 2);
    const offsets_stored_member *m = r.group.members;
    assert_int_equal(m[1].assignment.len, 1);
    assert_memory_equal(m[1].assignment.ptr, "B", 1);
    assert_memory_equal(r.group.protocol.ptr, "range", 5);
    offsets_record_clear(&r);
    /* truncated values fail cleanly */
    for (size_t cut = 0; cut < value.len; cut++)
        assert_int_equal(offsets_record_decode(key.data, (int32_t)key.len, value.data, (int32_t)cut,
                                               &r), ST_ECORRUPT);
    world_free(w);
    buf_free(&key);
    buf_free(&value);
}

/* Flexible (v4) values, as newer Kafka versions write them: compact lengths
 * and tagged fields, which are skipped. */
static void offsets_flexible_values_decode(void **state)
{
    (void)state;
    static const uint8_t commit_key[] = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 2};
    static const uint8_t commit_value[] = {
        0, 4,                         /* version 4 */
        0, 0, 0, 0, 0, 0, 0, 42,      /* offset */
        0, 0, 0, 5,                   /* leader_epoch */
        4, 'a', 0, 'b',               /* metadata: compact string of 3 bytes */
        0, 0, 0, 0, 0, 0, 0, 9,       /* commit_timestamp */
        1, 7, 2, 0xee, 0xee,          /* one tagged field (tag 7, 2 bytes) */
    };
    offsets_record r;
    assert_int_equal(offsets_record_decode(commit_key, sizeof commit_key, commit_value,
                                           sizeof commit_value, &r), 0);
    assert_int_equal(r.kind, OFFSETS_RECORD_COMMIT);
    assert_int_equal(r.partition, 2);
    assert_int_equal(r.offset, 42);
    assert_int_equal(r.leader_epoch, 5);
    assert_int_equal(r.metadata.len, 3);
    assert_memory_equal(r.metadata.ptr, "a\0b", 3);
    assert_int_equal(r.commit_timestamp, 9);
    static const uint8_t group_key[] = {0, 2, 0, 1, 'g'};
    static const uint8_t group_value[] = {
        0, 4,                         /* version 4 */
        9, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', /* protocol_type */
        0, 0, 0, 3,                   /* generation */
        6, 'r', 'a', 'n', 'g', 'e',   /* protocol */
        2, 'm',                       /* leader */
        0, 0, 0, 0, 0, 0, 0, 1,       /* current_state_timestamp */
        2,                            /* one member */
        2, 'm', 0,                    /* member_id, group_instance_id null */
        2, 'c', 2, 'h',               /* client_id, client_host */
        0, 0, 0x75, 0x30,             /* rebalance_timeout 30000 */
        0, 0, 0x27, 0x10,             /* session_timeout 10000 */
        2, 'S', 2, 'A',               /* subscription, assignment */
        0,                            /* member tagged fields */
        0,                            /* value tagged fields */
    };
    assert_int_equal(offsets_record_decode(group_key, sizeof group_key, group_value,
                                           sizeof group_value, &r), 0);
    assert_int_equal(r.kind, OFFSETS_RECORD_GROUP);
    assert_int_equal(r.group.generation, 3);
    assert_int_equal(r.group.member_count, 1);
    assert_int_equal(r.group.members[0].group_instance_id.len, -1);
    assert_int_equal(r.group.members[0].rebalance_timeout, 30000);
    assert_int_equal(r.group.members[0].session_timeout, 10000);
    assert_memory_equal(r.group.members[0].assignment.ptr, "A", 1);
    offsets_record_clear(&r);
    for (size_t cut = 0; cut < sizeof group_value; cut++)
        assert_int_equal(offsets_record_decode(group_key, sizeof group_key, group_value,
                                               (int32_t)cut, &r), ST_ECORRUPT);
}

static void offsets_table_basics(void **state)
{
    (void)state;
    offsets_table *t = offsets_table_new();
    assert_int_equal(offsets_table_put(t, "a", 1, 3, 10, -1, "m", 1, 5), 0);
    assert_int_equal(offsets_table_put(t, "a", 1, 3, 11, -1, "", 0, 6), 0);
    assert_int_equal(offsets_table_put(t, "b", 1, 0, 1, 2, NULL, 0, 7), 0);
    assert_int_equal(offsets_table_put(t, "b", 1, LIMIT_PARTITIONS_PER_TOPIC, 1, 2, NULL, 0, 7), ST_EINVAL);
    assert_int_equal(offsets_table_count(t), 2);
    assert_int_equal(offsets_table_get(t, "a", 1, 3)->offset, 11);
    assert_null(offsets_table_get(t, "a", 1, 2));
    assert_true(offsets_table_delete(t, "a", 1, 3));
    assert_false(offsets_table_delete(t, "a", 1, 3));
    assert_int_equal(offsets_table_count(t), 1);
    offsets_table_free(t);
}

/* Commit metadata is bytes (librdkafka's 0099 commits "Hello\0world!"): a NUL
 * inside survives the table and the __consumer_offsets record. */
static void commit_metadata_is_bytes(void **state)
{
    (void)state;
    static const char metadata[] = "Hello\0world!";
    const size_t metadata_len = sizeof metadata - 1;
    offsets_table *t = offsets_table_new();
    assert_int_equal(offsets_table_put(t, "a", 1, 0, 42, -1, metadata, metadata_len, 5), 0);
    const offset_value *v = offsets_table_get(t, "a", 1, 0);
    assert_non_null(v);
    assert_int_equal(v->metadata_len, 12);
    assert_memory_equal(v->metadata, metadata, metadata_len);
    offsets_table_free(t);

    buf key, value;
    buf_init(&key, 1 << 20);
    buf_init(&value, 1 << 20);
    offsets_key_commit(&key, "grp", "a", 1, 0);
    offsets_value_commit(&value, 42, -1, metadata, metadata_len, 1700000000000);
    offsets_record r;
    assert_int_equal(offsets_record_decode(key.data, (int32_t)key.len, value.data,
                                           (int32_t)value.len, &r), 0);
    assert_int_equal(r.metadata.len, 12);
    assert_memory_equal(r.metadata.ptr, metadata, metadata_len);
    buf_free(&key);
    buf_free(&value);
}

/* ---- the rejoin hold after an unplanned failover (coordinator_rejoin.c) ---- */

typedef struct coord_world {
    broker_config config;
    topic_registry *topics;
    struct event_base *base;
    coordinator *c;
    char dir[64];
    int joins, syncs;
    int join_error, sync_error;
    char member_id[128];
    char leader_id[128];
    int32_t generation;
} coord_world;

typedef struct test_waiter {
    coordinator_waiter w;
    coord_world *cw;
} test_waiter;

static void coord_join_fill(coordinator_waiter *w, const group *g, const group_join_outcome *o)
{
    (void)g;
    coord_world *cw = ((test_waiter *)w)->cw;
    cw->joins++;
    cw->join_error = o->error;
    snprintf(cw->member_id, sizeof cw->member_id, "%s", o->member_id);
    snprintf(cw->leader_id, sizeof cw->leader_id, "%s", o->leader_id);
    cw->generation = o->generation;
}

static void coord_sync_fill(coordinator_waiter *w, int error, const uint8_t *assignment,
                            int32_t len)
{
    (void)assignment;
    (void)len;
    coord_world *cw = ((test_waiter *)w)->cw;
    cw->syncs++;
    cw->sync_error = error;
}

static void coord_finish(coordinator_waiter *w) { (void)w; }

static coord_world *coord_world_open(void)
{
    coord_world *cw = calloc(1, sizeof *cw);
    assert_non_null(cw);
    snprintf(cw->dir, sizeof cw->dir, "/tmp/test_group_rejoin_XXXXXX");
    assert_non_null(mkdtemp(cw->dir));
    broker_config_default(&cw->config);
    snprintf(cw->config.log_dirs, sizeof cw->config.log_dirs, "%s", cw->dir);
    assert_int_equal(topic_registry_open(&cw->config, &cw->topics), 0);
    cw->base = event_base_new();
    assert_non_null(cw->base);
    coordinator_deps deps = {.base = cw->base, .topics = cw->topics,
                             .group = {.min_session_timeout_ms = 6000,
                                       .max_session_timeout_ms = 1800000, .max_size = 100,
                                       .initial_rebalance_delay_ms = 0},
                             .offsets_topic_num_partitions = 2,
                             .offsets_retention_minutes = 10080,
                             .offsets_retention_check_interval_ms = 600000};
    assert_int_equal(coordinator_open(&deps, &cw->c), 0);
    return cw;
}

static void coord_world_close(coord_world *cw)
{
    coordinator_close(cw->c);
    topic_registry_close(cw->topics);
    event_base_free(cw->base);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", cw->dir);
    assert_int_equal(system(command), 0);
    free(cw);
}

/* A commit of group_id to (topic, partition) with metadata, as the
 * sidecar's group sync or a client writes it. */
static void coord_commit_one(coord_world *cw, const char *group_id, const char *topic,
                             int32_t partition, int64_t offset, const char *metadata)
{
    assert_int_equal(coordinator_find(cw->c), GROUP_OK);
    assert_int_equal(coordinator_commit_check(cw->c, group_id, "", NULL, -1), GROUP_OK);
    coordinator_offset_item item = {.topic = topic, .topic_len = strlen(topic),
                                    .partition = partition, .offset = offset, .leader_epoch = -1,
                                    .metadata = metadata, .metadata_len = strlen(metadata),
                                    .error = GROUP_OK};
    coordinator_commit(cw->c, group_id, &item, 1);
    assert_int_equal(item.error, GROUP_OK);
}

static bool every_group(void *arg, const char *group_id)
{
    (void)arg;
    (void)group_id;
    return true;
}

static bool only_app(void *arg, const char *group_id)
{
    (void)arg;
    return strncmp(group_id, "app", 3) == 0;
}

static void rejoin_hold_after_unplanned_failover(void **state)
{
    (void)state;
    coord_world *cw = coord_world_open();
    coordinator *c = cw->c;
    /* synced from east by the sidecar: "app" reads t-0 and t-1 */
    coord_commit_one(cw, "app", "t", 0, 40, "strait.src=east@40;");
    coord_commit_one(cw, "app", "t", 1, 7, "strait.src=east@5;"); /* translated: held all the same */
    /* a group of this region's own (no marker), and one the redirect excludes */
    coord_commit_one(cw, "local", "u", 0, 3, "mine");
    coord_commit_one(cw, "other", "v", 0, 9, "strait.src=east@9;");

    assert_false(coordinator_rejoin_holds(c, "t", 1, 0)); /* nothing open yet */
    assert_int_equal(coordinator_rejoin_hold_open(c, true, only_app, NULL), 1);
    assert_true(coordinator_rejoin_holds(c, "t", 1, 0));
    assert_true(coordinator_rejoin_holds(c, "t", 1, 1));
    assert_false(coordinator_rejoin_holds(c, "t", 1, 2)); /* no commit of the group there */
    assert_false(coordinator_rejoin_holds(c, "u", 1, 0));
    assert_false(coordinator_rejoin_holds(c, "v", 1, 0)); /* "other" was not selected */

    /* another handover ends it */
    assert_int_equal(coordinator_rejoin_hold_open(c, false, every_group, NULL), 0);
    assert_false(coordinator_rejoin_holds(c, "t", 1, 0));
    assert_int_equal(coordinator_rejoin_hold_open(c, true, every_group, NULL), 2);
    assert_true(coordinator_rejoin_holds(c, "v", 1, 0));

    /* the member of "app" rejoins here: a new generation, Stable after its
     * SyncGroup; from then on its partitions are read */
    group_protocol protocol = {.name = "range", .metadata = (uint8_t *)"m", .metadata_len = 1};
    group_join_params join = {.member_id = "", .client_id = "app", .client_host = "/127.0.0.1",
                              .session_timeout_ms = 10000, .rebalance_timeout_ms = 10000,
                              .protocol_type = "consumer", .protocols = &protocol,
                              .protocol_count = 1};
    test_waiter w = {.w = {.group_id = "app", .join_fill = coord_join_fill,
                           .sync_fill = coord_sync_fill, .finish = coord_finish},
                     .cw = cw};
    assert_true(coordinator_join(c, &w.w, &join));
    assert_int_equal(cw->join_error, GROUP_OK);
    assert_string_equal(cw->member_id, cw->leader_id);
    assert_true(coordinator_rejoin_holds(c, "t", 1, 0)); /* joined, not Stable yet */
    group_assignment assignment = {.member_id = cw->member_id, .data = (const uint8_t *)"a",
                                   .len = 1};
    assert_true(coordinator_sync(c, &w.w, cw->member_id, NULL, cw->generation, &assignment, 1));
    assert_int_equal(cw->sync_error, GROUP_OK);
    assert_int_equal(group_current_state(coordinator_group(c, "app")), GROUP_STABLE);
    assert_false(coordinator_rejoin_holds(c, "t", 1, 0));
    assert_false(coordinator_rejoin_holds(c, "t", 1, 1));
    assert_true(coordinator_rejoin_holds(c, "v", 1, 0)); /* "other" still awaited */
    /* a Stable group is not awaited by a later failover */
    assert_int_equal(coordinator_rejoin_hold_open(c, true, every_group, NULL), 1);
    assert_false(coordinator_rejoin_holds(c, "t", 1, 0));
    coord_world_close(cw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kip394_join_then_initial_delay),
        cmocka_unit_test(initial_delay_extends_only_for_a_new_group),
        cmocka_unit_test(sync_heartbeat_and_fencing),
        cmocka_unit_test(session_expiry_moves_to_rebalance),
        cmocka_unit_test(rebalance_timeout_removes_laggards),
        cmocka_unit_test(static_member_rejoins_without_rebalance),
        cmocka_unit_test(protocol_selection_and_mismatch),
        cmocka_unit_test(rejoin_during_sync_restarts_the_round),
        cmocka_unit_test(simple_commit_on_empty_group),
        cmocka_unit_test(adoption_after_switchover),
        cmocka_unit_test(adopted_member_expires),
        cmocka_unit_test(rejoin_hold_after_unplanned_failover),
        cmocka_unit_test(java_hash_partitioning),
        cmocka_unit_test(offsets_records_round_trip),
        cmocka_unit_test(offsets_flexible_values_decode),
        cmocka_unit_test(offsets_table_basics),
        cmocka_unit_test(commit_metadata_is_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
